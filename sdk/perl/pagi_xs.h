/* Shared declarations of the optional XS accelerator (Worker.xs,
 * pagi_decode.c, pagi_encode.c). The struct layouts are not compiled in: Codec.pm hands
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
#define PAGI_XS_API 1

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

#endif
