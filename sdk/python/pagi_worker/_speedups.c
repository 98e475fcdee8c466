/* Optional C accelerator of pagi_worker.codec (docs/python.md, "Codec
 * accelerator"): split_frames and decode_message over a bytes object
 * (_speedups_decode.c), producing exactly what the pure decoders produce,
 * and the worker's hot encoders (_speedups_encode.c), byte-identical. This
 * file: the module, its configuration, the pure fallback. _speedups_scope.c
 * adds two per-request helpers of the worker that are not codec: the ASGI
 * scope builder and the eager first step.
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
#include "_speedups.h"

Struct *sp_structs;
Py_ssize_t sp_nstructs;
Member *sp_members;
Py_ssize_t sp_nmembers;
unsigned long sp_generation;
PyObject *sp_pure_split;
PyObject *sp_pure_decode;
long long sp_default_max_frame;
PyObject *sp_empty_str;
PyObject *sp_empty_tuple;
Encoders sp_enc;

/* --- the pure fallback, configuration, the module ---------------------------- */

PyObject *sp_fallback(PyObject *pure, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyErr_Clear();
    if (pure == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "pagi_worker._speedups is not configured");
        return NULL;
    }
    return PyObject_Vectorcall(pure, args, nargsf, kwnames);
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
    for (Py_ssize_t i = 0; i < sp_nstructs; i++) {
        for (Py_ssize_t j = 0; j < sp_structs[i].nfields; j++) {
            Py_XDECREF(sp_structs[i].fields[j].key);
            Py_XDECREF(sp_structs[i].fields[j].names);
        }
        PyMem_Free(sp_structs[i].fields);
    }
    PyMem_Free(sp_structs);
    PyMem_Free(sp_members);
    sp_structs = NULL;
    sp_members = NULL;
    sp_nstructs = sp_nmembers = 0;
}

/* configure(sp_structs, sp_members, sp_pure_split, sp_pure_decode, sp_default_max_frame)
 *   sp_structs: list (by struct index) of lists of fields in the order of the
 *            pure decoder's dict: (key, kind, byte, bit, ptr, sub, enum_names)
 *   sp_members: list by union tag of (kind, struct index) or None. */
static PyObject *configure(PyObject *self, PyObject *args)
{
    PyObject *slist, *mlist, *split, *decode;
    long long dmax;
    if (!PyArg_ParseTuple(args, "O!O!OOL", &PyList_Type, &slist, &PyList_Type, &mlist, &split, &decode, &dmax))
        return NULL;
    free_tables();
    sp_generation++;
    Py_ssize_t ns = PyList_GET_SIZE(slist), nm = PyList_GET_SIZE(mlist);
    sp_structs = PyMem_Calloc(ns ? ns : 1, sizeof *sp_structs);
    sp_members = PyMem_Calloc(nm ? nm : 1, sizeof *sp_members);
    if (sp_structs == NULL || sp_members == NULL) {
        free_tables();
        return PyErr_NoMemory();
    }
    sp_nstructs = ns;
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *fl = PyList_GET_ITEM(slist, i);
        if (!PyList_Check(fl))
            goto type_error;
        Py_ssize_t nf = PyList_GET_SIZE(fl);
        sp_structs[i].fields = PyMem_Calloc(nf ? nf : 1, sizeof(Field));
        if (sp_structs[i].fields == NULL) {
            free_tables();
            return PyErr_NoMemory();
        }
        sp_structs[i].nfields = nf;
        for (Py_ssize_t j = 0; j < nf; j++) {
            Field *f = &sp_structs[i].fields[j];
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
    sp_nmembers = nm;
    for (Py_ssize_t i = 0; i < nm; i++) {
        PyObject *m = PyList_GET_ITEM(mlist, i);
        PyObject *kind;
        int sub;
        if (m == Py_None) {
            sp_members[i].kind = M_NONE;
            continue;
        }
        if (!PyArg_ParseTuple(m, "Ui", &kind, &sub))
            goto fail;
        const char *k = PyUnicode_AsUTF8(kind);
        if (k == NULL)
            goto fail;
        if (strcmp(k, "struct") == 0 && sub >= 0 && sub < ns)
            sp_members[i].kind = M_STRUCT;
        else if (strcmp(k, "text") == 0)
            sp_members[i].kind = M_TEXT;
        else if (strcmp(k, "void") == 0)
            sp_members[i].kind = M_VOID;
        else
            goto type_error;
        sp_members[i].sub = sub;
    }
    Py_XSETREF(sp_pure_split, Py_NewRef(split));
    Py_XSETREF(sp_pure_decode, Py_NewRef(decode));
    sp_default_max_frame = dmax;
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
    {"configure_scope", configure_scope, METH_VARARGS, "Installs asgi_http_scope's constants and pure fallback."},
    {"asgi_http_scope", (PyCFunction)(void (*)(void))asgi_http_scope, METH_FASTCALL | METH_KEYWORDS,
     "asgi_http.pure_asgi_scope."},
    {"split_frames_http", (PyCFunction)(void (*)(void))split_frames_http, METH_FASTCALL | METH_KEYWORDS,
     "asgi_http.pure_split_frames_http."},
    {"configure_eager", configure_eager, METH_VARARGS, "Installs eager_start's task type and callbacks."},
    {"eager_start", (PyCFunction)(void (*)(void))eager_start, METH_FASTCALL | METH_KEYWORDS,
     "eager.pure_start."},
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
    sp_empty_str = PyUnicode_FromStringAndSize(NULL, 0);
    sp_empty_tuple = PyTuple_New(0);
    if (sp_empty_str == NULL || sp_empty_tuple == NULL || PyModule_AddIntConstant(m, "VERSION", SPEEDUPS_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
