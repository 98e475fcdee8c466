"""Responses the gateway generates itself for bad requests: 400 (malformed
and request-smuggling shapes, connection closed afterwards), 414, 431, 501."""
import pytest

from conftest import Gateway, write_config
from httpraw import LONG_IDLE, Conn, request

APP = "app.pl"
FOLLOW_UP = b"GET /hello HTTP/1.1\r\nHost: e2e.test\r\n\r\n"


def rejected(gw, data, status):
    """Sends `data` followed by a valid request in the same write; expects
    exactly one response with `status` and then a closed connection: the
    follow-up must never be answered (that would be a smuggled request)."""
    with Conn.to(gw) as c:
        c.send(data + FOLLOW_UP)
        try:
            r = c.read_response()
        except ConnectionResetError as e:
            raise AssertionError(f"connection reset before any response: {e}; output:\n{gw.output()}")
        assert r.status == status, f"{r!r}\n--- gateway output:\n{gw.output()}"
        assert (r.header("content-type") or "text/plain").startswith("text/plain")
        c.closed_by_peer()
    return r


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    """One gateway for the whole module: each case uses its own connection."""
    tmp = tmp_path_factory.mktemp("errors")
    config = write_config(tmp, APP, pool={"workers": 1},
                          http={"max_request_line": 1024, "max_header_bytes": 4096,
                                "max_headers": 20, **LONG_IDLE})
    gateway = Gateway(["--config", config], cwd=str(tmp))
    try:
        yield gateway.wait_ready()
    finally:
        gateway.stop()


BAD_400 = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "missing version": b"GET /hello\r\nHost: x\r\n\r\n",
    "space in target": b"GET /he llo HTTP/1.1\r\nHost: x\r\n\r\n",
    "header without colon": b"GET /hello HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "te and cl": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "cl and te": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Length: 5\r\n\r\n0\r\n\r\n",
    "duplicate cl differing": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                              b"Content-Length: 6\r\n\r\nhello!",
    "duplicate cl same": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         b"Content-Length: 5\r\n\r\nhello",
    "cl list": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!",
    "cl not a number": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "cl signed": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
    "cl negative": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "obs-fold": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n",
    "space before colon": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Space : v\r\n\r\n",
    "tab before colon": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Tab\t: v\r\n\r\n",
    "bad chunk size": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"zz\r\nhello\r\n0\r\n\r\n",
    "chunk size overflow": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    "chunk data without crlf": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               b"5\r\nhelloXX0\r\n\r\n",
    "nul in header value": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
    "chunked not final": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, x-unknown\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(BAD_400))
def test_bad_request_gets_400_and_close(gw, case):
    rejected(gw, BAD_400[case], 400)


def test_gateway_still_serves_after_rejections(gw):
    for case in ("garbage request line", "te and cl", "bad chunk size"):
        rejected(gw, BAD_400[case], 400)
    with Conn.to(gw) as c:
        c.send(FOLLOW_UP)
        assert c.read_response().body == b"Hello, world!\n"


def test_request_line_too_long_gets_414(gw):
    rejected(gw, request("GET", "/hello?" + "q" * 2000), 414)


def test_request_line_at_limit_is_accepted(gw):
    target = "/hello?" + "q" * (1024 - len("GET  HTTP/1.1") - len("/hello?") - 8)
    with Conn.to(gw) as c:
        c.send(request("GET", target))
        assert c.read_response().status == 200


def test_header_section_too_big_gets_431(gw):
    rejected(gw, request("GET", "/hello", [("X-Big", "b" * 5000)]), 431)


def test_too_many_headers_gets_431(gw):
    rejected(gw, request("GET", "/hello", [(f"X-H{i}", "v") for i in range(30)]), 431)


def test_headers_within_limits_are_accepted(gw):
    with Conn.to(gw) as c:
        c.send(request("GET", "/hello", [(f"X-H{i}", "v" * 100) for i in range(15)]))
        assert c.read_response().status == 200


def test_unknown_transfer_coding_gets_501(gw):
    data = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x-unknown, chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n")
    rejected(gw, data, 501)


def test_sole_unknown_transfer_coding_is_refused(gw):
    with Conn.to(gw) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x-unknown\r\n\r\nhello"
               + FOLLOW_UP)
        r = c.read_response()
        assert r.status in (400, 501), r
        c.closed_by_peer()
