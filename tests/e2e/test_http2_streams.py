"""HTTP/2 end to end: h2c with prior knowledge (curl, nghttp, raw frames),
GET/POST, trailers, many concurrent streams, RST_STREAM reaching only that
stream's app, Early Hints as 103 on HTTP/2 and HTTP/1.1, GOAWAY on shutdown."""
import signal
import subprocess

import pytest

from conftest import EVENT_TIMEOUT
from h2tls import (RawH2, write_config, curl, curl_json, headers_of, need, frame, literal, GOAWAY, HEADERS, DATA,
                   RST_STREAM, END_HEADERS, END_STREAM, PREFACE, SETTINGS)


@pytest.fixture
def gw(start_gateway, tmp_path, channel):
    need("curl")
    return start_gateway(config=write_config(tmp_path, ["\"127.0.0.1:0\""], env=channel.env))


def url(gw, path):
    return f"http://127.0.0.1:{gw.port}{path}"


def test_prior_knowledge_scope(gw):
    scope = curl_json("--http2-prior-knowledge", "-H", "Cookie: a=1", "-H", "X-Thing: yes",
                      url(gw, "/h2scope/p%41th?q=1"))
    assert scope["http_version"] == "2"
    assert scope["scheme"] == "http"
    assert scope["method"] == "GET"
    assert scope["path"] == "/h2scope/pAth"
    assert scope["query_string"] == "q=1"
    headers = headers_of(scope)
    assert headers["host"] == f"127.0.0.1:{gw.port}"
    assert headers["x-thing"] == "yes"
    assert not any(name.startswith(":") for name, _ in scope["headers"])
    assert "tls" not in scope["extensions"]
    assert "http.response.early_hint" in scope["extensions"]


def test_cookies_are_folded(gw):
    need("nghttp")
    out = subprocess.run(["nghttp", "-H", "cookie: a=1", "-H", "cookie: b=2", url(gw, "/h2scope")],
                         stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True).stdout
    import json
    scope = json.loads(out)
    cookies = [v for n, v in scope["headers"] if n == "cookie"]
    assert cookies == ["a=1; b=2"]


def test_post_body_flows_through_the_window(gw):
    body = bytes(range(256)) * 8192  # 2 MiB: many times the stream window
    out = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "--data-binary", "@-", url(gw, "/echo")],
                         input=body, stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True)
    assert out.stdout == body


def test_streamed_response_with_trailers(gw):
    need("nghttp")
    out = subprocess.run(["nghttp", "-v", url(gw, "/stream?chunks=5&size=1000&trailers=1")],
                         stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True).stdout.decode()
    assert "x-total-bytes: 5000" in out
    assert "x-trailer-two: yes" in out
    body = subprocess.run(["curl", "-s", "--http2-prior-knowledge", url(gw, "/stream?chunks=3&size=4")],
                          stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True).stdout
    assert body == b"aaaabbbbcccc"


def test_many_concurrent_streams(gw):
    need("nghttp")
    urls = [url(gw, f"/echo?n={i}") for i in range(60)]
    proc = subprocess.run(["nghttp", "-n", "-s", "-m", "1"] + urls, stdout=subprocess.PIPE,
                          timeout=EVENT_TIMEOUT, check=True)
    # -s prints one stats line per finished stream.
    lines = [l for l in proc.stdout.decode().splitlines() if "/echo?n=" in l]
    assert len(lines) == 60
    assert all(" 200 " in l for l in lines)


def test_concurrent_streams_with_h2load(gw):
    need("h2load")
    proc = subprocess.run(["h2load", "-n", "400", "-c", "2", "-m", "50", url(gw, "/hello")],
                          stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True)
    out = proc.stdout.decode()
    assert "400 succeeded" in out, out
    assert "status codes: 400 2xx" in out, out


def test_rst_stream_disconnects_only_that_stream(gw, channel):
    c = RawH2("127.0.0.1", gw.port)
    c.get(1, "/h2wait?one")
    c.get(3, "/h2wait?two")
    channel.wait_for("h2wait started one")
    channel.wait_for("h2wait started two")
    c.send(frame(RST_STREAM, 0, 1, (8).to_bytes(4, "big")))  # CANCEL
    line = channel.wait_for("h2wait disconnect one")
    assert "client_closed" in line
    assert not any("disconnect two" in l for l in channel.lines())
    # The other stream and the connection still work.
    c.get(5, "/hello")
    f = c.wait_for(DATA, 5)
    assert f[3] == b"Hello, world!\n"
    c.close()
    channel.wait_for("h2wait disconnect two")


def test_early_hints_on_http2_and_http11(gw):
    h2 = curl("-i", "--http2-prior-knowledge", url(gw, "/hints")).stdout.decode()
    assert "HTTP/2 103" in h2
    assert "link: </style.css>; rel=preload; as=style" in h2
    assert "HTTP/2 200" in h2
    h1 = curl("-i", "--http1.1", url(gw, "/hints")).stdout.decode()
    assert "HTTP/1.1 103 Early Hints" in h1
    assert h1.count("HTTP/1.1 103") == 2
    assert "HTTP/1.1 200" in h1
    h10 = curl("-i", "--http1.0", url(gw, "/hints")).stdout.decode()
    assert " 103" not in h10
    assert h10.startswith("HTTP/1.1 200") or h10.startswith("HTTP/1.0 200")


def test_early_hint_extension_not_on_http10(gw):
    scope = curl_json("--http1.0", url(gw, "/h2scope"))
    assert "http.response.early_hint" not in scope["extensions"]
    scope = curl_json("--http1.1", url(gw, "/h2scope"))
    assert "http.response.early_hint" in scope["extensions"]


def test_http1_still_served_on_the_same_port(gw):
    scope = curl_json("--http1.1", url(gw, "/h2scope"))
    assert scope["http_version"] == "1.1"


def test_bad_preface_gets_goaway(gw):
    c = RawH2.__new__(RawH2)
    import socket
    c.sock = socket.create_connection(("127.0.0.1", gw.port), timeout=EVENT_TIMEOUT)
    c.buf = b""
    c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + frame(SETTINGS, 0, 0))
    f = c.wait_for(GOAWAY)
    assert int.from_bytes(f[3][4:8], "big") == 1  # PROTOCOL_ERROR
    assert c.next_frame() is None
    c.close()


def test_goaway_on_graceful_shutdown(gw, channel):
    c = RawH2("127.0.0.1", gw.port)
    c.get(1, "/hello")
    c.wait_for(DATA, 1)
    gw.signal(signal.SIGTERM)
    f = c.wait_for(GOAWAY)
    assert int.from_bytes(f[3][4:8], "big") == 0  # NO_ERROR
    assert int.from_bytes(f[3][:4], "big") == 1   # last stream served
    assert gw.wait_exit() == 0


def test_stream_timeout_resets_a_stalled_stream(start_gateway, tmp_path, channel):
    gw = start_gateway(config=write_config(tmp_path, ["\"127.0.0.1:0\""], env=channel.env,
                                           http={"h2_stream_timeout": "0.5"}))
    c = RawH2("127.0.0.1", gw.port)
    # A POST whose body never comes: the app waits, the stream stalls.
    c.send(frame(HEADERS, END_HEADERS, 1, literal(":method", "POST") + literal(":scheme", "http")
                 + literal(":path", "/h2wait?stalled") + literal(":authority", "x")))
    channel.wait_for("h2wait started stalled")
    f = c.wait_for(RST_STREAM, 1)
    assert int.from_bytes(f[3], "big") == 8  # CANCEL
    line = channel.wait_for("h2wait disconnect stalled")
    assert "client_timeout" in line
    c.close()


def test_upgrade_h2c(gw):
    out = curl("-i", "--http2", url(gw, "/h2scope?up=1")).stdout.decode()
    assert "HTTP/1.1 101 Switching Protocols" in out
    assert "HTTP/2 200" in out
    import json
    scope = json.loads(out[out.index("{"):])
    assert scope["http_version"] == "2"
    assert scope["query_string"] == "up=1"
    names = [n for n, _ in scope["headers"]]
    assert "http2-settings" not in names and "upgrade" not in names


def test_upgrade_h2c_then_more_streams(gw):
    need("nghttp")
    proc = subprocess.run(["nghttp", "-u", "-n", "-s", url(gw, "/hello"), url(gw, "/echo?x")],
                          stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True)
    lines = [l for l in proc.stdout.decode().splitlines() if " 200 " in l]
    assert len(lines) == 2


def test_file_response_over_http2(gw, channel, tmp_path):
    data = bytes(range(256)) * 1000  # 256000 bytes: many DATA frames, several windows
    (tmp_path / "blob.bin").write_bytes(data)
    out = subprocess.run(["curl", "-s", "--http2-prior-knowledge", url(gw, "/file?name=blob.bin")],
                         stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True).stdout
    assert out == data
    part = subprocess.run(["curl", "-s", "--http2-prior-knowledge",
                           url(gw, "/file?name=blob.bin&offset=1000&length=500")],
                          stdout=subprocess.PIPE, timeout=EVENT_TIMEOUT, check=True).stdout
    assert part == data[1000:1500]


def test_head_request_has_no_body(gw):
    out = curl("-I", "--http2-prior-knowledge", url(gw, "/hello")).stdout.decode()
    assert out.startswith("HTTP/2 200")
    assert "content-length: 14" in out
