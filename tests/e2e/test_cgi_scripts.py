"""CGI scripts through the gateway: a directory of scripts as the pool's
app, POST bodies on stdin, output streamed as produced, Status honoured,
and the timeout: 504 for a hung script while other requests still succeed."""
import os

from conftest import APPS
from httpraw import Conn, chunked, request

CGI_DIR = os.path.join(APPS, "cgi") + "/"


def exchange(gw, method, target, headers=(), body=b""):
    with Conn.to(gw) as c:
        c.send(request(method, target, list(headers), body))
        return c.read_response()


def test_post_body_and_env(start_gateway):
    gw = start_gateway(CGI_DIR, pool={"workers": 1})
    body = b"field=" + b"v" * 100000
    r = exchange(gw, "POST", "/echo.cgi/extra?x=1", [("Content-Type", "application/x-www-form-urlencoded")], body)
    assert r.status == 200
    assert r.header("x-script") == "echo"
    text = r.body.decode()
    assert "BODY=" + body.decode() + "\n" in text
    assert "GATEWAY_INTERFACE=CGI/1.1\n" in text
    assert "SCRIPT_NAME=/echo.cgi\n" in text
    assert "PATH_INFO=/extra\n" in text
    assert "QUERY_STRING=x=1\n" in text
    assert f"CONTENT_LENGTH={len(body)}\n" in text


def test_chunked_post_body(start_gateway):
    gw = start_gateway(CGI_DIR, pool={"workers": 1})
    r = exchange(gw, "POST", "/echo.cgi", [("Transfer-Encoding", "chunked")], chunked([b"abc", b"def"]))
    assert "BODY=abcdef\n" in r.body.decode()
    assert "CONTENT_LENGTH=6\n" in r.body.decode()


def test_output_streams_as_produced(start_gateway):
    gw = start_gateway(CGI_DIR, pool={"workers": 1})
    with Conn.to(gw) as c:
        c.send(request("POST", "/stream.cgi", [("Content-Length", "3")]))
        assert c.read_line().startswith(b"HTTP/1.1 200")
        while c.read_line() != b"":
            pass
        size = int(c.read_line(), 16)
        assert c.read_exact(size) == b"first\n"
        c.read_exact(2)
        c.send(b"go\n")
        rest = b""
        while b"second:go\n" not in rest:
            size = int(c.read_line(), 16)
            assert size, "body ended without the second line"
            rest += c.read_exact(size)
            c.read_exact(2)


def test_status_header(start_gateway):
    gw = start_gateway(CGI_DIR, pool={"workers": 1})
    r = exchange(gw, "GET", "/status.cgi")
    assert (r.status, r.body) == (418, b"short and stout\n")
    assert exchange(gw, "GET", "/nothing-here.cgi").status == 404


def test_timeout_gives_504_while_others_succeed(start_gateway):
    gw = start_gateway(CGI_DIR, pool={"workers": 1, "cgi_timeout": 1, "cgi_kill_grace": 0.5})
    with Conn.to(gw) as slow:
        slow.send(request("GET", "/sleep.cgi"))
        # While the hung script runs, the same worker answers others.
        for _ in range(3):
            assert exchange(gw, "GET", "/status.cgi").status == 418
        r = slow.read_response()
    assert r.status == 504
    assert exchange(gw, "GET", "/status.cgi").status == 418
    gw.wait_for("timed out after 1s; killed")


def test_single_script_pool_key(start_gateway, tmp_path):
    config = tmp_path / "cgi.yaml"
    config.write_text(
        "listen: [\"127.0.0.1:0\"]\n"
        "pools:\n"
        "  app:\n"
        f"    cgi: {os.path.join(APPS, 'cgi', 'echo.cgi')}\n"
        "    workers: 1\n")
    gw = start_gateway(config=str(config))
    r = exchange(gw, "POST", "/any/path", [], b"hi")
    assert "BODY=hi\n" in r.body.decode()
    assert "SCRIPT_NAME=\n" in r.body.decode()
    assert "PATH_INFO=/any/path\n" in r.body.decode()
