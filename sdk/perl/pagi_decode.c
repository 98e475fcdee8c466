/* Frame decoding in C: the same messages and the same errors as the pure
 * PAGI::Gateway::Worker::Codec::decode_frames (t/12-xs-differential.t
 * compares them on every message type and on thousands of mutated frames).
 *
 * Every read is bounds-checked: positions are signed 64-bit offsets into the
 * buffer, each struct, list and byte list is checked to lie inside segment 0
 * before it is read, and segment 0 inside the complete frame. A failure
 * croaks "pagi codec: ..." before the buffer is touched; messages decoded so
 * far are mortal and go with the croak. */
#include "pagi_xs.h"

pagi_layout pagi_L;

#define FAR_MSG "far pointer (multi-segment messages are not supported)"

typedef struct {
    const U8 *b;
    I64 ss, se; /* segment 0: [ss, se) */
} seg_t;

static U16 rd16(const U8 *p) { return (U16)(p[0] | (p[1] << 8)); }
static U32 rd32(const U8 *p) { return (U32)p[0] | ((U32)p[1] << 8) | ((U32)p[2] << 16) | ((U32)p[3] << 24); }
static U64 rd64(const U8 *p) { return (U64)rd32(p) | ((U64)rd32(p + 4) << 32); }

/* The 30-bit signed word offset of a struct or list pointer. */
static I64 ptr_off(U32 lo) {
    I64 off = (I64)(lo >> 2);
    if (off & 0x20000000) off -= 0x40000000;
    return off;
}

static void fail(pTHX_ const char *msg) { Perl_croak(aTHX_ "pagi codec: %s\n", msg); }

static void store(pTHX_ HV *hv, const char *key, I32 klen, U32 hash, SV *v) {
    if (!hv_common_key_len(hv, key, klen, HV_FETCH_ISSTORE | HV_FETCH_JUST_SV, v, hash)) SvREFCNT_dec(v);
}

/* Text/Data at pointer position pos (_blob); key NULL for an Envelope member. */
static SV *blob(pTHX_ const seg_t *g, I64 pos, U32 lo, U32 hi, int is_text, const char *key) {
    U32 kind = lo & 3;
    if (kind == 2) fail(aTHX_ FAR_MSG);
    if (kind != 1 || (hi & 7) != 2) {
        if (key) Perl_croak(aTHX_ "pagi codec: %s: expected a byte list pointer\n", key);
        fail(aTHX_ "expected a byte list pointer");
    }
    I64 count = hi >> 3;
    I64 start = pos + 8 + ptr_off(lo) * 8;
    if (start < g->ss || start + count > g->se) {
        if (key) Perl_croak(aTHX_ "pagi codec: %s out of bounds\n", key);
        fail(aTHX_ "byte list out of bounds");
    }
    if (count == 0) return newSVpvs("");
    /* Text carries a NUL terminator that is not part of the value. */
    if (is_text && g->b[start + count - 1] == 0) count--;
    return newSVpvn((const char *)g->b + start, (STRLEN)count);
}

/* List(Data)/List(Text) at pointer position pos (_blob_list). */
static void blob_list(pTHX_ const seg_t *g, I64 pos, U32 lo, U32 hi, int is_text, AV *out) {
    if ((lo & 3) != 1 || (hi & 7) != 6) {
        if ((lo & 3) == 2) fail(aTHX_ FAR_MSG);
        fail(aTHX_ "expected a pointer list");
    }
    I64 count = hi >> 3;
    I64 start = pos + 8 + ptr_off(lo) * 8;
    if (start < g->ss || start + count * 8 > g->se) fail(aTHX_ "pointer list out of bounds");
    if (!count) return;
    av_extend(out, count - 1);
    for (I64 i = 0; i < count; i++) {
        I64 pp = start + 8 * i;
        U32 l = rd32(g->b + pp), h = rd32(g->b + pp + 4);
        SV *v;
        if ((l & 3) == 1 && (h & 7) == 2) {
            I64 st = pp + 8 + ptr_off(l) * 8;
            I64 c = h >> 3;
            if (st < g->ss || st + c > g->se) fail(aTHX_ "list element out of bounds");
            if (is_text && c && g->b[st + c - 1] == 0) c--;
            v = newSVpvn((const char *)g->b + st, (STRLEN)c);
        }
        else if (l || h) {
            if ((l & 3) == 2) fail(aTHX_ FAR_MSG);
            fail(aTHX_ "list element: expected a byte list pointer");
        }
        else v = newSVpvs("");
        av_store(out, i, v);
    }
}

static const int data_size[] = {[PK_U8] = 1, [PK_U16] = 2, [PK_U32] = 4, [PK_U64] = 8,
                                [PK_I8] = 1, [PK_I16] = 2, [PK_I32] = 4, [PK_I64] = 8, [PK_ENUM] = 2};

/* The struct a pointer at ppos designates, its fields stored into out; a
 * null pointer reads as all defaults; a short struct (an older writer) has
 * its missing fields and pointers read as defaults. */
static void decode_struct(pTHX_ const seg_t *g, int si, I64 ppos, U32 lo, U32 hi, HV *out) {
    const pagi_struct *s = &pagi_L.structs[si];
    I64 start = 0;
    U32 dw = 0, pc = 0;
    if (lo || hi) {
        if (lo & 3) fail(aTHX_ (lo & 3) == 2 ? FAR_MSG : "expected a struct pointer");
        dw = hi & 0xffff;
        pc = hi >> 16;
        start = ppos + 8 + ptr_off(lo) * 8;
        if (start < g->ss || start + ((I64)dw + pc) * 8 > g->se) fail(aTHX_ "struct out of bounds");
    }
    if (s->nfields > 6) hv_ksplit(out, s->nfields + 2);
    const U8 *d = g->b + start;
    const I64 dbytes = (I64)dw * 8;
    const I64 pstart = start + dbytes;
    for (int i = 0; i < s->nfields; i++) {
        const pagi_field *f = &s->fields[i];
        SV *v;
        if (f->kind <= PK_ENUM) {
            if (f->kind == PK_BOOL) {
                v = newSViv((I64)f->byte < dbytes ? (d[f->byte] >> f->bit) & 1 : 0);
            }
            else {
                const int size = data_size[f->kind];
                const int in = (I64)f->byte + size <= dbytes;
                const U8 *p = d + f->byte;
                switch (f->kind) {
                    case PK_U8: v = newSVuv(in ? p[0] : 0); break;
                    case PK_U16: v = newSVuv(in ? rd16(p) : 0); break;
                    case PK_U32: v = newSVuv(in ? rd32(p) : 0); break;
                    case PK_U64: v = newSVuv(in ? rd64(p) : 0); break;
                    case PK_I8: v = newSViv(in ? (I8)p[0] : 0); break;
                    case PK_I16: v = newSViv(in ? (I16)rd16(p) : 0); break;
                    case PK_I32: v = newSViv(in ? (I32)rd32(p) : 0); break;
                    case PK_I64: v = newSViv(in ? (IV)rd64(p) : 0); break;
                    default: { /* PK_ENUM: its name, or the number when the schema has none */
                        U16 e = in ? rd16(p) : 0;
                        v = e < f->n_enum && f->enum_names[e] ? newSVpvn(f->enum_names[e], f->enum_lens[e])
                                                               : newSVuv(e);
                    }
                }
            }
            store(aTHX_ out, f->key, f->klen, f->hash, v);
            continue;
        }
        U32 plo = 0, phi = 0;
        const I64 pos = pstart + 8 * (I64)f->ptr;
        if (f->ptr < pc) {
            plo = rd32(g->b + pos);
            phi = rd32(g->b + pos + 4);
        }
        switch (f->kind) {
            case PK_TEXT:
            case PK_DATA:
                v = (plo || phi) ? blob(aTHX_ g, pos, plo, phi, f->kind == PK_TEXT, f->key) : newSVpvs("");
                store(aTHX_ out, f->key, f->klen, f->hash, v);
                break;
            case PK_LIST_DATA:
            case PK_LIST_TEXT: {
                AV *av = newAV();
                store(aTHX_ out, f->key, f->klen, f->hash, newRV_noinc((SV *)av));
                if (plo || phi) blob_list(aTHX_ g, pos, plo, phi, f->kind == PK_LIST_TEXT, av);
                break;
            }
            case PK_STRUCT:
                if (plo || phi) {
                    HV *hv = newHV();
                    store(aTHX_ out, f->key, f->klen, f->hash, newRV_noinc((SV *)hv));
                    decode_struct(aTHX_ g, f->sub, pos, plo, phi, hv);
                }
                else store(aTHX_ out, f->key, f->klen, f->hash, newSV(0));
                break;
            default: break;
        }
    }
}

static U32 H_SCOPE, H_TYPE, H_TEXT;

/* One Envelope member: { scope, type, fields... } appended to out. */
static void decode_member(pTHX_ const seg_t *g, U32 tag, U64 scope, I64 ppos, U32 lo, U32 hi, AV *out) {
    const pagi_member *m = tag < (U32)pagi_L.nmembers ? &pagi_L.members[tag] : NULL;
    if (!m || m->kind == PM_NONE) Perl_croak(aTHX_ "pagi codec: unknown union tag %u\n", (unsigned)tag);
    HV *hv = newHV();
    av_push(out, newRV_noinc((SV *)hv));
    store(aTHX_ hv, "scope", 5, H_SCOPE, newSVuv(scope));
    store(aTHX_ hv, "type", 4, H_TYPE, newSVpvn(m->name, m->nlen));
    if (m->kind == PM_STRUCT) decode_struct(aTHX_ g, m->sub, ppos, lo, hi, hv);
    else if (m->kind == PM_TEXT || m->kind == PM_DATA)
        store(aTHX_ hv, "text", 4, H_TEXT, (lo || hi) ? blob(aTHX_ g, ppos, lo, hi, m->kind == PM_TEXT, NULL) : newSVpvs(""));
}

/* Any Envelope layout (_decode_envelope). */
static void decode_envelope(pTHX_ const seg_t *g, AV *out) {
    if (g->se - g->ss < 8) fail(aTHX_ "empty segment");
    U32 rlo = rd32(g->b + g->ss), rhi = rd32(g->b + g->ss + 4);
    if (rlo & 3) fail(aTHX_ (rlo & 3) == 2 ? FAR_MSG : "expected a struct pointer");
    U32 dw = rhi & 0xffff, pc = rhi >> 16;
    I64 start = g->ss + 8 + ptr_off(rlo) * 8;
    if (start < g->ss || start + ((I64)dw + pc) * 8 > g->se) fail(aTHX_ "struct out of bounds");
    U64 scope = 0;
    U32 tag = 0;
    if (dw >= 2) {
        scope = rd64(g->b + start);
        tag = rd16(g->b + start + 8);
    }
    else if (dw == 1) scope = rd64(g->b + start);
    I64 ppos = start + (I64)dw * 8;
    U32 lo = 0, hi = 0;
    if (pc) {
        lo = rd32(g->b + ppos);
        hi = rd32(g->b + ppos + 4);
    }
    decode_member(aTHX_ g, tag, scope, ppos, lo, hi, out);
}

void pagi_decode_frames(pTHX_ SV *sv, SV *max, AV *out) {
    if (!H_SCOPE) {
        PERL_HASH(H_SCOPE, "scope", 5);
        PERL_HASH(H_TYPE, "type", 4);
        PERL_HASH(H_TEXT, "text", 4);
    }
    if (!max || !SvTRUE(max)) max = GvSV(pagi_L.default_max);
    const NV max_bytes = SvNV(max);
    STRLEN blen;
    const U8 *b = (const U8 *)SvPV(sv, blen);
    const I64 len = (I64)blen;
    I64 pos = 0;
    while (len - pos >= 8) {
        const U32 n = rd32(b + pos), size0 = rd32(b + pos + 4);
        I64 table, total;
        if (n == 0) {
            table = 8;
            total = (I64)size0 * 8;
        }
        else {
            const I64 nn = (I64)n + 1;
            if (nn > 512) Perl_croak(aTHX_ "pagi codec: too many segments (%" IVdf ")\n", (IV)nn);
            table = 4 + 4 * nn;
            if (table % 8) table += 4;
            if (len - pos < table) break;
            total = 0;
            for (I64 i = 0; i < nn; i++) total += (I64)rd32(b + pos + 4 + 4 * i) * 8;
        }
        if ((NV)(table + total) > max_bytes)
            Perl_croak(aTHX_ "pagi codec: frame of %" IVdf " bytes over the limit of %" SVf "\n", (IV)(table + total),
                       SVfARG(max));
        if (len - pos < table + total) break;
        seg_t g = {b, pos + table, pos + table + (I64)size0 * 8};
        if (size0 >= 4 && rd32(b + g.ss) == 0 && rd32(b + g.ss + 4) == 65538) {
            /* What every Cap'n Proto writer produces: the root pointer points
             * at the next word, an Envelope of 2 data words and 1 pointer. */
            const U8 *e = b + g.ss;
            decode_member(aTHX_ &g, rd16(e + 16), rd64(e + 8), g.ss + 24, rd32(e + 24), rd32(e + 28), out);
        }
        else decode_envelope(aTHX_ &g, out);
        pos += table + total;
    }
    /* All consumed (the usual case): emptied in place, keeping the memory. */
    if (pos == len) sv_setpvn(sv, "", 0);
    else if (pos) {
        char *p = SvPV_force_nolen(sv);
        Move(p + pos, p, len - pos, char);
        SvCUR_set(sv, len - pos);
        p[len - pos] = '\0';
    }
    if (pos) SvSETMAGIC(sv);
}
