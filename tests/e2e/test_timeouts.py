"""Connection timeouts: a slow request head, an idle keep-alive connection and
a stalled request body are closed by the gateway after their configured time."""
import time

from httpraw import LONG_IDLE, Conn, request

APP = "app.pl"


def closed_within(c, seconds):
    """Waits (bounded by the socket timeout) for the gateway to close `c`;
    returns the bytes it sent before closing and the time it took."""
    start = time.monotonic()
    c.sock.settimeout(seconds)
    try:
        data = c.read_to_close()
    except ConnectionResetError:
        data = c.buf
    except TimeoutError:
        raise AssertionError(f"connection still open after {seconds}s")
    return data, time.monotonic() - start


def test_header_timeout_closes_a_slow_head(start_gateway):
    gw = start_gateway(APP, http={"header_timeout": 0.5})
    with Conn.to(gw) as c:
        c.send(b"GET /hello HTTP/1.1\r\nHost: e2e.test\r\n")     # head never completes
        data, took = closed_within(c, 15)
    assert took >= 0.4
    # Either a bare close or a 408; never the app's answer.
    assert data == b"" or data.startswith(b"HTTP/1.1 408"), data


def test_keepalive_timeout_closes_an_idle_connection(start_gateway):
    gw = start_gateway(APP, http={"keepalive_timeout": 0.5})
    with Conn.to(gw) as c:
        c.send(request("GET", "/hello"))
        assert c.read_response().status == 200
        data, took = closed_within(c, 15)
    assert data == b"", data
    assert took >= 0.4


def test_keepalive_connection_survives_within_timeout(start_gateway):
    gw = start_gateway(APP, http={"keepalive_timeout": 30})
    with Conn.to(gw) as c:
        for _ in range(3):
            c.send(request("GET", "/hello"))
            assert c.read_response().status == 200


def test_body_timeout_ends_a_stalled_upload(start_gateway, channel):
    gw = start_gateway(APP, http={"body_timeout": 0.5}, pool={"env": channel.env})
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", [("Content-Length", "100")]) + b"only a part")
        data, took = closed_within(c, 15)
    # The gateway may answer (408/400) before closing; never a 200 echo.
    assert not data.startswith(b"HTTP/1.1 200"), data
    # The gateway still serves.
    with Conn.to(gw) as c:
        c.send(request("GET", "/hello"))
        assert c.read_response().status == 200


def test_write_timeout_aborts_a_reader_that_stopped(start_gateway, channel):
    gw = start_gateway(APP, http={"write_timeout": 0.5}, pool={"env": channel.env})
    with Conn.to(gw, rcvbuf=4096) as c:
        c.send(request("GET", "/disconnect?size=65536&pause=0"))
        channel.wait_for("disconnect streaming")
        # Never read: the gateway's writes stall, and it must give up.
        line = channel.wait_for("on_disconnect")
    assert line == "on_disconnect write_timeout", channel.lines()
    channel.wait_for("disconnect done")
    assert "reason write_timeout" in channel.lines()


def test_max_connections_makes_further_clients_wait(start_gateway):
    gw = start_gateway(APP, http={"max_connections": 2, **LONG_IDLE})
    first, second = Conn.to(gw), Conn.to(gw)
    try:
        for c in (first, second):
            c.send(request("GET", "/hello"))
            assert c.read_response().status == 200
        third = Conn.to(gw)            # the kernel accepts; the gateway must not
        third.send(request("GET", "/hello"))
        # A round trip on an admitted connection, then the third has no answer.
        first.send(request("GET", "/hello"))
        assert first.read_response().status == 200
        third.sock.setblocking(False)
        try:
            early = third.sock.recv(1024)
        except BlockingIOError:
            early = b""
        third.sock.setblocking(True)
        third.sock.settimeout(30)
        assert early == b"", f"a third connection was served past max_connections: {early!r}"
        first.close()                  # a slot frees: the waiting client is served
        assert third.read_response().status == 200
        third.close()
    finally:
        first.close()
        second.close()
