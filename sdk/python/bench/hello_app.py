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
