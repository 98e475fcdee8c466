"""A small HTTP/2 client over python3-h2 (Debian) for what curl and nghttp
cannot do: SSE streams read event by event, RFC 8441 Extended CONNECT with
WebSocket framing over the stream's DATA, resets on cue. Plain sockets (h2c
prior knowledge) or TLS (ALPN h2)."""
import os
import socket
import ssl
import struct

import pytest

from conftest import EVENT_TIMEOUT

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings
except ImportError:  # pragma: no cover - scripts/install-deps installs it
    h2 = None


def need_h2():
    if h2 is None:
        pytest.skip("python3-h2 not installed (scripts/install-deps)")


class Stream:
    def __init__(self):
        self.headers = None       # response (final) header list, decoded
        self.interim = []         # 1xx header lists
        self.data = b""
        self.ended = False
        self.reset = None         # the RST_STREAM error code
        self.trailers = None


class H2Client:
    def __init__(self, port, host="127.0.0.1", tls_ca=None, server_name="localhost"):
        need_h2()
        sock = socket.create_connection((host, port), timeout=EVENT_TIMEOUT)
        if tls_ca is not None:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname=server_name)
            assert sock.selected_alpn_protocol() == "h2"
        self.sock = sock
        self.authority = f"{host}:{port}"
        self.scheme = "https" if tls_ca else "http"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.streams = {}
        self.goaway = None
        self.raw = b""
        self.remote_settings_seen = False
        self.flush()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path, method="GET", headers=(), body=None, end_stream=None, extra_pseudo=()):
        sid = self.conn.get_next_available_stream_id()
        fields = [(":method", method), *extra_pseudo, (":scheme", self.scheme), (":path", path),
                  (":authority", self.authority), *headers]
        if end_stream is None:
            end_stream = body is None
        self.conn.send_headers(sid, fields, end_stream=end_stream)
        self.streams[sid] = Stream()
        if body is not None:
            self.conn.send_data(sid, body, end_stream=True)
        self.flush()
        return sid

    def send_data(self, sid, data, end_stream=False):
        """In frames of the peer's size, waiting for window when it is shut."""
        while True:
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if len(data) <= room:
                break
            if room > 0:
                self.conn.send_data(sid, data[:room])
                data = data[room:]
                self.flush()
            elif not self.pump():
                raise AssertionError("connection closed while waiting for window")
        self.conn.send_data(sid, data, end_stream=end_stream)
        self.flush()

    def reset(self, sid, code=8):
        self.conn.reset_stream(sid, error_code=code)
        self.flush()

    def pump(self):
        """Reads once and processes the events; False when the peer closed."""
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            return False
        # Whole frames one at a time: python3-h2 refuses every frame after a
        # GOAWAY, so from then on DATA and RST_STREAM are read here.
        self.raw += data
        while len(self.raw) >= 9:
            n = int.from_bytes(self.raw[:3], "big")
            if len(self.raw) < 9 + n:
                break
            frame, self.raw = self.raw[:9 + n], self.raw[9 + n:]
            if self.goaway is None:
                for ev in self.conn.receive_data(frame):
                    self._on(ev)
            else:
                self._after_goaway(frame)
        if self.goaway is None:
            self.flush()
        return True

    def _after_goaway(self, frame):
        ftype, flags, sid = frame[3], frame[4], int.from_bytes(frame[5:9], "big") & 0x7FFFFFFF
        s = self.streams.get(sid)
        if s is None:
            return
        if ftype == 0:
            s.data += frame[9:]
            s.ended = s.ended or bool(flags & 1)
        elif ftype == 3:
            s.reset = int.from_bytes(frame[9:13], "big")

    def _on(self, ev):
        s = self.streams.get(getattr(ev, "stream_id", None))
        if isinstance(ev, h2.events.ResponseReceived):
            s.headers = ev.headers
        elif isinstance(ev, h2.events.InformationalResponseReceived):
            s.interim.append(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            s.data += ev.data
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.TrailersReceived):
            s.trailers = ev.headers
        elif isinstance(ev, h2.events.StreamEnded):
            s.ended = True
        elif isinstance(ev, h2.events.StreamReset):
            if s is not None:
                s.reset = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev.error_code
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.remote_settings_seen = True

    def wait(self, predicate, what="event"):
        while not predicate():
            if not self.pump():
                if predicate():
                    return
                raise AssertionError(f"connection closed while waiting for {what}")

    def status(self, sid):
        return int(dict(self.streams[sid].headers)[":status"])

    def response(self, sid):
        s = self.streams[sid]
        self.wait(lambda: s.ended or s.reset is not None, f"the end of stream {sid}")
        return s


# ---- WebSocket framing (RFC 6455) for a client: masked frames ----
def ws_frame(opcode, payload, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_close(code, reason=b""):
    return ws_frame(0x8, struct.pack("!H", code) + reason)


def ws_parse_one(buf):
    """The first server frame (unmasked) of `buf`: ((opcode, payload) or None, rest)."""
    if len(buf) < 2:
        return None, buf
    n, at = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None, buf
        n, at = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None, buf
        n, at = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < at + n:
        return None, buf
    return (buf[0] & 0x0F, buf[at:at + n]), buf[at + n:]


class WsOverH2:
    """One WebSocket over an Extended CONNECT stream of an H2Client."""

    def __init__(self, client, path, headers=()):
        self.c = client
        client.wait(lambda: client.remote_settings_seen, "the server's SETTINGS")
        self.sid = client.request(path, method="CONNECT", end_stream=False,
                                  extra_pseudo=[(":protocol", "websocket")],
                                  headers=[("sec-websocket-version", "13"), *headers])
        self.stream = client.streams[self.sid]
        self.rest = b""

    def wait_head(self):
        self.c.wait(lambda: self.stream.headers is not None or self.stream.reset is not None, "the CONNECT answer")
        return self.c.status(self.sid) if self.stream.headers is not None else None

    def send(self, opcode, payload):
        self.c.send_data(self.sid, ws_frame(opcode, payload))

    def recv(self):
        """The next server frame (opcode, payload); None when the stream ended first."""
        while True:
            frame, rest = ws_parse_one(self.stream.data)
            if frame is not None:
                self.stream.data = rest
                return frame
            if self.stream.ended or self.stream.reset is not None or not self.c.pump():
                return None
