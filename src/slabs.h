/*
 * slabs.h - the memory allocator: slab classes, pages, chunks, page moves.
 *
 * Memory is cut into pages (1 MiB, or the next power of two above
 * item_size_max); each page belongs to no class or to one class and is cut
 * into that class's chunks.  Each class has SEG_SHARDS shards; a shard's
 * lock guards its free list, its LRU lists (lru.c) and the state word of
 * every chunk that names it (item_t.place).  Lock order: a stripe, then
 * shards (one, or several of one class in index order), then the pool.
 */
#ifndef SHMC_SLABS_H
#define SHMC_SLABS_H

#include <stddef.h>

#include "cache.h"

/* Compute the class table of a new segment (sizes, chunks per page). */
void slabs_init_classes(shmc_cache *c);

/* The chunk sizes of the classes a segment with the parameters in h has,
 * into size[1..n]; returns n, the number of classes (no side effect: the
 * check of an existing segment's class table compares with it).  A
 * class's chunks per page are page_size / its size. */
unsigned slabs_class_sizes(const seg_header *h, uint32_t size[SEG_MAX_CLASSES + 1]);

/* Smallest class whose chunks hold ntotal bytes; 0 if none does. */
unsigned slabs_clsid(const shmc_cache *c, size_t ntotal);

/* Shard s of class clsid. */
static inline slab_shard *slabs_shard(shmc_cache *c, unsigned clsid, unsigned s)
{
    return &c->classes[clsid].shards[s];
}

/* Index of shard sh within its class. */
static inline unsigned slabs_shard_no(const shmc_cache *c, const slab_shard *sh)
{
    size_t in_class = (size_t)((const char *)sh - (const char *)c->classes) % sizeof(slab_class);
    return (unsigned)((in_class - offsetof(slab_class, shards)) / sizeof(slab_shard));
}

/* The class id of shard sh. */
static inline unsigned slabs_shard_clsid(const shmc_cache *c, const slab_shard *sh)
{
    return (unsigned)((size_t)((const char *)sh - (const char *)c->classes) / sizeof(slab_class));
}

/* The shard that holds chunk it (its free list or LRU, or the one that
 * takes it back if its owner dies). */
static inline slab_shard *slabs_shard_of(shmc_cache *c, const item_t *it)
{
    return slabs_shard(c, it->clsid, item_shard(it));
}

/* The shard a caller whose lane works in shard s uses for class clsid:
 * s, except in the largest class, which is not sharded (shard 0), so that
 * a chained value's head and data chunks always share one lock. */
static inline unsigned slabs_home(const shmc_cache *c, unsigned clsid, unsigned s)
{
    return clsid == c->hdr->nclasses ? 0 : s;
}

/*
 * Allocate a chunk of class clsid for this client, working in shard s (a
 * lane's shard, lane_shard()).  Looks in turn at: the home shard's free
 * list, the other shards' free lists (a batch moves home), a new page for
 * the home shard, its expired items, the other shards' expired items and
 * (unless no_evict) eviction, from the shard whose LRU tail was used
 * least recently and then the others, a large value whose tail holds a
 * chunk of the class (lru_evict_tail_owner), and a page moved from
 * another class.
 * Takes one shard lock at a time.  The chunk comes back in state
 * CHUNK_ALLOC owned by c->slot, with clsid set; it names the shard it
 * came from until it is linked or freed.  NULL when no memory can be
 * found (SHMC_NO_MEMORY).
 */
item_t *slabs_alloc(shmc_cache *c, unsigned clsid, unsigned s);

/* Give an allocated (CHUNK_ALLOC) chunk back to its class: to the shard
 * it names, or past the call's lock-wait bound (lock.h) to another one
 * whose lock is free.  Never fails. */
void slabs_release(shmc_cache *c, item_t *it);

/* Put a chunk on shard sh's free list (sh's lock held).  The chunk takes
 * sh's name: it must be CHUNK_ALLOC, or name sh already, or name a shard
 * whose lock the caller holds too. */
void slabs_free_locked(shmc_cache *c, slab_shard *sh, item_t *it);

/* Take a chunk off the free list of the shard it names (that lock held). */
void slabs_unfree_locked(shmc_cache *c, slab_shard *sh, item_t *it);

/* Take / drop every shard lock of a class, in index order (page moves,
 * reaping, the checker).  Every holder of two or more shard locks takes
 * them in address order (class, then index), so shard locks never
 * deadlock.  slabs_lock_class waits however long it takes (reaping must
 * finish); slabs_lock_class_wait gives up at the call's bound (lock.h),
 * holding none, and returns false; with reader, it takes them as one
 * that changes nothing under them (lock_wait_reader: the checker). */
void slabs_lock_class(shmc_cache *c, unsigned clsid);
bool slabs_lock_class_wait(shmc_cache *c, unsigned clsid, bool reader);
void slabs_unlock_class(shmc_cache *c, unsigned clsid);

/* Take / drop the locks of shards a and b (one lock if they are the
 * same; they may be of different classes), the lower address first.
 * false, holding neither, if past the call's bound (lock.h). */
bool slabs_lock_pair(shmc_cache *c, slab_shard *a, slab_shard *b);

/* Take / drop the locks of the n (at most 4) shards in set, each once
 * however often it is named, the lower address first: as slabs_lock_pair
 * (a publication replacing a large value takes its tail's too). */
bool slabs_lock_set(shmc_cache *c, slab_shard *const *set, unsigned n);
void slabs_unlock_set(slab_shard *const *set, unsigned n);

/* Lock a shard of class clsid other than shard s that is free now, never
 * waiting (the largest class has one shard: slabs_home); NULL if none is.
 * For a chunk of ours, which any shard of its class may take. */
slab_shard *slabs_try_other(shmc_cache *c, unsigned clsid, unsigned s);
void slabs_unlock_pair(slab_shard *a, slab_shard *b);

/*
 * Move one page into the pool from the class that can best spare one, so
 * that class dst can grow.  Takes no lock the caller holds.  true if a
 * page was freed.
 */
bool slabs_reassign(shmc_cache *c, unsigned dst);

/*
 * Move one page of class src (-1: the class whose page costs least,
 * slabs_reassign's choice) to class dst, or to the pool if dst is 0 (ids
 * checked by the caller; src != dst).  SHMC_OK; SHMC_NO_MEMORY if src
 * has fewer than two pages (a class keeps its last); SHMC_BUSY if the
 * page's items or the class's locks were busy (nothing moved).
 */
shmc_status slabs_move_page(shmc_cache *c, int src, unsigned dst);

/* Set the memory limit (seg_header.limit_pages) to bytes, rounded down to
 * pages: SHMC_INVALID below two pages or above the segment's mem_bytes
 * (its pages are fixed at creation); SHMC_BUSY past the bound.  Lowered,
 * it also sets seg_header.shrink_to: the pages held now less the drop. */
shmc_status slabs_set_limit(shmc_cache *c, uint64_t bytes);

/* After the limit was lowered (shrink_to set), move the cheapest page to
 * the pool, evicting its items: a maintenance step, until the classes
 * hold shrink_to pages or a page each.  Only the drop is given back:
 * first pages taken past the limit (memcached's -m) are not, so a cache
 * whose classes legitimately hold more than the limit does not churn. */
void slabs_shrink_step(shmc_cache *c);

/* Recount every class's pages from the page map (pool lock held): the
 * repair of a pool lock whose owner died between the two. */
void slabs_recount_pages(shmc_cache *c);

/* The free chunks and the linked items of a class, summed over its
 * shards without locks (an estimate while others run). */
uint64_t slabs_free_chunks(shmc_cache *c, unsigned clsid);
uint64_t slabs_items(shmc_cache *c, unsigned clsid);

/* Call fn on every chunk of page pg laid out for class clsid. */
#define SLABS_FOR_EACH_CHUNK(c, pg, clsid, it)                                              \
    for (char *_p = seg_page((c), (pg)), *_end = _p + (size_t)(c)->classes[clsid].perslab *  \
                                                          (c)->classes[clsid].size;          \
         _p < _end && ((it) = (item_t *)_p, 1); _p += (c)->classes[clsid].size)

#endif
