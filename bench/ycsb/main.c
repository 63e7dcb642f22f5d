/*
 * main.c - build/ycsb, the YCSB-style benchmark driver: parse the command
 * line, set up the backend, load the records, run the workload, report,
 * clean up (also after SIGINT/SIGTERM: the first signal stops the run and
 * the normal end follows; a second one removes the lib segment or the lmdb
 * environment and dies).
 * Exit status: 0 all good, 1 a miss of a record that must exist, a wrong
 * value, an error or an interruption, 2 a bad command line.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "record.h"
#include "report.h"
#include "runner.h"
#include "ycsb.h"

static ycsb_shared *the_shared;           /* for the signal handler */
static volatile sig_atomic_t signals_seen; /* SIGINT/SIGTERM received */

static void on_signal(int sig)
{
    if (signals_seen++ == 0 && the_shared) {
        runner_request_stop(the_shared);
        return;
    }
    ycsb_backend_lib_emergency_unlink();
#ifdef YCSB_HAVE_LMDB
    ycsb_backend_lmdb_emergency_unlink();
#endif
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void print_header(const ycsb_config *cfg, const ycsb_result *res, const char *timer)
{
    printf("ycsb %s: workload %c (%s), %s keys, %llu records x %zu B, %u process%s x %u "
           "thread%s, %s%s\n",
           cfg->label, cfg->workload->name, cfg->workload->what, key_dist_name(cfg->dist),
           (unsigned long long)cfg->records, cfg->value_size, cfg->processes,
           cfg->processes > 1 ? "es" : "", cfg->threads, cfg->threads > 1 ? "s" : "",
           cfg->verify ? "every value verified" : "values not verified (length only)",
           cfg->skip_load ? ", records loaded before" : "");
    printf("target: %s\n", res->backend_desc);
    printf("timer: %s\n", timer);
}

/* Load, run, report; the exit status. */
static int measure(const ycsb_config *cfg, const ycsb_backend *bk, const record_fmt *fmt,
                   ycsb_shared *sh, ycsb_result *res)
{
    if (!cfg->skip_load) {
        if (runner_load(cfg, bk, fmt, sh, res) < 0)
            return 1;
        report_load(stdout, cfg, res);
        fflush(stdout);
    }
    int rc = 0;
    if (!signals_seen && runner_run(cfg, bk, fmt, sh, res) < 0)
        rc = 1;
    res->interrupted = signals_seen != 0;
    report_table(stdout, cfg, res);
    if (cfg->csv_path && report_csv(cfg, res) < 0)
        rc = 1;
    if (cfg->json_path && report_json(cfg, res) < 0)
        rc = 1;
    uint64_t problems = report_problems(res);
    if (problems)
        printf("RESULT: PROBLEMS FOUND: %llu misses, wrong values or errors\n",
               (unsigned long long)problems);
    else if (!res->interrupted)
        printf("RESULT: ok%s\n", cfg->verify ? ", all values verified" : "");
    return problems || res->interrupted ? 1 : rc;
}

int main(int argc, char **argv)
{
    ycsb_config cfg;
    ycsb_parse_args(argc, argv, &cfg);
    char err[256] = "";
    const ycsb_backend *bk = ycsb_backend_find(cfg.backend, err, sizeof err);
    record_fmt fmt;
    ycsb_result *res = calloc(1, sizeof *res);
    ycsb_shared *sh = runner_shared_new(&cfg);
    if (!res || !sh || record_fmt_init(&fmt, cfg.value_size) < 0) {
        fprintf(stderr, "ycsb: out of memory\n");
        return 1;
    }
    char timer[256];
    runner_timer_init(cfg.force_clock, timer, sizeof timer);
    the_shared = sh;
    install_signals();
    if (bk->setup(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "ycsb: %s\n", err);
        return 1;
    }
    bk->describe(&cfg, res->backend_desc, sizeof res->backend_desc);
    print_header(&cfg, res, timer);
    fflush(stdout);
    int rc = measure(&cfg, bk, &fmt, sh, res);
    if (bk->teardown)
        bk->teardown();
    runner_shared_free(sh, &cfg);
    record_fmt_free(&fmt);
    free(res);
    return rc;
}
