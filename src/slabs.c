/*
 * slabs.c - slab classes, pages and chunks; page moves between classes.
 *
 * Owns: the class table's sizes, the page map, the free lists and the
 * FREE <-> ALLOC transitions of chunk states.  Lock order: a class lock,
 * then the pool lock; never two class locks at once.
 *
 * Crash safety: a page is given to a class only after every chunk header
 * in it says FREE for that class, by one store to the page map; a page
 * leaves a class only after every chunk in it is FREE and off the free
 * list.  So a class's pages and chunk states always agree, and recovery
 * rebuilds free lists and LRU lists from them.
 */
#include "slabs.h"

#include <string.h>

#include "clock.h"
#include "crashpoint.h"
#include "hash.h"
#include "lock.h"
#include "lru.h"
#include "value.h"

#define ALIGN8(x) (((x) + 7u) & ~7u)

void slabs_init_classes(shmc_cache *c)
{
    seg_header *h = c->hdr;
    uint32_t size = ALIGN8((uint32_t)sizeof(item_t) + h->chunk_size_min);
    /* memcached's slab_chunk_max: larger items are chained over chunks of
     * the largest class (value.h) */
    uint32_t largest = ALIGN8(h->item_size_max < h->page_size / 2 ? h->item_size_max
                                                                  : h->page_size / 2);
    unsigned id = 1;
    while (id < SEG_MAX_CLASSES && size <= h->page_size / 2 && size < largest) {
        c->classes[id].size = size;
        c->classes[id].perslab = h->page_size / size;
        id++;
        uint32_t next = ALIGN8((uint32_t)(size * h->growth_factor));
        size = next > size ? next : size + 8;
    }
    c->classes[id].size = largest;
    c->classes[id].perslab = h->page_size / largest;
    h->nclasses = id;
}

unsigned slabs_clsid(const shmc_cache *c, size_t ntotal)
{
    unsigned n = c->hdr->nclasses;
    if (ntotal > c->classes[n].size)
        return 0;
    unsigned lo = 1, hi = n; /* sizes grow with the id: binary search */
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (c->classes[mid].size >= ntotal)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void slabs_free_locked(shmc_cache *c, slab_class *cls, item_t *it)
{
    ref_t r = seg_ref(c, it);
    item_set_state(it, STATE_MAKE(CHUNK_FREE, 0));
    CRASH_POINT("slabs.free_half");
    it->prev = 0;
    it->next = cls->free_head;
    if (cls->free_head)
        seg_item(c, cls->free_head)->prev = r;
    cls->free_head = r;
    cls->free_count++;
}

void slabs_unfree_locked(shmc_cache *c, slab_class *cls, item_t *it)
{
    if (it->prev)
        seg_item(c, it->prev)->next = it->next;
    else
        cls->free_head = it->next;
    if (it->next)
        seg_item(c, it->next)->prev = it->prev;
    it->next = it->prev = 0;
    cls->free_count--;
}

void slabs_release(shmc_cache *c, item_t *it)
{
    if (value_is_chained(it))
        value_release_chunks(c, it);
    slab_class *cls = &c->classes[it->clsid];
    lock_take(c, &cls->lock);
    slabs_free_locked(c, cls, it);
    lock_drop(&cls->lock);
}

/* Find a page no class owns; pool lock held.  UINT32_MAX if none. */
static uint32_t pool_find_page(shmc_cache *c)
{
    uint32_t n = c->hdr->npages;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pg = (c->hdr->page_hint + i) % n;
        if (__atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE) == 0)
            return pg;
    }
    return UINT32_MAX;
}

/* Give class clsid a new page from the pool (class lock held). */
static bool slabs_grow(shmc_cache *c, unsigned clsid)
{
    slab_class *cls = &c->classes[clsid];
    lock_take(c, &c->hdr->pool_lock);
    uint32_t pg = pool_find_page(c);
    if (pg == UINT32_MAX) {
        lock_drop(&c->hdr->pool_lock);
        return false;
    }
    CRASH_POINT("slabs.grow_locked");
    item_t *it;
    uint32_t i = 0;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
        memset(it, 0, sizeof *it);
        it->clsid = (uint8_t)clsid;
        if (++i == cls->perslab / 2)
            CRASH_POINT("slabs.grow_half_init");
    }
    __atomic_store_n(&c->pagemap[pg], (uint8_t)clsid, __ATOMIC_RELEASE);
    CRASH_POINT("slabs.grow_published");
    c->hdr->page_hint = pg + 1;
    lock_drop(&c->hdr->pool_lock);
    cls->pages++;
    i = 0;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
        slabs_free_locked(c, cls, it);
        if (++i == cls->perslab / 2)
            CRASH_POINT("slabs.grow_half_freed");
    }
    return true;
}

/* Pop the free list (class lock held); NULL if empty. */
static item_t *slabs_pop_free(shmc_cache *c, slab_class *cls)
{
    if (!cls->free_head)
        return NULL;
    item_t *it = seg_item(c, cls->free_head);
    slabs_unfree_locked(c, cls, it);
    CRASH_POINT("slabs.popped");
    return it;
}

/* One attempt under the class lock. */
static item_t *slabs_alloc_locked(shmc_cache *c, unsigned clsid, uint32_t now)
{
    slab_class *cls = &c->classes[clsid];
    item_t *it = slabs_pop_free(c, cls);
    if (!it && slabs_grow(c, clsid))
        it = slabs_pop_free(c, cls);
    if (!it)
        it = lru_reclaim(c, cls, !c->hdr->no_evict, now);
    if (it) {
        lru_balance(c, cls, now);
        it->clsid = (uint8_t)clsid;
        item_set_state(it, STATE_MAKE(CHUNK_ALLOC, c->slot));
    } else {
        cls->alloc_fails++;
    }
    return it;
}

item_t *slabs_alloc(shmc_cache *c, unsigned clsid)
{
    uint32_t now = clock_now(c);
    for (int attempt = 0; attempt < 3; attempt++) {
        slab_class *cls = &c->classes[clsid];
        lock_take(c, &cls->lock);
        uint64_t evicted_before = cls->evictions;
        item_t *it = slabs_alloc_locked(c, clsid, now);
        bool evicted = cls->evictions != evicted_before;
        uint64_t evictions = cls->evictions;
        lock_drop(&cls->lock);
        if (it) {
            /* memcached's automove: a class that keeps evicting may take a
             * page from a class whose items are older */
            if (evicted && c->hdr->slab_automove && evictions % 64 == 0)
                slabs_reassign(c, clsid);
            return it;
        }
        if (!slabs_reassign(c, clsid))
            return NULL;
    }
    return NULL;
}

/* Put back on the free list the chunks of page pg before stop, which an
 * aborted page move had taken off (class lock held). */
static void slabs_unempty(shmc_cache *c, unsigned clsid, uint32_t pg, item_t *stop)
{
    item_t *it;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
        if (it == stop)
            break;
        slabs_free_locked(c, &c->classes[clsid], it);
    }
}

/*
 * Evict linked item it of class clsid for a page move (class lock held):
 * false if its stripe is busy, or it is live and evict is off.  Its chunk
 * (and a chained value's data chunks) go to the free list.
 */
static bool slabs_evict_linked(shmc_cache *c, unsigned clsid, item_t *it, bool evict,
                               uint32_t now)
{
    slab_class *cls = &c->classes[clsid];
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED)
        return false;
    enum item_liveness why = clock_liveness(c, it, now);
    seg_lock *s = hash_stripe(c, it->hash);
    if ((why == ITEM_LIVE && !evict) || !lock_try(c, s))
        return false;
    hash_remove(c, it);
    lru_unlink(c, cls, it);
    if (why == ITEM_LIVE)
        cls->evictions++;
    else
        cls->reclaimed++;
    slabs_free_locked(c, cls, it);
    value_free_chunks(c, cls, it);
    lock_drop(s);
    return true;
}

/*
 * Empty page pg of class clsid (class lock held): take its free chunks off
 * the free list and evict its items.  Fails, undoing, if a chunk is
 * allocated to a client or its stripe is busy, or (no_evict) holds an item.
 */
static bool slabs_empty_page(shmc_cache *c, unsigned clsid, uint32_t pg, bool evict, uint32_t now)
{
    slab_class *cls = &c->classes[clsid];
    item_t *it;
    uint32_t i = 0;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
        if (++i == cls->perslab / 2 + 1)
            CRASH_POINT("slabs.reassign_half");
        if (STATE_KIND(item_state(it)) == CHUNK_DATA && it->h_next) { /* evict its item */
            item_t *head = seg_item(c, it->h_next);
            if (head->clsid == clsid)
                slabs_evict_linked(c, clsid, head, evict, now);
        }
        uint32_t st = STATE_KIND(item_state(it));
        if (st == CHUNK_LINKED && slabs_evict_linked(c, clsid, it, evict, now))
            st = STATE_KIND(item_state(it)); /* now FREE, on the free list */
        if (st != CHUNK_FREE) {
            slabs_unempty(c, clsid, pg, it);
            return false;
        }
        slabs_unfree_locked(c, cls, it);
    }
    return true;
}

/* The page holding the oldest item of a class, or one with all chunks
 * free; UINT32_MAX if the class has no page (class lock held). */
static bool slabs_page_is_free(shmc_cache *c, unsigned clsid, uint32_t pg)
{
    item_t *it;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it)
        if (STATE_KIND(item_state(it)) != CHUNK_FREE)
            return false;
    return true;
}

static uint32_t slabs_pick_page(shmc_cache *c, unsigned clsid)
{
    slab_class *cls = &c->classes[clsid];
    if (cls->free_count >= cls->perslab)
        for (uint32_t pg = 0; pg < c->hdr->npages; pg++)
            if (c->pagemap[pg] == clsid && slabs_page_is_free(c, clsid, pg))
                return pg;
    for (unsigned l = SEG_LRU_COLD + 1; l-- > 0;)
        if (cls->tail[l])
            return seg_page_of(c, cls->tail[l]);
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++)
        if (c->pagemap[pg] == clsid)
            return pg;
    return UINT32_MAX;
}

/* The class to take a page from for dst: the one with the oldest COLD
 * tail among those with two pages or more; 0 if none. */
static unsigned slabs_pick_victim(shmc_cache *c, unsigned dst)
{
    unsigned best = 0;
    uint32_t best_age = UINT32_MAX;
    for (unsigned i = 1; i <= c->hdr->nclasses; i++) {
        slab_class *cls = &c->classes[i];
        uint32_t pages = __atomic_load_n(&cls->pages, __ATOMIC_RELAXED);
        if (i == dst || pages == 0)
            continue;
        bool spare = cls->free_count >= cls->perslab; /* may hold a whole free page */
        if (pages < 2 && !spare && c->classes[dst].pages > 0)
            continue;
        uint32_t age = spare ? 0 : cls->tail_atime;
        if (age < best_age) {
            best_age = age;
            best = i;
        }
    }
    return best;
}

bool slabs_reassign(shmc_cache *c, unsigned dst)
{
    unsigned src = slabs_pick_victim(c, dst);
    if (!src)
        return false;
    slab_class *cls = &c->classes[src];
    uint32_t now = clock_now(c);
    lock_take(c, &cls->lock);
    uint32_t pg = slabs_pick_page(c, src);
    bool ok = pg != UINT32_MAX && slabs_empty_page(c, src, pg, !c->hdr->no_evict, now);
    if (ok) {
        lock_take(c, &c->hdr->pool_lock);
        __atomic_store_n(&c->pagemap[pg], 0, __ATOMIC_RELEASE);
        c->hdr->page_hint = pg;
        lock_drop(&c->hdr->pool_lock);
        CRASH_POINT("slabs.reassign_released");
        cls->pages--;
        __atomic_fetch_add(&c->hdr->slabs_moved, 1, __ATOMIC_RELAXED);
    }
    lock_drop(&cls->lock);
    return ok;
}
