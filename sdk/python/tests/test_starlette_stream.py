"""Starlette on the worker: a WebSocket endpoint, and SSE as a plain http
StreamingResponse whose chunks leave at once (skipped without starlette)."""
import pytest

pytest.importorskip('starlette')

from fake_gateway import FakeGateway  # noqa: E402
from test_websocket import open_ws, next_for, until_end  # noqa: E402


@pytest.fixture
def gw():
    g = FakeGateway('star_stream:app')
    hello = g.handshake()
    assert hello['scopeTypes'] == 3
    yield g
    g.kill()


def test_websocket_endpoint(gw):
    sid = open_ws(gw, '/ws')
    assert next_for(gw, sid) == ('websocketAccept', {'hasSubprotocol': True, 'subprotocol': 'chat', 'headers': []})
    gw.send(sid, 'websocketReceive', {'isText': True, 'text': 'hi'})
    member, p = next_for(gw, sid, [])
    assert (member, p['text']) == ('websocketSend', 'star: hi')
    gw.send(sid, 'websocketDisconnect', {'code': 1001, 'reason': ''})
    got = until_end(gw, sid)
    assert got[-1][2] == {'failed': False, 'message': ''}
    err = gw.shutdown()
    assert 'app: ws disconnect 1001' in err


def test_sse_streaming_response_is_not_buffered(gw):
    sid = gw.open_http('GET', '/events', headers=[(b'accept', b'text/event-stream')])
    start = gw.expect('httpResponseStart', sid)
    assert (b'content-type', b'text/event-stream; charset=utf-8') in list(zip(start['headers'][::2], start['headers'][1::2]))
    # The generator now waits forever: the first event must already be here.
    assert gw.expect('httpResponseBody', sid) == {'more': True, 'offset': 0, 'length': 0,
                                                  'body': b'data: one\n\n', 'file': '',
                                                  'ringPosition': 0, 'ringLength': 0}
    gw.send(sid, 'httpDisconnect', {'reason': 'client_closed'})
    m = gw.recv()
    while m[1] != 'scopeEnd':
        assert m[0] == sid and m[1] in ('httpResponseBody', 'credit'), m
        m = gw.recv()
    gw.shutdown()
