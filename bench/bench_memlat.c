/*
 * bench_memlat.c - how much of the host's cache this VM gets
 * (build/bench_memlat): the latency of one dependent load at random
 * within working sets of growing size, and the time a load takes when
 * many independent ones are in flight at once.
 *
 * Each size is one array of 64-byte cells linked into a single random
 * cycle; a walk loads cell after cell, each address coming from the load
 * before, so no two loads overlap.  While the set fits a cache the walk
 * costs that cache's latency; past the last level it costs a memory
 * access.  On a VM the step from one to the other shows how much of the
 * last-level cache the neighbours leave this guest, which moves from hour
 * to hour here.  A library read of a record outside the caches pays about
 * one such load (the record), which is why the read latency of 100,000
 * records (about 20 MB) follows it: docs/performance.md has the figures.
 *
 * The second figure loads cells at random addresses that no load waits
 * for, each fetched some loads ahead, so the CPU keeps as many misses in
 * flight as it can: past the caches, that is the most lines a second
 * this guest can fetch at random, the floor of a batched read
 * (shmc_get_multi), which fetches a few lines a key that way
 * (bench/gate.sh prints it).
 *
 *   build/bench_memlat [-c CPU] [-n LOADS] [-m MAX_MB]
 *
 * Prints one line per size:
 * "SIZE KB: X ns per dependent load, Y ns per independent load".
 * Exit 0; 2 on a bad option; 1 if memory or the CPU cannot be had.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "rng.h"

#define CELL 64 /* bytes per cell: one cache line */

/* A random cycle through n cells of a (each cell's first word holds the
 * index of the next); returns the walk's start. */
static size_t link_cycle(uint64_t *a, size_t n, bench_rng *r)
{
    size_t *order = malloc(n * sizeof *order);
    if (!order)
        return SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = rng_next(r) % (i + 1);
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        a[order[i] * (CELL / 8)] = order[(i + 1) % n] * (CELL / 8);
    size_t start = order[0] * (CELL / 8);
    free(order);
    return start;
}

/* Nanoseconds per dependent load over loads steps of the cycle in a. */
static double walk_ns(const uint64_t *a, size_t start, size_t n, long loads)
{
    size_t p = start;
    for (size_t i = 0; i < n; i++) /* warm: every cell once */
        p = a[p];
    uint64_t t0 = bench_mono_ns();
    for (long i = 0; i < loads; i++)
        p = a[p];
    uint64_t t1 = bench_mono_ns();
    __asm__ volatile("" : : "r"(p)); /* the walk's result is used */
    return (double)(t1 - t0) / (double)loads;
}

#define SPREAD_CELLS (1u << 20) /* random cell numbers, read in order, over and over */
#define SPREAD_AHEAD 16         /* loads fetched ahead of the one summed */

/* Nanoseconds per load of loads loads at random cells of a (n cells):
 * the cell numbers drawn beforehand and read in order, each cell fetched
 * SPREAD_AHEAD loads before it is summed, as a batched read fetches its
 * lines, so that as many misses are in flight as the CPU allows.  -1 if
 * there is no memory for the cell numbers. */
static double spread_ns(const uint64_t *a, size_t n, long loads, bench_rng *r)
{
    uint32_t *cell = malloc(SPREAD_CELLS * sizeof *cell);
    if (!cell)
        return -1;
    for (size_t i = 0; i < SPREAD_CELLS; i++)
        cell[i] = (uint32_t)(rng_next(r) % n) * (CELL / 8);
    uint64_t sum = 0;
    uint64_t t0 = bench_mono_ns();
    for (long i = 0; i < loads; i++) {
        __builtin_prefetch(&a[cell[(i + SPREAD_AHEAD) % SPREAD_CELLS]]);
        sum += a[cell[i % SPREAD_CELLS]];
    }
    uint64_t t1 = bench_mono_ns();
    __asm__ volatile("" : : "r"(sum));
    free(cell);
    return (double)(t1 - t0) / (double)loads;
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [-c CPU] [-n LOADS] [-m MAX_MB]\n"
            "Latency of a dependent random load, and time per random load with\n"
            "many in flight, in working sets of 256 KB up to MAX_MB (default 64),\n"
            "doubling.\n"
            "  -c CPU    run on this CPU (default: where the scheduler puts it)\n"
            "  -n LOADS  loads timed per size (default 2000000)\n"
            "  -m MB     largest working set (default 64)\n",
            argv0);
}

int main(int argc, char **argv)
{
    int cpu = -1, opt;
    long loads = 2000000, max_mb = 64;
    while ((opt = getopt(argc, argv, "c:n:m:h")) != -1) {
        char *end = NULL;
        long v = optarg ? strtol(optarg, &end, 10) : 0;
        bool bad = optarg && (*end != '\0' || v < 0);
        switch (opt) {
        case 'c': cpu = (int)v; break;
        case 'n': loads = v; bad = bad || v < 1; break;
        case 'm': max_mb = v; bad = bad || v < 1 || v > 65536; break;
        case 'h': usage(stdout, argv[0]); return 0;
        default: usage(stderr, argv[0]); return 2;
        }
        if (bad) {
            fprintf(stderr, "%s: bad value for -%c: %s\n", argv[0], opt, optarg);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr, argv[0]);
        return 2;
    }
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            fprintf(stderr, "%s: cannot run on CPU %d\n", argv[0], cpu);
            return 1;
        }
    }
    bench_rng r;
    rng_seed(&r, 42);
    for (size_t bytes = 256u << 10; bytes <= (size_t)max_mb << 20; bytes *= 2) {
        size_t n = bytes / CELL;
        uint64_t *a = malloc(bytes);
        size_t start = a ? link_cycle(a, n, &r) : SIZE_MAX;
        if (start == SIZE_MAX) {
            fprintf(stderr, "%s: out of memory at %zu KB\n", argv[0], bytes >> 10);
            free(a);
            return 1;
        }
        double dep = walk_ns(a, start, n, loads), spread = spread_ns(a, n, loads, &r);
        if (spread < 0) {
            fprintf(stderr, "%s: out of memory at %zu KB\n", argv[0], bytes >> 10);
            free(a);
            return 1;
        }
        printf("%8zu KB: %6.1f ns per dependent load, %5.1f ns per independent load\n",
               bytes >> 10, dep, spread);
        fflush(stdout);
        free(a);
    }
    return 0;
}
