/*
 * runner.c - the YCSB driver's load and run phases: worker threads (and
 * forked worker processes), the start line every worker waits at, the
 * per-operation loop that times each call, the once-a-second progress
 * line, and merging the workers' results.
 */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

/* What one worker thread needs. */
typedef struct worker_ctx {
    const ycsb_config *cfg;     /* the run */
    const ycsb_backend *bk;     /* the backend */
    const record_fmt *fmt;      /* value format */
    ycsb_shared *sh;            /* shared area */
    ycsb_worker *w;             /* this worker's results (in sh) */
    unsigned id;                /* worker number, 0..nworkers-1 (seeds its keys) */
    uint64_t budget;            /* operations to do with -o (0: until stopped) */
    uint64_t load_from, load_to; /* load phase: records [from, to) */
    void *conn;                 /* the backend connection */
    keygen keys;                /* key chooser */
    char key[RECORD_KEY_LEN];   /* the current key */
    char *val;                  /* value to write (vlen bytes) */
    char *buf;                  /* value read (2 x vlen capacity, to see long ones) */
    char *scan_keys;            /* a scan's keys, YCSB_SCAN_MAX x RECORD_KEY_LEN (E only) */
    char *scan_bufs;            /* a scan's values, YCSB_SCAN_MAX x 2 x vlen (E only) */
    size_t *scan_lens;          /* a scan's value lengths, YCSB_SCAN_MAX (E only) */
} __attribute__((aligned(64))) worker_ctx; /* whole lines: see ctx_array */

/*
 * n zeroed contexts, each on cache lines of its own.  A worker writes its
 * key and random state every operation and reads its neighbour's line
 * never: with calloc's 16-byte alignment one worker's key could share a
 * line with the next one's cfg/bk pointers, and in the far vCPU placement
 * that false sharing cost the 10 KB runs about 400 ns an operation.
 */
static worker_ctx *ctx_array(unsigned n)
{
    worker_ctx *ctx = aligned_alloc(_Alignof(worker_ctx), (size_t)n * sizeof *ctx);
    if (ctx)
        memset(ctx, 0, (size_t)n * sizeof *ctx);
    return ctx;
}

void runner_timer_init(int force_clock, char *buf, size_t cap)
{
    bench_timer_init(force_clock);
    bench_timer_desc(buf, cap);
}

static size_t shared_size(const ycsb_config *cfg)
{
    return sizeof(ycsb_shared) + (size_t)cfg->threads * cfg->processes * sizeof(ycsb_worker);
}

ycsb_shared *runner_shared_new(const ycsb_config *cfg)
{
    ycsb_shared *sh = mmap(NULL, shared_size(cfg), PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return NULL;
    sh->nworkers = cfg->threads * cfg->processes;
    for (unsigned i = 0; i < sh->nworkers; i++)
        for (int op = 0; op < OP_COUNT; op++)
            hist_reset(&sh->w[i].hist[op]);
    insert_counter_init(&sh->inserts, cfg->records, cfg->max_inserts);
    return sh;
}

void runner_shared_free(ycsb_shared *sh, const ycsb_config *cfg)
{
    munmap(sh, shared_size(cfg));
}

void runner_request_stop(ycsb_shared *sh)
{
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
}

static int stopping(const ycsb_shared *sh)
{
    return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED);
}

static double now_s(void)
{
    return (double)bench_mono_ns() / 1e9;
}

/* Open the connection and the buffers; 0, or -1 (message printed). */
static int ctx_open(worker_ctx *c)
{
    char err[256] = "";
    size_t vlen = c->cfg->value_size;
    c->val = malloc(vlen);
    c->buf = malloc(2 * vlen);
    int scans = c->cfg->workload->pct[OP_SCAN] != 0;
    if (scans) {
        c->scan_keys = malloc(YCSB_SCAN_MAX * RECORD_KEY_LEN);
        c->scan_bufs = malloc(YCSB_SCAN_MAX * 2 * vlen);
        c->scan_lens = malloc(YCSB_SCAN_MAX * sizeof *c->scan_lens);
    }
    int scan_ok = !scans || (c->scan_keys && c->scan_bufs && c->scan_lens);
    c->conn = c->bk->open(c->cfg, err, sizeof err);
    if (!c->conn || !c->val || !c->buf || !scan_ok) {
        fprintf(stderr, "ycsb: worker %u: %s\n", c->id, err[0] ? err : "out of memory");
        return -1;
    }
    return 0;
}

static void ctx_close(worker_ctx *c)
{
    if (c->conn)
        c->bk->close(c->conn);
    free(c->val);
    free(c->buf);
    free(c->scan_keys);
    free(c->scan_bufs);
    free(c->scan_lens);
}

/* Judge a read of record k into buf: miss, wrong (length, or every byte
 * with -V), error; *ver gets its version.  1 if the value is good. */
static int judge_value(worker_ctx *c, ycsb_op op, bk_status st, uint64_t k, const char *buf,
                       size_t len, uint32_t *ver)
{
    ycsb_worker *w = c->w;
    if (st == BK_MISS) {
        w->misses[op]++;
        return 0;
    }
    if (st == BK_ERROR) {
        w->errors[op]++;
        return 0;
    }
    int ok = c->cfg->verify ? record_check(c->fmt, buf, len, k, ver)
                            : (len == c->cfg->value_size);
    if (!ok) {
        w->wrong[op]++;
        return 0;
    }
    if (!c->cfg->verify)
        *ver = record_version(buf, len);
    return 1;
}

/* judge_value of a single read (into c->buf). */
static int judge_read(worker_ctx *c, ycsb_op op, bk_status st, uint64_t k, size_t len,
                      uint32_t *ver)
{
    return judge_value(c, op, st, k, c->buf, len, ver);
}

static void op_read(worker_ctx *c)
{
    uint64_t k = keygen_next(&c->keys);
    record_key(c->key, k);
    size_t len = 0;
    uint64_t t0 = bench_start();
    bk_status st = c->bk->read(c->conn, c->key, RECORD_KEY_LEN, c->buf, 2 * c->fmt->vlen, &len);
    uint64_t t1 = bench_stop();
    hist_record(&c->w->hist[OP_READ], bench_elapsed_ns(t0, t1));
    uint32_t ver;
    judge_read(c, OP_READ, st, k, len, &ver);
}

static void op_update(worker_ctx *c)
{
    uint64_t k = keygen_next(&c->keys);
    record_key(c->key, k);
    record_value(c->fmt, c->val, k, (uint32_t)(keygen_rand(&c->keys) % 1000000000u));
    uint64_t t0 = bench_start();
    bk_status st = c->bk->update(c->conn, c->key, RECORD_KEY_LEN, c->val, c->fmt->vlen);
    uint64_t t1 = bench_stop();
    hist_record(&c->w->hist[OP_UPDATE], bench_elapsed_ns(t0, t1));
    if (st != BK_OK)
        c->w->errors[OP_UPDATE]++;
}

/* 0, or -1 when the insert limit is reached (the run stops, nothing counted). */
static int op_insert(worker_ctx *c)
{
    uint64_t k = insert_claim(&c->sh->inserts);
    if (k == UINT64_MAX) {
        __atomic_store_n(&c->sh->insert_limit_hit, 1, __ATOMIC_RELAXED);
        runner_request_stop(c->sh);
        return -1;
    }
    record_key(c->key, k);
    record_value(c->fmt, c->val, k, 0);
    uint64_t t0 = bench_start();
    bk_status st = c->bk->insert(c->conn, c->key, RECORD_KEY_LEN, c->val, c->fmt->vlen);
    uint64_t t1 = bench_stop();
    insert_ack(&c->sh->inserts, k);
    hist_record(&c->w->hist[OP_INSERT], bench_elapsed_ns(t0, t1));
    if (st != BK_OK)
        c->w->errors[OP_INSERT]++;
    return 0;
}

/* Read a record, then write it back at the next version: timed as one. */
static void op_rmw(worker_ctx *c)
{
    uint64_t k = keygen_next(&c->keys);
    record_key(c->key, k);
    size_t len = 0;
    uint32_t ver = 0;
    uint64_t t0 = bench_start();
    bk_status st = c->bk->read(c->conn, c->key, RECORD_KEY_LEN, c->buf, 2 * c->fmt->vlen, &len);
    int ok = judge_read(c, OP_RMW, st, k, len, &ver);
    if (ok) {
        record_value(c->fmt, c->val, k, ver + 1);
        st = c->bk->update(c->conn, c->key, RECORD_KEY_LEN, c->val, c->fmt->vlen);
        if (st != BK_OK)
            c->w->errors[OP_RMW]++;
    }
    uint64_t t1 = bench_stop();
    hist_record(&c->w->hist[OP_RMW], bench_elapsed_ns(t0, t1));
}

/* Scan: from a record of the workload's distribution, 1 to YCSB_SCAN_MAX
 * records on (uniform), stopping before the first record not known to
 * exist; timed as one operation, every record judged as a read.  A missing
 * record counts one miss, a wrong one one wrong value. */
static void op_scan(worker_ctx *c)
{
    uint64_t first = keygen_next(&c->keys);
    uint64_t n = 1 + keygen_rand(&c->keys) % YCSB_SCAN_MAX;
    uint64_t end = insert_acked(&c->sh->inserts);
    if (first + n > end)
        n = end > first ? end - first : 1;
    for (uint64_t i = 0; i < n; i++)
        record_key(c->scan_keys + i * RECORD_KEY_LEN, first + i);
    size_t cap = 2 * c->fmt->vlen;
    uint64_t t0 = bench_start();
    bk_status st = c->bk->scan(c->conn, c->scan_keys, RECORD_KEY_LEN, (unsigned)n, c->scan_bufs,
                               cap, c->scan_lens);
    uint64_t t1 = bench_stop();
    hist_record(&c->w->hist[OP_SCAN], bench_elapsed_ns(t0, t1));
    if (st != BK_OK) {
        c->w->errors[OP_SCAN]++;
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        size_t len = c->scan_lens[i];
        uint32_t ver;
        judge_value(c, OP_SCAN, len == BK_ABSENT ? BK_MISS : BK_OK, first + i,
                    c->scan_bufs + i * cap, len, &ver);
    }
}

/* One operation of the workload's mix; -1 when the run must end. */
static int do_one(worker_ctx *c)
{
    ycsb_op op = ycsb_workload_pick(c->cfg->workload, keygen_rand(&c->keys));
    switch (op) {
    case OP_READ: op_read(c); break;
    case OP_UPDATE: op_update(c); break;
    case OP_INSERT:
        if (op_insert(c) < 0)
            return -1;
        break;
    case OP_RMW: op_rmw(c); break;
    case OP_SCAN: op_scan(c); break;
    default: break;
    }
    c->w->count[op]++;
    return 0;
}

/* Count this worker ready, then wait for the start signal. */
static void start_line(ycsb_shared *sh)
{
    __atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE) && !stopping(sh))
        usleep(200);
}

static void *run_worker(void *arg)
{
    worker_ctx *c = arg;
    int ok = ctx_open(c) == 0;
    keygen_init(&c->keys, c->cfg->dist, c->cfg->records, &c->sh->inserts, c->id + 1);
    if (!ok) {
        c->w->errors[OP_READ]++;
        runner_request_stop(c->sh);
    }
    start_line(c->sh);
    uint64_t n = 0;
    while (ok && !stopping(c->sh) && (!c->budget || n < c->budget)) {
        if (do_one(c) < 0)
            break;
        if ((++n & 63) == 0)
            __atomic_store_n(&c->w->progress, n, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&c->w->progress, n, __ATOMIC_RELAXED);
    ctx_close(c);
    __atomic_add_fetch(&c->sh->finished, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

static void *load_worker(void *arg)
{
    worker_ctx *c = arg;
    if (ctx_open(c) < 0) {
        c->w->errors[OP_INSERT]++;
        ctx_close(c);
        return NULL;
    }
    for (uint64_t k = c->load_from; k < c->load_to && !stopping(c->sh); k++) {
        record_key(c->key, k);
        record_value(c->fmt, c->val, k, 0);
        if (c->bk->insert(c->conn, c->key, RECORD_KEY_LEN, c->val, c->fmt->vlen) != BK_OK)
            c->w->errors[OP_INSERT]++;
    }
    ctx_close(c);
    return NULL;
}

static worker_ctx make_ctx(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
                           ycsb_shared *sh, unsigned id)
{
    worker_ctx c = {.cfg = cfg, .bk = bk, .fmt = fmt, .sh = sh, .w = &sh->w[id], .id = id};
    if (cfg->ops) {
        uint64_t n = sh->nworkers;
        c.budget = cfg->ops / n + (id < cfg->ops % n ? 1 : 0);
    }
    return c;
}

int runner_load(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
                ycsb_shared *sh, ycsb_result *res)
{
    unsigned t = cfg->threads;
    worker_ctx *ctx = ctx_array(t);
    pthread_t *tid = calloc(t, sizeof *tid);
    if (!ctx || !tid)
        return -1;
    double t0 = now_s();
    for (unsigned i = 0; i < t; i++) {
        ctx[i] = make_ctx(cfg, bk, fmt, sh, i);
        ctx[i].load_from = cfg->records * i / t;
        ctx[i].load_to = cfg->records * (i + 1) / t;
        pthread_create(&tid[i], NULL, load_worker, &ctx[i]);
    }
    for (unsigned i = 0; i < t; i++)
        pthread_join(tid[i], NULL);
    res->load_seconds = now_s() - t0;
    for (unsigned i = 0; i < t; i++) {
        res->load_errors += sh->w[i].errors[OP_INSERT];
        sh->w[i].errors[OP_INSERT] = 0;
    }
    free(ctx);
    free(tid);
    return 0;
}

/* Start this process's share of workers (ids first..first+t-1) as threads. */
static int start_threads(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
                         ycsb_shared *sh, unsigned first, worker_ctx *ctx, pthread_t *tid)
{
    for (unsigned i = 0; i < cfg->threads; i++) {
        ctx[i] = make_ctx(cfg, bk, fmt, sh, first + i);
        int e = pthread_create(&tid[i], NULL, run_worker, &ctx[i]);
        if (e) {
            fprintf(stderr, "ycsb: pthread_create: %s\n", strerror(e));
            return -1;
        }
    }
    return 0;
}

/* A forked worker process: attach, run its threads, detach, exit. */
static _Noreturn void worker_process(const ycsb_config *cfg, const ycsb_backend *bk,
                                     const record_fmt *fmt, ycsb_shared *sh, unsigned p)
{
    char err[256] = "";
    worker_ctx ctx[cfg->threads];
    pthread_t tid[cfg->threads];
    if (bk->proc_open && bk->proc_open(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "ycsb: process %u: %s\n", p, err);
        runner_request_stop(sh);
        _exit(1);
    }
    if (start_threads(cfg, bk, fmt, sh, p * cfg->threads, ctx, tid) < 0) {
        runner_request_stop(sh);
        _exit(1);
    }
    for (unsigned i = 0; i < cfg->threads; i++)
        pthread_join(tid[i], NULL);
    if (bk->proc_close)
        bk->proc_close();
    _exit(0);
}

static uint64_t progress_sum(const ycsb_shared *sh)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < sh->nworkers; i++)
        n += __atomic_load_n(&sh->w[i].progress, __ATOMIC_RELAXED);
    return n;
}

/* Children still running (P > 1); reaps those that exited. */
static unsigned children_alive(pid_t *pids, unsigned n)
{
    unsigned alive = 0;
    for (unsigned i = 0; i < n; i++) {
        if (pids[i] <= 0)
            continue;
        int status;
        if (waitpid(pids[i], &status, WNOHANG) == pids[i]) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fprintf(stderr, "ycsb: worker process %d ended abnormally (status 0x%x)\n",
                        (int)pids[i], status);
            pids[i] = 0;
        } else {
            alive++;
        }
    }
    return alive;
}

/* Wait for every worker to be at the start line (or to have failed). */
static void wait_ready(ycsb_shared *sh, pid_t *pids, unsigned nproc)
{
    while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < sh->nworkers) {
        if (pids && children_alive(pids, nproc) < nproc) {
            runner_request_stop(sh);
            return;
        }
        usleep(1000);
    }
}

/* From go to the last worker's end: stop at the deadline, print the
 * progress line every second.  Returns the run's wall time. */
static double monitor(const ycsb_config *cfg, ycsb_shared *sh, pid_t *pids, unsigned nproc)
{
    double t0 = now_s(), last = t0;
    uint64_t last_ops = 0;
    __atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
    for (;;) {
        usleep(10000);
        double t = now_s();
        if (__atomic_load_n(&sh->finished, __ATOMIC_ACQUIRE) >= sh->nworkers)
            return t - t0;
        if (pids && children_alive(pids, nproc) == 0)
            return t - t0;
        if (cfg->duration && t - t0 >= cfg->duration)
            runner_request_stop(sh);
        if (t - last >= 1.0) {
            uint64_t ops = progress_sum(sh);
            fprintf(stderr, "ycsb %s %c: %.0f s, %" PRIu64 " ops, %.0f ops/s now\n", cfg->label,
                    cfg->workload->name, t - t0, ops, (double)(ops - last_ops) / (t - last));
            last = t;
            last_ops = ops;
        }
    }
}

static void merge_workers(const ycsb_shared *sh, ycsb_worker *total)
{
    memset(total, 0, sizeof *total);
    for (int op = 0; op < OP_COUNT; op++)
        hist_reset(&total->hist[op]);
    for (unsigned i = 0; i < sh->nworkers; i++) {
        const ycsb_worker *w = &sh->w[i];
        total->progress += w->progress;
        for (int op = 0; op < OP_COUNT; op++) {
            total->count[op] += w->count[op];
            total->misses[op] += w->misses[op];
            total->wrong[op] += w->wrong[op];
            total->errors[op] += w->errors[op];
            hist_merge(&total->hist[op], &w->hist[op]);
        }
    }
}

static int run_in_threads(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
                          ycsb_shared *sh, ycsb_result *res)
{
    worker_ctx *ctx = ctx_array(cfg->threads);
    pthread_t *tid = calloc(cfg->threads, sizeof *tid);
    if (!ctx || !tid || start_threads(cfg, bk, fmt, sh, 0, ctx, tid) < 0)
        return -1; /* (a partial start: the process exits with an error) */
    wait_ready(sh, NULL, 0);
    res->run_seconds = monitor(cfg, sh, NULL, 0);
    for (unsigned i = 0; i < cfg->threads; i++)
        pthread_join(tid[i], NULL);
    free(ctx);
    free(tid);
    return 0;
}

static int run_in_processes(const ycsb_config *cfg, const ycsb_backend *bk,
                            const record_fmt *fmt, ycsb_shared *sh, ycsb_result *res)
{
    unsigned np = cfg->processes;
    pid_t pids[np];
    fflush(NULL);
    for (unsigned p = 0; p < np; p++) {
        pids[p] = fork();
        if (pids[p] == 0)
            worker_process(cfg, bk, fmt, sh, p);
        if (pids[p] < 0) {
            fprintf(stderr, "ycsb: fork: %s\n", strerror(errno));
            runner_request_stop(sh);
            np = p;
            break;
        }
    }
    wait_ready(sh, pids, np);
    res->run_seconds = monitor(cfg, sh, pids, np);
    while (children_alive(pids, np))
        usleep(1000);
    return np == cfg->processes ? 0 : -1;
}

int runner_run(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
               ycsb_shared *sh, ycsb_result *res)
{
    int rc = cfg->processes > 1 ? run_in_processes(cfg, bk, fmt, sh, res)
                                : run_in_threads(cfg, bk, fmt, sh, res);
    merge_workers(sh, &res->total);
    res->insert_limit_hit = sh->insert_limit_hit;
    return rc;
}
