"""Access log end to end: every preset checked field by field, JSON lines
parsed with hostile bytes in paths and headers, gateway-generated responses
logged, request ids kept/generated/echoed and given to the app, traceparent
passed through, and SIGUSR1 reopening a rotated file."""
import json
import os
import re
import signal
import socket

import pytest

from conftest import EVENT_TIMEOUT
from ops_support import get, ops_config, wait_for_lines

CLF_TIME = r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\]"


def start_logged(start_gateway, tmp_path, fmt, http=None):
    log = tmp_path / "access.log"
    cfg = ops_config(tmp_path, access_log={"format": fmt, "path": str(log), "flush_interval": "10ms"}, http=http)
    return start_gateway(config=cfg), str(log)


def raw(gw, data):
    with socket.create_connection((gw.host, gw.port), timeout=EVENT_TIMEOUT) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


HEADERS = {"User-Agent": "ops-test/1.0", "Referer": "http://ref.example/page"}


def test_common_preset(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "common")
    status, _, body = get(gw, "/hello?x=1&y=2", HEADERS)
    assert status == 200 and body == b"ok\n"
    (line,) = wait_for_lines(log, 1)
    m = re.fullmatch(rf'127\.0\.0\.1 - - ({CLF_TIME}) "GET /hello\?x=1&y=2 HTTP/1\.1" 200 3', line.decode())
    assert m, line


def test_combined_preset(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "combined")
    get(gw, "/a/b", HEADERS)
    (line,) = wait_for_lines(log, 1)
    m = re.fullmatch(rf'127\.0\.0\.1 - - {CLF_TIME} "GET /a/b HTTP/1\.1" 200 3 '
                     r'"http://ref\.example/page" "ops-test/1\.0"', line.decode())
    assert m, line


def test_tiny_preset(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "tiny")
    get(gw, "/status/404?q=z")
    (line,) = wait_for_lines(log, 1)
    m = re.fullmatch(r"GET /status/404\?q=z 404 11 - (\d+\.\d{3}) ms", line.decode())
    assert m, line
    assert float(m.group(1)) < EVENT_TIMEOUT * 1000


def test_custom_format_atoms(start_gateway, tmp_path):
    fmt = "%m|%U|%q|%H|%s|%B|%{pool}x|%P|%{scope}x|%R|%{x-request-id}i|%{content-type}o|%{gateway}x|%D"
    gw, log = start_logged(start_gateway, tmp_path, fmt)
    _, _, pid = get(gw, "/pid", {"X-Request-Id": "custom-1"})
    (line,) = wait_for_lines(log, 1)
    f = line.decode().split("|")
    assert f[:13] == ["GET", "/pid", "", "HTTP/1.1", "200", str(len(pid)), "app", pid.decode().strip(),
                      "http", "custom-1", "custom-1", "text/plain", "0"], f
    assert int(f[13]) > 0


def test_json_preset_fields(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "json")
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    _, _, pid = get(gw, "/pid?v=1", {**HEADERS, "traceparent": tp, "X-Request-Id": "json-req-1"})
    (line,) = wait_for_lines(log, 1)
    rec = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["time"])
    assert rec["client"] == "127.0.0.1" and isinstance(rec["client_port"], int) and rec["client_port"] > 0
    assert rec["method"] == "GET" and rec["path"] == "/pid" and rec["query"] == "v=1"
    assert rec["protocol"] == "HTTP/1.1" and rec["status"] == 200
    assert rec["body_bytes"] == len(pid) and rec["bytes_out"] > rec["body_bytes"] and rec["bytes_in"] > 0
    assert rec["duration_ms"] >= rec["upstream_ms"] >= 0
    assert rec["request_id"] == "json-req-1"
    assert rec["pool"] == "app" and rec["worker_pid"] == int(pid)
    assert rec["scope"] == "http" and rec["transport"] == "http1"
    assert rec["disconnect"] is None and rec["gateway_response"] is False
    assert rec["user_agent"] == "ops-test/1.0" and rec["referer"] == "http://ref.example/page"
    assert rec["traceparent"] == tp


def test_json_hostile_bytes_in_path_and_headers(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "json")
    # Raw bytes >= 0x80 in the target, quotes, percent escapes (the parser
    # refuses a backslash in a target), and header values with obs-text,
    # quotes and backslashes (DEL is refused there).
    path = b'/h"o"st/%00%0a/\xc3\xa9/\xff\xfe\x80?q="<\xff'
    ua = b'evil" \\ \xff\xc3\x28 tail'
    resp = raw(gw, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nUser-Agent: " + ua + b"\r\nConnection: close\r\n\r\n")
    assert resp.startswith(b"HTTP/1.1 200"), resp[:100]
    (line,) = wait_for_lines(log, 1)
    assert b"\n" not in line
    rec = json.loads(line.decode("utf-8"))  # strict: the line must be valid UTF-8 JSON
    latin1 = lambda b: "".join(chr(c) for c in b)  # noqa: E731 - bytes outside UTF-8 come back as U+00XX
    assert rec["path"] == '/h"o"st/%00%0a/' + "é" + "/" + latin1(b"\xff\xfe\x80")
    assert rec["query"] == 'q="<' + latin1(b"\xff")
    assert rec["user_agent"] == 'evil" \\ ' + latin1(b"\xff\xc3") + "( tail"


def test_gateway_generated_responses_are_logged(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "json")
    resp = raw(gw, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    assert resp.startswith(b"HTTP/1.1 400")
    resp = raw(gw, b"NOT A REQUEST\r\n\r\n")
    assert resp.startswith(b"HTTP/1.1 400")
    lines = wait_for_lines(log, 2)
    for line in lines:
        rec = json.loads(line)
        assert rec["status"] == 400 and rec["gateway_response"] is True
        assert rec["worker_pid"] is None and rec["pool"] is None
        assert rec["bytes_out"] > 0 and re.fullmatch(r"[0-9a-f]{32}", rec["request_id"])


def test_request_id_kept_generated_echoed_and_given_to_the_app(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "%R %s", http={"request_id_header": "x-request-id"})
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    status, headers, body = get(gw, "/id", {"X-Request-Id": "kept-42", "traceparent": tp})
    seen = json.loads(body)
    assert status == 200 and headers["x-request-id"] == "kept-42"
    assert seen == {"request_id": "kept-42", "x_request_id": "kept-42", "traceparent": tp}

    _, headers, body = get(gw, "/id", {"X-Request-Id": "bad id with spaces"})
    seen = json.loads(body)
    assert re.fullmatch(r"[0-9a-f]{32}", seen["request_id"])
    assert headers["x-request-id"] == seen["request_id"]
    assert seen["x_request_id"] == "bad id with spaces"  # the header itself reaches the app untouched

    _, headers, body = get(gw, "/id")
    generated = json.loads(body)["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated) and headers["x-request-id"] == generated
    assert generated != seen["request_id"]

    lines = [l.decode() for l in wait_for_lines(log, 3)]
    assert lines == ["kept-42 200", f"{seen['request_id']} 200", f"{generated} 200"]


def test_request_id_not_echoed_by_default(start_gateway, tmp_path):
    gw, _ = start_logged(start_gateway, tmp_path, "common")
    _, headers, _ = get(gw, "/id", {"X-Request-Id": "quiet"})
    assert "x-request-id" not in headers


def test_sigusr1_reopens_a_rotated_file(start_gateway, tmp_path):
    gw, log = start_logged(start_gateway, tmp_path, "%U")
    get(gw, "/before")
    assert wait_for_lines(log, 1) == [b"/before"]
    os.rename(log, log + ".1")
    gw.signal(signal.SIGUSR1)
    gw.wait_for("reopening the access log")
    # The reopen happens on the writer thread; lines after it go to the new file.
    get(gw, "/after")
    assert wait_for_lines(log, 1) == [b"/after"]
    with open(log + ".1", "rb") as f:
        assert f.read() == b"/before\n"


def test_bad_format_is_a_startup_error(start_gateway, tmp_path):
    cfg = ops_config(tmp_path, access_log={"format": "%Z", "path": "stdout"})
    gw = start_gateway(config=cfg, ready=False)
    gw.wait_for("unknown atom %Z")
    assert gw.wait_exit() == 1
