"""A plain WSGI app behind pagi-gateway, compared with gunicorn: environ,
wsgi.input read in pieces (with a length and chunked), a streamed iterable
whose close() is called, errors; WSGI pools run one request per worker and
lifespan auto works for them (the worker answers lifespan unsupported)."""
import threading

import pytest

from httpraw import chunked, get
from pyref import RefServer, assert_same, python_config, case_id

APP = "wsgi_plain:app"


@pytest.fixture
def gateway(start_gateway, tmp_path, channel):
    return start_gateway(config=python_config(tmp_path, APP, pool={"env": channel.env}))


@pytest.fixture(scope="module")
def gunicorn():
    server = RefServer(APP, kind="wsgi")
    yield server
    server.stop()


@pytest.mark.parametrize("method,target,headers,body", ids=case_id, argvalues=[
    ("GET", "/hello", None, b""),
    ("GET", "/environ?x=1&y=%20", [("X-Custom", "v")], b""),
    ("POST", "/environ", [("Content-Type", "text/plain")], b"abc"),
    ("POST", "/echo", None, b"z" * 12345),
    ("GET", "/stream", None, b""),
    ("GET", "/nowhere", None, b""),
])
def test_answers_match_gunicorn(gateway, gunicorn, method, target, headers, body):
    assert_same(gateway, gunicorn, method, target, headers, body)


def test_chunked_request_body_streams_into_wsgi_input(gateway):
    from httpraw import Conn, request
    with Conn.to(gateway) as c:
        c.send(request("POST", "/echo", [("Transfer-Encoding", "chunked")]) + chunked([b"a" * 1500, b"b" * 1500]))
        r = c.read_response()
    assert r.status == 200 and r.body == b"a" * 1500 + b"b" * 1500
    assert r.header("x-chunks") == "3"


def test_iterable_close_is_called(gateway, channel):
    assert get(gateway, "/stream").body == b"one\ntwo\nthree\n"
    channel.wait_for("close called")


def test_exception_gives_500_and_the_worker_goes_on(gateway):
    r = get(gateway, "/raise")
    assert r.status == 500
    gateway.wait_for("wsgi boom")
    assert get(gateway, "/hello").status == 200


def test_wsgi_workers_default_to_one_request_at_a_time(start_gateway, tmp_path, channel):
    # The worker's hello says concurrency 1 for WSGI and the pool takes it;
    # eight parallel requests on two such workers all succeed.
    gw = start_gateway(config=python_config(tmp_path, APP, pool={"env": channel.env}, log_level="debug"))
    hellos = [line for line in gw.log if "hello from pagi-worker-python" in line]
    assert len(hellos) == 2 and all("concurrency 1)" in line for line in hellos), hellos
    results, lock = [], threading.Lock()

    def one():
        r = get(gw, "/pid")
        with lock:
            results.append((r.status, r.body))
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert [s for s, _ in results] == [200] * 8


def test_lifespan_on_fails_for_wsgi_with_a_reason(start_gateway, tmp_path):
    gw = start_gateway(config=python_config(tmp_path, APP, pool={"workers": 1, "lifespan": "on"}), ready=False)
    assert gw.wait_exit() != 0
    assert "lifespan" in gw.output().lower(), gw.output()


def test_stop_without_lifespan_is_clean(start_gateway, tmp_path):
    # WSGI has no lifespan (the worker said lifespanUnsupported): on stop the
    # gateway sends shutdown straight away and the worker must just exit.
    gw = start_gateway(config=python_config(tmp_path, APP, pool={"workers": 1}))
    assert get(gw, "/hello").status == 200
    gw.stop()
    assert gw.proc.returncode == 0, gw.output()
    assert "[error]" not in gw.output(), gw.output()


def test_request_id_reaches_the_environ(gateway):
    # A valid x-request-id is kept; without one the gateway makes one up.
    assert get(gateway, "/request-id", headers=[("X-Request-Id", "abc-123")]).body == b"abc-123"
    made = get(gateway, "/request-id").body
    assert made and made != b"abc-123"
