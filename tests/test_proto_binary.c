/*
 * test_proto_binary.c - memcached's binary protocol of the server
 * (server/proto_binary.c): exact reply packets for every opcode and error
 * path, quiet opcodes, CAS, requests split at every byte, pipelining, and
 * SASL PLAIN through libsasl2 (server/sasl.c) with a password file,
 * nothing served under -Y, and the stale error of a segment destroyed
 * under the server (the busy one: tests/test_server.sh).
 */
#include "testutil.h"

#include "protocol.h"
#include "proto_binary_parse.h"
#include "sasl.h"

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
    srv_settings set;
} pt;

static int pt_setup(void **state)
{
    pt *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->f = tu_fix_new("pbin", NULL);
    if (!t->f) {
        free(t);
        return -1;
    }
    t->set = g_set;
    t->s.cache = t->f->c;
    t->s.settings = &t->set;
    *state = t;
    return 0;
}

static int pt_teardown(void **state)
{
    pt *t = *state;
    if (t->s.sasl_conn && t->set.sasl)
        t->set.sasl->conn_free(t->set.sasl->ctx, t->s.sasl_conn);
    int rc = tu_fix_free(t->f);
    srv_buf_free(&t->out);
    free(t);
    return rc;
}

/* ---- building requests and expected replies ---- */

#define OPQ 0xa1b2c3d4u

static void be16(srv_buf *b, uint16_t v)
{
    unsigned char p[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    srv_buf_add(b, p, 2);
}

static void be32(srv_buf *b, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    srv_buf_add(b, p, 4);
}

static void be64(srv_buf *b, uint64_t v)
{
    be32(b, (uint32_t)(v >> 32));
    be32(b, (uint32_t)v);
}

/* A request: header, then extras, key, value. */
static void rq(srv_buf *b, uint8_t op, const char *key, const void *ext, uint8_t el,
               const void *val, uint32_t vl, uint64_t cas)
{
    uint16_t kl = key ? (uint16_t)strlen(key) : 0;
    unsigned char m[2] = {BIN_REQ_MAGIC, op};
    srv_buf_add(b, m, 2);
    be16(b, kl);
    unsigned char e[4] = {el, 0, 0, 0};
    srv_buf_add(b, e, 4);
    be32(b, (uint32_t)el + kl + vl);
    be32(b, OPQ);
    be64(b, cas);
    srv_buf_add(b, ext, el);
    srv_buf_add(b, key, kl);
    srv_buf_add(b, val, vl);
}

/* A response header. */
static void rs(srv_buf *b, uint8_t op, uint16_t status, uint8_t el, uint16_t kl, uint32_t bl,
               uint64_t cas)
{
    unsigned char m[2] = {BIN_RES_MAGIC, op};
    srv_buf_add(b, m, 2);
    be16(b, kl);
    unsigned char e[2] = {el, 0};
    srv_buf_add(b, e, 2);
    be16(b, status);
    be32(b, bl);
    be32(b, OPQ);
    be64(b, cas);
}

/* A response with a body of string s (an error's message, a version). */
static void rs_str(srv_buf *b, uint8_t op, uint16_t status, const char *s)
{
    rs(b, op, status, 0, 0, (uint32_t)strlen(s), 0);
    srv_buf_add(b, s, strlen(s));
}

static void rs_err(srv_buf *b, uint8_t op, uint16_t status)
{
    rs_str(b, op, status, bin_status_string(status));
}

/* set/add/replace extras */
static void ext_set(unsigned char e[8], uint32_t flags, uint32_t exp)
{
    for (int i = 0; i < 4; i++) {
        e[i] = (unsigned char)(flags >> (24 - 8 * i));
        e[4 + i] = (unsigned char)(exp >> (24 - 8 * i));
    }
}

static void ext_arith(unsigned char e[20], uint64_t delta, uint64_t initial, uint32_t exp)
{
    for (int i = 0; i < 8; i++) {
        e[i] = (unsigned char)(delta >> (56 - 8 * i));
        e[8 + i] = (unsigned char)(initial >> (56 - 8 * i));
    }
    for (int i = 0; i < 4; i++)
        e[16 + i] = (unsigned char)(exp >> (24 - 8 * i));
}

static void ext_exp(unsigned char e[4], uint32_t exp)
{
    for (int i = 0; i < 4; i++)
        e[i] = (unsigned char)(exp >> (24 - 8 * i));
}

static void hexdump(const char *what, const void *p, size_t n)
{
    fprintf(stderr, "%s (%zu):", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 24 == 0 ? "\n  " : " ", ((const unsigned char *)p)[i]);
    fprintf(stderr, "\n");
}

static void assert_bytes(const srv_buf *got, const srv_buf *exp)
{
    if (got->len != exp->len || (exp->len && memcmp(got->data, exp->data, exp->len) != 0)) {
        hexdump("got", got->data, got->len);
        hexdump("expected", exp->data, exp->len);
        fail_msg("reply differs");
    }
}

/* Feed in[0..n) like a connection reading chunk bytes at a time; every
 * byte must be consumed unless the protocol asked to close. */
static void feed_chunked(pt *t, const void *in, size_t n, size_t chunk)
{
    char *buf = malloc(n + 1);
    size_t have = 0, given = 0;
    t->out.len = 0;
    t->action = SRV_CONTINUE;
    while (given < n || have > 0) {
        size_t k = n - given < chunk ? n - given : chunk;
        memcpy(buf + have, (const char *)in + given, k);
        have += k;
        given += k;
        size_t used = proto_binary_process(&t->s, buf, have, &t->out, &t->action);
        assert_true(used <= have);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (t->action != SRV_CONTINUE)
            break;
        if (k == 0 && used == 0)
            break;
    }
    free(buf);
    if (t->action == SRV_CONTINUE)
        assert_int_equal(have, 0);
}

/* Run req as one chunk and byte by byte (on a fresh copy of the cache
 * state: the caller makes req idempotent or passes split=false). */
static void run(pt *t, const srv_buf *req, const srv_buf *exp)
{
    feed_chunked(t, req->data, req->len, req->len ? req->len : 1);
    assert_bytes(&t->out, exp);
}

static void run_split(pt *t, const srv_buf *req, const srv_buf *exp)
{
    feed_chunked(t, req->data, req->len, 1);
    assert_bytes(&t->out, exp);
}

static uint64_t cas_of(pt *t, const char *key)
{
    uint64_t cas = 0;
    char buf[64];
    size_t len = sizeof buf;
    shmc_status st = shmc_get(t->s.cache, key, strlen(key), buf, &len, NULL, &cas);
    return st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL ? cas : 0;
}

#define BUFS srv_buf q = {0}, e = {0}
#define RESET() do { q.len = 0; e.len = 0; } while (0)
#define DONE() do { srv_buf_free(&q); srv_buf_free(&e); } while (0)

/* ------------------------------------------------------------------ */

static void test_set_get(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[8];
    ext_set(ex, 0xdeadbeef, 0);
    rq(&q, BIN_SET, "k1", ex, 8, "hello", 5, 0);
    feed_chunked(t, q.data, q.len, q.len);
    uint64_t cas = cas_of(t, "k1");
    assert_true(cas != 0);
    rs(&e, BIN_SET, 0, 0, 0, 0, cas);
    assert_bytes(&t->out, &e);

    unsigned char fl[4] = {0xde, 0xad, 0xbe, 0xef};
    /* Get: flags, value */
    RESET();
    rq(&q, BIN_GET, "k1", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_GET, 0, 4, 0, 9, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "hello", 5);
    run(t, &q, &e);
    run_split(t, &q, &e);
    /* GetK: flags, key, value */
    RESET();
    rq(&q, BIN_GETK, "k1", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_GETK, 0, 4, 2, 11, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "k1hello", 7);
    run(t, &q, &e);
    /* GetQ / GetKQ hits are sent */
    RESET();
    rq(&q, BIN_GETQ, "k1", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_GETKQ, "k1", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_GETQ, 0, 4, 0, 9, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "hello", 5);
    rs(&e, BIN_GETKQ, 0, 4, 2, 11, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "k1hello", 7);
    run(t, &q, &e);
    /* misses: Get "Not found", GetK the key, GetQ/GetKQ nothing */
    RESET();
    rq(&q, BIN_GET, "nokey", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_GETK, "nokey", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_GETQ, "nokey", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_GETKQ, "nokey", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_GET, BIN_ST_KEY_ENOENT);
    rs(&e, BIN_GETK, BIN_ST_KEY_ENOENT, 0, 5, 5, 0);
    srv_buf_add(&e, "nokey", 5);
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    run(t, &q, &e);
    run_split(t, &q, &e);
    /* an empty value, binary bytes */
    RESET();
    ext_set(ex, 0, 0);
    rq(&q, BIN_SET, "empty", ex, 8, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, 1);
    RESET();
    rq(&q, BIN_GET, "empty", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_GET, 0, 4, 0, 4, cas_of(t, "empty"));
    srv_buf_add(&e, "\0\0\0\0", 4);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_SET, "bin", ex, 8, "\r\n\0\x80", 4, 0);
    feed_chunked(t, q.data, q.len, 3);
    RESET();
    rq(&q, BIN_GET, "bin", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_GET, 0, 4, 0, 8, cas_of(t, "bin"));
    srv_buf_add(&e, "\0\0\0\0\r\n\0\x80", 8);
    run(t, &q, &e);
    DONE();
}

static void test_add_replace_cas(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[8];
    ext_set(ex, 7, 0);
    /* add: new, then exists */
    rq(&q, BIN_ADD, "a", ex, 8, "1", 1, 0);
    feed_chunked(t, q.data, q.len, q.len);
    uint64_t cas = cas_of(t, "a");
    rs(&e, BIN_ADD, 0, 0, 0, 0, cas);
    assert_bytes(&t->out, &e);
    RESET();
    rq(&q, BIN_ADD, "a", ex, 8, "2", 1, 0);
    rq(&q, BIN_ADDQ, "a", ex, 8, "2", 1, 0);
    rs_err(&e, BIN_ADD, BIN_ST_KEY_EEXISTS);
    rs_err(&e, BIN_ADDQ, BIN_ST_KEY_EEXISTS);
    run(t, &q, &e);
    /* replace: missing, then present */
    RESET();
    rq(&q, BIN_REPLACE, "nope", ex, 8, "x", 1, 0);
    rq(&q, BIN_REPLACEQ, "nope", ex, 8, "x", 1, 0);
    rs_err(&e, BIN_REPLACE, BIN_ST_KEY_ENOENT);
    rs_err(&e, BIN_REPLACEQ, BIN_ST_KEY_ENOENT);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_REPLACEQ, "a", ex, 8, "3", 1, 0);
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    run(t, &q, &e);
    /* set with a CAS: wrong -> exists, missing -> not found, right -> stored */
    cas = cas_of(t, "a");
    RESET();
    rq(&q, BIN_SET, "a", ex, 8, "4", 1, cas + 1000);
    rq(&q, BIN_SET, "missing", ex, 8, "4", 1, 12345);
    rs_err(&e, BIN_SET, BIN_ST_KEY_EEXISTS);
    rs_err(&e, BIN_SET, BIN_ST_KEY_ENOENT);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_SET, "a", ex, 8, "5", 1, cas);
    feed_chunked(t, q.data, q.len, q.len);
    uint64_t cas2 = cas_of(t, "a");
    assert_true(cas2 != cas);
    rs(&e, BIN_SET, 0, 0, 0, 0, cas2);
    assert_bytes(&t->out, &e);
    /* SetQ: silent; its error is not */
    RESET();
    rq(&q, BIN_SETQ, "a", ex, 8, "6", 1, 0);
    rq(&q, BIN_SETQ, "a", ex, 8, "7", 1, 1);
    rs_err(&e, BIN_SETQ, BIN_ST_KEY_EEXISTS);
    run(t, &q, &e);
    DONE();
}

static void test_append_prepend(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[8];
    ext_set(ex, 3, 0);
    rq(&q, BIN_APPEND, "ap", NULL, 0, "x", 1, 0);
    rq(&q, BIN_PREPENDQ, "ap", NULL, 0, "x", 1, 0);
    rs_err(&e, BIN_APPEND, BIN_ST_NOT_STORED);
    rs_err(&e, BIN_PREPENDQ, BIN_ST_NOT_STORED);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_SET, "ap", ex, 8, "mid", 3, 0);
    rq(&q, BIN_APPENDQ, "ap", NULL, 0, "_end", 4, 0);
    rq(&q, BIN_PREPENDQ, "ap", NULL, 0, "start_", 6, 0);
    feed_chunked(t, q.data, q.len, 5);
    uint64_t cas = cas_of(t, "ap");
    RESET();
    rq(&q, BIN_APPEND, "ap", NULL, 0, "!", 1, cas + 1);
    rs_err(&e, BIN_APPEND, BIN_ST_KEY_EEXISTS);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_APPEND, "ap", NULL, 0, "!", 1, cas);
    feed_chunked(t, q.data, q.len, q.len);
    rs(&e, BIN_APPEND, 0, 0, 0, 0, cas_of(t, "ap"));
    assert_bytes(&t->out, &e);
    RESET();
    rq(&q, BIN_GET, "ap", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_GET, 0, 4, 0, 4 + 14, cas_of(t, "ap"));
    srv_buf_add(&e, "\0\0\0\3start_mid_end!", 18);
    run(t, &q, &e);
    DONE();
}

static void test_delete(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[8];
    ext_set(ex, 0, 0);
    rq(&q, BIN_SET, "d", ex, 8, "v", 1, 0);
    feed_chunked(t, q.data, q.len, q.len);
    uint64_t cas = cas_of(t, "d");
    RESET();
    rq(&q, BIN_DELETE, "d", NULL, 0, NULL, 0, cas + 1);
    rq(&q, BIN_DELETE, "d", NULL, 0, NULL, 0, cas);
    rq(&q, BIN_DELETE, "d", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_DELETEQ, "d", NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_DELETE, BIN_ST_KEY_EEXISTS);
    rs(&e, BIN_DELETE, 0, 0, 0, 0, 0);
    rs_err(&e, BIN_DELETE, BIN_ST_KEY_ENOENT);
    rs_err(&e, BIN_DELETEQ, BIN_ST_KEY_ENOENT);
    feed_chunked(t, q.data, q.len, 1);
    assert_bytes(&t->out, &e);
    /* DeleteQ of a present key: silent */
    RESET();
    rq(&q, BIN_SET, "d", ex, 8, "v", 1, 0);
    feed_chunked(t, q.data, q.len, q.len);
    RESET();
    rq(&q, BIN_DELETEQ, "d", NULL, 0, NULL, 0, 0);
    run(t, &q, &e);
    assert_int_equal(t->out.len, 0);
    DONE();
}

static void arith_reply(srv_buf *e, uint8_t op, uint64_t v, uint64_t cas)
{
    rs(e, op, 0, 0, 0, 8, cas);
    be64(e, v);
}

static void test_incr_decr(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ax[20];
    /* missing, 0xffffffff: not found */
    ext_arith(ax, 1, 5, 0xffffffffu);
    rq(&q, BIN_INCREMENT, "n", ax, 20, NULL, 0, 0);
    rq(&q, BIN_DECREMENTQ, "n", ax, 20, NULL, 0, 0);
    rs_err(&e, BIN_INCREMENT, BIN_ST_KEY_ENOENT);
    rs_err(&e, BIN_DECREMENTQ, BIN_ST_KEY_ENOENT);
    run(t, &q, &e);
    /* missing with an expiration: created with the initial value */
    RESET();
    ext_arith(ax, 1, 5, 0);
    rq(&q, BIN_INCREMENT, "n", ax, 20, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    arith_reply(&e, BIN_INCREMENT, 5, cas_of(t, "n"));
    assert_bytes(&t->out, &e);
    /* then incremented */
    RESET();
    ext_arith(ax, 10, 0, 0);
    rq(&q, BIN_INCREMENT, "n", ax, 20, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, 1);
    arith_reply(&e, BIN_INCREMENT, 15, cas_of(t, "n"));
    assert_bytes(&t->out, &e);
    /* decr stops at 0 */
    RESET();
    ext_arith(ax, 100, 0, 0);
    rq(&q, BIN_DECREMENT, "n", ax, 20, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    arith_reply(&e, BIN_DECREMENT, 0, cas_of(t, "n"));
    assert_bytes(&t->out, &e);
    /* incr wraps at 2^64 */
    RESET();
    ext_arith(ax, UINT64_MAX, 0, 0);
    rq(&q, BIN_INCREMENT, "n", ax, 20, NULL, 0, 0);
    rq(&q, BIN_INCREMENT, "n", ax, 20, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    uint64_t cas = cas_of(t, "n");
    /* (the first reply's CAS is not known here: compare the second) */
    assert_int_equal(t->out.len, 2 * 32);
    e.len = 0;
    arith_reply(&e, BIN_INCREMENT, UINT64_MAX - 1, cas);
    assert_memory_equal(t->out.data + 32, e.data, 32);
    /* with a CAS: wrong -> exists; right -> applied */
    RESET();
    ext_arith(ax, 1, 0, 0);
    rq(&q, BIN_INCREMENT, "n", ax, 20, NULL, 0, cas + 7);
    rs_err(&e, BIN_INCREMENT, BIN_ST_KEY_EEXISTS);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_INCREMENT, "n", ax, 20, NULL, 0, cas);
    feed_chunked(t, q.data, q.len, q.len);
    arith_reply(&e, BIN_INCREMENT, UINT64_MAX, cas_of(t, "n"));
    assert_bytes(&t->out, &e);
    /* quiet: nothing on success */
    RESET();
    rq(&q, BIN_INCREMENTQ, "n", ax, 20, NULL, 0, 0);
    rq(&q, BIN_DECREMENTQ, "n", ax, 20, NULL, 0, 0);
    run(t, &q, &e);
    assert_int_equal(t->out.len, 0);
    /* non-numeric */
    RESET();
    unsigned char ex[8];
    ext_set(ex, 0, 0);
    rq(&q, BIN_SET, "s", ex, 8, "abc", 3, 0);
    feed_chunked(t, q.data, q.len, q.len);
    RESET();
    rq(&q, BIN_INCREMENT, "s", ax, 20, NULL, 0, 0);
    rq(&q, BIN_DECREMENTQ, "s", ax, 20, NULL, 0, 0);
    rs_err(&e, BIN_INCREMENT, BIN_ST_DELTA_BADVAL);
    rs_err(&e, BIN_DECREMENTQ, BIN_ST_DELTA_BADVAL);
    run(t, &q, &e);
    DONE();
}

/* Values on both sides of the first read's guess (2 KiB) and far past
 * it, by Get, GetK and GAT: read straight into the reply, a larger one
 * read again at its size, each counted as one hit. */
static void test_get_sizes(void **state)
{
    pt *t = *state;
    BUFS;
    static const uint32_t sizes[] = {0, 1, 2047, 2048, 2049, 70000};
    unsigned char ex[8], tx[4];
    ext_set(ex, 7, 0);
    ext_exp(tx, 100);
    unsigned char fl[4] = {0, 0, 0, 7};
    char *v = malloc(70000);
    assert_non_null(v);
    for (size_t i = 0; i < 70000; i++)
        v[i] = (char)('a' + i % 23);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t n = sizes[i];
        RESET();
        rq(&q, BIN_SET, "sz", ex, 8, v, n, 0);
        feed_chunked(t, q.data, q.len, q.len);
        uint64_t cas = cas_of(t, "sz");
        shmc_stats before;
        assert_int_equal(shmc_stats_get(t->s.cache, &before), SHMC_OK);
        RESET();
        rq(&q, BIN_GET, "sz", NULL, 0, NULL, 0, 0);
        rq(&q, BIN_GETK, "sz", NULL, 0, NULL, 0, 0);
        rq(&q, BIN_GAT, "sz", tx, 4, NULL, 0, 0);
        rs(&e, BIN_GET, 0, 4, 0, 4 + n, cas);
        srv_buf_add(&e, fl, 4);
        srv_buf_add(&e, v, n);
        rs(&e, BIN_GETK, 0, 4, 2, 6 + n, cas);
        srv_buf_add(&e, fl, 4);
        srv_buf_add(&e, "sz", 2);
        srv_buf_add(&e, v, n);
        rs(&e, BIN_GAT, 0, 4, 0, 4 + n, cas);
        srv_buf_add(&e, fl, 4);
        srv_buf_add(&e, v, n);
        run(t, &q, &e);
        shmc_stats after;
        assert_int_equal(shmc_stats_get(t->s.cache, &after), SHMC_OK);
        assert_u64_eq(after.get_hits - before.get_hits, 2);
        assert_u64_eq(after.touch_hits - before.touch_hits, 1);
    }
    free(v);
    DONE();
}

/* The keys b0..b39 of test_get_batches: values of these sizes, flags i. */
static const uint32_t batch_sizes[] = {0, 1, 100, 1023, 1024, 1025, 70000};

static void batch_value(char *v, int i, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        v[j] = (char)('a' + (i + j) % 26);
}

/* 45 gets of b0..b44 (b40..b44 missing), GetKQ/GetQ/GetK/Get in turn, a
 * SetQ of b0 before the 21st and a Noop, into q; the replies request by
 * request into e; the hits and misses they count. */
static void batch_requests(pt *t, srv_buf *q, srv_buf *e, char *v, unsigned *hits,
                           unsigned *misses)
{
    static const uint8_t ops[] = {BIN_GETKQ, BIN_GETQ, BIN_GETK, BIN_GET};
    unsigned char ex[8], fl[4];
    *hits = *misses = 0;
    for (int i = 0; i < 45; i++) {
        char key[16];
        snprintf(key, sizeof key, "b%d", i);
        uint8_t op = ops[i % 4];
        bool quiet = op == BIN_GETKQ || op == BIN_GETQ;
        bool with_key = op == BIN_GETKQ || op == BIN_GETK;
        uint16_t kl = (uint16_t)strlen(key);
        if (i == 20) { /* a store ends a batch; b0 was read before it */
            ext_set(ex, 7, 0);
            rq(q, BIN_SETQ, "b0", ex, 8, "new", 3, 0);
        }
        rq(q, op, key, NULL, 0, NULL, 0, 0);
        if (i >= 40) {
            ++*misses;
            if (!quiet && with_key) {
                rs(e, op, BIN_ST_KEY_ENOENT, 0, kl, kl, 0);
                srv_buf_add(e, key, kl);
            } else if (!quiet) {
                rs_err(e, op, BIN_ST_KEY_ENOENT);
            }
            continue;
        }
        ++*hits;
        uint32_t n = batch_sizes[i % 7];
        batch_value(v, i, n);
        for (int b = 0; b < 4; b++)
            fl[b] = (unsigned char)((uint32_t)i >> (24 - 8 * b));
        rs(e, op, 0, 4, with_key ? kl : 0, 4 + (with_key ? kl : 0) + n, cas_of(t, key));
        srv_buf_add(e, fl, 4);
        if (with_key)
            srv_buf_add(e, key, kl);
        srv_buf_add(e, v, n);
    }
    rq(q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs(e, BIN_NOOP, 0, 0, 0, 0, 0);
}

/* Store b<i> as batch_requests expects it. */
static void batch_store(pt *t, char *v, int i)
{
    char key[16];
    unsigned char ex[8];
    snprintf(key, sizeof key, "b%d", i);
    batch_value(v, i, batch_sizes[i % 7]);
    ext_set(ex, (uint32_t)i, 0);
    srv_buf q = {0};
    rq(&q, BIN_SETQ, key, ex, 8, v, batch_sizes[i % 7], 0);
    feed_chunked(t, q.data, q.len, q.len);
    assert_int_equal(t->out.len, 0);
    srv_buf_free(&q);
}

/* Runs of Get/GetK/GetQ/GetKQ are read in batches (exec_get_batch): 45
 * gets over 40 keys of 0 to 70000 bytes and 5 misses, a Set in the middle
 * (which ends a batch), a Noop.  The replies are byte for byte those of
 * the requests fed one byte at a time (nothing batched), each get counted
 * once. */
static void test_get_batches(void **state)
{
    pt *t = *state;
    BUFS;
    char *v = malloc(70000);
    assert_non_null(v);
    for (int i = 0; i < 40; i++)
        batch_store(t, v, i);
    for (int split = 0; split < 2; split++) {
        RESET();
        unsigned hits, misses;
        batch_requests(t, &q, &e, v, &hits, &misses);
        shmc_stats before, after;
        assert_int_equal(shmc_stats_get(t->s.cache, &before), SHMC_OK);
        feed_chunked(t, q.data, q.len, split ? 1 : q.len);
        assert_int_equal(shmc_stats_get(t->s.cache, &after), SHMC_OK);
        assert_bytes(&t->out, &e);
        assert_u64_eq(after.get_hits - before.get_hits, hits);
        assert_u64_eq(after.get_misses - before.get_misses, misses);
        batch_store(t, v, 0); /* b0 as it was before the SetQ */
    }
    DONE();
    free(v);
}

static void test_touch_gat(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[8], tx[4];
    ext_set(ex, 0x01020304, 0);
    ext_exp(tx, 100);
    unsigned char fl[4] = {1, 2, 3, 4};
    rq(&q, BIN_SET, "t", ex, 8, "val", 3, 0);
    feed_chunked(t, q.data, q.len, q.len);
    uint64_t cas = cas_of(t, "t");
    /* Touch: flags only; GAT: flags + value; GATK: flags + key + value */
    RESET();
    rq(&q, BIN_TOUCH, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GAT, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GATK, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GATQ, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GATKQ, "t", tx, 4, NULL, 0, 0);
    rs(&e, BIN_TOUCH, 0, 4, 0, 4, cas);
    srv_buf_add(&e, fl, 4);
    rs(&e, BIN_GAT, 0, 4, 0, 7, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "val", 3);
    rs(&e, BIN_GATK, 0, 4, 1, 8, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "tval", 4);
    rs(&e, BIN_GATQ, 0, 4, 0, 7, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "val", 3);
    rs(&e, BIN_GATKQ, 0, 4, 1, 8, cas);
    srv_buf_add(&e, fl, 4);
    srv_buf_add(&e, "tval", 4);
    run(t, &q, &e);
    run_split(t, &q, &e);
    /* the touch took: after 101 s the item is gone */
    shmc_clock_advance(t->s.cache, 101);
    RESET();
    rq(&q, BIN_TOUCH, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GAT, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GATK, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GATQ, "t", tx, 4, NULL, 0, 0);
    rq(&q, BIN_GATKQ, "t", tx, 4, NULL, 0, 0);
    rs_err(&e, BIN_TOUCH, BIN_ST_KEY_ENOENT);
    rs_err(&e, BIN_GAT, BIN_ST_KEY_ENOENT);
    rs(&e, BIN_GATK, BIN_ST_KEY_ENOENT, 0, 1, 1, 0);
    srv_buf_add(&e, "t", 1);
    run(t, &q, &e);
    DONE();
}

static void test_misc(void **state)
{
    pt *t = *state;
    BUFS;
    /* Noop, Version, Verbosity (Unknown command, as memcached 1.6.18) */
    unsigned char vx[4] = {0, 0, 0, 1};
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rq(&q, BIN_VERSION, NULL, NULL, 0, NULL, 0, 0);
    rq(&q, BIN_VERBOSITY, NULL, vx, 4, NULL, 0, 0);
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    rs_str(&e, BIN_VERSION, 0, "1.6.99-test");
    rs_err(&e, BIN_VERBOSITY, BIN_ST_UNKNOWN_COMMAND);
    run(t, &q, &e);
    run_split(t, &q, &e);
    /* Flush, FlushQ, Flush with a delay */
    unsigned char ex[8], fx[4];
    ext_set(ex, 0, 0);
    RESET();
    rq(&q, BIN_SET, "f", ex, 8, "v", 1, 0);
    rq(&q, BIN_FLUSH, NULL, NULL, 0, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    assert_int_equal(cas_of(t, "f"), 0);
    RESET();
    rq(&q, BIN_FLUSHQ, NULL, NULL, 0, NULL, 0, 0);
    ext_exp(fx, 10);
    rq(&q, BIN_FLUSH, NULL, fx, 4, NULL, 0, 0);
    rs(&e, BIN_FLUSH, 0, 0, 0, 0, 0);
    run(t, &q, &e);
    /* disabled (-F): memcached answers Auth failure */
    t->set.flush_enabled = 0;
    RESET();
    rq(&q, BIN_FLUSH, NULL, NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_FLUSH, BIN_ST_AUTH_ERROR);
    run(t, &q, &e);
    t->set.flush_enabled = 1;
    /* Quit: a reply, then close; QuitQ: close silently */
    RESET();
    rq(&q, BIN_QUIT, NULL, NULL, 0, NULL, 0, 0);
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs(&e, BIN_QUIT, 0, 0, 0, 0, 0);
    t->out.len = 0;
    assert_int_equal(proto_binary_process(&t->s, q.data, q.len, &t->out, &t->action), 24);
    assert_int_equal(t->action, SRV_CLOSE);
    assert_bytes(&t->out, &e);
    RESET();
    t->out.len = 0;
    rq(&q, BIN_QUITQ, NULL, NULL, 0, NULL, 0, 0);
    assert_int_equal(proto_binary_process(&t->s, q.data, q.len, &t->out, &t->action), 24);
    assert_int_equal(t->action, SRV_CLOSE);
    assert_int_equal(t->out.len, 0);
    DONE();
}

/* Walk stat packets: count them, check the terminator, find name. */
static int stat_scan(const srv_buf *b, const char *name, char *val, size_t vcap)
{
    size_t off = 0;
    int n = 0;
    bool term = false;
    while (off + 24 <= b->len) {
        const unsigned char *h = (const unsigned char *)b->data + off;
        assert_int_equal(h[0], BIN_RES_MAGIC);
        assert_int_equal(h[1], BIN_STAT);
        assert_int_equal(h[6] << 8 | h[7], 0);
        uint16_t kl = (uint16_t)(h[2] << 8 | h[3]);
        uint32_t bl = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
        assert_true(off + 24 + bl <= b->len);
        if (kl == 0 && bl == 0) {
            term = true;
            off += 24;
            break;
        }
        if (name && kl == strlen(name) && memcmp(h + 24, name, kl) == 0) {
            size_t vl = bl - kl < vcap - 1 ? bl - kl : vcap - 1;
            memcpy(val, h + 24 + kl, vl);
            val[vl] = '\0';
        }
        n++;
        off += 24 + bl;
    }
    assert_true(term);
    assert_int_equal(off, b->len);
    return n;
}

static void test_stat(void **state)
{
    pt *t = *state;
    BUFS;
    char val[64] = "";
    rq(&q, BIN_STAT, NULL, NULL, 0, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, 1);
    assert_true(stat_scan(&t->out, "cmd_get", val, sizeof val) > 20);
    assert_string_equal(val, "0");
    RESET();
    rq(&q, BIN_STAT, "settings", NULL, 0, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    assert_true(stat_scan(&t->out, "item_size_max", val, sizeof val) > 5);
    assert_string_equal(val, "1048576");
    RESET();
    rq(&q, BIN_STAT, "items", NULL, 0, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    stat_scan(&t->out, NULL, NULL, 0);
    RESET();
    rq(&q, BIN_STAT, "slabs", NULL, 0, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    assert_true(stat_scan(&t->out, "active_slabs", val, sizeof val) >= 2);
    RESET();
    rq(&q, BIN_STAT, "sizes", NULL, 0, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, q.len);
    assert_int_equal(stat_scan(&t->out, "sizes_status", val, sizeof val), 1);
    assert_string_equal(val, "disabled");
    /* reset: only the terminator; unknown: Not found */
    RESET();
    rq(&q, BIN_STAT, "reset", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_STAT, 0, 0, 0, 0, 0);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_STAT, "bogus", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_STAT, "a\r\nb", NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_STAT, BIN_ST_KEY_ENOENT);
    rs_err(&e, BIN_STAT, BIN_ST_KEY_ENOENT);
    run(t, &q, &e);
    DONE();
}

/* Raw header with any lengths. */
static void raw(srv_buf *b, uint8_t magic, uint8_t op, uint16_t kl, uint8_t el, uint32_t bl)
{
    unsigned char m[2] = {magic, op};
    srv_buf_add(b, m, 2);
    be16(b, kl);
    unsigned char x[4] = {el, 0, 0, 0};
    srv_buf_add(b, x, 4);
    be32(b, bl);
    be32(b, OPQ);
    be64(b, 0);
}

static void expect_close(pt *t, const srv_buf *q, const srv_buf *e)
{
    feed_chunked(t, q->data, q->len, 1);
    assert_int_equal(t->action, SRV_CLOSE);
    assert_bytes(&t->out, e);
}

static void test_errors(void **state)
{
    pt *t = *state;
    BUFS;
    /* unknown opcode: Unknown command, body skipped, next request runs */
    raw(&q, 0x80, 0x45, 0, 0, 3);
    srv_buf_add(&q, "abc", 3);
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs_err(&e, 0x45, BIN_ST_UNKNOWN_COMMAND);
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    run(t, &q, &e);
    run_split(t, &q, &e);
    /* key + extras longer than the body: Unknown command, close, once the
     * key's bytes are in (memcached reads them first) */
    RESET();
    raw(&q, 0x80, BIN_GET, 1, 0, 0);
    t->out.len = 0;
    t->action = SRV_CONTINUE;
    assert_int_equal(proto_binary_process(&t->s, q.data, q.len, &t->out, &t->action), 0);
    assert_int_equal(t->out.len, 0);
    assert_int_equal(t->action, SRV_CONTINUE);
    srv_buf_add(&q, "x", 1);
    rs_err(&e, BIN_GET, BIN_ST_UNKNOWN_COMMAND);
    expect_close(t, &q, &e);
    /* wrong lengths for the command: Invalid arguments, close */
    RESET();
    rq(&q, BIN_GET, "k", "abcd", 4, NULL, 0, 0);
    rs_err(&e, BIN_GET, BIN_ST_EINVAL);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_NOOP, NULL, NULL, 0, "x", 1, 0);
    rs_err(&e, BIN_NOOP, BIN_ST_EINVAL);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_SET, "k", "abcd", 4, "v", 1, 0);
    rs_err(&e, BIN_SET, BIN_ST_EINVAL);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_INCREMENT, "k", "abcd", 4, NULL, 0, 0);
    rs_err(&e, BIN_INCREMENT, BIN_ST_EINVAL);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_DELETE, NULL, NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_DELETE, BIN_ST_EINVAL);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_TOUCH, "k", NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_TOUCH, BIN_ST_EINVAL);
    expect_close(t, &q, &e);
    /* a key over 250 bytes */
    RESET();
    char longkey[252];
    memset(longkey, 'k', 251);
    longkey[251] = '\0';
    rq(&q, BIN_GET, longkey, NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_GET, BIN_ST_EINVAL);
    expect_close(t, &q, &e);
    /* bad magic: close, nothing written */
    RESET();
    raw(&q, 0x81, BIN_NOOP, 0, 0, 0);
    t->out.len = 0;
    assert_int_equal(proto_binary_process(&t->s, q.data, q.len, &t->out, &t->action), q.len);
    assert_int_equal(t->action, SRV_CLOSE);
    assert_int_equal(t->out.len, 0);
    /* binary keys may hold any byte (a space, a control byte), as in memcached */
    RESET();
    unsigned char ex[8];
    ext_set(ex, 0, 0);
    rq(&q, BIN_SET, "a b\x01", ex, 8, "v", 1, 0);
    feed_chunked(t, q.data, q.len, q.len);
    rs(&e, BIN_SET, 0, 0, 0, 0, cas_of(t, "a b\x01"));
    assert_bytes(&t->out, &e);
    RESET();
    rq(&q, BIN_DELETE, "a b\x01", NULL, 0, NULL, 0, 0);
    rq(&q, BIN_DELETE, "a b\x01", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_DELETE, 0, 0, 0, 0, 0);
    rs_err(&e, BIN_DELETE, BIN_ST_KEY_ENOENT);
    run(t, &q, &e);
    /* SASL without -S: Unknown command */
    RESET();
    rq(&q, BIN_SASL_LIST_MECHS, NULL, NULL, 0, NULL, 0, 0);
    rq(&q, BIN_SASL_AUTH, "PLAIN", NULL, 0, "\0a\0b", 4, 0);
    rs_err(&e, BIN_SASL_LIST_MECHS, BIN_ST_UNKNOWN_COMMAND);
    rs_err(&e, BIN_SASL_AUTH, BIN_ST_UNKNOWN_COMMAND);
    run(t, &q, &e);
    DONE();
}

static void test_too_large(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[8];
    ext_set(ex, 0, 0);
    rq(&q, BIN_SET, "big", ex, 8, "small", 5, 0);
    feed_chunked(t, q.data, q.len, q.len);
    assert_true(cas_of(t, "big") != 0);
    /* over item_size_max: Too large., the value skipped, the old item gone */
    size_t vl = (1u << 20) + 1;
    char *v = calloc(1, vl);
    RESET();
    rq(&q, BIN_SET, "big", ex, 8, v, (uint32_t)vl, 0);
    rq(&q, BIN_APPENDQ, "big", NULL, 0, v, (uint32_t)vl, 0);
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_SET, BIN_ST_E2BIG);
    rs_err(&e, BIN_APPENDQ, BIN_ST_E2BIG);
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    feed_chunked(t, q.data, q.len, 4096);
    assert_bytes(&t->out, &e);
    assert_int_equal(cas_of(t, "big"), 0);
    /* just under: the library decides (key + header + value) */
    RESET();
    rq(&q, BIN_SET, "big", ex, 8, v, (uint32_t)(vl - 1), 0);
    rs_err(&e, BIN_SET, BIN_ST_E2BIG);
    feed_chunked(t, q.data, q.len, 65536);
    assert_bytes(&t->out, &e);
    free(v);
    DONE();
}

static void test_pipeline_split(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[8], ax[20];
    ext_set(ex, 9, 0);
    ext_arith(ax, 2, 40, 0);
    /* a pipeline of quiet sets, a counter, gets and a noop, byte by byte */
    for (int i = 0; i < 10; i++) {
        char k[8];
        snprintf(k, sizeof k, "p%d", i);
        rq(&q, BIN_SETQ, k, ex, 8, k, (uint32_t)strlen(k), 0);
    }
    rq(&q, BIN_INCREMENTQ, "ctr", ax, 20, NULL, 0, 0);
    rq(&q, BIN_INCREMENTQ, "ctr", ax, 20, NULL, 0, 0);
    for (int i = 0; i < 12; i++) {
        char k[8];
        snprintf(k, sizeof k, "p%d", i);
        rq(&q, BIN_GETKQ, k, NULL, 0, NULL, 0, 0);
    }
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    feed_chunked(t, q.data, q.len, 1);
    unsigned char fl[4] = {0, 0, 0, 9};
    for (int i = 0; i < 10; i++) {
        char k[8];
        snprintf(k, sizeof k, "p%d", i);
        uint16_t kl = (uint16_t)strlen(k);
        rs(&e, BIN_GETKQ, 0, 4, kl, 4 + 2u * kl, cas_of(t, k));
        srv_buf_add(&e, fl, 4);
        srv_buf_add(&e, k, kl);
        srv_buf_add(&e, k, kl);
    }
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    assert_bytes(&t->out, &e);
    char buf[8];
    size_t len = sizeof buf;
    assert_int_equal(shmc_get(t->s.cache, "ctr", 3, buf, &len, NULL, NULL), SHMC_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "42", 2);
    /* the gets again in odd chunk sizes: the same replies */
    srv_buf g = {0};
    for (int i = 0; i < 12; i++) {
        char k[8];
        snprintf(k, sizeof k, "p%d", i);
        rq(&g, BIN_GETKQ, k, NULL, 0, NULL, 0, 0);
    }
    rq(&g, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    for (size_t chunk = 2; chunk < 40; chunk += 7) {
        feed_chunked(t, g.data, g.len, chunk);
        assert_bytes(&t->out, &e);
    }
    srv_buf_free(&g);
    /* an incomplete request consumes nothing */
    assert_int_equal(proto_binary_process(&t->s, q.data, 23, &t->out, &t->action), 0);
    assert_int_equal(proto_binary_process(&t->s, q.data, 30, &t->out, &t->action), 0);
    DONE();
}

/* ---- SASL PLAIN through libsasl2, with a password file ---- */

static char g_pwdb[256];

/*
 * The segment destroyed under the server (SHMC_STALE): every opcode that
 * reaches the cache answers 0x0086 with the stale message, quiet ones too
 * (never a miss), and asks for the connection to close and the daemon to
 * stop (SRV_RETIRED); requests after it in the same read are not served.
 */
static void test_retired(void **state)
{
    pt *t = *state;
    BUFS;
    unsigned char ex[20];
    ext_set(ex, 0, 0);
    rq(&q, BIN_SET, "k", ex, 8, "v", 1, 0);
    feed_chunked(t, q.data, q.len, q.len);
    assert_int_equal(t->action, SRV_CONTINUE);
    assert_status(shmc_destroy(t->f->path), SHMC_OK);
    t->f->skip_check = 1; /* the handle can check nothing now */
    static const uint8_t ops[] = {
        BIN_GET, BIN_GETQ, BIN_GETK, BIN_GETKQ, BIN_SET, BIN_SETQ, BIN_ADD, BIN_REPLACE,
        BIN_APPEND, BIN_PREPENDQ, BIN_DELETE, BIN_DELETEQ, BIN_INCREMENT, BIN_DECREMENTQ,
        BIN_FLUSH, BIN_FLUSHQ, BIN_TOUCH, BIN_GAT, BIN_GATKQ, BIN_STAT,
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        uint8_t op = ops[i];
        RESET();
        switch (op) {
        case BIN_SET: case BIN_SETQ: case BIN_ADD: case BIN_REPLACE:
            ext_set(ex, 0, 0);
            rq(&q, op, "k", ex, 8, "w", 1, 0);
            break;
        case BIN_APPEND: case BIN_PREPENDQ:
            rq(&q, op, "k", NULL, 0, "w", 1, 0);
            break;
        case BIN_INCREMENT: case BIN_DECREMENTQ:
            ext_arith(ex, 1, 0, 0);
            rq(&q, op, "k", ex, 20, NULL, 0, 0);
            break;
        case BIN_FLUSH: case BIN_FLUSHQ: case BIN_STAT:
            rq(&q, op, NULL, NULL, 0, NULL, 0, 0);
            break;
        case BIN_TOUCH: case BIN_GAT: case BIN_GATKQ:
            ext_exp(ex, 10);
            rq(&q, op, "k", ex, 4, NULL, 0, 0);
            break;
        default:
            rq(&q, op, "k", NULL, 0, NULL, 0, 0);
            break;
        }
        rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0); /* not served after it */
        rs_str(&e, op, BIN_ST_ETMPFAIL, SRV_MSG_RETIRED);
        feed_chunked(t, q.data, q.len, q.len);
        if (t->action != SRV_RETIRED)
            fail_msg("opcode 0x%02x: action %d, not SRV_RETIRED", op, (int)t->action);
        assert_bytes(&t->out, &e);
    }
    /* what does not reach the cache still answers */
    RESET();
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    run(t, &q, &e);
    assert_int_equal(t->action, SRV_CONTINUE);
    DONE();
}

static void test_sasl(void **state)
{
    pt *t = *state;
    BUFS;
    char err[256] = "";
    const srv_sasl_ops *ops = srv_sasl_init(g_pwdb, 0, err, sizeof err);
    if (!ops)
        fail_msg("srv_sasl_init: %s", err);
    t->set.sasl = ops;
    /* before auth: Version and List Mechs are allowed */
    rq(&q, BIN_VERSION, NULL, NULL, 0, NULL, 0, 0);
    rq(&q, BIN_SASL_LIST_MECHS, NULL, NULL, 0, NULL, 0, 0);
    rs_str(&e, BIN_VERSION, 0, "1.6.99-test");
    rs_str(&e, BIN_SASL_LIST_MECHS, 0, "PLAIN");
    run(t, &q, &e);
    /* anything else: Auth failure., close */
    RESET();
    rq(&q, BIN_GET, "k", NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_GET, BIN_ST_AUTH_ERROR);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs_err(&e, BIN_NOOP, BIN_ST_AUTH_ERROR);
    expect_close(t, &q, &e);
    /* a wrong password, an unknown user, an unknown mechanism, a step
     * without a start */
    RESET();
    rq(&q, BIN_SASL_AUTH, "PLAIN", NULL, 0, "\0alice\0wrong", 12, 0);
    rq(&q, BIN_SASL_AUTH, "PLAIN", NULL, 0, "\0mallory\0secret", 15, 0);
    rq(&q, BIN_SASL_AUTH, "ANONYMOUS", NULL, 0, "x", 1, 0);
    rs_err(&e, BIN_SASL_AUTH, BIN_ST_AUTH_ERROR);
    rs_err(&e, BIN_SASL_AUTH, BIN_ST_AUTH_ERROR);
    rs_err(&e, BIN_SASL_AUTH, BIN_ST_AUTH_ERROR);
    run(t, &q, &e);
    assert_int_equal(t->s.sasl_authenticated, 0);
    /* a mechanism name over 32 bytes: Invalid arguments */
    RESET();
    rq(&q, BIN_SASL_AUTH, "PLAINPLAINPLAINPLAINPLAINPLAINPLAIN", NULL, 0, "x", 1, 0);
    rs_err(&e, BIN_SASL_AUTH, BIN_ST_EINVAL);
    run(t, &q, &e);
    /* PLAIN with an empty first message: continue, then step */
    RESET();
    rq(&q, BIN_SASL_AUTH, "PLAIN", NULL, 0, NULL, 0, 0);
    rs(&e, BIN_SASL_AUTH, BIN_ST_AUTH_CONTINUE, 0, 0, 0, 0);
    run(t, &q, &e);
    RESET();
    rq(&q, BIN_SASL_STEP, "PLAIN", NULL, 0, "\0alice\0secret", 13, 0);
    rs_str(&e, BIN_SASL_STEP, 0, "Authenticated");
    run(t, &q, &e);
    assert_int_equal(t->s.sasl_authenticated, 1);
    /* the right password in one message, split byte by byte */
    t->s.sasl_authenticated = 0;
    RESET();
    rq(&q, BIN_SASL_AUTH, "PLAIN", NULL, 0, "\0bob\0pw:with:colons", 19, 0);
    rq(&q, BIN_NOOP, NULL, NULL, 0, NULL, 0, 0);
    rs_str(&e, BIN_SASL_AUTH, 0, "Authenticated");
    rs(&e, BIN_NOOP, 0, 0, 0, 0, 0);
    run_split(t, &q, &e);
    assert_int_equal(t->s.sasl_authenticated, 1);
    DONE();
}

/* -Y: the daemon negotiates text only (settings_check_auth); should a
 * binary request reach the protocol anyway, it cannot carry -Y's auth
 * "set", so nothing is served: the connection closes unanswered. */
static void test_authfile_serves_no_binary(void **state)
{
    pt *t = *state;
    BUFS;
    srv_auth a;
    assert_int_equal(srv_auth_parse(&a, strdup("alice:secret\n")), SRV_AUTH_OK);
    t->set.auth = &a;
    unsigned char ex[8];
    ext_set(ex, 0, 0);
    rq(&q, BIN_SET, "k", ex, 8, "v", 1, 0);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_GET, "k", NULL, 0, NULL, 0, 0);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_VERSION, NULL, NULL, 0, NULL, 0, 0);
    expect_close(t, &q, &e);
    RESET();
    rq(&q, BIN_SASL_AUTH, "PLAIN", NULL, 0, "\0alice\0secret", 13, 0);
    expect_close(t, &q, &e);
    assert_int_equal(cas_of(t, "k"), 0); /* nothing was stored */
    t->set.auth = NULL;
    srv_auth_free(&a);
    DONE();
}

int main(void)
{
    snprintf(g_pwdb, sizeof g_pwdb, "/tmp/shmc-test-pwdb.%ld", (long)getpid());
    FILE *f = fopen(g_pwdb, "w");
    if (!f)
        return 1;
    fputs("alice:secret\nbob:pw:with:colons\r\n", f);
    fclose(f);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_get, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_add_replace_cas, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_append_prepend, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_delete, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_incr_decr, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_touch_gat, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_misc, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_stat, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_errors, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_too_large, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_get_sizes, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_get_batches, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_split, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_retired, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_sasl, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_authfile_serves_no_binary, pt_setup, pt_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(g_pwdb);
    return rc;
}
