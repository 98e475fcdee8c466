"""A raw ASGI 3 app behind pagi-gateway: answers match uvicorn's for the
same requests; lifespan state; client disconnect seen as http.disconnect;
an exception before the response gives 500; a crashed worker is replaced;
a failed lifespan startup aborts the gateway with the app's message."""
import json

import pytest

from conftest import child_pids
from httpraw import Conn, chunked, get, request, wait_until
from pyref import RefServer, assert_same, exchange, python_config, case_id

APP = "raw_asgi:app"


@pytest.fixture
def gateway(start_gateway, tmp_path, channel):
    return start_gateway(config=python_config(tmp_path, APP, pool={"env": channel.env}))


@pytest.fixture(scope="module")
def uvicorn():
    server = RefServer(APP)
    yield server
    server.stop()


@pytest.mark.parametrize("method,target,headers,body", ids=case_id, argvalues=[
    ("GET", "/hello", None, b""),
    ("HEAD", "/hello", None, b""),
    ("GET", "/scope?a=1&b=%20x", [("X-Custom", "one"), ("X-Custom", "two")], b""),
    ("GET", "/caf%C3%A9/x%2Fy?q", None, b""),
    ("POST", "/echo", [("Content-Type", "application/octet-stream")], b"x" * 100000),
    ("POST", "/echo", [("Transfer-Encoding", "chunked")], chunked([b"abc", b"defg", b"h" * 5000])),
    ("GET", "/stream", None, b""),
    ("GET", "/status?code=418", None, b""),
    ("GET", "/status?code=201", None, b""),
    ("GET", "/empty", None, b""),
    ("GET", "/nowhere", None, b""),
])
def test_answers_match_uvicorn(gateway, uvicorn, method, target, headers, body):
    assert_same(gateway, uvicorn, method, target, headers, body)


def test_scope_fields(gateway):
    r = get(gateway, "/scope?x=1", headers=[("Accept", "*/*")])
    seen = json.loads(r.body)
    assert seen["asgi_version"] == "3.0"
    assert seen["http_version"] == "1.1"
    assert seen["method"] == "GET" and seen["path"] == "/scope" and seen["query_string"] == "x=1"
    assert seen["headers"] == [["host", "e2e.test"], ["accept", "*/*"]]
    assert seen["client_host"] == "127.0.0.1"


def test_lifespan_state_reaches_every_scope(gateway, channel):
    channel.wait_for("startup")
    for _ in range(4):
        assert get(gateway, "/state").body == b"set at startup"


def test_exception_before_response_is_500(gateway, uvicorn):
    for target in ("/raise", "/no-response"):
        r = get(gateway, target)
        assert r.status == 500, r
        assert r.body == b"Internal Server Error"
        assert r.header("content-type") == "text/plain; charset=utf-8"
        ref = exchange(uvicorn, "GET", target)
        assert (ref.status, ref.body) == (r.status, r.body)
    # The worker survives its app's exceptions.
    assert get(gateway, "/hello").body == b"Hello, world!"


def test_exception_is_logged_with_the_request_line(gateway):
    get(gateway, "/raise?why=1")
    gateway.wait_for("boom before the response")
    assert any("GET /raise?why=1" in line for line in gateway.log), gateway.output()


@pytest.mark.parametrize("target", ["/wait-disconnect", "/wait-disconnect-before-start"])
def test_client_disconnect_reaches_the_app(gateway, channel, target):
    c = Conn.to(gateway)
    c.send(request("GET", target))
    channel.wait_for("waiting")
    if target == "/wait-disconnect":
        assert c.read_line() == b"HTTP/1.1 200 OK"
    c.close()
    channel.wait_for("received http.disconnect")


def test_crashed_worker_is_replaced(start_gateway, tmp_path, channel):
    gw = start_gateway(config=python_config(tmp_path, APP, pool={"workers": 1, "env": channel.env}))
    before = child_pids(gw.proc.pid)
    assert len(before) == 1
    first = int(get(gw, "/pid").body)
    assert {first} == before
    r = get(gw, "/crash")
    assert r.status == 502, r
    channel.wait_for(f"crashing pid {first}")

    def replaced():
        try:
            pid = int(get(gw, "/pid").body)
        except (ValueError, OSError):
            return None
        return pid if pid != first else None
    second = wait_until(replaced, "a replacement worker answering")
    assert child_pids(gw.proc.pid) == {second}


def test_lifespan_startup_failure_aborts_startup(start_gateway, tmp_path):
    gw = start_gateway(config=python_config(tmp_path, "lifespan_fail:app", pool={"workers": 1}), ready=False)
    code = gw.wait_exit()
    assert code != 0
    assert "cannot reach the database (on purpose)" in gw.output(), gw.output()
    assert "listening on" not in gw.output()


def test_missing_module_fails_startup_with_the_reason(start_gateway, tmp_path):
    gw = start_gateway(config=python_config(tmp_path, "no_such_module:app", pool={"workers": 1}), ready=False)
    assert gw.wait_exit() != 0
    assert "no_such_module" in gw.output(), gw.output()


def test_request_id_reaches_the_scope(gateway):
    assert get(gateway, "/request-id", headers=[("X-Request-Id", "abc-123")]).body == b"abc-123"
    made = get(gateway, "/request-id").body
    assert made and made != b"abc-123"


def test_drain_future_resolves_on_reload(start_gateway, tmp_path, channel):
    # A reload (SIGHUP) drains the old workers: a request waiting on the
    # drain future answers with the pool's drain_timeout.
    import signal
    gw = start_gateway(config=python_config(tmp_path, APP, pool={"env": channel.env, "workers": 1,
                                                                "drain_timeout": 7}))
    with Conn.to(gw) as c:
        c.send(request("GET", "/wait-drain"))
        channel.wait_for("waiting for drain")
        gw.signal(signal.SIGHUP)
        r = c.read_response()
    assert (r.status, r.body) == (200, b"drained 7")
