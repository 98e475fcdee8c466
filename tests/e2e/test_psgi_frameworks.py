"""Real PSGI apps from Debian (Dancer2; a Plack::Builder app with common
Plack::Middleware) served unchanged by pagi-gateway, compared request by
request with the same app under Starman (listening on a Unix socket)."""
import gzip
import os
import shutil
import socket
import subprocess
import threading

import pytest

from conftest import APPS, EVENT_TIMEOUT
from httpraw import Conn, request, wait_until

STARMAN = shutil.which("starman")


class Starman:
    """starman on a Unix socket in tmp_path; ready once it says it bound."""

    def __init__(self, app, tmp_path):
        self.unix_path = str(tmp_path / "starman.sock")
        self.proc = subprocess.Popen(
            [STARMAN, "--listen", self.unix_path, "--workers", "1", app],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.log = []
        bound = threading.Event()

        def read():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                self.log.append(line)
                if "Binding to UNIX socket file" in line:
                    bound.set()
            bound.set()

        threading.Thread(target=read, daemon=True).start()
        assert bound.wait(EVENT_TIMEOUT) and self.proc.poll() is None, "starman did not start:\n" + "".join(self.log)
        # It says "Binding" just before bind+listen: wait until it accepts.
        wait_until(self._accepts, lambda: "starman to listen:\n" + "".join(self.log))

    def _accepts(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.unix_path)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=EVENT_TIMEOUT)


def exchange(server, method, target, headers=(), body=b""):
    with Conn.to(server) as c:
        c.send(request(method, target, list(headers) + [("Connection", "close")], body))
        return c.read_response(head=(method == "HEAD"))


# Headers whose framing may legitimately differ (chunked vs content-length,
# Date, Server) are left out; everything the app or its middleware decides
# is compared.
COMPARED = ("content-type", "location", "content-encoding", "access-control-allow-origin", "vary", "etag",
            "last-modified", "x-custom")


def summary(r):
    body = r.body
    if (r.header("content-encoding") or "") == "gzip":
        body = gzip.decompress(body)
    return r.status, {h: r.header(h) for h in COMPARED if r.header(h) is not None}, body


def compare(gw, starman, requests):
    for method, target, headers, body in requests:
        ours = exchange(gw, method, target, headers, body)
        theirs = exchange(starman, method, target, headers, body)
        assert summary(ours) == summary(theirs), f"{method} {target}: gateway {ours!r} vs starman {theirs!r}"


@pytest.fixture
def starman(tmp_path):
    servers = []

    def start(app):
        s = Starman(app, tmp_path)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


pytestmark = pytest.mark.skipif(STARMAN is None, reason="starman (Debian package starman) is not installed")


def test_dancer2_app_matches_starman(start_gateway, starman):
    app = os.path.join(APPS, "psgi", "dancer", "app.psgi")
    gw = start_gateway(app, pool={"workers": 1})
    st = starman(app)
    form = b"name=Ada+Lovelace&other=1"
    compare(gw, st, [
        ("GET", "/", [], b""),
        ("GET", "/hello/world", [], b""),
        ("GET", "/query?b=2&a=1", [], b""),
        ("POST", "/form", [("Content-Type", "application/x-www-form-urlencoded")], form),
        ("GET", "/json", [], b""),
        ("GET", "/old", [], b""),
        ("GET", "/status", [], b""),
        ("GET", "/headers", [("User-Agent", "e2e-agent"), ("X-Custom", "yes")], b""),
        ("GET", "/no/such/route", [], b""),
        ("HEAD", "/", [], b""),
    ])
    r = exchange(gw, "GET", "/hello/world")
    assert (r.status, r.body) == (200, b"Hello, world!")
    r = exchange(gw, "POST", "/form", [("Content-Type", "application/x-www-form-urlencoded")], form)
    assert r.body == b"name=Ada Lovelace size=%d" % len(form)


def test_plack_builder_middleware_matches_starman(start_gateway, starman):
    app = os.path.join(APPS, "psgi", "builder.psgi")
    gw = start_gateway(app, pool={"workers": 1})
    st = starman(app)
    compare(gw, st, [
        ("GET", "/", [], b""),
        ("GET", "/", [("If-Modified-Since", "Mon, 01 Jan 2024 00:00:00 GMT")], b""),
        ("HEAD", "/", [], b""),
        ("GET", "/api/some/path?q=search", [("Cookie", "c=chocolate")], b""),
        ("POST", "/api/post", [("Content-Type", "text/plain")], b"posted body " * 1000),
        ("GET", "/big", [("Accept-Encoding", "gzip")], b""),
        ("GET", "/big", [], b""),
        ("GET", "/static/hello.txt", [], b""),
        ("GET", "/static/missing.txt", [], b""),
        ("GET", "/", [("Origin", "http://elsewhere.test")], b""),
    ])
    r = exchange(gw, "GET", "/api/x/y?q=1")
    assert b"script_name=/api\npath_info=/x/y\nquery=1" in r.body
    r = exchange(gw, "GET", "/big", [("Accept-Encoding", "gzip")])
    assert r.header("content-encoding") == "gzip"
    r = exchange(gw, "GET", "/", [("If-Modified-Since", "Mon, 01 Jan 2024 00:00:00 GMT")])
    assert r.status == 304
