/* Optional C accelerator of pagi_worker.codec: split_frames and
 * decode_message over a bytes object, producing exactly what the pure
 * decoders produce (docs/python.md, "Codec accelerator").
 *
 * No layout is compiled in: pagi_worker/_accel.py hands configure() the
 * tables of _layout.py (generated from protocol/pagi.capnp), the same ones
 * the pure codec is generated from, so the two cannot drift apart.
 *
 * Errors: this module never raises a decoding error of its own. Whenever
 * anything does not decode (bad pointer, out of bounds, unknown tag, an
 * argument it does not handle, no memory), it calls the pure function with
 * the same arguments, which raises the pure codec's own error, or returns
 * the pure result. Every read is bounds-checked against [ss, se) of the
 * buffer, and se against the buffer's length, before it happens; offsets are
 * int64 and cannot overflow (pointer offsets are 30 bits, counts 29). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Bump when the behaviour changes; _accel.py refuses a stale build. */
#define SPEEDUPS_VERSION 2

enum {
    K_BOOL, K_U8, K_U16, K_U32, K_U64, K_I8, K_I16, K_I32, K_I64, K_ENUM,
    K_TEXT, K_DATA, K_LIST_DATA, K_LIST_TEXT, K_STRUCT
};
enum { M_NONE, M_STRUCT, M_TEXT, M_VOID };

typedef struct {
    PyObject *key;     /* field name (str) */
    int kind;
    int64_t byte;      /* data section: byte offset */
    int bit;           /* bool: bit within that byte */
    int64_t ptr;       /* pointer section index */
    int sub;           /* K_STRUCT: index into structs */
    PyObject *names;   /* K_ENUM: tuple of str */
} Field;

typedef struct {
    Py_ssize_t nfields;
    Field *fields;
} Struct;

typedef struct {
    int kind;
    int sub;
} Member;

static Struct *structs;
static Py_ssize_t nstructs;
static Member *members;
static Py_ssize_t nmembers;
static PyObject *pure_split;    /* codec's pure split_frames */
static PyObject *pure_decode;   /* codec's pure decode_message */
static long long default_max_frame;
static PyObject *empty_str;

/* Encoders: constants from codec.py (configure_encoders) and its pure
 * functions, which take every argument these do not. */
static struct {
    int ready;
    uint64_t root_ptr, body_eptr, start_eptr, se_eptr;
    unsigned t_body, t_start, t_scope_end;
    PyObject *se_block;                 /* the clean scopeEnd's struct (bytes) */
    PyObject *pure_body, *pure_start_block, *pure_scope_end;
} enc;

/* --- little-endian reads (callers checked the bounds) --------------------- */

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

/* Floor of lo / 4 (Python's lo >> 2), times 8: the word offset in bytes. */
static inline int64_t ptr_offset(int32_t lo)
{
    int64_t v = lo;
    return (v >= 0 ? v / 4 : -((-v + 3) / 4)) * 8;
}

typedef struct {
    const uint8_t *p;
    int64_t ss, se;
} Seg;

/* Text: strict UTF-8 first (what the pure decoder does), U+FFFD on invalid. */
static PyObject *text(const uint8_t *s, int64_t n)
{
    if (n <= 0) {
        Py_INCREF(empty_str);
        return empty_str;
    }
    PyObject *v = PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, NULL);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        v = PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, "replace");
    }
    return v;
}

static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
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
    return PyBytes_FromStringAndSize((const char *)g->p + s, (Py_ssize_t)c);
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
            Py_INCREF(empty_str);
            v = empty_str;
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

/* A struct behind the pointer (lo, hi) at word pp -> dict in field order. */
static PyObject *dec_struct(const Seg *g, const Struct *S, int64_t pp, int32_t lo, uint32_t hi)
{
    if (lo & 3)
        return NULL;
    int64_t st = pp + 8 + ptr_offset(lo);
    int64_t dw = hi & 0xffff, pc = hi >> 16;
    int64_t pe = st + dw * 8;
    if (st < g->ss || pe + pc * 8 > g->se)
        return NULL;
    const uint8_t *d = g->p + st;
    int64_t dsize = dw * 8;
    PyObject *out = _PyDict_NewPresized(S->nfields);
    if (out == NULL)
        return NULL;
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
                    Py_INCREF(empty_str);
                    v = empty_str;
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
                    v = dec_struct(g, &structs[f->sub], pos, plo, phi);
                } else {
                    Py_INCREF(Py_None);
                    v = Py_None;
                }
                break;
            }
        }
        if (v == NULL || PyDict_SetItem(out, f->key, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(v);
    }
    return out;
}

/* One single segment p[ss:se] -> (scope, tag, payload), or NULL. */
static PyObject *dec_message(const uint8_t *p, int64_t ss, int64_t se)
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
    if ((Py_ssize_t)tag >= nmembers)
        return NULL;
    const Member *m = &members[tag];
    PyObject *payload;
    switch (m->kind) {
    case M_STRUCT:
        payload = dec_struct(&g, &structs[m->sub], pp, plo, phi);
        break;
    case M_TEXT:
        if (!plo) {
            Py_INCREF(empty_str);
            payload = empty_str;
        } else {
            int64_t s = pp + 8 + ptr_offset(plo), c = phi >> 3;
            if ((plo & 3) != 1 || (phi & 7) != 2 || s < ss || s + c > se)
                return NULL;
            payload = c ? PyUnicode_DecodeUTF8((const char *)p + s, (Py_ssize_t)(c - 1), "replace")
                        : (Py_INCREF(empty_str), empty_str);
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

/* --- Python functions ----------------------------------------------------- */

/* Anything this module does not decode goes to the pure function, which
 * raises the codec's own error (or decodes it). */
static PyObject *fallback(PyObject *pure, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyErr_Clear();
    if (pure == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "pagi_worker._speedups is not configured");
        return NULL;
    }
    return PyObject_Vectorcall(pure, args, nargsf, kwnames);
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

/* split_frames(b, pos=0, max_frame_bytes=DEFAULT) as codec.split_frames. */
static PyObject *split_frames(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (kwnames != NULL || nargs < 1 || nargs > 3 || !PyBytes_CheckExact(args[0]) || pure_split == NULL)
        return fallback(pure_split, args, nargs, kwnames);
    PyObject *b = args[0];
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(b);
    int64_t end = PyBytes_GET_SIZE(b);
    int64_t pos = nargs > 1 ? arg_index(args[1], end) : 0;
    long long max_frame = default_max_frame;
    if (nargs > 2) {
        int overflow = 0;
        if (!PyLong_Check(args[2]))
            return fallback(pure_split, args, nargs, kwnames);
        max_frame = PyLong_AsLongLongAndOverflow(args[2], &overflow);
        if (overflow > 0)
            max_frame = INT64_MAX;
        else if (overflow < 0 || (max_frame == -1 && PyErr_Occurred()))
            return fallback(pure_split, args, nargs, kwnames);
    }
    if (pos < 0)
        return fallback(pure_split, args, nargs, kwnames);
    PyObject *msgs = PyList_New(0);
    if (msgs == NULL)
        return fallback(pure_split, args, nargs, kwnames);
    while (end - pos >= 8) {
        uint32_t nm1 = rd32(p + pos);
        int64_t words = rd32(p + pos + 4);
        int64_t flen = 8 + words * 8;
        if (nm1 || flen > max_frame || words == 0)
            goto bad;
        if (end - pos < flen)
            break;
        PyObject *m = dec_message(p, pos + 8, pos + flen);
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
    return fallback(pure_split, args, nargs, kwnames);
}

/* decode_message(b, ss, se) as codec.decode_message. */
static PyObject *decode_message(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (kwnames != NULL || nargs != 3 || !PyBytes_CheckExact(args[0]) || pure_decode == NULL)
        return fallback(pure_decode, args, nargs, kwnames);
    int64_t len = PyBytes_GET_SIZE(args[0]);
    int64_t ss = arg_index(args[1], len), se = arg_index(args[2], len);
    PyObject *m = NULL;
    if (ss >= 0 && se >= 0)
        m = dec_message((const uint8_t *)PyBytes_AS_STRING(args[0]), ss, se);
    return m != NULL ? m : fallback(pure_decode, args, nargs, kwnames);
}

/* --- encoders ----------------------------------------------------------------- */

/* Segment table, root pointer, Envelope {scope, tag}, event pointer: the
 * first 40 bytes of every frame the worker writes; out has room. */
static void frame_head(uint8_t *out, uint32_t words, uint64_t scope, unsigned tag, uint64_t eptr)
{
    memset(out, 0, 40);
    wr32(out + 4, words);
    wr64(out + 8, enc.root_ptr);
    wr64(out + 16, scope);
    wr16(out + 24, (uint16_t)tag);
    wr64(out + 32, eptr);
}

/* A scope id the pure struct.pack('Q') takes, else -1 (then: the pure path). */
static int scope_arg(PyObject *o, uint64_t *v)
{
    if (!PyLong_CheckExact(o))
        return -1;
    *v = PyLong_AsUnsignedLongLong(o);
    if (*v == (uint64_t)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

/* encode_body(scope, body, more) as codec.encode_body. */
static PyObject *encode_body(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t scope;
    int more;
    if (!enc.ready || kwnames != NULL || nargs != 3 || scope_arg(args[0], &scope) < 0 ||
        !PyBytes_CheckExact(args[1]) || PyBytes_GET_SIZE(args[1]) >= (1 << 29) || (more = PyObject_IsTrue(args[2])) < 0)
        return fallback(enc.pure_body, args, nargs, kwnames);
    int64_t c = PyBytes_GET_SIZE(args[1]);
    int64_t pad = (-c) & 7;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(80 + c + pad));
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    frame_head(p, (uint32_t)(9 + (c + pad) / 8), scope, enc.t_body, enc.body_eptr);
    memset(p + 40, 0, 40);
    p[40] = (uint8_t)more;
    if (c)
        wr64(p + 64, (uint64_t)((1 << 2) | 1) | ((uint64_t)((c << 3) | 2) << 32));
    memcpy(p + 80, PyBytes_AS_STRING(args[1]), (size_t)c);
    memset(p + 80 + c, 0, (size_t)pad);
    return out;
}

/* encode_start_block(scope, block) as codec.encode_start_block. */
static PyObject *encode_start_block(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t scope;
    if (!enc.ready || kwnames != NULL || nargs != 2 || scope_arg(args[0], &scope) < 0 ||
        !PyBytes_CheckExact(args[1]) || PyBytes_GET_SIZE(args[1]) >= ((int64_t)1 << 34))
        return fallback(enc.pure_start_block, args, nargs, kwnames);
    int64_t n = PyBytes_GET_SIZE(args[1]);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(40 + n));
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    frame_head(p, (uint32_t)(4 + (n >> 3)), scope, enc.t_start, enc.start_eptr);
    memcpy(p + 40, PyBytes_AS_STRING(args[1]), (size_t)n);
    return out;
}

/* encode_scope_end(scope, failed, message) as codec.encode_scope_end: the
 * clean end here, a failure through the pure function. */
static PyObject *encode_scope_end(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t scope;
    if (!enc.ready || kwnames != NULL || nargs != 3 || args[1] != Py_False || !PyUnicode_CheckExact(args[2]) ||
        PyUnicode_GET_LENGTH(args[2]) != 0 || scope_arg(args[0], &scope) < 0)
        return fallback(enc.pure_scope_end, args, nargs, kwnames);
    int64_t n = PyBytes_GET_SIZE(enc.se_block);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(40 + n));
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    frame_head(p, (uint32_t)(4 + (n >> 3)), scope, enc.t_scope_end, enc.se_eptr);
    memcpy(p + 40, PyBytes_AS_STRING(enc.se_block), (size_t)n);
    return out;
}

/* configure_encoders(root_ptr, t_body, body_eptr, t_start, start_eptr,
 *                    t_scope_end, se_eptr, se_block,
 *                    pure_body, pure_start_block, pure_scope_end) */
static PyObject *configure_encoders(PyObject *self, PyObject *args)
{
    unsigned long long root, beptr, steptr, seeptr;
    unsigned tb, ts, tse;
    PyObject *block, *pb, *ps, *pse;
    if (!PyArg_ParseTuple(args, "KIKIKIKSOOO", &root, &tb, &beptr, &ts, &steptr, &tse, &seeptr, &block, &pb, &ps, &pse))
        return NULL;
    if (tb > 0xffff || ts > 0xffff || tse > 0xffff || PyBytes_GET_SIZE(block) % 8) {
        PyErr_SetString(PyExc_ValueError, "pagi_worker._speedups.configure_encoders: bad constants");
        return NULL;
    }
    enc.root_ptr = root;
    enc.t_body = tb;
    enc.body_eptr = beptr;
    enc.t_start = ts;
    enc.start_eptr = steptr;
    enc.t_scope_end = tse;
    enc.se_eptr = seeptr;
    Py_INCREF(block);
    Py_XSETREF(enc.se_block, block);
    Py_INCREF(pb);
    Py_XSETREF(enc.pure_body, pb);
    Py_INCREF(ps);
    Py_XSETREF(enc.pure_start_block, ps);
    Py_INCREF(pse);
    Py_XSETREF(enc.pure_scope_end, pse);
    enc.ready = 1;
    Py_RETURN_NONE;
}

static const struct {
    const char *name;
    int kind;
} kind_names[] = {
    {"bool", K_BOOL}, {"uint8", K_U8}, {"uint16", K_U16}, {"uint32", K_U32}, {"uint64", K_U64},
    {"int8", K_I8}, {"int16", K_I16}, {"int32", K_I32}, {"int64", K_I64}, {"enum", K_ENUM},
    {"text", K_TEXT}, {"data", K_DATA}, {"list_data", K_LIST_DATA}, {"list_text", K_LIST_TEXT},
    {"struct", K_STRUCT},
};

static int kind_of(PyObject *name)
{
    const char *s = PyUnicode_AsUTF8(name);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(s, kind_names[i].name) == 0)
            return kind_names[i].kind;
    PyErr_Format(PyExc_ValueError, "unknown field kind %R", name);
    return -1;
}

static void free_tables(void)
{
    for (Py_ssize_t i = 0; i < nstructs; i++) {
        for (Py_ssize_t j = 0; j < structs[i].nfields; j++) {
            Py_XDECREF(structs[i].fields[j].key);
            Py_XDECREF(structs[i].fields[j].names);
        }
        PyMem_Free(structs[i].fields);
    }
    PyMem_Free(structs);
    PyMem_Free(members);
    structs = NULL;
    members = NULL;
    nstructs = nmembers = 0;
}

/* configure(structs, members, pure_split, pure_decode, default_max_frame)
 *   structs: list (by struct index) of lists of fields in the order of the
 *            pure decoder's dict: (key, kind, byte, bit, ptr, sub, enum_names)
 *   members: list by union tag of (kind, struct index) or None. */
static PyObject *configure(PyObject *self, PyObject *args)
{
    PyObject *slist, *mlist, *split, *decode;
    long long dmax;
    if (!PyArg_ParseTuple(args, "O!O!OOL", &PyList_Type, &slist, &PyList_Type, &mlist, &split, &decode, &dmax))
        return NULL;
    free_tables();
    Py_ssize_t ns = PyList_GET_SIZE(slist), nm = PyList_GET_SIZE(mlist);
    structs = PyMem_Calloc(ns ? ns : 1, sizeof *structs);
    members = PyMem_Calloc(nm ? nm : 1, sizeof *members);
    if (structs == NULL || members == NULL) {
        free_tables();
        return PyErr_NoMemory();
    }
    nstructs = ns;
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *fl = PyList_GET_ITEM(slist, i);
        if (!PyList_Check(fl))
            goto type_error;
        Py_ssize_t nf = PyList_GET_SIZE(fl);
        structs[i].fields = PyMem_Calloc(nf ? nf : 1, sizeof(Field));
        if (structs[i].fields == NULL) {
            free_tables();
            return PyErr_NoMemory();
        }
        structs[i].nfields = nf;
        for (Py_ssize_t j = 0; j < nf; j++) {
            Field *f = &structs[i].fields[j];
            PyObject *key, *kind, *names;
            long long byte, ptr;
            int bit, sub;
            if (!PyArg_ParseTuple(PyList_GET_ITEM(fl, j), "UULiLiO", &key, &kind, &byte, &bit, &ptr, &sub, &names))
                goto fail;
            f->kind = kind_of(kind);
            if (f->kind < 0)
                goto fail;
            if (f->kind > K_STRUCT || byte < 0 || byte > (1 << 20) || bit < 0 || bit > 7 || ptr < 0 ||
                ptr > (1 << 16) || (f->kind == K_STRUCT && (sub < 0 || sub >= ns)) ||
                (f->kind == K_ENUM && !PyTuple_Check(names)))
                goto type_error;
            Py_INCREF(key);
            PyUnicode_InternInPlace(&key);
            f->key = key;
            f->byte = byte;
            f->bit = bit;
            f->ptr = ptr;
            f->sub = sub;
            if (f->kind == K_ENUM) {
                Py_INCREF(names);
                f->names = names;
            }
        }
    }
    nmembers = nm;
    for (Py_ssize_t i = 0; i < nm; i++) {
        PyObject *m = PyList_GET_ITEM(mlist, i);
        PyObject *kind;
        int sub;
        if (m == Py_None) {
            members[i].kind = M_NONE;
            continue;
        }
        if (!PyArg_ParseTuple(m, "Ui", &kind, &sub))
            goto fail;
        const char *k = PyUnicode_AsUTF8(kind);
        if (k == NULL)
            goto fail;
        if (strcmp(k, "struct") == 0 && sub >= 0 && sub < ns)
            members[i].kind = M_STRUCT;
        else if (strcmp(k, "text") == 0)
            members[i].kind = M_TEXT;
        else if (strcmp(k, "void") == 0)
            members[i].kind = M_VOID;
        else
            goto type_error;
        members[i].sub = sub;
    }
    Py_INCREF(split);
    Py_XSETREF(pure_split, split);
    Py_INCREF(decode);
    Py_XSETREF(pure_decode, decode);
    default_max_frame = dmax;
    Py_RETURN_NONE;
type_error:
    PyErr_SetString(PyExc_ValueError, "pagi_worker._speedups.configure: malformed layout table");
fail:
    free_tables();
    return NULL;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Installs the layout tables and the pure fallbacks."},
    {"split_frames", (PyCFunction)(void (*)(void))split_frames, METH_FASTCALL | METH_KEYWORDS,
     "codec.split_frames, accelerated for bytes."},
    {"decode_message", (PyCFunction)(void (*)(void))decode_message, METH_FASTCALL | METH_KEYWORDS,
     "codec.decode_message, accelerated for bytes."},
    {"configure_encoders", configure_encoders, METH_VARARGS, "Installs the encoders' constants and pure fallbacks."},
    {"encode_body", (PyCFunction)(void (*)(void))encode_body, METH_FASTCALL | METH_KEYWORDS,
     "codec.encode_body."},
    {"encode_start_block", (PyCFunction)(void (*)(void))encode_start_block, METH_FASTCALL | METH_KEYWORDS,
     "codec.encode_start_block."},
    {"encode_scope_end", (PyCFunction)(void (*)(void))encode_scope_end, METH_FASTCALL | METH_KEYWORDS,
     "codec.encode_scope_end."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "pagi_worker._speedups",
    "C accelerator of pagi_worker.codec (optional; the pure codec is the reference).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    empty_str = PyUnicode_FromStringAndSize(NULL, 0);
    if (empty_str == NULL || PyModule_AddIntConstant(m, "VERSION", SPEEDUPS_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
