"""One ASGI 3 `websocket` scope (docs/protocol.md section 3a).

receive() gives websocket.connect, websocket.receive (text as str, bytes as
bytes) and websocket.disconnect {code, reason}; send() takes
websocket.accept, websocket.send, websocket.close and the
websocket.http.response denial extension (advertised in `extensions` when
the gateway supports it). Each event is checked the way the gateway checks
it, so a bad one raises in send() instead of costing the worker.

States: connecting -> open (accepted) or denying (denial response started)
-> closed (the app closed, or its denial is complete). The gateway's
websocketDisconnect can come in any state; after it send() is a no-op
(ASGI spec 2.3, as for http). A send after the app's own close raises, as
uvicorn does.

Flow control: websocket.send payload bytes (UTF-8 for text) count against
the send window; received payload bytes are credited back as the app takes
them (batched at half the window, or at once when it waits with nothing
queued, so one message bigger than the window can never stall).
"""

from collections import deque

from . import codec, validate
from . import eager
from .flow import CreditFlow
from .asgi_http import _tls_extension, ASGI_SPEC_VERSION
from .log import log_exception, exception_text
from .validate import SendError

_T = codec.TAG
T_CREDIT = _T['credit']
T_CONNECT = _T['websocketConnect']
T_RECEIVE = _T['websocketReceive']
T_DISCONNECT = _T['websocketDisconnect']
T_RESPONSE_DONE = _T['responseDone']
T_ACCEPT = _T['websocketAccept']
T_SEND = _T['websocketSend']
T_CLOSE = _T['websocketClose']
T_DENY_START = _T['websocketHttpResponseStart']
T_DENY_BODY = _T['websocketHttpResponseBody']
T_SCOPE_END = _T['scopeEnd']
EXT_WS_RESPONSE = codec.CONST['extWebsocketHttpResponse']
EXT_TLS = codec.CONST['extTls']
DENIAL_EXT = 'websocket.http.response'
# A close frame's payload is at most 125 bytes: the code and 123 of reason.
MAX_CLOSE_REASON = 123


def build_scope(m, state):
    """ASGI websocket scope from a decoded ScopeOpen."""
    h = m['headers']
    it = iter(h)
    host = m['clientHost']
    server = (m['serverHost'], None) if m['serverIsUnix'] else (m['serverHost'], m['serverPort'])
    ext = {}
    bits = m['extensions']
    if bits & EXT_WS_RESPONSE:
        ext[DENIAL_EXT] = {}
    if bits & EXT_TLS and m['tls'] is not None:
        ext['tls'] = _tls_extension(m['tls'])
    scope = {
        'type': 'websocket',
        'asgi': {'version': '3.0', 'spec_version': ASGI_SPEC_VERSION},
        'http_version': m['httpVersion'] or '1.1',
        'scheme': m['scheme'] or 'ws',
        'path': m['path'],
        'raw_path': m['rawPath'],
        'query_string': m['queryString'],
        'root_path': m['rootPath'],
        'headers': list(zip(it, it)),
        'client': (host, m['clientPort']) if host else None,
        'server': server,
        'subprotocols': list(m['subprotocols']),
        'state': state.copy(),
        'extensions': ext,
    }
    # The TCP peer, only when the gateway replaced client (trusted proxy,
    # PROXY protocol); absent means client is the peer.
    if m['peerHost']:
        scope['pagi.peer'] = (m['peerHost'], m['peerPort'])
    return scope


def _close_code(code):
    if type(code) is not int or not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise SendError('websocket.close code %r may not be sent (1000-1003, 1007-1014, 3000-4999)' % (code,))
    return code


def _utf8(v, what):
    if type(v) is not str:
        raise SendError('%s must be a str, not %s' % (what, type(v).__name__))
    try:
        return v.encode('utf-8')
    except UnicodeEncodeError:
        raise SendError('%s is not encodable as UTF-8 (lone surrogate?)' % what) from None


class WebSocketScope(CreditFlow):
    __slots__ = ('w', 'id', 'scope', 'events', 'waiter', 'uncredited', 'in_flight',
                 'credit_waiter', 'state', 'gone', 'end_event', 'task')

    def __init__(self, worker, sid, m):
        self.w = worker
        self.id = sid
        self.scope = self._make_scope(m, worker)
        self.events = deque()      # (event, credit bytes)
        self.waiter = None
        self.uncredited = 0
        self.in_flight = 0
        self.credit_waiter = None
        self.state = 'connecting'
        self.gone = False
        self.end_event = None      # what receive() answers once nothing more can come
        self.task = None

    def _make_scope(self, m, worker):
        scope = build_scope(m, worker.state)
        scope['extensions']['pagi.gateway'] = worker.gateway_info(m)
        return scope

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
            log_exception('WebSocket %s' % self.scope['path'], exc)
        except BaseException as exc:  # cancellation: still end the scope
            self._finish(True, exception_text(exc) or type(exc).__name__)
            raise
        self._finish(failed, message)

    def _finish(self, failed, message):
        w = self.w
        if self.state == 'denying' and not self.gone:
            # An unfinished denial body: end it so the response goes out.
            w.send_frame(codec.encode(self.id, T_DENY_BODY, {'body': b'', 'more': False}))
        # Otherwise the gateway answers a handshake left open with 403 (500
        # when failed) and closes an open connection with 1000 (1011).
        w.send_frame(codec.encode(self.id, T_SCOPE_END, {'failed': failed, 'message': message}))
        self.state = 'closed'
        self._set_gone()
        w.scope_done(self.id)

    # --- messages from the gateway -------------------------------------------------

    def on_message(self, tag, p):
        if tag == T_RECEIVE:
            if p['isText']:
                text = p['text']
                self._deliver({'type': 'websocket.receive', 'text': text}, len(text.encode('utf-8')))
            else:
                b = p['bytes']
                self._deliver({'type': 'websocket.receive', 'bytes': b}, len(b))
        elif tag == T_CREDIT:
            self._on_credit(p['bytes'])
        elif tag == T_CONNECT:
            self._deliver({'type': 'websocket.connect'}, 0)
        elif tag == T_DISCONNECT:
            if self.end_event is None:
                ev = {'type': 'websocket.disconnect', 'code': p['code'], 'reason': p['reason']}
                self.end_event = ev
                self._deliver(dict(ev), 0)
            self._set_gone()
        elif tag == T_RESPONSE_DONE:
            self._denied()

    def _set_gone(self):
        self.gone = True
        self._wake_sender()

    def _stopped(self):
        return self.gone

    def _denied(self):
        """The handshake ended without a connection; nothing more will come."""
        self.state = 'closed'
        if self.end_event is None:
            self.end_event = {'type': 'websocket.disconnect', 'code': 1006, 'reason': ''}
            w = self.waiter
            if w is not None and not w.done():
                self.waiter = None
                w.set_result(dict(self.end_event))

    # --- receive ---------------------------------------------------------------------

    async def receive(self):
        if self.events:
            ev, n = self.events.popleft()
            self._account(n)
            return ev
        if self.end_event is not None:
            return dict(self.end_event)
        if self.uncredited:
            # The app waits with nothing queued: never let batching stall it.
            self._send_credit()
        fut = self.waiter = self.w.loop.create_future()
        return await fut

    # --- send --------------------------------------------------------------------------

    async def send(self, message):
        t = message['type']
        if self.gone:
            return
        state = self.state
        if t == 'websocket.send':
            if state != 'open':
                raise SendError("'websocket.send' %s" % _not_open(state))
            await self._send_message(message)
        elif t == 'websocket.accept':
            if state != 'connecting':
                raise SendError("'websocket.accept' %s" % _after(state))
            self._accept(message)
        elif t == 'websocket.close':
            if state not in ('connecting', 'open'):
                raise SendError("'websocket.close' %s" % _after(state))
            code = _close_code(message.get('code', 1000))
            reason = _utf8(message.get('reason') or '', 'websocket.close reason')
            if len(reason) > MAX_CLOSE_REASON:
                raise SendError('websocket.close reason is over %d bytes' % MAX_CLOSE_REASON)
            self.state = 'closed'
            self.w.send_frame(codec.encode(self.id, T_CLOSE, {'code': code, 'reason': reason}))
            if state == 'connecting':
                self._denied()      # the gateway answers 403
        elif t == 'websocket.http.response.start':
            self._deny_start(message, state)
        elif t == 'websocket.http.response.body':
            if state != 'denying':
                raise SendError("'websocket.http.response.body' without a denial response started")
            body = validate.body(message.get('body', b''))
            more = bool(message.get('more_body', False))
            limit = self.w.max_chunk
            for off in range(0, max(len(body), 1), limit):
                last = off + limit >= len(body)
                self.w.send_frame(codec.encode(self.id, T_DENY_BODY, {
                    'body': body[off:off + limit], 'more': more if last else True}))
            if not more:
                self._denied()
        else:
            raise SendError('unexpected ASGI message %r for a websocket scope' % (t,))

    def _accept(self, message):
        p = {'headers': validate.flat_headers(message.get('headers') or ())}
        sp = message.get('subprotocol')
        if sp is not None:
            if type(sp) is not str or not validate._TOKEN(sp.encode('latin-1', 'replace')):
                raise SendError('websocket.accept subprotocol must be a token str, not %r' % (sp,))
            p['hasSubprotocol'] = True
            p['subprotocol'] = sp
        self.state = 'open'
        self.w.send_frame(codec.encode(self.id, T_ACCEPT, p))

    def _deny_start(self, message, state):
        if DENIAL_EXT not in self.scope['extensions']:
            raise SendError("'websocket.http.response.start' needs the %r extension, "
                            "which this scope does not advertise" % DENIAL_EXT)
        if state != 'connecting':
            raise SendError("'websocket.http.response.start' %s" % _after(state))
        status = validate.status(message['status'])
        headers = validate.flat_headers(message.get('headers') or ())
        self.state = 'denying'
        self.w.send_frame(codec.encode(self.id, T_DENY_START, {'status': status, 'headers': headers}))

    async def _send_message(self, message):
        b = message.get('bytes')
        text = message.get('text')
        if (b is None) == (text is None):
            raise SendError("'websocket.send' needs exactly one of 'bytes' or 'text'")
        if text is not None:
            payload = _utf8(text, 'websocket.send text')
            p = {'isText': True, 'text': payload}
        else:
            payload = validate.body(b)
            p = {'isText': False, 'bytes': payload}
        n = len(payload)
        w = self.w
        if n > w.max_chunk:
            raise SendError("'websocket.send' message of %d bytes is over the frame limit (%d)" % (n, w.max_chunk))
        if not await self._wait_window(n):
            return
        if self.state != 'open':
            return      # closed while this send waited
        self.in_flight += n
        w.send_frame(codec.encode(self.id, T_SEND, p))


def _not_open(state):
    return {'connecting': 'before websocket.accept',
            'denying': 'after websocket.http.response.start',
            'closed': 'after websocket.close'}[state]


def _after(state):
    return {'open': 'after websocket.accept',
            'denying': 'after websocket.http.response.start',
            'closed': 'after websocket.close',
            'connecting': 'before websocket.accept'}[state]
