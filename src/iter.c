/*
 * iter.c - the item walk behind shmc_dump_next (iter.h).
 *
 * Owns: visiting the slab pages chunk by chunk and copying each linked,
 * live item under its stripe lock.  The chunk's state word is read first
 * without a lock (most chunks are free or are skipped); a linked chunk's
 * stripe is then taken as a reader (lock_wait_reader: the walk changes
 * nothing, so a walker that dies holding it costs no repair) and
 * everything is checked again under it: the page still of the class the
 * chunk was computed for, the chunk a chunk of that class
 * (bounds_chunk_at), its state CHUNK_LINKED and its hash in the stripe
 * held.  Under the stripe lock a linked item cannot be unlinked, replaced
 * or freed (every unlink takes it: items.c, lru.c, slabs.c), and its key
 * and value never change while it is linked, so the copy is consistent.
 */
#include "iter.h"

#include <string.h>

#include "bounds.h"
#include "clock.h"
#include "hash.h"
#include "lock.h"
#include "value.h"

#define ITER_IDX_MAX (SEG_PAGE_SIZE / sizeof(item_t)) /* no page holds more chunks */

bool iter_pos_ok(const shmc_cache *c, uint64_t pos)
{
    return pos == ITER_END ||
           ((pos >> 32) < c->hdr->npages && (pos & 0xffffffffu) < ITER_IDX_MAX);
}

/* Copy a linked item (its stripe held) into out and buf. */
static shmc_status iter_copy(shmc_cache *c, item_t *it, void *buf, size_t cap,
                             shmc_dump_item *out)
{
    int64_t epoch = c->hdr->epoch;
    memcpy(out->key, it->data, it->nkey);
    out->key_len = it->nkey;
    out->len = it->nbytes;
    out->flags = it->flags;
    out->cas = it->cas;
    out->exptime = it->exptime ? epoch + it->exptime : 0;
    out->last_access = epoch + it->atime;
    out->size = item_total(it->nkey, it->nbytes);
    out->class_id = it->clsid;
    uint8_t fl = __atomic_load_n(&it->iflags, __ATOMIC_RELAXED);
    out->fetched = (fl & IFLAG_FETCHED) != 0;
    out->stale = (fl & IFLAG_STALE) != 0;
    if (!buf)
        return SHMC_OK;
    if (it->nbytes > cap)
        return SHMC_BUFFER_TOO_SMALL;
    value_read(c, it, 0, buf, it->nbytes);
    return SHMC_OK;
}

/* Whether the chunk at it, computed for class clsid on page pg, still is
 * a live item of that class in the stripe s holds (s held). */
static bool iter_still_item(shmc_cache *c, item_t *it, unsigned clsid, uint32_t hash)
{
    if (!bounds_chunk_at(c, seg_ref(c, it), clsid)) /* the page was re-cut meanwhile */
        return false;
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED)
        return false;
    if (((it->hash ^ hash) & (SEG_NSTRIPES - 1)) != 0) /* reused for a key of another stripe */
        return false;
    if (!bounds_item(c, it)) /* a linked chunk of its class: damage if it does not fit */
        return false;
    return clock_liveness(c, it, clock_now(c)) == ITEM_LIVE;
}

/* One chunk: SHMC_OK / SHMC_BUFFER_TOO_SMALL copied, SHMC_NOT_FOUND
 * nothing there, SHMC_BUSY its stripe is held past the bound. */
static shmc_status iter_chunk(shmc_cache *c, item_t *it, unsigned clsid, void *buf, size_t cap,
                              shmc_dump_item *out)
{
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED)
        return SHMC_NOT_FOUND;
    uint32_t hash = __atomic_load_n(&it->hash, __ATOMIC_RELAXED);
    seg_lock *s = hash_stripe(c, hash);
    if (!lock_wait_reader(c, s))
        return SHMC_BUSY;
    shmc_status st = SHMC_NOT_FOUND;
    if (iter_still_item(c, it, clsid, hash))
        st = iter_copy(c, it, buf, cap, out);
    lock_drop(s);
    return st;
}

shmc_status iter_next(shmc_cache *c, uint64_t *pos, uint32_t *budget, void *buf, size_t cap,
                      shmc_dump_item *out)
{
    uint64_t p = *pos;
    shmc_status st = SHMC_NOT_FOUND;
    while (p != ITER_END && *budget > 0) {
        uint32_t pg = (uint32_t)(p >> 32), idx = (uint32_t)p;
        if (pg >= c->hdr->npages) {
            p = ITER_END;
            break;
        }
        unsigned clsid = __atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE);
        if (!bounds_clsid(c, clsid) || idx >= c->classes[clsid].perslab ||
            (uint64_t)(idx + 1) * c->classes[clsid].size > c->hdr->page_size) {
            p = (uint64_t)(pg + 1) << 32; /* a free page, or its last chunk done */
            continue;
        }
        (*budget)--;
        item_t *it = (item_t *)(seg_page(c, pg) + (size_t)idx * c->classes[clsid].size);
        st = iter_chunk(c, it, clsid, buf, cap, out);
        if (st == SHMC_BUSY)
            break; /* p stays at the chunk: the next call retries it */
        p++;
        if (st != SHMC_NOT_FOUND)
            break;
    }
    *pos = p;
    return st;
}
