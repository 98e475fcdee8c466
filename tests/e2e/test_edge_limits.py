"""Rate limits and maintenance mode, end to end on 127.0.0.1 and ::1."""
import os
import signal

from edgehttp import request, start_edge_gateway


def test_429_after_burst_with_headers(tmp_path):
    edge = """rate_limits:
  per_client: {key: client, rate: 1/m, burst: 3}
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        # Each client (127.0.0.1, then ::1) has its own bucket.
        for family in ("v4", "v6"):
            for _ in range(3):
                assert request(addr[family], "/").status == 200
            r = request(addr[family], "/")
            assert r.status == 429
            assert 1 <= int(r.header("retry-after")) <= 60
            assert r.header("ratelimit-limit") == "3"
            assert r.header("ratelimit-remaining") == "0"
            assert int(r.header("ratelimit-reset")) >= 1
            assert "per_client" in r.header("ratelimit-policy")
    finally:
        gw.stop()


def test_two_limits_are_independent(tmp_path):
    edge = """rate_limits:
  per_client: {key: client, rate: 1/h, burst: 3}
  per_key: {key: "header:X-Api-Key", rate: 1/h, burst: 1, path: /api}
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        a = addr["v4"]
        assert request(a, "/api/x", {"X-Api-Key": "k1"}).status == 200   # client 1/3, k1 1/1
        r = request(a, "/api/x", {"X-Api-Key": "k1"})                    # k1 exhausted
        assert r.status == 429 and "per_key" in r.header("ratelimit-policy")
        # A refused request took no token from per_client.
        assert request(a, "/api/x", {"X-Api-Key": "k2"}).status == 200   # client 2/3
        assert request(a, "/other").status == 200                        # client 3/3; per_key not on this path
        r = request(a, "/api/x", {"X-Api-Key": "k3"})
        assert r.status == 429 and "per_client" in r.header("ratelimit-policy")
        # ::1 is another client; k4 another key.
        assert request(addr["v6"], "/api/x", {"X-Api-Key": "k4"}).status == 200
    finally:
        gw.stop()


def test_maintenance_sigusr2_bypass_accept_and_health(tmp_path):
    edge = """maintenance:
  retry_after: 42
  bypass: ["::1"]
  exempt_paths: [/healthz]
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        assert request(addr["v4"], "/").status == 200
        gw.signal(signal.SIGUSR2)
        gw.wait_for("maintenance mode (SIGUSR2): global on")
        r = request(addr["v4"], "/")
        assert r.status == 503
        assert r.header("retry-after") == "42"
        assert r.header("content-type").startswith("text/html")
        assert b"maintenance" in r.body.lower()
        r = request(addr["v4"], "/", {"Accept": "application/json"})
        assert r.status == 503 and r.header("content-type") == "application/json"
        assert r.json()["error"] == "maintenance"
        assert request(addr["v4"], "/healthz").status == 200   # exempt
        assert request(addr["v6"], "/").status == 200          # bypass
        gw.signal(signal.SIGUSR2)
        gw.wait_for("maintenance mode (SIGUSR2): global off")
        assert request(addr["v4"], "/").status == 200
    finally:
        gw.stop()


def test_maintenance_file_switch(tmp_path):
    flag = tmp_path / "down"
    edge = f"""maintenance:
  file: {flag}
  poll_interval: 50ms
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        assert request(addr["v6"], "/").status == 200
        flag.write_text("")
        gw.wait_for("maintenance mode (file appeared)")
        assert request(addr["v6"], "/").status == 503
        os.unlink(flag)
        gw.wait_for("maintenance mode (file removed)")
        assert request(addr["v6"], "/").status == 200
    finally:
        gw.stop()


def test_maintenance_per_pool(tmp_path):
    edge = """maintenance:
  enabled: true
  pools: [app]
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        assert request(addr["v4"], "/").status == 503
    finally:
        gw.stop()
