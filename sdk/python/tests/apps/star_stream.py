"""Starlette: a WebSocket endpoint and an SSE stream (StreamingResponse)."""
import asyncio
import sys

from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

RELEASE = {}


async def ws(websocket):
    await websocket.accept(subprotocol='chat')
    try:
        while True:
            text = await websocket.receive_text()
            await websocket.send_text('star: ' + text)
    except WebSocketDisconnect as exc:
        sys.stderr.write('app: ws disconnect %d\n' % exc.code)


async def events(request):
    async def gen():
        yield 'data: one\n\n'
        # Nothing more until the client goes away: 'one' must already be out.
        await asyncio.Event().wait()
    return StreamingResponse(gen(), media_type='text/event-stream')


app = Starlette(routes=[WebSocketRoute('/ws', ws), Route('/events', events)])
