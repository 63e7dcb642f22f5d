/*
 * lru.c - segmented LRU lists per shard of a slab class, eviction and
 * reclamation of expired items.
 *
 * Owns: the next/prev links of linked items, the shards' list heads,
 * counts and eviction statistics.  Runs only under the shard's lock; it
 * takes the stripe lock of an item it wants to remove with a try-lock
 * (the lock order is stripe, then shard), skipping items whose stripe
 * is busy, as memcached's lru_pull_tail does.
 */
#include "lru.h"

#include "clock.h"
#include "crashpoint.h"
#include "hash.h"
#include "lock.h"
#include "slabs.h"
#include "value.h"

static void list_push_head(shmc_cache *c, slab_shard *sh, item_t *it, unsigned l)
{
    ref_t r = seg_ref(c, it);
    __atomic_store_n(&it->place, PLACE_MAKE(l, slabs_shard_no(c, sh)), __ATOMIC_RELAXED);
    it->prev = 0;
    it->next = sh->head[l];
    if (sh->head[l])
        seg_item(c, sh->head[l])->prev = r;
    sh->head[l] = r;
    if (!sh->tail[l])
        sh->tail[l] = r;
    sh->lru_count[l]++;
}

static void list_remove(shmc_cache *c, slab_shard *sh, item_t *it)
{
    unsigned l = item_lru(it);
    if (it->prev)
        seg_item(c, it->prev)->next = it->next;
    else
        sh->head[l] = it->next;
    if (it->next)
        seg_item(c, it->next)->prev = it->prev;
    else
        sh->tail[l] = it->prev;
    it->next = it->prev = 0;
    sh->lru_count[l]--;
}

void lru_link(shmc_cache *c, slab_shard *sh, item_t *it)
{
    list_push_head(c, sh, it, SEG_LRU_HOT);
    sh->bytes += item_total(it->nkey, it->nbytes);
}

void lru_unlink(shmc_cache *c, slab_shard *sh, item_t *it)
{
    list_remove(c, sh, it);
    sh->bytes -= item_total(it->nkey, it->nbytes);
}

void lru_append(shmc_cache *c, slab_shard *sh, item_t *it)
{
    unsigned l = item_lru(it) < SEG_NLRU ? item_lru(it) : SEG_LRU_COLD;
    ref_t r = seg_ref(c, it);
    __atomic_store_n(&it->place, PLACE_MAKE(l, slabs_shard_no(c, sh)), __ATOMIC_RELAXED);
    it->next = 0;
    it->prev = sh->tail[l];
    if (sh->tail[l])
        seg_item(c, sh->tail[l])->next = r;
    sh->tail[l] = r;
    if (!sh->head[l])
        sh->head[l] = r;
    sh->lru_count[l]++;
    sh->bytes += item_total(it->nkey, it->nbytes);
}

uint64_t lru_items(const slab_shard *sh)
{
    uint64_t n = 0;
    for (unsigned l = 0; l < SEG_NLRU; l++) /* atomic: also read without the lock */
        n += __atomic_load_n(&sh->lru_count[l], __ATOMIC_RELAXED);
    return n;
}

static void list_move(shmc_cache *c, slab_shard *sh, item_t *it, unsigned to)
{
    list_remove(c, sh, it);
    CRASH_POINT("lru.moved");
    list_push_head(c, sh, it, to);
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
static void lru_shrink(shmc_cache *c, slab_shard *sh, unsigned l, uint64_t limit)
{
    for (int step = 0; step < 2 && sh->lru_count[l] > limit && sh->tail[l]; step++) {
        item_t *it = seg_item(c, sh->tail[l]);
        list_move(c, sh, it, item_take_active(it) ? SEG_LRU_WARM : SEG_LRU_COLD);
    }
}

void lru_balance(shmc_cache *c, slab_shard *sh, uint32_t now)
{
    uint64_t total = lru_items(sh);
    lru_shrink(c, sh, SEG_LRU_HOT, total * c->hdr->hot_lru_pct / 100);
    lru_shrink(c, sh, SEG_LRU_WARM, total * c->hdr->warm_lru_pct / 100);
    if (sh->tail[SEG_LRU_COLD]) {
        uint32_t t = seg_item(c, sh->tail[SEG_LRU_COLD])->atime;
        if (sh->tail_atime != t)
            sh->tail_atime = t;
    }
    (void)now;
}

/*
 * Remove it from the index and its list (shard lock and its stripe lock
 * held), counting why.  The chunk's state is left for the caller to set.
 */
static void lru_drop(shmc_cache *c, slab_shard *sh, item_t *it, enum item_liveness why)
{
    bool fetched = __atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAG_FETCHED;
    hash_remove(c, it);
    lru_unlink(c, sh, it);
    if (why == ITEM_LIVE) {
        sh->evictions++;
        sh->evicted_unfetched += !fetched;
    } else {
        sh->reclaimed++;
        sh->expired_unfetched += !fetched && why == ITEM_EXPIRED;
    }
}

/* Try to take one item off the tail of list l: returns it dropped, or
 * NULL.  Active COLD items are rescued to WARM on the way. */
static item_t *lru_pull_tail(shmc_cache *c, slab_shard *sh, unsigned l, bool evict, uint32_t now)
{
    ref_t r = sh->tail[l];
    for (int tries = 0; r && tries < 5; tries++) {
        item_t *it = seg_item(c, r);
        r = it->prev;
        enum item_liveness why = clock_liveness(c, it, now);
        if (why == ITEM_LIVE && l == SEG_LRU_COLD && item_take_active(it)) {
            list_move(c, sh, it, SEG_LRU_WARM);
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
        lru_drop(c, sh, it, why);
        CRASH_POINT("lru.evict_dropped");
        item_set_alloc(it, c->slot);
        value_free_chunks(c, sh, it); /* the head left LINKED first: value.h */
        lock_drop(s);
        return it;
    }
    return NULL;
}

item_t *lru_reclaim(shmc_cache *c, slab_shard *sh, bool evict, uint32_t now)
{
    static const unsigned order[] = {SEG_LRU_COLD, SEG_LRU_HOT, SEG_LRU_WARM};
    for (unsigned i = 0; i < 3; i++) { /* dead items anywhere first */
        item_t *it = lru_pull_tail(c, sh, order[i], false, now);
        if (it)
            return it;
    }
    if (!evict)
        return NULL;
    for (unsigned i = 0; i < 3; i++) {
        item_t *it = lru_pull_tail(c, sh, order[i], true, now);
        if (it)
            return it;
    }
    return NULL;
}

unsigned lru_crawl(shmc_cache *c, slab_shard *sh, unsigned budget, uint32_t now)
{
    unsigned freed = 0;
    for (unsigned l = 0; l < SEG_NLRU; l++) {
        item_t *it;
        for (unsigned i = 0; i < budget && (it = lru_pull_tail(c, sh, l, false, now)); i++) {
            slabs_free_locked(c, sh, it);
            freed++;
        }
    }
    return freed;
}
