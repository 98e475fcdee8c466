"""pagi-gateway worker SDK for Python: runs ASGI 3 and WSGI apps behind
pagi-gateway over its Cap'n Proto worker protocol (docs/protocol.md)."""

__version__ = '0.1.0'
