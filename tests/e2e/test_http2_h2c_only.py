"""`h2c: only` cleartext listeners (gateway/http2/preface_detector.cpp):
HTTP/2 with prior knowledge and nothing else. A connection whose first
bytes are not the client preface gets GOAWAY PROTOCOL_ERROR and a close,
never an HTTP/1 answer; a prior-knowledge client is served; a default
listener next to it still serves both. And the reverse, `h2c: false`:
HTTP/1.1 only, no upgrade, no prior knowledge."""
import socket
import subprocess

import pytest

from conftest import EVENT_TIMEOUT
from h2client import H2Client
from h2tls import RawH2, write_config, curl_json, need, frame, GOAWAY, PREFACE, SETTINGS

PROTOCOL_ERROR = 1


@pytest.fixture
def gw(start_gateway, tmp_path, channel):
    need("curl")
    listen = ["{address: \"127.0.0.1:0\", h2c: only}", "\"127.0.0.1:0\""]
    gw = start_gateway(config=write_config(tmp_path, listen, env=channel.env))
    line = gw.wait_for("listening on ")  # the second listener (the first one set gw.port)
    gw.default_port = int(line.rstrip("/").rsplit(":", 1)[1])
    return gw


def ports(gw):
    """(h2c-only port, default port), in listen order."""
    return gw.port, gw.default_port


def raw(port, first_bytes):
    """A plain socket that sent `first_bytes`, read as HTTP/2 frames."""
    c = RawH2.__new__(RawH2)
    c.sock = socket.create_connection(("127.0.0.1", port), timeout=EVENT_TIMEOUT)
    c.buf = b""
    c.send(first_bytes)
    return c


def received_until_close(c):
    data = c.buf
    while True:
        chunk = c.sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_bad_preface_gets_goaway(gw):
    c = raw(ports(gw)[0], b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + frame(SETTINGS, 0, 0))
    f = c.wait_for(GOAWAY)
    assert int.from_bytes(f[3][4:8], "big") == PROTOCOL_ERROR
    assert c.next_frame() is None
    c.close()


def test_http1_request_gets_goaway_and_no_http1_answer(gw):
    c = raw(ports(gw)[0], b"GET /h2scope HTTP/1.1\r\nHost: x\r\n\r\n")
    data = received_until_close(c)
    assert b"HTTP/1" not in data
    c.buf = data
    f = c.wait_for(GOAWAY)  # after the server's SETTINGS
    assert int.from_bytes(f[3][4:8], "big") == PROTOCOL_ERROR
    c.close()


def test_short_garbage_gets_goaway(gw):
    # Fewer than four bytes: a default listener would take it for HTTP/1.
    c = raw(ports(gw)[0], b"GE")
    f = c.wait_for(GOAWAY)
    assert int.from_bytes(f[3][4:8], "big") == PROTOCOL_ERROR
    c.close()


def test_upgrade_h2c_is_not_answered(gw):
    c = raw(ports(gw)[0], b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                          b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
    data = received_until_close(c)
    assert b"HTTP/1.1 101" not in data and b"HTTP/1" not in data
    c.close()


def test_prior_knowledge_client_is_served(gw):
    with H2Client(ports(gw)[0]) as client:
        sid = client.request("/hello")
        stream = client.response(sid)
        assert client.status(sid) == 200
        assert stream.data
    scope = curl_json("--http2-prior-knowledge", f"http://127.0.0.1:{ports(gw)[0]}/h2scope")
    assert scope["http_version"] == "2"


def test_default_listener_still_serves_both(gw):
    port = ports(gw)[1]
    assert curl_json("--http1.1", f"http://127.0.0.1:{port}/h2scope")["http_version"] == "1.1"
    assert curl_json("--http2-prior-knowledge", f"http://127.0.0.1:{port}/h2scope")["http_version"] == "2"
    c = raw(port, b"GET /h2scope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert received_until_close(c).startswith(b"HTTP/1.1 200")
    c.close()


def test_h2c_false_is_http1_only(start_gateway, tmp_path, channel):
    need("curl")
    gw = start_gateway(config=write_config(tmp_path, ["{address: \"127.0.0.1:0\", h2c: false}"], env=channel.env))
    # Upgrade: h2c is not taken: the request is served as HTTP/1.1.
    out = subprocess.run(["curl", "-s", "-i", "--http2", f"http://127.0.0.1:{gw.port}/h2scope"],
                         stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True).stdout
    assert out.startswith(b"HTTP/1.1 200") and b"101 Switching" not in out
    # The prior-knowledge preface is an HTTP/1 error, not the server's SETTINGS.
    c = raw(gw.port, PREFACE + frame(SETTINGS, 0, 0))
    assert received_until_close(c).startswith(b"HTTP/1.1 4")
    c.close()
