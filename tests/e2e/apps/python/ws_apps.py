"""WebSocket and SSE apps for the e2e suite (ASGI).

star: Starlette
  /ws          WebSocket endpoint: accepts (subprotocol 'chat' when offered),
               echoes text as "star: TEXT" and bytes as is, closes 4000 on "close"
  /deny        WebSocket denied with 401 (denial response extension) when
               advertised, else closed before accept (403)
  /events?n=N  SSE through a plain http StreamingResponse: N events, one every
               50 ms (each must reach the client at once), then the end
  /forever     SSE: one event, then nothing until the client leaves
fast: FastAPI
  /ws          WebSocket echo as "fast: TEXT"
"""
import asyncio

from fastapi import FastAPI, WebSocket as FastWebSocket, WebSocketDisconnect as FastDisconnect
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect


async def ws_echo(websocket):
    offered = websocket.scope.get('subprotocols') or []
    await websocket.accept(subprotocol='chat' if 'chat' in offered else None)
    try:
        while True:
            msg = await websocket.receive()
            if msg['type'] == 'websocket.disconnect':
                return
            if msg.get('text') is not None:
                if msg['text'] == 'close':
                    await websocket.close(code=4000, reason='bye')
                    return
                await websocket.send_text('star: ' + msg['text'])
            elif msg.get('bytes') is not None:
                await websocket.send_bytes(msg['bytes'])
    except WebSocketDisconnect:
        return


async def raw_deny(scope, receive, send):
    """Raw ASGI: Debian's Starlette (0.26) has no denial-response helper."""
    await receive()     # websocket.connect
    if 'websocket.http.response' in scope.get('extensions', {}):
        await send({'type': 'websocket.http.response.start', 'status': 401,
                    'headers': [(b'www-authenticate', b'Bearer'), (b'content-type', b'text/plain')]})
        await send({'type': 'websocket.http.response.body', 'body': b'unauthorized'})
    else:
        await send({'type': 'websocket.close'})


def with_deny(app):
    async def wrapped(scope, receive, send):
        if scope['type'] == 'websocket' and scope['path'] == '/deny':
            return await raw_deny(scope, receive, send)
        return await app(scope, receive, send)
    return wrapped


async def events(request):
    n = int(request.query_params.get('n', '3'))

    async def gen():
        for i in range(1, n + 1):
            await asyncio.sleep(0.05)
            yield 'id: %d\nevent: tick\ndata: tick %d\n\n' % (i, i)
    return StreamingResponse(gen(), media_type='text/event-stream', headers={'cache-control': 'no-cache'})


async def forever(request):
    async def gen():
        yield 'data: hello\n\n'
        await asyncio.Event().wait()
    return StreamingResponse(gen(), media_type='text/event-stream')


async def plain(request):
    return Response('plain http\n', media_type='text/plain')


star = with_deny(Starlette(routes=[
    WebSocketRoute('/ws', ws_echo),
    Route('/events', events), Route('/forever', forever), Route('/', plain),
]))

fast = FastAPI()


@fast.websocket('/ws')
async def fast_ws(websocket: FastWebSocket):
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            await websocket.send_text('fast: ' + text)
    except FastDisconnect:
        return
