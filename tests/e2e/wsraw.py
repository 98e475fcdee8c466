"""A raw-socket WebSocket client for the e2e tests: the opening handshake
by hand, masked client frames built byte by byte (so a test can send what
no real client would), and unmasked server frames read back."""
import base64
import os
import socket
import struct

from conftest import EVENT_TIMEOUT

KEY = base64.b64encode(b"0123456789abcdef").decode()


def frame(opcode, payload=b"", fin=True, rsv=0, masked=True, mask=b"\x11\x22\x33\x44"):
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n <= 0xFFFF:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def close_frame(code=None, reason=b""):
    return frame(0x8, b"" if code is None else struct.pack(">H", code) + reason)


class RawWebSocket:
    def __init__(self, sock, head, rest):
        self.sock = sock
        self.head = head          # the response head, as text
        self.buf = rest

    @classmethod
    def connect(cls, gw, path="/", headers=None, timeout=EVENT_TIMEOUT):
        sock = socket.create_connection((gw.host, gw.port), timeout=timeout)
        lines = [f"GET {path} HTTP/1.1", f"Host: {gw.host}:{gw.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or [])]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        return cls(sock, head.decode("latin-1"), rest)

    @property
    def status(self):
        return int(self.head.split(" ", 2)[1])

    def header(self, name):
        for line in self.head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None

    def send(self, data):
        self.sock.sendall(data)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def read_frame(self):
        """(opcode, payload) of the next server frame; EOFError at close."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert b1 & 0x80 == 0, "server frames are never masked"
        n, pos = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, pos = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, pos = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(pos + n)
        payload = self.buf[pos:pos + n]
        self.buf = self.buf[pos + n:]
        return b0 & 0x0F, payload

    def read_close(self):
        """Skips data frames; returns (code, reason) of the server's Close."""
        while True:
            op, payload = self.read_frame()
            if op == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:].decode()

    def read_body(self):
        """The rest of the stream until the server closes (a denial body)."""
        data = self.buf
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def at_eof(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
