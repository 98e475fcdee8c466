"""Edge rules follow a config reload (SIGHUP): a changed access rule
applies, an invalid config leaves the old rules, maintenance switched at
run time stays."""
import json
import signal

from edgehttp import admin_request, edge_config_text, request, start_edge_gateway

DENY_V6 = 'access:\n  rules:\n    - deny: "::1/128"\n'
DENY_V4 = "access:\n  rules:\n    - deny: 127.0.0.0/8\n"


def test_sighup_swaps_access_rules_and_keeps_them_on_a_bad_config(tmp_path):
    gw, addr = start_edge_gateway(tmp_path, DENY_V6, admin=True)
    try:
        assert request(addr["v6"], "/").status == 403
        assert request(addr["v4"], "/").status == 200
        assert admin_request(gw, "POST", "/maintenance?on=1&pool=app")[0] == 200

        gw.config_path.write_text(edge_config_text(DENY_V4, admin=True))
        gw.signal(signal.SIGHUP)
        gw.wait_for("reload: edge rules replaced")
        assert request(addr["v4"], "/").status == 403
        # The run-time maintenance switch outlived the reload.
        assert request(addr["v6"], "/").status == 503
        assert json.loads(admin_request(gw, "GET", "/maintenance")[1])["pools"] == ["app"]
        admin_request(gw, "POST", "/maintenance?on=0&pool=app")
        assert request(addr["v6"], "/").status == 200

        # A malformed CIDR: the whole config is rejected, the rules stay.
        gw.config_path.write_text(edge_config_text("access:\n  rules:\n    - deny: 300.0.0.0/8\n", admin=True))
        gw.signal(signal.SIGHUP)
        line = gw.wait_for("reload rejected")
        assert "gateway.yaml:" in line
        assert request(addr["v4"], "/").status == 403
        assert request(addr["v6"], "/").status == 200
    finally:
        gw.stop()


def test_sighup_brings_new_rate_limits_and_static_mounts(tmp_path):
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "a.txt").write_text("static a\n")
    gw, addr = start_edge_gateway(tmp_path, "")
    try:
        assert request(addr["v4"], "/assets/a.txt").status == 200   # the app answers (JSON)
        edge = """static:
  /assets: ./public
rate_limits:
  tight: {key: client, rate: 1/h, burst: 1, path: /limited}
"""
        gw.config_path.write_text(edge_config_text(edge))
        gw.signal(signal.SIGHUP)
        gw.wait_for("reload: edge rules replaced")
        r = request(addr["v4"], "/assets/a.txt")
        assert r.status == 200 and r.body == b"static a\n"
        assert request(addr["v4"], "/limited").status == 200
        assert request(addr["v4"], "/limited").status == 429
    finally:
        gw.stop()
