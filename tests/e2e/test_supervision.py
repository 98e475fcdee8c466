"""Worker supervision: a worker killed under load is replaced while other
requests succeed; lifespan startup failure aborts startup; an app without
lifespan still serves; workers die with the gateway."""
import os
import signal
import threading

from conftest import child_pids
from httpraw import Conn, get, request, wait_until

APP = "app.pl"


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].startswith("Z")
    except (FileNotFoundError, ProcessLookupError):
        return True


def serving_pids(gw, channel, names):
    """Pids of the workers answering len(names) held requests at once (with
    concurrency 1 each runs on a different worker)."""
    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(get(gw, f"/hold?name={n}")))
               for n in names]
    for t in threads:
        t.start()
    pids = {int(channel.wait_for(f"hold {n} started").split()[-1]) for n in names}
    for n in names:
        channel.open_gate(f"release-{n}")
    for t in threads:
        t.join(timeout=30)
    assert [r.status for r in results] == [200] * len(names), results
    return pids


def test_killed_worker_replaced_under_load(start_gateway, channel):
    gw = start_gateway(APP, pool={"workers": 2, "concurrency": 1, "env": channel.env})
    before = wait_until(lambda: child_pids(gw.proc.pid) if len(child_pids(gw.proc.pid)) == 2 else None,
                        "two workers")
    assert serving_pids(gw, channel, ["w1", "w2"]) == before
    victim = min(before)

    statuses, errors, done = [], [], []
    lock = threading.Lock()

    def client(n):
        for _ in range(n):
            try:
                with Conn.to(gw) as c:
                    c.send(request("GET", "/hello"))
                    r = c.read_response()
                with lock:
                    statuses.append(r.status)
            except Exception as e:      # any transport failure is a test failure
                with lock:
                    errors.append(repr(e))
            done.append(1)

    threads = [threading.Thread(target=client, args=(60,)) for _ in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(done) >= 40, "some requests served before the kill")
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(statuses) == 240
    assert set(statuses) <= {200, 502}, sorted(set(statuses))
    # With concurrency 1, at most the one request on the victim was in flight.
    assert statuses.count(502) <= 1, statuses.count(502)

    after = wait_until(lambda: (lambda k: k if len(k) == 2 and victim not in k else None)(
        child_pids(gw.proc.pid)), "a replacement worker")
    assert victim not in after and len(after - before) == 1
    assert gone(victim)
    assert serving_pids(gw, channel, ["n1", "n2"]) == after


def test_lifespan_startup_failure_aborts_startup(start_gateway):
    gw = start_gateway("lifespan_fail.pl", ready=False)
    rc = gw.wait_exit()
    gw._reader.join(timeout=5)
    out = gw.output()
    assert rc != 0, out
    assert "e2e: database unreachable at startup" in out, out
    assert "listening on" not in out, out


def test_app_declining_lifespan_still_serves(start_gateway):
    gw = start_gateway("no_lifespan.pl")
    r = get(gw, "/")
    assert r.status == 200 and r.body == b"no lifespan, still serving"


def test_lifespan_off_skips_startup(start_gateway, channel):
    gw = start_gateway(APP, pool={"lifespan": "off", "env": channel.env})
    assert get(gw, "/hello").status == 200
    assert not any(line.startswith("lifespan startup") for line in channel.lines())


def test_every_worker_ran_lifespan_before_listening(start_gateway, channel):
    start_gateway(APP, pool={"workers": 3, "env": channel.env})
    # "listening on" was printed, so all three startups must already be done.
    started = [l for l in channel.lines() if l.startswith("lifespan startup")]
    assert len(started) == 3, started


def test_workers_die_with_the_gateway(start_gateway):
    gw = start_gateway(APP, pool={"workers": 2})
    workers = wait_until(lambda: (lambda k: k if len(k) == 2 else None)(child_pids(gw.proc.pid)),
                         "two workers")
    gw.proc.kill()
    gw.proc.wait(timeout=30)
    wait_until(lambda: all(gone(p) for p in workers), f"workers {workers} to exit")


def test_worker_killed_mid_stream_aborts_the_client(start_gateway, channel):
    gw = start_gateway(APP, pool={"workers": 2, "env": channel.env})
    with Conn.to(gw) as c:
        c.send(request("GET", "/disconnect"))
        assert c.read_line().startswith(b"HTTP/1.1 200")
        pid = int(channel.wait_for("disconnect streaming").split()[-1])
        os.kill(pid, signal.SIGKILL)
        try:
            rest = c.read_to_close()
        except ConnectionResetError:
            rest = b""
    # The response had started: no 502 can follow, and the chunked body must
    # not look complete.
    assert b"HTTP/1.1 502" not in rest
    assert not (c.buf + rest).endswith(b"0\r\n\r\n"), "a killed stream was terminated as if complete"
    assert get(gw, "/hello").status == 200
