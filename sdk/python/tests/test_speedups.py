"""The C accelerator (_speedups.c) against the pure codec: every message type
and a few thousand mutated, truncated and random frames must decode to the
same objects (same types, same dict key order) or fail with the same error.
Skipped when the extension is not built (`make build` builds it);
PAGI_WORKER_REQUIRE_ACCEL=1 (the python_sdk_accel ctest) makes that a failure."""
import os
import random
import struct
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pagi_worker import codec, _accel, _layout  # noqa: E402
from test_codec import SAMPLES  # noqa: E402

T = codec.TAG
REQUIRE = os.environ.get('PAGI_WORKER_REQUIRE_ACCEL') == '1'

try:
    from pagi_worker import _speedups
except ImportError:
    _speedups = None

pytestmark = pytest.mark.skipif(_speedups is None and not REQUIRE,
                                reason='pagi_worker._speedups not built (make build)')


@pytest.fixture(scope='module')
def fast():
    assert _speedups is not None, 'PAGI_WORKER_REQUIRE_ACCEL=1 but pagi_worker._speedups does not import'
    assert _speedups.VERSION == _accel.VERSION
    # Configured the way codec.py does it, whatever PAGI_WORKER_PURE says.
    structs, members = _accel.tables()
    _speedups.configure(structs, members, codec.pure_split_frames, codec.pure_decode_message,
                        codec.DEFAULT_MAX_FRAME_BYTES)
    _speedups.configure_encoders(*_accel.encoder_constants(vars(codec)))
    return _speedups


def outcome(fn, *args):
    """repr of the result (types, values and dict order), or the error."""
    try:
        return 'ok', repr(fn(*args))
    except Exception as e:      # noqa: B902 - any error must match
        return type(e).__name__, str(e)


def same(fast, *args):
    want = outcome(codec.pure_split_frames, *args)
    got = outcome(fast.split_frames, *args)
    assert got == want, args
    return want


_INT_BITS = {'uint8': 8, 'uint16': 16, 'uint32': 32, 'uint64': 64,
             'int8': 8, 'int16': 16, 'int32': 32, 'int64': 64}


def full_payload(name, rng):
    """Every field of struct `name` set, nested structs included."""
    out = {}
    for f in _layout.STRUCT[name]['fields']:
        k = f['kind']
        if k == 'bool':
            out[f['name']] = True
        elif k in _INT_BITS:
            bits = _INT_BITS[k]
            lo = -(1 << (bits - 1)) if k.startswith('int') else 0
            out[f['name']] = rng.randrange(lo, lo + (1 << bits))
        elif k == 'enum':
            out[f['name']] = rng.choice(_layout.ENUM[f['enum']])
        elif k == 'text':
            out[f['name']] = rng.choice(['', 'x', 'caf\u00e9', 'seven c', 'eight ch', 'a' * 40])
        elif k == 'data':
            out[f['name']] = bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
        elif k == 'list_text':
            out[f['name']] = ['', 'one', 'two\u263a'][:rng.randrange(4)]
        elif k == 'list_data':
            out[f['name']] = [b'', b'\x00\xff', b'12345678'][:rng.randrange(4)]
        elif k == 'struct':
            out[f['name']] = full_payload(f['struct'], rng)
    return out


def frames():
    rng = random.Random(7)
    out = [codec.encode(s, T[m], p) for s, m, p in SAMPLES]
    for m in _layout.STRUCT['Envelope']['union']['members']:
        if m['kind'] == 'struct':
            p = full_payload(m['struct'], rng)
        elif m['kind'] == 'text':
            p = 'text of ' + m['name']
        else:
            p = None
        out.append(codec.encode(rng.randrange(1 << 64), m['tag'], p))
    out.append(codec.encode(7, T['open'], {'type': 'http', 'method': 'GET', 'path': '/', 'headers': []}))
    out.append(codec.encode(3, T['open'], {'type': 'sse'}))
    out.append(codec.encode(0, T['lifespanStartupFailed'], 'bad \xff'))
    return out


def test_codec_uses_it_unless_pure_is_forced():
    if REQUIRE:
        assert codec.ACCELERATED and codec.split_frames is _speedups.split_frames
        assert codec.encode_body is _speedups.encode_body
    code = 'from pagi_worker import codec; print(codec.ACCELERATED)'
    for value, want in (('1', 'False'), ('0', str(_speedups is not None))):
        env = dict(os.environ, PAGI_WORKER_PURE=value)
        out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert out.stdout.strip() == want, out


def test_every_message_type(fast):
    members = {m['name'] for m in _layout.STRUCT['Envelope']['union']['members']}
    seen = set()
    for f in frames():
        kind, text = same(fast, f)
        assert kind == 'ok', text
        msgs, _ = codec.pure_split_frames(f)
        seen.add(codec.MEMBER[msgs[0][1]])
        seg_end = len(f)
        assert outcome(fast.decode_message, f, 8, seg_end) == outcome(codec.pure_decode_message, f, 8, seg_end)
    assert seen == members          # SAMPLES covers every union member
    joined = b''.join(frames())
    assert same(fast, joined)[0] == 'ok'
    for cut in range(0, len(joined), 37):
        same(fast, joined[:cut])          # a partial frame stays for later
        same(fast, joined, cut)           # from a position (maybe mid-frame)


def test_invalid_utf8_and_replacement(fast):
    f = codec.encode(1, T['open'], {'type': 'http', 'method': b'G\xffT', 'path': b'\xc3(',
                                    'headers': [b'a', b'b'], 'subprotocols': [b'\xe2\x82', 'ok']})
    assert same(fast, f)[0] == 'ok'


def _mutate(rng, f):
    b = bytearray(f)
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if not b:
            break
        if r < 0.35:
            b[rng.randrange(8, len(b)) if len(b) > 8 else 0] = rng.randrange(256)
        elif r < 0.7 and len(b) >= 16:
            # A pointer-like word: random offset, random kind bits, random size.
            at = 8 + 8 * rng.randrange((len(b) - 8) // 8)
            lo = (rng.randrange(-64, 64) << 2) | rng.randrange(4)
            hi = rng.choice([rng.randrange(1 << 32), (rng.randrange(64) << 3) | rng.choice([2, 6]),
                             rng.randrange(8) | (rng.randrange(8) << 16)])
            b[at:at + 8] = struct.pack('<iI', lo, hi)
        elif r < 0.8 and len(b) >= 24:
            # A pointer whose target ends just before, at or just after the
            # segment's end: off-by-one checks of either decoder show here.
            se = 8 + 8 * ((len(b) - 8) // 8)
            at = 8 + 8 * rng.randrange((len(b) - 8) // 8)
            target = 8 + 8 * rng.randrange((se - 8) // 8)
            off = (target - at - 8) // 8
            room = se - target + rng.choice([-8, -1, 0, 1, 8])
            kind = rng.randrange(3)
            if kind == 0:               # struct: dw data words, pc pointers
                dw = rng.randrange(4)
                words = max(0, room // 8 - dw)
                lo, hi = off << 2, dw | (words << 16)
            elif kind == 1:             # byte list
                lo, hi = (off << 2) | 1, (max(0, room) << 3) | 2
            else:                       # pointer list
                lo, hi = (off << 2) | 1, (max(0, room // 8) << 3) | 6
            b[at:at + 8] = struct.pack('<iI', lo, hi)
        elif r < 0.9:
            del b[rng.randrange(len(b)):]           # truncated
        else:
            b[4:8] = struct.pack('<I', rng.randrange(max(1, len(b) // 8 + 2)))  # segment size
    return bytes(b)


def test_mutated_truncated_and_random_frames(fast):
    rng = random.Random(20261201)
    base = frames()
    results = {'ok': 0}
    for i in range(4000):
        f = _mutate(rng, rng.choice(base))
        kind = same(fast, f)[0]
        results[kind] = results.get(kind, 0) + 1
        if i % 4 == 0 and len(f) >= 8:
            ss = rng.randrange(len(f))
            se = rng.randrange(ss, len(f) + 1)
            assert outcome(fast.decode_message, f, ss, se) == outcome(codec.pure_decode_message, f, ss, se)
    for _ in range(1000):
        n = rng.randrange(1, 40)
        f = struct.pack('<II', 0, n) + bytes(rng.randrange(256) for _ in range(8 * n))
        kind = same(fast, f)[0]
        results[kind] = results.get(kind, 0) + 1
    print(results)
    # Both outcomes were exercised many times.
    assert results['ok'] > 500 and sum(v for k, v in results.items() if k != 'ok') > 500, results


def test_arguments_it_does_not_take_go_to_the_pure_codec(fast):
    f = b''.join(frames())
    for args in [(bytearray(f),), (memoryview(f),), (f, 3), (f, len(f) + 5), (f, 0, 16),
                 (f, 0, 1 << 80), (b'\x01\x00\x00\x00' * 4,), (struct.pack('<II', 0, 0),), (f, True)]:
        same(fast, *args)
    assert (outcome(lambda: fast.split_frames(f, max_frame_bytes=64))
            == outcome(lambda: codec.pure_split_frames(f, max_frame_bytes=64)))
    for args in [(f, 8, len(f) + 8), (f, -8, 40), (f, 8, 4), (bytearray(f), 8, 40)]:
        assert outcome(fast.decode_message, *args) == outcome(codec.pure_decode_message, *args)


def test_pointers_ending_at_the_segment_edge(fast):
    """Every word of every sample frame replaced in turn by a struct, byte-list
    and pointer-list pointer whose target ends 8 or 1 bytes before, at, or
    1 or 8 bytes after the segment's end."""
    checked = 0
    for f in frames():
        se = len(f)
        for at in range(8, se, 8):
            for target in (at + 8, 8 + 8 * ((se - 8) // 16), se - 8):
                if target < 8 or target > se:
                    continue
                off = (target - at - 8) // 8
                for delta in (-8, -1, 0, 1, 8):
                    room = se - target + delta
                    if room < 0:
                        continue
                    for lo, hi in ((off << 2, (room // 8) << 16), (off << 2, 1 | (max(0, room // 8 - 1) << 16)),
                                   ((off << 2) | 1, (room << 3) | 2), ((off << 2) | 1, ((room // 8) << 3) | 6)):
                        b = bytearray(f)
                        b[at:at + 8] = struct.pack('<iI', lo, hi)
                        same(fast, bytes(b))
                        checked += 1
    assert checked > 5000


def test_encoders_are_byte_identical(fast):
    rng = random.Random(5)
    bodies = [b'', b'x', b'1234567', b'12345678', b'123456789', bytes(range(256)) * 3,
              bytearray(b'abc'), memoryview(b'defgh'), 'not bytes', None]
    scopes = [0, 1, 7, (1 << 64) - 1, 1 << 64, -1, 2.5, True, 'x']
    for body in bodies:
        for scope in scopes:
            for more in (False, True, 0, 1, None, 'yes'):
                assert (outcome(fast.encode_body, scope, body, more)
                        == outcome(codec.pure_encode_body, scope, body, more)), (scope, body, more)
    blocks = [codec.start_block(200, []), codec.start_block(404, [b'content-type', b'text/plain'], True),
              b'', b'\x00' * 8, bytearray(8), 'str']
    for block in blocks:
        for scope in scopes:
            assert (outcome(fast.encode_start_block, scope, block)
                    == outcome(codec.pure_encode_start_block, scope, block)), (scope, block)
    for failed in (False, True, 0, None):
        for message in ('', 'ValueError: x', None, b''):
            for scope in scopes:
                assert (outcome(fast.encode_scope_end, scope, failed, message)
                        == outcome(codec.pure_encode_scope_end, scope, failed, message)), (scope, failed, message)
    for _ in range(500):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        scope = rng.randrange(1 << 64)
        more = rng.random() < 0.5
        assert fast.encode_body(scope, body, more) == codec.pure_encode_body(scope, body, more)
    # What the encoders write decodes to what was encoded.
    f = fast.encode_body(9, b'abc', True) + fast.encode_scope_end(9, False, '')
    assert codec.pure_split_frames(f)[0] == [(9, T['httpResponseBody'], {'more': True, 'offset': 0, 'length': 0,
                                                                        'body': b'abc', 'file': '', 'ringPosition': 0, 'ringLength': 0}),
                                             (9, T['scopeEnd'], {'failed': False, 'message': ''})]


def test_a_layout_it_does_not_take_means_pure(fast, monkeypatch):
    """A field kind the C tables do not know (a schema change) falls back to
    the pure codec instead of failing the import."""
    from pagi_worker import _layout as layout
    structs = dict(layout.STRUCT)
    s = dict(structs['Credit'])
    s['fields'] = s['fields'] + [{'kind': 'float32', 'name': 'ratio', 'ordinal': 9, 'byte': 4, 'bit': 32}]
    structs['Credit'] = s
    monkeypatch.setattr(layout, 'STRUCT', structs)
    try:
        assert _accel.load(vars(codec)) is None
    finally:
        monkeypatch.undo()
        _accel.load(vars(codec))      # configured again from the real layout
    assert same(fast, codec.encode(1, T['credit'], {'bytes': 5}))[0] == 'ok'


# --- the ASGI scope builder (_speedups_scope.c) against asgi_http.pure_asgi_scope

def _open(**kw):
    """A decoded ScopeOpen, through the pure codec, with kw's fields."""
    m = {'type': 'http', 'httpVersion': '1.1', 'method': 'GET', 'scheme': 'http', 'path': '/a b',
         'rawPath': b'/a%20b', 'queryString': b'x=1', 'rootPath': '/root',
         'headers': [b'host', b'h', b'accept', b'*/*'], 'clientHost': '10.0.0.1', 'clientPort': 5,
         'serverHost': '127.0.0.1', 'serverPort': 8080, 'requestId': 'rid-1'}
    m.update(kw)
    (_, _, p), = codec.pure_split_frames(codec.encode(7, T['open'], m))[0]
    return p


def _scope_outcome(fn, m, state, drain):
    try:
        s = fn(m, state, drain)
    except Exception as e:      # noqa: B902 - any error must match
        return type(e).__name__, str(e)
    # The drain future itself, not a copy; state and the asgi dict copied.
    assert s['extensions']['pagi.gateway']['drain'] is drain
    assert s['state'] is not state and s['state'] == state
    return 'ok', repr(s), [type(v).__name__ for v in s.values()]


@pytest.fixture(scope='module')
def scope_fns(fast):
    from pagi_worker import asgi_http
    fast.configure_scope(asgi_http.EXT_EARLY_HINTS, asgi_http.EXT_TLS, asgi_http._ASGI,
                         asgi_http.pure_asgi_scope, T['open'], asgi_http.pure_split_frames_http)
    return asgi_http.pure_asgi_scope, fast.asgi_http_scope


def test_asgi_scope_same_on_every_open_shape(scope_fns):
    pure, fast = scope_fns
    eh, tls = codec.CONST['extEarlyHints'], codec.CONST['extTls']
    tls_info = {'tlsVersion': 0x304, 'cipherSuite': 0x1301, 'serverCert': 'PEM',
                'clientCertChain': ['a', 'b'], 'clientCertName': 'CN=x', 'clientCertError': ''}
    shapes = [
        {}, {'clientHost': ''}, {'serverIsUnix': True, 'serverHost': '/run/s.sock', 'serverPort': 0},
        {'peerHost': '192.0.2.1', 'peerPort': 443}, {'extensions': eh}, {'extensions': tls},
        {'extensions': eh | tls, 'tls': tls_info}, {'extensions': tls, 'tls': tls_info},
        {'headers': []}, {'headers': [b'odd']}, {'headers': [b'a', b'1', b'b']},
        {'httpVersion': '2', 'method': 'POST', 'scheme': 'https', 'queryString': b'', 'rootPath': ''},
        {'hasBody': True, 'body': b'xyz', 'more': True, 'expectContinue': True},
        {'path': 'caf\u00e9', 'requestId': ''},
    ]
    drain = object()
    for kw in shapes:
        m = _open(**kw)
        for state in ({}, {'db': [1], 'n': 2}):
            want = _scope_outcome(pure, m, state, drain)
            assert want[0] == 'ok', kw
            assert _scope_outcome(fast, m, state, drain) == want, kw
    s1, s2 = fast(_open(), {}, drain), fast(_open(), {}, drain)
    assert s1['asgi'] is not s2['asgi'] and s1['asgi'] == {'version': '3.0', 'spec_version': '2.3'}
    assert s1['extensions']['http.response.trailers'] is not s2['extensions']['http.response.trailers']


def test_asgi_scope_same_errors_and_results_on_odd_dicts(scope_fns):
    """Dicts the decoder never makes (missing keys, other types) must not
    crash it: whatever it does not build, the pure function does or raises."""
    pure, fast = scope_fns
    rnd = random.Random(7)
    base = _open()
    odd_values = [None, 0, 1, -1, 2 ** 70, 1.5, '', 'x', b'', b'y', [], [b'a'], (b'a', b'b'), {}, True, object()]
    drain = object()
    for _ in range(3000):
        m = dict(base)
        for _ in range(rnd.randint(1, 3)):
            k = rnd.choice(list(base))
            if rnd.random() < 0.2:
                m.pop(k, None)
            else:
                m[k] = rnd.choice(odd_values)
        state = rnd.choice([{}, {'a': 1}, None, [], 'x'])
        want = _scope_outcome(pure, m, state, drain) if isinstance(state, dict) else None
        if want is None:
            # Not a dict state: both take the pure road (state.copy()).
            assert outcome(fast, m, state, drain) == outcome(pure, m, state, drain)
        else:
            assert _scope_outcome(fast, m, state, drain) == want, m
    # Wrong argument counts and keywords go to the pure function too.
    assert outcome(fast, base, {}) == outcome(pure, base, {})
    assert outcome(lambda: fast(base, {}, drain=drain)) == outcome(lambda: pure(base, {}, drain=drain))


# --- split_frames_http: opens straight into ASGI scopes ----------------------

def _split_http_outcome(fn, *args):
    try:
        msgs, pos = fn(*args)
    except Exception as e:      # noqa: B902 - any error must match
        return type(e).__name__, str(e)
    return 'ok', repr(msgs), pos


@pytest.fixture(scope='module')
def split_fns(scope_fns):
    from pagi_worker import asgi_http
    return asgi_http.pure_split_frames_http, _speedups.split_frames_http


def test_split_frames_http_same_on_every_open_shape(split_fns):
    pure, fast = split_fns
    eh, tls = codec.CONST['extEarlyHints'], codec.CONST['extTls']
    tls_info = {'tlsVersion': 0x304, 'cipherSuite': 0x1301, 'serverCert': 'PEM',
                'clientCertChain': ['a'], 'clientCertName': '', 'clientCertError': 'bad'}
    shapes = [{}, {'hasBody': True, 'body': b'abc', 'more': True}, {'hasBody': True}, {'expectContinue': True},
              {'extensions': eh | tls, 'tls': tls_info}, {'type': 'websocket', 'subprotocols': ['a']},
              {'type': 'sse'}, {'type': 'lifespan'}, {'clientHost': '', 'headers': [b'x']},
              {'serverIsUnix': True, 'peerHost': 'p', 'peerPort': 1}]
    drain = object()
    frames = []
    for i, kw in enumerate(shapes):
        m = {'type': 'http', 'method': 'GET', 'path': '/', 'rawPath': b'/', 'headers': [b'h', b'v'],
             'clientHost': '1.2.3.4', 'clientPort': 9, 'serverHost': 's', 'serverPort': 80, 'requestId': 'r'}
        m.update(kw)
        frames.append(codec.encode(i + 1, T['open'], m))
    frames.append(codec.encode(99, T['credit'], {'bytes': 5}))
    frames.append(codec.encode(100, T['open'], {'type': 7}))    # not in the enum: decodes as 7
    buf = b''.join(frames)
    for state in ({}, {'k': [1]}):
        want = _split_http_outcome(pure, buf, 0, 1 << 20, state, drain)
        assert want[0] == 'ok'
        assert _split_http_outcome(fast, buf, 0, 1 << 20, state, drain) == want
    msgs, _ = fast(buf, 0, 1 << 20, {}, drain)
    scope, body, more, cont = msgs[1][2]
    assert (body, more, cont) == (b'abc', True, False)
    assert msgs[0][2][1] is None and msgs[2][2][1] == b'' and msgs[3][2][3] is True
    assert 'tls' in msgs[4][2][0]['extensions']
    assert isinstance(msgs[5][2], dict) and msgs[5][2]['type'] == 'websocket'
    assert msgs[-1][2]['type'] == 7
    # A partial frame at the end stays for the next read, as with split_frames.
    assert _split_http_outcome(fast, buf + frames[0][:20], 0, 1 << 20, {}, drain) == \
        _split_http_outcome(pure, buf + frames[0][:20], 0, 1 << 20, {}, drain)


def test_split_frames_http_same_on_mutated_frames(split_fns):
    """Mutated, truncated and random bytes: the same messages or the same
    error, never a crash (the decoder takes the gateway's frames)."""
    pure, fast = split_fns
    rnd = random.Random(11)
    drain = object()
    base = [codec.encode(3, T['open'], {'type': 'http', 'method': 'POST', 'path': '/p', 'rawPath': b'/p',
                                        'headers': [b'a', b'b', b'c', b'd'], 'hasBody': True, 'body': b'xy',
                                        'clientHost': 'c', 'requestId': 'id', 'extensions': 3}),
            codec.encode(4, T['open'], {'type': 'websocket', 'path': '/w', 'subprotocols': ['x', 'y']})]
    for _ in range(3000):
        b = bytearray(rnd.choice(base))
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        if rnd.random() < 0.2:
            b = b[:rnd.randrange(len(b))]
        b = bytes(b)
        assert _split_http_outcome(fast, b, 0, 1 << 20, {}, drain) == \
            _split_http_outcome(pure, b, 0, 1 << 20, {}, drain), b
    # Arguments it does not take go to the pure function.
    for args in [(base[0], 0, 1 << 20, None, drain), (base[0], 0, 1 << 20, {}),
                 (bytearray(base[0]), 0, 1 << 20, {}, drain),
                 (base[0], 5, 1 << 20, {}, drain), (base[0], 0, 8, {}, drain)]:
        assert _split_http_outcome(fast, *args) == _split_http_outcome(pure, *args), args


def test_short_string_cache_never_mixes_values_up(fast):
    """The decoder reuses objects of short texts and byte strings it saw
    before (_speedups_decode.c): thousands of distinct ones, colliding in
    its 256 slots, non-ASCII and invalid UTF-8 among them, must each decode
    to their own value, over and over."""
    rnd = random.Random(5)
    words = [bytes(rnd.randrange(32, 127) for _ in range(rnd.randint(2, 33))) for _ in range(1500)]
    words += [b'caf\xc3\xa9', b'\xff\xfe', b'ab', b'ba', b'x' * 32, b'x' * 33]
    for _ in range(3):
        rnd.shuffle(words)
        for i in range(0, len(words), 4):
            w = words[i:i + 4]
            frame = codec.encode(1, T['open'], {'type': 'http', 'method': w[0], 'path': w[-1],
                                                'rawPath': w[0], 'headers': w})
            want = codec.pure_split_frames(frame)
            got = fast.split_frames(frame)
            assert repr(got) == repr(want), w
