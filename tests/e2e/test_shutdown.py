"""Graceful shutdown: on SIGTERM/SIGINT the gateway stops accepting, lets the
request in flight finish, runs lifespan shutdown in every worker and exits 0."""
import queue
import signal
import socket
import threading

import pytest

from conftest import child_pids
from httpraw import get, wait_until

APP = "app.pl"


def refused(gw):
    """True once a connect to the listener is refused. A probe that races the
    listener's close may be reset instead: the kernel resets the connections
    still in the closing socket's queues, and connect() reports that reset
    when the RST lands before the connecting thread has run again (seen under
    `ctest -j2`). That says nothing yet, so the caller probes again."""
    try:
        socket.create_connection((gw.host, gw.port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_finishes_in_flight_request(start_gateway, channel, sig):
    gw = start_gateway(APP, pool={"workers": 2, "env": channel.env})
    workers = child_pids(gw.proc.pid)
    results = queue.Queue()
    t = threading.Thread(target=lambda: results.put(get(gw, "/hold?name=slow")))
    t.start()
    channel.wait_for("hold slow started")
    gw.signal(sig)
    wait_until(lambda: refused(gw), "the listener to close after the signal")
    assert gw.proc.poll() is None, "gateway exited with a request in flight"
    channel.open_gate("release-slow")
    r = results.get(timeout=30)
    t.join(timeout=30)
    assert r.status == 200 and r.body.startswith(b"held slow")
    assert gw.wait_exit() == 0, gw.output()
    shutdowns = [l for l in channel.lines() if l.startswith("lifespan shutdown")]
    assert sorted(int(l.split()[-1]) for l in shutdowns) == sorted(workers), channel.lines()
    # No lifespan shutdown before the app was answering: the pools stop only
    # once the in-flight exchange has finished, and it cannot finish before
    # the app sends. ("hold slow answered", noted after the last send, holds
    # too today only because the Perl SDK writes its frames on the next loop
    # turn; with a worker that writes at once, the idle worker's lifespan
    # shutdown could be noted first.)
    lines = channel.lines()
    assert lines.index("hold slow answering") < lines.index(shutdowns[0]), lines


def test_app_work_after_its_response_may_finish(start_gateway, channel):
    # The response is out, the app still works (a background task): the
    # scope is in flight until the app returns, so shutdown waits for it
    # (within http.shutdown_timeout) before that worker's lifespan shutdown.
    gw = start_gateway(APP, pool={"workers": 2, "env": channel.env})
    r = get(gw, "/after?name=bg")
    assert r.status == 200
    busy = int(r.body.split()[-1])
    channel.wait_for("after bg answered")
    gw.signal(signal.SIGTERM)
    # The idle worker's shutdown shows the gateway got to stopping its pools.
    channel.wait_for("lifespan shutdown")
    assert gw.proc.poll() is None, "gateway exited while an app still worked"
    assert "after bg finished" not in channel.lines()
    channel.open_gate("finish-bg")
    assert gw.wait_exit() == 0, gw.output()
    lines = channel.lines()
    assert lines.index("after bg finished") < lines.index(f"lifespan shutdown {busy}"), lines


def test_idle_shutdown_is_prompt_and_clean(start_gateway, channel):
    gw = start_gateway(APP, pool={"workers": 2, "env": channel.env})
    assert get(gw, "/hello").status == 200
    gw.signal(signal.SIGTERM)
    assert gw.wait_exit(timeout=15) == 0, gw.output()
    assert len([l for l in channel.lines() if l.startswith("lifespan shutdown")]) == 2


def test_shutdown_timeout_bounds_a_stuck_request(start_gateway, channel):
    gw = start_gateway(APP, http={"shutdown_timeout": 0.5},
                       pool={"workers": 1, "shutdown_timeout": 2, "env": channel.env})
    results = queue.Queue()

    def client():
        try:
            results.put(get(gw, "/hold?name=stuck"))
        except Exception as e:   # the gateway may cut the connection
            results.put(e)
    t = threading.Thread(target=client)
    t.start()
    channel.wait_for("hold stuck started")
    gw.signal(signal.SIGTERM)
    rc = gw.wait_exit(timeout=20)
    outcome = results.get(timeout=30)
    t.join(timeout=30)
    assert rc == 0, gw.output()
    assert not hasattr(outcome, "status") or outcome.status != 200, outcome
