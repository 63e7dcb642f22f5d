/*
 * test_ycsb_keygen.c - the YCSB driver's key choosers and record format
 * (bench/ycsb/keygen.c, record.c): zeta against known values, the zipfian
 * head probabilities, scrambled and uniform keys in range and spread,
 * latest keys below the acknowledged insert count, the insert counter's
 * contiguous acknowledgement, and values that check only as themselves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "keygen.h"
#include "record.h"

static void assert_near(double got, double want, double rel)
{
    if (fabs(got - want) > rel * fabs(want))
        fail_msg("got %.6f, want %.6f within %.3f%%", got, want, rel * 100);
}

/* zeta(n, 0.99): exact sums for small n, YCSB's constant for 10^10. */
static void test_zeta(void **state)
{
    (void)state;
    assert_near(zipf_zeta(1, 0.99), 1.0, 1e-12);
    assert_near(zipf_zeta(2, 0.99), 1.0 + pow(2, -0.99), 1e-12);
    double direct = 0;
    for (int i = 1; i <= 3000000; i++)
        direct += pow(i, -0.99);
    assert_near(zipf_zeta(3000000, 0.99), direct, 1e-9); /* Euler-Maclaurin tail */
    assert_near(zipf_zeta(10000000000ull, 0.99), 26.46902820178302, 1e-6);
}

/* Item 0 comes with probability 1/zeta(n), item 1 with 2^-theta/zeta(n). */
static void test_zipf_head(void **state)
{
    (void)state;
    zipf z;
    zipf_init(&z, 1000, 0.99);
    keygen g;
    keygen_init(&g, DIST_UNIFORM, 1, NULL, 7); /* only for its random numbers */
    const int n = 2000000;
    int c0 = 0, c1 = 0;
    for (int i = 0; i < n; i++) {
        double u = (double)(keygen_rand(&g) >> 11) / 9007199254740992.0;
        uint64_t it = zipf_item(&z, u);
        assert_true(it < 1000);
        c0 += it == 0;
        c1 += it == 1;
    }
    assert_near((double)c0 / n, 1 / z.zetan, 0.02);
    assert_near((double)c1 / n, pow(2, -0.99) / z.zetan, 0.02);
}

/* Scrambled zipfian and uniform stay in [0, records); scrambled is skewed
 * (its most frequent key is far above uniform) but not to the low keys. */
static void test_scrambled_and_uniform(void **state)
{
    (void)state;
    enum { RECORDS = 1000, N = 500000 };
    static int hits[RECORDS];
    keygen g;
    keygen_init(&g, DIST_ZIPFIAN, RECORDS, NULL, 1);
    memset(hits, 0, sizeof hits);
    for (int i = 0; i < N; i++) {
        uint64_t k = keygen_next(&g);
        assert_true(k < RECORDS);
        hits[k]++;
    }
    int top = 0, low_half = 0;
    for (int k = 0; k < RECORDS; k++) {
        if (hits[k] > hits[top])
            top = k;
        if (k < RECORDS / 2)
            low_half += hits[k];
    }
    assert_true(hits[top] > 10 * (N / RECORDS));
    assert_int_equal(top, (int)(fnv1a64(0) % RECORDS)); /* the hash of item 0 */
    assert_true(low_half > N / 4 && low_half < 3 * N / 4);

    keygen_init(&g, DIST_UNIFORM, RECORDS, NULL, 2);
    memset(hits, 0, sizeof hits);
    for (int i = 0; i < N; i++) {
        uint64_t k = keygen_next(&g);
        assert_true(k < RECORDS);
        hits[k]++;
    }
    for (int k = 0; k < RECORDS; k++)
        assert_true(hits[k] > (N / RECORDS) / 2 && hits[k] < 2 * (N / RECORDS));
}

/* The insert counter acknowledges only a contiguous prefix. */
static void test_insert_counter(void **state)
{
    (void)state;
    insert_counter *c = malloc(sizeof *c);
    assert_non_null(c);
    insert_counter_init(c, 100, 3);
    assert_int_equal(insert_acked(c), 100);
    uint64_t a = insert_claim(c), b = insert_claim(c), d = insert_claim(c);
    assert_int_equal(a, 100);
    assert_int_equal(b, 101);
    assert_int_equal(d, 102);
    assert_true(insert_claim(c) == UINT64_MAX); /* the limit */
    insert_ack(c, b);
    assert_int_equal(insert_acked(c), 100); /* 100 still in flight */
    insert_ack(c, a);
    assert_int_equal(insert_acked(c), 102);
    insert_ack(c, d);
    assert_int_equal(insert_acked(c), 103);
    free(c);
}

/* Latest picks below the acknowledged count, mostly the newest. */
static void test_latest(void **state)
{
    (void)state;
    insert_counter *c = malloc(sizeof *c);
    assert_non_null(c);
    insert_counter_init(c, 1000, 100);
    keygen g;
    keygen_init(&g, DIST_LATEST, 1000, c, 3);
    int newest = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t k = keygen_next(&g);
        assert_true(k < 1000);
        newest += k == 999;
    }
    assert_true(newest > 100000 / 20); /* 1/zeta(1000) is about 13% */
    insert_ack(c, insert_claim(c));
    for (int i = 0; i < 1000; i++)
        assert_true(keygen_next(&g) < 1001);
    free(c);
}

/* A value checks as its own record at its version, and as nothing else. */
static void test_record_check(void **state)
{
    (void)state;
    record_fmt f;
    assert_int_equal(record_fmt_init(&f, 23), -1);
    assert_int_equal(record_fmt_init(&f, 100), 0);
    char key[RECORD_KEY_LEN], v[100], other[100];
    record_key(key, 42);
    assert_memory_equal(key, "user0000000042", RECORD_KEY_LEN);
    record_value(&f, v, 42, 7);
    uint32_t ver = 0;
    assert_true(record_check(&f, v, 100, 42, &ver));
    assert_int_equal(ver, 7);
    assert_int_equal(record_version(v, 100), 7);
    assert_false(record_check(&f, v, 100, 43, NULL)); /* another key */
    assert_false(record_check(&f, v, 99, 42, NULL));  /* another length */
    record_value(&f, other, 42, 8);
    memcpy(v + 60, other + 60, 40); /* torn between versions 7 and 8 */
    assert_false(record_check(&f, v, 100, 42, NULL));
    record_value(&f, v, 42, 7);
    v[99] ^= 1; /* one bit */
    assert_false(record_check(&f, v, 100, 42, NULL));
    record_fmt_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeta),
        cmocka_unit_test(test_zipf_head),
        cmocka_unit_test(test_scrambled_and_uniform),
        cmocka_unit_test(test_insert_counter),
        cmocka_unit_test(test_latest),
        cmocka_unit_test(test_record_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
