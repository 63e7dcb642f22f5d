/*
 * bench_lib.c - benchmark of libshmcached's calls (build/bench_lib).
 *
 * Phases, on a fresh segment created for the run and destroyed at the end:
 *   1. load      n items, keys "key:%010u", values of -v bytes whose first
 *                bytes are the key (so every byte can be checked);
 *   2. verify    get every key and compare the whole value;
 *   3. get       single-thread latency of shmc_get on uniform random
 *                resident keys, each call timed, into a log histogram;
 *   4. set       the same for shmc_set overwriting existing keys;
 *   5. mix       throughput of 1 thread, then of T threads sharing one
 *                handle, each doing r% gets / (100-r)% sets for d seconds;
 *   6. verify    again (after all the overwrites), then shmc_check().
 * See bench/README.md for how to read the output.
 */
#define _GNU_SOURCE
#include "shmcached.h"
#include "bench_common.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#define PROG "shmcached_lib"

static struct {
    uint32_t n;
    uint32_t vsize;
    double secs;
    unsigned threads;
    unsigned read_pct;
    uint64_t mb;     /* 0: computed */
    int hash_power;  /* 0: library default */
    char path[512];
    int quick;
    int force_clock;
    int no_check;
    int own_handles; /* -P: each mix thread opens its own handle */
    const char *csv_path;
} opt;

static FILE *csv;
static shmc_cache *cache;
static volatile sig_atomic_t path_created;

static void on_signal(int sig)
{
    if (path_created)
        unlink(opt.path); /* async-signal-safe; the segment is just a file */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-n items] [-v value_bytes] [-d secs_per_phase] [-t threads]\n"
            "          [-r read_pct] [-m segment_MB] [-H hash_power] [-S path] [-o csv_file]\n"
            "          [-q] [-c] [-C] [-P]\n"
            "  -n  items loaded and kept resident        (default 1000000; -q: 200000)\n"
            "  -v  value size in bytes                   (default 100)\n"
            "  -d  seconds per timed phase               (default 3; -q: 1)\n"
            "  -t  threads of the multi-thread mix phase (default 2)\n"
            "  -r  read percentage of the mix phase      (default 95)\n"
            "  -m  segment item memory in MB             (default: enough for the items)\n"
            "  -H  hash_power of the segment             (default: the library's default)\n"
            "  -S  segment path        (default /dev/shm/shmc-bench-<pid>; destroyed at the end)\n"
            "  -o  write one CSV line per figure: program,metric,value,unit\n"
            "  -q  quick mode (fewer items, shorter phases)\n"
            "  -c  time with clock_gettime(CLOCK_MONOTONIC) instead of rdtsc\n"
            "  -C  skip the final shmc_check() walk\n"
            "  -P  mix threads each open their own handle (shmc_open) instead of sharing one\n",
            argv0);
    exit(2);
}

static void die_status(const char *what, shmc_status st)
{
    fprintf(stderr, "bench_lib: %s: %s (%d)%s%s\n", what, shmc_strerror(st), (int)st,
            st == SHMC_SYSTEM ? ": " : "", st == SHMC_SYSTEM ? strerror(errno) : "");
    if (path_created)
        unlink(opt.path);
    exit(1);
}

static double now_s(void)
{
    return (double)bench_mono_ns() / 1e9;
}

/* ------------------------------------------------------------------ */
/* Load and verification                                               */
/* ------------------------------------------------------------------ */

static void load(void)
{
    char key[BENCH_KEY_LEN];
    char *val = malloc(opt.vsize + 1);
    uint64_t errors = 0;
    shmc_status first_err = SHMC_OK;
    double t0 = now_s();
    for (uint32_t i = 0; i < opt.n; i++) {
        bench_key(key, i);
        bench_value(val, opt.vsize, i);
        shmc_status st = shmc_set(cache, key, BENCH_KEY_LEN, val, opt.vsize, 0, 0);
        if (st != SHMC_OK) {
            if (!errors)
                first_err = st;
            errors++;
        }
    }
    double dt = now_s() - t0;
    free(val);
    printf("load:   %u items of %u bytes in %.3f s = %.0f sets/s (includes page faults "
           "of a fresh segment)%s",
           opt.n, opt.vsize, dt, opt.n / dt, errors ? "" : "\n");
    if (errors)
        printf("; %" PRIu64 " FAILED, first: %s\n", errors, shmc_strerror(first_err));
    bench_csv(csv, PROG, "load_sets_per_s", opt.n / dt, "ops/s");
    bench_csv(csv, PROG, "load_errors", (double)errors, "count");
}

/* Get every key and compare every byte.  Returns misses + wrong. */
static uint64_t verify(const char *label)
{
    char key[BENCH_KEY_LEN];
    size_t cap = opt.vsize + 64;
    char *buf = malloc(cap), *scratch = malloc(cap);
    uint64_t ok = 0, miss = 0, wrong = 0, err = 0;
    double t0 = now_s();
    for (uint32_t i = 0; i < opt.n; i++) {
        bench_key(key, i);
        size_t len = cap;
        uint32_t flags = 0;
        shmc_status st = shmc_get(cache, key, BENCH_KEY_LEN, buf, &len, &flags, NULL);
        if (st == SHMC_NOT_FOUND)
            miss++;
        else if (st != SHMC_OK)
            err++;
        else if (!bench_value_ok(buf, len, opt.vsize, i, scratch) || flags != 0)
            wrong++;
        else
            ok++;
    }
    double dt = now_s() - t0;
    printf("verify (%s): %u keys in %.3f s: %" PRIu64 " correct, %" PRIu64 " missing, %" PRIu64
           " WRONG value, %" PRIu64 " errors%s\n",
           label, opt.n, dt, ok, miss, wrong, err,
           (miss || wrong || err) ? "   <-- NOT ALL CORRECT" : "");
    char m[64];
    snprintf(m, sizeof m, "verify_%s_missing", label);
    bench_csv(csv, PROG, m, (double)miss, "count");
    snprintf(m, sizeof m, "verify_%s_wrong", label);
    bench_csv(csv, PROG, m, (double)(wrong + err), "count");
    free(buf);
    free(scratch);
    return miss + wrong + err;
}

/* ------------------------------------------------------------------ */
/* Single-thread latency                                               */
/* ------------------------------------------------------------------ */

static bench_hist hist;

/* Untimed random gets, to fault in and warm caches/predictors. */
static void warmup(double secs)
{
    bench_rng rng;
    rng_seed(&rng, 99);
    char key[BENCH_KEY_LEN];
    char buf[4096];
    char *big = opt.vsize + 64 > sizeof buf ? malloc(opt.vsize + 64) : buf;
    double end = now_s() + secs;
    for (;;) {
        for (int k = 0; k < 1024; k++) {
            bench_key(key, rng_below(&rng, opt.n));
            size_t len = opt.vsize + 64;
            (void)shmc_get(cache, key, BENCH_KEY_LEN, big, &len, NULL, NULL);
        }
        if (now_s() >= end)
            break;
    }
    if (big != buf)
        free(big);
}

static void lat_get(void)
{
    bench_rng rng;
    rng_seed(&rng, 1);
    char key[BENCH_KEY_LEN];
    size_t cap = opt.vsize + 64;
    char *buf = malloc(cap);
    uint64_t miss = 0, wrong = 0;
    hist_reset(&hist);
    uint64_t end = bench_mono_ns() + (uint64_t)(opt.secs * 1e9);
    for (;;) {
        for (int k = 0; k < 256; k++) {
            uint32_t i = rng_below(&rng, opt.n);
            bench_key(key, i);
            size_t len = cap;
            uint64_t t0 = bench_start();
            shmc_status st = shmc_get(cache, key, BENCH_KEY_LEN, buf, &len, NULL, NULL);
            uint64_t t1 = bench_stop();
            hist_record(&hist, bench_elapsed_ns(t0, t1));
            if (st != SHMC_OK)
                miss++;
            else if (len != opt.vsize || memcmp(buf, key, BENCH_KEY_LEN) != 0)
                wrong++;
        }
        if (bench_mono_ns() >= end)
            break;
    }
    free(buf);
    printf("\nsingle-thread latency, uniform random resident keys, %u-byte values:\n",
           opt.vsize);
    bench_report_hist(csv, PROG, "get", &hist);
    if (miss || wrong)
        printf("       get: %" PRIu64 " misses, %" PRIu64 " wrong values   <-- SHOULD BE 0\n",
               miss, wrong);
    bench_csv(csv, PROG, "get_misses", (double)miss, "count");
    bench_csv(csv, PROG, "get_wrong", (double)wrong, "count");
}

static void lat_set(void)
{
    bench_rng rng;
    rng_seed(&rng, 2);
    char key[BENCH_KEY_LEN];
    char *val = malloc(opt.vsize + 1);
    uint64_t fail = 0;
    shmc_status first = SHMC_OK;
    hist_reset(&hist);
    uint64_t end = bench_mono_ns() + (uint64_t)(opt.secs * 1e9);
    for (;;) {
        for (int k = 0; k < 256; k++) {
            uint32_t i = rng_below(&rng, opt.n);
            bench_key(key, i);
            bench_value(val, opt.vsize, i);
            uint64_t t0 = bench_start();
            shmc_status st = shmc_set(cache, key, BENCH_KEY_LEN, val, opt.vsize, 0, 0);
            uint64_t t1 = bench_stop();
            hist_record(&hist, bench_elapsed_ns(t0, t1));
            if (st != SHMC_OK) {
                if (!fail)
                    first = st;
                fail++;
            }
        }
        if (bench_mono_ns() >= end)
            break;
    }
    free(val);
    bench_report_hist(csv, PROG, "set", &hist);
    if (fail)
        printf("       set: %" PRIu64 " FAILED (first: %s)   <-- SHOULD BE 0\n", fail,
               shmc_strerror(first));
    bench_csv(csv, PROG, "set_failures", (double)fail, "count");
}

/* ------------------------------------------------------------------ */
/* Multi-thread throughput                                             */
/* ------------------------------------------------------------------ */

typedef struct worker {
    pthread_t tid;
    unsigned id;
    shmc_cache *h; /* the handle this thread uses */
    uint64_t ops, gets, sets, miss, wrong, fail;
    double secs;     /* wall time of the run */
    double cpu_secs; /* CPU time this thread used (CLOCK_THREAD_CPUTIME_ID) */
    long vcsw, ivcsw; /* voluntary (blocked, e.g. on a futex) / involuntary (preempted)
                         context switches during the run */
    char pad[64];
} worker;

static pthread_barrier_t start_barrier;
static atomic_int stop_flag;

static void *worker_main(void *arg)
{
    worker *w = arg;
    bench_rng rng;
    rng_seed(&rng, 1000 + w->id);
    char key[BENCH_KEY_LEN];
    size_t cap = opt.vsize + 64;
    char *buf = malloc(cap), *val = malloc(opt.vsize + 1);
    /* r% of 2^16 as a threshold on 16 random bits. */
    uint32_t thresh = (uint32_t)((opt.read_pct * 65536u) / 100u);
    uint64_t ops = 0, gets = 0, sets = 0, miss = 0, wrong = 0, fail = 0;
    shmc_cache *h = w->h;

    pthread_barrier_wait(&start_barrier);
    struct timespec c0, c1;
    struct rusage u0, u1;
    getrusage(RUSAGE_THREAD, &u0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    uint64_t t0 = bench_mono_ns();
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        for (int k = 0; k < 64; k++) {
            uint64_t r = rng_next(&rng);
            uint32_t i = (uint32_t)(((r >> 32) * (uint64_t)opt.n) >> 32);
            bench_key(key, i);
            if ((uint32_t)(r & 0xffff) < thresh) {
                size_t len = cap;
                shmc_status st = shmc_get(h, key, BENCH_KEY_LEN, buf, &len, NULL, NULL);
                gets++;
                if (st != SHMC_OK)
                    miss++;
                else if (len != opt.vsize || memcmp(buf, key, BENCH_KEY_LEN) != 0)
                    wrong++;
            } else {
                bench_value(val, opt.vsize, i);
                if (shmc_set(h, key, BENCH_KEY_LEN, val, opt.vsize, 0, 0) != SHMC_OK)
                    fail++;
                sets++;
            }
        }
        ops += 64;
    }
    w->secs = (double)(bench_mono_ns() - t0) / 1e9;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    getrusage(RUSAGE_THREAD, &u1);
    w->vcsw = u1.ru_nvcsw - u0.ru_nvcsw;
    w->ivcsw = u1.ru_nivcsw - u0.ru_nivcsw;
    w->cpu_secs = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    w->ops = ops;
    w->gets = gets;
    w->sets = sets;
    w->miss = miss;
    w->wrong = wrong;
    w->fail = fail;
    free(buf);
    free(val);
    return NULL;
}

/* Runs the mix on nthreads threads for opt.secs; returns total ops/s
 * (wall clock) and *per_cpu, total ops per CPU-second the threads used. */
static double run_mix(unsigned nthreads, double *per_cpu)
{
    worker *ws = calloc(nthreads, sizeof *ws);
    atomic_store(&stop_flag, 0);
    pthread_barrier_init(&start_barrier, NULL, nthreads + 1);
    for (unsigned t = 0; t < nthreads; t++) {
        ws[t].id = t + 100 * nthreads;
        ws[t].h = cache;
        if (opt.own_handles) {
            shmc_status st = shmc_open(opt.path, &ws[t].h);
            if (st != SHMC_OK)
                die_status("shmc_open (-P)", st);
        }
        if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    pthread_barrier_wait(&start_barrier);
    struct timespec ts = {(time_t)opt.secs, (long)((opt.secs - (double)(time_t)opt.secs) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    atomic_store(&stop_flag, 1);
    double rate = 0, cpu = 0;
    long vcsw = 0, ivcsw = 0;
    uint64_t ops = 0, gets = 0, sets = 0, miss = 0, wrong = 0, fail = 0;
    for (unsigned t = 0; t < nthreads; t++) {
        pthread_join(ws[t].tid, NULL);
        if (opt.own_handles)
            shmc_close(ws[t].h);
        rate += (double)ws[t].ops / ws[t].secs;
        cpu += ws[t].cpu_secs;
        vcsw += ws[t].vcsw;
        ivcsw += ws[t].ivcsw;
        ops += ws[t].ops;
        gets += ws[t].gets;
        sets += ws[t].sets;
        miss += ws[t].miss;
        wrong += ws[t].wrong;
        fail += ws[t].fail;
    }
    pthread_barrier_destroy(&start_barrier);
    *per_cpu = cpu > 0 ? (double)ops / cpu : 0;
    printf("  %2u thread%s %12.0f ops/s  (%.0f ns/op per thread; %" PRIu64 " gets, %" PRIu64
           " sets; CPU %.2f s of %.2f s x %u = %.0f ops per CPU-second",
           nthreads, nthreads == 1 ? " " : "s", rate, 1e9 * nthreads / rate, gets, sets, cpu,
           opt.secs, nthreads, *per_cpu);
    if (miss || wrong || fail)
        printf("; %" PRIu64 " get misses, %" PRIu64 " wrong values, %" PRIu64
               " failed sets  <-- SHOULD BE 0",
               miss, wrong, fail);
    printf(")\n");
    printf("             context switches: %ld voluntary (blocked, e.g. waiting for a lock), "
           "%ld involuntary (preempted by other work)\n",
           vcsw, ivcsw);
    char m[64];
    snprintf(m, sizeof m, "mix_%ut_ops_per_s", nthreads);
    bench_csv(csv, PROG, m, rate, "ops/s");
    snprintf(m, sizeof m, "mix_%ut_ops_per_cpu_s", nthreads);
    bench_csv(csv, PROG, m, *per_cpu, "ops/cpu-s");
    snprintf(m, sizeof m, "mix_%ut_voluntary_csw", nthreads);
    bench_csv(csv, PROG, m, (double)vcsw, "count");
    snprintf(m, sizeof m, "mix_%ut_involuntary_csw", nthreads);
    bench_csv(csv, PROG, m, (double)ivcsw, "count");
    snprintf(m, sizeof m, "mix_%ut_errors", nthreads);
    bench_csv(csv, PROG, m, (double)(miss + wrong + fail), "count");
    free(ws);
    return rate;
}

/* ------------------------------------------------------------------ */

static uint64_t parse_u(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "bench_lib: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    long n_set = -1;
    double d_set = -1;
    opt.vsize = 100;
    opt.threads = 2;
    opt.read_pct = 95;
    int c;
    while ((c = getopt(argc, argv, "n:v:d:t:r:m:H:S:o:qcCPh")) != -1) {
        switch (c) {
        case 'n': n_set = (long)parse_u(optarg, "-n"); break;
        case 'v': opt.vsize = (uint32_t)parse_u(optarg, "-v"); break;
        case 'd':
            d_set = atof(optarg);
            if (d_set <= 0)
                usage(argv[0]);
            break;
        case 't': opt.threads = (unsigned)parse_u(optarg, "-t"); break;
        case 'r': opt.read_pct = (unsigned)parse_u(optarg, "-r"); break;
        case 'm': opt.mb = parse_u(optarg, "-m"); break;
        case 'H': opt.hash_power = (int)parse_u(optarg, "-H"); break;
        case 'S': snprintf(opt.path, sizeof opt.path, "%s", optarg); break;
        case 'o': opt.csv_path = optarg; break;
        case 'q': opt.quick = 1; break;
        case 'c': opt.force_clock = 1; break;
        case 'C': opt.no_check = 1; break;
        case 'P': opt.own_handles = 1; break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc)
        usage(argv[0]);
    opt.n = n_set >= 0 ? (uint32_t)n_set : (opt.quick ? 200000u : 1000000u);
    opt.secs = d_set > 0 ? d_set : (opt.quick ? 1.0 : 3.0);
    if (opt.n < 1 || opt.threads < 1 || opt.threads > 1024 || opt.read_pct > 100 ||
        opt.vsize < BENCH_KEY_LEN + 1)
        usage(argv[0]);
    if (!opt.path[0])
        snprintf(opt.path, sizeof opt.path, "/dev/shm/shmc-bench-%ld", (long)getpid());
    if (opt.csv_path) {
        csv = fopen(opt.csv_path, "w");
        if (!csv) {
            perror(opt.csv_path);
            return 1;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    bench_timer_init(opt.force_clock);

    shmc_config cfg;
    shmc_config_init(&cfg);
    if (!opt.mb) {
        /* item = header + key + value, rounded up by the slab classes
         * (factor <= 1.25) plus per-class partial pages: x1.5 + 64 MB. */
        double per = (double)(shmc_item_overhead() + BENCH_KEY_LEN + opt.vsize + 8) * 1.5;
        opt.mb = (uint64_t)(per * opt.n / (1 << 20)) + 65;
    }
    cfg.mem_bytes = opt.mb << 20;
    if (cfg.item_size_max < opt.vsize + 1024u)
        cfg.item_size_max = opt.vsize + 1024u;
    if (opt.hash_power)
        cfg.hash_power = (uint32_t)opt.hash_power;

    char tdesc[256];
    printf("shmcached %s library benchmark\n", SHMC_VERSION_STRING);
    printf("segment: %s, %" PRIu64 " MB items, hash_power %u%s, item_size_max %u, "
           "item overhead %zu B\n",
           opt.path, opt.mb, cfg.hash_power, opt.hash_power ? "" : " (library default)",
           cfg.item_size_max, shmc_item_overhead());
    printf("items %u, key %d B, value %u B; %.1f s per timed phase; mix %u%% get / %u%% set, "
           "1 and %u threads on one handle; %ld CPUs online\n",
           opt.n, BENCH_KEY_LEN, opt.vsize, opt.secs, opt.read_pct, 100 - opt.read_pct,
           opt.threads, sysconf(_SC_NPROCESSORS_ONLN));
    printf("timer: %s\n", bench_timer_desc(tdesc, sizeof tdesc));
    bench_print_load("at start", sysconf(_SC_NPROCESSORS_ONLN));
    printf("\n");
    bench_csv(csv, PROG, "items", opt.n, "count");
    bench_csv(csv, PROG, "value_bytes", opt.vsize, "bytes");
    bench_csv(csv, PROG, "loadavg_start", bench_loadavg(), "load");
    bench_csv(csv, PROG, "timer_overhead_ns", bench_tm.overhead_ns, "ns");

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    shmc_status st = shmc_create(opt.path, &cfg, &cache);
    if (st != SHMC_OK)
        die_status("shmc_create", st);
    path_created = 1;

    uint64_t problems = 0;
    load();
    problems += verify("after_load");

    warmup(opt.quick ? 0.2 : 0.5);
    lat_get();
    lat_set();

    printf("\nthroughput, %u%% get / %u%% set, uniform random keys, %s:\n", opt.read_pct,
           100 - opt.read_pct,
           opt.own_handles ? "one handle per thread (-P)" : "one shared handle");
    double c1, ct;
    double r1 = run_mix(1, &c1);
    double rt = run_mix(opt.threads, &ct);
    printf("  ratio %u threads / 1 thread: %.2fx (wall-clock ops/s: the figure)\n", opt.threads,
           rt / r1);
    printf("  (CPU-normalized: %u x (ops per CPU-second of %u threads / of 1) = %.2fx, what the\n"
           "   ratio would be if every thread had a core to itself; a diagnostic for a busy\n"
           "   machine, not the figure)\n",
           opt.threads, opt.threads, opt.threads * ct / c1);
    char m[64];
    snprintf(m, sizeof m, "mix_%ut_over_1t_ratio", opt.threads);
    bench_csv(csv, PROG, m, rt / r1, "x");
    snprintf(m, sizeof m, "mix_%ut_over_1t_cpu_normalized_ratio", opt.threads);
    bench_csv(csv, PROG, m, opt.threads * ct / c1, "x");

    printf("\n");
    problems += verify("at_end");

    shmc_stats s;
    if (shmc_stats_get(cache, &s) == SHMC_OK) {
        printf("stats: curr_items %" PRIu64 ", evictions %" PRIu64 ", get_hits %" PRIu64
               ", get_misses %" PRIu64 ", bytes %" PRIu64 " of %" PRIu64
               ", hash_power_level %" PRIu64 " (%" PRIu64 " buckets), pages %" PRIu64
               " (%" PRIu64 " free)\n",
               s.curr_items, s.evictions, s.get_hits, s.get_misses, s.bytes, s.limit_maxbytes,
               s.hash_power_level, s.hash_buckets, s.total_pages, s.free_pages);
        bench_csv(csv, PROG, "evictions", (double)s.evictions, "count");
        bench_csv(csv, PROG, "curr_items", (double)s.curr_items, "count");
        if (s.evictions)
            printf("  (evictions > 0: the segment is too small for the items; raise -m)\n");
    }
    if (!opt.no_check) {
        double t0 = now_s();
        unsigned bad = shmc_check(cache, stdout);
        printf("shmc_check: %u problem%s (%.2f s)\n", bad, bad == 1 ? "" : "s", now_s() - t0);
        bench_csv(csv, PROG, "check_problems", bad, "count");
        problems += bad;
    }

    bench_print_load("at end", sysconf(_SC_NPROCESSORS_ONLN));
    bench_csv(csv, PROG, "loadavg_end", bench_loadavg(), "load");
    shmc_close(cache);
    st = shmc_destroy(opt.path);
    path_created = 0;
    if (st != SHMC_OK) {
        fprintf(stderr, "bench_lib: shmc_destroy: %s\n", shmc_strerror(st));
        unlink(opt.path);
    }
    if (csv)
        fclose(csv);
    printf("%s\n", problems ? "RESULT: PROBLEMS FOUND (see above)" : "RESULT: all values verified");
    return problems ? 1 : 0;
}
