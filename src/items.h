/*
 * items.h - memcached's commands on items, inside the segment.
 *
 * Each call takes the key's stripe lock for its whole duration, so every
 * command is atomic with respect to others on the same key.  Arguments
 * are validated by api.c before these are called.
 */
#ifndef SHMC_ITEMS_H
#define SHMC_ITEMS_H

#include "cache.h"

/* Where a read copies its result, and what it reports. */
typedef struct item_out {
    void *buf;          /* caller's buffer (checked by api.c); NULL only for an empty cap */
    size_t cap;         /* capacity of buf */
    bool no_value;      /* report only: copy nothing */
    bool no_bump;       /* leave LRU position, access time and fetched bit alone */
    int64_t recache_below; /* > 0: hand out the recache token below this TTL */
    shmc_item_info info; /* out: flags, cas, len, ttl, last access, fetched, class */
} item_out;

/* A plain read into buf of cap bytes.  Sets the inputs only: info is
 * written by items_get (zeroing it costs a get a rep stos). */
static inline void item_out_plain(item_out *o, void *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->no_value = false;
    o->no_bump = false;
    o->recache_below = 0;
}

/* get / gat: touch sets exptime first (gat). */
shmc_status items_get(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                      bool touch, int64_t exptime, item_out *out);

shmc_status items_store(shmc_cache *c, seg_counters *n, shmc_store_mode mode,
                        const void *key, size_t nkey, const void *val, size_t vlen,
                        uint32_t flags, int64_t exptime, uint64_t cas_in, uint64_t new_cas,
                        uint64_t *cas_out);

shmc_status items_delete(shmc_cache *c, seg_counters *n, const void *key, size_t nkey, uint64_t cas);

/* incr/decr; cas_in 0 = any item, else SHMC_EXISTS on another CAS;
 * new_cas 0 = a fresh CAS. */
shmc_status items_arith(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                        bool incr, uint64_t delta, uint64_t cas_in, uint64_t new_cas,
                        uint64_t *result, uint64_t *cas_out);

shmc_status items_touch(shmc_cache *c, seg_counters *n, const void *key, size_t nkey, int64_t exptime);

/* Mark stale with a new CAS (cas_in 0: any); exptime NULL keeps the TTL. */
shmc_status items_invalidate(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                             uint64_t cas_in, const int64_t *exptime, uint64_t new_cas);

shmc_status items_flush(shmc_cache *c, seg_counters *n, int64_t delay);

/* One round of amortized maintenance (expired reclaim, LRU balance,
 * index growth, dead-client reaping when due). */
void items_maintain(shmc_cache *c, bool reap);

#endif
