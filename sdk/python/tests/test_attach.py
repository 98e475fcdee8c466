"""Attach mode: the reconnect backoff, and a worker that reconnects after its
gateway went away and exits on `shutdown`."""
import os
import socket
import subprocess
import sys
import tempfile

from fake_gateway import APPS, PYTHON, WORKER, FakeGateway, DEADLINE_S

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from pagi_worker.attach import MAX_DELAY, FIRST_DELAY, delay_for  # noqa: E402


def test_backoff_doubles_is_capped_and_jittered():
    assert delay_for(0, rng=lambda: 0.0) == FIRST_DELAY / 2
    assert delay_for(1, rng=lambda: 0.0) == FIRST_DELAY
    assert delay_for(3, rng=lambda: 0.999) < FIRST_DELAY * 8
    assert delay_for(50, rng=lambda: 0.999) < MAX_DELAY
    assert delay_for(50, rng=lambda: 0.0) == MAX_DELAY / 2


def _session(conn, proc):
    gw = FakeGateway.__new__(FakeGateway)
    gw.sock, gw.proc, gw.buf, gw.pending, gw.next_scope = conn, proc, b'', [], 1
    conn.settimeout(DEADLINE_S)
    return gw


def test_reconnects_when_the_gateway_goes_away_and_exits_on_shutdown():
    d = tempfile.mkdtemp(prefix='pgw', dir='/tmp')
    path = os.path.join(d, 's')
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(DEADLINE_S)
    env = {k: v for k, v in os.environ.items() if k != 'PAGI_WORKER_FD'}
    proc = subprocess.Popen([PYTHON, WORKER, '--connect', path, '--pool', 'api', '--app-dir', APPS, 'basic:app'],
                            env=env, stderr=subprocess.PIPE)
    try:
        conn, _ = srv.accept()
        gw = _session(conn, proc)
        assert gw.handshake()['pool'] == 'api'
        conn.close()  # the gateway went away without `shutdown`
        conn, _ = srv.accept()
        gw = _session(conn, proc)
        assert gw.handshake()['pool'] == 'api'
        sid = gw.open_http(path='/')
        assert gw.response(sid)[0] == 200
        gw.send(0, 'shutdown')
        assert proc.wait(timeout=DEADLINE_S) == 0
        assert b'the gateway went away' in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        srv.close()
        os.unlink(path)
        os.rmdir(d)
