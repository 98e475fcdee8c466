"""Helpers shared by the operations end-to-end tests (test_ops_*.py): a
config writer with access_log/admin sections, an admin-endpoint client, a
Prometheus text parser and a file watcher that waits for lines (an event,
never a fixed sleep)."""
import json
import os
import re
import socket
import time
import urllib.request

from conftest import APPS, EVENT_TIMEOUT

OPS_APP = os.path.join(APPS, "ops_app.pl")


def ops_config(tmp_path, access_log=None, admin=None, http=None, top=None, workers=2, listen=None):
    """gateway.yaml running apps/ops_app.pl with optional sections."""
    lines = ["listen:"]
    for addr in listen or ["127.0.0.1:0"]:
        lines.append(f"  - \"{addr}\"")
    for k, v in (top or {}).items():
        lines.append(f"{k}: {json.dumps(v)}")
    for name, section in (("access_log", access_log), ("admin", admin), ("http", http)):
        if section:
            lines.append(f"{name}:")
            lines += [f"  {k}: {json.dumps(v)}" for k, v in section.items()]
    lines += ["pools:", "  app:", f"    app: {OPS_APP}", f"    workers: {workers}",
              "    env:", f"      OPS_DIR: \"{tmp_path}\""]
    path = tmp_path / "gateway.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def admin_address(gw):
    line = gw.wait_for("admin listening on ")
    return line.split("admin listening on ", 1)[1].strip()


class Admin:
    """HTTP client for the admin listener (TCP or unix:)."""

    def __init__(self, address):
        self.address = address

    def request(self, method, path):
        if self.address.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(EVENT_TIMEOUT)
            s.connect(self.address[5:])
        else:
            host, port = self.address.split("://", 1)[1].rsplit(":", 1)
            s = socket.create_connection((host.strip("[]"), int(port)), timeout=EVENT_TIMEOUT)
        with s:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            headers[k.decode().strip().lower()] = v.decode().strip()
        return status, headers, body.decode("utf-8", "replace")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path):
        return self.request("POST", path)

    def metrics(self):
        status, headers, body = self.get("/metrics")
        assert status == 200
        assert headers["content-type"].startswith("text/plain; version=0.0.4")
        return parse_metrics(body)

    def status(self):
        status, headers, body = self.get("/status")
        assert status == 200 and headers["content-type"] == "application/json"
        return json.loads(body)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value}; every line must parse."""
    samples = {}
    types = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"unparseable metrics line: {line!r}"
        labels = dict(_LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    samples[("__types__", frozenset())] = types
    return samples


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for_lines(path, count, timeout=EVENT_TIMEOUT):
    """The first `count` complete lines of `path` once they exist."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = b""
        lines = data.split(b"\n")[:-1]
        if len(lines) >= count:
            return lines
        if time.monotonic() > deadline:
            raise AssertionError(f"{path}: {len(lines)} lines, wanted {count}: {data!r}")
        time.sleep(0.01)  # polling a file the gateway's writer thread appends to


def get(gw, path, headers=None):
    """One request on its own connection; returns (status, headers, body)."""
    req = urllib.request.Request(gw.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=EVENT_TIMEOUT) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
