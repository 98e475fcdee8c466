"""bench/run-python hello: a raw ASGI 3 app answering "hello" (5 bytes)."""

START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]}
BODY = {"type": "http.response.body", "body": b"hello"}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return  # lifespan: returning tells the server it is not supported
    await send(START)
    await send(BODY)
