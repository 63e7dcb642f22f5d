/*
 * shim_store.c - memcached_set, _add, _replace, _append, _prepend, _cas
 * and their _by_key forms, on a local segment when the key's server is
 * local.
 *
 * Each stores with shmc_store (memcached's exptime and flags as the
 * server takes them; the CAS is the segment's, so a CAS read by socket
 * works here and the reverse).  An outcome libmemcached has a plain code
 * for (stored, not stored, exists, not found) is answered here; any other
 * (too large, out of memory, busy, a broken segment) sends the same call
 * to the real libmemcached, which gets the server's answer for it: a
 * failed store changes nothing, but a set of a too-large value, which
 * removes the old item in both paths.
 */
#include "shim.h"

REAL_SLOT(memcached_set_by_key);
REAL_SLOT(memcached_add_by_key);
REAL_SLOT(memcached_replace_by_key);
REAL_SLOT(memcached_append_by_key);
REAL_SLOT(memcached_prepend_by_key);
REAL_SLOT(memcached_cas_by_key);

/* One store on the key's local segment: libmemcached's code, or -1 when
 * the real call must do it (on: the intercepted call's SHIM_ON()). */
static int local_store(int on, memcached_st *memc, shmc_store_mode mode, const char *group_key,
                       size_t group_key_len, const char *key, size_t key_len, const char *value,
                       size_t value_len, time_t expiration, uint32_t flags, uint64_t cas)
{
    if (!on || !shim_memc_ok(memc, 0))
        return -1;
    if ((!value && value_len) || expiration < 0 || (mode == SHMC_CAS && cas == 0))
        return -1; /* libmemcached's own answers (a CAS of 0 is a set in binary) */
    shim_route r;
    if (!shim_route_key(memc, group_key, group_key_len, key, key_len, &r))
        return -1;
    shmc_status st = shmc_store(r.cache, mode, r.key, r.key_len, value, value_len, flags,
                                (int64_t)expiration, mode == SHMC_CAS ? cas : 0, NULL);
    if (shim_segment_broken(st))
        shim_server_failed(r.srv, st);
    int rc = shim_store_rc(memc, mode, st);
    if (rc >= 0)
        shim_local_done(memc);
    return rc;
}

/* The six by_key calls: locally, else the real one. */
#define STORE_BY_KEY(fn, mode)                                                                   \
    SHIM_EXPORT memcached_return_t fn(memcached_st *ptr, const char *group_key,                 \
                                      size_t group_key_length, const char *key,                 \
                                      size_t key_length, const char *value, size_t value_length, \
                                      time_t expiration, uint32_t flags)                        \
    {                                                                                            \
        int rc = local_store(SHIM_ON(), ptr, mode, group_key, group_key_length, key, key_length, value,    \
                             value_length, expiration, flags, 0);                                \
        if (rc >= 0)                                                                             \
            return (memcached_return_t)rc;                                                       \
        return PASS_REAL(fn, ptr, group_key, group_key_length, key, key_length, value,          \
                         value_length, expiration, flags);                                       \
    }

STORE_BY_KEY(memcached_set_by_key, SHMC_SET)
STORE_BY_KEY(memcached_add_by_key, SHMC_ADD)
STORE_BY_KEY(memcached_replace_by_key, SHMC_REPLACE)
STORE_BY_KEY(memcached_append_by_key, SHMC_APPEND)
STORE_BY_KEY(memcached_prepend_by_key, SHMC_PREPEND)

SHIM_EXPORT memcached_return_t memcached_cas_by_key(memcached_st *ptr, const char *group_key,
                                                    size_t group_key_length, const char *key,
                                                    size_t key_length, const char *value,
                                                    size_t value_length, time_t expiration,
                                                    uint32_t flags, uint64_t cas)
{
    int rc = local_store(SHIM_ON(), ptr, SHMC_CAS, group_key, group_key_length, key, key_length, value,
                         value_length, expiration, flags, cas);
    if (rc >= 0)
        return (memcached_return_t)rc;
    return PASS_REAL(memcached_cas_by_key, ptr, group_key, group_key_length, key, key_length,
                     value, value_length, expiration, flags, cas);
}

/* The plain forms: libmemcached's own are the by_key ones with the key as
 * the group key, which is what these do (so a nested call is not needed). */
#define STORE_PLAIN(fn, by_key)                                                                  \
    SHIM_EXPORT memcached_return_t fn(memcached_st *ptr, const char *key, size_t key_length,    \
                                      const char *value, size_t value_length,                   \
                                      time_t expiration, uint32_t flags)                        \
    {                                                                                            \
        return by_key(ptr, key, key_length, key, key_length, value, value_length, expiration,   \
                      flags);                                                                    \
    }

STORE_PLAIN(memcached_set, memcached_set_by_key)
STORE_PLAIN(memcached_add, memcached_add_by_key)
STORE_PLAIN(memcached_replace, memcached_replace_by_key)
STORE_PLAIN(memcached_append, memcached_append_by_key)
STORE_PLAIN(memcached_prepend, memcached_prepend_by_key)

SHIM_EXPORT memcached_return_t memcached_cas(memcached_st *ptr, const char *key,
                                             size_t key_length, const char *value,
                                             size_t value_length, time_t expiration,
                                             uint32_t flags, uint64_t cas)
{
    return memcached_cas_by_key(ptr, key, key_length, key, key_length, value, value_length,
                                expiration, flags, cas);
}
