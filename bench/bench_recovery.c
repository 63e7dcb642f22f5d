/*
 * bench_recovery.c - how long recovery from a dead client takes.
 *
 * Linked with libshmcached_crash (crash points compiled in).  Fills a
 * segment with N items, then, for each case, forks a client that dies at a
 * chosen step while holding locks, and measures in the surviving process:
 *   - takeover: the first call that needs a lock the dead client held,
 *     from the call to its return: the wait until the owner is found dead
 *     (liveness is checked every LOCK_CHECK_MS) plus the repair;
 *   - reap: shmc_recover() freeing the dead client's chunks;
 *   - the same for a client that dies holding no lock (reap only);
 *   - the same for a client that dies inside shmc_check, holding every
 *     lock (as a reader: nothing needs a repair).
 * Prints medians over the rounds.
 *
 * usage: bench_recovery [-n items] [-r rounds] [-m MB]
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashpoint.h"
#include "shmcached.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* A child that attaches and dies at point (NULL: right after a store,
 * holding no lock) while storing key (NULL: while checking). */
static void die_at(const char *path, const char *point, const char *key)
{
    pid_t pid = fork();
    if (pid == 0) {
        shmc_cache *c;
        if (shmc_open(path, &c) != SHMC_OK)
            _exit(2);
        if (point)
            crashpoint_arm(point, 0);
        if (key)
            shmc_set(c, key, strlen(key), "value", 5, 0, 0);
        else
            shmc_check(c, NULL);
        kill(getpid(), SIGKILL);
    }
    waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    unsigned items = 1000000, rounds = 9, mb = 512;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:m:")) != -1) {
        if (opt == 'n')
            items = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'r')
            rounds = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'm')
            mb = (unsigned)strtoul(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: %s [-n items] [-r rounds] [-m MB]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > 1000) {
        fprintf(stderr, "bench_recovery: -r takes 1..1000\n");
        return 2;
    }
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shmc-bench-recovery-%d", (int)getpid());
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = (uint64_t)mb << 20;
    shmc_cache *c;
    if (shmc_create(path, &cfg, &c) != SHMC_OK) {
        fprintf(stderr, "bench_recovery: cannot create %s\n", path);
        return 1;
    }
    char key[32], val[100];
    memset(val, 'v', sizeof val);
    for (unsigned i = 0; i < items; i++) {
        snprintf(key, sizeof key, "key:%010u", i);
        shmc_set(c, key, strlen(key), val, sizeof val, 0, 0);
    }
    shmc_stats s;
    shmc_stats_get(c, &s);
    printf("segment: %u MB, %llu items of 100 bytes\n", mb, (unsigned long long)s.curr_items);

    double *take = calloc(rounds, sizeof *take), *reap = calloc(rounds, sizeof *reap),
           *reap_only = calloc(rounds, sizeof *reap_only), *chk_take = calloc(rounds, sizeof *chk_take),
           *chk_reap = calloc(rounds, sizeof *chk_reap);
    char buf[128];
    for (unsigned r = 0; r < rounds; r++) {
        /* dies after its new item is LINKED, holding its stripe and class */
        snprintf(key, sizeof key, "victim:%u", r);
        die_at(path, "publish.committed", key);
        double t0 = now_ms();
        size_t len = sizeof buf;
        shmc_get(c, key, strlen(key), buf, &len, NULL, NULL); /* needs that stripe */
        take[r] = now_ms() - t0;
        t0 = now_ms();
        shmc_recover(c, NULL);
        reap[r] = now_ms() - t0;
        /* dies holding nothing: only its slot to reap */
        die_at(path, NULL, "quiet");
        t0 = now_ms();
        shmc_recover(c, NULL);
        reap_only[r] = now_ms() - t0;
        /* dies in a check, holding every lock */
        die_at(path, "check.locked", NULL);
        t0 = now_ms();
        len = sizeof buf;
        shmc_get(c, "key:0000000001", 14, buf, &len, NULL, NULL);
        chk_take[r] = now_ms() - t0;
        t0 = now_ms();
        shmc_recover(c, NULL);
        chk_reap[r] = now_ms() - t0;
    }
    printf("dead lock owner, first call needing its lock (detect + repair): median %.2f ms\n",
           median(take, (int)rounds));
    printf("shmc_recover after it (reap the slot: scan every page):        median %.2f ms\n",
           median(reap, (int)rounds));
    printf("shmc_recover of a client that died holding no lock:            median %.2f ms\n",
           median(reap_only, (int)rounds));
    printf("client killed in shmc_check, first call needing a lock:       median %.2f ms\n",
           median(chk_take, (int)rounds));
    printf("shmc_recover after it (every lock taken over):                 median %.2f ms\n",
           median(chk_reap, (int)rounds));
    printf("check: %u problems\n", shmc_check(c, stdout));
    shmc_close(c);
    shmc_destroy(path);
    return 0;
}
