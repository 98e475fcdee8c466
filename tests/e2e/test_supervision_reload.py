"""Reload beyond the worker replacement itself: an open WebSocket on a
draining worker keeps working until drain_timeout and then gets 1012
(service restart); a SIGHUP that changes queue_size applies it at once;
`--reload` picks up an edited app file with no failed request."""
import os
import signal
import threading
import time

from conftest import APPS, write_config
from httpraw import Conn, get, request, wait_until
from wsraw import RawWebSocket, close_frame, frame

SUPERVISE = os.path.join(APPS, "supervise.pl")


def test_websocket_across_a_reload_gets_1012_at_drain_timeout(start_gateway):
    gw = start_gateway("ws/echo.pl", pool={"workers": 1, "drain_timeout": 2})
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x1, "before"))
        assert ws.read_frame() == (0x1, b"echo: before")
        gw.signal(signal.SIGHUP)
        gw.wait_for("draining worker")
        drained_at = time.monotonic()
        # The draining worker still serves its open stream.
        ws.send(frame(0x1, "during"))
        assert ws.read_frame() == (0x1, b"echo: during")
        code = ws.read_close()[0]
        waited = time.monotonic() - drained_at
        assert code == 1012
        # Not cut short: the stream lived (about) drain_timeout after the drain began.
        assert waited >= 1.5, waited
        ws.send(close_frame(1012))
    gw.wait_for("reload complete")


def hold(gw, target="/slow"):
    """A request the app never answers (its connection left open)."""
    c = Conn.to(gw)
    c.send(request("GET", target))
    return c


def test_sighup_applies_a_new_queue_size(start_gateway, tmp_path):
    pool = {"workers": 1, "concurrency": 1, "queue_size": 0, "queue_timeout": 1, "drain_timeout": 1,
            "request_timeout": 30}
    path = write_config(tmp_path, SUPERVISE, pool=pool)
    gw = start_gateway(config=path)
    held = [hold(gw)]
    # The one slot is taken and nothing may wait: 503 at once.
    wait_until(lambda: get(gw, "/sleep").status == 503 and "queue full" in gw.output(), "queue full")

    write_config(tmp_path, SUPERVISE, pool={**pool, "queue_size": 4})
    gw.signal(signal.SIGHUP)
    gw.wait_for("reload complete")
    held.append(hold(gw))  # takes the new worker's one slot
    # Now a request waits in the queue (queue_timeout 1 s) instead of being refused.
    try:
        wait_until(lambda: get(gw, "/sleep").status == 503, "a request timing out in the queue")
        # The log line is written before the response; the reader thread may lag.
        gw.wait_for("waited 1s for a worker")
        assert "queue full" not in gw.output().split("reload complete", 1)[1]
    finally:
        for c in held:
            c.close()


PERL_APP = """use strict;
use warnings;
use Future::AsyncAwait;
my $app = async sub {{
    my ($scope, $receive, $send) = @_;
    die "no lifespan here\\n" unless $scope->{{type}} eq 'http';
    my $body = '{text}';
    await $send->({{ type => 'http.response.start', status => 200,
        headers => [ [ 'content-type', 'text/plain' ], [ 'content-length', length $body ] ] }});
    await $send->({{ type => 'http.response.body', body => $body }});
}};
$app;
"""


def test_reload_flag_serves_the_edited_app_without_a_failed_request(start_gateway, tmp_path):
    app = tmp_path / "dev_app.pl"
    app.write_text(PERL_APP.format(text="version one"))
    gw = start_gateway(str(app), pool={"workers": 2, "drain_timeout": 5}, args=["--reload"])
    assert get(gw, "/").body == b"version one"

    bodies, errors = [], []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                r = get(gw, "/")
                bodies.append((r.status, r.body))
            except Exception as e:  # any transport failure is a failed request
                errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(bodies) >= 20, "load running")
        # An editor's save: write a new file, rename it over the old one.
        tmp = tmp_path / "dev_app.pl.new"
        tmp.write_text(PERL_APP.format(text="version two"))
        os.rename(tmp, app)
        gw.wait_for("dev_app.pl changed: reloading")
        gw.wait_for("reload complete")
        wait_until(lambda: bodies and bodies[-1] == (200, b"version two"), "the new code serving")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[:5]
    assert {s for s, _ in bodies} == {200}
    assert {b for _, b in bodies} <= {b"version one", b"version two"}
    assert get(gw, "/").body == b"version two"
