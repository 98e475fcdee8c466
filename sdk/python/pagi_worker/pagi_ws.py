"""One PAGI websocket scope: the ASGI WebSocketScope's conversation with the
PAGI scope dict, `pagi.transport`, `websocket.keepalive`, and `more` in the
denial body (PAGI Www spec, WebSocket)."""

from . import codec
from .pagi_http import build_scope
from .pagi_state import Transport
from .validate import SendError
from .websocket import WebSocketScope, T_CREDIT

T_KEEPALIVE = codec.TAG['websocketKeepalive']
MAX_MS = 0xffffffff


def seconds_to_ms(what, key, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
        raise SendError('%s %s must be a non-negative number of seconds' % (what, key))
    ms = int(v * 1000 + 0.5)
    if ms == 0 and v > 0:
        ms = 1
    if ms > MAX_MS:
        raise SendError('%s %s is too large' % (what, key))
    return ms


class PagiWebSocketScope(WebSocketScope):
    __slots__ = ('transport',)

    def __init__(self, worker, sid, m):
        WebSocketScope.__init__(self, worker, sid, m)
        self.transport = self.scope['pagi.transport'] = Transport(worker.send_window)

    def _make_scope(self, m, worker):
        return build_scope(m, worker.state, worker)

    def on_message(self, tag, p):
        WebSocketScope.on_message(self, tag, p)
        if tag == T_CREDIT:
            self.transport._set_buffered(self.in_flight)

    async def send(self, message):
        if type(message) is not dict:
            raise SendError('send() expects an event dict, not %r' % (type(message).__name__,))
        t = message.get('type')
        if t == 'websocket.keepalive':
            if self.gone:
                return
            if self.state != 'open':
                raise SendError("'websocket.keepalive' needs an accepted connection")
            ms = seconds_to_ms(t, 'interval', message.get('interval'))
            timeout = message.get('timeout')
            p = {'intervalMs': ms, 'timeoutMs': 0 if timeout is None else seconds_to_ms(t, 'timeout', timeout)}
            self.w.send_frame(codec.encode(self.id, T_KEEPALIVE, p))
            return
        if t == 'websocket.http.response.body':
            message = {'type': t, 'body': message.get('body', b''), 'more_body': bool(message.get('more', False))}
        await WebSocketScope.send(self, message)
        if t == 'websocket.send':
            self.transport._set_buffered(self.in_flight)
