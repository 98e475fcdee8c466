"""A WSGI app on the worker runtime."""
import pytest

from fake_gateway import FakeGateway


@pytest.fixture
def gw():
    g = FakeGateway('wsgi_app:app')
    yield g
    g.kill()


def test_wsgi_hello_says_concurrency_one(gw):
    hello = gw.handshake(lifespan='auto')
    assert hello['concurrency'] == 1
    assert hello['skipResponseDone'] is True  # WSGI has no on_complete
    # WSGI has no lifespan: the worker answers unsupported by itself.
    lsid, answer = gw.start_lifespan()
    assert answer[1] == 'lifespanUnsupported'
    gw.shutdown()


def test_wsgi_environ(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/env', query=b'q=1', headers=[(b'x-test', b'yes'), (b'content-type', b'text/x')],
                       requestId='rid-7')
    status, headers, body, end = gw.response(sid)
    assert status == 200
    lines = dict(line.split('=', 1) for line in body.decode().split('\n'))
    assert lines == {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/env', 'QUERY_STRING': 'q=1',
                     'SERVER_PROTOCOL': 'HTTP/1.1', 'HTTP_X_TEST': 'yes', 'CONTENT_TYPE': 'text/x',
                     'REMOTE_ADDR': '127.0.0.1', 'wsgi.url_scheme': 'http', 'request_id': 'rid-7'}
    assert end['failed'] is False
    gw.shutdown()


def test_wsgi_post_body_in_chunks(gw):
    gw.handshake(receive_window=8)
    sid = gw.open_http('POST', '/echo', body=b'abcd', more=True)
    assert gw.expect('credit', sid)['bytes'] == 4
    gw.send(sid, 'httpRequest', {'body': b'efgh', 'more': True})
    assert gw.expect('credit', sid)['bytes'] == 4
    gw.send(sid, 'httpRequest', {'body': b'ij', 'more': False})
    status, headers, body, end = gw.response(sid)
    assert (status, body) == (200, b'abcdefghij')
    assert (b'x-len', b'10') in headers
    gw.shutdown()


def test_wsgi_iterable_streamed_and_closed(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/gen')
    start = gw.expect('httpResponseStart', sid)
    assert start['status'] == 201
    chunks = []
    while True:
        p = gw.expect('httpResponseBody', sid)
        chunks.append(p['body'])
        if not p['more']:
            break
    assert chunks == [b'a', b'b', b'c']
    gw.expect('scopeEnd', sid)
    assert 'app: close() called' in gw.shutdown()


def test_wsgi_exception_gives_500(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/boom')
    status, headers, body, end = gw.response(sid)
    assert status == 500 and end['failed'] is True
    assert 'wsgi boom' in gw.shutdown()
