"""A Starlette app behind pagi-gateway, compared with uvicorn: routing with
path parameters, JSON in and out, a streamed event-stream response, a
background task after the response, form parsing; and lifespan state, which
only pagi-gateway offers of the two (uvicorn 0.17 predates it)."""
import json

import pytest

from httpraw import get
from pyref import RefServer, assert_same, python_config, case_id

pytest.importorskip("starlette")

APP = "star_app:app"


@pytest.fixture
def gateway(start_gateway, tmp_path, channel):
    return start_gateway(config=python_config(tmp_path, APP, pool={"env": channel.env}))


@pytest.fixture(scope="module")
def uvicorn():
    server = RefServer(APP)
    yield server
    server.stop()


JSON = [("Content-Type", "application/json")]


@pytest.mark.parametrize("method,target,headers,body", ids=case_id, argvalues=[
    ("GET", "/", None, b""),
    ("GET", "/items/1", None, b""),
    ("GET", "/items/404", None, b""),
    ("PUT", "/items/7", JSON, json.dumps({"name": "seven", "tags": ["a", "b"]}).encode()),
    ("POST", "/items/1", None, b""),                 # 405 with an Allow header
    ("GET", "/missing", None, b""),
    ("GET", "/numbers?count=5", None, b""),
    ("GET", "/numbers?count=0", None, b""),
    ("POST", "/form", [("Content-Type", "application/x-www-form-urlencoded")], b"a=1&b=two+words&c=%C3%A9"),
])
def test_answers_match_uvicorn(gateway, uvicorn, method, target, headers, body):
    assert_same(gateway, uvicorn, method, target, headers, body)


def test_background_task_runs_after_the_response(gateway, uvicorn, channel):
    r = assert_same(gateway, uvicorn, "GET", "/background?name=ours")
    assert r.body == b"queued"
    channel.wait_for("background ours ran")


def test_lifespan_ran_on_every_worker(gateway, channel):
    channel.wait_for("starlette startup")
    assert len([line for line in channel.lines() if line == "starlette startup"]) == 2


def test_lifespan_state_is_shared_with_requests(start_gateway, tmp_path, channel):
    gw = start_gateway(config=python_config(tmp_path, APP, pool={
        "workers": 1, "env": {**channel.env, "E2E_LIFESPAN_STATE": "1"}}))
    # The state dict is copied shallowly per request, so the list inside is
    # the one lifespan made: the count goes up across requests.
    counts = [json.loads(get(gw, "/lifespan-state").body) for _ in range(3)]
    assert counts == [{"started_by": "lifespan", "count": n} for n in (1, 2, 3)]


def test_lifespan_shutdown_runs_on_stop(start_gateway, tmp_path, channel):
    gw = start_gateway(config=python_config(tmp_path, APP, pool={"workers": 1, "env": channel.env}))
    assert get(gw, "/").status == 200
    gw.stop()
    assert gw.proc.returncode == 0, gw.output()
    channel.wait_for("starlette shutdown")
