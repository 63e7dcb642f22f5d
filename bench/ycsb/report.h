/*
 * report.h - the YCSB driver's results: the printed table, CSV lines and a
 * JSON object per run.
 */
#ifndef YCSB_REPORT_H
#define YCSB_REPORT_H

#include <stdio.h>

#include "ycsb.h"

/* Print the load phase's line on out. */
void report_load(FILE *out, const ycsb_config *cfg, const ycsb_result *res);

/* Print the run phase's line and per-operation table on out. */
void report_table(FILE *out, const ycsb_config *cfg, const ycsb_result *res);

/* Append the run to cfg->csv_path, one line per figure:
 * label,backend,workload,dist,records,value_bytes,processes,threads,op,metric,value
 * (the header first if the file is new or empty).  0, or -1 (message printed). */
int report_csv(const ycsb_config *cfg, const ycsb_result *res);

/* Append the run to cfg->json_path as one JSON object on one line.
 * 0, or -1 (message printed). */
int report_json(const ycsb_config *cfg, const ycsb_result *res);

/* Misses + wrong values + errors over every operation and the load:
 * anything but 0 makes the exit status 1. */
uint64_t report_problems(const ycsb_result *res);

#endif /* YCSB_REPORT_H */
