"""Harness for end-to-end tests: starts the real build/pagi-gateway with real
Perl workers on 127.0.0.1 (port 0) and waits for events, never for time.

The gateway writes `listening on http://HOST:PORT` (or `listening on
unix:PATH`) to stderr once every worker is ready and the sockets are open;
tests wait for that line.
"""
import os
import queue
import signal
import socket
import subprocess
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GATEWAY = os.environ.get("PAGI_GATEWAY_BIN", os.path.join(ROOT, "build", "pagi-gateway"))
APPS = os.path.join(os.path.dirname(__file__), "apps")
EVENT_TIMEOUT = 30.0  # upper bound when awaiting an event; never a sleep


class Gateway:
    """One running pagi-gateway process and its stderr, line by line."""

    def __init__(self, args, cwd):
        self.args = args
        self.proc = subprocess.Popen(
            [GATEWAY] + args, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        self.log = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.host = None
        self.port = None
        self.unix_path = None

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log.append(line)
            self.lines.put(line)
        self.lines.put(None)  # EOF

    def wait_for(self, needle, timeout=EVENT_TIMEOUT):
        """Returns the first new output line containing `needle`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; output:\n" + self.output())
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"gateway exited before {needle!r}; output:\n" + self.output())
            if needle in line:
                return line

    def wait_ready(self):
        line = self.wait_for("listening on ")
        target = line.split("listening on ", 1)[1].strip()
        if target.startswith("unix:"):
            self.unix_path = target[5:]
        else:
            hostport = target.split("://", 1)[1].rstrip("/")
            host, port = hostport.rsplit(":", 1)
            self.host, self.port = host.strip("[]"), int(port)
        return self

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def connect(self):
        return socket.create_connection((self.host, self.port), timeout=EVENT_TIMEOUT)

    def output(self):
        return "\n".join(self.log)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=EVENT_TIMEOUT):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=EVENT_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)


def write_config(tmp_path, app, pool=None, http=None, listen=None, extra=""):
    """A gateway.yaml for one pool running `app` (a file under tests/e2e/apps
    or an absolute path)."""
    app_path = app if os.path.isabs(app) else os.path.join(APPS, app)
    lines = ["listen:"]
    for addr in listen or ["127.0.0.1:0"]:
        lines.append(f"  - \"{addr}\"")
    lines.append("log_level: info")
    if http:
        lines.append("http:")
        lines += [f"  {k}: {v}" for k, v in http.items()]
    lines += ["pools:", "  app:", f"    app: {app_path}"]
    pool = {"workers": 2, **(pool or {})}
    for k, v in pool.items():
        if isinstance(v, dict):
            lines.append(f"    {k}:")
            lines += [f"      {kk}: \"{vv}\"" for kk, vv in v.items()]
        else:
            lines.append(f"    {k}: {v}")
    text = "\n".join(lines) + "\n" + extra
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture
def start_gateway(tmp_path):
    """start_gateway(app, pool={...}, http={...}, args=[...], ready=True)"""
    started = []

    def start(app=None, pool=None, http=None, listen=None, args=None, ready=True, config=None):
        argv = []
        if config is None and app is not None:
            config = write_config(tmp_path, app, pool=pool, http=http, listen=listen)
        if config is not None:
            argv += ["--config", config]
        argv += args or []
        gw = Gateway(argv, cwd=str(tmp_path))
        started.append(gw)
        return gw.wait_ready() if ready else gw

    yield start
    for gw in started:
        gw.stop()


def raw_request(gw, data, read_until_close=True, timeout=EVENT_TIMEOUT):
    """Sends raw bytes, returns everything the gateway writes until it closes."""
    with gw.connect() as s:
        s.settimeout(timeout)
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
        return b"".join(chunks)


class AppChannel:
    """The out-of-band channel between a test and apps/app.pl: the app appends
    lines to `events`, and waits for gate files the test creates in `dir`."""

    def __init__(self, tmp_path):
        self.dir = str(tmp_path)
        self.events = str(tmp_path / "events.log")
        self.env = {"E2E_EVENTS": self.events, "E2E_DIR": self.dir}

    def open_gate(self, name):
        with open(os.path.join(self.dir, name), "w"):
            pass

    def lines(self):
        from httpraw import read_lines
        return read_lines(self.events)

    def wait_for(self, needle, timeout=EVENT_TIMEOUT):
        from httpraw import wait_for_line
        return wait_for_line(self.events, needle, timeout)


@pytest.fixture
def channel(tmp_path):
    return AppChannel(tmp_path)


def child_pids(pid):
    """Direct children of `pid` (the gateway's workers), from /proc."""
    kids = set()
    task_dir = f"/proc/{pid}/task"
    try:
        tids = os.listdir(task_dir)
    except FileNotFoundError:
        return kids
    for tid in tids:
        try:
            with open(f"{task_dir}/{tid}/children") as f:
                kids.update(int(p) for p in f.read().split())
        except FileNotFoundError:
            pass
    return kids


def status_kib(pid, field):
    """A kB field of /proc/<pid>/status (VmRSS, RssShmem, ...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for pid {pid}")


def vm_rss_kib(pid):
    return status_kib(pid, "VmRSS")
