/*
 * backend_mc.c - the YCSB driver's "mc" backend: libmemcached (Debian
 * libmemcached-dev) to one memcached-protocol server, the real memcached
 * or build/shmcached, over a UNIX socket (an address with a '/') or TCP
 * (host:port), text protocol or binary (-B).  One memcached_st per thread,
 * as a multi-threaded memcached client does.  A scan (workload E) is one
 * multi-get (memcached_mget) of its keys: memcached has no key order, and
 * a client that knows the keys asks for them in one round trip.  Built only when CMake finds
 * libmemcached.
 */
#define _GNU_SOURCE
#include "backend.h"

#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new memcached_st for cfg's server and protocol; NULL with err set. */
static memcached_st *mc_connect(const ycsb_config *cfg, char *err, size_t errlen)
{
    memcached_st *mc = memcached_create(NULL);
    if (!mc) {
        snprintf(err, errlen, "memcached_create failed");
        return NULL;
    }
    memcached_return_t rc;
    if (strchr(cfg->address, '/')) {
        rc = memcached_server_add_unix_socket(mc, cfg->address);
    } else {
        char host[256];
        snprintf(host, sizeof host, "%s", cfg->address);
        char *colon = strrchr(host, ':');
        unsigned port = 11211;
        if (colon) {
            *colon = '\0';
            port = (unsigned)strtoul(colon + 1, NULL, 10);
        }
        rc = memcached_server_add(mc, host, (in_port_t)port);
        if (rc == MEMCACHED_SUCCESS)
            rc = memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
    }
    if (rc == MEMCACHED_SUCCESS && cfg->binary)
        rc = memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
    if (rc != MEMCACHED_SUCCESS) {
        snprintf(err, errlen, "libmemcached setup for %s: %s", cfg->address,
                 memcached_strerror(mc, rc));
        memcached_free(mc);
        return NULL;
    }
    return mc;
}

static int mc_setup(const ycsb_config *cfg, char *err, size_t errlen)
{
    memcached_st *mc = mc_connect(cfg, err, errlen);
    if (!mc)
        return -1;
    /* flush_all empties the server, so earlier runs' items take no room
     * from this run's; with -L (records already loaded) a get of an absent
     * key only proves the server answers. */
    memcached_return_t rc;
    if (cfg->skip_load) {
        size_t len;
        uint32_t flags;
        free(memcached_get(mc, "ycsb-ping", 9, &len, &flags, &rc));
        if (rc == MEMCACHED_NOTFOUND)
            rc = MEMCACHED_SUCCESS;
    } else {
        rc = memcached_flush(mc, 0);
    }
    if (rc != MEMCACHED_SUCCESS) {
        const char *why = memcached_last_error_message(mc);
        snprintf(err, errlen, "memcached server %s does not answer: %s", cfg->address,
                 why ? why : memcached_strerror(mc, rc));
        memcached_free(mc);
        return -1;
    }
    memcached_free(mc);
    return 0;
}

static void *mc_open(const ycsb_config *cfg, char *err, size_t errlen)
{
    return mc_connect(cfg, err, errlen);
}

static bk_status mc_read(void *conn, const char *key, size_t klen, char *buf, size_t cap,
                         size_t *len)
{
    memcached_return_t rc;
    uint32_t flags;
    char *v = memcached_get(conn, key, klen, len, &flags, &rc);
    if (!v)
        return rc == MEMCACHED_NOTFOUND || rc == MEMCACHED_SUCCESS ? BK_MISS : BK_ERROR;
    memcpy(buf, v, *len < cap ? *len : cap);
    free(v);
    return BK_OK;
}

static bk_status mc_write(void *conn, const char *key, size_t klen, const char *val, size_t vlen)
{
    memcached_return_t rc = memcached_set(conn, key, klen, val, vlen, 0, 0);
    return rc == MEMCACHED_SUCCESS ? BK_OK : BK_ERROR;
}

/* Which of the scan's n keys is key/len: n if none. */
static unsigned key_index(const char *keys, size_t klen, unsigned n, const char *key, size_t len)
{
    for (unsigned i = 0; i < n && len == klen; i++)
        if (memcmp(keys + i * klen, key, klen) == 0)
            return i;
    return n;
}

static bk_status mc_scan(void *conn, const char *keys, size_t klen, unsigned n, char *bufs,
                         size_t cap, size_t *lens)
{
    const char *kp[YCSB_SCAN_MAX];
    size_t kl[YCSB_SCAN_MAX];
    if (n > YCSB_SCAN_MAX)
        return BK_ERROR;
    for (unsigned i = 0; i < n; i++) {
        kp[i] = keys + i * klen;
        kl[i] = klen;
        lens[i] = BK_ABSENT;
    }
    memcached_return_t rc = memcached_mget(conn, kp, kl, n);
    if (rc != MEMCACHED_SUCCESS)
        return BK_ERROR;
    memcached_result_st res;
    if (!memcached_result_create(conn, &res))
        return BK_ERROR;
    while (memcached_fetch_result(conn, &res, &rc)) {
        unsigned i = key_index(keys, klen, n, memcached_result_key_value(&res),
                               memcached_result_key_length(&res));
        if (i == n)
            continue; /* not asked for: the record stays absent */
        size_t len = memcached_result_length(&res);
        memcpy(bufs + i * cap, memcached_result_value(&res), len < cap ? len : cap);
        lens[i] = len;
    }
    memcached_result_free(&res);
    return rc == MEMCACHED_END || rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND ? BK_OK
                                                                                  : BK_ERROR;
}

static void mc_close(void *conn)
{
    memcached_free(conn);
}

static void mc_describe(const ycsb_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "libmemcached %s to %s (%s), %s protocol", LIBMEMCACHED_VERSION_STRING,
             cfg->address, strchr(cfg->address, '/') ? "UNIX socket" : "TCP",
             cfg->binary ? "binary" : "text");
}

const ycsb_backend ycsb_backend_mc = {
    .name = "mc",
    .setup = mc_setup,
    .proc_open = NULL, /* connections are per thread */
    .open = mc_open,
    .read = mc_read,
    .update = mc_write,
    .insert = mc_write,
    .scan = mc_scan,
    .close = mc_close,
    .proc_close = NULL,
    .teardown = NULL,
    .describe = mc_describe,
};
