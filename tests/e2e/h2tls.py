"""Helpers for the HTTP/2 and TLS end-to-end tests: a test PKI made with the
openssl CLI at test time (no committed keys), gateway configs whose listen
entries are maps ({address, tls, h2c}), and curl/nghttp runners."""
import json
import os
import shutil
import subprocess

from conftest import APPS, EVENT_TIMEOUT

H2_APP = os.path.join(APPS, "h2_app.pl")


def need(tool):
    import pytest
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed (scripts/install-deps)")


def _run(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(tmp_path):
    """CA, server (localhost, 127.0.0.1), client (CN=alice,O=Example) and a
    self-signed rogue client."""
    d = tmp_path / "pki"
    d.mkdir()
    cwd = str(d)
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
          "-days", "1", "-subj", "/CN=Test CA"], cwd)
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, subject, ext in (("server", "/CN=localhost", True), ("client", "/O=Example/CN=alice", False)):
        _run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
              "-subj", subject], cwd)
        args = ["openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "1"]
        if ext:
            args += ["-extfile", "san.ext"]
        _run(args, cwd)
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem",
          "-days", "1", "-subj", "/CN=rogue"], cwd)
    return {k: str(d / v) for k, v in {
        "ca": "ca.pem", "cert": "server.pem", "key": "server.key", "client_cert": "client.pem",
        "client_key": "client.key", "rogue_cert": "rogue.pem", "rogue_key": "rogue.key"}.items()}


def write_config(tmp_path, listen, http=None, env=None, workers=2):
    """`listen`: list of YAML flow texts or plain addresses."""
    lines = ["listen:"] + [f"  - {entry}" for entry in listen]
    lines.append("log_level: info")
    if http:
        lines.append("http:")
        lines += [f"  {k}: {v}" for k, v in http.items()]
    lines += ["pools:", "  app:", f"    app: {H2_APP}", f"    workers: {workers}"]
    if env:
        lines.append("    env:")
        lines += [f"      {k}: \"{v}\"" for k, v in env.items()]
    path = tmp_path / "gateway.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def tls_entry(pki, **tls):
    opts = {"cert": pki["cert"], "key": pki["key"], **tls}
    inner = ", ".join(f"{k}: {json.dumps(v) if isinstance(v, list) else v}" for k, v in opts.items())
    return "{address: \"127.0.0.1:0\", tls: {" + inner + "}}"


def curl(*args, check=True):
    """curl -s with the given args; returns (status line list, headers text, body)."""
    proc = subprocess.run(["curl", "-s", "-S", "--max-time", str(int(EVENT_TIMEOUT)), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and proc.returncode != 0:
        raise AssertionError(f"curl {args} failed ({proc.returncode}): {proc.stderr.decode()}")
    return proc


def curl_json(*args):
    return json.loads(curl(*args).stdout)


def headers_of(scope):
    return {name: value for name, value in scope["headers"]}


# ---- a few raw HTTP/2 frames, for what curl and nghttp cannot do on cue ----
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 1, 4, 1


def frame(ftype, flags, stream, payload=b""):
    n = len(payload)
    return bytes([n >> 16 & 255, n >> 8 & 255, n & 255, ftype, flags]) + stream.to_bytes(4, "big") + payload


def literal(name, value):
    """HPACK literal without indexing, new name, no Huffman (short strings)."""
    name, value = name.encode(), value.encode()
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def request_headers(path, method="GET", authority="localhost"):
    return (literal(":method", method) + literal(":scheme", "http") + literal(":path", path)
            + literal(":authority", authority))


class RawH2:
    """A prior-knowledge HTTP/2 client on a plain socket."""

    def __init__(self, host, port):
        import socket
        self.sock = socket.create_connection((host, port), timeout=EVENT_TIMEOUT)
        self.buf = b""
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))

    def send(self, data):
        self.sock.sendall(data)

    def get(self, stream, path, end=True):
        self.send(frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), stream, request_headers(path)))

    def next_frame(self):
        """(type, flags, stream, payload), or None at EOF."""
        while True:
            if len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + n:
                    f = (self.buf[3], self.buf[4], int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF,
                         self.buf[9:9 + n])
                    self.buf = self.buf[9 + n:]
                    if f[0] == SETTINGS and not f[1] & ACK:
                        self.send(frame(SETTINGS, ACK, 0))
                    return f
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def wait_for(self, ftype, stream=None):
        while True:
            f = self.next_frame()
            if f is None:
                raise AssertionError(f"connection closed before frame type {ftype}")
            if f[0] == ftype and (stream is None or f[2] == stream):
                return f

    def close(self):
        self.sock.close()
