"""A tiny HTTP/1.x client over raw sockets, so tests see exactly what the
gateway writes: status line, every header as sent, chunk framing, trailers,
and whether the connection was closed afterwards."""
import socket
import time


# Idle timers far beyond closed_by_peer's wait: a close seen within that wait
# was the gateway's decision, not an idle timeout.
LONG_IDLE = {"keepalive_timeout": 120, "header_timeout": 120}


class Response:
    def __init__(self):
        self.version = None
        self.status = None
        self.reason = None
        self.headers = []      # [(name-lowercased, value)] in wire order
        self.raw_head = b""
        self.body = b""
        self.chunks = []       # chunk sizes, for chunked responses
        self.trailers = []     # [(name-lowercased, value)]
        self.raw_trailer = b""
        self.chunked = False

    def header(self, name):
        values = self.all(name)
        return values[0] if values else None

    def all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def __repr__(self):
        return f"<Response {self.status} {self.headers!r} body={self.body[:200]!r}>"


class Conn:
    """One client connection with a read buffer; parses responses one by one."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    @classmethod
    def to(cls, gw, timeout=30.0, rcvbuf=None):
        if gw.unix_path:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(gw.unix_path)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.settimeout(timeout)
            s.connect((gw.host, gw.port))
        return cls(s)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, size=65536):
        if self.eof:
            return False
        chunk = self.sock.recv(size)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed inside a line; buffered {self.buf[:200]!r}")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"connection closed after {len(self.buf)} of {n} bytes")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_to_close(self):
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data

    def closed_by_peer(self, timeout=10.0):
        """True if the gateway closes the connection (EOF or reset) with no
        further bytes; raises if it sends more data or keeps the connection
        open for `timeout` (tests that use this set the idle timers far
        longer, see LONG_IDLE, so only a deliberate close passes)."""
        self.sock.settimeout(timeout)
        try:
            extra = self.read_to_close()
        except ConnectionResetError:
            return True
        except TimeoutError:
            raise AssertionError(f"gateway kept the connection open for {timeout}s")
        assert extra == b"", f"unexpected bytes after the response: {extra[:300]!r}"
        return True

    def _read_fields(self):
        fields, raw = [], b""
        while True:
            line = self.read_line()
            raw += line + b"\r\n"
            if line == b"":
                return fields, raw
            name, _, value = line.partition(b":")
            fields.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))

    def read_response(self, head=False, interim=False):
        """Reads one response. With interim=False, 1xx responses are skipped
        (and recorded in self.interims)."""
        while True:
            r = Response()
            status_line = self.read_line()
            r.raw_head = status_line + b"\r\n"
            parts = status_line.decode("latin-1").split(" ", 2)
            r.version, r.status = parts[0], int(parts[1])
            r.reason = parts[2] if len(parts) > 2 else ""
            r.headers, raw = self._read_fields()
            r.raw_head += raw
            if 100 <= r.status < 200 and not interim:
                self.interims = getattr(self, "interims", []) + [r]
                continue
            break
        if head or r.status in (204, 304) or 100 <= r.status < 200:
            return r
        te = (r.header("transfer-encoding") or "").lower()
        if "chunked" in te:
            r.chunked = True
            body = []
            while True:
                size_line = self.read_line()
                size = int(size_line.split(b";")[0].strip(), 16)
                r.chunks.append(size)
                if size == 0:
                    break
                body.append(self.read_exact(size))
                assert self.read_exact(2) == b"\r\n", "chunk not followed by CRLF"
            r.body = b"".join(body)
            r.trailers, r.raw_trailer = self._read_fields()
        elif r.header("content-length") is not None:
            r.body = self.read_exact(int(r.header("content-length")))
        else:
            r.body = self.read_to_close()
        return r


def request(method, target, headers=None, body=b"", version="HTTP/1.1", host=True):
    """Request bytes; `headers` is a list of (name, value) kept in order."""
    lines = [f"{method} {target} {version}"]
    if host:
        lines.append("Host: e2e.test")
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers or []):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(parts):
    """Chunked body bytes for the given parts, with the final zero chunk."""
    out = b""
    for part in parts:
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


def get(gw, target, headers=None, **kw):
    with Conn.to(gw) as c:
        c.send(request("GET", target, headers))
        return c.read_response(**kw)


def wait_until(predicate, what, timeout=30.0, interval=0.02):
    """Polls `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        time.sleep(interval)


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def wait_for_line(path, needle, timeout=30.0):
    """Waits until the events file at `path` has a line containing `needle`."""
    def found():
        return next((line for line in read_lines(path) if needle in line), None)
    return wait_until(found, lambda: f"{needle!r} in {path}; it holds {read_lines(path)!r}", timeout)
