"""File responses: `http.response.body` with `file` (+ offset/length) is
served by the gateway from disk; a missing file fails the app's send."""
import os
import subprocess

import pytest

from httpraw import Conn, request

APP = "app.pl"


@pytest.fixture
def data_file(channel):
    data = os.urandom(300 * 1024 + 17)
    with open(os.path.join(channel.dir, "data.bin"), "wb") as f:
        f.write(data)
    return data


def fetch(gw, target):
    with Conn.to(gw) as c:
        c.send(request("GET", target))
        r = c.read_response()
        c.send(request("GET", "/hello"))      # the connection stays usable
        assert c.read_response().body == b"Hello, world!\n"
    return r


def test_whole_file(start_gateway, channel, data_file):
    gw = start_gateway(APP, pool={"env": channel.env})
    r = fetch(gw, "/file?name=data.bin")
    assert r.status == 200
    assert len(r.body) == len(data_file) and r.body == data_file
    channel.wait_for("file sent data.bin")


def test_file_offset_and_length(start_gateway, channel, data_file):
    gw = start_gateway(APP, pool={"env": channel.env})
    r = fetch(gw, "/file?name=data.bin&offset=1000&length=70000")
    assert r.status == 200 and r.body == data_file[1000:71000]


def test_file_offset_to_end(start_gateway, channel, data_file):
    gw = start_gateway(APP, pool={"env": channel.env})
    r = fetch(gw, "/file?name=data.bin&offset=300000")
    assert r.body == data_file[300000:]


def test_file_offset_past_end_sends_nothing(start_gateway, channel, data_file):
    gw = start_gateway(APP, pool={"env": channel.env})
    r = fetch(gw, f"/file?name=data.bin&offset={len(data_file) + 10}")
    assert r.status == 200 and r.body == b""


def test_file_through_curl(start_gateway, channel, data_file, tmp_path):
    gw = start_gateway(APP, pool={"env": channel.env})
    out = tmp_path / "got.bin"
    done = subprocess.run(["curl", "-sS", "--max-time", "30", "-o", str(out),
                           gw.url + "/file?name=data.bin"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == data_file


def test_missing_file_fails_the_send(start_gateway, channel):
    gw = start_gateway(APP, pool={"env": channel.env})
    with Conn.to(gw) as c:
        c.send(request("GET", "/file?name=no-such-file.bin"))
        line = channel.wait_for("file send ")
        assert line.startswith("file send failed: "), line
        assert len(line) > len("file send failed: "), "the failure carries no message"
        # What the client then gets is the app's choice (here: a body naming
        # the failure); it must not hang.
        r = c.read_response()
        assert r.status == 200
        assert r.body.startswith(b"send failed: ")
