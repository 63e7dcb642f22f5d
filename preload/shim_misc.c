/*
 * shim_misc.c - memcached_delete, _increment, _decrement (with and
 * without an initial value), _touch, _exist, their _by_key forms;
 * memcached_free (which drops the shim's state of the memcached_st), and
 * memcached_set_encoding_key and memcached_clone, which mark a
 * memcached_st whose values libmemcached encrypts (never served here).
 *
 * As in shim_store.c: a plain outcome is answered here, any other sends
 * the call to the real libmemcached.  memcached_flush is not here: the
 * real call flushes every server, the local ones by socket, which is the
 * same segment (docs/clients.md).
 */
#include <stdio.h>

#include "shim.h"

REAL_SLOT(memcached_delete_by_key);
REAL_SLOT(memcached_increment_by_key);
REAL_SLOT(memcached_decrement_by_key);
REAL_SLOT(memcached_increment_with_initial_by_key);
REAL_SLOT(memcached_decrement_with_initial_by_key);
REAL_SLOT(memcached_touch_by_key);
REAL_SLOT(memcached_exist_by_key);
REAL_SLOT(memcached_free);
REAL_SLOT(memcached_set_encoding_key);
REAL_SLOT(memcached_clone);

/* The expiration memcached's binary incr/decr takes as "do not create". */
#define EXPIRATION_NOT_ADD 0xffffffffu
/* The expiration of the empty item memcached_exist adds (libmemcached's). */
#define EXIST_EXPIRATION 2678400

/* Route key for a call that is not a get: 1 and *r filled, or 0 (real
 * call).  on: the intercepted call's SHIM_ON(). */
static int route(int on, memcached_st *memc, const char *group_key, size_t group_key_len,
                 const char *key, size_t key_len, shim_route *r)
{
    return on && shim_memc_ok(memc, 0) &&
           shim_route_key(memc, group_key, group_key_len, key, key_len, r);
}

/* The code for a plain outcome of a call that is not a store, or -1. */
static int plain_rc(memcached_st *memc, const shim_route *r, shmc_status st)
{
    if (st == SHMC_OK || st == SHMC_NOT_FOUND) {
        shim_local_done(memc);
        return st == SHMC_OK ? MEMCACHED_SUCCESS : MEMCACHED_NOTFOUND;
    }
    if (shim_segment_broken(st))
        shim_server_failed(r->srv, st);
    return -1;
}

SHIM_EXPORT memcached_return_t memcached_delete_by_key(memcached_st *ptr, const char *group_key,
                                                       size_t group_key_length, const char *key,
                                                       size_t key_length, time_t expiration)
{
    shim_route r;
    if (expiration == 0 && route(SHIM_ON(), ptr, group_key, group_key_length, key, key_length, &r)) {
        int rc = plain_rc(ptr, &r, shmc_delete(r.cache, r.key, r.key_len, 0));
        if (rc >= 0)
            return (memcached_return_t)rc;
    }
    return PASS_REAL(memcached_delete_by_key, ptr, group_key, group_key_length, key, key_length,
                     expiration);
}

SHIM_EXPORT memcached_return_t memcached_delete(memcached_st *ptr, const char *key,
                                                size_t key_length, time_t expiration)
{
    return memcached_delete_by_key(ptr, key, key_length, key, key_length, expiration);
}

/* incr (incr 1) or decr of the key's local value: libmemcached's code and
 * *value (UINT64_MAX when it failed, as libmemcached leaves it), or -1.
 * With create, a missing key is added holding initial (the binary
 * protocol's incr with an initial value), with exptime expiration. */
static int local_arith(memcached_st *memc, const shim_route *r, int incr, uint64_t offset, int create,
                       uint64_t initial, time_t expiration, uint64_t *value)
{
    for (int tries = 0; tries < 4; tries++) {
        uint64_t v = 0;
        shmc_status st = shmc_arith(r->cache, r->key, r->key_len, incr, offset, 0, &v, NULL);
        if (st == SHMC_NOT_FOUND && create) {
            char digits[24];
            int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)initial);
            st = shmc_store(r->cache, SHMC_ADD, r->key, r->key_len, digits, (size_t)n, 0,
                            (int64_t)expiration, 0, NULL);
            if (st == SHMC_NOT_STORED)
                continue; /* added meanwhile by another client: count on it */
            v = initial;
        }
        int rc = plain_rc(memc, r, st);
        if (rc >= 0)
            *value = rc == MEMCACHED_SUCCESS ? v : UINT64_MAX;
        return rc;
    }
    return -1;
}

/* incr/decr by key, with or without an initial value. */
static memcached_return_t arith_by_key(int on, memcached_st *ptr, int incr, const char *group_key,
                                       size_t group_key_length, const char *key,
                                       size_t key_length, uint64_t offset, int with_initial,
                                       uint64_t initial, time_t expiration, uint64_t *value)
{
    uint64_t unused;
    shim_route r;
    /* with an initial value: binary protocol only (libmemcached refuses it
     * on text); "do not create" is the expiration 0xffffffff */
    int ok = !with_initial || memcached_behavior_get(ptr, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL);
    if (ok && route(on, ptr, group_key, group_key_length, key, key_length, &r)) {
        int create = with_initial && (uint32_t)expiration != EXPIRATION_NOT_ADD;
        int rc = local_arith(ptr, &r, incr, offset, create, initial, expiration,
                             value ? value : &unused);
        if (rc >= 0)
            return (memcached_return_t)rc;
    }
    if (with_initial)
        return incr ? PASS_REAL(memcached_increment_with_initial_by_key, ptr, group_key,
                                group_key_length, key, key_length, offset, initial, expiration,
                                value)
                    : PASS_REAL(memcached_decrement_with_initial_by_key, ptr, group_key,
                                group_key_length, key, key_length, offset, initial, expiration,
                                value);
    return incr ? PASS_REAL(memcached_increment_by_key, ptr, group_key, group_key_length, key,
                            key_length, offset, value)
                : PASS_REAL(memcached_decrement_by_key, ptr, group_key, group_key_length, key,
                            key_length, offset, value);
}

SHIM_EXPORT memcached_return_t memcached_increment_by_key(memcached_st *ptr,
                                                          const char *group_key,
                                                          size_t group_key_length,
                                                          const char *key, size_t key_length,
                                                          uint64_t offset, uint64_t *value)
{
    return arith_by_key(SHIM_ON(), ptr, 1, group_key, group_key_length, key, key_length, offset, 0, 0, 0,
                        value);
}

SHIM_EXPORT memcached_return_t memcached_decrement_by_key(memcached_st *ptr,
                                                          const char *group_key,
                                                          size_t group_key_length,
                                                          const char *key, size_t key_length,
                                                          uint64_t offset, uint64_t *value)
{
    return arith_by_key(SHIM_ON(), ptr, 0, group_key, group_key_length, key, key_length, offset, 0, 0, 0,
                        value);
}

SHIM_EXPORT memcached_return_t memcached_increment(memcached_st *ptr, const char *key,
                                                   size_t key_length, uint32_t offset,
                                                   uint64_t *value)
{
    return memcached_increment_by_key(ptr, key, key_length, key, key_length, offset, value);
}

SHIM_EXPORT memcached_return_t memcached_decrement(memcached_st *ptr, const char *key,
                                                   size_t key_length, uint32_t offset,
                                                   uint64_t *value)
{
    return memcached_decrement_by_key(ptr, key, key_length, key, key_length, offset, value);
}

SHIM_EXPORT memcached_return_t memcached_increment_with_initial_by_key(
    memcached_st *ptr, const char *group_key, size_t group_key_length, const char *key,
    size_t key_length, uint64_t offset, uint64_t initial, time_t expiration, uint64_t *value)
{
    return arith_by_key(SHIM_ON(), ptr, 1, group_key, group_key_length, key, key_length, offset, 1, initial,
                        expiration, value);
}

SHIM_EXPORT memcached_return_t memcached_decrement_with_initial_by_key(
    memcached_st *ptr, const char *group_key, size_t group_key_length, const char *key,
    size_t key_length, uint64_t offset, uint64_t initial, time_t expiration, uint64_t *value)
{
    return arith_by_key(SHIM_ON(), ptr, 0, group_key, group_key_length, key, key_length, offset, 1, initial,
                        expiration, value);
}

SHIM_EXPORT memcached_return_t memcached_increment_with_initial(memcached_st *ptr,
                                                                const char *key,
                                                                size_t key_length,
                                                                uint64_t offset, uint64_t initial,
                                                                time_t expiration,
                                                                uint64_t *value)
{
    return memcached_increment_with_initial_by_key(ptr, key, key_length, key, key_length, offset,
                                                   initial, expiration, value);
}

SHIM_EXPORT memcached_return_t memcached_decrement_with_initial(memcached_st *ptr,
                                                                const char *key,
                                                                size_t key_length,
                                                                uint64_t offset, uint64_t initial,
                                                                time_t expiration,
                                                                uint64_t *value)
{
    return memcached_decrement_with_initial_by_key(ptr, key, key_length, key, key_length, offset,
                                                   initial, expiration, value);
}

SHIM_EXPORT memcached_return_t memcached_touch_by_key(memcached_st *ptr, const char *group_key,
                                                      size_t group_key_length, const char *key,
                                                      size_t key_length, time_t expiration)
{
    shim_route r;
    if (expiration >= 0 && route(SHIM_ON(), ptr, group_key, group_key_length, key, key_length, &r)) {
        int rc = plain_rc(ptr, &r, shmc_touch(r.cache, r.key, r.key_len, (int64_t)expiration));
        if (rc >= 0)
            return (memcached_return_t)rc;
    }
    return PASS_REAL(memcached_touch_by_key, ptr, group_key, group_key_length, key, key_length,
                     expiration);
}

SHIM_EXPORT memcached_return_t memcached_touch(memcached_st *ptr, const char *key,
                                               size_t key_length, time_t expiration)
{
    return memcached_touch_by_key(ptr, key, key_length, key, key_length, expiration);
}

/* libmemcached's exist is an add of an empty value (it stores one when the
 * key is missing, for 31 days): done the same way here. */
SHIM_EXPORT memcached_return_t memcached_exist_by_key(memcached_st *memc, const char *group_key,
                                                      size_t group_key_length, const char *key,
                                                      size_t key_length)
{
    shim_route r;
    if (route(SHIM_ON(), memc, group_key, group_key_length, key, key_length, &r)) {
        shmc_status st = shmc_store(r.cache, SHMC_ADD, r.key, r.key_len, "", 0, 0,
                                    EXIST_EXPIRATION, 0, NULL);
        if (st == SHMC_OK || st == SHMC_NOT_STORED) {
            shim_local_done(memc);
            return st == SHMC_OK ? MEMCACHED_NOTFOUND : MEMCACHED_SUCCESS;
        }
        if (shim_segment_broken(st))
            shim_server_failed(r.srv, st);
    }
    return PASS_REAL(memcached_exist_by_key, memc, group_key, group_key_length, key, key_length);
}

SHIM_EXPORT memcached_return_t memcached_exist(memcached_st *memc, const char *key,
                                               size_t key_length)
{
    return memcached_exist_by_key(memc, key, key_length, key, key_length);
}

SHIM_EXPORT void memcached_free(memcached_st *ptr)
{
    if (ptr) {
        shim_passing(ptr); /* its cleared error, if any, is no longer counted */
        shim_state_drop(ptr);
    }
    REAL(memcached_free)(ptr);
}

SHIM_EXPORT memcached_return_t memcached_set_encoding_key(memcached_st *ptr, const char *str,
                                                          size_t length)
{
    memcached_return_t rc = CALL_REAL(memcached_set_encoding_key, ptr, str, length);
    if (ptr && rc == MEMCACHED_SUCCESS)
        shim_state_socket_only(ptr);
    return rc;
}

SHIM_EXPORT memcached_st *memcached_clone(memcached_st *clone, const memcached_st *source)
{
    memcached_st *m = CALL_REAL(memcached_clone, clone, source);
    if (m && source && shim_state_is_socket_only(source) &&
        !memcached_behavior_get(m, MEMCACHED_BEHAVIOR_NOREPLY) &&
        !memcached_behavior_get(m, MEMCACHED_BEHAVIOR_BUFFER_REQUESTS))
        shim_state_socket_only(m); /* for its encoding key (a mark for noreply is
                                      kept too: cautious, not needed) */
    return m;
}
