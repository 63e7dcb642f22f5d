/*
 * hash.h - the index: key -> item, a linear-hashing table of chains.
 *
 * The table grows one bucket at a time (linear hashing), so growth never
 * stops other clients for more than one bucket split.  Bucket b is guarded
 * by stripe lock b % SEG_NSTRIPES; because the table size is always a
 * multiple of SEG_NSTRIPES, a key's stripe (hash % SEG_NSTRIPES) never
 * changes as the table grows, and a split touches buckets of one stripe.
 * Every chain change is one store of a ref, so a reader of a chain never
 * sees it broken and a crash leaves at worst an item missing from a chain,
 * which recovery.c puts back.
 */
#ifndef SHMC_HASH_H
#define SHMC_HASH_H

#include "cache.h"

/* 32-bit hash of a key (XXH3). */
uint32_t hash_key(const void *key, size_t nkey);

/* The stripe lock guarding every bucket a key with this hash can be in. */
static inline seg_lock *hash_stripe(shmc_cache *c, uint32_t hash)
{
    return &seg_stripe_of(c, hash)->l;
}

/* Number of buckets now. */
uint64_t hash_buckets(const shmc_cache *c);

/* The bucket index and chain head are inline: every get runs them, a
 * batch several times a key (hash.c owns the rest of the table). */

/* The table's growth word: the level above 32 bits, the split below. */
static inline uint64_t hash_word(const shmc_cache *c)
{
    return __atomic_load_n(&c->hdr->hash_word, __ATOMIC_ACQUIRE);
}

/* Buckets before the current round of splits: N0 << level.  (The level
 * is masked so that a damaged word cannot make the shift undefined.) */
static inline uint64_t word_round(const shmc_cache *c, uint64_t w)
{
    return (1ull << c->hdr->hash_power) << ((w >> 32) & 31);
}

/* Bucket index of a hash under growth word w: buckets below the split
 * have been split, so they use one more bit. */
static inline uint64_t hash_bucket_for(const shmc_cache *c, uint64_t w, uint32_t hash)
{
    uint64_t m = word_round(c, w);
    uint64_t b = hash & (m - 1);
    if (b < (uint32_t)w)
        b = hash & (2 * m - 1);
    return b & c->bucket_mask; /* a no-op unless hash_word is damaged (bounds.h) */
}

/* Bucket index of a hash now (stripe lock held, or a hint: a reader
 * without it checks what it finds, items.c). */
static inline uint64_t hash_bucket(const shmc_cache *c, uint32_t hash)
{
    return hash_bucket_for(c, hash_word(c), hash);
}

/* Head of the chain for hash (stripe lock held, or a hint as above); 0 if
 * empty. */
static inline ref_t hash_head(const shmc_cache *c, uint32_t hash)
{
    return __atomic_load_n(&c->buckets[hash_bucket(c, hash)], __ATOMIC_ACQUIRE);
}

/* Link it at the head of its chain (stripe lock held). */
void hash_insert(shmc_cache *c, item_t *it);

/* Unlink it from its chain (stripe lock held); false if it was not there. */
bool hash_remove(shmc_cache *c, item_t *it);

/* Put repl where old is in old's chain, in one store (stripe lock held). */
void hash_replace(shmc_cache *c, item_t *old, item_t *repl);

/* Grow the table by up to max_splits buckets while it holds more items
 * than buckets (a load factor of 1); takes locks itself, so call it
 * holding none. */
void hash_maybe_grow(shmc_cache *c, unsigned max_splits);

/* Clear every bucket of stripe s that can be in use (recovery). */
void hash_clear_stripe(shmc_cache *c, uint32_t s);

#endif
