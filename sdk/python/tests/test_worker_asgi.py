"""The worker runtime with a raw ASGI app, against a fake gateway."""
import json

import pytest

from fake_gateway import FakeGateway


@pytest.fixture
def gw():
    g = FakeGateway('basic:app')
    yield g
    g.kill()


def test_hello_welcome_lifespan_state_and_shutdown(gw):
    hello = gw.handshake(lifespan='auto')
    assert hello['sdkName'] == 'pagi-worker-python'
    assert hello['protocolVersion'] == 1
    assert hello['concurrency'] == 100
    assert hello['scopeTypes'] & 1
    assert hello['app'] == 'basic:app'
    assert hello['skipResponseDone'] is True  # ASGI has no on_complete
    lsid, answer = gw.start_lifespan()
    assert answer[:2] == (lsid, 'lifespanStartupComplete')
    sid = gw.open_http(path='/scope')
    status, headers, body, end = gw.response(sid)
    assert status == 200
    assert json.loads(body)['state'] == {'started': 'yes'}
    gw.send(lsid, 'lifespanShutdown')
    assert gw.expect('lifespanShutdownComplete', lsid) is None
    err = gw.shutdown()
    assert 'app: lifespan shutdown' in err


def test_get_round_trip_and_scope_shape(gw):
    gw.handshake()
    sid = gw.open_http(path='/scope', query=b'a=1', headers=[(b'host', b'example.com'), (b'x-one', b'1')],
                       requestId='rid-42')
    status, headers, body, end = gw.response(sid)
    assert status == 200
    assert headers == [(b'content-type', b'text/plain')]
    assert end == {'failed': False, 'message': ''}
    s = json.loads(body)
    assert s['type'] == 'http'
    assert s['asgi'] == {'version': '3.0', 'spec_version': '2.3'}
    assert s['http_version'] == '1.1'
    assert s['method'] == 'GET'
    assert s['scheme'] == 'http'
    assert s['path'] == '/scope'
    assert s['raw_path'] == '/scope'
    assert s['query_string'] == 'a=1'
    assert s['root_path'] == ''
    assert s['headers'] == [['host', 'example.com'], ['x-one', '1']]
    assert s['header_types'] == ['bytes']
    assert s['client'] == ['127.0.0.1', 40000]
    assert s['server'] == ['127.0.0.1', 8080]
    assert s['state'] == {}
    assert s['extensions'] == {'http.response.trailers': {}, 'http.response.pathsend': {}}
    assert s['types']['raw_path'] == 'bytes' and s['types']['query_string'] == 'bytes'
    assert s['request_id'] == 'rid-42'
    assert s['drain_type'] == 'Future'
    gw.shutdown()


def test_drain_future_resolves_with_the_seconds_left(gw):
    gw.handshake()
    sid = gw.open_http(path='/drain')
    gw.send(0, 'drain', {'timeoutMs': 2500})
    status, headers, body, end = gw.response(sid)
    assert (status, body) == (200, b'drain 2.5')
    # A scope opened after the drain sees the future already done.
    sid = gw.open_http(path='/drain')
    assert gw.response(sid)[2] == b'drain 2.5'
    gw.shutdown()


def test_heartbeat_is_echoed(gw):
    gw.handshake()
    gw.send(0, 'heartbeat', {'seq': 77})
    assert gw.expect('heartbeat', 0) == {'seq': 77}
    gw.shutdown()


def test_receive_waiting_across_the_response_end_hears_disconnect(gw):
    gw.handshake()
    sid = gw.open_http(path='/listen')
    # No responseDone is sent (hello opted out): the scope still ends.
    status, headers, body, end = gw.response(sid)
    assert (status, body) == (200, b'bye')
    assert end == {'failed': False, 'message': ''}
    err = gw.shutdown()
    assert 'app: listener heard http.disconnect' in err


def test_post_body_chunks_and_credit(gw):
    gw.handshake(receive_window=8)
    sid = gw.open_http('POST', '/echo', body=b'abcd', more=True)
    gw.send(sid, 'httpRequest', {'body': b'efgh', 'more': True})
    # Bytes consumed with more to come come back as credit (batched at half
    # the window): 4 + 4.
    assert gw.expect('credit', sid)['bytes'] == 4
    assert gw.expect('credit', sid)['bytes'] == 4
    gw.send(sid, 'httpRequest', {'body': b'ij', 'more': False})
    status, headers, body, end = gw.response(sid)
    assert status == 200
    assert body == b'abcdefghij'
    assert (b'x-chunks', b'3') in headers
    gw.shutdown()


def test_expect_continue_credit_on_first_receive(gw):
    gw.handshake(receive_window=1000)
    sid = gw.open_http('POST', '/echo', expect_continue=True)
    # The app's first receive() asks for the body with a full window of credit.
    assert gw.expect('credit', sid) == {'bytes': 1000}
    gw.send(sid, 'httpRequest', {'body': b'payload', 'more': False})
    status, headers, body, end = gw.response(sid)
    assert (status, body) == (200, b'payload')
    gw.shutdown()


def test_client_disconnect_is_http_disconnect(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/wait-disconnect')
    gw.send(sid, 'httpDisconnect', {'reason': 'client_closed'})
    # No response (the client left): the app saw http.disconnect and returned.
    assert gw.expect('scopeEnd', sid) == {'failed': False, 'message': ''}
    err = gw.shutdown()
    assert 'app: saw http.disconnect' in err


def test_exception_before_response_gives_500(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/boom', query=b'x=1')
    status, headers, body, end = gw.response(sid)
    assert status == 500
    assert body == b'Internal Server Error'
    assert end['failed'] is True
    assert 'ValueError: boom from the app' in end['message']
    err = gw.shutdown()
    assert 'GET /boom?x=1' in err
    assert 'Traceback' in err and 'boom from the app' in err


def test_app_returning_nothing_gives_500(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/nothing')
    status, headers, body, end = gw.response(sid)
    assert status == 500
    assert end == {'failed': False, 'message': ''}
    err = gw.shutdown()
    assert 'returned without a response' in err


def test_send_window_waits_for_credit(gw):
    gw.handshake(send_window=32768)
    sid = gw.open_http('GET', '/stream', query=b'4')
    gw.expect('httpResponseStart', sid)
    got = [gw.expect('httpResponseBody', sid), gw.expect('httpResponseBody', sid)]
    assert [len(p['body']) for p in got] == [16384, 16384]
    # The window is full: the worker must not send more before credit. The
    # heartbeat echo comes back first.
    gw.send(0, 'heartbeat', {'seq': 1})
    assert gw.expect('heartbeat', 0) == {'seq': 1}
    gw.send(sid, 'credit', {'bytes': 32768})
    rest = [gw.expect('httpResponseBody', sid) for _ in range(2)]
    assert [p['body'][:1] for p in rest] == [b'C', b'D']
    # Full again: 'end' waits for the next credit.
    gw.send(0, 'heartbeat', {'seq': 2})
    assert gw.expect('heartbeat', 0) == {'seq': 2}
    gw.send(sid, 'credit', {'bytes': 16384})
    last = gw.expect('httpResponseBody', sid)
    assert (last['body'], last['more']) == (b'end', False)
    assert gw.expect('scopeEnd', sid)['failed'] is False
    gw.shutdown()


def test_empty_final_body_waits_when_window_is_full(gw):
    gw.handshake(send_window=32768)
    sid = gw.open_http('GET', '/fill')
    gw.expect('httpResponseStart', sid)
    gw.expect('httpResponseBody', sid)
    gw.expect('httpResponseBody', sid)
    gw.send(0, 'heartbeat', {'seq': 3})
    assert gw.expect('heartbeat', 0) == {'seq': 3}
    gw.send(sid, 'credit', {'bytes': 1})
    last = gw.expect('httpResponseBody', sid)
    assert (last['body'], last['more']) == (b'', False)
    gw.expect('scopeEnd', sid)
    gw.shutdown()


def test_invalid_header_fails_that_send_only(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/bad-header')
    status, headers, body, end = gw.response(sid)
    assert (status, body) == (200, b'rejected: SendError')
    gw.shutdown()


def test_trailers_and_pathsend(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/trailers')
    gw.expect('httpResponseStart', sid)
    b = gw.expect('httpResponseBody', sid)
    assert (b['body'], b['more']) == (b'data', False)
    assert gw.expect('httpResponseTrailers', sid) == {'headers': [b'x-sum', b'42']}
    gw.expect('scopeEnd', sid)
    sid = gw.open_http('GET', '/pathsend')
    gw.expect('httpResponseStart', sid)
    b = gw.expect('httpResponseBody', sid)
    assert b['file'].endswith('/tests/apps/basic.py') and b['length'] == -1 and b['body'] == b''
    gw.expect('scopeEnd', sid)
    gw.shutdown()


def test_exception_mid_response_ends_scope_failed(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/half')
    gw.expect('httpResponseStart', sid)
    gw.expect('httpResponseBody', sid)
    end = gw.expect('scopeEnd', sid)
    assert end['failed'] is True and 'died mid-response' in end['message']
    gw.shutdown()


def test_concurrent_scopes(gw):
    gw.handshake()
    slow = gw.open_http('POST', '/echo', body=b'x', more=True)
    fast = gw.open_http('GET', '/')
    # The slow app waits for more body: it credits what it took so far.
    assert gw.expect('credit', slow) == {'bytes': 1}
    status, _, body, _ = gw.response(fast)
    assert (status, body) == (200, b'hello')
    gw.send(slow, 'httpRequest', {'body': b'y', 'more': False})
    status, _, body, _ = gw.response(slow)
    assert (status, body) == (200, b'xy')
    gw.shutdown()


def test_eof_exits_zero():
    gw = FakeGateway('basic:app')
    try:
        gw.handshake()
        gw.sock.shutdown(1)
        gw.finish(0)
    finally:
        gw.kill()


def test_lifespan_unsupported_in_auto_mode():
    gw = FakeGateway('no_lifespan:app')
    try:
        gw.handshake(lifespan='auto')
        lsid, answer = gw.start_lifespan()
        assert answer[1] == 'lifespanUnsupported'
        assert 'no lifespan here' in answer[2]
        sid = gw.open_http()
        assert gw.response(sid)[0] == 204
        gw.shutdown()
    finally:
        gw.kill()


def test_lifespan_startup_failed():
    gw = FakeGateway('failing_startup:app')
    try:
        gw.handshake(lifespan='on')
        lsid, answer = gw.start_lifespan()
        assert answer == (lsid, 'lifespanStartupFailed', 'database unreachable')
        gw.shutdown()
    finally:
        gw.kill()


def test_eof_with_scopes_in_flight_exits_cleanly():
    gw = FakeGateway('basic:app')
    try:
        gw.handshake()
        gw.open_http('GET', '/wait-disconnect')
        gw.send(0, 'heartbeat', {'seq': 9})      # the scope is running once this comes back
        assert gw.expect('heartbeat', 0) == {'seq': 9}
        gw.sock.shutdown(1)
        err = gw.finish(0)
        assert 'Traceback' not in err and 'destroyed' not in err, err
    finally:
        gw.kill()
