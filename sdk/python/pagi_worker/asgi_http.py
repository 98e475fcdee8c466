"""One ASGI 3 `http` scope (docs/protocol.md section 3).

Builds the ASGI scope from `open`, runs the app with receive/send, feeds it
the request body with credit (100-continue on the first receive()), validates
and forwards what it sends within the send window, and ends with the 500
backstop when needed and scopeEnd.

receive() follows uvicorn: queued http.request events, and http.disconnect
once the client left or the response is complete (the app then has nothing
left to read). send() after the client left is a no-op (ASGI HTTP spec 2.3).
"""

import os
from collections import deque

from . import codec, validate
from . import eager
from .flow import CreditFlow
from .log import log, log_exception, exception_text
from .validate import SendError

_T = codec.TAG
T_CREDIT = _T['credit']
T_OPEN = _T['open']
T_HTTP_REQUEST = _T['httpRequest']
T_HTTP_DISCONNECT = _T['httpDisconnect']
T_RESPONSE_DONE = _T['responseDone']
T_SCOPE_END = _T['scopeEnd']
T_TRAILERS = _T['httpResponseTrailers']
T_EARLY_HINT = _T['httpResponseEarlyHint']
T_BODY = _T['httpResponseBody']
EXT_EARLY_HINTS = codec.CONST['extEarlyHints']
EXT_TLS = codec.CONST['extTls']

ASGI_SPEC_VERSION = '2.3'
BACKSTOP_BODY = b'Internal Server Error'
# The backstop closes the connection, as the PAGI spec asks of the server.
BACKSTOP_HEADERS = [b'content-type', b'text/plain; charset=utf-8',
                    b'content-length', str(len(BACKSTOP_BODY)).encode(),
                    b'connection', b'close']

# Validated and encoded response starts by (status, trailers, headers): apps
# tend to send the same few header sets; bounded by clearing.
_START_CACHE = {}
_START_CACHE_MAX = 256
start_block = codec.start_block
encode_start_block = codec.encode_start_block
encode_body = codec.encode_body
encode_start = codec.encode_start
encode = codec.encode
encode_scope_end = codec.encode_scope_end


_ASGI = {'version': '3.0', 'spec_version': ASGI_SPEC_VERSION}


def pure_asgi_scope(m, state, drain):
    """ASGI http scope from a decoded ScopeOpen, with the gateway's request
    id and the worker's drain future (docs/python.md). asgi_scope is its C
    twin when the accelerator is built (_speedups_scope.c)."""
    h = m['headers']
    it = iter(h)
    host = m['clientHost']
    if m['serverIsUnix']:
        server = (m['serverHost'], None)
    else:
        server = (m['serverHost'], m['serverPort'])
    ext = {'http.response.trailers': {}, 'http.response.pathsend': {}}
    bits = m['extensions']
    if bits & EXT_EARLY_HINTS:
        ext['http.response.early_hint'] = {}
    if bits & EXT_TLS and m['tls'] is not None:
        ext['tls'] = _tls_extension(m['tls'])
    ext['pagi.gateway'] = {'request_id': m['requestId'], 'drain': drain}
    scope = {
        'type': 'http',
        'asgi': _ASGI.copy(),
        'http_version': m['httpVersion'],
        'method': m['method'],
        'scheme': m['scheme'],
        'path': m['path'],
        'raw_path': m['rawPath'],
        'query_string': m['queryString'],
        'root_path': m['rootPath'],
        'headers': list(zip(it, it)),
        'client': (host, m['clientPort']) if host else None,
        'server': server,
        'state': state.copy(),
        'extensions': ext,
    }
    # The TCP peer, only when the gateway replaced client (trusted proxy,
    # PROXY protocol); absent means client is the peer.
    if m['peerHost']:
        scope['pagi.peer'] = (m['peerHost'], m['peerPort'])
    return scope


def pure_split_frames_http(b, pos, max_frame_bytes, state, drain):
    """codec.split_frames for a worker whose http scopes are ASGI scopes:
    the payload of an http `open` is (scope, body, more, expectContinue),
    what HttpScope takes (body: the first http.request's, None when the
    open carries none). split_frames_http is its C twin, which builds the
    scope without the intermediate dict."""
    msgs, pos = codec.split_frames(b, pos, max_frame_bytes)
    for i, (sid, tag, p) in enumerate(msgs):
        if tag == T_OPEN and p['type'] == 'http':
            msgs[i] = (sid, tag, (pure_asgi_scope(p, state, drain), p['body'] if p['hasBody'] else None,
                                  p['more'], p['expectContinue']))
    return msgs, pos


asgi_scope = pure_asgi_scope
split_frames_http = pure_split_frames_http
if codec._speedups is not None:
    codec._speedups.configure_scope(EXT_EARLY_HINTS, EXT_TLS, _ASGI, pure_asgi_scope, T_OPEN,
                                    pure_split_frames_http)
    asgi_scope = codec._speedups.asgi_http_scope
    split_frames_http = codec._speedups.split_frames_http


def _tls_extension(t):
    chain = t['clientCertChain']
    return {
        'server_cert': t['serverCert'] or None,
        'client_cert_chain': chain,
        'client_cert_name': t['clientCertName'] or None,
        'client_cert_error': t['clientCertError'] or None,
        'tls_version': t['tlsVersion'] or None,
        'cipher_suite': t['cipherSuite'] or None,
    }


def request_line(scope):
    qs = scope.get('query_string') or b''
    target = scope.get('raw_path') or scope.get('path', '').encode()
    if qs:
        target += b'?' + qs
    return '%s %s' % (scope.get('method'), target.decode('latin-1'))


_DISCONNECT = {'type': 'http.disconnect'}


class HttpScope(CreditFlow):
    __slots__ = ('w', 'id', 'scope', 'first', 'first_more', 'events', 'waiter', 'body_more', 'cont',
                 'uncredited', 'in_flight', 'credit_waiter', 'started', 'complete',
                 'body_done', 'trailers', 'trailer_headers', 'disconnected', 'task')

    def __init__(self, worker, sid, m):
        """m: the decoded open, or what split_frames_http made of it."""
        self.w = worker
        self.id = sid
        if type(m) is tuple:
            self.scope, body, more, self.cont = m
        else:
            b = self._build_scope
            self.scope = b(m, worker.state, worker.drain) if b is not None else self._make_scope(m, worker)
            body = m['body'] if m['hasBody'] else None
            more = m['more']
            self.cont = m['expectContinue']
        # The open's http.request, made into an event only when receive()
        # takes it (most GET handlers never call receive()).
        self.first = body
        if body is not None:
            self.first_more = self.body_more = more
        else:
            self.body_more = True
        self.events = None      # later http.request events: a deque once one comes
        self.waiter = None
        self.uncredited = 0
        self.in_flight = 0
        self.credit_waiter = None
        self.started = False
        self.complete = False
        self.body_done = False
        self.trailers = False
        self.trailer_headers = None
        self.disconnected = False
        self.task = None

    # (m, state, drain) -> scope, called without a method frame; a subclass
    # with a scope of its own sets it to None and overrides _make_scope.
    _build_scope = staticmethod(asgi_scope)

    def _make_scope(self, m, worker):
        return asgi_scope(m, worker.state, worker.drain)

    def start(self, app):
        # The first step runs now; a Task only if it waits (eager.py).
        self.task = eager.start(self.w.loop, self.run(app))

    async def run(self, app):
        failed = False
        message = ''
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as exc:
            failed = True
            message = exception_text(exc)
            log_exception(request_line(self.scope), exc)
        except BaseException as exc:  # cancellation: still end the scope
            failed = True
            message = exception_text(exc) or type(exc).__name__
            self._finish(failed, message)
            raise
        self._finish(failed, message)

    def _finish(self, failed, message):
        w = self.w
        if not self.started and not self.disconnected:
            # ASGI: an app that returns without a response gets a 500.
            if not failed:
                log('%s: application returned without a response; sending 500' % request_line(self.scope))
            self.started = self.complete = True
            w.send_frame(encode_start(self.id, 500, BACKSTOP_HEADERS))
            w.send_frame(encode_body(self.id, BACKSTOP_BODY, False))
        elif not self.complete and not self.disconnected and not failed:
            log('%s: application returned without completing the response' % request_line(self.scope))
        end = encode_scope_end(self.id, failed, message)
        if w._reading:          # the worker writes its frames at the end of the read
            w._out.append(end)
        else:
            w.send_frame(end)
        self.disconnected = True
        if self.waiter is not None:
            self._wake_receiver(_DISCONNECT)
        self._forget()

    def _forget(self):
        self.w.scopes.pop(self.id, None)

    # --- messages from the gateway -------------------------------------------

    def on_message(self, tag, p):
        if tag == T_CREDIT:
            self._on_credit(p['bytes'])
        elif tag == T_HTTP_REQUEST:
            self.body_more = p['more']
            ev = {'type': 'http.request', 'body': p['body'], 'more_body': p['more']}
            if not self._wake_receiver(ev):
                if self.events is None:
                    self.events = deque()
                self.events.append(ev)
        elif tag == T_HTTP_DISCONNECT:
            self.disconnected = True
            self._wake_sender()
            self._wake_receiver(_DISCONNECT)
        elif tag == T_RESPONSE_DONE:
            self._wake_receiver(_DISCONNECT)

    def _wake_receiver(self, ev):
        w = self.waiter
        if w is not None and not w.done():
            self.waiter = None
            if ev['type'] == 'http.request':
                self._account_event(ev)
            w.set_result(dict(ev) if ev is _DISCONNECT else ev)
            return True
        return False

    # --- receive ---------------------------------------------------------------

    async def receive(self):
        if self.cont:
            self._open_body()
        if self.disconnected or self.complete:
            return {'type': 'http.disconnect'}
        body = self.first
        if body is not None:
            self.first = None
            ev = {'type': 'http.request', 'body': body, 'more_body': self.first_more}
            self._account_event(ev)
            return ev
        if self.events:
            ev = self.events.popleft()
            self._account_event(ev)
            return ev
        if self.uncredited and self.body_more:
            # The app waits with nothing queued: never let batching stall it.
            self._send_credit()
        fut = self.waiter = self.w.loop.create_future()
        return await fut

    def _account_event(self, ev):
        """Request body bytes the app took are credited (the last piece needs none)."""
        if ev['more_body']:
            self._account(len(ev['body']))

    def _stopped(self):
        return self.disconnected

    # --- send --------------------------------------------------------------------

    async def send(self, message):
        if self.disconnected:
            return
        t = message['type']
        if t == 'http.response.body':
            if not self.started:
                raise SendError("'http.response.body' sent before 'http.response.start'")
            if self.body_done:
                raise SendError("'http.response.body' sent after the response body completed")
            body = message.get('body', b'')
            if type(body) is not bytes:
                body = validate.body(body)
            more = message.get('more_body', False)
            if not more:
                self.body_done = True
                if not self.trailers:
                    self.complete = True
            w = self.w
            f = self.in_flight
            n = len(body)
            if n <= w.max_chunk and (not f or (f + n <= w.send_window and f < w.send_window)):
                # Fits the window and one frame: out now, without another coroutine.
                self.in_flight = f + n
                frame = encode_body(self.id, body, more) if n < w.ring_min else w.ring.frame(self.id, body, more)
                if w._reading:
                    w._out.append(frame)
                else:
                    w.send_frame(frame)
            else:
                await self._send_body(body, more)
        elif t == 'http.response.start':
            if self.started:
                raise SendError("'http.response.start' sent twice")
            trailers = bool(message.get('trailers', False))
            status = message['status']
            headers = message.get('headers', ())
            try:
                key = (status, trailers, tuple(headers))
                block = _START_CACHE.get(key)
            except TypeError:           # unhashable header pairs (lists)
                key = block = None
            if block is None:
                block = start_block(validate.status(status), validate.flat_headers(headers), trailers)
                if key is not None and type(status) is int:
                    if len(_START_CACHE) >= _START_CACHE_MAX:
                        _START_CACHE.clear()
                    _START_CACHE[key] = block
            self.started = True
            self.trailers = trailers
            w = self.w
            if w._reading:
                w._out.append(encode_start_block(self.id, block))
            else:
                w.send_frame(encode_start_block(self.id, block))
        elif t == 'http.response.trailers':
            self._send_trailers(message)
        elif t == 'http.response.pathsend':
            self._send_path(message)
        elif t == 'http.response.early_hint':
            if 'http.response.early_hint' not in self.scope['extensions']:
                raise SendError("'http.response.early_hint' needs the extension this scope does not advertise")
            if self.started:
                raise SendError("'http.response.early_hint' after 'http.response.start'")
            flat = []
            for link in message.get('links', ()):
                flat.append(b'link')
                flat.append(link)
            flat = validate.flat_headers(zip(flat[::2], flat[1::2]))
            self.w.send_frame(encode(self.id, T_EARLY_HINT, {'headers': flat}))
        else:
            raise SendError('unexpected ASGI message %r for an http scope' % (t,))
        if self.complete and self.waiter is not None and self.w.skip_response_done:
            # No responseDone will come (hello opted out): like uvicorn, a
            # receive() waiting across the end of the response hears
            # http.disconnect now.
            self._wake_receiver(_DISCONNECT)

    async def _send_body(self, body, more):
        w = self.w
        n = len(body)
        limit = w.max_chunk
        if n > limit:
            # One frame must stay under maxMessageBytes: split the body.
            for off in range(0, n, limit):
                chunk = body[off:off + limit]
                await self._send_body(chunk, more if off + limit >= n else True)
                if self.disconnected:
                    return
            return
        # Even an empty body event waits for the window.
        if not await self._wait_window(n):
            return
        self.in_flight += n
        w.send_frame(encode_body(self.id, body, more) if n < w.ring_min else w.ring.frame(self.id, body, more))

    def _send_trailers(self, message):
        if not self.trailers:
            raise SendError("'http.response.trailers' without trailers=True in 'http.response.start'")
        if not self.body_done:
            raise SendError("'http.response.trailers' before the final 'http.response.body'")
        if self.complete:
            raise SendError("'http.response.trailers' after the response completed")
        flat = validate.flat_headers(message.get('headers', ()))
        if self.trailer_headers is None:
            self.trailer_headers = flat
        else:
            self.trailer_headers.extend(flat)
        if not message.get('more_trailers', False):
            self.complete = True
            self.w.send_frame(encode(self.id, T_TRAILERS, {'headers': self.trailer_headers}))

    def _send_path(self, message):
        if not self.started:
            raise SendError("'http.response.pathsend' sent before 'http.response.start'")
        if self.body_done:
            raise SendError("'http.response.pathsend' after the response body completed")
        path = message.get('path')
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str) or not path.startswith('/') or '\0' in path:
            raise SendError("'http.response.pathsend' needs an absolute path, not %r" % (path,))
        # The gateway sends the file; make sure it can be opened first.
        fd = os.open(path, os.O_RDONLY)
        os.close(fd)
        self.body_done = True
        if not self.trailers:
            self.complete = True
        self.w.send_frame(encode(self.id, T_BODY, {'more': False, 'offset': 0, 'length': -1, 'file': path}))
