"""scope pagi.peer: the TCP peer reaches the app when the gateway replaced
`client` (trusted proxy headers, PROXY protocol), in Perl and Python
workers, over HTTP and WebSocket; absent when client is the peer."""
import json

import pytest

from conftest import Gateway
from edgehttp import At, connect, read_reply, start_edge_gateway
from wsraw import RawWebSocket, frame

TRUSTED = 'trusted_proxies: [127.0.0.0/8, "::1"]\n'
PROXIED = """listeners:
  "127.0.0.1:0":
    proxy_protocol: true
"""


def get(address, headers=None, prefix=b""):
    """(reply JSON, the local port of the connection) of one GET /."""
    host = f"[{address[0]}]" if ":" in address[0] else address[0]
    lines = ["GET / HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with connect(address) as s:
        s.sendall(prefix + ("\r\n".join(lines) + "\r\n\r\n").encode())
        port = s.getsockname()[1]
        reply = read_reply(s)
    assert reply.status == 200, reply
    return reply.json(), port


@pytest.mark.parametrize("python", [False, True], ids=["perl", "python"])
def test_peer_behind_trusted_proxy(tmp_path, python):
    gw, addr = start_edge_gateway(tmp_path, TRUSTED, python=python)
    try:
        for family, loopback in (("v4", "127.0.0.1"), ("v6", "::1")):
            body, port = get(addr[family], {"X-Forwarded-For": "198.51.100.7"})
            assert body["client"] == ["198.51.100.7", 0], body
            assert body["peer"] == [loopback, port], body
            # No forwarding header: client is the peer, and pagi.peer is absent.
            body, port = get(addr[family])
            assert body["client"] == [loopback, port], body
            assert body["peer"] is None, body
        # The same on a WebSocket scope.
        with RawWebSocket.connect(At(addr["v4"]), "/ws", [("X-Forwarded-For", "203.0.113.9")]) as ws:
            assert ws.status == 101
            port = ws.sock.getsockname()[1]
            ws.send(frame(0x1, "hi"))
            op, payload = ws.read_frame()
            seen = json.loads(payload)
            assert seen["client"] == ["203.0.113.9", 0] and seen["peer"] == ["127.0.0.1", port], seen
    finally:
        gw.stop()


@pytest.mark.parametrize("python", [False, True], ids=["perl", "python"])
def test_peer_with_proxy_protocol(tmp_path, python):
    # PROXY header on the v4 listener; 192.0.2.0/24 (the header's source)
    # is a trusted proxy too, so X-Forwarded-For is read after it.
    gw, addr = start_edge_gateway(tmp_path, PROXIED + "trusted_proxies: [192.0.2.0/24]\n", python=python)
    try:
        body, port = get(addr["v4"], prefix=b"PROXY TCP4 192.0.2.10 192.0.2.20 40000 443\r\n")
        assert body["client"] == ["192.0.2.10", 40000], body
        assert body["peer"] == ["127.0.0.1", port], body
        # Both: the client from the header chain, the peer still the socket's.
        body, port = get(addr["v4"], {"X-Forwarded-For": "198.51.100.8"},
                         prefix=b"PROXY TCP4 192.0.2.10 192.0.2.20 40000 443\r\n")
        assert body["client"] == ["198.51.100.8", 0], body
        assert body["peer"] == ["127.0.0.1", port], body
        # PROXY UNKNOWN names no source: client stays the peer.
        body, port = get(addr["v4"], prefix=b"PROXY UNKNOWN\r\n")
        assert body["client"] == ["127.0.0.1", port] and body["peer"] is None, body
    finally:
        gw.stop()


PEER_PSGI = r"""
use strict; use warnings;
use JSON::PP ();
sub {
    my ($env) = @_;
    my $body = JSON::PP::encode_json({client => $env->{REMOTE_ADDR}, peer => $env->{'pagi.peer'}});
    [200, ['Content-Type' => 'application/json', 'Content-Length' => length $body], [$body]];
};
"""

PEER_WSGI = """
import json
def app(environ, start_response):
    peer = environ.get('pagi.peer')
    body = json.dumps({'client': environ.get('REMOTE_ADDR'), 'peer': list(peer) if peer else None}).encode()
    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]
"""


@pytest.mark.parametrize("kind", ["psgi", "wsgi"])
def test_peer_in_psgi_env_and_wsgi_environ(tmp_path, kind):
    if kind == "psgi":
        (tmp_path / "peer.psgi").write_text(PEER_PSGI)
        pool = [f'    app: "{tmp_path / "peer.psgi"}"']
    else:
        (tmp_path / "peer_wsgi.py").write_text(PEER_WSGI)
        pool = ["    app: peer_wsgi:app", f'    app_dir: "{tmp_path}"', "    python: /usr/bin/python3",
                "    interface: wsgi"]
    config = tmp_path / "gateway.yaml"
    config.write_text("\n".join(['listen: ["127.0.0.1:0"]', "pools:", "  app:", *pool, "    workers: 1",
                                 TRUSTED]))
    gw = Gateway(["--config", str(config)], cwd=str(tmp_path)).wait_ready()
    try:
        body, port = get((gw.host, gw.port), {"X-Forwarded-For": "198.51.100.7"})
        assert body["client"] == "198.51.100.7", body
        assert body["peer"] == ["127.0.0.1", port], body
        body, port = get((gw.host, gw.port))
        assert body == {"client": "127.0.0.1", "peer": None}, body
    finally:
        gw.stop()
