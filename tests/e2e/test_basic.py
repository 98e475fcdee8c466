"""HTTP/1.x basics through the real gateway and Perl workers: curl, keep-alive,
pipelining, HEAD, HTTP/1.0 connection rules, Date, and the scope the app sees."""
import json
import subprocess

from httpraw import LONG_IDLE, Conn, request

APP = "app.pl"


def scope_of(response):
    assert response.status == 200, response
    return json.loads(response.body)


def test_hello_world_through_curl(start_gateway):
    gw = start_gateway(APP)
    out = subprocess.run(["curl", "-sS", "-i", "--max-time", "30", gw.url + "/hello"],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), out.stdout
    assert body == b"Hello, world!\n"
    assert b"\r\ncontent-length: 14" in head.lower()


def test_keep_alive_serves_two_requests_on_one_connection(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/one"))
        first = scope_of(c.read_response())
        c.send(request("GET", "/scope/two"))
        second = scope_of(c.read_response())
        local = c.sock.getsockname()
    assert first["path"] == "/scope/one" and second["path"] == "/scope/two"
    # Same TCP connection: the client port the app sees is the same.
    assert first["client"] == second["client"] == [local[0], local[1]]


def test_pipelined_requests_answered_in_order(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/1") + request("POST", "/echo", body=b"second")
               + request("GET", "/scope/3"))
        r1, r2, r3 = c.read_response(), c.read_response(), c.read_response()
    assert scope_of(r1)["path"] == "/scope/1"
    assert r2.status == 200 and r2.body == b"second"
    assert scope_of(r3)["path"] == "/scope/3"


def test_head_sends_headers_without_body(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("HEAD", "/hello") + request("GET", "/hello"))
        head = c.read_response(head=True)
        get = c.read_response()
    assert head.status == 200
    assert head.header("content-length") == "14"
    # Had the HEAD response carried a body, this would not parse as a response.
    assert get.status == 200 and get.body == b"Hello, world!\n"


def test_head_of_a_streamed_response_has_no_body(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("HEAD", "/stream?chunks=3&size=4") + request("GET", "/hello"))
        head = c.read_response(head=True)
        get = c.read_response()
    assert head.status == 200
    assert get.status == 200 and get.body == b"Hello, world!\n", "HEAD response carried a body"


def test_http11_connection_close_is_honoured(start_gateway):
    gw = start_gateway(APP, http=LONG_IDLE)
    with Conn.to(gw) as c:
        c.send(request("GET", "/hello", [("Connection", "close")]))
        r = c.read_response()
        assert r.status == 200 and r.body == b"Hello, world!\n"
        assert (r.header("connection") or "").lower() == "close"
        assert c.closed_by_peer()


def test_http10_without_keep_alive_closes(start_gateway):
    gw = start_gateway(APP, http=LONG_IDLE)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/old", version="HTTP/1.0"))
        r = c.read_response()
        assert c.closed_by_peer()
    scope = scope_of(r)
    assert scope["http_version"] == "1.0"
    assert "chunked" not in (r.header("transfer-encoding") or "")


def test_http10_keep_alive_keeps_connection(start_gateway):
    gw = start_gateway(APP, http=LONG_IDLE)
    with Conn.to(gw) as c:
        c.send(request("GET", "/hello", [("Connection", "keep-alive")], version="HTTP/1.0"))
        r = c.read_response()
        assert r.status == 200 and r.body == b"Hello, world!\n"
        assert (r.header("connection") or "").lower() == "keep-alive"
        c.send(request("GET", "/hello", version="HTTP/1.0"))
        again = c.read_response()
        assert again.status == 200 and again.body == b"Hello, world!\n"
        assert c.closed_by_peer()


def test_http10_streamed_response_is_close_delimited(start_gateway):
    gw = start_gateway(APP, http=LONG_IDLE)
    with Conn.to(gw) as c:
        c.send(request("GET", "/stream?chunks=3&size=4", [("Connection", "keep-alive")],
                       version="HTTP/1.0"))
        r = c.read_response()
    assert r.status == 200
    assert r.header("transfer-encoding") is None, "HTTP/1.0 has no chunked coding"
    assert r.header("content-length") is None
    assert (r.header("connection") or "close").lower() == "close"
    assert r.body == b"aaaabbbbcccc"


def test_date_added_once_and_never_duplicated(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/hello"))
        plain = c.read_response()
        c.send(request("GET", "/date"))
        own = c.read_response()
    assert len(plain.all("date")) == 1
    assert plain.header("date").endswith(" GMT")
    assert own.all("date") == ["Sun, 06 Nov 1994 08:49:37 GMT"]


def test_scope_keys(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/keys?x=1&y=%20z", [("X-Custom-Thing", "Mixed Case Value")]))
        scope = scope_of(c.read_response())
        local = c.sock.getsockname()
    assert scope["type"] == "http"
    assert scope["method"] == "GET"
    assert scope["path"] == "/scope/keys"
    assert scope["raw_path"] == "/scope/keys"
    assert scope["query_string"] == "x=1&y=%20z"
    assert scope["root_path"] == ""
    assert scope["scheme"] == "http"
    assert scope["http_version"] == "1.1"
    assert scope["client"] == [local[0], local[1]]
    assert scope["server"] == [gw.host, gw.port]
    assert scope["pagi"]["version"] == "0.3"
    assert ["x-custom-thing", "Mixed Case Value"] in scope["headers"]
    assert ["host", "e2e.test"] in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert scope["has_connection"] == 1
    assert "fullflush" in scope["extensions"]


def test_scope_state_comes_from_lifespan(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/state"))
        scope = scope_of(c.read_response())
    assert scope["state"]["greeting"] == "hello from lifespan"


def test_method_is_passed_through_uppercase(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("DELETE", "/scope/m"))
        assert scope_of(c.read_response())["method"] == "DELETE"


def test_path_percent_decoding(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/a%2Fb/caf%C3%A9%20x"))
        scope = scope_of(c.read_response())
    assert scope["path"] == "/scope/a/b/caf\u00e9 x"   # %2F decodes too
    assert scope["raw_path"] == "/scope/a%2Fb/caf%C3%A9%20x"
    assert scope["path_codes"][-6:] == [ord(ch) for ch in "caf\u00e9 x"]


def test_path_invalid_utf8_falls_back_to_bytes(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/bad%FF%C3"))
        scope = scope_of(c.read_response())
    assert scope["raw_path"] == "/scope/bad%FF%C3"
    # The percent-decoded bytes, one character per byte.
    assert scope["path_codes"] == [ord(ch) for ch in "/scope/bad"] + [0xFF, 0xC3]


def test_cookie_headers_folded_into_one(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/scope/cookies", [("Cookie", "a=1"), ("X-Between", "1"),
                                                 ("Cookie", "b=2; c=3")]))
        scope = scope_of(c.read_response())
    cookies = [value for name, value in scope["headers"] if name == "cookie"]
    assert cookies == ["a=1; b=2; c=3"]


def test_post_body_in_scope_app(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("PUT", "/scope/body", body=b"payload"))
        scope = scope_of(c.read_response())
    assert scope["method"] == "PUT" and scope["body"] == "payload"


def test_unix_socket_listener(start_gateway, tmp_path):
    import tempfile
    sock_dir = tempfile.mkdtemp(prefix="pe2e", dir="/tmp")
    path = f"{sock_dir}/gw.sock"
    try:
        gw = start_gateway(APP, listen=[f"unix:{path}"])
        assert gw.unix_path == path
        out = subprocess.run(["curl", "-sS", "-i", "--max-time", "30", "--unix-socket", path,
                              "http://localhost/scope/unix"], capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr
        head, _, body = out.stdout.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), out.stdout
        scope = json.loads(body)
        assert scope["path"] == "/scope/unix"
        assert scope["server"][0] == path
        assert len(scope["server"]) == 1 or scope["server"][1] is None
        gw.stop()
    finally:
        import shutil
        shutil.rmtree(sock_dir, ignore_errors=True)


def test_forty_pipelined_requests_with_max_pipelined_2(start_gateway):
    # http.max_pipelined bounds the requests parsed ahead of the one being
    # answered; beyond it the gateway stops reading (backpressure), so all
    # 40 sent in one write are still answered, in order.
    gw = start_gateway(APP, http={"max_pipelined": 2})
    with Conn.to(gw) as c:
        c.send(b"".join(request("POST", "/echo", body=f"body-{i}".encode()) if i % 5 == 4
                        else request("GET", f"/scope/{i}") for i in range(40)))
        responses = [c.read_response() for _ in range(40)]
    for i, r in enumerate(responses):
        if i % 5 == 4:
            assert r.status == 200 and r.body == f"body-{i}".encode()
        else:
            assert scope_of(r)["path"] == f"/scope/{i}"
