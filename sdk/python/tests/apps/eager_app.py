"""ASGI app for test_eager.py: what the worker's eager first step must keep
(contextvars isolation, current_task identity, exceptions, cancellation)."""
import asyncio
import contextvars
import sys

import anyio

VAR = contextvars.ContextVar('request_var', default='unset')


async def _respond(send, body, status=200):
    await send({'type': 'http.response.start', 'status': status,
                'headers': [(b'content-type', b'text/plain')]})
    await send({'type': 'http.response.body', 'body': body.encode()})


async def app(scope, receive, send):
    if scope['type'] != 'http':
        return
    path = scope['path']
    if path == '/set':
        # Sets the variable without suspending: a later request must not see it.
        before = VAR.get()
        VAR.set('set-by-' + scope['query_string'].decode())
        await _respond(send, before)
    elif path == '/set-then-wait':
        VAR.set('waiting')
        await asyncio.sleep(0.01)
        await _respond(send, VAR.get())
    elif path == '/get':
        await _respond(send, VAR.get())
    elif path == '/task':
        # The task seen in the first step is the one that runs on after it.
        first = asyncio.current_task()
        await asyncio.sleep(0)
        await _respond(send, 'same' if asyncio.current_task() is first and first is not None else 'different')
    elif path == '/timeout':
        async with asyncio.timeout(5):
            await asyncio.sleep(0.01)
        try:
            async with asyncio.timeout(0.01):
                await asyncio.Event().wait()
        except TimeoutError:
            await _respond(send, 'timed out')
    elif path == '/taskgroup':
        async with asyncio.TaskGroup() as tg:
            t = tg.create_task(asyncio.sleep(0.01, 'child'))
        await _respond(send, t.result())
    elif path == '/anyio':
        with anyio.CancelScope():
            r = await anyio.to_thread.run_sync(lambda: 'from a thread')
        await _respond(send, r)
    elif path == '/raise-now':
        raise RuntimeError('raised in the first step')
    elif path == '/raise-later':
        await asyncio.sleep(0)
        raise RuntimeError('raised after suspending')
    elif path == '/wait':
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            sys.stderr.write('app: /wait cancelled\n')
            sys.stderr.flush()
            raise
    elif path == '/disconnect':
        await _respond_head(send)
        ev = await receive()        # the (empty) request body first
        while ev['type'] == 'http.request':
            ev = await receive()
        sys.stderr.write('app: /disconnect got %s\n' % ev['type'])
        sys.stderr.flush()
    elif path == '/body':
        body = b''
        while True:
            ev = await receive()
            body += ev.get('body', b'')
            if not ev.get('more_body'):
                break
        await _respond(send, body.decode())


async def _respond_head(send):
    await send({'type': 'http.response.start', 'status': 200, 'headers': []})
    await send({'type': 'http.response.body', 'body': b'x', 'more_body': True})
