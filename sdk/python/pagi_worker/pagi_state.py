"""The `pagi.connection` and `pagi.transport` objects of PAGI-native scopes
(PAGI Www spec: Connection State, Transport Flow Control), as the Perl SDK
offers them. The scope drivers call the underscore methods; apps the rest."""

import sys
import traceback


def _call(what, cb, *args):
    # A callback that raises must not take the worker or the other callbacks down.
    try:
        cb(*args)
    except Exception:
        sys.stderr.write('pagi-worker-python: %s callback raised:\n%s' % (what, traceback.format_exc()))


class Connection:
    """Per-request state: disconnect detection and response progress."""

    __slots__ = ('_loop', '_connected', '_reason', '_started', '_complete', '_finished',
                 '_on_disconnect', '_on_complete', '_future')

    def __init__(self, loop):
        self._loop = loop
        self._connected = True
        self._reason = None
        self._started = False
        self._complete = False
        self._finished = False       # one of disconnect or completion happened
        self._on_disconnect = []
        self._on_complete = []
        self._future = None

    def is_connected(self):
        return self._connected

    def disconnect_reason(self):
        return self._reason

    def response_started(self):
        return self._started

    def response_complete(self):
        return self._complete

    def on_disconnect(self, cb):
        if self._reason is not None:
            _call('pagi.connection', cb, self._reason)
        elif not self._finished:
            self._on_disconnect.append(cb)

    def on_complete(self, cb):
        if self._finished:
            if self._reason is None:
                _call('pagi.connection', cb)
        else:
            self._on_complete.append(cb)

    def disconnect_future(self):
        """An asyncio Future done with the reason on an abnormal disconnect."""
        if self._future is None:
            self._future = self._loop.create_future()
            if self._reason is not None:
                self._future.set_result(self._reason)
        return self._future

    # --- driven by the scope ------------------------------------------------

    def _disconnect(self, reason):
        """Abnormal end, in the spec's order; False when already ended."""
        if self._finished:
            return False
        self._finished = True
        self._connected = False
        self._reason = reason
        f = self._future
        if f is not None and not f.done():
            f.set_result(reason)
        cbs, self._on_disconnect, self._on_complete = self._on_disconnect, [], []
        for cb in cbs:
            _call('pagi.connection', cb, reason)
        return True

    def _done(self):
        """Successful end: the response reached the client."""
        if self._finished:
            return False
        self._finished = True
        self._connected = False
        cbs, self._on_complete, self._on_disconnect = self._on_complete, [], []
        for cb in cbs:
            _call('pagi.connection', cb)
        return True


class Transport:
    """Outbound flow control: bytes sent to the gateway and not yet credited
    back; the high-water mark is the send window, the low one half of it."""

    __slots__ = ('_buffered', '_high', '_low', '_above', '_on_high', '_on_drain')

    def __init__(self, high_water_mark, low_water_mark=None):
        self._buffered = 0
        self._high = high_water_mark
        self._low = high_water_mark // 2 if low_water_mark is None else low_water_mark
        self._above = False
        self._on_high = []
        self._on_drain = []

    def buffered_amount(self):
        return self._buffered

    def high_water_mark(self):
        return self._high

    def low_water_mark(self):
        return self._low

    def on_high_water(self, cb):
        self._on_high.append(cb)
        if self._buffered >= self._high:
            _call('pagi.transport', cb)

    def on_drain(self, cb):
        self._on_drain.append(cb)

    def _set_buffered(self, n):
        self._buffered = n
        if not self._above:
            if n >= self._high:
                self._above = True
                for cb in self._on_high:
                    _call('pagi.transport', cb)
        elif n < self._low:
            self._above = False
            for cb in self._on_drain:
                _call('pagi.transport', cb)
