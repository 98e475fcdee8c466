"""PAGI-native test app: reports pagi.connection progress in a header-free
way through stderr lines the tests read."""
import sys


def say(line):
    sys.stderr.write('app: %s\n' % line)
    sys.stderr.flush()


async def app(scope, receive, send):
    if scope['type'] == 'lifespan':
        return
    conn = scope.get('pagi.connection')
    path = scope['path']
    if conn is not None:
        conn.on_complete(lambda: say('%s complete' % path))
        conn.on_disconnect(lambda reason: say('%s disconnect %s' % (path, reason)))
    if path == '/ok':
        await send({'type': 'http.response.start', 'status': 200, 'headers': []})
        assert conn.response_started() and not conn.response_complete()
        await send({'type': 'http.response.body', 'body': b'ok'})
        assert conn.response_complete()
    elif path == '/nothing':
        return
    elif path == '/drain':
        seconds = await scope['pagi.gateway']['drain']
        await send({'type': 'http.response.start', 'status': 200, 'headers': []})
        await send({'type': 'http.response.body', 'body': str(seconds).encode()})
    elif path == '/bad':
        try:
            await send({'type': 'http.response.body', 'body': b'x', 'more_body': True})
        except Exception as exc:
            say('rejected %s' % exc)
        await send({'type': 'http.response.start', 'status': 204, 'headers': []})
        await send({'type': 'http.response.body'})
    elif path == '/sse-nothing':
        await receive()


app.pagi_app = True
