/*
 * share_demo - two processes, one cache.
 *
 *   share_demo [PATH] [--keep]
 *
 * Creates the segment at PATH (default /dev/shm/shmcached-demo), or opens
 * it if it already exists, then forks.  The child opens its own handle
 * (a handle must not be used across fork), stores some keys and bumps a
 * shared counter while the parent bumps the same counter at the same time.
 * The parent waits for the child, reads the child's keys back and checks
 * the counter holds both processes' increments: proof that the two
 * processes share one cache with no server in between.  It prints the
 * cache statistics and removes the segment unless --keep is given.
 *
 * Exit status 0 when everything the parent read matches what the child
 * wrote, 1 otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmcached.h"

#define DEFAULT_PATH "/dev/shm/shmcached-demo"
#define NKEYS 10
#define INCRS 1000
#define COUNTER "demo:counter"

/** The value the child stores under key i. */
static void child_value(char *buf, size_t cap, pid_t child, int i)
{
    snprintf(buf, cap, "written by process %ld, item %d", (long)child, i);
}

static int fail(const char *what, shmc_status st)
{
    fprintf(stderr, "share_demo: %s: %s\n", what, shmc_strerror(st));
    return 1;
}

/** Increment the shared counter n times; 0 on success. */
static int bump_counter(shmc_cache *cache, int n)
{
    for (int i = 0; i < n; i++) {
        shmc_status st = shmc_incr(cache, COUNTER, strlen(COUNTER), 1, NULL);
        if (st != SHMC_OK)
            return fail("incr " COUNTER, st);
    }
    return 0;
}

/** The child: its own handle, NKEYS keys, INCRS increments. */
static int child_main(const char *path)
{
    shmc_cache *cache;
    shmc_status st = shmc_open(path, &cache);
    char key[64], value[128];
    int rc = 0;

    if (st != SHMC_OK)
        return fail("child: open", st);
    for (int i = 0; i < NKEYS && rc == 0; i++) {
        snprintf(key, sizeof key, "demo:key:%d", i);
        child_value(value, sizeof value, getpid(), i);
        st = shmc_set(cache, key, strlen(key), value, strlen(value), (uint32_t)i, 0);
        if (st != SHMC_OK)
            rc = fail("child: set", st);
    }
    if (rc == 0)
        rc = bump_counter(cache, INCRS);
    shmc_close(cache);
    return rc;
}

/** Read back the child's keys; returns the number of mismatches. */
static int check_keys(shmc_cache *cache, pid_t child)
{
    char key[64], want[128], got[128];
    int bad = 0;

    for (int i = 0; i < NKEYS; i++) {
        size_t len = sizeof got - 1;
        uint32_t flags = 0;
        shmc_status st;

        snprintf(key, sizeof key, "demo:key:%d", i);
        child_value(want, sizeof want, child, i);
        st = shmc_get(cache, key, strlen(key), got, &len, &flags, NULL);
        if (st != SHMC_OK) {
            fprintf(stderr, "share_demo: get %s: %s\n", key, shmc_strerror(st));
            bad++;
            continue;
        }
        got[len] = '\0';
        if (strcmp(got, want) != 0 || flags != (uint32_t)i) {
            fprintf(stderr, "share_demo: %s: got \"%s\" flags %" PRIu32
                    ", want \"%s\" flags %d\n", key, got, flags, want, i);
            bad++;
        } else if (i < 3) {
            printf("parent read %s = \"%s\" (flags %" PRIu32 ")\n", key, got, flags);
        }
    }
    printf("parent read all %d keys the child wrote: %s\n", NKEYS, bad ? "MISMATCH" : "ok");
    return bad;
}

/** The counter must hold both processes' increments. */
static int check_counter(shmc_cache *cache)
{
    char buf[32];
    size_t len = sizeof buf - 1;
    shmc_status st = shmc_get(cache, COUNTER, strlen(COUNTER), buf, &len, NULL, NULL);
    char want[32];

    if (st != SHMC_OK)
        return fail("get " COUNTER, st);
    buf[len] = '\0';
    snprintf(want, sizeof want, "%d", 2 * INCRS);
    printf("counter after %d increments by each process: %s (want %s)\n", INCRS, buf, want);
    return strcmp(buf, want) != 0;
}

static void print_stats(shmc_cache *cache)
{
    shmc_stats s;

    if (shmc_stats_get(cache, &s) != SHMC_OK)
        return;
    printf("stats: curr_items %" PRIu64 ", total_items %" PRIu64 ", cmd_set %" PRIu64
           ", get_hits %" PRIu64 ", get_misses %" PRIu64 ", incr_hits %" PRIu64
           ", bytes %" PRIu64 ", curr_clients %" PRIu64 "\n",
           s.curr_items, s.total_items, s.cmd_set, s.get_hits, s.get_misses,
           s.incr_hits, s.bytes, s.curr_clients);
}

/** Create the segment, or open it if it is already there. */
static shmc_status attach(const char *path, shmc_cache **cache)
{
    shmc_status st = shmc_create(path, NULL, cache);

    if (st == SHMC_FILE_EXISTS) {
        printf("opened existing segment %s\n", path);
        return shmc_open(path, cache);
    }
    if (st == SHMC_OK)
        printf("created segment %s\n", path);
    return st;
}

/** Fork the child, bump the counter alongside it, wait; 0 if it succeeded. */
static int run_child(const char *path, shmc_cache *cache, pid_t *child)
{
    int status, rc;

    fflush(stdout);
    *child = fork();
    if (*child < 0) {
        perror("share_demo: fork");
        return 1;
    }
    if (*child == 0)
        _exit(child_main(path)); /* never touches the parent's handle */
    rc = bump_counter(cache, INCRS);
    if (waitpid(*child, &status, 0) < 0) {
        perror("share_demo: waitpid");
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "share_demo: child %ld failed (status 0x%x)\n", (long)*child, status);
        return 1;
    }
    printf("child %ld wrote %d keys and incremented the counter %d times\n",
           (long)*child, NKEYS, INCRS);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = DEFAULT_PATH;
    int keep = 0, bad = 0;
    shmc_cache *cache;
    shmc_status st;
    pid_t child = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keep") == 0)
            keep = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: share_demo [PATH] [--keep]\n");
            return 2;
        } else
            path = argv[i];
    }
    if ((st = attach(path, &cache)) != SHMC_OK)
        return fail(path, st);
    st = shmc_set(cache, COUNTER, strlen(COUNTER), "0", 1, 0, 0);
    if (st != SHMC_OK)
        bad = fail("set " COUNTER, st);
    if (!bad)
        bad = run_child(path, cache, &child);
    if (!bad) {
        bad += check_keys(cache, child);
        bad += check_counter(cache);
    }
    print_stats(cache);
    shmc_close(cache);
    if (!keep && (st = shmc_destroy(path)) != SHMC_OK)
        bad += fail("destroy", st);
    else if (!keep)
        printf("destroyed %s\n", path);
    printf("%s\n", bad ? "FAILED: the processes did not see the same cache"
                       : "OK: two processes shared one cache");
    return bad ? 1 : 0;
}
