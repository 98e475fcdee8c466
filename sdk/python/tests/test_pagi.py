"""PAGI-native apps against a fake gateway: hello advertises sse, the
pagi.connection callbacks follow responseDone / the backstop, the drain
future, the sse backstop."""
import pytest

from fake_gateway import FakeGateway


@pytest.fixture
def gw():
    g = FakeGateway('pagi_app:app')
    yield g
    g.kill()


def test_hello_advertises_http_websocket_and_sse(gw):
    hello = gw.handshake()
    assert hello['scopeTypes'] == 1 | 2 | 4
    assert hello['skipResponseDone'] is False  # on_complete needs responseDone
    gw.shutdown()


def test_on_complete_waits_for_response_done(gw):
    gw.handshake()
    sid = gw.open_http(path='/ok')
    status, headers, body, end = gw.response(sid)
    assert (status, body, end['failed']) == (200, b'ok', False)
    gw.send(sid, 'responseDone')
    err = gw.shutdown()
    assert 'app: /ok complete' in err
    assert 'disconnect' not in err


def test_backstop_is_a_server_error_disconnect(gw):
    gw.handshake()
    sid = gw.open_http(path='/nothing')
    status, headers, body, end = gw.response(sid)
    assert status == 500
    err = gw.shutdown()
    assert 'app: /nothing disconnect server_error' in err


def test_client_disconnect_reason(gw):
    gw.handshake()
    sid = gw.open_http(path='/drain')
    gw.send(sid, 'httpDisconnect', {'reason': 'write_timeout'})
    gw.send(0, 'drain', {'timeoutMs': 1000})
    assert gw.expect('scopeEnd', sid)['failed'] is False
    err = gw.shutdown()
    assert 'app: /drain disconnect write_timeout' in err


def test_drain_and_asgi_events_rejected(gw):
    gw.handshake()
    sid = gw.open_http(path='/drain')
    gw.send(0, 'drain', {'timeoutMs': 1500})
    assert gw.response(sid)[2] == b'1.5'
    sid = gw.open_http(path='/bad')
    assert gw.response(sid)[0] == 204
    err = gw.shutdown()
    assert 'rejected' in err


def test_sse_backstop(gw):
    gw.handshake()
    sid = gw.new_scope()
    m = {'type': 'sse', 'httpVersion': '1.1', 'method': 'GET', 'scheme': 'http', 'path': '/sse-nothing',
         'rawPath': b'/sse-nothing', 'headers': [], 'hasBody': True, 'body': b'', 'more': False}
    gw.send(sid, 'open', m)
    assert gw.expect('sseHttpResponseStart', sid)['status'] == 500
    assert gw.expect('sseHttpResponseBody', sid)['more'] is False
    assert gw.expect('scopeEnd', sid)['failed'] is False
    gw.shutdown()
