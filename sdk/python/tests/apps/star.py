"""A Starlette app: routing, JSON, streaming, lifespan state, background task."""
import contextlib
import sys

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route


@contextlib.asynccontextmanager
async def lifespan(app):
    yield {'greeting': 'hi from lifespan'}


async def home(request):
    return PlainTextResponse('home')


async def item(request):
    return JSONResponse({'id': int(request.path_params['id']), 'q': request.query_params.get('q'),
                         'greeting': request.state.greeting})


async def echo(request):
    data = await request.json()
    return JSONResponse({'got': data}, status_code=201)


async def numbers(request):
    async def gen():
        for i in range(3):
            yield ('%d\n' % i).encode()
    return StreamingResponse(gen(), media_type='text/plain')


def after():
    sys.stderr.write('app: background task ran\n')


async def background(request):
    return PlainTextResponse('queued', background=BackgroundTask(after))


app = Starlette(routes=[
    Route('/', home), Route('/items/{id:int}', item), Route('/echo', echo, methods=['POST']),
    Route('/numbers', numbers), Route('/bg', background),
], lifespan=lifespan)
