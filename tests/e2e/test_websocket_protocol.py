"""RFC 6455 enforcement by the gateway, with a raw-socket client sending
malformed frames: each fails the connection with the right close code
(1002 protocol error, 1007 bad UTF-8) and the gateway then closes."""
import struct

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
    # the list, completed: every RSV bit, reserved data and control
    # opcodes, every oversized or fragmented control frame, reserved close
    # codes, UTF-8 broken across fragment boundaries, a 64-bit length with
    # its top bit set
    "rsv2": (frame(0x1, "x", rsv=0x20), 1002),
    "rsv1_on_continuation": (frame(0x1, "a", fin=False) + frame(0x0, "b", rsv=0x40), 1002),
    "rsv1_on_ping": (frame(0x9, "p", rsv=0x40), 1002),
    "opcode_7": (frame(0x7, ""), 1002),
    "opcode_f": (frame(0xF, ""), 1002),
    "unmasked_ping": (frame(0x9, "p", masked=False), 1002),
    "pong_126": (frame(0xA, b"x" * 126), 1002),
    "close_126": (frame(0x8, struct.pack(">H", 1000) + b"r" * 124), 1002),
    "fragmented_close": (frame(0x8, struct.pack(">H", 1000), fin=False), 1002),
    "length_top_bit": (bytes([0x81, 0xFF]) + struct.pack(">Q", 1 << 63) + b"\x00" * 4, 1002),
    "close_0": (close_frame(0), 1002),
    "close_1004": (close_frame(1004), 1002),
    "close_1006": (close_frame(1006), 1002),
    "close_1015": (close_frame(1015), 1002),
    "close_1016": (close_frame(1016), 1002),
    "close_1100": (close_frame(1100), 1002),
    "close_2000": (close_frame(2000), 1002),
    "close_2999": (close_frame(2999), 1002),
    "close_5000": (close_frame(5000), 1002),
    "close_65535": (close_frame(65535), 1002),
    "utf8_split_code_point_bad_continuation": (frame(0x1, b"\xe2\x82", fin=False) + frame(0x0, b"\x28"), 1007),
    "utf8_truncated_at_message_end": (frame(0x1, b"ok\xe2\x82", fin=False) + frame(0x0, b""), 1007),
    "utf8_overlong_split": (frame(0x1, b"\xe0", fin=False) + frame(0x0, b"\x80\x80"), 1007),
    "utf8_surrogate_split": (frame(0x1, b"\xed", fin=False) + frame(0x0, b"\xa0\x80"), 1007),
    "utf8_above_max_split": (frame(0x1, b"\xf4\x90", fin=False) + frame(0x0, b"\x80\x80"), 1007),
    # fails fast: the first byte already can never start valid UTF-8
    "utf8_bad_first_fragment_unfinished": (frame(0x1, b"\xff", fin=False), 1007),
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
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999):
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


def test_utf8_code_points_split_across_fragments_are_accepted(gw):
    text = "h\u00e9\u20ac\U0001f600!"  # 1-, 2-, 3- and 4-byte sequences
    data = text.encode()
    with RawWebSocket.connect(gw) as ws:
        # one byte per fragment: every code point is cut at every position
        frames = [frame(0x1 if i == 0 else 0x0, data[i:i + 1], fin=i == len(data) - 1) for i in range(len(data))]
        ws.send(b"".join(frames))
        assert ws.read_frame() == (0x1, ("echo: " + text).encode())


def test_fragmented_binary_is_reassembled(gw):
    parts = [bytes([i]) * (i * 37 % 300) for i in range(1, 12)]
    with RawWebSocket.connect(gw) as ws:
        ws.send(b"".join(frame(0x2 if i == 0 else 0x0, p, fin=i == len(parts) - 1) for i, p in enumerate(parts)))
        assert ws.read_frame() == (0x2, b"".join(parts))


def test_fragments_with_empty_payloads_are_reassembled(gw):
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x1, b"", fin=False) + frame(0x0, b"a", fin=False) + frame(0x0, b"", fin=False) + frame(0x0, b""))
        assert ws.read_frame() == (0x1, b"echo: a")


def test_ping_payload_is_returned_unchanged(gw):
    payload = bytes(range(125))  # the largest control payload
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x9, payload) + frame(0x9, b""))
        assert ws.read_frame() == (0xA, payload)
        assert ws.read_frame() == (0xA, b"")


def test_unsolicited_pong_is_ignored(gw):
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0xA, b"unasked") + frame(0x1, "still here"))
        assert ws.read_frame() == (0x1, b"echo: still here")


def test_close_without_code_is_answered_with_an_empty_close(gw):
    with RawWebSocket.connect(gw) as ws:
        ws.send(close_frame())
        assert ws.read_frame() == (0x8, b"")
        assert ws.at_eof()


def test_data_after_close_is_ignored(gw):
    with RawWebSocket.connect(gw) as ws:
        ws.send(close_frame(1000) + frame(0x1, "too late"))
        assert ws.read_close()[0] == 1000
        assert ws.at_eof()


@pytest.mark.parametrize("fragmented", [False, True])
def test_message_over_limit_closes_1009(start_gateway, fragmented):
    gw = start_gateway(APP, http={"max_ws_message_size": "1k"})
    with RawWebSocket.connect(gw) as ws:
        if fragmented:
            ws.send(frame(0x2, b"a" * 600, fin=False) + frame(0x0, b"a" * 600))
        else:
            # only the header: the announced length alone is over the limit
            ws.send(frame(0x2, b"a" * 2000)[:8])
        assert ws.read_close()[0] == 1009
        assert ws.at_eof()


def test_a_message_of_the_largest_allowed_size_can_be_echoed(start_gateway):
    # The workers' frame limit (pools.*.max_message_bytes, here set lower)
    # is raised to hold max_ws_message_size plus headroom: the app can send
    # back what the client was allowed to send (Autobahn 9.1.6/9.2.6 with
    # the 16m default got 1011 before).
    gw = start_gateway(APP, http={"max_ws_message_size": "2m"}, pool={"max_message_bytes": "1m"})
    payload = bytes(range(256)) * (2 * 1024 * 1024 // 256)
    with RawWebSocket.connect(gw) as ws:
        ws.send(frame(0x2, payload))
        assert ws.read_frame() == (0x2, payload)
