/*
 * keygen.c - YCSB's key choosers and the shared insert counter (contracts
 * and the algorithm: keygen.h).
 */
#include "keygen.h"

#include <math.h>
#include <string.h>

#define ZETA_EXACT_TERMS 1000000ull

const char *key_dist_name(key_dist d)
{
    static const char *const names[DIST_COUNT] = {"zipfian", "uniform", "latest"};
    return d < DIST_COUNT ? names[d] : "?";
}

int key_dist_parse(const char *s)
{
    for (int d = 0; d < DIST_COUNT; d++)
        if (strcmp(s, key_dist_name((key_dist)d)) == 0)
            return d;
    return -1;
}

/* sum_{i=from..to} i^-theta, term by term. */
static double zeta_terms(uint64_t from, uint64_t to, double theta)
{
    double s = 0;
    for (uint64_t i = from; i <= to; i++)
        s += pow((double)i, -theta);
    return s;
}

/* sum_{i=m+1..n} i^-theta by Euler-Maclaurin: the integral from m to n,
 * the end-point correction and the first derivative term. */
static double zeta_tail(uint64_t m, uint64_t n, double theta)
{
    double dm = (double)m, dn = (double)n;
    double integral = (pow(dn, 1 - theta) - pow(dm, 1 - theta)) / (1 - theta);
    double ends = (pow(dn, -theta) - pow(dm, -theta)) / 2;
    double deriv = -theta * (pow(dn, -theta - 1) - pow(dm, -theta - 1)) / 12;
    return integral + ends + deriv;
}

double zipf_zeta(uint64_t n, double theta)
{
    if (n <= ZETA_EXACT_TERMS)
        return zeta_terms(1, n, theta);
    return zeta_terms(1, ZETA_EXACT_TERMS, theta) + zeta_tail(ZETA_EXACT_TERMS, n, theta);
}

static void zipf_derive(zipf *z)
{
    z->eta = (1 - pow(2.0 / (double)z->n, 1 - z->theta)) / (1 - z->zeta2 / z->zetan);
}

void zipf_init(zipf *z, uint64_t n, double theta)
{
    z->n = n < 1 ? 1 : n;
    z->theta = theta;
    z->alpha = 1 / (1 - theta);
    z->zetan = zipf_zeta(z->n, theta);
    z->zeta2 = zipf_zeta(2, theta);
    zipf_derive(z);
}

void zipf_grow(zipf *z, uint64_t n)
{
    if (n <= z->n)
        return;
    if (n - z->n > ZETA_EXACT_TERMS)
        z->zetan = zipf_zeta(n, z->theta);
    else
        z->zetan += zeta_terms(z->n + 1, n, z->theta);
    z->n = n;
    zipf_derive(z);
}

uint64_t zipf_item(const zipf *z, double u)
{
    double uz = u * z->zetan;
    if (uz < 1)
        return 0;
    if (uz < 1 + pow(0.5, z->theta))
        return z->n > 1 ? 1 : 0;
    uint64_t i = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1, z->alpha));
    return i >= z->n ? z->n - 1 : i;
}

uint64_t fnv1a64(uint64_t v)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int b = 0; b < 8; b++) {
        h ^= v & 0xff;
        h *= 0x100000001b3ull;
        v >>= 8;
    }
    return h;
}

void insert_counter_init(insert_counter *c, uint64_t records, uint64_t max_inserts)
{
    memset(c, 0, sizeof *c);
    c->next = records;
    c->acked = records;
    c->limit = records + max_inserts;
}

uint64_t insert_claim(insert_counter *c)
{
    uint64_t k = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED);
    return k < c->limit ? k : UINT64_MAX;
}

void insert_ack(insert_counter *c, uint64_t k)
{
    __atomic_store_n(&c->done[k % INSERT_WINDOW], k + 1, __ATOMIC_RELEASE);
    for (;;) {
        uint64_t a = __atomic_load_n(&c->acked, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&c->done[a % INSERT_WINDOW], __ATOMIC_ACQUIRE) != a + 1)
            return; /* a is still in flight: its inserter will advance past it */
        __atomic_compare_exchange_n(&c->acked, &a, a + 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED);
    }
}

uint64_t insert_acked(const insert_counter *c)
{
    return __atomic_load_n(&c->acked, __ATOMIC_ACQUIRE);
}

uint64_t keygen_rand(keygen *g)
{
    return rng_next(&g->rng);
}

/* Uniform in [0,1) with 53 random bits. */
static double rand_unit(keygen *g)
{
    return (double)(keygen_rand(g) >> 11) * (1.0 / 9007199254740992.0);
}

void keygen_init(keygen *g, key_dist dist, uint64_t records, insert_counter *inserts,
                 uint64_t seed)
{
    g->dist = dist;
    g->records = records;
    g->inserts = inserts;
    rng_seed(&g->rng, seed);
    if (dist == DIST_ZIPFIAN)
        zipf_init(&g->z, ZIPF_SCRAMBLE_ITEMS, ZIPF_THETA);
    else if (dist == DIST_LATEST)
        zipf_init(&g->z, insert_acked(inserts), ZIPF_THETA);
}

uint64_t keygen_next(keygen *g)
{
    switch (g->dist) {
    case DIST_ZIPFIAN:
        return fnv1a64(zipf_item(&g->z, rand_unit(g))) % g->records;
    case DIST_UNIFORM:
        return (uint64_t)(((__uint128_t)keygen_rand(g) * g->records) >> 64);
    default: { /* latest: counted back from the newest stored record */
        uint64_t newest = insert_acked(g->inserts);
        zipf_grow(&g->z, newest);
        return newest - 1 - zipf_item(&g->z, rand_unit(g));
    }
    }
}
