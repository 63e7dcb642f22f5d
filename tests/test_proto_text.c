/*
 * test_proto_text.c - memcached's text and meta protocols of the server
 * (server/proto_text.c): exact reply bytes for every command, error path,
 * noreply, binary values, requests split at every byte, pipelining; -Y's
 * exchange, nothing served under -S without -Y, and the stale answer of a
 * segment destroyed under the server (the busy answer needs a client
 * stopped inside a call: tests/test_server.sh).
 */
#include "testutil.h"

#include "protocol.h"
#include "proto_text_parse.h"
#include "proto_watch.h"

#define STALE "SERVER_ERROR " SRV_MSG_RETIRED "\r\n"

static srv_settings g_set = {
    .item_size_max = 1u << 20,
    .allow_shutdown = 0,
    .cas_enabled = 1,
    .flush_enabled = 1,
    .verbose = 0,
    .max_reqs_per_event = 20,
    .version = "1.6.99-test",
};

typedef struct pt {
    tu_fix *f;
    srv_session s;
    srv_buf out;
    enum srv_action action;
} pt;

static int pt_setup(void **state)
{
    pt *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->f = tu_fix_new("proto", NULL);
    if (!t->f) {
        free(t);
        return -1;
    }
    t->s.cache = t->f->c;
    t->s.settings = &g_set;
    *state = t;
    return 0;
}

static int pt_teardown(void **state)
{
    pt *t = *state;
    int rc = tu_fix_free(t->f);
    srv_buf_free(&t->out);
    free(t);
    return rc;
}

/* Feed n bytes at once; return the reply (NUL-terminated copy in out). */
static size_t feed(pt *t, const char *in, size_t n)
{
    t->out.len = 0;
    return proto_text_process(&t->s, in, n, &t->out, &t->action);
}

/* Feed like a connection reading chunk bytes at a time; all input must
 * be consumed.  The reply is left in t->out. */
static void feed_chunked(pt *t, const char *in, size_t n, size_t chunk)
{
    char *buf = malloc(n + 1);
    size_t have = 0, given = 0;
    t->out.len = 0;
    srv_buf acc = {0};
    while (given < n || have > 0) {
        size_t k = n - given < chunk ? n - given : chunk;
        memcpy(buf + have, in + given, k);
        have += k;
        given += k;
        srv_buf one = {0};
        size_t used = proto_text_process(&t->s, buf, have, &one, &t->action);
        srv_buf_add(&acc, one.data, one.len);
        srv_buf_free(&one);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (t->action != SRV_CONTINUE)
            break;
        if (k == 0 && used == 0)
            break;
    }
    free(buf);
    t->out.len = 0;
    srv_buf_add(&t->out, acc.data, acc.len);
    srv_buf_free(&acc);
    assert_int_equal(have, 0);
}

#define assert_reply(t, expected) do { \
        const char *e_ = (expected); \
        size_t el_ = strlen(e_); \
        if ((t)->out.len != el_ || (el_ && memcmp((t)->out.data, e_, el_) != 0)) \
            fail_msg("reply\n  got:      \"%.*s\"\n  expected: \"%s\"", (int)(t)->out.len, \
                     (t)->out.data ? (t)->out.data : "", e_); \
    } while (0)

/* Send a request as one chunk: all of it consumed, exact reply. */
static void req(pt *t, const char *in, const char *expected)
{
    size_t n = strlen(in);
    size_t used = feed(t, in, n);
    if (used != n)
        fail_msg("request \"%s\": consumed %zu of %zu", in, used, n);
    assert_reply(t, expected);
}

/* Same request byte by byte: the same reply. */
static void req_split(pt *t, const char *in, const char *expected)
{
    feed_chunked(t, in, strlen(in), 1);
    assert_reply(t, expected);
}

/* ------------------------------------------------------------------ */

static void test_storage_basic(void **state)
{
    pt *t = *state;
    req(t, "set foo 5 0 3\r\nbar\r\n", "STORED\r\n");
    req(t, "get foo\r\n", "VALUE foo 5 3\r\nbar\r\nEND\r\n");
    req(t, "add foo 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
    req(t, "add new 0 0 1\r\nx\r\n", "STORED\r\n");
    req(t, "replace nope 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
    req(t, "replace foo 7 0 3\r\nbaz\r\n", "STORED\r\n");
    req(t, "append foo 0 0 2\r\n!!\r\n", "STORED\r\n");
    req(t, "prepend foo 0 0 2\r\n<<\r\n", "STORED\r\n");
    req(t, "get foo\r\n", "VALUE foo 7 7\r\n<<baz!!\r\nEND\r\n");
    req(t, "append nope 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
    req(t, "prepend nope 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
    req(t, "set empty 0 0 0\r\n\r\n", "STORED\r\n");
    req(t, "get empty\r\n", "VALUE empty 0 0\r\n\r\nEND\r\n");
    req(t, "set big 4294967295 0 1\r\nz\r\n", "STORED\r\n");
    req(t, "get big\r\n", "VALUE big 4294967295 1\r\nz\r\nEND\r\n");
    req(t, "set x 0 0 1 garbage\r\nz\r\n", "STORED\r\n");
}

static void test_get_multi(void **state)
{
    pt *t = *state;
    req(t, "set a 1 0 1\r\nA\r\nset b 2 0 2\r\nBB\r\n", "STORED\r\nSTORED\r\n");
    req(t, "get a missing b\r\n", "VALUE a 1 1\r\nA\r\nVALUE b 2 2\r\nBB\r\nEND\r\n");
    req(t, "get   a    b  \r\n", "VALUE a 1 1\r\nA\r\nVALUE b 2 2\r\nBB\r\nEND\r\n");
    req(t, "get missing\r\n", "END\r\n");
    req(t, "get a\n", "VALUE a 1 1\r\nA\r\nEND\r\n"); /* bare \n accepted */
    /* more than 24 tokens: the keys past the tokenizer's limit still count */
    char line[512] = "get";
    for (int i = 0; i < 30; i++)
        strcat(line, " a");
    strcat(line, " b\r\n");
    char exp[2048] = "";
    for (int i = 0; i < 30; i++)
        strcat(exp, "VALUE a 1 1\r\nA\r\n");
    strcat(exp, "VALUE b 2 2\r\nBB\r\nEND\r\n");
    req(t, line, exp);
    req(t, "get\r\n", "ERROR\r\n");
    req(t, "gets\r\n", "ERROR\r\n");
}

/* get and gets read their keys 32 at a time into 1 KiB slots
 * (server/proto_text.c, get_batched): a line of 75 keys, in three
 * batches, with values of every size around the slot (1023-1025 bytes,
 * larger ones read alone), misses and repeats, answers
 * exactly the blocks of the keys in their order, with their CAS. */
static void test_get_batches(void **state)
{
    pt *t = *state;
    enum { KEYS = 75 };
    static const size_t sizes[] = {0, 1, 100, 1023, 1024, 1025, 4000, 70000};
    static char val[70000];
    static char line[8192], exp[1 << 20], gexp[1 << 20];
    int misses = 0;
    strcpy(line, "get");
    exp[0] = gexp[0] = '\0';
    char *e = exp, *g = gexp;
    for (int i = 0; i < KEYS; i++) {
        char key[32];
        int j = i % 50; /* i >= 50 repeats key j */
        if (j % 11 == 7) { /* a key that was never stored */
            snprintf(key, sizeof key, "nokey%d", j);
            misses++;
        } else {
            snprintf(key, sizeof key, "bk%d", j);
            size_t len = sizes[j % 8];
            for (size_t b = 0; b < len; b++)
                val[b] = (char)('a' + (b + (size_t)j) % 26);
            if (i < 50)
                assert_ok(shmc_set(t->f->c, key, strlen(key), val, len, (uint32_t)j, 0));
            uint64_t cas = 0;
            size_t got = sizeof val;
            assert_ok(shmc_get(t->f->c, key, strlen(key), val, &got, NULL, &cas));
            assert_u64_eq(got, len);
            e += sprintf(e, "VALUE %s %d %zu\r\n", key, j, len);
            g += sprintf(g, "VALUE %s %d %zu %llu\r\n", key, j, len,
                         (unsigned long long)cas);
            memcpy(e, val, len);
            memcpy(g, val, len);
            e += len;
            g += len;
            e += sprintf(e, "\r\n");
            g += sprintf(g, "\r\n");
        }
        strcat(line, " ");
        strcat(line, key);
    }
    strcpy(e, "END\r\n");
    strcpy(g, "END\r\n");
    strcat(line, "\r\n");
    shmc_stats a;
    assert_ok(shmc_stats_get(t->f->c, &a));
    req(t, line, exp);
    line[0] = 'g', memmove(line + 4, line + 3, strlen(line + 3) + 1), line[3] = 's';
    req(t, line, gexp);
    shmc_stats b;
    assert_ok(shmc_stats_get(t->f->c, &b));
    /* values read twice (a size probe, then alone) count once */
    assert_int_equal(misses, 6);
    assert_u64_eq(b.get_hits - a.get_hits, 2 * (KEYS - misses));
    assert_u64_eq(b.get_misses - a.get_misses, 2 * misses);
}

static void test_gets_cas(void **state)
{
    pt *t = *state;
    req(t, "set k 3 0 2\r\nv1\r\n", "STORED\r\n");
    uint64_t cas = 0;
    assert_ok(shmc_get(t->s.cache, "k", 1, NULL, &(size_t){0}, NULL, &cas) == SHMC_BUFFER_TOO_SMALL
                  ? SHMC_OK : SHMC_INVALID);
    char buf[64];
    size_t len = sizeof buf;
    assert_ok(shmc_get(t->s.cache, "k", 1, buf, &len, NULL, &cas));
    char exp[256], line[256];
    snprintf(exp, sizeof exp, "VALUE k 3 2 %" PRIu64 "\r\nv1\r\nEND\r\n", cas);
    req(t, "gets k\r\n", exp);
    snprintf(line, sizeof line, "cas k 4 0 2 %" PRIu64 "\r\nv2\r\n", cas);
    req(t, line, "STORED\r\n");
    req(t, line, "EXISTS\r\n");                /* the CAS changed */
    req(t, "cas nope 0 0 1 1\r\nx\r\n", "NOT_FOUND\r\n");
    req(t, "get k\r\n", "VALUE k 4 2\r\nv2\r\nEND\r\n");
    /* too few tokens: the data line is then read as a command */
    req(t, "cas k 0 0 1\r\nx\r\n", "ERROR\r\nERROR\r\n");
    req(t, "cas k 0 0 1 abc\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n");
    len = sizeof buf;
    assert_ok(shmc_get(t->s.cache, "k", 1, buf, &len, NULL, &cas));
    snprintf(line, sizeof line, "cas k 4 0 2 %" PRIu64 " noreply\r\nv3\r\nget k\r\n", cas);
    req(t, line, "VALUE k 4 2\r\nv3\r\nEND\r\n");
}

static void test_storage_errors(void **state)
{
    pt *t = *state;
    req(t, "set\r\n", "ERROR\r\n");
    req(t, "set k 0 0\r\n", "ERROR\r\n");
    req(t, "set k 0 0 1 noreply extra\r\n", "ERROR\r\n");
    req(t, "set k x 0 1\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "set k 0 x 1\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "set k 0 0 x\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "set k -1 0 1\r\n", "CLIENT_ERROR bad command line format\r\n");
    /* flags over 2^64-1 (memcached keeps the low 32 bits of anything less) */
    req(t, "set k 18446744073709551616 0 1\r\n", "CLIENT_ERROR bad command line format\r\n");
    /* a negative length: error, nothing swallowed */
    req(t, "set k 0 0 -1\r\nget k\r\n", "CLIENT_ERROR bad command line format\r\nEND\r\n");
    /* key too long */
    char line[400];
    memset(line, 'a', 251);
    snprintf(line + 251, sizeof line - 251, " 0 0 1\r\n");
    char full[420] = "set ";
    strcat(full, line);
    req(t, full, "CLIENT_ERROR bad command line format\r\n");
    /* a 250-byte key is fine */
    char k250[251];
    memset(k250, 'b', 250);
    k250[250] = 0;
    char ok[400];
    snprintf(ok, sizeof ok, "set %s 0 0 1\r\nz\r\n", k250);
    req(t, ok, "STORED\r\n");
    /* bad data chunk: the length's bytes + 2 are consumed */
    req(t, "set k 0 0 3\r\nabcde\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
    req(t, "set k 0 0 1\r\nabc", "CLIENT_ERROR bad data chunk\r\n");
    req(t, "set k 0 0 1 noreply\r\nabc\r\n", "ERROR\r\n");
    /* unknown commands */
    req(t, "bogus\r\n", "ERROR\r\n");
    req(t, "\r\n", "ERROR\r\n");
    req(t, "x\r\n", "ERROR\r\n");
    req(t, "GET foo\r\n", "ERROR\r\n");
}

static void test_too_large(void **state)
{
    pt *t = *state;
    req(t, "set big 0 0 1\r\nx\r\n", "STORED\r\n");
    size_t n = 2u << 20;
    char *in = malloc(n + 100);
    int h = snprintf(in, 100, "set big 0 0 %zu\r\n", n);
    memset(in + h, 'v', n);
    memcpy(in + h + n, "\r\nget big\r\n", 11);
    size_t total = (size_t)h + n + 11;
    /* the error comes with the line; the data is swallowed as it arrives */
    size_t used = feed(t, in, (size_t)h + 10);
    assert_int_equal(used, (size_t)h + 10);
    assert_reply(t, "SERVER_ERROR object too large for cache\r\n");
    used = feed(t, in + h + 10, total - (size_t)h - 10);
    assert_int_equal(used, total - (size_t)h - 10);
    assert_reply(t, "END\r\n");              /* the old value is gone, as in memcached */
    free(in);
    /* noreply hides it; the data is still swallowed */
    req(t, "set big 0 0 2000000 noreply\r\n", "");
    assert_int_equal(t->s.swallow, 2000002);
    t->s.swallow = 0;
    /* a bad length that's too big for the parser is a format error */
    req(t, "set k 0 0 2147483647\r\n", "CLIENT_ERROR bad command line format\r\n");
}

static void test_noreply(void **state)
{
    pt *t = *state;
    req(t, "set a 0 0 1 noreply\r\n1\r\n", "");
    req(t, "add a 0 0 1 noreply\r\n1\r\n", "");
    req(t, "replace a 0 0 1 noreply\r\n2\r\n", "");
    req(t, "append a 0 0 1 noreply\r\n3\r\n", "");
    req(t, "prepend a 0 0 1 noreply\r\n0\r\n", "");
    req(t, "incr a 1 noreply\r\n", "");
    req(t, "decr a 2 noreply\r\n", "");
    req(t, "get a\r\n", "VALUE a 0 2\r\n22\r\nEND\r\n");
    req(t, "touch a 100 noreply\r\n", "");
    req(t, "delete a noreply\r\n", "");
    req(t, "delete a noreply\r\n", "");
    req(t, "incr a x noreply\r\n", "");   /* errors too, as memcached */
    req(t, "flush_all noreply\r\n", "");
    req(t, "flush_all 0 noreply\r\n", "");
    req(t, "verbosity 1 noreply\r\n", "");
    req(t, "get a\r\n", "END\r\n");
}

static void test_delete(void **state)
{
    pt *t = *state;
    req(t, "set d 0 0 1\r\nx\r\n", "STORED\r\n");
    req(t, "delete d\r\n", "DELETED\r\n");
    req(t, "delete d\r\n", "NOT_FOUND\r\n");
    req(t, "set d 0 0 1\r\nx\r\n", "STORED\r\n");
    req(t, "delete d 0\r\n", "DELETED\r\n");
    req(t, "set d 0 0 1\r\nx\r\n", "STORED\r\n");
    req(t, "delete d 0 noreply\r\n", "");
    req(t, "delete d 5\r\n",
        "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
    req(t, "delete d 0 x\r\n",
        "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
    req(t, "delete d 0 noreply x\r\n", "ERROR\r\n");
    req(t, "delete\r\n", "ERROR\r\n");
}

static void test_incr_decr(void **state)
{
    pt *t = *state;
    req(t, "set n 0 0 2\r\n10\r\n", "STORED\r\n");
    req(t, "incr n 5\r\n", "15\r\n");
    req(t, "decr n 100\r\n", "0\r\n");
    req(t, "incr n 18446744073709551615\r\n", "18446744073709551615\r\n");
    req(t, "incr n 1\r\n", "0\r\n");
    req(t, "incr n 18446744073709551616\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
    req(t, "incr n -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
    req(t, "incr n abc\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
    req(t, "incr nope 1\r\n", "NOT_FOUND\r\n");
    req(t, "decr nope 1\r\n", "NOT_FOUND\r\n");
    req(t, "set s 0 0 3\r\nabc\r\n", "STORED\r\n");
    req(t, "incr s 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    req(t, "incr n\r\n", "ERROR\r\n");
}

static void test_touch_gat(void **state)
{
    pt *t = *state;
    req(t, "set t 9 100 2\r\nhi\r\n", "STORED\r\n");
    req(t, "touch t 1\r\n", "TOUCHED\r\n");
    req(t, "touch nope 1\r\n", "NOT_FOUND\r\n");
    req(t, "touch t x\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
    /* memcached keeps the low 32 bits of a 64-bit exptime or length */
    req(t, "touch t 4294967296\r\n", "TOUCHED\r\n");
    req(t, "touch t 9223372036854775808\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
    req(t, "set l 0 4294967296 4294967297\r\nx\r\nget l\r\n",
        "STORED\r\nVALUE l 0 1\r\nx\r\nEND\r\n");
    req(t, "set l 0 2147483648 1\r\nx\r\nget l\r\n", "STORED\r\nEND\r\n");
    req(t, "gat 0 t nope\r\n", "VALUE t 9 2\r\nhi\r\nEND\r\n");
    char buf[8];
    size_t len = sizeof buf;
    uint64_t cas = 0;
    assert_ok(shmc_get(t->s.cache, "t", 1, buf, &len, NULL, &cas));
    char exp[128];
    snprintf(exp, sizeof exp, "VALUE t 9 2 %" PRIu64 "\r\nhi\r\nEND\r\n", cas);
    req(t, "gats 100 t\r\n", exp);
    req(t, "gat x t\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
    req(t, "gat 10\r\n", "END\r\n");
    req(t, "touch t 1\r\n", "TOUCHED\r\n");
    assert_ok(shmc_clock_advance(t->s.cache, 3));
    req(t, "get t\r\n", "END\r\n");
    req(t, "set t 0 -1 1\r\nx\r\n", "STORED\r\n");
    req(t, "get t\r\n", "END\r\n");
}

static void test_flush_all(void **state)
{
    pt *t = *state;
    req(t, "set f 0 0 1\r\nx\r\n", "STORED\r\n");
    req(t, "flush_all\r\n", "OK\r\n");
    req(t, "get f\r\n", "END\r\n");
    req(t, "set f 0 0 1\r\nx\r\n", "STORED\r\n");
    req(t, "flush_all 10\r\n", "OK\r\n");
    req(t, "get f\r\n", "VALUE f 0 1\r\nx\r\nEND\r\n");
    assert_ok(shmc_clock_advance(t->s.cache, 11));
    req(t, "get f\r\n", "END\r\n");
    req(t, "flush_all x\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
    req(t, "flush_all 1 2 3\r\n", "ERROR\r\n");
    g_set.flush_enabled = 0;
    req(t, "flush_all\r\n", "CLIENT_ERROR flush_all not allowed\r\n");
    g_set.flush_enabled = 1;
}

static void test_misc_commands(void **state)
{
    pt *t = *state;
    req(t, "version\r\n", "VERSION 1.6.99-test\r\n");
    req(t, "verbosity 1\r\n", "OK\r\n");
    req(t, "verbosity\r\n", "ERROR\r\n");
    req(t, "verbosity x\r\n", "CLIENT_ERROR bad command line format\r\n");
    /* no daemon (no -Z): memcached's answer without TLS */
    req(t, "refresh_certs\r\n", "Error TLS not enabled\r\n");
    /* the segment (64 MiB) cannot grow; the limit moves below it */
    req(t, "cache_memlimit 100\r\n", "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n");

    req(t, "cache_memlimit 7\r\n", "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
    req(t, "cache_memlimit 2000000000\r\n",
        "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n");
    req(t, "cache_memlimit x\r\n", "ERROR\r\n");
    req(t, "shutdown\r\n", "ERROR: shutdown not enabled\r\n");
    assert_int_equal(t->action, SRV_CONTINUE);
    g_set.allow_shutdown = 1;
    req(t, "shutdown bogus\r\n", "CLIENT_ERROR invalid shutdown mode\r\n");
    size_t used = feed(t, "shutdown\r\nget a\r\n", 17);
    assert_int_equal(used, 10);
    assert_int_equal(t->action, SRV_SHUTDOWN);
    req(t, "shutdown graceful\r\n", "");
    assert_int_equal(t->action, SRV_SHUTDOWN);
    g_set.allow_shutdown = 0;
    used = feed(t, "quit\r\nget a\r\n", 12);
    assert_int_equal(used, 6);
    assert_int_equal(t->action, SRV_CLOSE);
    assert_int_equal(t->out.len, 0);
    req(t, "slabs automove 1\r\n", "OK\r\n");
    req(t, "slabs automove 3\r\n", "ERROR\r\n");
    req(t, "slabs automove x\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "slabs reassign 1 1\r\n", "SAME src and dst class are identical\r\n");
    req(t, "slabs reassign 1 9999\r\n", "BADCLASS invalid src or dst class id\r\n");
    req(t, "slabs reassign 1 2\r\n", "NOSPARE source class has no spare pages\r\n");
    req(t, "slabs reassign x 2\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "slabs bogus\r\n", "ERROR\r\n");
    req(t, "lru_crawler crawl all\r\n", "OK\r\n");
    req(t, "lru_crawler crawl 1,2\r\n", "OK\r\n");
    req(t, "lru_crawler crawl 1,x\r\n", "BADCLASS invalid class id\r\n");
    req(t, "lru_crawler sleep 2000000\r\n", "CLIENT_ERROR sleep must be one second or less\r\n");
    req(t, "lru_crawler tocrawl 10\r\n", "OK\r\n");
    req(t, "lru_crawler enable\r\n", "ERROR failed to start lru crawler thread\r\n");
    req(t, "lru_crawler disable\r\n", "OK\r\n");
    req(t, "lru_crawler metadump all\r\n", "END\r\n"); /* no daemon: the crawler is on */
    req(t, "lru_crawler\r\n", "ERROR\r\n");
}

/* protocol.txt "watch": OK, then the connection streams log lines; an
 * unknown kind is an ERROR, and the kinds memcached knows but that have
 * no events here stream nothing. */
static void test_watch_command(void **state)
{
    pt *t = *state;
    req(t, "watch bogus\r\n", "ERROR\r\n");
    req(t, "watch fetchers deletions\r\n", "ERROR\r\n");
    assert_int_equal(t->action, SRV_CONTINUE);
    const char *in = "watch mutations\r\nget never-run\r\n";
    assert_int_equal(feed(t, in, strlen(in)), 17); /* nothing after watch runs */
    assert_reply(t, "OK\r\n");
    assert_int_equal(t->action, SRV_WATCH);
    assert_int_equal(t->s.watch_groups & ~WATCH_ACCEPTED, SHMC_WATCH_MUTATIONS);
    assert_ok(tu_set(t->f->c, "lib:k", "v", 0, 0));
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(shmc_get(t->f->c, "lib:k", 5, buf, &len, NULL, NULL)); /* a fetcher: not shown */
    t->out.len = 0;
    assert_true(proto_watch_poll(&t->s, &t->out));
    srv_buf_add(&t->out, "", 1);
    assert_non_null(strstr(t->out.data, " type=item_store key=lib%3Ak status=stored cmd=set "
                                        "ttl=-1 clsid=1 client="));
    assert_null(strstr(t->out.data, "item_get"));
    assert_int_equal(strchr(t->out.data, '\n') - t->out.data + 2, (long)t->out.len);
    proto_watch_end(&t->s);
    assert_int_equal(t->s.watch_groups, 0);
    assert_status(shmc_watch_stop(t->f->c), SHMC_NOT_FOUND); /* the watch ended */
    t->s.watch_groups = 0;
    req(t, "watch rawcmds\r\n", "OK\r\n");
    assert_true(proto_watch_poll(&t->s, &t->out));
    proto_watch_end(&t->s);
}

static bool has_line(pt *t, const char *line)
{
    size_t n = strlen(line);
    for (size_t i = 0; i + n <= t->out.len; i++)
        if ((i == 0 || t->out.data[i - 1] == '\n') && memcmp(t->out.data + i, line, n) == 0)
            return true;
    return false;
}

static bool ends_with_end(pt *t)
{
    return t->out.len >= 5 && memcmp(t->out.data + t->out.len - 5, "END\r\n", 5) == 0;
}

/* cache_memlimit moves the limit within the segment's size (64 MiB),
 * and both stats show it. */
static void test_cache_memlimit(void **state)
{
    pt *t = *state;
    req(t, "cache_memlimit 8\r\n", "OK\r\n");
    feed(t, "stats\r\n", 7);
    assert_true(has_line(t, "STAT limit_maxbytes 8388608\r\n"));
    feed(t, "stats settings\r\n", 16);
    assert_true(has_line(t, "STAT maxbytes 8388608\r\n"));
    req(t, "cache_memlimit 64\r\n", "OK\r\n");
    feed(t, "stats\r\n", 7);
    assert_true(has_line(t, "STAT limit_maxbytes 67108864\r\n"));
    req(t, "cache_memlimit 65\r\n", "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n");
}

static void test_stats(void **state)
{
    pt *t = *state;
    req(t, "set s 0 0 1\r\nx\r\nget s\r\nget nope\r\n",
        "STORED\r\nVALUE s 0 1\r\nx\r\nEND\r\nEND\r\n");
    feed(t, "stats\r\n", 7);
    assert_true(ends_with_end(t));
    assert_true(has_line(t, "STAT curr_items 1\r\n"));
    assert_true(has_line(t, "STAT get_hits 1\r\n"));
    assert_true(has_line(t, "STAT get_misses 1\r\n"));
    assert_true(has_line(t, "STAT cmd_set 1\r\n"));
    assert_true(has_line(t, "STAT limit_maxbytes "));
    assert_true(has_line(t, "STAT pid "));
    assert_true(has_line(t, "STAT shm_busy_answers 0\r\n"));
    feed(t, "stats settings\r\n", 16);
    assert_true(ends_with_end(t));
    assert_true(has_line(t, "STAT item_size_max 1048576\r\n"));
    assert_true(has_line(t, "STAT evictions on\r\n"));
    feed(t, "stats items\r\n", 13);
    assert_true(ends_with_end(t));
    assert_true(has_line(t, "STAT items:1:number 1\r\n"));
    feed(t, "stats slabs\r\n", 13);
    assert_true(ends_with_end(t));
    assert_true(has_line(t, "STAT 1:chunk_size "));
    assert_true(has_line(t, "STAT active_slabs 1\r\n"));
    assert_true(has_line(t, "STAT total_malloced 1048576\r\n"));
    req(t, "stats sizes\r\n", "STAT sizes_status disabled\r\nEND\r\n");
    req(t, "stats conns\r\n", "END\r\n");
    /* reset: counters restart from zero for this server, gauges stay */
    req(t, "stats reset\r\n", "RESET\r\n");
    feed(t, "stats\r\n", 7);
    assert_true(has_line(t, "STAT get_hits 0\r\n"));
    assert_true(has_line(t, "STAT cmd_set 0\r\n"));
    assert_true(has_line(t, "STAT curr_items 1\r\n"));
    req(t, "get s\r\n", "VALUE s 0 1\r\nx\r\nEND\r\n");
    feed(t, "stats\r\n", 7);
    assert_true(has_line(t, "STAT get_hits 1\r\n"));
    req(t, "stats bogus\r\n", "ERROR\r\n");
    req(t, "stats detail on\r\n", "OK\r\n");
    req(t, "stats detail\r\n", "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
    req(t, "stats cachedump 2 1\r\n", "END\r\n");
    req(t, "stats cachedump 1\r\n", "CLIENT_ERROR bad command line\r\n");
    req(t, "stats cachedump 64 1\r\n", "CLIENT_ERROR Illegal slab id\r\n");
}

/* protocol.txt "stats cachedump <class> <limit>": ITEM <key> [<bytes> b;
 * <expiry time> s] per live item of the class (0 s: never expires), up
 * to limit (0: all), then END; -X refuses it. */
static void test_cachedump(void **state)
{
    pt *t = *state;
    req(t, "set d:a 0 0 3\r\nabc\r\nset d:b 0 0 1\r\nx\r\ndelete d:b\r\n",
        "STORED\r\nSTORED\r\nDELETED\r\n");
    req(t, "stats cachedump 1 0\r\n", "ITEM d:a [3 b; 0 s]\r\nEND\r\n");
    time_t before = time(NULL);
    req(t, "set d:e 0 1000 2\r\nxy\r\n", "STORED\r\n");
    feed(t, "stats cachedump 1 0\r\n", 21);
    assert_true(ends_with_end(t));
    assert_true(has_line(t, "ITEM d:a [3 b; 0 s]\r\n"));
    char want[64];
    bool found = false;
    for (time_t at = before + 1000; at <= time(NULL) + 1000 && !found; at++) {
        snprintf(want, sizeof want, "ITEM d:e [2 b; %lld s]\r\n", (long long)at);
        found = has_line(t, want);
    }
    assert_true(found);
    feed(t, "stats cachedump 1 1\r\n", 21);
    assert_true(strncmp(t->out.data, "ITEM d:", 7) == 0);
    assert_int_equal(memchr(t->out.data, '\n', t->out.len) - (void *)t->out.data + 1 + 5,
                     t->out.len); /* one line, then END */
    g_set.dump_disabled = 1;
    req(t, "stats cachedump 1 0\r\n", "CLIENT_ERROR stats cachedump not allowed\r\n");
    req(t, "lru_crawler metadump all\r\n", "ERROR metadump not allowed\r\n");
    g_set.dump_disabled = 0;
    g_set.watch_disabled = 1; /* -W */
    req(t, "watch fetchers\r\n", "CLIENT_ERROR watch commands not allowed\r\n");
    assert_int_equal(t->action, SRV_CONTINUE);
    g_set.watch_disabled = 0;
}

/* protocol.txt "lru_crawler metadump <all|hash|ids>": a line per live
 * item, key uri-encoded, exp -1 when it never expires, then END. */
static void test_metadump(void **state)
{
    pt *t = *state;
    req(t, "set m:a 0 0 3\r\nabc\r\nset m%b 0 0 1\r\nx\r\nget m:a\r\n",
        "STORED\r\nSTORED\r\nVALUE m:a 0 3\r\nabc\r\nEND\r\n");
    feed(t, "lru_crawler metadump all\r\n", 26);
    assert_true(ends_with_end(t));
    char *a = strstr(t->out.data, "key=m%3Aa exp=-1 la=");
    char *b = strstr(t->out.data, "key=m%25b exp=-1 la=");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(strstr(a, " fetch=yes cls=1 size=54\n"));
    assert_non_null(strstr(b, " fetch=no cls=1 size=52\n"));
    req(t, "lru_crawler metadump 2\r\n", "END\r\n");
    req(t, "lru_crawler metadump 0\r\n", "BADCLASS invalid class id\r\n");
    req(t, "flush_all\r\n", "OK\r\n");
    req(t, "lru_crawler metadump hash\r\n", "END\r\n");
}

/* protocol.txt "stats detail": per-prefix get/hit/set/del counts of the
 * server's own commands while on; kept when turned off. */
static void test_stats_detail(void **state)
{
    pt *t = *state;
    req(t, "stats detail on\r\n", "OK\r\n");
    req(t, "set p:1 0 0 1\r\nx\r\nget p:1 p:2 q\r\ndelete p:3\r\n",
        "STORED\r\nVALUE p:1 0 1\r\nx\r\nEND\r\nNOT_FOUND\r\n");
    req(t, "stats detail dump\r\n", "PREFIX p get 2 hit 1 set 1 del 1\r\nEND\r\n");
    req(t, "stats detail off\r\n", "OK\r\n");
    req(t, "get p:1\r\n", "VALUE p:1 0 1\r\nx\r\nEND\r\n");
    req(t, "stats detail dump\r\n", "PREFIX p get 2 hit 1 set 1 del 1\r\nEND\r\n");
}

/*
 * The segment destroyed under the server (SHMC_STALE): every command that
 * reaches the cache answers the stale line, even with noreply or q, and
 * asks for the connection to close and the daemon to stop (SRV_RETIRED);
 * nothing after it in the same read is served.  Never a miss.
 */
static void test_retired(void **state)
{
    pt *t = *state;
    req(t, "set k 0 0 1\r\nx\r\n", "STORED\r\n");
    assert_status(shmc_destroy(t->f->path), SHMC_OK);
    t->f->skip_check = 1; /* the handle can check nothing now */
    static const char *const cmds[] = {
        "get k\r\n", "gets a k b\r\n", "gat 10 k\r\n", "gats 10 k\r\n",
        "set k 0 0 1\r\ny\r\n", "set k 0 0 1 noreply\r\ny\r\n", "add k 0 0 1\r\ny\r\n",
        "replace k 0 0 1\r\ny\r\n", "append k 0 0 1\r\ny\r\n", "prepend k 0 0 1\r\ny\r\n",
        "cas k 0 0 1 5\r\ny\r\n", "delete k\r\n", "delete k noreply\r\n", "incr k 1\r\n",
        "decr k 1\r\n", "touch k 10\r\n", "flush_all\r\n", "flush_all noreply\r\n",
        "mg k v\r\n", "mg k v q\r\n", "mg k N30 v\r\n", "ms k 1\r\ny\r\n", "ms k 1 q\r\ny\r\n",
        "md k\r\n", "md k I\r\n", "ma k\r\n", "ma k N0 J5\r\n", "me k\r\n", "stats\r\n",
        "stats settings\r\n", "stats items\r\n", "stats slabs\r\n", "stats reset\r\n",
        "slabs reassign 1 2\r\n", "lru_crawler crawl all\r\n",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        t->action = SRV_CONTINUE;
        size_t n = strlen(cmds[i]);
        size_t used = feed(t, cmds[i], n);
        if (used != n)
            fail_msg("\"%s\": consumed %zu of %zu", cmds[i], used, n);
        if (t->out.len != strlen(STALE) || memcmp(t->out.data, STALE, t->out.len) != 0)
            fail_msg("\"%s\": \"%.*s\"", cmds[i], (int)t->out.len, t->out.data);
        if (t->action != SRV_RETIRED)
            fail_msg("\"%s\": action %d, not SRV_RETIRED", cmds[i], (int)t->action);
    }
    req(t, "get k\r\nversion\r\n", STALE);
    assert_int_equal(t->action, SRV_RETIRED);
    /* what does not reach the cache still answers */
    req(t, "version\r\n", "VERSION 1.6.99-test\r\n");
    assert_int_equal(t->action, SRV_CONTINUE);
}

static void test_binary_values(void **state)
{
    pt *t = *state;
    /* every byte value, \r\n inside the data included */
    char in[600], exp[600];
    int h = snprintf(in, sizeof in, "set bin 0 0 256\r\n");
    for (int i = 0; i < 256; i++)
        in[h + i] = (char)i;
    memcpy(in + h + 256, "\r\n", 2);
    size_t n = (size_t)h + 258;
    assert_int_equal(feed(t, in, n), n);
    assert_reply(t, "STORED\r\n");
    int e = snprintf(exp, sizeof exp, "VALUE bin 0 256\r\n");
    for (int i = 0; i < 256; i++)
        exp[e + i] = (char)i;
    memcpy(exp + e + 256, "\r\nEND\r\n", 7);
    assert_int_equal(feed(t, "get bin\r\n", 9), 9);
    assert_int_equal(t->out.len, (size_t)e + 263);
    assert_memory_equal(t->out.data, exp, (size_t)e + 263);
    /* split at every byte boundary */
    feed_chunked(t, in, n, 1);
    assert_reply(t, "STORED\r\n");
}

static void test_split_and_pipeline(void **state)
{
    pt *t = *state;
    const char *script =
        "set a 0 0 5\r\nhello\r\n"
        "get a\r\n"
        "append a 0 0 1\r\n!\r\n"
        "gets nope\r\n"
        "incr nope 1\r\n"
        "delete a\r\n"
        "mn\r\n"
        "ms m 3 T0 F5\r\nabc\r\n"
        "mg m v f s\r\n"
        "bogus\r\n";
    const char *expected =
        "STORED\r\n"
        "VALUE a 0 5\r\nhello\r\nEND\r\n"
        "STORED\r\n"
        "END\r\n"
        "NOT_FOUND\r\n"
        "DELETED\r\n"
        "MN\r\n"
        "HD\r\n"
        "VA 3 f5 s3\r\nabc\r\n"
        "ERROR\r\n";
    req(t, script, expected);           /* pipelined in one buffer */
    for (size_t chunk = 1; chunk <= 7; chunk++) {
        feed_chunked(t, script, strlen(script), chunk);
        assert_reply(t, expected);
    }
    /* a request split at every single position, two pieces */
    size_t n = strlen(script);
    for (size_t k = 1; k < n; k++) {
        char *buf = malloc(n);
        memcpy(buf, script, k);
        srv_buf acc = {0}, one = {0};
        size_t used = proto_text_process(&t->s, buf, k, &one, &t->action);
        srv_buf_add(&acc, one.data, one.len);
        one.len = 0;
        memmove(buf, buf + used, k - used);
        size_t have = k - used;
        memcpy(buf + have, script + k, n - k);
        have += n - k;
        used = proto_text_process(&t->s, buf, have, &one, &t->action);
        assert_int_equal(used, have);
        srv_buf_add(&acc, one.data, one.len);
        if (acc.len != strlen(expected) || memcmp(acc.data, expected, acc.len) != 0)
            fail_msg("split at %zu: got \"%.*s\"", k, (int)acc.len, acc.data);
        srv_buf_free(&one);
        srv_buf_free(&acc);
        free(buf);
    }
    req_split(t, "get a b c\r\n", "END\r\n");
}

/* A command line that looks like an HTTP request closes the connection
 * with no reply (memcached's defence against browsers); the replies
 * before it in the same read are kept. */
static void test_http_closes(void **state)
{
    pt *t = *state;
    static const char *const closing[] = {"GET / HTTP/1.0\r\n", "PUT /x HTTP/1.1\r\n",
                                          "DELETE HTTP/1.1\r\n", "HTTP/1.1\r\n"};
    for (size_t i = 0; i < sizeof closing / sizeof *closing; i++) {
        t->action = SRV_CONTINUE;
        feed(t, closing[i], strlen(closing[i]));
        assert_int_equal(t->action, SRV_CLOSE);
        assert_int_equal(t->out.len, 0);
    }
    t->action = SRV_CONTINUE;
    req(t, "GET / http/1.1\r\n", "ERROR\r\n");
    req(t, "soo / HTTP/1.1\r\n", "ERROR\r\n");
    req(t, "get k HTTP/1.1\r\n", "END\r\n");
    const char *pipe = "version\r\nGET / HTTP/1.1\r\nversion\r\n";
    feed(t, pipe, strlen(pipe));
    assert_int_equal(t->action, SRV_CLOSE);
    assert_reply(t, "VERSION 1.6.99-test\r\n");
}

static void test_line_limits(void **state)
{
    pt *t = *state;
    /* a long line without \n: close, no reply */
    char *junk = malloc(3000);
    memset(junk, 'x', 3000);
    size_t used = feed(t, junk, 3000);
    assert_int_equal(used, 3000);
    assert_int_equal(t->action, SRV_CLOSE);
    assert_int_equal(t->out.len, 0);
    /* but a long multiget keeps reading */
    memcpy(junk, "get ", 4);
    for (int i = 4; i < 3000; i++)
        junk[i] = (i % 10 == 0) ? ' ' : 'k';
    used = feed(t, junk, 3000);
    assert_int_equal(used, 0);
    assert_int_equal(t->action, SRV_CONTINUE);
    free(junk);
    /* a short partial line: wait */
    assert_int_equal(feed(t, "get a", 5), 0);
    assert_int_equal(t->action, SRV_CONTINUE);
    /* a get with a key over 250 bytes */
    char line[600] = "get a ";
    memset(line + 6, 'k', 251);
    strcpy(line + 257, " b\r\n");
    req(t, line, "CLIENT_ERROR bad command line format\r\n");
    /* NUL ends the line like memcached's strlen */
    assert_int_equal(feed(t, "get a\0zzz\r\n", 11), 11);
    assert_reply(t, "END\r\n");
}

/* ------------------------------------------------------------------ */
/* Meta                                                                */
/* ------------------------------------------------------------------ */

static void test_meta_get_set(void **state)
{
    pt *t = *state;
    req(t, "ms foo 2\r\nhi\r\n", "HD\r\n");
    req(t, "mg foo v\r\n", "VA 2\r\nhi\r\n");
    req(t, "mg foo\r\n", "HD\r\n");
    req(t, "mg foo s v\r\n", "VA 2 s2\r\nhi\r\n");
    req(t, "mg foo k f O123 s\r\n", "HD kfoo f0 O123 s2\r\n");
    req(t, "mg nope v\r\n", "EN\r\n");
    req(t, "mg nope v O9 k\r\n", "EN O9 knope\r\n");
    req(t, "mg nope v q\r\nmn\r\n", "MN\r\n");
    req(t, "mg foo v q\r\n", "VA 2\r\nhi\r\n");
    req(t, "ms foo 3 F77 T0\r\nabc\r\n", "HD\r\n");
    req(t, "mg foo f v\r\n", "VA 3 f77\r\nabc\r\n");
    req(t, "get foo\r\n", "VALUE foo 77 3\r\nabc\r\nEND\r\n");
    uint64_t cas = 0;
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(shmc_get(t->s.cache, "foo", 3, buf, &len, NULL, &cas));
    char exp[128], line[128];
    snprintf(exp, sizeof exp, "HD c%" PRIu64 "\r\n", cas);
    req(t, "mg foo c\r\n", exp);
    /* CAS round trip */
    snprintf(line, sizeof line, "ms foo 1 C%" PRIu64 " c\r\nz\r\n", cas);
    feed(t, line, strlen(line));
    assert_true(t->out.len > 4 && memcmp(t->out.data, "HD c", 4) == 0);
    req(t, line, "EX c0\r\n");
    req(t, "ms nope 1 C5\r\nz\r\n", "NF\r\n");
    /* modes */
    req(t, "ms foo 1 ME\r\nq\r\n", "NS\r\n");
    req(t, "ms addme 1 ME\r\nq\r\n", "HD\r\n");
    req(t, "ms foo 2 MA\r\n++\r\n", "HD\r\n");
    req(t, "ms foo 2 MP\r\n--\r\n", "HD\r\n");
    req(t, "mg foo v\r\n", "VA 5\r\n--z++\r\n");
    req(t, "ms nope 1 MR\r\nq\r\n", "NS\r\n");
    req(t, "ms nope 1 MA\r\nq\r\n", "NS\r\n");
    req(t, "ms foo 1 MS\r\nS\r\n", "HD\r\n");
    req(t, "ms foo 1 MX\r\nS\r\n", "CLIENT_ERROR invalid mode for ms M token\r\n");
    req(t, "ms foo 1 MSS\r\nS\r\n", "CLIENT_ERROR incorrect length for M token\r\n");
    /* quiet: HD hidden, other codes shown */
    req(t, "ms foo 1 q\r\nQ\r\nms foo 1 ME q\r\nQ\r\nmn\r\n", "NS\r\nMN\r\n");
    /* opaque and key */
    req(t, "ms foo 1 O77 k\r\nK\r\n", "HD O77 kfoo\r\n");
    /* E: the item takes the client's CAS value; later ones are above it
     * (2^62: far above the values the library makes); 2^63 and up refused */
    req(t, "ms ecas 1 E4611686018427387904 c\r\nE\r\n", "HD c4611686018427387904\r\n");
    req(t, "mg ecas c v\r\n", "VA 1 c4611686018427387904\r\nE\r\n");
    req(t, "ms ecas 1 C4611686018427387904\r\nF\r\n", "HD\r\n");
    {
        uint64_t later = 0;
        char b[4];
        size_t bl = sizeof b;
        assert_ok(shmc_get(t->s.cache, "ecas", 4, b, &bl, NULL, &later));
        assert_true(later > 4611686018427387904ull);
    }
    req(t, "ms ecas 1 E9223372036854775808\r\nG\r\n",
        "CLIENT_ERROR bad token in command line format\r\n");
    req(t, "mg ecas v\r\n", "VA 1\r\nF\r\n");
    /* T: the TTL */
    req(t, "ms ttl 1 T2\r\nx\r\n", "HD\r\n");
    req(t, "mg ttl v T100 t\r\n", "VA 1 t100\r\nx\r\n");
    /* t (TTL left), h (read before), l (seconds since last access) */
    req(t, "mg ttl t h l v\r\n", "VA 1 t100 h1 l0\r\nx\r\n");
    assert_ok(shmc_clock_advance(t->s.cache, 5));
    /* u: a read that does not count as an access */
    req(t, "mg ttl t l u v\r\n", "VA 1 t95 l5\r\nx\r\n");
    req(t, "mg ttl l v\r\n", "VA 1 l5\r\nx\r\n");
    req(t, "mg ttl T1\r\n", "HD\r\n");
    assert_ok(shmc_clock_advance(t->s.cache, 3));
    req(t, "mg ttl v\r\n", "EN\r\n");
    /* binary value with the data split */
    req_split(t, "ms bv 4\r\n\r\n\r\n\r\n", "HD\r\n");
    req(t, "mg bv v\r\n", "VA 4\r\n\r\n\r\n\r\n");
    /* bad data chunk: always shown */
    req(t, "ms foo 1 q\r\nxy\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
}

static void test_meta_errors(void **state)
{
    pt *t = *state;
    req(t, "mg\r\n", "ERROR\r\n");
    req(t, "mx foo\r\n", "ERROR\r\n");
    req(t, "mg foo v v\r\n", "CLIENT_ERROR duplicate flag\r\n");
    req(t, "mg foo !\r\n", "CLIENT_ERROR invalid flag\r\n");
    req(t, "mg foo Tx\r\n", "CLIENT_ERROR bad token in command line format\r\n");
    req(t, "mg foo O123456789012345678901234567890123\r\n",
        "CLIENT_ERROR opaque token too long\r\n");
    req(t, "mg foo a b c d e f g h i j k l m n o p q r s\r\n",
        "CLIENT_ERROR options flags are too long\r\n");
    req(t, "md foo a b c d e f g h i j k l m n o p q r s\r\n",
        "CLIENT_ERROR options flags too long\r\n");
    req(t, "md foo v v\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
    req(t, "ma foo Dx\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
    req(t, "ma foo MX\r\n", "CLIENT_ERROR invalid mode for ma M token\r\n");
    req(t, "ms foo\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "ms foo x\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "ms foo -1\r\n", "CLIENT_ERROR bad command line format\r\n");
    /* ms errors after the length swallow the data */
    req(t, "ms foo 2 !\r\nab\r\nmn\r\n", "CLIENT_ERROR invalid flag\r\nMN\r\n");
    req(t, "ms foo 2 Fx\r\nab\r\nmn\r\n", "CLIENT_ERROR bad command line format\r\nMN\r\n");
    req(t, "ms foo 2000000 T0\r\n", "SERVER_ERROR object too large for cache\r\n");
    assert_int_equal(t->s.swallow, 2000002);
    t->s.swallow = 0;
    char line[400] = "mg ";
    memset(line + 3, 'k', 251);
    strcpy(line + 254, " v\r\n");
    req(t, line, "CLIENT_ERROR bad command line format\r\n");
    req(t, "mg Zm9v= b\r\n", "CLIENT_ERROR error decoding key\r\n");
}

static void test_meta_delete(void **state)
{
    pt *t = *state;
    req(t, "ms d 1\r\nx\r\n", "HD\r\n");
    req(t, "md d\r\n", "HD\r\n");
    req(t, "md d\r\n", "NF\r\n");
    req(t, "md d q O5 k\r\n", "NF O5 kd\r\n");
    req(t, "ms d 1\r\nx\r\n", "HD\r\n");
    req(t, "md d q\r\nmn\r\n", "MN\r\n");
    req(t, "ms d 1\r\nx\r\n", "HD\r\n");
    req(t, "md d C1\r\n", "EX\r\n");
    req(t, "md d C0\r\n", "EX\r\n");
    uint64_t cas = 0;
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(shmc_get(t->s.cache, "d", 1, buf, &len, NULL, &cas));
    char line[64];
    snprintf(line, sizeof line, "md d C%" PRIu64 " O1\r\n", cas);
    req(t, line, "HD O1\r\n");
    req(t, "ms d 1\r\nx\r\n", "HD\r\n");
    /* I: the item stays, stale, with a new TTL; the first reader wins the
     * right to recache it (W), later ones are told (Z); X marks it stale */
    req(t, "md d I T30\r\n", "HD\r\n");
    req(t, "mg d t v\r\n", "VA 1 t30 X W\r\nx\r\n");
    req(t, "mg d\r\n", "HD Z X\r\n");
    /* a store replaces the stale item: fresh again */
    req(t, "ms d 1\r\ny\r\n", "HD\r\n");
    req(t, "mg d v\r\n", "VA 1\r\ny\r\n");
    /* ms I: a value with an older CAS is stored, stale */
    len = sizeof buf;
    assert_ok(shmc_get(t->s.cache, "d", 1, buf, &len, NULL, &cas));
    req(t, "ms d 1\r\nz\r\n", "HD\r\n");
    snprintf(line, sizeof line, "ms d 1 C%" PRIu64 "\r\nw\r\n", cas);
    req(t, line, "EX\r\n");
    snprintf(line, sizeof line, "ms d 1 I C%" PRIu64 "\r\nw\r\n", cas);
    req(t, line, "HD\r\n");
    req(t, "mg d v\r\n", "VA 1 X W\r\nw\r\n");
    /* R: an item close to expiry hands out the recache token once */
    req(t, "ms r 1 T10\r\nr\r\n", "HD\r\n");
    req(t, "mg r R30 v\r\n", "VA 1 W\r\nr\r\n");
    req(t, "mg r R30 v\r\n", "VA 1 Z\r\nr\r\n");
    req(t, "ms r2 1 T100\r\nr\r\n", "HD\r\n");
    req(t, "mg r2 R30 v\r\n", "VA 1\r\nr\r\n");
}

static void test_meta_arith(void **state)
{
    pt *t = *state;
    req(t, "ma n\r\n", "NF\r\n");
    req(t, "ma n O1 k\r\n", "NF O1 kn\r\n");
    req(t, "ma n N0 J10 v\r\n", "VA 2\r\n10\r\n");
    req(t, "ma n v\r\n", "VA 2\r\n11\r\n");
    req(t, "ma n D5 v\r\n", "VA 2\r\n16\r\n");
    req(t, "ma n MD D6 v\r\n", "VA 2\r\n10\r\n");
    req(t, "ma n M- D100 v\r\n", "VA 1\r\n0\r\n");
    req(t, "ma n M+\r\n", "HD\r\n");
    req(t, "ma n q\r\nmn\r\n", "MN\r\n");
    req(t, "mg n v\r\n", "VA 1\r\n2\r\n");
    uint64_t cas = 0;
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(shmc_get(t->s.cache, "n", 1, buf, &len, NULL, &cas));
    req(t, "ma n C1\r\n", "EX\r\n");
    char line[64], exp[64];
    snprintf(line, sizeof line, "ma n C%" PRIu64 " v\r\n", cas);
    req(t, line, "VA 1\r\n3\r\n");
    feed(t, "ma n c\r\n", 8);
    assert_ok(shmc_get(t->s.cache, "n", 1, buf, &len, NULL, &cas));
    snprintf(exp, sizeof exp, "HD c%" PRIu64 "\r\n", cas);
    assert_reply(t, exp);
    req(t, "ms s 1\r\nx\r\n", "HD\r\n");
    req(t, "ma s\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    req(t, "ma n T100 t v\r\n", "VA 1 t100\r\n5\r\n");
}

static void test_meta_vivify_base64_debug(void **state)
{
    pt *t = *state;
    req(t, "mg viv N30 v t\r\n", "VA 0 t30 W\r\n\r\n");
    req(t, "mg viv v\r\n", "VA 0 Z\r\n\r\n"); /* someone is already filling it */
    /* base64 keys: "foo" is Zm9v */
    req(t, "ms Zm9v 2 b\r\nhi\r\n", "HD\r\n");
    req(t, "get foo\r\n", "VALUE foo 0 2\r\nhi\r\nEND\r\n");
    req(t, "mg Zm9v b k v\r\n", "VA 2 kZm9v b\r\nhi\r\n");
    req(t, "md Zm9v b k\r\n", "HD kZm9v b\r\n");
    req(t, "mg Zm9v b v k\r\n", "EN kZm9v b\r\n");
    /* a base64 key may decode to any bytes, as in memcached */
    req(t, "mg AAEC b v\r\n", "EN\r\n");
    req(t, "ms AAEC 2 b\r\nbb\r\n", "HD\r\n");
    req(t, "mg AAEC b v\r\n", "VA 2\r\nbb\r\n");
    /* me */
    req(t, "ms dbg 3\r\nabc\r\n", "HD\r\n");
    uint64_t cas = 0;
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(shmc_get(t->s.cache, "dbg", 3, buf, &len, NULL, &cas));
    shmc_item_info info;
    const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
    assert_ok(shmc_get_info(t->s.cache, "dbg", 3, &nobump, NULL, NULL, &info));
    char exp[160];
    snprintf(exp, sizeof exp, "ME dbg exp=-1 la=0 cas=%" PRIu64 " fetch=yes cls=%u size=%zu\r\n",
             cas, info.class_id, (size_t)(48 + 4 + 5 + 8)); /* memcached's size */
    req(t, "me dbg\r\n", exp);
    req(t, "me nope\r\n", "EN\r\n");
    req(t, "me\r\n", "CLIENT_ERROR bad command line format\r\n");
    req(t, "mn\r\n", "MN\r\n");
}

/* A get of a value larger than the reply's first guess (2048 bytes) is
 * one get: cmd_get and get_hits rise by exactly 1, in text and meta
 * (a retry with a bigger buffer must not count again). */
static void test_big_get_counts_once(void **state)
{
    pt *t = *state;
    enum { BIG = 10240 };
    char *set = malloc(BIG + 64);
    int n = snprintf(set, 64, "set big 0 0 %d\r\n", BIG);
    memset(set + n, 'v', BIG);
    memcpy(set + n + BIG, "\r\n", 2);
    feed(t, set, (size_t)n + BIG + 2);
    free(set);
    static const char *const gets[] = {"get big\r\n", "gets big\r\n", "mg big v\r\n",
                                       "mg big v c f\r\n"};
    for (size_t i = 0; i < sizeof gets / sizeof *gets; i++) {
        shmc_stats a = tu_stats(t->f->c), b;
        feed(t, gets[i], strlen(gets[i]));
        assert_true(t->out.len > BIG);
        b = tu_stats(t->f->c);
        assert_u64_eq(b.cmd_get, a.cmd_get + 1);
        assert_u64_eq(b.get_hits, a.get_hits + 1);
    }
}

static void test_parser_direct(void **state)
{
    (void)state;
    text_request r;
    r.item_size_max = 0;
    r.no_cas = false;
    assert_int_equal(proto_text_parse("set k 0 0 5\r\nab", 15, &r), TEXT_NEED_MORE);
    assert_int_equal(proto_text_parse("set k 0 0 2\r\nab\r\n", 17, &r), 17);
    assert_int_equal(r.cmd, TC_SET);
    assert_int_equal(r.data_len, 2);
    assert_memory_equal(r.data, "ab", 2);
    assert_int_equal(proto_text_parse("get a b\r\n", 9, &r), 9);
    assert_int_equal(r.cmd, TC_GET);
    assert_int_equal(proto_text_parse("bogus\r\n", 7, &r), 7);
    assert_int_equal(r.cmd, TC_ERROR);
    assert_int_equal(r.err, TE_ERROR);
    unsigned char out[8];
    char enc[16];
    assert_int_equal(text_base64_decode("Zm9vYg==", 8, out, sizeof out), 4);
    assert_memory_equal(out, "foob", 4);
    assert_int_equal(text_base64_encode((const unsigned char *)"foob", 4, enc, sizeof enc), 8);
    assert_memory_equal(enc, "Zm9vYg==", 8);
    assert_int_equal(text_base64_decode("Zm9", 3, out, sizeof out), 0);
}

/* ------------------------------------------------------------------ */
/* -Y: memcached's ASCII authentication (proto_auth.c)                 */
/* ------------------------------------------------------------------ */

static void test_auth_file_parse(void **state)
{
    (void)state;
    srv_auth a;
    assert_int_equal(srv_auth_parse(&a, strdup("alice:secret\nbob:pw:with:colons\r\ncarol:\n")),
                     SRV_AUTH_OK);
    assert_int_equal(a.count, 3);
    assert_true(srv_auth_check(&a, "alice", 5, "secret", 6));
    assert_true(srv_auth_check(&a, "bob", 3, "pw:with:colons", 14)); /* \r dropped */
    assert_true(srv_auth_check(&a, "carol", 5, "", 0));
    assert_false(srv_auth_check(&a, "alice", 5, "secreT", 6));
    assert_false(srv_auth_check(&a, "alice", 5, "secre", 5));
    assert_false(srv_auth_check(&a, "alic", 4, "secret", 6));
    srv_auth_free(&a);
    /* no newline at the end; an empty file authenticates nobody */
    assert_int_equal(srv_auth_parse(&a, strdup("u:p")), SRV_AUTH_OK);
    assert_true(srv_auth_check(&a, "u", 1, "p", 1));
    srv_auth_free(&a);
    assert_int_equal(srv_auth_parse(&a, strdup("")), SRV_AUTH_OK);
    assert_int_equal(a.count, 0);
    srv_auth_free(&a);
    /* a line without ':' (an empty line too) is malformed */
    assert_int_equal(srv_auth_parse(&a, strdup("alice:x\nnocolon\n")), SRV_AUTH_MALFORMED);
    assert_int_equal(srv_auth_parse(&a, strdup("alice:x\n\nbob:y\n")), SRV_AUTH_MALFORMED);
    /* memcached keeps 8 entries and ignores the rest (even malformed ones) */
    assert_int_equal(srv_auth_parse(&a, strdup("a:1\nb:2\nc:3\nd:4\ne:5\nf:6\ng:7\nh:8\ni:9\nbad\n")),
                     SRV_AUTH_OK);
    assert_int_equal(a.count, 8);
    assert_true(srv_auth_check(&a, "h", 1, "8", 1));
    assert_false(srv_auth_check(&a, "i", 1, "9", 1));
    srv_auth_free(&a);
    /* the loader */
    char path[] = "/tmp/shmc-authfile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "user:pass\n", 10), 10);
    close(fd);
    assert_int_equal(srv_auth_load(&a, path), SRV_AUTH_OK);
    assert_true(srv_auth_check(&a, "user", 4, "pass", 4));
    srv_auth_free(&a);
    unlink(path);
    assert_int_equal(srv_auth_load(&a, path), SRV_AUTH_OPENFAIL);
}

static void test_auth_exchange(void **state)
{
    pt *t = *state;
    srv_auth a;
    assert_int_equal(srv_auth_parse(&a, strdup("alice:secret\n")), SRV_AUTH_OK);
    srv_settings set = g_set;
    set.auth = &a;
    t->s.settings = &set;
    /* every command but the auth set is refused, line by line */
    req(t, "get foo\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "version\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "mg foo v\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "set foo 0 0\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "set foo 0 0 x\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "add foo 0 0 12\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "\r\n", "CLIENT_ERROR unauthenticated\r\n");
    /* the data block's checks */
    req(t, "set k 0 0 4\r\nabcdXY", "CLIENT_ERROR bad command line termination\r\n");
    req(t, "set k 0 0 5\r\nalice\r\n", "CLIENT_ERROR bad authentication token format\r\n");
    req(t, "set k 0 0 11\r\nalice wrong\r\n", "CLIENT_ERROR authentication failure\r\n");
    req(t, "set k 0 0 12\r\nbob secretxx\r\n", "CLIENT_ERROR authentication failure\r\n");
    assert_int_equal(t->s.authenticated, 0);
    /* incomplete: nothing consumed until the whole request is there */
    assert_int_equal(feed(t, "set k 0 0 12\r\nalice se", 22), 0);
    assert_int_equal(t->out.len, 0);
    /* success (key, flags, exptime and noreply ignored), then normal service,
     * pipelined and byte by byte */
    req_split(t, "set anykey 99 999 12 noreply\r\nalice secret\r\nset foo 0 0 3\r\nbar\r\nget foo\r\n",
              "STORED\r\nSTORED\r\nVALUE foo 0 3\r\nbar\r\nEND\r\n");
    assert_int_equal(t->s.authenticated, 1);
    req(t, "version\r\n", "VERSION 1.6.99-test\r\n");
    /* a new connection starts unauthenticated; a junk line over 2048 bytes closes */
    t->s.authenticated = 0;
    char junk[3000];
    memset(junk, 'x', sizeof junk);
    feed(t, junk, sizeof junk);
    assert_int_equal(t->action, SRV_CLOSE);
    t->s.settings = &g_set;
    srv_auth_free(&a);
}

/* ------------------------------------------------------------------ */
/* -S: SASL exists in the binary protocol only                         */
/* ------------------------------------------------------------------ */

/* -S without -Y: the daemon negotiates binary only (settings_check_auth);
 * should a text request reach the protocol anyway, nothing is served: the
 * connection closes unanswered.  With -Y as well, -Y's exchange applies. */
static void test_sasl_serves_no_text(void **state)
{
    pt *t = *state;
    static const srv_sasl_ops sasl_on; /* only its presence matters here */
    srv_settings set = g_set;
    set.sasl = &sasl_on;
    t->s.settings = &set;
    static const char *const reqs[] = {
        "set foo 0 0 3\r\nbar\r\n", "get foo\r\n", "ms foo 3\r\nbar\r\n", "mg foo v\r\n",
        "md foo\r\n", "ma foo\r\n", "version\r\n", "stats\r\n", "flush_all\r\n",
        "set foo 0 0 3\r\n", "ge",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        size_t n = strlen(reqs[i]);
        assert_int_equal(feed(t, reqs[i], n), n);
        assert_int_equal(t->action, SRV_CLOSE);
        assert_reply(t, "");
    }
    t->s.settings = &g_set; /* nothing was stored */
    req(t, "get foo\r\n", "END\r\n");
    /* -S -Y: memcached serves text behind -Y's authentication */
    srv_auth a;
    assert_int_equal(srv_auth_parse(&a, strdup("alice:secret\n")), SRV_AUTH_OK);
    set.auth = &a;
    t->s.settings = &set;
    req(t, "get foo\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "mg foo v\r\n", "CLIENT_ERROR unauthenticated\r\n");
    req(t, "set k 0 0 12\r\nalice secret\r\nset foo 0 0 3\r\nbar\r\nget foo\r\n",
        "STORED\r\nSTORED\r\nVALUE foo 0 3\r\nbar\r\nEND\r\n");
    t->s.settings = &g_set;
    srv_auth_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_storage_basic, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_cachedump, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_command, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_metadump, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_stats_detail, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_get_multi, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_get_batches, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_gets_cas, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_storage_errors, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_too_large, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_noreply, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_delete, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_incr_decr, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_touch_gat, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_flush_all, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_misc_commands, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_stats, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_cache_memlimit, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_binary_values, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_retired, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_split_and_pipeline, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_line_limits, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_meta_get_set, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_meta_errors, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_meta_delete, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_meta_arith, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_meta_vivify_base64_debug, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_big_get_counts_once, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_http_closes, pt_setup, pt_teardown),
        cmocka_unit_test(test_parser_direct),
        cmocka_unit_test(test_auth_file_parse),
        cmocka_unit_test_setup_teardown(test_auth_exchange, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_sasl_serves_no_text, pt_setup, pt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
