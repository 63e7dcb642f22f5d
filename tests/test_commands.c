/*
 * test_commands.c - memcached's command semantics (doc/protocol.txt) on
 * the library API: storage commands, retrieval, delete, incr/decr,
 * touch/gat, key and size limits, argument checking, error strings and
 * the statistics counters each command moves.
 */
#include "hash.h"
#include "testutil.h"

#include <signal.h>
#include <sys/time.h>

#define KS(s) (s), strlen(s)

static int setup(void **state)
{
    return tu_setup(state, "commands", NULL);
}


/* Get key with flags and cas into small buffer; assert OK. */
static void get_meta(shmc_cache *c, const char *key, uint32_t *flags, uint64_t *cas)
{
    char buf[4096];
    size_t len = sizeof buf;
    assert_ok(shmc_get(c, KS(key), buf, &len, flags, cas));
}

/* ------------------------------------------------------------------ */
/* set / get                                                           */
/* ------------------------------------------------------------------ */

/* protocol.txt "set": store the data; "get": return exactly the bytes stored. */
static void test_set_get_roundtrip(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_missing(c, "foo");
    assert_ok(tu_set(c, "foo", "hello world", 0, 0));
    assert_value_str(c, "foo", "hello world");

    /* overwrite with a longer then a shorter value */
    assert_ok(tu_set(c, "foo", "a much longer value than before, to change its size", 0, 0));
    assert_value_str(c, "foo", "a much longer value than before, to change its size");
    assert_ok(tu_set(c, "foo", "x", 0, 0));
    assert_value_str(c, "foo", "x");

    /* other keys are independent; keys are case sensitive */
    assert_ok(tu_set(c, "Foo", "upper", 0, 0));
    assert_value_str(c, "foo", "x");
    assert_value_str(c, "Foo", "upper");
}

/* Values are 0..item_size_max bytes: the empty value is a value. */
static void test_zero_length_value(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0;
    assert_ok(shmc_store(c, SHMC_SET, KS("empty"), "", 0, 17, 0, 0, &cas));
    assert_u64_ne(cas, 0);

    char buf[16];
    memset(buf, 'Z', sizeof buf);
    size_t len = sizeof buf;
    uint32_t flags = 0;
    uint64_t cas2 = 0;
    assert_ok(shmc_get(c, KS("empty"), buf, &len, &flags, &cas2));
    assert_u64_eq(len, 0);
    assert_u64_eq(flags, 17);
    assert_u64_eq(cas2, cas);

    /* buf may be NULL when *len is 0 */
    len = 0;
    assert_ok(shmc_get(c, KS("empty"), NULL, &len, NULL, NULL));
    assert_u64_eq(len, 0);

    /* the key exists: add fails, append works on it */
    assert_status(shmc_store(c, SHMC_ADD, KS("empty"), "v", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_ok(shmc_store(c, SHMC_APPEND, KS("empty"), "tail", 4, 0, 0, 0, NULL));
    assert_value_str(c, "empty", "tail");
}

/* Values are arbitrary bytes: NUL, CR, LF, 0xff ... all kept. */
static void test_binary_value(void **state)
{
    shmc_cache *c = CACHE(state);
    unsigned char val[512];
    for (size_t i = 0; i < sizeof val; i++)
        val[i] = (unsigned char)(i * 7 + 3);
    val[0] = 0;
    val[1] = '\r';
    val[2] = '\n';
    val[3] = 0xff;
    memcpy(val + 100, "\r\nEND\r\n", 7);
    assert_ok(shmc_set(c, KS("bin"), val, sizeof val, 0, 0));

    unsigned char out[600];
    memset(out, 0xAA, sizeof out);
    size_t len = sizeof out;
    assert_ok(shmc_get(c, KS("bin"), out, &len, NULL, NULL));
    assert_u64_eq(len, sizeof val);
    assert_bytes_equal(out, val, sizeof val);
    /* nothing is written past the value */
    for (size_t i = sizeof val; i < sizeof out; i++)
        assert_int_equal(out[i], 0xAA);
}

/* Client flags are an opaque 32-bit number returned as stored. */
static void test_flags_32bit(void **state)
{
    shmc_cache *c = CACHE(state);
    static const uint32_t vals[] = { 0, 1, 0x7fffffffu, 0x80000000u, 0xdeadbeefu, 0xffffffffu };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "flags%zu", i);
        assert_ok(tu_set(c, key, "v", vals[i], 0));
    }
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "flags%zu", i);
        uint32_t flags = 12345;
        get_meta(c, key, &flags, NULL);
        assert_u64_eq(flags, vals[i]);
    }
    /* a set replaces the flags */
    uint32_t flags = 0;
    assert_ok(tu_set(c, "flags0", "v2", 0xfffffffeu, 0));
    get_meta(c, "flags0", &flags, NULL);
    assert_u64_eq(flags, 0xfffffffeu);
}

/* ------------------------------------------------------------------ */
/* CAS uniques                                                         */
/* ------------------------------------------------------------------ */

/* "cas unique ... changes on every modification"; touch/gat do not modify. */
static void test_cas_unique_changes(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t c1 = 0, c2 = 0, got = 0;

    assert_ok(shmc_store(c, SHMC_SET, KS("k"), "1", 1, 0, 0, 0, &c1));
    assert_u64_ne(c1, 0);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c1);

    /* set again */
    assert_ok(shmc_store(c, SHMC_SET, KS("k"), "1", 1, 0, 0, 0, &c2));
    assert_u64_ne(c2, c1);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c2);
    c1 = c2;

    /* replace */
    assert_ok(shmc_store(c, SHMC_REPLACE, KS("k"), "2", 1, 0, 0, 0, &c2));
    assert_u64_ne(c2, c1);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c2);
    c1 = c2;

    /* append */
    assert_ok(shmc_store(c, SHMC_APPEND, KS("k"), "3", 1, 0, 0, 0, &c2));
    assert_u64_ne(c2, c1);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c2);
    c1 = c2;

    /* prepend */
    assert_ok(shmc_store(c, SHMC_PREPEND, KS("k"), "1", 1, 0, 0, 0, &c2));
    assert_u64_ne(c2, c1);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c2);
    c1 = c2;
    assert_value_str(c, "k", "123");

    /* cas */
    assert_ok(shmc_store(c, SHMC_CAS, KS("k"), "124", 3, 0, 0, c1, &c2));
    assert_u64_ne(c2, c1);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c2);
    c1 = c2;

    /* incr */
    uint64_t r = 0;
    assert_ok(shmc_incr(c, KS("k"), 1, &r));
    assert_u64_eq(r, 125);
    get_meta(c, "k", NULL, &got);
    assert_u64_ne(got, c1);
    c1 = got;

    /* decr */
    assert_ok(shmc_decr(c, KS("k"), 1, &r));
    assert_u64_eq(r, 124);
    get_meta(c, "k", NULL, &got);
    assert_u64_ne(got, c1);
    c1 = got;

    /* touch does not change the CAS unique */
    assert_ok(shmc_touch(c, KS("k"), 1000));
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c1);

    /* nor does gat */
    char buf[16];
    size_t len = sizeof buf;
    uint64_t gcas = 0;
    assert_ok(shmc_gat(c, KS("k"), 2000, buf, &len, NULL, &gcas));
    assert_u64_eq(gcas, c1);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c1);

    /* nor does a plain get */
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c1);

    /* failed stores do not change it either */
    assert_status(shmc_store(c, SHMC_ADD, KS("k"), "x", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), "x", 1, 0, 0, c1 + 1000, NULL), SHMC_EXISTS);
    get_meta(c, "k", NULL, &got);
    assert_u64_eq(got, c1);

    /* two different items never share a CAS unique */
    uint64_t ca = 0, cb = 0;
    assert_ok(shmc_store(c, SHMC_SET, KS("a"), "1", 1, 0, 0, 0, &ca));
    assert_ok(shmc_store(c, SHMC_SET, KS("b"), "1", 1, 0, 0, 0, &cb));
    assert_u64_ne(ca, cb);
}

/* ------------------------------------------------------------------ */
/* add / replace / append / prepend / cas                              */
/* ------------------------------------------------------------------ */

/* "add": store only if the server doesn't already hold data for this key. */
static void test_add(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0, got = 0;
    uint32_t flags = 0;
    assert_ok(shmc_store(c, SHMC_ADD, KS("k"), "first", 5, 11, 0, 0, &cas));
    assert_value_str(c, "k", "first");

    assert_status(shmc_store(c, SHMC_ADD, KS("k"), "second", 6, 22, 0, 0, NULL), SHMC_NOT_STORED);
    assert_value_str(c, "k", "first");
    get_meta(c, "k", &flags, &got);
    assert_u64_eq(flags, 11);
    assert_u64_eq(got, cas);

    /* after a delete, add works again */
    assert_ok(shmc_delete(c, KS("k"), 0));
    assert_ok(shmc_store(c, SHMC_ADD, KS("k"), "third", 5, 33, 0, 0, NULL));
    assert_value_str(c, "k", "third");
}

/* "replace": store only if the server already holds data for this key. */
static void test_replace(void **state)
{
    shmc_cache *c = CACHE(state);
    uint32_t flags = 0;
    assert_status(shmc_store(c, SHMC_REPLACE, KS("k"), "v", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_missing(c, "k");

    assert_ok(tu_set(c, "k", "old", 1, 0));
    assert_ok(shmc_store(c, SHMC_REPLACE, KS("k"), "new", 3, 2, 0, 0, NULL));
    assert_value_str(c, "k", "new");
    get_meta(c, "k", &flags, NULL);
    assert_u64_eq(flags, 2);

    assert_ok(shmc_delete(c, KS("k"), 0));
    assert_status(shmc_store(c, SHMC_REPLACE, KS("k"), "v", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_missing(c, "k");
}

/* "append"/"prepend": add data to an existing key; flags and exptime
 * arguments are ignored, the item's are kept. */
static void test_append_prepend(void **state)
{
    shmc_cache *c = CACHE(state);
    uint32_t flags = 0;

    assert_ok(tu_set(c, "k", "mid", 7, 100));
    assert_ok(shmc_store(c, SHMC_APPEND, KS("k"), "end", 3, 99, 0, 0, NULL));
    assert_value_str(c, "k", "midend");
    assert_ok(shmc_store(c, SHMC_PREPEND, KS("k"), "pre", 3, 98, 5000, 0, NULL));
    assert_value_str(c, "k", "premidend");
    get_meta(c, "k", &flags, NULL);
    assert_u64_eq(flags, 7);

    /* binary and empty appends */
    assert_ok(shmc_store(c, SHMC_APPEND, KS("k"), "\0\r\n", 3, 0, 0, 0, NULL));
    assert_ok(shmc_store(c, SHMC_PREPEND, KS("k"), "", 0, 0, 0, 0, NULL));
    assert_value(c, "k", "premidend\0\r\n", 12);

    /* exptime kept: the item was set with 100 s; the appends passed 0
     * and 5000 which must have been ignored */
    assert_ok(shmc_clock_advance(c, 50));
    assert_value(c, "k", "premidend\0\r\n", 12);
    assert_ok(shmc_clock_advance(c, 60));
    assert_missing(c, "k");

    /* on a missing key: NOT_STORED, and nothing is created */
    assert_status(shmc_store(c, SHMC_APPEND, KS("nokey"), "x", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_missing(c, "nokey");
    assert_status(shmc_store(c, SHMC_PREPEND, KS("nokey"), "x", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_missing(c, "nokey");
}

/* "cas": store only if no one else has updated since I last fetched it. */
static void test_cas_store(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0, cas2 = 0, cas3 = 0;
    uint32_t flags = 0;

    /* NOT_FOUND: the item does not exist */
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), "v", 1, 0, 0, 12345, NULL), SHMC_NOT_FOUND);
    assert_missing(c, "k");

    assert_ok(tu_set(c, "k", "v1", 1, 0));
    get_meta(c, "k", NULL, &cas);

    /* right unique: stored, with the new flags */
    assert_ok(shmc_store(c, SHMC_CAS, KS("k"), "v2", 2, 2, 0, cas, &cas2));
    assert_value_str(c, "k", "v2");
    get_meta(c, "k", &flags, &cas3);
    assert_u64_eq(flags, 2);
    assert_u64_eq(cas3, cas2);

    /* stale unique: EXISTS, value untouched */
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), "v3", 2, 3, 0, cas, NULL), SHMC_EXISTS);
    assert_value_str(c, "k", "v2");
    get_meta(c, "k", &flags, &cas3);
    assert_u64_eq(flags, 2);
    assert_u64_eq(cas3, cas2);

    /* someone else modified in between: EXISTS */
    assert_ok(shmc_store(c, SHMC_APPEND, KS("k"), "+", 1, 0, 0, 0, NULL));
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), "v4", 2, 0, 0, cas2, NULL), SHMC_EXISTS);
    assert_value_str(c, "k", "v2+");

    /* touch and gat do not change the unique: a cas read before them still works */
    get_meta(c, "k", NULL, &cas);
    assert_ok(shmc_touch(c, KS("k"), 1000));
    char gb[16];
    size_t gl = sizeof gb;
    assert_ok(shmc_gat(c, KS("k"), 0, gb, &gl, NULL, NULL));
    assert_ok(shmc_store(c, SHMC_CAS, KS("k"), "v6", 2, 0, 0, cas, NULL));
    assert_value_str(c, "k", "v6");

    /* deleted after the gets: NOT_FOUND */
    get_meta(c, "k", NULL, &cas);
    assert_ok(shmc_delete(c, KS("k"), 0));
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), "v5", 2, 0, 0, cas, NULL), SHMC_NOT_FOUND);
    assert_missing(c, "k");
}

/* ------------------------------------------------------------------ */
/* delete                                                              */
/* ------------------------------------------------------------------ */

/* "delete": DELETED then NOT_FOUND. */
static void test_delete(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_status(shmc_delete(c, KS("k"), 0), SHMC_NOT_FOUND);
    assert_ok(tu_set(c, "k", "v", 0, 0));
    assert_ok(tu_set(c, "other", "v", 0, 0));
    assert_ok(shmc_delete(c, KS("k"), 0));
    assert_missing(c, "k");
    assert_status(shmc_delete(c, KS("k"), 0), SHMC_NOT_FOUND);
    assert_value_str(c, "other", "v");
    /* set after delete works */
    assert_ok(tu_set(c, "k", "again", 0, 0));
    assert_value_str(c, "k", "again");
}

/* delete with a CAS unique (meta/binary protocol): only that version. */
static void test_delete_cas(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0;
    assert_ok(shmc_store(c, SHMC_SET, KS("k"), "v", 1, 0, 0, 0, &cas));
    assert_status(shmc_delete(c, KS("k"), cas + 1), SHMC_EXISTS);
    assert_value_str(c, "k", "v");
    assert_ok(shmc_delete(c, KS("k"), cas));
    assert_missing(c, "k");
    assert_status(shmc_delete(c, KS("k"), cas), SHMC_NOT_FOUND);

    /* a CAS read before a modification no longer deletes */
    assert_ok(shmc_store(c, SHMC_SET, KS("k"), "v", 1, 0, 0, 0, &cas));
    assert_ok(tu_set(c, "k", "v2", 0, 0));
    assert_status(shmc_delete(c, KS("k"), cas), SHMC_EXISTS);
    assert_value_str(c, "k", "v2");
}

/* ------------------------------------------------------------------ */
/* incr / decr                                                         */
/* ------------------------------------------------------------------ */

/* "incr"/"decr": decimal 64-bit unsigned; the item holds the new value. */
static void test_incr_decr_basic(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t r = 0;
    assert_ok(tu_set(c, "n", "5", 42, 0));
    assert_ok(shmc_incr(c, KS("n"), 3, &r));
    assert_u64_eq(r, 8);
    assert_value_str(c, "n", "8");

    assert_ok(shmc_decr(c, KS("n"), 2, &r));
    assert_u64_eq(r, 6);
    assert_value_str(c, "n", "6");

    /* delta 0 returns the current value */
    assert_ok(shmc_incr(c, KS("n"), 0, &r));
    assert_u64_eq(r, 6);

    /* result may be NULL */
    assert_ok(shmc_incr(c, KS("n"), 4, NULL));
    assert_value_str(c, "n", "10");

    /* flags are kept */
    uint32_t flags = 0;
    get_meta(c, "n", &flags, NULL);
    assert_u64_eq(flags, 42);

    /* "0" and large values */
    assert_ok(tu_set(c, "z", "0", 0, 0));
    assert_ok(shmc_incr(c, KS("z"), 1000000000000ull, &r));
    assert_u64_eq(r, 1000000000000ull);
    assert_value_str(c, "z", "1000000000000");

    /* leading zeros are a decimal number */
    assert_ok(tu_set(c, "lz", "007", 0, 0));
    assert_ok(shmc_incr(c, KS("lz"), 1, &r));
    assert_u64_eq(r, 8);
    assert_value_str(c, "lz", "8");
}

/* "decr": underflow below 0 gives 0. */
static void test_decr_floors_at_zero(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t r = 99;
    assert_ok(tu_set(c, "n", "8", 0, 0));
    assert_ok(shmc_decr(c, KS("n"), 10, &r));
    assert_u64_eq(r, 0);
    assert_value_str(c, "n", "0");
    assert_ok(shmc_decr(c, KS("n"), 1, &r));
    assert_u64_eq(r, 0);
    assert_value_str(c, "n", "0");
    assert_ok(tu_set(c, "n", "18446744073709551615", 0, 0));
    assert_ok(shmc_decr(c, KS("n"), UINT64_MAX, &r));
    assert_u64_eq(r, 0);
    assert_value_str(c, "n", "0");
}

/* "incr": overflow wraps around the 64-bit mark. */
static void test_incr_wraps(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t r = 99;
    assert_ok(tu_set(c, "n", "18446744073709551615", 0, 0));
    assert_ok(shmc_incr(c, KS("n"), 1, &r));
    assert_u64_eq(r, 0);
    assert_value_str(c, "n", "0");

    assert_ok(tu_set(c, "n", "18446744073709551610", 0, 0));
    assert_ok(shmc_incr(c, KS("n"), 10, &r));
    assert_u64_eq(r, 4);
    assert_value_str(c, "n", "4");

    assert_ok(shmc_incr(c, KS("n"), UINT64_MAX, &r));
    assert_u64_eq(r, 3);
    assert_value_str(c, "n", "3");

    /* and back up to the maximum */
    assert_ok(tu_set(c, "n", "0", 0, 0));
    assert_ok(shmc_incr(c, KS("n"), UINT64_MAX, &r));
    assert_u64_eq(r, UINT64_MAX);
    assert_value_str(c, "n", "18446744073709551615");
}

/* The value's length changes with the number ("99"+1 = "100", back to "99"). */
static void test_incr_length_change(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t r = 0;
    assert_ok(tu_set(c, "n", "99", 0, 0));
    assert_ok(shmc_incr(c, KS("n"), 1, &r));
    assert_u64_eq(r, 100);
    assert_value_str(c, "n", "100");

    /* the header: the value is the plain decimal, no padding */
    assert_ok(shmc_decr(c, KS("n"), 1, &r));
    assert_u64_eq(r, 99);
    assert_value_str(c, "n", "99");

    assert_ok(tu_set(c, "m", "9", 0, 0));
    assert_ok(shmc_incr(c, KS("m"), 99999999999ull, &r));
    assert_u64_eq(r, 100000000008ull);
    assert_value_str(c, "m", "100000000008");
    assert_ok(shmc_decr(c, KS("m"), 100000000000ull, &r));
    assert_u64_eq(r, 8);
    assert_value_str(c, "m", "8");
}

/* "incr"/"decr" on a value that is not a decimal 64-bit unsigned number. */
static void test_incr_not_numeric(void **state)
{
    shmc_cache *c = CACHE(state);
    static const char *bad[] = { "abc", "12abc", "-1", "18446744073709551616",
                                 "99999999999999999999999", "1.5", "", " ", "+", "-",
                                 "+-5", "+ 5", "0x10", "-9223372036854775808",
                                 "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t r = 777;
        assert_ok(tu_set(c, "n", bad[i], 5, 0));
        uint64_t cas = 0, cas2 = 0;
        get_meta(c, "n", NULL, &cas);
        shmc_status st = shmc_incr(c, KS("n"), 1, &r);
        if (st != SHMC_NOT_NUMERIC)
            fail_msg("incr of \"%s\" returned " TU_STATUS_FMT ", expected SHMC_NOT_NUMERIC",
                     bad[i], TU_STATUS_ARGS(st));
        st = shmc_decr(c, KS("n"), 1, &r);
        if (st != SHMC_NOT_NUMERIC)
            fail_msg("decr of \"%s\" returned " TU_STATUS_FMT ", expected SHMC_NOT_NUMERIC",
                     bad[i], TU_STATUS_ARGS(st));
        /* the value is left alone */
        assert_value_str(c, "n", bad[i]);
        get_meta(c, "n", NULL, &cas2);
        assert_u64_eq(cas2, cas);
    }
    /* binary value */
    assert_ok(shmc_set(c, KS("bin"), "1\0002", 3, 0, 0));
    assert_status(shmc_incr(c, KS("bin"), 1, NULL), SHMC_NOT_NUMERIC);
}

/* "incr"/"decr" read the value as memcached does (strtoull): white space
 * and '+' before, white space after, any number of leading zeros. */
static void test_incr_memcached_numbers(void **state)
{
    shmc_cache *c = CACHE(state);
    static const struct { const char *v; uint64_t n; } ok[] = {
        {" 5", 6}, {"+5", 6}, {"5 ", 6}, {"5 x", 6}, {"\t7\r", 8},
        {"00000000000000000000001", 2}, {"-0", 1},
        /* strtoull negates a '-' number; memcached refuses it only when the
         * result is negative as a signed 64-bit value */
        {"-18446744073709551615", 2}, {"-9223372036854775809", 9223372036854775808ull},
        {"18446744073709551615 x", 0}, {"\v\f9\n", 10},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t r = 0;
        assert_ok(tu_set(c, "n", ok[i].v, 0, 0));
        shmc_status st = shmc_incr(c, KS("n"), 1, &r);
        if (st != SHMC_OK || r != ok[i].n)
            fail_msg("incr of \"%s\": " TU_STATUS_FMT ", %llu", ok[i].v,
                     TU_STATUS_ARGS(st), (unsigned long long)r);
    }
}

/* memcached rewrites an incr/decr result that fits in the old value in
 * place, so the item keeps its flags: fetched (meta h), stale (meta X) and
 * the recache token (meta W/Z).  A longer result is a new item without
 * them.  incr itself is not a read. */
static void test_incr_keeps_item_flags(void **state)
{
    shmc_cache *c = CACHE(state);
    shmc_item_info info;
    const shmc_get_options peek = {.flags = SHMC_GET_NO_BUMP};
    uint64_t r = 0;

    /* never read: incr does not make it fetched */
    assert_ok(tu_set(c, "f", "5", 0, 0));
    assert_ok(shmc_incr(c, KS("f"), 1, &r));
    assert_ok(shmc_get_info(c, KS("f"), &peek, NULL, NULL, &info));
    assert_int_equal(info.fetched, 0);
    /* read, then a result that fits: still fetched */
    assert_ok(shmc_get_info(c, KS("f"), NULL, NULL, NULL, &info));
    assert_ok(shmc_incr(c, KS("f"), 1, &r));
    assert_ok(shmc_decr(c, KS("f"), 1, &r));
    assert_ok(shmc_get_info(c, KS("f"), &peek, NULL, NULL, &info));
    assert_int_equal(info.fetched, 1);
    /* a longer result: a new item, not fetched */
    assert_ok(shmc_incr(c, KS("f"), 10, &r));
    assert_u64_eq(r, 16);
    assert_ok(shmc_get_info(c, KS("f"), &peek, NULL, NULL, &info));
    assert_int_equal(info.fetched, 0);

    /* stale, token handed out: a fitting incr keeps both */
    assert_ok(tu_set(c, "s", "5", 0, 0));
    assert_ok(shmc_invalidate(c, KS("s"), 0, NULL, 0));
    assert_ok(shmc_get_info(c, KS("s"), NULL, NULL, NULL, &info));
    assert_int_equal(info.win, 1);
    assert_ok(shmc_incr(c, KS("s"), 1, &r));
    assert_ok(shmc_get_info(c, KS("s"), NULL, NULL, NULL, &info));
    assert_int_equal(info.stale, 1);
    assert_int_equal(info.win, -1); /* no second winner */
    /* a longer result: fresh, as a store */
    assert_ok(shmc_incr(c, KS("s"), 10, &r));
    assert_ok(shmc_get_info(c, KS("s"), NULL, NULL, NULL, &info));
    assert_int_equal(info.stale, 0);
    assert_int_equal(info.win, 0);

    /* the token of an item near expiry (meta R) is kept the same way */
    const shmc_get_options r60 = {.recache_below = 60};
    assert_ok(tu_set(c, "t", "5", 0, 50));
    assert_ok(shmc_get_info(c, KS("t"), &r60, NULL, NULL, &info));
    assert_int_equal(info.win, 1);
    assert_ok(shmc_decr(c, KS("t"), 1, &r));
    assert_ok(shmc_get_info(c, KS("t"), &r60, NULL, NULL, &info));
    assert_int_equal(info.win, -1);
}

/* "incr"/"decr" on a missing key: NOT_FOUND, and nothing is created. */
static void test_incr_missing(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t r = 0;
    assert_status(shmc_incr(c, KS("nokey"), 1, &r), SHMC_NOT_FOUND);
    assert_status(shmc_decr(c, KS("nokey"), 1, &r), SHMC_NOT_FOUND);
    assert_missing(c, "nokey");
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

/* "the key must not include control characters or whitespace";
 * "currently the length limit of a key is set at 250 characters". */
static void test_key_limits(void **state)
{
    shmc_cache *c = CACHE(state);
    char key[300];
    memset(key, 'k', sizeof key);
    char buf[16];
    size_t len;

    /* 250 bytes: fine, and distinct from its 249-byte prefix */
    assert_ok(shmc_set(c, key, 250, "250", 3, 0, 0));
    assert_ok(shmc_set(c, key, 249, "249", 3, 0, 0));
    len = sizeof buf;
    assert_ok(shmc_get(c, key, 250, buf, &len, NULL, NULL));
    assert_u64_eq(len, 3);
    assert_memory_equal(buf, "250", 3);
    len = sizeof buf;
    assert_ok(shmc_get(c, key, 249, buf, &len, NULL, NULL));
    assert_memory_equal(buf, "249", 3);
    assert_ok(shmc_delete(c, key, 250, 0));

    /* 251 bytes: BAD_KEY from every command */
    len = sizeof buf;
    assert_status(shmc_set(c, key, 251, "v", 1, 0, 0), SHMC_BAD_KEY);
    assert_status(shmc_store(c, SHMC_ADD, key, 251, "v", 1, 0, 0, 0, NULL), SHMC_BAD_KEY);
    assert_status(shmc_get(c, key, 251, buf, &len, NULL, NULL), SHMC_BAD_KEY);
    assert_status(shmc_delete(c, key, 251, 0), SHMC_BAD_KEY);
    assert_status(shmc_incr(c, key, 251, 1, NULL), SHMC_BAD_KEY);
    assert_status(shmc_decr(c, key, 251, 1, NULL), SHMC_BAD_KEY);
    assert_status(shmc_touch(c, key, 251, 0), SHMC_BAD_KEY);
    len = sizeof buf;
    assert_status(shmc_gat(c, key, 251, 0, buf, &len, NULL, NULL), SHMC_BAD_KEY);
    assert_status(shmc_set(c, key, 300, "v", 1, 0, 0), SHMC_BAD_KEY);

    /* empty key */
    len = sizeof buf;
    assert_status(shmc_set(c, "", 0, "v", 1, 0, 0), SHMC_BAD_KEY);
    assert_status(shmc_get(c, "", 0, buf, &len, NULL, NULL), SHMC_BAD_KEY);
    assert_status(shmc_delete(c, "", 0, 0), SHMC_BAD_KEY);
    assert_status(shmc_incr(c, "", 0, 1, NULL), SHMC_BAD_KEY);
    assert_status(shmc_touch(c, "", 0, 0), SHMC_BAD_KEY);

    /* any byte may be in a key, as memcached accepts (binary protocol keys,
     * memcaslap's control bytes): each such key is its own */
    static const char odd_bytes[] = { ' ', '\n', '\r', '\t', '\0', 0x01, 0x1f, 0x7f, '\v', '\f' };
    for (size_t i = 0; i < sizeof odd_bytes; i++) {
        for (int pos = 0; pos < 3; pos++) {
            char k[3] = { 'a', 'b', 'c' };
            k[pos] = odd_bytes[i];
            char val[2] = { odd_bytes[i], (char)('0' + pos) };
            assert_status(shmc_set(c, k, 3, val, 2, 0, 0), SHMC_OK);
        }
    }
    for (size_t i = 0; i < sizeof odd_bytes; i++) {
        for (int pos = 0; pos < 3; pos++) {
            char k[3] = { 'a', 'b', 'c' };
            k[pos] = odd_bytes[i];
            len = sizeof buf;
            assert_status(shmc_get(c, k, 3, buf, &len, NULL, NULL), SHMC_OK);
            assert_int_equal(len, 2);
            assert_int_equal(buf[0], odd_bytes[i]);
            assert_int_equal(buf[1], '0' + pos);
        }
    }
    assert_missing(c, "abc");

    /* bytes >= 0x80 (UTF-8) and punctuation are ordinary key bytes */
    assert_ok(tu_set(c, "ключ", "utf8", 0, 0));
    assert_value_str(c, "ключ", "utf8");
    assert_ok(tu_set(c, "a:b/c-d_e.f|g~h{}[]!@#$%^&*()", "punct", 0, 0));
    assert_value_str(c, "a:b/c-d_e.f|g~h{}[]!@#$%^&*()", "punct");
    unsigned char hi[4] = { 0x80, 0xff, 0xa0, 0xfe };
    assert_ok(shmc_set(c, hi, 4, "hi", 2, 0, 0));
    len = sizeof buf;
    assert_ok(shmc_get(c, hi, 4, buf, &len, NULL, NULL));
    assert_memory_equal(buf, "hi", 2);
}

/* Keys are compared as bytes over their full length (no prefix or NUL games). */
static void test_key_exact_match(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "key", "1", 0, 0));
    assert_ok(tu_set(c, "key1", "2", 0, 0));
    assert_ok(tu_set(c, "ke", "3", 0, 0));
    assert_value_str(c, "key", "1");
    assert_value_str(c, "key1", "2");
    assert_value_str(c, "ke", "3");
    /* key_len is honoured: "keyX" with len 3 is "key" */
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(shmc_get(c, "keyX", 3, buf, &len, NULL, NULL));
    assert_memory_equal(buf, "1", 1);
    assert_ok(shmc_delete(c, KS("key"), 0));
    assert_missing(c, "key");
    assert_value_str(c, "key1", "2");
    assert_value_str(c, "ke", "3");
}

/* ------------------------------------------------------------------ */
/* Sizes                                                               */
/* ------------------------------------------------------------------ */

/* "SERVER_ERROR object too large for cache": and a SET removes the old item. */
static void test_too_large(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    size_t max = f->cfg.item_size_max;
    size_t big_len = max + 1;
    char *big = malloc(big_len + 64);
    assert_non_null(big);
    memset(big, 'x', big_len + 64);

    /* SET: too large, and the previous item is gone */
    assert_ok(tu_set(c, "k", "old", 0, 0));
    assert_status(shmc_set(c, KS("k"), big, big_len, 0, 0), SHMC_TOO_LARGE);
    assert_missing(c, "k");

    /* value exactly item_size_max is too large too (key and header count) */
    assert_ok(tu_set(c, "k", "old", 0, 0));
    assert_status(shmc_set(c, KS("k"), big, max, 0, 0), SHMC_TOO_LARGE);
    assert_missing(c, "k");

    /* ADD/REPLACE/CAS: too large, previous item untouched */
    uint64_t cas = 0;
    assert_ok(shmc_store(c, SHMC_SET, KS("k"), "old", 3, 0, 0, 0, &cas));
    assert_status(shmc_store(c, SHMC_REPLACE, KS("k"), big, big_len, 0, 0, 0, NULL),
                  SHMC_TOO_LARGE);
    assert_value_str(c, "k", "old");
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), big, big_len, 0, 0, cas, NULL),
                  SHMC_TOO_LARGE);
    assert_value_str(c, "k", "old");
    assert_status(shmc_store(c, SHMC_ADD, KS("new"), big, big_len, 0, 0, 0, NULL),
                  SHMC_TOO_LARGE);
    assert_missing(c, "new");

    /* APPEND making the value too large: fails, previous value untouched */
    size_t half = max / 2 + 16;
    assert_ok(shmc_set(c, KS("ap"), big, half, 0, 0));
    assert_status(shmc_store(c, SHMC_APPEND, KS("ap"), big, half, 0, 0, 0, NULL),
                  SHMC_TOO_LARGE);
    assert_status(shmc_store(c, SHMC_PREPEND, KS("ap"), big, half, 0, 0, 0, NULL),
                  SHMC_TOO_LARGE);
    size_t len = 0;
    void *out = NULL;
    assert_ok(shmc_get_alloc(c, KS("ap"), &out, &len, NULL, NULL));
    assert_u64_eq(len, half);
    free(out);
    free(big);
}

/* item_size_max is "largest value+key+header": the boundary is exact. */
static void test_item_size_max_boundary(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    size_t max = f->cfg.item_size_max;
    const char *key = "boundary";
    size_t klen = strlen(key);
    size_t overhead = shmc_item_overhead();
    assert_true(overhead > 0);
    assert_true(overhead < 1024);
    size_t fit = max - klen - overhead;
    char *v = malloc(fit + 1);
    assert_non_null(v);
    tu_fill(v, fit + 1, 99);

    assert_ok(shmc_set(c, key, klen, v, fit, 0, 0));
    void *out = NULL;
    size_t len = 0;
    assert_ok(shmc_get_alloc(c, key, klen, &out, &len, NULL, NULL));
    assert_u64_eq(len, fit);
    assert_bytes_equal(out, v, fit);
    free(out);

    assert_status(shmc_set(c, key, klen, v, fit + 1, 0, 0), SHMC_TOO_LARGE);
    free(v);
}

/* Every value length from 0 to 4 KiB, and lengths at each slab class's
 * edge, store and read back exactly. */
static void test_every_size(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    size_t maxlen = 4096;
    unsigned char *v = malloc(f->cfg.item_size_max);
    unsigned char *out = malloc(f->cfg.item_size_max);
    assert_non_null(v);
    assert_non_null(out);
    for (size_t len = 0; len <= maxlen; len++) {
        char key[32];
        snprintf(key, sizeof key, "size%zu", len);
        tu_fill(v, len, len);
        assert_ok(shmc_set(c, KS(key), v, len, (uint32_t)len, 0));
    }
    for (size_t len = 0; len <= maxlen; len++) {
        char key[32];
        snprintf(key, sizeof key, "size%zu", len);
        tu_fill(v, len, len);
        size_t got = maxlen + 1;
        uint32_t flags = 0;
        assert_ok(shmc_get(c, KS(key), out, &got, &flags, NULL));
        if (got != len || memcmp(out, v, len) != 0 || flags != (uint32_t)len)
            fail_msg("value of %zu bytes read back wrong (len %zu)", len, got);
    }
    assert_u64_eq(tu_stats(c).curr_items, maxlen + 1);

    /* around each class's chunk size */
    unsigned n = shmc_class_count(c);
    const char *key = "edge";
    size_t ovh = shmc_item_overhead() + strlen(key);
    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats cs;
        assert_ok(shmc_class_stats_get(c, id, &cs));
        for (int d = -2; d <= 2; d++) {
            long long len = (long long)cs.chunk_size - (long long)ovh + d;
            if (len < 0 || (size_t)len + ovh > f->cfg.item_size_max)
                continue;
            tu_fill(v, (size_t)len, (uint64_t)len);
            assert_ok(shmc_set(c, key, strlen(key), v, (size_t)len, 0, 0));
            size_t got = f->cfg.item_size_max;
            assert_ok(shmc_get(c, key, strlen(key), out, &got, NULL, NULL));
            if (got != (size_t)len || memcmp(out, v, got) != 0)
                fail_msg("value of %lld bytes (class %u edge %+d) read back wrong", len, id, d);
        }
    }
    free(v);
    free(out);
}

/* Many small appends grow one value through every class. */
static void test_append_many(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "log", "", 3, 0));
    char expect[6001];
    for (int i = 0; i < 6000; i++) {
        char ch = (char)('a' + i % 26);
        shmc_store_mode m = (i % 3 == 0) ? SHMC_PREPEND : SHMC_APPEND;
        assert_ok(shmc_store(c, m, KS("log"), &ch, 1, 0, 0, 0, NULL));
    }
    /* rebuild the expected string */
    size_t head = 0;
    char tmp[6001];
    size_t tl = 0;
    for (int i = 0; i < 6000; i++)
        if (i % 3 != 0)
            tmp[tl++] = (char)('a' + i % 26);
    for (int i = 5999; i >= 0; i--)
        if (i % 3 == 0)
            expect[head++] = (char)('a' + i % 26);
    memcpy(expect + head, tmp, tl);
    void *out = NULL;
    size_t len = 0;
    uint32_t flags = 0;
    assert_ok(shmc_get_alloc(c, KS("log"), &out, &len, &flags, NULL));
    assert_u64_eq(len, 6000);
    assert_bytes_equal(out, expect, 6000);
    assert_u64_eq(flags, 3);
    free(out);
    assert_u64_eq(tu_stats(c).curr_items, 1);
}

/* The bytes stat: key + value + item header per item. */
static void test_stats_bytes(void **state)
{
    shmc_cache *c = CACHE(state);
    size_t ovh = shmc_item_overhead();
    assert_ok(tu_set(c, "key", "0123456789", 0, 0));
    shmc_stats s = tu_stats(c);
    assert_u64_cmp(s.bytes, >=, 3 + 10 + ovh);
    assert_u64_cmp(s.bytes, <=, 3 + 10 + ovh + 16);
    uint64_t one = s.bytes;
    assert_ok(tu_set(c, "yek", "0123456789", 0, 0));
    assert_u64_eq(tu_stats(c).bytes, 2 * one);
    assert_ok(tu_set(c, "key", "0123456789", 0, 0));   /* overwrite: same */
    assert_u64_eq(tu_stats(c).bytes, 2 * one);
    assert_ok(shmc_delete(c, KS("yek"), 0));
    assert_u64_eq(tu_stats(c).bytes, one);
}

/* ------------------------------------------------------------------ */
/* Retrieval variants                                                  */
/* ------------------------------------------------------------------ */

/* BUFFER_TOO_SMALL reports the needed length; with no writer racing the
 * call, buf is untouched (a too-small buffer is found before any copy). */
static void test_get_buffer_too_small(void **state)
{
    shmc_cache *c = CACHE(state);
    char val[100];
    tu_fill(val, sizeof val, 1);
    assert_ok(shmc_set(c, KS("k"), val, sizeof val, 9, 0));

    char buf[128];
    memset(buf, 0x5A, sizeof buf);
    size_t len = 10;
    uint32_t flags = 0;
    uint64_t cas = 0;
    assert_status(shmc_get(c, KS("k"), buf, &len, &flags, &cas), SHMC_BUFFER_TOO_SMALL);
    assert_u64_eq(len, sizeof val);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal((unsigned char)buf[i], 0x5A);

    /* one byte short */
    len = sizeof val - 1;
    assert_status(shmc_get(c, KS("k"), buf, &len, NULL, NULL), SHMC_BUFFER_TOO_SMALL);
    assert_u64_eq(len, sizeof val);

    /* size query with a NULL buffer */
    len = 0;
    assert_status(shmc_get(c, KS("k"), NULL, &len, NULL, NULL), SHMC_BUFFER_TOO_SMALL);
    assert_u64_eq(len, sizeof val);

    /* retry with the reported size: exact fit works */
    assert_ok(shmc_get(c, KS("k"), buf, &len, &flags, &cas));
    assert_u64_eq(len, sizeof val);
    assert_bytes_equal(buf, val, sizeof val);
    assert_u64_eq(flags, 9);
    assert_u64_ne(cas, 0);
    assert_int_equal((unsigned char)buf[sizeof val], 0x5A);

    /* gat reports the same way, and a failed gat does not lose the value */
    len = 5;
    assert_status(shmc_gat(c, KS("k"), 0, buf, &len, NULL, NULL), SHMC_BUFFER_TOO_SMALL);
    assert_u64_eq(len, sizeof val);
    assert_value(c, "k", val, sizeof val);
}

/* shmc_get_alloc: a malloc'd copy; never NULL on OK, even when empty. */
static void test_get_alloc(void **state)
{
    shmc_cache *c = CACHE(state);
    char val[3000];
    tu_fill(val, sizeof val, 2);
    assert_ok(shmc_set(c, KS("k"), val, sizeof val, 0xabcdef, 0));

    void *out = NULL;
    size_t len = 0;
    uint32_t flags = 0;
    uint64_t cas = 0;
    assert_ok(shmc_get_alloc(c, KS("k"), &out, &len, &flags, &cas));
    assert_non_null(out);
    assert_u64_eq(len, sizeof val);
    assert_bytes_equal(out, val, sizeof val);
    assert_u64_eq(flags, 0xabcdef);
    assert_u64_ne(cas, 0);
    free(out);

    assert_ok(shmc_set(c, KS("e"), "", 0, 0, 0));
    out = NULL;
    len = 99;
    assert_ok(shmc_get_alloc(c, KS("e"), &out, &len, NULL, NULL));
    assert_non_null(out);
    assert_u64_eq(len, 0);
    free(out);

    out = NULL;
    assert_status(shmc_get_alloc(c, KS("nokey"), &out, &len, NULL, NULL), SHMC_NOT_FOUND);
    assert_status(shmc_get_alloc(c, "", 0, &out, &len, NULL, NULL), SHMC_BAD_KEY);
}

/* "get <key>*": each key answered on its own. */
static void test_get_multi(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "hit1", "one", 1, 0));
    assert_ok(tu_set(c, "hit2", "twotwotwo", 2, 0));
    assert_ok(tu_set(c, "empty", "", 3, 0));

    char b[6][16];
    memset(b, 0x33, sizeof b);
    shmc_value v[6];
    memset(v, 0, sizeof v);
    const char *keys[6] = { "hit1", "miss", "hit2", "empty", "", "hit1" };
    size_t caps[6] = { 16, 16, 4 /* too small for 9 */, 16, 16, 16 };
    for (int i = 0; i < 6; i++) {
        v[i].key = keys[i];
        v[i].key_len = strlen(keys[i]);
        v[i].buf = b[i];
        v[i].cap = caps[i];
        v[i].status = SHMC_SYSTEM;   /* must be overwritten */
    }
    assert_ok(shmc_get_multi(c, v, 6));

    assert_status(v[0].status, SHMC_OK);
    assert_u64_eq(v[0].len, 3);
    assert_memory_equal(b[0], "one", 3);
    assert_u64_eq(v[0].flags, 1);
    assert_u64_ne(v[0].cas, 0);

    assert_status(v[1].status, SHMC_NOT_FOUND);

    assert_status(v[2].status, SHMC_BUFFER_TOO_SMALL);
    assert_u64_eq(v[2].len, 9);
    for (int i = 0; i < 16; i++)
        assert_int_equal((unsigned char)b[2][i], 0x33);

    assert_status(v[3].status, SHMC_OK);
    assert_u64_eq(v[3].len, 0);
    assert_u64_eq(v[3].flags, 3);

    assert_status(v[4].status, SHMC_BAD_KEY);

    assert_status(v[5].status, SHMC_OK);
    assert_u64_eq(v[5].len, 3);
    assert_u64_eq(v[5].cas, v[0].cas);

    /* n == 0 is fine (values may be NULL), NULL with n > 0 is not */
    assert_ok(shmc_get_multi(c, NULL, 0));
    assert_status(shmc_get_multi(c, NULL, 1), SHMC_INVALID);
}

/* ------------------------------------------------------------------ */
/* Argument checking and error strings                                 */
/* ------------------------------------------------------------------ */

/* shmc_store_multi: each entry as shmc_store, in order, with its own status
 * and CAS; a bad entry changes nothing and does not stop the others. */
static void test_store_multi(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "old", "before", 0, 0));
    uint64_t old_cas = 0;
    char buf[32];
    size_t len = sizeof buf;
    assert_ok(shmc_get(c, KS("old"), buf, &len, NULL, &old_cas));
    shmc_store_req r[6] = {
        {.mode = SHMC_SET, .key = "a", .key_len = 1, .value = "one", .value_len = 3, .flags = 7},
        {.mode = SHMC_ADD, .key = "old", .key_len = 3, .value = "x", .value_len = 1},
        {.mode = SHMC_APPEND, .key = "a", .key_len = 1, .value = "+", .value_len = 1},
        {.mode = SHMC_SET, .key = "bad", .key_len = 3, .value = "v", .value_len = (size_t)-1},
        {.mode = SHMC_CAS, .key = "old", .key_len = 3, .value = "after", .value_len = 5,
         .cas_in = old_cas},
        {.mode = SHMC_SET, .key = NULL, .key_len = 3, .value = "v", .value_len = 1},
    };
    for (int i = 0; i < 6; i++)
        r[i].status = SHMC_SYSTEM; /* must be overwritten */
    assert_ok(shmc_store_multi(c, r, 6));
    assert_status(r[0].status, SHMC_OK);
    assert_u64_ne(r[0].cas, 0);
    assert_status(r[1].status, SHMC_NOT_STORED);
    assert_u64_eq(r[1].cas, 0);
    assert_status(r[2].status, SHMC_OK);
    assert_true(r[2].cas > r[0].cas);
    assert_status(r[3].status, SHMC_INVALID); /* a length that wraps */
    assert_status(r[4].status, SHMC_OK);
    assert_status(r[5].status, SHMC_INVALID);
    uint32_t flags = 0;
    uint64_t cas = 0;
    len = sizeof buf;
    assert_ok(shmc_get(c, KS("a"), buf, &len, &flags, &cas));
    assert_u64_eq(len, 4);
    assert_memory_equal(buf, "one+", 4);
    assert_u64_eq(flags, 7);
    assert_u64_eq(cas, r[2].cas);
    len = sizeof buf;
    assert_ok(shmc_get(c, KS("old"), buf, &len, NULL, &cas));
    assert_memory_equal(buf, "after", 5);
    assert_u64_eq(cas, r[4].cas);
    len = sizeof buf;
    assert_status(shmc_get(c, KS("bad"), buf, &len, NULL, NULL), SHMC_NOT_FOUND);
    assert_ok(shmc_store_multi(c, NULL, 0));
    assert_status(shmc_store_multi(c, NULL, 2), SHMC_INVALID);
    assert_status(shmc_store_multi(c, r, SIZE_MAX / 8), SHMC_INVALID); /* size overflows */
    assert_status(shmc_store_multi(NULL, r, 1), SHMC_INVALID);
    assert_int_equal(shmc_check(c, stdout), 0);
}

/* A signal handler that calls the library while its thread is inside a
 * call gets SHMC_BUSY at once, instead of waiting for a lock its own
 * thread holds (issue 16); outside a call it is served.  The main thread
 * reads a 4 MiB value (chained: copied under the stripe lock) while a
 * timer fires every 100 us; the handler reads the same key. */
static shmc_cache *reentry_cache;
static volatile sig_atomic_t reentry_ok, reentry_busy, reentry_other;

static void reentry_handler(int sig)
{
    (void)sig;
    char b[8];
    size_t len = sizeof b;
    shmc_status st = shmc_get(reentry_cache, "big", 3, b, &len, NULL, NULL);
    if (st == SHMC_BUSY)
        reentry_busy++;
    else if (st == SHMC_BUFFER_TOO_SMALL || st == SHMC_OK)
        reentry_ok++;
    else
        reentry_other++;
}

static void test_reentry_from_signal_handler(void **state)
{
    (void)state;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.item_size_max = 8u << 20;
    tu_fix *f = tu_fix_new("reentry", &cfg);
    reentry_cache = f->c;
    enum { BIG = 4 << 20 };
    char *val = malloc(BIG), *out = malloc(BIG);
    assert_non_null(val);
    assert_non_null(out);
    tu_fill(val, BIG, 5);
    assert_ok(shmc_set(f->c, "big", 3, val, BIG, 0, 0));
    struct sigaction sa = {.sa_handler = reentry_handler, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_interval = {0, 100}, .it_value = {0, 100}};
    setitimer(ITIMER_REAL, &it, NULL);
    int bad = 0;
    for (int round = 0; round < 300 && reentry_busy < 20; round++) {
        size_t len = BIG;
        if (shmc_get(f->c, "big", 3, out, &len, NULL, NULL) != SHMC_OK || len != BIG ||
            memcmp(out, val, BIG) != 0)
            bad++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    printf("handler calls: %d inside a call (SHMC_BUSY), %d outside (served), %d other\n",
           (int)reentry_busy, (int)reentry_ok, (int)reentry_other);
    assert_int_equal(bad, 0);
    assert_true(reentry_busy > 0);
    assert_int_equal(reentry_other, 0);
    free(val);
    free(out);
    assert_int_equal(tu_fix_free(f), 0);
}

static void test_null_args(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    char buf[16];
    size_t len = sizeof buf;
    void *out = NULL;
    shmc_stats st;
    shmc_config cfg;
    shmc_class_stats cs;

    assert_ok(tu_set(c, "k", "v", 0, 0));

    /* NULL cache */
    assert_status(shmc_get(NULL, KS("k"), buf, &len, NULL, NULL), SHMC_INVALID);
    assert_status(shmc_get_alloc(NULL, KS("k"), &out, &len, NULL, NULL), SHMC_INVALID);
    len = sizeof buf;
    assert_status(shmc_gat(NULL, KS("k"), 0, buf, &len, NULL, NULL), SHMC_INVALID);
    assert_status(shmc_store(NULL, SHMC_SET, KS("k"), "v", 1, 0, 0, 0, NULL), SHMC_INVALID);
    assert_status(shmc_set(NULL, KS("k"), "v", 1, 0, 0), SHMC_INVALID);
    assert_status(shmc_delete(NULL, KS("k"), 0), SHMC_INVALID);
    assert_status(shmc_incr(NULL, KS("k"), 1, NULL), SHMC_INVALID);
    assert_status(shmc_decr(NULL, KS("k"), 1, NULL), SHMC_INVALID);
    assert_status(shmc_touch(NULL, KS("k"), 0), SHMC_INVALID);
    assert_status(shmc_flush_all(NULL, 0), SHMC_INVALID);
    assert_status(shmc_stats_get(NULL, &st), SHMC_INVALID);
    assert_status(shmc_config_get(NULL, &cfg), SHMC_INVALID);
    assert_status(shmc_class_stats_get(NULL, 1, &cs), SHMC_INVALID);
    assert_status(shmc_maintain(NULL), SHMC_INVALID);
    assert_status(shmc_clock_advance(NULL, 1), SHMC_INVALID);
    shmc_close(NULL);   /* accepted */

    /* NULL out-parameters that are required */
    assert_status(shmc_get(c, KS("k"), buf, NULL, NULL, NULL), SHMC_INVALID);
    assert_status(shmc_get_alloc(c, KS("k"), NULL, &len, NULL, NULL), SHMC_INVALID);
    assert_status(shmc_get_alloc(c, KS("k"), &out, NULL, NULL, NULL), SHMC_INVALID);
    assert_status(shmc_stats_get(c, NULL), SHMC_INVALID);
    assert_status(shmc_config_get(c, NULL), SHMC_INVALID);
    assert_status(shmc_class_stats_get(c, 1, NULL), SHMC_INVALID);

    /* NULL buffer with non-zero capacity */
    len = 8;
    assert_status(shmc_get(c, KS("k"), NULL, &len, NULL, NULL), SHMC_INVALID);

    /* NULL key with a length, NULL value with a length */
    len = sizeof buf;
    assert_status(shmc_get(c, NULL, 3, buf, &len, NULL, NULL), SHMC_INVALID);
    assert_status(shmc_set(c, NULL, 3, "v", 1, 0, 0), SHMC_INVALID);
    assert_status(shmc_set(c, KS("k"), NULL, 5, 0, 0), SHMC_INVALID);
    assert_value_str(c, "k", "v");   /* the failed set did not touch it */

    /* a store mode that does not exist */
    assert_status(shmc_store(c, (shmc_store_mode)99, KS("k"), "x", 1, 0, 0, 0, NULL),
                  SHMC_INVALID);
    assert_value_str(c, "k", "v");

    /* class ids are 1..n */
    unsigned n = shmc_class_count(c);
    assert_true(n > 1);
    assert_ok(shmc_class_stats_get(c, 1, &cs));
    assert_ok(shmc_class_stats_get(c, n, &cs));
    assert_status(shmc_class_stats_get(c, 0, &cs), SHMC_INVALID);
    assert_status(shmc_class_stats_get(c, n + 1, &cs), SHMC_INVALID);

    /* create/open/destroy */
    shmc_cache *c2 = NULL;
    char path[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "nullargs");
    assert_status(shmc_create(NULL, NULL, &c2), SHMC_INVALID);
    assert_status(shmc_create(path, NULL, NULL), SHMC_INVALID);
    assert_false(tu_file_exists(path));
    assert_status(shmc_open(NULL, &c2), SHMC_INVALID);
    assert_status(shmc_open(f->path, NULL), SHMC_INVALID);
    assert_status(shmc_destroy(NULL), SHMC_INVALID);
    assert_true(tu_file_exists(f->path));
}

/* shmc_strerror: a distinct, non-empty text for each code; never NULL. */
static void test_strerror(void **state)
{
    (void)state;
    const char *s[SHMC_STATUS_COUNT];
    for (int i = 0; i < SHMC_STATUS_COUNT; i++) {
        s[i] = shmc_strerror((shmc_status)i);
        assert_non_null(s[i]);
        if (s[i][0] == 0)
            fail_msg("shmc_strerror(%s) is empty", tu_status_name((shmc_status)i));
        for (int j = 0; j < i; j++)
            if (strcmp(s[i], s[j]) == 0)
                fail_msg("shmc_strerror(%s) == shmc_strerror(%s) == \"%s\"",
                         tu_status_name((shmc_status)i), tu_status_name((shmc_status)j), s[i]);
    }
    const int out_of_range[] = { SHMC_STATUS_COUNT, SHMC_STATUS_COUNT + 1, 1000, -1, -1000 };
    for (size_t i = 0; i < sizeof out_of_range / sizeof out_of_range[0]; i++) {
        const char *t = shmc_strerror((shmc_status)out_of_range[i]);
        assert_non_null(t);
        assert_true(t[0] != 0);
    }
}

/* ------------------------------------------------------------------ */
/* Statistics counters                                                 */
/* ------------------------------------------------------------------ */

/* A fresh cache: empty counters, limit_maxbytes is mem_bytes. */
static void test_stats_fresh(void **state)
{
    tu_fix *f = *state;
    shmc_stats s = tu_stats(f->c);
    assert_u64_eq(s.curr_items, 0);
    assert_u64_eq(s.total_items, 0);
    assert_u64_eq(s.bytes, 0);
    assert_u64_eq(s.cmd_get, 0);
    assert_u64_eq(s.cmd_set, 0);
    assert_u64_eq(s.get_hits, 0);
    assert_u64_eq(s.get_misses, 0);
    assert_u64_eq(s.evictions, 0);
    assert_u64_eq(s.limit_maxbytes, f->cfg.mem_bytes);
    assert_u64_eq(s.curr_clients, 1);
    assert_u64_eq(s.hash_power_level, f->cfg.hash_power);
    assert_u64_eq(s.hash_buckets, 1ull << f->cfg.hash_power);
    /* the segment's clock is Unix time */
    time_t now = time(NULL);
    assert_u64_cmp(s.time + 5, >=, (uint64_t)now);
    assert_u64_cmp(s.time, <=, (uint64_t)now + 5);
    assert_u64_cmp(s.uptime, <=, 5);
}

/* get_hits/get_misses/cmd_get: one per key looked up. */
static void test_stats_get(void **state)
{
    shmc_cache *c = CACHE(state);
    shmc_stats a = tu_stats(c);
    char buf[16];
    size_t len = sizeof buf;
    assert_status(shmc_get(c, KS("k"), buf, &len, NULL, NULL), SHMC_NOT_FOUND);
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.cmd_get, a.cmd_get + 1);
    assert_u64_eq(b.get_misses, a.get_misses + 1);
    assert_u64_eq(b.get_hits, a.get_hits);

    assert_ok(tu_set(c, "k", "v", 0, 0));
    a = tu_stats(c);
    len = sizeof buf;
    assert_ok(shmc_get(c, KS("k"), buf, &len, NULL, NULL));
    b = tu_stats(c);
    assert_u64_eq(b.cmd_get, a.cmd_get + 1);
    assert_u64_eq(b.get_hits, a.get_hits + 1);
    assert_u64_eq(b.get_misses, a.get_misses);

    void *out = NULL;
    assert_ok(shmc_get_alloc(c, KS("k"), &out, &len, NULL, NULL));
    free(out);
    a = tu_stats(c);
    assert_u64_eq(a.cmd_get, b.cmd_get + 1);
    assert_u64_eq(a.get_hits, b.get_hits + 1);

    /* multi-get counts every key */
    shmc_value v[3];
    memset(v, 0, sizeof v);
    char bufs[3][16];
    const char *keys[3] = { "k", "nokey", "k" };
    for (int i = 0; i < 3; i++) {
        v[i].key = keys[i];
        v[i].key_len = strlen(keys[i]);
        v[i].buf = bufs[i];
        v[i].cap = 16;
    }
    assert_ok(shmc_get_multi(c, v, 3));
    b = tu_stats(c);
    assert_u64_eq(b.cmd_get, a.cmd_get + 3);
    assert_u64_eq(b.get_hits, a.get_hits + 2);
    assert_u64_eq(b.get_misses, a.get_misses + 1);
}

/* cmd_set counts storage commands; curr_items/total_items/bytes follow links. */
static void test_stats_store(void **state)
{
    shmc_cache *c = CACHE(state);
    shmc_stats a = tu_stats(c);
    assert_ok(tu_set(c, "k1", "value", 0, 0));
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.cmd_set, a.cmd_set + 1);
    assert_u64_eq(b.curr_items, a.curr_items + 1);
    assert_u64_eq(b.total_items, a.total_items + 1);
    assert_u64_cmp(b.bytes, >=, a.bytes + 2 + 5);

    /* overwrite: one more stored item ever, same number now */
    assert_ok(tu_set(c, "k1", "value2", 0, 0));
    a = tu_stats(c);
    assert_u64_eq(a.cmd_set, b.cmd_set + 1);
    assert_u64_eq(a.curr_items, b.curr_items);
    assert_u64_eq(a.total_items, b.total_items + 1);

    assert_ok(shmc_store(c, SHMC_ADD, KS("k2"), "v", 1, 0, 0, 0, NULL));
    assert_ok(shmc_store(c, SHMC_REPLACE, KS("k2"), "w", 1, 0, 0, 0, NULL));
    assert_ok(shmc_store(c, SHMC_APPEND, KS("k2"), "x", 1, 0, 0, 0, NULL));
    assert_ok(shmc_store(c, SHMC_PREPEND, KS("k2"), "y", 1, 0, 0, 0, NULL));
    b = tu_stats(c);
    assert_u64_eq(b.cmd_set, a.cmd_set + 4);
    assert_u64_eq(b.curr_items, a.curr_items + 1);
    assert_u64_eq(b.total_items, a.total_items + 4);

    /* failed stores store nothing */
    assert_status(shmc_store(c, SHMC_ADD, KS("k2"), "v", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    assert_status(shmc_store(c, SHMC_REPLACE, KS("k3"), "v", 1, 0, 0, 0, NULL), SHMC_NOT_STORED);
    a = tu_stats(c);
    assert_u64_eq(a.curr_items, b.curr_items);
    assert_u64_eq(a.total_items, b.total_items);

    /* deleting everything brings curr_items and bytes back to 0 */
    assert_ok(shmc_delete(c, KS("k1"), 0));
    assert_ok(shmc_delete(c, KS("k2"), 0));
    a = tu_stats(c);
    assert_u64_eq(a.curr_items, 0);
    assert_u64_eq(a.bytes, 0);
    assert_u64_eq(a.total_items, b.total_items);
}

/* delete_hits / delete_misses. */
static void test_stats_delete(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "k", "v", 0, 0));
    shmc_stats a = tu_stats(c);
    assert_ok(shmc_delete(c, KS("k"), 0));
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.delete_hits, a.delete_hits + 1);
    assert_u64_eq(b.delete_misses, a.delete_misses);
    assert_u64_eq(b.curr_items, a.curr_items - 1);
    assert_status(shmc_delete(c, KS("k"), 0), SHMC_NOT_FOUND);
    a = tu_stats(c);
    assert_u64_eq(a.delete_hits, b.delete_hits);
    assert_u64_eq(a.delete_misses, b.delete_misses + 1);
}

/* incr_hits/misses, decr_hits/misses. */
static void test_stats_incr_decr(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "n", "1", 0, 0));
    shmc_stats a = tu_stats(c);
    assert_ok(shmc_incr(c, KS("n"), 1, NULL));
    assert_ok(shmc_incr(c, KS("n"), 1, NULL));
    assert_status(shmc_incr(c, KS("nokey"), 1, NULL), SHMC_NOT_FOUND);
    assert_ok(shmc_decr(c, KS("n"), 1, NULL));
    assert_status(shmc_decr(c, KS("nokey"), 1, NULL), SHMC_NOT_FOUND);
    assert_status(shmc_decr(c, KS("nokey2"), 1, NULL), SHMC_NOT_FOUND);
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.incr_hits, a.incr_hits + 2);
    assert_u64_eq(b.incr_misses, a.incr_misses + 1);
    assert_u64_eq(b.decr_hits, a.decr_hits + 1);
    assert_u64_eq(b.decr_misses, a.decr_misses + 2);
    assert_u64_eq(b.curr_items, a.curr_items);
}

/* cas_hits (stored), cas_badval (EXISTS), cas_misses (NOT_FOUND). */
static void test_stats_cas(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0;
    assert_ok(shmc_store(c, SHMC_SET, KS("k"), "v", 1, 0, 0, 0, &cas));
    shmc_stats a = tu_stats(c);
    assert_status(shmc_store(c, SHMC_CAS, KS("k"), "w", 1, 0, 0, cas + 1, NULL), SHMC_EXISTS);
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.cas_badval, a.cas_badval + 1);
    assert_u64_eq(b.cas_hits, a.cas_hits);
    assert_u64_eq(b.cas_misses, a.cas_misses);

    assert_ok(shmc_store(c, SHMC_CAS, KS("k"), "w", 1, 0, 0, cas, NULL));
    a = tu_stats(c);
    assert_u64_eq(a.cas_hits, b.cas_hits + 1);
    assert_u64_eq(a.cas_badval, b.cas_badval);
    assert_u64_eq(a.cas_misses, b.cas_misses);

    assert_status(shmc_store(c, SHMC_CAS, KS("nokey"), "w", 1, 0, 0, cas, NULL), SHMC_NOT_FOUND);
    b = tu_stats(c);
    assert_u64_eq(b.cas_misses, a.cas_misses + 1);
    assert_u64_eq(b.cas_hits, a.cas_hits);
    assert_u64_eq(b.cas_badval, a.cas_badval);
}

/* touch: cmd_touch, touch_hits, touch_misses. */
static void test_stats_touch(void **state)
{
    shmc_cache *c = CACHE(state);
    assert_ok(tu_set(c, "k", "v", 0, 0));
    shmc_stats a = tu_stats(c);
    assert_ok(shmc_touch(c, KS("k"), 100));
    assert_status(shmc_touch(c, KS("nokey"), 100), SHMC_NOT_FOUND);
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.cmd_touch, a.cmd_touch + 2);
    assert_u64_eq(b.touch_hits, a.touch_hits + 1);
    assert_u64_eq(b.touch_misses, a.touch_misses + 1);
    /* touch is not a get */
    assert_u64_eq(b.cmd_get, a.cmd_get);
    assert_u64_eq(b.get_hits, a.get_hits);
}

/* gat (memcached process_get_command with should_touch): a hit counts
 * cmd_get, cmd_touch and touch_hits (not get_hits); a miss counts
 * cmd_get, cmd_touch and touch_misses (not get_misses). */
static void test_stats_gat(void **state)
{
    shmc_cache *c = CACHE(state);
    char buf[16];
    size_t len = sizeof buf;
    assert_ok(tu_set(c, "k", "v", 0, 0));
    shmc_stats a = tu_stats(c);
    assert_ok(shmc_gat(c, KS("k"), 100, buf, &len, NULL, NULL));
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.cmd_get, a.cmd_get + 1);
    assert_u64_eq(b.cmd_touch, a.cmd_touch + 1);
    assert_u64_eq(b.touch_hits, a.touch_hits + 1);
    assert_u64_eq(b.get_hits, a.get_hits);

    len = sizeof buf;
    assert_status(shmc_gat(c, KS("nokey"), 100, buf, &len, NULL, NULL), SHMC_NOT_FOUND);
    a = tu_stats(c);
    assert_u64_eq(a.cmd_get, b.cmd_get + 1);
    assert_u64_eq(a.cmd_touch, b.cmd_touch + 1);
    assert_u64_eq(a.touch_misses, b.touch_misses + 1);
    assert_u64_eq(a.get_misses, b.get_misses);
}

/* flush_all counts cmd_flush. */
static void test_stats_flush(void **state)
{
    shmc_cache *c = CACHE(state);
    shmc_stats a = tu_stats(c);
    assert_ok(shmc_flush_all(c, 0));
    assert_ok(shmc_flush_all(c, 10));
    shmc_stats b = tu_stats(c);
    assert_u64_eq(b.cmd_flush, a.cmd_flush + 2);
}

/* Per-class stats agree with the totals. */
static void test_class_stats(void **state)
{
    shmc_cache *c = CACHE(state);
    char val[2000];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 100; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%d", i);
        assert_ok(shmc_set(c, KS(key), val, (size_t)(i * 19), 0, 0));
    }
    unsigned n = shmc_class_count(c);
    assert_true(n >= 2);
    uint64_t items = 0, bytes = 0;
    uint32_t prev = 0;
    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats cs;
        assert_ok(shmc_class_stats_get(c, id, &cs));
        /* chunk sizes grow with the class id */
        assert_u64_cmp(cs.chunk_size, >, prev);
        prev = cs.chunk_size;
        items += cs.curr_items;
        bytes += cs.bytes;
        assert_u64_eq(cs.hot + cs.warm + cs.cold, cs.curr_items);
        assert_u64_cmp(cs.used_chunks, >=, cs.curr_items);
    }
    shmc_stats s = tu_stats(c);
    assert_u64_eq(items, 100);
    assert_u64_eq(s.curr_items, 100);
    assert_u64_eq(bytes, s.bytes);
}

/* The index grows (linear hashing) as items are added: all stay findable. */
static int setup_small_index(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.hash_power = 10;
    return tu_setup(state, "index", &cfg);
}

/* A long batch (its reads are pipelined: hashed, prefetched, then read
 * several entries later; its hits counted every few dozen entries)
 * answers every entry as shmc_get answers it alone: hits, misses,
 * repeats, bad keys and small buffers mixed, over chains longer than one
 * item (a small index), and counts each key once in the stats. */
static void test_get_multi_pipeline(void **state)
{
    shmc_cache *c = CACHE(state);
    enum { STORED = 3000, N = 1000 };
    for (int i = 0; i < STORED; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "pipe:%d", i);
        snprintf(val, sizeof val, "value-%d", i * 3);
        assert_ok(tu_set(c, key, val, (uint32_t)i, 0));
    }
    static char keys[N][32], bufs[N][32];
    shmc_value *v = calloc(N, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "pipe:%d", (i * 7) % 4000); /* a quarter missing */
        v[i].key = keys[i];
        v[i].key_len = i % 97 == 5 ? 0 : strlen(keys[i]);             /* a bad key now and then */
        v[i].buf = bufs[i];
        v[i].cap = i % 50 == 3 ? 4 : sizeof bufs[i];                  /* and a small buffer */
        v[i].status = SHMC_SYSTEM;
    }
    shmc_stats a = tu_stats(c);
    assert_ok(shmc_get_multi(c, v, N));
    shmc_stats b = tu_stats(c);
    uint64_t hits = 0, misses = 0;
    for (int i = 0; i < N; i++) {
        char one[32];
        size_t len = v[i].cap;
        uint32_t flags = 0;
        uint64_t cas = 0;
        shmc_status st = shmc_get(c, v[i].key, v[i].key_len, one, &len, &flags, &cas);
        if (v[i].status != st)
            fail_msg("entry %d (%s): batch %s, alone %s", i, keys[i],
                     tu_status_name(v[i].status), tu_status_name(st));
        if (st == SHMC_OK) {
            hits++;
            assert_u64_eq(v[i].len, len);
            assert_memory_equal(bufs[i], one, len);
            assert_u64_eq(v[i].flags, flags);
            assert_u64_eq(v[i].cas, cas);
        } else if (st == SHMC_BUFFER_TOO_SMALL) {
            assert_u64_eq(v[i].len, len);
        } else if (st == SHMC_NOT_FOUND) {
            misses++;
        }
    }
    assert_u64_cmp(hits, >, N / 2);
    assert_u64_cmp(misses, >, N / 10);
    assert_u64_eq(b.get_hits, a.get_hits + hits);
    assert_u64_eq(b.get_misses, a.get_misses + misses);
    free(v);
}

/* Two keys of one 32-bit hash (hash_key, src/hash.h), found by trying
 * "coll:N" keys: the birthday bound makes it a few hundred thousand. */
static void colliding_keys(char a[32], char b[32])
{
    enum { SLOTS = 1 << 21 };
    uint64_t *seen = calloc(SLOTS, sizeof *seen); /* hash << 32 | (N + 1); 0 empty */
    assert_non_null(seen);
    for (uint32_t n = 0; n < 4000000; n++) {
        char k[32];
        snprintf(k, sizeof k, "coll:%u", n);
        uint32_t h = hash_key(k, strlen(k));
        for (uint32_t i = h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
            if (!seen[i]) {
                seen[i] = (uint64_t)h << 32 | (n + 1);
                break;
            }
            if ((uint32_t)(seen[i] >> 32) == h) {
                snprintf(a, 32, "coll:%u", (uint32_t)seen[i] - 1);
                snprintf(b, 32, "%s", k);
                free(seen);
                return;
            }
        }
    }
    fail_msg("no two keys of one hash in 4M");
}

/* Two keys of one hash in one chain: a batch's stages stop at the first
 * item of the key's hash, and a read that starts there must still find
 * the other key's item, or miss, as shmc_get does. */
static void test_get_multi_hash_collision(void **state)
{
    shmc_cache *c = CACHE(state);
    char a[32], b[32];
    colliding_keys(a, b);
    assert_int_equal(hash_key(a, strlen(a)), hash_key(b, strlen(b)));
    print_message("%s and %s share hash %#x\n", a, b, hash_key(a, strlen(a)));
    char bufs[4][32];
    const char *ask[4] = {a, b, b, a};
    shmc_value v[4];
    for (int round = 0; round < 3; round++) {
        if (round == 0) {
            assert_ok(tu_set(c, a, "value-a", 1, 0)); /* b missing, its hash's chain not empty */
        } else if (round == 1) {
            assert_ok(tu_set(c, b, "value-b", 2, 0)); /* both in one chain */
        } else {
            assert_ok(shmc_delete(c, a, strlen(a), 0)); /* a gone, b behind nothing */
        }
        for (int i = 0; i < 4; i++)
            v[i] = (shmc_value){.key = ask[i], .key_len = strlen(ask[i]), .buf = bufs[i],
                                .cap = sizeof bufs[i], .status = SHMC_SYSTEM};
        assert_ok(shmc_get_multi(c, v, 4));
        for (int i = 0; i < 4; i++) {
            bool is_a = ask[i] == a;
            bool there = is_a ? round < 2 : round > 0;
            if (!there) {
                if (v[i].status != SHMC_NOT_FOUND)
                    fail_msg("round %d, %s: %s, expected NOT_FOUND", round, ask[i],
                             tu_status_name(v[i].status));
                continue;
            }
            assert_status(v[i].status, SHMC_OK);
            assert_u64_eq(v[i].len, 7);
            assert_memory_equal(bufs[i], is_a ? "value-a" : "value-b", 7);
            assert_u64_eq(v[i].flags, is_a ? 1 : 2);
        }
    }
}

/* Every value length up to past mem_copy's short-copy limit (src/mem.h:
 * 16-byte pieces with an overlapping last one, 8 and 4 with overlapping
 * halves, bytes below 4), stored from and read into every alignment,
 * through shmc_get and shmc_get_multi: the bytes come back exactly, and
 * not one byte is written past the value's end in the caller's buffer. */
static void test_value_lengths_copy(void **state)
{
    shmc_cache *c = CACHE(state);
    enum { MAXLEN = 600, GUARD = 32 };
    static unsigned char val[MAXLEN + 16], got[MAXLEN + 16 + GUARD];
    for (size_t len = 0; len <= MAXLEN; len++) {
        size_t align = len % 16;
        for (size_t i = 0; i < len; i++)
            val[align + i] = (unsigned char)(len * 31 + i * 7 + 1);
        char key[32];
        snprintf(key, sizeof key, "len:%zu", len);
        assert_ok(shmc_set(c, key, strlen(key), val + align, len, 0, 0));
        memset(got, 0xA5, sizeof got);
        size_t n = len;
        assert_ok(shmc_get(c, key, strlen(key), got + align, &n, NULL, NULL));
        assert_u64_eq(n, len);
        assert_memory_equal(got + align, val + align, len);
        for (size_t i = 0; i < GUARD; i++)
            assert_int_equal(got[align + len + i], 0xA5);
        memset(got, 0xA5, sizeof got);
        shmc_value v = {.key = key, .key_len = strlen(key), .buf = got + 15 - align, .cap = len};
        assert_ok(shmc_get_multi(c, &v, 1));
        assert_ok(v.status);
        assert_u64_eq(v.len, len);
        assert_memory_equal(got + 15 - align, val + align, len);
        for (size_t i = 0; i < GUARD; i++)
            assert_int_equal(got[15 - align + len + i], 0xA5);
    }
}

static void test_index_grows(void **state)
{
    shmc_cache *c = CACHE(state);
    shmc_stats s0 = tu_stats(c);
    assert_u64_eq(s0.hash_buckets, 1024);
    const int n = 50000;
    for (int i = 0; i < n; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "key:%d", i);
        snprintf(val, sizeof val, "%d", i * 3);
        assert_ok(tu_set(c, key, val, 0, 0));
        if (i % 10000 == 0)
            assert_int_equal(shmc_check(c, stderr), 0);
    }
    for (int i = 0; i < 100; i++)
        assert_ok(shmc_maintain(c));
    shmc_stats s = tu_stats(c);
    print_message("hash_buckets %" PRIu64 " (power %" PRIu64 ") for %d items\n",
                  s.hash_buckets, s.hash_power_level, n);
    assert_u64_cmp(s.hash_buckets, >, 1024);
    assert_u64_cmp(s.hash_power_level, >, 10);
    assert_u64_cmp(s.hash_buckets, >=, 1ull << s.hash_power_level);
    assert_u64_cmp(s.hash_buckets, <, 2ull << s.hash_power_level);
    assert_u64_eq(s.curr_items, n);
    for (int i = 0; i < n; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "key:%d", i);
        snprintf(val, sizeof val, "%d", i * 3);
        assert_value_str(c, key, val);
    }
    for (int i = 0; i < n; i += 2) {
        char key[32];
        snprintf(key, sizeof key, "key:%d", i);
        assert_ok(shmc_delete(c, KS(key), 0));
    }
    assert_u64_eq(tu_stats(c).curr_items, n / 2);
    assert_missing(c, "key:0");
    assert_value_str(c, "key:1", "3");
}

/* shmc_get_info: the metadata memcached's meta commands return. */
static void test_get_info(void **state)
{
    shmc_cache *c = CACHE(state);
    char buf[16];
    size_t len = sizeof buf;
    shmc_item_info info;
    const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
    const shmc_get_options touch = {.flags = SHMC_GET_TOUCH, .exptime = 500};
    const shmc_get_options bad = {.flags = 0x80};
    assert_status(tu_set(c, "m", "val", 9, 100), SHMC_OK);
    assert_status(tu_set(c, "forever", "x", 0, 0), SHMC_OK);
    assert_status(shmc_clock_advance(c, 10), SHMC_OK);
    /* a read that leaves the item alone: not fetched afterwards */
    assert_status(shmc_get_info(c, KS("m"), &nobump, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.len, 3);
    assert_int_equal(info.flags, 9);
    assert_in_range(info.ttl, 88, 91);
    assert_in_range(info.last_access, 9, 11);
    assert_int_equal(info.fetched, 0);
    assert_true(info.class_id >= 1 && info.class_id <= shmc_class_count(c));
    /* a normal read: reports fetched 0 (before it), then 1, and resets access time */
    assert_status(shmc_get_info(c, KS("m"), NULL, buf, &len, &info), SHMC_OK);
    assert_int_equal(info.fetched, 0);
    assert_memory_equal(buf, "val", 3);
    assert_status(shmc_get_info(c, KS("m"), NULL, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.fetched, 1);
    assert_in_range(info.last_access, 0, 1);
    /* touch through get_info: the reported TTL is the new one */
    assert_status(shmc_get_info(c, KS("m"), &touch, NULL, NULL, &info), SHMC_OK);
    assert_in_range(info.ttl, 498, 500);
    assert_status(shmc_get_info(c, KS("forever"), NULL, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.ttl, -1);
    /* errors */
    len = 1;
    assert_status(shmc_get_info(c, KS("m"), NULL, buf, &len, &info), SHMC_BUFFER_TOO_SMALL);
    assert_int_equal(len, 3);
    assert_status(shmc_get_info(c, KS("nope"), NULL, NULL, NULL, &info), SHMC_NOT_FOUND);
    assert_status(shmc_get_info(c, KS("m"), &bad, NULL, NULL, &info), SHMC_INVALID);
}

/* The recache token: stale items and items near expiry hand it to exactly
 * one reader (memcached meta W / Z / X). */
static void test_invalidate_and_recache_token(void **state)
{
    shmc_cache *c = CACHE(state);
    shmc_item_info info;
    uint64_t cas0 = 0;
    char buf[16];
    size_t len = sizeof buf;
    assert_status(tu_set(c, "s", "old", 0, 0), SHMC_OK);
    assert_status(shmc_get(c, KS("s"), buf, &len, NULL, &cas0), SHMC_OK);
    assert_status(shmc_invalidate(c, KS("s"), cas0 + 1, NULL, 0), SHMC_EXISTS);
    assert_status(shmc_invalidate(c, KS("nope"), 0, NULL, 0), SHMC_NOT_FOUND);
    int64_t ttl = 30;
    assert_status(shmc_invalidate(c, KS("s"), cas0, &ttl, 0), SHMC_OK);
    /* still readable, stale, new CAS, new TTL; first reader wins, the next is told */
    len = sizeof buf;
    assert_status(shmc_get_info(c, KS("s"), NULL, buf, &len, &info), SHMC_OK);
    assert_memory_equal(buf, "old", 3);
    assert_int_equal(info.stale, 1);
    assert_int_equal(info.win, 1);
    assert_true(info.cas != cas0);
    assert_in_range(info.ttl, 29, 30);
    assert_status(shmc_get_info(c, KS("s"), NULL, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.win, -1);
    /* a store replaces the stale item: fresh, no token */
    assert_status(tu_set(c, "s", "new", 0, 0), SHMC_OK);
    assert_status(shmc_get_info(c, KS("s"), NULL, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.stale, 0);
    assert_int_equal(info.win, 0);
    /* near expiry: TTL 50 is below recache_below 60 */
    const shmc_get_options r60 = {.recache_below = 60};
    assert_status(tu_set(c, "r", "v", 0, 50), SHMC_OK);
    assert_status(shmc_get_info(c, KS("r"), &r60, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.win, 1);
    assert_status(shmc_get_info(c, KS("r"), &r60, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.win, -1);
    const shmc_get_options r10 = {.recache_below = 10};
    assert_status(tu_set(c, "r2", "v", 0, 50), SHMC_OK);
    assert_status(shmc_get_info(c, KS("r2"), &r10, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.win, 0);
    /* CAS_STALE: an older CAS still stores, but the value is stale */
    uint64_t cas1 = 0, cas2 = 0;
    len = sizeof buf;
    assert_status(shmc_get(c, KS("s"), buf, &len, NULL, &cas1), SHMC_OK);
    assert_status(tu_set(c, "s", "newer", 0, 0), SHMC_OK);
    assert_status(shmc_store(c, SHMC_CAS, KS("s"), "late", 4, 0, 0, cas1, NULL), SHMC_EXISTS);
    assert_status(shmc_store(c, SHMC_CAS_STALE, KS("s"), "late", 4, 0, 0, cas1, &cas2),
                  SHMC_OK);
    len = sizeof buf;
    assert_status(shmc_get_info(c, KS("s"), NULL, buf, &len, &info), SHMC_OK);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(info.stale, 1);
    assert_int_equal(info.cas, cas2);
    assert_int_equal(info.win, 1);
    /* a second stale store keeps the TTL (exptime ignored) and the token
     * already handed out: the next reader learns someone has it */
    assert_status(shmc_store(c, SHMC_CAS_STALE, KS("s"), "later", 5, 0, 90, cas1, NULL),
                  SHMC_OK);
    assert_status(shmc_get_info(c, KS("s"), NULL, NULL, NULL, &info), SHMC_OK);
    assert_int_equal(info.ttl, -1);
    assert_int_equal(info.stale, 1);
    assert_int_equal(info.win, -1);
}

/* shmc_store_ex: an explicit CAS value (memcached meta E). */
static void test_store_explicit_cas(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0, got = 0;
    char buf[8];
    size_t len = sizeof buf;
    assert_status(shmc_store_ex(c, SHMC_SET, KS("e"), "v1", 2, 0, 0, 0, 5000000, &cas), SHMC_OK);
    assert_int_equal(cas, 5000000);
    assert_status(shmc_get(c, KS("e"), buf, &len, NULL, &got), SHMC_OK);
    assert_int_equal(got, 5000000);
    /* a CAS store against it, then a generated CAS: above the explicit one */
    assert_status(shmc_store(c, SHMC_CAS, KS("e"), "v2", 2, 0, 0, 5000000, &cas), SHMC_OK);
    assert_true(cas > 5000000);
    assert_status(shmc_store_ex(c, SHMC_APPEND, KS("e"), "x", 1, 0, 0, 0, 7, &cas), SHMC_OK);
    assert_int_equal(cas, 7);
    assert_value_str(c, "e", "v2x");
    /* append/prepend with a CAS: only onto that very item */
    assert_status(shmc_store(c, SHMC_APPEND, KS("e"), "y", 1, 0, 0, 8, NULL), SHMC_EXISTS);
    assert_status(shmc_store(c, SHMC_PREPEND, KS("e"), "p", 1, 0, 0, 7, &cas), SHMC_OK);
    assert_value_str(c, "e", "pv2x");
    assert_status(shmc_store(c, SHMC_APPEND, KS("none"), "y", 1, 0, 0, 8, NULL), SHMC_NOT_STORED);
    /* incr and invalidate with an explicit CAS */
    assert_status(tu_set(c, "num", "1", 0, 0), SHMC_OK);
    uint64_t v = 0;
    assert_status(shmc_arith_ex(c, KS("num"), 1, 1, 0, 4242, &v, &cas), SHMC_OK);
    assert_int_equal(v, 2);
    assert_int_equal(cas, 4242);
    assert_status(shmc_invalidate(c, KS("num"), 4242, NULL, 99), SHMC_OK);
    len = sizeof buf;
    assert_status(shmc_get(c, KS("num"), buf, &len, NULL, &got), SHMC_OK);
    assert_int_equal(got, 99);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* CAS values as clients rely on them (src/cas.h): a key's values grow
 * across writers, deletes and explicit values; no two writes share one;
 * explicit values at or above SHMC_CAS_EXPLICIT_LIMIT are refused; and a
 * store after flush_all survives it even when another key's explicit CAS
 * lies far above every generated value. */
static void test_cas_order(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c, *other;
    assert_ok(shmc_open(f->path, &other)); /* another client slot and lanes */
    enum { N = 4000 };
    uint64_t *seen = calloc(2 * N, sizeof *seen);
    assert_non_null(seen);
    char key[32];
    for (int i = 0; i < N; i++) { /* write by one client, rewrite by the other */
        snprintf(key, sizeof key, "ord%d", i);
        uint64_t a = 0, b = 0;
        assert_ok(shmc_store(c, SHMC_SET, key, strlen(key), "a", 1, 0, 0, 0, &a));
        assert_ok(shmc_store(other, SHMC_SET, key, strlen(key), "b", 1, 0, 0, 0, &b));
        assert_true(b > a);
        seen[2 * i] = a;
        seen[2 * i + 1] = b;
    }
    qsort(seen, 2 * N, sizeof *seen, cmp_u64); /* unique: no neighbours equal */
    for (int i = 1; i < 2 * N; i++)
        assert_true(seen[i] != seen[i - 1]);
    free(seen);
    /* deleted and stored again, by the other client: still above */
    uint64_t before = 0, after = 0;
    assert_ok(shmc_store(c, SHMC_SET, KS("del"), "1", 1, 0, 0, 0, &before));
    assert_ok(shmc_delete(c, KS("del"), 0));
    assert_ok(shmc_store(other, SHMC_ADD, KS("del"), "2", 1, 0, 0, 0, &after));
    assert_true(after > before);
    /* an explicit value far above the clock: the key's next values pass it */
    const uint64_t high = 1ull << 62;
    assert_ok(shmc_store_ex(c, SHMC_SET, KS("high"), "h", 1, 0, 0, 0, high, &before));
    assert_ok(shmc_store(other, SHMC_SET, KS("high"), "i", 1, 0, 0, 0, &after));
    assert_true(after > high);
    assert_ok(shmc_invalidate(other, KS("high"), 0, NULL, 0));
    char buf[4];
    size_t len = sizeof buf;
    assert_ok(shmc_get(c, KS("high"), buf, &len, NULL, &before));
    assert_true(before > after);
    /* the limit */
    assert_status(shmc_store_ex(c, SHMC_SET, KS("lim"), "x", 1, 0, 0, 0,
                                SHMC_CAS_EXPLICIT_LIMIT, NULL),
                  SHMC_INVALID);
    assert_status(shmc_store_ex(c, SHMC_SET, KS("lim"), "x", 1, 0, 0, 0, UINT64_MAX, NULL),
                  SHMC_INVALID);
    assert_ok(tu_set(c, "lim", "7", 0, 0));
    assert_status(shmc_arith_ex(c, KS("lim"), 1, 1, 0, SHMC_CAS_EXPLICIT_LIMIT, NULL, NULL),
                  SHMC_INVALID);
    assert_status(shmc_invalidate(c, KS("lim"), 0, NULL, SHMC_CAS_EXPLICIT_LIMIT),
                  SHMC_INVALID);
    assert_value_str(c, "lim", "7");
    assert_ok(shmc_store_ex(c, SHMC_SET, KS("lim"), "8", 1, 0, 0, 0,
                            SHMC_CAS_EXPLICIT_LIMIT - 1, &before));
    assert_int_equal(before, SHMC_CAS_EXPLICIT_LIMIT - 1);
    /* flush_all: everything before it goes, every store after it stays,
     * in whichever stripe, though "lim"'s stripe is near 2^63 */
    assert_ok(shmc_flush_all(c, 0));
    assert_status(shmc_get(c, KS("lim"), NULL, &(size_t){0}, NULL, NULL), SHMC_NOT_FOUND);
    assert_status(shmc_get(c, KS("ord0"), NULL, &(size_t){0}, NULL, NULL), SHMC_NOT_FOUND);
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "post%d", i);
        assert_ok(shmc_store(i % 2 ? c : other, SHMC_SET, key, strlen(key), "p", 1, 0, 0, 0,
                             NULL));
    }
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "post%d", i);
        assert_value_str(c, key, "p");
    }
    assert_int_equal(shmc_check(c, stderr), 0);
    shmc_close(other);
}

/* shmc_arith: incr/decr guarded by CAS, returning the new CAS. */
static void test_arith_cas(void **state)
{
    shmc_cache *c = CACHE(state);
    uint64_t cas = 0, newcas = 0, v = 0, seen = 0;
    char buf[8];
    size_t len = sizeof buf;
    assert_status(tu_set(c, "n", "10", 0, 0), SHMC_OK);
    assert_status(shmc_get(c, KS("n"), buf, &len, NULL, &cas), SHMC_OK);
    assert_status(shmc_arith(c, KS("n"), 1, 5, cas + 1, &v, &newcas), SHMC_EXISTS);
    assert_value_str(c, "n", "10");
    assert_status(shmc_arith(c, KS("n"), 1, 5, cas, &v, &newcas), SHMC_OK);
    assert_int_equal(v, 15);
    len = sizeof buf;
    assert_status(shmc_get(c, KS("n"), buf, &len, NULL, &seen), SHMC_OK);
    assert_int_equal(seen, newcas);
    assert_true(newcas != cas);
    assert_status(shmc_arith(c, KS("n"), 0, 20, 0, &v, NULL), SHMC_OK);
    assert_int_equal(v, 0);
    assert_status(shmc_arith(c, KS("none"), 1, 1, 0, &v, NULL), SHMC_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_teardown)
        T(test_set_get_roundtrip),
        T(test_zero_length_value),
        T(test_binary_value),
        T(test_flags_32bit),
        T(test_cas_unique_changes),
        T(test_add),
        T(test_replace),
        T(test_append_prepend),
        T(test_cas_store),
        T(test_delete),
        T(test_delete_cas),
        T(test_incr_decr_basic),
        T(test_decr_floors_at_zero),
        T(test_incr_wraps),
        T(test_incr_length_change),
        T(test_incr_not_numeric),
        T(test_incr_memcached_numbers),
        T(test_incr_keeps_item_flags),
        T(test_incr_missing),
        T(test_key_limits),
        T(test_key_exact_match),
        T(test_too_large),
        T(test_item_size_max_boundary),
        T(test_every_size),
        T(test_append_many),
        T(test_stats_bytes),
        T(test_get_buffer_too_small),
        T(test_get_alloc),
        T(test_get_multi),
        cmocka_unit_test_setup_teardown(test_get_multi_pipeline, setup_small_index, tu_teardown),
        cmocka_unit_test_setup_teardown(test_get_multi_hash_collision, setup_small_index,
                                        tu_teardown),
        T(test_store_multi),
        T(test_value_lengths_copy),
        cmocka_unit_test(test_reentry_from_signal_handler),
        T(test_null_args),
        T(test_strerror),
        T(test_stats_fresh),
        T(test_stats_get),
        T(test_stats_store),
        T(test_stats_delete),
        T(test_stats_incr_decr),
        T(test_stats_cas),
        T(test_stats_touch),
        T(test_stats_gat),
        T(test_stats_flush),
        T(test_class_stats),
        T(test_get_info),
        T(test_arith_cas),
        T(test_store_explicit_cas),
        T(test_cas_order),
        T(test_invalidate_and_recache_token),
        cmocka_unit_test_setup_teardown(test_index_grows, setup_small_index, tu_teardown),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
