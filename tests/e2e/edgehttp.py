"""Helpers for the edge policy end-to-end tests (test_edge_*.py): start a
gateway with edge sections on 127.0.0.1 and ::1 at once, and speak raw
HTTP/1.1 to either address."""
import json
import os
import socket

from conftest import APPS, EVENT_TIMEOUT, Gateway

EDGE_APP = os.path.join(APPS, "edge", "edge_app.pl")
EDGE_APP_DIR = os.path.join(APPS, "edge")
PYTHON_POOL = ["    app: edge_app:app", f'    app_dir: "{EDGE_APP_DIR}"', "    python: /usr/bin/python3",
               "    interface: asgi"]


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Reply {self.status} {self.headers} {self.body[:200]!r}>"


def edge_config_text(edge_yaml, listen=("127.0.0.1:0", "[::1]:0"), workers=1, python=False, admin=False):
    lines = ["listen:"] + [f'  - "{a}"' for a in listen]
    if admin:
        lines += ["admin:", '  listen: "127.0.0.1:0"']
    lines += ["log_level: info", "pools:", "  app:"]
    lines += PYTHON_POOL if python else [f"    app: {EDGE_APP}"]
    lines += [f"    workers: {workers}"]
    return "\n".join(lines) + "\n" + edge_yaml


def start_edge_gateway(tmp_path, edge_yaml, listen=("127.0.0.1:0", "[::1]:0"), workers=1, python=False,
                       admin=False):
    """Starts a gateway running the edge app (Perl, or the Python one) with
    `edge_yaml` appended to its config; returns (gateway, {"v4": (host,
    port), "v6": (host, port)}). With `admin`, gw.admin is the admin
    listener's address ("http://127.0.0.1:PORT")."""
    path = tmp_path / "gateway.yaml"
    path.write_text(edge_config_text(edge_yaml, listen, workers, python, admin))
    gw = Gateway(["--config", str(path)], cwd=str(tmp_path))
    gw.config_path = path
    if admin:
        gw.admin = gw.wait_for("admin listening on ").split("admin listening on ", 1)[1].strip()
    addresses = {}
    for _ in listen:
        line = gw.wait_for("listening on ")
        hostport = line.split("listening on ", 1)[1].strip().split("://", 1)[1]
        host, port = hostport.rsplit(":", 1)
        host = host.strip("[]")
        addresses["v6" if ":" in host else "v4"] = (host, int(port))
    gw.host, gw.port = addresses.get("v4", next(iter(addresses.values())))
    return gw, addresses


def connect(address, timeout=EVENT_TIMEOUT):
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def read_reply(s, head_only=False):
    """Reads one response (Content-Length framed, or to EOF)."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""  # closed on us with our request unread: a close all the same
        if not chunk:
            if not data:
                return None  # closed without a response
            raise AssertionError(f"connection closed inside the head: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    if head_only or status in (204, 304):
        return Reply(status, headers, b"")
    if "content-length" in headers:
        want = int(headers["content-length"])
        while len(rest) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return Reply(status, headers, rest[:want])
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Reply(status, headers, rest)


def request(address, path, headers=None, method="GET", prefix=b""):
    """One request on a fresh connection (Connection: close). `prefix` is
    sent first (a PROXY protocol header)."""
    host = f"[{address[0]}]" if ":" in address[0] else address[0]
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{address[1]}", "Connection: close"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    raw = prefix + ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with connect(address) as s:
        s.sendall(raw)
        return read_reply(s, head_only=(method == "HEAD"))


class At:
    """host/port of one address, as wsraw.RawWebSocket.connect wants them."""

    def __init__(self, address):
        self.host, self.port = address


def admin_request(gw, method, target):
    """(status, body bytes) of one admin request."""
    host, port = gw.admin.split("://", 1)[1].rsplit(":", 1)
    reply = request((host, int(port)), target, method=method)
    return reply.status, reply.body
