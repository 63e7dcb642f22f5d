/*
 * route.c - whether one call's key may be served by a library call, and on
 * which segment.
 *
 * Owns: the behaviours that send a whole memcached_st to the socket, the
 * key checks libmemcached makes (a key it would refuse goes to the real
 * call, which refuses it with its own code and message), the namespace
 * (MEMCACHED_CALLBACK_NAMESPACE: prepended to the key the server sees,
 * as libmemcached does), and the server choice, which is libmemcached's
 * own: memcached_server_by_key on the group key (the key itself when
 * there is none), with the program's distribution and hash.
 */
#include <ctype.h>
#include <string.h>

#include "shim.h"

int shim_memc_ok(memcached_st *memc, int get_path)
{
    if (!memc)
        return 0;
    /* Behaviours whose answers differ from a plain request's, or that
     * decide servers in ways memcached_server_by_key does not repeat. */
    if (memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_NOREPLY) ||
        memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_BUFFER_REQUESTS)) {
        /* writes sent without waiting for their answers: a read served
         * here could overtake them, so this memcached_st stays on its
         * sockets, where the server keeps them in order, for good */
        shim_state_socket_only(memc);
        return 0;
    }
    if (memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_USE_UDP) ||
        memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS) ||
        memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS) ||
        memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_DISTRIBUTION) ==
            MEMCACHED_DISTRIBUTION_RANDOM)
        return 0;
    if (shim_state_is_socket_only(memc))
        return 0; /* marked: an encoding key, or noreply/buffered writes (above) */
    if (get_path) {
        memcached_return_t rc;
        if (memcached_callback_get(memc, MEMCACHED_CALLBACK_GET_FAILURE, &rc))
            return 0; /* read-through: libmemcached runs it on a miss */
    }
    return 1;
}

const char *shim_namespace(memcached_st *memc, size_t *len)
{
    memcached_return_t rc;
    const char *ns = memcached_callback_get(memc, MEMCACHED_CALLBACK_NAMESPACE, &rc);
    *len = ns ? strlen(ns) : 0;
    return ns;
}

/* libmemcached's memcached_key_test for one key: length 1..250; and on
 * the text protocol, printable characters only. */
static int key_ok(memcached_st *memc, const char *key, size_t len)
{
    if (!key || len == 0 || len >= MEMCACHED_MAX_KEY)
        return 0;
    /* on text, a key with a space or a control character cannot be sent
     * as it is: libmemcached refuses it with verify_key, else the server
     * answers an error (or libmemcached fails on its answer): the socket
     * decides, as without the preload */
    if (!memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL)) {
        for (size_t i = 0; i < len; i++)
            if (!isgraph((unsigned char)key[i]))
                return 0;
    }
    return 1;
}

/* The key as the server stores it: the namespace, then the key. */
static int key_with_namespace(memcached_st *memc, const char *key, size_t len, shim_route *r)
{
    size_t nslen;
    const char *ns = shim_namespace(memc, &nslen);
    if (!nslen) {
        r->key = key;
        r->key_len = len;
        return 1;
    }
    if (nslen + len >= MEMCACHED_MAX_KEY)
        return 0; /* too long for the server: the real call says what it says */
    memcpy(r->buf, ns, nslen);
    memcpy(r->buf + nslen, key, len);
    r->key = r->buf;
    r->key_len = nslen + len;
    return 1;
}

int shim_route_key(memcached_st *memc, const char *group_key, size_t group_key_len,
                   const char *key, size_t key_len, shim_route *r)
{
    if (!key_ok(memc, key, key_len))
        return 0;
    /* memcached_server_by_key tests the group key as a key: one it refuses
     * (say empty, as a store's _by_key with no group key hashes it) goes
     * to the real call, which decides */
    const char *owner = group_key ? group_key : key;
    size_t owner_len = group_key ? group_key_len : key_len;
    memcached_return_t rc;
    const memcached_instance_st *inst = memcached_server_by_key(memc, owner, owner_len, &rc);
    if (!inst)
        return 0;
    r->srv = NULL;
    r->cache = shim_local_handle(inst, &r->srv);
    if (!r->cache)
        return 0;
    return key_with_namespace(memc, key, key_len, r);
}

int shim_keys_ok(memcached_st *memc, const char *const *keys, const size_t *lens, size_t n)
{
    if (!keys || !lens || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!key_ok(memc, keys[i], lens[i]))
            return 0;
    return 1;
}
