"""Supervision under load: max_requests recycling and SIGHUP reload lose no
request; request_timeout answers 504 and replaces a stuck worker; a worker
whose event loop is blocked is found by heartbeat and replaced; a leaking
worker is recycled at max_rss; SIGTTIN/SIGTTOU resize the pool; routes send
requests to the right pool with params and root_path."""
import json
import os
import signal
import threading
import time

from conftest import APPS, child_pids
from httpraw import Conn, get, request, wait_until

APP = os.path.join(APPS, "supervise.pl")


def config(tmp_path, pools, routes=None, http=None, name="gateway.yaml"):
    """pools: {name: {key: value}} (env as a dict)."""
    lines = ['listen: "127.0.0.1:0"', "log_level: info"]
    if http:
        lines.append("http:")
        lines += [f"  {k}: {v}" for k, v in http.items()]
    lines.append("pools:")
    for pool, keys in pools.items():
        lines.append(f"  {pool}:")
        keys = {"app": APP, **keys}
        for k, v in keys.items():
            if isinstance(v, dict):
                lines.append(f"    {k}:")
                lines += [f'      {kk}: "{vv}"' for kk, vv in v.items()]
            else:
                lines.append(f"    {k}: {v}")
    if routes:
        lines.append("routes:")
        lines += [f'  "{prefix}": {pool}' for prefix, pool in routes.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class Load:
    """`clients` keep-alive clients sending GETs until stopped (or `total`
    requests each); every status and transport error is kept."""

    def __init__(self, gw, clients=4, total=None, target="/sleep"):
        self.gw, self.total, self.target = gw, total, target
        self.statuses, self.errors, self.pids = [], [], set()
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self._run) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _run(self):
        n = 0
        conn = None
        while not self.stop_flag.is_set() and (self.total is None or n < self.total):
            n += 1
            try:
                if conn is None:
                    conn = Conn.to(self.gw)
                conn.send(request("GET", self.target))
                r = conn.read_response()
                with self.lock:
                    self.statuses.append(r.status)
                    if r.status == 200:
                        self.pids.add(json.loads(r.body)["pid"])
                if (r.header("connection") or "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # any transport failure is a failed request
                with self.lock:
                    self.errors.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def count(self):
        with self.lock:
            return len(self.statuses) + len(self.errors)

    def finish(self):
        if self.total is None:
            self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=60)
        return self


def pid_of(gw, target="/pid"):
    r = get(gw, target)
    assert r.status == 200, r
    return json.loads(r.body)["pid"]


def test_max_requests_recycling_loses_nothing(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, {"app": {"workers": 2, "max_requests": 50, "drain_timeout": 10}}))
    load = Load(gw, clients=4, total=100, target="/sleep").finish()
    assert not load.errors, load.errors[:5]
    assert load.statuses == [200] * 400, sorted(set(load.statuses))
    # A retiring worker serves on until its replacement is ready, so it may
    # pass 50; still, several generations served.
    assert len(load.pids) >= 4, load.pids
    assert "recycling worker" in gw.output()
    wait_until(lambda: len(child_pids(gw.proc.pid)) == 2, "back to two workers")


def test_sighup_reload_loses_nothing(start_gateway, tmp_path):
    path = config(tmp_path, {"app": {"workers": 2, "env": {"E2E_TAG": "v1"}}})
    gw = start_gateway(config=path)
    before = child_pids(gw.proc.pid)
    assert json.loads(get(gw, "/x").body)["tag"] == "v1"
    load = Load(gw, clients=4, target="/sleep")
    wait_until(lambda: load.count() >= 20, "load running")
    config(tmp_path, {"app": {"workers": 2, "env": {"E2E_TAG": "v2"}}})
    gw.signal(signal.SIGHUP)
    gw.wait_for("reload complete")
    wait_until(lambda: load.count() >= 60 + 20, "load after the reload")
    load.finish()
    assert not load.errors, load.errors[:5]
    assert set(load.statuses) == {200}, sorted(set(load.statuses))
    after = wait_until(lambda: (lambda k: k if len(k) == 2 and not (k & before) else None)(child_pids(gw.proc.pid)),
                       "two new workers")
    assert not (after & before)
    assert json.loads(get(gw, "/x").body)["tag"] == "v2"


def test_invalid_config_on_sighup_keeps_the_running_one(start_gateway, tmp_path):
    path = config(tmp_path, {"app": {"workers": 1}})
    gw = start_gateway(config=path)
    before = child_pids(gw.proc.pid)
    with open(path, "a") as f:
        f.write("bogus_key: 1\n")
    gw.signal(signal.SIGHUP)
    gw.wait_for("reload rejected")
    assert get(gw, "/x").status == 200
    assert child_pids(gw.proc.pid) == before


def test_failed_new_generation_keeps_the_old_workers(start_gateway, tmp_path):
    path = config(tmp_path, {"app": {"workers": 2}})
    gw = start_gateway(config=path)
    before = child_pids(gw.proc.pid)
    broken = tmp_path / "broken.pl"
    broken.write_text("die 'broken at load time';\n")
    config(tmp_path, {"app": {"workers": 2, "app": str(broken)}})
    gw.signal(signal.SIGHUP)
    gw.wait_for("kept its old workers")
    assert get(gw, "/x").status == 200
    assert before <= child_pids(gw.proc.pid)


def test_listen_change_needs_a_restart(start_gateway, tmp_path):
    path = config(tmp_path, {"app": {"workers": 1}})
    gw = start_gateway(config=path)
    text = open(path).read().replace('listen: "127.0.0.1:0"', 'listen: "127.0.0.1:1"')
    open(path, "w").write(text)
    gw.signal(signal.SIGHUP)
    gw.wait_for("needs a restart")
    assert get(gw, "/x").status == 200


def test_request_timeout_504_and_stuck_worker_replaced(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, {"app": {"workers": 1, "request_timeout": 0.5, "cancel_grace": 0.5, "drain_timeout": 1}}))
    first = pid_of(gw)
    started = time.monotonic()
    r = get(gw, "/slow")
    elapsed = time.monotonic() - started
    assert r.status == 504, r
    assert 0.4 <= elapsed < 5, elapsed
    gw.wait_for("is stuck")
    wait_until(lambda: first not in child_pids(gw.proc.pid), "the stuck worker gone")
    assert pid_of(gw) != first


def test_busy_loop_found_by_heartbeat(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, {"app": {
        "workers": 1, "heartbeat_interval": 0.2, "heartbeat_misses": 3, "request_timeout": 60}}))
    first = pid_of(gw)
    result = []
    t = threading.Thread(target=lambda: result.append(get(gw, "/busy")))
    t.start()
    line = gw.wait_for("missed")
    assert f"pid={first}" in line and "held 1 scope" in line, line
    t.join(timeout=30)
    assert result and result[0].status == 502, result
    wait_until(lambda: (lambda k: k and first not in k)(child_pids(gw.proc.pid)), "a replacement")
    assert pid_of(gw) != first


def test_leaking_worker_recycled_at_max_rss(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, {"app": {
        "workers": 1, "max_rss": "64m", "max_rss_samples": 2, "check_interval": 0.1}}))
    first = pid_of(gw)
    for _ in range(8):
        assert get(gw, "/leak").status == 200
    gw.wait_for("over max_rss")
    wait_until(lambda: (lambda k: len(k) == 1 and first not in k)(child_pids(gw.proc.pid)), "the leaker replaced")
    assert pid_of(gw) != first


def test_sigttin_sigttou_resize(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, {"app": {"workers": 1}}))
    wait_until(lambda: len(child_pids(gw.proc.pid)) == 1, "one worker")
    # Signals of one kind do not queue: one at a time, each seen.
    gw.signal(signal.SIGTTIN)
    gw.wait_for("2 workers wanted")
    gw.signal(signal.SIGTTIN)
    gw.wait_for("3 workers wanted")
    wait_until(lambda: len(child_pids(gw.proc.pid)) == 3, "three workers")
    for n in (2, 1, 1):
        gw.signal(signal.SIGTTOU)
        gw.wait_for(f"{n} workers wanted")
    wait_until(lambda: len(child_pids(gw.proc.pid)) == 1, lambda: f"back to one (the floor): {child_pids(gw.proc.pid)}\n{gw.output()}")
    assert get(gw, "/x").status == 200


def test_routes_params_and_root_path(start_gateway, tmp_path):
    gw = start_gateway(config=config(
        tmp_path,
        {"main": {"workers": 1, "env": {"E2E_TAG": "main"}},
         "api": {"workers": 1, "env": {"E2E_TAG": "api"}}},
        routes={"/": "main", "/api/:version": "api", "/api/:version/admin": "main"}))
    cases = {
        "/hello": ("main", "", {}),
        "/api/v2/users/7": ("api", "/api/v2", {"version": "v2"}),
        "/api/v3": ("api", "/api/v3", {"version": "v3"}),
        "/api/v1/admin/x": ("main", "/api/v1/admin", {"version": "v1"}),
        "/apis/v1": ("main", "", {}),
    }
    for path, (tag, root, params) in cases.items():
        info = json.loads(get(gw, path).body)
        assert (info["tag"], info["root_path"], info["params"], info["path"]) == (tag, root, params, path), info
