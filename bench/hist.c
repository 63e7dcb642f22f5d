/*
 * hist.c - the benchmarks' latency histogram: reading it back (bucket
 * values, percentiles, mean) and merging.  Layout and recording: hist.h.
 */
#include "hist.h"

#include <string.h>

void hist_reset(bench_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

double hist_value(unsigned i)
{
    if (i < HIST_SUB)
        return (double)i;
    unsigned e = (i - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
    unsigned sub = (i - HIST_SUB) % HIST_SUB;
    double lo = (double)((uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS));
    double width = (double)(1ull << (e - HIST_SUB_BITS));
    return lo + width / 2;
}

void hist_merge(bench_hist *into, const bench_hist *from)
{
    if (from->count == 0)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
    if (from->min < into->min)
        into->min = from->min;
}

/* The rank (1-based) of the sample at percentile p. */
static uint64_t pct_rank(uint64_t count, double p)
{
    /* ceil, with slack for p/100 x count landing a hair above an integer */
    uint64_t rank = (uint64_t)((p / 100.0) * (double)count + 0.999999);
    if (rank < 1)
        rank = 1;
    return rank > count ? count : rank;
}

static double clamp_to_range(const bench_hist *h, double v)
{
    if (v > (double)h->max)
        return (double)h->max;
    if (v < (double)h->min)
        return (double)h->min;
    return v;
}

double hist_pct(const bench_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = pct_rank(h->count, p), seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank)
            return clamp_to_range(h, hist_value(i));
    }
    return (double)h->max;
}

double hist_mean(const bench_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}
