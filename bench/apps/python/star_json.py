"""bench/run-python json: a Starlette route returning a small JSON object."""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item(request):
    return JSONResponse({"id": 42, "name": "widget", "tags": ["a", "b"], "price": 9.5})


app = Starlette(routes=[Route("/", item)])
