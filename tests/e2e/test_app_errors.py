"""When the app or its worker fails: 500 (exception before start, no response
at all), 502 (worker exits mid-request), 503 + Retry-After (queue full, queue
timeout), 504 (request timeout), and bad response headers failing the send."""
import queue
import threading

from httpraw import LONG_IDLE, Conn, get, request

APP = "app.pl"


def test_app_exception_before_start_gets_500(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/die"))
        r = c.read_response()
    assert r.status == 500
    assert b"e2e app failure before start" not in r.body, "app internals leaked to the client"
    # The exception is logged, with the request line.
    gw.wait_for("e2e app failure before start")
    assert "/die" in gw.output(), gw.output()


def test_app_without_response_gets_500_backstop_and_close(start_gateway):
    gw = start_gateway(APP, http=LONG_IDLE)
    with Conn.to(gw) as c:
        c.send(request("GET", "/noresponse"))
        r = c.read_response()
        assert r.status == 500
        c.closed_by_peer()
    with Conn.to(gw) as c:          # the worker is fine
        c.send(request("GET", "/hello"))
        assert c.read_response().status == 200


def test_worker_exit_before_response_gets_502_and_is_replaced(start_gateway, channel):
    gw = start_gateway(APP, pool={"workers": 1, "env": channel.env})
    with Conn.to(gw) as c:
        c.send(request("GET", "/pid"))
        first_pid = int(c.read_response().body)
    with Conn.to(gw) as c:
        c.send(request("GET", "/exit"))
        r = c.read_response()
    assert r.status == 502, r
    channel.wait_for(f"exit {first_pid}")
    # The only worker died: the next request waits for its replacement.
    r = get(gw, "/pid")
    assert r.status == 200, r
    assert int(r.body) != first_pid


def test_queue_full_gets_503_with_retry_after(start_gateway, channel):
    gw = start_gateway(APP, pool={"workers": 1, "concurrency": 1, "queue_size": 1,
                                  "env": channel.env})
    results = queue.Queue()
    holder = threading.Thread(target=lambda: results.put(("a", get(gw, "/hold?name=a"))))
    holder.start()
    channel.wait_for("hold a started")
    # b and c race for the one queue place: exactly one of them overflows.
    racers = [threading.Thread(target=lambda n=n: results.put((n, get(gw, f"/hold?name={n}"))))
              for n in ("b", "c")]
    for t in racers:
        t.start()
    try:
        name, first = results.get(timeout=30)
    except queue.Empty:
        raise AssertionError("no request was refused although the queue holds one")
    assert first.status == 503, f"{name}: {first!r}"
    assert first.header("retry-after") is not None and first.header("retry-after").isdigit()
    for n in ("a", "b", "c"):
        channel.open_gate(f"release-{n}")
    rest = dict(results.get(timeout=30) for _ in range(2))
    for t in [holder] + racers:
        t.join(timeout=30)
    assert rest["a"].status == 200
    queued = ({"b", "c"} - {name}).pop()
    assert rest[queued].status == 200 and rest[queued].body.startswith(b"held " + queued.encode())


def test_queue_timeout_gets_503_with_retry_after(start_gateway, channel):
    gw = start_gateway(APP, pool={"workers": 1, "concurrency": 1, "queue_size": 10,
                                  "queue_timeout": 0.3, "env": channel.env})
    results = queue.Queue()
    holder = threading.Thread(target=lambda: results.put(get(gw, "/hold?name=a")))
    holder.start()
    channel.wait_for("hold a started")
    r = get(gw, "/hello")
    assert r.status == 503, r
    assert r.header("retry-after") is not None
    channel.open_gate("release-a")
    assert results.get(timeout=30).status == 200
    holder.join(timeout=30)
    assert get(gw, "/hello").status == 200


def test_request_timeout_gets_504(start_gateway, channel):
    gw = start_gateway(APP, http={"request_timeout": 0.5}, pool={"env": channel.env})
    r = get(gw, "/never")
    assert r.status == 504, r
    # The app learns that its request is over.
    channel.wait_for("never ended")
    assert get(gw, "/hello").status == 200


def test_header_injection_fails_the_send(start_gateway):
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/crlf"))
        r = c.read_response()
        c.send(request("GET", "/hello"))
        after = c.read_response()
    assert r.status == 200, r
    assert b"injected" not in r.raw_head.lower(), r.raw_head
    assert not any(name.startswith("x-bad") or name in ("x-nul", "x-lf", "injected")
                   for name, _ in r.headers), r.headers
    lines = r.body.decode().splitlines()
    assert len(lines) == 4, lines
    for line in lines:
        assert line.startswith("rejected: "), f"a bad header was accepted: {lines}"
        assert "header" in line.lower(), f"unclear error: {line}"
    assert after.body == b"Hello, world!\n"
