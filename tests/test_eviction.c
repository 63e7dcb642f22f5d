/*
 * test_eviction.c - a small cache under memory pressure: LRU eviction,
 * recently used items surviving, no_evict (memcached -M), reclaiming
 * expired memory, and slab page moves when value sizes shift.
 */
#include <stdbool.h>

#include "testutil.h"

#define KS(s) (s), strlen(s)
#define MiB (1024u * 1024u)

static int setup_small(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 4 * MiB;
    return tu_setup(state, "evict", &cfg);
}

static int setup_noevict(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 4 * MiB;
    cfg.no_evict = 1;
    return tu_setup(state, "noevict", &cfg);
}


static void key_of(char *buf, size_t n, const char *prefix, int i)
{
    snprintf(buf, n, "%s%d", prefix, i);
}

/* Value of key i: length len, content derived from (prefix, i). */
static void val_of(char *buf, size_t len, int i)
{
    tu_fill(buf, len, (uint64_t)i * 2654435761u + len);
}

/* 1 if key holds exactly the value val_of(i, len); 0 if missing; fails on a wrong value. */
static int check_key(shmc_cache *c, const char *prefix, int i, size_t len)
{
    char key[64];
    key_of(key, sizeof key, prefix, i);
    char *want = malloc(len + 1);
    char *got = malloc(len + 1);
    assert_non_null(want);
    assert_non_null(got);
    val_of(want, len, i);
    size_t glen = len + 1;
    shmc_status st = shmc_get(c, KS(key), got, &glen, NULL, NULL);
    int present = 0;
    if (st == SHMC_OK) {
        if (glen != len || memcmp(got, want, len) != 0)
            fail_msg("key %s: wrong value (len %zu, expected %zu)", key, glen, len);
        present = 1;
    } else if (st != SHMC_NOT_FOUND) {
        fail_msg("get %s returned " TU_STATUS_FMT, key, TU_STATUS_ARGS(st));
    }
    free(want);
    free(got);
    return present;
}

static shmc_status put_key(shmc_cache *c, const char *prefix, int i, size_t len, int64_t exptime)
{
    char key[64];
    key_of(key, sizeof key, prefix, i);
    char *v = malloc(len + 1);
    assert_non_null(v);
    val_of(v, len, i);
    shmc_status st = shmc_set(c, KS(key), v, len, 0, exptime);
    free(v);
    return st;
}

/* memcached default: when memory is full, the LRU tail is evicted and the
 * store succeeds; every item is either still stored intact or counted
 * as evicted. */
static void test_eviction_keeps_storing(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    const int n = 60000;
    const size_t vlen = 200;
    for (int i = 0; i < n; i++) {
        shmc_status st = put_key(c, "key", i, vlen, 0);
        if (st != SHMC_OK)
            fail_msg("set #%d returned " TU_STATUS_FMT, i, TU_STATUS_ARGS(st));
    }
    shmc_stats s = tu_stats(c);
    assert_u64_cmp(s.evictions, >, 0);
    assert_u64_eq(s.total_items, n);
    assert_u64_cmp(s.curr_items, <, n);
    /* the cache really holds a good share of its memory in items */
    size_t per_item = shmc_item_overhead() + 8 + vlen;
    assert_u64_cmp(s.curr_items, >=, f->cfg.mem_bytes / (4 * per_item));
    assert_u64_cmp(s.bytes, <=, s.limit_maxbytes);
    /* nothing was read: every eviction was of an unfetched item */
    assert_u64_eq(s.evicted_unfetched, s.evictions);
    /* each item is either stored or evicted */
    assert_u64_eq(s.curr_items + s.evictions, n);

    /* the newest items are there, the oldest are gone */
    for (int i = n - 100; i < n; i++)
        if (!check_key(c, "key", i, vlen))
            fail_msg("recently written key%d was evicted", i);
    assert_int_equal(check_key(c, "key", 0, vlen), 0);

    /* every item found is intact, and exactly curr_items are found */
    uint64_t present = 0;
    for (int i = 0; i < n; i++)
        present += (uint64_t)check_key(c, "key", i, vlen);
    s = tu_stats(c);
    assert_u64_eq(present, s.curr_items);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* The LRU: items read again and again survive a flood of new writes;
 * items never read are the ones evicted. */
static void test_hot_items_survive(void **state)
{
    shmc_cache *c = CACHE(state);
    const size_t vlen = 200;
    const int ncold = 5000, nhot = 100, rounds = 60, per_round = 1000;

    for (int i = 0; i < ncold; i++)
        assert_ok(put_key(c, "cold", i, vlen, 0));
    for (int i = 0; i < nhot; i++)
        assert_ok(put_key(c, "hot", i, vlen, 0));
    for (int i = 0; i < nhot; i++) {
        assert_int_equal(check_key(c, "hot", i, vlen), 1);
        assert_int_equal(check_key(c, "hot", i, vlen), 1);
    }

    int fill = 0;
    for (int r = 0; r < rounds; r++) {
        /* memcached bumps an item at most once per ITEM_UPDATE_INTERVAL (60 s) */
        assert_ok(shmc_clock_advance(c, 61));
        for (int j = 0; j < per_round; j++, fill++) {
            shmc_status st = put_key(c, "fill", fill, vlen, 0);
            if (st != SHMC_OK)
                fail_msg("set fill%d returned " TU_STATUS_FMT, fill, TU_STATUS_ARGS(st));
        }
        for (int i = 0; i < nhot; i++)
            (void)check_key(c, "hot", i, vlen);
    }

    shmc_stats s = tu_stats(c);
    /* the flood was several times the cache */
    assert_u64_cmp(s.evictions, >, (uint64_t)rounds * per_round / 2);
    int hot_left = 0, cold_left = 0;
    for (int i = 0; i < nhot; i++)
        hot_left += check_key(c, "hot", i, vlen);
    for (int i = 0; i < ncold; i++)
        cold_left += check_key(c, "cold", i, vlen);
    print_message("hot items left: %d/%d, cold items left: %d/%d, evictions %" PRIu64 "\n",
                  hot_left, nhot, cold_left, ncold, s.evictions);
    if (hot_left < nhot * 9 / 10)
        fail_msg("only %d of %d frequently read items survived", hot_left, nhot);
    if (cold_left > ncold / 20)
        fail_msg("%d of %d never-read old items survived", cold_left, ncold);
}

/* A store that must evict takes COLD's oldest item not read since it
 * came there, however many read ones lie at COLD's tail: those go to
 * WARM, HOT's tail moves down meanwhile (memcached's do_item_alloc_pull),
 * and HOT's items, the newest, are not evicted in its place.  (They were
 * once the tail held more read items than one pull looks at.) */
static void test_evict_cold_past_read_tail(void **state)
{
    shmc_cache *c = CACHE(state);
    const size_t vlen = 200;
    const int nread = 40; /* read items at COLD's tail: more than a store's pulls look at */
    int n = 0;
    while (tu_stats(c).evictions == 0)
        assert_ok(put_key(c, "key", n++, vlen, 0));
    for (int j = 0; j < 100; j++)
        assert_ok(put_key(c, "key", n++, vlen, 0));
    /* one writer, nothing read: the cache holds keys [lo, n), oldest in COLD */
    int lo = 0;
    while (lo < n && !check_key(c, "key", lo, vlen)) /* the hit on lo reads it */
        lo++;
    assert_int_not_equal(lo, n);
    for (int i = lo + 1; i < lo + nread; i++)
        assert_int_equal(check_key(c, "key", i, vlen), 1);

    uint64_t evictions = tu_stats(c).evictions;
    assert_ok(put_key(c, "key", n++, vlen, 0));
    assert_u64_eq(tu_stats(c).evictions, evictions + 1);
    /* the victim is the oldest unread item; every other one is held */
    for (int i = lo; i < n; i++)
        if (check_key(c, "key", i, vlen) != (i != lo + nread))
            fail_msg("key%d is %s (oldest unread: key%d)", i,
                     i == lo + nread ? "held" : "evicted", lo + nread);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* memcached -M: "return error on memory exhausted instead of removing items". */
static void test_no_evict(void **state)
{
    shmc_cache *c = CACHE(state);
    const size_t vlen = 200;
    int stored = -1;
    for (int i = 0; i < 100000; i++) {
        shmc_status st = put_key(c, "key", i, vlen, 0);
        if (st == SHMC_NO_MEMORY) {
            stored = i;
            break;
        }
        if (st != SHMC_OK)
            fail_msg("set key%d returned " TU_STATUS_FMT, i, TU_STATUS_ARGS(st));
    }
    if (stored < 0)
        fail_msg("100000 x %zu bytes stored in a 4 MiB cache without SHMC_NO_MEMORY", vlen);
    assert_true(stored > 1000);

    /* still full: new keys of that size are refused, again and again, and
     * every refusal is counted (memcached's items:N:outofmemory) */
    for (int i = 0; i < 100; i++)
        assert_status(put_key(c, "more", i, vlen, 0), SHMC_NO_MEMORY);
    uint64_t refused = 0;
    for (unsigned id = 1; id <= shmc_class_count(c); id++) {
        shmc_class_stats cs;
        assert_ok(shmc_class_stats_get(c, id, &cs));
        refused += cs.outofmemory;
    }
    assert_u64_eq(refused, 101);

    /* nothing was evicted: every stored item is readable and intact */
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.evictions, 0);
    assert_u64_eq(s.curr_items, (uint64_t)stored);
    for (int i = 0; i < stored; i++)
        if (!check_key(c, "key", i, vlen))
            fail_msg("key%d lost in a no_evict cache", i);
    for (int i = 0; i < 100; i++)
        assert_int_equal(check_key(c, "more", i, vlen), 0);

    /* a refused add/replace leaves the old item alone */
    char key[64];
    key_of(key, sizeof key, "key", 0);
    (void)shmc_store(c, SHMC_REPLACE, KS(key), "short", 5, 0, 0, 0, NULL);
    /* (replace with a small value may succeed in another class; either way
     * the key holds one whole value) */
    {
        void *out = NULL;
        size_t len = 0;
        assert_ok(shmc_get_alloc(c, KS(key), &out, &len, NULL, NULL));
        assert_true(len == 5 || len == vlen);
        free(out);
    }

    /* deleting frees memory for new items of the same size */
    for (int i = 1; i <= 200; i++) {
        key_of(key, sizeof key, "key", i);
        assert_ok(shmc_delete(c, KS(key), 0));
    }
    for (int i = 0; i < 200; i++)
        assert_ok(put_key(c, "new", i, vlen, 0));
    for (int i = 0; i < 200; i++)
        assert_int_equal(check_key(c, "new", i, vlen), 1);
    for (int i = 201; i < stored; i++)
        assert_int_equal(check_key(c, "key", i, vlen), 1);
    assert_u64_eq(tu_stats(c).evictions, 0);
}

/* Even with no_evict, expired items' memory is reused (memcached -M
 * only stops evicting live items). */
/* Fill a no_evict cache through one handle with items that then expire,
 * and store 2000 live items through another (the same handle, or one in
 * another client slot, so another shard of every class). */
static void fill_expire_refill(void **state, int other_shard)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c, *w = f->c;
    if (other_shard)
        assert_ok(shmc_open(f->path, &w));
    const size_t vlen = 200;
    int stored = -1;
    for (int i = 0; i < 100000; i++) {
        shmc_status st = put_key(c, "exp", i, vlen, 10);
        if (st == SHMC_NO_MEMORY) {
            stored = i;
            break;
        }
        assert_ok(st);
    }
    assert_true(stored > 1000);
    assert_ok(shmc_clock_advance(c, 20));
    for (int i = 0; i < 2000; i++) {
        shmc_status st = put_key(w, "live", i, vlen, 0);
        if (st != SHMC_OK)
            fail_msg("set live%d after every item expired returned " TU_STATUS_FMT, i,
                     TU_STATUS_ARGS(st));
    }
    for (int i = 0; i < 2000; i++)
        assert_int_equal(check_key(c, "live", i, vlen), 1);
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.evictions, 0);
    assert_u64_cmp(s.reclaimed + s.expired_unfetched, >, 0);
    if (w != c)
        shmc_close(w);
}

static void test_no_evict_reclaims_expired(void **state)
{
    fill_expire_refill(state, 0);
}

/* The expired items are all in the first handle's shard: the second finds
 * them there, though it may evict nothing. */
static void test_no_evict_reclaims_expired_across_shards(void **state)
{
    fill_expire_refill(state, 1);
}

/* Store with retries: when a class has no memory, maintenance (slab
 * automove) must eventually give it a page. Returns rounds needed. */
static int store_with_maintain(shmc_cache *c, const char *prefix, int i, size_t len)
{
    for (int round = 0; round < 600; round++) {
        shmc_status st = put_key(c, prefix, i, len, 0);
        if (st == SHMC_OK)
            return round;
        if (st != SHMC_NO_MEMORY)
            fail_msg("set %s%d (%zu bytes) returned " TU_STATUS_FMT, prefix, i, len,
                     TU_STATUS_ARGS(st));
        assert_ok(shmc_maintain(c));
        assert_ok(shmc_clock_advance(c, 1));
    }
    fail_msg("set %s%d (%zu bytes) still SHMC_NO_MEMORY after 600 maintenance steps",
             prefix, i, len);
    return -1;
}

/* Slab automove: after the memory went to small items, large items can
 * still be stored (pages move between classes), and back again. */
static void test_size_shift(void **state)
{
    shmc_cache *c = CACHE(state);
    const size_t small = 100, large = 20 * 1024;
    const int nsmall = 50000, nlarge = 600;

    for (int i = 0; i < nsmall; i++)
        assert_ok(put_key(c, "s", i, small, 0));
    shmc_stats s1 = tu_stats(c);
    assert_u64_cmp(s1.evictions, >, 0);
    assert_ok(shmc_clock_advance(c, 60)); /* the small items grow old */

    int max_rounds = 0;
    for (int i = 0; i < nlarge; i++) {
        int r = store_with_maintain(c, "L", i, large);
        if (r > max_rounds)
            max_rounds = r;
        if (i % 16 == 15) /* automove: after 16 of 30 seconds evicting, a page a second */
            assert_ok(shmc_clock_advance(c, 1));
    }
    shmc_stats s2 = tu_stats(c);
    print_message("large stores: worst case %d maintenance rounds; slabs_moved %" PRIu64
                  ", free_pages after small phase %" PRIu64 "\n",
                  max_rounds, s2.slabs_moved, s1.free_pages);
    if (s1.free_pages == 0)
        assert_u64_cmp(s2.slabs_moved, >, 0);
    for (int i = nlarge - 20; i < nlarge; i++)
        if (!check_key(c, "L", i, large))
            fail_msg("recently stored large item L%d missing", i);

    /* and back to small values */
    for (int i = 0; i < 5000; i++)
        store_with_maintain(c, "t", i, small);
    for (int i = 5000 - 100; i < 5000; i++)
        if (!check_key(c, "t", i, small))
            fail_msg("recently stored small item t%d missing", i);

    /* a few maintenance steps later everything is still consistent */
    for (int i = 0; i < 50; i++)
        assert_ok(shmc_maintain(c));
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* Automove takes a page from another class, evicting its items, only as
 * memcached decides: the class has evicted in more than half of the last
 * 30 seconds, the other class's least recently used item is older than
 * its own by the ratio 0.8, and no such move was made this second.
 * Without those, classes of like ages kept trading pages, each move a
 * page of items evicted (values of 10 B to 1 MB at 256 MiB: 43 moves in
 * 2 seconds, 0.98 of memcached's items; memcached moved none). */
/* The steps of test_automove_needs_older_items, on a fresh cache: moved[]
 * gets the pages moved after 15 seconds of evictions, in the 16th, and a
 * second later.  false if the real clock ticked while they ran: its
 * second would have been one more evicting second than simulated. */
static bool automove_steps(shmc_cache *c, uint64_t moved[3])
{
    for (int i = 0; i < 50000; i++) /* the limit's pages, all to 100 B values */
        assert_ok(put_key(c, "s", i, 100, 0));
    /* 20 KB values evict in their first page, within the same second:
     * the small items are no older, so no page moves */
    int k = 0;
    for (; k < 400; k++)
        assert_ok(put_key(c, "L", k, 20 * 1024, 0));
    shmc_stats s1 = tu_stats(c);
    assert_u64_cmp(s1.evictions, >=, 300);
    assert_u64_eq(s1.slabs_moved, 0);
    assert_ok(shmc_clock_advance(c, 100)); /* the small items 100 s old */
    int64_t t0 = tu_next_second();
    /* 15 seconds of evictions: not yet more than half of 30 */
    for (int sec = 0; sec < 15; sec++) {
        for (int i = 0; i < 64; i++, k++)
            assert_ok(put_key(c, "L", k, 20 * 1024, 0));
        assert_ok(shmc_clock_advance(c, 1));
    }
    moved[0] = tu_stats(c).slabs_moved;
    /* the 16th second: one page moves, and no other this second */
    for (int i = 0; i < 3 * 64; i++, k++)
        assert_ok(put_key(c, "L", k, 20 * 1024, 0));
    moved[1] = tu_stats(c).slabs_moved;
    /* a second later, another */
    assert_ok(shmc_clock_advance(c, 1));
    for (int i = 0; i < 3 * 64; i++, k++)
        assert_ok(put_key(c, "L", k, 20 * 1024, 0));
    moved[2] = tu_stats(c).slabs_moved;
    assert_int_equal(shmc_check(c, stderr), 0);
    return tu_real_second() == t0;
}

static void test_automove_needs_older_items(void **state)
{
    uint64_t moved[3];
    for (int attempt = 1; !automove_steps(CACHE(state), moved); attempt++) {
        print_message("attempt %d took the real clock past a second; again\n", attempt);
        if (attempt == 5)
            fail_msg("5 attempts each took the real clock past a second");
        assert_int_equal(tu_teardown(state), 0);
        assert_int_equal(setup_small(state), 0);
    }
    assert_u64_eq(moved[0], 0);
    assert_u64_eq(moved[1], 1);
    assert_u64_eq(moved[2], 2);
}

/* Overwrites and deletes under pressure keep the accounting right. */
static void test_churn_accounting(void **state)
{
    shmc_cache *c = CACHE(state);
    /* sizes vary over a range of classes */
    for (int i = 0; i < 30000; i++) {
        size_t len = 50 + (size_t)((i * 7919) % 3000);
        int k = i % 5000;
        char key[32];
        key_of(key, sizeof key, "c", k);
        if (i % 7 == 3) {
            shmc_status st = shmc_delete(c, KS(key), 0);
            assert_true(st == SHMC_OK || st == SHMC_NOT_FOUND);
            continue;
        }
        char *v = malloc(len);
        assert_non_null(v);
        val_of(v, len, i);
        shmc_status st = shmc_set(c, KS(key), v, len, 0, 0);
        free(v);
        if (st == SHMC_NO_MEMORY) {
            /* allowed only while pages are being rebalanced */
            assert_ok(shmc_maintain(c));
            continue;
        }
        assert_ok(st);
    }
    unsigned n = shmc_class_count(c);
    uint64_t items = 0, bytes = 0;
    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats cs;
        assert_ok(shmc_class_stats_get(c, id, &cs));
        items += cs.curr_items;
        bytes += cs.bytes;
    }
    shmc_stats s = tu_stats(c);
    assert_u64_eq(items, s.curr_items);
    assert_u64_eq(bytes, s.bytes);
    assert_u64_cmp(s.curr_items, <=, 5000);
    uint64_t present = 0;
    for (int k = 0; k < 5000; k++) {
        char key[32];
        key_of(key, sizeof key, "c", k);
        present += tu_get_status(c, key) == SHMC_OK;
    }
    assert_u64_eq(present, s.curr_items);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* Expired items are reused before any live item is evicted (memcached
 * checks the LRU tail for expired items first). */
static void test_expired_before_evicted(void **state)
{
    shmc_cache *c = CACHE(state);
    const size_t vlen = 200;
    /* fill the cache several times over with items that expire in 10 s */
    for (int i = 0; i < 60000; i++)
        assert_ok(put_key(c, "old", i, vlen, 10));
    shmc_stats s0 = tu_stats(c);
    assert_u64_cmp(s0.evictions, >, 0);
    uint64_t capacity = s0.curr_items;
    assert_ok(shmc_clock_advance(c, 20));
    /* write half a cache of live items: room comes from expired ones only */
    int n = (int)(capacity / 2);
    for (int i = 0; i < n; i++)
        assert_ok(put_key(c, "live", i, vlen, 0));
    shmc_stats s1 = tu_stats(c);
    print_message("capacity %" PRIu64 " items; evictions %" PRIu64 " -> %" PRIu64
                  ", reclaimed %" PRIu64 " -> %" PRIu64 "\n", capacity, s0.evictions,
                  s1.evictions, s0.reclaimed, s1.reclaimed);
    assert_u64_eq(s1.evictions, s0.evictions);
    assert_u64_cmp(s1.reclaimed, >, s0.reclaimed);
    for (int i = 0; i < n; i++)
        if (!check_key(c, "live", i, vlen))
            fail_msg("live%d evicted while expired items were available", i);
}

/* Per-class counters add up to the whole-cache ones. */
static void test_class_sums(void **state)
{
    shmc_cache *c = CACHE(state);
    for (int i = 0; i < 40000; i++)
        assert_ok(put_key(c, "k", i, 50 + (size_t)(i % 7) * 150, 0));
    shmc_stats s = tu_stats(c);
    unsigned n = shmc_class_count(c);
    uint64_t items = 0, bytes = 0, evictions = 0, pages = 0, evicted_unfetched = 0;
    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats cs;
        assert_ok(shmc_class_stats_get(c, id, &cs));
        items += cs.curr_items;
        bytes += cs.bytes;
        evictions += cs.evictions;
        pages += cs.total_pages;
        evicted_unfetched += cs.evicted_unfetched;
        assert_u64_eq(cs.used_chunks + cs.free_chunks, cs.total_pages * cs.chunks_per_page);
        assert_u64_eq(cs.hot + cs.warm + cs.cold, cs.curr_items);
    }
    assert_u64_cmp(s.evictions, >, 0);
    assert_u64_eq(items, s.curr_items);
    assert_u64_eq(bytes, s.bytes);
    assert_u64_eq(evictions, s.evictions);
    assert_u64_eq(evicted_unfetched, s.evicted_unfetched);
    assert_u64_eq(pages + s.free_pages, s.total_pages);
}

/* The class holding the 80-byte values of the shard tests, and its stats. */
static shmc_class_stats class_of_80(shmc_cache *c)
{
    shmc_item_info info;
    assert_ok(shmc_get_info(c, KS("probe0"), NULL, NULL, NULL, &info));
    shmc_class_stats cs;
    assert_ok(shmc_class_stats_get(c, info.class_id, &cs));
    return cs;
}

/* Four handles are four client slots, so four shards of every class (a
 * lane works in shard (slot + lane) % 4).  Writing one class through all
 * of them fills one page, not one per shard; updates and deletes of what
 * another handle wrote move chunks between shards and lose none. */
static void test_shards_share_pages(void **state)
{
    tu_fix *f = *state;
    shmc_cache *h[4] = {f->c};
    for (int i = 1; i < 4; i++)
        assert_ok(shmc_open(f->path, &h[i]));
    assert_ok(put_key(h[0], "probe", 0, 80, 0));
    for (int i = 0; i < 400; i++)
        assert_ok(put_key(h[i % 4], "s", i, 80, 0));
    shmc_class_stats cs = class_of_80(f->c);
    assert_u64_eq(cs.total_pages, 1);
    assert_u64_eq(cs.curr_items, 401);
    assert_u64_eq(cs.used_chunks, 401);
    for (int i = 0; i < 400; i++) /* each key rewritten by the next handle */
        assert_ok(put_key(h[(i + 1) % 4], "s", i, 80, 0));
    cs = class_of_80(f->c);
    assert_u64_eq(cs.total_pages, 1);
    assert_u64_eq(cs.curr_items, 401);
    assert_u64_eq(cs.used_chunks, 401);
    for (int i = 0; i < 400; i++)
        assert_int_equal(check_key(f->c, "s", i, 80), 1);
    for (int i = 0; i < 400; i++) { /* and deleted by the one after */
        char key[32];
        key_of(key, sizeof key, "s", i);
        assert_ok(shmc_delete(h[(i + 2) % 4], KS(key), 0));
    }
    cs = class_of_80(f->c);
    assert_u64_eq(cs.curr_items, 1);
    assert_u64_eq(cs.used_chunks, 1);
    assert_int_equal(shmc_check(f->c, stderr), 0);
    for (int i = 1; i < 4; i++)
        shmc_close(h[i]);
}

/* A handle whose own shard holds nothing still finds memory in a full
 * cache: it evicts from the other shards. */
static void test_eviction_across_shards(void **state)
{
    tu_fix *f = *state;
    shmc_cache *other;
    assert_ok(shmc_open(f->path, &other)); /* slot 1: another shard than f->c's */
    int i = 0;
    while (tu_stats(f->c).evictions == 0 && i < 1000000)
        assert_ok(put_key(f->c, "full", i++, 100, 0));
    assert_u64_cmp(tu_stats(f->c).evictions, >, 0);
    for (int j = 0; j < 1000; j++)
        assert_ok(put_key(other, "new", j, 100, 0));
    for (int j = 900; j < 1000; j++) /* the newest writes are all there */
        assert_int_equal(check_key(f->c, "new", j, 100), 1);
    assert_int_equal(shmc_check(f->c, stderr), 0);
    shmc_close(other);
}

/* Items read since they were stored (WARM) are evicted last across shards
 * too: while one shard holds only read items and another holds items never
 * read, stores evict the unread ones, as one LRU per class would, even
 * though the read items were written first. */
static void test_read_items_outlive_other_shards_unread(void **state)
{
    tu_fix *f = *state;
    const size_t vlen = 200;
    shmc_cache *other;
    assert_ok(shmc_open(f->path, &other)); /* slot 1: another shard than f->c's */
    int n = 0;
    while (tu_stats(f->c).evictions == 0)
        assert_ok(put_key(f->c, "a", n++, vlen, 0));
    int held = 0;
    for (int i = 0; i < n; i++) /* every item f->c holds is read once */
        held += check_key(f->c, "a", i, vlen);
    assert_int_not_equal(held, 0);

    const int stores = held / 2; /* a fresh half cache of items never read */
    for (int j = 0; j < stores; j++)
        assert_ok(put_key(other, "b", j, vlen, 0));
    int kept = 0;
    for (int i = 0; i < n; i++)
        kept += check_key(f->c, "a", i, vlen);
    print_message("read items kept: %d of %d after %d stores of unread ones\n", kept, held, stores);
    if (kept < held - held / 20)
        fail_msg("%d of %d read items evicted while unread ones were held", held - kept, held);
    for (int j = stores - 10; j < stores; j++) /* the newest stores are held */
        assert_int_equal(check_key(f->c, "b", j, vlen), 1);
    assert_int_equal(shmc_check(f->c, stderr), 0);
    shmc_close(other);
}

/* memcached's -m: once the classes hold the limit's pages, a class
 * with no page still takes its first one past the limit, so a full cache
 * of one size does not starve another size (nor evict for its first
 * item); a class that has a page grows no further past the limit. */
static void test_first_page_past_limit(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    uint64_t limit = f->cfg.mem_bytes / MiB;
    int i = 0;
    while (tu_stats(c).evictions == 0 && i < 1000000)
        assert_ok(put_key(c, "small", i++, 100, 0));
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.total_pages, limit);
    assert_u64_eq(s.free_pages, 0);
    uint64_t evicted = s.evictions;
    for (int j = 0; j < 20; j++)
        assert_ok(put_key(c, "large", j, 20 * 1024, 0));
    s = tu_stats(c);
    assert_u64_eq(s.evictions, evicted); /* its first page came past the limit */
    assert_u64_eq(s.total_pages, limit + 1);
    assert_u64_eq(s.free_pages, 0);
    for (int j = 0; j < 20; j++)
        assert_int_equal(check_key(c, "large", j, 20 * 1024), 1);
    for (int j = 20; j < 400; j++) /* then it evicts, or moves a page: no growth */
        assert_ok(put_key(c, "large", j, 20 * 1024, 0));
    s = tu_stats(c);
    assert_u64_eq(s.total_pages, limit + 1);
    assert_u64_cmp(s.evictions, >, evicted);
    for (int j = 380; j < 400; j++)
        assert_int_equal(check_key(c, "large", j, 20 * 1024), 1);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* The class a size lands in, and its stats. */
static shmc_class_stats class_of_size(shmc_cache *c, size_t vlen, unsigned *id)
{
    shmc_class_stats cs = {0};
    for (unsigned i = 1; i <= shmc_class_count(c); i++) {
        assert_ok(shmc_class_stats_get(c, i, &cs));
        if (cs.chunk_size >= shmc_item_overhead() + 12 + vlen) {
            *id = i;
            return cs;
        }
    }
    fail_msg("no class for %zu bytes", vlen);
    return cs;
}

/* A few items in a class next to a busy one held a whole page of it (8
 * MiB of 100 B values whose shortest keys fell a class lower: 10 items
 * kept an eighth of the cache).  A class's only page, nearly empty, moves
 * to the class that evicts while the classes are within the limit; the
 * sparse class's next page is its first, past the limit, and no more. */
static void test_sparse_last_page_moves(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    uint64_t limit = f->cfg.mem_bytes / MiB;
    for (int i = 0; i < 10; i++) /* the sparse class: 10 items, its first page */
        assert_ok(put_key(c, "sparse", i, 40, 0));
    unsigned busy_id, sparse_id;
    shmc_class_stats busy = class_of_size(c, 100, &busy_id);
    class_of_size(c, 40, &sparse_id);
    assert_int_not_equal(busy_id, sparse_id);
    for (int i = 0; i < (int)(limit * busy.chunks_per_page * 3); i++)
        assert_ok(put_key(c, "busy", i, 100, 0));
    assert_ok(shmc_class_stats_get(c, busy_id, &busy));
    shmc_stats s = tu_stats(c);
    print_message("busy class: %" PRIu64 " pages, %" PRIu64 " items; all: %" PRIu64 " pages\n",
                  busy.total_pages, busy.curr_items, s.total_pages);
    assert_u64_eq(busy.total_pages, limit);
    assert_u64_eq(busy.curr_items, limit * busy.chunks_per_page);
    /* the sparse class comes back on a first page past the limit, once */
    for (int i = 0; i < 10; i++)
        assert_ok(put_key(c, "sparse", i, 40, 0));
    for (int i = 0; i < (int)(busy.chunks_per_page * 2); i++)
        assert_ok(put_key(c, "busy2", i, 100, 0));
    s = tu_stats(c);
    assert_u64_eq(s.total_pages, limit + 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(check_key(c, "sparse", i, 40), 1);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* But a sparse page is not worth more than it holds: 300 items of 40
 * bytes keep their class's only page (2.7% full) against a class of
 * 400 KB values, 2 a page, that wants it (with values of 10 B to 1 MB,
 * such moves evicted a small class's items over and over: 0.89 of
 * memcached's items at 64 MiB). */
static void test_sparse_page_stays_for_fewer_items(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    for (int i = 0; i < 300; i++)
        assert_ok(put_key(c, "small", i, 40, 0));
    uint64_t small_items = tu_stats(c).curr_items;
    unsigned big_id;
    class_of_size(c, 400000, &big_id);
    /* enough evictions (hundreds) for automove to look for a page */
    for (int i = 0; i < 300; i++)
        assert_ok(put_key(c, "big", i, 400000, 0));
    shmc_class_stats big;
    assert_ok(shmc_class_stats_get(c, big_id, &big));
    shmc_stats s = tu_stats(c);
    print_message("small items: %" PRIu64 " -> %" PRIu64 "; big: %" PRIu64 " pages, %" PRIu64
                  " evictions; moves %" PRIu64 "\n", small_items, s.curr_items - big.curr_items,
                  big.total_pages, big.evictions, s.slabs_moved);
    assert_u64_cmp(big.evictions, >=, 128);
    assert_u64_eq(s.evictions, big.evictions); /* none of the small items */
    for (int i = 0; i < 300; i++)
        assert_int_equal(check_key(c, "small", i, 40), 1);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* First pages taken past the limit are the rule, not a surplus: a
 * cache that holds them is not shrunk by maintenance (only a lowered
 * limit gives pages back), so no class loses pages, and items, to them. */
static void test_first_pages_do_not_shrink(void **state)
{
    shmc_cache *c = CACHE(state);
    for (int i = 100000; i < 126000; i++) /* the limit's four pages, one class */
        assert_ok(put_key(c, "f", i, 100, 0));
    for (int i = 0; i < 3; i++) /* three more classes, a first page each */
        assert_ok(put_key(c, "g", i, 1000 + (size_t)i * 4000, 0));
    shmc_stats s0 = tu_stats(c);
    assert_u64_eq(s0.total_pages, 7);
    for (int i = 0; i < 20; i++)
        assert_ok(shmc_maintain(c));
    shmc_stats s1 = tu_stats(c);
    assert_u64_eq(s1.total_pages, 7);
    assert_u64_eq(s1.slabs_moved, s0.slabs_moved);
    assert_u64_eq(s1.evictions, s0.evictions);
    assert_u64_eq(s1.curr_items, s0.curr_items);
}

/* memcached's "slabs reassign": a page moves on request, to the pool or
 * to another class, taking its items with it; a class keeps its last
 * page; bad ids are refused before anything moves. */
static void test_slabs_reassign(void **state)
{
    shmc_cache *c = CACHE(state);
    for (int i = 100000; i < 120000; i++) /* three pages of one class: keys of one length */
        assert_ok(put_key(c, "r", i, 100, 0));
    shmc_item_info info;
    assert_ok(shmc_get_info(c, KS("r119999"), NULL, NULL, NULL, &info));
    unsigned src = info.class_id, n = shmc_class_count(c), dst = src == 1 ? 2 : 1;
    shmc_class_stats cs;
    assert_ok(shmc_class_stats_get(c, src, &cs));
    uint64_t pages = cs.total_pages, items = cs.curr_items;
    assert_u64_cmp(pages, >=, 3);
    shmc_stats s0 = tu_stats(c);

    assert_int_equal(shmc_slabs_reassign(c, (int)src, (unsigned)src), SHMC_INVALID);
    assert_int_equal(shmc_slabs_reassign(c, 0, dst), SHMC_INVALID);
    assert_int_equal(shmc_slabs_reassign(c, -2, dst), SHMC_INVALID);
    assert_int_equal(shmc_slabs_reassign(c, (int)n + 1, dst), SHMC_INVALID);
    assert_int_equal(shmc_slabs_reassign(c, (int)src, n + 1), SHMC_INVALID);
    assert_int_equal(shmc_slabs_reassign(NULL, (int)src, 0), SHMC_INVALID);
    assert_int_equal(shmc_slabs_reassign(c, (int)dst, src), SHMC_NO_MEMORY); /* no page */
    assert_u64_eq(tu_stats(c).slabs_moved, s0.slabs_moved);

    assert_ok(shmc_slabs_reassign(c, (int)src, 0)); /* to the pool */
    assert_ok(shmc_class_stats_get(c, src, &cs));
    assert_u64_eq(cs.total_pages, pages - 1);
    assert_u64_cmp(cs.curr_items, <, items);
    assert_u64_cmp(cs.curr_items, >=, items - cs.chunks_per_page);
    shmc_stats s1 = tu_stats(c);
    assert_u64_eq(s1.slabs_moved, s0.slabs_moved + 1);
    assert_u64_eq(s1.free_pages, s0.free_pages + 1);

    assert_ok(shmc_slabs_reassign(c, -1, dst)); /* the cheapest, to dst */
    assert_ok(shmc_class_stats_get(c, src, &cs));
    assert_u64_eq(cs.total_pages, pages - 2);
    shmc_class_stats ds;
    assert_ok(shmc_class_stats_get(c, dst, &ds));
    assert_u64_eq(ds.total_pages, 1);
    while (cs.total_pages > 1) {
        assert_ok(shmc_slabs_reassign(c, (int)src, 0));
        assert_ok(shmc_class_stats_get(c, src, &cs));
    }
    assert_int_equal(shmc_slabs_reassign(c, (int)src, 0), SHMC_NO_MEMORY);
    assert_int_equal(shmc_slabs_reassign(c, -1, 0), SHMC_NO_MEMORY);
    assert_int_equal(check_key(c, "r", 119999, 100), 1); /* the newest stayed */
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* memcached's cache_memlimit: a lowered limit stops growth at once, and
 * maintenance moves the surplus pages back to the pool; the limit moves
 * only within the segment's size; raised again, the class grows again. */
static void test_set_memlimit(void **state)
{
    shmc_cache *c = CACHE(state);
    for (int i = 100000; i < 126000; i++) /* four pages of one class */
        assert_ok(put_key(c, "m", i, 100, 0));
    assert_u64_eq(tu_stats(c).total_pages, 4);
    assert_int_equal(shmc_set_memlimit(c, 5 * MiB), SHMC_INVALID); /* past the segment */
    assert_int_equal(shmc_set_memlimit(c, MiB), SHMC_INVALID);
    assert_int_equal(shmc_set_memlimit(NULL, 2 * MiB), SHMC_INVALID);
    assert_u64_eq(tu_stats(c).limit_maxbytes, 4 * MiB);

    assert_ok(shmc_set_memlimit(c, 2 * MiB + 5)); /* rounded down to pages */
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.limit_maxbytes, 2 * MiB);
    for (int i = 0; i < 10; i++)
        assert_ok(shmc_maintain(c));
    s = tu_stats(c);
    assert_u64_eq(s.total_pages, 2);
    assert_u64_eq(s.free_pages, 0);
    for (int i = 200000; i < 230000; i++) /* no growth past it */
        assert_ok(put_key(c, "m", i, 100, 0));
    assert_u64_eq(tu_stats(c).total_pages, 2);
    assert_int_equal(check_key(c, "m", 229999, 100), 1);

    assert_ok(shmc_set_memlimit(c, 4 * MiB));
    for (int i = 300000; i < 330000; i++)
        assert_ok(put_key(c, "m", i, 100, 0));
    assert_u64_eq(tu_stats(c).total_pages, 4);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* The TEMP LRU (memcached's temporary_ttl): items stored with a short TTL
 * go to a list of their own, which eviction never takes from; they leave
 * when they expire.  Off (0), short-TTL items go to HOT as others. */
static void test_temp_lru(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_int_equal(shmc_set_temp_lru(NULL, 30), SHMC_INVALID);
    assert_ok(shmc_set_temp_lru(c, 30));
    for (int i = 100000; i < 100200; i++)
        assert_ok(put_key(c, "t", i, 100, i % 2 ? 10 : 0)); /* odd: TTL 10 s */
    shmc_item_info info;
    assert_ok(shmc_get_info(c, KS("t100001"), NULL, NULL, NULL, &info));
    shmc_class_stats cs;
    assert_ok(shmc_class_stats_get(c, info.class_id, &cs));
    assert_u64_eq(cs.temp, 100);
    assert_u64_eq(cs.hot + cs.warm + cs.cold, 100);
    assert_u64_eq(cs.curr_items, 200);

    for (int i = 200000; i < 260000; i++) /* far past the cache: evictions */
        assert_ok(put_key(c, "t", i, 100, 0));
    assert_u64_cmp(tu_stats(c).evictions, >, 0);
    for (int i = 100001; i < 100200; i += 2)
        assert_int_equal(check_key(c, "t", i, 100), 1);
    assert_int_equal(check_key(c, "t", 100000, 100), 0); /* its neighbour was evicted */

    assert_ok(shmc_clock_advance(c, 20));
    shmc_crawl_result r;
    assert_ok(shmc_crawl(c, info.class_id, 0, 0, &r));
    assert_u64_eq(r.reclaimed, 100);
    assert_ok(shmc_class_stats_get(c, info.class_id, &cs));
    assert_u64_eq(cs.temp, 0);

    assert_ok(shmc_set_temp_lru(c, 0)); /* off */
    assert_ok(put_key(c, "t", 300001, 100, 10));
    assert_ok(shmc_class_stats_get(c, info.class_id, &cs));
    assert_u64_eq(cs.temp, 0);
    assert_int_equal(shmc_check(c, stderr), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eviction_keeps_storing, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_hot_items_survive, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_evict_cold_past_read_tail, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_no_evict, setup_noevict, tu_teardown),
        cmocka_unit_test_setup_teardown(test_no_evict_reclaims_expired, setup_noevict, tu_teardown),
        cmocka_unit_test_setup_teardown(test_no_evict_reclaims_expired_across_shards, setup_noevict,
                                        tu_teardown),
        cmocka_unit_test_setup_teardown(test_size_shift, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_automove_needs_older_items, setup_small,
                                        tu_teardown),
        cmocka_unit_test_setup_teardown(test_churn_accounting, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_expired_before_evicted, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_class_sums, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_shards_share_pages, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_eviction_across_shards, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_read_items_outlive_other_shards_unread, setup_small,
                                        tu_teardown),
        cmocka_unit_test_setup_teardown(test_first_page_past_limit, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_first_pages_do_not_shrink, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_sparse_last_page_moves, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_sparse_page_stays_for_fewer_items, setup_small,
                                        tu_teardown),
        cmocka_unit_test_setup_teardown(test_slabs_reassign, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_set_memlimit, setup_small, tu_teardown),
        cmocka_unit_test_setup_teardown(test_temp_lru, setup_small, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
