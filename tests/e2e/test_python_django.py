"""Django behind pagi-gateway, as ASGI (compared with uvicorn) and as WSGI
(compared with gunicorn): plain and JSON views, URL converters, the
APPEND_SLASH redirect, a POST body, a streamed response, 404 and a view
that raises (500)."""
import json

import pytest

from pyref import RefServer, assert_same, python_config, case_id

pytest.importorskip("django")


def start_pair(tmp_path_factory, app, interface, kind):
    import conftest
    tmp = tmp_path_factory.mktemp(kind)
    gw = conftest.Gateway(["--config", python_config(tmp, app, interface=interface)], cwd=str(tmp))
    try:
        gw.wait_ready()
        ref = RefServer(app, kind=kind)
    except BaseException:
        gw.stop()
        raise
    return gw, ref


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def servers(request, tmp_path_factory):
    kind = request.param
    app = "djsite.asgi:application" if kind == "asgi" else "djsite.wsgi:application"
    gw, ref = start_pair(tmp_path_factory, app, kind, kind)
    yield gw, ref
    ref.stop()
    gw.stop()


@pytest.mark.parametrize("method,target,headers,body", ids=case_id, argvalues=[
    ("GET", "/hello", None, b""),
    ("HEAD", "/hello", None, b""),
    ("GET", "/items/42/?q=find+me", None, b""),
    ("GET", "/items/42?q=1", None, b""),                     # APPEND_SLASH -> 301
    ("GET", "/items/notanumber/", None, b""),                # 404
    ("POST", "/echo", [("Content-Type", "application/json")], json.dumps({"a": [1, 2, 3]}).encode()),
    ("POST", "/echo", [("Content-Type", "text/plain")], b"y" * 70000),
    ("GET", "/echo", None, b""),                             # 405
    ("GET", "/stream", None, b""),
    ("GET", "/fail", None, b""),                             # 500 from Django's handler
])
def test_answers_match_reference(servers, method, target, headers, body):
    gw, ref = servers
    assert_same(gw, ref, method, target, headers, body)
