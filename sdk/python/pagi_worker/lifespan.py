"""The lifespan scope (docs/protocol.md section 2; ASGI lifespan with `state`).

Calls the app once with a lifespan scope, turns lifespanStartup /
lifespanShutdown into receive() events and answers the gateway with what the
app sends. An app that raises or returns before answering startup gets
lifespanUnsupported (auto mode) or lifespanStartupFailed (on mode). Answers
are held until the gateway asked for them.
"""

from collections import deque

from . import codec
from .log import log, log_exception, exception_text
from .validate import SendError

T = codec.TAG
_ANSWER = {
    'lifespan.startup.complete': ('startup', T['lifespanStartupComplete'], False),
    'lifespan.startup.failed': ('startup', T['lifespanStartupFailed'], True),
    'lifespan.shutdown.complete': ('shutdown', T['lifespanShutdownComplete'], False),
    'lifespan.shutdown.failed': ('shutdown', T['lifespanShutdownFailed'], True),
}


class Lifespan:
    def __init__(self, worker, sid, mode, state, asgi_version, key='asgi'):
        self.w = worker
        self.id = sid
        self.mode = mode                # 'auto' or 'on'
        self.state = state
        self.asgi = asgi_version
        self.key = key                  # 'pagi' for PAGI-native apps
        self.events = deque()
        self.waiter = None
        self.requested = set()
        self.answered = set()
        self.deferred = []              # (phase, tag, text) until requested
        self.unsupported = False
        self.silent = False             # shutdown without lifespanShutdown: answer nobody
        self.task = None
        self.shutdown_done = worker.loop.create_future()

    def start(self, app):
        scope = {'type': 'lifespan', self.key: self.asgi, 'state': self.state}
        self.task = self.w.loop.create_task(self._run(app, scope))

    async def _run(self, app, scope):
        error = None
        try:
            await app(scope, self.receive, self.send)
        except BaseException as exc:  # the app's failure is reported, never raised
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            error = exc
        self._app_finished(error)

    # --- from the gateway --------------------------------------------------

    def on_message(self, tag, payload):
        if tag == T['lifespanStartup']:
            self.requested.add('startup')
            self._deliver({'type': 'lifespan.startup'})
        elif tag == T['lifespanShutdown']:
            self.request_shutdown()
        self._flush()

    def request_shutdown(self):
        if 'shutdown' in self.requested:
            return
        self.requested.add('shutdown')
        if self.unsupported or self.task is None or self.task.done():
            # Nobody listens: shutdown is trivially complete.
            self._answer('shutdown', T['lifespanShutdownComplete'], None)
            return
        self._deliver({'type': 'lifespan.shutdown'})

    # --- the app's receive/send ---------------------------------------------

    def _deliver(self, ev):
        w = self.waiter
        if w is not None and not w.done():
            self.waiter = None
            w.set_result(ev)
        else:
            self.events.append(ev)

    async def receive(self):
        if self.events:
            return self.events.popleft()
        self.waiter = self.w.loop.create_future()
        return await self.waiter

    async def send(self, message):
        t = message.get('type') if isinstance(message, dict) else None
        a = _ANSWER.get(t)
        if a is None:
            raise SendError('unsupported event type %r for a lifespan scope' % (t,))
        phase, tag, has_text = a
        if phase in self.answered:
            raise SendError('%s sent twice' % t)
        if phase == 'shutdown' and 'startup' not in self.answered:
            raise SendError('%s before lifespan.startup was answered' % t)
        text = None
        if has_text:
            text = message.get('message', '')
            if not isinstance(text, str):
                raise SendError('%s message must be a str' % t)
            if phase == 'startup':
                log('lifespan startup failed: %s' % text)
        self._answer(phase, tag, text)

    def _answer(self, phase, tag, text):
        self.answered.add(phase)
        self.deferred.append((phase, tag, text))
        self._flush()

    def _flush(self):
        d = self.deferred
        while d and d[0][0] in self.requested:
            phase, tag, text = d.pop(0)
            if not self.silent:
                self.w.send_frame(codec.encode(self.id, tag, text))
            if phase == 'shutdown' and not self.shutdown_done.done():
                self.shutdown_done.set_result(None)

    def _app_finished(self, error):
        if 'startup' not in self.answered:
            if error is not None and self.mode == 'on':
                log_exception('lifespan startup', error)
                self._answer('startup', T['lifespanStartupFailed'], exception_text(error))
            else:
                why = exception_text(error) if error is not None else \
                    'the app returned without answering lifespan.startup'
                self.unsupported = True
                self._answer('startup', T['lifespanUnsupported'], why)
            if 'shutdown' in self.requested:
                self._answer('shutdown', T['lifespanShutdownComplete'], None)
            return
        if 'shutdown' in self.requested and 'shutdown' not in self.answered:
            if error is not None:
                log_exception('lifespan shutdown', error)
                self._answer('shutdown', T['lifespanShutdownFailed'], exception_text(error))
            else:
                self._answer('shutdown', T['lifespanShutdownComplete'], None)
            return
        if error is not None:
            log_exception('lifespan (after startup)', error)

