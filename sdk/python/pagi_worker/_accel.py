"""Loads the optional C accelerator of the codec (_speedups.c) and hands it
the layout tables of _layout.py, the same ones codec.py generates the pure
decoders from (docs/python.md, "Codec accelerator").

No built extension, a stale one (VERSION differs), a layout it does not
take (a field kind added to the schema), or PAGI_WORKER_PURE=1 in the
environment: load() returns None and the pure codec runs, silently."""

import os

from . import _layout

# The C module's SPEEDUPS_VERSION this Python side was written for.
VERSION = 5


def tables():
    """(structs, members): per struct, its decoded fields in the pure
    decoder's dict order as (key, kind, byte, bit, ptr, struct index, enum
    names); per union tag, (kind, struct index) or None."""
    names = [n for n in _layout.STRUCT if n != 'Envelope']
    index = {n: i for i, n in enumerate(names)}
    structs = []
    for n in names:
        fields = sorted((f for f in _layout.STRUCT[n]['fields'] if 'byte' in f or 'ptr' in f),
                        key=lambda f: f['ordinal'])
        structs.append([(f['name'], f['kind'], f.get('byte', 0) if 'ptr' not in f else 0,
                         f.get('bit', 0) % 8, f.get('ptr', 0), index.get(f.get('struct'), -1),
                         tuple(_layout.ENUM[f['enum']]) if f['kind'] == 'enum' else None)
                        for f in fields])
    members_by_tag = {m['tag']: m for m in _layout.STRUCT['Envelope']['union']['members']}
    members = [None] * (max(members_by_tag) + 1)
    for tag, m in members_by_tag.items():
        members[tag] = (m['kind'], index.get(m.get('struct'), -1))
    return structs, members


def load(codec):
    """The _speedups module configured with the tables, constants and pure
    functions of the codec module (its globals), or None (pure codec)."""
    if os.environ.get('PAGI_WORKER_PURE', '') not in ('', '0'):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    if getattr(_speedups, 'VERSION', None) != VERSION:
        return None
    try:
        structs, members = tables()
        _speedups.configure(structs, members, codec['pure_split_frames'], codec['pure_decode_message'],
                            codec['DEFAULT_MAX_FRAME_BYTES'])
        _speedups.configure_encoders(*encoder_constants(codec))
    except (ValueError, TypeError, KeyError):
        # A layout it does not know (a new field kind): the pure codec.
        return None
    return _speedups


def encoder_constants(codec):
    """What _speedups.configure_encoders takes, from the codec's globals."""
    return (codec['_ROOT_PTR'], codec['_T_BODY'], codec['_BODY_EPTR'], codec['_T_START'],
            codec['_START_EPTR'], codec['_T_SCOPE_END'], codec['_SE_EPTR'], codec['_SE_OK_BLOCK'],
            codec['pure_encode_body'], codec['pure_encode_start_block'], codec['pure_encode_scope_end'])
