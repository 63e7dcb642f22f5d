/*
 * slabs.c - slab classes, pages and chunks; page moves between classes.
 *
 * Owns: the class table's sizes, the page map, the shards' free lists and
 * the FREE <-> ALLOC transitions of chunk states.  Lock order: shard
 * locks (one, or several of one class in index order), then the pool lock.
 *
 * Crash safety: a page is given to a class only after every chunk header
 * in it says FREE for that class and the shard that takes it, by one
 * store to the page map; a page leaves a class only after every chunk in
 * it is FREE and off its free list.  So a class's pages and chunk states
 * always agree, and recovery rebuilds a shard's free list and LRU lists
 * from the states of the chunks that name it.  A chunk changes shard only
 * while the new shard's lock is held and either it is CHUNK_ALLOC (ours)
 * or the old shard's lock is held too, so a repair, which holds the lock
 * of the shard it rebuilds, never sees it half moved.
 */
#include "slabs.h"

#include <string.h>
#include <time.h>

#include "bounds.h"
#include "clock.h"
#include "crashpoint.h"
#include "events.h"
#include "hash.h"
#include "lock.h"
#include "lru.h"
#include "sys.h"
#include "value.h"

#define ALIGN8(x) (((x) + 7u) & ~7u)
#define STEAL_BATCH 16u /* free chunks moved at once from another shard */

unsigned slabs_class_sizes(const seg_header *h, uint32_t size[SEG_MAX_CLASSES + 1])
{
    uint32_t sz = ALIGN8((uint32_t)sizeof(item_t) + h->chunk_size_min);
    /* memcached's slab_chunk_max: larger items are chained over chunks of
     * the largest class (value.h) */
    uint32_t largest = ALIGN8(h->item_size_max < h->page_size / 2 ? h->item_size_max
                                                                  : h->page_size / 2);
    unsigned id = 1;
    while (id < SEG_MAX_CLASSES && sz <= h->page_size / 2 && sz < largest) {
        size[id++] = sz;
        uint32_t next = ALIGN8((uint32_t)(sz * h->growth_factor));
        sz = next > sz ? next : sz + 8;
    }
    size[id] = largest;
    return id;
}

void slabs_init_classes(shmc_cache *c)
{
    seg_header *h = c->hdr;
    uint32_t size[SEG_MAX_CLASSES + 1];
    h->nclasses = slabs_class_sizes(h, size);
    for (unsigned id = 1; id <= h->nclasses; id++) {
        c->classes[id].size = size[id];
        c->classes[id].perslab = h->page_size / size[id];
    }
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

void slabs_free_locked(shmc_cache *c, slab_shard *sh, item_t *it)
{
    ref_t r = seg_ref(c, it);
    /* the chunk takes sh's name (slabs.h says when it may); the state
     * store below publishes the name with it */
    __atomic_store_n(&it->place, PLACE_MAKE(0, slabs_shard_no(c, sh)), __ATOMIC_RELAXED);
    item_set_state(it, STATE_MAKE(CHUNK_FREE, 0));
    CRASH_POINT("slabs.free_half");
    ref_t head = sh->free_head;
    if (head && !bounds_ref(c, head)) { /* damaged: the list is lost (check, repair) */
        bounds_fail("slab_shard.free_head");
        head = 0;
    }
    it->prev = 0;
    it->next = head;
    if (head)
        seg_item(c, head)->prev = r;
    sh->free_head = r;
    sh->free_count++;
}

void slabs_unfree_locked(shmc_cache *c, slab_shard *sh, item_t *it)
{
    bool prev_ok = bounds_ref(c, it->prev), next_ok = bounds_ref(c, it->next);
    if ((it->prev && !prev_ok) || (it->next && !next_ok))
        bounds_fail("item_t.prev/next (free list)");
    if (prev_ok)
        seg_item(c, it->prev)->next = it->next;
    else if (!it->prev)
        sh->free_head = it->next;
    if (next_ok)
        seg_item(c, it->next)->prev = it->prev;
    it->next = it->prev = 0;
    sh->free_count--;
}

/* Lock a shard of class clsid other than s that is free now (the largest
 * class has one shard: slabs_home).  NULL if none is. */
slab_shard *slabs_try_other(shmc_cache *c, unsigned clsid, unsigned s)
{
    unsigned shards = clsid == c->hdr->nclasses ? 1 : SEG_SHARDS;
    for (unsigned k = 1; k < shards; k++) {
        slab_shard *o = slabs_shard(c, clsid, (s + k) % shards);
        if (lock_try(c, &o->lock))
            return o;
    }
    return NULL;
}

#define LOCK_ANY_PAUSE_NS 50000L /* between rounds of slabs_lock_any past the bound */

/*
 * Lock a shard of class clsid to give chunks back to: shard s if it is
 * free, else any other that is (a chunk of ours may go to any shard of
 * its class), else s within the call's bound (lock.h), else whichever
 * shard comes free first, however long that takes (the chunks must go
 * back): each round waits on every shard in turn, which past the bound is
 * a try that also takes over a dead owner's lock, then pauses.  So only a
 * client stopped holding every shard of the class (a page move) makes
 * this wait past the bound.  It waited on s alone before: a client
 * stopped holding s, while the other shards were each held for a moment
 * by other threads, hung a store of test_crash_stop for good.
 */
static slab_shard *slabs_lock_any(shmc_cache *c, unsigned clsid, unsigned s)
{
    slab_shard *sh = slabs_shard(c, clsid, s);
    if (lock_try(c, &sh->lock))
        return sh;
    slab_shard *o = slabs_try_other(c, clsid, s);
    if (o || lock_wait(c, &sh->lock))
        return o ? o : sh;
    unsigned shards = clsid == c->hdr->nclasses ? 1 : SEG_SHARDS;
    for (;;) {
        for (unsigned k = 0; k < shards; k++) {
            o = slabs_shard(c, clsid, (s + k) % shards);
            if (lock_wait(c, &o->lock))
                return o;
        }
        struct timespec pause = {0, LOCK_ANY_PAUSE_NS};
        sys_call3(SYS_nanosleep, (long)&pause, 0, 0);
    }
}

void slabs_release(shmc_cache *c, item_t *it)
{
    if (!bounds_clsid(c, it->clsid)) { /* ours, but a damaged link may have written it */
        bounds_fail("item_t.clsid");
        return;
    }
    if (value_is_chained(it))
        value_release_chunks(c, it);
    slab_shard *sh = slabs_lock_any(c, it->clsid, item_shard(it));
    slabs_free_locked(c, sh, it);
    lock_drop(&sh->lock);
}

void slabs_lock_class(shmc_cache *c, unsigned clsid)
{
    for (unsigned s = 0; s < SEG_SHARDS; s++)
        lock_take(c, &slabs_shard(c, clsid, s)->lock);
}

bool slabs_lock_class_wait(shmc_cache *c, unsigned clsid, bool reader)
{
    for (unsigned s = 0; s < SEG_SHARDS; s++) {
        seg_lock *l = &slabs_shard(c, clsid, s)->lock;
        if (!(reader ? lock_wait_reader(c, l) : lock_wait(c, l))) {
            while (s-- > 0)
                lock_drop(&slabs_shard(c, clsid, s)->lock);
            return false;
        }
    }
    return true;
}

void slabs_unlock_class(shmc_cache *c, unsigned clsid)
{
    for (unsigned s = SEG_SHARDS; s-- > 0;)
        lock_drop(&slabs_shard(c, clsid, s)->lock);
}

bool slabs_lock_pair(shmc_cache *c, slab_shard *a, slab_shard *b)
{
    if (b < a) {
        slab_shard *t = a;
        a = b;
        b = t;
    }
    if (!lock_wait(c, &a->lock))
        return false;
    if (b != a && !lock_wait(c, &b->lock)) {
        lock_drop(&a->lock);
        return false;
    }
    return true;
}

#define LOCK_SET_MAX 4

/* The distinct shards of set, in address order, into out; returns how many. */
static unsigned lock_set_sort(slab_shard *const *set, unsigned n, slab_shard **out)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && i < LOCK_SET_MAX; i++) {
        unsigned j = k;
        while (j > 0 && out[j - 1] > set[i])
            j--;
        if (j > 0 && out[j - 1] == set[i])
            continue;
        memmove(&out[j + 1], &out[j], (k - j) * sizeof *out);
        out[j] = set[i];
        k++;
    }
    return k;
}

bool slabs_lock_set(shmc_cache *c, slab_shard *const *set, unsigned n)
{
    slab_shard *s[LOCK_SET_MAX];
    unsigned k = lock_set_sort(set, n, s);
    for (unsigned i = 0; i < k; i++)
        if (!lock_wait(c, &s[i]->lock)) {
            while (i-- > 0)
                lock_drop(&s[i]->lock);
            return false;
        }
    return true;
}

void slabs_unlock_set(slab_shard *const *set, unsigned n)
{
    slab_shard *s[LOCK_SET_MAX];
    for (unsigned k = lock_set_sort(set, n, s); k-- > 0;)
        lock_drop(&s[k]->lock);
}

void slabs_unlock_pair(slab_shard *a, slab_shard *b)
{
    if (b != a)
        lock_drop(&b->lock);
    lock_drop(&a->lock);
}

uint64_t slabs_free_chunks(shmc_cache *c, unsigned clsid)
{
    uint64_t n = 0;
    for (unsigned s = 0; s < SEG_SHARDS; s++)
        n += __atomic_load_n(&slabs_shard(c, clsid, s)->free_count, __ATOMIC_RELAXED);
    return n;
}

uint64_t slabs_items(shmc_cache *c, unsigned clsid)
{
    uint64_t n = 0;
    for (unsigned s = 0; s < SEG_SHARDS; s++)
        n += lru_items(slabs_shard(c, clsid, s));
    return n;
}

/* Take shard sh's lock: within the call's bound if wait, else only if it
 * is free now (the first pass of an allocation, which tries every shard
 * before it waits for one: lock.h). */
static bool shard_lock(shmc_cache *c, slab_shard *sh, bool wait)
{
    return wait ? lock_wait(c, &sh->lock) : lock_try(c, &sh->lock);
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

void slabs_recount_pages(shmc_cache *c)
{
    uint32_t count[SEG_MAX_CLASSES + 1] = {0};
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        unsigned id = __atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE);
        if (id <= SEG_MAX_CLASSES)
            count[id]++;
    }
    for (unsigned i = 1; i <= c->hdr->nclasses; i++)
        __atomic_store_n(&c->classes[i].pages, count[i], __ATOMIC_RELAXED);
}

/* The pages the classes hold: exact under the pool lock, an estimate
 * without (the counts are stored atomically). */
static uint32_t pool_given(shmc_cache *c)
{
    uint32_t n = 0;
    for (unsigned i = 1; i <= c->hdr->nclasses; i++)
        n += __atomic_load_n(&c->classes[i].pages, __ATOMIC_RELAXED);
    return n;
}

/* Whether class clsid may take a page now (pool lock held): memcached's
 * rule for -m, under the limit or the class's first page; or, with
 * moved, the page a page move just gave back for it (slabs_reassign),
 * which keeps the classes' pages where they were. */
static bool pool_may_give(shmc_cache *c, unsigned clsid, bool moved)
{
    return moved || c->classes[clsid].pages == 0 ||
           pool_given(c) < __atomic_load_n(&c->hdr->limit_pages, __ATOMIC_RELAXED);
}

/* Give shard s of class clsid a new page from the pool (its lock held),
 * if pool_may_give. */
static bool slabs_grow(shmc_cache *c, unsigned clsid, unsigned s, bool moved)
{
    slab_class *cls = &c->classes[clsid];
    slab_shard *sh = &cls->shards[s];
    if (!lock_wait(c, &c->hdr->pool_lock.l))
        return false;
    uint32_t pg = pool_may_give(c, clsid, moved) ? pool_find_page(c) : UINT32_MAX;
    if (pg == UINT32_MAX) {
        lock_drop(&c->hdr->pool_lock.l);
        return false;
    }
    CRASH_POINT("slabs.grow_locked");
    item_t *it;
    uint32_t i = 0;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
        memset(it, 0, sizeof *it);
        it->clsid = (uint8_t)clsid;
        it->place = PLACE_MAKE(0, s);
        if (++i == cls->perslab / 2)
            CRASH_POINT("slabs.grow_half_init");
    }
    __atomic_store_n(&c->pagemap[pg], (uint8_t)clsid, __ATOMIC_RELEASE);
    CRASH_POINT("slabs.grow_published");
    __atomic_store_n(&cls->pages, cls->pages + 1, __ATOMIC_RELAXED);
    c->hdr->page_hint = pg + 1;
    lock_drop(&c->hdr->pool_lock.l);
    i = 0;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
        slabs_free_locked(c, sh, it);
        if (++i == cls->perslab / 2)
            CRASH_POINT("slabs.grow_half_freed");
    }
    return true;
}

/* Pop shard sh's free list as ours (its lock held); NULL if empty.  The
 * chunk keeps sh's name until it is linked or freed elsewhere. */
static item_t *shard_pop_free(shmc_cache *c, slab_shard *sh)
{
    if (!sh->free_head)
        return NULL;
    /* the chunk is written up to its class's size: it must fit, and be free */
    item_t *it = seg_item(c, sh->free_head);
    if (!bounds_chunk_at(c, sh->free_head, slabs_shard_clsid(c, sh)) ||
        STATE_KIND(item_state(it)) != CHUNK_FREE) {
        bounds_fail("slab_shard.free_head");
        return NULL;
    }
    slabs_unfree_locked(c, sh, it);
    CRASH_POINT("slabs.popped");
    item_set_alloc(it, c->slot);
    return it;
}

/*
 * Take up to STEAL_BATCH free chunks from another shard of the class for
 * home shard s (no lock held): one comes back as ours, the rest go on the
 * home free list, so a lane that stores more than it frees (inserts) does
 * not cross to another shard for every chunk.  NULL if no shard has one.
 */
static item_t *slabs_steal_free(shmc_cache *c, unsigned clsid, unsigned s, bool wait)
{
    for (unsigned k = 1; k < SEG_SHARDS; k++) {
        slab_shard *from = slabs_shard(c, clsid, (s + k) % SEG_SHARDS);
        if (!__atomic_load_n(&from->free_count, __ATOMIC_RELAXED))
            continue;
        item_t *got[STEAL_BATCH];
        unsigned n = 0;
        if (!shard_lock(c, from, wait))
            continue;
        while (n < STEAL_BATCH && (got[n] = shard_pop_free(c, from)))
            n++;
        lock_drop(&from->lock);
        if (!n)
            continue;
        /* the rest are ours (ALLOC) meanwhile: a death here reaps them */
        CRASH_POINT("slabs.stolen");
        slab_shard *home = slabs_lock_any(c, clsid, s);
        for (unsigned i = 1; i < n; i++)
            slabs_free_locked(c, home, got[i]);
        lock_drop(&home->lock);
        return got[0];
    }
    return NULL;
}

/* Reclaim from the LRU tails of shard s: expired items, and live ones too
 * if evict.  *evictions gets the shard's eviction count after it, or 0 if
 * it evicted nothing. */
static item_t *slabs_reclaim(shmc_cache *c, unsigned clsid, unsigned s, bool evict,
                             uint32_t now, uint64_t *evictions, bool wait)
{
    slab_shard *sh = slabs_shard(c, clsid, s);
    if (!lru_items(sh))
        return NULL;
    if (!shard_lock(c, sh, wait))
        return NULL;
    uint64_t before = sh->evictions;
    item_t *it = lru_reclaim(c, sh, evict, now);
    *evictions = sh->evictions != before ? sh->evictions : 0;
    lock_drop(&sh->lock);
    return it;
}

/* The item a shard would evict first (the tail of COLD, else HOT, else
 * WARM, as lru_reclaim looks; else TEMP's, for page moves), read without
 * its lock: a hint that may be stale, so only its bounds are trusted.
 * NULL if the shard is empty. */
static const item_t *shard_eviction_candidate(shmc_cache *c, slab_shard *sh)
{
    static const unsigned order[] = {SEG_LRU_COLD, SEG_LRU_HOT, SEG_LRU_WARM, SEG_LRU_TEMP};
    for (unsigned i = 0; i < 4; i++) {
        ref_t r = __atomic_load_n(&sh->tail[order[i]], __ATOMIC_RELAXED);
        uint64_t off = (uint64_t)r << 3;
        if (r && off >= c->hdr->off_pages && off + sizeof(item_t) <= c->size)
            return seg_item(c, r);
    }
    return NULL;
}

/* Whether shard sh's next victim would come from WARM or TEMP (its COLD
 * and HOT are empty), read without its lock: a hint. */
static bool shard_evicts_warm(slab_shard *sh)
{
    return !__atomic_load_n(&sh->tail[SEG_LRU_COLD], __ATOMIC_RELAXED) &&
           !__atomic_load_n(&sh->tail[SEG_LRU_HOT], __ATOMIC_RELAXED);
}

/* Was a last used before b: older access time, then older write (lower
 * CAS)?  Read without locks, so a hint. */
static bool item_used_before(const item_t *a, const item_t *b)
{
    uint32_t aa = __atomic_load_n(&a->atime, __ATOMIC_RELAXED);
    uint32_t ba = __atomic_load_n(&b->atime, __ATOMIC_RELAXED);
    return aa < ba || (aa == ba && __atomic_load_n(&a->cas, __ATOMIC_RELAXED) <
                                       __atomic_load_n(&b->cas, __ATOMIC_RELAXED));
}

/*
 * The shard of class clsid to evict from first: the one whose next victim
 * is the least recently used (older access time, then older write: lower
 * CAS), home shard s on a tie.  So a thread whose own shard holds only
 * its newest items evicts another shard's old ones, as memcached's one
 * LRU per class would; sharding does not make eviction favour old data.
 * A shard whose victim would come from WARM (items read since they were
 * stored; its COLD and HOT are empty) goes after every shard that still
 * has COLD or HOT items, whatever their age: one LRU evicts WARM last.
 */
static unsigned slabs_oldest_shard(shmc_cache *c, unsigned clsid, unsigned s)
{
    unsigned best = s;
    slab_shard *sh = slabs_shard(c, clsid, s);
    const item_t *bt = shard_eviction_candidate(c, sh);
    bool bw = shard_evicts_warm(sh);
    for (unsigned k = 1; k < SEG_SHARDS; k++) {
        unsigned o = (s + k) % SEG_SHARDS;
        sh = slabs_shard(c, clsid, o);
        const item_t *t = shard_eviction_candidate(c, sh);
        bool tw = shard_evicts_warm(sh);
        if (t && (!bt || (bw && !tw) || (bw == tw && item_used_before(t, bt)))) {
            best = o;
            bt = t;
            bw = tw;
        }
    }
    return best;
}

/* From the home shard (its lock taken here, within the bound if wait;
 * else any other shard that is free): its free list, and if more, a new
 * page (moved: slabs_grow), then expired items; the LRU balance step
 * rides along. */
static item_t *slabs_alloc_home(shmc_cache *c, unsigned clsid, unsigned s, bool more,
                                uint32_t now, bool wait, bool moved)
{
    slab_shard *sh = slabs_shard(c, clsid, s);
    if (!shard_lock(c, sh, wait) && !(sh = slabs_try_other(c, clsid, s)))
        return NULL;
    s = slabs_shard_no(c, sh);
    item_t *it = shard_pop_free(c, sh);
    if (!it && more && slabs_grow(c, clsid, s, moved))
        it = shard_pop_free(c, sh);
    if (!it && more)
        it = lru_reclaim(c, sh, false, now);
    if (it)
        lru_balance(c, sh, now);
    lock_drop(&sh->lock);
    return it;
}

/* Expired items of every shard, then (if evict) live ones: *evictions as
 * above. */
static item_t *slabs_reclaim_any(shmc_cache *c, unsigned clsid, unsigned s, bool evict,
                                 uint32_t now, uint64_t *evictions, bool wait)
{
    unsigned first = slabs_oldest_shard(c, clsid, s);
    item_t *it = slabs_reclaim(c, clsid, first, evict, now, evictions, wait);
    for (unsigned k = 0; !it && k < SEG_SHARDS; k++)
        if ((s + k) % SEG_SHARDS != first)
            it = slabs_reclaim(c, clsid, (s + k) % SEG_SHARDS, evict, now, evictions, wait);
    return it;
}

/* Evict the least recently used large value whose tail is of class
 * clsid (lru_evict_tail_owner), for an allocation in a class whose
 * chunks are all such tails, which its own LRU cannot free (at 8 MiB,
 * values of 10 B to 1 MB made 12 stores refused so).  Takes the largest
 * class's lock alone.  true if one was. */
static bool slabs_evict_tail_owner(shmc_cache *c, unsigned clsid, uint32_t now)
{
    if (clsid >= c->hdr->nclasses)
        return false;
    slab_shard *big = slabs_shard(c, c->hdr->nclasses, 0);
    if (!lock_wait(c, &big->lock))
        return false;
    bool ok = lru_evict_tail_owner(c, big, clsid, now);
    lock_drop(&big->lock);
    return ok;
}

/*
 * Every source but a page move; *evictions as above.  A first pass takes
 * only shard locks that are free, and only what costs nothing: free
 * chunks and expired items; so a shard held by a stopped client costs no
 * wait while another has room.  The second waits for them, within the
 * call's bound, and may take a new page and evict.  The other shards'
 * free chunks come before a new page, so that a class's pages fill up
 * before it takes another: sharding must not multiply the memory a class
 * holds.  Last, the owner of a tail held in the class is evicted.
 */
static item_t *slabs_alloc_once(shmc_cache *c, unsigned clsid, unsigned s, uint32_t now,
                                uint64_t *evictions, bool moved)
{
    *evictions = 0;
    item_t *it = slabs_alloc_home(c, clsid, s, false, now, false, false);
    if (!it)
        it = slabs_steal_free(c, clsid, s, false);
    if (!it)
        it = slabs_reclaim_any(c, clsid, s, false, now, evictions, false);
    if (!it)
        it = slabs_alloc_home(c, clsid, s, false, now, true, false);
    if (!it)
        it = slabs_steal_free(c, clsid, s, true);
    if (!it)
        it = slabs_alloc_home(c, clsid, s, true, now, true, moved);
    if (!it)
        it = slabs_reclaim_any(c, clsid, s, !c->hdr->no_evict, now, evictions, true);
    if (!it && !c->hdr->no_evict && slabs_evict_tail_owner(c, clsid, now)) {
        it = slabs_alloc_home(c, clsid, s, false, now, false, false);
        if (!it)
            it = slabs_steal_free(c, clsid, s, true);
    }
    return it;
}

/* Give class clsid the page a page move just freed for it (slabs_grow's
 * moved), through shard s; if s's lock is not free within the bound the
 * page stays in the pool, for any class under the limit. */
static void slabs_take_moved(shmc_cache *c, unsigned clsid, unsigned s)
{
    slab_shard *sh = slabs_shard(c, clsid, s);
    if (!lock_wait(c, &sh->lock))
        return;
    slabs_grow(c, clsid, s, true);
    lock_drop(&sh->lock);
}

/*
 * memcached's automove (slab_automove 1), for class dst, which keeps
 * evicting: take a page from the cheapest class (slabs_pick_victim) if
 * that costs no live item worth keeping (free chunks, dead items, a
 * sparse last page), or else, as memcached decides: if dst evicted in
 * more than half of the last 30 seconds (slab_automove_window), and the
 * source's least recently used item is older than dst's by the ratio
 * 0.8 (slab_automove_ratio); such a move at most once a second in the
 * whole segment.
 * Without those limits pages went back and forth between classes of like
 * ages, each move evicting a page of items: with values of 10 B to 1 MB
 * at 256 MiB, 43 moves in 2 seconds and 0.98 of memcached's items, which
 * moved none.  true if a page was freed.
 */
static bool slabs_automove(shmc_cache *c, unsigned dst, uint32_t now);
#define AUTOMOVE_RATIO_NUM 4u /* dst's oldest item younger than 4/5 of src's */
#define AUTOMOVE_RATIO_DEN 5u
#define AUTOMOVE_WINDOW 30u   /* seconds looked back (memcached's slab_automove_window) */

/* Note that class clsid evicted in second now (slab_class.evicting):
 * one write a second at most, the others read the word and go. */
static void slabs_note_evicting(shmc_cache *c, unsigned clsid, uint32_t now)
{
    uint64_t *w = &c->classes[clsid].evicting;
    uint64_t old = __atomic_load_n(w, __ATOMIC_RELAXED);
    for (;;) {
        uint32_t at = (uint32_t)(old >> 32), bits = (uint32_t)old;
        if (at == now && (bits & 1))
            return;
        if (now < at) /* a clock behind ours: its second is as good */
            return;
        uint32_t shift = now - at;
        uint64_t want = (uint64_t)now << 32 | ((shift < 32 ? bits << shift : 0) | 1u);
        if (__atomic_compare_exchange_n(w, &old, want, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return;
    }
}

/* In how many of the last AUTOMOVE_WINDOW seconds up to now class clsid
 * evicted. */
static unsigned slabs_evicting_seconds(shmc_cache *c, unsigned clsid, uint32_t now)
{
    uint64_t w = __atomic_load_n(&c->classes[clsid].evicting, __ATOMIC_RELAXED);
    uint32_t at = (uint32_t)(w >> 32), bits = (uint32_t)w;
    if (now < at || now - at >= AUTOMOVE_WINDOW)
        return 0;
    uint32_t keep = AUTOMOVE_WINDOW - (now - at); /* bits still inside the window */
    return (unsigned)__builtin_popcount(bits & (keep >= 32 ? ~0u : (1u << keep) - 1));
}

item_t *slabs_alloc(shmc_cache *c, unsigned clsid, unsigned s)
{
    uint32_t now = clock_now(c);
    s = slabs_home(c, clsid, s);
    bool moved = false;
    for (int attempt = 0; attempt < 3; attempt++) {
        uint64_t evictions;
        item_t *it = slabs_alloc_once(c, clsid, s, now, &evictions, moved);
        if (it) {
            it->clsid = (uint8_t)clsid;
            if (evictions && c->hdr->slab_automove)
                slabs_note_evicting(c, clsid, now);
            if (evictions && c->hdr->slab_automove && evictions % 64 == 0 &&
                slabs_automove(c, clsid, now))
                slabs_take_moved(c, clsid, s);
            return it;
        }
        if (!slabs_reassign(c, clsid))
            break;
        moved = true;
    }
    __atomic_fetch_add(&slabs_shard(c, clsid, s)->alloc_fails, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* Put back on their free lists the chunks of page pg before stop, which
 * an aborted page move had taken off (every shard lock of the class held). */
static void slabs_unempty(shmc_cache *c, unsigned clsid, uint32_t pg, item_t *stop)
{
    item_t *it;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
        if (it == stop)
            break;
        slabs_free_locked(c, slabs_shard(c, clsid, item_shard(it)), it);
    }
}

/* Take lock l for a page move unless the move holds it already (its shard
 * is of class held, every shard lock of which the move holds), never
 * waiting; *took says whether it was taken here. */
static bool slabs_try_extra(shmc_cache *c, slab_shard *sh, unsigned held, bool *took)
{
    *took = sh && slabs_shard_clsid(c, sh) != held;
    return !*took || lock_try(c, &sh->lock);
}

/*
 * Evict linked item it for a page move of class held (every shard lock of
 * held held): it is of that class, or the head of a chained value whose
 * tail is.  The locks of its shard and its tail's that the move does not
 * hold are taken, never waiting.  false if one of those or its stripe is
 * busy, or it is live and evict is off.  Its chunk and its value's data
 * chunks go to the free lists of their shards.
 */
static bool slabs_evict_linked(shmc_cache *c, item_t *it, unsigned held, bool evict, uint32_t now)
{
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED || !bounds_item(c, it))
        return false;
    enum item_liveness why = clock_liveness(c, it, now);
    seg_lock *s = hash_stripe(c, it->hash);
    if ((why == ITEM_LIVE && !evict) || !lock_try(c, s))
        return false;
    slab_shard *sh = slabs_shard_of(c, it), *ts = NULL; /* both stay: stripe held */
    bool took_sh = false, took_ts = false;
    if (STATE_KIND(item_state(it)) != CHUNK_LINKED || /* read before the stripe, for a head */
        !slabs_try_extra(c, sh, held, &took_sh)) {
        lock_drop(s);
        return false;
    }
    ts = value_tail_shard(c, it);
    if (!slabs_try_extra(c, ts, held, &took_ts)) {
        if (took_sh)
            lock_drop(&sh->lock);
        lock_drop(s);
        return false;
    }
    if (why == ITEM_LIVE && events_on(c))
        events_put_item(c, SHMC_EV_EVICT, it, now);
    hash_remove(c, it);
    lru_unlink(c, sh, it);
    if (why == ITEM_LIVE)
        sh->evictions++;
    else
        sh->reclaimed++;
    slabs_free_locked(c, sh, it);
    value_free_chunks(c, sh, ts, it);
    if (took_ts)
        lock_drop(&ts->lock);
    if (took_sh)
        lock_drop(&sh->lock);
    lock_drop(s);
    return true;
}

/*
 * Empty page pg of class clsid (every shard lock of the class held): take
 * its free chunks off their free lists and evict its items, and the items
 * whose data chunks it holds.  Fails, undoing, if a chunk is allocated to
 * a client or its stripe is busy, or (no_evict) holds an item.
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
            item_t *head = value_chunk_head(c, it);
            if (head)
                slabs_evict_linked(c, head, clsid, evict, now);
        }
        uint32_t st = STATE_KIND(item_state(it));
        if (st == CHUNK_LINKED && slabs_evict_linked(c, it, clsid, evict, now))
            st = STATE_KIND(item_state(it)); /* now FREE, on a free list */
        if (st != CHUNK_FREE) {
            slabs_unempty(c, clsid, pg, it);
            return false;
        }
        slabs_unfree_locked(c, slabs_shard(c, clsid, item_shard(it)), it);
    }
    return true;
}

/* Whether every chunk of page pg is free (the class's shard locks held). */
static bool slabs_page_is_free(shmc_cache *c, unsigned clsid, uint32_t pg)
{
    item_t *it;
    SLABS_FOR_EACH_CHUNK(c, pg, clsid, it)
        if (STATE_KIND(item_state(it)) != CHUNK_FREE)
            return false;
    return true;
}

/* The page to empty in class clsid: a wholly free one, else the one
 * holding the oldest LRU tail, else any; UINT32_MAX if the class has no
 * page (every shard lock of the class held). */
static uint32_t slabs_pick_page(shmc_cache *c, unsigned clsid)
{
    slab_class *cls = &c->classes[clsid];
    if (slabs_free_chunks(c, clsid) >= cls->perslab)
        for (uint32_t pg = 0; pg < c->hdr->npages; pg++)
            if (c->pagemap[pg] == clsid && slabs_page_is_free(c, clsid, pg))
                return pg;
    static const unsigned order[] = {SEG_LRU_COLD, SEG_LRU_WARM, SEG_LRU_HOT, SEG_LRU_TEMP};
    for (unsigned i = 0; i < 4; i++) {
        unsigned l = order[i];
        ref_t oldest = 0;
        for (unsigned s = 0; s < SEG_SHARDS; s++) {
            ref_t t = cls->shards[s].tail[l];
            if (t && !bounds_ref(c, t)) {
                bounds_fail("slab_shard.tail");
                continue;
            }
            if (t && (!oldest || seg_item(c, t)->atime < seg_item(c, oldest)->atime))
                oldest = t;
        }
        if (oldest && c->pagemap[seg_page_of(c, oldest)] == clsid)
            return seg_page_of(c, oldest);
    }
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++)
        if (c->pagemap[pg] == clsid)
            return pg;
    return UINT32_MAX;
}

/* What a page of a class costs to take, for page moves: its oldest item
 * (as slabs_oldest_shard judges), or NULL when taking one costs no live
 * item (a free page's worth of chunks, or an expired or flushed item
 * next to go), read without locks: a hint. */
typedef struct page_cost {
    bool free;                  /* a page's worth of free chunks, or a dead item next */
    const item_t *oldest;       /* else the class's least recently used item; NULL if none */
} page_cost;

static page_cost slabs_page_cost(shmc_cache *c, unsigned clsid, uint32_t now)
{
    page_cost pc = {slabs_free_chunks(c, clsid) >= c->classes[clsid].perslab, NULL};
    for (unsigned s = 0; !pc.free && s < SEG_SHARDS; s++) {
        const item_t *t = shard_eviction_candidate(c, slabs_shard(c, clsid, s));
        if (t && clock_liveness(c, t, now) != ITEM_LIVE)
            pc.free = true;
        else if (t && (!pc.oldest || item_used_before(t, pc.oldest)))
            pc.oldest = t;
    }
    return pc;
}

/* Whether a page of class a costs less to take than one of class b. */
static bool page_cost_less(page_cost a, page_cost b)
{
    if (a.free || b.free)
        return !b.free;
    if (!a.oldest || !b.oldest) /* no item, yet no free page: chunks held by clients */
        return a.oldest != NULL;
    return item_used_before(a.oldest, b.oldest);
}

/*
 * Whether class clsid's only page is nearly empty (an eighth of its chunks
 * or fewer hold items), and holds fewer items than a page of class dst
 * will.  A few items of a size next to a busy class's can hold a page the
 * busy class needs (8 MiB of 100 B values whose 3-byte keys fall one
 * class below the rest: 10 items kept an eighth of the cache).
 * slabs_pick_victim lets such a page move, its items evicted, only while
 * the classes hold no more pages than the limit: the class's next page is
 * then its first, which memcached's -m rule grants past the limit, but
 * only once.  The page must be worth more items in dst than it holds: a
 * page of 96-byte chunks holding 181 items is 1.7% full, but it is worth
 * two 512 KB items in the largest class (with values of 10 B to 1 MB at
 * 64 MiB, such moves held 0.89 of memcached's items).
 */
static bool slabs_last_page_sparse(shmc_cache *c, unsigned clsid, unsigned dst)
{
    const slab_class *cls = &c->classes[clsid];
    uint64_t items = slabs_items(c, clsid);
    return __atomic_load_n(&cls->pages, __ATOMIC_RELAXED) == 1 && items * 8 <= cls->perslab &&
           dst >= 1 && dst <= c->hdr->nclasses && items < c->classes[dst].perslab;
}

/* The class to take a page from for dst: the cheapest (page_cost, into
 * *cost) among those with two pages or more, or with one if dst has none
 * or if it is sparse (unless keep_last); 0 if no class can give one. */
static unsigned slabs_pick_victim(shmc_cache *c, unsigned dst, uint32_t now, bool keep_last,
                                  page_cost *cost)
{
    unsigned best = 0;
    page_cost best_cost = {false, NULL};
    /* counted once for the walk, not per class: pool_given sums them all */
    bool within_limit = !keep_last && pool_given(c) <= __atomic_load_n(&c->hdr->limit_pages,
                                                                      __ATOMIC_RELAXED);
    for (unsigned i = 1; i <= c->hdr->nclasses; i++) {
        uint32_t pages = __atomic_load_n(&c->classes[i].pages, __ATOMIC_RELAXED);
        if (i == dst || pages == 0)
            continue;
        page_cost pc = slabs_page_cost(c, i, now);
        if (pages < 2 && within_limit && slabs_last_page_sparse(c, i, dst))
            pc.free = true; /* its few items cost less than the page they hold */
        else if (pages < 2 && (keep_last || (!pc.free && c->classes[dst].pages > 0)))
            continue;
        if (!best || page_cost_less(pc, best_cost)) {
            best = i;
            best_cost = pc;
        }
    }
    *cost = best_cost;
    return best;
}

/* Empty a page of class src (the cheapest: slabs_pick_page) and give it
 * back to the pool.  false, changing nothing, if the class's locks are
 * held past the bound or the page holds a chunk a client has, an item
 * whose stripe is busy, or (no_evict) any item. */
static bool slabs_release_page(shmc_cache *c, unsigned src, uint32_t now)
{
    slab_class *cls = &c->classes[src];
    if (!slabs_lock_class_wait(c, src, false))
        return false;
    uint32_t pg = slabs_pick_page(c, src);
    bool ok = pg != UINT32_MAX && slabs_empty_page(c, src, pg, !c->hdr->no_evict, now);
    if (ok && !lock_wait(c, &c->hdr->pool_lock.l)) {
        slabs_unempty(c, src, pg, NULL); /* every chunk back on its free list */
        ok = false;
    } else if (ok) {
        __atomic_store_n(&c->pagemap[pg], 0, __ATOMIC_RELEASE);
        CRASH_POINT("slabs.reassign_released");
        __atomic_store_n(&cls->pages, cls->pages - 1, __ATOMIC_RELAXED);
        c->hdr->page_hint = pg;
        lock_drop(&c->hdr->pool_lock.l);
        __atomic_fetch_add(&c->hdr->slabs_moved, 1, __ATOMIC_RELAXED);
    }
    slabs_unlock_class(c, src);
    return ok;
}

bool slabs_reassign(shmc_cache *c, unsigned dst)
{
    uint32_t now = clock_now(c);
    page_cost cost;
    unsigned src = slabs_pick_victim(c, dst, now, false, &cost);
    return src && slabs_release_page(c, src, now);
}

/* Seconds since it was last used (its atime, read without a lock). */
static uint32_t item_age(const item_t *it, uint32_t now)
{
    uint32_t at = __atomic_load_n(&it->atime, __ATOMIC_RELAXED);
    return now > at ? now - at : 0;
}

static bool slabs_automove(shmc_cache *c, unsigned dst, uint32_t now)
{
    page_cost src_cost;
    unsigned src = slabs_pick_victim(c, dst, now, false, &src_cost);
    if (!src)
        return false;
    if (!src_cost.free) { /* the LRU item goes: older by the ratio, once a second */
        uint32_t last = __atomic_load_n(&c->hdr->automove_at, __ATOMIC_RELAXED);
        if (now <= last || slabs_evicting_seconds(c, dst, now) <= AUTOMOVE_WINDOW / 2)
            return false;
        page_cost dst_cost = slabs_page_cost(c, dst, now);
        if (!src_cost.oldest || !dst_cost.oldest ||
            (uint64_t)item_age(dst_cost.oldest, now) * AUTOMOVE_RATIO_DEN >=
                (uint64_t)item_age(src_cost.oldest, now) * AUTOMOVE_RATIO_NUM ||
            !__atomic_compare_exchange_n(&c->hdr->automove_at, &last, now, false,
                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return false;
    }
    return slabs_release_page(c, src, now);
}

shmc_status slabs_move_page(shmc_cache *c, int src, unsigned dst)
{
    uint32_t now = clock_now(c);
    if (src < 0)
        src = (int)slabs_pick_victim(c, dst, now, true, &(page_cost){false, NULL});
    if (src <= 0 || __atomic_load_n(&c->classes[src].pages, __ATOMIC_RELAXED) < 2)
        return SHMC_NO_MEMORY; /* memcached's NOSPARE: a class keeps its last page */
    if (!slabs_release_page(c, (unsigned)src, now))
        return SHMC_BUSY;
    if (dst)
        slabs_take_moved(c, dst, 0);
    return SHMC_OK;
}

shmc_status slabs_set_limit(shmc_cache *c, uint64_t bytes)
{
    uint64_t pages = bytes / c->hdr->page_size;
    if (pages < 2 || bytes > c->hdr->mem_bytes)
        return SHMC_INVALID;
    if (!lock_wait(c, &c->hdr->pool_lock.l))
        return SHMC_BUSY;
    uint32_t old = c->hdr->limit_pages, given = pool_given(c), target = 0;
    if (pages < old) /* the pages held now, less the drop: first pages past the limit stay */
        target = given > old - pages ? given - (old - (uint32_t)pages) : 1;
    __atomic_store_n(&c->hdr->shrink_to, target, __ATOMIC_RELAXED);
    __atomic_store_n(&c->hdr->limit_pages, (uint32_t)pages, __ATOMIC_RELAXED);
    lock_drop(&c->hdr->pool_lock.l);
    return SHMC_OK;
}

void slabs_shrink_step(shmc_cache *c)
{
    uint32_t target = __atomic_load_n(&c->hdr->shrink_to, __ATOMIC_RELAXED);
    if (!target)
        return; /* the common case: one load */
    /* down to the target, or to a page per class (move_page keeps the last) */
    if (pool_given(c) <= target || slabs_move_page(c, -1, 0) == SHMC_NO_MEMORY)
        __atomic_store_n(&c->hdr->shrink_to, 0, __ATOMIC_RELAXED); /* done */
}
