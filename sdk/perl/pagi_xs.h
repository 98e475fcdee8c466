/* Shared declarations of the optional XS accelerator (Worker.xs,
 * pagi_decode.c, pagi_send.c). The struct layouts are not compiled in: Codec.pm hands
 * them over at load time from the generated Layout.pm (pagi_layout_init), so
 * the C code cannot drift from protocol/pagi.capnp. */
#ifndef PAGI_XS_H
#define PAGI_XS_H

#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

/* Bumped whenever the Perl <-> C interface changes: XS.pm refuses a built
 * object of another version (a stale build) and the SDK runs pure. */
#define PAGI_XS_API 2

enum pagi_kind {
    PK_BOOL, PK_U8, PK_U16, PK_U32, PK_U64, PK_I8, PK_I16, PK_I32, PK_I64, PK_ENUM,
    PK_TEXT, PK_DATA, PK_LIST_DATA, PK_LIST_TEXT, PK_STRUCT, PK_VOID
};

typedef struct {
    char *key;            /* message hash key (after Codec's renames) */
    I32 klen;
    U32 hash;             /* precomputed PERL_HASH of key */
    int kind;
    U32 byte;             /* data fields: byte offset in the data section */
    int bit;              /* bools: bit within that byte */
    U32 ptr;              /* pointer fields: index in the pointer section */
    int n_enum;           /* enums: names, NULL for a hole */
    char **enum_names;
    STRLEN *enum_lens;
    int sub;              /* struct fields: index of the struct */
} pagi_field;

typedef struct {
    U32 dw, pc;           /* data words, pointer count */
    int nfields;          /* data fields first, then pointer fields (Codec's store order) */
    pagi_field *fields;
} pagi_struct;

enum { PM_NONE, PM_STRUCT, PM_TEXT, PM_DATA, PM_VOID };

typedef struct {
    int kind;
    char *name;
    STRLEN nlen;
    int sub;
} pagi_member;

typedef struct {
    int ready;
    int nstructs;
    pagi_struct *structs;
    int nmembers;         /* indexed by union tag */
    pagi_member *members;
    SV *fallback;         /* pure decode_frames, for inputs the C code does not take */
    GV *default_max;      /* $Codec::DEFAULT_MAX_FRAME_BYTES */
} pagi_layout;

extern pagi_layout pagi_L;

/* Decodes complete frames off the front of the scalar bufref designates
 * (the pure decode_frames' contract); pushes the messages onto the stack. */
void pagi_decode_frames(pTHX_ SV *bufsv, SV *max, AV *out);

/* Little-endian stores of the frames' fields. */
static inline void put_u32(U8 *p, U32 v) {
    p[0] = (U8)v;
    p[1] = (U8)(v >> 8);
    p[2] = (U8)(v >> 16);
    p[3] = (U8)(v >> 24);
}
static inline void put_u64(U8 *p, U64 v) {
    put_u32(p, (U32)v);
    put_u32(p + 4, (U32)(v >> 32));
}
static inline void put_u16(U8 *p, U16 v) {
    p[0] = (U8)v;
    p[1] = (U8)(v >> 8);
}

/* Segment table, root pointer, Envelope {scope, tag} and the pointer to the
 * member struct (dw data words, pc pointers) right after it: 40 bytes. */
static inline void frame_head(U8 *p, U32 words, U64 id, U16 tag, U32 dw, U32 pc) {
    memset(p, 0, 40);
    put_u32(p + 4, words);
    put_u32(p + 12, 65538);
    put_u64(p + 16, id);
    put_u16(p + 24, tag);
    put_u32(p + 36, dw | (pc << 16));
}

/* A plain scalar the C code may append bytes to. */
static inline int plain_target(pTHX_ SV *ref) {
    if (!SvROK(ref)) return 0;
    SV *sv = SvRV(ref);
    if (SvTYPE(sv) > SVt_PVMG || SvMAGICAL(sv) || SvREADONLY(sv) || SvROK(sv)) return 0;
    if (!SvOK(sv)) sv_setpvn(sv, "", 0);
    return SvPOK(sv) && !SvUTF8(sv);
}

/* pagi_send.c: appends an httpResponseBody frame (n body bytes at src) to
 * the plain byte-string scalar out. */
void pagi_body_frame(pTHX_ SV *out, U64 id, U16 tag, const char *src, STRLEN n, int more);

/* pagi_send.c: the http scope's plain body event in one call (HttpScope's
 * $send); 1 when it took the event, 0 for the Perl path. */
int pagi_http_body(pTHX_ SV *target, SV *ev, U16 tag);

/* The shared body ring (docs/protocol.md 3c), one per connection: the
 * mapping and the positions of the protocol (W and R). A Ring object
 * (PAGI::Gateway::Worker::XS::Ring, in the Wire's `ring`) owns one. */
typedef struct {
    U8 *base;
    U64 size;   /* S: welcome.bodyRingBytes */
    U64 w;      /* write position: the end of the last span */
    U64 r;      /* release position: the gateway's latest `through` */
    U64 touched; /* end of the highest offset written since the last trim */
} pagi_ring;

/* A ring the gateway emptied (R == W) keeps its first PAGI_RING_KEEP bytes
 * of memory and gives the rest back (Ring->trim, MADV_REMOVE) once it was
 * written past them and then left unused for a second (Worker.pm): a burst
 * of streaming holds ring memory only a little longer than it lasts. */
#define PAGI_RING_KEEP (1024 * 1024)

/* Empty (R == W) and holding memory past PAGI_RING_KEEP: Ring->trim would
 * give some back. */
#define PAGI_RING_TRIMMABLE(g) ((g)->r == (g)->w && (g)->touched > PAGI_RING_KEEP && (g)->size > PAGI_RING_KEEP)

/* Bodies below this many bytes stay inline: for them the ~88-byte span
 * frame and the copy into the ring save nothing worth the ring space. */
#define PAGI_RING_MIN 4096

/* pagi_send.c: the ring a Ring object reference holds, or NULL. */
pagi_ring *pagi_ring_of(pTHX_ SV *ref);

/* pagi_send.c: copies n body bytes into the ring and appends their span's
 * httpResponseBody frame to out when the protocol allows it (1); 0 (and
 * nothing changed): the caller sends the body inline. */
int pagi_ring_put(pTHX_ pagi_ring *g, SV *out, U64 id, U16 tag, const char *src, STRLEN n, int more);

#endif
