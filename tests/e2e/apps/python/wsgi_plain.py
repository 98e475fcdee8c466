"""A plain WSGI app for the end-to-end tests: environ echo, streamed
iterable with close(), and wsgi.input read in pieces."""
import json
import os

EVENTS = os.environ.get("E2E_EVENTS")


def note(line):
    if EVENTS:
        with open(EVENTS, "a") as f:
            f.write(line + "\n")


class Streamed:
    """An iterable response whose close() the server must call."""

    def __init__(self, parts):
        self.parts = parts

    def __iter__(self):
        return iter(self.parts)

    def close(self):
        note("close called")


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/hello":
        body = b"Hello, WSGI!"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/environ":
        keys = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_PROTOCOL",
                "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_HOST", "HTTP_X_CUSTOM", "wsgi.url_scheme"]
        seen = {k: environ.get(k) for k in keys}
        seen["wsgi.version"] = list(environ["wsgi.version"])
        body = json.dumps(seen, sort_keys=True).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/request-id":
        # The gateway's request id (pagi_worker's environ key; not under gunicorn).
        body = environ["pagi.gateway"]["request_id"].encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    if path == "/echo":
        stream = environ["wsgi.input"]
        chunks = []
        while True:
            chunk = stream.read(1000)
            if not chunk:
                break
            chunks.append(chunk)
        body = b"".join(chunks)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body))), ("X-Chunks", str(len(chunks)))])
        return [body]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Streamed([b"one\n", b"two\n", b"three\n"])
    if path == "/raise":
        raise RuntimeError("wsgi boom")
    if path == "/pid":
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]
