/*
 * test_dump.c - shmc_dump_next, the item walk behind memcached's
 * "lru_crawler metadump" and "stats cachedump" (doc/protocol.txt): every
 * live item once, with its metadata and value; expired, flushed and
 * deleted items left out; the walk changes nothing; hostile cursors and
 * buffers refused; a walk of a cache that others change meanwhile still
 * returns every item that stayed unchanged exactly once.
 */
#include "testutil.h"

#define KS(s) (s), strlen(s)
#define BIG_LEN (700u * 1024u) /* over half a page: a chained value (value.h) */

static int setup(void **state)
{
    return tu_setup(state, "dump", NULL);
}

/* One walked item, copied out of the batch. */
typedef struct seen {
    char key[SHMC_KEY_MAX + 1];
    shmc_dump_item it;
    unsigned char *val;
} seen;

/* Walk the whole cache with values (cap bytes per entry, batches of
 * batch), into out (at most max); returns how many were seen. */
static size_t walk_all(shmc_cache *c, seen *out, size_t max, size_t cap, size_t batch)
{
    shmc_dump_item *items = calloc(batch, sizeof *items);
    unsigned char *bufs = malloc(batch * cap + 1);
    assert_non_null(items);
    assert_non_null(bufs);
    uint64_t cursor = SHMC_DUMP_START;
    size_t n = 0;
    unsigned calls = 0;
    while (cursor != SHMC_DUMP_END) {
        for (size_t i = 0; i < batch; i++) {
            items[i].buf = cap ? bufs + i * cap : NULL;
            items[i].cap = cap;
        }
        size_t got = 0;
        shmc_status st = shmc_dump_next(c, &cursor, items, batch, &got);
        assert_true(st == SHMC_OK || st == SHMC_BUSY);
        assert_true(got <= batch);
        for (size_t i = 0; i < got; i++) {
            assert_true(n < max);
            memcpy(out[n].key, items[i].key, items[i].key_len);
            out[n].key[items[i].key_len] = 0;
            out[n].it = items[i];
            out[n].val = NULL;
            if (cap && items[i].status == SHMC_OK) {
                out[n].val = malloc(items[i].len + 1);
                memcpy(out[n].val, items[i].buf, items[i].len);
            }
            n++;
        }
        assert_true(++calls < 1000000); /* the walk ends */
    }
    free(items);
    free(bufs);
    return n;
}

static void seen_free(seen *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].val);
}

static const seen *find_seen(const seen *s, size_t n, const char *key, unsigned *count)
{
    const seen *hit = NULL;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].key, key) == 0) {
            hit = &s[i];
            (*count)++;
        }
    return hit;
}

/* An empty cache: the first call ends the walk. */
static void test_dump_empty(void **state)
{
    shmc_cache *c = CACHE(state);
    seen s[1];
    assert_int_equal(walk_all(c, s, 1, 0, 8), 0);
}

/* Every item once, with the metadata get_info reports and its value,
 * small and chained; the walk leaves the items as they were. */
static void test_dump_every_item(void **state)
{
    shmc_cache *c = CACHE(state);
    char key[32], val[64];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "key:%d", i);
        snprintf(val, sizeof val, "value-%d", i * 7);
        assert_ok(shmc_set(c, KS(key), KS(val), (uint32_t)i, i % 2 ? 1000 : 0));
    }
    unsigned char *big = malloc(BIG_LEN);
    tu_fill(big, BIG_LEN, 42);
    assert_ok(shmc_set(c, KS("big"), big, BIG_LEN, 9, 0));
    assert_value_str(c, "key:3", "value-21"); /* fetched */

    seen *s = calloc(600, sizeof *s);
    size_t n = walk_all(c, s, 600, BIG_LEN, 7);
    assert_int_equal(n, 501);
    int64_t now = (int64_t)time(NULL);
    for (int i = 0; i < 500; i++) {
        unsigned count;
        snprintf(key, sizeof key, "key:%d", i);
        snprintf(val, sizeof val, "value-%d", i * 7);
        const seen *e = find_seen(s, n, key, &count);
        assert_int_equal(count, 1);
        assert_int_equal(e->it.status, SHMC_OK);
        assert_int_equal(e->it.len, strlen(val));
        assert_memory_equal(e->val, val, strlen(val));
        assert_int_equal(e->it.flags, (uint32_t)i);
        shmc_item_info info;
        shmc_get_options o = {.flags = SHMC_GET_NO_BUMP};
        assert_ok(shmc_get_info(c, KS(key), &o, NULL, NULL, &info));
        assert_u64_eq(e->it.cas, info.cas);
        assert_int_equal(e->it.class_id, info.class_id);
        assert_int_equal(e->it.fetched, i == 3);
        assert_int_equal(info.fetched, i == 3); /* the walk did not mark it read */
        assert_int_equal(e->it.size, shmc_item_overhead() + strlen(key) + strlen(val));
        if (i % 2) {
            assert_true(e->it.exptime >= now + 998 && e->it.exptime <= now + 1002);
        } else {
            assert_int_equal(e->it.exptime, 0);
        }
        assert_true(e->it.last_access >= now - 5 && e->it.last_access <= now + 1);
    }
    unsigned count;
    const seen *b = find_seen(s, n, "big", &count);
    assert_int_equal(count, 1);
    assert_int_equal(b->it.len, BIG_LEN);
    assert_int_equal(b->it.flags, 9);
    assert_bytes_equal(b->val, big, BIG_LEN);
    seen_free(s, n);
    free(s);
    free(big);
}

/* Expired, flushed and deleted items are not listed (memcached's
 * metadump skips them too). */
static void test_dump_skips_dead(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "short", "x", 0, 2));
    assert_ok(tu_set(c, "gone", "x", 0, 0));
    assert_ok(tu_set(c, "kept", "x", 0, 0));
    assert_ok(shmc_delete(c, KS("gone"), 0));
    assert_ok(shmc_clock_advance(c, 5));
    seen s[8];
    size_t n = walk_all(c, s, 8, 0, 4);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].key, "kept");
    assert_ok(shmc_flush_all(c, 0));
    assert_int_equal(walk_all(c, s, 8, 0, 4), 0);
}

/* A buffer smaller than the value: the entry says so and gives the
 * length; keys-only (buf NULL) walks report lengths without copying. */
static void test_dump_small_buffer(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "long", "0123456789", 0, 0));
    assert_ok(tu_set(c, "s", "ab", 0, 0));
    seen s[4];
    size_t n = walk_all(c, s, 4, 4, 1);
    assert_int_equal(n, 2);
    unsigned count;
    const seen *l = find_seen(s, n, "long", &count);
    assert_int_equal(l->it.status, SHMC_BUFFER_TOO_SMALL);
    assert_int_equal(l->it.len, 10);
    const seen *sm = find_seen(s, n, "s", &count);
    assert_int_equal(sm->it.status, SHMC_OK);
    assert_memory_equal(sm->val, "ab", 2);
    seen_free(s, n);
    n = walk_all(c, s, 4, 0, 4);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].it.status, SHMC_OK);
    assert_int_equal(s[0].it.len + s[1].it.len, 12);
    seen_free(s, n);
}

/* Bad arguments and cursors that no walk makes: SHMC_INVALID, nothing
 * written. */
static void test_dump_bad_arguments(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "k", "v", 0, 0));
    shmc_dump_item items[2];
    memset(items, 0, sizeof items);
    uint64_t cursor = SHMC_DUMP_START;
    size_t got = 77;
    assert_status(shmc_dump_next(NULL, &cursor, items, 2, &got), SHMC_INVALID);
    assert_status(shmc_dump_next(c, NULL, items, 2, &got), SHMC_INVALID);
    assert_status(shmc_dump_next(c, &cursor, items, 2, NULL), SHMC_INVALID);
    assert_status(shmc_dump_next(c, &cursor, NULL, 2, &got), SHMC_INVALID);
    assert_status(shmc_dump_next(c, &cursor, items, SIZE_MAX / 8, &got), SHMC_INVALID);
    assert_int_equal(got, 77);
    const uint64_t hostile[] = {1ull << 62, (uint64_t)UINT32_MAX << 32, 0xffffffffull,
                                UINT64_MAX - 1};
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        cursor = hostile[i];
        assert_status(shmc_dump_next(c, &cursor, items, 2, &got), SHMC_INVALID);
        assert_u64_eq(cursor, hostile[i]);
        assert_int_equal(got, 77);
    }
    /* a cap without a buffer */
    cursor = SHMC_DUMP_START;
    items[0].buf = NULL;
    items[0].cap = 8;
    assert_status(shmc_dump_next(c, &cursor, items, 2, &got), SHMC_INVALID);
    assert_int_equal(got, 0);
    assert_u64_eq(cursor, SHMC_DUMP_START);
    /* n = 0 walks nothing; the end stays the end */
    got = 5;
    assert_ok(shmc_dump_next(c, &cursor, items, 0, &got));
    assert_int_equal(got, 0);
    cursor = SHMC_DUMP_END;
    assert_ok(shmc_dump_next(c, &cursor, items, 2, &got));
    assert_int_equal(got, 0);
    assert_u64_eq(cursor, SHMC_DUMP_END);
}

#define STABLE 2000
#define CHURN_KEYS 200

/* A walk while another process keeps replacing and deleting other keys
 * (which moves items between chunks and frees chunks under the walk):
 * every item that stayed unchanged is returned exactly once, with its own
 * value. */
static void test_dump_live_consistency(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    char key[32], val[64];
    for (int i = 0; i < STABLE; i++) {
        snprintf(key, sizeof key, "stable:%d", i);
        snprintf(val, sizeof val, "s%d", i);
        assert_ok(shmc_set(c, KS(key), KS(val), 0, 0));
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *cc;
        CHILD_OK(shmc_open(f->path, &cc));
        for (unsigned round = 0; round < 400000; round++) {
            snprintf(key, sizeof key, "churn:%u", round % CHURN_KEYS);
            if (round % 5 == 4)
                shmc_delete(cc, KS(key), 0);
            else
                shmc_set(cc, KS(key), val, 1 + round % 60, 0, 0);
        }
        shmc_close(cc);
        _exit(0);
    }
    for (int pass = 0; pass < 5; pass++) {
        seen *s = calloc(STABLE + CHURN_KEYS * 4, sizeof *s);
        size_t n = walk_all(c, s, STABLE + CHURN_KEYS * 4, 64, 16);
        unsigned stable = 0;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(s[i].key, "stable:", 7) != 0)
                continue;
            stable++;
            snprintf(val, sizeof val, "s%s", s[i].key + 7);
            assert_int_equal(s[i].it.len, strlen(val));
            assert_memory_equal(s[i].val, val, strlen(val));
        }
        for (int i = 0; i < STABLE; i += 97) {
            unsigned count;
            snprintf(key, sizeof key, "stable:%d", i);
            find_seen(s, n, key, &count);
            assert_int_equal(count, 1);
        }
        assert_int_equal(stable, STABLE);
        seen_free(s, n);
        free(s);
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_ok(shmc_recover(c, NULL));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_teardown)
    const struct CMUnitTest tests[] = {
        T(test_dump_empty),
        T(test_dump_every_item),
        T(test_dump_skips_dead),
        T(test_dump_small_buffer),
        T(test_dump_bad_arguments),
        T(test_dump_live_consistency),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
