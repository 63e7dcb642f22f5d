/*
 * lru.c - segmented LRU lists per slab class, eviction and reclamation of
 * expired items.
 *
 * Owns: the next/prev links of linked items, the per-class list heads,
 * counts and eviction statistics.  Runs only under the class lock; it
 * takes the stripe lock of an item it wants to remove with a try-lock
 * (the lock order is stripe, then class), skipping items whose stripe
 * is busy, as memcached's lru_pull_tail does.
 */
#include "lru.h"

#include "clock.h"
#include "crashpoint.h"
#include "hash.h"
#include "lock.h"
#include "slabs.h"
#include "value.h"

static void list_push_head(shmc_cache *c, slab_class *cls, item_t *it, unsigned l)
{
    ref_t r = seg_ref(c, it);
    it->lru = (uint8_t)l;
    it->prev = 0;
    it->next = cls->head[l];
    if (cls->head[l])
        seg_item(c, cls->head[l])->prev = r;
    cls->head[l] = r;
    if (!cls->tail[l])
        cls->tail[l] = r;
    cls->lru_count[l]++;
}

static void list_remove(shmc_cache *c, slab_class *cls, item_t *it)
{
    unsigned l = it->lru;
    if (it->prev)
        seg_item(c, it->prev)->next = it->next;
    else
        cls->head[l] = it->next;
    if (it->next)
        seg_item(c, it->next)->prev = it->prev;
    else
        cls->tail[l] = it->prev;
    it->next = it->prev = 0;
    cls->lru_count[l]--;
}

void lru_link(shmc_cache *c, slab_class *cls, item_t *it)
{
    list_push_head(c, cls, it, SEG_LRU_HOT);
    cls->curr_items++;
    cls->bytes += item_total(it->nkey, it->nbytes);
}

void lru_unlink(shmc_cache *c, slab_class *cls, item_t *it)
{
    list_remove(c, cls, it);
    cls->curr_items--;
    cls->bytes -= item_total(it->nkey, it->nbytes);
}

void lru_append(shmc_cache *c, slab_class *cls, item_t *it)
{
    unsigned l = it->lru < SEG_NLRU ? it->lru : SEG_LRU_COLD;
    ref_t r = seg_ref(c, it);
    it->lru = (uint8_t)l;
    it->next = 0;
    it->prev = cls->tail[l];
    if (cls->tail[l])
        seg_item(c, cls->tail[l])->next = r;
    cls->tail[l] = r;
    if (!cls->head[l])
        cls->head[l] = r;
    cls->lru_count[l]++;
    cls->curr_items++;
    cls->bytes += item_total(it->nkey, it->nbytes);
}

static void list_move(shmc_cache *c, slab_class *cls, item_t *it, unsigned to)
{
    list_remove(c, cls, it);
    CRASH_POINT("lru.moved");
    list_push_head(c, cls, it, to);
}

/* Clear IFLAG_ACTIVE and say whether it was set. */
static bool item_take_active(item_t *it)
{
    if (!(__atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAG_ACTIVE))
        return false;
    __atomic_fetch_and(&it->iflags, (uint8_t)~IFLAG_ACTIVE, __ATOMIC_RELAXED);
    return true;
}

/* Move the tail of list l down a segment if l is over its share. */
static void lru_shrink(shmc_cache *c, slab_class *cls, unsigned l, uint64_t limit)
{
    for (int step = 0; step < 2 && cls->lru_count[l] > limit && cls->tail[l]; step++) {
        item_t *it = seg_item(c, cls->tail[l]);
        list_move(c, cls, it, item_take_active(it) ? SEG_LRU_WARM : SEG_LRU_COLD);
    }
}

void lru_balance(shmc_cache *c, slab_class *cls, uint32_t now)
{
    uint64_t total = cls->curr_items;
    lru_shrink(c, cls, SEG_LRU_HOT, total * c->hdr->hot_lru_pct / 100);
    lru_shrink(c, cls, SEG_LRU_WARM, total * c->hdr->warm_lru_pct / 100);
    if (cls->tail[SEG_LRU_COLD])
        cls->tail_atime = seg_item(c, cls->tail[SEG_LRU_COLD])->atime;
    (void)now;
}

/*
 * Remove it from the index and its list (class lock and its stripe lock
 * held), counting why.  The chunk's state is left for the caller to set.
 */
static void lru_drop(shmc_cache *c, slab_class *cls, item_t *it, enum item_liveness why)
{
    bool fetched = __atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAG_FETCHED;
    hash_remove(c, it);
    lru_unlink(c, cls, it);
    if (why == ITEM_LIVE) {
        cls->evictions++;
        cls->evicted_unfetched += !fetched;
    } else {
        cls->reclaimed++;
        cls->expired_unfetched += !fetched && why == ITEM_EXPIRED;
    }
}

/* Try to take one item off the tail of list l: returns it dropped, or
 * NULL.  Active COLD items are rescued to WARM on the way. */
static item_t *lru_pull_tail(shmc_cache *c, slab_class *cls, unsigned l, bool evict, uint32_t now)
{
    ref_t r = cls->tail[l];
    for (int tries = 0; r && tries < 5; tries++) {
        item_t *it = seg_item(c, r);
        r = it->prev;
        enum item_liveness why = clock_liveness(c, it, now);
        if (why == ITEM_LIVE && l == SEG_LRU_COLD && item_take_active(it)) {
            list_move(c, cls, it, SEG_LRU_WARM);
            continue;
        }
        if (why == ITEM_LIVE && !evict)
            continue;
        seg_lock *s = hash_stripe(c, it->hash);
        if (!lock_try(c, s))
            continue;
        /* the stripe repair may have run; the item is still ours to judge */
        if (STATE_KIND(item_state(it)) != CHUNK_LINKED) {
            lock_drop(s);
            continue;
        }
        lru_drop(c, cls, it, why);
        CRASH_POINT("lru.evict_dropped");
        item_set_state(it, STATE_MAKE(CHUNK_ALLOC, c->slot));
        value_free_chunks(c, cls, it); /* the head left LINKED first: value.h */
        lock_drop(s);
        return it;
    }
    return NULL;
}

item_t *lru_reclaim(shmc_cache *c, slab_class *cls, bool evict, uint32_t now)
{
    static const unsigned order[] = {SEG_LRU_COLD, SEG_LRU_HOT, SEG_LRU_WARM};
    for (unsigned i = 0; i < 3; i++) { /* dead items anywhere first */
        item_t *it = lru_pull_tail(c, cls, order[i], false, now);
        if (it)
            return it;
    }
    if (!evict)
        return NULL;
    for (unsigned i = 0; i < 3; i++) {
        item_t *it = lru_pull_tail(c, cls, order[i], true, now);
        if (it)
            return it;
    }
    return NULL;
}

unsigned lru_crawl(shmc_cache *c, slab_class *cls, unsigned budget, uint32_t now)
{
    unsigned freed = 0;
    for (unsigned l = 0; l < SEG_NLRU; l++) {
        item_t *it;
        for (unsigned i = 0; i < budget && (it = lru_pull_tail(c, cls, l, false, now)); i++) {
            slabs_free_locked(c, cls, it);
            freed++;
        }
    }
    return freed;
}
