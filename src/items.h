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

/* What the reads of one batch share (shmc_get_multi). */
typedef struct item_batch {
    uint32_t now;        /* segment-relative seconds, read once for the batch */
    uint64_t fast_hits;  /* hits of the lock-free path, for the caller to count */
} item_batch;

/* Start a batch: the clock read once. */
void items_batch_start(const shmc_cache *c, item_batch *b);

/* items_get with the key's hash made by the caller (hash_key(key, nkey)).
 * A hash that is not the key's (the caller's key changed meanwhile) gives
 * SHMC_NOT_FOUND and changes nothing but the miss counters: no item of
 * that key is filed under that hash.  b: NULL, or the batch this read is
 * part of: its clock is used, and a hit of the lock-free path is counted
 * in b->fast_hits, which the caller adds to the lane's get_hits. */
shmc_status items_get_hashed(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                             uint32_t hash, bool touch, int64_t exptime, item_out *out,
                             item_batch *b);

/* One key of a batched read (shmc_get_multi), as api.c read and checked
 * it from the caller's entry. */
typedef struct item_req {
    const void *key;    /* the key: caller memory, checked */
    size_t nkey;        /* its length, 1 to SHMC_KEY_MAX */
    uint32_t hash;      /* hash_key(key, nkey), as the key read then */
    bool asked;         /* whether to read it (false: its key or buffer was refused) */
    ref_t at;           /* items_get_batch's own: the chain item it fetched last */
    bool found;         /* items_get_batch's own: at is of the key's hash, its lines fetched */
    shmc_status status; /* out, if asked: as items_get_hashed's, SHMC_CORRUPT on damage */
    item_out out;       /* buf and cap checked by api.c; info out */
} item_req;

/*
 * Read m keys in stages, so that their cache misses overlap instead of
 * queueing one after another: every key's bucket is fetched, then every
 * chain's first item header, then (GET_HOPS - 1 times) the key and value
 * of an item of the key's hash or the next item's header, then each key
 * is read: from the item of its hash found, without the lock, if that is
 * the key's; else as items_get_hashed reads it (a read of the lock-free
 * path counts its hit in b->fast_hits).  The fetches are hints: they change
 * nothing, and a damaged ref is not followed.
 */
void items_get_batch(shmc_cache *c, seg_counters *n, item_req *r, size_t m, item_batch *b);

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
