"""Edge policy on WebSocket and SSE handshakes, and maintenance mode
switched through the admin endpoint, end to end on 127.0.0.1 and ::1."""
import json

from edgehttp import At, admin_request, connect, request, start_edge_gateway
from wsraw import RawWebSocket, frame


def ws_echo(ws, text):
    ws.send(frame(0x1, text))
    op, payload = ws.read_frame()
    assert op == 0x1, (op, payload)
    return json.loads(payload)["echo"]


def open_sse(address):
    """A raw SSE request; returns (socket, head text, first event bytes)."""
    host = f"[{address[0]}]" if ":" in address[0] else address[0]
    s = connect(address)
    s.sendall(f"GET /events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    data = b""
    while b"\n\n" not in data.partition(b"\r\n\r\n")[2]:
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return s, head.decode("latin-1"), rest


def sse_ended(s):
    """Reads until the stream's last chunk (or EOF): True when it ended."""
    data = b""
    while b"0\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return True
        data += chunk
    return True


def test_access_deny_gives_403_to_websocket_upgrade(tmp_path):
    gw, addr = start_edge_gateway(tmp_path, 'access:\n  rules:\n    - deny: "::1/128"\n')
    try:
        with RawWebSocket.connect(At(addr["v6"]), "/ws") as ws:
            assert ws.status == 403
        with RawWebSocket.connect(At(addr["v4"]), "/ws") as ws:
            assert ws.status == 101
            assert ws_echo(ws, "allowed") == "allowed"
    finally:
        gw.stop()


def test_websocket_and_sse_handshakes_count_once(tmp_path):
    gw, addr = start_edge_gateway(tmp_path, "rate_limits:\n  per_client: {key: client, rate: 1/h, burst: 3}\n")
    try:
        a = addr["v4"]
        with RawWebSocket.connect(At(a), "/ws") as ws:                     # 1 of 3
            assert ws.status == 101
            for i in range(10):                                            # messages are free
                assert ws_echo(ws, f"m{i}") == f"m{i}"
            s, head, first = open_sse(a)                                   # 2 of 3
            with s:
                assert head.startswith("HTTP/1.1 200") and b"data: " in first
                assert request(a, "/").status == 200                       # 3 of 3
                with RawWebSocket.connect(At(a), "/ws") as refused:
                    assert refused.status == 429
                    assert refused.header("RateLimit-Limit") == "3"
                r = request(a, "/", {"Accept": "text/event-stream"})
                assert r.status == 429 and r.header("retry-after")
            assert ws_echo(ws, "still open") == "still open"
        assert request(addr["v6"], "/").status == 200                      # another client
    finally:
        gw.stop()


def test_maintenance_through_admin_endpoint(tmp_path):
    edge = """maintenance:
  retry_after: 17
  bypass: ["::1"]
  exempt_paths: [/healthz]
"""
    gw, addr = start_edge_gateway(tmp_path, edge, admin=True)
    try:
        status, body = admin_request(gw, "GET", "/maintenance")
        assert status == 200 and json.loads(body) == {"global": False, "file": False, "pools": []}
        assert admin_request(gw, "POST", "/maintenance?on=maybe")[0] == 400
        assert admin_request(gw, "POST", "/maintenance?on=1&pool=nope")[0] == 404
        assert admin_request(gw, "PUT", "/maintenance?on=1")[0] == 405

        status, body = admin_request(gw, "POST", "/maintenance?on=1")
        assert status == 200 and json.loads(body)["global"] is True
        r = request(addr["v4"], "/")
        assert r.status == 503 and r.header("retry-after") == "17"
        assert r.header("content-type").startswith("text/html") and b"maintenance" in r.body.lower()
        r = request(addr["v4"], "/", {"Accept": "application/json"})
        assert r.status == 503 and r.json()["error"] == "maintenance"
        assert request(addr["v4"], "/healthz").status == 200     # exempt path
        assert request(addr["v6"], "/").status == 200            # bypass client
        assert admin_request(gw, "POST", "/maintenance?on=0")[0] == 200
        assert request(addr["v4"], "/").status == 200

        # Per pool.
        status, body = admin_request(gw, "POST", "/maintenance?on=1&pool=app")
        assert status == 200 and json.loads(body)["pools"] == ["app"]
        assert request(addr["v4"], "/").status == 503
        assert json.loads(admin_request(gw, "GET", "/maintenance")[1])["pools"] == ["app"]
        admin_request(gw, "POST", "/maintenance?on=0&pool=app")
        assert request(addr["v4"], "/").status == 200
    finally:
        gw.stop()


def test_maintenance_leaves_open_streams_unless_asked(tmp_path):
    gw, addr = start_edge_gateway(tmp_path, 'maintenance:\n  bypass: ["::1"]\n', admin=True)
    try:
        old = RawWebSocket.connect(At(addr["v4"]), "/ws")
        spared = RawWebSocket.connect(At(addr["v6"]), "/ws")      # a bypass client's
        sse, head, _ = open_sse(addr["v4"])
        assert old.status == 101 and spared.status == 101 and head.startswith("HTTP/1.1 200")
        assert admin_request(gw, "POST", "/maintenance?on=1")[0] == 200
        # New handshakes are refused; the open WebSocket goes on.
        with RawWebSocket.connect(At(addr["v4"]), "/ws") as refused:
            assert refused.status == 503
            assert refused.header("Retry-After") == "60"
        assert ws_echo(old, "after switch") == "after switch"
        # Asked to: the open streams are closed (1001 going away), the
        # bypass client's stays.
        status, body = admin_request(gw, "POST", "/maintenance?on=1&close=1")
        assert status == 200 and json.loads(body)["closed_streams"] == 2, body
        assert old.read_close()[0] == 1001
        assert sse_ended(sse)
        assert ws_echo(spared, "still here") == "still here"
        old.close()
        spared.close()
        sse.close()
    finally:
        gw.stop()
