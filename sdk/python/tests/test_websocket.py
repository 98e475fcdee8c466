"""ASGI websocket scopes (and SSE as plain http) against a fake gateway."""
import json

import pytest

from fake_gateway import FakeGateway

EXT_WS_RESPONSE = 2


@pytest.fixture
def gw():
    g = FakeGateway('ws_app:app')
    hello = g.handshake(send_window=64, receive_window=16)
    assert hello['scopeTypes'] == 1 | 2, 'http and websocket; SSE comes as http'
    yield g
    g.kill()


def open_ws(gw, path, connect=True, **extra):
    m = dict(type='websocket', method='GET', scheme='ws', hasBody=False,
             headers=[(b'host', b'example.test'), (b'upgrade', b'websocket'),
                      (b'sec-websocket-protocol', b'chat, superchat')],
             subprotocols=['chat', 'superchat'], extensions=EXT_WS_RESPONSE)
    m.update(extra)
    sid = gw.open_http(path=path, **m)
    if connect:
        gw.send(sid, 'websocketConnect')
    return sid


_seq = [1000]


def settle(gw):
    """Everything the worker sent before echoing a heartbeat. An app's frames
    produced in one loop turn leave in one write, so this shows that a send
    which would have followed at once is waiting."""
    _seq[0] += 1
    gw.send(0, 'heartbeat', {'seq': _seq[0]})
    out = []
    while True:
        m = gw.recv()
        assert m is not None
        if m[1] == 'heartbeat' and m[2]['seq'] == _seq[0]:
            return out
        out.append(m)


def until_end(gw, sid):
    """Everything the worker sends for sid up to its scopeEnd."""
    out = []
    while True:
        m = gw.recv()
        assert m is not None and m[0] == sid, m
        out.append(m)
        if m[1] == 'scopeEnd':
            return out


def next_for(gw, sid, credit=None):
    """Next message for sid; credit messages are added to `credit` (a list) and skipped."""
    while True:
        m = gw.recv()
        assert m is not None and m[0] == sid, m
        if m[1] == 'credit' and credit is not None:
            credit.append(m[2]['bytes'])
            continue
        return m[1], m[2]


def test_accept_echo_scope_close(gw):
    sid = open_ws(gw, '/echo')
    credit = []
    assert next_for(gw, sid) == ('websocketAccept', {
        'hasSubprotocol': True, 'subprotocol': 'superchat', 'headers': [b'x-ws', b'yes']})
    gw.send(sid, 'websocketReceive', {'isText': True, 'text': 'h\u00e9llo \u2713'})
    member, p = next_for(gw, sid, credit)
    assert member == 'websocketSend' and p['isText']
    assert p['text'] == 'echo: h\u00e9llo \u2713 len=7'
    gw.send(sid, 'websocketReceive', {'isText': False, 'bytes': b'\x00\xff'})
    member, p = next_for(gw, sid, credit)
    assert (p['isText'], p['bytes']) == (False, b'\x00\xff')
    gw.send(sid, 'credit', {'bytes': 64})
    gw.send(sid, 'websocketReceive', {'isText': True, 'text': 'scope'})
    s = json.loads(next_for(gw, sid, credit)[1]['text'])
    assert s['type'] == 'websocket'
    assert s['asgi'] == {'version': '3.0', 'spec_version': '2.3'}
    assert s['scheme'] == 'ws' and s['http_version'] == '1.1' and s['path'] == '/echo'
    assert s['subprotocols'] == ['chat', 'superchat']
    assert s['extensions'] == {'websocket.http.response': {}}
    assert s['request_id'] == ''
    gw.send(sid, 'websocketReceive', {'isText': True, 'text': 'close'})
    assert next_for(gw, sid, credit) == ('websocketClose', {'code': 4000, 'reason': 'bye \u2713'})
    gw.send(sid, 'websocketDisconnect', {'code': 4000, 'reason': ''})
    assert next_for(gw, sid, credit) == ('scopeEnd', {'failed': False, 'message': ''})
    assert sum(credit) == len('h\u00e9llo \u2713'.encode()) + 2 + 5 + 5, credit
    gw.shutdown()


def test_client_disconnect_makes_sends_noops(gw):
    sid = open_ws(gw, '/echo')
    assert next_for(gw, sid)[0] == 'websocketAccept'
    gw.send(sid, 'websocketDisconnect', {'code': 1006, 'reason': 'client_closed'})
    assert until_end(gw, sid) == [(sid, 'scopeEnd', {'failed': False, 'message': ''})]
    gw.shutdown()


def test_send_window_waits_for_credit(gw):
    sid = open_ws(gw, '/flow')
    assert next_for(gw, sid)[0] == 'websocketAccept'
    assert next_for(gw, sid)[1]['bytes'] == b'a' * 40
    assert settle(gw) == [], 'the second message waits (40 + 40 > 64)'
    gw.send(sid, 'credit', {'bytes': 40})
    assert next_for(gw, sid)[1]['bytes'] == b'b' * 40
    gw.send(sid, 'credit', {'bytes': 40})
    assert next_for(gw, sid)[1]['bytes'] == b'c' * 40
    gw.send(sid, 'websocketReceive', {'isText': False, 'bytes': b'x' * 20})
    assert next_for(gw, sid) == ('credit', {'bytes': 20}), 'a message over half the window is credited at once'
    gw.send(sid, 'websocketDisconnect', {'code': 1001, 'reason': ''})
    assert next_for(gw, sid)[0] == 'scopeEnd'
    gw.shutdown()


def test_denial_response(gw):
    sid = open_ws(gw, '/deny')
    assert until_end(gw, sid) == [
        (sid, 'websocketHttpResponseStart', {'status': 401, 'trailers': False, 'headers': [b'www-authenticate', b'Bearer']}),
        (sid, 'websocketHttpResponseBody', {'body': b'no ', 'more': True}),
        (sid, 'websocketHttpResponseBody', {'body': b'entry', 'more': False}),
        (sid, 'scopeEnd', {'failed': False, 'message': ''}),
    ]
    gw.shutdown()


def test_close_before_accept_and_no_answer(gw):
    sid = open_ws(gw, '/reject')
    assert until_end(gw, sid) == [(sid, 'websocketClose', {'code': 1000, 'reason': ''}),
                          (sid, 'scopeEnd', {'failed': False, 'message': ''})]
    sid = open_ws(gw, '/noanswer')
    assert until_end(gw, sid) == [(sid, 'scopeEnd', {'failed': False, 'message': ''})], 'the gateway answers 403'
    sid = open_ws(gw, '/die')
    got = until_end(gw, sid)
    assert [m[1] for m in got] == ['websocketAccept', 'scopeEnd']
    assert got[1][2]['failed'] and 'boom' in got[1][2]['message']
    gw.shutdown()


def test_denial_needs_the_extension(gw):
    sid = open_ws(gw, '/deny', extensions=0)
    got = until_end(gw, sid)
    assert [m[1] for m in got] == ['scopeEnd']
    assert got[0][2]['failed'] and 'extension' in got[0][2]['message']
    gw.shutdown()


def test_validation_fails_the_send_not_the_worker(gw):
    sid = open_ws(gw, '/validate')
    assert next_for(gw, sid)[0] == 'websocketAccept'
    assert next_for(gw, sid)[1]['text'] == 'fine'
    gw.send(sid, 'credit', {'bytes': 4})    # the report is larger than the window
    member, p = next_for(gw, sid)
    errors = json.loads(p['text'])
    expect = ['before websocket.accept', 'exactly one', 'exactly one', 'must be a str', 'UTF-8',
              'byte string', '1005', 'over 123 bytes', 'after websocket.accept', 'after websocket.accept',
              "unexpected ASGI message 'http.response.start'", 'ok']
    assert len(errors) == len(expect), errors
    for got, want in zip(errors, expect):
        assert want in got, (got, want)
    assert next_for(gw, sid) == ('websocketClose', {'code': 1000, 'reason': ''})
    assert next_for(gw, sid) == ('scopeEnd', {'failed': False, 'message': ''})
    gw.shutdown()
