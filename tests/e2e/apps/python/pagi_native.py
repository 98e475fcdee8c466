"""A PAGI-native Python app (marked with `pagi_app = True`): PAGI scope
shapes, http with `more`, a `file` body, `pagi.connection` callbacks, an sse
stream and its decline, and a websocket echo. Notes what it saw in
$E2E_EVENTS (when set)."""
import json
import os

EVENTS = os.environ.get("E2E_EVENTS")


def note(line):
    if EVENTS:
        with open(EVENTS, "a") as f:
            f.write(line + "\n")


async def app(scope, receive, send):
    t = scope["type"]
    if t == "lifespan":
        return await lifespan(scope, receive, send)
    if t == "sse":
        return await sse(scope, receive, send)
    if t == "websocket":
        return await websocket(scope, receive, send)
    path = scope["path"]
    if path == "/info":
        gw = scope["pagi.gateway"]
        conn = scope["pagi.connection"]
        seen = {
            "type": t, "pagi": scope["pagi"], "method": scope["method"], "path": path,
            "query_string": scope["query_string"].decode(), "request_id": gw["request_id"],
            "state": scope["state"], "started": conn.response_started(),
            "high_water": scope["pagi.transport"].high_water_mark(),
        }
        ev = await receive()
        seen["first_event"] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in ev.items()}
        conn.on_complete(lambda: note("info complete"))
        return await respond(send, 200, json.dumps(seen, sort_keys=True).encode())
    if path == "/echo":
        body = b""
        while True:
            ev = await receive()
            body += ev["body"]
            if not ev["more"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body[:3], "more": True})
        await send({"type": "http.response.body", "body": body[3:]})
        return
    if path == "/file":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "file": os.path.abspath(__file__), "offset": 3, "length": 10})
        return
    if path == "/slow":
        conn = scope["pagi.connection"]
        conn.on_disconnect(lambda reason: note("slow disconnect " + reason))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more": True})
        reason = await conn.disconnect_future()
        note("slow future " + reason)
        return
    return await respond(send, 404, b"not found")


app.pagi_app = True


async def respond(send, status, body):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def lifespan(scope, receive, send):
    while True:
        ev = await receive()
        if ev["type"] == "lifespan.startup":
            scope["state"]["from"] = "startup %s" % ("pagi" in scope)
            await send({"type": "lifespan.startup.complete"})
        elif ev["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def sse(scope, receive, send):
    ev = await receive()
    assert ev["type"] == "sse.request", ev
    if scope["path"] == "/denied":
        await send({"type": "sse.http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "sse.http.response.body", "body": b"no", "more": True})
        await send({"type": "sse.http.response.body", "body": b"pe"})
        return
    await send({"type": "sse.start", "status": 200, "headers": [(b"x-request-id-seen", scope["pagi.gateway"]["request_id"].encode())]})
    await send({"type": "sse.send", "event": "hello", "id": "1", "data": "one\ntwo"})
    await send({"type": "sse.comment", "comment": "a comment"})
    await send({"type": "sse.send", "data": "caf\u00e9", "retry": 1500})
    if scope["path"] == "/events-wait":
        # Runs until the client leaves: sse.disconnect with the reason.
        ev = await receive()
        note("sse %s %s" % (ev["type"], ev["reason"]))
        return
    await send({"type": "sse.close"})


async def websocket(scope, receive, send):
    ev = await receive()
    assert ev["type"] == "websocket.connect", ev
    await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][0] if scope["subprotocols"] else None})
    await send({"type": "websocket.keepalive", "interval": 30})
    while True:
        ev = await receive()
        if ev["type"] == "websocket.disconnect":
            note("ws disconnect %s" % ev["code"])
            return
        if ev.get("text") == "bye":
            await send({"type": "websocket.close", "code": 4001, "reason": "bye"})
            continue
        if "text" in ev:
            await send({"type": "websocket.send", "text": "echo " + ev["text"] + " " + scope["pagi"]["version"]})
        else:
            await send({"type": "websocket.send", "bytes": ev["bytes"][::-1]})
