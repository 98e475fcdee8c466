#!/usr/bin/env python3
"""Writes the seed corpus of the websocket_frame fuzz target: client frame
streams (masked), valid and invalid, one file per seed, into corpus/websocket_frame/.
Run: /usr/bin/python3 tests/fuzz/gen_websocket_frame_corpus.py"""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "websocket_frame")
MASK = b"\x37\xfa\x21\x3d"


def frame(op, payload=b"", fin=True, rsv=0, masked=True, form=None):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    m = 0x80 if masked else 0
    if form is None:
        form = 0 if n < 126 else (126 if n <= 0xFFFF else 127)
    if form == 0:
        head = bytes([b0, m | n])
    elif form == 126:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + MASK + bytes(c ^ MASK[i % 4] for i, c in enumerate(payload))


def close(code=None, reason=b""):
    return frame(0x8, b"" if code is None else struct.pack(">H", code) + reason)


SEEDS = {
    "text": frame(0x1, b"Hello, world"),
    "binary_126": frame(0x2, bytes(range(256)) * 2),
    "binary_127_form": frame(0x2, b"abc", form=127),
    "fragmented_text": frame(0x1, b"Hel", fin=False) + frame(0x9, b"ping") + frame(0x0, b"lo"),
    "utf8_split": frame(0x1, "κόσμε".encode()[:3], fin=False) + frame(0x0, "κόσμε".encode()[3:]),
    "ping_pong": frame(0x9, b"x" * 125) + frame(0xA, b""),
    "close_normal": close(1000, b"bye"),
    "close_empty": close(),
    "close_bad_code": close(1005),
    "close_one_byte": frame(0x8, b"\x03"),
    "close_bad_utf8": close(1000, b"\xff"),
    "rsv1": frame(0x1, b"x", rsv=0x40),
    "opcode_3": frame(0x3, b""),
    "unmasked": frame(0x1, b"x", masked=False),
    "control_126": frame(0x9, b"x" * 126),
    "control_fragmented": frame(0x9, b"", fin=False),
    "bad_continuation": frame(0x0, b"x"),
    "nested_message": frame(0x1, b"a", fin=False) + frame(0x1, b"b"),
    "invalid_utf8": frame(0x1, b"\xce\xba\xed\xa0\x80"),
    "too_big": frame(0x2, b"z" * 1100),
    "huge_length": bytes([0x82, 0xFF]) + b"\x80" + b"\0" * 7 + MASK,
    "truncated": frame(0x1, b"partial")[:-3],
}

for name, data in SEEDS.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
