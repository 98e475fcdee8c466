"""A Starlette app on the worker runtime (skipped without python3-starlette)."""
import json

import pytest

pytest.importorskip('starlette')

from fake_gateway import FakeGateway  # noqa: E402


@pytest.fixture
def gw():
    g = FakeGateway('star:app')
    g.handshake(lifespan='on')
    lsid, answer = g.start_lifespan()
    assert answer[1] == 'lifespanStartupComplete', answer
    yield g
    g.kill()


def test_routing_json_and_lifespan_state(gw):
    sid = gw.open_http('GET', '/items/42', query=b'q=x', headers=[(b'host', b'localhost')])
    status, headers, body, end = gw.response(sid)
    assert status == 200
    assert (b'content-type', b'application/json') in headers
    assert json.loads(body) == {'id': 42, 'q': 'x', 'greeting': 'hi from lifespan'}
    sid = gw.open_http('GET', '/missing', headers=[(b'host', b'localhost')])
    assert gw.response(sid)[0] == 404
    gw.shutdown()


def test_json_post(gw):
    payload = json.dumps({'a': [1, 2]}).encode()
    sid = gw.open_http('POST', '/echo', headers=[(b'host', b'localhost'), (b'content-type', b'application/json'),
                                                  (b'content-length', str(len(payload)).encode())],
                       body=payload)
    status, headers, body, end = gw.response(sid)
    assert status == 201 and json.loads(body) == {'got': {'a': [1, 2]}}
    gw.shutdown()


def test_streaming_response(gw):
    sid = gw.open_http('GET', '/numbers', headers=[(b'host', b'localhost')])
    status, headers, body, end = gw.response(sid)
    assert (status, body) == (200, b'0\n1\n2\n')
    gw.shutdown()


def test_background_task_runs_before_scope_end(gw):
    sid = gw.open_http('GET', '/bg', headers=[(b'host', b'localhost')])
    status, headers, body, end = gw.response(sid)
    assert (status, body, end['failed']) == (200, b'queued', False)
    assert 'app: background task ran' in gw.shutdown()
