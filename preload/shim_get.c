/*
 * shim_get.c - memcached_get and memcached_get_by_key on a local segment.
 *
 * The value is copied out of the segment (result.c) and handed to the
 * program in memory from the memcached_st's allocators, NUL-terminated,
 * as libmemcached's own.  A miss is MEMCACHED_NOTFOUND with length and
 * flags 0.  A read-through callback (MEMCACHED_CALLBACK_GET_FAILURE)
 * sends gets to the real call, which runs it.
 */
#include "shim.h"

REAL_SLOT(memcached_get_by_key);

/* The local get: the value (NULL on a miss, *error says which), or
 * *done 0 when the real call must answer. */
static char *local_get(memcached_st *ptr, const shim_route *r, size_t *value_length,
                       uint32_t *flags, memcached_return_t *error, int *done)
{
    const char *value;
    size_t len = 0;
    uint32_t f = 0;
    shmc_status st = shim_read(r, &value, &len, &f, NULL);
    *done = 1;
    if (st == SHMC_NOT_FOUND) {
        shim_local_done(ptr);
        *value_length = 0;
        *flags = 0;
        *error = MEMCACHED_NOTFOUND;
        return NULL;
    }
    char *copy = st == SHMC_OK ? shim_value_copy(ptr, value, len) : NULL;
    if (!copy) {
        if (shim_segment_broken(st))
            shim_server_failed(r->srv, st);
        *done = 0;
        return NULL;
    }
    *value_length = len;
    *flags = f;
    *error = MEMCACHED_SUCCESS;
    shim_local_done(ptr);
    return copy;
}

SHIM_EXPORT char *memcached_get_by_key(memcached_st *ptr, const char *group_key,
                                       size_t group_key_length, const char *key,
                                       size_t key_length, size_t *value_length, uint32_t *flags,
                                       memcached_return_t *error)
{
    shim_route r;
    /* libmemcached's get hashes the key itself unless a group key is given */
    const char *group = group_key && group_key_length ? group_key : NULL;
    if (SHIM_ON() && shim_memc_ok(ptr, 1) &&
        shim_route_key(ptr, group, group_key_length, key, key_length, &r)) {
        size_t len_unused;
        uint32_t flags_unused;
        memcached_return_t error_unused;
        int done;
        char *v = local_get(ptr, &r, value_length ? value_length : &len_unused,
                            flags ? flags : &flags_unused, error ? error : &error_unused, &done);
        if (done)
            return v;
    }
    return PASS_REAL(memcached_get_by_key, ptr, group_key, group_key_length, key, key_length,
                     value_length, flags, error);
}

SHIM_EXPORT char *memcached_get(memcached_st *ptr, const char *key, size_t key_length,
                                size_t *value_length, uint32_t *flags, memcached_return_t *error)
{
    return memcached_get_by_key(ptr, NULL, 0, key, key_length, value_length, flags, error);
}
