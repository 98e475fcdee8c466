"""bench/run-python wsgi-hello: a WSGI app answering "hello" (5 bytes)."""

HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "5")]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [b"hello"]
