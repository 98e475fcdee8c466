"""Streamed responses: chunked framing, trailers, fullflush, a slow reader,
and a client leaving mid-stream."""
import socket
import struct
import subprocess
import time

from httpraw import Conn, request

APP = "app.pl"


def expected_stream(chunks, size):
    return b"".join(bytes([ord("a") + i % 26]) * size for i in range(chunks))


def test_streamed_response_is_chunked(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/stream?chunks=4&size=5"))
        r = c.read_response()
        c.send(request("GET", "/hello"))       # framing left the connection usable
        after = c.read_response()
    assert r.status == 200
    assert r.header("content-length") is None
    assert r.header("transfer-encoding").lower() == "chunked"
    assert r.body == expected_stream(4, 5)
    assert r.chunks[-1] == 0
    assert after.body == b"Hello, world!\n"


def test_trailers_follow_the_last_chunk(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/stream?chunks=3&size=7&trailers=1", [("TE", "trailers")]))
        r = c.read_response()
        c.send(request("GET", "/hello"))
        after = c.read_response()
    assert r.status == 200 and r.chunked
    assert r.body == expected_stream(3, 7)
    assert ("x-total-bytes", "21") in r.trailers, r.raw_trailer
    assert ("x-trailer-two", "yes") in r.trailers, r.raw_trailer
    assert after.status == 200


def test_trailers_seen_by_curl_raw(start_gateway):
    gw = start_gateway(APP)
    out = subprocess.run(["curl", "-sS", "--raw", "-H", "TE: trailers", "--max-time", "30",
                          gw.url + "/stream?chunks=2&size=3&trailers=1"],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(b"3\r\naaa\r\n3\r\nbbb\r\n0\r\n"), out.stdout
    assert b"x-total-bytes: 6\r\n" in out.stdout.lower(), out.stdout
    assert out.stdout.endswith(b"\r\n\r\n")


def test_fullflush_event_is_accepted(start_gateway, channel):
    gw = start_gateway(APP, pool={"env": channel.env})
    with Conn.to(gw) as c:
        c.send(request("GET", "/stream?chunks=3&size=4&flush=1"))
        r = c.read_response()
    assert r.status == 200 and r.body == expected_stream(3, 4)
    channel.wait_for("stream done")


def test_slow_reader_gets_every_byte(start_gateway, channel):
    chunks, size = 80, 16 * 1024          # 1.25 MiB, far past the send window
    gw = start_gateway(APP, pool={"env": channel.env})
    want = expected_stream(chunks, size)
    with Conn.to(gw, rcvbuf=8192) as c:
        c.send(request("GET", f"/stream?chunks={chunks}&size={size}"))
        got_head = c.read_line()
        assert got_head.startswith(b"HTTP/1.1 200"), got_head
        # Read the rest a little at a time, pausing so the gateway's writes
        # block and its send window fills.
        raw = b""
        while not raw.endswith(b"0\r\n\r\n"):
            c._fill(4096)
            raw, c.buf = raw + c.buf, b""
            if c.eof:
                break
            time.sleep(0.001)
    head, _, framed = raw.partition(b"\r\n\r\n")
    body, rest = b"", framed
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        n = int(size_line, 16)
        if n == 0:
            break
        body += rest[:n]
        rest = rest[n + 2:]
    assert len(body) == len(want) and body == want
    channel.wait_for("stream done")


def test_slow_reader_backpressure_visible_in_transport(start_gateway, channel):
    chunks, size = 512, 16 * 1024         # 8 MiB: more than socket buffers hold
    gw = start_gateway(APP, pool={"env": channel.env})
    with Conn.to(gw, rcvbuf=8192) as c:
        c.send(request("GET", f"/stream?chunks={chunks}&size={size}"))
        # Read nothing until the app reports on_high_water: with no reader the
        # gateway cannot hand out credit, so the app's buffer must fill.
        channel.wait_for("high_water reached")
        assert c.read_line().startswith(b"HTTP/1.1 200")
        while not c.buf.endswith(b"0\r\n\r\n") and not c.eof:
            c.buf = c.buf[-5:]
            c._fill(1 << 20)
    line = channel.wait_for("stream done")
    assert "transport=1" in line, "pagi.transport missing from the scope"
    assert "drains=0" not in line, f"on_drain never fired after the reader caught up: {line}"


def test_client_disconnect_mid_stream(start_gateway, channel):
    gw = start_gateway(APP, pool={"env": channel.env})
    c = Conn.to(gw)
    c.send(request("GET", "/disconnect"))
    assert c.read_line().startswith(b"HTTP/1.1 200")
    channel.wait_for("disconnect streaming")
    c._fill()
    # A clean close (FIN), then drain until the gateway closes its side, so the
    # kernel never turns our close into a reset.
    c.sock.shutdown(socket.SHUT_WR)
    try:
        c.read_to_close()
    except ConnectionResetError:
        pass
    c.close()
    channel.wait_for("disconnect done")
    lines = channel.lines()
    assert [l for l in lines if l.startswith("on_disconnect")] == ["on_disconnect client_closed"], lines
    assert "receive http.disconnect" in lines, lines
    assert "reason client_closed" in lines, lines
    assert "on_complete" not in lines, lines
    # The worker is still healthy and the callback did not fire again.
    with Conn.to(gw) as again:
        again.send(request("GET", "/hello"))
        assert again.read_response().status == 200
    assert [l for l in channel.lines() if l.startswith("on_disconnect")] == ["on_disconnect client_closed"]


def test_client_reset_mid_stream(start_gateway, channel):
    gw = start_gateway(APP, pool={"env": channel.env})
    c = Conn.to(gw)
    c.send(request("GET", "/disconnect"))
    assert c.read_line().startswith(b"HTTP/1.1 200")
    channel.wait_for("disconnect streaming")
    # An abortive close: linger 0 makes the kernel send RST.
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    channel.wait_for("disconnect done")
    lines = channel.lines()
    fired = [l for l in lines if l.startswith("on_disconnect")]
    assert len(fired) == 1, lines
    reason = fired[0].split()[1]
    assert reason in ("client_closed", "write_error", "read_error"), lines
    assert f"reason {reason}" in lines and "receive http.disconnect" in lines, lines
    assert "on_complete" not in lines, lines
