"""PAGI-native Python apps (`--interface pagi`, or an app marked with a true
`pagi_app` attribute): the PAGI scope shapes of the PAGI Www spec instead of
ASGI's, as the Perl SDK builds them (docs/python.md).

This file: the scope dict shared by http and sse scopes, and one PAGI http
scope -- the ASGI HttpScope with PAGI events (`more` instead of `more_body`,
`file`/`fh` bodies, `http.fullflush`, early hints with `headers`) and the
`pagi.connection` / `pagi.transport` objects.
"""

import os

from . import codec, validate
from .asgi_http import HttpScope, T_CREDIT, T_HTTP_DISCONNECT, T_RESPONSE_DONE, T_BODY, T_EARLY_HINT, \
    _DISCONNECT, _tls_extension
from .pagi_state import Connection, Transport
from .validate import SendError

C = codec.CONST
T_FULLFLUSH = codec.TAG['httpFullflush']
PAGI_VERSION = {'version': '0.3', 'spec_version': '0.3'}


def extensions(m):
    bits = m['extensions']
    ext = {}
    if not bits:
        return ext
    if bits & C['extFullflush']:
        ext['fullflush'] = {}
    if bits & C['extWebsocketHttpResponse']:
        ext['websocket.http.response'] = {}
    if bits & C['extEarlyHints']:
        ext['http.response.early_hint'] = {}
    if bits & C['extTls'] and m['tls'] is not None:
        ext['tls'] = _tls_extension(m['tls'])
    return ext


def build_scope(m, state, worker):
    """A PAGI http, sse or websocket scope from a decoded ScopeOpen."""
    it = iter(m['headers'])
    t = m['type']
    scope = {
        'type': t,
        'pagi': dict(PAGI_VERSION),
        'http_version': m['httpVersion'] or '1.1',
        'scheme': m['scheme'] or ('ws' if t == 'websocket' else 'http'),
        'path': m['path'],
        'raw_path': m['rawPath'] or m['path'].encode('utf-8'),
        'query_string': m['queryString'],
        'root_path': m['rootPath'],
        'headers': list(zip(it, it)),
        'state': state.copy(),
        'extensions': extensions(m),
        # The request id and the worker's drain future, as in the Perl SDK.
        'pagi.gateway': worker.gateway_info(m),
    }
    if t != 'websocket' or m['method']:
        scope['method'] = m['method']
    if m['clientHost']:
        scope['client'] = (m['clientHost'], m['clientPort'])
    if m['serverHost']:
        scope['server'] = (m['serverHost'], None if m['serverIsUnix'] else m['serverPort'])
    if m['peerHost']:
        # Only when the gateway replaced client (trusted proxy, PROXY protocol).
        scope['pagi.peer'] = (m['peerHost'], m['peerPort'])
    if t == 'websocket':
        scope['subprotocols'] = list(m['subprotocols'])
    params = m['routeParams']
    if params:
        # The route's :name segments (gateway `routes:`).
        it = iter(params)
        scope['pagi.route'] = {'params': dict(zip(it, it))}
    return scope


def _flag(message, key):
    v = message.get(key, False)
    return bool(v)


class PagiHttpScope(HttpScope):
    __slots__ = ('conn', 'transport', 'ended')

    def __init__(self, worker, sid, m):
        HttpScope.__init__(self, worker, sid, m)
        self.conn = self.scope['pagi.connection'] = Connection(worker.loop)
        self.transport = self.scope['pagi.transport'] = Transport(worker.send_window)
        self.ended = False

    _build_scope = None

    def _make_scope(self, m, worker):
        return build_scope(m, worker.state, worker)

    # --- receive -----------------------------------------------------------------

    async def receive(self):
        ev = await HttpScope.receive(self)
        if ev['type'] == 'http.request':
            return {'type': 'http.request', 'body': ev['body'], 'more': ev['more_body']}
        return ev

    # --- send --------------------------------------------------------------------

    async def send(self, message):
        if self.disconnected or self.conn._finished:
            return      # the spec: sends after the client left are no-ops
        if type(message) is not dict:
            raise SendError('send() expects an event dict, not %r' % (type(message).__name__,))
        t = message.get('type')
        if t == 'http.response.body':
            if 'file' in message or 'fh' in message:
                await self._send_file(message)
            else:
                await HttpScope.send(self, {'type': t, 'body': message.get('body', b''),
                                            'more_body': _flag(message, 'more')})
                self.transport._set_buffered(self.in_flight)
            if self.complete:
                self.conn._complete = True
        elif t == 'http.response.start':
            await HttpScope.send(self, message)
            self.conn._started = True
        elif t == 'http.response.trailers':
            self._send_trailers(message)
            if self.complete:
                self.conn._complete = True
        elif t == 'http.fullflush':
            if 'fullflush' not in self.scope['extensions']:
                raise SendError("'http.fullflush' needs the 'fullflush' extension, which this scope does not advertise")
            self.w.send_frame(codec.encode(self.id, T_FULLFLUSH))
        elif t == 'http.response.early_hint':
            if 'http.response.early_hint' not in self.scope['extensions']:
                raise SendError("'http.response.early_hint' needs the extension this scope does not advertise")
            if self.started:
                raise SendError("'http.response.early_hint' after 'http.response.start'")
            flat = validate.flat_headers(message.get('headers', ()))
            self.w.send_frame(codec.encode(self.id, T_EARLY_HINT, {'headers': flat}))
        else:
            raise SendError('unsupported event type %r for an http scope' % (t,))

    async def _send_body(self, body, more):
        await HttpScope._send_body(self, body, more)
        self.transport._set_buffered(self.in_flight)

    async def _send_file(self, message):
        if not self.started:
            raise SendError("'http.response.body' sent before 'http.response.start'")
        if self.body_done:
            raise SendError("'http.response.body' sent after the response body completed")
        if ('file' in message) == ('fh' in message) or 'body' in message:
            raise SendError("'http.response.body' takes exactly one of body, file and fh")
        offset = message.get('offset', 0)
        length = message.get('length')
        if type(offset) is not int or offset < 0:
            raise SendError("'http.response.body' offset must be a non-negative int")
        if length is not None and (type(length) is not int or length < 0):
            raise SendError("'http.response.body' length must be a non-negative int")
        if 'fh' in message:
            return await self._send_fh(message['fh'], offset, length)
        path = message['file']
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str) or not path.startswith('/') or '\0' in path:
            raise SendError("'http.response.body' file needs an absolute path, not %r" % (path,))
        # The gateway sends the file; make sure it can be opened first.
        os.close(os.open(path, os.O_RDONLY))
        self.body_done = True
        if not self.trailers:
            self.complete = True
        self.w.send_frame(codec.encode(self.id, T_BODY, {
            'more': False, 'offset': offset, 'length': -1 if length is None else length, 'file': path}))

    async def _send_fh(self, fh, offset, length):
        """An open file object, read here and sent as body chunks (the app
        closes it once this send returned)."""
        if offset:
            fh.seek(offset)
        left = length
        chunk = self.w.max_chunk
        while not self.disconnected:
            data = fh.read(chunk if left is None else min(chunk, left))
            if data and type(data) is not bytes:
                data = validate.body(data)
            if left is not None:
                left -= len(data)
            last = not data or left == 0
            if last:
                self.body_done = True
                if not self.trailers:
                    self.complete = True
            await self._send_body(data, not last)
            if last:
                return

    # --- messages from the gateway -------------------------------------------------

    def on_message(self, tag, p):
        if tag == T_RESPONSE_DONE:
            if self.conn._done():
                self._wake_receiver(_DISCONNECT)
            self._maybe_forget()
        elif tag == T_HTTP_DISCONNECT:
            self.conn._disconnect(p['reason'] or 'client_closed')
            HttpScope.on_message(self, tag, p)
            self._maybe_forget()
        else:
            HttpScope.on_message(self, tag, p)
            if tag == T_CREDIT:
                self.transport._set_buffered(self.in_flight)

    # --- the end --------------------------------------------------------------------

    def _finish(self, failed, message):
        conn = self.conn
        backstop = not self.started and not self.disconnected
        unfinished = self.started and not self.complete and not self.disconnected
        if backstop:
            conn._started = conn._complete = True
        HttpScope._finish(self, failed, message)
        if backstop or unfinished:
            # The spec: a server backstop or an aborted response is abnormal.
            conn._disconnect('server_error')
            self._maybe_forget()

    def _forget(self):
        self.ended = True
        self._maybe_forget()

    def _maybe_forget(self):
        """Kept past scopeEnd until the gateway said how a complete response
        ended: on_complete needs that message."""
        if self.ended and not (self.complete and not self.conn._finished):
            self.w.scope_done(self.id)

