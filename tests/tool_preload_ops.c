/*
 * tool_preload_ops.c - every libmemcached call the preload intercepts, once
 * each, with its outcome printed (tests/test_preload.sh).
 *
 * Usage: tool_preload_ops 'CONFIG' [OTHER_PORT]  (a libmemcached
 * configuration string: "--SERVER=127.0.0.1:11211 --BINARY-PROTOCOL ...";
 * OTHER_PORT: a second server on 127.0.0.1 to move keys to).  The test runs it
 * with and without LD_PRELOAD=libshmcached-memcached.so against the same
 * server and compares the two outputs line by line: each line is what a
 * program sees (the return code, the value, the flags, whether a CAS came
 * back, memcached_last_error_message), never a figure that differs from
 * run to run (CAS values are compared, not printed).  It starts with
 * memcached_flush, so both runs start from the same empty cache.
 */
#include <libmemcached/memcached.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a call returned, and what libmemcached says the last error is. */
static void say(memcached_st *m, const char *what, memcached_return_t rc)
{
    printf("%s: %s | last_error %s (%s) errno %d\n", what, memcached_strerror(m, rc),
           memcached_strerror(m, memcached_last_error(m)), memcached_last_error_message(m),
           memcached_last_error_errno(m));
}

static void get(memcached_st *m, const char *key)
{
    size_t len = 99;
    uint32_t flags = 99;
    memcached_return_t rc;
    char *v = memcached_get(m, key, strlen(key), &len, &flags, &rc);
    char what[512];
    snprintf(what, sizeof what, "get %s -> %s%.*s%s len %zu flags %u", key, v ? "\"" : "",
             v ? (int)len : 4, v ? v : "NULL", v ? "\"" : "", len, flags);
    say(m, what, rc);
    if (v && v[len] != '\0')
        printf("get %s: value not NUL-terminated\n", key);
    free(v);
}

static void set(memcached_st *m, const char *key, const char *value, uint32_t flags)
{
    char what[512];
    snprintf(what, sizeof what, "set %s", key);
    say(m, what, memcached_set(m, key, strlen(key), value, strlen(value), 0, flags));
}

/* Lines of one mget's results, printed sorted: across servers the order
 * is the answers' (with the preload, the local ones first). */
static char lines[16][600];
static int nlines;

static int line_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void lines_print(void)
{
    qsort(lines, (size_t)nlines, sizeof lines[0], line_cmp);
    for (int i = 0; i < nlines; i++)
        fputs(lines[i], stdout);
    nlines = 0;
}

/* mget keys, then fetch_result each: key, value, flags, CAS present. */
static void mget_fetch_result(memcached_st *m, const char *const *keys, size_t n)
{
    size_t lens[16];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(keys[i]);
    say(m, "mget", memcached_mget(m, keys, lens, n));
    memcached_result_st *r;
    memcached_return_t rc;
    while ((r = memcached_fetch_result(m, NULL, &rc))) {
        if (nlines < 16)
            snprintf(lines[nlines++], sizeof lines[0], "  result %.*s = \"%.*s\" flags %u cas %s\n",
                     (int)memcached_result_key_length(r), memcached_result_key_value(r),
                     (int)memcached_result_length(r), memcached_result_value(r),
                     memcached_result_flags(r), memcached_result_cas(r) ? "yes" : "no");
        memcached_result_free(r);
    }
    lines_print();
    say(m, "  fetch_result end", rc);
    r = memcached_fetch_result(m, NULL, &rc);
    say(m, "  fetch_result after end", rc);
    memcached_result_free(r);
}

/* mget keys, then memcached_fetch each. */
static void mget_fetch(memcached_st *m, const char *const *keys, size_t n)
{
    size_t lens[16];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(keys[i]);
    say(m, "mget for fetch", memcached_mget(m, keys, lens, n));
    char key[MEMCACHED_MAX_KEY];
    size_t klen, vlen;
    uint32_t flags;
    memcached_return_t rc;
    char *v;
    while ((v = memcached_fetch(m, key, &klen, &vlen, &flags, &rc))) {
        if (nlines < 16)
            snprintf(lines[nlines++], sizeof lines[0], "  fetch %.*s = \"%.*s\" flags %u\n",
                     (int)klen, key, (int)vlen, v, flags);
        free(v);
    }
    lines_print();
    say(m, "  fetch end", rc);
}

static memcached_return_t count_cb(const memcached_st *m, memcached_result_st *r, void *ctx)
{
    (void)m;
    if (nlines < 16)
        snprintf(lines[nlines++], sizeof lines[0], "  callback %.*s = \"%.*s\"\n",
                 (int)memcached_result_key_length(r), memcached_result_key_value(r),
                 (int)memcached_result_length(r), memcached_result_value(r));
    ++*(int *)ctx;
    return MEMCACHED_SUCCESS;
}

static void mget_execute(memcached_st *m, const char *const *keys, size_t n)
{
    size_t lens[16];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(keys[i]);
    say(m, "mget for fetch_execute", memcached_mget(m, keys, lens, n));
    int calls = 0;
    memcached_execute_fn cb[] = {count_cb};
    say(m, "  fetch_execute", memcached_fetch_execute(m, cb, &calls, 1));
    lines_print();
    printf("  callbacks %d\n", calls);
}

/* An mget of 80 keys, 70 stored with values of 0 to 2974 bytes (the
 * preload reads local keys 32 at a time into 1 KiB slots, a larger value
 * again alone: preload/shim_mget.c), 10 missing: each result's key,
 * length, flags and whether its bytes are the ones stored, sorted; and
 * how many came back. */
static void mget_batches(memcached_st *m)
{
    enum { N = 80 };
    static char keys_buf[N][16], val[3000], out[N][80];
    const char *keys[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        snprintf(keys_buf[i], sizeof keys_buf[i], i % 8 == 5 ? "mbnone%d" : "mb%d", i);
        keys[i] = keys_buf[i];
        lens[i] = strlen(keys[i]);
        if (i % 8 == 5)
            continue;
        size_t len = (size_t)(i * 347) % 3000;
        for (size_t j = 0; j < len; j++)
            val[j] = (char)('A' + (i + (int)j) % 26);
        memcached_return_t rc = memcached_set(m, keys[i], lens[i], val, len, 0, (uint32_t)i);
        if (rc != MEMCACHED_SUCCESS)
            say(m, keys[i], rc);
    }
    say(m, "mget 80", memcached_mget(m, keys, lens, N));
    memcached_result_st *r;
    memcached_return_t rc;
    int n = 0;
    while ((r = memcached_fetch_result(m, NULL, &rc))) {
        const char *v = memcached_result_value(r);
        size_t len = memcached_result_length(r);
        char kb[16] = ""; /* the result's key is not NUL-terminated (binary protocol) */
        size_t kl = memcached_result_key_length(r);
        memcpy(kb, memcached_result_key_value(r), kl < sizeof kb - 1 ? kl : sizeof kb - 1);
        int i = atoi(kb + 2), same = n < N;
        for (size_t j = 0; same && j < len; j++)
            same = v[j] == (char)('A' + (i + (int)j) % 26);
        if (n < N)
            snprintf(out[n++], sizeof out[0], "  result mb%d len %zu flags %u %s\n", i, len,
                     memcached_result_flags(r), same ? "bytes right" : "BYTES WRONG");
        memcached_result_free(r);
    }
    qsort(out, (size_t)n, sizeof out[0], line_cmp);
    for (int i = 0; i < n; i++)
        fputs(out[i], stdout);
    printf("  %d results\n", n);
    say(m, "  fetch_result end", rc);
}

/* gets key's CAS by mget (CAS needs SUPPORT_CAS on text). */
static uint64_t cas_of(memcached_st *m, const char *key)
{
    const char *keys[] = {key};
    size_t lens[] = {strlen(key)};
    uint64_t cas = 0;
    if (memcached_mget(m, keys, lens, 1) != MEMCACHED_SUCCESS)
        return 0;
    memcached_result_st *r;
    memcached_return_t rc;
    while ((r = memcached_fetch_result(m, NULL, &rc))) {
        cas = memcached_result_cas(r);
        memcached_result_free(r);
    }
    return cas;
}

static void stores(memcached_st *m)
{
    say(m, "add k1", memcached_add(m, "k1", 2, "x", 1, 0, 0));
    say(m, "add k2", memcached_add(m, "k2", 2, "two", 3, 0, 2));
    say(m, "replace k3", memcached_replace(m, "k3", 2, "x", 1, 0, 0));
    say(m, "replace k1", memcached_replace(m, "k1", 2, "v1b", 3, 0, 5));
    say(m, "append k1", memcached_append(m, "k1", 2, "+a", 2, 0, 0));
    say(m, "prepend k1", memcached_prepend(m, "k1", 2, "p+", 2, 0, 0));
    say(m, "append k3", memcached_append(m, "k3", 2, "x", 1, 0, 0));
    say(m, "prepend k3", memcached_prepend(m, "k3", 2, "x", 1, 0, 0));
    get(m, "k1");
}

static void cas_ops(memcached_st *m)
{
    memcached_behavior_set(m, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1);
    uint64_t c = cas_of(m, "k1");
    printf("cas of k1 read: %s\n", c ? "yes" : "no");
    say(m, "cas k1 right", memcached_cas(m, "k1", 2, "casd", 4, 0, 3, c));
    say(m, "cas k1 stale", memcached_cas(m, "k1", 2, "nope", 4, 0, 3, c));
    say(m, "cas k3 missing", memcached_cas(m, "k3", 2, "nope", 4, 0, 3, c));
    uint64_t c2 = cas_of(m, "k1");
    printf("cas of k1 changed: %s\n", c2 && c2 != c ? "yes" : "no");
    get(m, "k1");
}

static void arith(memcached_st *m)
{
    uint64_t v = 7;
    set(m, "n", "10", 0);
    say(m, "incr n 5", memcached_increment(m, "n", 1, 5, &v));
    printf("  value %llu\n", (unsigned long long)v);
    say(m, "decr n 20", memcached_decrement(m, "n", 1, 20, &v));
    printf("  value %llu\n", (unsigned long long)v);
    v = 7;
    say(m, "incr missing", memcached_increment(m, "nx", 2, 1, &v));
    printf("  value %llu\n", (unsigned long long)v);
    say(m, "incr k1 (not a number)", memcached_increment(m, "k1", 2, 1, &v));
    get(m, "n"); /* after a failure: the error state is cleared again */
    v = 7;
    say(m, "incr with initial missing", memcached_increment_with_initial(m, "ni", 2, 3, 40, 0, &v));
    printf("  value %llu\n", (unsigned long long)v);
    say(m, "incr with initial present", memcached_increment_with_initial(m, "ni", 2, 3, 40, 0, &v));
    printf("  value %llu\n", (unsigned long long)v);
    say(m, "decr with initial missing", memcached_decrement_with_initial(m, "nd", 2, 3, 9, 0, &v));
    printf("  value %llu\n", (unsigned long long)v);
    say(m, "incr_by_key", memcached_increment_by_key(m, "g", 1, "n", 1, 2, &v));
    printf("  value %llu\n", (unsigned long long)v);
    say(m, "decr_by_key", memcached_decrement_by_key(m, "g", 1, "n", 1, 1, &v));
    printf("  value %llu\n", (unsigned long long)v);
}

static void others(memcached_st *m)
{
    say(m, "touch k1", memcached_touch(m, "k1", 2, 1000));
    say(m, "touch missing", memcached_touch(m, "tx", 2, 1000));
    say(m, "touch_by_key", memcached_touch_by_key(m, "g", 1, "k1", 2, 1000));
    say(m, "exist k1", memcached_exist(m, "k1", 2));
    say(m, "exist missing", memcached_exist(m, "ex", 2));
    get(m, "ex"); /* libmemcached's exist added it */
    say(m, "exist_by_key", memcached_exist_by_key(m, "g", 1, "ex", 2));
    say(m, "delete k2", memcached_delete(m, "k2", 2, 0));
    say(m, "delete k2 again", memcached_delete(m, "k2", 2, 0));
    say(m, "delete with expiration", memcached_delete(m, "k1", 2, 5));
    get(m, "k2");
}

static void by_key(memcached_st *m)
{
    say(m, "set_by_key", memcached_set_by_key(m, "grp", 3, "bk", 2, "bv", 2, 0, 9));
    say(m, "add_by_key", memcached_add_by_key(m, "grp", 3, "bk", 2, "bv", 2, 0, 9));
    say(m, "replace_by_key", memcached_replace_by_key(m, "grp", 3, "bk", 2, "bw", 2, 0, 8));
    say(m, "append_by_key", memcached_append_by_key(m, "grp", 3, "bk", 2, "+", 1, 0, 0));
    say(m, "prepend_by_key", memcached_prepend_by_key(m, "grp", 3, "bk", 2, "-", 1, 0, 0));
    say(m, "set_by_key empty group", memcached_set_by_key(m, "", 0, "bk2", 3, "v", 1, 0, 0));
    size_t len;
    uint32_t flags;
    memcached_return_t rc;
    char *v = memcached_get_by_key(m, "grp", 3, "bk", 2, &len, &flags, &rc);
    printf("get_by_key bk -> %.*s flags %u\n", v ? (int)len : 4, v ? v : "NULL", flags);
    say(m, "get_by_key", rc);
    free(v);
    const char *keys[] = {"bk", "bk2", "nothere"};
    size_t lens[] = {2, 3, 7};
    say(m, "mget_by_key", memcached_mget_by_key(m, "grp", 3, keys, lens, 3));
    memcached_result_st *r;
    while ((r = memcached_fetch_result(m, NULL, &rc))) {
        if (nlines < 16)
            snprintf(lines[nlines++], sizeof lines[0], "  result %.*s\n",
                     (int)memcached_result_key_length(r), memcached_result_key_value(r));
        memcached_result_free(r);
    }
    lines_print();
    say(m, "  end", rc);
    uint64_t c = cas_of(m, "bk");
    say(m, "cas_by_key", memcached_cas_by_key(m, "grp", 3, "bk", 2, "c", 1, 0, 0, c + 1000));
    say(m, "delete_by_key", memcached_delete_by_key(m, "grp", 3, "bk", 2, 0));
}

static void bad_input(memcached_st *m)
{
    char longkey[300];
    memset(longkey, 'k', sizeof longkey);
    say(m, "set 251-byte key", memcached_set(m, longkey, 251, "v", 1, 0, 0));
    say(m, "set 250-byte key", memcached_set(m, longkey, 250, "v", 1, 0, 0));
    say(m, "set empty key", memcached_set(m, "", 0, "v", 1, 0, 0));
    /* on text, a key with a space puts libmemcached's connection out of
     * step with the server: binary only */
    if (memcached_behavior_get(m, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL)) {
        say(m, "set key with space", memcached_set(m, "a b", 3, "v", 1, 0, 0));
        get(m, "a b");
    }
    memcached_behavior_set(m, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
    say(m, "set key with space, verify_key", memcached_set(m, "a b", 3, "v", 1, 0, 0));
    get(m, "a b");
    memcached_behavior_set(m, MEMCACHED_BEHAVIOR_VERIFY_KEY, 0);
    say(m, "mget no keys", memcached_mget(m, NULL, NULL, 0));
}

/* Behaviours whose answers are the socket's: noreply, buffered requests. */
static void socket_behaviours(memcached_st *m)
{
    memcached_st *c = memcached_clone(NULL, m);
    memcached_behavior_set(c, MEMCACHED_BEHAVIOR_NOREPLY, 1);
    set(c, "nr", "noreply", 1);
    say(c, "delete nr, noreply", memcached_delete(c, "nr", 2, 0));
    memcached_behavior_set(c, MEMCACHED_BEHAVIOR_NOREPLY, 0);
    memcached_behavior_set(c, MEMCACHED_BEHAVIOR_BUFFER_REQUESTS, 1);
    set(c, "bf", "buffered", 2);
    say(c, "flush_buffers", memcached_flush_buffers(c));
    get(c, "nr"); /* no "get bf": libmemcached may take set's answer for get's */
    memcached_free(c);
}

/* memcached_servers_reset and memcached_server_add move keys between
 * servers: the preload must follow (other: a second server's port). */
static void server_changes(memcached_st *m, const char *other)
{
    memcached_st *c = memcached_clone(NULL, m);
    set(c, "moved", "on the first", 1);
    memcached_servers_reset(c);
    say(c, "server_add other", memcached_server_add(c, "127.0.0.1", (in_port_t)atoi(other)));
    say(c, "flush other", memcached_flush(c, 0));
    get(c, "moved");
    set(c, "moved", "on the other", 2);
    get(c, "moved");
    memcached_st *c2 = memcached_clone(NULL, c);
    get(c2, "moved");
    memcached_free(c2);
    memcached_free(c);
    get(m, "moved");
}

/* Values libmemcached encrypts (memcached_set_encoding_key): stored as its
 * ciphertext, read back decrypted, by the clone too; read without the
 * key, the ciphertext (its length and whether it is the plain text). */
static void encrypted(memcached_st *m)
{
    memcached_st *e = memcached_clone(NULL, m);
    say(e, "set_encoding_key", memcached_set_encoding_key(e, "secret", 6));
    set(e, "enc", "plain text", 0);
    get(e, "enc");
    memcached_st *e2 = memcached_clone(NULL, e);
    get(e2, "enc");
    memcached_free(e2);
    memcached_free(e);
    size_t len = 0;
    uint32_t flags;
    memcached_return_t rc;
    char *v = memcached_get(m, "enc", 3, &len, &flags, &rc);
    printf("enc without the key: %zu bytes, %s\n", len,
           v && len == 10 && !memcmp(v, "plain text", 10) ? "the plain text" : "not the plain text");
    say(m, "get enc without the key", rc);
    free(v);
}

/* Last: after a value too large for the server, libmemcached's connection
 * is out of step with the server's answers (with memcached 1.6.18 too),
 * so nothing follows it on this memcached_st. */
static void too_large(memcached_st *m)
{
    size_t big = 2 << 20;
    char *v = calloc(1, big);
    if (v) {
        say(m, "set 2 MiB value", memcached_set(m, "big", 3, v, big, 0, 0));
        free(v);
    }
}

static void namespace_ops(memcached_st *m)
{
    say(m, "namespace ns:", memcached_callback_set(m, MEMCACHED_CALLBACK_NAMESPACE, "ns:"));
    set(m, "nk", "in ns", 4);
    get(m, "nk");
    const char *keys[] = {"nk", "k1"};
    mget_fetch_result(m, keys, 2);
    say(m, "namespace off", memcached_callback_set(m, MEMCACHED_CALLBACK_NAMESPACE, NULL));
    get(m, "ns:nk");
    get(m, "nk");
}

/* One thread of threads(): its own clone, its own keys, every value read
 * back by get and by mget; mismatches counted. */
typedef struct worker {
    memcached_st *m; /* the thread's clone */
    int id;          /* its number, in its keys */
    int bad;         /* values read back wrong */
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    char key[32], val[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "t%d-%d", w->id, i % 50);
        snprintf(val, sizeof val, "v%d-%d", w->id, i);
        size_t len;
        uint32_t flags;
        memcached_return_t rc = memcached_set(w->m, key, strlen(key), val, strlen(val), 0, 0);
        char *v = memcached_get(w->m, key, strlen(key), &len, &flags, &rc);
        w->bad += !v || len != strlen(val) || memcmp(v, val, len) != 0;
        free(v);
        const char *keys[] = {key};
        size_t lens[] = {strlen(key)};
        memcached_mget(w->m, keys, lens, 1);
        memcached_result_st *r;
        int got = 0;
        while ((r = memcached_fetch_result(w->m, NULL, &rc))) {
            got += memcached_result_length(r) == strlen(val) &&
                   !memcmp(memcached_result_value(r), val, strlen(val));
            memcached_result_free(r);
        }
        w->bad += got != 1;
    }
    return NULL;
}

/* Four threads, each on its own clone (libmemcached's rule: one thread
 * per memcached_st at a time). */
static void threads(memcached_st *m)
{
    enum { NT = 4 };
    worker w[NT];
    pthread_t t[NT];
    for (int i = 0; i < NT; i++) {
        w[i] = (worker){.m = memcached_clone(NULL, m), .id = i};
        pthread_create(&t[i], NULL, worker_run, &w[i]);
    }
    int bad = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].bad;
        memcached_free(w[i].m);
    }
    printf("threads: %d values read back wrong\n", bad);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: tool_preload_ops 'LIBMEMCACHED CONFIG' [OTHER_PORT]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* every line out before a libmemcached assert */
    memcached_st *m = memcached(argv[1], strlen(argv[1]));
    if (!m) {
        fprintf(stderr, "bad configuration: %s\n", argv[1]);
        return 2;
    }
    say(m, "flush", memcached_flush(m, 0));
    get(m, "missing");
    set(m, "k1", "v1", 7);
    get(m, "k1");
    stores(m);
    const char *keys[] = {"k1", "k2", "nothere", "k3"};
    mget_fetch_result(m, keys, 4);
    mget_fetch(m, keys, 4);
    mget_execute(m, keys, 4);
    mget_batches(m);
    cas_ops(m);
    arith(m);
    others(m);
    by_key(m);
    bad_input(m);
    namespace_ops(m);
    memcached_st *clone = memcached_clone(NULL, m);
    get(clone, "k1");
    memcached_free(clone);
    socket_behaviours(m);
    threads(m);
    if (argc == 3)
        server_changes(m, argv[2]);
    encrypted(m);
    too_large(m);
    memcached_free(m);
    return 0;
}
