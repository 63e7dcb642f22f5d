/*
 * test_kill_torture.c - worker processes run a random mix of every
 * operation on one shared cache while a killer SIGKILLs random workers at
 * random moments and starts new ones.
 *
 * At the end: shmc_check finds nothing wrong and no chunk leaked; no value
 * read ever failed its checksum; every write a worker saw acknowledged and
 * that was not superseded is readable; the shared counter holds every
 * acknowledged increment (and at most one more per kill); and no operation
 * ever waited longer than 2 seconds.
 *
 * SHMC_TORTURE_SECONDS (default 30) and SHMC_TORTURE_KILLS (default 1000,
 * the minimum) set the run; raise both for a longer hand run.
 */
#include <errno.h>
#include <poll.h>
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

#include "shmcached.h"
#include "testutil.h"
#include "testvalues.h"

#define WORKERS 4
#define NTRACKED 500      /* keys only ever set: their last write must stay */
#define NCHAOS 500        /* keys that get every other operation */
#define SLOW_US 2000000   /* an operation slower than this is a failure */

enum report_kind { REP_SET = 1, REP_INCR, REP_TORN, REP_SLOW, REP_ERROR };

/* One report from a worker: an atomic pipe write (< PIPE_BUF). */
typedef struct report {
    uint32_t kind;
    uint32_t key;
    uint64_t cas;       /* REP_SET: the CAS the write returned */
    uint64_t detail;    /* REP_SLOW: microseconds; REP_ERROR: status */
} report;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void report_send(int fd, uint32_t kind, uint32_t key, uint64_t cas, uint64_t detail)
{
    report r = {kind, key, cas, detail};
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(5);
}

/* ---- a worker ------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Read key and verify the value is whole and belongs to it. */
static void worker_read(shmc_cache *c, int fd, const char *key, uint32_t k, char *buf, size_t cap)
{
    size_t len = cap;
    shmc_status st = shmc_get(c, key, strlen(key), buf, &len, NULL, NULL);
    if (st == SHMC_OK && tv_check(buf, len, key) < 0)
        report_send(fd, REP_TORN, k, 0, len);
    else if (st != SHMC_OK && st != SHMC_NOT_FOUND)
        report_send(fd, REP_ERROR, k, 0, (uint64_t)st);
}

static void worker_chaos(shmc_cache *c, int fd, uint64_t *rng, char *val, size_t cap, uint64_t seq)
{
    char key[32];
    uint32_t k = (uint32_t)(rng_next(rng) % NCHAOS);
    snprintf(key, sizeof key, "c:%u", k);
    size_t n = tv_make(val, cap, key, seq, rng_next(rng) % 3000);
    switch (rng_next(rng) % 8) {
    case 0: shmc_delete(c, key, strlen(key), 0); break;
    case 1: shmc_store(c, SHMC_ADD, key, strlen(key), val, n, 0, 0, 0, NULL); break;
    case 2: shmc_store(c, SHMC_REPLACE, key, strlen(key), val, n, 0, 0, 0, NULL); break;
    case 3: shmc_touch(c, key, strlen(key), (int64_t)(rng_next(rng) % 3)); break;
    case 4: { /* append/prepend on a separate key family: never checked by tv_check */
        char ak[32];
        snprintf(ak, sizeof ak, "ap:%u", k % 50);
        shmc_store_mode m = rng_next(rng) & 1 ? SHMC_APPEND : SHMC_PREPEND;
        if (shmc_store(c, m, ak, strlen(ak), "0123456789", 10, 0, 0, 0, NULL) == SHMC_NOT_STORED)
            shmc_set(c, ak, strlen(ak), "0123456789", 10, 0, 0);
        size_t len = 0;
        if (shmc_get(c, ak, strlen(ak), NULL, &len, NULL, NULL) == SHMC_BUFFER_TOO_SMALL && len > 4000)
            shmc_delete(c, ak, strlen(ak), 0);
        break;
    }
    case 5: { /* gets + cas */
        size_t len = cap;
        uint64_t cas;
        if (shmc_get(c, key, strlen(key), val, &len, NULL, &cas) == SHMC_OK) {
            n = tv_make(val, cap, key, seq, 10);
            shmc_store(c, SHMC_CAS, key, strlen(key), val, n, 0, 0, cas, NULL);
        }
        break;
    }
    case 6: { /* gat */
        size_t len = cap;
        shmc_gat(c, key, strlen(key), 100, val, &len, NULL, NULL);
        break;
    }
    case 7: /* values chained over data chunks (> 512 KiB) */
        if (rng_next(rng) % 16 == 0) {
            snprintf(key, sizeof key, "big:%u", k % 4);
            n = tv_make(val, cap, key, seq, 550000 + rng_next(rng) % 350000);
            shmc_set(c, key, strlen(key), val, n, 0, 0);
            worker_read(c, fd, key, k, val, cap);
            break;
        }
        /* fall through */
    default: shmc_set(c, key, strlen(key), val, n, 0, (int64_t)(rng_next(rng) % 4)); break;
    }
}

static void worker_main(const char *path, int fd, uint64_t seed)
{
    shmc_cache *c;
    shmc_status st = shmc_open(path, &c);
    if (st != SHMC_OK) {
        report_send(fd, REP_ERROR, 0, 0, (uint64_t)st);
        _exit(2);
    }
    static char val[8192], buf[8192], big[1 << 20];
    uint64_t rng = seed | 1;
    for (uint64_t seq = 1;; seq++) {
        char key[32];
        uint32_t k = (uint32_t)(rng_next(&rng) % NTRACKED);
        uint64_t t0 = now_us();
        unsigned op = (unsigned)(rng_next(&rng) % 10);
        if (op < 3) { /* tracked write: report the CAS it got */
            snprintf(key, sizeof key, "t:%u", k);
            size_t n = tv_make(val, sizeof val, key, seq, rng_next(&rng) % 400);
            uint64_t cas;
            if (shmc_store(c, SHMC_SET, key, strlen(key), val, n, 0, 0, 0, &cas) == SHMC_OK)
                report_send(fd, REP_SET, k, cas, 0);
        } else if (op < 6) {
            snprintf(key, sizeof key, "t:%u", k);
            worker_read(c, fd, key, k, buf, sizeof buf);
        } else if (op == 6) {
            if (shmc_incr(c, "ctr", 3, 1, NULL) == SHMC_OK)
                report_send(fd, REP_INCR, 0, 0, 0);
        } else if (op == 7) {
            snprintf(key, sizeof key, "c:%u", k % NCHAOS);
            worker_read(c, fd, key, k, buf, sizeof buf);
        } else {
            worker_chaos(c, fd, &rng, big, sizeof big, seq);
        }
        uint64_t took = now_us() - t0;
        if (took > SLOW_US)
            report_send(fd, REP_SLOW, k, 0, took);
    }
}

/* ---- the killer and the tally -------------------------------------- */

typedef struct tally {
    uint64_t acked_cas[NTRACKED]; /* highest CAS acknowledged per tracked key */
    uint64_t incrs;
    uint64_t torn, slow, errors, reports;
    uint64_t max_slow_us;
} tally;

/* Read reports until the monotonic time until_us. */
static void tally_drain(int fd, tally *t, uint64_t until_us)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    report r[256];
    for (;;) {
        uint64_t now = now_us();
        int wait_ms = now >= until_us ? 0 : (int)((until_us - now + 999) / 1000);
        if (poll(&p, 1, wait_ms) <= 0)
            return;
        ssize_t n = read(fd, r, sizeof r);
        if (n <= 0)
            return;
        for (ssize_t i = 0; i < n / (ssize_t)sizeof r[0]; i++) {
            t->reports++;
            switch (r[i].kind) {
            case REP_SET:
                if (r[i].cas > t->acked_cas[r[i].key])
                    t->acked_cas[r[i].key] = r[i].cas;
                break;
            case REP_INCR: t->incrs++; break;
            case REP_TORN: t->torn++; break;
            case REP_SLOW:
                t->slow++;
                if (r[i].detail > t->max_slow_us)
                    t->max_slow_us = r[i].detail;
                break;
            default: t->errors++; break;
            }
        }
    }
}

static pid_t spawn_worker(const char *path, int fds[2], uint64_t seed)
{
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        worker_main(path, fds[1], seed);
    }
    return pid;
}

static unsigned env_unsigned(const char *name, unsigned def)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

static void verify_tracked(shmc_cache *c, const tally *t)
{
    static char buf[8192];
    unsigned lost = 0, torn = 0;
    for (uint32_t k = 0; k < NTRACKED; k++) {
        if (!t->acked_cas[k])
            continue;
        char key[32];
        snprintf(key, sizeof key, "t:%u", k);
        size_t len = sizeof buf;
        uint64_t cas = 0;
        shmc_status st = shmc_get(c, key, strlen(key), buf, &len, NULL, &cas);
        if (st != SHMC_OK || cas < t->acked_cas[k])
            lost++;
        else if (tv_check(buf, len, key) < 0)
            torn++;
    }
    assert_int_equal(torn, 0);
    assert_int_equal(lost, 0);
}

static void verify_counter(shmc_cache *c, const tally *t, unsigned kills)
{
    char buf[32];
    size_t len = sizeof buf - 1;
    assert_int_equal(shmc_get(c, "ctr", 3, buf, &len, NULL, NULL), SHMC_OK);
    buf[len] = 0;
    uint64_t v = strtoull(buf, NULL, 10);
    printf("  counter %llu, acknowledged increments %llu, kills %u\n", (unsigned long long)v,
           (unsigned long long)t->incrs, kills);
    assert_true(v >= t->incrs);
    assert_true(v <= t->incrs + kills + WORKERS);
}

static void test_kill_torture(void **state)
{
    (void)state;
    unsigned seconds = env_unsigned("SHMC_TORTURE_SECONDS", 30);
    unsigned min_kills = env_unsigned("SHMC_TORTURE_KILLS", 1000);
    char path[256];
    tu_make_path(path, sizeof path, "torture");
    shmc_config cfg;
    shmc_config_init(&cfg);
    /* roomy: nothing tracked is ever evicted.  The classes take about 67
     * pages in 30 s; 64 MiB was enough until chained values' tails went
     * to the classes that fit them, a page for each of the 13 classes
     * their 38-390 KB tails fall in (110 evictions in one run). */
    cfg.mem_bytes = 256u << 20;
    cfg.hash_power = 10;       /* small start: the index grows under fire */
    shmc_cache *c;
    assert_int_equal(shmc_create(path, &cfg, &c), SHMC_OK);
    assert_int_equal(shmc_set(c, "ctr", 3, "0", 1, 0, 0), SHMC_OK);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    tally *t = calloc(1, sizeof *t);
    assert_non_null(t);
    pid_t workers[WORKERS];
    uint64_t seed = (uint64_t)time(NULL) * 2654435761u;
    for (int i = 0; i < WORKERS; i++)
        workers[i] = spawn_worker(path, fds, seed + (uint64_t)i);

    /* kill often enough to reach min_kills within the time, at random moments */
    uint64_t end = now_us() + (uint64_t)seconds * 1000000u;
    uint64_t gap_us = (uint64_t)seconds * 1000000u / (min_kills + min_kills / 5 + 1);
    unsigned kills = 0;
    uint64_t rng = seed ^ 0x5bd1e995;
    while (now_us() < end || kills < min_kills) {
        tally_drain(fds[0], t, now_us() + rng_next(&rng) % (2 * gap_us + 1));
        int i = (int)(rng_next(&rng) % WORKERS);
        kill(workers[i], SIGKILL);
        waitpid(workers[i], NULL, 0);
        kills++;
        workers[i] = spawn_worker(path, fds, seed + 1000u + kills);
        /* a live client keeps working meanwhile */
        char buf[16];
        size_t len = sizeof buf;
        shmc_status st = shmc_get(c, "ctr", 3, buf, &len, NULL, NULL);
        assert_true(st == SHMC_OK);
    }
    for (int i = 0; i < WORKERS; i++) {
        kill(workers[i], SIGKILL);
        waitpid(workers[i], NULL, 0);
    }
    close(fds[1]);
    tally_drain(fds[0], t, now_us() + 100000);
    close(fds[0]);

    unsigned reaped = 0;
    assert_int_equal(shmc_recover(c, &reaped), SHMC_OK);
    shmc_stats s;
    assert_int_equal(shmc_stats_get(c, &s), SHMC_OK);
    printf("  %u s, %u kills, %llu reports, %llu locks repaired, %llu clients recovered, "
           "%llu evictions, %llu slow ops (max %llu us)\n", seconds, kills,
           (unsigned long long)t->reports, (unsigned long long)s.locks_repaired,
           (unsigned long long)s.clients_recovered, (unsigned long long)s.evictions,
           (unsigned long long)t->slow, (unsigned long long)t->max_slow_us);
    assert_true(kills >= min_kills);
    assert_int_equal(shmc_check(c, stderr), 0);
    assert_int_equal(t->torn, 0);
    assert_int_equal(t->slow, 0);
    assert_int_equal(t->errors, 0);
    assert_int_equal(s.evictions, 0); /* else "lost" below would not mean lost */
    verify_tracked(c, t);
    verify_counter(c, t, kills);
    free(t);
    shmc_close(c);
    shmc_destroy(path);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
