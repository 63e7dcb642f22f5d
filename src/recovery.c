/*
 * recovery.c - repairs after a client died at any instruction.
 *
 * Owns: the rebuild of hash chains (per stripe), of free lists, LRU lists
 * and counters (per shard of a class) from the chunk state words, and of
 * page counts (from the page map), and the reclaiming of chunks a dead
 * client had allocated.  The rule that makes
 * this enough is in layout.h: a chunk's state word is the commit point of
 * every mutation, and it only changes under the locks of every structure
 * it implies.  So a structure whose lock owner died is rebuilt from the
 * states alone, and the half-done operation is thereby completed (its
 * state store happened) or undone (it did not).
 */
#include "recovery.h"

#include <string.h>

#include "bounds.h"
#include "clock.h"
#include "crashpoint.h"
#include "hash.h"
#include "lock.h"
#include "lru.h"
#include "slabs.h"
#include "value.h"
#include "mem.h"

/* Does a chunk header found by a scan look like a real linked item? */
static bool item_plausible(const shmc_cache *c, const item_t *it, unsigned clsid)
{
    size_t room = value_is_chained(it) && clsid == c->hdr->nclasses ? c->hdr->item_size_max
                                                                     : c->classes[clsid].size;
    return it->clsid == clsid && it->nkey >= 1 && it->nkey <= SHMC_KEY_MAX &&
           item_total(it->nkey, it->nbytes) <= room && hash_key(it->data, it->nkey) == it->hash;
}

/* Free the data chunks of class clsid naming shard s (SEG_SHARDS: any)
 * that no head owns any more (the lock of each such shard held; run after
 * the heads' fates are settled: a reap frees a dead client's heads, in
 * the largest class, before it looks at any class's data chunks). */
static void free_orphan_chunks(shmc_cache *c, unsigned clsid, unsigned s)
{
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        if (__atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE) != clsid)
            continue;
        item_t *it;
        SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
            unsigned in = item_shard(it);
            if (STATE_KIND(item_state(it)) == CHUNK_DATA && (s == SEG_SHARDS || in == s) &&
                value_chunk_orphaned(c, it, clsid))
                slabs_free_locked(c, slabs_shard(c, clsid, in), it);
        }
    }
}

/* An item with the same key as it, live, already in its chain (rebuilt
 * by this repair from plausible items, so whole; the walk is bounded all
 * the same). */
static item_t *chain_find_live(shmc_cache *c, item_t *it, uint32_t now)
{
    bounds_walk w;
    bounds_walk_init(&w, c);
    for (ref_t r = hash_head(c, it->hash); r; r = seg_item(c, r)->h_next) {
        if (!bounds_follow(c, &w, r)) {
            bounds_fail("item_t.h_next (hash chain)");
            return NULL;
        }
        item_t *o = seg_item(c, r);
        if (o->hash == it->hash && o->nkey == it->nkey &&
            mem_equal(o->data, it->data, it->nkey) && clock_liveness(c, o, now) == ITEM_LIVE)
            return o;
    }
    return NULL;
}

/*
 * A stripe lock's owner died: relink every LINKED item of the stripe.
 * The pool lock keeps the page map (and so chunk boundaries) still while
 * we scan.  If a replacement was cut short two items with one key can be
 * linked: the one with the larger CAS (the newer write) stays visible and
 * the other is marked expired, to be reclaimed like any expired item.
 */
static void repair_stripe(shmc_cache *c, uint32_t s)
{
    uint32_t now = clock_now(c);
    lock_take(c, &c->hdr->pool_lock.l);
    hash_clear_stripe(c, s);
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        unsigned clsid = __atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE);
        if (!bounds_clsid(c, clsid)) /* 0: no class's; above: damaged (check reports it) */
            continue;
        item_t *it;
        SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
            if (STATE_KIND(item_state(it)) != CHUNK_LINKED ||
                (__atomic_load_n(&it->hash, __ATOMIC_ACQUIRE) & (SEG_NSTRIPES - 1)) != s ||
                !item_plausible(c, it, clsid))
                continue;
            item_t *dup = chain_find_live(c, it, now);
            if (dup) {
                item_t *older = dup->cas < it->cas ? dup : it;
                older->exptime = 1;
            }
            hash_insert(c, it);
        }
    }
    lock_drop(&c->hdr->pool_lock.l);
}

/* Which slots are alive, asked once per slot during one repair. */
typedef struct alive_cache {
    uint8_t known[8192]; /* 0 unknown, 1 alive, 2 dead (slots past the end: ask) */
} alive_cache;

static bool slot_alive(shmc_cache *c, alive_cache *ac, uint32_t slot)
{
    if (slot >= sizeof ac->known)
        return c->owners->slot_alive(c, slot);
    if (!ac->known[slot])
        ac->known[slot] = c->owners->slot_alive(c, slot) ? 1 : 2;
    return ac->known[slot] == 1;
}

/* Free chunk it of shard sh (its lock held, its list being rebuilt),
 * allocated to a dead client.  If it is a head whose value's data chunks
 * were adopted, its tail, of another class, is freed too where its lock
 * is ours already (shmc_check holds every lock) or free now (a lower lock
 * than sh's, so never waited for): the shard's full data chunks are freed
 * by the orphan pass after the rebuild, and a tail left here by the
 * reaper's. */
static void free_dead_head(shmc_cache *c, slab_shard *sh, item_t *it)
{
    slab_shard *ts = value_tail_shard(c, it);
    bool took;
    if (ts && lock_try_or_mine(c, &ts->lock, &took)) {
        value_free_chunks(c, NULL, ts, it);
        if (took)
            lock_drop(&ts->lock);
    }
    slabs_free_locked(c, sh, it);
}

/*
 * A shard lock's owner died: rebuild the shard's free list and LRU lists
 * from the states of the chunks that name it, freeing chunks allocated to
 * dead clients.  A chunk is renamed only while it is CHUNK_ALLOC and the
 * new shard's lock is held (slabs.c), so reading its state first and then
 * its name never puts a chunk in two shards.
 */
static void repair_shard(shmc_cache *c, unsigned clsid, unsigned s)
{
    slab_shard *sh = slabs_shard(c, clsid, s);
    alive_cache ac;
    memset(&ac, 0, sizeof ac);
    sh->free_head = 0;
    sh->free_count = 0;
    memset(sh->head, 0, sizeof sh->head);
    memset(sh->tail, 0, sizeof sh->tail);
    memset(sh->lru_count, 0, sizeof sh->lru_count);
    sh->bytes = 0;
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        if (__atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE) != clsid)
            continue;
        item_t *it;
        SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
            uint32_t st = item_state(it);
            if (item_shard(it) != s)
                continue;
            if (STATE_KIND(st) == CHUNK_LINKED)
                lru_append(c, sh, it);
            else if (STATE_KIND(st) == CHUNK_FREE)
                slabs_free_locked(c, sh, it);
            else if (STATE_KIND(st) == CHUNK_ALLOC && !slot_alive(c, &ac, STATE_SLOT(st)))
                free_dead_head(c, sh, it);
        }
    }
    free_orphan_chunks(c, clsid, s);
}

/* The pool lock's owner died: the page map is the truth, and each
 * class's page count is recounted from it. */
static void repair_pool(shmc_cache *c)
{
    slabs_recount_pages(c);
}

/* What l guards is told by where it is, never by its kind and id, which
 * lie in the segment: a damaged kind could make a pool lock's repair take
 * the pool lock it holds. */
void recovery_repair_lock(shmc_cache *c, seg_lock *l)
{
    const char *p = (const char *)l;
    const char *stripes = (const char *)c->stripes, *classes = (const char *)c->classes;
    if (p >= stripes && p < stripes + SEG_NSTRIPES * sizeof(seg_stripe)) {
        repair_stripe(c, (uint32_t)((size_t)(p - stripes) / sizeof(seg_stripe)));
    } else if (p >= classes && p < classes + (SEG_MAX_CLASSES + 1) * sizeof(slab_class)) {
        slab_shard *sh = (slab_shard *)l; /* the lock is a shard's first field */
        unsigned clsid = slabs_shard_clsid(c, sh);
        if (bounds_clsid(c, clsid))
            repair_shard(c, clsid, slabs_shard_no(c, sh));
    } else if (l == &c->hdr->pool_lock.l) {
        repair_pool(c);
    }
    /* the grow lock guards no data */
}

void recovery_reap_slot(shmc_cache *c, uint32_t slot)
{
    uint32_t mine = STATE_MAKE(CHUNK_ALLOC, slot);
    /* the largest class first: its heads' fates settle their tails' */
    for (unsigned clsid = c->hdr->nclasses; clsid >= 1; clsid--) {
        slabs_lock_class(c, clsid);
        for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
            if (c->pagemap[pg] != clsid)
                continue;
            item_t *it;
            SLABS_FOR_EACH_CHUNK(c, pg, clsid, it)
                if (item_state(it) == mine) /* the page's class, not the header's clsid */
                    slabs_free_locked(c, slabs_shard(c, clsid, item_shard(it)), it);
        }
        free_orphan_chunks(c, clsid, SEG_SHARDS);
        slabs_unlock_class(c, clsid);
        if (clsid == c->hdr->nclasses / 2)
            CRASH_POINT("reap.half");
    }
}
