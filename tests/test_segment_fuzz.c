/*
 * test_segment_fuzz.c - a damaged segment never crashes or hangs a
 * process (issue 16, item 4).
 *
 * A small segment (6 MiB of pages, 4 client slots) is filled with about
 * 1500 small items, counters, and two values chained over data chunks;
 * some are deleted, so free lists are not trivial, and the index has
 * split buckets.  Its file bytes are kept as the pristine copy.  Then per
 * trial: the file is restored from the copy, damaged at one place, and a
 * forked child runs a handful of calls on it - shmc_open, gets of known
 * keys (small and chained), sets (one chained), append, delete, incr,
 * touch, shmc_check (its report to /dev/null), shmc_maintain,
 * shmc_recover, shmc_stats_get, shmc_close.  Whatever the calls answer
 * is fine (SHMC_CORRUPT, SHMC_NOT_FOUND, even SHMC_OK with wrong bytes);
 * a child killed by a signal, one that exits with a sanitizer's status,
 * and one that does not finish within CHILD_SECONDS (a hang: killed) fail
 * the test.  Each failure prints what replays it.
 *
 * The damage of a trial: one region (the header, the class table, the
 * page map, the stripes with their locks, the hash buckets in use, the
 * slab pages - an item header three times in four - or the client
 * slots), a random offset in it, and one of: 1..64 random bytes, a
 * flipped bit, a random 8-byte word, a 4-byte ref of some chunk (on its
 * boundary or not: that makes cycles and cross-links), a small number.
 * The file is written with pwrite; no process has it mapped between
 * trials, so protection keys change nothing here.
 *
 * The other tests: the pristine copy answers every call exactly (so a
 * harness that ran nothing would fail), the harness counts a crash and a
 * hang as failures, and a few damaged layout fields make shmc_open answer
 * SHMC_CORRUPT naming the field (shmc_corrupt_field).
 *
 * Environment: SHMC_SEGFUZZ_SEED (default fixed), SHMC_SEGFUZZ_TRIALS
 * (default 10000, about 40 s alone on 2 CPUs, 60 s beside the other tests
 * of `make check`; 2000 under AddressSanitizer, where a trial costs about
 * twice as much and every other test of that pass three times: about 25 s),
 * SHMC_SEGFUZZ_TRIAL=k (run only trial k of the seed: a replay),
 * SHMC_SEGFUZZ_JOBS (children at once, default 2), SHMC_SEGFUZZ_SHOW (failures
 * described in full, with the child's backtrace; default 10),
 * SHMC_SEGFUZZ_HITS=n (damage 1..n places per trial, n <= 8; default 1),
 * SHMC_SEGFUZZ_REGIONS=pages,buckets,... (damage only those regions).
 * A replay needs the same HITS and REGIONS.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>

#include "layout.h"

#define MiB (1024u * 1024u)
#define DEFAULT_SEED 0x5e6f022ull
#ifdef __SANITIZE_ADDRESS__
#define ASAN_BUILD 1
#define DEFAULT_TRIALS 2000u /* a trial costs ~2x under ASan, the pass ~3x: ~25 s */
#else
#define ASAN_BUILD 0
#define DEFAULT_TRIALS 10000u
#endif
#define CHILD_SECONDS 5.0   /* a child still running after this hangs (a normal one takes
                               milliseconds; the margin is for a loaded CI machine) */
#define MAX_JOBS 8
#define MAX_HITS 8          /* damages per trial at most (SHMC_SEGFUZZ_HITS) */
#define SHOWN_FAILURES 10   /* failures described in full (SHMC_SEGFUZZ_SHOW); the rest counted */

#define NSMALL 1500         /* small keys "k0000".. */
#define NCOUNT 8            /* counters "n0".. */
#define BIG0_LEN 600000u    /* chained values: two 512 KiB chunks each */
#define BIG1_LEN 700000u

/* Exit statuses of a trial's child; anything else is a failure. */
enum {
    CHILD_DONE = 0,      /* every call returned, none said SHMC_CORRUPT */
    CHILD_REFUSED = 2,   /* shmc_open refused the file */
    CHILD_CORRUPT = 4,   /* every call returned, some said SHMC_CORRUPT */
    CHILD_WRONG = 5,     /* pristine mode: a call answered wrongly */
};

/* ------------------------------------------------------------------ */
/* Random numbers: splitmix64, one stream per trial                    */
/* ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return n ? mix64(s) % n : 0;
}

/* ------------------------------------------------------------------ */
/* The pristine segment                                                */
/* ------------------------------------------------------------------ */

static void small_key(char *k, unsigned i)
{
    snprintf(k, 16, "k%04u", i);
}

static size_t small_len(unsigned i)
{
    return 8 + (i * 37u) % 57u;
}

static void small_value(char *v, unsigned i)
{
    tu_fill(v, small_len(i), i);
}

static int small_deleted(unsigned i)
{
    return i % 7 == 3;
}

static unsigned char big_buf[BIG1_LEN]; /* chained values' bytes, and the children's buffer */

static void fuzz_config(shmc_config *cfg)
{
    shmc_config_init(cfg);
    cfg->mem_bytes = 6 * MiB;
    cfg->item_size_max = 1 * MiB;
    cfg->growth_factor = 2.0;
    cfg->hash_power = 10;
    cfg->max_clients = 4;
}

/* Create and fill the segment at path (in a child: the test process
 * itself never attaches, so no lock word can name a live client but the
 * trial's child). */
static void fill_segment(const char *path)
{
    shmc_config cfg;
    fuzz_config(&cfg);
    shmc_cache *c;
    CHILD_OK(shmc_create(path, &cfg, &c));
    char k[16], v[128];
    for (unsigned i = 0; i < NSMALL; i++) {
        small_key(k, i);
        small_value(v, i);
        CHILD_OK(shmc_set(c, k, strlen(k), v, small_len(i), i, 0));
    }
    for (unsigned i = 0; i < NCOUNT; i++) {
        snprintf(k, sizeof k, "n%u", i);
        CHILD_OK(shmc_set(c, k, strlen(k), "12345", 5, 0, 0));
    }
    tu_fill(big_buf, BIG1_LEN, 77);
    CHILD_OK(shmc_set(c, "big0", 4, big_buf, BIG0_LEN, 0, 0));
    CHILD_OK(shmc_set(c, "big1", 4, big_buf, BIG1_LEN, 0, 0));
    for (unsigned i = 0; i < NSMALL; i++)
        if (small_deleted(i)) {
            small_key(k, i);
            CHILD_OK(shmc_delete(c, k, strlen(k), 0));
        }
    CHILD_OK(shmc_delete(c, "big1", 4, 0)); /* its chunks go on a free list */
    CHILD_CHECK(shmc_check(c, stderr) == 0);
    shmc_close(c);
    _exit(0);
}

/* The pristine file and where its regions are. */
typedef struct pristine {
    unsigned char *bytes;   /* the whole file */
    size_t len;
    seg_header h;           /* its header */
    uint64_t restore_lo;    /* [0, restore_lo) and [off_pages, pages_hi) hold everything */
    uint64_t pages_hi;      /* just past the last page the fill wrote; the rest is zeros
                               (the pages no class took: one per class past the limit) */
    uint64_t buckets_used;  /* buckets in use when it was saved */
} pristine;

static pristine P;

static int page_is_zero(const unsigned char *p, size_t n)
{
    return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

static void load_pristine(const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        fill_segment(path);
    tu_wait_ok(pid, 120);
    P.bytes = tu_read_file(path, &P.len);
    assert_non_null(P.bytes);
    memcpy(&P.h, P.bytes, sizeof P.h);
    uint64_t w = P.h.hash_word;
    P.buckets_used = ((1ull << P.h.hash_power) << (w >> 32)) + (uint32_t)w;
    P.restore_lo = P.h.off_buckets + P.h.max_buckets * sizeof(ref_t);
    assert_true(P.restore_lo <= P.h.off_pages && P.h.off_pages < P.len);
    P.pages_hi = P.len;
    while (P.pages_hi - P.h.page_size >= P.h.off_pages &&
           page_is_zero(P.bytes + P.pages_hi - P.h.page_size, P.h.page_size))
        P.pages_hi -= P.h.page_size;
}

/* Put the pristine bytes back (the gap between the buckets and the pages
 * is never written: no need); the pages past pages_hi, which a trial may
 * have taken, become zeros again by a hole punched in the file. */
static int restore(int fd)
{
    if (pwrite(fd, P.bytes, P.restore_lo, 0) != (ssize_t)P.restore_lo)
        return -1;
    size_t n = P.pages_hi - P.h.off_pages;
    if (pwrite(fd, P.bytes + P.h.off_pages, n, (off_t)P.h.off_pages) != (ssize_t)n)
        return -1;
    off_t tail = (off_t)P.pages_hi, len = (off_t)(P.len - P.pages_hi);
    if (len && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, tail, len) != 0)
        return pwrite(fd, P.bytes + tail, (size_t)len, tail) == (ssize_t)len ? 0 : -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Damage                                                              */
/* ------------------------------------------------------------------ */

enum region { R_HEADER, R_CLASSES, R_PAGEMAP, R_STRIPES, R_BUCKETS, R_PAGES, R_SLOTS, R_COUNT };
static const char *const region_name[R_COUNT] = {
    "header", "classes", "pagemap", "stripes", "buckets", "pages", "slots",
};

enum kind { K_BYTES, K_BIT, K_WORD, K_REF, K_SMALL, K_COUNT };
static const char *const kind_name[K_COUNT] = {"bytes", "bit", "word", "ref", "small"};

static enum region regions[R_COUNT] = {0, 1, 2, 3, 4, 5, 6}; /* the ones damaged */
static unsigned nregions = R_COUNT;

/* SHMC_SEGFUZZ_REGIONS=pages,buckets...: damage only those regions. */
static void choose_regions(const char *list)
{
    if (!list || !*list)
        return;
    nregions = 0;
    for (unsigned r = 0; r < R_COUNT; r++) {
        const char *p = strstr(list, region_name[r]);
        size_t n = strlen(region_name[r]);
        if (p && (p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            regions[nregions++] = (enum region)r;
    }
    if (!nregions)
        fail_msg("SHMC_SEGFUZZ_REGIONS=%s names no region", list);
}

typedef struct damage {
    enum region region;
    enum kind kind;
    uint64_t off;           /* file offset */
    unsigned len;           /* bytes written */
    unsigned char bytes[64];
} damage;

static const slab_class *pristine_class(unsigned id)
{
    return (const slab_class *)(P.bytes + P.h.off_classes) + id;
}

/* A page some class owns, and that class. */
static uint32_t used_page(uint64_t *s, unsigned *clsid)
{
    const uint8_t *map = P.bytes + P.h.off_pagemap;
    uint32_t start = (uint32_t)below(s, P.h.npages);
    for (uint32_t i = 0; i < P.h.npages; i++) {
        uint32_t pg = (start + i) % P.h.npages;
        if (map[pg]) {
            *clsid = map[pg];
            return pg;
        }
    }
    *clsid = 0;
    return start;
}

/* The offset of a random chunk of a used page. */
static uint64_t some_chunk(uint64_t *s)
{
    unsigned id;
    uint32_t pg = used_page(s, &id);
    uint64_t off = P.h.off_pages + (uint64_t)pg * P.h.page_size;
    if (id)
        off += below(s, pristine_class(id)->perslab) * pristine_class(id)->size;
    return off;
}

/* Where in region r to damage, as [lo, hi). */
static void region_span(enum region r, uint64_t *lo, uint64_t *hi)
{
    const seg_header *h = &P.h;
    switch (r) {
    case R_HEADER: *lo = 0; *hi = sizeof(seg_header); break;
    case R_CLASSES:
        *lo = h->off_classes;
        *hi = h->off_classes + (h->nclasses + 1) * sizeof(slab_class);
        break;
    case R_PAGEMAP:
        *lo = h->off_pagemap;
        *hi = h->off_pagemap + h->npages;
        break;
    case R_STRIPES:
        *lo = h->off_stripes;
        *hi = h->off_stripes + SEG_NSTRIPES * sizeof(seg_stripe);
        break;
    case R_BUCKETS:
        *lo = h->off_buckets;
        *hi = h->off_buckets + P.buckets_used * sizeof(ref_t);
        break;
    case R_PAGES: /* the pages in use: damage to zeros no class owns tells little */
        *lo = h->off_pages;
        *hi = P.pages_hi;
        break;
    default:
        *lo = h->off_slots;
        *hi = h->off_slots + h->max_clients * sizeof(client_slot);
        break;
    }
}

/* Draw damage number hit of trial t of the run seeded with seed. */
static void draw_damage(uint64_t seed, uint64_t t, unsigned hit, damage *d)
{
    uint64_t s = seed ^ (t * 0xD1B54A32D192ED03ull) ^ (hit * 0x8CB92BA72F3D8DD7ull);
    mix64(&s);
    memset(d, 0, sizeof *d);
    d->region = regions[below(&s, nregions)];
    d->kind = (enum kind)below(&s, K_COUNT);
    uint64_t lo, hi;
    region_span(d->region, &lo, &hi);
    if (d->region == R_PAGES && below(&s, 4) != 0)
        d->off = some_chunk(&s) + below(&s, sizeof(item_t)); /* an item header */
    else
        d->off = lo + below(&s, hi - lo);
    switch (d->kind) {
    case K_BYTES:
        d->len = 1 + (unsigned)below(&s, 64);
        for (unsigned i = 0; i < d->len; i++)
            d->bytes[i] = (unsigned char)mix64(&s);
        break;
    case K_BIT:
        d->len = 1;
        d->bytes[0] = (unsigned char)(P.bytes[d->off] ^ (1u << below(&s, 8)));
        break;
    case K_WORD: {
        d->off &= ~7ull;
        d->len = 8;
        uint64_t v = mix64(&s);
        memcpy(d->bytes, &v, 8);
        break;
    }
    case K_REF: {
        d->off &= ~3ull;
        d->len = 4;
        uint32_t v = (uint32_t)(some_chunk(&s) >> 3); /* a chunk's ref; 1 in 4 a little past it */
        if (below(&s, 4) == 0)
            v += 1 + (uint32_t)below(&s, 8);
        memcpy(d->bytes, &v, 4);
        break;
    }
    default: {
        d->off &= ~3ull;
        d->len = 4;
        uint32_t v = (uint32_t)below(&s, 300);
        memcpy(d->bytes, &v, 4);
        break;
    }
    }
    if (d->off + d->len > P.len)
        d->len = (unsigned)(P.len - d->off);
}

/* The damage of trial t: one hit, or (SHMC_SEGFUZZ_HITS=n) 1..n hits. */
typedef struct trial_damage {
    unsigned n;             /* hits */
    damage hit[MAX_HITS];
} trial_damage;

static unsigned max_hits = 1; /* SHMC_SEGFUZZ_HITS */

static void draw_trial(uint64_t seed, uint64_t t, trial_damage *td)
{
    uint64_t s = seed ^ ~t;
    td->n = max_hits > 1 ? 1 + (unsigned)below(&s, max_hits) : 1;
    for (unsigned i = 0; i < td->n; i++)
        draw_damage(seed, t, i, &td->hit[i]);
}

static int apply_damage(int fd, const trial_damage *td)
{
    for (unsigned i = 0; i < td->n; i++) {
        const damage *d = &td->hit[i];
        if (pwrite(fd, d->bytes, d->len, (off_t)d->off) != (ssize_t)d->len)
            return -1;
    }
    return 0;
}

static void describe_damage(FILE *f, uint64_t seed, uint64_t t, const trial_damage *td)
{
    fprintf(f, "  replay: SHMC_SEGFUZZ_SEED=%#llx SHMC_SEGFUZZ_TRIAL=%llu",
            (unsigned long long)seed, (unsigned long long)t);
    if (max_hits > 1)
        fprintf(f, " SHMC_SEGFUZZ_HITS=%u", max_hits);
    if (nregions < R_COUNT) {
        fprintf(f, " SHMC_SEGFUZZ_REGIONS=");
        for (unsigned r = 0; r < nregions; r++)
            fprintf(f, "%s%s", r ? "," : "", region_name[regions[r]]);
    }
    fprintf(f, "\n");
    for (unsigned h = 0; h < td->n; h++) {
        const damage *d = &td->hit[h];
        fprintf(f, "  damage: region %s, %s, offset %llu (%#llx), %u byte%s:",
                region_name[d->region], kind_name[d->kind], (unsigned long long)d->off,
                (unsigned long long)d->off, d->len, d->len == 1 ? "" : "s");
        for (unsigned i = 0; i < d->len; i++)
            fprintf(f, " %02x", d->bytes[i]);
        fprintf(f, "\n");
    }
}

/* ------------------------------------------------------------------ */
/* The child's calls                                                   */
/* ------------------------------------------------------------------ */

static uint64_t shown_max = SHOWN_FAILURES; /* failures described in full */
static uint64_t child_trial; /* the trial a child runs (set before fork) */
static int strict_mode;     /* pristine run: every answer must be exact */
static int corrupt_seen;    /* some call answered SHMC_CORRUPT */

/* Note a call's answer; in strict mode it must be one of want/want2. */
static void answer(const char *what, shmc_status st, shmc_status want, shmc_status want2)
{
    if (st == SHMC_CORRUPT)
        corrupt_seen = 1;
    if (strict_mode && st != want && st != want2) {
        fprintf(stderr, "pristine: %s returned " TU_STATUS_FMT ", expected " TU_STATUS_FMT "\n",
                what, TU_STATUS_ARGS(st), TU_STATUS_ARGS(want));
        _exit(CHILD_WRONG);
    }
}

static void expect(int cond, const char *what)
{
    if (strict_mode && !cond) {
        fprintf(stderr, "pristine: %s\n", what);
        _exit(CHILD_WRONG);
    }
}

/* Get a small key and (strict) compare it. */
static void get_small(shmc_cache *c, unsigned i)
{
    char k[16], v[128], want[128];
    size_t len = sizeof v;
    small_key(k, i);
    shmc_status st = shmc_get(c, k, strlen(k), v, &len, NULL, NULL);
    if (small_deleted(i)) {
        answer("get of a deleted key", st, SHMC_NOT_FOUND, SHMC_NOT_FOUND);
        return;
    }
    answer("get of a small key", st, SHMC_OK, SHMC_OK);
    small_value(want, i);
    expect(st != SHMC_OK || (len == small_len(i) && memcmp(v, want, len) == 0),
           "a small key's value differs");
}

static void run_calls(const char *path)
{
    static unsigned char buf[BIG1_LEN];
    shmc_cache *c;
    /* one trial in four attaches as the environment says (mpk where the CPU
     * has keys); the others without keys, which saves the attach's scan
     * of the process (about 3 ms) and checks the same code */
    shmc_options opts;
    if (shmc_options_init(&opts) != SHMC_OK)
        _exit(CHILD_WRONG);
    if (child_trial % 4)
        opts.protection = SHMC_PROTECT_NONE;
    shmc_status st = shmc_open_with(path, &opts, &c);
    if (st != SHMC_OK) {
        expect(0, "shmc_open refused the pristine copy");
        _exit(CHILD_REFUSED);
    }
    for (unsigned i = 0; i < NSMALL; i += 97)
        get_small(c, i);
    get_small(c, 3); /* deleted */
    size_t len = sizeof buf;
    st = shmc_get(c, "big0", 4, buf, &len, NULL, NULL);
    answer("get big0", st, SHMC_OK, SHMC_OK);
    expect(st != SHMC_OK || (len == BIG0_LEN && memcmp(buf, big_buf, len) == 0), "big0 differs");
    len = sizeof buf;
    answer("get big1", shmc_get(c, "big1", 4, buf, &len, NULL, NULL), SHMC_NOT_FOUND, SHMC_NOT_FOUND);

    answer("set k0001", shmc_set(c, "k0001", 5, "fresh", 5, 0, 0), SHMC_OK, SHMC_OK);
    answer("set new", shmc_set(c, "fuzz-new", 8, "new value", 9, 0, 60), SHMC_OK, SHMC_OK);
    answer("set big2", shmc_set(c, "big2", 4, big_buf, BIG0_LEN, 0, 0), SHMC_OK, SHMC_OK);
    answer("append k0002", shmc_store(c, SHMC_APPEND, "k0002", 5, "xyz", 3, 0, 0, 0, NULL),
           SHMC_OK, SHMC_OK);
    answer("append big0", shmc_store(c, SHMC_APPEND, "big0", 4, "xyz", 3, 0, 0, 0, NULL),
           SHMC_OK, SHMC_OK);
    answer("delete k0004", shmc_delete(c, "k0004", 5, 0), SHMC_OK, SHMC_OK);
    uint64_t v = 0;
    answer("incr n0", shmc_incr(c, "n0", 2, 5, &v), SHMC_OK, SHMC_OK);
    expect(v == 12350 || !strict_mode, "incr n0 gave a wrong result");
    answer("decr n1", shmc_decr(c, "n1", 2, 5, &v), SHMC_OK, SHMC_OK);
    answer("touch k0005", shmc_touch(c, "k0005", 5, 100), SHMC_OK, SHMC_OK);
    len = sizeof buf;
    answer("get big2", shmc_get(c, "big2", 4, buf, &len, NULL, NULL), SHMC_OK, SHMC_OK);

    FILE *devnull = fopen("/dev/null", "w");
    shmc_check_report rep = {0};
    unsigned problems = shmc_check_with(c, devnull, &rep);
    if (devnull)
        fclose(devnull);
    expect(problems == 0, "shmc_check found problems in the pristine copy");
    answer("maintain", shmc_maintain(c), SHMC_OK, SHMC_OK);
    unsigned reaped = 0;
    answer("recover", shmc_recover(c, &reaped), SHMC_OK, SHMC_OK);
    shmc_stats stats;
    answer("stats", shmc_stats_get(c, &stats), SHMC_OK, SHMC_OK);
    expect(stats.curr_items > 1000, "the pristine copy lost items");
    shmc_close(c);
    _exit(corrupt_seen ? CHILD_CORRUPT : CHILD_DONE);
}

/* A fatal signal in a child that describes its failure: where it was. */
static void on_fatal(int sig)
{
    void *pcs[32];
    int n = backtrace(pcs, 32);
    char line[64];
    int m = snprintf(line, sizeof line, "child: signal %d at:\n", sig);
    if (write(2, line, (size_t)m) < 0) {
    }
    backtrace_symbols_fd(pcs, n, 2);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ------------------------------------------------------------------ */
/* The harness: children in parallel, each with a deadline             */
/* ------------------------------------------------------------------ */

typedef struct job {
    pid_t pid;              /* 0: idle */
    double started;
    uint64_t trial;
    trial_damage d;         /* n == 0: undamaged */
    int fd;                 /* its segment file */
    char path[TU_PATH_MAX];
} job;

typedef struct tally {
    uint64_t trials, done, refused, corrupt, crashes, hangs, wrong, shown;
    double seconds;
} tally;

typedef void (*child_fn)(const char *path, int verbose);

static void trial_child(const char *path, int verbose)
{
    /* cmocka catches these to fail a test and go on: a child must die of them */
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) /* ASan reports its own */
        signal(fatal[i], verbose && !ASAN_BUILD ? on_fatal : SIG_DFL);
    if (!verbose) { /* failures past the first few are only counted */
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0)
            dup2(nul, 2);
    }
    run_calls(path);
}

/* Judge a finished (or killed) child. */
static void judge(tally *t, job *j, int ws, int timed_out, uint64_t seed, const char *what)
{
    const char *fail = NULL;
    char why[64];
    if (timed_out) {
        t->hangs++;
        fail = "hang (killed after the deadline)";
    } else if (WIFSIGNALED(ws)) {
        t->crashes++;
        snprintf(why, sizeof why, "crash: signal %d (%s)", WTERMSIG(ws), strsignal(WTERMSIG(ws)));
        fail = why;
    } else {
        switch (WEXITSTATUS(ws)) {
        case CHILD_DONE: t->done++; break;
        case CHILD_REFUSED: t->refused++; break;
        case CHILD_CORRUPT: t->corrupt++; break;
        case CHILD_WRONG: t->wrong++; fail = "wrong answer on the pristine copy"; break;
        default:
            t->crashes++;
            snprintf(why, sizeof why, "crash: exit status %d (a sanitizer?)", WEXITSTATUS(ws));
            fail = why;
        }
    }
    if (fail && t->shown++ < shown_max) {
        fprintf(stderr, "FAIL %s trial %llu: %s\n", what, (unsigned long long)j->trial, fail);
        if (j->d.n)
            describe_damage(stderr, seed, j->trial, &j->d);
    }
}

/* Run trials [first, first + n) (damaged unless !damaged) with jobs
 * children at once, each given deadline seconds. */
static tally run_trials(uint64_t seed, uint64_t first, uint64_t n, unsigned jobs, int damaged,
                        child_fn fn, double deadline, const char *what)
{
    tally t = {0};
    job js[MAX_JOBS];
    memset(js, 0, sizeof js);
    for (unsigned i = 0; i < jobs; i++) {
        tu_make_path(js[i].path, sizeof js[i].path, "segfuzz");
        if (tu_write_file(js[i].path, P.bytes, P.len) != 0)
            fail_msg("cannot write %s", js[i].path);
        js[i].fd = open(js[i].path, O_RDWR | O_CLOEXEC);
        assert_true(js[i].fd >= 0);
    }
    double t0 = tu_now();
    uint64_t next = first, end = first + n, running = 0;
    while (next < end || running) {
        for (unsigned i = 0; i < jobs && next < end; i++) {
            job *j = &js[i];
            if (j->pid)
                continue;
            j->trial = next++;
            memset(&j->d, 0, sizeof j->d);
            if (restore(j->fd) != 0)
                fail_msg("restore: %s", strerror(errno));
            if (damaged) {
                draw_trial(seed, j->trial, &j->d);
                if (apply_damage(j->fd, &j->d) != 0)
                    fail_msg("damage: %s", strerror(errno));
            }
            int verbose = t.shown < shown_max;
            child_trial = j->trial;
            fflush(NULL);
            j->pid = fork();
            assert_true(j->pid >= 0);
            if (j->pid == 0)
                fn(j->path, verbose);
            j->started = tu_now();
            running++;
            t.trials++;
        }
        int ws;
        pid_t pid = waitpid(-1, &ws, WNOHANG);
        if (pid <= 0) {
            double now = tu_now();
            for (unsigned i = 0; i < jobs; i++)
                if (js[i].pid && now - js[i].started > deadline) {
                    kill(js[i].pid, SIGKILL);
                    waitpid(js[i].pid, &ws, 0);
                    judge(&t, &js[i], ws, 1, seed, what);
                    js[i].pid = 0;
                    running--;
                }
            poll(NULL, 0, 1);
            continue;
        }
        for (unsigned i = 0; i < jobs; i++)
            if (js[i].pid == pid) {
                judge(&t, &js[i], ws, 0, seed, what);
                js[i].pid = 0;
                running--;
            }
    }
    t.seconds = tu_now() - t0;
    for (unsigned i = 0; i < jobs; i++) {
        close(js[i].fd);
        unlink(js[i].path);
    }
    return t;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static unsigned env_jobs(void)
{
    uint64_t j = env_u64("SHMC_SEGFUZZ_JOBS", 2);
    return j < 1 ? 1 : j > MAX_JOBS ? MAX_JOBS : (unsigned)j;
}

static int setup(void **state)
{
    (void)state;
    if (P.bytes)
        return 0;
    char path[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "segfuzz-pristine");
    load_pristine(path);
    unlink(path);
    print_message("pristine segment: %llu of %u pages written\n",
                  (unsigned long long)((P.pages_hi - P.h.off_pages) / P.h.page_size), P.h.npages);
    tu_fill(big_buf, BIG1_LEN, 77); /* the children's copy of the chained values */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void pristine_child(const char *path, int verbose)
{
    (void)verbose;
    strict_mode = 1;
    run_calls(path);
}

/* On the undamaged copy every call answers exactly, in every child. */
static void test_pristine_calls_succeed(void **state)
{
    (void)state;
    tally t = run_trials(0, 0, 8, env_jobs(), 0, pristine_child, 30, "pristine");
    if (t.done != t.trials)
        fail_msg("pristine: %llu of %llu children ran every call cleanly",
                 (unsigned long long)t.done, (unsigned long long)t.trials);
}

static void crashing_child(const char *path, int verbose)
{
    (void)path;
    (void)verbose;
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
    _exit(0);
}

static void hanging_child(const char *path, int verbose)
{
    (void)path;
    (void)verbose;
    for (;;)
        pause();
}

/* The harness sees a crash and a hang. */
static void test_harness_counts_failures(void **state)
{
    (void)state;
    tally t = run_trials(0, 0, 2, 2, 0, crashing_child, 5, "self-test (a crash is expected)");
    assert_u64_eq(t.crashes, 2);
    t = run_trials(0, 0, 1, 1, 0, hanging_child, 0.2, "self-test (a hang is expected)");
    assert_u64_eq(t.hangs, 1);
}

/* Random damage: no crash, no hang. */
static void test_random_damage(void **state)
{
    (void)state;
    uint64_t seed = env_u64("SHMC_SEGFUZZ_SEED", DEFAULT_SEED);
    uint64_t trials = env_u64("SHMC_SEGFUZZ_TRIALS", DEFAULT_TRIALS);
    uint64_t first = 0;
    const char *one = getenv("SHMC_SEGFUZZ_TRIAL");
    if (one && *one) {
        first = strtoull(one, NULL, 0);
        trials = 1;
    }
    choose_regions(getenv("SHMC_SEGFUZZ_REGIONS"));
    max_hits = (unsigned)env_u64("SHMC_SEGFUZZ_HITS", 1);
    max_hits = max_hits < 1 ? 1 : max_hits > MAX_HITS ? MAX_HITS : max_hits;
    if (one && *one) {
        trial_damage td;
        draw_trial(seed, first, &td);
        describe_damage(stderr, seed, first, &td);
    }
    unsigned jobs = env_jobs();
    shown_max = env_u64("SHMC_SEGFUZZ_SHOW", SHOWN_FAILURES);
    tally t = run_trials(seed, first, trials, jobs, 1, trial_child, CHILD_SECONDS, "damage");
    fprintf(stderr,
            "segment fuzz: seed %#llx, %llu trials in %.1f s (%u at once): %llu ran every call, "
            "%llu of them met SHMC_CORRUPT, %llu refused at open; %llu crashes, %llu hangs\n",
            (unsigned long long)seed, (unsigned long long)t.trials, t.seconds, jobs,
            (unsigned long long)(t.done + t.corrupt), (unsigned long long)t.corrupt,
            (unsigned long long)t.refused, (unsigned long long)t.crashes,
            (unsigned long long)t.hangs);
    if (t.crashes || t.hangs)
        fail_msg("%llu crashes and %llu hangs in %llu trials (seed %#llx)",
                 (unsigned long long)t.crashes, (unsigned long long)t.hangs,
                 (unsigned long long)t.trials, (unsigned long long)seed);
}

/* A copy of the pristine file with one field changed; where its name. */
typedef struct field_case {
    const char *name;       /* what shmc_corrupt_field() must say */
    uint64_t off;           /* file offset */
    unsigned len;           /* 1, 4 or 8 */
    uint64_t value;
} field_case;

static void damaged_fields_child(void)
{
    const seg_header *h = &P.h;
    uint64_t cls = h->off_classes, cls2 = cls + 2 * sizeof(slab_class);
    const field_case cases[] = {
        {"seg_header.off_pages", offsetof(seg_header, off_pages), 8, h->off_pages + 4096},
        {"seg_header.npages", offsetof(seg_header, npages), 4, h->npages + 1},
        {"seg_header.max_buckets", offsetof(seg_header, max_buckets), 8, h->max_buckets * 2},
        {"seg_header.hash_power", offsetof(seg_header, hash_power), 4, 40},
        {"seg_header.item_size_max", offsetof(seg_header, item_size_max), 4, 12},
        {"seg_header.init_done", offsetof(seg_header, init_done), 4, 7},
        {"seg_header.no_evict", offsetof(seg_header, no_evict), 4, 2},
        {"seg_header.nclasses", offsetof(seg_header, nclasses), 4, 200},
        {"seg_header.epoch", offsetof(seg_header, epoch), 8, (uint64_t)-5},
        {"seg_header.created", offsetof(seg_header, created), 8, (uint64_t)h->created + 1},
        {"seg_header.clock_offset", offsetof(seg_header, clock_offset), 8, INT64_MAX},
        {"seg_header.hash_word", offsetof(seg_header, hash_word), 8, 40ull << 32},
        {"seg_header.hash_word", offsetof(seg_header, hash_word), 8, h->max_buckets},
        {"seg_header.page_hint", offsetof(seg_header, page_hint), 4, h->npages + 5},
        {"seg_header.pool_lock", offsetof(seg_header, pool_lock.l.kind), 4, 1},
        {"seg_header.grow_lock", offsetof(seg_header, grow_lock.l.id), 4, 3},
        {"slab_class.size", cls2 + offsetof(slab_class, size), 4, pristine_class(2)->size + 8},
        {"slab_class.perslab", cls + sizeof(slab_class) + offsetof(slab_class, perslab), 4, 0},
        {"slab_class.pages", cls2 + offsetof(slab_class, pages), 4, 5000},
        {"slab_shard.lock", cls2 + offsetof(slab_class, shards[1].lock.id), 4, 2},
        {"seg_stripe.l", h->off_stripes + 17 * sizeof(seg_stripe) + offsetof(seg_lock, id), 4, 18},
        {"page map", h->off_pagemap + 1, 1, 99},
    };
    char path[TU_PATH_MAX];
    snprintf(path, sizeof path, "%s/shmc-test-segfuzz-field-%ld", tu_dir(), (long)getpid());
    unsigned char *copy = malloc(P.len);
    CHILD_CHECK(copy != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const field_case *f = &cases[i];
        memcpy(copy, P.bytes, P.len);
        memcpy(copy + f->off, &f->value, f->len); /* little-endian: the low bytes */
        CHILD_CHECK(tu_write_file(path, copy, P.len) == 0);
        shmc_cache *c = NULL;
        shmc_status st = shmc_open(path, &c);
        const char *named = shmc_corrupt_field();
        if (st != SHMC_CORRUPT || !named || strcmp(named, f->name) != 0) {
            unlink(path);
            CHILD_FAIL("%s damaged: shmc_open returned " TU_STATUS_FMT " naming %s", f->name,
                       TU_STATUS_ARGS(st), named ? named : "nothing");
        }
    }
    unlink(path);
    free(copy);
    _exit(0);
}

/* A damaged field of the header, the class table, a lock or the page
 * map: shmc_open refuses the file and names the field. */
static void test_damaged_field_is_named(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        damaged_fields_child();
    tu_wait_ok(pid, 30);
}

/* Damage met during calls: every bucket in use made a ref past the
 * pages, or every chain's first item made its own successor (a cycle).
 * Calls answer SHMC_CORRUPT (or miss) at once, naming the hash chain. */
static void damaged_chains_child(int cycle)
{
    char path[TU_PATH_MAX];
    snprintf(path, sizeof path, "%s/shmc-test-segfuzz-chain-%ld", tu_dir(), (long)getpid());
    unsigned char *copy = malloc(P.len);
    CHILD_CHECK(copy != NULL);
    memcpy(copy, P.bytes, P.len);
    ref_t *b = (ref_t *)(copy + P.h.off_buckets);
    for (uint64_t i = 0; i < P.buckets_used; i++) {
        if (!b[i])
            continue;
        if (cycle)
            ((item_t *)(copy + ((uint64_t)b[i] << 3)))->h_next = b[i];
        else
            b[i] = (ref_t)((P.len + 4096) >> 3);
    }
    CHILD_CHECK(tu_write_file(path, copy, P.len) == 0);
    free(copy);
    shmc_cache *c;
    CHILD_OK(shmc_open(path, &c));
    unsigned corrupt = 0;
    char k[32], v[64];
    for (unsigned i = 0; i < 64; i++) {
        snprintf(k, sizeof k, "missing-%u", i); /* never in a chain: walks it all */
        size_t len = sizeof v;
        shmc_status st = shmc_get(c, k, strlen(k), v, &len, NULL, NULL);
        CHILD_CHECK(st == SHMC_NOT_FOUND || st == SHMC_CORRUPT);
        corrupt += st == SHMC_CORRUPT;
        st = shmc_set(c, k, strlen(k), "v", 1, 0, 0);
        CHILD_CHECK(st == SHMC_OK || st == SHMC_CORRUPT);
    }
    CHILD_CHECK(corrupt > 16);
    CHILD_CHECK(shmc_corrupt_field() && strstr(shmc_corrupt_field(), "hash chain"));
    CHILD_CHECK(shmc_check(c, NULL) > 0);
    shmc_close(c);
    unlink(path);
    _exit(0);
}

static void test_damaged_chains_answer_corrupt(void **state)
{
    (void)state;
    for (int cycle = 0; cycle < 2; cycle++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            damaged_chains_child(cycle);
        tu_wait_ok(pid, 30);
    }
}

/* Lock words holding tokens no live client writes - a slot past
 * max_clients, a free slot, a stale generation, the waiters bit alone -
 * are taken over and their structures repaired: every call finishes and
 * answers as on the pristine copy. */
static void damaged_locks_child(void)
{
    char path[TU_PATH_MAX];
    snprintf(path, sizeof path, "%s/shmc-test-segfuzz-locks-%ld", tu_dir(), (long)getpid());
    unsigned char *copy = malloc(P.len);
    CHILD_CHECK(copy != NULL);
    memcpy(copy, P.bytes, P.len);
    seg_header *h = (seg_header *)copy;
    seg_stripe *stripes = (seg_stripe *)(copy + h->off_stripes);
    slab_class *classes = (slab_class *)(copy + h->off_classes);
    for (unsigned i = 0; i < SEG_NSTRIPES; i += 128)
        stripes[i].l.word = 0x3fff0fffu;            /* slot 4094: past max_clients */
    h->pool_lock.l.word = 0x80000000u;              /* the waiters bit, no owner */
    h->grow_lock.l.word = 5u << 16 | 3u;            /* slot 2: free */
    classes[1].shards[0].lock.word = 0x3ffeu << 16 | 1u; /* slot 0, a stale generation */
    classes[2].shards[1].lock.word = 0xdeadbeefu;   /* the reader bit too: no repair (lock.h) */
    CHILD_CHECK(tu_write_file(path, copy, P.len) == 0);
    free(copy);
    double t0 = tu_now();
    strict_mode = 1;
    shmc_cache *c;
    CHILD_OK(shmc_open(path, &c));
    for (unsigned i = 0; i < NSMALL; i += 7)
        get_small(c, i);
    CHILD_OK(shmc_set(c, "k0001", 5, "fresh", 5, 0, 0));
    CHILD_OK(shmc_maintain(c));
    unsigned problems = shmc_check(c, stderr);
    CHILD_CHECK(problems == 0);
    shmc_stats st;
    CHILD_OK(shmc_stats_get(c, &st));
    CHILD_CHECK(st.locks_repaired >= 3);
    shmc_close(c);
    unlink(path);
    CHILD_CHECK(tu_now() - t0 < 10);
    _exit(0);
}

static void test_damaged_locks_taken_over(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        damaged_locks_child();
    tu_wait_ok(pid, 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pristine_calls_succeed, setup),
        cmocka_unit_test_setup(test_harness_counts_failures, setup),
        cmocka_unit_test_setup(test_damaged_field_is_named, setup),
        cmocka_unit_test_setup(test_damaged_chains_answer_corrupt, setup),
        cmocka_unit_test_setup(test_damaged_locks_taken_over, setup),
        cmocka_unit_test_setup(test_random_damage, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
