"""Server-Sent Events through the gateway: a Perl PAGI app sees the `sse`
scope (apps/ws/broadcaster.pl), read with curl -N and a raw client; a
Python ASGI app sees plain http and its StreamingResponse is written through
as it is produced."""
import signal
import subprocess
import time

from httpraw import Conn, request
from pyref import python_config

APP = "ws/broadcaster.pl"
SSE = [("Accept", "text/event-stream")]


def curl(gw, path, *extra):
    return subprocess.run(["curl", "-sS", "-N", "-i", "--max-time", "30", "-H", "Accept: text/event-stream",
                           *extra, f"{gw.url}{path}"], capture_output=True, check=True).stdout


def head_and_body(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode().lower(), body


def test_events_with_curl(start_gateway):
    gw = start_gateway(APP)
    head, body = head_and_body(curl(gw, "/events?n=3"))
    assert head.startswith("http/1.1 200")
    assert "content-type: text/event-stream" in head
    assert "cache-control: no-cache" in head
    assert "transfer-encoding: chunked" in head
    assert "date: " in head
    assert body == (b"event: tick\nid: 1\ndata: tick 1\ndata: line two\n\n"
                    b":after the first\n\n"
                    b"event: tick\nid: 2\ndata: tick 2\ndata: line two\n\n"
                    b"event: tick\nid: 3\ndata: tick 3\ndata: line two\n\n")


def test_events_arrive_as_sent(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/events?n=40", SSE))
        assert c.read_line().startswith(b"HTTP/1.1 200")
        data = b""
        while b"id: 1\n" not in data:
            data += c.sock.recv(65536)
        assert b"0\r\n\r\n" not in data  # the first event came long before the end


def test_sse_close_and_keep_alive(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/close", SSE))
        r = c.read_response()
        assert r.status == 200 and r.body == b"data: last one\n\n"
        c.send(request("GET", "/plain"))  # the connection goes on after the stream
        assert c.read_response().body == b"plain http\n"


def test_decline_with_204(start_gateway):
    gw = start_gateway(APP)
    head, body = head_and_body(curl(gw, "/decline"))
    assert head.startswith("http/1.1 204")
    assert body == b""
    head, body = head_and_body(curl(gw, "/nowhere"))
    assert head.startswith("http/1.1 404")
    assert body == b"no stream here\n"


def test_post_sse_with_body(start_gateway):
    gw = start_gateway(APP)
    head, body = head_and_body(curl(gw, "/post", "-X", "POST", "--data-binary", "payload=1"))
    assert head.startswith("http/1.1 200")
    assert body == b"event: echo\ndata: POST payload=1\n\n"


def test_no_accept_header_is_plain_http(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/events"))
        assert c.read_response().body == b"plain http\n"


def test_keepalive_comments_and_client_leaving(start_gateway):
    gw = start_gateway(APP, http={"keepalive_timeout": "0.2", "header_timeout": "0.2"})
    with Conn.to(gw) as c:
        c.send(request("GET", "/forever", SSE))
        data = b""
        while data.count(b":ping\n\n") < 3:  # 0.6 s at least: past both timers above
            chunk = c.sock.recv(65536)
            assert chunk, "the stream was cut"
            data += chunk
        assert b"retry: 2000\ndata: hello\n\n" in data
    gw.wait_for("broadcaster: sse.disconnect client_closed")


def test_graceful_stop_ends_streams(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/forever", SSE))
        data = b""
        while b"data: hello" not in data:
            data += c.sock.recv(65536)
        gw.signal(signal.SIGTERM)
        while not data.endswith(b"0\r\n\r\n"):
            chunk = c.sock.recv(65536)
            assert chunk, "closed without ending the stream"
            data += chunk
    gw.wait_for("broadcaster: sse.disconnect server_shutdown")
    assert gw.wait_exit() == 0


def test_asgi_app_streams_sse_as_http(start_gateway, tmp_path):
    gw = start_gateway(config=python_config(tmp_path, "ws_apps:star", pool={"workers": 1}))
    with Conn.to(gw) as c:
        c.send(request("GET", "/events?n=40", SSE))
        assert c.read_line().startswith(b"HTTP/1.1 200")
        start = time.monotonic()
        data = b""
        while b"data: tick 1\n" not in data:
            data += c.sock.recv(65536)
        assert b"0\r\n\r\n" not in data  # written through before the app finished
        assert time.monotonic() - start < 1.5
    head, body = head_and_body(curl(gw, "/events?n=2"))
    assert "text/event-stream" in head
    assert body == b"id: 1\nevent: tick\ndata: tick 1\n\nid: 2\nevent: tick\ndata: tick 2\n\n"
