"""The worker runtime: one asyncio loop (uvloop when importable), one Unix
socket to the gateway. Says hello, takes welcome, runs lifespan, then runs
the app once per scope, concurrently. docs/protocol.md is the conversation.

Frames produced during one loop iteration are joined and written with one
write() at the start of the next (call_soon), so a GET round trip --
httpResponseStart, httpResponseBody, scopeEnd -- is one write. Apps run
their first step inside the read of the frame that opened their scope
(eager.py), so what the apps that answer without waiting send is written
with one write() at the end of that read, with no callback in between.
"""

import asyncio
import os
import socket
import sys

from . import body_ring
from . import codec
from . import eager
from .asgi_http import HttpScope, asgi_scope, split_frames_http
from .websocket import WebSocketScope
from .lifespan import Lifespan
from .log import log, SDK_NAME

from . import __version__

_T = codec.TAG
T_WELCOME = _T['welcome']
T_OPEN = _T['open']
T_HEARTBEAT = _T['heartbeat']
T_DRAIN = _T['drain']
T_SHUTDOWN = _T['shutdown']
T_HELLO = _T['hello']
T_RING_RELEASE = _T['bodyRingRelease']
C = codec.CONST
eager_start = eager.start

# Bytes of a frame that are not body: segment table, pointers, struct words.
_FRAME_OVERHEAD = 4096


class Worker(asyncio.Protocol):
    """app: an ASGI 3 or PAGI callable; scope_class: HttpScope, WsgiScope or
    PagiHttpScope; websocket_class and sse_class: the classes of those scopes
    (None: not advertised in hello)."""

    def __init__(self, app, *, loop, concurrency, scope_class=HttpScope,
                 pool='', app_name='', lifespan_app=True, websocket_class=None, sse_class=None,
                 skip_response_done=False):
        self.app = app
        self.loop = loop
        self.concurrency = concurrency
        self.scope_class = scope_class
        # ASGI apps take websocket scopes too; WSGI has none.
        if websocket_class is None and scope_class is HttpScope:
            websocket_class = WebSocketScope
        self.websocket_class = websocket_class
        self.sse_class = sse_class
        self.pool = pool
        self.app_name = app_name
        self.lifespan_app = lifespan_app
        # ASGI and WSGI have no on_complete: hello asks the gateway to skip
        # responseDone (docs/protocol.md); PAGI-native apps keep it.
        self.skip_response_done = skip_response_done
        # http scopes started here without a call of their start(), when
        # the class does not change it (one Python frame less per request).
        self._http_start_is_eager = scope_class.start is HttpScope.start
        # ASGI scopes (HttpScope, WsgiScope): built while the frames are
        # split, without the intermediate dict of the open (asgi_http.py).
        self._split_http = (self._http_start_is_eager
                            and getattr(scope_class, '_build_scope', None) is asgi_scope)
        self.transport = None
        self.state = {}
        self.scopes = {}
        self.lifespan = None
        self.welcome = None
        self.draining = False
        # Done with the seconds the gateway leaves long-lived scopes once it
        # drains this worker (reload, recycle); in every scope (docs/python.md).
        self.drain = loop.create_future()
        self.send_window = 0
        self.receive_window = 0
        self.max_chunk = 0
        self.max_frame = codec.DEFAULT_MAX_FRAME_BYTES
        # The shared body ring (body_ring.py), once the welcome announced
        # one that checks out. Bodies of ring_min bytes or more go through
        # ring.frame(); without a ring no body is that long.
        self.ring = None
        self.ring_min = sys.maxsize
        self._ring_taken = False
        self._ring_trim = None          # the timer of _arm_ring_trim
        self.asgi_lifespan = {'version': '3.0', 'spec_version': '2.0'}
        self.done = loop.create_future()
        self._out = []
        self._flush_scheduled = False
        self._reading = False           # in data_received: it flushes at its end
        self._parts = []
        self._have = 0
        self._need = 0
        self._closing = False
        self._exit_code = 0

    def gateway_info(self, m):
        """scope's `pagi.gateway` (ASGI: under extensions; WSGI environ; PAGI
        scope): the gateway's request id and this worker's drain future."""
        return {'request_id': m['requestId'], 'drain': self.drain}

    # --- output -----------------------------------------------------------------

    def send_frame(self, frame):
        # asgi_http.HttpScope inlines the `_reading` case (append only) at its
        # three per-request frames: the call was ~6% of a hello's instructions.
        self._out.append(frame)
        if not self._flush_scheduled and not self._reading:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self):
        self._flush_scheduled = False
        out = self._out
        if not out or self.transport is None:
            return
        self._out = []
        self.transport.write(out[0] if len(out) == 1 else b''.join(out))

    # --- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        scope_bits = C['scopeBitHttp']
        if self.websocket_class is not None:
            scope_bits |= C['scopeBitWebsocket']
        if self.sse_class is not None:
            scope_bits |= C['scopeBitSse']
        self.send_frame(codec.encode(0, T_HELLO, {
            'protocolVersion': C['protocolVersion'], 'pid': os.getpid(),
            'concurrency': self.concurrency, 'scopeTypes': scope_bits,
            'sdkName': SDK_NAME, 'sdkVersion': __version__,
            'pool': self.pool, 'app': self.app_name,
            'skipResponseDone': self.skip_response_done,
        }))

    def data_received(self, data):
        if self._parts:
            self._parts.append(data)
            self._have += len(data)
            if self._have < self._need:
                return
            data = b''.join(self._parts)
            self._parts = []
        try:
            if self._split_http:
                msgs, pos = split_frames_http(data, 0, self.max_frame, self.state, self.drain)
            else:
                msgs, pos = codec.split_frames(data, 0, self.max_frame)
        except codec.CodecError as exc:
            log('bad frame from the gateway: %s' % exc)
            return self._stop(1)
        if pos < len(data):
            rest = data[pos:]
            self._parts = [rest]
            self._have = len(rest)
            self._need = codec.frame_size(rest) or 8
        dispatch = self._dispatch
        scopes = self.scopes
        inline = self._http_start_is_eager
        scope_class, loop, app = self.scope_class, self.loop, self.app
        self._reading = True
        try:
            for sid, tag, p in msgs:
                # An http open, inline: what _dispatch and _on_open would do.
                if (tag == T_OPEN and inline and (type(p) is tuple or p['type'] == 'http')
                        and self.welcome is not None and sid not in scopes):
                    s = scopes[sid] = scope_class(self, sid, p)
                    s.task = eager_start(loop, s.run(app))
                else:
                    dispatch(sid, tag, p)
        finally:
            self._reading = False
        if self._out and not self._flush_scheduled:
            # What this read's scopes answered in their first steps (and
            # echoes, credit), in one write now.
            self._flush()

    def eof_received(self):
        self._stop(0)
        return False

    def connection_lost(self, exc):
        self.transport = None
        if not self.done.done():
            self.done.set_result(self._exit_code if self._closing else (1 if exc else 0))

    # --- dispatch ----------------------------------------------------------------------

    def _dispatch(self, sid, tag, payload):
        s = self.scopes.get(sid)
        if s is not None and tag != T_OPEN:
            s.on_message(tag, payload)
        elif tag == T_OPEN:
            self._on_open(sid, payload)
        elif tag == T_HEARTBEAT:
            # Echoed from the loop itself, so a blocked loop misses it.
            self.send_frame(codec.encode(0, T_HEARTBEAT, payload))
        elif tag == T_WELCOME:
            self._on_welcome(payload)
        elif tag == T_DRAIN:
            self.draining = True
            if not self.drain.done():
                self.drain.set_result(payload['timeoutMs'] / 1000)
        elif tag == T_SHUTDOWN:
            self._on_shutdown()
        elif tag == T_RING_RELEASE:
            if self.ring is not None and self.ring.release(payload['through']) and self._ring_trim is None:
                self._arm_ring_trim()
        elif sid:
            pass    # events for a scope that already ended cross in flight
        else:
            log('ignoring unexpected %r message' % codec.MEMBER.get(tag, tag))

    def _on_welcome(self, p):
        if p['protocolVersion'] != C['protocolVersion']:
            log('gateway speaks protocol %d, this worker %d' % (p['protocolVersion'], C['protocolVersion']))
            return self._stop(1)
        self.welcome = p
        self.send_window = p['sendWindow']
        self.receive_window = p['receiveWindow']
        if p['maxMessageBytes']:
            self.max_chunk = max(p['maxMessageBytes'] - _FRAME_OVERHEAD, _FRAME_OVERHEAD)
        else:
            self.max_chunk = codec.DEFAULT_MAX_FRAME_BYTES
        self.max_frame = max(self.max_frame, p['maxMessageBytes'])
        if not self._ring_taken:
            # Once per connection: a second welcome must not map it again
            # (positions would restart under spans the gateway holds).
            self._ring_taken = True
            self.ring = body_ring.take(p['bodyRingBytes'])
            if self.ring is not None:
                self.ring_min = body_ring.RING_MIN_BODY

    def _on_open(self, sid, p):
        if self.welcome is None:
            log('open before welcome')
            return self._stop(1)
        if sid in self.scopes:
            log('scope %d opened twice' % sid)
            return self._stop(1)
        t = 'http' if type(p) is tuple else p['type']     # tuple: split_frames_http's
        if t == 'http':
            s = self.scopes[sid] = self.scope_class(self, sid, p)
            s.start(self.app)
        elif t == 'websocket' and self.websocket_class is not None:
            s = self.scopes[sid] = self.websocket_class(self, sid, p)
            s.start(self.app)
        elif t == 'sse' and self.sse_class is not None:
            s = self.scopes[sid] = self.sse_class(self, sid, p)
            s.start(self.app)
        elif t == 'lifespan':
            mode = self.welcome['lifespan']
            if self.sse_class is not None:      # PAGI-native
                version = {'version': '0.3', 'spec_version': '0.3', 'is_worker': True,
                           'worker_num': self.welcome['workerId']}
                lf = Lifespan(self, sid, mode, self.state, version, 'pagi')
            else:
                lf = Lifespan(self, sid, mode, self.state, self.asgi_lifespan)
            self.lifespan = self.scopes[sid] = lf
            if self.lifespan_app:
                lf.start(self.app)
            else:
                lf.start(_no_lifespan)
        else:
            # hello advertised only what the interface supports.
            log('scope type %r is not supported by this worker; ending it' % t)
            self.send_frame(codec.encode(sid, _T['scopeEnd'], {'failed': True, 'message': 'unsupported scope type ' + str(t)}))

    def scope_done(self, sid):
        self.scopes.pop(sid, None)

    def _arm_ring_trim(self):
        # The emptied ring's memory goes back only once no span was written
        # for RING_TRIM_DELAY (body_ring.BodyRing.release says why).
        self._ring_trim = self.loop.call_later(body_ring.RING_TRIM_DELAY, self._ring_quiet, self.ring.w)

    def _ring_quiet(self, w):
        self._ring_trim = None
        ring = self.ring
        if ring.r != ring.w:
            return              # holding spans again: the release that empties it re-arms
        if ring.w != w:
            return self._arm_ring_trim()    # used and emptied again: wait for a quiet delay
        ring.trim()

    def _on_shutdown(self):
        lf = self.lifespan
        if lf is None or lf.unsupported or lf.task is None or lf.task.done() or 'shutdown' in lf.requested:
            return self._stop(0)
        # The gateway skipped lifespanShutdown (it does for apps without a
        # lifespan): still let the app clean up, but send no lifespan answer
        # it did not ask for.
        lf.silent = True
        lf.request_shutdown()
        lf.shutdown_done.add_done_callback(lambda _f: self._stop(0))

    def _stop(self, code):
        """Flushes what is queued, closes the socket; run() then returns code."""
        if self._closing:
            return
        self._closing = True
        self._exit_code = code
        if self._ring_trim is not None:
            self._ring_trim.cancel()
        self._flush()
        if self.transport is not None:
            # Closes once the write buffer drained; connection_lost ends run().
            self.transport.close()
        elif not self.done.done():
            self.done.set_result(code)


async def _no_lifespan(scope, receive, send):
    raise RuntimeError('this interface has no lifespan')


def new_event_loop():
    try:
        import uvloop
    except ImportError:
        # Said once per worker: the usual cause is a python3 first on PATH
        # (pyenv, a venv) other than the one that has Debian's python3-uvloop.
        log('uvloop is not importable by %s; running the slower asyncio loop '
            '(install python3-uvloop, or set the pool\'s python: to an interpreter '
            'that has it, e.g. /usr/bin/python3)' % sys.executable)
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


# Send buffer asked for on the worker's end of the gateway socket, as the
# Perl worker does: with the kernel's ~208 KiB default a streaming worker
# blocks several times per window (docs/benchmarks.md, "Perl worker socket
# send buffers"). Linux doubles it and caps it at net.core.wmem_max.
SEND_BUFFER = 2 * 1024 * 1024


def widen_send_buffer(sock, size=None):
    """SO_SNDBUF from PAGI_WORKER_SEND_BUFFER (bytes; 0 = kernel default)."""
    if size is None:
        size = int(os.environ.get("PAGI_WORKER_SEND_BUFFER", SEND_BUFFER))
    if size > 0 and sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        except OSError:
            pass  # not fatal: the kernel default stays


async def serve(make_worker, *, fd=None, connect=None):
    """Connects, runs until shutdown or EOF, returns the exit code."""
    loop = asyncio.get_running_loop()
    worker = make_worker(loop)
    if connect is not None:
        transport, _ = await loop.create_unix_connection(lambda: worker, connect)
        widen_send_buffer(transport.get_extra_info("socket"))
    else:
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        widen_send_buffer(sock)
        await loop.create_unix_connection(lambda: worker, sock=sock)
    return await worker.done
