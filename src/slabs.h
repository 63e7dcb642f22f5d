/*
 * slabs.h - the memory allocator: slab classes, pages, chunks, page moves.
 *
 * Memory is cut into pages (1 MiB, or the next power of two above
 * item_size_max); each page belongs to no class or to one class and is cut
 * into that class's chunks.  A class's lock guards its free list, its LRU
 * lists (lru.c) and the state word of every chunk in its pages.
 */
#ifndef SHMC_SLABS_H
#define SHMC_SLABS_H

#include "cache.h"

/* Compute the class table of a new segment (sizes, chunks per page). */
void slabs_init_classes(shmc_cache *c);

/* Smallest class whose chunks hold ntotal bytes; 0 if none does. */
unsigned slabs_clsid(const shmc_cache *c, size_t ntotal);

/*
 * Allocate a chunk of class clsid for this client.  Takes the class lock;
 * uses the free list, then a new page, then (unless no_evict) evicts from
 * the class's LRU, then moves a page from another class.  The chunk comes
 * back in state CHUNK_ALLOC owned by c->slot, with clsid set.  NULL when
 * no memory can be found (SHMC_NO_MEMORY).
 */
item_t *slabs_alloc(shmc_cache *c, unsigned clsid);

/* Give an allocated (CHUNK_ALLOC) chunk back; takes the class lock. */
void slabs_release(shmc_cache *c, item_t *it);

/* Put a chunk on its class's free list; class lock held by the caller. */
void slabs_free_locked(shmc_cache *c, slab_class *cls, item_t *it);

/* Take a chunk off its class's free list; class lock held. */
void slabs_unfree_locked(shmc_cache *c, slab_class *cls, item_t *it);

/*
 * Move one page into the pool from the class that can best spare one, so
 * that class dst can grow.  Takes no lock the caller holds.  true if a
 * page was freed.
 */
bool slabs_reassign(shmc_cache *c, unsigned dst);

/* Call fn on every chunk of page pg laid out for class clsid. */
#define SLABS_FOR_EACH_CHUNK(c, pg, clsid, it)                                              \
    for (char *_p = seg_page((c), (pg)), *_end = _p + (size_t)(c)->classes[clsid].perslab *  \
                                                          (c)->classes[clsid].size;          \
         _p < _end && ((it) = (item_t *)_p, 1); _p += (c)->classes[clsid].size)

#endif
