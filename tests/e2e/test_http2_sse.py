"""Server-Sent Events over HTTP/2 (h2c prior knowledge): the same `sse` scope
and event encoding as HTTP/1 (apps/ws/broadcaster.pl), read with curl and
with a python3-h2 client; the stream ends with END_STREAM, a reset reaches
the app as sse.disconnect, graceful stop ends streams."""
import signal
import subprocess

from conftest import EVENT_TIMEOUT
from h2client import H2Client
from h2tls import need

APP = "ws/broadcaster.pl"
SSE = [("accept", "text/event-stream")]


def test_events_with_curl(start_gateway):
    need("curl")
    gw = start_gateway(APP)
    out = subprocess.run(["curl", "-sS", "-N", "-i", "--http2-prior-knowledge", "--max-time", str(int(EVENT_TIMEOUT)),
                          "-H", "Accept: text/event-stream", f"{gw.url}/events?n=3"],
                         capture_output=True, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    head = head.decode().lower()
    assert head.startswith("http/2 200")
    assert "content-type: text/event-stream" in head
    assert "cache-control: no-cache" in head
    assert "content-length" not in head
    assert body == (b"event: tick\nid: 1\ndata: tick 1\ndata: line two\n\n"
                    b":after the first\n\n"
                    b"event: tick\nid: 2\ndata: tick 2\ndata: line two\n\n"
                    b"event: tick\nid: 3\ndata: tick 3\ndata: line two\n\n")


def test_events_arrive_before_the_end_and_streams_share_the_connection(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        sse = c.request("/events?n=40", headers=SSE)
        c.wait(lambda: b"id: 1\n" in c.streams[sse].data, "the first event")
        assert not c.streams[sse].ended
        plain = c.request("/plain")  # another stream meanwhile
        assert c.response(plain).data == b"plain http\n"
        assert not c.streams[sse].ended
        s = c.response(sse)
        assert s.reset is None and s.data.count(b"event: tick") == 40


def test_close_and_decline(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        sid = c.request("/close", headers=SSE)
        s = c.response(sid)
        assert c.status(sid) == 200 and s.data == b"data: last one\n\n" and s.reset is None
        sid = c.request("/decline", headers=SSE)
        s = c.response(sid)
        assert c.status(sid) == 204 and s.data == b""


def test_post_with_body(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        sid = c.request("/post", method="POST", headers=SSE, body=b"payload=1")
        assert c.response(sid).data == b"event: echo\ndata: POST payload=1\n\n"


def test_keepalive_comments_and_reset(start_gateway):
    gw = start_gateway(APP, http={"keepalive_timeout": "0.2"})
    with H2Client(gw.port) as c:
        sid = c.request("/forever", headers=SSE)
        c.wait(lambda: c.streams[sid].data.count(b":ping\n\n") >= 3, "three keepalive comments")
        assert b"retry: 2000\ndata: hello\n\n" in c.streams[sid].data
        c.reset(sid)
        gw.wait_for("broadcaster: sse.disconnect client_closed")
        other = c.request("/plain")  # the connection goes on
        assert c.response(other).data == b"plain http\n"


def test_idle_timeout_ends_the_stream(start_gateway):
    gw = start_gateway(APP, http={"sse_idle_timeout": "0.3"})
    with H2Client(gw.port) as c:
        sid = c.request("/forever", headers=SSE)
        s = c.response(sid)  # keepalive comments do not count as activity
        assert s.reset is None and b"data: hello" in s.data
    gw.wait_for("broadcaster: sse.disconnect idle_timeout")


def test_graceful_stop_ends_streams(start_gateway):
    # curl, as python3-h2 stops processing frames after a GOAWAY.
    need("curl")
    gw = start_gateway(APP)
    curl = subprocess.Popen(["curl", "-sS", "-N", "--http2-prior-knowledge", "--max-time", str(int(EVENT_TIMEOUT)),
                             "-H", "Accept: text/event-stream", f"{gw.url}/forever"], stdout=subprocess.PIPE)
    try:
        data = b""
        while b"data: hello" not in data:
            chunk = curl.stdout.read1(65536)
            assert chunk, "the stream was cut"
            data += chunk
        gw.signal(signal.SIGTERM)
        curl.stdout.read()
        assert curl.wait(timeout=EVENT_TIMEOUT) == 0  # END_STREAM, not a reset or a cut
    finally:
        curl.kill()
    gw.wait_for("broadcaster: sse.disconnect server_shutdown")
    assert gw.wait_exit() == 0
