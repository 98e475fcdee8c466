/* PAGI::Gateway::Worker::XS -- the optional compiled accelerator of the
 * worker's wire codec (docs/perl.md "XS accelerator"). Loaded by XS.pm;
 * Codec.pm and FastFrames.pm use it when it loaded and fall back to their
 * pure-Perl code otherwise (or when PAGI_WORKER_PURE=1). It covers:
 *
 *   decode_frames(\$buf, $max)      every message type, table-driven from
 *                                   the Layout.pm tables Codec.pm hands over
 *   encode_body_into(\$buf, $id, $body, $more)       httpResponseBody
 *   start_frame / scope_end_ok_frame / headers       FastFrames' frames
 *   http_body($target, $ev)         HttpScope's plain body event (pagi_send.c)
 *   ring_map($fd, $size)            the shared body ring (docs/protocol.md 3c):
 *                                   a Ring object; dies saying why not
 *
 * Inputs the C code does not take (a tied or UTF-8 buffer, an unusual
 * header list, a cache miss) go to the pure function, so results and errors
 * are always the pure path's. Static tables: a worker has one interpreter
 * and never starts ithreads. */
#include "pagi_xs.h"
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <errno.h>

typedef struct {
    SV *pure_body;      /* Codec::pure_encode_body_into */
    U16 body_tag;
    int body_ready;     /* set by _init_codec */
    SV *pure_headers;   /* FastFrames::pure_headers */
    HV *headers_cache;  /* FastFrames' %HEADERS */
    U16 start_tag, end_tag;
    int ready;          /* set by _init_frames */
} frames_t;

static frames_t F;

static const char *const kind_names[] = {"bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
                                         "int64", "enum", "text", "data", "list_data", "list_text", "struct", "void"};

static int kind_code(pTHX_ const char *k) {
    for (int i = 0; i < (int)(sizeof kind_names / sizeof *kind_names); i++)
        if (strEQ(k, kind_names[i])) return i;
    Perl_croak(aTHX_ "pagi xs: unknown field kind %s", k);
    return -1;
}

static AV *av_arg(pTHX_ SV *sv, const char *what) {
    if (!sv || !SvROK(sv) || SvTYPE(SvRV(sv)) != SVt_PVAV) Perl_croak(aTHX_ "pagi xs: %s must be an array reference", what);
    return (AV *)SvRV(sv);
}

static SV *av_at(pTHX_ AV *av, SSize_t i) {
    SV **p = av_fetch(av, i, 0);
    return p ? *p : &PL_sv_undef;
}

static char *copy_pv(pTHX_ SV *sv, STRLEN *len) {
    STRLEN l;
    const char *p = SvPV(sv, l);
    if (len) *len = l;
    return savepvn(p, l);
}

/* Calls a pure-Perl function with the XSUB's own arguments and returns what
 * it returns (its results land where our arguments were). */
#define CALL_PURE(cv)                                                                                                  \
    STMT_START {                                                                                                       \
        if (!(cv)) Perl_croak(aTHX_ "pagi xs: not initialised");                                                       \
        PUSHMARK(MARK);                                                                                                \
        PL_stack_sp = MARK + items;                                                                                    \
        I32 count_ = call_sv((cv), GIMME_V);                                                                           \
        XSRETURN(count_);                                                                                              \
    }                                                                                                                  \
    STMT_END

MODULE = PAGI::Gateway::Worker    PACKAGE = PAGI::Gateway::Worker::XS

PROTOTYPES: DISABLE

IV
api_version()
  CODE:
    RETVAL = PAGI_XS_API;
  OUTPUT:
    RETVAL

void
_init_codec(SV *structs_ref, SV *members_ref, SV *fallback, SV *default_max_name, SV *pure_body, IV body_tag)
  PREINIT:
    AV *structs, *members;
    SSize_t i, j, k;
  CODE:
    structs = av_arg(aTHX_ structs_ref, "structs");
    members = av_arg(aTHX_ members_ref, "members");
    pagi_L.ready = 0;
    pagi_L.nstructs = (int)(av_len(structs) + 1);
    Newxz(pagi_L.structs, pagi_L.nstructs, pagi_struct);
    for (i = 0; i < pagi_L.nstructs; i++) {
        AV *s = av_arg(aTHX_ av_at(aTHX_ structs, i), "struct");
        AV *fields = av_arg(aTHX_ av_at(aTHX_ s, 2), "fields");
        pagi_struct *ps = &pagi_L.structs[i];
        ps->dw = (U32)SvUV(av_at(aTHX_ s, 0));
        ps->pc = (U32)SvUV(av_at(aTHX_ s, 1));
        ps->nfields = (int)(av_len(fields) + 1);
        Newxz(ps->fields, ps->nfields ? ps->nfields : 1, pagi_field);
        for (j = 0; j < ps->nfields; j++) {
            AV *f = av_arg(aTHX_ av_at(aTHX_ fields, j), "field");
            pagi_field *pf = &ps->fields[j];
            STRLEN klen;
            pf->key = copy_pv(aTHX_ av_at(aTHX_ f, 0), &klen);
            pf->klen = (I32)klen;
            PERL_HASH(pf->hash, pf->key, klen);
            pf->kind = kind_code(aTHX_ SvPV_nolen(av_at(aTHX_ f, 1)));
            pf->byte = (U32)SvUV(av_at(aTHX_ f, 2));
            pf->bit = (int)(SvUV(av_at(aTHX_ f, 3)) % 8);
            pf->ptr = (U32)SvUV(av_at(aTHX_ f, 4));
            if (pf->kind == PK_ENUM) {
                AV *names = av_arg(aTHX_ av_at(aTHX_ f, 5), "enum names");
                pf->n_enum = (int)(av_len(names) + 1);
                Newxz(pf->enum_names, pf->n_enum ? pf->n_enum : 1, char *);
                Newxz(pf->enum_lens, pf->n_enum ? pf->n_enum : 1, STRLEN);
                for (k = 0; k < pf->n_enum; k++) {
                    SV *name = av_at(aTHX_ names, k);
                    if (SvOK(name)) pf->enum_names[k] = copy_pv(aTHX_ name, &pf->enum_lens[k]);
                }
            }
            if (pf->kind == PK_STRUCT) {
                pf->sub = (int)SvIV(av_at(aTHX_ f, 6));
                if (pf->sub < 0 || pf->sub >= pagi_L.nstructs) Perl_croak(aTHX_ "pagi xs: bad struct index");
            }
        }
    }
    pagi_L.nmembers = (int)(av_len(members) + 1);
    Newxz(pagi_L.members, pagi_L.nmembers ? pagi_L.nmembers : 1, pagi_member);
    for (i = 0; i < pagi_L.nmembers; i++) {
        SV *msv = av_at(aTHX_ members, i);
        pagi_member *pm = &pagi_L.members[i];
        const char *kind;
        AV *m;
        if (!SvOK(msv)) continue;
        m = av_arg(aTHX_ msv, "member");
        pm->name = copy_pv(aTHX_ av_at(aTHX_ m, 0), &pm->nlen);
        kind = SvPV_nolen(av_at(aTHX_ m, 1));
        pm->kind = strEQ(kind, "struct") ? PM_STRUCT : strEQ(kind, "text") ? PM_TEXT : strEQ(kind, "data") ? PM_DATA
                 : strEQ(kind, "void") ? PM_VOID : PM_NONE;
        if (pm->kind == PM_NONE) Perl_croak(aTHX_ "pagi xs: unknown member kind %s", kind);
        if (pm->kind == PM_STRUCT) {
            pm->sub = (int)SvIV(av_at(aTHX_ m, 2));
            if (pm->sub < 0 || pm->sub >= pagi_L.nstructs) Perl_croak(aTHX_ "pagi xs: bad struct index");
        }
    }
    pagi_L.fallback = newSVsv(fallback);
    pagi_L.default_max = gv_fetchsv(default_max_name, GV_ADD, SVt_PV);
    pagi_L.ready = 1;
    F.pure_body = newSVsv(pure_body);
    F.body_tag = (U16)body_tag;
    F.body_ready = 1;

void
decode_frames(SV *bufref, SV *max = NULL)
  PREINIT:
    SV *sv;
    AV *out;
    SSize_t i, n;
  PPCODE:
    sv = SvROK(bufref) ? SvRV(bufref) : NULL;
    if (!pagi_L.ready || !sv || SvTYPE(sv) > SVt_PVMG || SvMAGICAL(sv) || SvREADONLY(sv) || !SvPOK(sv)
        || SvUTF8(sv) || SvROK(sv))
        CALL_PURE(pagi_L.fallback);
    out = (AV *)sv_2mortal((SV *)newAV());
    pagi_decode_frames(aTHX_ sv, max, out);
    n = av_len(out) + 1;
    if (GIMME_V != G_LIST) {
        mXPUSHi(n);
        XSRETURN(1);
    }
    EXTEND(SP, n);
    for (i = 0; i < n; i++) PUSHs(sv_2mortal(SvREFCNT_inc_simple_NN(AvARRAY(out)[i])));

void
_init_frames(SV *pure_headers, SV *cache, IV start_tag, IV end_tag)
  CODE:
    if (!SvROK(cache) || SvTYPE(SvRV(cache)) != SVt_PVHV) Perl_croak(aTHX_ "pagi xs: headers cache must be a hash reference");
    F.pure_headers = newSVsv(pure_headers);
    F.headers_cache = (HV *)SvREFCNT_inc(SvRV(cache));
    F.start_tag = (U16)start_tag;
    F.end_tag = (U16)end_tag;
    F.ready = 1;

void
encode_body_into(SV *bufref, SV *id, SV *body, SV *more)
  PREINIT:
    STRLEN n;
    const char *src;
  CODE:
    if (!F.body_ready || !plain_target(aTHX_ bufref) || SvMAGICAL(body) || SvROK(body) || SvRV(bufref) == body)
        CALL_PURE(F.pure_body);
    src = SvOK(body) ? SvPV(body, n) : (n = 0, "");
    if (n && SvUTF8(body)) {
        SV *copy = sv_2mortal(newSVpvn_flags(src, n, SVf_UTF8));
        if (!sv_utf8_downgrade(copy, TRUE)) Perl_croak(aTHX_ "pagi codec: wide character in body\n");
        src = SvPV(copy, n);
    }
    pagi_body_frame(aTHX_ SvRV(bufref), (U64)SvUV(id), F.body_tag, src, n, SvTRUE(more));
    XSRETURN_EMPTY;

SV *
start_frame(SV *id, SV *status, SV *trailers, SV *h)
  PREINIT:
    AV *hav;
    STRLEN blen = 0;
    const char *blob = "";
    U32 hi = 0;
    U8 *p;
  CODE:
    if (!F.ready || !SvROK(h) || SvTYPE(SvRV(h)) != SVt_PVAV) Perl_croak(aTHX_ "pagi xs: start_frame needs headers()");
    hav = (AV *)SvRV(h);
    if (av_len(hav) >= 0) {
        SV *b = av_at(aTHX_ hav, 1);
        hi = (U32)SvUV(av_at(aTHX_ hav, 0));
        if (SvOK(b)) blob = SvPV(b, blen);
    }
    RETVAL = newSV(56 + blen + 1);
    SvPOK_on(RETVAL);
    p = (U8 *)SvPVX(RETVAL);
    frame_head(p, (U32)(6 + (blen >> 3)), (U64)SvUV(id), F.start_tag, 1, 1);
    memset(p + 40, 0, 16);
    put_u16(p + 40, (U16)SvIV(status));
    p[42] = SvTRUE(trailers) ? 1 : 0;
    if (av_len(hav) >= 0) {
        put_u32(p + 48, 1);
        put_u32(p + 52, hi);
    }
    memcpy(p + 56, blob, blen);
    SvCUR_set(RETVAL, 56 + blen);
    p[56 + blen] = '\0';
  OUTPUT:
    RETVAL

SV *
scope_end_ok_frame(SV *id)
  PREINIT:
    U8 *p;
  CODE:
    if (!F.ready) Perl_croak(aTHX_ "pagi xs: frames not initialised");
    RETVAL = newSV(57);
    SvPOK_on(RETVAL);
    p = (U8 *)SvPVX(RETVAL);
    frame_head(p, 6, (U64)SvUV(id), F.end_tag, 1, 1);
    memset(p + 40, 0, 16);
    SvCUR_set(RETVAL, 56);
    p[56] = '\0';
  OUTPUT:
    RETVAL

void
headers(SV *list)
  PREINIT:
    AV *av;
    SSize_t n, i, j;
    SV *key;
    HE *he;
  PPCODE:
    /* The cache hit of FastFrames::headers: a list of [name, value] pairs of
     * plain byte strings without LF, joined as its cache key. Everything
     * else (and a miss, which validates and fills the cache) is pure. */
    if (!F.ready || !SvROK(list) || SvTYPE(SvRV(list)) != SVt_PVAV || SvOBJECT(SvRV(list)) || SvMAGICAL(SvRV(list)))
        CALL_PURE(F.pure_headers);
    av = (AV *)SvRV(list);
    n = av_len(av) + 1;
    key = sv_2mortal(newSV(64 + 32 * n));
    sv_setpvf(key, "%" IVdf, (IV)(2 * n));
    for (i = 0; i < n; i++) {
        SV *pair = av_at(aTHX_ av, i);
        AV *pav;
        if (!SvROK(pair) || SvTYPE(SvRV(pair)) != SVt_PVAV || SvOBJECT(SvRV(pair)) || SvMAGICAL(SvRV(pair)))
            CALL_PURE(F.pure_headers);
        pav = (AV *)SvRV(pair);
        if (av_len(pav) != 1) CALL_PURE(F.pure_headers);
        for (j = 0; j < 2; j++) {
            SV *e = av_at(aTHX_ pav, j);
            STRLEN el;
            const char *ep;
            if (SvMAGICAL(e) || !SvOK(e) || SvROK(e)) CALL_PURE(F.pure_headers);
            ep = SvPV(e, el);
            if (SvUTF8(e) || memchr(ep, '\n', el)) CALL_PURE(F.pure_headers);
            sv_catpvn(key, "\n", 1);
            sv_catpvn(key, ep, el);
        }
    }
    he = hv_fetch_ent(F.headers_cache, key, 0, 0);
    if (!he) CALL_PURE(F.pure_headers);
    ST(0) = sv_mortalcopy(HeVAL(he));
    XSRETURN(1);

SV *
pairs(SV *flat)
  PREINIT:
    AV *av, *out;
    SSize_t n, i;
  CODE:
    /* [a, b, c, d] -> [[a, b], [c, d]] (a trailing odd element is dropped):
     * the header pairs of ScopeBuilder::build. */
    if (!SvROK(flat) || SvTYPE(SvRV(flat)) != SVt_PVAV) Perl_croak(aTHX_ "Not an ARRAY reference");
    av = (AV *)SvRV(flat);
    n = (av_len(av) + 1) / 2;
    out = newAV();
    RETVAL = newRV_noinc((SV *)out);
    if (n) av_extend(out, n - 1);
    for (i = 0; i < n; i++) {
        AV *pair = newAV();
        av_extend(pair, 1);
        av_store(pair, 0, newSVsv(av_at(aTHX_ av, 2 * i)));
        av_store(pair, 1, newSVsv(av_at(aTHX_ av, 2 * i + 1)));
        av_store(out, i, newRV_noinc((SV *)pair));
    }
  OUTPUT:
    RETVAL

bool
http_body(SV *target, SV *ev)
  CODE:
    /* True when it took the event (pagi_send.c says which it takes); false:
     * the caller's Perl path handles it, nothing was changed. */
    RETVAL = F.body_ready && pagi_http_body(aTHX_ SvROK(target) ? target : NULL, ev, F.body_tag);
  OUTPUT:
    RETVAL

bool
sole_ref(SV *ref)
  CODE:
    /* True when ref is the only reference to what it points to: no other
     * strong reference (refcount 1) and no weak one (backref magic). The
     * http scope reuses its $send/$receive closures for the next scope only
     * then: nobody else can call them any more. */
    RETVAL = SvROK(ref) && SvREFCNT(SvRV(ref)) == 1
        && !(SvMAGICAL(SvRV(ref)) && mg_find(SvRV(ref), PERL_MAGIC_backref));
  OUTPUT:
    RETVAL

SV *
ring_map(IV fd, UV size)
  PREINIT:
    struct stat st;
    void *base;
    pagi_ring *g;
    int flags;
  CODE:
    /* Taken up only as docs/protocol.md 3c says: a descriptor of exactly
     * the announced size, mapped shared and writable, kept from the app's
     * child processes. */
    if (size == 0 || size > 0xffffffffUL) croak("no ring announced");
    if (fd < 0 || fd > INT_MAX || fstat((int)fd, &st) != 0)
        croak_sv(sv_2mortal(newSVpvf("fd %" IVdf ": %s", fd, strerror(errno))));
    if ((UV)st.st_size != size || st.st_size <= 0)
        croak_sv(sv_2mortal(newSVpvf("fd %" IVdf " has %" IVdf " bytes, the welcome announced %" UVuf, fd,
                                     (IV)st.st_size, size)));
    base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
    if (base == MAP_FAILED) croak_sv(sv_2mortal(newSVpvf("mmap of fd %" IVdf ": %s", fd, strerror(errno))));
    if ((flags = fcntl((int)fd, F_GETFD)) < 0 || fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
        int e = errno;
        munmap(base, (size_t)size);
        croak_sv(sv_2mortal(newSVpvf("fd %" IVdf ": close-on-exec: %s", fd, strerror(e))));
    }
    Newxz(g, 1, pagi_ring);
    g->base = (U8 *)base;
    g->size = (U64)size;
    RETVAL = sv_setref_pv(newSV(0), "PAGI::Gateway::Worker::XS::Ring", (void *)g);
  OUTPUT:
    RETVAL

MODULE = PAGI::Gateway::Worker    PACKAGE = PAGI::Gateway::Worker::XS::Ring

bool
release(SV *self, UV through)
  PREINIT:
    pagi_ring *g;
  CODE:
    /* R only grows, and never past W: a `through` beyond what was written
     * is not trusted to open the ring for overwriting spans in flight.
     * True when this emptied a ring that holds memory past its first
     * PAGI_RING_KEEP bytes: the worker then calls trim once the ring has
     * stayed unused for a while (freeing at every emptying would make a busy
     * ring fault its pages in again and again). */
    if (!(g = pagi_ring_of(aTHX_ self))) croak("not a body ring");
    if ((U64)through > g->w) through = (UV)g->w;
    if ((U64)through > g->r) g->r = (U64)through;
    RETVAL = PAGI_RING_TRIMMABLE(g);
  OUTPUT:
    RETVAL

bool
trim(SV *self)
  PREINIT:
    pagi_ring *g;
  CODE:
    /* Empty: the gateway reads none of it, and the next span starts at the
     * ring's beginning (pagi_ring_put), so the memory past the first
     * PAGI_RING_KEEP bytes can go back to the system (the file keeps its
     * size; the pages come back as zeros when written again). True when
     * it gave memory back. */
    if (!(g = pagi_ring_of(aTHX_ self))) croak("not a body ring");
    RETVAL = PAGI_RING_TRIMMABLE(g);
    if (RETVAL) {
        madvise(g->base + PAGI_RING_KEEP, (size_t)(g->size - PAGI_RING_KEEP), MADV_REMOVE);
        g->touched = PAGI_RING_KEEP;
    }
  OUTPUT:
    RETVAL

bool
put(SV *self, SV *bufref, UV id, SV *body, SV *more)
  PREINIT:
    const char *src;
    STRLEN n;
  CODE:
    /* The Perl body path (Wire::body_sender): true when the body went
     * through the ring; false, nothing done: send it inline. */
    RETVAL = 0;
    if (plain_target(aTHX_ bufref) && !SvMAGICAL(body) && !SvROK(body) && SvPOK(body) && !SvUTF8(body)
        && SvRV(bufref) != body && F.body_ready) {
        src = SvPV_nomg(body, n);
        RETVAL = pagi_ring_put(aTHX_ pagi_ring_of(aTHX_ self), SvRV(bufref), (U64)id, F.body_tag, src, n,
                               SvTRUE(more));
    }
  OUTPUT:
    RETVAL

UV
size(SV *self)
  ALIAS:
    write_pos = 1
    release_pos = 2
  PREINIT:
    pagi_ring *g;
  CODE:
    if (!(g = pagi_ring_of(aTHX_ self))) croak("not a body ring");
    RETVAL = (UV)(ix == 1 ? g->w : ix == 2 ? g->r : g->size);
  OUTPUT:
    RETVAL

void
DESTROY(SV *self)
  PREINIT:
    pagi_ring *g;
  CODE:
    if ((g = pagi_ring_of(aTHX_ self))) {
        munmap(g->base, (size_t)g->size);
        sv_setiv(SvRV(self), 0);
        Safefree(g);
    }
