/* Per-request helpers of the worker's hot path (docs/benchmarks.md,
 * "Python worker hello path, second pass"), each the twin of a pure Python
 * function that stays the reference and the fallback:
 *
 * - asgi_http_scope(m, state, drain): asgi_http.pure_asgi_scope, the ASGI
 *   http scope from a decoded `open` in one call (no Python frame, no
 *   intermediate zip/tuple objects). Anything it does not build itself (a
 *   missing key, an unexpected type, a TLS extension) goes to the pure
 *   function, which builds it or raises its own error.
 * - split_frames_http(b, pos, max, state, drain):
 *   asgi_http.pure_split_frames_http, split_frames with every http `open`
 *   decoded straight into that scope (its fields into an array, no dict);
 *   a frame that does not decode goes to the pure function as a whole.
 * - eager_start(loop, coro): eager.pure_start's common case: a first step
 *   that finishes, run with PyIter_Send, so no StopIteration (and no
 *   traceback) is made. Every other outcome goes to eager._after. */
#include "_speedups.h"

static struct {
    int ready;
    long long ext_early_hints, ext_tls;
    PyObject *asgi;            /* {'version': '3.0', 'spec_version': ...}, copied per scope */
    PyObject *pure;            /* asgi_http.pure_asgi_scope */
    PyObject *pure_split;      /* asgi_http.pure_split_frames_http */
    unsigned open_tag;         /* Envelope tag of `open` */
    unsigned long generation;  /* of the tables idx was found in; 0: not yet */
    int nidx;                  /* ScopeOpen's fields (-1: not a struct member we know) */
    int idx[64];               /* ScopeOpen field index by O_* / K_* below */
} sc;

static struct {
    int ready;
    PyTypeObject *task_type;   /* eager.EagerTask */
    PyObject *enter, *leave;   /* asyncio.tasks._enter_task / _leave_task */
    PyObject *after;           /* eager._after(kind, loop, coro, task, ctx, value) */
    PyObject *pure;            /* eager.pure_start: anything but (loop, coroutine) */
} eg;

/* Interned keys: those of the decoded `open` and those of the scope. */
enum {
    K_httpVersion, K_method, K_scheme, K_path, K_rawPath, K_queryString, K_rootPath, K_headers,
    K_clientHost, K_clientPort, K_serverHost, K_serverPort, K_serverIsUnix, K_extensions, K_tls,
    K_peerHost, K_peerPort, K_requestId,
    S_type, S_asgi, S_http_version, S_method, S_scheme, S_path, S_raw_path, S_query_string,
    S_root_path, S_headers, S_client, S_server, S_state, S_extensions, S_peer, S_http,
    S_trailers, S_pathsend, S_early_hint, S_gateway, S_request_id, S_drain,
    O_type, O_hasBody, O_more, O_body, O_expectContinue, NKEYS
};
_Static_assert(NKEYS <= 64, "sc.idx is indexed by these");
static const char *const key_names[NKEYS] = {
    "httpVersion", "method", "scheme", "path", "rawPath", "queryString", "rootPath", "headers",
    "clientHost", "clientPort", "serverHost", "serverPort", "serverIsUnix", "extensions", "tls",
    "peerHost", "peerPort", "requestId",
    "type", "asgi", "http_version", "method", "scheme", "path", "raw_path", "query_string",
    "root_path", "headers", "client", "server", "state", "extensions", "pagi.peer", "http",
    "http.response.trailers", "http.response.pathsend", "http.response.early_hint", "pagi.gateway",
    "request_id", "drain",
    "type", "hasBody", "more", "body", "expectContinue",
};
static PyObject *keys[NKEYS];

static int intern_keys(void)
{
    for (int i = 0; i < NKEYS; i++)
        if (keys[i] == NULL && (keys[i] = PyUnicode_InternFromString(key_names[i])) == NULL)
            return -1;
    return 0;
}

/* configure_scope(ext_early_hints, ext_tls, asgi_dict, pure_asgi_scope,
 *                 open_tag, pure_split_frames_http) */
PyObject *configure_scope(PyObject *self, PyObject *args)
{
    long long eh, tls;
    unsigned open_tag;
    PyObject *asgi, *pure, *pure_split;
    if (!PyArg_ParseTuple(args, "LLO!OIO", &eh, &tls, &PyDict_Type, &asgi, &pure, &open_tag, &pure_split) ||
        intern_keys() < 0)
        return NULL;
    sc.open_tag = open_tag;
    sc.generation = 0;
    Py_XSETREF(sc.pure_split, Py_NewRef(pure_split));
    sc.ext_early_hints = eh;
    sc.ext_tls = tls;
    Py_XSETREF(sc.asgi, Py_NewRef(asgi));
    Py_XSETREF(sc.pure, Py_NewRef(pure));
    sc.ready = 1;
    Py_RETURN_NONE;
}

/* d[key] = v, taking v's reference; -1 when v is NULL or the set fails. */
static int put(PyObject *d, PyObject *key, PyObject *v)
{
    if (v == NULL)
        return -1;
    int rc = PyDict_SetItem(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* list(zip(it, it)) over a flat list: (name, value) pairs, an odd tail dropped. */
static PyObject *header_pairs(PyObject *flat)
{
    Py_ssize_t n = PyList_GET_SIZE(flat) / 2;
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_Pack(2, PyList_GET_ITEM(flat, 2 * i), PyList_GET_ITEM(flat, 2 * i + 1));
        if (t == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, t);
    }
    return out;
}

/* The scope from the open's fields f (borrowed, by K_*), or NULL with no
 * error set: "let the pure function do it". */
static PyObject *build_from(PyObject *const *f, PyObject *state, PyObject *drain)
{
    PyObject *bits_o = f[K_extensions];
    if (!PyList_CheckExact(f[K_headers]) || !PyLong_CheckExact(bits_o))
        return NULL;
    long long bits = PyLong_AsLongLong(bits_o);
    if (bits == -1 && PyErr_Occurred())
        return NULL;
    if ((bits & sc.ext_tls) && f[K_tls] != Py_None)
        return NULL;            /* rare: the pure function builds the tls dict */
    int has_client = PyObject_IsTrue(f[K_clientHost]);
    int unix_server = PyObject_IsTrue(f[K_serverIsUnix]);
    int has_peer = PyObject_IsTrue(f[K_peerHost]);
    if (has_client < 0 || unix_server < 0 || has_peer < 0)
        return NULL;

    PyObject *ext = _PyDict_NewPresized(4);
    if (ext == NULL || put(ext, keys[S_trailers], PyDict_New()) < 0 ||
        put(ext, keys[S_pathsend], PyDict_New()) < 0 ||
        ((bits & sc.ext_early_hints) && put(ext, keys[S_early_hint], PyDict_New()) < 0))
        goto fail_ext;
    PyObject *gw = _PyDict_NewPresized(2);
    if (gw == NULL || PyDict_SetItem(gw, keys[S_request_id], f[K_requestId]) < 0 ||
        PyDict_SetItem(gw, keys[S_drain], drain) < 0) {
        Py_XDECREF(gw);
        goto fail_ext;
    }
    if (put(ext, keys[S_gateway], gw) < 0)
        goto fail_ext;

    PyObject *s = _PyDict_NewPresized(15);
    if (s == NULL)
        goto fail_ext;
    PyObject *client = Py_None;
    if (has_client)
        client = PyTuple_Pack(2, f[K_clientHost], f[K_clientPort]);
    else
        Py_INCREF(client);
    /* Key order as pure_asgi_scope's dict display. */
    if (PyDict_SetItem(s, keys[S_type], keys[S_http]) < 0 || put(s, keys[S_asgi], PyDict_Copy(sc.asgi)) < 0 ||
        PyDict_SetItem(s, keys[S_http_version], f[K_httpVersion]) < 0 ||
        PyDict_SetItem(s, keys[S_method], f[K_method]) < 0 || PyDict_SetItem(s, keys[S_scheme], f[K_scheme]) < 0 ||
        PyDict_SetItem(s, keys[S_path], f[K_path]) < 0 || PyDict_SetItem(s, keys[S_raw_path], f[K_rawPath]) < 0 ||
        PyDict_SetItem(s, keys[S_query_string], f[K_queryString]) < 0 ||
        PyDict_SetItem(s, keys[S_root_path], f[K_rootPath]) < 0 ||
        put(s, keys[S_headers], header_pairs(f[K_headers])) < 0 || put(s, keys[S_client], client) < 0 ||
        put(s, keys[S_server], PyTuple_Pack(2, f[K_serverHost], unix_server ? Py_None : f[K_serverPort])) < 0 ||
        put(s, keys[S_state], PyDict_Copy(state)) < 0 || PyDict_SetItem(s, keys[S_extensions], ext) < 0 ||
        (has_peer && put(s, keys[S_peer], PyTuple_Pack(2, f[K_peerHost], f[K_peerPort])) < 0)) {
        Py_DECREF(s);
        goto fail_ext;
    }
    Py_DECREF(ext);
    return s;
fail_ext:
    Py_XDECREF(ext);
    PyErr_Clear();
    return NULL;
}

static PyObject *build(PyObject *m, PyObject *state, PyObject *drain)
{
    PyObject *f[K_requestId + 1];
    for (int i = 0; i <= K_requestId; i++)
        if ((f[i] = PyDict_GetItemWithError(m, keys[i])) == NULL)
            return NULL;        /* missing: the pure function raises KeyError */
    return build_from(f, state, drain);
}

/* asgi_http_scope(m, state, drain) as asgi_http.pure_asgi_scope. */
PyObject *asgi_http_scope(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *s = NULL;
    if (sc.ready && kwnames == NULL && nargs == 3 && PyDict_CheckExact(args[0]) && PyDict_CheckExact(args[1]))
        s = build(args[0], args[1], args[2]);
    return s != NULL ? s : sp_fallback(sc.pure, args, nargs, kwnames);
}

/* --- `open` straight into the scope ---------------------------------------- */

/* Finds ScopeOpen's fields in the current tables (once per configure()). */
static int open_fields(void)
{
    if (sc.generation == sp_generation)
        return sc.nidx;
    sc.generation = sp_generation;
    sc.nidx = -1;
    if (sc.open_tag >= (unsigned)sp_nmembers || sp_members[sc.open_tag].kind != M_STRUCT)
        return -1;
    const Struct *S = &sp_structs[sp_members[sc.open_tag].sub];
    if (S->nfields > SP_MAX_FIELDS)
        return -1;
    for (int k = 0; k <= O_expectContinue; k++) {
        if (k > K_requestId && k < O_type)
            continue;
        sc.idx[k] = -1;
        for (Py_ssize_t i = 0; i < S->nfields; i++)
            if (PyUnicode_Compare(S->fields[i].key, keys[k]) == 0)
                sc.idx[k] = (int)i;
        if (sc.idx[k] < 0)
            return -1;          /* a schema without it: plain dicts */
    }
    sc.nidx = (int)S->nfields;
    return sc.nidx;
}

#define F(k) vals[sc.idx[k]]

/* (scope, body or None, more, expectContinue) for an http `open` (body:
 * the first http.request's, None without one), the plain dict for the
 * others (as split_frames gives them). */
PyObject *sp_open_payload(const Seg *g, int64_t pp, int32_t lo, uint32_t hi, const OpenCtx *oc)
{
    const Struct *S = &sp_structs[sp_members[oc->tag].sub];
    PyObject *vals[SP_MAX_FIELDS];
    if (sp_dec_values(g, S, pp, lo, hi, vals) < 0)
        return NULL;
    PyObject *t = F(O_type);    /* an enum name, or an int for an unknown value */
    if (t != keys[S_http] && !(PyUnicode_CheckExact(t) && PyUnicode_Compare(t, keys[S_http]) == 0))
        return sp_values_dict(S, vals);     /* websocket, sse, lifespan: as split_frames */
    PyObject *f[K_requestId + 1];
    for (int k = 0; k <= K_requestId; k++)
        f[k] = F(k);
    PyObject *scope = build_from(f, oc->state, oc->drain);
    if (scope == NULL) {
        /* The TLS extension (or no memory): the pure builder, on the whole dict. */
        PyObject *m = sp_dec_struct(g, S, pp, lo, hi);
        if (m != NULL) {
            PyObject *a[3] = {m, oc->state, oc->drain};
            scope = PyObject_Vectorcall(sc.pure, a, 3, NULL);
            Py_DECREF(m);
        }
    }
    PyObject *r = NULL;
    int has_body = PyObject_IsTrue(F(O_hasBody));
    if (scope != NULL && has_body >= 0)
        r = PyTuple_Pack(4, scope, has_body ? F(O_body) : Py_None, F(O_more), F(O_expectContinue));
    Py_XDECREF(scope);
    for (Py_ssize_t i = 0; i < S->nfields; i++)
        Py_DECREF(vals[i]);
    return r;
}

#undef F

/* split_frames_http(b, pos, max_frame_bytes, state, drain) as
 * asgi_http.pure_split_frames_http: split_frames, with every http `open`
 * as (ASGI scope, body or None, more, expectContinue). */
PyObject *split_frames_http(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    OpenCtx oc = {sc.open_tag, NULL, NULL, nargs};
    if (!sc.ready || kwnames != NULL || nargs != 5 || !PyDict_CheckExact(args[3]) || open_fields() < 0)
        return sp_fallback(sc.pure_split, args, nargs, kwnames);
    oc.state = args[3];
    oc.drain = args[4];
    return sp_split(args, 3, NULL, &oc, sc.pure_split);
}

/* --- the eager first step ------------------------------------------------------ */

/* What eager._after is told (eager.py names them too). */
enum { E_NESTED, E_RETURNED, E_RAISED, E_SUSPENDED };

/* configure_eager(EagerTask, _enter_task, _leave_task, _after, pure_start) */
PyObject *configure_eager(PyObject *self, PyObject *args)
{
    PyObject *type, *enter, *leave, *after, *pure;
    if (!PyArg_ParseTuple(args, "O!OOOO", &PyType_Type, &type, &enter, &leave, &after, &pure))
        return NULL;
    Py_XSETREF(eg.pure, Py_NewRef(pure));
    Py_XSETREF(eg.task_type, (PyTypeObject *)Py_NewRef(type));
    Py_XSETREF(eg.enter, Py_NewRef(enter));
    Py_XSETREF(eg.leave, Py_NewRef(leave));
    Py_XSETREF(eg.after, Py_NewRef(after));
    eg.ready = 1;
    Py_RETURN_NONE;
}

static PyObject *call2(PyObject *fn, PyObject *a, PyObject *b)
{
    PyObject *args[2] = {a, b};
    return PyObject_Vectorcall(fn, args, 2, NULL);
}

/* eager._after(kind, loop, coro, task, ctx, value), taking value's reference. */
static PyObject *after(int kind, PyObject *loop, PyObject *coro, PyObject *task, PyObject *ctx, PyObject *value)
{
    PyObject *k = PyLong_FromLong(kind);
    if (k == NULL) {
        Py_XDECREF(value);
        return NULL;
    }
    PyObject *args[6] = {k, loop, coro, task, ctx, value ? value : Py_None};
    PyObject *r = PyObject_Vectorcall(eg.after, args, 6, NULL);
    Py_DECREF(k);
    Py_XDECREF(value);
    return r;
}

/* eager_start(loop, coro): eager.pure_start. The first step runs in a copy
 * of the context with the (not yet initialised) task as current_task();
 * a step that finishes with nobody keeping the task costs nothing more. */
PyObject *eager_start(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (!eg.ready || kwnames != NULL || nargs != 2 || !PyCoro_CheckExact(args[1]))
        return sp_fallback(eg.pure, args, nargs, kwnames);
    PyObject *loop = args[0], *coro = args[1], *r = NULL;
    PyObject *ctx = PyContext_CopyCurrent();
    if (ctx == NULL)
        return NULL;
    PyObject *task = eg.task_type->tp_new(eg.task_type, sp_empty_tuple, NULL);
    if (task == NULL)
        goto out;
    PyObject *ok = call2(eg.enter, loop, task);
    if (ok == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_RuntimeError))
            goto out;
        PyErr_Clear();          /* inside a running task: a plain Task */
        r = after(E_NESTED, loop, coro, task, ctx, NULL);
        goto out;
    }
    Py_DECREF(ok);
    PyObject *value = NULL;
    PySendResult sent = PYGEN_ERROR;
    if (PyContext_Enter(ctx) == 0) {
        sent = PyIter_Send(coro, Py_None, &value);
        if (PyContext_Exit(ctx) < 0) {
            Py_XDECREF(value);
            value = NULL;
            sent = PYGEN_ERROR;
        }
    }
    PyObject *et = NULL, *ev = NULL, *etb = NULL;
    if (sent == PYGEN_ERROR) {
        PyErr_Fetch(&et, &ev, &etb);
        PyErr_NormalizeException(&et, &ev, &etb);
        if (etb != NULL && ev != NULL)
            PyException_SetTraceback(ev, etb);
    }
    ok = call2(eg.leave, loop, task);
    if (ok == NULL) {
        Py_XDECREF(value);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(etb);
        goto out;
    }
    Py_DECREF(ok);
    if (sent == PYGEN_RETURN) {
        if (Py_REFCNT(task) > 1) /* kept by someone: a Task that ends with value */
            r = after(E_RETURNED, loop, coro, task, ctx, value);
        else {
            Py_DECREF(value);
            Py_INCREF(Py_None);
            r = Py_None;
        }
    } else if (sent == PYGEN_NEXT) {
        r = after(E_SUSPENDED, loop, coro, task, ctx, value);
    } else {
        Py_XDECREF(et);
        Py_XDECREF(etb);
        if (ev == NULL) {       /* no exception object: nothing sane to replay */
            PyErr_SetString(PyExc_SystemError, "eager_start: the first step failed without an exception");
            goto out;
        }
        r = after(E_RAISED, loop, coro, task, ctx, ev);
    }
out:
    Py_XDECREF(task);
    Py_DECREF(ctx);
    return r;
}
