/*
 * shim.h - the inside of libshmcached-memcached.so, the libmemcached
 * drop-in (docs/clients.md, "How the preload works").
 *
 * The library is loaded before Debian's libmemcached (LD_PRELOAD, or
 * linked before -lmemcached) and defines some of its calls.  Each one asks
 * libmemcached which server owns the key (memcached_server_by_key, with
 * the program's distribution, hash and namespace), and when that server is
 * a shmcached on this host whose segment this process attached, answers
 * with a library call on the segment (shmc_*, through the gate); in every
 * other case it calls the real libmemcached (dlsym(RTLD_NEXT)).
 *
 * The modules:
 *   real.c       the real libmemcached's calls, and the guard that lets
 *                its own nested calls through untouched
 *   local.c      which servers are local: the probe, the attach, the
 *                identity and liveness checks, fork
 *   route.c      per call: may this key be served here, and by which
 *                segment; the key as the server sees it (namespace)
 *   state.c      per memcached_st: pending local mget results, the error
 *                state of the last local call
 *   result.c     libmemcached's results from the library's outcomes
 *   shim_*.c     the intercepted calls
 *
 * Nothing here runs inside the library's gate: the shim is client code
 * and reaches the segment only through shmc_* calls.
 */
#ifndef SHIM_H
#define SHIM_H

#include <libmemcached/memcached.h>
#include <stdint.h>

#include "shmcached.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* real.c                                                              */
/* ------------------------------------------------------------------ */

/* The address of the real libmemcached's call name (dlsym(RTLD_NEXT)),
 * cached in *slot; aborts with a message if libmemcached is not loaded
 * (a program that calls memcached_* has it). */
void *shim_real(void **slot, const char *name);

/* The real fn, found once (REAL_SLOT(fn) declares where it is kept). */
#define REAL(fn) ((__typeof__(&fn))shim_real(&real_slot_##fn, #fn))
#define REAL_SLOT(fn) static void *real_slot_##fn

/* Call the real fn with the guard up: what every pass-through does. */
#define CALL_REAL(fn, ...)                                                                   \
    ({                                                                                       \
        __typeof__(&fn) real_fn_ = REAL(fn);                                                 \
        shim_real_begin();                                                                   \
        __typeof__(real_fn_(__VA_ARGS__)) real_rv_ = real_fn_(__VA_ARGS__);                  \
        shim_real_end();                                                                     \
        real_rv_;                                                                            \
    })

/* Nesting guard: while the shim runs a real call, libmemcached's own
 * calls of exported functions (memcached_get calling memcached_fetch...)
 * must reach the real ones.  shim_nested() is 1 inside such a call (then
 * pass through); shim_real_begin/_end bracket a real call. */
int shim_nested(void);
void shim_real_begin(void);
void shim_real_end(void);

/* 1 if caller (a return address) lies in libmemcached's own code: a call
 * libmemcached makes of its own exported function, whose outer call the
 * shim did not see (then pass through: the outer call is libmemcached's). */
int shim_from_libmemcached(const void *caller);

/* ------------------------------------------------------------------ */
/* local.c                                                             */
/* ------------------------------------------------------------------ */

/* 1 unless SHMCACHED_PRELOAD=off (read once), or inside a real call, or
 * called from libmemcached itself (caller: the intercepted call's return
 * address): the test every intercepted call makes first, with SHIM_ON(). */
int shim_active(const void *caller);
#define SHIM_ON() shim_active(__builtin_return_address(0))
/* 1 if SHMCACHED_PRELOAD_DEBUG=1: shim_debug prints one line to stderr. */
void shim_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One server this process has decided about (a process-wide table). */
typedef struct shim_server shim_server;

/* The handle to serve instance's keys with, or NULL when the server is
 * not a local shmcached (decided once per process per address; the first
 * call probes it), or no longer is (its process died: checked at most
 * once a second).  *srv receives the table entry for shim_server_failed. */
shmc_cache *shim_local_handle(const memcached_instance_st *instance, shim_server **srv);

/* A call on srv's handle answered st, which means the segment can no
 * longer be trusted (SHMC_STALE, SHMC_CORRUPT...): serve that server by
 * socket from now on. */
void shim_server_failed(shim_server *srv, shmc_status st);

/* ------------------------------------------------------------------ */
/* route.c                                                             */
/* ------------------------------------------------------------------ */

/* A key routed to a local segment. */
typedef struct shim_route {
    shmc_cache *cache;               /* the segment's handle */
    shim_server *srv;                /* its table entry (for shim_server_failed) */
    const char *key;                 /* the key as the server stores it */
    size_t key_len;                  /* its length */
    char buf[MEMCACHED_MAX_KEY * 2]; /* namespace + key, when there is a namespace */
} shim_route;

/* Whether memc's settings let the shim serve anything locally: not with
 * UDP, noreply, buffered requests, auto-ejection, replicas, random
 * distribution, an encoding key (docs/clients.md lists why).  get_path: also not with a
 * GET_FAILURE (read-through) callback. */
int shim_memc_ok(memcached_st *memc, int get_path);

/* Route one key: 1 and *r filled if the server libmemcached picks for
 * group_key (for key itself when group_key is NULL) is local, and key
 * passes libmemcached's checks; else 0: the real call must run (and it
 * reports an error exactly as libmemcached does). */
int shim_route_key(memcached_st *memc, const char *group_key, size_t group_key_len,
                   const char *key, size_t key_len, shim_route *r);

/* 1 if every key of an mget passes libmemcached's key checks. */
int shim_keys_ok(memcached_st *memc, const char *const *keys, const size_t *lens, size_t n);

/* Whether a status from a call on a local segment means the segment can
 * no longer be used (then shim_server_failed). */
int shim_segment_broken(shmc_status st);

/* The namespace (MEMCACHED_CALLBACK_NAMESPACE) of memc, and its length. */
const char *shim_namespace(memcached_st *memc, size_t *len);

/* ------------------------------------------------------------------ */
/* state.c                                                             */
/* ------------------------------------------------------------------ */

/* One value found locally for an mget, waiting to be fetched. */
typedef struct shim_found {
    char key[MEMCACHED_MAX_KEY]; /* the key as the program asked it (no namespace) */
    size_t key_len;              /* its length */
    char *value;                 /* malloc'd: value_len bytes and a NUL */
    size_t value_len;            /* its length */
    uint32_t flags;              /* client flags */
    uint64_t cas;                /* the segment's CAS (0 when libmemcached would not ask) */
} shim_found;

/* The shim's state of one memcached_st (found by pointer). */
typedef struct shim_memc {
    const memcached_st *memc;    /* whose it is; NULL: a free entry */
    shim_found *found;           /* local mget results not fetched yet */
    size_t nfound;               /* how many of them there are */
    size_t next;                 /* the next one to hand out */
    int remote_pending;          /* 1: the real mget was called too: fetch it after */
    int local_mget;              /* 1: the last mget was (partly) served here */
    int socket_only;             /* 1: every call goes to libmemcached: its values are
                                    encrypted (memcached_set_encoding_key), or it sent
                                    writes without waiting for their answers (noreply,
                                    buffered), which a local read must not overtake */
    int cleared;                 /* 1: a local call ran after the error below was set, so
                                    libmemcached would now report success (errors.c) */
    memcached_return_t err_rc;   /* the real memcached_last_error then */
    int err_errno;               /* the real memcached_last_error_errno then */
    char err_msg[256];           /* the real memcached_last_error_message then */
} shim_memc;

/* memc's state, created on first use (NULL only if memory ran out). */
shim_memc *shim_state(const memcached_st *memc);
/* memc's state if it has one, else NULL. */
shim_memc *shim_state_find(const memcached_st *memc);
/* Forget the pending results of st. */
void shim_state_clear(shim_memc *st);
/* Remove memc's state (memcached_free). */
void shim_state_drop(const memcached_st *memc);
/* In a fork child: the table's lock, which another thread of the parent
 * may have held at the fork, is made anew. */
void shim_state_after_fork(void);
/* Send every call of memc to libmemcached from now on (socket_only). */
void shim_state_socket_only(const memcached_st *memc);
/* Whether memc was marked so. */
int shim_state_is_socket_only(const memcached_st *memc);

/* ------------------------------------------------------------------ */
/* errors.c                                                            */
/* ------------------------------------------------------------------ */

/* A call on memc was answered locally: from now on memcached_last_error*
 * report success, as libmemcached's own call would have left them (each
 * of its calls clears the error first), until libmemcached's error state
 * changes. */
void shim_local_done(memcached_st *memc);

/* A call on memc goes to the real libmemcached, one that clears the
 * error state first as all libmemcached's commands do (not the fetch
 * calls): whatever error state it leaves is libmemcached's own again. */
void shim_passing(const memcached_st *memc);

/* CALL_REAL for the intercepted calls' pass-through (memc: their first
 * argument, the memcached_st). */
#define PASS_REAL(fn, memc, ...) (shim_passing(memc), CALL_REAL(fn, memc, __VA_ARGS__))

/* ------------------------------------------------------------------ */
/* result.c                                                            */
/* ------------------------------------------------------------------ */

/* The value of key (len bytes) copied from the segment into a thread's
 * scratch buffer: SHMC_OK with *value pointing there (valid until the
 * thread's next call), or the library's other outcomes. */
shmc_status shim_read(const shim_route *r, const char **value, size_t *len, uint32_t *flags,
                      uint64_t *cas);

/* A malloc'd copy of len bytes with a NUL after them, made with memc's
 * allocators (memcached_set_memory_allocators: PHP's are its own). */
char *shim_value_copy(memcached_st *memc, const char *value, size_t len);

/* Fill result (reset first) as libmemcached fills it from a server's answer. */
void shim_result_fill(memcached_result_st *result, const shim_found *f);

/* Whether memc asks the server for CAS values: binary always, text only
 * with MEMCACHED_BEHAVIOR_SUPPORT_CAS ("gets" instead of "get"). */
int shim_wants_cas(memcached_st *memc);

/* libmemcached's code for a store's outcome st, or -1 when the call must
 * be done again by socket (an outcome the shim does not translate). */
int shim_store_rc(memcached_st *memc, shmc_store_mode mode, shmc_status st);

#endif /* SHIM_H */
