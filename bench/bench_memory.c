/*
 * bench_memory.c - memory efficiency of a cache (build/bench_memory): how
 * many items a cache of a given size holds, how many stores it refuses for
 * want of memory, and the hit ratio of a read-through loop, against the
 * library (a fresh segment) or any memcached-protocol server (text
 * protocol over a UNIX socket or TCP).  bench/memory.sh runs the matrix.
 *
 * The stream: -w writer threads, each drawing keys from its own zipfian
 * generator (theta -z, bench/ycsb/keygen.h, scrambled by FNV-1a over the
 * key space) and running the read-through loop in rounds of BATCH keys:
 * get them all, then set each one that missed.  A key's value size is a
 * function of the key alone: fixed (-s BYTES) or, with -s mix, log-uniform
 * between MIX_MIN and MIX_MAX bytes.  "fit" is the cache's bytes over the
 * mean value size plus 16 (the items it would hold without headers); the
 * key space is -k times fit, and the run makes -o times fit gets in all
 * (at least MIN_OPS), so the cache fills and then evicts.  Hits are counted over each writer's
 * second half only (the steady state).  Every figure is a count, so the
 * run is equally valid on a loaded machine.
 *
 * Output: one line "RESULT key=value ..." (bench/memory.sh parses it);
 * items is the cache's curr_items at the end.  Exit status 0, 1 on an
 * error other than a refused store (the first one is printed), 2 on a bad
 * command line.
 */
#define _GNU_SOURCE
#include "shmcached.h"
#include "keygen.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define PROG "bench_memory"
#define BATCH 16            /* keys per read-through round */
#define MIX_MIN 10u         /* smallest value of -s mix */
#define MIX_MAX 1000000u    /* largest value of -s mix (under memcached's 1 MiB item limit) */
#define KEY_MAX 32          /* bytes of a key, with its NUL */
#define RBUF 65536          /* bytes of a server connection's read buffer */
#define MIN_OPS 20000.0     /* gets in all, at least (large values fit few items) */

/* The command line. */
static struct {
    const char *backend;  /* "lib" or "mc" */
    const char *addr;     /* mc: socket path, or host:port */
    const char *path;     /* lib: the segment file to create (removed at the end) */
    uint64_t mem_mib;     /* cache size, MiB (lib: the segment's; mc: for fit only) */
    uint32_t vsize;       /* fixed value size; 0: mix */
    unsigned writers;     /* threads */
    double theta;         /* zipfian skew */
    double key_factor;    /* key space / fit */
    double op_factor;     /* operations / fit */
    uint64_t seed;        /* base seed of the generators */
} opt = {"lib", NULL, NULL, 16, 100, 1, 0.99, 4.0, 8.0, 1};

static uint64_t g_keys;   /* key space */
static uint64_t g_ops;    /* gets per writer */
static char *g_value;     /* MIX_MAX bytes of filler, shared by every set */
static shmc_cache *g_cache;

/* What one writer counted. */
typedef struct counts {
    uint64_t gets, hits;          /* second half only */
    uint64_t sets, refused;       /* whole run */
    uint64_t errors;              /* anything else that went wrong */
} counts;

/* One writer thread's state. */
typedef struct writer {
    unsigned id;                  /* 0..writers-1 */
    zipf z;                       /* its generator's parameters */
    bench_rng rng;                /* its random numbers */
    int fd;                       /* mc: its connection */
    char rbuf[RBUF];              /* mc: bytes received, not consumed */
    size_t rlen, rpos;            /* mc: rbuf's fill and read position */
    counts c;                     /* its figures */
    char *vbuf;                   /* lib: MIX_MAX bytes to read values into */
    pthread_t th;                 /* the thread */
} writer;

static atomic_int g_failed;       /* set once the first error is printed */

static void fail(const char *what)
{
    if (!atomic_exchange(&g_failed, 1))
        fprintf(stderr, PROG ": %s\n", what);
}

/* The value size of key k: fixed, or log-uniform in [MIX_MIN, MIX_MAX]. */
static uint32_t value_size(uint64_t k)
{
    if (opt.vsize)
        return opt.vsize;
    double u = (double)(fnv1a64(k ^ 0x5bd1e995u) >> 11) / 9007199254740992.0;
    return (uint32_t)(MIX_MIN * exp(u * log((double)MIX_MAX / MIX_MIN)));
}

/* Mean value size of the stream (for fit). */
static double mean_value_size(void)
{
    if (opt.vsize)
        return opt.vsize;
    return (MIX_MAX - MIX_MIN) / log((double)MIX_MAX / MIX_MIN);
}

static int key_of(uint64_t k, char *out)
{
    return snprintf(out, KEY_MAX, "m:%llu", (unsigned long long)k);
}

/* ------------------------------------------------------------------ */
/* mc: the text protocol                                               */
/* ------------------------------------------------------------------ */

static int mc_connect(void)
{
    int fd;
    if (strchr(opt.addr, '/')) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(opt.addr) >= sizeof sa.sun_path)
            return -1;
        strcpy(sa.sun_path, opt.addr);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
    } else {
        char host[256];
        const char *colon = strrchr(opt.addr, ':');
        if (!colon || (size_t)(colon - opt.addr) >= sizeof host)
            return -1;
        memcpy(host, opt.addr, (size_t)(colon - opt.addr));
        host[colon - opt.addr] = 0;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
        if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
            return -1;
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        int ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        freeaddrinfo(ai);
        if (ok)
            return fd;
    }
    if (fd >= 0)
        close(fd);
    return -1;
}

static bool send_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n > 1024 ? 1024 : n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++, n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return true;
}

static bool fill(writer *w)
{
    if (w->rpos > 0) {
        memmove(w->rbuf, w->rbuf + w->rpos, w->rlen - w->rpos);
        w->rlen -= w->rpos;
        w->rpos = 0;
    }
    if (w->rlen == RBUF)
        return false;
    ssize_t r = read(w->fd, w->rbuf + w->rlen, RBUF - w->rlen);
    if (r <= 0)
        return false;
    w->rlen += (size_t)r;
    return true;
}

/* The next line (without CRLF, NUL-terminated in place), or NULL. */
static char *read_line(writer *w)
{
    for (;;) {
        char *s = w->rbuf + w->rpos;
        char *nl = memchr(s, '\n', w->rlen - w->rpos);
        if (nl) {
            *nl = 0;
            if (nl > s && nl[-1] == '\r')
                nl[-1] = 0;
            w->rpos = (size_t)(nl + 1 - w->rbuf);
            return s;
        }
        if (!fill(w))
            return NULL;
    }
}

/* Drop n bytes of the stream (a value and its CRLF). */
static bool skip(writer *w, uint64_t n)
{
    while (n > 0) {
        if (w->rpos == w->rlen && !fill(w))
            return false;
        size_t take = w->rlen - w->rpos < n ? w->rlen - w->rpos : (size_t)n;
        w->rpos += take;
        n -= take;
    }
    return true;
}

/* Get keys[0..n): hit[i] says which came back. */
static bool mc_get(writer *w, char keys[][KEY_MAX], int n, bool *hit)
{
    struct iovec iov[2 * BATCH + 2];
    int k = 0;
    iov[k++] = (struct iovec){"get", 3};
    for (int i = 0; i < n; i++) {
        iov[k++] = (struct iovec){" ", 1};
        iov[k++] = (struct iovec){keys[i], strlen(keys[i])};
        hit[i] = false;
    }
    iov[k++] = (struct iovec){"\r\n", 2};
    if (!send_all(w->fd, iov, k))
        return false;
    for (;;) {
        char *line = read_line(w);
        if (!line)
            return false;
        if (strcmp(line, "END") == 0)
            return true;
        char key[KEY_MAX];
        unsigned flags;
        unsigned long long bytes;
        if (sscanf(line, "VALUE %31s %u %llu", key, &flags, &bytes) != 3) {
            fail(line);
            return false;
        }
        for (int i = 0; i < n; i++)
            if (strcmp(keys[i], key) == 0)
                hit[i] = true;
        if (!skip(w, bytes + 2))
            return false;
    }
}

/* Set keys[i] for each i with !hit[i], pipelined; counts the answers. */
static bool mc_set(writer *w, char keys[][KEY_MAX], const uint64_t *ids, int n, const bool *hit)
{
    struct iovec iov[3 * BATCH];
    char head[BATCH][96];
    int k = 0, m = 0;
    for (int i = 0; i < n; i++) {
        if (hit[i])
            continue;
        uint32_t len = value_size(ids[i]);
        int hl = snprintf(head[i], sizeof head[i], "set %s 0 0 %u\r\n", keys[i], len);
        iov[k++] = (struct iovec){head[i], (size_t)hl};
        iov[k++] = (struct iovec){g_value, len};
        iov[k++] = (struct iovec){"\r\n", 2};
        m++;
    }
    if (m == 0)
        return true;
    if (!send_all(w->fd, iov, k))
        return false;
    for (int i = 0; i < m; i++) {
        char *line = read_line(w);
        if (!line)
            return false;
        w->c.sets++;
        if (strcmp(line, "STORED") == 0)
            continue;
        if (strcasestr(line, "out of memory"))
            w->c.refused++;
        else {
            w->c.errors++;
            fail(line);
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* lib                                                                 */
/* ------------------------------------------------------------------ */

static void lib_get(writer *w, char keys[][KEY_MAX], int n, bool *hit)
{
    for (int i = 0; i < n; i++) {
        /* a real read: an answer of SHMC_BUFFER_TOO_SMALL would not mark
         * the item used */
        size_t len = MIX_MAX;
        shmc_status st = shmc_get(g_cache, keys[i], strlen(keys[i]), w->vbuf, &len, NULL, NULL);
        hit[i] = st == SHMC_OK;
        if (!hit[i] && st != SHMC_NOT_FOUND) {
            w->c.errors++;
            fail(shmc_strerror(st));
        }
    }
}

static void lib_set(writer *w, char keys[][KEY_MAX], const uint64_t *ids, int n, const bool *hit)
{
    for (int i = 0; i < n; i++) {
        if (hit[i])
            continue;
        shmc_status st = shmc_set(g_cache, keys[i], strlen(keys[i]), g_value,
                                  value_size(ids[i]), 0, 0);
        w->c.sets++;
        if (st == SHMC_NO_MEMORY)
            w->c.refused++;
        else if (st != SHMC_OK) {
            w->c.errors++;
            fail(shmc_strerror(st));
        }
    }
}

/* ------------------------------------------------------------------ */
/* The read-through loop                                               */
/* ------------------------------------------------------------------ */

static void *writer_main(void *arg)
{
    writer *w = arg;
    bool mc = strcmp(opt.backend, "mc") == 0;
    char keys[BATCH][KEY_MAX];
    uint64_t ids[BATCH];
    bool hit[BATCH];
    for (uint64_t done = 0; done < g_ops && !atomic_load(&g_failed); done += BATCH) {
        int n = g_ops - done < BATCH ? (int)(g_ops - done) : BATCH;
        for (int i = 0; i < n; i++) {
            double u = (double)(rng_next(&w->rng) >> 11) / 9007199254740992.0;
            ids[i] = fnv1a64(zipf_item(&w->z, u)) % g_keys;
            key_of(ids[i], keys[i]);
        }
        if (mc) {
            if (!mc_get(w, keys, n, hit) || !mc_set(w, keys, ids, n, hit)) {
                w->c.errors++;
                fail("connection lost or bad answer");
                break;
            }
        } else {
            lib_get(w, keys, n, hit);
            lib_set(w, keys, ids, n, hit);
        }
        if (done >= g_ops / 2)
            for (int i = 0; i < n; i++) {
                w->c.gets++;
                w->c.hits += hit[i];
            }
    }
    return NULL;
}

/* curr_items and evictions from a server's "stats". */
static bool mc_stats(uint64_t *items, uint64_t *evictions)
{
    writer *w = calloc(1, sizeof *w);
    if (!w || (w->fd = mc_connect()) < 0) {
        free(w);
        return false;
    }
    struct iovec iov = {"stats\r\n", 7};
    bool ok = send_all(w->fd, &iov, 1);
    char *line;
    while (ok && (line = read_line(w)) && strcmp(line, "END") != 0) {
        unsigned long long v;
        if (sscanf(line, "STAT curr_items %llu", &v) == 1)
            *items = v;
        if (sscanf(line, "STAT evictions %llu", &v) == 1)
            *evictions = v;
    }
    close(w->fd);
    free(w);
    return ok;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " -b lib -p SEGMENT | -b mc -a ADDR   [options]\n"
            "  -b lib|mc   the library (a fresh segment at -p, removed at the end) or a\n"
            "              memcached-protocol server at -a (socket path or host:port)\n"
            "  -m MIB      cache size in MiB (lib: the segment's; mc: the server's -m) [16]\n"
            "  -s BYTES|mix  value size, or log-uniform 10 B .. 1 MB per key [100]\n"
            "  -w N        writer threads (1..64) [1]\n"
            "  -z THETA    zipfian skew, 0 < THETA < 1 [0.99]\n"
            "  -k F        key space = F x the items that fit [4]\n"
            "  -o F        gets in all = F x the items that fit, at least 20000 [8]\n"
            "  -S SEED     seed [1]\n");
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv)
{
    int c;
    double v;
    while ((c = getopt(argc, argv, "b:a:p:m:s:w:z:k:o:S:h")) != -1) {
        bool ok = true;
        switch (c) {
        case 'b': opt.backend = optarg; ok = !strcmp(optarg, "lib") || !strcmp(optarg, "mc"); break;
        case 'a': opt.addr = optarg; break;
        case 'p': opt.path = optarg; break;
        case 'm': ok = parse_num(optarg, 2, 16384, &v); opt.mem_mib = (uint64_t)v; break;
        case 's':
            if (strcmp(optarg, "mix") == 0)
                opt.vsize = 0;
            else {
                ok = parse_num(optarg, 1, MIX_MAX, &v);
                opt.vsize = (uint32_t)v;
            }
            break;
        case 'w': ok = parse_num(optarg, 1, 64, &v); opt.writers = (unsigned)v; break;
        case 'z': ok = parse_num(optarg, 0.01, 0.999, &opt.theta); break;
        case 'k': ok = parse_num(optarg, 1, 1000, &opt.key_factor); break;
        case 'o': ok = parse_num(optarg, 0.01, 1000, &opt.op_factor); break;
        case 'S': ok = parse_num(optarg, 0, 1e15, &v); opt.seed = (uint64_t)v; break;
        case 'h': usage(); exit(0);
        default: usage(); return 2;
        }
        if (!ok) {
            fprintf(stderr, PROG ": bad value for -%c: %s\n", c, optarg);
            return 2;
        }
    }
    if (optind < argc || (!strcmp(opt.backend, "mc") && !opt.addr) ||
        (!strcmp(opt.backend, "lib") && !opt.path)) {
        usage();
        return 2;
    }
    return 0;
}

static int open_backend(void)
{
    if (strcmp(opt.backend, "lib") != 0)
        return 0;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = opt.mem_mib << 20;
    shmc_status st = shmc_create(opt.path, &cfg, &g_cache);
    if (st != SHMC_OK) {
        fprintf(stderr, PROG ": creating %s: %s\n", opt.path, shmc_strerror(st));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = parse_args(argc, argv);
    if (rc)
        return rc;
    double fit = (double)(opt.mem_mib << 20) / (mean_value_size() + 16);
    g_keys = (uint64_t)(fit * opt.key_factor) + 64;
    double ops = fit * opt.op_factor < MIN_OPS ? MIN_OPS : fit * opt.op_factor;
    g_ops = (uint64_t)(ops / opt.writers) + BATCH;
    g_value = malloc(MIX_MAX);
    writer *ws = calloc(opt.writers, sizeof *ws);
    if (!g_value || !ws || open_backend())
        return 1;
    memset(g_value, 'v', MIX_MAX);
    zipf z;
    zipf_init(&z, g_keys, opt.theta);
    unsigned started = 0;
    for (unsigned i = 0; i < opt.writers; i++) {
        ws[i].id = i;
        ws[i].z = z;
        rng_seed(&ws[i].rng, opt.seed * 1000 + i);
        ws[i].fd = -1;
        if (!(ws[i].vbuf = malloc(MIX_MAX))) {
            atomic_store(&g_failed, 1);
            break;
        }
        if (!strcmp(opt.backend, "mc") && (ws[i].fd = mc_connect()) < 0) {
            fprintf(stderr, PROG ": cannot connect to %s\n", opt.addr);
            atomic_store(&g_failed, 1);
            break;
        }
        if (pthread_create(&ws[i].th, NULL, writer_main, &ws[i]) != 0)
            break;
        started++;
    }
    counts t = {0};
    for (unsigned i = 0; i < started; i++) {
        pthread_join(ws[i].th, NULL);
        if (ws[i].fd >= 0)
            close(ws[i].fd);
        free(ws[i].vbuf);
        t.gets += ws[i].c.gets, t.hits += ws[i].c.hits;
        t.sets += ws[i].c.sets, t.refused += ws[i].c.refused, t.errors += ws[i].c.errors;
    }
    uint64_t items = 0, evictions = 0;
    const char *prot = "-";
    if (g_cache) {
        shmc_stats s;
        shmc_stats_get(g_cache, &s);
        items = s.curr_items, evictions = s.evictions;
        prot = shmc_protection_name(shmc_protection_of(g_cache));
        shmc_close(g_cache);
        shmc_destroy(opt.path);
    } else if (!mc_stats(&items, &evictions)) {
        fail("stats failed");
    }
    char size[16] = "mix";
    if (opt.vsize)
        snprintf(size, sizeof size, "%u", opt.vsize);
    printf("RESULT backend=%s mem=%llu size=%s writers=%u theta=%g keys=%llu ops=%llu "
           "items=%llu refused=%llu sets=%llu gets=%llu hits=%llu hit_ratio=%.4f "
           "evictions=%llu protection=%s\n",
           opt.backend, (unsigned long long)opt.mem_mib,
           size, opt.writers, opt.theta,
           (unsigned long long)g_keys, (unsigned long long)(g_ops * opt.writers),
           (unsigned long long)items, (unsigned long long)t.refused,
           (unsigned long long)t.sets, (unsigned long long)t.gets,
           (unsigned long long)t.hits, t.gets ? (double)t.hits / (double)t.gets : 0.0,
           (unsigned long long)evictions, prot);
    free(ws);
    free(g_value);
    return atomic_load(&g_failed) || started < opt.writers ? 1 : 0;
}
