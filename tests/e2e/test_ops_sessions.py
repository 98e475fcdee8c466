"""WebSocket and SSE sessions in the access log and the metrics, and the
pool counters of /metrics (restarts and recycles by reason, heartbeat
misses, queue overflows and queue wait) moving as traffic and faults
happen. One access log line per session, at its end, checked field by
field against what the client sent and received."""
import json
import os
import signal
import socket
import struct
import threading

from conftest import APPS, EVENT_TIMEOUT
from httpraw import wait_until
from ops_support import Admin, admin_address, get, metric, wait_for_lines
from wsraw import KEY, frame

FIELDS = "%m|%U|%s|%{scope}x|%I|%O|%{close_code}x|%{disconnect}x|%{pool}x|%P|%D|%{gateway}x|%H"


def session_config(tmp_path, app, fmt=FIELDS, pool=None):
    lines = ['listen: "127.0.0.1:0"', "log_level: info",
             "access_log:", f"  format: {json.dumps(fmt)}", f"  path: {json.dumps(str(tmp_path / 'access.log'))}",
             '  flush_interval: "10ms"',
             "admin:", '  listen: "127.0.0.1:0"',
             "pools:", "  app:", f"    app: {os.path.join(APPS, app)}"]
    for k, v in {"workers": 1, **(pool or {})}.items():
        lines.append(f"    {k}: {v}")
    lines += ["    env:", f"      OPS_DIR: {json.dumps(str(tmp_path))}"]
    path = tmp_path / "gateway.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def start(start_gateway, tmp_path, app, **kw):
    gw = start_gateway(config=session_config(tmp_path, app, **kw), ready=False)
    admin = Admin(admin_address(gw))
    gw.wait_ready()
    return gw, admin, str(tmp_path / "access.log")


class Client:
    """A raw socket that counts every byte both ways, as the gateway should."""

    def __init__(self, gw):
        self.sock = socket.create_connection((gw.host, gw.port), timeout=EVENT_TIMEOUT)
        self.sent = 0
        self.received = b""

    def send(self, data):
        self.sock.sendall(data)
        self.sent += len(data)

    def read_until(self, needle):
        while needle not in self.received:
            chunk = self.sock.recv(65536)
            assert chunk, f"EOF before {needle!r}: {self.received!r}"
            self.received += chunk

    def read_to_eof(self):
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            self.received += chunk

    def upgrade(self, gw, path="/"):
        self.send((f"GET {path} HTTP/1.1\r\nHost: {gw.host}:{gw.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.read_until(b"\r\n\r\n")
        return int(self.received.split(b" ", 2)[1])

    def close(self):
        self.sock.close()


def fields(line):
    f = line.decode().split("|")
    return dict(zip(["method", "path", "status", "scope", "bytes_in", "bytes_out", "close_code", "disconnect",
                     "pool", "pid", "duration_us", "gateway", "protocol"], f))


def worker_pid(admin):
    """The pid of the pool's one ready worker, None while there is not one."""
    ready = [w["pid"] for w in admin.status()["pools"][0]["workers"] if w["state"] == "ready"]
    return ready[0] if len(ready) == 1 else None


def test_websocket_session_logged_at_its_end(start_gateway, tmp_path):
    gw, admin, log = start(start_gateway, tmp_path, "ws/echo.pl")
    before = admin.metrics()
    c = Client(gw)
    assert c.upgrade(gw) == 101
    c.send(frame(0x1, b"hi"))
    c.read_until(b"echo: hi")
    during = admin.metrics()
    assert metric(during, "pagi_sessions_open", type="websocket") == 1
    assert metric(during, "pagi_connections_open", protocol="websocket") == 1
    assert not os.path.exists(log) or os.path.getsize(log) == 0  # nothing until the session ends
    c.send(frame(0x8, struct.pack("!H", 1000)))
    c.read_to_eof()  # our Close echoed, then the gateway half-closes
    c.close()
    (line,) = wait_for_lines(log, 1)
    f = fields(line)
    assert (f["method"], f["path"], f["status"], f["scope"]) == ("GET", "/", "101", "websocket"), f
    assert int(f["bytes_in"]) == c.sent, (f, c.sent)
    assert int(f["bytes_out"]) == len(c.received), (f, len(c.received))
    assert (f["close_code"], f["disconnect"], f["pool"], f["gateway"], f["protocol"]) == \
        ("1000", "-", "app", "0", "HTTP/1.1"), f
    assert int(f["pid"]) == worker_pid(admin)
    assert int(f["duration_us"]) > 0
    after = admin.metrics()
    assert metric(after, "pagi_sessions_total", type="websocket") - \
        metric(before, "pagi_sessions_total", type="websocket") == 1
    assert metric(after, "pagi_sessions_open", type="websocket") == 0
    assert metric(after, "pagi_connections_open", protocol="websocket") == 0
    assert metric(after, "pagi_connections_total", protocol="websocket") == 1
    assert metric(after, "pagi_session_duration_seconds_count", type="websocket") == 1
    assert metric(after, "pagi_received_bytes_total", protocol="websocket") == c.sent


def test_websocket_close_codes_and_reasons(start_gateway, tmp_path):
    gw, admin, log = start(start_gateway, tmp_path, "ws/echo.pl")
    # The app closes with 4000.
    c = Client(gw)
    c.upgrade(gw)
    c.send(frame(0x1, b"close"))
    c.read_until(b"bye")
    c.send(frame(0x8, struct.pack("!H", 4000)))
    c.read_to_eof()
    c.close()
    # The client vanishes without a Close frame.
    c = Client(gw)
    c.upgrade(gw)
    c.send(frame(0x1, b"x"))
    c.read_until(b"echo: x")
    c.close()
    # A protocol error: an unmasked frame from the client (1002).
    c = Client(gw)
    c.upgrade(gw)
    c.send(frame(0x1, b"bad", masked=False))
    c.read_to_eof()
    c.close()
    # The app refuses the handshake: 403, no close code.
    c = Client(gw)
    assert c.upgrade(gw, "/reject") == 403
    c.read_to_eof()
    c.close()
    lines = [fields(line) for line in wait_for_lines(log, 4)]
    assert [(f["status"], f["close_code"], f["disconnect"]) for f in lines] == [
        ("101", "4000", "-"),
        ("101", "1006", "client_closed"),
        ("101", "1002", "protocol_error"),
        ("403", "-", "-"),
    ], lines
    assert all(f["scope"] == "websocket" for f in lines)
    assert metric(admin.metrics(), "pagi_disconnects_total", reason="protocol_error") == 1


def test_websocket_json_line(start_gateway, tmp_path):
    gw, admin, log = start(start_gateway, tmp_path, "ws/echo.pl", fmt="json")
    c = Client(gw)
    c.upgrade(gw, "/?q=1")
    c.send(frame(0x1, b"close"))
    c.read_until(b"bye")
    c.send(frame(0x8, struct.pack("!H", 4000)))
    c.read_to_eof()
    c.close()
    (line,) = wait_for_lines(log, 1)
    rec = json.loads(line)
    assert rec["scope"] == "websocket" and rec["transport"] == "websocket" and rec["status"] == 101
    assert rec["close_code"] == 4000 and rec["disconnect"] is None
    assert rec["path"] == "/" and rec["query"] == "q=1"
    assert rec["bytes_in"] == c.sent and rec["bytes_out"] == len(c.received)
    assert rec["worker_pid"] == worker_pid(admin) and rec["pool"] == "app"


def test_sse_session_logged_at_its_end(start_gateway, tmp_path):
    gw, admin, log = start(start_gateway, tmp_path, "ws/broadcaster.pl")
    c = Client(gw)
    c.send(b"GET /events?n=3 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n")
    c.read_to_eof()
    c.close()
    assert b"id: 3" in c.received
    (line,) = wait_for_lines(log, 1)
    f = fields(line)
    assert (f["method"], f["path"], f["status"], f["scope"], f["close_code"], f["disconnect"]) == \
        ("GET", "/events", "200", "sse", "-", "-"), f
    assert int(f["bytes_in"]) == c.sent and int(f["bytes_out"]) == len(c.received), (f, c.sent, len(c.received))
    assert int(f["pid"]) == worker_pid(admin)
    m = admin.metrics()
    assert metric(m, "pagi_sessions_total", type="sse") == 1
    assert metric(m, "pagi_sessions_open", type="sse") == 0


def test_sse_client_gone_mid_stream(start_gateway, tmp_path):
    gw, admin, log = start(start_gateway, tmp_path, "ws/broadcaster.pl")
    c = Client(gw)
    c.send(b"GET /events?n=100000 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    c.read_until(b"id: 1\n")
    wait_until(lambda: metric(admin.metrics(), "pagi_sessions_open", type="sse") == 1, "the sse session open")
    c.close()
    (line,) = wait_for_lines(log, 1)
    f = fields(line)
    assert (f["status"], f["scope"]) == ("200", "sse"), f
    assert f["disconnect"] in ("client_closed", "write_error", "read_error"), f
    assert int(f["bytes_out"]) >= len(c.received)
    wait_until(lambda: metric(admin.metrics(), "pagi_sessions_open", type="sse") == 0, "the sse session closed")


def test_worker_crash_counts_a_restart_by_reason(start_gateway, tmp_path):
    gw, admin, _ = start(start_gateway, tmp_path, "ops_app.pl")
    before = admin.metrics()
    assert metric(before, "pagi_worker_restarts_total", pool="app", reason="crash") == 0
    first = worker_pid(admin)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: worker_pid(admin) not in (None, first), "a replacement worker")
    after = admin.metrics()
    assert metric(after, "pagi_worker_restarts_total", pool="app", reason="crash") == 1
    assert metric(after, "pagi_worker_restarts_total", pool="app", reason="heartbeat") == 0


def test_recycles_by_reason_max_requests(start_gateway, tmp_path):
    gw, admin, _ = start(start_gateway, tmp_path, "ops_app.pl", pool={"max_requests": 3})
    assert metric(admin.metrics(), "pagi_worker_recycles_total", pool="app", reason="max_requests") == 0
    for _ in range(3):
        assert get(gw, "/")[0] == 200
    wait_until(lambda: metric(admin.metrics(), "pagi_worker_recycles_total", pool="app",
                              reason="max_requests") == 1, "a max_requests recycle counted")
    assert metric(admin.metrics(), "pagi_worker_recycles_total", pool="app", reason="reload") == 0


def test_queue_overflow_and_wait(start_gateway, tmp_path):
    """One worker taking one scope at a time, a queue of one: a gated request
    holds the worker, the next waits, the third overflows (503)."""
    gw, admin, _ = start(start_gateway, tmp_path, "ops_app.pl", pool={"concurrency": 1, "queue_size": 1})
    before = admin.metrics()
    results = {}

    def fetch(name, path):
        results[name] = get(gw, path)

    held = threading.Thread(target=fetch, args=("held", "/gate/open"))
    held.start()
    wait_until(lambda: metric(admin.metrics(), "pagi_scopes_in_flight", pool="app") == 1, "the gated request")
    queued = threading.Thread(target=fetch, args=("queued", "/"))
    queued.start()
    wait_until(lambda: metric(admin.metrics(), "pagi_queue_depth", pool="app") == 1, "a queued request")
    status, headers, _ = get(gw, "/")
    assert status == 503 and "retry-after" in headers
    (tmp_path / "open").write_text("")
    held.join(EVENT_TIMEOUT)
    queued.join(EVENT_TIMEOUT)
    assert results["held"][0] == 200 and results["queued"][0] == 200
    after = admin.metrics()
    assert metric(after, "pagi_queue_overflows_total", pool="app") - \
        metric(before, "pagi_queue_overflows_total", pool="app") == 1
    waits = metric(after, "pagi_queue_wait_seconds_count", pool="app") - \
        metric(before, "pagi_queue_wait_seconds_count", pool="app")
    assert waits == 2  # the held one (no wait) and the queued one
    assert metric(after, "pagi_queue_wait_seconds_sum", pool="app") > 0  # the queued one waited
    assert after[("__types__", frozenset())]["pagi_queue_wait_seconds"] == "histogram"


def test_heartbeat_misses_counted(start_gateway, tmp_path):
    gw, admin, _ = start(start_gateway, tmp_path, "supervise.pl", pool={
        "heartbeat_interval": 0.2, "heartbeat_misses": 3, "request_timeout": 60})
    first = worker_pid(admin)
    t = threading.Thread(target=lambda: get(gw, "/busy"))
    t.start()
    gw.wait_for("missed")
    t.join(EVENT_TIMEOUT)
    wait_until(lambda: metric(admin.metrics(), "pagi_worker_restarts_total", pool="app", reason="heartbeat") == 1,
               "a heartbeat restart counted")
    m = admin.metrics()
    assert metric(m, "pagi_worker_heartbeat_misses_total", pool="app") >= 3
    assert metric(m, "pagi_worker_restarts_total", pool="app", reason="crash") == 0
    wait_until(lambda: worker_pid(admin) not in (None, first), "a replacement worker")
