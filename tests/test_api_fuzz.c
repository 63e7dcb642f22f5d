/*
 * test_api_fuzz.c - a million random calls of the public API with random
 * lengths and random pointers, and a model of what a set of keys must
 * still hold.
 *
 * The library promises to refuse every pointer into its own memory (the
 * segments it has attached, its vault of handles, its protection page,
 * and the stack below the entry point where its own frames are) and every
 * length that wraps; it does not promise to survive unmapped caller
 * memory.  So every pointer made here is either valid caller memory or
 * lies in the library's memory:
 *
 *   arena      caller memory (a get writes at most the value's length,
 *              a store reads at most item_size_max, so any claimed
 *              length is safe from the arena's first half);
 *   below      a page of ours that ends at the segment's first byte:
 *              any range from it either stays in it or runs into the
 *              segment;
 *   above      a page of ours that starts at the segment's end (ranges
 *              kept inside it);
 *   segment, other segment, vault, protection page, stack below the
 *              caller's frame: the library's.
 *
 * Each call's arguments are classified before the call: a call with any
 * argument in the library's memory (or NULL where one is required, or a
 * bad key length) must answer SHMC_INVALID, SHMC_BAD_KEY or
 * SHMC_TOO_LARGE, never reach the cache; a call with only caller memory
 * must answer one of that call's documented outcomes, and never
 * SHMC_INVALID for no reason.  Ranges that only come near the stack
 * band (whose exact bounds depend on the entry point's frame) are not
 * judged.
 *
 * Truth: 64 keys "T:<i>" and 8 numeric keys "N:<i>" are written only by
 * valid calls, whose effect a model tracks (value, flags, CAS); reads of
 * them are compared with the model as the run goes, calls with a bad
 * argument aimed at them must change nothing, and at the end every one
 * is read back, here and from a second process, and shmc_check() is
 * clean (also every 128 Ki calls).  The segment runs with no_evict, so
 * nothing leaves the model behind its back.
 *
 * SHMC_FUZZ_CALLS (default 2000000, about a second here) and SHMC_FUZZ_SEED (default fixed,
 * printed) set the run; argv[1] may name the protection mode.  Prints the
 * calls per second and the count of each status.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <sys/mman.h>

#include "cache.h"
#include "layout.h"
#include "protect.h"
#include "vault.h"

#define DEFAULT_SEED 0x5eed15u
#define DEFAULT_CALLS 2000000ull
#define ARENA_SIZE (8u << 20)  /* caller memory; pointers come from its first half */
#define ARENA_HALF (4u << 20)
#define KEYS_SIZE (64u << 10)  /* key bytes, never a buffer the library writes */
#define NTRUTH 64
#define NNUM 8
#define NCHAOS 512
#define MV_MAX 16

#define KS_(s) (s), strlen(s)

/* How an argument (or a whole call) must be answered. */
enum verdict {
    V_OK = 0,     /* caller memory: the call may go ahead */
    V_UNSURE = 1, /* near the stack band: not judged */
    V_BAD = 2,    /* must be refused */
};

typedef struct model {
    unsigned char *val;
    size_t len;
    uint32_t flags;
    uint64_t cas;
} model;

typedef struct fuzz {
    shmc_cache *c;
    char *path;
    uint64_t rng;
    char *base;            /* c's mapping of the segment */
    size_t size;
    char *obase;           /* another attached segment */
    size_t osize;
    unsigned char *below;  /* pages of ours against the segment, or NULL */
    unsigned char *above;
    char *vault;           /* the vault (protect_g.vault) */
    unsigned char *arena;
    unsigned char *keys;
    shmc_value *mv;        /* get_multi arrays: in memory no buffer points into */
    uintptr_t frame;       /* the frame of the function making the call */
    unsigned char *tbuf;   /* reads of truth values */
    model truth[NTRUTH];
    uint64_t num[NNUM];
    /* figures */
    uint64_t calls, refused_bad, judged_ok, unsure;
    uint64_t status[SHMC_STATUS_COUNT + 1];
    uint64_t entry_status[SHMC_STATUS_COUNT + 1];
    unsigned failures;
} fuzz;

#define FAIL(z, ...)                                                                          \
    do {                                                                                      \
        if ((z)->failures++ < 20) {                                                           \
            print_error("call %" PRIu64 ": ", (z)->calls);                                    \
            print_error(__VA_ARGS__);                                                         \
            print_error("\n");                                                                \
        }                                                                                     \
    } while (0)

static uint64_t rnd(fuzz *z)
{
    uint64_t x = (z->rng += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t below_n(fuzz *z, uint64_t n)
{
    return n ? rnd(z) % n : 0;
}

static size_t item_max(void)
{
    return 1u << 20; /* the default item_size_max of the segment */
}

/* A length: zero, small, large, around item_size_max, huge, or one that
 * wraps from almost any pointer. */
static size_t gen_len(fuzz *z)
{
    static const size_t huge[] = {
        SEG_ITEM_SIZE_MAX, SEG_ITEM_SIZE_MAX + (size_t)1, (size_t)1 << 32, (size_t)1 << 40,
        SIZE_MAX / 2,      (size_t)1 << 63,               SIZE_MAX - ((size_t)1 << 40),
    };
    unsigned r = (unsigned)below_n(z, 100);
    if (r < 10)
        return 0;
    if (r < 50)
        return 1 + below_n(z, 64);
    if (r < 75)
        return 65 + below_n(z, 4032);
    if (r < 84)
        return 4097 + below_n(z, 61440);
    if (r < 85)
        return 65537 + below_n(z, item_max() - 65537);
    if (r < 87)
        return item_max() - 300 + below_n(z, 400);
    if (r < 92)
        return huge[below_n(z, sizeof huge / sizeof huge[0])];
    return (size_t)0 - 1 - below_n(z, 64);
}

/* ---- the library's memory, and the verdict on a range ---------------- */

static bool overlaps(uintptr_t a, uintptr_t e, uintptr_t lo, uintptr_t hi)
{
    return a < hi && e > lo;
}

/* The verdict on [p, p+len) (NULL is judged by the caller: it depends on
 * the argument). */
static enum verdict judge(fuzz *z, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p, e = a + len;
    if (len == 0)
        return V_OK;
    if (e < a)
        return V_BAD;
    if (overlaps(a, e, (uintptr_t)z->base, (uintptr_t)z->base + z->size) ||
        overlaps(a, e, (uintptr_t)z->obase, (uintptr_t)z->obase + z->osize) ||
        overlaps(a, e, (uintptr_t)z->vault, (uintptr_t)z->vault + sizeof(vault)) ||
        overlaps(a, e, (uintptr_t)&protect_global, (uintptr_t)&protect_global + 4096))
        return V_BAD;
    /* the band the library refuses is [entry frame - 256 KiB, entry frame + 16),
     * and the entry frame lies within 4 KiB below ours: [frame - 192 KiB,
     * frame - 64 KiB) is surely in it, [frame - 300 KiB, frame) holds it */
    if (overlaps(a, e, z->frame - (192u << 10), z->frame - (64u << 10)))
        return V_BAD;
    if (overlaps(a, e, z->frame - (300u << 10), z->frame))
        return V_UNSURE;
    return V_OK;
}

enum where { W_ARENA, W_NULL, W_SEG, W_BELOW, W_ABOVE, W_TAIL, W_VAULT, W_PROT, W_STACK,
             W_OTHER, W_COUNT };

/* An address of class w; W_ABOVE keeps *len inside its page. */
static uintptr_t gen_where(fuzz *z, enum where w, size_t *len)
{
    switch (w) {
    case W_ARENA:
        return (uintptr_t)(z->arena + below_n(z, ARENA_HALF));
    case W_NULL:
        return 0;
    case W_SEG:
        return (uintptr_t)(z->base + below_n(z, z->size));
    case W_BELOW: /* ends at most at the segment's first byte, or runs into it */
        if (!z->below)
            break;
        return (uintptr_t)(z->below + 4096 - 1 - below_n(z, 4096));
    case W_ABOVE:
        if (!z->above)
            break;
        if (*len > 4096)
            *len = below_n(z, 4097);
        return (uintptr_t)(z->above + below_n(z, 4096 - *len + 1));
    case W_TAIL:
        return (uintptr_t)(z->base + z->size - 1 - below_n(z, 64));
    case W_VAULT:
        return (uintptr_t)(z->vault + below_n(z, sizeof(vault)));
    case W_PROT:
        return (uintptr_t)&protect_global + below_n(z, 4096);
    case W_STACK: /* far below our frame: where the entry point's frames go */
        return z->frame - (64u << 10) - below_n(z, 128u << 10);
    case W_OTHER:
        return (uintptr_t)(z->obase + below_n(z, z->osize));
    case W_COUNT:
        break;
    }
    return (uintptr_t)(z->arena + below_n(z, ARENA_HALF));
}

/* A pointer for an argument whose length the caller fixed (len > 0), or
 * chooses (*len may be changed: W_ABOVE keeps the range in its page). */
static void *gen_ptr(fuzz *z, size_t *len, size_t align)
{
    static const unsigned weight[W_COUNT] = {48, 5, 8, 5, 4, 4, 8, 3, 8, 4};
    unsigned r = (unsigned)below_n(z, 97), w = 0;
    while (r >= weight[w])
        r -= weight[w++];
    uintptr_t p = gen_where(z, (enum where)w, len);
    return (void *)(p & ~(uintptr_t)(align - 1)); /* out-pointers aligned, as C wants */
}

/* A buffer argument (NULL with a non-zero length is refused). */
static void *gen_buf(fuzz *z, size_t *len, enum verdict *v)
{
    *len = gen_len(z);
    void *p = gen_ptr(z, len, 1);
    enum verdict j = p ? judge(z, p, *len) : *len ? V_BAD : V_OK;
    *v = j > *v ? j : *v;
    return p;
}

/* An out-pointer of n bytes; NULL is allowed unless required. */
static void *gen_out(fuzz *z, size_t n, bool required, enum verdict *v)
{
    size_t len = n;
    void *p = gen_ptr(z, &len, 8);
    if (p && len != n) /* the above page could not keep it: use the arena */
        p = z->arena + (below_n(z, ARENA_HALF) & ~(size_t)7);
    enum verdict j = p ? judge(z, p, n) : required ? V_BAD : V_OK;
    *v = j > *v ? j : *v;
    return p;
}

/* A chaos key: one of NCHAOS names, random bytes, or a bad pointer or
 * length.  Never a truth key (those start with 'T' or 'N'). */
static const void *gen_key(fuzz *z, size_t *klen, enum verdict *v)
{
    unsigned r = (unsigned)below_n(z, 100);
    const void *k;
    if (r < 70) {
        char *p = (char *)z->keys + 16 * below_n(z, NCHAOS);
        *klen = strlen(p);
        k = p;
    } else if (r < 80) {
        *klen = 1 + below_n(z, SHMC_KEY_MAX);
        k = z->keys + 16 * NCHAOS + below_n(z, KEYS_SIZE - 16 * NCHAOS - SHMC_KEY_MAX);
    } else if (r < 85) {
        static const size_t bad[] = {0, SHMC_KEY_MAX + 1, 1000, (size_t)-1, (size_t)1 << 40};
        *klen = bad[below_n(z, sizeof bad / sizeof bad[0])];
        k = z->keys;
    } else {
        *klen = 1 + below_n(z, 300);
        k = gen_ptr(z, klen, 1);
        if (k >= (void *)z->arena && k < (void *)(z->arena + ARENA_SIZE))
            k = z->keys; /* keys are never read from buffers the library writes */
    }
    enum verdict j = !k ? V_BAD : (*klen == 0 || *klen > SHMC_KEY_MAX) ? V_BAD : judge(z, k, *klen);
    *v = j > *v ? j : *v;
    return k;
}

static int64_t gen_exptime(fuzz *z)
{
    static const int64_t e[] = {0, 0, 0, 1, 100, 3600, -1, 2592001, INT64_MAX, INT64_MIN};
    return e[below_n(z, sizeof e / sizeof e[0])];
}

/* ---- judging the answer ------------------------------------------------ */

static bool refused(shmc_status st)
{
    return st == SHMC_INVALID || st == SHMC_BAD_KEY || st == SHMC_TOO_LARGE;
}

/* allowed: the outcomes the call documents for good arguments, as a bit set */
#define S(x) (1u << (x))
static void verdict_check(fuzz *z, const char *what, enum verdict v, bool invalid_anyway,
                          shmc_status st, unsigned allowed)
{
    z->calls++;
    z->status[(unsigned)st < SHMC_STATUS_COUNT ? st : SHMC_STATUS_COUNT]++;
    if (v == V_BAD) {
        z->refused_bad++;
        if (!refused(st))
            FAIL(z, "%s with an argument in the library's memory (or bad) returned %s", what,
                 tu_status_name(st));
    } else if (v == V_UNSURE) {
        z->unsure++;
    } else {
        z->judged_ok++;
        if (invalid_anyway)
            allowed |= S(SHMC_INVALID);
        if (!(allowed & S(st)))
            FAIL(z, "%s with caller memory only returned %s", what, tu_status_name(st));
    }
}

/* ---- chaos calls ------------------------------------------------------ */

#define GET_OUTCOMES (S(SHMC_OK) | S(SHMC_NOT_FOUND) | S(SHMC_BUFFER_TOO_SMALL))
#define STORE_OUTCOMES                                                                        \
    (S(SHMC_OK) | S(SHMC_NOT_STORED) | S(SHMC_EXISTS) | S(SHMC_NOT_FOUND) |                   \
     S(SHMC_TOO_LARGE) | S(SHMC_NO_MEMORY))
#define ARITH_OUTCOMES                                                                        \
    (S(SHMC_OK) | S(SHMC_NOT_FOUND) | S(SHMC_NOT_NUMERIC) | S(SHMC_EXISTS) | S(SHMC_NO_MEMORY))

#define FRAME(z) ((z)->frame = (uintptr_t)__builtin_frame_address(0))
#define NOINLINE static __attribute__((noinline))

NOINLINE void chaos_get(fuzz *z, int kind)
{
    FRAME(z);
    enum verdict v = V_OK;
    size_t klen, cap;
    const void *k = gen_key(z, &klen, &v);
    void *buf = gen_buf(z, &cap, &v);
    size_t *len = gen_out(z, sizeof *len, true, &v);
    uint32_t *flags = gen_out(z, sizeof *flags, false, &v);
    uint64_t *cas = gen_out(z, sizeof *cas, false, &v);
    if (len && judge(z, len, sizeof *len) == V_OK)
        *len = cap;
    shmc_status st = kind ? shmc_gat(z->c, k, klen, gen_exptime(z), buf, len, flags, cas)
                          : shmc_get(z->c, k, klen, buf, len, flags, cas);
    verdict_check(z, kind ? "gat" : "get", v, false, st, GET_OUTCOMES);
}

NOINLINE void chaos_get_info(fuzz *z)
{
    FRAME(z);
    enum verdict v = V_OK;
    size_t klen, cap;
    const void *k = gen_key(z, &klen, &v);
    shmc_get_options *o = NULL;
    bool bad_flags = false;
    if (below_n(z, 4)) {
        o = gen_out(z, sizeof *o, false, &v);
        if (o && judge(z, o, sizeof *o) == V_OK) {
            static const unsigned fl[] = {0, SHMC_GET_NO_BUMP, SHMC_GET_TOUCH, 3, 4, 0x80000000u};
            o->flags = fl[below_n(z, sizeof fl / sizeof fl[0])];
            o->exptime = gen_exptime(z);
            o->recache_below = (int64_t)below_n(z, 3) * 50;
        }
    }
    enum verdict vlen = V_OK;
    size_t *len = gen_out(z, sizeof *len, false, &vlen);
    /* without len the buffer is not looked at */
    void *buf = len ? gen_buf(z, &cap, &vlen) : gen_buf(z, &cap, &(enum verdict){V_OK});
    v = vlen > v ? vlen : v;
    if (len && judge(z, len, sizeof *len) == V_OK)
        *len = cap;
    shmc_item_info *info = gen_out(z, sizeof *info, false, &v);
    /* the flags as the call will read them: len (or info) may share the
     * options' memory, and *len = cap above may have rewritten them */
    if (o && judge(z, o, sizeof *o) == V_OK)
        bad_flags = o->flags & ~3u;
    shmc_status st = shmc_get_info(z->c, k, klen, o, buf, len, info);
    verdict_check(z, "get_info", v, bad_flags, st, GET_OUTCOMES);
}

NOINLINE void chaos_get_alloc(fuzz *z)
{
    FRAME(z);
    enum verdict v = V_OK;
    size_t klen;
    const void *k = gen_key(z, &klen, &v);
    void **value = gen_out(z, sizeof *value, true, &v);
    size_t *len = gen_out(z, sizeof *len, true, &v);
    uint32_t *flags = gen_out(z, sizeof *flags, false, &v);
    uint64_t *cas = gen_out(z, sizeof *cas, false, &v);
    shmc_status st = shmc_get_alloc(z->c, k, klen, value, len, flags, cas);
    if (st == SHMC_OK && judge(z, value, sizeof *value) == V_OK)
        free(*value);
    verdict_check(z, "get_alloc", v, false, st, S(SHMC_OK) | S(SHMC_NOT_FOUND));
}

NOINLINE void chaos_get_multi(fuzz *z)
{
    FRAME(z);
    enum verdict v = V_OK;
    size_t n = below_n(z, MV_MAX + 1);
    shmc_value *mv = z->mv;
    enum verdict ev[MV_MAX];
    unsigned r = (unsigned)below_n(z, 10);
    if (r == 0) { /* the array itself elsewhere */
        size_t bytes = n * sizeof *mv;
        mv = gen_ptr(z, &bytes, 8);
        if (mv && (bytes != n * sizeof *mv || judge(z, mv, bytes) != V_BAD))
            mv = z->mv; /* only the library's memory, never unknown caller memory */
        v = !mv ? (n ? V_BAD : V_OK) : mv == z->mv ? V_OK : (n ? V_BAD : V_OK);
    } else if (r == 1) { /* a count that reaches far past the array */
        static const size_t huge[] = {(size_t)1 << 40, (size_t)1 << 50, SIZE_MAX / 48 + 1,
                                      (size_t)-1};
        n = huge[below_n(z, 4)];
        v = V_BAD;
    }
    bool fill = mv == z->mv && v != V_BAD;
    for (size_t i = 0; fill && i < n; i++) {
        ev[i] = V_OK;
        mv[i].key = gen_key(z, &mv[i].key_len, &ev[i]);
        mv[i].buf = gen_buf(z, &mv[i].cap, &ev[i]);
        mv[i].status = SHMC_STATUS_COUNT;
    }
    shmc_status st = shmc_get_multi(z->c, mv, n);
    verdict_check(z, "get_multi", v, false, st, S(SHMC_OK));
    for (size_t i = 0; fill && st == SHMC_OK && i < n; i++) {
        shmc_status es = mv[i].status;
        z->entry_status[(unsigned)es < SHMC_STATUS_COUNT ? es : SHMC_STATUS_COUNT]++;
        if (ev[i] == V_BAD && !refused(es))
            FAIL(z, "get_multi entry %zu with a bad argument: %s", i, tu_status_name(es));
        if (ev[i] == V_OK && !(GET_OUTCOMES & S(es)))
            FAIL(z, "get_multi entry %zu with caller memory: %s", i, tu_status_name(es));
    }
}

NOINLINE void chaos_store(fuzz *z, bool ex)
{
    FRAME(z);
    enum verdict v = V_OK;
    size_t klen, vlen;
    const void *k = gen_key(z, &klen, &v);
    const void *val = gen_buf(z, &vlen, &v);
    uint64_t *cas_out = gen_out(z, sizeof *cas_out, false, &v);
    unsigned mode = (unsigned)below_n(z, 7);
    bool invalid = false;
    if (below_n(z, 50) == 0) {
        mode = 7 + (unsigned)below_n(z, 100); /* no such mode */
        invalid = true;
    }
    uint64_t new_cas = 0;
    if (ex && below_n(z, 2)) {
        new_cas = below_n(z, 8) ? rnd(z) >> 1 : (rnd(z) | SHMC_CAS_EXPLICIT_LIMIT);
        invalid |= new_cas >= SHMC_CAS_EXPLICIT_LIMIT;
    }
    uint64_t cas_in = below_n(z, 3) ? 0 : rnd(z) % 1000000;
    shmc_status st = ex ? shmc_store_ex(z->c, (shmc_store_mode)mode, k, klen, val, vlen,
                                        (uint32_t)rnd(z), gen_exptime(z), cas_in, new_cas, cas_out)
                        : shmc_store(z->c, (shmc_store_mode)mode, k, klen, val, vlen,
                                     (uint32_t)rnd(z), gen_exptime(z), cas_in, cas_out);
    /* a mode or CAS refused before any pointer is looked at */
    if (invalid && st == SHMC_INVALID)
        v = V_OK;
    verdict_check(z, ex ? "store_ex" : "store", v, invalid, st, STORE_OUTCOMES);
}

NOINLINE void chaos_keyed(fuzz *z)
{
    FRAME(z);
    enum verdict v = V_OK;
    size_t klen;
    const void *k = gen_key(z, &klen, &v);
    shmc_status st;
    switch (below_n(z, 6)) {
    case 0:
        st = shmc_delete(z->c, k, klen, below_n(z, 4) ? 0 : rnd(z) % 1000000);
        verdict_check(z, "delete", v, false, st,
                      S(SHMC_OK) | S(SHMC_NOT_FOUND) | S(SHMC_EXISTS));
        break;
    case 1:
        st = shmc_touch(z->c, k, klen, gen_exptime(z));
        verdict_check(z, "touch", v, false, st, S(SHMC_OK) | S(SHMC_NOT_FOUND));
        break;
    case 2: {
        const int64_t *exp = gen_out(z, sizeof *exp, false, &v);
        if (exp && judge(z, exp, sizeof *exp) == V_OK)
            *(int64_t *)exp = gen_exptime(z);
        uint64_t new_cas = below_n(z, 8) ? 0 : rnd(z);
        st = shmc_invalidate(z->c, k, klen, below_n(z, 4) ? 0 : rnd(z) % 1000000, exp, new_cas);
        bool invalid = new_cas >= SHMC_CAS_EXPLICIT_LIMIT;
        if (invalid && st == SHMC_INVALID)
            v = V_OK;
        verdict_check(z, "invalidate", v, invalid, st,
                      S(SHMC_OK) | S(SHMC_NOT_FOUND) | S(SHMC_EXISTS));
        break;
    }
    default: {
        uint64_t *result = gen_out(z, sizeof *result, false, &v);
        uint64_t *cas_out = gen_out(z, sizeof *cas_out, false, &v);
        bool ex = below_n(z, 2);
        uint64_t new_cas = !ex || below_n(z, 8) ? 0 : rnd(z);
        int incr = (int)below_n(z, 2);
        uint64_t delta = below_n(z, 4) ? below_n(z, 1000) : rnd(z);
        uint64_t cas_in = below_n(z, 4) ? 0 : rnd(z) % 1000000;
        bool invalid = new_cas >= SHMC_CAS_EXPLICIT_LIMIT;
        st = ex ? shmc_arith_ex(z->c, k, klen, incr, delta, cas_in, new_cas, result, cas_out)
                : shmc_arith(z->c, k, klen, incr, delta, cas_in, result, cas_out);
        if (invalid && st == SHMC_INVALID)
            v = V_OK;
        verdict_check(z, "arith", v, invalid, st, ARITH_OUTCOMES);
        break;
    }
    }
}

NOINLINE void chaos_stats(fuzz *z)
{
    FRAME(z);
    enum verdict v = V_OK;
    shmc_status st;
    switch (below_n(z, 4)) {
    case 0:
        st = shmc_stats_get(z->c, gen_out(z, sizeof(shmc_stats), true, &v));
        verdict_check(z, "stats_get", v, false, st, S(SHMC_OK));
        break;
    case 1: {
        unsigned id = (unsigned)below_n(z, 70);
        shmc_class_stats *out = gen_out(z, sizeof *out, true, &v);
        st = shmc_class_stats_get(z->c, id, out);
        bool invalid = id < 1 || id > shmc_class_count(z->c);
        if (invalid && st == SHMC_INVALID)
            v = V_OK;
        verdict_check(z, "class_stats_get", v, invalid, st, S(SHMC_OK));
        break;
    }
    case 2:
        st = shmc_config_get(z->c, gen_out(z, sizeof(shmc_config), true, &v));
        verdict_check(z, "config_get", v, false, st, S(SHMC_OK));
        break;
    default: {
        unsigned *reaped = gen_out(z, sizeof *reaped, false, &v);
        st = shmc_recover(z->c, reaped);
        verdict_check(z, "recover", v, false, st, S(SHMC_OK));
        break;
    }
    }
}

/* ---- the truth and its model ------------------------------------------ */

static void truth_name(char *key, size_t n, unsigned i)
{
    snprintf(key, n, "T:%u", i);
}

/* Read truth key i and compare it with the model. */
NOINLINE void truth_read(fuzz *z)
{
    unsigned i = (unsigned)below_n(z, NTRUTH);
    model *m = &z->truth[i];
    char key[16];
    truth_name(key, sizeof key, i);
    size_t cap = below_n(z, 4) ? m->len : below_n(z, m->len + 1);
    size_t len = cap;
    uint32_t flags = 0;
    uint64_t cas = 0;
    shmc_status st;
    unsigned how = (unsigned)below_n(z, 3);
    if (how == 0) {
        st = shmc_get(z->c, KS_(key), z->tbuf, &len, &flags, &cas);
    } else if (how == 1) {
        shmc_get_options o = {.flags = SHMC_GET_NO_BUMP};
        shmc_item_info info;
        st = shmc_get_info(z->c, KS_(key), &o, z->tbuf, &len, &info);
        flags = info.flags;
        cas = info.cas;
    } else {
        shmc_value mv[2] = {{.key = key, .key_len = strlen(key), .buf = z->tbuf, .cap = cap},
                            {.key = "c:1", .key_len = 3, .buf = z->arena, .cap = 100}};
        st = shmc_get_multi(z->c, mv, 2);
        if (st == SHMC_OK) {
            st = mv[0].status;
            len = mv[0].len;
            flags = mv[0].flags;
            cas = mv[0].cas;
        }
    }
    verdict_check(z, "truth read", V_OK, false, st, S(SHMC_OK) | S(SHMC_BUFFER_TOO_SMALL));
    shmc_status want = cap >= m->len ? SHMC_OK : SHMC_BUFFER_TOO_SMALL;
    if (st != want || len != m->len || flags != m->flags || cas != m->cas ||
        (st == SHMC_OK && memcmp(z->tbuf, m->val, m->len) != 0))
        FAIL(z, "%s: %s, length %zu flags %u cas %" PRIu64 "; model: %s, %zu, %u, %" PRIu64,
             key, tu_status_name(st), len, flags, cas, tu_status_name(want), m->len, m->flags,
             m->cas);
}

/* A valid write of truth key i: set, append, prepend or cas; the model
 * follows what the call says it did. */
NOINLINE void truth_write(fuzz *z)
{
    unsigned i = (unsigned)below_n(z, NTRUTH);
    model *m = &z->truth[i];
    char key[16];
    truth_name(key, sizeof key, i);
    size_t vlen = below_n(z, 3000);
    const unsigned char *val = z->arena + below_n(z, ARENA_HALF);
    unsigned char *copy = malloc(vlen ? vlen : 1);
    memcpy(copy, val, vlen);
    uint32_t flags = (uint32_t)rnd(z);
    uint64_t cas = 0;
    unsigned how = (unsigned)below_n(z, 5);
    if ((how == 1 || how == 2) && m->len + vlen > 60000)
        how = 0;
    shmc_status st;
    switch (how) {
    case 1:
    case 2: {
        shmc_store_mode mode = how == 1 ? SHMC_APPEND : SHMC_PREPEND;
        st = shmc_store(z->c, mode, KS_(key), copy, vlen, 0, 0, 0, &cas);
        verdict_check(z, "truth append", V_OK, false, st, S(SHMC_OK) | S(SHMC_NO_MEMORY));
        if (st == SHMC_OK) {
            unsigned char *nv = malloc(m->len + vlen + 1);
            memcpy(nv + (how == 1 ? 0 : vlen), m->val, m->len);
            memcpy(nv + (how == 1 ? m->len : 0), copy, vlen);
            free(m->val);
            m->val = nv;
            m->len += vlen;
            m->cas = cas;
        }
        free(copy);
        return;
    }
    case 3: { /* cas: stale first (refused), then the model's */
        st = shmc_store(z->c, SHMC_CAS, KS_(key), copy, vlen, flags, 0, m->cas + 1, &cas);
        verdict_check(z, "truth cas", V_OK, false, st, S(SHMC_EXISTS));
        if (st != SHMC_EXISTS)
            FAIL(z, "%s: cas with a stale CAS returned %s", key, tu_status_name(st));
        st = shmc_store(z->c, SHMC_CAS, KS_(key), copy, vlen, flags, 0, m->cas, &cas);
        break;
    }
    default:
        st = shmc_store(z->c, SHMC_SET, KS_(key), copy, vlen, flags, 0, 0, &cas);
        break;
    }
    verdict_check(z, "truth set", V_OK, false, st, S(SHMC_OK) | S(SHMC_NO_MEMORY));
    if (st == SHMC_OK) {
        free(m->val);
        m->val = copy;
        m->len = vlen;
        m->flags = flags;
        m->cas = cas;
    } else {
        free(copy);
    }
}

/* A write aimed at a truth key with one bad argument: refused, and the
 * model still holds (the next read of it says so). */
NOINLINE void truth_attack(fuzz *z)
{
    FRAME(z);
    unsigned i = (unsigned)below_n(z, NTRUTH);
    char key[16];
    truth_name(key, sizeof key, i);
    enum verdict v = V_OK;
    shmc_status st;
    /* draw until something is bad */
    for (int tries = 0; v != V_BAD && tries < 100; tries++) {
        v = V_OK;
        unsigned what = (unsigned)below_n(z, 5);
        if (what <= 1) {
            size_t vlen;
            const void *val = gen_buf(z, &vlen, &v);
            uint64_t *cas_out = gen_out(z, sizeof *cas_out, false, &v);
            if (what == 1 && v != V_BAD)
                vlen = (size_t)0 - 1 - below_n(z, 51), v = V_BAD; /* item 4 */
            if (v != V_BAD)
                continue;
            st = shmc_store(z->c, (shmc_store_mode)below_n(z, 7), KS_(key), val, vlen,
                            (uint32_t)rnd(z), 0, z->truth[i].cas, cas_out);
            verdict_check(z, "truth attack: store", v, false, st, 0);
        } else if (what == 2) {
            const int64_t *exp = gen_out(z, sizeof *exp, false, &v);
            if (v != V_BAD)
                continue;
            st = shmc_invalidate(z->c, KS_(key), 0, exp, 0);
            verdict_check(z, "truth attack: invalidate", v, false, st, 0);
        } else {
            size_t cap;
            void *buf = gen_buf(z, &cap, &v);
            size_t *len = gen_out(z, sizeof *len, true, &v);
            uint64_t *cas = gen_out(z, sizeof *cas, false, &v);
            if (v != V_BAD)
                continue;
            if (len && judge(z, len, sizeof *len) == V_OK)
                *len = cap;
            /* a get moves nothing the model tracks; its buffer is the attack */
            st = what == 3 ? shmc_get(z->c, KS_(key), buf, len, NULL, cas)
                           : shmc_gat(z->c, KS_(key), 0, buf, len, NULL, cas);
            verdict_check(z, "truth attack: get", v, false, st, 0);
        }
    }
}

/* The numeric keys: incr and decr against a model; with a bad result
 * pointer, refused and unchanged. */
NOINLINE void truth_arith(fuzz *z)
{
    FRAME(z);
    unsigned i = (unsigned)below_n(z, NNUM);
    char key[16];
    snprintf(key, sizeof key, "N:%u", i);
    int incr = (int)below_n(z, 2);
    uint64_t delta = below_n(z, 4) ? below_n(z, 1000) : rnd(z);
    enum verdict v = V_OK;
    uint64_t *result = gen_out(z, sizeof *result, false, &v);
    shmc_status st = shmc_arith(z->c, KS_(key), incr, delta, 0, result, NULL);
    /* a longer number is a new item, which a full cache may refuse */
    verdict_check(z, "truth arith", v, false, st, S(SHMC_OK) | S(SHMC_NO_MEMORY));
    if (v == V_OK && st == SHMC_OK) {
        z->num[i] = incr ? z->num[i] + delta : z->num[i] > delta ? z->num[i] - delta : 0;
        if (result && *result != z->num[i])
            FAIL(z, "%s: result %" PRIu64 ", model %" PRIu64, key, *result, z->num[i]);
    }
}

/* How many truth and numeric keys c does not read back as the model says. */
static unsigned truth_bad(fuzz *z, shmc_cache *c, FILE *out)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < NTRUTH; i++) {
        char key[16];
        truth_name(key, sizeof key, i);
        size_t len = item_max();
        uint32_t flags;
        uint64_t cas;
        shmc_status st = shmc_get(c, KS_(key), z->tbuf, &len, &flags, &cas);
        model *m = &z->truth[i];
        if (st != SHMC_OK || len != m->len || flags != m->flags || cas != m->cas ||
            memcmp(z->tbuf, m->val, len) != 0) {
            fprintf(out, "%s: %s, length %zu (model %zu)\n", key, tu_status_name(st), len, m->len);
            bad++;
        }
    }
    for (unsigned i = 0; i < NNUM; i++) {
        char key[16], buf[32];
        snprintf(key, sizeof key, "N:%u", i);
        size_t len = sizeof buf - 1;
        shmc_status st = shmc_get(c, KS_(key), buf, &len, NULL, NULL);
        buf[st == SHMC_OK ? len : 0] = 0;
        if (st != SHMC_OK || strtoull(buf, NULL, 10) != z->num[i]) {
            fprintf(out, "%s: %s, \"%s\" (model %" PRIu64 ")\n", key, tu_status_name(st), buf,
                    z->num[i]);
            bad++;
        }
    }
    return bad;
}

/* ---- the run ------------------------------------------------------------ */

/* A page of ours at exactly at, or NULL. */
static unsigned char *page_at(char *at)
{
    void *p = mmap(at, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (p != at) {
        munmap(p, 4096);
        return NULL;
    }
    return p;
}

/* Where handle c maps its segment: the handle itself, read through
 * /proc/self/mem (a plain load faults in mpk mode). */
static void handle_range(shmc_cache *c, char **base, size_t *size)
{
    struct shmc_cache h;
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &h, sizeof h, (off_t)(uintptr_t)c), (ssize_t)sizeof h);
    close(fd);
    *base = h.base;
    *size = h.size;
}

/* Open path into a hole of the segment's size between two pages of ours
 * (or put pages against wherever it went); the handle, pages possibly NULL. */
static shmc_cache *open_between_pages(fuzz *z, size_t size)
{
    for (int tries = 0; tries < 8; tries++) {
        char *r = mmap(NULL, size + 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        assert_true(r != MAP_FAILED);
        assert_int_equal(munmap(r + 4096, size), 0);
        shmc_cache *h;
        assert_ok(shmc_open(z->path, &h));
        handle_range(h, &z->base, &z->size);
        if (z->base == r + 4096) {
            z->below = (unsigned char *)r;
            z->above = (unsigned char *)r + 4096 + size;
            return h;
        }
        munmap(r, 4096);
        munmap(r + 4096 + size, 4096);
        z->below = page_at(z->base - 4096);
        z->above = page_at(z->base + z->size);
        if ((z->below && z->above) || tries == 7)
            return h;
        if (z->below)
            munmap(z->below, 4096);
        if (z->above)
            munmap(z->above, 4096);
        shmc_close(h);
    }
    return NULL;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : def;
}

static void test_api_fuzz(void **state)
{
    (void)state;
    static fuzz zz;
    fuzz *z = &zz;
    uint64_t seed = env_u64("SHMC_FUZZ_SEED", DEFAULT_SEED);
    uint64_t ncalls = env_u64("SHMC_FUZZ_CALLS", DEFAULT_CALLS);
    z->rng = seed;
    print_message("api fuzz: seed %#" PRIx64 " (SHMC_FUZZ_SEED), %" PRIu64
                  " calls (SHMC_FUZZ_CALLS)\n", seed, ncalls);

    char path[TU_PATH_MAX], opath[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "fuzz");
    tu_make_path(opath, sizeof opath, "fuzz-other");
    z->path = path;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 64u << 20;
    cfg.no_evict = 1; /* nothing leaves the truth behind the model's back */
    shmc_cache *creator, *other;
    assert_ok(shmc_create(path, &cfg, &creator));
    shmc_config_init(&cfg);
    cfg.mem_bytes = 2u << 20;
    assert_ok(shmc_create(opath, &cfg, &other));
    handle_range(other, &z->obase, &z->osize);
    size_t size;
    handle_range(creator, &z->base, &size);
    z->c = open_between_pages(z, size);
    assert_non_null(z->c);
    z->vault = (char *)protect_g.vault;
    print_message("protection %s; pages of ours against the segment: below %s, above %s\n",
                  shmc_protection_name(shmc_protection_of(z->c)), z->below ? "yes" : "no",
                  z->above ? "yes" : "no");

    z->arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    z->keys = mmap(NULL, KEYS_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    z->mv = mmap(NULL, MV_MAX * sizeof(shmc_value), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(z->arena != MAP_FAILED && z->keys != MAP_FAILED && z->mv != MAP_FAILED);
    z->tbuf = malloc(item_max());
    assert_non_null(z->tbuf);
    tu_fill(z->arena, ARENA_SIZE, seed);
    tu_fill(z->keys, KEYS_SIZE, seed + 1);
    for (unsigned i = 0; i < NCHAOS; i++)
        snprintf((char *)z->keys + 16 * i, 16, "c:%u", i);
    for (size_t i = 16 * NCHAOS; i < KEYS_SIZE; i++)
        if (z->keys[i] == 'T' || z->keys[i] == 'N')
            z->keys[i] = 'x'; /* no random key is a truth key */

    /* the truth: values of every size class, two chained ones */
    for (unsigned i = 0; i < NTRUTH; i++) {
        model *m = &z->truth[i];
        char key[16];
        truth_name(key, sizeof key, i);
        m->len = i == 0 ? 0 : i == 1 ? 600000 : i == 2 ? 100000 : below_n(z, 5000);
        m->val = malloc(m->len ? m->len : 1);
        tu_fill(m->val, m->len, seed + 100 + i);
        m->flags = (uint32_t)rnd(z);
        assert_ok(shmc_store(z->c, SHMC_SET, KS_(key), m->val, m->len, m->flags, 0, 0, &m->cas));
    }
    for (unsigned i = 0; i < NNUM; i++) {
        char key[16], val[32];
        snprintf(key, sizeof key, "N:%u", i);
        z->num[i] = rnd(z) >> (i * 8);
        snprintf(val, sizeof val, "%" PRIu64, z->num[i]);
        assert_ok(shmc_set(z->c, KS_(key), val, strlen(val), 0, 0));
    }

    double t0 = tu_now();
    uint64_t checks = 0;
    while (z->calls < ncalls && z->failures < 20) {
        unsigned op = (unsigned)below_n(z, 100);
        if (op < 10)
            chaos_get(z, 0);
        else if (op < 14)
            chaos_get(z, 1);
        else if (op < 20)
            chaos_get_info(z);
        else if (op < 23)
            chaos_get_alloc(z);
        else if (op < 28)
            chaos_get_multi(z);
        else if (op < 42)
            chaos_store(z, false);
        else if (op < 45)
            chaos_store(z, true);
        else if (op < 58)
            chaos_keyed(z);
        else if (op < 61)
            chaos_stats(z);
        else if (op < 75)
            truth_read(z);
        else if (op < 80)
            truth_write(z);
        else if (op < 94)
            truth_attack(z);
        else
            truth_arith(z);
        if ((z->calls >> 17) != checks) {
            checks = z->calls >> 17;
            unsigned problems = shmc_check(z->c, stderr);
            if (problems)
                FAIL(z, "shmc_check found %u problems", problems);
        }
    }
    double took = tu_now() - t0;

    print_message("%" PRIu64 " calls in %.2f s: %.0f calls/s; %" PRIu64 " with a bad argument "
                  "(all refused: %s), %" PRIu64 " with caller memory only, %" PRIu64
                  " near the stack band (not judged)\n",
                  z->calls, took, (double)z->calls / took, z->refused_bad,
                  z->failures ? "no" : "yes", z->judged_ok, z->unsure);
    print_message("status of each call:");
    for (unsigned s = 0; s <= SHMC_STATUS_COUNT; s++)
        if (z->status[s])
            print_message(" %s %" PRIu64, s < SHMC_STATUS_COUNT ? tu_status_name(s) : "other",
                          z->status[s]);
    print_message("\nstatus of each get_multi entry:");
    for (unsigned s = 0; s <= SHMC_STATUS_COUNT; s++)
        if (z->entry_status[s])
            print_message(" %s %" PRIu64, s < SHMC_STATUS_COUNT ? tu_status_name(s) : "other",
                          z->entry_status[s]);
    print_message("\n");
    assert_int_equal(z->failures, 0);

    /* the end: the truth here, from another process, and the check */
    assert_int_equal(truth_bad(z, z->c, stderr), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        shmc_cache *cc;
        CHILD_OK(shmc_open(path, &cc));
        CHILD_CHECK(truth_bad(z, cc, stderr) == 0);
        CHILD_CHECK(shmc_check(cc, stderr) == 0);
        shmc_close(cc);
        _exit(0);
    }
    tu_wait_ok(pid, 120);
    assert_int_equal(shmc_check(z->c, stderr), 0);
    assert_int_equal(shmc_check(other, stderr), 0);

    shmc_close(z->c);
    shmc_close(creator);
    shmc_close(other);
    tu_remove(path);
    tu_remove(opath);
    for (unsigned i = 0; i < NTRUTH; i++)
        free(z->truth[i].val);
    free(z->tbuf);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        setenv("SHMC_PROTECTION", argv[1], 1);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_api_fuzz)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
