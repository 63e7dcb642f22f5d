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

#include "bounds.h"
#include "clock.h"
#include "crashpoint.h"
#include "events.h"
#include "hash.h"
#include "lock.h"
#include "slabs.h"
#include "value.h"

#define LRU_EVICT_ROUNDS 10 /* tries at COLD per eviction, demoting between (memcached: 10) */

/* The item a link r of a list of class clsid names, to be moved or used
 * as a whole: NULL at the end of the list (0), or if r is not a chunk of
 * the class - a damaged list ends there (bounds.h); what names the field
 * r came from. */
static inline item_t *list_item(shmc_cache *c, unsigned clsid, ref_t r, const char *what)
{
    if (!r)
        return NULL;
    if (__builtin_expect(!bounds_chunk_at(c, r, clsid), 0)) {
        bounds_fail(what);
        return NULL;
    }
    return seg_item(c, r);
}

/* The neighbour a link r names, whose own link field only is written:
 * NULL at the end of the list, or if r names no header in the pages.  A
 * write through a damaged link that passes lands in the pages; what it
 * may spoil is checked where it is used (bounds.h). */
static inline item_t *list_neighbour(shmc_cache *c, ref_t r, const char *what)
{
    if (!r)
        return NULL;
    if (__builtin_expect(!bounds_ref(c, r), 0)) {
        bounds_fail(what);
        return NULL;
    }
    return seg_item(c, r);
}

static void list_push_head(shmc_cache *c, slab_shard *sh, item_t *it, unsigned l)
{
    ref_t r = seg_ref(c, it);
    __atomic_store_n(&it->place, PLACE_MAKE(l, slabs_shard_no(c, sh)), __ATOMIC_RELAXED);
    it->prev = 0;
    item_t *head = list_neighbour(c, sh->head[l], "slab_shard.head");
    it->next = head ? sh->head[l] : 0;
    if (head)
        head->prev = r;
    sh->head[l] = r;
    if (!sh->tail[l])
        sh->tail[l] = r;
    sh->lru_count[l]++;
}

static void list_remove(shmc_cache *c, slab_shard *sh, item_t *it)
{
    unsigned l = item_lru(it);
    if (__builtin_expect(l >= SEG_NLRU, 0)) {
        bounds_fail("item_t.place");
        return;
    }
    item_t *prev = list_neighbour(c, it->prev, "item_t.prev (LRU)");
    item_t *next = list_neighbour(c, it->next, "item_t.next (LRU)");
    if (prev)
        prev->next = it->next;
    else if (!it->prev)
        sh->head[l] = it->next;
    if (next)
        next->prev = it->prev;
    else if (!it->next)
        sh->tail[l] = it->prev;
    it->next = it->prev = 0;
    sh->lru_count[l]--;
}

/* Does a new item belong in TEMP: stored with a TTL up to the segment's
 * temp_ttl (its atime is the time it was stored)? */
static bool lru_is_temp(shmc_cache *c, const item_t *it)
{
    uint32_t ttl = __atomic_load_n(&c->hdr->temp_ttl, __ATOMIC_RELAXED);
    return ttl && it->exptime && it->exptime - it->atime <= ttl;
}

void lru_link(shmc_cache *c, slab_shard *sh, item_t *it)
{
    list_push_head(c, sh, it, lru_is_temp(c, it) ? SEG_LRU_TEMP : SEG_LRU_HOT);
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
    item_t *tail = list_neighbour(c, sh->tail[l], "slab_shard.tail");
    it->next = 0;
    it->prev = tail ? sh->tail[l] : 0;
    if (tail)
        tail->next = r;
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
        item_t *it = list_item(c, slabs_shard_clsid(c, sh), sh->tail[l], "slab_shard.tail");
        if (!it || item_lru(it) != l) {
            if (it)
                bounds_fail("item_t.place");
            return;
        }
        list_move(c, sh, it, item_take_active(it) ? SEG_LRU_WARM : SEG_LRU_COLD);
    }
}

void lru_balance(shmc_cache *c, slab_shard *sh, uint32_t now)
{
    uint64_t total = lru_items(sh) - sh->lru_count[SEG_LRU_TEMP]; /* TEMP keeps its own */
    lru_shrink(c, sh, SEG_LRU_HOT, total * c->hdr->hot_lru_pct / 100);
    lru_shrink(c, sh, SEG_LRU_WARM, total * c->hdr->warm_lru_pct / 100);
    ref_t cold = sh->tail[SEG_LRU_COLD];
    if (cold && bounds_ref(c, cold)) { /* only read */
        uint32_t t = seg_item(c, cold)->atime;
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
        if (events_on(c))
            events_put_item(c, SHMC_EV_EVICT, it, clock_now(c));
        sh->evictions++;
        sh->evicted_unfetched += !fetched;
    } else {
        sh->reclaimed++;
        sh->expired_unfetched += !fetched && why == ITEM_EXPIRED;
    }
}

/* Take linked item it of shard sh as ours (CHUNK_ALLOC), out of the index
 * and its list, counted as why says (sh's lock held); its chained value's
 * data chunks go to sh's free list, its tail to its own shard's.  false
 * if its stripe lock or its tail's shard lock is busy (taken out of
 * order: never waited for), or it is no longer linked. */
static bool lru_take(shmc_cache *c, slab_shard *sh, item_t *it, enum item_liveness why)
{
    seg_lock *s = hash_stripe(c, it->hash);
    if (!lock_try(c, s))
        return false;
    /* the stripe repair may have run; the item is still ours to judge */
    slab_shard *ts = NULL;
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED ||
        ((ts = value_tail_shard(c, it)) && !lock_try(c, &ts->lock))) {
        lock_drop(s);
        return false;
    }
    lru_drop(c, sh, it, why);
    CRASH_POINT("lru.evict_dropped");
    item_set_alloc(it, c->slot);
    value_free_chunks(c, sh, ts, it); /* the head left LINKED first: value.h */
    if (ts)
        lock_drop(&ts->lock);
    lock_drop(s);
    return true;
}

bool lru_reclaim_dead(shmc_cache *c, slab_shard *sh, item_t *it, uint32_t now)
{
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED || !bounds_item(c, it) ||
        slabs_shard_of(c, it) != sh)
        return false;
    enum item_liveness why = clock_liveness(c, it, now);
    if (why == ITEM_LIVE || !lru_take(c, sh, it, why))
        return false;
    slabs_free_locked(c, sh, it);
    return true;
}

#define LRU_TAIL_OWNER_LOOK 64 /* items of each list lru_evict_tail_owner looks at */

bool lru_evict_tail_owner(shmc_cache *c, slab_shard *sh, unsigned clsid, uint32_t now)
{
    static const unsigned order[] = {SEG_LRU_COLD, SEG_LRU_HOT, SEG_LRU_WARM};
    unsigned own = slabs_shard_clsid(c, sh);
    for (unsigned i = 0; i < 3; i++) {
        ref_t r = sh->tail[order[i]];
        for (int tries = 0; r && tries < LRU_TAIL_OWNER_LOOK; tries++) {
            item_t *it = list_item(c, own, r, tries ? "item_t.prev (LRU)" : "slab_shard.tail");
            if (!it || !bounds_item(c, it) || it->clsid != own || item_lru(it) != order[i])
                break; /* damaged (recorded): leave this list */
            r = it->prev;
            if (value_tail_class(c, it) == clsid &&
                lru_take(c, sh, it, clock_liveness(c, it, now))) {
                slabs_free_locked(c, sh, it);
                return true;
            }
        }
    }
    return false;
}

/* Try to take one item off the tail of list l: returns it dropped, or
 * NULL.  Active COLD items are rescued to WARM on the way. */
static item_t *lru_pull_tail(shmc_cache *c, slab_shard *sh, unsigned l, bool evict, uint32_t now)
{
    ref_t r = sh->tail[l];
    unsigned clsid = slabs_shard_clsid(c, sh);
    for (int tries = 0; r && tries < 5; tries++) {
        item_t *it = list_item(c, clsid, r, tries ? "item_t.prev (LRU)" : "slab_shard.tail");
        if (!it || !bounds_item(c, it))
            return NULL;
        /* it may become a chunk of this shard's class: it must be one */
        if (it->clsid != clsid || item_lru(it) != l) {
            bounds_fail("item_t.clsid/place (LRU)");
            return NULL;
        }
        r = it->prev;
        enum item_liveness why = clock_liveness(c, it, now);
        if (why == ITEM_LIVE && l == SEG_LRU_COLD && item_take_active(it)) {
            list_move(c, sh, it, SEG_LRU_WARM);
            continue;
        }
        if (why == ITEM_LIVE && !evict)
            continue;
        if (lru_take(c, sh, it, why))
            return it;
    }
    return NULL;
}

/* Move the tail of HOT, or if HOT is empty of WARM, down to COLD (a used
 * HOT item to WARM); false if both are empty. */
static bool lru_demote_tail(shmc_cache *c, slab_shard *sh)
{
    unsigned l = sh->tail[SEG_LRU_HOT] ? SEG_LRU_HOT : SEG_LRU_WARM;
    if (!sh->tail[l])
        return false;
    item_t *it = list_item(c, slabs_shard_clsid(c, sh), sh->tail[l], "slab_shard.tail");
    if (!it || item_lru(it) != l) {
        if (it)
            bounds_fail("item_t.place");
        return false;
    }
    list_move(c, sh, it, item_take_active(it) && l == SEG_LRU_HOT ? SEG_LRU_WARM : SEG_LRU_COLD);
    return true;
}

item_t *lru_reclaim(shmc_cache *c, slab_shard *sh, bool evict, uint32_t now)
{
    /* dead items anywhere first; TEMP items are never evicted (memcached:
     * "TTL's below get separate LRU, can't be evicted"): they expire */
    static const unsigned order[] = {SEG_LRU_TEMP, SEG_LRU_COLD, SEG_LRU_HOT, SEG_LRU_WARM};
    for (unsigned i = 0; i < 4; i++) {
        item_t *it = lru_pull_tail(c, sh, order[i], false, now);
        if (it)
            return it;
    }
    if (!evict)
        return NULL;
    /* memcached's do_item_alloc_pull: evict from COLD only, and when its
     * tail is all active items (rescued to WARM), move HOT's tail down and
     * try again; HOT and WARM are evicted from only when COLD stays empty */
    for (int round = 0; round < LRU_EVICT_ROUNDS; round++) {
        item_t *it = lru_pull_tail(c, sh, SEG_LRU_COLD, true, now);
        if (it)
            return it;
        if (!lru_demote_tail(c, sh))
            break;
    }
    for (unsigned i = 1; i < 4; i++) {
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
