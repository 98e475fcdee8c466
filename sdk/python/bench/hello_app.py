"""Hello-world apps for the benchmarks."""


async def app(scope, receive, send):
    if scope['type'] != 'http':
        return
    await send({'type': 'http.response.start', 'status': 200,
                'headers': [(b'content-type', b'text/plain'), (b'content-length', b'13')]})
    await send({'type': 'http.response.body', 'body': b'Hello, World!'})


def wsgi(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '13')])
    return [b'Hello, World!']


STREAM_CHUNK = b'x' * 16384


async def stream(scope, receive, send):
    """1 MiB as 64 body events of 16 KiB (bench/ring_bench.py)."""
    if scope['type'] != 'http':
        return
    await send({'type': 'http.response.start', 'status': 200, 'headers': [(b'content-type', b'text/plain')]})
    for _ in range(63):
        await send({'type': 'http.response.body', 'body': STREAM_CHUNK, 'more_body': True})
    await send({'type': 'http.response.body', 'body': STREAM_CHUNK})
