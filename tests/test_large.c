/*
 * test_large.c - large items (memcached -I 8m): multi-megabyte values
 * stored and read back byte-exact, appended to, evicted; the last data
 * chunk of a chained value in the class that fits it; the size limit;
 * and shmc_create's configuration checks.
 */
#include "testutil.h"

#include <pthread.h>

#define KS(s) (s), strlen(s)
#define KiB 1024u
#define MiB (1024u * 1024u)

static int setup_large(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 64 * MiB;
    cfg.item_size_max = 8 * MiB;
    return tu_setup(state, "large", &cfg);
}


/* Store len pattern bytes under key, read back with get and get_alloc. */
static void roundtrip(shmc_cache *c, const char *key, size_t len, uint64_t seed)
{
    unsigned char *v = malloc(len + 16);
    unsigned char *out = malloc(len + 16);
    assert_non_null(v);
    assert_non_null(out);
    tu_fill(v, len, seed);
    uint64_t cas = 0;
    assert_ok(shmc_store(c, SHMC_SET, KS(key), v, len, (uint32_t)seed, 0, 0, &cas));

    size_t got = len + 16;
    uint32_t flags = 0;
    uint64_t gcas = 0;
    memset(out, 0xEE, len + 16);
    assert_ok(shmc_get(c, KS(key), out, &got, &flags, &gcas));
    assert_u64_eq(got, len);
    assert_bytes_equal(out, v, len);
    for (size_t i = len; i < len + 16; i++)
        assert_int_equal(out[i], 0xEE);
    assert_u64_eq(flags, (uint32_t)seed);
    assert_u64_eq(gcas, cas);

    void *a = NULL;
    got = 0;
    assert_ok(shmc_get_alloc(c, KS(key), &a, &got, NULL, NULL));
    assert_u64_eq(got, len);
    assert_bytes_equal(a, v, len);
    free(a);

    /* too small by one byte: the exact size is reported */
    got = len - 1;
    assert_status(shmc_get(c, KS(key), out, &got, NULL, NULL), SHMC_BUFFER_TOO_SMALL);
    assert_u64_eq(got, len);
    free(v);
    free(out);
}

/* Values above 1 MiB (the default page size) up to just under item_size_max. */
static void test_large_values_roundtrip(void **state)
{
    shmc_cache *c = CACHE(state);
    roundtrip(c, "onemeg+1", 1 * MiB + 1, 1);
    roundtrip(c, "four-meg", 4 * MiB, 2);
    roundtrip(c, "eight-meg-less", 8 * MiB - 4 * KiB, 3);
    roundtrip(c, "odd", 3 * MiB + 12345, 4);
    /* all still there together */
    void *a = NULL;
    size_t len = 0;
    assert_ok(shmc_get_alloc(c, KS("onemeg+1"), &a, &len, NULL, NULL));
    assert_u64_eq(len, 1 * MiB + 1);
    unsigned char *want = malloc(len);
    assert_non_null(want);
    tu_fill(want, len, 1);
    assert_bytes_equal(a, want, len);
    free(want);
    free(a);
    assert_ok(shmc_get_alloc(c, KS("eight-meg-less"), &a, &len, NULL, NULL));
    assert_u64_eq(len, 8 * MiB - 4 * KiB);
    free(a);

    /* overwrite a large value by a small one and back */
    assert_ok(tu_set(c, "four-meg", "small now", 0, 0));
    assert_value_str(c, "four-meg", "small now");
    roundtrip(c, "four-meg", 5 * MiB, 5);
    assert_ok(shmc_delete(c, KS("four-meg"), 0));
    assert_missing(c, "four-meg");
}

/* append/prepend on a large value. */
static void test_large_append(void **state)
{
    shmc_cache *c = CACHE(state);
    size_t a = 3 * MiB, b = 1 * MiB + 7, p = 1000;
    unsigned char *all = malloc(p + a + b);
    assert_non_null(all);
    tu_fill(all, p + a + b, 42);
    /* value = prefix | base | suffix */
    assert_ok(shmc_set(c, KS("big"), all + p, a, 9, 0));
    assert_ok(shmc_store(c, SHMC_APPEND, KS("big"), all + p + a, b, 0, 0, 0, NULL));
    assert_ok(shmc_store(c, SHMC_PREPEND, KS("big"), all, p, 0, 0, 0, NULL));
    void *out = NULL;
    size_t len = 0;
    uint32_t flags = 0;
    assert_ok(shmc_get_alloc(c, KS("big"), &out, &len, &flags, NULL));
    assert_u64_eq(len, p + a + b);
    assert_bytes_equal(out, all, p + a + b);
    assert_u64_eq(flags, 9);
    free(out);

    /* small to large by append */
    assert_ok(tu_set(c, "grow", "x", 0, 0));
    assert_ok(shmc_store(c, SHMC_APPEND, KS("grow"), all, 2 * MiB, 0, 0, 0, NULL));
    assert_ok(shmc_get_alloc(c, KS("grow"), &out, &len, NULL, NULL));
    assert_u64_eq(len, 2 * MiB + 1);
    assert_int_equal(((unsigned char *)out)[0], 'x');
    assert_bytes_equal((unsigned char *)out + 1, all, 2 * MiB);
    free(out);

    /* appending past item_size_max: TOO_LARGE, value untouched */
    unsigned char *more = malloc(5 * MiB);
    assert_non_null(more);
    memset(more, 'm', 5 * MiB);
    assert_status(shmc_store(c, SHMC_APPEND, KS("big"), more, 5 * MiB, 0, 0, 0, NULL),
                  SHMC_TOO_LARGE);
    assert_ok(shmc_get_alloc(c, KS("big"), &out, &len, NULL, NULL));
    assert_u64_eq(len, p + a + b);
    assert_bytes_equal(out, all, p + a + b);
    free(out);
    free(more);
    free(all);
}

/* A value over item_size_max is refused. */
static void test_large_too_large(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    size_t max = f->cfg.item_size_max;
    unsigned char *v = malloc(max + 4096);
    assert_non_null(v);
    memset(v, 'v', max + 4096);
    assert_status(shmc_set(c, KS("k"), v, max + 1, 0, 0), SHMC_TOO_LARGE);
    assert_status(shmc_set(c, KS("k"), v, max, 0, 0), SHMC_TOO_LARGE);
    assert_status(shmc_set(c, KS("k"), v, max + 4096, 0, 0), SHMC_TOO_LARGE);
    assert_missing(c, "k");

    /* exact limit: value + key + header == item_size_max fits */
    size_t fit = max - 1 - shmc_item_overhead();
    assert_ok(shmc_set(c, KS("k"), v, fit, 0, 0));
    assert_status(shmc_set(c, KS("k"), v, fit + 1, 0, 0), SHMC_TOO_LARGE);
    assert_missing(c, "k");   /* the failed SET removed it */
    free(v);
}

/* Large items are evicted like small ones when memory runs out. */
static void test_large_eviction(void **state)
{
    shmc_cache *c = CACHE(state);
    size_t len = 4 * MiB;
    unsigned char *v = malloc(len);
    unsigned char *want = malloc(len);
    assert_non_null(v);
    assert_non_null(want);
    for (int i = 0; i < 40; i++) {
        char key[32];
        snprintf(key, sizeof key, "big%d", i);
        tu_fill(v, len, (uint64_t)i + 100);
        shmc_status st = shmc_set(c, KS(key), v, len, 0, 0);
        if (st != SHMC_OK)
            fail_msg("set %s (#%d of 4 MiB into 64 MiB) returned " TU_STATUS_FMT, key, i,
                     TU_STATUS_ARGS(st));
    }
    shmc_stats s = tu_stats(c);
    assert_u64_cmp(s.evictions, >, 0);
    assert_u64_cmp(s.curr_items, <, 40);
    assert_u64_cmp(s.curr_items + s.evictions, ==, 40);
    for (int i = 37; i < 40; i++) {
        char key[32];
        snprintf(key, sizeof key, "big%d", i);
        void *out = NULL;
        size_t got = 0;
        assert_ok(shmc_get_alloc(c, KS(key), &out, &got, NULL, NULL));
        assert_u64_eq(got, len);
        tu_fill(want, len, (uint64_t)i + 100);
        assert_bytes_equal(out, want, len);
        free(out);
    }
    assert_missing(c, "big0");

    /* small items still work next to them */
    for (int i = 0; i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof key, "small%d", i);
        shmc_status st = shmc_set(c, KS(key), "v", 1, 0, 0);
        for (int r = 0; st == SHMC_NO_MEMORY && r < 600; r++) {
            assert_ok(shmc_maintain(c));
            assert_ok(shmc_clock_advance(c, 1));
            st = shmc_set(c, KS(key), "v", 1, 0, 0);
        }
        assert_ok(st);
    }
    assert_value_str(c, "small999", "v");
    free(v);
    free(want);
}

static int setup_16m(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg); /* item_size_max 1 MiB: chunks of 512 KiB at most */
    cfg.mem_bytes = 16 * MiB;
    return tu_setup(state, "tail", &cfg);
}

/* The class whose chunks hold len bytes of item, and the largest. */
static unsigned class_for(shmc_cache *c, size_t len)
{
    unsigned n = shmc_class_count(c);
    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats cs;
        assert_ok(shmc_class_stats_get(c, id, &cs));
        if (cs.chunk_size >= len)
            return id;
    }
    return n;
}

static shmc_class_stats class_stats(shmc_cache *c, unsigned id)
{
    shmc_class_stats cs;
    assert_ok(shmc_class_stats_get(c, id, &cs));
    return cs;
}

/* Store keys tail0.. of len bytes each until nstores; the ones still held
 * must read back byte-exact.  Returns how many are held. */
static uint64_t store_tails(shmc_cache *c, size_t len, unsigned nstores)
{
    unsigned char *v = malloc(len), *out = malloc(len);
    assert_non_null(v);
    assert_non_null(out);
    for (unsigned i = 0; i < nstores; i++) {
        char key[32];
        snprintf(key, sizeof key, "tail%u", i);
        tu_fill(v, len, i + 7);
        assert_ok(shmc_set(c, KS(key), v, len, 0, 0));
    }
    uint64_t held = 0;
    for (unsigned i = 0; i < nstores; i++) {
        char key[32];
        snprintf(key, sizeof key, "tail%u", i);
        size_t got = len;
        shmc_status st = shmc_get(c, KS(key), out, &got, NULL, NULL);
        if (st == SHMC_NOT_FOUND)
            continue;
        assert_ok(st);
        assert_u64_eq(got, len);
        tu_fill(v, len, i + 7);
        assert_bytes_equal(out, v, len);
        held++;
    }
    free(v);
    free(out);
    return held;
}

/*
 * A value a little over the largest chunk (530,000 bytes against 512 KiB)
 * takes a head of the largest class and a tail of the class that fits
 * the rest, as memcached's chunked items: 16 MiB holds about 28 such
 * items.  With two chunks of the largest class each (before), one item a
 * page: at most 16.  Deleting them frees the tails too.
 */
static void test_large_tail_fits_class(void **state)
{
    shmc_cache *c = CACHE(state);
    size_t len = 530000;
    unsigned largest = shmc_class_count(c);
    uint64_t held = store_tails(c, len, 40);
    shmc_stats s = tu_stats(c);
    print_message("%" PRIu64 " of 40 values of %zu bytes held in 16 MiB\n", held, len);
    assert_u64_eq(s.curr_items, held);
    assert_u64_cmp(held, >=, 24);
    /* the tail: what the head (512 KiB less its header, key and ref) leaves */
    unsigned t = class_for(c, len - class_stats(c, largest).chunk_size + 1024);
    assert_int_not_equal(t, largest);
    assert_u64_eq(class_stats(c, largest).used_chunks, held);
    assert_u64_eq(class_stats(c, t).used_chunks, held);
    assert_int_equal(shmc_check(c, stderr), 0);

    for (unsigned i = 0; i < 40; i++) {
        char key[32];
        snprintf(key, sizeof key, "tail%u", i);
        shmc_status st = shmc_delete(c, KS(key), 0);
        assert_true(st == SHMC_OK || st == SHMC_NOT_FOUND);
    }
    assert_u64_eq(class_stats(c, largest).used_chunks, 0);
    assert_u64_eq(class_stats(c, t).used_chunks, 0);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/*
 * Page moves with tails (812,000-byte values: tails of about 300 KB, 3 a
 * page): moving a page of the tails' class evicts the items whose tails
 * it holds, through their heads in the largest class; moving pages of
 * the largest class until one holds heads frees those heads' tails.  What stays reads back whole
 * and nothing leaks.
 */
static void test_large_tail_page_moves(void **state)
{
    shmc_cache *c = CACHE(state);
    size_t len = 812000;
    unsigned largest = shmc_class_count(c);
    uint64_t held = store_tails(c, len, 24);
    unsigned t = class_for(c, len - class_stats(c, largest).chunk_size + 1024);
    assert_int_not_equal(t, largest);
    assert_u64_cmp(class_stats(c, t).total_pages, >=, 3);
    uint64_t pages = class_stats(c, t).total_pages;

    assert_ok(shmc_slabs_reassign(c, (int)t, 0));
    assert_u64_eq(class_stats(c, t).total_pages, pages - 1);
    uint64_t after_t = tu_stats(c).curr_items;
    assert_u64_cmp(after_t, <, held);
    assert_u64_eq(class_stats(c, t).used_chunks, after_t);
    assert_u64_eq(class_stats(c, largest).used_chunks, after_t);
    assert_int_equal(shmc_check(c, stderr), 0);

    /* the first pages to go are those the evictions above left free */
    for (unsigned i = 0; i < 8 && tu_stats(c).curr_items == after_t; i++)
        assert_ok(shmc_slabs_reassign(c, (int)largest, 0));
    uint64_t after_l = tu_stats(c).curr_items;
    assert_u64_cmp(after_l, <, after_t);
    assert_u64_eq(class_stats(c, t).used_chunks, after_l);
    assert_u64_eq(class_stats(c, largest).used_chunks, after_l);
    assert_int_equal(shmc_check(c, stderr), 0);
    /* and what is held still reads back whole: store_tails' reads */
    unsigned char *out = malloc(len), *want = malloc(len);
    assert_non_null(out);
    assert_non_null(want);
    uint64_t read = 0;
    for (unsigned i = 0; i < 24; i++) {
        char key[32];
        snprintf(key, sizeof key, "tail%u", i);
        size_t got = len;
        if (shmc_get(c, KS(key), out, &got, NULL, NULL) != SHMC_OK)
            continue;
        tu_fill(want, len, i + 7);
        assert_u64_eq(got, len);
        assert_bytes_equal(out, want, len);
        read++;
    }
    assert_u64_eq(read, after_l);
    free(out);
    free(want);
}

/* ------------------------------------------------------------------ */
/* Configuration checks                                                */
/* ------------------------------------------------------------------ */

static void expect_invalid_config(const shmc_config *cfg, const char *what)
{
    char path[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "cfg");
    shmc_cache *c = NULL;
    shmc_status st = shmc_create(path, cfg, &c);
    if (st != SHMC_INVALID) {
        if (st == SHMC_OK)
            shmc_close(c);
        tu_remove(path);
        fail_msg("shmc_create with %s returned " TU_STATUS_FMT ", expected SHMC_INVALID", what,
                 TU_STATUS_ARGS(st));
    }
    if (tu_file_exists(path)) {
        unlink(path);
        fail_msg("shmc_create with %s failed but left a file at the path", what);
    }
}

static void expect_valid_config(const shmc_config *cfg, const char *what)
{
    char path[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "cfg");
    shmc_cache *c = NULL;
    shmc_status st = shmc_create(path, cfg, &c);
    if (st != SHMC_OK) {
        tu_remove(path);
        fail_msg("shmc_create with %s returned " TU_STATUS_FMT ", expected SHMC_OK", what,
                 TU_STATUS_ARGS(st));
    }
    /* usable */
    shmc_status st2 = shmc_set(c, "k", 1, "v", 1, 0, 0);
    char buf[4];
    size_t len = sizeof buf;
    shmc_status st3 = shmc_get(c, "k", 1, buf, &len, NULL, NULL);
    shmc_config got;
    shmc_status st4 = shmc_config_get(c, &got);
    unsigned problems = shmc_check(c, stderr);
    shmc_close(c);
    tu_remove(path);
    if (st2 != SHMC_OK || st3 != SHMC_OK)
        fail_msg("cache created with %s: set " TU_STATUS_FMT ", get " TU_STATUS_FMT, what,
                 TU_STATUS_ARGS(st2), TU_STATUS_ARGS(st3));
    assert_ok(st4);
    assert_u64_eq(got.item_size_max, cfg->item_size_max);
    assert_u64_eq(got.mem_bytes, cfg->mem_bytes);
    assert_int_equal(problems, 0);
}

static void test_config_validation(void **state)
{
    (void)state;
    shmc_config base, cfg;
    shmc_config_init(&base);

    /* the documented defaults */
    assert_u64_eq(base.mem_bytes, 64 * MiB);
    assert_u64_eq(base.item_size_max, 1 * MiB);
    assert_u64_eq(base.chunk_size_min, 48);
    assert_true(base.growth_factor > 1.2499 && base.growth_factor < 1.2501);
    assert_int_equal(base.no_evict, 0);
    assert_u64_eq(base.hash_power, 16);
    assert_u64_eq(base.max_clients, 256);
    assert_u64_eq(base.hot_lru_pct, 20);
    assert_u64_eq(base.warm_lru_pct, 40);
    assert_int_equal(base.slab_automove, 1);
    assert_int_equal(base.mode, 0600);

    /* item_size_max: 1 KiB .. 128 MiB */
    cfg = base; cfg.mem_bytes = 512 * MiB; cfg.item_size_max = 128 * MiB + 1;
    expect_invalid_config(&cfg, "item_size_max = 128 MiB + 1");
    cfg = base; cfg.mem_bytes = 512 * MiB; cfg.item_size_max = 256 * MiB;
    expect_invalid_config(&cfg, "item_size_max = 256 MiB");
    cfg = base; cfg.item_size_max = 1023;
    expect_invalid_config(&cfg, "item_size_max = 1023");
    cfg = base; cfg.item_size_max = 0;
    expect_invalid_config(&cfg, "item_size_max = 0");

    /* growth_factor must be > 1.0 */
    cfg = base; cfg.growth_factor = 1.0;
    expect_invalid_config(&cfg, "growth_factor = 1.0");
    cfg = base; cfg.growth_factor = 0.5;
    expect_invalid_config(&cfg, "growth_factor = 0.5");
    cfg = base; cfg.growth_factor = -2.0;
    expect_invalid_config(&cfg, "growth_factor = -2.0");
    cfg = base; cfg.growth_factor = 0.0 / 0.0;
    expect_invalid_config(&cfg, "growth_factor = NaN");

    /* mem_bytes: at least 2 MiB */
    cfg = base; cfg.mem_bytes = 2 * MiB - 1;
    expect_invalid_config(&cfg, "mem_bytes = 2 MiB - 1");
    cfg = base; cfg.mem_bytes = 1 * MiB;
    expect_invalid_config(&cfg, "mem_bytes = 1 MiB");
    cfg = base; cfg.mem_bytes = 4096;
    expect_invalid_config(&cfg, "mem_bytes = 4096");

    /* hash_power: 10..31 */
    cfg = base; cfg.hash_power = 9;
    expect_invalid_config(&cfg, "hash_power = 9");
    cfg = base; cfg.hash_power = 32;
    expect_invalid_config(&cfg, "hash_power = 32");

    /* the accepted ends of the ranges */
    cfg = base; cfg.mem_bytes = 2 * MiB;
    expect_valid_config(&cfg, "mem_bytes = 2 MiB");
    cfg = base; cfg.mem_bytes = 2 * MiB; cfg.item_size_max = 1024;
    expect_valid_config(&cfg, "item_size_max = 1 KiB");
    cfg = base; cfg.mem_bytes = 256 * MiB; cfg.item_size_max = 128 * MiB;
    expect_valid_config(&cfg, "item_size_max = 128 MiB");
    cfg = base; cfg.hash_power = 10;
    expect_valid_config(&cfg, "hash_power = 10");
    cfg = base; cfg.growth_factor = 2.0;
    expect_valid_config(&cfg, "growth_factor = 2.0");

    /* NULL config: the defaults */
    char path[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "cfgnull");
    shmc_cache *c = NULL;
    assert_ok(shmc_create(path, NULL, &c));
    shmc_config got;
    assert_ok(shmc_config_get(c, &got));
    shmc_close(c);
    tu_remove(path);
    assert_u64_eq(got.mem_bytes, base.mem_bytes);
    assert_u64_eq(got.item_size_max, base.item_size_max);
    assert_u64_eq(got.hash_power, base.hash_power);
}

/* A 128 MiB item_size_max segment really stores a value over 64 MiB. */
static void test_max_item_size_limit(void **state)
{
    (void)state;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 256 * MiB;
    cfg.item_size_max = 128 * MiB;
    char path[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "huge");
    shmc_cache *c = NULL;
    assert_ok(shmc_create(path, &cfg, &c));
    size_t len = 100 * MiB;
    unsigned char *v = malloc(len);
    assert_non_null(v);
    tu_fill(v, len, 7);
    shmc_status st = shmc_set(c, "huge", 4, v, len, 0, 0);
    void *out = NULL;
    size_t got = 0;
    shmc_status st2 = st == SHMC_OK ? shmc_get_alloc(c, "huge", 4, &out, &got, NULL, NULL)
                                    : SHMC_NOT_FOUND;
    int same = out && got == len && memcmp(out, v, len) == 0;
    free(out);
    free(v);
    unsigned problems = shmc_check(c, stderr);
    shmc_close(c);
    tu_remove(path);
    assert_ok(st);
    assert_ok(st2);
    assert_true(same);
    assert_int_equal(problems, 0);
}

/* 8 MiB, memcached's default 1 MB items: a few values in flight take
 * every chunk of the largest class. */
/* One item of each length from 50 bytes up by 1.25 until below upto,
 * and one of upto bytes: a page for every class they fall in. */
static void fill_classes(shmc_cache *c, size_t upto)
{
    char *filler = malloc(upto);
    assert_non_null(filler);
    memset(filler, 'f', upto);
    unsigned k = 0;
    for (double len = 50; len < (double)upto; len *= 1.25, k++) {
        char key[32];
        snprintf(key, sizeof key, "class:%u", k);
        assert_ok(shmc_set(c, KS(key), filler, (size_t)len, 0, 0));
    }
    assert_ok(shmc_set(c, KS("class:last"), filler, upto, 0, 0));
    free(filler);
}

static int setup_small_large(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 8 * MiB;
    return tu_setup(state, "smalllarge", &cfg);
}

enum { FLIGHT_WRITERS = 4, FLIGHT_STORES = 150 };

/* One writer of the in-flight test: its own handle, values of 300 KB to
 * 1 MB under its own keys; counts what was refused. */
typedef struct flight_writer {
    const char *path;     /* the segment */
    unsigned id;          /* its keys' prefix */
    unsigned refused;     /* out: SHMC_NO_MEMORY answers */
    unsigned errors;      /* out: any other failure */
} flight_writer;

static void *flight_run(void *arg)
{
    flight_writer *w = arg;
    shmc_cache *c;
    if (shmc_open(w->path, &c) != SHMC_OK) {
        w->errors++;
        return NULL;
    }
    size_t max = 1000 * 1000;
    unsigned char *v = malloc(max);
    tu_fill(v, max, w->id);
    for (unsigned i = 0; i < FLIGHT_STORES; i++) {
        char key[32];
        snprintf(key, sizeof key, "flight:%u:%u", w->id, i % 12);
        size_t len = 300 * 1000 + (size_t)((i * 7919u + w->id * 104729u) % 700) * 1000;
        shmc_status st = shmc_set(c, KS(key), v, len, 0, 0);
        if (st == SHMC_NO_MEMORY)
            w->refused++;
        else if (st != SHMC_OK)
            w->errors++;
    }
    free(v);
    shmc_close(c);
    return NULL;
}

/* Four writers of values up to 1 MB into 8 MiB: a store that finds every
 * chunk of the class held by the others' stores in flight waits for them
 * to be linked (then evictable) instead of refusing.  Before, about 40%
 * of such stores were refused (memcached refuses them too); a refusal
 * now needs another writer to hold its chunks for the whole wait, which
 * only a machine starving the test's threads does: 5% is allowed. */
static void test_large_stores_in_flight_wait(void **state)
{
    tu_fix *f = *state;
    /* first an item in every class below the largest: each takes its
     * one page, which no page move may take from it, so the large
     * values share what is left */
    fill_classes(f->c, 400 * 1000);
    flight_writer w[FLIGHT_WRITERS];
    pthread_t t[FLIGHT_WRITERS];
    for (unsigned i = 0; i < FLIGHT_WRITERS; i++) {
        w[i] = (flight_writer){.path = f->path, .id = i + 1};
        assert_int_equal(pthread_create(&t[i], NULL, flight_run, &w[i]), 0);
    }
    unsigned refused = 0, errors = 0;
    for (unsigned i = 0; i < FLIGHT_WRITERS; i++) {
        pthread_join(t[i], NULL);
        refused += w[i].refused;
        errors += w[i].errors;
    }
    print_message("%u of %u stores refused\n", refused, FLIGHT_WRITERS * FLIGHT_STORES);
    assert_int_equal(errors, 0);
    assert_true(refused * 20 <= FLIGHT_WRITERS * FLIGHT_STORES);
    assert_u64_eq(shmc_check(f->c, stderr), 0);
}

/* A class whose every chunk holds a tail has nothing in its LRU to evict:
 * the owner of its least recently used tail, a head in the largest class,
 * is evicted instead.  Every class holds its first page (8 MiB, past the
 * limit: no page moves); two values of 960,000 bytes leave their tails in
 * both chunks of the 493,552-byte class, then a 450,000-byte value needs
 * one of them.  Before, it was refused (SHMC_NO_MEMORY; values of 10 B to
 * 1 MB at 8 MiB: 12 stores refused). */
static void test_large_class_full_of_tails(void **state)
{
    tu_fix *f = *state;
    fill_classes(f->c, 500 * 1000);
    size_t len = 960000;
    unsigned char *v = malloc(len), *out = malloc(len);
    assert_non_null(v);
    assert_non_null(out);
    for (unsigned i = 0; i < 2; i++) {
        char key[32];
        snprintf(key, sizeof key, "chained%u", i);
        tu_fill(v, len, i);
        assert_ok(shmc_set(f->c, KS(key), v, len, 0, 0));
    }
    tu_fill(v, 450000, 9);
    shmc_status st = shmc_set(f->c, KS("plain"), v, 450000, 0, 0);
    if (st != SHMC_OK)
        fail_msg("a 450,000-byte value among tails: " TU_STATUS_FMT, TU_STATUS_ARGS(st));
    size_t got = len;
    assert_ok(shmc_get(f->c, KS("plain"), out, &got, NULL, NULL));
    assert_u64_eq(got, 450000);
    assert_bytes_equal(out, v, 450000);
    assert_missing(f->c, "chained0"); /* the least recently used owner */
    got = len;
    assert_ok(shmc_get(f->c, KS("chained1"), out, &got, NULL, NULL));
    tu_fill(v, len, 1);
    assert_u64_eq(got, len);
    assert_bytes_equal(out, v, len);
    assert_u64_eq(shmc_check(f->c, stderr), 0);
    free(v);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_large_values_roundtrip, setup_large, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_append, setup_large, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_too_large, setup_large, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_eviction, setup_large, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_stores_in_flight_wait, setup_small_large,
                                        tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_tail_fits_class, setup_16m, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_tail_page_moves, setup_16m, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_class_full_of_tails, setup_small_large,
                                        tu_teardown),
        cmocka_unit_test(test_config_validation),
        cmocka_unit_test(test_max_item_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
