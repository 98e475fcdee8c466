"""The edge policy tests' Python app: reports what the ASGI scope says
about the client (client, pagi.peer, scheme) as JSON, for HTTP and, per
text message, for WebSocket."""
import json


def about(scope):
    peer = scope.get("pagi.peer")
    return {"client": list(scope["client"]) if scope.get("client") else None,
            "peer": list(peer) if peer else None, "scheme": scope["scheme"]}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": json.dumps({**about(scope), "echo": message["text"]})})
        return
    body = (json.dumps(about(scope)) + "\n").encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
