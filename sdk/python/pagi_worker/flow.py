"""Flow control shared by the scope classes (asgi_http, websocket, pagi_sse):
the gateway's send window and the credit for received bytes (docs/protocol.md).

A mixin: the scope keeps the state in its own __slots__ -- w (the worker),
id, uncredited, in_flight, credit_waiter, waiter and events (and cont, for
100-continue) -- and says by _stopped() when the gateway has forgotten it
(nothing more may be sent).
"""
from . import codec

_encode_credit = codec.encode_credit


class CreditFlow:
    __slots__ = ()

    # --- credit for bytes the app took ------------------------------------------

    def _deliver(self, ev, nbytes):
        """Hands ev to a waiting receive(), else queues it as (ev, nbytes) in
        events; its nbytes are credited when the app takes it."""
        w = self.waiter
        if w is not None and not w.done():
            self.waiter = None
            self._account(nbytes)
            w.set_result(ev)
        else:
            self.events.append((ev, nbytes))

    def _account(self, n):
        """Counts received bytes the app took; credits them at half the window."""
        if not n:
            return
        self.uncredited += n
        if self.uncredited * 2 >= self.w.receive_window:
            self._send_credit()

    def _open_body(self):
        """First read of a 100-continue request: this credit opens the body."""
        self.cont = False
        self.w.send_frame(_encode_credit(self.id, self.w.receive_window))

    def _send_credit(self):
        if not self._stopped():
            self.w.send_frame(_encode_credit(self.id, self.uncredited))
        self.uncredited = 0

    # --- the send window ---------------------------------------------------------

    def _on_credit(self, n):
        """The gateway wrote n of our bytes."""
        left = self.in_flight - n
        self.in_flight = left if left > 0 else 0
        self._wake_sender()

    def _wake_sender(self):
        cw = self.credit_waiter
        if cw is not None and not cw.done():
            cw.set_result(None)

    async def _wait_window(self, n):
        """Waits until n more bytes may go; False when the scope stopped meanwhile.
        The gateway's rule: nothing more while sendWindow bytes or more are in
        flight; an event larger than the window goes when none are."""
        w = self.w
        window = w.send_window
        while self.in_flight and (self.in_flight + n > window or self.in_flight >= window):
            fut = self.credit_waiter = w.loop.create_future()
            await fut
            self.credit_waiter = None
            if self._stopped():
                return False
        return True
