/*
 * test_watch.c - the event ring behind memcached's "watch" (doc/
 * protocol.txt: "watch fetchers mutations evictions"): every client's
 * calls are seen by any watcher, with key, class, TTL, client slot and
 * pid; nothing is recorded while nobody watches; a reader that falls
 * behind is told how many events it missed ("skipped"); a watcher that
 * dies stops costing writers anything once it is reaped.
 */
#include "testutil.h"

#include <stddef.h>

#include "layout.h"

#define KS(s) (s), strlen(s)
#define MAXEV 2048

static int setup(void **state)
{
    return tu_setup(state, "watch", NULL);
}

/* Every event from *cursor now. */
static size_t drain(shmc_cache *c, uint64_t *cursor, shmc_event *ev, size_t max,
                    uint64_t *skipped)
{
    size_t n = 0, got;
    do {
        assert_ok(shmc_watch_next(c, cursor, ev + n, max - n, &got, skipped));
        n += got;
    } while (got && n < max);
    return n;
}

static void assert_event(const shmc_event *e, unsigned kind, shmc_status st, unsigned op,
                         const char *key)
{
    if (e->kind != kind || e->status != st || e->op != op || e->key_len != strlen(key) ||
        memcmp(e->key, key, e->key_len) != 0)
        fail_msg("event %" PRIu64 ": kind %u status %d op %u key \"%.*s\"; expected kind %u "
                 "status %d op %u key \"%s\"", e->seq, e->kind, (int)e->status, e->op,
                 (int)e->key_len, e->key, kind, (int)st, op, key);
}

/* Nothing is recorded while nobody watches: the stream does not move. */
static void test_no_watcher_no_events(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t c0, c1;
    assert_ok(shmc_watch_start(c, &c0));
    assert_ok(shmc_watch_stop(c));
    for (int i = 0; i < 100; i++)
        assert_ok(tu_set(c, "k", "v", 0, 0));
    assert_ok(shmc_watch_start(c, &c1));
    assert_u64_eq(c1, c0);
    assert_ok(tu_set(c, "k", "v", 0, 0));
    uint64_t c2;
    assert_ok(shmc_watch_start(c, &c2)); /* watches nest */
    assert_u64_eq(c2, c1 + 1);
    assert_ok(shmc_watch_stop(c));
    assert_ok(shmc_watch_stop(c));
    assert_status(shmc_watch_stop(c), SHMC_NOT_FOUND);
}

/* Each kind of call, with its outcome and what memcached's watch shows
 * (key, class, ttl, size), and who made it. */
static void test_events_of_each_call(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cur, skipped = 0;
    shmc_event *ev = calloc(MAXEV, sizeof *ev);
    assert_ok(shmc_watch_start(c, &cur));
    int64_t t0 = (int64_t)time(NULL);
    assert_ok(shmc_set(c, KS("w:1"), "ab", 2, 3, 100));
    char buf[16];
    size_t len = sizeof buf;
    assert_ok(shmc_get(c, KS("w:1"), buf, &len, NULL, NULL));
    len = sizeof buf;
    assert_status(shmc_get(c, KS("w:2"), buf, &len, NULL, NULL), SHMC_NOT_FOUND);
    len = 1;
    assert_status(shmc_get(c, KS("w:1"), buf, &len, NULL, NULL), SHMC_BUFFER_TOO_SMALL);
    assert_status(shmc_store(c, SHMC_ADD, KS("w:1"), "x", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_ok(shmc_touch(c, KS("w:1"), 50));
    assert_status(shmc_incr(c, KS("w:1"), 1, NULL), SHMC_NOT_NUMERIC);
    assert_ok(shmc_delete(c, KS("w:1"), 0));
    assert_status(shmc_delete(c, KS("w:1"), 0), SHMC_NOT_FOUND);
    size_t n = drain(c, &cur, ev, MAXEV, &skipped);
    assert_int_equal(skipped, 0);
    assert_int_equal(n, 8);
    assert_event(&ev[0], SHMC_EV_STORE, SHMC_OK, SHMC_SET, "w:1");
    assert_int_equal(ev[0].ttl, 100);
    assert_int_equal(ev[0].len, 2);
    assert_event(&ev[1], SHMC_EV_GET, SHMC_OK, 0, "w:1");
    assert_int_equal(ev[1].len, 2);
    assert_int_equal(ev[1].class_id, ev[0].class_id);
    assert_true(ev[1].class_id >= 1);
    assert_true(ev[1].ttl >= 99 && ev[1].ttl <= 100);
    assert_event(&ev[2], SHMC_EV_GET, SHMC_NOT_FOUND, 0, "w:2");
    assert_int_equal(ev[2].class_id, 0);
    assert_int_equal(ev[2].ttl, -1);
    assert_event(&ev[3], SHMC_EV_STORE, SHMC_NOT_STORED, SHMC_ADD, "w:1");
    assert_event(&ev[4], SHMC_EV_TOUCH, SHMC_OK, 0, "w:1");
    assert_int_equal(ev[4].ttl, 50);
    assert_event(&ev[5], SHMC_EV_ARITH, SHMC_NOT_NUMERIC, 1, "w:1");
    assert_event(&ev[6], SHMC_EV_DELETE, SHMC_OK, 0, "w:1");
    assert_event(&ev[7], SHMC_EV_DELETE, SHMC_NOT_FOUND, 0, "w:1");
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ev[i].pid, (uint32_t)getpid());
        assert_int_equal(ev[i].client, ev[0].client);
        assert_true(ev[i].time_sec >= t0 - 1 && ev[i].time_sec <= (int64_t)time(NULL) + 1);
        assert_true(ev[i].time_usec < 1000000);
        if (i)
            assert_u64_eq(ev[i].seq, ev[i - 1].seq + 1);
    }
    assert_int_equal(shmc_event_group(SHMC_EV_GET), SHMC_WATCH_FETCHERS);
    assert_int_equal(shmc_event_group(SHMC_EV_TOUCH), SHMC_WATCH_MUTATIONS);
    assert_int_equal(shmc_event_group(SHMC_EV_EVICT), SHMC_WATCH_EVICTIONS);
    assert_int_equal(shmc_event_group(99), 0);
    assert_ok(shmc_watch_stop(c));
    free(ev);
}

/* Another process's calls (a library client, not a server) are seen,
 * with its own pid and client slot. */
static void test_other_process_seen(void **state)
{
    tu_fix *f = *state;
    uint64_t cur, skipped = 0;
    shmc_event ev[8];
    assert_ok(shmc_watch_start(f->c, &cur));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *cc;
        CHILD_OK(shmc_open(f->path, &cc));
        CHILD_OK(shmc_set(cc, KS("child:key"), "v", 1, 0, 0));
        shmc_close(cc);
        _exit(0);
    }
    tu_wait_ok(pid, 10);
    size_t n = drain(f->c, &cur, ev, 8, &skipped);
    assert_int_equal(n, 1);
    assert_event(&ev[0], SHMC_EV_STORE, SHMC_OK, SHMC_SET, "child:key");
    assert_int_equal(ev[0].pid, (uint32_t)pid);
    shmc_event mine;
    assert_ok(tu_set(f->c, "mine", "v", 0, 0));
    size_t got;
    assert_ok(shmc_watch_next(f->c, &cur, &mine, 1, &got, NULL));
    assert_int_equal(got, 1);
    assert_int_not_equal(mine.client, ev[0].client);
    assert_ok(shmc_watch_stop(f->c));
}

/* A reader more than the ring's size behind is told what it missed. */
static void test_overrun_counts_skipped(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cur, skipped = 0;
    shmc_event *ev = calloc(MAXEV, sizeof *ev);
    assert_ok(shmc_watch_start(c, &cur));
    char key[32];
    for (int i = 0; i < 1500; i++) {
        snprintf(key, sizeof key, "o:%d", i);
        assert_ok(tu_set(c, key, "v", 0, 0));
    }
    size_t n = drain(c, &cur, ev, MAXEV, &skipped);
    assert_int_equal(n + skipped, 1500);
    assert_true(skipped >= 1500 - 1024);
    assert_true(n >= 1000); /* the newest ones are there */
    assert_event(&ev[n - 1], SHMC_EV_STORE, SHMC_OK, SHMC_SET, "o:1499");
    assert_ok(shmc_watch_stop(c));
    free(ev);
}

/* Evictions (memcached "watch evictions"): a full cache that evicts
 * records which live items went. */
static void test_eviction_events(void **state)
{
    (void)state;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 4u << 20;
    tu_fix *f = tu_fix_new("watch-evict", &cfg);
    assert_non_null(f);
    uint64_t cur, skipped = 0;
    shmc_event *ev = calloc(MAXEV, sizeof *ev);
    assert_ok(shmc_watch_start(f->c, &cur));
    static char val[100000];
    char key[32];
    unsigned evictions = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "e:%d", i);
        assert_ok(shmc_set(f->c, KS(key), val, sizeof val, 0, 0));
        size_t n = drain(f->c, &cur, ev, MAXEV, &skipped);
        for (size_t j = 0; j < n; j++)
            if (ev[j].kind == SHMC_EV_EVICT) {
                evictions++;
                assert_int_equal(ev[j].len, sizeof val);
                assert_true(ev[j].key_len >= 3 && memcmp(ev[j].key, "e:", 2) == 0);
                assert_int_equal(ev[j].fetched, 0);
                assert_true(ev[j].last_access > 0);
                assert_true(ev[j].class_id >= 1);
            }
    }
    assert_int_equal(skipped, 0);
    assert_u64_eq(evictions, tu_stats(f->c).evictions);
    assert_true(evictions > 100);
    assert_ok(shmc_watch_stop(f->c));
    free(ev);
    assert_int_equal(tu_fix_free(f), 0);
}

/* A watcher that dies: once reaped, writers record nothing again. */
static void test_dead_watcher_reaped(void **state)
{
    tu_fix *f = *state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *cc;
        uint64_t cur;
        CHILD_OK(shmc_open(f->path, &cc));
        CHILD_OK(shmc_watch_start(cc, &cur));
        if (write(fds[1], "w", 1) != 1)
            _exit(2);
        pause();
        _exit(0);
    }
    char ch;
    assert_int_equal(read(fds[0], &ch, 1), 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    uint64_t c0, c1, c2;
    assert_ok(shmc_watch_start(f->c, &c0));
    assert_ok(shmc_watch_stop(f->c));
    assert_ok(tu_set(f->c, "x", "v", 0, 0)); /* the dead watcher still counts */
    assert_ok(shmc_watch_start(f->c, &c1));
    assert_ok(shmc_watch_stop(f->c));
    assert_u64_eq(c1, c0 + 1);
    unsigned reaped = 0;
    assert_ok(shmc_recover(f->c, &reaped));
    assert_int_equal(reaped, 1);
    assert_ok(tu_set(f->c, "x", "v", 0, 0)); /* nobody watches now */
    assert_ok(shmc_watch_start(f->c, &c2));
    assert_ok(shmc_watch_stop(f->c));
    assert_u64_eq(c2, c1);
    close(fds[0]);
    close(fds[1]);
}

/* A published event whose bytes changed afterwards (a torn copy, a
 * damaged segment) is not handed out: its checksum fails, it is counted
 * skipped, and the events after it are read as usual. */
static void test_torn_event_skipped(void **state)
{
    tu_fix *f = *state;
    uint64_t cur, skipped = 0;
    shmc_event ev[4];
    size_t got;
    assert_ok(shmc_watch_start(f->c, &cur));
    assert_ok(tu_set(f->c, "torn:1", "v", 0, 0));
    seg_header h;
    int fd = open(f->path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    off_t at = (off_t)(h.off_events + offsetof(seg_event_ring, ev) +
                       (cur % SEG_EVENTS) * sizeof(seg_event) + offsetof(seg_event, b) +
                       offsetof(seg_event_body, key) + 5);
    char was;
    assert_int_equal(pread(fd, &was, 1, at), 1);
    assert_int_equal(was, '1'); /* the last byte of the key "torn:1" */
    assert_int_equal(pwrite(fd, "9", 1, at), 1);
    close(fd);
    assert_ok(tu_set(f->c, "torn:2", "v", 0, 0));
    assert_ok(shmc_watch_next(f->c, &cur, ev, 4, &got, &skipped));
    assert_int_equal(got, 1);
    assert_u64_eq(skipped, 1);
    assert_event(&ev[0], SHMC_EV_STORE, SHMC_OK, SHMC_SET, "torn:2");
    assert_ok(shmc_watch_stop(f->c));
}

/* Bad arguments: SHMC_INVALID and nothing written. */
static void test_watch_bad_arguments(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cur;
    size_t got = 9;
    uint64_t skipped = 0;
    shmc_event ev[2];
    assert_status(shmc_watch_start(NULL, &cur), SHMC_INVALID);
    assert_status(shmc_watch_start(c, NULL), SHMC_INVALID);
    assert_status(shmc_watch_stop(NULL), SHMC_INVALID);
    assert_ok(shmc_watch_start(c, &cur));
    assert_status(shmc_watch_next(c, NULL, ev, 2, &got, &skipped), SHMC_INVALID);
    assert_status(shmc_watch_next(c, &cur, ev, 2, NULL, &skipped), SHMC_INVALID);
    assert_status(shmc_watch_next(c, &cur, NULL, 2, &got, &skipped), SHMC_INVALID);
    assert_status(shmc_watch_next(c, &cur, ev, SIZE_MAX / 16, &got, &skipped), SHMC_INVALID);
    uint64_t ahead = cur + 5;
    assert_status(shmc_watch_next(c, &ahead, ev, 2, &got, &skipped), SHMC_INVALID);
    assert_u64_eq(ahead, cur + 5);
    assert_int_equal(got, 9);
    assert_ok(shmc_watch_next(c, &cur, ev, 2, &got, NULL));
    assert_int_equal(got, 0);
    assert_ok(shmc_watch_stop(c));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_teardown)
    const struct CMUnitTest tests[] = {
        T(test_no_watcher_no_events),
        T(test_events_of_each_call),
        T(test_other_process_seen),
        T(test_overrun_counts_skipped),
        cmocka_unit_test(test_eviction_events),
        T(test_dead_watcher_reaped),
        T(test_torn_event_skipped),
        T(test_watch_bad_arguments),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
