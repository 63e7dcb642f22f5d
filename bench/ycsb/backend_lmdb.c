/*
 * backend_lmdb.c - the YCSB driver's "lmdb" backend: an LMDB environment
 * (Debian liblmdb-dev), the store a user picks to share data between the
 * processes of one host without a server.  Setup creates a new directory
 * (-f, default /dev/shm/ycsb-lmdb-<pid>, memory-backed like the lib
 * backend's segment) and the environment in it; teardown removes both.
 * Every process of the run opens the environment once (a forked worker
 * in proc_open: an MDB_env may not cross a fork) and its threads share it.
 *
 * Per operation, what LMDB is documented to need and no more:
 *   read    the thread's read transaction renewed, mdb_get, the value
 *           copied out, the transaction reset (MDB_NOTLS: a transaction
 *           belongs to its connection, not to the thread's TLS slot);
 *   update, insert
 *           one write transaction (begin, mdb_put, commit): LMDB lets one
 *           writer in at a time, across threads and processes, which is
 *           what this backend is here to measure;
 *   scan    the read transaction renewed, the thread's cursor renewed,
 *           MDB_SET_RANGE on the first key, then MDB_NEXT (keys are
 *           zero-padded, so B+tree order is record order).
 * Durability is off as far as LMDB allows (MDB_NOSYNC | MDB_NOMETASYNC):
 * a cache keeps nothing across a crash of the machine either.  The map
 * stays read-only to the process, LMDB's default, so a stray write of the
 * program cannot corrupt the store (the protection the library keeps with
 * its keys); -W (MDB_WRITEMAP) trades that for commits that write the map
 * in place instead of with a pwrite per page.  Records
 * are the other backends' byte for byte (record.h: 14-byte keys, values of
 * -v bytes).  Built only when CMake finds LMDB.
 */
#define _GNU_SOURCE
#include "backend.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

#define LMDB_FLAGS (MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOTLS)

/* One thread's connection. */
typedef struct lmdb_conn {
    MDB_txn *rtxn;     /* its read transaction, reset between operations */
    MDB_cursor *cur;   /* its cursor for scans, bound to rtxn */
} lmdb_conn;

static char env_dir[256];        /* the environment's directory */
static char env_data[300];       /* its data.mdb (for the signal handler) */
static char env_lock[300];       /* its lock.mdb (for the signal handler) */
static volatile int dir_created; /* env_dir exists (for the signal handler) */
static MDB_env *setup_env;       /* the first process's environment */
static MDB_env *proc_env;        /* this process's (setup_env in the first one) */
static MDB_dbi dbi;              /* the unnamed database: the records */
static uint64_t map_mb;          /* the map size, MB (for describe) */

/* Map size: every record plus the allowed inserts, B+tree leaves half full
 * after splits (values of a page or more go to overflow pages, rounded up
 * to pages), half as much again for copy-on-write, plus 256 MB.  The map
 * is only reserved address space: the file grows with what is written. */
static uint64_t map_bytes(const ycsb_config *cfg)
{
    if (cfg->mem_mb)
        return cfg->mem_mb << 20;
    uint64_t items = cfg->records + (cfg->workload->pct[OP_INSERT] ? cfg->max_inserts : 0);
    uint64_t per = cfg->value_size + RECORD_KEY_LEN + 16;
    per = cfg->value_size > 1024 ? (per + 4095) / 4096 * 4096 + 4096 : 2 * per;
    return items * per / 2 * 3 + (256ull << 20);
}

/* Open the environment in env_dir into *env; 0, or -1 with err set. */
static int env_open(const ycsb_config *cfg, uint64_t bytes, MDB_env **env, char *err,
                    size_t errlen)
{
    int rc = mdb_env_create(env);
    if (rc == 0)
        rc = mdb_env_set_mapsize(*env, (size_t)bytes);
    if (rc == 0) /* a read slot per worker thread, and the load's */
        rc = mdb_env_set_maxreaders(*env, cfg->threads * cfg->processes + 8);
    if (rc == 0)
        rc = mdb_env_open(*env, env_dir, LMDB_FLAGS | (cfg->writemap ? MDB_WRITEMAP : 0), 0600);
    if (rc != 0) {
        snprintf(err, errlen, "LMDB environment in %s (map %llu MB): %s", env_dir,
                 (unsigned long long)(bytes >> 20), mdb_strerror(rc));
        if (*env)
            mdb_env_close(*env);
        *env = NULL;
        return -1;
    }
    return 0;
}

/* Open the unnamed database of env into dbi; 0, or -1 with err set. */
static int dbi_open(MDB_env *env, char *err, size_t errlen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, NULL, 0, &dbi);
        rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
    }
    if (rc != 0)
        snprintf(err, errlen, "LMDB database in %s: %s", env_dir, mdb_strerror(rc));
    return rc == 0 ? 0 : -1;
}

static void lmdb_teardown(void);

static int lmdb_setup(const ycsb_config *cfg, char *err, size_t errlen)
{
    if (cfg->segment)
        snprintf(env_dir, sizeof env_dir, "%s", cfg->segment);
    else
        snprintf(env_dir, sizeof env_dir, "/dev/shm/ycsb-lmdb-%d", (int)getpid());
    snprintf(env_data, sizeof env_data, "%s/data.mdb", env_dir);
    snprintf(env_lock, sizeof env_lock, "%s/lock.mdb", env_dir);
    if (mkdir(env_dir, 0700) != 0) {
        snprintf(err, errlen, "LMDB directory %s: %s%s", env_dir, strerror(errno),
                 errno == EEXIST ? " (give -f a directory that does not exist yet)" : "");
        return -1;
    }
    dir_created = 1;
    uint64_t bytes = map_bytes(cfg);
    map_mb = bytes >> 20;
    if (env_open(cfg, bytes, &setup_env, err, errlen) < 0 ||
        dbi_open(setup_env, err, errlen) < 0) {
        lmdb_teardown(); /* main does not call it after a failed setup */
        return -1;
    }
    proc_env = setup_env;
    return 0;
}

static int lmdb_proc_open(const ycsb_config *cfg, char *err, size_t errlen)
{
    /* a forked child: the parent's MDB_env may not be used here */
    if (env_open(cfg, map_mb << 20, &proc_env, err, errlen) < 0)
        return -1;
    return dbi_open(proc_env, err, errlen);
}

static void lmdb_close(void *conn);

static void *lmdb_open(const ycsb_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    lmdb_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = proc_env ? mdb_txn_begin(proc_env, NULL, MDB_RDONLY, &c->rtxn) : EINVAL;
    if (rc == 0)
        rc = mdb_cursor_open(c->rtxn, dbi, &c->cur);
    if (rc != 0) {
        snprintf(err, errlen, "LMDB read transaction: %s", mdb_strerror(rc));
        lmdb_close(c);
        return NULL;
    }
    mdb_txn_reset(c->rtxn);
    return c;
}

static bk_status lmdb_read(void *conn, const char *key, size_t klen, char *buf, size_t cap,
                           size_t *len)
{
    lmdb_conn *c = conn;
    if (mdb_txn_renew(c->rtxn) != 0)
        return BK_ERROR;
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(c->rtxn, dbi, &k, &v);
    if (rc == 0) {
        *len = v.mv_size;
        memcpy(buf, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
    }
    mdb_txn_reset(c->rtxn);
    return rc == 0 ? BK_OK : rc == MDB_NOTFOUND ? BK_MISS : BK_ERROR;
}

/* One write transaction: begin, put, commit. */
static bk_status lmdb_write(void *conn, const char *key, size_t klen, const char *val,
                            size_t vlen)
{
    (void)conn;
    MDB_txn *txn;
    if (mdb_txn_begin(proc_env, NULL, 0, &txn) != 0)
        return BK_ERROR;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    if (mdb_put(txn, dbi, &k, &v, 0) != 0) {
        mdb_txn_abort(txn);
        return BK_ERROR;
    }
    return mdb_txn_commit(txn) == 0 ? BK_OK : BK_ERROR;
}

/* Walk the cursor (placed at or after keys[0]) over the n expected keys:
 * a match is copied out and passed, a missing key leaves the cursor. */
static bk_status cursor_walk(MDB_cursor *cur, const char *keys, size_t klen, unsigned n,
                             char *bufs, size_t cap, size_t *lens)
{
    MDB_val k = {klen, (void *)keys}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (unsigned i = 0; i < n; i++) {
        lens[i] = BK_ABSENT;
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            return BK_ERROR;
        if (k.mv_size != klen || memcmp(k.mv_data, keys + i * klen, klen) != 0)
            continue; /* record i is not there */
        lens[i] = v.mv_size;
        memcpy(bufs + i * cap, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    return BK_OK;
}

static bk_status lmdb_scan(void *conn, const char *keys, size_t klen, unsigned n, char *bufs,
                           size_t cap, size_t *lens)
{
    lmdb_conn *c = conn;
    if (mdb_txn_renew(c->rtxn) != 0)
        return BK_ERROR;
    bk_status st = BK_ERROR;
    if (mdb_cursor_renew(c->rtxn, c->cur) == 0)
        st = cursor_walk(c->cur, keys, klen, n, bufs, cap, lens);
    mdb_txn_reset(c->rtxn);
    return st;
}

static void lmdb_close(void *conn)
{
    lmdb_conn *c = conn;
    if (c->cur)
        mdb_cursor_close(c->cur);
    if (c->rtxn)
        mdb_txn_abort(c->rtxn);
    free(c);
}

static void lmdb_proc_close(void)
{
    if (proc_env && proc_env != setup_env)
        mdb_env_close(proc_env);
    proc_env = NULL;
}

static void lmdb_teardown(void)
{
    if (setup_env)
        mdb_env_close(setup_env);
    setup_env = proc_env = NULL;
    int had_dir = dir_created;
    ycsb_backend_lmdb_emergency_unlink();
    if (had_dir && access(env_dir, F_OK) == 0)
        fprintf(stderr, "ycsb: could not remove %s\n", env_dir);
}

static void lmdb_describe(const ycsb_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "LMDB %d.%d.%d in %s (map %llu MB), MDB_NOSYNC|MDB_NOMETASYNC|MDB_NOTLS%s, "
             "a write transaction per write", MDB_VERSION_MAJOR, MDB_VERSION_MINOR,
             MDB_VERSION_PATCH, env_dir, (unsigned long long)map_mb,
             cfg->writemap ? "|MDB_WRITEMAP" : "");
}

void ycsb_backend_lmdb_emergency_unlink(void)
{
    if (!dir_created)
        return;
    unlink(env_data);
    unlink(env_lock);
    rmdir(env_dir);
    dir_created = 0;
}

const ycsb_backend ycsb_backend_lmdb = {
    .name = "lmdb",
    .setup = lmdb_setup,
    .proc_open = lmdb_proc_open,
    .open = lmdb_open,
    .read = lmdb_read,
    .update = lmdb_write,
    .insert = lmdb_write,
    .scan = lmdb_scan,
    .close = lmdb_close,
    .proc_close = lmdb_proc_close,
    .teardown = lmdb_teardown,
    .describe = lmdb_describe,
};
