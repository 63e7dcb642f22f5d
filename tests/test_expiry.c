/*
 * test_expiry.c - memcached's expiration and flush rules, driven by the
 * segment clock (shmc_clock_advance); nothing here sleeps.
 *
 * Real time may tick by a second between two calls, so every boundary is
 * checked with a margin of at least 2 s on each side.
 */
#include "testutil.h"

#define KS(s) (s), strlen(s)
#define THIRTY_DAYS (60 * 60 * 24 * 30)

static int setup(void **state)
{
    return tu_setup(state, "expiry", NULL);
}


static uint64_t seg_time(shmc_cache *c)
{
    return tu_stats(c).time;
}

/* The segment clock is shared and moves by exactly what is asked. */
static void test_clock_advance(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t t0 = seg_time(c);
    assert_ok(shmc_clock_advance(c, 1000));
    uint64_t t1 = seg_time(c);
    assert_u64_cmp(t1, >=, t0 + 1000);
    assert_u64_cmp(t1, <=, t0 + 1003);
    shmc_stats s = tu_stats(c);
    assert_u64_cmp(s.uptime, >=, 1000);
    assert_u64_cmp(s.uptime, <=, 1005);
}

/* "exptime ... up to 30 days: number of seconds from now". */
static void test_relative_exptime(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "k", "v", 0, 10));
    assert_value_str(c, "k", "v");
    assert_ok(shmc_clock_advance(c, 7));
    assert_value_str(c, "k", "v");           /* +7 (+ at most 1 real) < 10 */
    assert_ok(shmc_clock_advance(c, 5));
    assert_missing(c, "k");                  /* +12 > 10 */

    /* expired is absent for every command */
    assert_status(shmc_touch(c, KS("k"), 100), SHMC_NOT_FOUND);
    assert_status(shmc_incr(c, KS("k"), 1, NULL), SHMC_NOT_FOUND);
    assert_status(shmc_delete(c, KS("k"), 0), SHMC_NOT_FOUND);
    assert_status(shmc_store(c, SHMC_REPLACE, KS("k"), "r", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_status(shmc_store(c, SHMC_APPEND, KS("k"), "r", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), "r", 1, 0, 0, 1, NULL), SHMC_NOT_FOUND);
    assert_ok(shmc_store(c, SHMC_ADD, KS("k"), "added", 5, 0, 0, 0, NULL));
    assert_value_str(c, "k", "added");
}

/* The exact boundary: an item with exptime T is gone once now >= T. */
static void test_relative_boundary_one_second(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "k", "v", 0, 1));
    assert_ok(shmc_clock_advance(c, 2));
    assert_missing(c, "k");

    assert_ok(tu_set(c, "k2", "v", 0, 100));
    assert_ok(shmc_clock_advance(c, 97));
    assert_value_str(c, "k2", "v");
    assert_ok(shmc_clock_advance(c, 4));
    assert_missing(c, "k2");
}

/* "exptime ... more than 30 days: an absolute Unix time". */
static void test_absolute_exptime(void **state)
{
    shmc_cache *c = CACHE(state);
    int64_t now = (int64_t)seg_time(c);
    assert_ok(tu_set(c, "k", "v", 0, now + 100));
    assert_ok(shmc_clock_advance(c, 50));
    assert_value_str(c, "k", "v");
    assert_ok(shmc_clock_advance(c, 45));
    assert_value_str(c, "k", "v");           /* +95 (+1) < 100 */
    assert_ok(shmc_clock_advance(c, 10));
    assert_missing(c, "k");                  /* +105 */

    /* absolute time in the past: expired at once */
    now = (int64_t)seg_time(c);
    assert_ok(tu_set(c, "past", "v", 0, now - 10));
    assert_missing(c, "past");
}

/* 2592000 is the last relative value; 2592001 is a Unix time in 1970. */
static void test_thirty_day_rule(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "abs1970", "v", 0, THIRTY_DAYS + 1));
    assert_missing(c, "abs1970");

    assert_ok(tu_set(c, "rel30d", "v", 0, THIRTY_DAYS));
    assert_value_str(c, "rel30d", "v");
    assert_ok(shmc_clock_advance(c, THIRTY_DAYS - 100));
    assert_value_str(c, "rel30d", "v");
    assert_ok(shmc_clock_advance(c, 200));
    assert_missing(c, "rel30d");

    /* touch and gat follow the same rule */
    assert_ok(tu_set(c, "t", "v", 0, 0));
    assert_ok(shmc_touch(c, KS("t"), THIRTY_DAYS + 1));
    assert_missing(c, "t");
}

/* "If a negative value is given the item is immediately expired." */
static void test_negative_exptime(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "k", "v", 0, -1));
    assert_missing(c, "k");
    assert_ok(tu_set(c, "k2", "v", 0, INT64_MIN));
    assert_missing(c, "k2");

    /* negative exptime on an existing key removes what was there */
    assert_ok(tu_set(c, "k3", "old", 0, 0));
    assert_ok(tu_set(c, "k3", "new", 0, -1));
    assert_missing(c, "k3");
    assert_ok(shmc_store(c, SHMC_ADD, KS("k3"), "added", 5, 0, 0, 0, NULL));
    assert_value_str(c, "k3", "added");

    /* touch with a negative time expires the item */
    assert_ok(tu_set(c, "k4", "v", 0, 0));
    assert_ok(shmc_touch(c, KS("k4"), -1));
    assert_missing(c, "k4");
}

/* "If it's 0, the item never expires." */
static void test_zero_never_expires(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "k", "v", 0, 0));
    assert_ok(shmc_clock_advance(c, 86400LL * 365 * 10));   /* 10 years */
    assert_value_str(c, "k", "v");
    shmc_maintain(c);
    assert_value_str(c, "k", "v");

    /* a relative exptime set now is relative to the advanced clock */
    assert_ok(tu_set(c, "r", "v", 0, 100));
    assert_ok(shmc_clock_advance(c, 90));
    assert_value_str(c, "r", "v");
    assert_ok(shmc_clock_advance(c, 20));
    assert_missing(c, "r");
}

/* "touch" extends, shortens, or clears (0) the expiration time. */
static void test_touch(void **state)
{
    shmc_cache *c = CACHE(state);

    /* extend */
    assert_ok(tu_set(c, "ext", "v", 0, 10));
    assert_ok(shmc_clock_advance(c, 5));
    assert_ok(shmc_touch(c, KS("ext"), 100));
    assert_ok(shmc_clock_advance(c, 50));    /* +55: past the old 10 */
    assert_value_str(c, "ext", "v");
    assert_ok(shmc_clock_advance(c, 55));    /* +110: past 5+100 */
    assert_missing(c, "ext");

    /* shorten */
    assert_ok(tu_set(c, "short", "v", 0, 1000));
    assert_ok(shmc_touch(c, KS("short"), 10));
    assert_ok(shmc_clock_advance(c, 13));
    assert_missing(c, "short");

    /* clear: never expires */
    assert_ok(tu_set(c, "clear", "v", 0, 10));
    assert_ok(shmc_touch(c, KS("clear"), 0));
    assert_ok(shmc_clock_advance(c, 10000));
    assert_value_str(c, "clear", "v");

    /* absolute */
    assert_ok(tu_set(c, "abs", "v", 0, 10));
    int64_t now = (int64_t)seg_time(c);
    assert_ok(shmc_touch(c, KS("abs"), now + 1000));
    assert_ok(shmc_clock_advance(c, 500));
    assert_value_str(c, "abs", "v");
    assert_ok(shmc_clock_advance(c, 510));
    assert_missing(c, "abs");

    /* touch keeps the value and flags */
    assert_ok(tu_set(c, "keep", "value", 0x1234, 0));
    assert_ok(shmc_touch(c, KS("keep"), 100));
    uint32_t flags = 0;
    char buf[16];
    size_t len = sizeof buf;
    assert_ok(shmc_get(c, KS("keep"), buf, &len, &flags, NULL));
    assert_u64_eq(len, 5);
    assert_memory_equal(buf, "value", 5);
    assert_u64_eq(flags, 0x1234);

    /* missing */
    assert_status(shmc_touch(c, KS("nokey"), 100), SHMC_NOT_FOUND);
}

/* "gat": get the value and set a new expiration time. */
static void test_gat(void **state)
{
    shmc_cache *c = CACHE(state);
    char buf[16];
    size_t len;
    uint32_t flags = 0;

    assert_ok(tu_set(c, "k", "value", 77, 10));
    assert_ok(shmc_clock_advance(c, 5));
    len = sizeof buf;
    assert_ok(shmc_gat(c, KS("k"), 100, buf, &len, &flags, NULL));
    assert_u64_eq(len, 5);
    assert_memory_equal(buf, "value", 5);
    assert_u64_eq(flags, 77);
    assert_ok(shmc_clock_advance(c, 50));
    assert_value_str(c, "k", "value");
    assert_ok(shmc_clock_advance(c, 55));
    assert_missing(c, "k");

    /* gat to 0: never expires */
    assert_ok(tu_set(c, "z", "v", 0, 10));
    len = sizeof buf;
    assert_ok(shmc_gat(c, KS("z"), 0, buf, &len, NULL, NULL));
    assert_ok(shmc_clock_advance(c, 1000));
    assert_value_str(c, "z", "v");

    /* gat shortening */
    len = sizeof buf;
    assert_ok(shmc_gat(c, KS("z"), 10, buf, &len, NULL, NULL));
    assert_ok(shmc_clock_advance(c, 13));
    assert_missing(c, "z");

    /* gat with a negative time: the hit is returned, then the item is gone */
    assert_ok(tu_set(c, "neg", "v", 0, 0));
    len = sizeof buf;
    assert_ok(shmc_gat(c, KS("neg"), -1, buf, &len, NULL, NULL));
    assert_u64_eq(len, 1);
    assert_missing(c, "neg");

    /* missing / expired */
    len = sizeof buf;
    assert_status(shmc_gat(c, KS("nokey"), 100, buf, &len, NULL, NULL), SHMC_NOT_FOUND);
    assert_ok(tu_set(c, "exp", "v", 0, 5));
    assert_ok(shmc_clock_advance(c, 8));
    len = sizeof buf;
    assert_status(shmc_gat(c, KS("exp"), 100, buf, &len, NULL, NULL), SHMC_NOT_FOUND);
}

/* Modifying commands: append/prepend/incr/cas keep the exptime; set replaces it. */
static void test_exptime_kept_or_replaced(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0;
    assert_ok(tu_set(c, "ap", "a", 0, 10));
    assert_ok(tu_set(c, "in", "1", 0, 10));
    assert_ok(tu_set(c, "se", "s", 0, 10));
    assert_ok(shmc_store(c, SHMC_SET, KS("cs"), "c", 1, 0, 10, 0, &cas));

    assert_ok(shmc_store(c, SHMC_APPEND, KS("ap"), "b", 1, 0, 0, 0, NULL));
    assert_ok(shmc_incr(c, KS("in"), 1, NULL));
    assert_ok(tu_set(c, "se", "t", 0, 0));
    /* cas stores with its own exptime (like set) */
    assert_ok(shmc_store(c, SHMC_CAS, KS("cs"), "d", 1, 0, 1000, cas, NULL));

    assert_ok(shmc_clock_advance(c, 13));
    assert_missing(c, "ap");
    assert_missing(c, "in");
    assert_value_str(c, "se", "t");
    assert_value_str(c, "cs", "d");
}

/* "flush_all" with no delay: every existing item is invalid at once;
 * items stored afterwards, even in the same second, are valid. */
static void test_flush_all_now(void **state)
{
    shmc_cache *c = CACHE(state);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_ok(tu_set(c, key, "v", 0, i % 2 ? 0 : 1000));
    }
    assert_ok(shmc_flush_all(c, 0));
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_missing(c, key);
    }
    /* flushed items are absent for every command */
    assert_status(shmc_touch(c, KS("k1"), 0), SHMC_NOT_FOUND);
    assert_status(shmc_incr(c, KS("k1"), 1, NULL), SHMC_NOT_FOUND);
    assert_status(shmc_delete(c, KS("k2"), 0), SHMC_NOT_FOUND);
    assert_status(shmc_store(c, SHMC_REPLACE, KS("k3"), "r", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_ok(shmc_store(c, SHMC_ADD, KS("k4"), "added", 5, 0, 0, 0, NULL));
    assert_value_str(c, "k4", "added");

    /* stored right after the flush (same second): visible */
    assert_ok(tu_set(c, "after", "v", 0, 0));
    assert_value_str(c, "after", "v");
    assert_ok(shmc_clock_advance(c, 100));
    assert_value_str(c, "after", "v");
    assert_value_str(c, "k4", "added");
    assert_missing(c, "k0");

    /* a second flush takes those too */
    assert_ok(shmc_flush_all(c, 0));
    assert_missing(c, "after");
    assert_missing(c, "k4");
}

/* "flush_all <delay>": items stay valid until the delay passes. */
static void test_flush_all_delay(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "a", "v", 0, 0));
    assert_ok(tu_set(c, "b", "v", 0, 0));
    assert_ok(shmc_flush_all(c, 100));
    assert_value_str(c, "a", "v");
    assert_ok(shmc_clock_advance(c, 50));
    assert_value_str(c, "a", "v");
    assert_value_str(c, "b", "v");
    assert_ok(shmc_clock_advance(c, 45));
    assert_value_str(c, "a", "v");            /* +95 (+1) */
    assert_ok(shmc_clock_advance(c, 10));
    assert_missing(c, "a");                   /* +105 */
    assert_missing(c, "b");

    /* items stored after the deadline are valid */
    assert_ok(shmc_clock_advance(c, 5));
    assert_ok(tu_set(c, "c", "v", 0, 0));
    assert_value_str(c, "c", "v");
    assert_ok(shmc_clock_advance(c, 1000));
    assert_value_str(c, "c", "v");
}

/* flush_all's delay follows the exptime rules: > 30 days is a Unix time. */
static void test_flush_all_absolute(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "a", "v", 0, 0));
    int64_t now = (int64_t)seg_time(c);
    assert_ok(shmc_flush_all(c, now + 200));
    assert_ok(shmc_clock_advance(c, 190));
    assert_value_str(c, "a", "v");
    assert_ok(shmc_clock_advance(c, 20));
    assert_missing(c, "a");
}

/* A later flush_all replaces a pending delayed one (memcached keeps one
 * oldest_live setting). */
static void test_flush_all_replaces_pending(void **state)
{
    shmc_cache *c = CACHE(state);
    /* delayed, then immediate: items written after the immediate flush
     * survive the first deadline */
    assert_ok(tu_set(c, "a", "v", 0, 0));
    assert_ok(shmc_flush_all(c, 100));
    assert_ok(shmc_flush_all(c, 0));
    assert_missing(c, "a");
    assert_ok(tu_set(c, "b", "v", 0, 0));
    assert_ok(shmc_clock_advance(c, 110));
    assert_value_str(c, "b", "v");

    /* delayed, then a longer delay: the later deadline counts */
    assert_ok(shmc_flush_all(c, 100));
    assert_ok(shmc_flush_all(c, 1000));
    assert_ok(shmc_clock_advance(c, 110));
    assert_value_str(c, "b", "v");
    assert_ok(shmc_clock_advance(c, 900));
    assert_missing(c, "b");
}

/* Expired / flushed misses are counted (get_expired, get_flushed). */
static void test_stats_expired_flushed(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "e", "v", 0, 10));
    assert_ok(shmc_clock_advance(c, 13));
    shmc_stats a = tu_stats(c);
    assert_missing(c, "e");
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.get_misses, a.get_misses + 1);
    assert_u64_eq(b.get_expired, a.get_expired + 1);
    assert_u64_eq(b.get_flushed, a.get_flushed);
    assert_u64_eq(b.cmd_get, a.cmd_get + 1);

    /* the expired item is gone: a second get is a plain miss */
    assert_missing(c, "e");
    a = tu_stats(c);
    assert_u64_eq(a.get_misses, b.get_misses + 1);
    assert_u64_eq(a.get_expired, b.get_expired);

    assert_ok(tu_set(c, "f", "v", 0, 0));
    assert_ok(shmc_flush_all(c, 0));
    a = tu_stats(c);
    assert_missing(c, "f");
    b = tu_stats(c);
    assert_u64_eq(b.get_misses, a.get_misses + 1);
    assert_u64_eq(b.get_flushed, a.get_flushed + 1);
    assert_u64_eq(b.get_expired, a.get_expired);
}

/* Expired items no longer count once reclaimed; the cache stays consistent. */
static void test_expired_reclaimed(void **state)
{
    shmc_cache *c = CACHE(state);
    char val[200];
    memset(val, 'x', sizeof val);
    for (int i = 0; i < 2000; i++) {
        char key[32];
        snprintf(key, sizeof key, "exp%d", i);
        assert_ok(shmc_set(c, KS(key), val, sizeof val, 0, 10));
    }
    assert_ok(tu_set(c, "keeper", "v", 0, 0));
    assert_u64_eq(tu_stats(c).curr_items, 2001);
    assert_ok(shmc_clock_advance(c, 20));
    /* touching every key (or maintenance) reclaims them */
    for (int i = 0; i < 2000; i++) {
        char key[32];
        snprintf(key, sizeof key, "exp%d", i);
        assert_missing(c, key);
    }
    for (int i = 0; i < 100; i++)
        assert_ok(shmc_maintain(c));
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.curr_items, 1);
    assert_value_str(c, "keeper", "v");
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* Store n keys "<prefix>i" of vlen bytes: even ones expire in 10 s. */
static void store_every_other_expiring(shmc_cache *c, const char *prefix, int n, size_t vlen)
{
    char val[4096];
    memset(val, 'v', vlen);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s%d", prefix, i);
        assert_ok(shmc_set(c, KS(key), val, vlen, 0, i % 2 == 0 ? 10 : 0));
    }
}

/* Crawl class_id to the end, max_pages at a time; the sums. */
static shmc_crawl_result crawl_all(shmc_cache *c, unsigned class_id, uint32_t max_pages)
{
    shmc_crawl_result sum = {0, 0, 0, 0}, r;
    uint32_t page = 0;
    int calls = 0;
    do {
        assert_ok(shmc_crawl(c, class_id, page, max_pages, &r));
        sum.checked += r.checked;
        sum.reclaimed += r.reclaimed;
        sum.busy += r.busy;
        page = r.next_page;
        assert_true(++calls < 100000);
    } while (page != 0);
    return sum;
}

/* memcached's LRU crawler: expired items in the middle of the lists,
 * which maintenance at the tails does not reach, are all freed by one
 * crawl, whether in one call or a page per call; then flushed ones. */
static void test_crawl_frees_every_dead_item(void **state)
{
    shmc_cache *c = CACHE(state);
    store_every_other_expiring(c, "small", 3000, 100);
    store_every_other_expiring(c, "large", 400, 3000);
    shmc_item_info info;
    assert_ok(shmc_get_info(c, KS("large1"), NULL, NULL, NULL, &info));
    assert_ok(shmc_clock_advance(c, 20));
    uint64_t reclaimed = tu_stats(c).reclaimed;

    shmc_crawl_result r = crawl_all(c, info.class_id, 0); /* one class only */
    assert_u64_eq(r.checked, 400);
    assert_u64_eq(r.reclaimed, 200);
    assert_u64_eq(r.busy, 0);
    assert_u64_eq(tu_stats(c).curr_items, 3400 - 200);
    r = crawl_all(c, 0, 1); /* every class, a page per call */
    assert_u64_eq(r.checked, 3200);
    assert_u64_eq(r.reclaimed, 1500);
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.curr_items, 1700);
    assert_u64_eq(s.reclaimed, reclaimed + 1700);
    assert_ok(shmc_get_info(c, KS("small1"), NULL, NULL, NULL, &info)); /* live ones stay */
    assert_missing(c, "small0");
    r = crawl_all(c, 0, 0);
    assert_u64_eq(r.checked, 1700);
    assert_u64_eq(r.reclaimed, 0);

    assert_ok(shmc_flush_all(c, 0));
    r = crawl_all(c, 0, 0);
    assert_u64_eq(r.reclaimed, 1700);
    assert_u64_eq(tu_stats(c).curr_items, 0);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* shmc_crawl refuses what it cannot walk. */
static void test_crawl_bad_arguments(void **state)
{
    shmc_cache *c = CACHE(state);
    shmc_crawl_result r;
    assert_int_equal(shmc_crawl(c, 0, 0, 0, NULL), SHMC_INVALID);
    assert_int_equal(shmc_crawl(NULL, 0, 0, 0, &r), SHMC_INVALID);
    assert_int_equal(shmc_crawl(c, shmc_class_count(c) + 1, 0, 0, &r), SHMC_INVALID);
    assert_int_equal(shmc_crawl(c, 0, UINT32_MAX, 0, &r), SHMC_INVALID);
    assert_ok(shmc_crawl(c, shmc_class_count(c), 0, 0, &r));
    assert_int_equal(r.next_page, 0);
}

/* A flush and a clock move by one process are seen by every process. */
static void test_flush_seen_by_other_process(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    assert_ok(tu_set(c, "p1", "v", 0, 0));
    assert_ok(tu_set(c, "p2", "v", 0, 0));

    /* child flushes; parent sees the keys gone */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *cc = NULL;
        CHILD_OK(shmc_open(f->path, &cc));
        CHILD_OK(tu_get_status(cc, "p1"));
        CHILD_OK(shmc_flush_all(cc, 0));
        CHILD_STATUS(tu_get_status(cc, "p1"), SHMC_NOT_FOUND);
        shmc_close(cc);
        _exit(0);
    }
    tu_wait_ok(pid, 30);
    assert_missing(c, "p1");
    assert_missing(c, "p2");

    /* parent flushes; a new child sees old keys gone and new ones present */
    assert_ok(tu_set(c, "q1", "v", 0, 0));
    assert_ok(shmc_flush_all(c, 0));
    assert_ok(tu_set(c, "q2", "v2", 0, 0));
    /* and a delayed flush set by the parent, with the clock moved by the child */
    assert_ok(tu_set(c, "d1", "v", 0, 0));
    uint64_t t0 = seg_time(c);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *cc = NULL;
        CHILD_OK(shmc_open(f->path, &cc));
        CHILD_STATUS(tu_get_status(cc, "q1"), SHMC_NOT_FOUND);
        CHILD_OK(tu_get_status(cc, "q2"));
        CHILD_OK(tu_get_status(cc, "d1"));
        shmc_stats s;
        CHILD_OK(shmc_stats_get(cc, &s));
        CHILD_CHECK(s.time + 2 >= t0 && s.time <= t0 + 3);
        CHILD_OK(shmc_clock_advance(cc, 500));
        shmc_close(cc);
        _exit(0);
    }
    tu_wait_ok(pid, 30);
    uint64_t t1 = seg_time(c);
    assert_u64_cmp(t1, >=, t0 + 500);
    assert_u64_cmp(t1, <=, t0 + 503);

    assert_ok(shmc_flush_all(c, 100));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *cc = NULL;
        CHILD_OK(shmc_open(f->path, &cc));
        CHILD_OK(tu_get_status(cc, "d1"));      /* delay not yet passed */
        CHILD_OK(shmc_clock_advance(cc, 110));
        CHILD_STATUS(tu_get_status(cc, "d1"), SHMC_NOT_FOUND);
        shmc_close(cc);
        _exit(0);
    }
    tu_wait_ok(pid, 30);
    assert_missing(c, "d1");
    assert_missing(c, "q2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_teardown)
        T(test_clock_advance),
        T(test_relative_exptime),
        T(test_relative_boundary_one_second),
        T(test_absolute_exptime),
        T(test_thirty_day_rule),
        T(test_negative_exptime),
        T(test_zero_never_expires),
        T(test_touch),
        T(test_gat),
        T(test_exptime_kept_or_replaced),
        T(test_flush_all_now),
        T(test_flush_all_delay),
        T(test_flush_all_absolute),
        T(test_flush_all_replaces_pending),
        T(test_stats_expired_flushed),
        T(test_expired_reclaimed),
        T(test_crawl_frees_every_dead_item),
        T(test_crawl_bad_arguments),
        T(test_flush_seen_by_other_process),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
