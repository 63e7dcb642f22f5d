/*
 * backend.h - the YCSB driver's backend interface: what the driver calls
 * to reach a cache.  One backend per kind (backend_lib.c: libshmcached
 * calls on a segment; backend_mc.c: libmemcached to a server), all behind
 * this struct of function pointers.
 *
 * Order of calls: setup (once, in the driver's first process), then per
 * worker thread open ... close; teardown once at the end in the first
 * process (also after SIGINT).  A forked worker process (-P) calls
 * proc_open before its threads open and proc_close after they close:
 * nothing setup opened before the fork is used in it.
 */
#ifndef YCSB_BACKEND_H
#define YCSB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ycsb.h"

/* Outcome of one operation. */
typedef enum bk_status { BK_OK, BK_MISS, BK_ERROR } bk_status;

typedef struct ycsb_backend {
    const char *name; /* "lib" or "mc" */
    /* Prepare the cache for a run (lib: create the segment; mc: check the
     * server answers, and flush it unless cfg->skip_load).  0, or -1 with
     * a message in err. */
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

/* The backend named name, or NULL (with a message in err: unknown, or mc
 * built without libmemcached). */
const ycsb_backend *ycsb_backend_find(const char *name, char *err, size_t errlen);

/* lib backend: remove the segment now, from a signal handler (unlink is
 * async-signal-safe; the segment is a file). */
void ycsb_backend_lib_emergency_unlink(void);

#endif /* YCSB_BACKEND_H */
