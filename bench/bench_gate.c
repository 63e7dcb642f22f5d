/*
 * bench_gate.c - what the protection gate costs: the same gets in "mpk"
 * and "none" mode, one process per mode (a process's mode is decided by
 * its first attach), alternated by bench/gate.sh.
 *
 *   bench_gate fill PATH N [VLEN]      create PATH and store N keys
 *   bench_gate get PATH N BATCH [SECS] read uniformly random keys for SECS
 *                                      (default 1) in batches of BATCH
 *                                      (1: shmc_get per key; more:
 *                                      shmc_get_multi), verify every value,
 *                                      print "mode batch ns_per_get"
 *
 * The mode is SHMC_PROTECTION's (auto, mpk or none).  The random key
 * order is drawn before the timed loop, so the loop times the library
 * and the memory, not the generator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "shmcached.h"

#define ORDER_LEN (1u << 20) /* random key indices, reused cyclically */

static int fail(const char *what, shmc_status st)
{
    fprintf(stderr, "bench_gate: %s: %s\n", what, shmc_strerror(st));
    return 1;
}

static int cmd_fill(const char *path, uint32_t n, size_t vlen)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = ((uint64_t)n * (vlen + 96) * 5 / 4 + (64u << 20)) & ~((1ull << 20) - 1);
    cfg.hash_power = 16;
    shmc_cache *c;
    shmc_destroy(path);
    shmc_status st = shmc_create(path, &cfg, &c);
    if (st != SHMC_OK)
        return fail("create", st);
    char key[BENCH_KEY_LEN + 1], *val = malloc(vlen);
    for (uint32_t i = 0; i < n; i++) {
        bench_key(key, i);
        bench_value(val, vlen, i);
        if ((st = shmc_set(c, key, BENCH_KEY_LEN, val, vlen, 0, 0)) != SHMC_OK)
            return fail("set", st);
    }
    free(val);
    shmc_close(c);
    return 0;
}

/* Cheap check of item i's value (bench_value's layout: its key, '=', a
 * pattern): its length, the key it starts with and its last byte, so that
 * checking does not swamp the get.  vlen >= 16. */
static int value_plausible(const char *buf, size_t len, size_t vlen, const char *key, uint32_t i)
{
    return len == vlen && memcmp(buf, key, BENCH_KEY_LEN) == 0 &&
           buf[vlen - 1] == (char)('a' + (i * 7u + (uint32_t)(vlen - 1)) % 26u);
}

/* Read batches of the keys order[] names (okeys[k] is the text of key
 * order[k], laid out in the order they are read, as a client builds each
 * key just before its call: so the loop times the library's misses, not a
 * random miss on a table of key texts) until deadline_ns, checking each
 * value; returns the wrong ones. */
static uint64_t run_batches(shmc_cache *c, const uint32_t *order, const char (*okeys)[16],
                            uint32_t batch, size_t vlen, uint64_t deadline_ns, uint64_t *gets)
{
    enum { MAXB = 256 };
    /* 4 KiB and a line apart: 4 KiB apart, every buffer would fall in one
     * L1 set, and the copies into them would miss for that alone */
    static char bufs[MAXB][4096 + 64];
    shmc_value v[MAXB];
    uint32_t at[MAXB];
    uint64_t bad = 0, done = 0;
    uint32_t next = 0;
    while (bench_mono_ns() < deadline_ns) {
        for (int rep = 0; rep < 256; rep++) {
            for (uint32_t j = 0; j < batch; j++) {
                at[j] = next++ % ORDER_LEN;
                v[j] = (shmc_value){.key = okeys[at[j]], .key_len = BENCH_KEY_LEN,
                                    .buf = bufs[j], .cap = sizeof bufs[j]};
            }
            if (batch == 1) {
                v[0].len = v[0].cap;
                v[0].status = shmc_get(c, v[0].key, BENCH_KEY_LEN, bufs[0], &v[0].len, NULL,
                                       NULL);
            } else {
                shmc_get_multi(c, v, batch);
            }
            for (uint32_t j = 0; j < batch; j++)
                bad += v[j].status != SHMC_OK ||
                       !value_plausible(bufs[j], v[j].len, vlen, okeys[at[j]], order[at[j]]);
            done += batch;
        }
    }
    *gets = done;
    return bad;
}

static int cmd_get(const char *path, uint32_t n, uint32_t batch, double secs, size_t vlen)
{
    shmc_cache *c;
    shmc_status st = shmc_open(path, &c);
    if (st != SHMC_OK)
        return fail("open", st);
    uint32_t *order = malloc(ORDER_LEN * sizeof *order);
    char (*okeys)[16] = malloc((size_t)ORDER_LEN * sizeof *okeys);
    bench_rng r;
    rng_seed(&r, 42);
    for (uint32_t k = 0; k < ORDER_LEN; k++) {
        order[k] = rng_below(&r, n);
        bench_key(okeys[k], order[k]);
    }
    uint64_t gets = 0;
    run_batches(c, order, okeys, batch, vlen, bench_mono_ns() + 200000000ull, &gets); /* warm */
    uint64_t t0 = bench_mono_ns();
    uint64_t bad = run_batches(c, order, okeys, batch, vlen, t0 + (uint64_t)(secs * 1e9), &gets);
    uint64_t t1 = bench_mono_ns();
    printf("%s %u %.1f\n", shmc_protection_name(shmc_protection_of(c)), batch,
           (double)(t1 - t0) / (double)gets);
    shmc_close(c);
    free(order);
    free(okeys);
    if (bad) {
        fprintf(stderr, "bench_gate: %llu wrong values\n", (unsigned long long)bad);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "fill") == 0) {
        size_t vlen = argc > 4 ? strtoul(argv[4], NULL, 10) : 100;
        if (vlen < 16 || vlen > 4000)
            return fprintf(stderr, "bench_gate: VLEN must be 16..4000\n"), 2;
        return cmd_fill(argv[2], (uint32_t)strtoul(argv[3], NULL, 10), vlen);
    }
    if (argc >= 5 && strcmp(argv[1], "get") == 0) {
        uint32_t n = (uint32_t)strtoul(argv[3], NULL, 10), b = (uint32_t)strtoul(argv[4], NULL, 10);
        double secs = argc > 5 ? atof(argv[5]) : 1.0;
        size_t vlen = argc > 6 ? strtoul(argv[6], NULL, 10) : 100;
        if (n < 1 || b < 1 || b > 256 || !(secs > 0))
            return fprintf(stderr, "bench_gate: N >= 1, BATCH 1..256, SECS > 0\n"), 2;
        return cmd_get(argv[2], n, b, secs, vlen);
    }
    fprintf(stderr, "usage: bench_gate fill PATH N [VLEN]\n"
                    "       bench_gate get PATH N BATCH [SECS [VLEN]]\n");
    return 2;
}
