"""Stream slots (pools.<name>.stream_concurrency): open WebSockets count
against their own per-worker limit, not against `concurrency`. One Perl
worker with `concurrency: 2` holds 20 WebSockets and still answers plain
HTTP requests; before stream slots, the third handshake waited for a slot
and got 503 after queue_timeout."""
import asyncio
import urllib.request

import websockets

from conftest import write_config
from ops_support import Admin, admin_address, metric

APP = "ws/echo.pl"
SOCKETS = 20


def get(gw, path="/plain"):
    with urllib.request.urlopen(f"{gw.url}{path}", timeout=30) as r:
        return r.status, r.read().decode()


def test_twenty_websockets_leave_http_slots_free(start_gateway, tmp_path):
    # queue_timeout 2 s: a scope that waited for a slot would fail fast.
    cfg = write_config(tmp_path, APP, pool={"workers": 1, "concurrency": 2, "queue_timeout": 2},
                       extra="admin:\n  listen: \"127.0.0.1:0\"\n")
    gw = start_gateway(config=cfg, ready=False)
    admin = Admin(admin_address(gw))
    gw.wait_ready()

    async def go():
        sockets = await asyncio.gather(
            *(websockets.connect(f"ws://{gw.host}:{gw.port}/") for _ in range(SOCKETS)))
        try:
            # All 20 open at once; plain requests, two at a time (the
            # request slots), are still answered.
            for _ in range(3):
                answers = await asyncio.gather(*(asyncio.to_thread(get, gw) for _ in range(2)))
                for status, body in answers:
                    assert status == 200
                    assert body == "not a websocket: http\n"
            for i, ws in enumerate(sockets):
                await ws.send(f"hello {i}")
            for i, ws in enumerate(sockets):
                assert await ws.recv() == f"echo: hello {i}"
            # Every socket has echoed, so its scope runs on the worker.
            status = admin.status()["pools"][0]
            assert status["streams"] == SOCKETS
            assert [w["streams"] for w in status["workers"]] == [SOCKETS]
            assert metric(admin.metrics(), "pagi_streams_open", pool="app") == SOCKETS
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))

    asyncio.run(asyncio.wait_for(go(), 60))
    assert "waited" not in gw.output()


def test_stream_concurrency_bounds_a_worker(start_gateway):
    # stream_concurrency 2: the third handshake waits, and after
    # queue_timeout it is refused with 503; http is not held up.
    gw = start_gateway(APP, pool={"workers": 1, "concurrency": 2, "stream_concurrency": 2,
                                  "queue_timeout": 1})

    async def go():
        a = await websockets.connect(f"ws://{gw.host}:{gw.port}/")
        b = await websockets.connect(f"ws://{gw.host}:{gw.port}/")
        try:
            status, _ = await asyncio.to_thread(get, gw)
            assert status == 200
            try:
                third = await websockets.connect(f"ws://{gw.host}:{gw.port}/")
            except websockets.InvalidStatusCode as e:
                assert e.status_code == 503
            except websockets.InvalidStatus as e:  # newer websockets
                assert e.response.status_code == 503
            else:
                await third.close()
                raise AssertionError("third WebSocket accepted beyond stream_concurrency 2")
            await a.send("still")
            assert await a.recv() == "echo: still"
        finally:
            await a.close()
            await b.close()

    asyncio.run(asyncio.wait_for(go(), 60))
