/*
 * result.c - libmemcached's answers made from the library's outcomes.
 *
 * Owns: reading a value out of the segment (shmc_get into a per-thread
 * scratch buffer grown outside the library), copies of values made with
 * the memcached_st's own allocators (a program such as PHP frees them with
 * its own free), memcached_result_st filled as libmemcached fills it
 * (public setters; the key, length and CAS through the fields documented
 * in libmemcached-1.0/struct/result.h, for which there is no setter), and
 * the store outcomes in libmemcached's codes for each protocol.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

/* The calling thread's scratch buffer for values read from the segment,
 * freed when the thread ends (scratch_key's destructor). */
static __thread char *scratch;
static __thread size_t scratch_cap;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_key_make(void)
{
    (void)pthread_key_create(&scratch_key, free);
}

/* Make the scratch buffer hold at least need bytes; 0, or -1 (no memory). */
static int scratch_grow(size_t need)
{
    if (need <= scratch_cap)
        return 0;
    size_t cap = scratch_cap ? scratch_cap : 4096;
    while (cap < need)
        cap *= 2;
    char *p = realloc(scratch, cap);
    if (!p)
        return -1;
    scratch = p;
    scratch_cap = cap;
    pthread_once(&scratch_once, scratch_key_make);
    (void)pthread_setspecific(scratch_key, p);
    return 0;
}

shmc_status shim_read(const shim_route *r, const char **value, size_t *len, uint32_t *flags,
                      uint64_t *cas)
{
    if (scratch_grow(4096) < 0)
        return SHMC_SYSTEM;
    for (int tries = 0; tries < 8; tries++) { /* a value may grow between the two calls */
        size_t n = scratch_cap;
        shmc_status st = shmc_get(r->cache, r->key, r->key_len, scratch, &n, flags, cas);
        if (st != SHMC_BUFFER_TOO_SMALL) {
            *value = scratch;
            *len = n;
            return st;
        }
        if (scratch_grow(n) < 0)
            return SHMC_SYSTEM;
    }
    return SHMC_SYSTEM;
}

char *shim_value_copy(memcached_st *memc, const char *value, size_t len)
{
    memcached_malloc_fn mem_malloc = NULL;
    memcached_free_fn mem_free;
    memcached_realloc_fn mem_realloc;
    memcached_calloc_fn mem_calloc;
    memcached_get_memory_allocators(memc, &mem_malloc, &mem_free, &mem_realloc, &mem_calloc);
    char *p = mem_malloc ? mem_malloc(memc, len + 1, memcached_get_memory_allocators_context(memc))
                         : malloc(len + 1);
    if (p) {
        memcpy(p, value, len);
        p[len] = '\0';
    }
    return p;
}

void shim_result_fill(memcached_result_st *result, const shim_found *f)
{
    memcached_result_reset(result);
    memcached_result_set_value(result, f->value, f->value_len);
    memcached_result_set_flags(result, f->flags);
    memcached_result_set_expiration(result, 0);
    memcpy(result->item_key, f->key, f->key_len);
    result->item_key[f->key_len] = '\0';
    result->key_length = f->key_len;
    result->item_cas = f->cas;
}

int shim_wants_cas(memcached_st *memc)
{
    return memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL) ||
           memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_SUPPORT_CAS);
}

int shim_store_rc(memcached_st *memc, shmc_store_mode mode, shmc_status st)
{
    int binary = (int)memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL);
    switch (st) {
    case SHMC_OK:
        return MEMCACHED_SUCCESS;
    case SHMC_EXISTS:
        return MEMCACHED_DATA_EXISTS;
    case SHMC_NOT_FOUND:
        return MEMCACHED_NOTFOUND;
    case SHMC_NOT_STORED:
        /* the binary protocol answers add and replace with key-exists and
         * key-not-found; the text protocol with NOT_STORED */
        if (binary && mode == SHMC_ADD)
            return MEMCACHED_DATA_EXISTS;
        if (binary && mode == SHMC_REPLACE)
            return MEMCACHED_NOTFOUND;
        return MEMCACHED_NOTSTORED;
    default:
        return -1; /* too large, no memory, busy, damaged...: the socket answers */
    }
}

int shim_segment_broken(shmc_status st)
{
    return st == SHMC_STALE || st == SHMC_CORRUPT || st == SHMC_INVALID;
}
