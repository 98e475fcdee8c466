"""The worker widens the send buffer of its end of the gateway socket."""
import socket

from pagi_worker.worker import widen_send_buffer


def sndbuf(sock):
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


def test_send_buffer_widened_and_env_zero_keeps_default(monkeypatch):
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    with a, b, c, d:
        default = sndbuf(c)
        monkeypatch.delenv("PAGI_WORKER_SEND_BUFFER", raising=False)
        widen_send_buffer(a)
        monkeypatch.setenv("PAGI_WORKER_SEND_BUFFER", "0")
        widen_send_buffer(c)
        # Linux doubles the request and caps it at net.core.wmem_max; the
        # cap is at least the default, so the buffer never shrinks.
        with open("/proc/sys/net/core/wmem_max") as f:
            cap = int(f.read())
        assert sndbuf(a) == 2 * min(2 * 1024 * 1024, cap)
        assert sndbuf(c) == default
