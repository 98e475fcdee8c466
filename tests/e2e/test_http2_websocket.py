"""WebSocket over HTTP/2 (RFC 8441) to a Perl PAGI app (apps/ws/echo.pl):
SETTINGS_ENABLE_CONNECT_PROTOCOL advertised, Extended CONNECT answered 200,
WebSocket frames in the stream's DATA, the same websocket scope and close
codes as HTTP/1.1; denial responses; RST_STREAM ends only that WebSocket.
The client is tests/e2e/h2client.py over python3-h2 (h2c and TLS)."""
import os
import signal
import struct

import h2.settings

from conftest import APPS
from h2client import H2Client, WsOverH2, ws_close, ws_frame
from h2tls import make_pki, tls_entry

APP = "ws/echo.pl"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def test_settings_advertise_extended_connect(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        c.wait(lambda: c.remote_settings_seen, "SETTINGS")
        assert c.conn.remote_settings[h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL] == 1


def test_echo_text_bytes_and_subprotocol(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        ws = WsOverH2(c, "/", headers=[("sec-websocket-protocol", "chat, superchat")])
        assert ws.wait_head() == 200
        fields = dict(ws.stream.headers)
        assert fields["sec-websocket-protocol"] == "chat"
        assert "sec-websocket-accept" not in fields and "upgrade" not in fields
        ws.send(TEXT, b"hello")
        assert ws.recv() == (TEXT, b"echo: hello")
        ws.send(BINARY, bytes(range(256)) * 300)  # larger than a DATA frame
        assert ws.recv() == (BINARY, bytes(range(256)) * 300)
        ws.send(PING, b"p")
        assert ws.recv() == (PONG, b"p")
        # Another stream on the same connection meanwhile.
        plain = c.request("/plain")
        assert c.response(plain).data == b"not a websocket: http\n"
        ws.send(TEXT, b"close")
        assert ws.recv() == (CLOSE, struct.pack("!H", 4000) + b"bye")
        ws.c.send_data(ws.sid, ws_close(4000), end_stream=True)
        s = c.response(ws.sid)
        assert s.reset is None  # END_STREAM after the close handshake


def test_two_websockets_on_one_connection(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        a, b = WsOverH2(c, "/"), WsOverH2(c, "/")
        assert a.wait_head() == 200 and b.wait_head() == 200
        b.send(TEXT, b"to b")
        a.send(TEXT, b"to a")
        assert a.recv() == (TEXT, b"echo: to a")
        assert b.recv() == (TEXT, b"echo: to b")


def test_reject_and_denial(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        ws = WsOverH2(c, "/reject")
        assert ws.wait_head() == 403
        assert c.response(ws.sid).ended  # END_STREAM (then RST_STREAM NO_ERROR, the client still open)
        ws = WsOverH2(c, "/deny")
        assert ws.wait_head() == 401
        fields = dict(ws.stream.headers)
        assert fields["www-authenticate"] == "Bearer"
        assert c.response(ws.sid).data == b"unauthorized"


def test_bad_frames_close_as_on_http1(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        ws = WsOverH2(c, "/")
        assert ws.wait_head() == 200
        ws.send(TEXT, b"\xff\xfe")
        code = ws.recv()
        assert code[0] == CLOSE and struct.unpack("!H", code[1][:2])[0] == 1007
        ws = WsOverH2(c, "/")  # the connection is still good
        assert ws.wait_head() == 200
        c.send_data(ws.sid, b"\x81\x05hello")  # unmasked
        code = ws.recv()
        assert code[0] == CLOSE and struct.unpack("!H", code[1][:2])[0] == 1002


def test_version_and_plain_connect_refused(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        c.wait(lambda: c.remote_settings_seen, "SETTINGS")
        sid = c.request("/", method="CONNECT", end_stream=False, extra_pseudo=[(":protocol", "websocket")],
                        headers=[("sec-websocket-version", "8")])
        c.wait(lambda: c.streams[sid].headers is not None, "the answer")
        assert c.status(sid) == 426
        assert dict(c.streams[sid].headers)["sec-websocket-version"] == "13"


def test_reset_stream_reaches_the_app(start_gateway):
    gw = start_gateway(APP, pool={"workers": 1, "concurrency": 1})
    with H2Client(gw.port) as c:
        ws = WsOverH2(c, "/")
        assert ws.wait_head() == 200
        ws.send(TEXT, b"x")
        assert ws.recv() == (TEXT, b"echo: x")
        c.reset(ws.sid)
        # The app saw websocket.disconnect and returned: its one slot is free.
        ws = WsOverH2(c, "/")
        assert ws.wait_head() == 200
        ws.send(TEXT, b"next")
        assert ws.recv() == (TEXT, b"echo: next")


def test_over_tls(start_gateway, tmp_path):
    pki = make_pki(tmp_path)
    config = tmp_path / "tls.yaml"
    config.write_text(f"listen:\n  - {tls_entry(pki)}\nlog_level: info\npools:\n  app:\n"
                      f"    app: {os.path.join(APPS, APP)}\n    workers: 1\n")
    gw = start_gateway(config=str(config))
    with H2Client(gw.port, tls_ca=pki["ca"]) as c:
        ws = WsOverH2(c, "/")
        assert ws.wait_head() == 200
        ws.send(TEXT, b"secure")
        assert ws.recv() == (TEXT, b"echo: secure")


def test_graceful_stop_sends_going_away(start_gateway):
    gw = start_gateway(APP)
    with H2Client(gw.port) as c:
        ws = WsOverH2(c, "/")
        assert ws.wait_head() == 200
        ws.send(TEXT, b"x")
        assert ws.recv() == (TEXT, b"echo: x")
        gw.signal(signal.SIGTERM)
        frame = ws.recv()  # after the GOAWAY
        assert c.goaway == 0
        assert frame is not None and frame[0] == CLOSE and struct.unpack("!H", frame[1][:2])[0] == 1001
    # The client leaving ends the WebSocket and the gateway.
    assert gw.wait_exit() == 0
