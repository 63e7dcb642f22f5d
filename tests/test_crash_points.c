/*
 * test_crash_points.c - kill a client at every named step inside every
 * mutation, then prove the segment recovers: the check finds nothing
 * wrong, no value is torn, acknowledged writes are still there, and the
 * other clients keep working without waiting.
 *
 * Linked with libshmcached_crash (crash points compiled in).  For each
 * point in crashpoint_names, a fresh segment is created; a child process
 * arms the point, attaches, and runs a workload that passes through every
 * mutation until the point kills it.  The parent stays attached all along
 * (so it is the "other client"), then recovers and verifies.  The list of
 * points and the hits is printed, so coverage can be seen.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashpoint.h"
#include "shmcached.h"
#include "testutil.h"
#include "testvalues.h"

#define NKEYS 3000        /* enough to split the 1024-bucket index */
#define NAPPEND 50
#define NLARGE 8          /* keys whose values are chained over data chunks */
#define MAX_OPS 400000

/* What the child acknowledged, sent over a pipe in fixed records
 * (writes of PIPE_BUF or less are atomic, so a kill cannot tear one). */
enum ack_kind { ACK_SET = 1, ACK_DEL, ACK_APPEND, ACK_INCR };
typedef struct ack {
    uint32_t kind;
    uint32_t key;
    uint32_t seq;
    uint32_t pad;
} ack;

typedef struct point_case {
    const char *name;
    unsigned skip;  /* passes before the kill */
    int tight;      /* small cache: eviction and page moves happen */
    int dead_peer;  /* leave a dead client first, so attach reaps */
    int watch;      /* the survivor watches events all along (the event ring's points) */
} point_case;

static const point_case cases[] = {
    {"slabs.popped", 50, 0, 0, 0},
    {"slabs.stolen", 5, 0, 0, 0},
    {"slabs.grow_locked", 2, 0, 0, 0},
    {"slabs.grow_half_init", 2, 0, 0, 0},
    {"slabs.grow_published", 2, 0, 0, 0},
    {"slabs.grow_half_freed", 2, 0, 0, 0},
    {"slabs.free_half", 40, 0, 0, 0},
    {"slabs.reassign_half", 0, 1, 0, 0},
    {"slabs.reassign_released", 0, 1, 0, 0},
    {"item.alloc", 100, 0, 0, 0},
    {"item.chunks_taken", 3, 0, 0, 0},
    {"item.filled", 100, 0, 0, 0},
    {"publish.lru_linked", 100, 0, 0, 0},
    {"publish.adopted", 3, 0, 0, 0},
    {"publish.committed", 100, 0, 0, 0},
    {"publish.chained", 100, 0, 0, 0},
    {"publish.old_unlinked", 100, 0, 0, 0},
    /* the 2000th pass is a cross-shard publish: the old item was in the
     * other handle's shard, so the dead client held two shard locks */
    {"publish.old_unlinked", 2000, 0, 0, 0},
    {"publish.old_freed", 3, 0, 0, 0},
    {"unlink.unchained", 20, 0, 0, 0},
    {"unlink.lru_unlinked", 20, 0, 0, 0},
    {"lru.moved", 30, 0, 0, 0},
    {"lru.evict_dropped", 5, 1, 0, 0},
    {"hash.split_half", 3, 0, 0, 0},
    {"hash.split_done", 3, 0, 0, 0},
    {"reap.half", 0, 0, 1, 0},
    /* a check holds every lock, as a reader: its death costs no repair */
    {"check.locked", 2, 0, 0, 0},
    /* a writer of the event ring dies with its slot claimed, or written
     * but not published: readers skip that one event, writers go on */
    {"event.claimed", 30, 0, 0, 1},
    {"event.written", 30, 0, 0, 1},
};

/* The case whose child runs shmc_check (slow on 64 MiB: only there). */
static int is_check_case(const point_case *pc)
{
    return strcmp(pc->name, "check.locked") == 0;
}

/* ---- the child's workload -------------------------------------------- */

static void send_ack(int fd, uint32_t kind, uint32_t key, uint32_t seq)
{
    ack a = {kind, key, seq, 0};
    if (write(fd, &a, sizeof a) != (ssize_t)sizeof a)
        _exit(4);
}

static void child_workload(const char *path, const point_case *pc, int ackfd)
{
    crashpoint_arm(pc->name, pc->skip);
    /* two handles, two client slots, so two shards of every class: the
     * handles take turns every ten operations, and one updates or deletes
     * what the other wrote (the cross-shard paths) */
    shmc_cache *cs[2];
    if (shmc_open(path, &cs[0]) != SHMC_OK || shmc_open(path, &cs[1]) != SHMC_OK)
        _exit(2);
    static char val[1300000];
    char key[64];
    for (uint32_t op = 1; op < MAX_OPS; op++) {
        shmc_cache *c = cs[(op / 10) % 2];
        uint32_t k = ((op / 10) * 131u + (op % 10) * 17u) % NKEYS;
        snprintf(key, sizeof key, "k:%u", k);
        switch (op % 10) {
        case 0: /* delete */
            if (shmc_delete(c, key, strlen(key), 0) == SHMC_OK)
                send_ack(ackfd, ACK_DEL, k, op);
            break;
        case 1: { /* append a 10-byte record */
            char rec[16];
            snprintf(key, sizeof key, "a:%u", k % NAPPEND);
            snprintf(rec, sizeof rec, "[%08u]", op);
            shmc_status st = shmc_store(c, SHMC_APPEND, key, strlen(key), rec, 10, 0, 0, 0, NULL);
            if (st == SHMC_NOT_STORED)
                st = shmc_store(c, SHMC_ADD, key, strlen(key), rec, 10, 0, 0, 0, NULL);
            if (st == SHMC_OK)
                send_ack(ackfd, ACK_APPEND, k % NAPPEND, op);
            break;
        }
        case 2: /* counter */
            if (shmc_incr(c, "ctr", 3, 1, NULL) == SHMC_OK)
                send_ack(ackfd, ACK_INCR, 0, op);
            break;
        case 3: /* short-lived items, then time passes: expiry reclaim */
            snprintf(key, sizeof key, "e:%u", op);
            shmc_set(c, key, strlen(key), "x", 1, 0, 2);
            if (op % 1000 == 3)
                shmc_clock_advance(c, 5);
            break;
        case 4: /* large values in a tight cache: eviction and page moves */
            if (!pc->tight && op % 50 == 4) { /* values chained over data chunks */
                uint32_t l = (op / 50) % NLARGE;
                snprintf(key, sizeof key, "L:%u", l);
                size_t n = tv_make(val, sizeof val, key, op, 600000 + (op % 3) * 300000);
                if (shmc_set(c, key, strlen(key), val, n, 0, 0) == SHMC_OK)
                    send_ack(ackfd, ACK_SET, NKEYS + l, op);
                break;
            }
            if (pc->tight) {
                snprintf(key, sizeof key, "big:%u", op % 64);
                size_t n = tv_make(val, sizeof val, key, op, 20000 + (op % 3) * 40000);
                shmc_set(c, key, strlen(key), val, n, 0, 0);
                break;
            }
            /* fall through */
        default: { /* set, in a range of sizes */
            size_t n = tv_make(val, sizeof val, key, op, (op % 5) * 40);
            if (shmc_set(c, key, strlen(key), val, n, op, 0) == SHMC_OK)
                send_ack(ackfd, ACK_SET, k, op);
        }
        }
        if (op % 5000 == 0)
            shmc_maintain(c);
        if (op % 100 == 0 && is_check_case(pc))
            shmc_check(c, NULL);
    }
    _exit(3); /* the point was never reached */
}

/* A client that attaches, allocates and dies without detaching. */
static void leave_dead_peer(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        shmc_cache *c;
        if (shmc_open(path, &c) != SHMC_OK)
            _exit(2);
        for (int i = 0; i < 100; i++) {
            char key[32];
            snprintf(key, sizeof key, "peer:%d", i);
            shmc_set(c, key, strlen(key), "v", 1, 0, 0);
        }
        kill(getpid(), SIGKILL);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
}

/* ---- the parent's verification --------------------------------------- */

typedef struct expect {
    uint32_t set_seq[NKEYS + NLARGE]; /* last acked set (0: none since last delete) */
    uint8_t deleted[NKEYS + NLARGE];  /* last acked op was a delete */
    uint32_t appends[NAPPEND];
    uint32_t incrs;
} expect;

static void read_acks(int fd, expect *e)
{
    ack a;
    memset(e, 0, sizeof *e);
    while (read(fd, &a, sizeof a) == (ssize_t)sizeof a) {
        if (a.kind == ACK_SET) {
            e->set_seq[a.key] = a.seq;
            e->deleted[a.key] = 0;
        } else if (a.kind == ACK_DEL) {
            e->set_seq[a.key] = 0;
            e->deleted[a.key] = 1;
        } else if (a.kind == ACK_APPEND) {
            e->appends[a.key]++;
        } else if (a.kind == ACK_INCR) {
            e->incrs++;
        }
    }
}

/* Values are whole; in a roomy cache every acknowledged write is there
 * (or a newer one, from the operation the kill cut short). */
static void verify_keys(shmc_cache *c, const expect *e, int strict)
{
    static char buf[1300000];
    char key[64];
    unsigned torn = 0, lost = 0, found = 0;
    for (uint32_t k = 0; k < NKEYS + NLARGE; k++) {
        if (k < NKEYS)
            snprintf(key, sizeof key, "k:%u", k);
        else
            snprintf(key, sizeof key, "L:%u", k - NKEYS);
        size_t len = sizeof buf;
        shmc_status st = shmc_get(c, key, strlen(key), buf, &len, NULL, NULL);
        if (st == SHMC_OK) {
            found++;
            long long seq = tv_check(buf, len, key);
            if (seq < 0)
                torn++;
            else if (strict && (uint32_t)seq < e->set_seq[k])
                lost++;
        } else if (strict && e->set_seq[k]) {
            lost++;
        }
    }
    for (uint32_t a = 0; a < NAPPEND; a++) {
        snprintf(key, sizeof key, "a:%u", a);
        size_t len = sizeof buf;
        if (shmc_get(c, key, strlen(key), buf, &len, NULL, NULL) != SHMC_OK) {
            lost += strict && e->appends[a];
            continue;
        }
        if (len % 10)
            torn++;
        for (size_t i = 0; i + 10 <= len; i += 10)
            if (buf[i] != '[' || buf[i + 9] != ']')
                torn++;
        /* one append may have landed unacknowledged */
        if (strict && (len / 10 < e->appends[a] || len / 10 > e->appends[a] + 1))
            lost++;
    }
    if (strict && e->incrs) {
        uint64_t v = 0;
        size_t len = sizeof buf - 1;
        assert_int_equal(shmc_get(c, "ctr", 3, buf, &len, NULL, NULL), SHMC_OK);
        buf[len] = 0;
        v = strtoull(buf, NULL, 10);
        if (v < e->incrs || v > e->incrs + 1)
            lost++;
    }
    if (torn || lost)
        fprintf(stderr, "found %u keys, %u torn, %u acknowledged writes lost\n", found, torn, lost);
    assert_int_equal(torn, 0);
    assert_int_equal(lost, 0);
}

/* The survivors keep working: every stripe and class is usable. */
static void verify_usable(shmc_cache *c)
{
    alarm(30); /* a hang is a failure, not a stuck CI */
    char key[32];
    for (int i = 0; i < 4096; i++) {
        snprintf(key, sizeof key, "after:%d", i);
        assert_int_equal(shmc_set(c, key, strlen(key), key, strlen(key), 0, 0), SHMC_OK);
    }
    for (int i = 0; i < 4096; i += 97) {
        char buf[32];
        size_t len = sizeof buf;
        snprintf(key, sizeof key, "after:%d", i);
        assert_int_equal(shmc_get(c, key, strlen(key), buf, &len, NULL, NULL), SHMC_OK);
        assert_memory_equal(buf, key, len);
    }
    alarm(0);
}

/* The events a watcher reads from *cur now: how many, and the skipped
 * ones added to *skipped; each must be whole (a known kind, a key). */
static size_t read_events(shmc_cache *c, uint64_t *cur, uint64_t *skipped)
{
    static shmc_event ev[256];
    size_t total = 0, got;
    do {
        assert_int_equal(shmc_watch_next(c, cur, ev, 256, &got, skipped), SHMC_OK);
        for (size_t i = 0; i < got; i++) {
            assert_in_range(ev[i].kind, SHMC_EV_GET, SHMC_EV_EVICT);
            assert_in_range(ev[i].key_len, 1, SHMC_KEY_MAX);
        }
        total += got;
    } while (got);
    return total;
}

/* The child died inside an event's write, pc->skip events after the
 * watch began at start: the watcher reads those, then (once a later
 * event exists) counts the dead one skipped; writers never wait for it,
 * and every position is later read or counted. */
static void verify_events(shmc_cache *c, const point_case *pc, uint64_t start)
{
    uint64_t cur = start, skipped = 0;
    assert_int_equal(read_events(c, &cur, &skipped), pc->skip);
    assert_u64_eq(skipped, 0);
    assert_int_equal(shmc_set(c, "after-crash", 11, "v", 1, 0, 0), SHMC_OK);
    assert_int_equal(read_events(c, &cur, &skipped), 1);
    assert_u64_eq(skipped, 1);
    verify_usable(c); /* 4096 sets and 42 gets: the ring laps the dead slot */
    size_t n = read_events(c, &cur, &skipped);
    assert_u64_eq(cur, start + pc->skip + 2 + 4096 + 43);
    assert_u64_eq(n + skipped, 4096 + 43 + 1);
    assert_true(n >= 1024 - 1);
    assert_int_equal(shmc_watch_stop(c), SHMC_OK);
}

/* Chunks that check found held by the dead before a reap, over all cases. */
static unsigned recoverable_seen;

static void run_case(const point_case *pc)
{
    char path[256];
    tu_make_path(path, sizeof path, "crash");
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.hash_power = 10;
    cfg.mem_bytes = pc->tight ? (4u << 20) : (64u << 20);
    cfg.item_size_max = 2 * 1024 * 1024; /* values above 512 KiB are chained */
    shmc_cache *c;
    assert_int_equal(shmc_create(path, &cfg, &c), SHMC_OK);
    if (pc->dead_peer)
        leave_dead_peer(path);

    uint64_t watch_start = 0;
    if (pc->watch)
        assert_int_equal(shmc_watch_start(c, &watch_start), SHMC_OK);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_workload(path, pc, fds[1]);
    }
    close(fds[1]);
    expect *e = malloc(sizeof *e);
    assert_non_null(e);
    read_acks(fds[0], e);
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
        fail_msg("crash point %s was not reached (child status %d)", pc->name, st);

    if (pc->watch)
        verify_events(c, pc, watch_start);
    /* before any reap: the dead are told apart from the living, and what
     * they hold is recoverable, not a problem */
    shmc_stats s;
    assert_int_equal(shmc_stats_get(c, &s), SHMC_OK);
    assert_u64_eq(s.curr_clients, 1);
    uint64_t repaired_before = s.locks_repaired;
    /* the child's two handles; a peer that died before, unless the child
     * died while claiming its slot (then that slot is mid-claim, not attached) */
    assert_in_range(s.dead_clients, 2, pc->dead_peer ? 3 : 2);
    shmc_check_report before;
    assert_int_equal(shmc_check_with(c, stderr, &before), 0);
    assert_int_equal(before.problems, 0);
    recoverable_seen += before.recoverable_chunks;

    unsigned reaped = 0;
    assert_int_equal(shmc_recover(c, &reaped), SHMC_OK);
    shmc_check_report after;
    unsigned problems = shmc_check_with(c, stderr, &after);
    assert_int_equal(after.recoverable_chunks, 0);
    assert_int_equal(shmc_stats_get(c, &s), SHMC_OK);
    assert_u64_eq(s.dead_clients, 0);
    printf("  %-26s killed after %u passes; recovered: %u clients reaped, %llu locks repaired, "
           "check %s\n", pc->name, pc->skip, reaped, (unsigned long long)s.locks_repaired,
           problems ? "FAILED" : "clean");
    assert_int_equal(problems, 0);
    if (is_check_case(pc)) /* every lock was taken over, none needed a repair */
        assert_u64_eq(s.locks_repaired, repaired_before);
    verify_keys(c, e, !pc->tight);
    verify_usable(c);
    assert_int_equal(shmc_check(c, stderr), 0);
    free(e);
    shmc_close(c);
    shmc_destroy(path);
}

static void test_every_crash_point(void **state)
{
    (void)state;
    size_t ncases = sizeof cases / sizeof cases[0];
    size_t npoints = 0;
    while (crashpoint_names[npoints])
        npoints++;
    printf("crash points: %zu\n", npoints);
    /* every point compiled into the library has a case here */
    for (size_t i = 0; i < npoints; i++) {
        size_t j = 0;
        while (j < ncases && strcmp(cases[j].name, crashpoint_names[i]) != 0)
            j++;
        if (j == ncases)
            fail_msg("crash point %s has no test case", crashpoint_names[i]);
    }
    for (size_t i = 0; i < ncases; i++)
        run_case(&cases[i]);
    /* some deaths leave a chunk allocated (a store killed before it
     * published): check must have called those recoverable, not problems */
    printf("chunks found recoverable before a reap, over all cases: %u\n", recoverable_seen);
    assert_true(recoverable_seen > 0);
}

/* Fork a child that attaches and runs fn; returns its wait status. */
static int run_child(const char *path, void (*fn)(shmc_cache *))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* cmocka's handler must not catch the fault */
        shmc_cache *c;
        if (shmc_open(path, &c) != SHMC_OK)
            _exit(2);
        fn(c);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void *unmapped_buffer(void)
{
    void *p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(6);
    munmap(p, 1 << 16);
    return p;
}

/* A get into a buffer that is not mapped faults inside the copy, under
 * the key's stripe lock. */
static void get_into_unmapped(shmc_cache *c)
{
    size_t len = 1 << 16;
    shmc_get(c, "victim", 6, unmapped_buffer(), &len, NULL, NULL);
}

/* A set from a value that is not mapped faults while filling its chunk. */
static void set_from_unmapped(shmc_cache *c)
{
    shmc_set(c, "victim", 6, unmapped_buffer(), 5000, 0, 0);
}

static void test_bad_buffer_kills_only_the_caller(void **state)
{
    (void)state;
    char path[256], big[5000];
    tu_make_path(path, sizeof path, "badbuf");
    shmc_cache *c;
    assert_int_equal(shmc_create(path, NULL, &c), SHMC_OK);
    size_t n = tv_make(big, sizeof big, "victim", 1, 4000);
    assert_int_equal(shmc_set(c, "victim", 6, big, n, 0, 0), SHMC_OK);
    void (*cases_fn[])(shmc_cache *) = {get_into_unmapped, set_from_unmapped};
    for (unsigned i = 0; i < 2; i++) {
        int st = run_child(path, cases_fn[i]);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        unsigned reaped = 0;
        assert_int_equal(shmc_recover(c, &reaped), SHMC_OK);
        assert_int_equal(reaped, 1);
        assert_int_equal(shmc_check(c, stderr), 0);
        char buf[5000];
        size_t len = sizeof buf;
        assert_int_equal(shmc_get(c, "victim", 6, buf, &len, NULL, NULL), SHMC_OK);
        assert_true(tv_check(buf, len, "victim") == 1);
        verify_usable(c);
    }
    shmc_close(c);
    shmc_destroy(path);
}

/* The only attached process dies in the middle of a store: the next
 * attach (a warm restart) recovers the segment with its data. */
static void write_then_die(shmc_cache *c)
{
    char key[32], val[256];
    for (uint32_t i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "w:%u", i);
        size_t n = tv_make(val, sizeof val, key, i, 50);
        if (shmc_set(c, key, strlen(key), val, n, 0, 0) != SHMC_OK)
            _exit(7);
    }
    crashpoint_arm("publish.committed", 0);
    shmc_set(c, "w:0", 3, "never acknowledged", 18, 0, 0);
    _exit(8);
}

static void test_everyone_dies_warm_restart(void **state)
{
    (void)state;
    char path[256], key[32], buf[256];
    tu_make_path(path, sizeof path, "alldie");
    shmc_cache *c;
    assert_int_equal(shmc_create(path, NULL, &c), SHMC_OK);
    shmc_close(c); /* nobody attached from here on */
    int st = run_child(path, write_then_die);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(shmc_open(path, &c), SHMC_OK); /* reaps the dead slot */
    assert_int_equal(shmc_check(c, stderr), 0);
    for (uint32_t i = 1; i < 2000; i++) {
        snprintf(key, sizeof key, "w:%u", i);
        size_t len = sizeof buf;
        assert_int_equal(shmc_get(c, key, strlen(key), buf, &len, NULL, NULL), SHMC_OK);
        assert_true(tv_check(buf, len, key) == (long long)i);
    }
    /* the store cut short after its commit point is complete, not torn */
    size_t len = sizeof buf;
    assert_int_equal(shmc_get(c, "w:0", 3, buf, &len, NULL, NULL), SHMC_OK);
    assert_memory_equal(buf, "never acknowledged", 18);
    assert_int_equal(shmc_check(c, stderr), 0);
    shmc_close(c);
    shmc_destroy(path);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_crash_point),
        cmocka_unit_test(test_bad_buffer_kills_only_the_caller),
        cmocka_unit_test(test_everyone_dies_warm_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
