/*
 * ycsb.h - the YCSB driver's run description (workloads, operations, the
 * parsed command line) and the results area the workers fill.
 *
 * The driver (build/ycsb) loads records, then runs one YCSB core workload
 * for a duration or an operation count on T threads in each of P
 * processes, timing every operation into per-worker histograms that live
 * in a MAP_SHARED area so forked workers hand them back.
 */
#ifndef YCSB_H
#define YCSB_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "keygen.h"

/* Operation types, as YCSB reports them. */
typedef enum ycsb_op { OP_READ, OP_UPDATE, OP_INSERT, OP_RMW, OP_SCAN, OP_COUNT } ycsb_op;

/* A scan (workload E) reads 1 to YCSB_SCAN_MAX consecutive records, the
 * length uniform (YCSB's maxscanlength and scanlengthdistribution). */
#define YCSB_SCAN_MAX 100

/* "read", "update", "insert", "rmw", "scan". */
const char *ycsb_op_name(ycsb_op op);

/* A core workload: its operation mix and default key distribution. */
typedef struct ycsb_workload {
    char name;                /* 'A' to 'F' */
    unsigned pct[OP_COUNT];   /* percentage of each operation (sums to 100) */
    key_dist dist;            /* YCSB's default request distribution */
    const char *what;         /* one-line description */
} ycsb_workload;

/* The workload named c (either case), or NULL. */
const ycsb_workload *ycsb_workload_find(char c);

/* The operation for a uniform random r (takes r % 100). */
ycsb_op ycsb_workload_pick(const ycsb_workload *w, uint64_t r);

/* The parsed command line (options.c). */
typedef struct ycsb_config {
    const ycsb_workload *workload; /* -w */
    key_dist dist;                 /* -D, else the workload's */
    uint64_t records;              /* -n records loaded */
    size_t value_size;             /* -v bytes per value */
    unsigned threads;              /* -t threads per process */
    unsigned processes;            /* -P processes */
    double duration;               /* -d seconds of the run phase (when ops == 0) */
    uint64_t ops;                  /* -o operations in the run phase, all workers (0: -d) */
    uint64_t max_inserts;          /* -I inserts allowed before the run stops (workload D) */
    const char *backend;           /* -b lib | mc | lmdb | redis */
    const char *address;           /* -a mc, redis: UNIX socket path or host:port */
    const char *segment;           /* -f lib: segment path (default /dev/shm/ycsb-<pid>);
                                      lmdb: a new directory for the environment */
    uint64_t mem_mb;               /* -m lib: segment size, lmdb: map size, in MB (0: from
                                      the records) */
    int binary;                    /* -B mc: binary protocol */
    int writemap;                  /* -W lmdb: MDB_WRITEMAP (a writable map) */
    int verify;                    /* -V check every value read */
    int skip_load;                 /* -L records are already loaded (mc, redis): no flush,
                                      no load */
    int quick;                     /* -q quick defaults */
    int force_clock;               /* -C time with clock_gettime */
    const char *label;             /* -l name of the run in the outputs */
    const char *csv_path;          /* -c CSV file (appended) */
    const char *json_path;         /* -j JSON Lines file (appended) */
} ycsb_config;

/* Parse argv into *cfg; on a bad command line print why and exit(2). */
void ycsb_parse_args(int argc, char **argv, ycsb_config *cfg);

/* What one worker (thread) did; written by it, read by the parent after. */
typedef struct ycsb_worker {
    uint64_t progress;              /* operations so far (updated every 64; atomic) */
    uint64_t count[OP_COUNT];       /* operations done, per type */
    uint64_t misses[OP_COUNT];      /* a key that must exist was not found */
    uint64_t wrong[OP_COUNT];       /* a value read back failed its check */
    uint64_t errors[OP_COUNT];      /* the backend reported an error */
    bench_hist hist[OP_COUNT];      /* latency of each operation, ns */
} __attribute__((aligned(64))) ycsb_worker; /* whole lines: workers share none */

/* The MAP_SHARED area of one run. */
typedef struct ycsb_shared {
    int stop;                 /* set: workers finish their current operation and stop */
    int go;                   /* set: workers start (after every one is ready) */
    unsigned ready;           /* workers ready to start */
    unsigned finished;        /* workers done */
    int insert_limit_hit;     /* an insert found the -I limit reached (so the run stopped) */
    insert_counter inserts;   /* workload D's shared insert counter */
    unsigned nworkers;        /* entries of w */
    ycsb_worker w[];          /* one per thread of every process */
} ycsb_shared;

/* Totals of a run, merged over workers. */
typedef struct ycsb_result {
    double load_seconds;          /* load phase wall time (0 if skipped) */
    uint64_t load_errors;         /* failed inserts in the load */
    double run_seconds;           /* run phase wall time */
    ycsb_worker total;            /* merged counts and histograms */
    int interrupted;              /* SIGINT/SIGTERM cut the run short */
    int insert_limit_hit;         /* the run stopped at the -I insert limit */
    char backend_desc[160];       /* e.g. "lib: /dev/shm/ycsb-1, protection none" */
} ycsb_result;

#endif /* YCSB_H */
