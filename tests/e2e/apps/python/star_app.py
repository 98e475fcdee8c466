"""A Starlette app for the end-to-end tests: routing with path parameters,
JSON in and out, a streamed response, a background task and lifespan state.
Answers are deterministic so pagi-gateway and uvicorn can be compared.

Lifespan state (the ASGI `state` dict) only works on servers that offer it;
uvicorn 0.17 does not, so the app yields state only when E2E_LIFESPAN_STATE
is set, and keeps app.state for what both servers share."""
import contextlib
import os

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

EVENTS = os.environ.get("E2E_EVENTS")


def note(line):
    if EVENTS:
        with open(EVENTS, "a") as f:
            f.write(line + "\n")


@contextlib.asynccontextmanager
async def lifespan(app):
    app.state.items = {"1": {"name": "first"}}
    note("starlette startup")
    if os.environ.get("E2E_LIFESPAN_STATE"):
        yield {"started_by": "lifespan", "counter": [0]}
    else:
        yield
    note("starlette shutdown")


async def homepage(request):
    return PlainTextResponse("Hello from Starlette")


async def get_item(request):
    item = request.app.state.items.get(request.path_params["item_id"])
    if item is None:
        return JSONResponse({"detail": "no such item"}, status_code=404)
    return JSONResponse({"id": request.path_params["item_id"], **item})


async def put_item(request):
    data = await request.json()
    request.app.state.items[request.path_params["item_id"]] = data
    return JSONResponse({"stored": data}, status_code=201, headers={"x-stored": "yes"})


async def numbers(request):
    count = int(request.query_params.get("count", "3"))

    async def generate():
        for i in range(count):
            yield f"data: {i}\n\n"
    return StreamingResponse(generate(), media_type="text/event-stream")


async def with_background(request):
    name = request.query_params.get("name", "job")
    return PlainTextResponse("queued", background=BackgroundTask(note, f"background {name} ran"))


async def lifespan_state(request: Request):
    counter = request.state.counter
    counter[0] += 1
    return JSONResponse({"started_by": request.state.started_by, "count": counter[0]})


async def echo_form(request):
    form = await request.form()
    return JSONResponse({k: v for k, v in form.items()})


app = Starlette(routes=[
    Route("/", homepage),
    Route("/items/{item_id}", get_item, methods=["GET"]),
    Route("/items/{item_id}", put_item, methods=["PUT"]),
    Route("/numbers", numbers),
    Route("/background", with_background),
    Route("/lifespan-state", lifespan_state),
    Route("/form", echo_form, methods=["POST"]),
], lifespan=lifespan)
