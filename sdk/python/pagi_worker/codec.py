"""Pure-Python Cap'n Proto for exactly protocol/pagi.capnp. (Just over 500
lines: the hand-written fast encoders sit beside the generated decoders.)

docs/protocol.md is the contract: stream framing, single-segment frames, the
Envelope with its union tag. At import time this module turns the generated
offset tables (_layout.py) into one specialised Python function per struct
and direction, compiled with exec(): precomputed struct.Struct objects for the
data and pointer sections, pointer reads inlined, no per-field helper calls.
The generated source is kept in SOURCE for debugging.

Message shape (both directions): a tuple (scope, tag, payload) where tag is
the Envelope union tag (see TAG) and payload is
  - a dict of the member struct's fields (schema names) for struct members,
    enums decoded to their names; List(Data)/List(Text) as flat lists; a
    nested struct as a dict, or None when its pointer is null,
  - a str for Text members (sseComment, lifespanStartupFailed, ...),
  - None for Void members.
Text decodes to str, Data to bytes. Encoders accept str or bytes for both.
"""

import struct

from . import _accel, _layout

__all__ = ['CodecError', 'TAG', 'MEMBER', 'decode_message', 'split_frames',
           'frame_size', 'encode', 'ENUM', 'CONST', 'SOURCE', 'ACCELERATED',
           'pure_decode_message', 'pure_split_frames', 'pure_encode_body',
           'pure_encode_start_block', 'pure_encode_scope_end']

CONST = _layout.CONST
ENUM = _layout.ENUM
TAG = dict(_layout.ENVELOPE_TAG)
MEMBER = {tag: name for name, tag in TAG.items()}

# Default ceiling for one incoming frame when the caller gives none.
DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024


class CodecError(ValueError):
    """A frame that does not decode (malformed, out of bounds, unsupported)."""


def _bad(what):
    raise CodecError('pagi codec: ' + what)


_INT_CODE = {
    'uint8': 'B', 'uint16': 'H', 'uint32': 'I', 'uint64': 'Q',
    'int8': 'b', 'int16': 'h', 'int32': 'i', 'int64': 'q', 'enum': 'H',
}
_INT_SIZE = {'B': 1, 'b': 1, 'H': 2, 'h': 2, 'I': 4, 'i': 4, 'Q': 8, 'q': 8}

_ZERO = bytes(16)
_pointer_structs = {}


def _ptr_struct(n):
    """Struct reading n pointer words as (signed lo, unsigned hi) pairs."""
    s = _pointer_structs.get(n)
    if s is None:
        s = _pointer_structs[n] = struct.Struct('<' + 'iI' * n)
    return s


def _blob_list(b, ss, se, pos, lo, hi, text):
    """List(Data)/List(Text) behind the pointer at pos -> flat list."""
    if lo & 3 != 1 or hi & 7 != 6:
        _bad('expected a pointer list' if lo & 3 != 2 else 'far pointer (multi-segment messages are not supported)')
    s = pos + 8 + (lo >> 2) * 8
    n = hi >> 3
    if s < ss or s + n * 8 > se:
        _bad('pointer list out of bounds')
    p = _ptr_struct(n).unpack_from(b, s)
    out = []
    append = out.append
    q = s + 8               # end of the current element's pointer word
    it = iter(p)
    for lo2, hi2 in zip(it, it):
        if lo2:
            st = q + (lo2 >> 2) * 8
            c = hi2 >> 3
            if lo2 & 3 != 1 or hi2 & 7 != 2 or st < ss or st + c > se:
                _bad('list element: not a byte list, or out of bounds')
            if text:
                try:
                    append(b[st:st + c - 1].decode())
                except UnicodeDecodeError:
                    append(str(b[st:st + c - 1], 'utf-8', 'replace'))
            else:
                append(b[st:st + c])
        else:
            append('' if text else b'')
        q += 8
    return out


_PAD = tuple(bytes(i) for i in range(9))
_qstructs = {}


def _enc_blob_list(items, text):
    """List(Data)/List(Text) -> (count, block bytes incl. padding)."""
    n = len(items)
    q = _qstructs.get(n)
    if q is None:
        q = _qstructs[n] = struct.Struct('<%dQ' % n)
    ptrs = []
    parts = [None]
    off = n - 1             # element j's offset: (n - j - 1) + blob words before it
    extra = 1 if text else 0
    for v in items:
        if type(v) is not bytes:
            v = v.encode() if type(v) is str else bytes(v)
        c = len(v) + extra
        if not c:
            ptrs.append(0)
            off -= 1
            continue
        w = (c + 7) >> 3
        ptrs.append((off << 2) | 1 | (((c << 3) | 2) << 32))
        parts.append(v)
        parts.append(_PAD[(w << 3) - c + extra])
        off += w - 1
    parts[0] = q.pack(*ptrs)
    return n, b''.join(parts)


# --- code generation ------------------------------------------------------

def _data_layout(s):
    """Data section as a struct format plus what each unpacked item is.

    Returns (fmt, items) where items are ('int', name) or ('bools', [(name, bit)]).
    """
    size = s['data_words'] * 8
    by_byte = {}
    for f in s['fields']:
        if 'byte' not in f:
            continue
        if f['kind'] == 'bool':
            slot = by_byte.setdefault(f['byte'], ('bools', []))
            slot[1].append((f['name'], f['bit'] % 8))
        else:
            by_byte[f['byte']] = ('int', f)
    fmt = '<'
    items = []
    pos = 0
    for byte in sorted(by_byte):
        if byte > pos:
            fmt += 'x' * (byte - pos)
        kind, what = by_byte[byte]
        if kind == 'bools':
            fmt += 'B'
            pos = byte + 1
        else:
            code = _INT_CODE[what['kind']]
            fmt += code
            pos = byte + _INT_SIZE[code]
        items.append((kind, what))
    if size > pos:
        fmt += 'x' * (size - pos)
    return fmt, items


def _gen_decoder(name, s, g):
    dw, pc = s['data_words'], s['ptr_count']
    lines = [
        'def _dec_%s(b, ss, se, pp, lo, hi):' % name,
        '    if lo & 3:',
        "        _bad('%s: expected a struct pointer')" % name,
        '    st = pp + 8 + (lo >> 2) * 8',
        '    dw = hi & 0xffff',
        '    pc = hi >> 16',
        '    pe = st + dw * 8',
        '    if st < ss or pe + pc * 8 > se:',
        "        _bad('%s out of bounds')" % name,
    ]
    out = []  # (key, expression)
    fmt, items = _data_layout(s)
    if items:
        g['_D_' + name] = struct.Struct(fmt)
        names = ['d%d' % i for i in range(len(items))]
        target = ', '.join(names) + (',' if len(names) == 1 else '')
        lines += [
            '    if dw >= %d:' % dw,
            '        %s = _D_%s.unpack_from(b, st)' % (target, name),
            '    else:',
            '        %s = _D_%s.unpack(b[st:pe] + bytes(%d - dw * 8))' % (target, name, dw * 8),
        ]
        for var, (kind, what) in zip(names, items):
            if kind == 'bools':
                for fname, bit in what:
                    out.append((fname, '(%s >> %d) & 1 == 1' % (var, bit)))
            elif what['kind'] == 'enum':
                enum_names = tuple(ENUM[what['enum']])
                g['_E_' + what['enum']] = enum_names
                out.append((what['name'], '_E_%s[%s] if %s < %d else %s'
                            % (what['enum'], var, var, len(enum_names), var)))
            else:
                out.append((what['name'], var))
    ptr_fields = [f for f in s['fields'] if 'ptr' in f]
    if ptr_fields:
        g['_P_' + name] = _ptr_struct(pc)
        lines += [
            '    if pc >= %d:' % pc,
            '        p = _P_%s.unpack_from(b, pe)' % name,
            '    else:',
            '        p = _P_%s.unpack(b[pe:pe + pc * 8] + bytes(%d - pc * 8))' % (name, pc * 8),
        ]
        for f in ptr_fields:
            i = f['ptr']
            var = 'v%d' % i
            k = f['kind']
            pos = 'pe + %d' % (8 * i)
            if k in ('text', 'data'):
                empty = "''" if k == 'text' else "b''"
                lines += [
                    '    l = p[%d]' % (2 * i),
                    '    if l:',
                    '        h = p[%d]' % (2 * i + 1),
                    '        s = pe + %d + (l >> 2) * 8' % (8 * i + 8),
                    '        c = h >> 3',
                    '        if l & 3 != 1 or h & 7 != 2 or s < ss or s + c > se:',
                    "            _bad('%s.%s: not a byte list, or out of bounds')" % (name, f['name']),
                ]
                if k == 'text':
                    # Strict UTF-8 is the fast path (no error handler lookup);
                    # invalid bytes still decode, with U+FFFD.
                    lines += [
                        '        try:',
                        '            %s = b[s:s + c - 1].decode()' % var,
                        '        except UnicodeDecodeError:',
                        "            %s = str(b[s:s + c - 1], 'utf-8', 'replace')" % var,
                    ]
                else:
                    lines.append('        %s = b[s:s + c]' % var)
                lines += [
                    '    else:',
                    '        %s = %s' % (var, empty),
                ]
            elif k in ('list_data', 'list_text'):
                lines.append('    %s = _blob_list(b, ss, se, %s, p[%d], p[%d], %s) if p[%d] else []'
                             % (var, pos, 2 * i, 2 * i + 1, k == 'list_text', 2 * i))
            elif k == 'struct':
                lines.append('    %s = _dec_%s(b, ss, se, %s, p[%d], p[%d]) if (p[%d] or p[%d]) else None'
                             % (var, f['struct'], pos, 2 * i, 2 * i + 1, 2 * i, 2 * i + 1))
            else:
                raise AssertionError('unsupported pointer kind ' + k)
            out.append((f['name'], var))
    order = {f['name']: f['ordinal'] for f in s['fields']}
    out.sort(key=lambda kv: order[kv[0]])
    lines.append('    return {%s}' % ', '.join("'%s': %s" % kv for kv in out))
    return '\n'.join(lines)


def _gen_encoder(name, s, g):
    dw, pc = s['data_words'], s['ptr_count']
    lines = ['def _enc_%s(d):' % name, '    g = d.get']
    fmt, items = _data_layout(s)
    if items:
        g['_D_' + name] = struct.Struct(fmt)
        args = []
        for kind, what in items:
            if kind == 'bools':
                args.append(' | '.join("(%d if g('%s') else 0)" % (1 << bit, fname)
                                       for fname, bit in what))
            elif what['kind'] == 'enum':
                g['_EN_' + what['enum']] = {n: i for i, n in enumerate(ENUM[what['enum']])}
                args.append("_enum(g('%s', 0), _EN_%s)" % (what['name'], what['enum']))
            else:
                args.append("g('%s') or 0" % what['name'])
        lines.append('    parts = [_D_%s.pack(%s)]' % (name, ', '.join(args)))
    else:
        lines.append("    parts = [b'']")
    ptr_fields = sorted((f for f in s['fields'] if 'ptr' in f), key=lambda f: f['ptr'])
    if ptr_fields:
        lines += ['    tw = 0', '    pv = [0] * %d' % pc]
        for f in ptr_fields:
            i = f['ptr']
            k = f['kind']
            lines.append("    v = g('%s')" % f['name'])
            lines.append('    if v:')
            if k in ('text', 'data'):
                lines += [
                    '        if type(v) is str:',
                    '            v = v.encode()',
                    '        elif type(v) is not bytes:',
                    '            v = bytes(v)',
                    '        c = len(v)%s' % (' + 1' if k == 'text' else ''),
                    '        pad = (-c) & 7',
                    '        pv[%d] = (((%d + tw) << 2) | 1) | (((c << 3) | 2) << 32)' % (i, pc - i - 1),
                    '        parts.append(v)',
                    '        parts.append(_ZERO[:pad%s])' % (' + 1' if k == 'text' else ''),
                    '        tw += (c + pad) >> 3',
                ]
            elif k in ('list_data', 'list_text'):
                lines += [
                    '        n, blk = _enc_blob_list(v, %s)' % (k == 'list_text'),
                    '        pv[%d] = (((%d + tw) << 2) | 1) | (((n << 3) | 6) << 32)' % (i, pc - i - 1),
                    '        parts.append(blk)',
                    '        tw += len(blk) >> 3',
                ]
            elif k == 'struct':
                sub = _layout.STRUCT[f['struct']]
                lines += [
                    '        blk = _enc_%s(v)' % f['struct'],
                    '        pv[%d] = ((%d + tw) << 2) | (%d << 32) | (%d << 48)'
                    % (i, pc - i - 1, sub['data_words'], sub['ptr_count']),
                    '        parts.append(blk)',
                    '        tw += len(blk) >> 3',
                ]
            else:
                raise AssertionError('unsupported pointer kind ' + k)
        g['_PQ_' + name] = struct.Struct('<%dQ' % pc)
        lines.append('    parts.insert(1, _PQ_%s.pack(*pv))' % name)
    lines.append("    return b''.join(parts)")
    return '\n'.join(lines)


def _enum(v, names):
    if type(v) is int:
        return v
    try:
        return names[v]
    except KeyError:
        _bad('unknown enum value %r' % (v,))


def _dec_text_member(b, ss, se, pp, lo, hi):
    if not lo:
        return ''
    if lo & 3 != 1 or hi & 7 != 2:
        _bad('expected a text pointer')
    s = pp + 8 + (lo >> 2) * 8
    c = hi >> 3
    if s < ss or s + c > se:
        _bad('text out of bounds')
    return str(b[s:s + c - 1], 'utf-8', 'replace') if c else ''


def _dec_void_member(b, ss, se, pp, lo, hi):
    return None


def _build():
    g = {'_bad': _bad, '_blob_list': _blob_list, '_enc_blob_list': _enc_blob_list,
         '_ZERO': _ZERO, '_enum': _enum, 'struct': struct}
    src = []
    for name, s in _layout.STRUCT.items():
        if name == 'Envelope':
            continue
        src.append(_gen_decoder(name, s, g))
        src.append(_gen_encoder(name, s, g))
    text = '\n\n'.join(src) + '\n'
    exec(compile(text, '<pagi_worker.codec generated>', 'exec'), g)
    env = _layout.STRUCT['Envelope']
    decoders = [None] * (max(TAG.values()) + 1)
    encoders = [None] * len(decoders)
    for m in env['union']['members']:
        kind = m['kind']
        if kind == 'struct':
            sub = _layout.STRUCT[m['struct']]
            decoders[m['tag']] = g['_dec_' + m['struct']]
            encoders[m['tag']] = ('struct', g['_enc_' + m['struct']], sub['data_words'], sub['ptr_count'])
        elif kind == 'text':
            decoders[m['tag']] = _dec_text_member
            encoders[m['tag']] = ('text', None, 0, 0)
        elif kind == 'void':
            decoders[m['tag']] = _dec_void_member
            encoders[m['tag']] = ('void', None, 0, 0)
        else:
            raise AssertionError('unsupported union member kind ' + kind)
    return text, tuple(decoders), tuple(encoders), g


SOURCE, _DECODERS, _ENCODERS, _GENERATED = _build()

_ENV = _layout.STRUCT['Envelope']
assert _ENV['data_words'] == 2 and _ENV['ptr_count'] == 1 and _ENV['union']['tag_byte'] == 8, \
    'Envelope layout changed: review codec.encode/decode_message'

_HEADER = struct.Struct('<II')
_ROOT_ENV = struct.Struct('<iIQHxxxxxxiI')   # root pointer, Envelope data, event pointer
# Segment table for one segment, root pointer -> Envelope at +0 (2 data words,
# 1 pointer), Envelope data (scope, tag), event pointer.
_FRAME_HEAD = struct.Struct('<IIQQHxxxxxxQ')
_ROOT_PTR = (2 << 32) | (1 << 48)


def decode_message(b, ss, se):
    """Decodes the single segment b[ss:se] -> (scope, tag, payload)."""
    if se - ss < 8:
        _bad('segment too short')
    lo, hi = _HEADER.unpack_from(b, ss)
    if lo & 3:
        _bad('root is not a struct pointer')
    lo = lo - 0x100000000 if lo & 0x80000000 else lo
    st = ss + 8 + (lo >> 2) * 8
    dw = hi & 0xffff
    pc = hi >> 16
    if st < ss or st + (dw + pc) * 8 > se:
        _bad('Envelope out of bounds')
    if dw == 2 and pc >= 1 and st == ss + 8:
        # What every real writer produces: the Envelope right after the root.
        scope, tag, plo, phi = _ROOT_ENV.unpack_from(b, ss)[2:]
        pp = st + dw * 8
    else:
        data = b[st:st + min(dw, 2) * 8] + bytes(16 - min(dw, 2) * 8)
        scope, tag = struct.unpack_from('<QH', data, 0)
        pp = st + dw * 8
        plo, phi = struct.unpack_from('<iI', b, pp) if pc else (0, 0)
    if tag >= len(_DECODERS):
        _bad('unknown union tag %d' % tag)
    return scope, tag, _DECODERS[tag](b, ss, se, pp, plo, phi)


pure_decode_message = decode_message


def frame_size(b, pos=0):
    """Total bytes of the frame starting at b[pos], or None if the segment
    table is not complete yet."""
    if len(b) - pos < 8:
        return None
    nm1, w0 = _HEADER.unpack_from(b, pos)
    if nm1 == 0:
        return 8 + w0 * 8
    table = 4 + 4 * (nm1 + 1)
    table += table & 4
    if len(b) - pos < table:
        return None
    words = sum(struct.unpack_from('<%dI' % (nm1 + 1), b, pos + 4))
    return table + words * 8


def split_frames(b, pos=0, max_frame_bytes=DEFAULT_MAX_FRAME_BYTES):
    """Decodes every complete frame in b from pos -> (messages, new_pos).

    b is bytes (slices of it become the Data values without another copy).
    Only single-segment frames are accepted (the gateway always sends one).
    """
    msgs = []
    end = len(b)
    unpack = _HEADER.unpack_from
    while end - pos >= 8:
        nm1, words = unpack(b, pos)
        if nm1:
            _bad('multi-segment frames are not supported (%d segments)' % (nm1 + 1))
        flen = 8 + words * 8
        if flen > max_frame_bytes:
            _bad('frame of %d bytes over the limit of %d' % (flen, max_frame_bytes))
        if words == 0:
            _bad('empty segment')
        if end - pos < flen:
            break
        msgs.append(pure_decode_message(b, pos + 8, pos + flen))
        pos += flen
    return msgs, pos


def encode(scope, tag, payload=None):
    """(scope, tag, payload) -> one single-segment frame (bytes)."""
    kind, enc, dw, pc = _ENCODERS[tag]
    if kind == 'struct':
        block = enc(payload or {})
        eptr = (dw << 32) | (pc << 48)
    elif kind == 'text':
        if payload:
            t = payload.encode() if type(payload) is str else bytes(payload)
            c = len(t) + 1
            block = t + _ZERO[:1 + ((-c) & 7)]
            eptr = 1 | (((c << 3) | 2) << 32)
        else:
            block = b''
            eptr = 0
    else:
        block = b''
        eptr = 0
    return _FRAME_HEAD.pack(0, 4 + (len(block) >> 3), _ROOT_PTR, scope, tag, eptr) + block


# --- hot-path encoders (worker -> gateway), hand-specialised ----------------

_T_CREDIT = TAG['credit']
_T_BODY = TAG['httpResponseBody']
_T_START = TAG['httpResponseStart']
_T_SCOPE_END = TAG['scopeEnd']
_CREDIT_FRAME = struct.Struct('<IIQQHxxxxxxQI4x')
_CREDIT_EPTR = 1 << 32
_enc_ResponseStart = _GENERATED['_enc_ResponseStart']
# ResponseBody: more (byte 0), ringLength (byte 4), offset, length,
# ringPosition (data words 1-3), then the body and file pointers.
_BODY_HEAD = struct.Struct('<IIQQHxxxxxxQBxxxIQqQQQ')
_BODY_EPTR = (4 << 32) | (2 << 48)     # ResponseBody: 4 data words, 2 pointers
_RB = {f['name']: f for f in _layout.STRUCT['ResponseBody']['fields']}
assert (_layout.STRUCT['ResponseBody']['data_words'], _layout.STRUCT['ResponseBody']['ptr_count']) == (4, 2) \
    and (_RB['more']['bit'], _RB['ringLength']['byte'], _RB['offset']['byte'], _RB['length']['byte'],
         _RB['ringPosition']['byte'], _RB['body']['ptr'], _RB['file']['ptr']) == (0, 4, 8, 16, 24, 0, 1), \
    'ResponseBody layout changed: review codec.encode_body and _speedups_encode.c'
del _RB
_START_EPTR = (1 << 32) | (1 << 48)    # ResponseStart: 1 data word, 1 pointer


_SE_ENC, _SE_DW, _SE_PC = _ENCODERS[_T_SCOPE_END][1:]
_SE_OK_BLOCK = _SE_ENC({'failed': False, 'message': ''})
_SE_EPTR = (_SE_DW << 32) | (_SE_PC << 48)
_SE_OK_WORDS = 4 + (len(_SE_OK_BLOCK) >> 3)


def encode_scope_end(scope, failed, message):
    """scopeEnd {failed, message}; the common clean end is a fixed block."""
    if failed or message:
        return encode(scope, _T_SCOPE_END, {'failed': failed, 'message': message})
    return _FRAME_HEAD.pack(0, _SE_OK_WORDS, _ROOT_PTR, scope, _T_SCOPE_END, _SE_EPTR) + _SE_OK_BLOCK


def encode_credit(scope, nbytes):
    return _CREDIT_FRAME.pack(0, 5, _ROOT_PTR, scope, _T_CREDIT, _CREDIT_EPTR, nbytes)


def encode_body(scope, body, more):
    """httpResponseBody {body, more} (no file)."""
    c = len(body)
    if c:
        pad = (-c) & 7
        words = 10 + ((c + pad) >> 3)
        return b''.join((
            _BODY_HEAD.pack(0, words, _ROOT_PTR, scope, _T_BODY, _BODY_EPTR,
                            1 if more else 0, 0, 0, 0, 0, (((1 << 2) | 1) | (((c << 3) | 2) << 32)), 0),
            body, _ZERO[:pad]))
    return _BODY_HEAD.pack(0, 10, _ROOT_PTR, scope, _T_BODY, _BODY_EPTR,
                           1 if more else 0, 0, 0, 0, 0, 0, 0)


def encode_ring_body(scope, position, length, more):
    """httpResponseBody {more, ringPosition, ringLength}: a span of the
    shared body ring (docs/protocol.md 3c), body and file empty."""
    return _BODY_HEAD.pack(0, 10, _ROOT_PTR, scope, _T_BODY, _BODY_EPTR,
                           1 if more else 0, length, 0, 0, position, 0, 0)


def start_block(status, headers, trailers=False):
    """The ResponseStart struct of an httpResponseStart (scope-independent,
    so callers may cache it); headers is a flat list name0, value0, ..."""
    return _enc_ResponseStart({'status': status, 'trailers': trailers, 'headers': headers})


def encode_start_block(scope, block):
    return _FRAME_HEAD.pack(0, 4 + (len(block) >> 3), _ROOT_PTR, scope, _T_START, _START_EPTR) + block


def encode_start(scope, status, headers, trailers=False):
    """httpResponseStart; headers is a flat list name0, value0, ..."""
    return encode_start_block(scope, start_block(status, headers, trailers))


# --- the C accelerator, when built: same results, same errors (_accel.py) ----
# The pure functions stay reachable under these names (tests compare them).
pure_split_frames = split_frames
pure_encode_body = encode_body
pure_encode_start_block = encode_start_block
pure_encode_scope_end = encode_scope_end
_speedups = _accel.load(globals())
ACCELERATED = _speedups is not None
if ACCELERATED:
    split_frames = _speedups.split_frames
    decode_message = _speedups.decode_message
    encode_body = _speedups.encode_body
    encode_start_block = _speedups.encode_start_block
    encode_scope_end = _speedups.encode_scope_end
