"""An ASGI app that raises on anything but http (lifespan unsupported)."""


async def app(scope, receive, send):
    if scope['type'] != 'http':
        raise RuntimeError('no lifespan here')
    await send({'type': 'http.response.start', 'status': 204, 'headers': []})
    await send({'type': 'http.response.body', 'body': b''})
