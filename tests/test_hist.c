/*
 * test_hist.c - the benchmarks' latency histogram (bench/hist.h): exact
 * small values, the relative error bound of the log buckets, percentiles
 * of known distributions, merging, the empty histogram, max and mean.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "hist.h"

static bench_hist *new_hist(void)
{
    bench_hist *h = malloc(sizeof *h);
    assert_non_null(h);
    hist_reset(h);
    return h;
}

/* |got - want| <= rel x want */
static void assert_near(double got, double want, double rel)
{
    if (fabs(got - want) > rel * want)
        fail_msg("got %.3f, want %.3f within %.3f%%", got, want, rel * 100);
}

static void test_empty(void **state)
{
    (void)state;
    bench_hist *h = new_hist();
    assert_int_equal(h->count, 0);
    assert_true(hist_pct(h, 50) == 0);
    assert_true(hist_pct(h, 99.9) == 0);
    assert_true(hist_mean(h) == 0);
    assert_int_equal(h->max, 0);
    free(h);
}

/* Below HIST_SUB every value has its own bucket: percentiles are exact. */
static void test_small_values_exact(void **state)
{
    (void)state;
    bench_hist *h = new_hist();
    for (uint64_t v = 0; v < 100; v++)
        hist_record(h, v); /* 0..99: the k-th smallest is k-1 */
    assert_int_equal(h->count, 100);
    assert_true(hist_pct(h, 50) == 49);
    assert_true(hist_pct(h, 90) == 89);
    assert_true(hist_pct(h, 99) == 98);
    assert_true(hist_pct(h, 99.9) == 99); /* rank ceil(99.9) = 100 */
    assert_true(hist_pct(h, 100) == 99);
    assert_true(hist_pct(h, 0) == 0);
    assert_int_equal(h->max, 99);
    assert_int_equal(h->min, 0);
    assert_true(hist_mean(h) == 49.5);
    for (unsigned v = 0; v < HIST_SUB; v++)
        assert_true(hist_value(hist_index(v)) == v);
    free(h);
}

/* Above HIST_SUB a bucket's midpoint is within 1/(2 x HIST_SUB) of any
 * value in it; buckets are contiguous and ordered. */
static void test_relative_error_bound(void **state)
{
    (void)state;
    const double bound = 1.0 / (2.0 * HIST_SUB);
    uint64_t v = HIST_SUB;
    unsigned prev = hist_index(v - 1);
    while (v < (1ull << 41)) {
        unsigned i = hist_index(v);
        assert_true(i == prev || i == prev + 1);
        assert_near(hist_value(i), (double)v, bound);
        prev = i;
        v += 1 + v / 1000; /* every value up to ~1000, then a sampled ~0.1% step */
    }
    assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
    assert_int_equal(hist_index(1ull << 41), HIST_BUCKETS - 1);
}

/* Values 1..1,000,000 once each: the p-th percentile is p x 10,000. */
static void test_uniform_percentiles(void **state)
{
    (void)state;
    bench_hist *h = new_hist();
    for (uint64_t v = 1; v <= 1000000; v++)
        hist_record(h, v);
    const double ps[] = {50, 90, 99, 99.9};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        assert_near(hist_pct(h, ps[i]), ps[i] * 10000, 1.0 / (2.0 * HIST_SUB));
    assert_int_equal(h->max, 1000000);
    assert_true(hist_pct(h, 100) == 1000000);
    assert_near(hist_mean(h), 500000.5, 1e-12);
    free(h);
}

/* 99% of the values at 1000, 1% at 1,000,000: the tail shows from p99.9
 * on, not at p99 (rank 990 of 1000 is still 1000). */
static void test_bimodal_tail(void **state)
{
    (void)state;
    bench_hist *h = new_hist();
    for (int i = 0; i < 990; i++)
        hist_record(h, 1000);
    for (int i = 0; i < 10; i++)
        hist_record(h, 1000000);
    assert_near(hist_pct(h, 50), 1000, 1.0 / (2.0 * HIST_SUB));
    assert_near(hist_pct(h, 99), 1000, 1.0 / (2.0 * HIST_SUB));
    assert_near(hist_pct(h, 99.9), 1000000, 1.0 / (2.0 * HIST_SUB));
    assert_int_equal(h->max, 1000000);
    assert_int_equal(h->min, 1000);
    assert_near(hist_mean(h), (990.0 * 1000 + 10.0 * 1000000) / 1000, 1e-12);
    free(h);
}

/* A single value is reported exactly (percentiles clamp to min/max). */
static void test_single_large_value(void **state)
{
    (void)state;
    bench_hist *h = new_hist();
    hist_record(h, 123456789);
    assert_true(hist_pct(h, 50) == 123456789);
    assert_true(hist_pct(h, 99.9) == 123456789);
    assert_int_equal(h->max, 123456789);
    free(h);
}

/* Merging two halves gives the histogram of the whole, bucket for bucket. */
static void test_merge(void **state)
{
    (void)state;
    bench_hist *a = new_hist(), *b = new_hist(), *all = new_hist(), *empty = new_hist();
    for (uint64_t v = 1; v <= 200000; v++) {
        hist_record(v % 2 ? a : b, v * 7);
        hist_record(all, v * 7);
    }
    hist_merge(a, b);
    hist_merge(a, empty);
    assert_int_equal(a->count, all->count);
    assert_int_equal(a->max, all->max);
    assert_int_equal(a->min, all->min);
    assert_true(a->sum == all->sum);
    assert_memory_equal(a->b, all->b, sizeof a->b);
    assert_true(hist_pct(a, 99) == hist_pct(all, 99));
    /* merging into an empty one copies */
    hist_merge(empty, all);
    assert_int_equal(empty->min, 7);
    assert_int_equal(empty->max, 1400000);
    assert_true(hist_pct(empty, 50) == hist_pct(all, 50));
    free(a);
    free(b);
    free(all);
    free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_relative_error_bound),
        cmocka_unit_test(test_uniform_percentiles),
        cmocka_unit_test(test_bimodal_tail),
        cmocka_unit_test(test_single_large_value),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
