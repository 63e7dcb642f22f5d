/*
 * bench_tls.c - a memcached text-protocol load over TLS or plain TCP, for
 * bench/tls.sh: libmemcached (memcslap, build/ycsb's mc backend) has no TLS,
 * so this client speaks the protocol itself, through OpenSSL when --tls.
 *
 *   bench_tls HOST PORT [--tls] [-c CONNS] [-s SECONDS] [-k KEYS] [-v BYTES]
 *             [--handshakes N]
 *
 * Each of CONNS threads opens one connection, stores its own KEYS keys
 * (untimed), then for SECONDS runs workload A, synchronously: 50% get, 50%
 * set of a uniform key, BYTES-byte values; every get's value is checked.
 * Prints one line:
 *   ops N secs S ops_per_s X p50_us A p99_us B mean_us C
 * With --handshakes N it instead opens N connections one after another
 * (connect, TLS handshake if --tls, "version", close) and prints
 *   conns N secs S conns_per_s X p50_us A p99_us B
 * Exit status 1 on a wrong reply or a failed connection.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "rng.h"

/* The command line. */
typedef struct opts {
    const char *host, *port;
    int tls;          /* --tls */
    int conns;        /* -c: threads, one connection each (4) */
    double secs;      /* -s: timed seconds (2) */
    int keys;         /* -k: keys per thread (10000) */
    int vlen;         /* -v: value bytes (100) */
    int handshakes;   /* --handshakes: connection-setup mode (0: off) */
} opts;

/* One client connection. */
typedef struct client {
    int fd;
    SSL *ssl;         /* NULL: plain TCP */
    char buf[1 << 16];
    size_t len;       /* bytes in buf */
} client;

/* One thread's work and results. */
typedef struct worker_arg {
    const opts *o;
    int id;
    SSL_CTX *ctx;
    bench_hist h;     /* per-operation latency, ns */
    uint64_t ops;
    int failed;
} worker_arg;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cl_connect(client *c, const opts *o, SSL_CTX *ctx)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(o->host, o->port, &hints, &res))
        return -1;
    c->fd = socket(res->ai_family, SOCK_STREAM, 0);
    int rc = c->fd < 0 ? -1 : connect(c->fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ssl = NULL;
    c->len = 0;
    if (!ctx)
        return 0;
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    return SSL_connect(c->ssl) == 1 ? 0 : -1;
}

static void cl_close(client *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    close(c->fd);
}

static int cl_write(client *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until buf holds a reply ending in end (e.g. "END\r\n"); -1 on EOF. */
static int cl_read_until(client *c, const char *end)
{
    size_t el = strlen(end);
    c->len = 0;
    for (;;) {
        if (c->len >= el && !memcmp(c->buf + c->len - el, end, el))
            return 0;
        if (c->len == sizeof c->buf)
            return -1;
        ssize_t r = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len))
                           : recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
}

/* The value of key k: letters from its number on, vlen bytes. */
static void value_of(char *v, int vlen, unsigned k)
{
    for (int i = 0; i < vlen; i++)
        v[i] = (char)('a' + (k + (unsigned)i) % 26);
}

static int do_set(client *c, int id, unsigned k, int vlen, char *req)
{
    int n = sprintf(req, "set t%d:%u 0 0 %d\r\n", id, k, vlen);
    value_of(req + n, vlen, k);
    memcpy(req + n + vlen, "\r\n", 2);
    if (cl_write(c, req, (size_t)n + (size_t)vlen + 2) || cl_read_until(c, "\r\n"))
        return -1;
    return c->len == 8 && !memcmp(c->buf, "STORED\r\n", 8) ? 0 : -1;
}

static int do_get(client *c, int id, unsigned k, int vlen, char *req)
{
    int n = sprintf(req, "get t%d:%u\r\n", id, k);
    if (cl_write(c, req, (size_t)n) || cl_read_until(c, "END\r\n"))
        return -1;
    char want[256];
    int h = snprintf(want, sizeof want, "VALUE t%d:%u 0 %d\r\n", id, k, vlen);
    if (c->len != (size_t)h + (size_t)vlen + 7 || memcmp(c->buf, want, (size_t)h))
        return -1;
    value_of(want, vlen, k);
    return memcmp(c->buf + h, want, (size_t)vlen) ? -1 : 0;
}

static void *run_load(void *p)
{
    worker_arg *a = p;
    const opts *o = a->o;
    client *c = calloc(1, sizeof *c);
    char *req = malloc((size_t)o->vlen + 128);
    hist_reset(&a->h);
    if (!c || !req || cl_connect(c, o, a->ctx)) {
        a->failed = 1;
        goto out;
    }
    for (int k = 0; k < o->keys; k++)
        if (do_set(c, a->id, (unsigned)k, o->vlen, req)) {
            a->failed = 1;
            goto out_close;
        }
    bench_rng rng;
    rng_seed(&rng, (uint64_t)a->id + 1);
    uint64_t end = now_ns() + (uint64_t)(o->secs * 1e9);
    for (uint64_t t0 = now_ns(); t0 < end; t0 = now_ns()) {
        unsigned k = rng_below(&rng, (uint32_t)o->keys);
        int rc = rng_below(&rng, 2) ? do_get(c, a->id, k, o->vlen, req) : do_set(c, a->id, k, o->vlen, req);
        if (rc) {
            a->failed = 1;
            break;
        }
        hist_record(&a->h, now_ns() - t0);
        a->ops++;
    }
out_close:
    cl_close(c);
out:
    free(req);
    free(c);
    return NULL;
}

/* --handshakes: connection setup, one after another. */
static int run_handshakes(const opts *o, SSL_CTX *ctx)
{
    static bench_hist h;
    hist_reset(&h);
    client *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    uint64_t start = now_ns();
    for (int i = 0; i < o->handshakes; i++) {
        uint64_t t0 = now_ns();
        if (cl_connect(c, o, ctx) || cl_write(c, "version\r\n", 9) || cl_read_until(c, "\r\n")) {
            fprintf(stderr, "bench_tls: connection %d failed\n", i);
            return 1;
        }
        cl_close(c);
        hist_record(&h, now_ns() - t0);
    }
    double secs = (double)(now_ns() - start) / 1e9;
    printf("conns %d secs %.2f conns_per_s %.0f p50_us %.1f p99_us %.1f\n", o->handshakes, secs,
           o->handshakes / secs, hist_pct(&h, 50) / 1e3, hist_pct(&h, 99) / 1e3);
    free(c);
    return 0;
}

static int parse_opts(opts *o, int argc, char **argv)
{
    *o = (opts){.conns = 4, .secs = 2, .keys = 10000, .vlen = 100};
    if (argc < 3)
        return -1;
    o->host = argv[1];
    o->port = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--tls")) {
            o->tls = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(a, "-c")) o->conns = atoi(v);
        else if (!strcmp(a, "-s")) o->secs = atof(v);
        else if (!strcmp(a, "-k")) o->keys = atoi(v);
        else if (!strcmp(a, "-v")) o->vlen = atoi(v);
        else if (!strcmp(a, "--handshakes")) o->handshakes = atoi(v);
        else return -1;
    }
    if (o->conns < 1 || o->conns > 1024 || o->secs <= 0 || o->keys < 1 || o->vlen < 1 ||
        o->vlen > 60000 || o->handshakes < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_opts(&o, argc, argv)) {
        fprintf(stderr, "usage: bench_tls HOST PORT [--tls] [-c CONNS] [-s SECONDS] [-k KEYS] "
                        "[-v BYTES] [--handshakes N]\n");
        return 2;
    }
    SSL_CTX *ctx = NULL;
    if (o.tls) { /* the benchmark's servers use throwaway certificates: no verification */
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (o.handshakes)
        return run_handshakes(&o, ctx);
    worker_arg *a = calloc((size_t)o.conns, sizeof *a);
    pthread_t *t = calloc((size_t)o.conns, sizeof *t);
    if (!a || !t)
        return 1;
    for (int i = 0; i < o.conns; i++) {
        a[i] = (worker_arg){.o = &o, .id = i, .ctx = ctx};
        pthread_create(&t[i], NULL, run_load, &a[i]);
    }
    static bench_hist all;
    hist_reset(&all);
    uint64_t ops = 0;
    int failed = 0;
    for (int i = 0; i < o.conns; i++) {
        pthread_join(t[i], NULL);
        hist_merge(&all, &a[i].h);
        ops += a[i].ops;
        failed |= a[i].failed;
    }
    if (failed) {
        fprintf(stderr, "bench_tls: a connection failed or a reply was wrong\n");
        return 1;
    }
    printf("ops %llu secs %.2f ops_per_s %.0f p50_us %.1f p99_us %.1f mean_us %.1f\n",
           (unsigned long long)ops, o.secs, (double)ops / o.secs, hist_pct(&all, 50) / 1e3,
           hist_pct(&all, 99) / 1e3, hist_mean(&all) / 1e3);
    SSL_CTX_free(ctx);
    free(a);
    free(t);
    return 0;
}
