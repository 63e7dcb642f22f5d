/*
 * backend.h - the YCSB driver's backend interface: what the driver calls
 * to reach a cache.  One backend per kind (backend_lib.c: libshmcached
 * calls on a segment; backend_mc.c: libmemcached to a server;
 * backend_lmdb.c: an LMDB environment; backend_redis.c: hiredis to a Redis
 * server), all behind this struct of function pointers.
 *
 * Order of calls: setup (once, in the driver's first process), then per
 * worker thread open ... close; teardown once at the end in the first
 * process (also after SIGINT).  A forked worker process (-P) calls
 * proc_open before its threads open and proc_close after they close:
 * nothing setup opened before the fork is used in it.  proc_open,
 * proc_close and teardown may be NULL: nothing to do (mc and redis
 * connect per thread and make nothing to remove).
 */
#ifndef YCSB_BACKEND_H
#define YCSB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ycsb.h"

/* Outcome of one operation. */
typedef enum bk_status { BK_OK, BK_MISS, BK_ERROR } bk_status;

/* A scan's length for a record it did not find. */
#define BK_ABSENT ((size_t)-1)

typedef struct ycsb_backend {
    const char *name; /* "lib", "mc", "lmdb" or "redis" */
    /* Prepare the cache for a run (lib: create the segment; lmdb: create
     * the environment; mc, redis: check the server answers, and flush it
     * unless cfg->skip_load).  0, or -1 with a message in err. */
    int (*setup)(const ycsb_config *cfg, char *err, size_t errlen);
    /* In a forked worker process: attach (lib: the process's one shared
     * handle). 0 or -1 with a message in err. */
    int (*proc_open)(const ycsb_config *cfg, char *err, size_t errlen);
    /* Per thread: a connection (lib: the process handle; mc: a memcached_st).
     * NULL with a message in err on failure. */
    void *(*open)(const ycsb_config *cfg, char *err, size_t errlen);
    /* Read key into buf (capacity cap); *len the value's length. */
    bk_status (*read)(void *conn, const char *key, size_t klen, char *buf, size_t cap,
                      size_t *len);
    /* Overwrite an existing record. */
    bk_status (*update)(void *conn, const char *key, size_t klen, const char *val, size_t vlen);
    /* Store a new record. */
    bk_status (*insert)(void *conn, const char *key, size_t klen, const char *val, size_t vlen);
    /* Scan (workload E): read the n (1..YCSB_SCAN_MAX) consecutive records
     * whose keys are keys[0..n-1] (klen bytes each, back to back, in key
     * order), value i into bufs + i x cap (at most cap bytes), its length
     * into lens[i], BK_ABSENT if record i was not found.  BK_OK, or
     * BK_ERROR if the store failed (lens then undefined). */
    bk_status (*scan)(void *conn, const char *keys, size_t klen, unsigned n, char *bufs,
                      size_t cap, size_t *lens);
    /* Per thread: release what open gave. */
    void (*close)(void *conn);
    /* In a forked worker process: release what proc_open attached. */
    void (*proc_close)(void);
    /* Once, at the end: remove what setup made (lib: destroy the segment). */
    void (*teardown)(void);
    /* One line saying what is measured (target, protection, protocol). */
    void (*describe)(const ycsb_config *cfg, char *buf, size_t cap);
} ycsb_backend;

extern const ycsb_backend ycsb_backend_lib;
#ifdef YCSB_HAVE_LIBMEMCACHED
extern const ycsb_backend ycsb_backend_mc;
#endif
#ifdef YCSB_HAVE_LMDB
extern const ycsb_backend ycsb_backend_lmdb;
#endif
#ifdef YCSB_HAVE_HIREDIS
extern const ycsb_backend ycsb_backend_redis;
#endif

/* The backend named name, or NULL (with a message in err: unknown, or a
 * backend whose library was missing at build time, naming the Debian
 * package to install). */
const ycsb_backend *ycsb_backend_find(const char *name, char *err, size_t errlen);

/* lib backend: remove the segment now, from a signal handler (unlink is
 * async-signal-safe; the segment is a file). */
void ycsb_backend_lib_emergency_unlink(void);

#ifdef YCSB_HAVE_LMDB
/* lmdb backend: remove the environment's files and directory now, from a
 * signal handler (unlink and rmdir only). */
void ycsb_backend_lmdb_emergency_unlink(void);
#endif

#endif /* YCSB_BACKEND_H */
