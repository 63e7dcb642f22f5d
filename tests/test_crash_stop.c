/*
 * test_crash_stop.c - bounded lock waits (issue 16): a client stopped
 * inside a call, holding its locks, must not hold up anyone for longer
 * than their handle's bound, and must not stop them serving other keys.
 *
 * Linked with libshmcached_crash.  A child arms a crash point with
 * SIGSTOP (crashpoint_arm_signal) and runs one command until it stops
 * there with every lock that point holds.  The parent, attached with
 * lock_wait_ms = 50, then checks that:
 *  - a command that needs one of those locks returns SHMC_BUSY, having
 *    changed nothing, after waiting at least the bound and under 100 ms;
 *  - a plain get of the held key still answers (it takes no lock);
 *  - four threads (four lanes, so every shard of the class is some
 *    thread's home) store and read other keys of the same class without
 *    waiting on the stopped client's shard;
 * and once the child is SIGKILLed, everyone recovers: the commands that
 * were busy succeed, and shmc_check finds nothing wrong.
 *
 * It also checks the option's contract: SHMC_LOCK_WAIT_MS is parsed and
 * refused when bad, a bad lock_wait_ms is SHMC_INVALID, and a dead
 * owner's lock is taken over even with a bound of 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashpoint.h"
#include "shmcached.h"
#include "testutil.h"

#define BOUND_MS 50     /* the waiters' lock_wait_ms */
#define LIMIT_MS 100    /* the limit for a busy answer */
#define VALUE_LEN 100   /* every value: one class for all keys */
#define OTHER_KEYS 200  /* keys each waiter thread stores and reads */
#define HELD "held-key-0001" /* the stopped call's key: as long as the others, so of their class */
#define GONE "gone-key-0001"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void value_for(char *v, unsigned tag)
{
    memset(v, 'a' + tag % 26, VALUE_LEN);
}

static shmc_cache *open_bounded(const char *path, int ms)
{
    shmc_options o;
    assert_ok(shmc_options_init(&o));
    o.lock_wait_ms = ms;
    shmc_cache *c = NULL;
    assert_ok(shmc_open_with(path, &o, &c));
    return c;
}

static pid_t stopped_child; /* killed by the teardown if a test fails first */

/* What the stopped child does, until its crash point stops it. */
enum child_op { OP_SET, OP_DELETE, OP_GROW };

/* Fork a child that attaches, arms point with SIGSTOP (or SIGKILL if
 * sig says so) and runs op on key; return once it has stopped (or died). */
static pid_t child_stopped_at(const char *path, const char *point, enum child_op op,
                              const char *key, int sig)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *c;
        if (shmc_open(path, &c) != SHMC_OK)
            _exit(2);
        char v[VALUE_LEN];
        value_for(v, 1);
        crashpoint_arm_signal(point, 0, sig);
        if (op == OP_SET) {
            shmc_set(c, key, strlen(key), v, VALUE_LEN, 0, 0);
        } else if (op == OP_DELETE) {
            shmc_delete(c, key, strlen(key), 0);
        } else { /* values of a size no page holds yet: the class grows */
            char big[3000];
            memset(big, 'g', sizeof big);
            for (unsigned i = 0; i < 100000; i++) {
                char k[32];
                snprintf(k, sizeof k, "grow:%u", i);
                shmc_set(c, k, strlen(k), big, sizeof big, 0, 0);
            }
        }
        _exit(3); /* the point was never reached */
    }
    int st;
    alarm(20);
    assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
    alarm(0);
    if (sig == SIGSTOP) {
        if (!WIFSTOPPED(st))
            fail_msg("child did not stop at %s (status 0x%x)", point, st);
        stopped_child = pid;
    } else if (!WIFSIGNALED(st) || WTERMSIG(st) != sig) {
        fail_msg("child did not die at %s (status 0x%x)", point, st);
    }
    return pid;
}

static void kill_child(pid_t pid)
{
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    stopped_child = 0;
}

/* Run fn and return how long it took in ms; its status in *st. */
#define TIMED(st, expr) ({ double t0_ = now_s(); (st) = (expr); (now_s() - t0_) * 1e3; })

/* The command must answer SHMC_BUSY after waiting the bound, within the limit. */
#define assert_busy_in_bound(expr) do { \
        shmc_status st_; \
        double ms_ = TIMED(st_, (expr)); \
        assert_status(st_, SHMC_BUSY); \
        if (ms_ < BOUND_MS - 1 || ms_ >= LIMIT_MS) \
            fail_msg("%s took %.1f ms: not in [%d, %d)", #expr, ms_, BOUND_MS, LIMIT_MS); \
    } while (0)

typedef struct waiter {
    shmc_cache *c;      /* one handle for all: consecutive lanes, so every shard */
    unsigned id;
    int warm;           /* the round before the stop: delete the keys after */
    unsigned busy;      /* stores or reads answered SHMC_BUSY */
    unsigned failed;    /* other unexpected answers */
    double ms;          /* time for all its commands */
} waiter;

/* Store and read back OTHER_KEYS keys of its own, on its own lane. */
static void *waiter_run(void *arg)
{
    waiter *w = arg;
    shmc_cache *c = w->c;
    char v[VALUE_LEN], got[VALUE_LEN];
    double t0 = now_s();
    for (unsigned i = 0; i < OTHER_KEYS; i++) {
        char k[32];
        snprintf(k, sizeof k, "w%u:%06u:%s", w->id, i, w->warm ? "old" : "new");
        value_for(v, i);
        shmc_status st = shmc_set(c, k, strlen(k), v, VALUE_LEN, 0, 0);
        size_t len = sizeof got;
        if (st == SHMC_OK)
            st = shmc_get(c, k, strlen(k), got, &len, NULL, NULL);
        if (st == SHMC_BUSY) {
            w->busy++;
            print_message("  busy: %s (it shares the stopped call's stripe)\n", k);
        }
        else if (st != SHMC_OK || len != VALUE_LEN || memcmp(got, v, VALUE_LEN) != 0)
            w->failed++;
        if (w->warm && shmc_delete(c, k, strlen(k), 0) != SHMC_OK)
            w->failed++;
    }
    w->ms = (now_s() - t0) * 1e3;
    return NULL;
}

/*
 * Four threads serve new keys of the class while the child is stopped
 * (four new threads on one handle take four lanes in turn: every shard of
 * the class is one's home, the stopped client's too): a
 * key that shares the stopped call's stripe may be busy (1 stripe in
 * 1024: a few of 800 at most); everything else answers at once.  Run
 * once before the child stops (warm: the keys are deleted again), it
 * leaves free chunks in every shard of the class, so that no store needs
 * the pool lock.  (Replacing or deleting an item that lies in the LRU of
 * a shard the stopped client holds is busy too: the item cannot leave
 * that list meanwhile.  docs/api.md says so.)
 */
static void others_keep_working(shmc_cache *c, int warm)
{
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    waiter w[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (waiter){.c = c, .id = i, .warm = warm};
        assert_int_equal(pthread_create(&t[i], NULL, waiter_run, &w[i]), 0);
    }
    unsigned busy = 0;
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        busy += w[i].busy;
        print_message("  waiter %u: %u commands, %u busy, %.1f ms\n", i, 2 * OTHER_KEYS,
                      w[i].busy, w[i].ms);
        assert_int_equal(w[i].failed, 0);
        /* one wait of the bound per busy key at most, plus the work */
        assert_true(w[i].ms < (w[i].busy + 4) * (double)LIMIT_MS);
    }
    assert_true(busy <= 4);
}

static void expect_value_is(shmc_cache *c, const char *key, unsigned tag)
{
    char v[VALUE_LEN], got[VALUE_LEN];
    size_t len = sizeof got;
    value_for(v, tag);
    assert_ok(shmc_get(c, key, strlen(key), got, &len, NULL, NULL));
    assert_int_equal(len, VALUE_LEN);
    assert_memory_equal(got, v, VALUE_LEN);
}

static char mid[20000]; /* a value of a class that has no page until then */

/* After the stopped child's death every lock is taken over: the busy
 * commands go through, a class can grow again, and the segment checks
 * clean once it is reaped. */
static void everyone_recovers(shmc_cache *c, const char *key)
{
    char v[VALUE_LEN];
    value_for(v, 7);
    assert_ok(shmc_set(c, key, strlen(key), v, VALUE_LEN, 0, 0));
    expect_value_is(c, key, 7);
    assert_ok(shmc_delete(c, key, strlen(key), 0));
    memset(mid, 'm', sizeof mid);
    assert_ok(shmc_set(c, "mid", 3, mid, sizeof mid, 0, 0));
    assert_ok(shmc_recover(c, NULL));
    assert_int_equal(shmc_check(c, stderr), 0);
}

/*
 * One stop case: key is stored, every shard gets free chunks, then a
 * child stops at point running op on key; checks() asserts what is busy
 * while it is stopped; new keys must be served all along; then the child
 * is killed and everyone recovers.
 */
static void run_stop_case(tu_fix *f, const char *point, enum child_op op, const char *key,
                          void (*checks)(shmc_cache *c, const char *key))
{
    shmc_cache *c = open_bounded(f->path, BOUND_MS);
    char v[VALUE_LEN];
    value_for(v, 0);
    assert_ok(shmc_set(c, key, strlen(key), v, VALUE_LEN, 0, 0));
    others_keep_working(c, 1);
    pid_t pid = child_stopped_at(f->path, point, op, key, SIGSTOP);
    checks(c, key);
    others_keep_working(c, 0);
    kill_child(pid);
    everyone_recovers(c, key);
    shmc_close(c);
}

/* Storing, deleting or counting the key is busy; reading it is not. */
static void publish_checks(shmc_cache *c, const char *key)
{
    char v[VALUE_LEN];
    value_for(v, 0);
    assert_busy_in_bound(shmc_set(c, key, strlen(key), v, VALUE_LEN, 0, 0));
    assert_busy_in_bound(shmc_delete(c, key, strlen(key), 0));
    assert_busy_in_bound(shmc_incr(c, key, strlen(key), 1, NULL));
    expect_value_is(c, key, 0); /* unchanged, and a plain get takes no lock */
}

/* The child stops in a publication: the key's stripe and its home
 * shard's lock are held. */
static void test_stop_in_publish(void **state)
{
    run_stop_case(*state, "publish.lru_linked", OP_SET, HELD, publish_checks);
}

/* Storing or deleting the key is busy. */
static void delete_checks(shmc_cache *c, const char *key)
{
    char v[VALUE_LEN];
    value_for(v, 0);
    assert_busy_in_bound(shmc_set(c, key, strlen(key), v, VALUE_LEN, 0, 0));
    assert_busy_in_bound(shmc_delete(c, key, strlen(key), 0));
}

/* The child stops in a delete: the key is out of its chain, still in its
 * LRU, and its stripe and shard locks are held. */
static void test_stop_in_delete(void **state)
{
    run_stop_case(*state, "unlink.unchained", OP_DELETE, GONE, delete_checks);
}

/* A class with no page yet must grow, and the pool is held: busy, and
 * nothing was stored. */
static void grow_checks(shmc_cache *c, const char *key)
{
    (void)key;
    memset(mid, 'm', sizeof mid);
    assert_busy_in_bound(shmc_set(c, "mid", 3, mid, sizeof mid, 0, 0));
    size_t len = sizeof mid;
    assert_status(shmc_get(c, "mid", 3, mid, &len, NULL, NULL), SHMC_NOT_FOUND);
}

/* The child stops while giving its class a page: the pool lock is held.
 * Growing another class is busy; a class with room is not. */
static void test_stop_in_grow(void **state)
{
    run_stop_case(*state, "slabs.grow_locked", OP_GROW, "room", grow_checks);
}

/* A dead owner's lock is taken over whatever the bound, even 0: dead is
 * not busy. */
static void test_dead_owner_taken_over_at_bound_zero(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = open_bounded(f->path, 0);
    char v[VALUE_LEN];
    value_for(v, 3);
    assert_ok(shmc_set(c, "dead", 4, v, VALUE_LEN, 0, 0));
    child_stopped_at(f->path, "publish.lru_linked", OP_SET, "dead", SIGKILL);
    assert_ok(shmc_delete(c, "dead", 4, 0));
    assert_ok(shmc_recover(c, NULL));
    assert_int_equal(shmc_check(c, stderr), 0);
    shmc_close(c);
}

/* lock_wait_ms and SHMC_LOCK_WAIT_MS: defaults, parsing, refusals. */
static void test_lock_wait_option(void **state)
{
    tu_fix *f = *state;
    shmc_options o;
    unsetenv("SHMC_LOCK_WAIT_MS");
    assert_ok(shmc_options_init(&o));
    assert_int_equal(o.lock_wait_ms, SHMC_LOCK_WAIT_MS_DEFAULT);
    setenv("SHMC_LOCK_WAIT_MS", "-1", 1);
    assert_ok(shmc_options_init(&o));
    assert_int_equal(o.lock_wait_ms, -1);
    setenv("SHMC_LOCK_WAIT_MS", "250", 1);
    assert_ok(shmc_options_init(&o));
    assert_int_equal(o.lock_wait_ms, 250);
    static const char *const bad[] = {"-2", "abc", "10ms", "3600001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("SHMC_LOCK_WAIT_MS", bad[i], 1);
        assert_status(shmc_options_init(&o), SHMC_INVALID);
    }
    shmc_cache *c = NULL;
    /* the environment is read when opts is NULL */
    assert_status(shmc_open_with(f->path, NULL, &c), SHMC_INVALID);
    unsetenv("SHMC_LOCK_WAIT_MS");
    assert_ok(shmc_options_init(&o));
    o.lock_wait_ms = -2;
    assert_status(shmc_open_with(f->path, &o, &c), SHMC_INVALID);
    o.lock_wait_ms = SHMC_LOCK_WAIT_MS_MAX + 1;
    assert_status(shmc_open_with(f->path, &o, &c), SHMC_INVALID);
    o.lock_wait_ms = SHMC_LOCK_WAIT_MS_MAX;
    assert_ok(shmc_open_with(f->path, &o, &c));
    shmc_close(c);
}

static int setup(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 64u << 20;
    tu_fix *f = tu_fix_new("stop", &cfg);
    if (!f)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    if (stopped_child) /* a test failed with its child stopped: free its locks */
        kill_child(stopped_child);
    return tu_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_in_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_in_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_in_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_owner_taken_over_at_bound_zero, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lock_wait_option, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
