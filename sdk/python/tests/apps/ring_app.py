"""Test app for the shared body ring: response bodies of given sizes (ASGI
and WSGI), and what the app sees of the ring's descriptor."""
import json
import os
import subprocess


def pattern(tag, i, n):
    """Body i of the response tagged tag: n bytes no other body repeats."""
    unit = b'%s-%d|' % (tag, i)
    return (unit * (n // len(unit) + 1))[:n]


def _sizes(qs):
    tag, _, sizes = qs.partition(b':')
    return tag, [int(x) for x in sizes.split(b',')]


async def app(scope, receive, send):
    if scope['type'] != 'http':
        return
    await send({'type': 'http.response.start', 'status': 200, 'headers': []})
    if scope['path'] == '/fd':
        # ?N: is descriptor N inheritable, does a child see it, is the variable set?
        fd = int(scope['query_string'])
        child = subprocess.run(['/bin/sh', '-c', 'test -e /proc/self/fd/%d' % fd], close_fds=False)
        body = json.dumps({'inheritable': os.get_inheritable(fd), 'child_sees': child.returncode == 0,
                           'env': os.environ.get('PAGI_BODY_RING_FD')}).encode()
        await send({'type': 'http.response.body', 'body': body})
        return
    # ?TAG:N1,N2,...: one body event per size, the last with more_body False.
    tag, sizes = _sizes(scope['query_string'])
    for i, n in enumerate(sizes):
        await send({'type': 'http.response.body', 'body': pattern(tag, i, n),
                    'more_body': i + 1 < len(sizes)})


def wsgi(environ, start_response):
    start_response('200 OK', [])
    tag, sizes = _sizes(environ['QUERY_STRING'].encode())
    return [pattern(tag, i, n) for i, n in enumerate(sizes)]


async def pagi(scope, receive, send):
    if scope['type'] != 'http':
        return
    await send({'type': 'http.response.start', 'status': 200, 'headers': []})
    tag, sizes = _sizes(scope['query_string'])
    for i, n in enumerate(sizes):
        await send({'type': 'http.response.body', 'body': pattern(tag, i, n), 'more': i + 1 < len(sizes)})


pagi.pagi_app = True
