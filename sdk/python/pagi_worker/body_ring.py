"""The shared body ring, worker side (docs/protocol.md 3c).

The gateway leaves a sealed memfd open in a spawned worker, names it in
PAGI_BODY_RING_FD and announces its size S in welcome.bodyRingBytes. A
response body of RING_MIN_BODY bytes or more is copied into the mapping and
sent as a span {ringPosition, ringLength} instead of through the socket,
when the protocol's rule lets it; otherwise inline, as without a ring (the
ring never makes the worker wait). Flow control is unchanged: a span counts
against the send window like the inline body it replaces.
"""

import mmap
import os

from . import codec
from .log import log

ENV = 'PAGI_BODY_RING_FD'
# Smaller bodies cost less inline than a copy plus a span frame.
RING_MIN_BODY = 4096
# An emptied ring keeps this much of its memory and gives back the rest,
# once no span was written for RING_TRIM_DELAY seconds (worker.py).
RING_KEEP = 1 << 20
RING_TRIM_DELAY = 1.0

_encode_body = codec.encode_body
_encode_ring_body = codec.encode_ring_body

_claimed = False
_fd = None
_why = 'PAGI_BODY_RING_FD not set'


def claim_fd():
    """Takes PAGI_BODY_RING_FD out of the environment and makes the fd
    close-on-exec, once per process, so the app's child processes never
    inherit the ring, whether or not the worker ends up using it.
    Returns the fd, or None (then _why says why)."""
    global _claimed, _fd, _why
    if _claimed:
        return _fd
    _claimed = True
    value = os.environ.pop(ENV, None)
    if value is None:
        return None
    try:
        fd = int(value)
        if fd < 0:
            raise ValueError
        os.set_inheritable(fd, False)
    except (ValueError, OSError) as exc:
        _why = 'bad %s %r (%s)' % (ENV, value, exc if isinstance(exc, OSError) else 'not a descriptor number')
        return None
    _fd = fd
    return fd


def take(size):
    """The BodyRing for welcome.bodyRingBytes == size, or None (logged
    when a ring was announced but cannot be used)."""
    fd = claim_fd()
    if not size:
        return None
    if fd is None:
        log('body ring not used: %s' % _why)
        return None
    try:
        actual = os.fstat(fd).st_size
        if actual != size:
            log('body ring not used: %s=%d has %d bytes, welcome says %d' % (ENV, fd, actual, size))
            return None
        m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    except (OSError, ValueError) as exc:
        log('body ring not used: %s=%d: %s' % (ENV, fd, exc))
        return None
    return BodyRing(m, size)


class BodyRing:
    """Positions count bytes from 0 and never wrap; byte p is at p % size.
    w: the write position (end of the last span); r: the gateway's release
    position (it reads nothing before r any more)."""

    __slots__ = ('map', 'size', 'w', 'r', 'touched')

    def __init__(self, m, size):
        self.map = m
        self.size = size
        self.w = 0
        self.r = 0
        self.touched = 0  # end of the highest offset written since the last trim

    def frame(self, sid, body, more):
        """The httpResponseBody frame for body: a span when it fits in the
        ring, else the inline frame."""
        n = len(body)
        size = self.size
        start = self.w
        off = start % size
        # A span never wraps: skip the ring's tail. With nothing held
        # (r == w) a body that fits before w's offset starts the next turn
        # at once, so light traffic keeps reusing the ring's first pages.
        if off + n > size or (self.r == start and n <= off):
            start += size - off
            off = 0
        # Emptied, nothing is held in the skipped bytes either: R moves
        # along, or they would count as held until released past.
        r = start if self.r == self.w else self.r
        if start + n > r + size:
            return _encode_body(sid, body, more)
        self.r = r
        self.map[off:off + n] = body
        if off + n > self.touched:
            self.touched = off + n
        self.w = start + n
        return _encode_ring_body(sid, start, n, more)

    def release(self, through):
        """Moves R; True when that emptied a ring holding memory past
        RING_KEEP: the worker calls trim() once the ring stayed unused for
        RING_TRIM_DELAY (giving it back at every emptying would make a busy
        ring fault the same pages in again and again)."""
        # Only forward, and never past what was written: a position beyond
        # w would let a later span overwrite bytes the gateway still reads.
        if through > self.r:
            self.r = through if through < self.w else self.w
        return self._trimmable()

    def _trimmable(self):
        # Empty and holding memory past RING_KEEP: trim() would give some back.
        return self.r == self.w and self.touched > RING_KEEP and self.size > RING_KEEP

    def trim(self):
        """Empty, the gateway reads none of it and the next span starts the
        next turn, so the memory past RING_KEEP can go back (the pages
        return as zeros when written again). True when it gave some back."""
        if not self._trimmable():
            return False
        try:
            self.map.madvise(mmap.MADV_REMOVE, RING_KEEP, self.size - RING_KEEP)
        except (AttributeError, OSError, ValueError):
            return False
        self.touched = RING_KEEP
        return True
