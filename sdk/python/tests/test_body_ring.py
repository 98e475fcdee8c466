"""The shared body ring, worker side (docs/protocol.md 3c): a fake gateway
with a temp file of S bytes as the ring, inherited as PAGI_BODY_RING_FD."""
import json
import mmap
import os
import random
import sys
import time

import pytest

from fake_gateway import FakeGateway, ROOT

sys.path.insert(0, os.path.join(ROOT, 'tests', 'apps'))
from ring_app import pattern  # noqa: E402
from pagi_worker import body_ring, codec  # noqa: E402

S = 65536
BIG_WINDOW = 1 << 30


@pytest.fixture
def ring_file(tmp_path):
    """A file of S bytes, open read-write; the worker inherits it."""
    fd = os.open(tmp_path / 'ring', os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, S)
    yield fd
    os.close(fd)


@pytest.fixture
def spawn(ring_file):
    made = []

    def spawn(app='ring_app:app', *args, env_fd=None, size=S, send_window=BIG_WINDOW):
        env = {'PAGI_BODY_RING_FD': str(ring_file if env_fd is None else env_fd)}
        g = FakeGateway(app, *args, env=env, pass_fds=(ring_file,))
        made.append(g)
        g.handshake(send_window=send_window, body_ring_bytes=size)
        return g

    yield spawn
    for g in made:
        g.kill()


def request(gw, query, path='/'):
    sid = gw.open_http('GET', path, query=query)
    gw.expect('httpResponseStart', sid)
    return sid


def next_body(gw, sid, ring_fd, size=S):
    """One httpResponseBody as (where, position, bytes): where is 'ring' or
    'inline'; a span's bytes are read from the ring file at once (a later
    span may reuse the place once released)."""
    p = gw.expect('httpResponseBody', sid)
    if p['ringLength']:
        assert p['body'] == b'' and p['file'] == ''
        pos, n = p['ringPosition'], p['ringLength']
        assert pos % size + n <= size, 'a span crosses the end of the ring'
        return 'ring', pos, os.pread(ring_fd, n, pos % size), p['more']
    assert p['ringPosition'] == 0
    return 'inline', None, p['body'], p['more']


def response(gw, ring_fd, tag, sizes, size=S):
    sid = request(gw, b'%s:%s' % (tag, b','.join(b'%d' % n for n in sizes)))
    got = [next_body(gw, sid, ring_fd, size) for _ in sizes]
    assert [g[3] for g in got] == [True] * (len(sizes) - 1) + [False]
    assert gw.expect('scopeEnd', sid) == {'failed': False, 'message': ''}
    for i, (n, g) in enumerate(zip(sizes, got)):
        assert g[2] == pattern(tag, i, n), 'body %d of %s' % (i, tag)
    return [g[:2] for g in got]


def test_spans_positions_bytes_skip_fallback_and_release(spawn, ring_file):
    gw = spawn()
    # Small bodies inline, from 4 KiB on through the ring, end to end.
    assert response(gw, ring_file, b'a', [100, 4095, 4096]) == [('inline', None), ('inline', None), ('ring', 0)]
    # W = 4096. Three spans, W = 64096; the fourth would cross the end: its
    # start skips to S, where start + n > R + S (nothing released): inline.
    assert response(gw, ring_file, b'b', [20000, 20000, 20000, 10000]) == \
        [('ring', 4096), ('ring', 24096), ('ring', 44096), ('inline', None)]
    # Released up to 40000: the skipped span fits now, at offset 0.
    gw.send(0, 'bodyRingRelease', {'through': 40000})
    assert response(gw, ring_file, b'c', [10000]) == [('ring', S)]
    # W = S + 10000. A release far beyond W counts as W (nothing written
    # past W may be trusted released): R + S = 2S + 10000, so 12000 bytes at
    # 2S do not fit.
    gw.send(0, 'bodyRingRelease', {'through': 1 << 62})
    assert response(gw, ring_file, b'd', [S - 10000, 12000]) == [('ring', S + 10000), ('inline', None)]
    # Releases only move forward: an older position leaves R + S at 2S + 10000.
    gw.send(0, 'bodyRingRelease', {'through': 5})
    assert response(gw, ring_file, b'e', [9000]) == [('ring', 2 * S)]
    assert 'body ring not used' not in gw.shutdown()


def test_ring_fd_is_not_inherited_and_variable_gone(spawn, ring_file):
    gw = spawn()
    sid = request(gw, b'%d' % ring_file, '/fd')
    info = json.loads(gw.expect('httpResponseBody', sid)['body'])
    assert info == {'inheritable': False, 'child_sees': False, 'env': None}
    gw.shutdown()


@pytest.mark.parametrize('size', [S * 2, 0], ids=['size-mismatch', 'no-ring'])
def test_no_ring_all_inline_fd_still_closed_to_children(spawn, ring_file, size):
    gw = spawn(size=size)
    assert response(gw, ring_file, b'x', [20000, 4096]) == [('inline', None)] * 2
    sid = request(gw, b'%d' % ring_file, '/fd')
    info = json.loads(gw.expect('httpResponseBody', sid)['body'])
    assert info == {'inheritable': False, 'child_sees': False, 'env': None}
    err = gw.shutdown()
    # Logged once when a ring was announced but not usable; not without one.
    assert err.count('body ring not used') == (1 if size else 0), err


@pytest.mark.parametrize('value', ['987', 'nope'])
def test_bad_ring_fd_logged_and_inline(spawn, ring_file, value):
    gw = spawn(env_fd=value)
    assert response(gw, ring_file, b'x', [20000]) == [('inline', None)]
    err = gw.shutdown()
    assert err.count('body ring not used') == 1 and value in err, err


def test_wsgi_bodies_through_the_ring(spawn, ring_file):
    gw = spawn('ring_app:wsgi', '--interface', 'wsgi')
    assert response(gw, ring_file, b'w', [5000, 300, 16384]) == [('ring', 0), ('inline', None), ('ring', 5000)]
    gw.shutdown()


def test_pagi_bodies_through_the_ring(spawn, ring_file):
    gw = spawn('ring_app:pagi', '--interface', 'pagi')
    assert response(gw, ring_file, b'p', [8192, 10, 8192]) == [('ring', 0), ('inline', None), ('ring', 8192)]
    gw.shutdown()


def test_spans_count_against_the_send_window(spawn, ring_file):
    gw = spawn(send_window=20000)
    sid = request(gw, b'f:16384,16384,16384')
    assert next_body(gw, sid, ring_file)[:2] == ('ring', 0)
    # The second would make 32768 in flight: it waits for credit. Had it
    # gone, it would be ahead of the heartbeat's echo in the stream.
    gw.send(0, 'heartbeat', {'seq': 7})
    assert gw.expect('heartbeat', 0) == {'seq': 7}
    gw.send(sid, 'credit', {'bytes': 16384})
    assert next_body(gw, sid, ring_file)[:2] == ('ring', 16384)
    gw.send(sid, 'credit', {'bytes': 16384})
    assert next_body(gw, sid, ring_file)[:2] == ('ring', 32768)
    gw.expect('scopeEnd', sid)
    gw.shutdown()


# --- BodyRing alone: the gateway's checks over random traffic --------------------

def test_body_ring_spans_pass_the_gateways_checks():
    size = 1 << 16
    ring = body_ring.BodyRing(mmap.mmap(-1, size), size)
    rng = random.Random(3)
    held = []           # (start, n) the fake gateway still reads, in order
    end = 0             # end of the previous span
    spans = inline = 0
    for _ in range(5000):
        n = rng.choice((4096, 5000, 16384, 30000, size, size + 1, rng.randrange(1, size)))
        body = bytes([rng.randrange(256)]) * n
        sid, tag, p = codec.split_frames(ring.frame(3, body, True))[0][0]
        if p['ringLength']:
            start = p['ringPosition']
            spans += 1
            assert p['ringLength'] == n and p['body'] == b''
            assert start >= end                             # no overlap with the last span
            assert start % size + n <= size                 # never wraps
            if held:                                        # nothing held is overwritten
                assert start + n <= held[0][0] + size
            assert ring.map[start % size:start % size + n] == body
            held.append((start, n))
            end = start + n
        else:
            inline += 1
            assert p['body'] == body
        if held and rng.random() < 0.4:
            k = rng.randrange(1, len(held) + 1)
            through = held[k - 1][0] + held[k - 1][1]
            del held[:k]
            ring.release(through + (rng.randrange(size) if not held and rng.random() < 0.2 else 0))
    assert spans > 1000 and inline > 100


def test_body_ring_boundaries():
    size = 8192
    ring = body_ring.BodyRing(mmap.mmap(-1, size), size)

    def where(n):
        p = codec.split_frames(ring.frame(1, b'z' * n, False))[0][0][2]
        return p['ringPosition'] if p['ringLength'] else None

    assert where(size) == 0                 # start + n == R + S: allowed
    assert where(1) is None                 # one byte more: inline
    assert where(size + 1) is None          # larger than the ring: always inline
    ring.release(100)
    assert where(100) == size               # exactly the released room
    assert where(1) is None
    ring.release(size + 100)
    assert (ring.r, ring.w) == (size + 100, size + 100)
    assert where(size - 100) == size + 100  # up to the end of the ring
    assert where(101) is None               # at 2S (no wrap) it would reach past R + S
    assert where(100) == 2 * size           # which 100 bytes do not
    ring.release(ring.w)                    # emptied at offset 100 of a turn
    assert where(100) == 3 * size           # fits before w's offset: the next turn at once
    assert ring.r == 3 * size               # nothing held was skipped: R moved along
    assert where(size - 100) == 3 * size + 100   # so the whole ring is room again


def test_emptied_ring_starts_over_and_gives_back_its_memory():
    size = 4 << 20
    ring = body_ring.BodyRing(mmap.mmap(-1, size), size)   # shared anonymous: shmem, like the memfd

    def where(n, byte=b'b'):
        p = codec.split_frames(ring.frame(1, byte * n, True))[0][0][2]
        return p['ringPosition'] if p['ringLength'] else None

    assert [where(65536) for _ in range(24)] == [i * 65536 for i in range(24)]   # to 1.5 MiB
    past = (1 << 20) + 100
    assert not ring.release(23 * 65536)              # a span still held: nothing to give back
    assert not ring.trim()
    assert ring.map[past:past + 4] == b'bbbb'         # all kept
    assert where(4096) == 24 * 65536                  # and spans go on from w
    assert ring.release(ring.w)                       # emptied: memory to give back
    assert ring.map[past:past + 4] == b'bbbb'         # but release alone keeps it
    assert ring.trim()
    assert ring.map[past:past + 4] == b'\0\0\0\0'     # past the first MiB: given back
    assert ring.map[100:104] == b'bbbb'               # the first MiB kept
    assert not ring.trim()                            # nothing left to give
    assert where(4096) == size                        # fits before w's offset: the next turn at once
    assert where(4096) == size + 4096                 # then on from there (something is held)


@pytest.mark.skipif(not os.access('/dev/shm', os.W_OK), reason='no /dev/shm')
def test_worker_gives_ring_memory_back_after_a_quiet_delay():
    size = 4 << 20
    fd = os.open('/dev/shm', os.O_RDWR | os.O_TMPFILE, 0o600)   # tmpfs, like the memfd
    os.ftruncate(fd, size)
    gw = FakeGateway('ring_app:app', env={'PAGI_BODY_RING_FD': str(fd)}, pass_fds=(fd,))
    try:
        gw.handshake(send_window=BIG_WINDOW, body_ring_bytes=size)
        assert response(gw, fd, b'a', [65536] * 24, size) == [('ring', i * 65536) for i in range(24)]   # to 1.5 MiB
        past = (1 << 20) + 100
        before, kept = os.pread(fd, 4, past), os.pread(fd, 4, 100)
        gw.send(0, 'bodyRingRelease', {'through': 24 * 65536})
        gw.send(0, 'heartbeat', {'seq': 7})
        assert gw.expect('heartbeat', 0)['seq'] == 7        # the release was taken
        assert os.pread(fd, 4, past) == before              # emptied, but not given back at once
        # No message says "given back": poll the file, bounded (the delay is 1 s).
        deadline = time.monotonic() + 15
        while os.pread(fd, 4, past) != b'\0\0\0\0' and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.pread(fd, 4, past) == b'\0\0\0\0'         # then past the first MiB: gone
        assert os.pread(fd, 4, 100) == kept                 # the first MiB kept
        assert response(gw, fd, b'b', [65536], size) == [('ring', size)]   # and the ring goes on
        assert 'body ring not used' not in gw.shutdown()
    finally:
        gw.kill()
        os.close(fd)
