/*
 * lru.h - the segmented LRU of each slab class (memcached's doc/new_lru.txt).
 *
 * Each shard of a class (slabs.h) has its own four lists.
 * New items enter HOT, or TEMP when the segment has a temp_ttl and
 * their TTL is no longer (memcached's temporary_ttl): TEMP items are
 * never moved, bumped or evicted, only reclaimed once dead.  HOT is kept to hot_lru_pct of the shard's items
 * and WARM to warm_lru_pct: their tails move down to COLD, except items
 * read since their last move (IFLAG_ACTIVE), which go to WARM.  Eviction
 * takes from the COLD tail; an active item found there is rescued to
 * WARM instead.  A read only sets IFLAG_ACTIVE and the access time, with
 * no lock, so reads never contend on the LRU.  All calls here need the
 * shard's lock.
 */
#ifndef SHMC_LRU_H
#define SHMC_LRU_H

#include "cache.h"

/* Put a new item at the head of HOT (or TEMP) and count it. */
void lru_link(shmc_cache *c, slab_shard *sh, item_t *it);

/* Take an item out of its list and uncount it. */
void lru_unlink(shmc_cache *c, slab_shard *sh, item_t *it);

/* Append an item at the tail of its item_lru() list (recovery rebuilds). */
void lru_append(shmc_cache *c, slab_shard *sh, item_t *it);

/* Items in the shard's four lists (exact under its lock, an estimate without). */
uint64_t lru_items(const slab_shard *sh);

/* A few steps of HOT/WARM/COLD balancing. */
void lru_balance(shmc_cache *c, slab_shard *sh, uint32_t now);

/*
 * Find a chunk to reuse from the LRU tails: an expired or flushed item
 * first; a live one only if evict.  The item is removed from the index
 * and its list and returned in state CHUNK_ALLOC for this client, or NULL.
 */
item_t *lru_reclaim(shmc_cache *c, slab_shard *sh, bool evict, uint32_t now);

/* Reclaim up to budget dead items from the tails (maintenance steps). */
unsigned lru_crawl(shmc_cache *c, slab_shard *sh, unsigned budget, uint32_t now);

/* Free item it of shard sh if it is linked there and dead (expired or
 * flushed), counted as reclaimed (sh's lock held).  false if it is not,
 * or its stripe lock is busy. */
bool lru_reclaim_dead(shmc_cache *c, slab_shard *sh, item_t *it, uint32_t now);

/* Evict, from shard sh of the largest class (its lock held), the least
 * recently used chained item whose tail is of class clsid, looking at
 * LRU_TAIL_OWNER_LOOK items from the tail of COLD, then HOT, then WARM:
 * its head goes to sh's free list, its tail to its own shard's.  For a
 * class whose chunks are all tails, which nothing else evicts (values
 * just over the largest chunk, in a small cache: one page of 2 chunks).
 * true if one was. */
bool lru_evict_tail_owner(shmc_cache *c, slab_shard *sh, unsigned clsid, uint32_t now);

#endif
