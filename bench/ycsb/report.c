/*
 * report.c - the YCSB driver's results: per operation type count,
 * throughput, latency p50/p90/p99/p99.9/max/mean, misses, wrong values
 * and errors, as a table, CSV lines and a JSON object.  Throughput is
 * operations over the run phase's wall time.
 */
#define _GNU_SOURCE
#include "report.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

/* The percentiles reported, and their names in the outputs. */
static const struct {
    const char *name; /* e.g. "p99.9" */
    double p;         /* percentile */
} pcts[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}};
#define NPCTS (sizeof pcts / sizeof pcts[0])

static double ops_per_s(uint64_t n, double secs)
{
    return secs > 0 ? (double)n / secs : 0;
}

static uint64_t total_ops(const ycsb_worker *t)
{
    uint64_t n = 0;
    for (int op = 0; op < OP_COUNT; op++)
        n += t->count[op];
    return n;
}

uint64_t report_problems(const ycsb_result *res)
{
    uint64_t n = res->load_errors;
    for (int op = 0; op < OP_COUNT; op++)
        n += res->total.misses[op] + res->total.wrong[op] + res->total.errors[op];
    return n;
}

static void table_row(FILE *out, const char *name, uint64_t count, double secs,
                      const bench_hist *h, const uint64_t bad[3])
{
    fprintf(out, "%-7s %11" PRIu64 " %11.0f", name, count, ops_per_s(count, secs));
    for (size_t i = 0; i < NPCTS; i++)
        fprintf(out, " %9.0f", hist_pct(h, pcts[i].p));
    fprintf(out, " %10" PRIu64 " %9.0f", h->max, hist_mean(h));
    if (bad)
        fprintf(out, "  %6" PRIu64 " %6" PRIu64 " %6" PRIu64, bad[0], bad[1], bad[2]);
    fputc('\n', out);
}

void report_load(FILE *out, const ycsb_config *cfg, const ycsb_result *res)
{
    fprintf(out, "load: %" PRIu64 " records in %.3f s = %.0f inserts/s, %" PRIu64 " errors\n",
            cfg->records, res->load_seconds, ops_per_s(cfg->records, res->load_seconds),
            res->load_errors);
}

void report_table(FILE *out, const ycsb_config *cfg, const ycsb_result *res)
{
    const ycsb_worker *t = &res->total;
    fprintf(out, "run: %.2f s, %" PRIu64 " ops = %.0f ops/s%s%s\n", res->run_seconds,
            total_ops(t), ops_per_s(total_ops(t), res->run_seconds),
            res->insert_limit_hit ? " (stopped at the -I insert limit)" : "",
            res->interrupted ? " (INTERRUPTED)" : "");
    fprintf(out, "%-7s %11s %11s %9s %9s %9s %9s %10s %9s  %6s %6s %6s\n", "op", "count",
            "ops/s", "p50 ns", "p90 ns", "p99 ns", "p99.9 ns", "max ns", "mean ns", "misses",
            "wrong", "errors");
    for (int op = 0; op < OP_COUNT; op++) {
        if (!t->count[op])
            continue;
        uint64_t bad[3] = {t->misses[op], t->wrong[op], t->errors[op]};
        table_row(out, ycsb_op_name((ycsb_op)op), t->count[op], res->run_seconds, &t->hist[op],
                  bad);
    }
}

/* Columns that identify the run, ahead of op,metric,value. */
static void csv_prefix(FILE *f, const ycsb_config *cfg)
{
    fprintf(f, "%s,%s,%c,%s,%" PRIu64 ",%zu,%u,%u,", cfg->label, cfg->backend,
            cfg->workload->name, key_dist_name(cfg->dist), cfg->records, cfg->value_size,
            cfg->processes, cfg->threads);
}

static void csv_line(FILE *f, const ycsb_config *cfg, const char *op, const char *metric,
                     double v)
{
    csv_prefix(f, cfg);
    fprintf(f, "%s,%s,%.10g\n", op, metric, v);
}

static void csv_op(FILE *f, const ycsb_config *cfg, const ycsb_result *res, ycsb_op op)
{
    const ycsb_worker *t = &res->total;
    const char *name = ycsb_op_name(op);
    const bench_hist *h = &t->hist[op];
    char m[32];
    csv_line(f, cfg, name, "count", (double)t->count[op]);
    csv_line(f, cfg, name, "ops_per_s", ops_per_s(t->count[op], res->run_seconds));
    for (size_t i = 0; i < NPCTS; i++) {
        snprintf(m, sizeof m, "%s_ns", pcts[i].name);
        csv_line(f, cfg, name, m, hist_pct(h, pcts[i].p));
    }
    csv_line(f, cfg, name, "max_ns", (double)h->max);
    csv_line(f, cfg, name, "mean_ns", hist_mean(h));
    csv_line(f, cfg, name, "misses", (double)t->misses[op]);
    csv_line(f, cfg, name, "wrong", (double)t->wrong[op]);
    csv_line(f, cfg, name, "errors", (double)t->errors[op]);
}

/* fopen for appending; *fresh set if the file is new or empty. */
static FILE *open_append(const char *path, int *fresh)
{
    struct stat st;
    *fresh = stat(path, &st) != 0 || st.st_size == 0;
    FILE *f = fopen(path, "a");
    if (!f)
        perror(path);
    return f;
}

int report_csv(const ycsb_config *cfg, const ycsb_result *res)
{
    int fresh;
    FILE *f = open_append(cfg->csv_path, &fresh);
    if (!f)
        return -1;
    if (fresh)
        fprintf(f, "label,backend,workload,dist,records,value_bytes,processes,threads,op,"
                   "metric,value\n");
    const ycsb_worker *t = &res->total;
    if (res->load_seconds > 0) {
        csv_line(f, cfg, "load", "ops_per_s", ops_per_s(cfg->records, res->load_seconds));
        csv_line(f, cfg, "load", "errors", (double)res->load_errors);
    }
    csv_line(f, cfg, "all", "ops_per_s", ops_per_s(total_ops(t), res->run_seconds));
    csv_line(f, cfg, "all", "seconds", res->run_seconds);
    for (int op = 0; op < OP_COUNT; op++)
        if (t->count[op])
            csv_op(f, cfg, res, (ycsb_op)op);
    return fclose(f) == 0 ? 0 : -1;
}

/* s as a JSON string (labels and descriptions: escape " and \). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_op(FILE *f, const ycsb_result *res, ycsb_op op)
{
    const ycsb_worker *t = &res->total;
    const bench_hist *h = &t->hist[op];
    fprintf(f, "\"%s\":{\"count\":%" PRIu64 ",\"ops_per_s\":%.1f", ycsb_op_name(op),
            t->count[op], ops_per_s(t->count[op], res->run_seconds));
    for (size_t i = 0; i < NPCTS; i++)
        fprintf(f, ",\"%s_ns\":%.0f", pcts[i].name, hist_pct(h, pcts[i].p));
    fprintf(f, ",\"max_ns\":%" PRIu64 ",\"mean_ns\":%.1f,\"misses\":%" PRIu64
               ",\"wrong\":%" PRIu64 ",\"errors\":%" PRIu64 "}",
            h->max, hist_mean(h), t->misses[op], t->wrong[op], t->errors[op]);
}

int report_json(const ycsb_config *cfg, const ycsb_result *res)
{
    int fresh;
    FILE *f = open_append(cfg->json_path, &fresh);
    if (!f)
        return -1;
    const ycsb_worker *t = &res->total;
    fputs("{\"label\":", f);
    json_str(f, cfg->label);
    fprintf(f, ",\"backend\":\"%s\",\"target\":", cfg->backend);
    json_str(f, res->backend_desc);
    fprintf(f, ",\"workload\":\"%c\",\"dist\":\"%s\",\"records\":%" PRIu64
               ",\"value_bytes\":%zu,\"processes\":%u,\"threads\":%u,\"verify\":%s",
            cfg->workload->name, key_dist_name(cfg->dist), cfg->records, cfg->value_size,
            cfg->processes, cfg->threads, cfg->verify ? "true" : "false");
    fprintf(f, ",\"load\":{\"seconds\":%.6f,\"errors\":%" PRIu64 "}", res->load_seconds,
            res->load_errors);
    fprintf(f, ",\"run\":{\"seconds\":%.6f,\"ops\":%" PRIu64 ",\"ops_per_s\":%.1f,"
               "\"insert_limit_hit\":%s,\"interrupted\":%s}",
            res->run_seconds, total_ops(t), ops_per_s(total_ops(t), res->run_seconds),
            res->insert_limit_hit ? "true" : "false", res->interrupted ? "true" : "false");
    fputs(",\"ops\":{", f);
    int first = 1;
    for (int op = 0; op < OP_COUNT; op++) {
        if (!t->count[op])
            continue;
        if (!first)
            fputc(',', f);
        json_op(f, res, (ycsb_op)op);
        first = 0;
    }
    fprintf(f, "},\"problems\":%" PRIu64 "}\n", report_problems(res));
    return fclose(f) == 0 ? 0 : -1;
}
