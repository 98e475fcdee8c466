"""RFC 6455 enforcement by the gateway, with a raw-socket client sending
malformed frames: each fails the connection with the right close code
(1002 protocol error, 1007 bad UTF-8) and the gateway then closes."""
import pytest

from wsraw import RawWebSocket, close_frame, frame

APP = "ws/echo.pl"

CASES = {
    "rsv1": (frame(0x1, "x", rsv=0x40), 1002),
    "rsv3": (frame(0x2, "x", rsv=0x10), 1002),
    "opcode_3": (frame(0x3, ""), 1002),
    "opcode_b": (frame(0xB, ""), 1002),
    "unmasked": (frame(0x1, "x", masked=False), 1002),
    "ping_126": (frame(0x9, b"x" * 126), 1002),
    "fragmented_ping": (frame(0x9, b"", fin=False), 1002),
    "stray_continuation": (frame(0x0, "x"), 1002),
    "nested_message": (frame(0x1, "a", fin=False) + frame(0x1, "b"), 1002),
    "close_1_byte": (frame(0x8, b"\x03"), 1002),
    "close_1005": (close_frame(1005), 1002),
    "close_999": (close_frame(999), 1002),
    "close_bad_utf8": (close_frame(1000, b"\xff"), 1007),
    "text_bad_utf8": (frame(0x1, b"\xc0\xaf"), 1007),
    "utf8_bad_in_second_fragment": (frame(0x1, "ok", fin=False) + frame(0x0, b"\xff"), 1007),
}


@pytest.fixture
def gw(start_gateway):
    return start_gateway(APP)


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_frame_fails_the_connection(gw, name):
    data, code = CASES[name]
    with RawWebSocket.connect(gw) as ws:
        assert ws.status == 101
        ws.send(data)
        assert ws.read_close()[0] == code
        assert ws.at_eof()


def test_valid_close_codes_are_echoed(gw):
    for code in (1000, 1001, 1003, 1007, 1011, 3000, 4999):
        with RawWebSocket.connect(gw) as ws:
            ws.send(close_frame(code, b"r"))
            assert ws.read_close()[0] == code


def test_handshake_errors(gw):
    from conftest import raw_request
    bad_version = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 8\r\n\r\n")
    r = raw_request(gw, bad_version)
    assert r.startswith(b"HTTP/1.1 426 ")
    assert b"\r\nsec-websocket-version: 13\r\n" in r.lower()
    no_key = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
    assert raw_request(gw, no_key).startswith(b"HTTP/1.1 400 ")


def test_ping_between_fragments(gw):
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x1, "a", fin=False) + frame(0x9, "p") + frame(0x0, "b"))
        assert ws.read_frame() == (0xA, b"p")
        assert ws.read_frame() == (0x1, b"echo: ab")
