/*
 * iter.h - the item walk behind shmc_dump_next: every linked, live item,
 * found by page map and chunk, copied under its stripe lock.
 *
 * A position is (page << 32 | chunk index within the page); ITER_END
 * (SHMC_DUMP_END) is past the last page.  The walk visits each chunk
 * position once, so an item that stays linked in one chunk for the whole
 * walk is met exactly once (items are never moved: a replacement is a new
 * chunk, a page move evicts).  Nothing is changed: no LRU bump, no unlink
 * of an expired item.
 */
#ifndef SHMC_ITER_H
#define SHMC_ITER_H

#include "cache.h"

#define ITER_END UINT64_MAX

/* Whether pos can be a position of this segment's walk: ITER_END, or a
 * page that exists and an index below the most chunks a page can hold. */
bool iter_pos_ok(const shmc_cache *c, uint64_t pos);

/*
 * From *pos, find the next live linked item, visiting at most *budget
 * chunks (decremented), and copy its key and metadata into *out and, if
 * buf is not NULL, its value into buf (cap bytes).  Inside the gate; buf
 * and out are checked caller memory.  Returns:
 *   SHMC_OK               found; *pos is just past it;
 *   SHMC_BUFFER_TOO_SMALL found, value not copied (out->len says its size);
 *   SHMC_NOT_FOUND        nothing found: the walk ended (*pos == ITER_END)
 *                         or the budget ran out (*pos is where to go on);
 *   SHMC_BUSY             a live client held the item's stripe past the
 *                         call's bound; *pos is at that chunk (retry).
 * A damaged item is skipped and recorded (bounds.h: the call then
 * answers SHMC_CORRUPT).
 */
shmc_status iter_next(shmc_cache *c, uint64_t *pos, uint32_t *budget, void *buf, size_t cap,
                      shmc_dump_item *out);

#endif
