/*
 * runner.h - the YCSB driver's two phases: loading the records, and the
 * measured run on T threads in each of P processes, with the progress line.
 */
#ifndef YCSB_RUNNER_H
#define YCSB_RUNNER_H

#include "backend.h"
#include "record.h"
#include "ycsb.h"

/* Calibrate the operation timer (bench_common.h; force_clock: 1 for
 * clock_gettime) and describe it into buf. */
void runner_timer_init(int force_clock, char *buf, size_t cap);

/* The shared results area for cfg's workers (MAP_SHARED, anonymous, so
 * forked workers write into it), zeroed, histograms empty; NULL on error. */
ycsb_shared *runner_shared_new(const ycsb_config *cfg);

/* Unmap it. */
void runner_shared_free(ycsb_shared *sh, const ycsb_config *cfg);

/* Ask every worker (and the load) to stop: from a signal handler too. */
void runner_request_stop(ycsb_shared *sh);

/* Load phase: store records [0, cfg->records) at version 0 on
 * cfg->threads threads of this process.  Fills res->load_*.
 * 0, or -1 if a thread could not open the backend. */
int runner_load(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
                ycsb_shared *sh, ycsb_result *res);

/* Run phase: cfg->processes x cfg->threads workers until -d seconds
 * passed, -o operations were done, the -I insert limit was met or a stop
 * was requested; a progress line on stderr once a second.  Merges every
 * worker into res->total and sets res->run_seconds.  0, or -1 if a worker
 * could not start. */
int runner_run(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
               ycsb_shared *sh, ycsb_result *res);

#endif /* YCSB_RUNNER_H */
