/*
 * crawler.c - the LRU crawler: frees the dead items of a class by walking
 * its pages (crawler.h).
 *
 * Each chunk's state and times are read first without a lock (a hint);
 * only a chunk that looks linked and dead takes its shard's lock, within
 * the call's bound (lock.h), and lru_reclaim_dead judges it again under
 * that lock and its stripe's.  The walk itself writes nothing, so a
 * crawler that dies leaves nothing to repair but the lock it held.
 */
#include "crawler.h"

#include "bounds.h"
#include "clock.h"
#include "lock.h"
#include "lru.h"
#include "slabs.h"

/* Free chunk it if it is a dead item (no lock held). */
static void crawl_chunk(shmc_cache *c, item_t *it, unsigned clsid, uint32_t now, crawl_tally *t)
{
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED)
        return;
    t->checked++;
    if (clock_liveness(c, it, now) == ITEM_LIVE)
        return;
    slab_shard *sh = slabs_shard(c, clsid, item_shard(it));
    if (!lock_wait(c, &sh->lock)) {
        t->busy++;
        return;
    }
    if (lru_reclaim_dead(c, sh, it, now))
        t->reclaimed++;
    else if (STATE_KIND(item_state(it)) == CHUNK_LINKED && clock_liveness(c, it, now) != ITEM_LIVE)
        t->busy++; /* its stripe was held */
    lock_drop(&sh->lock);
}

uint32_t crawler_walk(shmc_cache *c, unsigned clsid, uint32_t page, uint32_t max_pages,
                      crawl_tally *t)
{
    uint32_t now = clock_now(c), n = c->hdr->npages;
    for (uint32_t done = 0; page < n && done < max_pages; page++, done++) {
        unsigned id = __atomic_load_n(&c->pagemap[page], __ATOMIC_ACQUIRE);
        if (id == 0 || (clsid && id != clsid))
            continue;
        if (!bounds_clsid(c, id)) {
            bounds_fail("page map");
            continue;
        }
        item_t *it;
        SLABS_FOR_EACH_CHUNK(c, page, id, it)
            crawl_chunk(c, it, id, now, t);
    }
    return page < n ? page : 0;
}
