"""Request bodies: Content-Length and chunked bodies reach the app intact,
100-continue waits for the app's first read, a 50 MiB upload streams through
the gateway without piling up in its memory, and over-limit bodies get 413."""
import os
import subprocess

from conftest import vm_rss_kib
from httpraw import LONG_IDLE, Conn, request, wait_until

APP = "app.pl"
MiB = 1024 * 1024


def test_content_length_body_echoed(start_gateway):
    gw = start_gateway(APP)
    payload = bytes(range(256)) * 64 + b"\r\n\r\n0\r\n"
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", body=payload))
        r = c.read_response()
        c.send(request("GET", "/hello"))
        after = c.read_response()
    assert r.status == 200 and r.body == payload
    assert after.body == b"Hello, world!\n"


def test_chunked_body_dechunked_and_echoed(start_gateway):
    gw = start_gateway(APP)
    parts = [b"first,", b"x" * 70000, b"", b"last"]
    body = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", [("Transfer-Encoding", "chunked")]) + body)
        r = c.read_response()
        c.send(request("GET", "/hello"))
        after = c.read_response()
    assert r.status == 200 and r.body == b"".join(parts)
    assert after.body == b"Hello, world!\n"


def test_chunked_body_with_request_trailers(start_gateway):
    gw = start_gateway(APP)
    body = b"5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n"
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", [("Transfer-Encoding", "chunked")]) + body
               + request("GET", "/hello"))
        r = c.read_response()
        after = c.read_response()
    assert r.status == 200 and r.body == b"hello"
    assert after.body == b"Hello, world!\n"


def test_empty_body_post(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", [("Content-Length", "0")]))
        r = c.read_response()
    assert r.status == 200 and r.body == b""


def test_curl_upload_chunked(start_gateway, tmp_path):
    gw = start_gateway(APP)
    data = os.urandom(3 * MiB)
    src = tmp_path / "upload.bin"
    src.write_bytes(data)
    out = subprocess.run(["curl", "-sS", "--max-time", "60", "-H", "Transfer-Encoding: chunked",
                          "--data-binary", f"@{src}", gw.url + "/echo"],
                         capture_output=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert out.stdout == data


def test_curl_upload_with_expect_continue(start_gateway, tmp_path):
    gw = start_gateway(APP)
    src = tmp_path / "upload.bin"
    src.write_bytes(b"z" * (2 * MiB))
    out = subprocess.run(["curl", "-sS", "--max-time", "60", "-H", "Expect: 100-continue",
                          "--expect100-timeout", "30", "--data-binary", f"@{src}",
                          "-w", "\n%{http_code}", gw.url + "/count"],
                         capture_output=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"%d\n200" % (2 * MiB)


def test_expect_continue_sent_only_when_app_reads(start_gateway, channel):
    gw = start_gateway(APP, pool={"env": channel.env})
    with Conn.to(gw) as c:
        c.send(request("POST", "/continue", [("Content-Length", "5"), ("Expect", "100-continue")]))
        channel.wait_for("continue waiting")
        # The app runs but has not read: no interim response may have been sent.
        c.sock.setblocking(False)
        try:
            early = c.sock.recv(1024)
        except BlockingIOError:
            early = b""
        c.sock.setblocking(True)
        c.sock.settimeout(30)
        assert early == b"", f"gateway answered before the app read the body: {early!r}"
        channel.open_gate("continue")
        interim = c.read_response(interim=True)
        assert interim.status == 100
        c.send(b"hello")
        r = c.read_response()
    assert r.status == 200 and r.body == b"got:hello"


def test_expect_continue_not_sent_when_body_never_read(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("POST", "/hello", [("Content-Length", "5"), ("Expect", "100-continue")]))
        r = c.read_response(interim=True)
        # The app answered without reading: the final response comes directly.
        assert r.status == 200 and r.body == b"Hello, world!\n"


def test_50mib_chunked_upload_streams_with_small_gateway_rss(start_gateway):
    total = 50 * MiB
    piece = os.urandom(64 * 1024)
    gw = start_gateway(APP)
    pid = gw.proc.pid
    baseline = vm_rss_kib(pid)
    peak = baseline
    with Conn.to(gw) as c:
        c.send(request("POST", "/count", [("Transfer-Encoding", "chunked")]))
        framed = b"%x\r\n%s\r\n" % (len(piece), piece)
        for i in range(total // len(piece)):
            c.send(framed)
            if i % 16 == 0:
                peak = max(peak, vm_rss_kib(pid))
        c.send(b"0\r\n\r\n")
        r = c.read_response()
        peak = max(peak, vm_rss_kib(pid))
    assert r.status == 200 and r.body == b"%d" % total
    growth_mib = (peak - baseline) / 1024
    assert growth_mib < 40, f"gateway RSS grew {growth_mib:.1f} MiB during a 50 MiB upload"


def test_declared_body_over_limit_gets_413(start_gateway):
    gw = start_gateway(APP, http={"max_body_bytes": 1024})
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", [("Content-Length", "2048")]))
        r = c.read_response()
    assert r.status == 413


def test_body_at_limit_is_accepted(start_gateway):
    gw = start_gateway(APP, http={"max_body_bytes": 1024})
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", body=b"k" * 1024))
        r = c.read_response()
    assert r.status == 200 and len(r.body) == 1024


def test_chunked_body_over_limit_gets_413(start_gateway):
    gw = start_gateway(APP, http={"max_body_bytes": 1024, **LONG_IDLE})
    with Conn.to(gw) as c:
        c.send(request("POST", "/echo", [("Transfer-Encoding", "chunked")])
               + b"400\r\n" + b"a" * 1024 + b"\r\n" + b"400\r\n" + b"b" * 1024 + b"\r\n")
        r = c.read_response()
        assert r.status == 413
        c.closed_by_peer()


def test_gateway_returns_burst_memory_when_idle(start_gateway):
    # 64 clients upload 64 KiB at once, three times: the worker-bound output
    # buffers and the connections' read buffers grow to megabytes. Once the
    # clients are gone the gateway gives that back (docs/architecture.md,
    # "Memory bounds"), so its idle RSS stays near where it started.
    gw = start_gateway(APP)
    pid = gw.proc.pid
    baseline = vm_rss_kib(pid)
    body = os.urandom(64 * 1024)
    for _ in range(3):
        conns = [Conn.to(gw) for _ in range(64)]
        for c in conns:
            c.send(request("POST", "/echo", body=body))
        for c in conns:
            r = c.read_response()
            assert r.status == 200 and r.body == body
            c.close()
    wait_until(lambda: vm_rss_kib(pid) - baseline < 8 * 1024,
               f"gateway RSS back within 8 MiB of its {baseline} KiB start")
