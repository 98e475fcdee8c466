"""The pure-Python codec: round trips, the example frames of docs/protocol.md,
and cross-checks against the `capnp` tool in both directions."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(ROOT))
sys.path.insert(0, ROOT)

from pagi_worker import codec  # noqa: E402
from pagi_worker import _layout  # noqa: E402

SCHEMA = os.path.join(REPO, 'protocol', 'pagi.capnp')
T = codec.TAG
HAVE_CAPNP = shutil.which('capnp') is not None

HEARTBEAT_FRAME = bytes.fromhex(
    '00000000 05000000 00000000 02000100 00000000 00000000 04000000 00000000'
    '00000000 01000000 01000000 00000000'.replace(' ', ''))
START_FRAME = bytes.fromhex(''.join('''
00000000 0c000000 00000000 02000100 07000000 00000000 12000000 00000000
00000000 01000100 c8000000 00000000 01000000 16000000 05000000 62000000
09000000 52000000 636f6e74 656e742d 74797065 00000000 74657874 2f706c61
696e0000 00000000'''.split()))

# One message per union member, with every field of its struct set.
FULL_OPEN = {
    'type': 'http', 'clientPort': 40000, 'serverPort': 8080, 'hasBody': True, 'more': True,
    'expectContinue': True, 'extensions': 5, 'serverIsUnix': True, 'httpVersion': '1.1',
    'method': 'POST', 'scheme': 'https', 'path': '/caf\u00e9 x', 'rawPath': b'/caf%C3%A9%20x',
    'queryString': b'a=1&b=%20', 'rootPath': '/root', 'headers': [b'host', b'example', b'x-bin', b'\x80\xff'],
    'clientHost': '::1', 'serverHost': '/tmp/s.sock', 'subprotocols': ['chat', 'v2'],
    'body': b'\x00\x01body' * 3, 'routeParams': ['id', '42'], 'requestId': 'r-1',
    'peerHost': '10.0.0.9', 'peerPort': 4711,
    'tls': {'tlsVersion': 0x0304, 'cipherSuite': 0x1301, 'hasClientCert': True, 'serverCert': 'PEM',
            'clientCertChain': ['leaf', 'ca'], 'clientCertName': 'CN=x', 'clientCertError': ''},
}
SAMPLES = [
    (0, 'hello', {'protocolVersion': 1, 'pid': 1234, 'concurrency': 100, 'scopeTypes': 7,
                  'sdkName': 'pagi-worker-python', 'sdkVersion': '0.1', 'pool': 'p', 'app': 'm:app'}),
    (0, 'welcome', {'protocolVersion': 1, 'workerId': 3, 'sendWindow': 65536, 'receiveWindow': 1 << 20,
                    'heartbeatIntervalMs': 5000, 'lifespan': 'on', 'maxMessageBytes': 16 << 20, 'pool': 'p',
                    'bodyRingBytes': 2 << 20}),
    (0, 'bodyRingRelease', {'through': (1 << 64) - 1}),
    (5, 'open', FULL_OPEN),
    (5, 'credit', {'bytes': 4000000000}),
    (0, 'heartbeat', {'seq': (1 << 64) - 1}),
    (0, 'drain', {'timeoutMs': 30000}),
    (0, 'shutdown', None),
    (5, 'scopeEnd', {'failed': True, 'message': 'ValueError: x'}),
    (5, 'responseDone', None),
    (5, 'httpRequest', {'body': b'chunk', 'more': True}),
    (5, 'httpDisconnect', {'reason': 'client_closed'}),
    (5, 'websocketConnect', None),
    (5, 'websocketReceive', {'isText': True, 'bytes': b'', 'text': 'hi \u263a'}),
    (5, 'websocketDisconnect', {'code': 1001, 'reason': 'going'}),
    (5, 'httpResponseStart', {'status': 404, 'trailers': True, 'headers': [b'content-type', b'text/html']}),
    (5, 'httpResponseBody', {'more': False, 'offset': 10, 'length': -1, 'body': b'', 'file': '/etc/hostname'}),
    (5, 'httpResponseBody', {'more': True, 'offset': 0, 'length': 0, 'body': b'x' * 1001, 'file': ''}),
    (5, 'httpResponseBody', {'more': True, 'ringPosition': (1 << 40) + 3, 'ringLength': 16384}),
    (5, 'httpResponseTrailers', {'headers': [b'x-sum', b'1']}),
    (5, 'httpFullflush', None),
    (5, 'sseSend', {'retry': -1, 'hasEvent': True, 'hasId': False, 'data': 'a\nb', 'event': 'e', 'id': ''}),
    (5, 'sseComment', 'keep'),
    (5, 'sseKeepalive', {'intervalMs': 15000, 'timeoutMs': 0, 'comment': 'ping'}),
    (5, 'websocketAccept', {'hasSubprotocol': True, 'subprotocol': 'chat', 'headers': [b'a', b'b']}),
    (5, 'lifespanStartup', None),
    (5, 'lifespanStartupFailed', 'db down'),
    (5, 'lifespanUnsupported', ''),
]


def _full(member, payload):
    """What decode returns: every field present, defaults filled in."""
    if not isinstance(payload, dict):
        return payload
    members = {m['name']: m for m in _layout.STRUCT['Envelope']['union']['members']}
    s = _layout.STRUCT[members[member]['struct']]
    defaults = {'text': '', 'data': b'', 'list_data': [], 'list_text': [], 'bool': False, 'struct': None}
    out = {f['name']: defaults.get(f['kind'], 0) for f in s['fields']}
    if member == 'open':
        out['type'] = 'http'
    if member == 'welcome':
        out['lifespan'] = 'auto'
    out.update(payload)
    return out


def test_example_frames_from_protocol_doc():
    assert codec.encode(0, T['heartbeat'], {'seq': 1}) == HEARTBEAT_FRAME
    frame = codec.encode(7, T['httpResponseStart'], {'status': 200, 'headers': [b'content-type', b'text/plain']})
    assert frame == START_FRAME
    assert codec.encode_start(7, 200, [b'content-type', b'text/plain']) == START_FRAME
    msgs, pos = codec.split_frames(HEARTBEAT_FRAME + START_FRAME)
    assert pos == len(HEARTBEAT_FRAME) + len(START_FRAME)
    assert msgs == [(0, T['heartbeat'], {'seq': 1}),
                    (7, T['httpResponseStart'], {'status': 200, 'trailers': False,
                                                 'headers': [b'content-type', b'text/plain']})]


@pytest.mark.parametrize('scope,member,payload', SAMPLES, ids=[s[1] for s in SAMPLES])
def test_round_trip(scope, member, payload):
    frame = codec.encode(scope, T[member], payload)
    assert len(frame) % 8 == 0
    msgs, pos = codec.split_frames(frame)
    assert pos == len(frame)
    got = msgs[0]
    assert got[:2] == (scope, T[member])
    full = _full(member, payload)
    if member == 'open':
        full['tls'] = _full_tls(full['tls'])
    assert got[2] == full


def _full_tls(t):
    base = {'tlsVersion': 0, 'cipherSuite': 0, 'hasClientCert': False, 'serverCert': '',
            'clientCertChain': [], 'clientCertName': '', 'clientCertError': ''}
    base.update(t)
    return base


def test_hot_path_encoders_match_generic():
    assert codec.encode_credit(9, 123) == codec.encode(9, T['credit'], {'bytes': 123})
    for body, more in ((b'', False), (b'x', True), (b'12345678', False), (b'y' * 1000, True)):
        assert codec.encode_body(9, body, more) == \
            codec.encode(9, T['httpResponseBody'], {'body': body, 'more': more})
    for failed, message in ((False, ''), (True, ''), (True, 'boom'), (False, 'odd')):
        assert codec.encode_scope_end(9, failed, message) == \
            codec.encode(9, T['scopeEnd'], {'failed': failed, 'message': message})


def test_invalid_utf8_text_decodes_with_replacement():
    frame = codec.encode(3, T['open'], {'type': 'http', 'path': b'/caf\xe9', 'headers': [], 'subprotocols': [b'a\xff']})
    p = codec.split_frames(frame)[0][0][2]
    assert p['path'] == '/caf\ufffd'
    assert p['subprotocols'] == ['a\ufffd']


def test_split_frames_across_reads_and_partial_header():
    frames = b''.join(codec.encode(s, T[m], p) for s, m, p in SAMPLES)
    out = []
    buf = b''
    for i in range(0, len(frames), 7):
        buf += frames[i:i + 7]
        msgs, pos = codec.split_frames(buf)
        buf = buf[pos:]
        out.extend(msgs)
    assert buf == b''
    assert [(s, t) for s, t, _ in out] == [(s, T[m]) for s, m, _ in SAMPLES]
    assert codec.frame_size(frames[:7]) is None
    assert codec.frame_size(frames) == len(codec.encode(*[SAMPLES[0][0], T['hello'], SAMPLES[0][2]]))


def test_malformed_frames_raise_codec_error():
    bad_tag = bytearray(HEARTBEAT_FRAME)
    bad_tag[24] = 200
    with pytest.raises(codec.CodecError):
        codec.split_frames(bytes(bad_tag))
    two_segments = b'\x01\x00\x00\x00' + HEARTBEAT_FRAME[4:]
    with pytest.raises(codec.CodecError):
        codec.split_frames(two_segments)
    oob = bytearray(START_FRAME)
    oob[48 + 4] = 0xff   # headers list claims a huge count
    with pytest.raises(codec.CodecError):
        codec.split_frames(bytes(oob))
    with pytest.raises(codec.CodecError):
        codec.split_frames(START_FRAME, 0, max_frame_bytes=64)


def test_null_event_pointer_reads_as_defaults():
    frame = codec.encode(3, T['credit'], {'bytes': 5})
    # Zero the event pointer (word 3 of the segment) and shrink nothing else.
    null = frame[:8 + 24] + bytes(8) + frame[8 + 32:]
    assert codec.split_frames(null)[0] == [(3, T['credit'], {'bytes': 0})]


# --- against the capnp tool -----------------------------------------------------

def _capnp(cmd, data):
    r = subprocess.run(['capnp', cmd, SCHEMA, 'Envelope'] + (['--short'] if cmd == 'decode' else []),
                       input=data, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def _text_value(v, kind):
    if kind == 'data':
        return '0x"%s"' % v.hex()
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        if kind == 'enum':
            return v
        return '"%s"' % v.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
    raise TypeError(v)


def _to_text(scope, member, payload):
    members = {m['name']: m for m in _layout.STRUCT['Envelope']['union']['members']}
    m = members[member]
    if m['kind'] == 'void':
        body = 'void'
    elif m['kind'] == 'text':
        body = _text_value(payload, 'text')
    else:
        body = _struct_text(m['struct'], payload)
    return '(scope = %d, %s = %s)' % (scope, member, body)


def _struct_text(name, d):
    s = _layout.STRUCT[name]
    parts = []
    for f in s['fields']:
        if f['name'] not in d:
            continue
        v = d[f['name']]
        k = f['kind']
        if k == 'struct':
            parts.append('%s = %s' % (f['name'], _struct_text(f['struct'], v)))
        elif k in ('list_data', 'list_text'):
            ek = 'data' if k == 'list_data' else 'text'
            parts.append('%s = [%s]' % (f['name'], ', '.join(_text_value(x, ek) for x in v)))
        elif k == 'data' and not v:
            continue    # the capnp text parser rejects an empty 0x""
        else:
            parts.append('%s = %s' % (f['name'], _text_value(v, k)))
    return '(%s)' % ', '.join(parts)


@pytest.mark.skipif(not HAVE_CAPNP, reason='capnp tool not installed')
@pytest.mark.parametrize('scope,member,payload', SAMPLES, ids=[s[1] for s in SAMPLES])
def test_capnp_tool_encodes_what_we_decode(scope, member, payload):
    frame = _capnp('encode', _to_text(scope, member, payload).encode())
    msgs, pos = codec.split_frames(frame)
    assert pos == len(frame)
    got = msgs[0]
    full = _full(member, payload)
    if member == 'open':
        full['tls'] = _full_tls(full['tls'])
    assert got == (scope, T[member], full)


@pytest.mark.skipif(not HAVE_CAPNP, reason='capnp tool not installed')
@pytest.mark.parametrize('scope,member,payload', SAMPLES, ids=[s[1] for s in SAMPLES])
def test_capnp_tool_decodes_what_we_encode(scope, member, payload):
    ours = codec.encode(scope, T[member], payload)
    text = _capnp('decode', ours)
    # Re-encoding the tool's reading gives a frame that decodes to the same.
    again = _capnp('encode', text)
    assert codec.split_frames(again)[0] == codec.split_frames(ours)[0]
    assert member.encode() in text


@pytest.mark.skipif(not HAVE_CAPNP, reason='capnp tool not installed')
def test_capnp_tool_bytes_equal_for_simple_messages():
    for scope, member, payload in SAMPLES:
        if member in ('open', 'hello', 'welcome', 'websocketReceive', 'httpResponseBody', 'sseSend',
                      'websocketAccept') or payload == '':
            continue    # the tool writes empty Text as a 1-byte NUL, we as a null pointer
        assert _capnp('encode', _to_text(scope, member, payload).encode()) == \
            codec.encode(scope, T[member], payload), member


GEN_LAYOUT = os.path.join(REPO, 'protocol', 'gen-layout')


@pytest.mark.skipif(not (HAVE_CAPNP and os.path.exists(GEN_LAYOUT)), reason='needs capnp and protocol/gen-layout')
def test_layout_module_is_up_to_date(tmp_path):
    out = tmp_path / '_layout.py'
    r = subprocess.run(['perl', GEN_LAYOUT, '--perl', str(tmp_path / 'Layout.pm'), '--python', str(out)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    committed = os.path.join(ROOT, 'pagi_worker', '_layout.py')
    assert out.read_text() == open(committed).read(), \
        'stale: run protocol/gen-layout --python sdk/python/pagi_worker/_layout.py'
