"""Command line: attach mode (--connect/--pool), app loading errors, file apps."""
import os
import socket
import subprocess
import tempfile

from fake_gateway import APPS, PYTHON, WORKER, FakeGateway, DEADLINE_S


def test_connect_attach_mode_names_its_pool():
    d = tempfile.mkdtemp(prefix='pgw', dir='/tmp')
    path = os.path.join(d, 's')
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(DEADLINE_S)
    env = dict(os.environ)
    env.pop('PAGI_WORKER_FD', None)
    proc = subprocess.Popen([PYTHON, WORKER, '--connect', path, '--pool', 'api', '--app-dir', APPS, 'basic:app'],
                            env=env, stderr=subprocess.PIPE)
    try:
        conn, _ = srv.accept()
        gw = FakeGateway.__new__(FakeGateway)
        gw.sock, gw.proc, gw.buf, gw.pending, gw.next_scope = conn, proc, b'', [], 1
        conn.settimeout(DEADLINE_S)
        hello = gw.handshake()
        assert hello['pool'] == 'api'
        sid = gw.open_http(path='/')
        assert gw.response(sid)[:3] == (200, [(b'content-type', b'text/plain')], b'hello')
        gw.shutdown()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        srv.close()
        os.unlink(path)
        os.rmdir(d)


def test_file_path_app_and_explicit_interface():
    gw = FakeGateway(os.path.join(APPS, 'wsgi_app.py') + ':app', '--interface', 'wsgi', app_dir='/')
    try:
        assert gw.handshake()['concurrency'] == 1
        sid = gw.open_http(path='/nope')
        assert gw.response(sid)[0] == 404
        gw.shutdown()
    finally:
        gw.kill()


def test_missing_module_is_a_clear_error():
    r = subprocess.run([PYTHON, WORKER, '--fd', '99', '--app-dir', APPS, 'no_such_module:app'],
                       capture_output=True, timeout=DEADLINE_S)
    assert r.returncode == 2
    assert b"could not import module 'no_such_module'" in r.stderr


def test_missing_attribute_is_a_clear_error():
    r = subprocess.run([PYTHON, WORKER, '--fd', '99', '--app-dir', APPS, 'basic:nope'],
                       capture_output=True, timeout=DEADLINE_S)
    assert r.returncode == 2
    assert b"attribute 'nope' not found" in r.stderr


def test_event_loop_without_uvloop_says_so(monkeypatch, capsys):
    import asyncio
    import sys
    from pagi_worker import worker
    monkeypatch.setitem(sys.modules, 'uvloop', None)    # import uvloop -> ImportError
    loop = worker.new_event_loop()
    try:
        assert type(loop).__module__.startswith('asyncio.')
    finally:
        loop.close()
    err = capsys.readouterr().err
    assert 'uvloop is not importable by %s' % sys.executable in err
    assert '/usr/bin/python3' in err


def test_event_loop_with_uvloop_is_quiet(capsys):
    import pytest
    uvloop = pytest.importorskip('uvloop')
    from pagi_worker import worker
    loop = worker.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    assert capsys.readouterr().err == ''
