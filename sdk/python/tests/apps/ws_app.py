"""Raw ASGI 3 websocket test app: one behaviour per path."""
import json


async def app(scope, receive, send):
    if scope['type'] == 'lifespan':
        raise RuntimeError('no lifespan')
    assert scope['type'] == 'websocket', scope['type']
    await ROUTES[scope['path']](scope, receive, send)


async def failures(send, *events):
    out = []
    for ev in events:
        try:
            await send(ev)
            out.append('ok')
        except Exception as exc:  # noqa: BLE001 -- the test reads the messages
            out.append('%s: %s' % (type(exc).__name__, exc))
    return out


async def echo(scope, receive, send):
    ev = await receive()
    assert ev == {'type': 'websocket.connect'}, ev
    accept = {'type': 'websocket.accept', 'headers': [(b'x-ws', b'yes')]}
    if scope['subprotocols']:
        accept['subprotocol'] = scope['subprotocols'][-1]
    await send(accept)
    while True:
        ev = await receive()
        if ev['type'] == 'websocket.disconnect':
            await send({'type': 'websocket.send', 'text': 'too late'})   # a no-op
            return
        if 'bytes' in ev:
            await send({'type': 'websocket.send', 'bytes': ev['bytes']})
        elif ev['text'] == 'close':
            await send({'type': 'websocket.close', 'code': 4000, 'reason': 'bye \u2713'})
            ev = await receive()
            assert ev['type'] == 'websocket.disconnect', ev
            return
        elif ev['text'] == 'scope':
            s = {k: v for k, v in scope.items() if k not in ('headers', 'raw_path', 'query_string', 'state')}
            ext = s['extensions'] = dict(scope['extensions'])
            s['request_id'] = ext.pop('pagi.gateway')['request_id']
            await send({'type': 'websocket.send', 'text': json.dumps(s)})
        else:
            t = ev['text']
            await send({'type': 'websocket.send', 'text': 'echo: %s len=%d' % (t, len(t))})


async def deny(scope, receive, send):
    await receive()
    await send({'type': 'websocket.http.response.start', 'status': 401,
                'headers': [(b'www-authenticate', b'Bearer')]})
    await send({'type': 'websocket.http.response.body', 'body': b'no ', 'more_body': True})
    await send({'type': 'websocket.http.response.body', 'body': b'entry'})
    ev = await receive()
    assert ev == {'type': 'websocket.disconnect', 'code': 1006, 'reason': ''}, ev


async def reject(scope, receive, send):
    await receive()
    await send({'type': 'websocket.close'})
    ev = await receive()
    assert ev['type'] == 'websocket.disconnect', ev


async def noanswer(scope, receive, send):
    return


async def die(scope, receive, send):
    await receive()
    await send({'type': 'websocket.accept'})
    raise RuntimeError('boom')


async def validate(scope, receive, send):
    await receive()
    errors = await failures(send, {'type': 'websocket.send', 'text': 'early'})
    await send({'type': 'websocket.accept'})
    errors += await failures(
        send,
        {'type': 'websocket.send'},
        {'type': 'websocket.send', 'text': 'a', 'bytes': b'b'},
        {'type': 'websocket.send', 'text': b'bytes'},
        {'type': 'websocket.send', 'text': '\ud800'},
        {'type': 'websocket.send', 'bytes': 'str'},
        {'type': 'websocket.close', 'code': 1005},
        {'type': 'websocket.close', 'reason': 'r' * 124},
        {'type': 'websocket.accept'},
        {'type': 'websocket.http.response.start', 'status': 403},
        {'type': 'http.response.start', 'status': 200},
        {'type': 'websocket.send', 'text': 'fine', 'bytes': None},
    )
    await send({'type': 'websocket.send', 'text': json.dumps(errors)})
    await send({'type': 'websocket.close'})
    errors = await failures(send, {'type': 'websocket.send', 'text': 'after close'})
    assert errors[0].startswith('SendError'), errors


async def flow(scope, receive, send):
    await receive()
    await send({'type': 'websocket.accept'})
    for c in b'abc':
        await send({'type': 'websocket.send', 'bytes': bytes([c]) * 40})
    while (await receive())['type'] != 'websocket.disconnect':
        pass


ROUTES = {'/echo': echo, '/deny': deny, '/reject': reject, '/noanswer': noanswer, '/die': die,
          '/validate': validate, '/flow': flow}
