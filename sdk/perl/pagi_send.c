/* The http scope's streamed-body hot path in C (XS::http_body, called first
 * by HttpScope's $send closure): a plain `http.response.body` event of a
 * started response that fits the send window is checked, encoded straight
 * into the Wire's output buffer and counted in flight in one call, instead
 * of the closure, _send_body, the Wire's body_sender and encode_body_into
 * (four sub calls and ~20 Perl hash lookups per event).
 *
 * It takes only what HttpScope::_send_body would send at once without any
 * other side effect, and changes exactly what that does; everything else
 * returns 0 before touching anything and the Perl path runs unchanged:
 * not a plain hash, another type, a `file`/`fh`/`offset`/`length`, a
 * reference, magical or UTF-8 body, not started or already complete, a
 * chunk over max_chunk or the window, sends waiting for credit, a chunk
 * that reaches the transport's high-water mark while the app has
 * on_high_water callbacks (they are Perl's),
 * no wire in the context or no flush queued on it (Wire::_schedule is
 * Perl's). The no-op after the client left or the response finished
 * (conn->{finished}) is taken here too, as the closure's first check.
 *
 * With a shared body ring (the Wire's `ring`, docs/protocol.md 3c) a body
 * of PAGI_RING_MIN bytes or more is copied into the ring and only its span
 * is encoded; flow control is the same either way. */
#include "pagi_xs.h"

enum {
    K_TYPE, K_BODY, K_MORE, K_FILE, K_FH, K_OFFSET, K_LENGTH,           /* the event */
    K_CONN, K_FINISHED, K_STARTED, K_COMPLETE, K_PENDING, K_IN_FLIGHT, /* the scope and its conn */
    K_WINDOW, K_MAX_CHUNK, K_TRAILERS, K_BODY_DONE, K_ID, K_CTX,
    K_TRANSPORT, K_BUFFERED, K_ABOVE, K_HIGH, K_ON_HIGH,               /* pagi.transport */
    K_WIRE, K_OUT, K_FLUSH_QUEUED, K_RING,                             /* ctx->{wire} */
    K_COUNT
};
static const char *const key_names[K_COUNT] = {
    "type", "body", "more", "file", "fh", "offset", "length",
    "conn", "finished", "started", "complete", "pending", "in_flight",
    "window", "max_chunk", "trailers", "body_done", "id", "ctx",
    "transport", "buffered", "above", "high", "on_high",
    "wire", "out", "flush_queued", "ring",
};
/* Shared-string keys with their hashes computed once: a lookup is then a
 * bucket walk with pointer compares. One interpreter per worker (see Worker.xs). */
static SV *keys[K_COUNT];

static void init_keys(pTHX) {
    for (int i = 0; i < K_COUNT; i++) keys[i] = newSVpvn_share(key_names[i], (I32)strlen(key_names[i]), 0);
}

/* hv_fetch_ent's walk without its generality (~20 lookups per event): an
 * ordinary hash stores its keys as shared strings, so the key's HEK is
 * found by pointer. Other hashes (not sharing keys) go through the API. */
static SV *get(pTHX_ HV *hv, int k) {
    SV *key = keys[k];
    if (!HvSHAREKEYS(hv)) {
        HE *he = hv_fetch_ent(hv, key, 0, SvSHARED_HASH(key));
        return he ? HeVAL(he) : NULL;
    }
    if (!HvARRAY(hv)) return NULL;
    HEK *hek = SvSHARED_HEK_FROM_PV(SvPVX_const(key));
    for (HE *he = HvARRAY(hv)[HEK_HASH(hek) & HvMAX(hv)]; he; he = HeNEXT(he))
        if (HeKEY_hek(he) == hek) return HeVAL(he) == &PL_sv_placeholder ? NULL : HeVAL(he);
    return NULL;
}

static void set_iv(pTHX_ HV *hv, int k, IV v) {
    HE *he = hv_fetch_ent(hv, keys[k], 1, SvSHARED_HASH(keys[k]));
    sv_setiv(HeVAL(he), v);
}

/* The untied hash behind a reference; the event must also be unblessed
 * (`ref $ev eq 'HASH'`), the SDK's own objects are blessed hashes. */
static HV *hash_of(SV *ref, int blessed_ok) {
    if (!ref || !SvROK(ref)) return NULL;
    SV *sv = SvRV(ref);
    return SvTYPE(sv) == SVt_PVHV && (blessed_ok || !SvOBJECT(sv)) && !SvRMAGICAL(sv) ? (HV *)sv : NULL;
}

/* Perl truth of a hash value; magic (never set by the SDK) counts as true
 * so that callers decline. */
static int truthy(pTHX_ SV *sv) {
    if (!sv) return 0;
    if (SvGMAGICAL(sv)) return 1;
    return SvTRUE_nomg(sv);
}

static int absent(pTHX_ SV *sv) { return !sv || (!SvGMAGICAL(sv) && !SvOK(sv)); }

static IV num(pTHX_ SV *sv) { return sv && SvOK(sv) ? SvIV_nomg(sv) : 0; }

void pagi_body_frame(pTHX_ SV *out, U64 id, U16 tag, const char *src, STRLEN n, int more) {
    STRLEN pad = (8 - (n & 7)) & 7, cur;
    U8 *p;
    (void)SvPV_force_nolen(out); /* a copy-on-write buffer gets its own */
    cur = SvCUR(out);
    p = (U8 *)SvGROW(out, cur + 88 + n + pad + 1) + cur;
    frame_head(p, (U32)(10 + ((n + pad) >> 3)), id, tag, 4, 2);
    memset(p + 40, 0, 48);
    p[40] = more ? 1 : 0;
    if (n) {
        put_u32(p + 72, 5);
        put_u32(p + 76, (U32)((n << 3) | 2));
        memcpy(p + 88, src, n);
        memset(p + 88 + n, 0, pad);
    }
    SvCUR_set(out, cur + 88 + n + pad);
    *SvEND(out) = '\0';
    (void)SvPOK_only(out);
}

static HV *ring_stash;

pagi_ring *pagi_ring_of(pTHX_ SV *ref) {
    SV *sv;
    if (!ref || !SvROK(ref)) return NULL;
    sv = SvRV(ref);
    if (!ring_stash) ring_stash = gv_stashpvs("PAGI::Gateway::Worker::XS::Ring", GV_ADD);
    if (!SvOBJECT(sv) || SvSTASH(sv) != ring_stash || !SvIOK(sv)) return NULL;
    return INT2PTR(pagi_ring *, SvIVX(sv));
}

/* A span's frame: httpResponseBody {more, ringPosition, ringLength}, no
 * pointers set (body and file empty). */
static void ring_frame(pTHX_ SV *out, U64 id, U16 tag, U64 pos, U32 n, int more) {
    STRLEN cur;
    U8 *p;
    (void)SvPV_force_nolen(out);
    cur = SvCUR(out);
    p = (U8 *)SvGROW(out, cur + 88 + 1) + cur;
    frame_head(p, 10, id, tag, 4, 2);
    memset(p + 40, 0, 48);
    p[40] = more ? 1 : 0;
    put_u32(p + 44, n);   /* ringLength */
    put_u64(p + 64, pos); /* ringPosition */
    SvCUR_set(out, cur + 88);
    *SvEND(out) = '\0';
    (void)SvPOK_only(out);
}

int pagi_ring_put(pTHX_ pagi_ring *g, SV *out, U64 id, U16 tag, const char *src, STRLEN n, int more) {
    U64 start, off, r;
    if (!g || n < PAGI_RING_MIN || (U64)n > g->size) return 0;
    /* A span never wraps: one that would cross the end starts at the next
     * turn of the ring; it must not reach bytes the gateway still holds.
     * With nothing held (R == W) a body that fits before W's offset starts
     * the next turn at once: light traffic keeps reusing the ring's first
     * pages instead of touching all of it. */
    off = g->w % g->size;
    start = off + n <= g->size && !(g->r == g->w && n <= off) ? g->w : g->w - off + g->size;
    /* Emptied, nothing is held in the skipped bytes either: R moves along,
     * or they would count as held until the gateway released a span past
     * them (half the ring, on average). */
    r = g->r == g->w ? start : g->r;
    if (start + n > r + g->size) return 0;
    g->r = r;
    memcpy(g->base + start % g->size, src, n);
    if (start % g->size + n > g->touched) g->touched = start % g->size + n;
    g->w = start + n;
    ring_frame(aTHX_ out, id, tag, start, (U32)n, more);
    return 1;
}

int pagi_http_body(pTHX_ SV *target, SV *evref, U16 tag) {
    HV *self, *conn, *ev, *tr, *ctx, *wire;
    SV *type, *body, *more, *outref, *id;
    const char *src = "";
    STRLEN n = 0, tlen;
    const char *t;
    IV in_flight;
    int found = 1, last, crossing = 0;

    if (!keys[0]) init_keys(aTHX);
    if (!(self = hash_of(target, 1)) || !(conn = hash_of(get(aTHX_ self, K_CONN), 1))) return 0;
    if (truthy(aTHX_ get(aTHX_ conn, K_FINISHED))) return 1; /* sends after the end are no-ops */
    if (!(ev = hash_of(evref, 0))) return 0;
    type = get(aTHX_ ev, K_TYPE);
    if (!type || SvGMAGICAL(type) || !SvPOK(type)) return 0;
    t = SvPV_nomg(type, tlen);
    if (tlen != 18 || memNE(t, "http.response.body", 18)) return 0;
    if (!truthy(aTHX_ get(aTHX_ self, K_STARTED)) || truthy(aTHX_ get(aTHX_ self, K_COMPLETE))
        || truthy(aTHX_ get(aTHX_ self, K_PENDING)))
        return 0;
    body = get(aTHX_ ev, K_BODY);
    more = get(aTHX_ ev, K_MORE);
    found += (body != NULL) + (more != NULL);
    /* Only type, body and more: none of the keys that select another path. */
    if ((IV)HvUSEDKEYS(ev) != found
        && !(absent(aTHX_ get(aTHX_ ev, K_FILE)) && absent(aTHX_ get(aTHX_ ev, K_FH))
             && absent(aTHX_ get(aTHX_ ev, K_OFFSET)) && absent(aTHX_ get(aTHX_ ev, K_LENGTH))))
        return 0;
    if (body) {
        if (SvGMAGICAL(body) || SvROK(body) || SvUTF8(body)) return 0;
        if (SvOK(body)) src = SvPV_nomg(body, n);
    }
    if (more && SvGMAGICAL(more)) return 0;
    last = !(more && SvTRUE_nomg(more));
    in_flight = num(aTHX_ get(aTHX_ self, K_IN_FLIGHT));
    if ((IV)n > num(aTHX_ get(aTHX_ self, K_MAX_CHUNK))) return 0;
    if (in_flight && in_flight + (IV)n > num(aTHX_ get(aTHX_ self, K_WINDOW))) return 0;
    if (!(tr = hash_of(get(aTHX_ self, K_TRANSPORT), 1))) return 0;
    /* Reaching the high-water mark: Transport::_set_buffered sets `above`
     * and calls the app's on_high_water callbacks; without any, only the flag. */
    if (n && !truthy(aTHX_ get(aTHX_ tr, K_ABOVE)) && in_flight + (IV)n >= num(aTHX_ get(aTHX_ tr, K_HIGH))) {
        SV *cbs = get(aTHX_ tr, K_ON_HIGH);
        if (cbs && !(SvROK(cbs) && SvTYPE(SvRV(cbs)) == SVt_PVAV && !SvRMAGICAL(SvRV(cbs)) && AvFILLp((AV *)SvRV(cbs)) < 0))
            return 0;
        crossing = 1;
    }
    if (!(ctx = hash_of(get(aTHX_ self, K_CTX), 1)) || !(wire = hash_of(get(aTHX_ ctx, K_WIRE), 1))) return 0;
    if (!truthy(aTHX_ get(aTHX_ wire, K_FLUSH_QUEUED))) return 0;
    outref = get(aTHX_ wire, K_OUT);
    if (!outref || !plain_target(aTHX_ outref) || SvRV(outref) == body) return 0;
    if (!(id = get(aTHX_ self, K_ID)) || SvGMAGICAL(id)) return 0;

    /* Taken: what _send_body does for it. */
    if (last) {
        set_iv(aTHX_ self, K_BODY_DONE, 1);
        if (!truthy(aTHX_ get(aTHX_ self, K_TRAILERS))) {
            set_iv(aTHX_ self, K_COMPLETE, 1); /* _set_complete */
            set_iv(aTHX_ conn, K_COMPLETE, 1);
        }
    }
    if (n < PAGI_RING_MIN
        || !pagi_ring_put(aTHX_ pagi_ring_of(aTHX_ get(aTHX_ wire, K_RING)), SvRV(outref), (U64)SvUV_nomg(id), tag,
                          src, n, !last))
        pagi_body_frame(aTHX_ SvRV(outref), (U64)SvUV_nomg(id), tag, src, n, !last);
    if (n) {
        in_flight += (IV)n;
        set_iv(aTHX_ self, K_IN_FLIGHT, in_flight);
        set_iv(aTHX_ tr, K_BUFFERED, in_flight);
        if (crossing) set_iv(aTHX_ tr, K_ABOVE, 1);
    }
    return 1;
}
