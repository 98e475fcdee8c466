"""The worker's CPU for streamed responses with and without the shared body
ring (docs/protocol.md 3c), as sdk/perl/bench/ring.pl: a fake gateway runs a
worker on hello_app:stream (1 MiB as 64 events of 16 KiB), gives it a ring
file in /dev/shm, returns credit in 64 KiB steps and releases the ring every
S/8 bytes, as the gateway does. Prints the worker's user+system CPU per
response, measured after a warm-up (startup excluded).

    /usr/bin/python3 sdk/python/bench/ring_bench.py [RING_BYTES (0: none)] [RESPONSES]
"""
import os
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from pagi_worker import codec  # noqa: E402

T = codec.TAG
M = codec.MEMBER
OPEN = {
    'type': 'http', 'httpVersion': '1.1', 'method': 'GET', 'scheme': 'http', 'path': '/',
    'rawPath': b'/', 'queryString': b'', 'rootPath': '', 'headers': [b'host', b'localhost'],
    'clientHost': '127.0.0.1', 'clientPort': 51234, 'serverHost': '127.0.0.1', 'serverPort': 8080,
}
WARMUP = 50


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 2 << 20
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    ring = tempfile.TemporaryFile(dir='/dev/shm' if os.path.isdir('/dev/shm') else None)
    os.ftruncate(ring.fileno(), size or 4096)
    mine, theirs = socket.socketpair()
    env = dict(os.environ, PAGI_WORKER_FD=str(theirs.fileno()), PAGI_BODY_RING_FD=str(ring.fileno()))
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, 'bin', 'pagi-worker-python'),
                             '--app-dir', HERE, 'hello_app:stream'],
                            env=env, pass_fds=(theirs.fileno(), ring.fileno()))
    theirs.close()
    buf = b''
    pending = []

    def recv():
        nonlocal buf
        while not pending:
            data = mine.recv(1 << 20)
            if not data:
                raise SystemExit('worker closed the connection')
            buf += data
            msgs, pos = codec.split_frames(buf)
            buf = buf[pos:]
            pending.extend(msgs)
        return pending.pop(0)

    assert M[recv()[1]] == 'hello'
    mine.sendall(codec.encode(0, T['welcome'], {
        'protocolVersion': 1, 'workerId': 1, 'sendWindow': 256 * 1024, 'receiveWindow': 1 << 20,
        'heartbeatIntervalMs': 0, 'lifespan': 'off', 'maxMessageBytes': 16 << 20, 'bodyRingBytes': size}))
    spans = inline = 0
    released = through = 0
    cpu0 = None
    for i in range(WARMUP + count):
        if i == WARMUP:
            cpu0 = _cpu_ticks(proc.pid)
            spans = inline = 0
        sid = i + 1
        mine.sendall(codec.encode(sid, T['open'], OPEN))
        credit = 0
        while True:
            s, tag, p = recv()
            if tag == T['scopeEnd']:
                break
            if tag != T['httpResponseBody']:
                continue
            n = p['ringLength']
            if n:
                spans += 1
                through = p['ringPosition'] + n
            else:
                n = len(p['body'])
                inline += 1 if n else 0
            credit += n
            if credit >= 65536:
                mine.sendall(codec.encode(sid, T['credit'], {'bytes': credit}))
                credit = 0
            if size and through - released >= size // 8:
                released = through
                mine.sendall(codec.encode(0, T['bodyRingRelease'], {'through': released}))
        if through > released:
            released = through
            mine.sendall(codec.encode(0, T['bodyRingRelease'], {'through': released}))
    cpu = (_cpu_ticks(proc.pid) - cpu0) / os.sysconf('SC_CLK_TCK')
    mine.sendall(codec.encode(0, T['shutdown']))
    proc.wait()
    print('ring %d bytes, %d responses of 1 MiB: %d spans, %d inline bodies; worker CPU %.3f ms per response'
          % (size, count, spans, inline, cpu * 1000 / count))


def _cpu_ticks(pid):
    """utime + stime of the worker, in clock ticks."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])


if __name__ == '__main__':
    main()
