"""Codec speed for one GET round trip: decode the gateway's `open` (typical
browser-ish headers), encode httpResponseStart + httpResponseBody + scopeEnd.

    /usr/bin/python3 sdk/python/bench/codec_bench.py [--profile]

With the C accelerator when it is built; PAGI_WORKER_PURE=1 for the pure
codec. The "worker's" lines are the functions the ASGI worker calls per
request: a cached start block, the body, the clean scopeEnd.
"""
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pagi_worker import codec  # noqa: E402

T = codec.TAG
OPEN = codec.encode(7, T['open'], {
    'type': 'http', 'httpVersion': '1.1', 'method': 'GET', 'scheme': 'http', 'path': '/hello',
    'rawPath': b'/hello', 'queryString': b'', 'rootPath': '',
    'headers': [b'host', b'localhost:8080', b'user-agent', b'wrk/4.2', b'accept', b'*/*',
                b'accept-encoding', b'gzip, deflate', b'connection', b'keep-alive'],
    'clientHost': '127.0.0.1', 'clientPort': 51234, 'serverHost': '127.0.0.1', 'serverPort': 8080,
    'hasBody': True, 'body': b'', 'more': False,
})
HEADERS = [b'content-type', b'text/plain', b'content-length', b'13']
SCOPE_END = T['scopeEnd']


def round_trip():
    msgs, _ = codec.split_frames(OPEN)
    sid = msgs[0][0]
    p = msgs[0][2]
    _ = p['headers']
    return (codec.encode_start(sid, 200, HEADERS)
            + codec.encode_body(sid, b'Hello, World!', False)
            + codec.encode(sid, SCOPE_END, {'failed': False, 'message': ''}))


def measure(fn, n, repeat=5):
    """Best of `repeat` runs (the machine is shared)."""
    best = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = max(best, n / (time.perf_counter() - t))
    return best


def main():
    n = 50000
    decode = lambda: codec.split_frames(OPEN)  # noqa: E731
    print('open frame: %d bytes' % len(OPEN))
    print('decode open:            %9.0f ops/s' % measure(decode, n))
    print('encode start:           %9.0f ops/s' % measure(lambda: codec.encode_start(7, 200, HEADERS), n))
    print('encode body:            %9.0f ops/s' % measure(lambda: codec.encode_body(7, b'Hello, World!', False), n))
    print('encode scopeEnd:        %9.0f ops/s' % measure(
        lambda: codec.encode(7, SCOPE_END, {'failed': False, 'message': ''}), n))
    print('GET round trip (all 4): %9.0f ops/s' % measure(round_trip, n))
    block = codec.start_block(200, HEADERS)
    print('worker\'s start (cached block): %9.0f ops/s' % measure(lambda: codec.encode_start_block(7, block), n))
    print('worker\'s clean scopeEnd:       %9.0f ops/s' % measure(lambda: codec.encode_scope_end(7, False, ''), n))
    print('accelerated: %s' % codec.ACCELERATED)
    if '--profile' in sys.argv:
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(n):
            round_trip()
        pr.disable()
        pstats.Stats(pr).sort_stats('tottime').print_stats(12)


if __name__ == '__main__':
    main()
