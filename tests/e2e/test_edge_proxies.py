"""Trusted proxies, Forwarded/X-Forwarded-*, PROXY protocol, access lists:
end to end on 127.0.0.1 and ::1."""
import socket
import struct
import subprocess

from conftest import GATEWAY
from edgehttp import connect, read_reply, request, start_edge_gateway


def test_spoofed_xff_from_untrusted_peer_is_ignored(tmp_path):
    # Only 10.0.0.0/8 is trusted; the test connects from loopback.
    gw, addr = start_edge_gateway(tmp_path, "trusted_proxies: [10.0.0.0/8]\n")
    try:
        for family in ("v4", "v6"):
            r = request(addr[family], "/", {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https",
                                            "Forwarded": "for=7.7.7.7;proto=https"})
            assert r.status == 200
            body = r.json()
            assert body["client"][0] == addr[family][0], body
            assert body["scheme"] == "http"
    finally:
        gw.stop()


def test_trusted_peer_chain_walked_right_to_left(tmp_path):
    gw, addr = start_edge_gateway(tmp_path, 'trusted_proxies: [127.0.0.0/8, "::1", 10.0.0.0/8]\n')
    try:
        r = request(addr["v4"], "/", {"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.1.1.1",
                                      "X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example"})
        body = r.json()
        assert body["client"][0] == "198.51.100.7"
        assert body["scheme"] == "https"
        assert body["host"] == "shop.example"
        r = request(addr["v6"], "/", {"Forwarded": 'for="[2001:db8::7]:4711";proto=https'})
        body = r.json()
        assert body["client"] == ["2001:db8::7", 4711]
        assert body["scheme"] == "https"
    finally:
        gw.stop()


def test_v6_client_denied_by_v6_rule_v4_allowed(tmp_path):
    edge = """access:
  default: allow
  rules:
    - deny: "::1/128"
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        assert request(addr["v6"], "/").status == 403
        assert request(addr["v4"], "/").status == 200
    finally:
        gw.stop()


def test_v4_rule_matches_a_v4_client_of_a_dual_stack_socket(tmp_path):
    # On [::] a 127.0.0.1 client arrives as ::ffff:127.0.0.1; the v4 rule
    # still matches it, and ::1 is still not in 127.0.0.0/8.
    edge = "access:\n  default: deny\n  rules:\n    - allow: 127.0.0.0/8\n"
    gw, addr = start_edge_gateway(tmp_path, edge, listen=("[::]:0",))
    try:
        port = addr["v6"][1]
        r = request(("127.0.0.1", port), "/")
        assert r.status == 200 and r.json()["client"][0] in ("127.0.0.1", "::ffff:127.0.0.1"), r
        assert request(("::1", port), "/").status == 403
    finally:
        gw.stop()


def test_v4_rule_matches_and_default_deny(tmp_path):
    edge = """access:
  default: deny
  rules:
    - allow: 127.0.0.0/8
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        assert request(addr["v4"], "/").status == 200
        assert request(addr["v6"], "/").status == 403  # ::1 is not in 127.0.0.0/8
    finally:
        gw.stop()


def test_per_listener_rules_and_close_action(tmp_path):
    edge = """listeners:
  "[::1]:0":
    access:
      default: deny
      action: close
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        assert request(addr["v4"], "/").status == 200
        assert request(addr["v6"], "/") is None  # closed without a response
    finally:
        gw.stop()


def test_per_route_rules(tmp_path):
    edge = """routes:
  /: app
  /admin: app
route_access:
  /admin:
    default: deny
    rules:
      - allow: "::1"
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        assert request(addr["v4"], "/admin/x").status == 403
        assert request(addr["v6"], "/admin/x").status == 200
        assert request(addr["v4"], "/other").status == 200
    finally:
        gw.stop()


def run_check(tmp_path, edge):
    path = tmp_path / "bad.yaml"
    path.write_text("listen: 127.0.0.1:0\npools:\n  app:\n    app: /dev/null.pl\n" + edge)
    return subprocess.run([GATEWAY, "--check-config", "--config", str(path)], capture_output=True, text=True,
                          timeout=30)


def test_malformed_cidr_rejected_at_config_load(tmp_path):
    for edge, line in (("trusted_proxies: [10.0.0.0/33]\n", 5),
                       ("access:\n  rules:\n    - allow: 127.0.0.1\n    - deny: 300.0.0.0/8\n", 8),
                       ("maintenance:\n  bypass: [\"2001:db8::/129\"]\n", 6),
                       ("access:\n  rules:\n    - deny: 10.0.0.1/8\n", 7)):
        r = run_check(tmp_path, edge)
        out = r.stdout + r.stderr
        assert r.returncode != 0, out
        assert f"bad.yaml:{line}:" in out, out


def proxy_v2(src, sport, dst, dport):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    body += b"\x04\x00\x01x"  # a TLV, ignored
    return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def test_proxy_protocol_v1_v2_and_malformed(tmp_path):
    edge = """listeners:
  "127.0.0.1:0":
    proxy_protocol: true
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        r = request(addr["v4"], "/", prefix=b"PROXY TCP4 192.0.2.10 192.0.2.20 40000 443\r\n")
        assert r.json()["client"] == ["192.0.2.10", 40000]
        r = request(addr["v4"], "/", prefix=b"PROXY TCP6 2001:db8::5 2001:db8::6 40001 443\r\n")
        assert r.json()["client"] == ["2001:db8::5", 40001]
        r = request(addr["v4"], "/", prefix=proxy_v2("198.51.100.3", 1234, "198.51.100.4", 80))
        assert r.json()["client"] == ["198.51.100.3", 1234]
        r = request(addr["v4"], "/", prefix=b"PROXY UNKNOWN\r\n")
        assert r.json()["client"][0] == "127.0.0.1"
        # No header, or a broken one: closed without a response.
        assert request(addr["v4"], "/") is None
        assert request(addr["v4"], "/", prefix=b"PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n") is None
        # The ::1 listener does not expect the header.
        assert request(addr["v6"], "/").status == 200
    finally:
        gw.stop()
