/* The encoders of the C accelerator: the byte-identical twins of codec.py's
 * encode_body, encode_start_block and (clean) encode_scope_end. */
#include "_speedups.h"

/* --- encoders ----------------------------------------------------------------- */

/* Segment table, root pointer, Envelope {scope, tag}, event pointer: the
 * first 40 bytes of every frame the worker writes; out has room. */
static void frame_head(uint8_t *out, uint32_t words, uint64_t scope, unsigned tag, uint64_t eptr)
{
    memset(out, 0, 40);
    wr32(out + 4, words);
    wr64(out + 8, sp_enc.root_ptr);
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
PyObject *encode_body(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t scope;
    int more;
    if (!sp_enc.ready || kwnames != NULL || nargs != 3 || scope_arg(args[0], &scope) < 0 ||
        !PyBytes_CheckExact(args[1]) || PyBytes_GET_SIZE(args[1]) >= (1 << 29) || (more = PyObject_IsTrue(args[2])) < 0)
        return sp_fallback(sp_enc.pure_body, args, nargs, kwnames);
    int64_t c = PyBytes_GET_SIZE(args[1]);
    int64_t pad = (-c) & 7;
    /* ResponseBody: 4 data words (more, ringLength; offset; length;
     * ringPosition), then the body and file pointers; codec.py checks the
     * layout at import. */
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(88 + c + pad));
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    frame_head(p, (uint32_t)(10 + (c + pad) / 8), scope, sp_enc.t_body, sp_enc.body_eptr);
    memset(p + 40, 0, 48);
    p[40] = (uint8_t)more;
    if (c)
        wr64(p + 72, (uint64_t)((1 << 2) | 1) | ((uint64_t)((c << 3) | 2) << 32));
    memcpy(p + 88, PyBytes_AS_STRING(args[1]), (size_t)c);
    memset(p + 88 + c, 0, (size_t)pad);
    return out;
}

/* encode_start_block(scope, block) as codec.encode_start_block. */
PyObject *encode_start_block(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t scope;
    if (!sp_enc.ready || kwnames != NULL || nargs != 2 || scope_arg(args[0], &scope) < 0 ||
        !PyBytes_CheckExact(args[1]) || PyBytes_GET_SIZE(args[1]) >= ((int64_t)1 << 34))
        return sp_fallback(sp_enc.pure_start_block, args, nargs, kwnames);
    int64_t n = PyBytes_GET_SIZE(args[1]);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(40 + n));
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    frame_head(p, (uint32_t)(4 + (n >> 3)), scope, sp_enc.t_start, sp_enc.start_eptr);
    memcpy(p + 40, PyBytes_AS_STRING(args[1]), (size_t)n);
    return out;
}

/* encode_scope_end(scope, failed, message) as codec.encode_scope_end: the
 * clean end here, a failure through the pure function. */
PyObject *encode_scope_end(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t scope;
    if (!sp_enc.ready || kwnames != NULL || nargs != 3 || args[1] != Py_False || !PyUnicode_CheckExact(args[2]) ||
        PyUnicode_GET_LENGTH(args[2]) != 0 || scope_arg(args[0], &scope) < 0)
        return sp_fallback(sp_enc.pure_scope_end, args, nargs, kwnames);
    int64_t n = PyBytes_GET_SIZE(sp_enc.se_block);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(40 + n));
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    frame_head(p, (uint32_t)(4 + (n >> 3)), scope, sp_enc.t_scope_end, sp_enc.se_eptr);
    memcpy(p + 40, PyBytes_AS_STRING(sp_enc.se_block), (size_t)n);
    return out;
}

/* configure_encoders(root_ptr, t_body, body_eptr, t_start, start_eptr,
 *                    t_scope_end, se_eptr, se_block,
 *                    pure_body, pure_start_block, pure_scope_end) */
PyObject *configure_encoders(PyObject *self, PyObject *args)
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
    sp_enc.root_ptr = root;
    sp_enc.t_body = tb;
    sp_enc.body_eptr = beptr;
    sp_enc.t_start = ts;
    sp_enc.start_eptr = steptr;
    sp_enc.t_scope_end = tse;
    sp_enc.se_eptr = seeptr;
    Py_XSETREF(sp_enc.se_block, Py_NewRef(block));
    Py_XSETREF(sp_enc.pure_body, Py_NewRef(pb));
    Py_XSETREF(sp_enc.pure_start_block, Py_NewRef(ps));
    Py_XSETREF(sp_enc.pure_scope_end, Py_NewRef(pse));
    sp_enc.ready = 1;
    Py_RETURN_NONE;
}
