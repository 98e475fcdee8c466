/* Shared by the C accelerator of pagi_worker.codec: _speedups.c (module,
 * configuration), _speedups_decode.c, _speedups_encode.c, _speedups_scope.c. */
#ifndef PAGI_SPEEDUPS_H
#define PAGI_SPEEDUPS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Bump when the behaviour changes; _accel.py refuses a stale build. */
#define SPEEDUPS_VERSION 5

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
    int sub;           /* K_STRUCT: index into sp_structs */
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

/* The layout tables and pure fallbacks (_speedups.c, configure()). */
extern Struct *sp_structs;
extern Py_ssize_t sp_nstructs;
extern Member *sp_members;
extern Py_ssize_t sp_nmembers;
extern unsigned long sp_generation;  /* bumped by every configure() */
extern PyObject *sp_pure_split;     /* codec's pure split_frames */
extern PyObject *sp_pure_decode;    /* codec's pure decode_message */
extern long long sp_default_max_frame;
extern PyObject *sp_empty_str;
extern PyObject *sp_empty_tuple;

/* Encoders: constants from codec.py (configure_encoders) and its pure
 * functions, which take every argument these do not. */
typedef struct {
    int ready;
    uint64_t root_ptr, body_eptr, start_eptr, se_eptr;
    unsigned t_body, t_start, t_scope_end;
    PyObject *se_block;                 /* the clean scopeEnd's struct (bytes) */
    PyObject *pure_body, *pure_start_block, *pure_scope_end;
} Encoders;
extern Encoders sp_enc;

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

/* One message's segment: bytes [ss, se) of p. */
typedef struct {
    const uint8_t *p;
    int64_t ss, se;
} Seg;

/* split_frames_http's context: `open` (union tag `tag`) of type http
 * becomes a ready ASGI scope (_speedups_scope.c). */
typedef struct {
    unsigned tag;
    PyObject *state, *drain;
    Py_ssize_t nargs;           /* the caller's, for the pure fallback */
} OpenCtx;

/* Structs with up to this many fields decode through a stack array. */
#define SP_MAX_FIELDS 32

/* _speedups_decode.c */
int sp_dec_values(const Seg *g, const Struct *S, int64_t pp, int32_t lo, uint32_t hi, PyObject **vals);
PyObject *sp_values_dict(const Struct *S, PyObject **vals);
PyObject *sp_dec_struct(const Seg *g, const Struct *S, int64_t pp, int32_t lo, uint32_t hi);
PyObject *sp_split(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const OpenCtx *oc, PyObject *pure);
/* _speedups_scope.c: the payload of an `open` under split_frames_http. */
PyObject *sp_open_payload(const Seg *g, int64_t pp, int32_t lo, uint32_t hi, const OpenCtx *oc);

/* Anything this module does not decode or encode goes to the pure
 * function, which raises the codec's own error (or does it). */
PyObject *sp_fallback(PyObject *pure, PyObject *const *args, size_t nargsf, PyObject *kwnames);

PyObject *split_frames(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *decode_message(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *encode_body(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *encode_start_block(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *encode_scope_end(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *configure_encoders(PyObject *self, PyObject *args);
/* _speedups_scope.c: the ASGI scope builder and the eager first step. */
PyObject *configure_scope(PyObject *self, PyObject *args);
PyObject *asgi_http_scope(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *split_frames_http(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *configure_eager(PyObject *self, PyObject *args);
PyObject *eager_start(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

#endif
