"""PSGI streaming through the gateway: the streaming writer's first chunk
reaches the client before the app writes the second (the app blocks on
psgi.input until the client, having seen that chunk, sends its body); a
large request body streams through blocking psgi.input reads."""
import hashlib
import os

from conftest import APPS
from httpraw import Conn, chunked, request

STREAM_APP = os.path.join(APPS, "psgi", "stream.psgi")


def test_writer_chunks_reach_the_client_as_written(start_gateway):
    gw = start_gateway(STREAM_APP, pool={"workers": 1})
    with Conn.to(gw) as c:
        c.send(request("POST", "/stream", [("Transfer-Encoding", "chunked")]))
        assert c.read_line().startswith(b"HTTP/1.1 200")
        while c.read_line() != b"":
            pass
        # The first chunk arrives while the app is still blocked on psgi.input.
        size = int(c.read_line(), 16)
        assert c.read_exact(size) == b"first\n"
        assert c.read_exact(2) == b"\r\n"
        # Only now does the app get what it waits for.
        c.send(chunked([b"go"]))
        size = int(c.read_line(), 16)
        assert c.read_exact(size) == b"second:go\n"
        assert c.read_exact(2) == b"\r\n"
        assert c.read_line() == b"0"


def test_large_body_streams_through_blocking_reads(start_gateway):
    gw = start_gateway(STREAM_APP, pool={"workers": 1})
    body = os.urandom(3 * 1024 * 1024 + 17)
    expected_sum = sum(body) % 65536
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", [("Content-Type", "application/octet-stream")], body))
        r = c.read_response()
    assert r.status == 200
    assert r.body == b"len=%d sum=%d" % (len(body), expected_sum)


def test_psgi_worker_says_concurrency_one(start_gateway):
    gw = start_gateway(STREAM_APP, pool={"workers": 1})
    # Two requests on two connections: the second waits for a free slot
    # rather than sharing the blocked process.
    with Conn.to(gw) as a, Conn.to(gw) as b:
        a.send(request("POST", "/stream", [("Transfer-Encoding", "chunked")]))
        assert a.read_line().startswith(b"HTTP/1.1 200")
        b.send(request("POST", "/echo", [], b"x" * 10))
        while a.read_line() != b"":
            pass
        size = int(a.read_line(), 16)
        assert a.read_exact(size) == b"first\n"
        a.read_exact(2)
        a.send(chunked([b"done"]))
        r = b.read_response()
        assert r.body.startswith(b"len=10 ")


def test_config_can_raise_concurrency_for_a_psgi_pool(start_gateway):
    # concurrency 2: a second request runs inside the first one's wait on
    # psgi.input, in the same (single) worker, instead of queueing.
    gw = start_gateway(STREAM_APP, pool={"workers": 1, "concurrency": 2})
    with Conn.to(gw) as a, Conn.to(gw) as b:
        a.send(request("POST", "/stream", [("Transfer-Encoding", "chunked")]))
        assert a.read_line().startswith(b"HTTP/1.1 200")
        while a.read_line() != b"":
            pass
        size = int(a.read_line(), 16)
        assert a.read_exact(size) == b"first\n"
        a.read_exact(2)
        # a's app is still blocked: b is answered all the same.
        b.send(request("POST", "/echo", [], b"x" * 10))
        assert b.read_response().body.startswith(b"len=10 ")
        a.send(chunked([b"done"]))
        size = int(a.read_line(), 16)
        assert a.read_exact(size) == b"second:done\n"


def test_interface_psgi_serves_a_psgi_app_from_a_pl_file(start_gateway):
    gw = start_gateway(os.path.join(APPS, "psgi", "psgi_app.pl"), pool={"workers": 1, "interface": "psgi"})
    with Conn.to(gw) as c:
        c.send(request("GET", "/x"))
        r = c.read_response()
    assert (r.status, r.body) == (200, b"psgi by interface at /x\n")
