"""Attach mode: workers started as separate processes (not by the gateway)
connect to a pool's socket and serve; an attach pool without workers answers
503 + Retry-After and the gateway keeps running; the workers reconnect after
the gateway restarts; a worker naming another pool is refused; recycling asks
an attached worker to exit on its own (never a signal)."""
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from conftest import APPS, ROOT, Gateway
from httpraw import get, wait_until

PYTHON = "/usr/bin/python3"


def worker_argv(lang, sock, pool):
    if lang == "perl":
        sdk = os.path.join(ROOT, "sdk", "perl")
        return ["perl", "-I" + os.path.join(sdk, "lib"), os.path.join(sdk, "bin", "pagi-worker-perl"),
                "--connect", sock, "--pool", pool, os.path.join(APPS, "app.pl")]
    sdk = os.path.join(ROOT, "sdk", "python")
    return [PYTHON, os.path.join(sdk, "bin", "pagi-worker-python"), "--connect", sock, "--pool", pool,
            "--app-dir", os.path.join(APPS, "python"), "raw_asgi:app"]


@pytest.fixture
def sockdir():
    # Short: a Unix socket path has at most 107 bytes.
    d = tempfile.mkdtemp(prefix="pgw-attach-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def processes():
    started = []

    def start(argv, log_path):
        env = {k: v for k, v in os.environ.items() if k != "PAGI_WORKER_FD"}
        with open(log_path, "ab") as log:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()


def write_config(d, pool_extra=""):
    path = os.path.join(d, "gateway.yaml")
    with open(path, "w") as f:
        f.write(f"""listen: "127.0.0.1:0"
log_level: info
pools:
  app:
    attach: {d}/app.sock
    attach_mode: "0600"
    heartbeat_interval: 0.5
{pool_extra}""")
    return path


def start_gateway(d, config):
    return Gateway(["--config", config], cwd=d).wait_ready()


def served_by(gw, pid):
    r = get(gw, "/pid")
    return r.status == 200 and r.body.decode().strip() == str(pid)


@pytest.mark.parametrize("lang", ["perl", "python"])
def test_attached_workers_serve_and_come_back_after_a_gateway_restart(lang, sockdir, processes):
    config = write_config(sockdir)
    gw = start_gateway(sockdir, config)
    try:
        # No worker yet: not an exit, a 503 the client may retry.
        r = get(gw, "/hello")
        assert r.status == 503 and r.header("retry-after") == "1"
        sock = os.path.join(sockdir, "app.sock")
        assert oct(os.stat(sock).st_mode & 0o777) == "0o600"

        workers = [processes(worker_argv(lang, sock, "app"), os.path.join(sockdir, f"w{i}.log")) for i in range(2)]
        for _ in workers:
            gw.wait_for("connected (pid ")
        pids = {w.pid for w in workers}
        seen = set()
        wait_until(lambda: seen.add(int(get(gw, "/pid").body)) or seen == pids, lambda: f"both workers serving, saw {seen}")

        gw.stop()
        assert gw.proc.returncode == 0
        # The gateway released them: they outlive it, waiting to reconnect.
        assert all(w.poll() is None for w in workers)
        assert not os.path.exists(sock)

        gw = start_gateway(sockdir, config)
        for _ in workers:
            gw.wait_for("connected (pid ")
        seen.clear()
        wait_until(lambda: seen.add(int(get(gw, "/pid").body)) or seen == pids, lambda: f"both workers back, saw {seen}")
        assert all(w.poll() is None for w in workers)
    finally:
        gw.stop()


def test_worker_naming_another_pool_is_refused(sockdir, processes):
    config = write_config(sockdir)
    gw = start_gateway(sockdir, config)
    try:
        sock = os.path.join(sockdir, "app.sock")
        processes(worker_argv("python", sock, "billing"), os.path.join(sockdir, "wrong.log"))
        gw.wait_for("hello names pool 'billing' but this socket serves pool 'app'")
        assert get(gw, "/hello").status == 503
        # Garbage instead of a hello costs only that connection.

        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock)
            s.sendall(b"\xff" * 64)
            gw.wait_for("while handshaking")
        good = processes(worker_argv("perl", sock, "app"), os.path.join(sockdir, "good.log"))
        wait_until(lambda: served_by(gw, good.pid), "the right worker serving")
        assert gw.proc.poll() is None
    finally:
        gw.stop()


def test_recycled_attached_worker_exits_by_itself(sockdir, processes):
    config = write_config(sockdir, "    max_requests: 3\n")
    gw = start_gateway(sockdir, config)
    try:
        sock = os.path.join(sockdir, "app.sock")
        w = processes(worker_argv("perl", sock, "app"), os.path.join(sockdir, "w.log"))
        wait_until(lambda: served_by(gw, w.pid), "the worker serving")
        statuses = [get(gw, "/hello").status for _ in range(2)]
        assert statuses == [200, 200]
        gw.wait_for("asking it to exit after draining")
        # Told `shutdown` after its drain, it exits cleanly: status 0, no signal.
        assert w.wait(timeout=30) == 0
    finally:
        gw.stop()
