"""Helpers for the Python end-to-end tests (test_python_*.py): a gateway
config for a Python app under apps/python, and the same app under a
reference server (uvicorn for ASGI, gunicorn for WSGI), so each test sends
the same requests to both and compares status, headers and body.

Headers that legitimately differ between servers are left out of the
comparison (IGNORED_HEADERS: date, server; and connection against gunicorn,
whose sync workers close every connection); everything else must match, names compared
case-insensitively, values exactly, duplicates kept, order ignored (servers
may place their own headers differently)."""
import os
import queue
import signal
import socket
import subprocess
import threading
import time

from conftest import APPS, EVENT_TIMEOUT
from httpraw import Conn, request

PY = "/usr/bin/python3"
PYAPPS = os.path.join(APPS, "python")

# Both servers' Python processes get the same hash seed, so apps that build
# headers from sets (Starlette's Allow) produce them in the same order.
HASH_SEED = {"PYTHONHASHSEED": "0"}

# date: the clock; server: the product name.
IGNORED_HEADERS = {"date", "server"}
# gunicorn's sync workers never keep a connection alive, so they add
# `connection: close` to every response; pagi-gateway keeps HTTP/1.1 alive.
GUNICORN_IGNORED_HEADERS = IGNORED_HEADERS | {"connection"}


def python_config(tmp_path, app, interface="auto", pool=None, http=None, app_dir=PYAPPS, name="gateway.yaml",
                  log_level="info"):
    """A gateway.yaml running the Python `app` (module:attribute under
    apps/python, or path.py:attribute) with /usr/bin/python3."""
    lines = ["listen: [\"127.0.0.1:0\"]", f"log_level: {log_level}"]
    if http:
        lines.append("http:")
        lines += [f"  {k}: {v}" for k, v in http.items()]
    lines += ["pools:", "  app:", f"    app: \"{app}\"", f"    app_dir: \"{app_dir}\"",
              f"    python: {PY}", f"    interface: {interface}"]
    pool = {"workers": 2, **(pool or {})}
    pool["env"] = {**HASH_SEED, **pool.get("env", {})}
    for k, v in pool.items():
        if isinstance(v, dict):
            lines.append(f"    {k}:")
            lines += [f"      {kk}: \"{vv}\"" for kk, vv in v.items()]
        else:
            lines.append(f"    {k}: {v}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def free_port():
    """A port that was free a moment ago. Only for the reference servers:
    uvicorn 0.17 does not report the port it bound for --port 0."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RefServer:
    """uvicorn (kind 'asgi') or gunicorn (kind 'wsgi') serving `app` from
    apps/python on 127.0.0.1; ready once its startup line was printed."""

    def __init__(self, app, kind="asgi", env=None):
        self.host = "127.0.0.1"
        self.unix_path = None
        self.ignored = IGNORED_HEADERS if kind == "asgi" else GUNICORN_IGNORED_HEADERS
        full_env = {**os.environ, **(env or {}), **HASH_SEED, "PYTHONDONTWRITEBYTECODE": "1"}
        if kind == "asgi":
            self.port = free_port()
            argv = [PY, "-m", "uvicorn", "--app-dir", PYAPPS, "--host", self.host, "--port", str(self.port),
                    "--interface", "asgi3", "--lifespan", "auto", "--no-access-log", app]
            ready = "Uvicorn running on"
        else:
            self.port = None
            argv = [PY, "-m", "gunicorn", "--chdir", PYAPPS, "-b", f"{self.host}:0", "-w", "1", app]
            ready = "Listening at: "
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=full_env)
        self.log = []
        lines = queue.Queue()

        def read():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.log.append(line)
                lines.put(line)
            lines.put(None)
        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise AssertionError("reference server did not start:\n" + "\n".join(self.log))
            if ready in line:
                if self.port is None:
                    self.port = int(line.split(ready, 1)[1].split()[0].rsplit(":", 1)[1])
                return

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=EVENT_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def exchange(server, method, target, headers=None, body=b""):
    """One request on a fresh connection; the parsed response."""
    with Conn.to(server) as c:
        c.send(request(method, target, headers, body))
        return c.read_response(head=(method == "HEAD"))


def comparable(response, ignored=IGNORED_HEADERS):
    headers = sorted((n, v) for n, v in response.headers if n not in ignored)
    return response.status, headers, response.body


def assert_same(gateway, reference, method, target, headers=None, body=b""):
    """Sends the request to both servers; their answers must agree."""
    ours = exchange(gateway, method, target, headers, body)
    theirs = exchange(reference, method, target, headers, body)
    ignored = reference.ignored
    assert comparable(ours, ignored) == comparable(theirs, ignored), (
        f"{method} {target}: pagi-gateway and the reference server differ\n"
        f"  gateway:   {comparable(ours, ignored)!r}\n  reference: {comparable(theirs, ignored)!r}")
    return ours


def case_id(value):
    """Short pytest ids for request parameters (bodies can be large)."""
    if isinstance(value, bytes):
        return f"{len(value)}B"
    if isinstance(value, list):
        return "+".join(name for name, _ in value)[:40]
    if value is None:
        return "-"
    return str(value)[:60]
