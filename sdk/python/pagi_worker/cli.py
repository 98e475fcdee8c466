"""pagi-worker-python [--fd N | --connect PATH --pool NAME] [--app-dir DIR]
                     [--interface auto|asgi|wsgi|pagi] [--concurrency N] APP"""

import argparse
import asyncio
import inspect
import os
import sys

from . import body_ring
from .asgi_http import HttpScope
from .attach import serve_attached
from .loader import LoadError, detect_interface, load_app
from .log import log, SDK_NAME
from .worker import Worker, new_event_loop, serve
from .wsgi import WsgiScope


def parse_args(argv):
    ap = argparse.ArgumentParser(prog=SDK_NAME, description='Runs a Python web app as a pagi-gateway worker.')
    ap.add_argument('app', metavar='APP', help='module:attribute or path/to/file.py:attribute')
    ap.add_argument('--fd', type=int, help='connected socket inherited from the gateway (default: $PAGI_WORKER_FD)')
    ap.add_argument('--connect', metavar='PATH', help="attach to a pool's Unix socket")
    ap.add_argument('--pool', default='', help='pool name (with --connect)')
    ap.add_argument('--app-dir', default='.', help='directory to import the module from (default: current)')
    ap.add_argument('--interface', choices=('auto', 'asgi', 'wsgi', 'pagi'), default='auto')
    ap.add_argument('--concurrency', type=int,
                    help='scopes run at once (default: 100 for async apps, 1 for WSGI)')
    args = ap.parse_args(argv)
    if args.connect is None and args.fd is None:
        env = os.environ.get('PAGI_WORKER_FD')
        if env is None:
            ap.error('give --fd N, --connect PATH or set PAGI_WORKER_FD')
        try:
            args.fd = int(env)
        except ValueError:
            ap.error('PAGI_WORKER_FD is not a number: %r' % env)
    if args.connect is not None and args.fd is not None:
        ap.error('give either --fd or --connect, not both')
    if args.connect is not None and not args.pool:
        ap.error('--connect needs --pool NAME')
    return args


def _wrap_awaitable_app(app):
    """An ASGI app that is a plain function returning an awaitable."""
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(getattr(app, '__call__', None)):
        return app

    async def asgi(scope, receive, send):
        r = app(scope, receive, send)
        if inspect.isawaitable(r):
            await r
    return asgi


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Before the app is imported: nothing it starts may inherit the ring.
    body_ring.claim_fd()
    try:
        app = load_app(args.app, args.app_dir)
        interface = args.interface if args.interface != 'auto' else detect_interface(app)
    except LoadError as exc:
        log(str(exc))
        return 2
    classes = {}
    if interface == 'wsgi':
        scope_class, lifespan_app, default_conc = WsgiScope, False, 1
    elif interface == 'pagi':
        from .pagi_http import PagiHttpScope
        from .pagi_sse import SseScope
        from .pagi_ws import PagiWebSocketScope
        app = _wrap_awaitable_app(app)
        scope_class, lifespan_app, default_conc = PagiHttpScope, True, 100
        classes = {'websocket_class': PagiWebSocketScope, 'sse_class': SseScope}
    else:
        app = _wrap_awaitable_app(app)
        scope_class, lifespan_app, default_conc = HttpScope, True, 100
    concurrency = args.concurrency if args.concurrency is not None else default_conc

    def make_worker(loop):
        return Worker(app, loop=loop, concurrency=concurrency, scope_class=scope_class,
                      pool=args.pool, app_name=args.app, lifespan_app=lifespan_app,
                      skip_response_done=interface != 'pagi', **classes)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        try:
            if args.connect is not None:
                return runner.run(serve_attached(make_worker, args.connect))
            return runner.run(serve(make_worker, fd=args.fd))
        except OSError as exc:
            log('cannot reach the gateway: %s' % exc)
            return 1
