/*
 * rng.h - the benchmarks' pseudo-random numbers: xorshift64* seeded with
 * splitmix64.  Fast and plenty for choosing keys and operations; not for
 * anything that needs unpredictability.  Header-only (static inline): it
 * sits on every operation's path.
 */
#ifndef SHMC_BENCH_RNG_H
#define SHMC_BENCH_RNG_H

#include <stdint.h>

/* One generator; one per thread (not thread-safe). */
typedef struct bench_rng {
    uint64_t s; /* xorshift64* state, never 0 */
} bench_rng;

/* Seed from any number (equal seeds give equal sequences). */
static inline void rng_seed(bench_rng *r, uint64_t seed)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    r->s = (z ^ (z >> 31)) | 1;
}

/* The next 64 random bits. */
static inline uint64_t rng_next(bench_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n) (Lemire's multiply-shift; bias < n/2^32, negligible). */
static inline uint32_t rng_below(bench_rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

#endif /* SHMC_BENCH_RNG_H */
