/*
 * keygen.h - which record each operation touches: YCSB's key choosers
 * (zipfian scrambled, uniform, latest) and the insert counter that every
 * thread and process shares.
 *
 * Zipfian is the algorithm of Gray et al., "Quickly generating
 * billion-record synthetic databases" (SIGMOD 1994), as YCSB's
 * ZipfianGenerator uses it: with zeta(n) = sum_{i=1..n} i^-theta, a uniform
 * u in [0,1) gives 0 if u x zeta(n) < 1, 1 if below 1 + 0.5^theta, else
 * n x (eta u - eta + 1)^(1/(1-theta)).
 * Scrambled zipfian (YCSB's default, ScrambledZipfianGenerator): zipfian
 * over a fixed large item space (10^10 items, theta 0.99), then the FNV-1a
 * 64-bit hash of that number modulo the record count, so the popular
 * records are spread over the key space instead of being the first ones.
 * Latest (workload D, YCSB's SkewedLatestGenerator): zipfian over the
 * records inserted so far, counted back from the most recent one.
 */
#ifndef YCSB_KEYGEN_H
#define YCSB_KEYGEN_H

#include <stdint.h>

#include "rng.h"

#define ZIPF_THETA 0.99
#define ZIPF_SCRAMBLE_ITEMS 10000000000ull /* the scrambled generator's item space */
#define INSERT_WINDOW 4096 /* inserts in flight at once, at most (threads x processes) */

typedef enum key_dist { DIST_ZIPFIAN, DIST_UNIFORM, DIST_LATEST, DIST_COUNT } key_dist;

/* "zipfian", "uniform", "latest". */
const char *key_dist_name(key_dist d);

/* Parse a name of key_dist_name; -1 if unknown. */
int key_dist_parse(const char *s);

/* Zipfian over [0, n). */
typedef struct zipf {
    uint64_t n;      /* items */
    double theta;    /* skew (0.99) */
    double alpha;    /* 1 / (1 - theta) */
    double zetan;    /* zeta(n, theta) */
    double zeta2;    /* zeta(2, theta) */
    double eta;      /* (1 - (2/n)^(1-theta)) / (1 - zeta2/zetan) */
} zipf;

/* zeta(n, theta): exact up to 10^6 terms, Euler-Maclaurin beyond. */
double zipf_zeta(uint64_t n, double theta);

/* Prepare *z for n >= 1 items. */
void zipf_init(zipf *z, uint64_t n, double theta);

/* Grow *z to n items (n >= z->n), updating zeta incrementally. */
void zipf_grow(zipf *z, uint64_t n);

/* The item for uniform u in [0,1): 0 most popular, in [0, z->n). */
uint64_t zipf_item(const zipf *z, double u);

/* FNV-1a 64 over the 8 bytes of v, least significant first. */
uint64_t fnv1a64(uint64_t v);

/*
 * The insert counter, in memory shared by every worker (MAP_SHARED across
 * processes).  Keys [0, acked) all exist; an insert claims the next key,
 * stores it, then acknowledges it; acked advances only over a contiguous
 * run of acknowledged keys (as YCSB's AcknowledgedCounterGenerator), so a
 * "latest" read never asks for a key whose insert is still in flight.
 */
typedef struct insert_counter {
    uint64_t next;                  /* next key to claim */
    uint64_t acked;                 /* keys below it are all stored */
    uint64_t limit;                 /* no key at or above it is claimed */
    uint64_t done[INSERT_WINDOW];   /* done[k % W] == k + 1 once key k is stored */
} insert_counter;

/* Start with records [0, records) loaded and room for max_inserts more. */
void insert_counter_init(insert_counter *c, uint64_t records, uint64_t max_inserts);

/* Claim a key to insert; UINT64_MAX when the limit is reached. */
uint64_t insert_claim(insert_counter *c);

/* Key k (from insert_claim) is stored (or failed: it is counted there). */
void insert_ack(insert_counter *c, uint64_t k);

/* How many keys are known to exist: [0, result). */
uint64_t insert_acked(const insert_counter *c);

/* One thread's key chooser. */
typedef struct keygen {
    key_dist dist;           /* the distribution */
    uint64_t records;        /* records loaded: zipfian and uniform pick in [0, records) */
    zipf z;                  /* scrambled item space, or the latest window */
    bench_rng rng;           /* random numbers (rng.h) */
    insert_counter *inserts; /* shared counter (latest) */
} keygen;

/* Prepare *g; seed differs per thread. */
void keygen_init(keygen *g, key_dist dist, uint64_t records, insert_counter *inserts,
                 uint64_t seed);

/* The next record to read or update. */
uint64_t keygen_next(keygen *g);

/* A uniform random 64-bit number from g's generator (also for op choice). */
uint64_t keygen_rand(keygen *g);

#endif /* YCSB_KEYGEN_H */
