/*
 * stats_names.h - memcached's names for a slab class's statistics, in
 * memcached's order, for "stats items" (STAT items:<id>:<name> <value>).
 *
 * The daemon (proto_text.c) and shmcachectl print the same lines from
 * this one table; each adds only its own line ending.
 */
#ifndef SHMC_STATS_NAMES_H
#define SHMC_STATS_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shmcached.h"

/* One statistic of a class: memcached's name, where its 64-bit value lies
 * in shmc_class_stats, and whether "stats reset" zeroes it. */
typedef struct class_stat_name {
    const char *name;   /* as memcached prints it after "items:<id>:" */
    size_t offset;      /* of a uint64_t field of shmc_class_stats */
    int counter;        /* 1: cumulative, reset by "stats reset"; 0: a gauge */
} class_stat_name;

#define CLASS_STAT(n, field) {n, offsetof(shmc_class_stats, field), 0}
#define CLASS_COUNTER(n, field) {n, offsetof(shmc_class_stats, field), 1}

/* "stats items", for each class that holds items. */
static const class_stat_name stats_items_names[] = {
    CLASS_STAT("number", curr_items),
    CLASS_STAT("number_hot", hot),
    CLASS_STAT("number_warm", warm),
    CLASS_STAT("number_cold", cold),
    CLASS_STAT("number_temp", temp),
    CLASS_STAT("age", oldest_age),
    CLASS_STAT("mem_requested", bytes),
    CLASS_COUNTER("evicted", evictions),
    CLASS_COUNTER("outofmemory", outofmemory),
    CLASS_COUNTER("reclaimed", reclaimed),
    CLASS_COUNTER("expired_unfetched", expired_unfetched),
    CLASS_COUNTER("evicted_unfetched", evicted_unfetched),
};
#undef CLASS_STAT
#undef CLASS_COUNTER

#define STATS_ITEMS_COUNT (sizeof stats_items_names / sizeof stats_items_names[0])

/* The value of statistic n in cs. */
static inline uint64_t class_stat_value(const shmc_class_stats *cs, const class_stat_name *n)
{
    uint64_t v;
    memcpy(&v, (const char *)cs + n->offset, sizeof v);
    return v;
}

#endif
