/*
 * bench_xcpu.c - how far apart two CPUs are (build/bench_xcpu): the round
 * trip of one cache line between a thread pinned to each.
 *
 * Two threads take turns writing one shared word, each waiting until the
 * other has written it; a turn is a cache-line transfer each way.  On a
 * VM this figure belongs to the host's placement of the two vCPUs (SMT
 * siblings, cores of one socket, or further apart), which the guest can
 * neither see nor choose, and it changes from hour to hour on the 2-vCPU
 * machines here.  Every workload whose threads write shared lines (YCSB
 * A's updates: stripe and class locks, LRU heads, the CAS counter) follows
 * it: docs/performance.md has the figures.  bench/ycsb.sh measures it
 * before each 2-thread library run, so a table says which case it had.
 *
 *   build/bench_xcpu [-a CPU] [-b CPU] [-n ROUNDS] [-q]
 *
 * Prints "cache-line round trip CPU a <-> CPU b: X ns" (-q: X alone).
 * Exit 0; 2 on a bad option; 1 if a CPU cannot be used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

/* The shared word, alone on its cache line. */
static struct {
    _Alignas(64) atomic_uint turn; /* whose move: 0 = thread a, 1 = thread b */
    char pad[64 - sizeof(atomic_uint)];
} line;

struct side {
    int cpu;          /* where this thread runs */
    unsigned me;      /* its turn value, 0 or 1 */
    long rounds;      /* how many turns it takes */
    int err;          /* pthread_setaffinity_np's error, 0 if pinned */
    atomic_int ready; /* 0 until pinned (1) or failed to pin (-1) */
};

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Wait for our turn, hand it over; rounds times. */
static void play(struct side *s)
{
    for (long i = 0; i < s->rounds; i++) {
        while (atomic_load_explicit(&line.turn, memory_order_acquire) != s->me)
            __builtin_ia32_pause();
        atomic_store_explicit(&line.turn, s->me ^ 1u, memory_order_release);
    }
}

static void *side_b(void *arg)
{
    struct side *s = arg;
    s->err = pin(s->cpu);
    atomic_store_explicit(&s->ready, s->err ? -1 : 1, memory_order_release);
    if (!s->err)
        play(s);
    return NULL;
}

static int parse_nonneg(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_xcpu [-a CPU] [-b CPU] [-n ROUNDS] [-q]\n"
               "  the round trip of a cache line between a thread on CPU a (0) and\n"
               "  one on CPU b (1), averaged over ROUNDS turns (200000); -q: the number alone\n");
}

int main(int argc, char **argv)
{
    long a = 0, b = 1, rounds = 200000;
    int quiet = 0, opt;
    while ((opt = getopt(argc, argv, "a:b:n:qh")) != -1) {
        switch (opt) {
        case 'a':
            if (parse_nonneg(optarg, CPU_SETSIZE - 1, &a))
                goto bad;
            break;
        case 'b':
            if (parse_nonneg(optarg, CPU_SETSIZE - 1, &b))
                goto bad;
            break;
        case 'n':
            if (parse_nonneg(optarg, 1000000000L, &rounds) || rounds == 0)
                goto bad;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc || a == b)
        goto bad;
    int err = pin((int)a);
    if (err) {
        fprintf(stderr, "bench_xcpu: cannot run on CPU %ld: %s\n", a, strerror(err));
        return 1;
    }
    struct side sa = {.cpu = (int)a, .me = 0, .rounds = rounds};
    struct side sb = {.cpu = (int)b, .me = 1, .rounds = rounds};
    pthread_t t;
    if ((err = pthread_create(&t, NULL, side_b, &sb)) != 0) {
        fprintf(stderr, "bench_xcpu: pthread_create: %s\n", strerror(err));
        return 1;
    }
    int r;
    while ((r = atomic_load_explicit(&sb.ready, memory_order_acquire)) == 0)
        __builtin_ia32_pause();
    if (r < 0) {
        pthread_join(t, NULL);
        fprintf(stderr, "bench_xcpu: cannot run on CPU %ld: %s\n", b, strerror(sb.err));
        return 1;
    }
    uint64_t t0 = bench_mono_ns();
    play(&sa);
    uint64_t t1 = bench_mono_ns();
    pthread_join(t, NULL);
    double rtt = (t1 - t0) / (double)rounds;
    if (quiet)
        printf("%.1f\n", rtt);
    else
        printf("cache-line round trip CPU %ld <-> CPU %ld: %.1f ns (%ld rounds)\n", a, b, rtt, rounds);
    return 0;
bad:
    usage(stderr);
    return 2;
}
