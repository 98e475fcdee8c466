"""Benchmark app (ASGI): WebSocket echo, each message sent back unchanged.
The same app as ../ws_echo.pl; uvicorn and the gateway's Python worker both
run it (bench/run-ws)."""


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ws echo\n"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": event["bytes"]})
        else:
            await send({"type": "websocket.send", "text": event["text"]})
