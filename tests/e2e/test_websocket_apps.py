"""PAGI WebSocket apps in the style of the spec's examples, through the
gateway: a bidirectional send loop (Future->wait_any), a broadcaster (chat
room), flow-control conflation under a slow reader, and ASGI WebSocket
endpoints (Starlette, FastAPI) on the Python SDK."""
import asyncio

import pytest
import websockets

from pyref import python_config
from wsraw import RawWebSocket


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def url(gw, path="/"):
    return f"ws://{gw.host}:{gw.port}{path}"


def test_bidirectional_loop(start_gateway):
    gw = start_gateway("ws/bidirectional.pl")

    async def go():
        async with websockets.connect(url(gw)) as ws:
            ticks, answer = 0, None
            await ws.send("hello")
            while answer is None or ticks < 3:
                msg = await ws.recv()
                if msg.startswith("server tick #"):
                    ticks += 1
                else:
                    answer = msg
            assert answer == "you said: HELLO"
    run(go())


def test_broadcaster_reaches_every_member(start_gateway):
    gw = start_gateway("ws/broadcaster.pl", pool={"workers": 1})

    async def go():
        async with websockets.connect(url(gw, "/chat")) as a, websockets.connect(url(gw, "/chat")) as b:
            # b may join after a's first message: retry until both hear one.
            for i in range(50):
                await a.send(f"hi {i}")
                got_a = await a.recv()
                try:
                    got_b = await asyncio.wait_for(b.recv(), 0.5)
                except asyncio.TimeoutError:
                    continue
                assert got_a == got_b == f"hi {i}" or got_b.startswith("hi ")
                break
            else:
                pytest.fail("b never heard a broadcast")
            await b.send("from b")
            while (await a.recv()) != "from b":
                pass
    run(go())


def test_conflation_under_a_slow_reader(start_gateway):
    gw = start_gateway("ws/conflate.pl", pool={"workers": 1, "send_window": "16k"})
    with RawWebSocket.connect(gw, "/?n=400&size=4096") as ws:
        updates, done = 0, None
        while done is None:
            op, payload = ws.read_frame()
            if op == 0x2:
                assert len(payload) == 4096 and payload.startswith(b"update ")
                updates += 1
            elif op == 0x1:
                done = payload.decode()
    sent = int(done.split("sent=")[1].split()[0])
    skipped = int(done.split("skipped=")[1].split()[0])
    assert sent + skipped == 400
    assert updates == sent  # every update the app sent arrived whole


@pytest.mark.parametrize("app,path,prefix", [("ws_apps:star", "/ws", "star: "), ("ws_apps:fast", "/ws", "fast: ")])
def test_asgi_websocket_endpoints(start_gateway, tmp_path, app, path, prefix):
    gw = start_gateway(config=python_config(tmp_path, app, pool={"workers": 1}))

    async def go():
        async with websockets.connect(url(gw, path), subprotocols=["chat"] if "star" in app else None) as ws:
            if "star" in app:
                assert ws.subprotocol == "chat"
            await ws.send("hello")
            assert await ws.recv() == prefix + "hello"
            if "star" in app:
                await ws.send(b"\x01\x02")
                assert await ws.recv() == b"\x01\x02"
                await ws.send("close")
                with pytest.raises(websockets.ConnectionClosed) as e:
                    await ws.recv()
                assert e.value.rcvd.code == 4000
    run(go())


def test_asgi_denial_response(start_gateway, tmp_path):
    gw = start_gateway(config=python_config(tmp_path, "ws_apps:star", pool={"workers": 1}))
    with RawWebSocket.connect(gw, "/deny") as ws:
        assert ws.status == 401
        assert ws.read_body() == b"unauthorized"
