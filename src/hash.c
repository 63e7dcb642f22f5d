/*
 * hash.c - the key index (linear hashing over chains of refs).
 *
 * Owns: the bucket array and the hash_word (level, split) that says how
 * many buckets are in use.  Never touches LRU or allocator state.  All
 * chain edits are made under the stripe lock of the bucket; each is a
 * single store of a ref, published with release ordering.
 */
#include "hash.h"

/* XXH3 compiled into this file (Debian's libxxhash-dev ships the inline
 * implementation in its header): the hash runs inside the gate, and a
 * call into libxxhash.so could be interposed by the client's own symbol. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "bounds.h"
#include "crashpoint.h"
#include "lock.h"
#include "slabs.h"

uint32_t hash_key(const void *key, size_t nkey)
{
    return (uint32_t)XXH3_64bits(key, nkey);
}

uint64_t hash_buckets(const shmc_cache *c)
{
    uint64_t w = hash_word(c);
    return word_round(c, w) + (uint32_t)w;
}

void hash_insert(shmc_cache *c, item_t *it)
{
    ref_t *head = &c->buckets[hash_bucket(c, it->hash)];
    it->h_next = *head;
    __atomic_store_n(head, seg_ref(c, it), __ATOMIC_RELEASE);
}

/* The ref slot that points at it in its chain, or NULL (also when the
 * chain is damaged before it: bounds.h). */
static ref_t *hash_slot_of(shmc_cache *c, item_t *it)
{
    ref_t r = seg_ref(c, it);
    ref_t *slot = &c->buckets[hash_bucket(c, it->hash)];
    bounds_walk w;
    bounds_walk_init(&w, c);
    while (*slot && *slot != r) {
        if (!bounds_follow(c, &w, *slot)) {
            bounds_fail("item_t.h_next (hash chain)");
            return NULL;
        }
        slot = &seg_item(c, *slot)->h_next;
    }
    return *slot ? slot : NULL;
}

bool hash_remove(shmc_cache *c, item_t *it)
{
    ref_t *slot = hash_slot_of(c, it);
    if (!slot)
        return false;
    __atomic_store_n(slot, it->h_next, __ATOMIC_RELEASE);
    return true;
}

void hash_replace(shmc_cache *c, item_t *old, item_t *repl)
{
    ref_t *slot = hash_slot_of(c, old);
    repl->h_next = old->h_next;
    if (slot)
        __atomic_store_n(slot, seg_ref(c, repl), __ATOMIC_RELEASE);
    else
        hash_insert(c, repl);
}

/* Items linked now, summed over classes without locks (an estimate). */
static uint64_t hash_load(shmc_cache *c)
{
    uint64_t n = 0;
    for (uint32_t i = 1; i <= c->hdr->nclasses; i++)
        n += slabs_items(c, i);
    return n;
}

/*
 * Split bucket `split` into itself and split + round, then advance the
 * split pointer.  Grow lock held.  The new bucket is cleared first; items
 * move one at a time (unlink, then push on the new chain); the hash_word
 * store that makes the new bucket visible comes last.  A crash in between
 * leaves the stripe lock dead, and recovery rebuilds its chains from the
 * item states under the old hash_word.
 */
static void hash_split_one(shmc_cache *c)
{
    uint64_t w = hash_word(c);
    uint64_t m = word_round(c, w);
    uint64_t s = (uint32_t)w;
    if (m + s + 1 > c->hdr->max_buckets)
        return;
    seg_lock *l = &c->stripes[s & (SEG_NSTRIPES - 1)].l;
    if (!lock_try(c, l))
        return; /* busy: the split waits for a later grow, which is never owed */
    w = hash_word(c); /* a repair may not change it, but be exact */
    ref_t *from = &c->buckets[s];
    ref_t *to = &c->buckets[s + m];
    *to = 0;
    bounds_walk bw;
    bounds_walk_init(&bw, c);
    while (*from) {
        if (!bounds_follow(c, &bw, *from)) {
            bounds_fail("item_t.h_next (hash chain)");
            break; /* the rest of the chain stays where it is */
        }
        item_t *it = seg_item(c, *from);
        if ((it->hash & (2 * m - 1)) != s) {
            __atomic_store_n(from, it->h_next, __ATOMIC_RELEASE);
            CRASH_POINT("hash.split_half");
            it->h_next = *to;
            __atomic_store_n(to, seg_ref(c, it), __ATOMIC_RELEASE);
        } else {
            from = &it->h_next;
        }
    }
    CRASH_POINT("hash.split_done");
    uint64_t next = s + 1 == m ? ((w >> 32) + 1) << 32 : (w & ~0xffffffffull) | (s + 1);
    __atomic_store_n(&c->hdr->hash_word, next, __ATOMIC_RELEASE);
    lock_drop(l);
}

void hash_maybe_grow(shmc_cache *c, unsigned max_splits)
{
    uint64_t items = hash_load(c);
    if (items <= hash_buckets(c))
        return;
    if (!lock_try(c, &c->hdr->grow_lock.l))
        return; /* someone else is growing it */
    for (unsigned i = 0; i < max_splits && hash_load(c) > hash_buckets(c); i++) {
        uint64_t before = hash_buckets(c);
        hash_split_one(c);
        if (hash_buckets(c) == before)
            break; /* at the reserved maximum */
    }
    lock_drop(&c->hdr->grow_lock.l);
}

void hash_clear_stripe(shmc_cache *c, uint32_t s)
{
    uint64_t w = hash_word(c);
    uint64_t limit = 2 * word_round(c, w);
    if (limit > (uint64_t)c->bucket_mask + 1)
        limit = (uint64_t)c->bucket_mask + 1;
    for (uint64_t b = s; b < limit; b += SEG_NSTRIPES)
        if (c->buckets[b]) /* reading a sparse page allocates nothing */
            __atomic_store_n(&c->buckets[b], 0, __ATOMIC_RELEASE);
}
