/*
 * backend_lib.c - the YCSB driver's "lib" backend: libshmcached calls
 * (shmc_get / shmc_set; a scan is one shmc_get_multi of its keys: a hash
 * table has no key order) on a segment the driver creates for the run and
 * destroys at the end.  One handle per process, shared by its threads
 * (handles are thread-safe); a forked worker process attaches the same
 * segment with shmc_open.  Protection is the library's default
 * (SHMC_PROTECTION, auto), and the mode in effect is reported.
 */
#define _GNU_SOURCE
#include "backend.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "shmcached.h"

static char seg_path[256];     /* the segment of this run */
static shmc_cache *setup_cache; /* the creating process's handle */
static shmc_cache *proc_cache;  /* this process's handle (setup_cache in the first one) */
static volatile int seg_created; /* the segment file exists (for the signal handler) */

/* Segment size: room for every record plus the allowed inserts, 1.5x for
 * slab rounding, plus 64 MB for the index and partly used pages. */
static uint64_t segment_bytes(const ycsb_config *cfg)
{
    if (cfg->mem_mb)
        return cfg->mem_mb << 20;
    uint64_t items = cfg->records + (cfg->workload->pct[OP_INSERT] ? cfg->max_inserts : 0);
    double per = (double)(shmc_item_overhead() + RECORD_KEY_LEN + cfg->value_size + 8) * 1.5;
    return (uint64_t)(per * (double)items) + (64ull << 20);
}

static int lib_setup(const ycsb_config *cfg, char *err, size_t errlen)
{
    if (cfg->segment)
        snprintf(seg_path, sizeof seg_path, "%s", cfg->segment);
    else
        snprintf(seg_path, sizeof seg_path, "/dev/shm/ycsb-%d", (int)getpid());
    shmc_config sc;
    shmc_config_init(&sc);
    sc.mem_bytes = segment_bytes(cfg);
    if (cfg->value_size + 1024 > sc.item_size_max)
        sc.item_size_max = (uint32_t)(cfg->value_size + 1024);
    while (sc.hash_power < 31 && (1ull << sc.hash_power) < cfg->records)
        sc.hash_power++;
    shmc_status st = shmc_create(seg_path, &sc, &setup_cache);
    if (st != SHMC_OK) {
        snprintf(err, errlen, "shmc_create %s (%llu MB): %s", seg_path,
                 (unsigned long long)(sc.mem_bytes >> 20), shmc_strerror(st));
        return -1;
    }
    seg_created = 1;
    proc_cache = setup_cache;
    return 0;
}

static int lib_proc_open(const ycsb_config *cfg, char *err, size_t errlen)
{
    (void)cfg; /* a forked child: the parent's handle may not be used here */
    shmc_status st = shmc_open(seg_path, &proc_cache);
    if (st != SHMC_OK) {
        snprintf(err, errlen, "shmc_open %s: %s", seg_path, shmc_strerror(st));
        return -1;
    }
    return 0;
}

static void *lib_open(const ycsb_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    if (!proc_cache)
        snprintf(err, errlen, "lib backend: no handle in this process");
    return proc_cache;
}

static bk_status lib_read(void *conn, const char *key, size_t klen, char *buf, size_t cap,
                          size_t *len)
{
    *len = cap;
    shmc_status st = shmc_get(conn, key, klen, buf, len, NULL, NULL);
    if (st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL)
        return BK_OK; /* a too-long value fails the length check */
    return st == SHMC_NOT_FOUND ? BK_MISS : BK_ERROR;
}

static bk_status lib_write(void *conn, const char *key, size_t klen, const char *val, size_t vlen)
{
    return shmc_set(conn, key, klen, val, vlen, 0, 0) == SHMC_OK ? BK_OK : BK_ERROR;
}

/* One shmc_get_multi of the scan's keys: one gate crossing for them all. */
static bk_status lib_scan(void *conn, const char *keys, size_t klen, unsigned n, char *bufs,
                          size_t cap, size_t *lens)
{
    shmc_value v[YCSB_SCAN_MAX];
    if (n > YCSB_SCAN_MAX)
        return BK_ERROR;
    for (unsigned i = 0; i < n; i++)
        v[i] = (shmc_value){.key = keys + i * klen, .key_len = klen, .buf = bufs + i * cap,
                            .cap = cap};
    if (shmc_get_multi(conn, v, n) != SHMC_OK)
        return BK_ERROR;
    for (unsigned i = 0; i < n; i++) {
        if (v[i].status == SHMC_OK || v[i].status == SHMC_BUFFER_TOO_SMALL)
            lens[i] = v[i].len; /* a too-long value fails the length check */
        else if (v[i].status == SHMC_NOT_FOUND)
            lens[i] = BK_ABSENT;
        else
            return BK_ERROR;
    }
    return BK_OK;
}

static void lib_close(void *conn)
{
    (void)conn; /* the process handle outlives its threads */
}

static void lib_proc_close(void)
{
    if (proc_cache != setup_cache)
        shmc_close(proc_cache);
    proc_cache = NULL;
}

static void lib_teardown(void)
{
    if (setup_cache)
        shmc_close(setup_cache);
    setup_cache = NULL;
    if (seg_created) {
        shmc_status st = shmc_destroy(seg_path);
        if (st != SHMC_OK)
            fprintf(stderr, "ycsb: shmc_destroy %s: %s\n", seg_path, shmc_strerror(st));
        seg_created = 0;
    }
}

static void lib_describe(const ycsb_config *cfg, char *buf, size_t cap)
{
    (void)cfg;
    shmc_config sc;
    shmc_config_get(setup_cache, &sc);
    snprintf(buf, cap, "libshmcached calls on %s (%llu MB), protection %s", seg_path,
             (unsigned long long)(sc.mem_bytes >> 20),
             shmc_protection_name(shmc_protection_of(setup_cache)));
}

void ycsb_backend_lib_emergency_unlink(void)
{
    if (seg_created)
        unlink(seg_path);
}

const ycsb_backend ycsb_backend_lib = {
    .name = "lib",
    .setup = lib_setup,
    .proc_open = lib_proc_open,
    .open = lib_open,
    .read = lib_read,
    .update = lib_write,
    .insert = lib_write,
    .scan = lib_scan,
    .close = lib_close,
    .proc_close = lib_proc_close,
    .teardown = lib_teardown,
    .describe = lib_describe,
};
