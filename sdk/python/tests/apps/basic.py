"""Raw ASGI 3 test app: one behaviour per path."""
import asyncio
import json
import sys


async def app(scope, receive, send):
    if scope['type'] == 'lifespan':
        while True:
            ev = await receive()
            if ev['type'] == 'lifespan.startup':
                scope['state']['started'] = 'yes'
                await send({'type': 'lifespan.startup.complete'})
            elif ev['type'] == 'lifespan.shutdown':
                sys.stderr.write('app: lifespan shutdown\n')
                await send({'type': 'lifespan.shutdown.complete'})
                return
    path = scope['path']
    handler = ROUTES.get(path)
    if handler is None:
        await text(send, 404, b'not found')
        return
    await handler(scope, receive, send)


async def text(send, status, body, headers=()):
    await send({'type': 'http.response.start', 'status': status,
                'headers': [(b'content-type', b'text/plain')] + list(headers)})
    await send({'type': 'http.response.body', 'body': body})


async def hello(scope, receive, send):
    await text(send, 200, b'hello')


async def echo(scope, receive, send):
    chunks = []
    while True:
        ev = await receive()
        assert ev['type'] == 'http.request', ev
        chunks.append(ev['body'])
        if not ev['more_body']:
            break
    body = b''.join(chunks)
    await text(send, 200, body, [(b'x-chunks', str(len(chunks)).encode())])


async def show_scope(scope, receive, send):
    s = {k: v for k, v in scope.items() if k not in ('headers', 'raw_path', 'query_string', 'state')}
    s['headers'] = [[n.decode(), v.decode()] for n, v in scope['headers']]
    s['raw_path'] = scope['raw_path'].decode()
    s['query_string'] = scope['query_string'].decode()
    s['state'] = scope['state']
    s['types'] = {k: type(v).__name__ for k, v in scope.items()}
    s['header_types'] = sorted({type(x).__name__ for pair in scope['headers'] for x in pair})
    ext = s['extensions'] = dict(scope['extensions'])
    gw = ext.pop('pagi.gateway')
    s['request_id'] = gw['request_id']
    s['drain_type'] = type(gw['drain']).__name__
    await text(send, 200, json.dumps(s).encode())


async def drain(scope, receive, send):
    # Answers once the gateway drains this worker, with the seconds it gives.
    seconds = await scope['extensions']['pagi.gateway']['drain']
    await text(send, 200, ('drain %s' % seconds).encode())


async def boom(scope, receive, send):
    raise ValueError('boom from the app')


async def nothing(scope, receive, send):
    return


async def wait_disconnect(scope, receive, send):
    while True:
        ev = await receive()
        if ev['type'] == 'http.disconnect':
            sys.stderr.write('app: saw http.disconnect\n')
            # Sends after the client left are no-ops.
            await text(send, 200, b'too late')
            return


async def stream(scope, receive, send):
    n = int(scope['query_string'] or b'4')
    await send({'type': 'http.response.start', 'status': 200, 'headers': []})
    for i in range(n):
        await send({'type': 'http.response.body', 'body': bytes([65 + i]) * 16384, 'more_body': True})
    await send({'type': 'http.response.body', 'body': b'end'})


async def fill(scope, receive, send):
    await send({'type': 'http.response.start', 'status': 200, 'headers': []})
    for i in range(2):
        await send({'type': 'http.response.body', 'body': b'f' * 16384, 'more_body': True})
    await send({'type': 'http.response.body', 'body': b''})


async def bad_header(scope, receive, send):
    try:
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'x-bad', b'a\r\nb')]})
    except Exception as exc:
        await text(send, 200, ('rejected: %s' % type(exc).__name__).encode())


async def trailers(scope, receive, send):
    await send({'type': 'http.response.start', 'status': 200, 'headers': [], 'trailers': True})
    await send({'type': 'http.response.body', 'body': b'data'})
    await send({'type': 'http.response.trailers', 'headers': [(b'x-sum', b'42')]})


async def pathsend(scope, receive, send):
    await send({'type': 'http.response.start', 'status': 200, 'headers': []})
    await send({'type': 'http.response.pathsend', 'path': __file__})


async def half(scope, receive, send):
    await send({'type': 'http.response.start', 'status': 200, 'headers': []})
    await send({'type': 'http.response.body', 'body': b'part', 'more_body': True})
    raise RuntimeError('died mid-response')


async def listen(scope, receive, send):
    """A receive() waiting across the end of the response (Starlette's
    disconnect listener) must hear http.disconnect, responseDone or not."""
    await receive()  # the request
    task = asyncio.ensure_future(receive())
    await asyncio.sleep(0)  # let it block in receive()
    await text(send, 200, b'bye')
    ev = await task
    sys.stderr.write('app: listener heard %s\n' % ev['type'])


ROUTES = {
    '/': hello, '/echo': echo, '/scope': show_scope, '/boom': boom, '/nothing': nothing,
    '/wait-disconnect': wait_disconnect, '/stream': stream, '/fill': fill, '/bad-header': bad_header,
    '/trailers': trailers, '/pathsend': pathsend, '/half': half, '/drain': drain,
    '/listen': listen,
}
