"""Access log lines for HTTP/2 streams, through the same observer path as
HTTP/1: one JSON line per stream (app responses, gateway-generated ones,
reset streams, SSE streams and WebSockets over Extended CONNECT)."""
import json
import os

from conftest import APPS
from h2client import H2Client, WsOverH2, ws_close
from ops_support import ops_config, wait_for_lines


def logged_config(tmp_path, app, http=None):
    log = tmp_path / "access.log"
    lines = ["listen:", "  - \"127.0.0.1:0\"", "access_log:", "  format: json", f"  path: \"{log}\"",
             "  flush_interval: 10ms"]
    if http:
        lines += ["http:"] + [f"  {k}: {v}" for k, v in http.items()]
    lines += ["pools:", "  app:", f"    app: {os.path.join(APPS, app)}", "    workers: 1"]
    path = tmp_path / "gateway.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path), str(log)


def records(log, n):
    return [json.loads(line) for line in wait_for_lines(log, n)]


def test_streams_and_gateway_responses(start_gateway, tmp_path):
    log = tmp_path / "access.log"
    cfg = ops_config(tmp_path, access_log={"format": "json", "path": str(log), "flush_interval": "10ms"},
                     http={"max_header_bytes": 4096})
    gw = start_gateway(config=cfg)
    with H2Client(gw.port) as c:
        a = c.request("/pid?v=1", headers=[("x-request-id", "h2-req-1"), ("user-agent", "h2-test/1.0")])
        pid = c.response(a).data
        b = c.request("/pid?v=2", headers=[("x-big", "v" * 5000)])  # over max_header_bytes: 431
        c.response(b)
        assert c.status(b) == 431
    first, second = sorted(records(str(log), 2), key=lambda r: r["status"])
    assert first["protocol"] == "HTTP/2.0" and first["transport"] == "http2"
    assert first["method"] == "GET" and first["path"] == "/pid" and first["query"] == "v=1"
    assert first["status"] == 200 and first["gateway_response"] is False
    assert first["pool"] == "app" and first["worker_pid"] == int(pid)
    assert first["body_bytes"] == len(pid) and first["request_id"] == "h2-req-1"
    assert first["user_agent"] == "h2-test/1.0" and first["disconnect"] is None
    assert first["client"] == "127.0.0.1" and first["client_port"] > 0
    assert second["status"] == 431 and second["gateway_response"] is True and second["transport"] == "http2"
    assert second["worker_pid"] is None


def test_reset_sse_and_websocket_streams(start_gateway, tmp_path):
    cfg, log = logged_config(tmp_path, "ws/broadcaster.pl")
    gw = start_gateway(config=cfg)
    with H2Client(gw.port) as c:
        sse = c.request("/events?n=2", headers=[("accept", "text/event-stream")])
        c.response(sse)
        forever = c.request("/forever", headers=[("accept", "text/event-stream")])
        c.wait(lambda: b"data: hello" in c.streams[forever].data, "the first event")
        c.reset(forever)
        gw.wait_for("broadcaster: sse.disconnect client_closed")
        ws = WsOverH2(c, "/chat")
        assert ws.wait_head() == 200
        c.send_data(ws.sid, ws_close(1000), end_stream=True)
        c.response(ws.sid)
    recs = {r["path"]: r for r in records(log, 3)}
    assert recs["/events"]["scope"] == "sse" and recs["/events"]["status"] == 200
    assert recs["/events"]["disconnect"] is None and recs["/events"]["transport"] == "http2"
    assert recs["/forever"]["scope"] == "sse" and recs["/forever"]["disconnect"] == "client_closed"
    assert recs["/chat"]["scope"] == "websocket" and recs["/chat"]["status"] == 200
    assert recs["/chat"]["protocol"] == "HTTP/2.0" and recs["/chat"]["bytes_in"] > 0
