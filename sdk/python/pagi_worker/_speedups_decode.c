/* The decoders of the C accelerator: split_frames and decode_message over
 * a bytes object, the same objects as codec.py's pure decoders (see
 * _speedups.c for the rules: bounds, errors through the pure functions). */
#include "_speedups.h"

/* Short strings and byte strings repeat from request to request (method,
 * version, scheme, addresses, header names and many values): a small
 * direct-mapped cache hands out the same immutable object instead of a new
 * one each time (the objects are equal to what the pure decoder makes). */
#define CACHE_SLOTS 256
#define CACHE_MAX_LEN 32
static PyObject *str_cache[CACHE_SLOTS], *bytes_cache[CACHE_SLOTS];

static unsigned cache_slot(const uint8_t *s, int64_t n)
{
    uint32_t h = 2166136261u ^ (uint32_t)n;
    for (int64_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return (h ^ (h >> 16)) & (CACHE_SLOTS - 1);
}

/* Text: strict UTF-8 first (what the pure decoder does), U+FFFD on invalid. */
static PyObject *text(const uint8_t *s, int64_t n)
{
    if (n <= 0) {
        Py_INCREF(sp_empty_str);
        return sp_empty_str;
    }
    PyObject **slot = NULL;
    if (n <= CACHE_MAX_LEN) {
        slot = &str_cache[cache_slot(s, n)];
        PyObject *c = *slot;    /* only compact ASCII strings are stored */
        if (c != NULL && PyUnicode_GET_LENGTH(c) == n && memcmp(PyUnicode_DATA(c), s, (size_t)n) == 0) {
            Py_INCREF(c);
            return c;
        }
    }
    PyObject *v = PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, NULL);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        v = PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, "replace");
    }
    if (v != NULL && slot != NULL && PyUnicode_IS_COMPACT_ASCII(v)) {
        Py_XSETREF(*slot, Py_NewRef(v));
    }
    return v;
}

static PyObject *data(const uint8_t *s, int64_t n)
{
    if (n < 2 || n > CACHE_MAX_LEN)     /* CPython shares b'' and 1-byte strings */
        return PyBytes_FromStringAndSize((const char *)s, (Py_ssize_t)n);
    PyObject **slot = &bytes_cache[cache_slot(s, n)];
    PyObject *c = *slot;
    if (c != NULL && PyBytes_GET_SIZE(c) == n && memcmp(PyBytes_AS_STRING(c), s, (size_t)n) == 0) {
        Py_INCREF(c);
        return c;
    }
    PyObject *v = PyBytes_FromStringAndSize((const char *)s, (Py_ssize_t)n);
    if (v != NULL) {
        Py_XSETREF(*slot, Py_NewRef(v));
    }
    return v;
}

/* A byte-list pointer (Text/Data) at word pos with (lo, hi); lo != 0. */
static PyObject *blob(const Seg *g, int64_t pos, int32_t lo, uint32_t hi, int is_text)
{
    int64_t s = pos + 8 + ptr_offset(lo);
    int64_t c = hi >> 3;
    if ((lo & 3) != 1 || (hi & 7) != 2 || s < g->ss || s + c > g->se)
        return NULL;
    if (is_text)
        return text(g->p + s, c - 1);
    return data(g->p + s, c);
}

/* List(Data)/List(Text) at pos -> flat list; lo != 0. */
static PyObject *blob_list(const Seg *g, int64_t pos, int32_t lo, uint32_t hi, int is_text)
{
    if ((lo & 3) != 1 || (hi & 7) != 6)
        return NULL;
    int64_t s = pos + 8 + ptr_offset(lo);
    int64_t n = hi >> 3;
    if (s < g->ss || s + n * 8 > g->se)
        return NULL;
    PyObject *out = PyList_New((Py_ssize_t)n);
    if (out == NULL)
        return NULL;
    for (int64_t j = 0; j < n; j++) {
        const uint8_t *w = g->p + s + 8 * j;
        int32_t lo2 = (int32_t)rd32(w);
        uint32_t hi2 = rd32(w + 4);
        PyObject *v;
        if (lo2) {
            v = blob(g, s + 8 * j, lo2, hi2, is_text);
        } else if (is_text) {
            Py_INCREF(sp_empty_str);
            v = sp_empty_str;
        } else {
            v = PyBytes_FromStringAndSize(NULL, 0);
        }
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)j, v);
    }
    return out;
}

static PyObject *data_int(const uint8_t *d, int64_t dsize, const Field *f)
{
    static const int size[] = {[K_U8] = 1, [K_U16] = 2, [K_U32] = 4, [K_U64] = 8, [K_I8] = 1,
                               [K_I16] = 2, [K_I32] = 4, [K_I64] = 8, [K_ENUM] = 2};
    int64_t off = f->byte;
    int in = off >= 0 && off + size[f->kind] <= dsize;
    const uint8_t *q = d + off;
    switch (f->kind) {
    case K_U8: return PyLong_FromLong(in ? q[0] : 0);
    case K_U16: return PyLong_FromLong(in ? rd16(q) : 0);
    case K_U32: return PyLong_FromUnsignedLong(in ? rd32(q) : 0);
    case K_U64: return PyLong_FromUnsignedLongLong(in ? rd64(q) : 0);
    case K_I8: return PyLong_FromLong(in ? (int8_t)q[0] : 0);
    case K_I16: return PyLong_FromLong(in ? (int16_t)rd16(q) : 0);
    case K_I32: return PyLong_FromLong(in ? (int32_t)rd32(q) : 0);
    case K_I64: return PyLong_FromLongLong(in ? (int64_t)rd64(q) : 0);
    case K_ENUM: {
        uint16_t v = in ? rd16(q) : 0;
        if (v < PyTuple_GET_SIZE(f->names)) {
            PyObject *name = PyTuple_GET_ITEM(f->names, v);
            Py_INCREF(name);
            return name;
        }
        return PyLong_FromLong(v);
    }
    }
    return NULL;
}

/* The fields of the struct behind the pointer (lo, hi) at word pp, in
 * field order, into vals[S->nfields] (new references); -1 when it does
 * not decode (vals then holds nothing). */
int sp_dec_values(const Seg *g, const Struct *S, int64_t pp, int32_t lo, uint32_t hi, PyObject **vals)
{
    if (lo & 3)
        return -1;
    int64_t st = pp + 8 + ptr_offset(lo);
    int64_t dw = hi & 0xffff, pc = hi >> 16;
    int64_t pe = st + dw * 8;
    if (st < g->ss || pe + pc * 8 > g->se)
        return -1;
    const uint8_t *d = g->p + st;
    int64_t dsize = dw * 8;
    for (Py_ssize_t i = 0; i < S->nfields; i++) {
        const Field *f = &S->fields[i];
        PyObject *v = NULL;
        if (f->kind == K_BOOL) {
            int on = f->byte < dsize ? (d[f->byte] >> f->bit) & 1 : 0;
            v = on ? Py_True : Py_False;
            Py_INCREF(v);
        } else if (f->kind <= K_ENUM) {
            v = data_int(d, dsize, f);
        } else {
            int32_t plo = 0;
            uint32_t phi = 0;
            int64_t pos = pe + 8 * f->ptr;
            if (f->ptr < pc) {
                plo = (int32_t)rd32(g->p + pos);
                phi = rd32(g->p + pos + 4);
            }
            switch (f->kind) {
            case K_TEXT:
            case K_DATA:
                if (plo) {
                    v = blob(g, pos, plo, phi, f->kind == K_TEXT);
                } else if (f->kind == K_TEXT) {
                    Py_INCREF(sp_empty_str);
                    v = sp_empty_str;
                } else {
                    v = PyBytes_FromStringAndSize(NULL, 0);
                }
                break;
            case K_LIST_DATA:
            case K_LIST_TEXT:
                v = plo ? blob_list(g, pos, plo, phi, f->kind == K_LIST_TEXT) : PyList_New(0);
                break;
            case K_STRUCT:
                if (plo || phi) {
                    v = sp_dec_struct(g, &sp_structs[f->sub], pos, plo, phi);
                } else {
                    Py_INCREF(Py_None);
                    v = Py_None;
                }
                break;
            }
        }
        if (v == NULL) {
            while (i-- > 0)
                Py_DECREF(vals[i]);
            return -1;
        }
        vals[i] = v;
    }
    return 0;
}

/* vals (field order, references taken) -> dict; NULL on failure. */
PyObject *sp_values_dict(const Struct *S, PyObject **vals)
{
    PyObject *out = _PyDict_NewPresized(S->nfields);
    for (Py_ssize_t i = 0; i < S->nfields; i++) {
        if (out != NULL && PyDict_SetItem(out, S->fields[i].key, vals[i]) < 0)
            Py_CLEAR(out);
        Py_DECREF(vals[i]);
    }
    return out;
}

/* A struct behind the pointer (lo, hi) at word pp -> dict in field order. */
PyObject *sp_dec_struct(const Seg *g, const Struct *S, int64_t pp, int32_t lo, uint32_t hi)
{
    PyObject *small[SP_MAX_FIELDS];
    PyObject **vals = S->nfields <= SP_MAX_FIELDS ? small : PyMem_Malloc(S->nfields * sizeof *vals);
    PyObject *out = NULL;
    if (vals != NULL && sp_dec_values(g, S, pp, lo, hi, vals) == 0)
        out = sp_values_dict(S, vals);
    if (vals != small)
        PyMem_Free(vals);
    return out;
}

/* One single segment p[ss:se] -> (scope, tag, payload), or NULL. */
static PyObject *dec_message(const uint8_t *p, int64_t ss, int64_t se, const OpenCtx *oc)
{
    Seg g = {p, ss, se};
    if (se - ss < 8)
        return NULL;
    uint32_t ulo = rd32(p + ss), hi = rd32(p + ss + 4);
    if (ulo & 3)
        return NULL;
    int64_t st = ss + 8 + ptr_offset((int32_t)ulo);
    int64_t dw = hi & 0xffff, pc = hi >> 16;
    if (st < ss || st + (dw + pc) * 8 > se)
        return NULL;
    uint64_t scope = dw >= 1 ? rd64(p + st) : 0;
    unsigned tag = dw >= 2 ? rd16(p + st + 8) : 0;
    int64_t pp = st + dw * 8;
    int32_t plo = 0;
    uint32_t phi = 0;
    if (pc) {
        plo = (int32_t)rd32(p + pp);
        phi = rd32(p + pp + 4);
    }
    if ((Py_ssize_t)tag >= sp_nmembers)
        return NULL;
    const Member *m = &sp_members[tag];
    PyObject *payload;
    switch (m->kind) {
    case M_STRUCT:
        if (oc != NULL && tag == oc->tag)
            payload = sp_open_payload(&g, pp, plo, phi, oc);
        else
            payload = sp_dec_struct(&g, &sp_structs[m->sub], pp, plo, phi);
        break;
    case M_TEXT:
        if (!plo) {
            Py_INCREF(sp_empty_str);
            payload = sp_empty_str;
        } else {
            int64_t s = pp + 8 + ptr_offset(plo), c = phi >> 3;
            if ((plo & 3) != 1 || (phi & 7) != 2 || s < ss || s + c > se)
                return NULL;
            payload = c ? PyUnicode_DecodeUTF8((const char *)p + s, (Py_ssize_t)(c - 1), "replace")
                        : (Py_INCREF(sp_empty_str), sp_empty_str);
        }
        break;
    case M_VOID:
        Py_INCREF(Py_None);
        payload = Py_None;
        break;
    default:
        return NULL;
    }
    if (payload == NULL)
        return NULL;
    PyObject *pyscope = PyLong_FromUnsignedLongLong(scope);
    PyObject *pytag = PyLong_FromLong(tag);
    if (pyscope == NULL || pytag == NULL) {
        Py_XDECREF(pyscope);
        Py_XDECREF(pytag);
        Py_DECREF(payload);
        return NULL;
    }
    PyObject *t = PyTuple_New(3);
    if (t == NULL) {
        Py_DECREF(pyscope);
        Py_DECREF(pytag);
        Py_DECREF(payload);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, pyscope);
    PyTuple_SET_ITEM(t, 1, pytag);
    PyTuple_SET_ITEM(t, 2, payload);
    return t;
}

/* An int argument as int64 in [0, limit], else -1. */
static int64_t arg_index(PyObject *o, int64_t limit)
{
    if (!PyLong_CheckExact(o))
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || v < 0 || v > limit)
        return -1;
    return v;
}

/* split_frames(b, pos=0, max_frame_bytes=DEFAULT) as codec.split_frames;
 * with oc, `open` payloads are oc's (sp_open_payload) and pure is the
 * function anything else goes to. */
PyObject *sp_split(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const OpenCtx *oc, PyObject *pure)
{
    const Py_ssize_t pure_nargs = oc ? oc->nargs : nargs;  /* what the caller passed */
    if (kwnames != NULL || nargs < 1 || nargs > 3 || !PyBytes_CheckExact(args[0]) || pure == NULL)
        return sp_fallback(pure, args, pure_nargs, kwnames);
    PyObject *b = args[0];
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(b);
    int64_t end = PyBytes_GET_SIZE(b);
    int64_t pos = nargs > 1 ? arg_index(args[1], end) : 0;
    long long max_frame = sp_default_max_frame;
    if (nargs > 2) {
        int overflow = 0;
        if (!PyLong_Check(args[2]))
            return sp_fallback(pure, args, pure_nargs, kwnames);
        max_frame = PyLong_AsLongLongAndOverflow(args[2], &overflow);
        if (overflow > 0)
            max_frame = INT64_MAX;
        else if (overflow < 0 || (max_frame == -1 && PyErr_Occurred()))
            return sp_fallback(pure, args, pure_nargs, kwnames);
    }
    if (pos < 0)
        return sp_fallback(pure, args, pure_nargs, kwnames);
    PyObject *msgs = PyList_New(0);
    if (msgs == NULL)
        return sp_fallback(pure, args, pure_nargs, kwnames);
    while (end - pos >= 8) {
        uint32_t nm1 = rd32(p + pos);
        int64_t words = rd32(p + pos + 4);
        int64_t flen = 8 + words * 8;
        if (nm1 || flen > max_frame || words == 0)
            goto bad;
        if (end - pos < flen)
            break;
        PyObject *m = dec_message(p, pos + 8, pos + flen, oc);
        if (m == NULL)
            goto bad;
        int rc = PyList_Append(msgs, m);
        Py_DECREF(m);
        if (rc < 0)
            goto bad;
        pos += flen;
    }
    PyObject *np = PyLong_FromLongLong(pos);
    if (np == NULL)
        goto bad;
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(np);
        goto bad;
    }
    PyTuple_SET_ITEM(t, 0, msgs);
    PyTuple_SET_ITEM(t, 1, np);
    return t;
bad:
    Py_DECREF(msgs);
    return sp_fallback(pure, args, pure_nargs, kwnames);
}

PyObject *split_frames(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return sp_split(args, nargs, kwnames, NULL, sp_pure_split);
}

/* decode_message(b, ss, se) as codec.decode_message. */
PyObject *decode_message(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (kwnames != NULL || nargs != 3 || !PyBytes_CheckExact(args[0]) || sp_pure_decode == NULL)
        return sp_fallback(sp_pure_decode, args, nargs, kwnames);
    int64_t len = PyBytes_GET_SIZE(args[0]);
    int64_t ss = arg_index(args[1], len), se = arg_index(args[2], len);
    PyObject *m = NULL;
    if (ss >= 0 && se >= 0)
        m = dec_message((const uint8_t *)PyBytes_AS_STRING(args[0]), ss, se, NULL);
    return m != NULL ? m : sp_fallback(sp_pure_decode, args, nargs, kwnames);
}
