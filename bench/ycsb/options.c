/*
 * options.c - the YCSB driver's command line: the core workloads' table,
 * the options, their defaults (normal and quick) and their checks.  A bad
 * command line is a message and exit status 2.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "record.h"
#include "ycsb.h"

static const ycsb_workload workloads[] = {
    {'A', {50, 50, 0, 0}, DIST_ZIPFIAN, "update heavy: 50% read, 50% update"},
    {'B', {95, 5, 0, 0}, DIST_ZIPFIAN, "read mostly: 95% read, 5% update"},
    {'C', {100, 0, 0, 0}, DIST_ZIPFIAN, "read only: 100% read"},
    {'D', {95, 0, 5, 0}, DIST_LATEST, "read latest: 95% read, 5% insert"},
    {'E', {0, 0, 5, 0, 95}, DIST_ZIPFIAN, "short ranges: 95% scan of 1-100 records, 5% insert"},
    {'F', {50, 0, 0, 50}, DIST_ZIPFIAN, "read-modify-write: 50% read, 50% rmw"},
};

const char *ycsb_op_name(ycsb_op op)
{
    static const char *const names[OP_COUNT] = {"read", "update", "insert", "rmw", "scan"};
    return op < OP_COUNT ? names[op] : "?";
}

const ycsb_workload *ycsb_workload_find(char c)
{
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
        if (workloads[i].name == toupper((unsigned char)c))
            return &workloads[i];
    return NULL;
}

ycsb_op ycsb_workload_pick(const ycsb_workload *w, uint64_t r)
{
    unsigned x = (unsigned)(r % 100), acc = 0;
    for (int op = 0; op < OP_COUNT; op++) {
        acc += w->pct[op];
        if (x < acc)
            return (ycsb_op)op;
    }
    return OP_READ;
}

/* The backends, built or not: a missing one names its Debian package. */
static const struct {
    const char *name;          /* -b NAME */
    const ycsb_backend *bk;    /* NULL: not built */
    const char *missing;       /* why not, when not built */
} backends[] = {
    {"lib", &ycsb_backend_lib, NULL},
#ifdef YCSB_HAVE_LIBMEMCACHED
    {"mc", &ycsb_backend_mc, NULL},
#else
    {"mc", NULL, "libmemcached (Debian libmemcached-dev)"},
#endif
#ifdef YCSB_HAVE_LMDB
    {"lmdb", &ycsb_backend_lmdb, NULL},
#else
    {"lmdb", NULL, "LMDB (Debian liblmdb-dev)"},
#endif
#ifdef YCSB_HAVE_HIREDIS
    {"redis", &ycsb_backend_redis, NULL},
#else
    {"redis", NULL, "hiredis (Debian libhiredis-dev)"},
#endif
};

const ycsb_backend *ycsb_backend_find(const char *name, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strcmp(name, backends[i].name) != 0)
            continue;
        if (!backends[i].bk)
            snprintf(err, errlen, "backend %s is not built in: %s was missing at build time "
                     "(install it and rebuild)", name, backends[i].missing);
        return backends[i].bk;
    }
    snprintf(err, errlen, "unknown backend '%s' (lib, mc, lmdb or redis)", name);
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: ycsb [-w A-F] [-b lib|mc|lmdb|redis] [-a ADDR] [options]\n"
        "YCSB core workloads against libshmcached (lib), a memcached server (mc),\n"
        "an LMDB environment (lmdb) or a Redis server (redis).\n"
        "  -w W     workload (default A): A 50/50 read/update, B 95/5 read/update,\n"
        "           C read only, D 95/5 read latest/insert, E 95/5 scan/insert\n"
        "           (scans of 1-%d records), F 50/50 read/read-modify-write\n"
        "  -D DIST  key distribution: zipfian|uniform|latest (default: the workload's;\n"
        "           zipfian is YCSB's scrambled zipfian, theta 0.99)\n"
        "  -s SHAPE small = -n 100000 -v 100, large = -n 1000 -v 10240\n"
        "  -n N     records loaded (default 100000)\n"
        "  -v B     value bytes (default 100; at least %d)\n"
        "  -t T     threads per process (default 1)\n"
        "  -P P     processes (default 1; lib: each attaches the segment with shmc_open)\n"
        "  -d S     run phase seconds (default 10; -q: 2)\n"
        "  -o N     run phase operations over all workers, instead of -d\n"
        "  -I N     inserts allowed (D) before the run stops (default: max(records,\n"
        "           512 MB / (value + 64)))\n"
        "  -b B     backend: lib (default), mc, lmdb or redis\n"
        "  -a ADDR  mc, redis: the server, a UNIX socket path (has a '/') or host:port\n"
        "  -B       mc: binary protocol (default text)\n"
        "  -W       lmdb: MDB_WRITEMAP (commits write the map in place; the map is\n"
        "           then writable by the process, no longer read-only)\n"
        "  -L       mc, redis: records already loaded: no flush, no load phase\n"
        "  -f PATH  lib: segment path (default /dev/shm/ycsb-<pid>); lmdb: a new\n"
        "           directory for the environment (default /dev/shm/ycsb-lmdb-<pid>);\n"
        "           destroyed at the end\n"
        "  -m MB    lib: segment size; lmdb: map size (default: from records, inserts\n"
        "           and value size)\n"
        "  -V       verify every value read (key, length, every byte); misses and\n"
        "           wrong values always make the exit status 1\n"
        "  -l NAME  label of this run in the outputs (default: backend name)\n"
        "  -c FILE  append CSV lines (header written to a new file)\n"
        "  -j FILE  append one JSON object (one line) per run\n"
        "  -q       quick: -d 2\n"
        "  -C       time with clock_gettime instead of rdtsc\n"
        "  -h       this help\n",
        YCSB_SCAN_MAX, RECORD_MIN_VALUE);
}

static _Noreturn void bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "ycsb: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(ycsb -h for the options)\n");
    exit(2);
}

/* A whole number in [lo, hi], else exit 2. */
static uint64_t parse_u64(const char *s, const char *opt, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s takes a whole number from %llu to %llu, not '%%s'", opt,
                 (unsigned long long)lo, (unsigned long long)hi);
        bad(msg, s);
    }
    return v;
}

static double parse_secs(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 86400)
        bad("-d takes seconds, more than 0 and at most 86400, not '%s'", s);
    return v;
}

static void set_defaults(ycsb_config *c)
{
    memset(c, 0, sizeof *c);
    c->workload = ycsb_workload_find('A');
    c->dist = DIST_COUNT; /* the workload's */
    c->records = 100000;
    c->value_size = 100;
    c->threads = 1;
    c->processes = 1;
    c->backend = "lib";
}

static void apply_shape(ycsb_config *c, const char *s)
{
    if (strcmp(s, "small") == 0) {
        c->records = 100000;
        c->value_size = 100;
    } else if (strcmp(s, "large") == 0) {
        c->records = 1000;
        c->value_size = 10240;
    } else {
        bad("-s takes small (100000 x 100 B) or large (1000 x 10 KB), not '%s'", s);
    }
}

/* Checks across options, and the defaults that depend on others. */
static void finish(ycsb_config *c)
{
    char err[200];
    if (!ycsb_backend_find(c->backend, err, sizeof err))
        bad("%s", err);
    int server = strcmp(c->backend, "mc") == 0 || strcmp(c->backend, "redis") == 0;
    if (server && !c->address)
        bad("backend %s needs -a (a UNIX socket path or host:port)", c->backend);
    if (!server && (c->address || c->skip_load))
        bad("%s", "-a and -L are for backends mc and redis");
    if (c->binary && strcmp(c->backend, "mc") != 0)
        bad("%s", "-B is for backend mc");
    if (c->writemap && strcmp(c->backend, "lmdb") != 0)
        bad("%s", "-W is for backend lmdb");
    if (server && (c->segment || c->mem_mb))
        bad("%s", "-f and -m are for backends lib and lmdb");
    if (c->dist == DIST_COUNT)
        c->dist = c->workload->dist;
    if (!c->ops && !c->duration)
        c->duration = c->quick ? 2 : 10;
    if (!c->max_inserts) {
        uint64_t by_memory = (512ull << 20) / (c->value_size + 64);
        c->max_inserts = by_memory > c->records ? by_memory : c->records;
    }
    if (!c->label)
        c->label = c->backend;
    if ((uint64_t)c->threads * c->processes > INSERT_WINDOW / 2)
        bad("%s", "-t x -P must be at most 2048");
}

void ycsb_parse_args(int argc, char **argv, ycsb_config *c)
{
    set_defaults(c);
    int ch;
    while ((ch = getopt(argc, argv, "w:D:s:n:v:t:P:d:o:I:b:a:BWLf:m:Vl:c:j:qCh")) != -1) {
        switch (ch) {
        case 'w':
            if (strlen(optarg) != 1 || !(c->workload = ycsb_workload_find(optarg[0])))
                bad("-w takes A, B, C, D, E or F, not '%s'", optarg);
            break;
        case 'D': {
            int d = key_dist_parse(optarg);
            if (d < 0)
                bad("-D takes zipfian, uniform or latest, not '%s'", optarg);
            c->dist = (key_dist)d;
            break;
        }
        case 's': apply_shape(c, optarg); break;
        case 'n': c->records = parse_u64(optarg, "-n", 1, 1000000000); break;
        case 'v': c->value_size = parse_u64(optarg, "-v", RECORD_MIN_VALUE, 64 << 20); break;
        case 't': c->threads = (unsigned)parse_u64(optarg, "-t", 1, 1024); break;
        case 'P': c->processes = (unsigned)parse_u64(optarg, "-P", 1, 256); break;
        case 'd': c->duration = parse_secs(optarg); break;
        case 'o': c->ops = parse_u64(optarg, "-o", 1, UINT64_MAX / 2); break;
        case 'I': c->max_inserts = parse_u64(optarg, "-I", 1, 1ull << 40); break;
        case 'b': c->backend = optarg; break;
        case 'a': c->address = optarg; break;
        case 'B': c->binary = 1; break;
        case 'W': c->writemap = 1; break;
        case 'L': c->skip_load = 1; break;
        case 'f': c->segment = optarg; break;
        case 'm': c->mem_mb = parse_u64(optarg, "-m", 2, 1 << 14); break;
        case 'V': c->verify = 1; break;
        case 'l': c->label = optarg; break;
        case 'c': c->csv_path = optarg; break;
        case 'j': c->json_path = optarg; break;
        case 'q': c->quick = 1; break;
        case 'C': c->force_clock = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc)
        bad("unexpected argument '%s'", argv[optind]);
    if (c->ops && c->duration)
        bad("%s", "give -d or -o, not both");
    finish(c);
}
