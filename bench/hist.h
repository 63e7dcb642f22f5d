/*
 * hist.h - the benchmarks' latency histogram (one for the whole tree:
 * bench_lib and build/ycsb all record into it).
 *
 * HdrHistogram-style log buckets (Debian packages no C HdrHistogram, so this
 * is the project's own): values below HIST_SUB (128) are counted exactly;
 * above, every power of two [2^e, 2^(e+1)) is cut into HIST_SUB equal
 * sub-buckets, so a value is known to within 1/HIST_SUB of itself (a
 * bucket's midpoint is within 1/(2*HIST_SUB), 0.4%, of any value in it).
 * Values from 2^(HIST_MAX_EXP+1) up land in the last bucket (max stays exact).
 * count, min, max and the sum (hence the mean) are exact.
 *
 * A histogram is a plain struct with no pointers, so it can live in a
 * MAP_SHARED area written by another process, and two can be merged by
 * adding them (threads, processes).  Recording is not thread-safe: give
 * each thread its own histogram and merge them afterwards.
 */
#ifndef SHMC_BENCH_HIST_H
#define SHMC_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS) /* exact below this; sub-buckets per power of two */
#define HIST_MAX_EXP 40                /* values up to 2^41 - 1 are bucketed (~36 min in ns) */
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS + 1) * HIST_SUB)

typedef struct bench_hist {
    uint64_t count;             /* values recorded */
    uint64_t max;               /* largest value recorded (0 when empty) */
    uint64_t min;               /* smallest value recorded (UINT64_MAX when empty) */
    double sum;                 /* sum of the values, for the mean */
    uint64_t b[HIST_BUCKETS];   /* per-bucket counts, see hist_index */
} bench_hist;

/* Empty *h (count 0, min UINT64_MAX, max 0). */
void hist_reset(bench_hist *h);

/* The bucket that holds value v: v itself below HIST_SUB, else
 * HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB + the HIST_SUB_BITS bits below
 * v's top bit e; values past the range go to the last bucket. */
static inline unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS */
    if (e > HIST_MAX_EXP)
        return HIST_BUCKETS - 1;
    unsigned sub = (unsigned)(v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
    return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB + sub;
}

/* Record one value.  Inline: it is on every timed operation's path. */
static inline void hist_record(bench_hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v > h->max)
        h->max = v;
    if (v < h->min)
        h->min = v;
}

/* Midpoint of bucket i's value range (the bucket's value itself below
 * HIST_SUB). */
double hist_value(unsigned i);

/* Add every count of *from into *into (min, max and sum included). */
void hist_merge(bench_hist *into, const bench_hist *from);

/* Value at percentile p (0..100): the midpoint of the bucket holding the
 * ceil(p/100 x count)-th smallest value (at least the 1st), clamped to
 * [min, max].  0 for an empty histogram. */
double hist_pct(const bench_hist *h, double p);

/* Exact mean; 0 for an empty histogram. */
double hist_mean(const bench_hist *h);

#endif /* SHMC_BENCH_HIST_H */
