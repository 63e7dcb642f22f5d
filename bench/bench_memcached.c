/*
 * bench_memcached.c - the same single-thread get/set latency measurement
 * as bench_lib, against a real memcached through libmemcached over a UNIX
 * socket, for scale.  Built by CMake when libmemcached (Debian
 * libmemcached-dev) is installed; bench/run.sh starts memcached and runs it.
 */


#define _GNU_SOURCE
#include "bench_common.h"

#include <errno.h>
#include <getopt.h>
#include <libmemcached/memcached.h>
#include <unistd.h>

#define PROG "memcached_unix"

static struct {
    uint32_t n;
    uint32_t vsize;
    double secs;
    const char *sock;
    const char *csv_path;
    int binary;
    int quick;
    int force_clock;
} opt;

static FILE *csv;
static memcached_st *memc;
static bench_hist hist;

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-s socket] [-n items] [-v value_bytes] [-d secs_per_phase] [-o csv]\n"
            "          [-b] [-q] [-c]\n"
            "  -s  memcached UNIX socket        (default /tmp/shmc-bench-memcached.sock)\n"
            "  -n  items loaded                 (default 100000; -q: 20000)\n"
            "  -v  value size in bytes          (default 100)\n"
            "  -d  seconds per timed phase      (default 3; -q: 1)\n"
            "  -o  CSV file: program,metric,value,unit\n"
            "  -b  binary protocol (default: ASCII, libmemcached's default)\n"
            "  -q  quick mode\n"
            "  -c  time with clock_gettime instead of rdtsc\n",
            argv0);
    exit(2);
}

static double now_s(void)
{
    return (double)bench_mono_ns() / 1e9;
}

static void load(void)
{
    char key[BENCH_KEY_LEN];
    char *val = malloc(opt.vsize + 1);
    uint64_t errors = 0;
    memcached_return_t first = MEMCACHED_SUCCESS;
    double t0 = now_s();
    for (uint32_t i = 0; i < opt.n; i++) {
        bench_key(key, i);
        bench_value(val, opt.vsize, i);
        memcached_return_t rc = memcached_set(memc, key, BENCH_KEY_LEN, val, opt.vsize, 0, 0);
        if (rc != MEMCACHED_SUCCESS) {
            if (!errors)
                first = rc;
            errors++;
        }
    }
    double dt = now_s() - t0;
    free(val);
    printf("load:   %u items of %u bytes in %.3f s = %.0f sets/s\n", opt.n, opt.vsize, dt,
           opt.n / dt);
    if (errors) {
        printf("  %" PRIu64 " sets FAILED, first: %s\n", errors,
               memcached_strerror(memc, first));
        fprintf(stderr, "bench_memcached: is memcached listening on %s?\n", opt.sock);
        exit(1);
    }
    bench_csv(csv, PROG, "load_sets_per_s", opt.n / dt, "ops/s");
}

static uint64_t verify(void)
{
    char key[BENCH_KEY_LEN];
    char *scratch = malloc(opt.vsize + 1);
    uint64_t ok = 0, miss = 0, wrong = 0;
    for (uint32_t i = 0; i < opt.n; i++) {
        bench_key(key, i);
        size_t len = 0;
        uint32_t flags = 0;
        memcached_return_t rc;
        char *v = memcached_get(memc, key, BENCH_KEY_LEN, &len, &flags, &rc);
        if (!v)
            miss++;
        else if (!bench_value_ok(v, len, opt.vsize, i, scratch))
            wrong++;
        else
            ok++;
        free(v);
    }
    free(scratch);
    printf("verify: %" PRIu64 " correct, %" PRIu64 " missing, %" PRIu64 " wrong\n", ok, miss,
           wrong);
    bench_csv(csv, PROG, "verify_missing", (double)miss, "count");
    bench_csv(csv, PROG, "verify_wrong", (double)wrong, "count");
    return miss + wrong;
}

static void lat_get(void)
{
    bench_rng rng;
    rng_seed(&rng, 1);
    char key[BENCH_KEY_LEN];
    uint64_t miss = 0, wrong = 0;
    hist_reset(&hist);
    uint64_t end = bench_mono_ns() + (uint64_t)(opt.secs * 1e9);
    for (;;) {
        for (int k = 0; k < 64; k++) {
            uint32_t i = rng_below(&rng, opt.n);
            bench_key(key, i);
            size_t len = 0;
            uint32_t flags;
            memcached_return_t rc;
            uint64_t t0 = bench_start();
            char *v = memcached_get(memc, key, BENCH_KEY_LEN, &len, &flags, &rc);
            uint64_t t1 = bench_stop();
            hist_record(&hist, bench_elapsed_ns(t0, t1));
            if (!v)
                miss++;
            else if (len != opt.vsize || memcmp(v, key, BENCH_KEY_LEN) != 0)
                wrong++;
            free(v);
        }
        if (bench_mono_ns() >= end)
            break;
    }
    printf("\nsingle-thread latency via libmemcached over a UNIX socket, %u-byte values:\n",
           opt.vsize);
    bench_report_hist(csv, PROG, "get", &hist);
    if (miss || wrong)
        printf("       get: %" PRIu64 " misses, %" PRIu64 " wrong\n", miss, wrong);
    bench_csv(csv, PROG, "get_misses", (double)miss, "count");
}

static void lat_set(void)
{
    bench_rng rng;
    rng_seed(&rng, 2);
    char key[BENCH_KEY_LEN];
    char *val = malloc(opt.vsize + 1);
    uint64_t fail = 0;
    hist_reset(&hist);
    uint64_t end = bench_mono_ns() + (uint64_t)(opt.secs * 1e9);
    for (;;) {
        for (int k = 0; k < 64; k++) {
            uint32_t i = rng_below(&rng, opt.n);
            bench_key(key, i);
            bench_value(val, opt.vsize, i);
            uint64_t t0 = bench_start();
            memcached_return_t rc =
                memcached_set(memc, key, BENCH_KEY_LEN, val, opt.vsize, 0, 0);
            uint64_t t1 = bench_stop();
            hist_record(&hist, bench_elapsed_ns(t0, t1));
            if (rc != MEMCACHED_SUCCESS)
                fail++;
        }
        if (bench_mono_ns() >= end)
            break;
    }
    free(val);
    bench_report_hist(csv, PROG, "set", &hist);
    if (fail)
        printf("       set: %" PRIu64 " failed\n", fail);
    bench_csv(csv, PROG, "set_failures", (double)fail, "count");
}

int main(int argc, char **argv)
{
    long n_set = -1;
    double d_set = -1;
    opt.vsize = 100;
    opt.sock = "/tmp/shmc-bench-memcached.sock";
    int c;
    while ((c = getopt(argc, argv, "s:n:v:d:o:bqch")) != -1) {
        switch (c) {
        case 's': opt.sock = optarg; break;
        case 'n': n_set = atol(optarg); break;
        case 'v': opt.vsize = (uint32_t)atol(optarg); break;
        case 'd':
            d_set = atof(optarg);
            if (d_set <= 0)
                usage(argv[0]);
            break;
        case 'o': opt.csv_path = optarg; break;
        case 'b': opt.binary = 1; break;
        case 'q': opt.quick = 1; break;
        case 'c': opt.force_clock = 1; break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc)
        usage(argv[0]);
    opt.n = n_set > 0 ? (uint32_t)n_set : (opt.quick ? 20000u : 100000u);
    opt.secs = d_set > 0 ? d_set : (opt.quick ? 1.0 : 3.0);
    if (opt.vsize < BENCH_KEY_LEN + 1)
        usage(argv[0]);
    if (opt.csv_path && !(csv = fopen(opt.csv_path, "w"))) {
        perror(opt.csv_path);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    bench_timer_init(opt.force_clock);

    memc = memcached_create(NULL);
    if (!memc) {
        fprintf(stderr, "memcached_create failed\n");
        return 1;
    }
    memcached_return_t rc = memcached_server_add_unix_socket(memc, opt.sock);
    if (rc != MEMCACHED_SUCCESS) {
        fprintf(stderr, "memcached_server_add_unix_socket(%s): %s\n", opt.sock,
                memcached_strerror(memc, rc));
        return 1;
    }
    if (opt.binary)
        memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);

    char tdesc[256];
    printf("memcached via libmemcached %s, UNIX socket %s, %s protocol\n",
           LIBMEMCACHED_VERSION_STRING, opt.sock, opt.binary ? "binary" : "ASCII");
    printf("items %u, key %d B, value %u B; %.1f s per timed phase\n", opt.n, BENCH_KEY_LEN,
           opt.vsize, opt.secs);
    printf("timer: %s\n", bench_timer_desc(tdesc, sizeof tdesc));
    bench_print_load("at start", sysconf(_SC_NPROCESSORS_ONLN));
    printf("\n");
    bench_csv(csv, PROG, "items", opt.n, "count");
    bench_csv(csv, PROG, "loadavg_start", bench_loadavg(), "load");

    load();
    uint64_t problems = verify();
    lat_get();
    lat_set();
    memcached_free(memc);
    if (csv)
        fclose(csv);
    return problems ? 1 : 0;
}
