"""WebSocket through the gateway to a Perl PAGI app (apps/ws/echo.pl), with
Python's `websockets` client (Debian python3-websockets) and a raw-socket
client where the test needs bytes no real client would send."""
import asyncio

import pytest
import websockets

from wsraw import RawWebSocket, close_frame, frame

APP = "ws/echo.pl"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def url(gw, path="/"):
    return f"ws://{gw.host}:{gw.port}{path}"


def test_echo_text_bytes_and_subprotocol(start_gateway):
    gw = start_gateway(APP)

    async def go():
        async with websockets.connect(url(gw), subprotocols=["chat", "other"]) as ws:
            assert ws.subprotocol == "chat"
            await ws.send("hello")
            assert await ws.recv() == "echo: hello"
            await ws.send("κόσμε ✓")
            assert await ws.recv() == "echo: κόσμε ✓"
            await ws.send(b"\x00\x01\xff")
            assert await ws.recv() == b"\x00\x01\xff"
            big = "x" * 200_000
            await ws.send(big)
            assert await ws.recv() == "echo: " + big
    run(go())


def test_fragmented_message_is_reassembled(start_gateway):
    gw = start_gateway(APP)

    async def go():
        async with websockets.connect(url(gw)) as ws:
            await ws.send(["frag", "men", "ted"])  # one message in three frames
            assert await ws.recv() == "echo: fragmented"
            await ws.send([b"\x01", b"\x02"])
            assert await ws.recv() == b"\x01\x02"
    run(go())


def test_ping_answered_by_gateway(start_gateway):
    gw = start_gateway(APP)

    async def go():
        async with websockets.connect(url(gw)) as ws:
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 10)
            await ws.send("still here")
            assert await ws.recv() == "echo: still here"
    run(go())


def test_app_close_code_and_reason(start_gateway):
    gw = start_gateway(APP)

    async def go():
        async with websockets.connect(url(gw)) as ws:
            await ws.send("close")
            with pytest.raises(websockets.ConnectionClosed) as e:
                await ws.recv()
            assert e.value.rcvd.code == 4000
            assert e.value.rcvd.reason == "bye"
    run(go())


def test_client_close_is_answered(start_gateway):
    gw = start_gateway(APP)

    async def go():
        ws = await websockets.connect(url(gw))
        await ws.close(code=4001, reason="leaving")
        assert ws.close_code == 4001  # the gateway echoed our Close
    run(go())


def test_app_dying_closes_1011(start_gateway):
    gw = start_gateway(APP)

    async def go():
        async with websockets.connect(url(gw, "/die")) as ws:
            with pytest.raises(websockets.ConnectionClosed) as e:
                await ws.recv()
            assert e.value.rcvd.code == 1011
    run(go())


def test_close_before_accept_is_403(start_gateway):
    gw = start_gateway(APP)

    async def go():
        with pytest.raises(websockets.InvalidStatusCode) as e:
            async with websockets.connect(url(gw, "/reject")):
                pass
        assert e.value.status_code == 403
    run(go())


def test_denial_response(start_gateway):
    gw = start_gateway(APP)
    with RawWebSocket.connect(gw, "/deny") as ws:
        assert ws.status == 401
        assert ws.header("www-authenticate") == "Bearer"
        assert ws.header("content-length") == "12"
        assert ws.read_body() == b"unauthorized"


def test_plain_http_to_the_same_app(start_gateway):
    from httpraw import Conn, request
    gw = start_gateway(APP)
    with Conn.to(gw) as c:
        c.send(request("GET", "/"))
        r = c.read_response()
    assert r.status == 200
    assert r.body == b"not a websocket: http\n"


def test_invalid_utf8_closes_1007(start_gateway):
    gw = start_gateway(APP)
    with RawWebSocket.connect(gw) as ws:
        assert ws.status == 101
        ws.send(frame(0x1, b"ok \xed\xa0\x80"))  # a surrogate
        assert ws.read_close() == (1007, "")
        assert ws.at_eof()


def test_message_over_limit_closes_1009(start_gateway):
    gw = start_gateway(APP, http={"max_ws_message_size": "1k"})
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x1, "a" * 600, fin=False) + frame(0x0, "a" * 600))
        assert ws.read_close()[0] == 1009


def test_keepalive_pings_and_times_out(start_gateway):
    gw = start_gateway(APP)
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x1, "keepalive"))    # app: interval 0.2 s, pong timeout 1 s
        assert ws.read_frame() == (0x1, b"keepalive on")
        assert ws.read_frame()[0] == 0x9    # a ping; this client never answers
        ws.sock.settimeout(30)
        assert ws.at_eof()                  # 1006: dropped without a Close


def test_keepalive_answered_stays_open(start_gateway):
    gw = start_gateway(APP)

    async def go():
        async with websockets.connect(url(gw)) as ws:  # answers pings itself
            await ws.send("keepalive")
            assert await ws.recv() == "keepalive on"
            for i in range(3):  # well past the 1 s pong timeout, in 0.5 s steps
                await asyncio.sleep(0.5)
                await ws.send(f"m{i}")
                assert await ws.recv() == f"echo: m{i}"
    run(go())


def test_client_vanishing_ends_the_scope(start_gateway):
    gw = start_gateway(APP, pool={"workers": 1, "concurrency": 1})
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x1, "x"))
        assert ws.read_frame() == (0x1, b"echo: x")
    # The app saw websocket.disconnect and returned: its one slot is free.

    async def go():
        async with websockets.connect(url(gw)) as ws:
            await ws.send("next")
            assert await ws.recv() == "echo: next"
    run(go())


def test_graceful_stop_sends_going_away(start_gateway):
    import signal
    gw = start_gateway(APP)
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x1, "x"))
        assert ws.read_frame() == (0x1, b"echo: x")
        gw.signal(signal.SIGTERM)
        assert ws.read_close()[0] == 1001
        ws.send(close_frame(1001))
    assert gw.wait_exit() == 0
