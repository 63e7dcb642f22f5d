/*
 * value.h - where an item's value bytes live.
 *
 * A value that fits its chunk follows the key.  A value whose item is
 * larger than the largest slab chunk (memcached's slab_chunk_max, half a
 * page) is chained (IFLAG_CHAINED): its head chunk, in the largest class,
 * holds the header, the key, the refs of n data chunks and the first part
 * of the value; each data chunk, in the same class, holds the next part at
 * its data[] and says whose it is (state CHUNK_DATA, h_next = the head).
 * Because head and data chunks share one class, and the largest class is
 * not sharded (all in its shard 0: slabs_home), one shard lock covers a
 * large item's whole life, and recovery can judge every data chunk by its
 * head (value_chunk_orphaned).
 *
 * The ordering rules: data chunks become CHUNK_DATA before their head
 * becomes LINKED, and a head leaves LINKED before its data chunks are
 * freed.
 */
#ifndef SHMC_VALUE_H
#define SHMC_VALUE_H

#include "cache.h"

/* Data chunks an item with this key and value length needs (0: none). */
uint32_t value_extra_chunks(const shmc_cache *c, size_t nkey, size_t vlen);

static inline bool value_is_chained(const item_t *it)
{
    return it->iflags & IFLAG_CHAINED;
}

/* Where a chained head's refs start: after the key, 4-byte aligned. */
static inline size_t value_refs_at(size_t nkey)
{
    return (nkey + 3) & ~(size_t)3;
}

/* The refs of a chained head's data chunks. */
static inline ref_t *value_refs(item_t *it)
{
    return (ref_t *)(it->data + value_refs_at(it->nkey));
}

/* Copy len bytes at off of it's value to dst / from src. */
void value_read(shmc_cache *c, item_t *it, size_t off, void *dst, size_t len);
void value_write(shmc_cache *c, item_t *it, size_t off, const void *src, size_t len);

/* Copy all of src's value into dst's value at dst_off. */
void value_copy(shmc_cache *c, item_t *dst, size_t dst_off, item_t *src);

/* Give a new (CHUNK_ALLOC) head the data chunks its size needs, each
 * CHUNK_ALLOC to this client; false (SHMC_NO_MEMORY) if memory ran out,
 * with the chunks taken so far released.  Takes the shard lock itself. */
bool value_alloc_chunks(shmc_cache *c, item_t *head);

/* Give back the data chunks of a head that was never published. */
void value_release_chunks(shmc_cache *c, item_t *head);

/* Make a head's CHUNK_ALLOC data chunks its CHUNK_DATA (shard lock held;
 * before the head becomes LINKED). */
void value_adopt_chunks(shmc_cache *c, item_t *head);

/* Free a head's data chunks into sh, the largest class's shard 0 (its
 * lock held; the head has left LINKED).  Nothing if head is not chained. */
void value_free_chunks(shmc_cache *c, slab_shard *sh, item_t *head);

/* The head a CHUNK_DATA chunk of class clsid names, if that is a chunk of
 * the class at all (else NULL). */
item_t *value_chunk_head(shmc_cache *c, const item_t *chunk, unsigned clsid);

/* Is this CHUNK_DATA chunk (of class clsid) nobody's: its head is not
 * linked nor held by a live client, or does not list it?  Shard 0 lock held. */
bool value_chunk_orphaned(shmc_cache *c, item_t *chunk, unsigned clsid);

#endif
