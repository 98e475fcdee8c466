"""A PAGI-native Python app (apps/python/pagi_native.py, marked with
`pagi_app = True`) behind the gateway: PAGI scope shapes for http (with
`more`, a `file` body, pagi.connection callbacks and disconnect future), an
sse stream, an sse decline, and a websocket echo with keepalive."""
import json

import pytest

from httpraw import Conn, get, request
from pyref import python_config
from wsraw import RawWebSocket, frame

APP = "pagi_native:app"
SSE = [("Accept", "text/event-stream")]


@pytest.fixture
def gateway(start_gateway, tmp_path, channel):
    return start_gateway(config=python_config(tmp_path, APP, pool={"env": channel.env}))


def test_http_scope_has_the_pagi_shape(gateway, channel):
    r = get(gateway, "/info?x=1", headers=[("X-Request-Id", "req-pagi-1")])
    assert r.status == 200
    seen = json.loads(r.body)
    assert seen["type"] == "http"
    assert seen["pagi"] == {"version": "0.3", "spec_version": "0.3"}
    assert seen["method"] == "GET" and seen["path"] == "/info" and seen["query_string"] == "x=1"
    assert seen["request_id"] == "req-pagi-1"
    assert seen["state"] == {"from": "startup True"}
    assert seen["started"] is False
    assert seen["high_water"] > 0
    assert seen["first_event"] == {"type": "http.request", "body": "", "more": False}
    # on_complete fires once the gateway reports the response delivered.
    channel.wait_for("info complete")


def test_http_body_with_more_and_file(gateway):
    with Conn.to(gateway) as c:
        c.send(request("POST", "/echo", [("Transfer-Encoding", "chunked")]) + b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
        r = c.read_response()
        assert (r.status, r.body) == (200, b"abcdefg")
        c.send(request("GET", "/file"))
        r = c.read_response()
    with open(__file__.replace("test_python_pagi.py", "apps/python/pagi_native.py"), "rb") as f:
        assert r.body == f.read()[3:13]


def test_client_disconnect_reaches_pagi_connection(gateway, channel):
    with Conn.to(gateway) as c:
        c.send(request("GET", "/slow"))
        r = c.read_response(head=True)
        assert r.status == 200
        assert c.read_line()            # the first chunk's size: the app is mid-response
    channel.wait_for("slow disconnect client_closed")
    channel.wait_for("slow future client_closed")


def test_sse_stream(gateway):
    with Conn.to(gateway) as c:
        c.send(request("GET", "/events", SSE + [("X-Request-Id", "sse-id-9")]))
        r = c.read_response()
    assert r.status == 200
    assert r.header("content-type") == "text/event-stream"
    assert r.header("x-request-id-seen") == "sse-id-9"
    assert r.body == (b"event: hello\nid: 1\ndata: one\ndata: two\n\n"
                      b":a comment\n\n"
                      b"retry: 1500\ndata: caf\xc3\xa9\n\n")


def test_sse_client_leaving_is_sse_disconnect(gateway, channel):
    with Conn.to(gateway) as c:
        c.send(request("GET", "/events-wait", SSE))
        r = c.read_response(head=True)
        assert r.status == 200
        assert c.read_line()
    channel.wait_for("sse sse.disconnect client_closed")


def test_sse_decline(gateway):
    r = get(gateway, "/denied", headers=SSE)
    assert (r.status, r.body) == (401, b"nope")


def test_websocket_echo(gateway, channel):
    with RawWebSocket.connect(gateway, "/ws", headers=[("Sec-WebSocket-Protocol", "chat")]) as ws:
        assert ws.status == 101
        assert ws.header("sec-websocket-protocol") == "chat"
        ws.send(frame(0x1, b"hi"))
        assert ws.read_frame() == (0x1, b"echo hi 0.3")
        ws.send(frame(0x2, b"\x01\x02\x03"))
        assert ws.read_frame() == (0x2, b"\x03\x02\x01")
        ws.send(frame(0x1, b"bye"))
        assert ws.read_close() == (4001, "bye")


def test_interface_pagi_explicitly(start_gateway, tmp_path):
    gw = start_gateway(config=python_config(tmp_path, APP, interface="pagi"))
    assert json.loads(get(gw, "/info").body)["pagi"]["version"] == "0.3"
