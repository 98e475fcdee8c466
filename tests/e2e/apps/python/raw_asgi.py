"""A raw ASGI 3 app for the end-to-end tests: no framework, every event by
hand. Deterministic answers (no pids, ports or times) so its responses under
pagi-gateway and under uvicorn can be compared byte for byte.

Out of band, it appends lines to $E2E_EVENTS (when set) so tests can see what
the app saw, such as http.disconnect."""
import asyncio
import json
import os

EVENTS = os.environ.get("E2E_EVENTS")


def note(line):
    if EVENTS:
        with open(EVENTS, "a") as f:
            f.write(line + "\n")


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


async def respond(send, status, body, content_type=b"text/plain", extra=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())] + list(extra)})
    await send({"type": "http.response.body", "body": body})


async def lifespan(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.environ.get("E2E_FAIL_STARTUP"):
                await send({"type": "lifespan.startup.failed", "message": "database unreachable (on purpose)"})
                return
            if "state" in scope:
                scope["state"]["greeting"] = "set at startup"
            note("startup")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            note("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(scope, receive, send)
    assert scope["type"] == "http"
    path = scope["path"]
    if path == "/hello":
        return await respond(send, 200, b"Hello, world!")
    if path == "/scope":
        # The fields that do not depend on the server's address or port.
        seen = {
            "type": scope["type"], "asgi_version": scope["asgi"]["version"],
            "http_version": scope["http_version"], "method": scope["method"],
            "scheme": scope["scheme"], "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1") if scope.get("raw_path") is not None else None,
            "query_string": scope["query_string"].decode("latin-1"), "root_path": scope["root_path"],
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "client_host": scope["client"][0] if scope.get("client") else None,
        }
        return await respond(send, 200, json.dumps(seen, sort_keys=True).encode(), b"application/json")
    if path == "/wait-drain":
        # Answers once the gateway drains this worker (pagi_worker extension).
        note("waiting for drain")
        seconds = await scope["extensions"]["pagi.gateway"]["drain"]
        return await respond(send, 200, ("drained %g" % seconds).encode())
    if path == "/request-id":
        # The gateway's request id (pagi_worker extension; not under uvicorn).
        rid = scope["extensions"]["pagi.gateway"]["request_id"]
        return await respond(send, 200, rid.encode())
    if path == "/echo":
        body = await read_body(receive)
        return await respond(send, 200, body or b"", b"application/octet-stream",
                             [(b"x-body-length", str(len(body or b"")).encode())])
    if path == "/stream":
        # No content-length: the server frames it (chunked on HTTP/1.1).
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"x-multi", b"a"), (b"x-multi", b"b")]})
        for i in range(5):
            await send({"type": "http.response.body", "body": b"part %d\n" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if path == "/status":
        code = int(dict(pair.split("=") for pair in scope["query_string"].decode().split("&") if pair).get("code", 200))
        return await respond(send, code, b"status %d" % code)
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/state":
        state = scope.get("state", {})
        return await respond(send, 200, state.get("greeting", "no state").encode())
    if path == "/raise":
        raise RuntimeError("boom before the response")
    if path == "/no-response":
        return
    if path == "/crash":
        note("crashing pid %d" % os.getpid())
        os._exit(3)
    if path == "/pid":
        return await respond(send, 200, str(os.getpid()).encode())
    if path in ("/wait-disconnect", "/wait-disconnect-before-start"):
        # Reads the (empty) request, then waits for the client to leave;
        # /wait-disconnect starts the response first.
        if path == "/wait-disconnect":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"waiting\n", "more_body": True})
        message = await receive()
        while message["type"] == "http.request" and message.get("more_body"):
            message = await receive()
        note("waiting")
        if message["type"] == "http.request":
            message = await receive()
        note("received " + message["type"])
        return
    return await respond(send, 404, b"not found")
