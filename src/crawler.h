/*
 * crawler.h - the LRU crawler: a walk over the pages of a class (or of
 * every class) that frees the items that are dead (expired, or flushed),
 * memcached's lru_crawler.
 *
 * Maintenance steps inside calls (items_maintain) look only at the LRU
 * tails, so an expired item in the middle of a list keeps its memory
 * until it reaches a tail.  A crawl looks at every chunk: it walks the
 * page map, not the lists, so it needs no position in a list that others
 * change under it, and it can stop after any page and go on later from
 * the page it stopped at.  Each dead item is freed under its shard's and
 * its stripe's locks, taken one item at a time (an item whose stripe is
 * busy is left for the next crawl).
 */
#ifndef SHMC_CRAWLER_H
#define SHMC_CRAWLER_H

#include "cache.h"

/* What a crawl did (shmc_crawl_result, shmcached.h, is the public copy). */
typedef struct crawl_tally {
    uint64_t checked;           /* linked items looked at */
    uint64_t reclaimed;         /* dead items freed */
    uint64_t busy;              /* dead items left: a lock was held past the bound */
} crawl_tally;

/*
 * Crawl the pages of class clsid (0: every class) from page number page
 * on, up to max_pages pages of the segment's page map (the pages of other
 * classes and free pages count too).  Adds to *t.  Returns the page
 * number to go on from, or 0 once the walk passed the last page.
 */
uint32_t crawler_walk(shmc_cache *c, unsigned clsid, uint32_t page, uint32_t max_pages,
                      crawl_tally *t);

#endif
