"""One PAGI sse scope (PAGI Www spec, Server-Sent Events; docs/protocol.md
3b): sse.request body events and sse.disconnect in; sse.start / send /
comment / keepalive / close, or the sse.http.response decline, out. Each
send is checked the way the gateway checks it, so a bad event fails that
send() instead of costing the worker its connection.

States: new -> streaming (sse.start) or declining (sse.http.response.start;
first send wins) -> closed (sse.close, the final decline body, the app
returned). Once the gateway reported the disconnect, valid sends are no-ops.
sse.send data bytes (UTF-8) and decline body bytes count against the send
window; request body bytes are credited back as the app takes them.
"""

from collections import deque

from . import codec, validate
from . import eager
from .flow import CreditFlow
from .log import log, log_exception, exception_text
from .pagi_http import build_scope
from .pagi_state import Transport
from .pagi_ws import seconds_to_ms
from .validate import SendError

_T = codec.TAG
T_CREDIT = _T['credit']
T_REQUEST = _T['sseRequest']
T_DISCONNECT = _T['sseDisconnect']
T_RESPONSE_DONE = _T['responseDone']
T_SCOPE_END = _T['scopeEnd']
T_START = _T['sseStart']
T_SEND = _T['sseSend']
T_COMMENT = _T['sseComment']
T_KEEPALIVE = _T['sseKeepalive']
T_CLOSE = _T['sseClose']
T_DECLINE_START = _T['sseHttpResponseStart']
T_DECLINE_BODY = _T['sseHttpResponseBody']
BACKSTOP_BODY = b'Internal Server Error\n'
STREAM_EVENTS = ('sse.start', 'sse.send', 'sse.comment', 'sse.keepalive', 'sse.close')


def _text(what, key, v, single_line=False):
    if type(v) is not str:
        raise SendError('%s %s must be a str, not %s' % (what, key, type(v).__name__))
    if single_line and ('\r' in v or '\n' in v or '\0' in v):
        raise SendError('%s %s must not contain CR, LF or NUL' % (what, key))
    try:
        return v.encode('utf-8')
    except UnicodeEncodeError:
        raise SendError('%s %s is not encodable as UTF-8 (lone surrogate?)' % (what, key)) from None


def _status(what, v):
    if type(v) is not int or not 200 <= v <= 599:
        raise SendError('%s status must be an int in 200..599, not %r' % (what, v))
    return v


class SseScope(CreditFlow):
    __slots__ = ('w', 'id', 'scope', 'transport', 'events', 'waiter', 'cont', 'uncredited', 'in_flight',
                 'credit_waiter', 'state', 'declined', 'gone', 'end_event', 'close_reason',
                 'early_keepalive', 'task')

    def __init__(self, worker, sid, m):
        self.w = worker
        self.id = sid
        self.scope = build_scope(m, worker.state, worker)
        self.transport = self.scope['pagi.transport'] = Transport(worker.send_window)
        self.events = deque()       # (event, credit bytes)
        if m['hasBody']:
            more = m['more']
            self.events.append(({'type': 'sse.request', 'body': m['body'], 'more': more},
                                len(m['body']) if more else 0))
        self.waiter = None
        self.cont = m['expectContinue']
        self.uncredited = 0
        self.in_flight = 0
        self.credit_waiter = None
        self.state = 'new'
        self.declined = False
        self.gone = False
        self.end_event = None       # what receive() answers once nothing more can come
        self.close_reason = None
        self.early_keepalive = None
        self.task = None

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
            log_exception('SSE %s %s' % (self.scope.get('method'), self.scope['path']), exc)
        except BaseException as exc:  # cancellation: still end the scope
            self._finish(True, exception_text(exc) or type(exc).__name__)
            raise
        self._finish(failed, message)

    def _finish(self, failed, message):
        w = self.w
        if not self.gone:
            state = self.state
            if state == 'new':
                # The backstop: the client still waits for an answer.
                if not failed:
                    log('SSE %s: app returned without sse.start; sending 500' % self.scope['path'])
                w.send_frame(codec.encode(self.id, T_DECLINE_START, {'status': 500, 'headers': [
                    b'content-type', b'text/plain; charset=utf-8',
                    b'content-length', str(len(BACKSTOP_BODY)).encode()]}))
                w.send_frame(codec.encode(self.id, T_DECLINE_BODY, {'body': BACKSTOP_BODY, 'more': False}))
            elif state == 'declining':
                w.send_frame(codec.encode(self.id, T_DECLINE_BODY, {'body': b'', 'more': False}))
            elif state == 'streaming' and not failed:
                # Returning ends the stream like sse.close; a failed app's
                # stream is left for the gateway to abort (scopeEnd failed).
                w.send_frame(codec.encode(self.id, T_CLOSE, ''))
        self.state = 'closed'
        w.send_frame(codec.encode(self.id, T_SCOPE_END, {'failed': failed, 'message': message}))
        self._ended()
        self.gone = True
        self._wake_sender()
        w.scope_done(self.id)

    # --- messages from the gateway -------------------------------------------------

    def on_message(self, tag, p):
        if tag == T_CREDIT:
            self._on_credit(p['bytes'])
            self.transport._set_buffered(self.in_flight)
        elif tag == T_REQUEST:
            more = p['more']
            self._deliver({'type': 'sse.request', 'body': p['body'], 'more': more},
                          len(p['body']) if more else 0)
        elif tag == T_DISCONNECT:
            self.gone = True
            if self.end_event is None:
                ev = self.end_event = {'type': 'sse.disconnect', 'reason': p['reason'] or 'client_closed'}
                self._deliver(dict(ev), 0)
            self._wake_sender()
        elif tag == T_RESPONSE_DONE:
            self._ended()

    def _ended(self):
        """Nothing more will come: a waiting or later receive() gets
        sse.disconnect (with the close reason when given)."""
        if self.end_event is not None:
            return
        self.end_event = {'type': 'sse.disconnect', 'reason': self.close_reason or 'server_shutdown'}
        w = self.waiter
        if w is not None and not w.done():
            self.waiter = None
            w.set_result(dict(self.end_event))

    def _stopped(self):
        return self.gone

    # --- receive ----------------------------------------------------------------------

    async def receive(self):
        if self.cont:
            self._open_body()
        if self.events:
            ev, n = self.events.popleft()
            self._account(n)
            return ev
        if self.end_event is not None:
            return dict(self.end_event)
        if self.uncredited:
            self._send_credit()
        fut = self.waiter = self.w.loop.create_future()
        return await fut

    # --- send ---------------------------------------------------------------------------

    async def send(self, message):
        if type(message) is not dict:
            raise SendError('send() expects an event dict, not %r' % (type(message).__name__,))
        t = message.get('type')
        h = _SEND.get(t)
        if h is None:
            raise SendError('unsupported event type %r for an sse scope' % (t,))
        self._check_state(t)
        if self.gone:
            return
        await h(self, message)

    def _check_state(self, t):
        state = self.state
        if t in STREAM_EVENTS:
            if state == 'declining' or self.declined:
                raise SendError('%s after sse.http.response.start (the request was declined)' % t)
            if t in ('sse.close', 'sse.keepalive'):
                return
            if state == 'closed':
                raise SendError('%s after sse.close' % t)
            if t == 'sse.start' and state != 'new':
                raise SendError('sse.start sent twice')
            if t != 'sse.start' and state == 'new':
                raise SendError('%s before sse.start' % t)
            return
        if state in ('streaming',) or (state == 'closed' and not self.declined):
            raise SendError('%s after sse.start' % t)
        if t == 'sse.http.response.start' and state != 'new':
            raise SendError('%s sent twice' % t)
        if t == 'sse.http.response.body':
            if state == 'new':
                raise SendError('%s before sse.http.response.start' % t)
            if state == 'closed':
                raise SendError('%s after the response completed' % t)

    async def _start(self, message):
        status = _status('sse.start', message.get('status', 200))
        headers = validate.flat_headers(message.get('headers') or ())
        self.state = 'streaming'
        self.w.send_frame(codec.encode(self.id, T_START, {'status': status, 'headers': headers}))
        if self.early_keepalive is not None:
            self.w.send_frame(codec.encode(self.id, T_KEEPALIVE, self.early_keepalive))
            self.early_keepalive = None

    async def _event(self, message):
        t = 'sse.send'
        data = message.get('data')
        if data is None:
            raise SendError('sse.send data is required')
        p = {'data': _text(t, 'data', data), 'retry': -1}
        for key, flag in (('event', 'hasEvent'), ('id', 'hasId')):
            v = message.get(key)
            if v is not None:
                p[key] = _text(t, key, v, True)
                p[flag] = True
        retry = message.get('retry')
        if retry is not None:
            if type(retry) is not int or retry < 0 or retry > 0x7fffffffffffffff:
                raise SendError('sse.send retry must be a non-negative int (milliseconds)')
            p['retry'] = retry
        n = len(p['data'])
        if n + len(p.get('event', b'')) + len(p.get('id', b'')) > self.w.max_chunk:
            raise SendError('sse.send event of %d bytes is over the frame limit (%d)' % (n, self.w.max_chunk))
        if await self._wait_window(n):
            self.w.send_frame(codec.encode(self.id, T_SEND, p))

    async def _wait_window(self, n):
        """Waits until n bytes may go, and counts them in flight; False when
        the stream ended meanwhile."""
        if not await CreditFlow._wait_window(self, n):
            return False
        self.in_flight += n
        self.transport._set_buffered(self.in_flight)
        return True

    async def _comment(self, message):
        text = _text('sse.comment', 'comment', message.get('comment', ''), True)
        self.w.send_frame(codec.encode(self.id, T_COMMENT, text.decode('utf-8')))

    async def _keepalive(self, message):
        t = 'sse.keepalive'
        p = {'intervalMs': seconds_to_ms(t, 'interval', message.get('interval')),
             'comment': _text(t, 'comment', message.get('comment', ''), True).decode('utf-8')}
        if self.state == 'closed':
            raise SendError('sse.keepalive after sse.close')
        if self.state == 'new':
            # Comments need a started stream: keep the last setting until sse.start.
            self.early_keepalive = p
            return
        self.w.send_frame(codec.encode(self.id, T_KEEPALIVE, p))

    async def _close(self, message):
        reason = message.get('reason') or ''
        _text('sse.close', 'reason', reason)
        if self.state == 'closed':
            return      # idempotent
        if self.state == 'new':
            raise SendError('sse.close before sse.start')
        self.state = 'closed'
        if reason:
            self.close_reason = reason
        self.w.send_frame(codec.encode(self.id, T_CLOSE, reason))
        self._ended()

    async def _decline_start(self, message):
        t = 'sse.http.response.start'
        if 'status' not in message:
            raise SendError('%s status is required' % t)
        status = _status(t, message['status'])
        headers = validate.flat_headers(message.get('headers') or ())
        self.state = 'declining'
        self.declined = True
        self.w.send_frame(codec.encode(self.id, T_DECLINE_START, {'status': status, 'headers': headers}))

    async def _decline_body(self, message):
        body = validate.body(message.get('body', b''))
        more = bool(message.get('more', False))
        if not more:
            self.state = 'closed'
        limit = self.w.max_chunk
        for off in range(0, max(len(body), 1), limit):
            chunk = body[off:off + limit]
            last = off + limit >= len(body)
            if not await self._wait_window(len(chunk)):
                return
            self.w.send_frame(codec.encode(self.id, T_DECLINE_BODY, {'body': chunk, 'more': more if last else True}))
        if not more:
            self._ended()


_SEND = {
    'sse.start': SseScope._start,
    'sse.send': SseScope._event,
    'sse.comment': SseScope._comment,
    'sse.keepalive': SseScope._keepalive,
    'sse.close': SseScope._close,
    'sse.http.response.start': SseScope._decline_start,
    'sse.http.response.body': SseScope._decline_body,
}
