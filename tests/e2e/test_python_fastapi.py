"""A FastAPI app behind pagi-gateway, compared with uvicorn: validation
errors (422), dependency injection (query paging, a header token giving 401
with WWW-Authenticate), JSON models, form bodies and a multipart file
upload, and a plain `def` endpoint run in the thread pool."""
import json

import pytest

from pyref import RefServer, assert_same, python_config, case_id

pytest.importorskip("fastapi")
pytest.importorskip("multipart")

APP = "fast_app:app"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    # One gateway for the module: FastAPI takes a while to import.
    import conftest
    tmp = tmp_path_factory.mktemp("fastapi")
    gw = conftest.Gateway(["--config", python_config(tmp, APP)], cwd=str(tmp))
    try:
        gw.wait_ready()
        ref = RefServer(APP)
    except BaseException:
        gw.stop()
        raise
    yield gw, ref
    ref.stop()
    gw.stop()


JSON = [("Content-Type", "application/json")]
TOKEN = [("X-Token", "secret")]


def multipart(fields, files):
    boundary = "e2eBoundary7MA4YWxkTrZu0gW"
    out = b""
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode() + value + b"\r\n"
    for name, filename, ctype, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                f"Content-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return [("Content-Type", f"multipart/form-data; boundary={boundary}")], out


UPLOAD_HEADERS, UPLOAD_BODY = multipart([("note", b"hello")],
                                        [("file", "data.bin", "application/octet-stream", bytes(range(256)) * 800)])


@pytest.mark.parametrize("method,target,headers,body", ids=case_id, argvalues=[
    ("GET", "/", None, b""),
    ("GET", "/items/5?skip=2&limit=3", None, b""),
    ("GET", "/items/five", None, b""),                       # path validation -> 422
    ("GET", "/items/5?limit=1000", None, b""),               # dependency validation -> 422
    ("POST", "/items", JSON + TOKEN, json.dumps({"name": "pen", "price": 1.5, "tags": ["x"]}).encode()),
    ("POST", "/items", JSON + TOKEN, json.dumps({"name": "pen"}).encode()),  # body validation -> 422
    ("POST", "/items", JSON + TOKEN, b"{not json"),                           # malformed -> 422
    ("POST", "/items", JSON, json.dumps({"name": "pen", "price": 2}).encode()),  # no token -> 401
    ("POST", "/login", [("Content-Type", "application/x-www-form-urlencoded")], b"username=bob&password=hunter2"),
    ("POST", "/login", [("Content-Type", "application/x-www-form-urlencoded")], b"username=bob"),
    ("POST", "/upload", UPLOAD_HEADERS, UPLOAD_BODY),
    ("GET", "/sync?q=threads", None, b""),
    ("GET", "/openapi.json", None, b""),
    ("DELETE", "/", None, b""),                                # 405
])
def test_answers_match_uvicorn(servers, method, target, headers, body):
    gw, ref = servers
    r = assert_same(gw, ref, method, target, headers, body)
    if target == "/upload":
        assert json.loads(r.body)["size"] == 256 * 800
