"""Worker throughput without the gateway: a fake gateway keeps DEPTH GET
scopes open at once against a real worker subprocess and counts completed
round trips (open -> httpResponseStart, httpResponseBody, scopeEnd).

    /usr/bin/python3 sdk/python/bench/worker_bench.py [APP] [--seconds S] [--depth N] [--profile]
        [--requests N] [--sdk DIR] [--wrap CMD] [--app-dir DIR]

APP defaults to the hello app below; --profile runs the worker under cProfile
(its stats go to /tmp/pagi-worker-python.prof). --requests stops after N
round trips instead of after S seconds; --sdk runs the worker of another copy
of sdk/python (e.g. an older commit's, from git archive); --wrap runs the
worker under a command, e.g. "valgrind --tool=cachegrind --cache-sim=no"
for instruction counts, which the load of a shared machine does not change
(two runs with different --requests give the count per round trip).
"""
import argparse
import os
import shlex
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from pagi_worker import codec  # noqa: E402

T = codec.TAG
OPEN = {
    'type': 'http', 'httpVersion': '1.1', 'method': 'GET', 'scheme': 'http', 'path': '/',
    'rawPath': b'/', 'queryString': b'', 'rootPath': '',
    'headers': [b'host', b'localhost:8080', b'user-agent', b'wrk/4.2', b'accept', b'*/*'],
    'clientHost': '127.0.0.1', 'clientPort': 51234, 'serverHost': '127.0.0.1', 'serverPort': 8080,
    'hasBody': True, 'body': b'', 'more': False,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('app', nargs='?', default='hello_app:app')
    ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--depth', type=int, default=64)
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--requests', type=int, default=0)
    ap.add_argument('--sdk', default=ROOT)
    ap.add_argument('--wrap', default='')
    ap.add_argument('--app-dir', default=HERE)
    a = ap.parse_args()
    mine, theirs = socket.socketpair()
    env = dict(os.environ, PAGI_WORKER_FD=str(theirs.fileno()))
    cmd = shlex.split(a.wrap) + [sys.executable]
    if a.profile:
        cmd += ['-m', 'cProfile', '-o', '/tmp/pagi-worker-python.prof']
    cmd += [os.path.join(a.sdk, 'bin', 'pagi-worker-python'), '--app-dir', a.app_dir, a.app]
    proc = subprocess.Popen(cmd, env=env, pass_fds=(theirs.fileno(),))
    theirs.close()
    buf = b''

    def read_msgs():
        nonlocal buf
        data = mine.recv(1 << 20)
        if not data:
            raise SystemExit('worker closed the connection')
        buf += data
        msgs, pos = codec.split_frames(buf)
        buf = buf[pos:]
        return msgs

    msgs = []
    while not msgs:
        msgs = read_msgs()
    mine.sendall(codec.encode(0, T['welcome'], {
        'protocolVersion': 1, 'workerId': 1, 'sendWindow': 1 << 20, 'receiveWindow': 1 << 20,
        'heartbeatIntervalMs': 0, 'lifespan': 'off', 'maxMessageBytes': 16 << 20}))
    frames = {}
    sid = 0

    def open_frame():
        nonlocal sid
        sid += 1
        return codec.encode(sid, T['open'], OPEN)

    mine.sendall(b''.join(open_frame() for _ in range(a.depth)))
    cpu0 = _cpu_ticks(proc.pid)
    done = 0
    end = time.perf_counter() + a.seconds
    start = time.perf_counter()
    while (done < a.requests) if a.requests else (time.perf_counter() < end):
        new = 0
        for s, tag, p in read_msgs():
            if tag == T['scopeEnd']:
                new += 1
        done += new
        if a.requests:
            new = min(new, a.requests - sid)
        if new > 0:
            mine.sendall(b''.join(open_frame() for _ in range(new)))
    elapsed = time.perf_counter() - start
    cpu = (_cpu_ticks(proc.pid) - cpu0) / os.sysconf('SC_CLK_TCK')
    mine.sendall(codec.encode(0, T['shutdown']))
    mine.close()
    proc.wait()
    print('%s: %.0f round trips/s (depth %d, %.1fs), worker CPU %.1f us per round trip'
          % (a.app, done / elapsed, a.depth, elapsed, cpu * 1e6 / max(done, 1)))
    _ = frames


def _cpu_ticks(pid):
    """utime + stime of the worker, in clock ticks (the CPU it used)."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


if __name__ == '__main__':
    main()
