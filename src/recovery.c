/*
 * recovery.c - repairs after a client died at any instruction.
 *
 * Owns: the rebuild of hash chains (per stripe) and of free lists, LRU
 * lists and counters (per class) from the chunk state words, and the
 * reclaiming of chunks a dead client had allocated.  The rule that makes
 * this enough is in layout.h: a chunk's state word is the commit point of
 * every mutation, and it only changes under the locks of every structure
 * it implies.  So a structure whose lock owner died is rebuilt from the
 * states alone, and the half-done operation is thereby completed (its
 * state store happened) or undone (it did not).
 */
#include "recovery.h"

#include <string.h>

#include "clock.h"
#include "crashpoint.h"
#include "hash.h"
#include "lock.h"
#include "lru.h"
#include "registry.h"
#include "slabs.h"
#include "value.h"

/* Does a chunk header found by a scan look like a real linked item? */
static bool item_plausible(const shmc_cache *c, const item_t *it, unsigned clsid)
{
    size_t room = value_is_chained(it) && clsid == c->hdr->nclasses ? c->hdr->item_size_max
                                                                     : c->classes[clsid].size;
    return it->clsid == clsid && it->nkey >= 1 && it->nkey <= SHMC_KEY_MAX &&
           item_total(it->nkey, it->nbytes) <= room && hash_key(it->data, it->nkey) == it->hash;
}

/* Free the data chunks of class clsid that no head owns any more (class
 * lock held; run after the heads' fates are settled). */
static void free_orphan_chunks(shmc_cache *c, unsigned clsid)
{
    if (clsid != c->hdr->nclasses)
        return; /* only the largest class holds chained values */
    slab_class *cls = &c->classes[clsid];
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        if (__atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE) != clsid)
            continue;
        item_t *it;
        SLABS_FOR_EACH_CHUNK(c, pg, clsid, it)
            if (STATE_KIND(item_state(it)) == CHUNK_DATA && value_chunk_orphaned(c, it, clsid))
                slabs_free_locked(c, cls, it);
    }
}

/* An item with the same key as it, live, already in its chain. */
static item_t *chain_find_live(shmc_cache *c, item_t *it, uint32_t now)
{
    for (ref_t r = hash_head(c, it->hash); r; r = seg_item(c, r)->h_next) {
        item_t *o = seg_item(c, r);
        if (o->hash == it->hash && o->nkey == it->nkey &&
            memcmp(o->data, it->data, it->nkey) == 0 && clock_liveness(c, o, now) == ITEM_LIVE)
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
    lock_take(c, &c->hdr->pool_lock);
    hash_clear_stripe(c, s);
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        unsigned clsid = __atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE);
        if (!clsid)
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
    lock_drop(&c->hdr->pool_lock);
}

/* Which slots are alive, asked once per slot during one repair. */
typedef struct alive_cache {
    uint8_t known[8192]; /* 0 unknown, 1 alive, 2 dead (slots past the end: ask) */
} alive_cache;

static bool slot_alive(shmc_cache *c, alive_cache *ac, uint32_t slot)
{
    if (slot >= sizeof ac->known)
        return registry_alive(c, slot);
    if (!ac->known[slot])
        ac->known[slot] = registry_alive(c, slot) ? 1 : 2;
    return ac->known[slot] == 1;
}

/*
 * A class lock's owner died: rebuild the class's free list, LRU lists and
 * counters from the states of the chunks in its pages, freeing chunks
 * allocated to dead clients.
 */
static void repair_class(shmc_cache *c, unsigned clsid)
{
    slab_class *cls = &c->classes[clsid];
    alive_cache ac;
    memset(&ac, 0, sizeof ac);
    cls->free_head = 0;
    cls->free_count = 0;
    memset(cls->head, 0, sizeof cls->head);
    memset(cls->tail, 0, sizeof cls->tail);
    memset(cls->lru_count, 0, sizeof cls->lru_count);
    cls->curr_items = 0;
    cls->bytes = 0;
    cls->pages = 0;
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        if (__atomic_load_n(&c->pagemap[pg], __ATOMIC_ACQUIRE) != clsid)
            continue;
        cls->pages++;
        item_t *it;
        SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
            uint32_t st = item_state(it);
            if (STATE_KIND(st) == CHUNK_LINKED)
                lru_append(c, cls, it);
            else if (STATE_KIND(st) == CHUNK_FREE ||
                     (STATE_KIND(st) == CHUNK_ALLOC && !slot_alive(c, &ac, STATE_SLOT(st))))
                slabs_free_locked(c, cls, it);
        }
    }
    free_orphan_chunks(c, clsid);
}

void recovery_repair_lock(shmc_cache *c, seg_lock *l)
{
    switch (l->kind) {
    case LOCK_STRIPE:
        repair_stripe(c, l->id);
        break;
    case LOCK_CLASS:
        repair_class(c, l->id);
        break;
    default:
        /* pool: the page map is the whole truth; grow: guards no data */
        break;
    }
}

void recovery_reap_slot(shmc_cache *c, uint32_t slot)
{
    uint32_t mine = STATE_MAKE(CHUNK_ALLOC, slot);
    for (unsigned clsid = 1; clsid <= c->hdr->nclasses; clsid++) {
        slab_class *cls = &c->classes[clsid];
        lock_take(c, &cls->lock);
        for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
            if (c->pagemap[pg] != clsid)
                continue;
            item_t *it;
            SLABS_FOR_EACH_CHUNK(c, pg, clsid, it)
                if (item_state(it) == mine)
                    slabs_free_locked(c, cls, it);
        }
        free_orphan_chunks(c, clsid);
        lock_drop(&cls->lock);
        if (clsid == c->hdr->nclasses / 2)
            CRASH_POINT("reap.half");
    }
}
