"""Checks on what an app sends, mirroring the gateway's validate_worker_message()
(docs/protocol.md, "What the gateway checks"): a bad event fails that send()
with an exception instead of costing the whole worker its connection."""

import re

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z").match
# Control characters other than HTAB, and DEL.
_BAD_VALUE = re.compile(rb'[\x00-\x08\x0a-\x1f\x7f]').search


class SendError(RuntimeError):
    """An event the app sent is invalid for this scope or its state."""


def _as_bytes(v, what):
    t = type(v)
    if t is bytes:
        return v
    if t is bytearray or t is memoryview:
        return bytes(v)
    raise SendError('%s must be a byte string, not %s' % (what, t.__name__))


def status(v):
    if type(v) is not int or not 200 <= v <= 599:
        raise SendError('status must be an int in 200..599, not %r' % (v,))
    return v


def flat_headers(headers):
    """ASGI headers (iterable of [name, value] byte pairs) -> flat list for the
    wire, checked like the gateway checks them."""
    out = []
    append = out.append
    for pair in headers:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise SendError('each header must be a [name, value] pair, not %r' % (pair,)) from None
        if type(name) is not bytes:
            name = _as_bytes(name, 'header name')
        if type(value) is not bytes:
            value = _as_bytes(value, 'header value')
        if not _TOKEN(name):
            raise SendError('invalid header name %r' % (name,))
        if _BAD_VALUE(value):
            raise SendError('invalid character (CR, LF, NUL or control) in header %r' % (name,))
        append(name)
        append(value)
    return out


def body(v):
    if type(v) is bytes:
        return v
    return _as_bytes(v, 'body')
