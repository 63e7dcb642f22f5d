/*
 * bench_common.h - timer, key/value and report helpers shared by
 * bench_lib.c and build/ycsb.  Header-only (static inline) so that
 * the CMake glob of bench C files does not pick it up as a program.
 *
 * Timer: on x86-64 the time-stamp counter (lfence; rdtsc ... rdtscp; lfence),
 * calibrated against clock_gettime(CLOCK_MONOTONIC) over ~100 ms, used only
 * when the CPU reports an invariant TSC (constant_tsc + nonstop_tsc).
 * Elsewhere clock_gettime(CLOCK_MONOTONIC) per call.  In both cases the
 * timer's own overhead (median of an empty timed region) is measured and
 * subtracted from every sample.
 *
 * The latency histogram is its own module, hist.h / hist.c (linked into
 * every benchmark).
 */
#ifndef SHMC_BENCH_COMMON_H
#define SHMC_BENCH_COMMON_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hist.h"
#include "rng.h"
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_HAVE_TSC 1
#else
#define BENCH_HAVE_TSC 0
#endif

/* ------------------------------------------------------------------ */
/* Clock                                                               */
/* ------------------------------------------------------------------ */

static inline uint64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct bench_timer {
    int use_tsc;          /* 1: rdtsc; 0: clock_gettime */
    double ns_per_tick;   /* 1.0 for clock_gettime */
    double overhead_ns;   /* median cost of an empty timed region, subtracted */
    double tsc_ghz;       /* calibrated TSC frequency (0 when unused) */
} bench_timer;

static bench_timer bench_tm;

/* Start and stop stamps in ticks.  lfence keeps the timed call from
 * being reordered across the stamps (the fences are part of the measured
 * overhead, which is subtracted). */
static inline uint64_t bench_start(void)
{
#if BENCH_HAVE_TSC
    if (bench_tm.use_tsc) {
        _mm_lfence();
        uint64_t t = __rdtsc();
        _mm_lfence();
        return t;
    }
#endif
    return bench_mono_ns();
}

static inline uint64_t bench_stop(void)
{
#if BENCH_HAVE_TSC
    if (bench_tm.use_tsc) {
        unsigned aux;
        uint64_t t = __rdtscp(&aux);
        _mm_lfence();
        return t;
    }
#endif
    return bench_mono_ns();
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline int bench_cpu_has_invariant_tsc(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[8192];
    int ok = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) == 0) {
            ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc") &&
                 strstr(line, " rdtscp");
            break;
        }
    }
    fclose(f);
    return ok;
}

/* Choose and calibrate the timer.  force_clock: 1 forces clock_gettime. */
static inline void bench_timer_init(int force_clock)
{
    bench_tm.use_tsc = 0;
    bench_tm.ns_per_tick = 1.0;
    bench_tm.tsc_ghz = 0;
#if BENCH_HAVE_TSC
    if (!force_clock && bench_cpu_has_invariant_tsc()) {
        /* Calibrate over ~100 ms, best of 3 (shortest bracketing). */
        double best = 0;
        for (int rep = 0; rep < 3; rep++) {
            uint64_t n0 = bench_mono_ns();
            uint64_t t0 = __rdtsc();
            uint64_t n1;
            do {
                n1 = bench_mono_ns();
            } while (n1 - n0 < 100000000ull);
            uint64_t t1 = __rdtsc();
            double ghz = (double)(t1 - t0) / (double)(n1 - n0);
            if (rep == 0 || ghz < best)
                best = ghz;
        }
        if (best > 0.1) {
            bench_tm.use_tsc = 1;
            bench_tm.tsc_ghz = best;
            bench_tm.ns_per_tick = 1.0 / best;
        }
    }
#endif
    /* Overhead: median of many empty timed regions. */
    enum { N = 20001 };
    static double s[N];
    for (int i = 0; i < 1000; i++) {
        uint64_t a = bench_start();
        uint64_t b = bench_stop();
        (void)a;
        (void)b;
    }
    for (int i = 0; i < N; i++) {
        uint64_t a = bench_start();
        uint64_t b = bench_stop();
        s[i] = (double)(b - a) * bench_tm.ns_per_tick;
    }
    qsort(s, N, sizeof s[0], bench_cmp_double);
    bench_tm.overhead_ns = s[N / 2];
}

/* Elapsed ns of one timed region, timer overhead subtracted (floored at 0). */
static inline uint64_t bench_elapsed_ns(uint64_t start, uint64_t stop)
{
    double ns = (double)(stop - start) * bench_tm.ns_per_tick - bench_tm.overhead_ns;
    return ns <= 0 ? 0 : (uint64_t)(ns + 0.5);
}

static inline const char *bench_timer_desc(char *buf, size_t cap)
{
    if (bench_tm.use_tsc)
        snprintf(buf, cap,
                 "rdtsc (lfence/rdtscp) calibrated vs CLOCK_MONOTONIC: %.4f GHz; "
                 "timer overhead %.1f ns subtracted per sample",
                 bench_tm.tsc_ghz, bench_tm.overhead_ns);
    else
        snprintf(buf, cap,
                 "clock_gettime(CLOCK_MONOTONIC) per call; timer overhead %.1f ns "
                 "subtracted per sample",
                 bench_tm.overhead_ns);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Keys, values, random numbers                                        */
/* ------------------------------------------------------------------ */

#define BENCH_KEY_LEN 14 /* "key:" + 10 digits */

/* Writes "key:%010u" (no NUL) into out[BENCH_KEY_LEN]. */
static inline void bench_key(char *out, uint32_t i)
{
    memcpy(out, "key:", 4);
    for (int d = 13; d >= 4; d--) {
        out[d] = (char)('0' + i % 10);
        i /= 10;
    }
}

/* The value of item i: its key, a '=', then a pattern that depends on i
 * and the position.  A reader can check every byte. */
static inline void bench_value(char *out, size_t vlen, uint32_t i)
{
    char k[BENCH_KEY_LEN];
    bench_key(k, i);
    size_t j = 0;
    for (; j < vlen && j < BENCH_KEY_LEN; j++)
        out[j] = k[j];
    if (j < vlen)
        out[j++] = '=';
    for (; j < vlen; j++)
        out[j] = (char)('a' + (i * 7u + (uint32_t)j) % 26u);
}

/* 1 if buf/len is exactly item i's value. */
static inline int bench_value_ok(const char *buf, size_t len, size_t vlen, uint32_t i,
                                 char *scratch)
{
    if (len != vlen)
        return 0;
    bench_value(scratch, vlen, i);
    return memcmp(buf, scratch, vlen) == 0;
}

/* The 1-minute load average (-1 if unknown): other work on the machine
 * makes every figure, and above all throughput and tails, unreliable. */
static inline double bench_loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static inline void bench_print_load(const char *when, long cpus)
{
    double l = bench_loadavg();
    if (l < 0)
        return;
    printf("load average (1 min) %s: %.2f on %ld CPUs%s\n", when, l, cpus,
           l > 0.5 ? "  <-- the machine is busy: figures are less reliable" : "");
}

/* ------------------------------------------------------------------ */
/* Results: table line + CSV line                                      */
/* ------------------------------------------------------------------ */

/* CSV columns: program,metric,value,unit */
static inline void bench_csv(FILE *csv, const char *prog, const char *metric, double value,
                             const char *unit)
{
    if (csv)
        fprintf(csv, "%s,%s,%.10g,%s\n", prog, metric, value, unit);
}

static inline void bench_report_hist(FILE *csv, const char *prog, const char *op,
                                     const bench_hist *h)
{
    printf("  %-4s %10" PRIu64 " samples  p50 %8.0f  p90 %8.0f  p99 %8.0f  p99.9 %8.0f  "
           "max %9" PRIu64 "  mean %8.1f  (ns)\n",
           op, h->count, hist_pct(h, 50), hist_pct(h, 90), hist_pct(h, 99),
           hist_pct(h, 99.9), h->max, hist_mean(h));
    char m[64];
    static const struct {
        const char *name;
        double p;
    } ps[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        snprintf(m, sizeof m, "%s_%s_ns", op, ps[i].name);
        bench_csv(csv, prog, m, hist_pct(h, ps[i].p), "ns");
    }
    snprintf(m, sizeof m, "%s_max_ns", op);
    bench_csv(csv, prog, m, (double)h->max, "ns");
    snprintf(m, sizeof m, "%s_mean_ns", op);
    bench_csv(csv, prog, m, hist_mean(h), "ns");
    snprintf(m, sizeof m, "%s_samples", op);
    bench_csv(csv, prog, m, (double)h->count, "count");
}

#endif /* SHMC_BENCH_COMMON_H */
