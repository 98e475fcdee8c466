"""The admin listener end to end: health endpoints, /metrics scraped and
parsed before and after traffic with counters moving, /status, /readyz
flipping at the start of a graceful shutdown, POST /drain /scale /reload,
and the admin endpoints never answering on the traffic port."""
import json
import os
import signal
import threading

from conftest import EVENT_TIMEOUT
from httpraw import wait_until
from ops_support import Admin, admin_address, get, metric, ops_config


def start_with_admin(start_gateway, tmp_path, admin_listen="127.0.0.1:0", **kw):
    cfg = ops_config(tmp_path, admin={"listen": admin_listen}, **kw)
    gw = start_gateway(config=cfg, ready=False)
    admin = Admin(admin_address(gw))
    gw.wait_ready()
    return gw, admin


def test_health_and_status(start_gateway, tmp_path):
    gw, admin = start_with_admin(start_gateway, tmp_path)
    assert admin.get("/livez")[0] == 200
    status, _, body = admin.get("/readyz")
    assert (status, body) == (200, "ready\n")
    st = admin.status()
    assert st["pid"] == gw.proc.pid and st["ready"] is True
    assert st["listening"] == [gw.url]
    (pool,) = st["pools"]
    assert pool["name"] == "app" and pool["workers_target"] == 2 and pool["workers_ready"] == 2
    assert len(pool["workers"]) == 2
    for w in pool["workers"]:
        assert w["state"] == "ready" and w["pid"] > 0 and w["rss_bytes"] > 0
        assert w["in_flight"] == 0 and w["uptime_seconds"] >= 0
    assert admin.get("/nope")[0] == 404


def test_metrics_move_with_traffic(start_gateway, tmp_path):
    gw, admin = start_with_admin(start_gateway, tmp_path)
    before = admin.metrics()
    assert before[("__types__", frozenset())]["pagi_request_duration_seconds"] == "histogram"
    assert metric(before, "pagi_ready") == 1
    assert metric(before, "pagi_workers", pool="app", state="ready") == 2
    assert metric(before, "pagi_workers_target", pool="app") == 2
    assert metric(before, "process_resident_memory_bytes") > 0
    pids = {w["pid"] for w in admin.status()["pools"][0]["workers"]}
    for pid in pids:
        assert metric(before, "pagi_worker_resident_memory_bytes", pool="app", pid=str(pid)) > 0

    for _ in range(3):
        assert get(gw, "/")[0] == 200
    assert get(gw, "/status/404")[0] == 404
    assert get(gw, "/status/503")[0] == 503
    after = admin.metrics()

    def moved(name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert moved("pagi_requests_total", pool="app", method="GET", status="2xx") == 3
    assert moved("pagi_requests_total", pool="app", method="GET", status="4xx") == 1
    assert moved("pagi_requests_total", pool="app", method="GET", status="5xx") == 1
    assert moved("pagi_request_duration_seconds_count", pool="app") == 5
    assert moved("pagi_request_duration_seconds_bucket", pool="app", le="+Inf") == 5
    assert moved("pagi_upstream_duration_seconds_count", pool="app") == 5
    assert moved("pagi_connections_total", protocol="http1") == 5
    assert metric(after, "pagi_connections_open", protocol="http1") == 0
    assert moved("pagi_sent_bytes_total", protocol="http1") > 0
    assert moved("pagi_received_bytes_total", protocol="http1") > 0
    assert moved("pagi_gateway_responses_total", status="503") == 0  # the app's 503, not ours
    served = sum(metric(after, "pagi_worker_scopes_served_total", pool="app", pid=str(p)) for p in pids)
    assert served >= 5
    assert metric(after, "process_cpu_seconds_total") >= metric(before, "process_cpu_seconds_total")


def test_in_flight_scope_is_visible(start_gateway, tmp_path):
    gw, admin = start_with_admin(start_gateway, tmp_path)
    result = {}
    t = threading.Thread(target=lambda: result.update(r=get(gw, "/gate/inflight")))
    t.start()
    try:
        wait_until(lambda: metric(admin.metrics(), "pagi_scopes_in_flight", pool="app") == 1, "one scope in flight")
        assert sum(w["in_flight"] for w in admin.status()["pools"][0]["workers"]) == 1
    finally:
        open(os.path.join(tmp_path, "inflight"), "w").close()
        t.join(EVENT_TIMEOUT)
    assert result["r"][0] == 200


def test_readyz_flips_at_the_start_of_graceful_shutdown(start_gateway, tmp_path):
    gw, admin = start_with_admin(start_gateway, tmp_path, http={"shutdown_timeout": 30})
    result = {}
    t = threading.Thread(target=lambda: result.update(r=get(gw, "/gate/hold")))
    t.start()
    wait_until(lambda: metric(admin.metrics(), "pagi_scopes_in_flight", pool="app") == 1, "one scope in flight")
    assert admin.get("/readyz")[0] == 200
    gw.signal(signal.SIGTERM)
    gw.wait_for("shutting down gracefully")
    status, _, body = admin.get("/readyz")
    assert status == 503 and "shutting down" in body
    assert admin.get("/livez")[0] == 200  # alive while draining
    assert admin.status()["ready"] is False
    open(os.path.join(tmp_path, "hold"), "w").close()
    t.join(EVENT_TIMEOUT)
    assert result["r"][0] == 200  # the in-flight request finished
    assert gw.wait_exit() == 0


def test_drain_scale_and_reload(start_gateway, tmp_path):
    gw, admin = start_with_admin(start_gateway, tmp_path)
    status, _, body = admin.post("/scale?pool=app&workers=3")
    assert status == 200, body
    gw.wait_for("scaled to 3")
    wait_until(lambda: admin.status()["pools"][0]["workers_ready"] == 3, "3 ready workers")
    assert metric(admin.metrics(), "pagi_workers_target", pool="app") == 3
    status, _, body = admin.post("/scale?pool=app&workers=1")
    assert status == 200
    wait_until(lambda: admin.status()["pools"][0]["workers_target"] == 1, "target 1 worker")
    assert admin.post("/scale?pool=nope&workers=2")[0] == 404
    assert admin.post("/scale?pool=app&workers=zero")[0] == 400
    assert admin.get("/scale?pool=app&workers=2")[0] == 405

    status, _, _ = admin.post("/reload")
    assert status == 202
    gw.wait_for("reloading")

    assert admin.get("/readyz")[0] == 200
    assert admin.post("/drain")[0] == 200
    assert admin.get("/readyz")[0] == 503
    assert get(gw, "/")[0] == 200  # draining only stops being ready; traffic is served


def test_admin_is_off_unless_configured_and_never_on_the_traffic_port(start_gateway, tmp_path):
    gw = start_gateway(config=ops_config(tmp_path))
    assert "admin listening" not in gw.output()
    status, _, body = get(gw, "/metrics")
    assert status == 200 and body == b"ok\n"  # the app answered, not the admin endpoints
    status, _, body = get(gw, "/readyz")
    assert body == b"ok\n"


def test_admin_on_a_unix_socket(start_gateway, tmp_path):
    path = f"/tmp/pagi-adm-{os.getpid()}.sock"
    gw, admin = start_with_admin(start_gateway, tmp_path, admin_listen=f"unix:{path}")
    assert admin.address == f"unix:{path}"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert admin.get("/readyz")[0] == 200
    gw.stop()
    assert not os.path.exists(path)
