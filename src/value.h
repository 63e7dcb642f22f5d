/*
 * value.h - where an item's value bytes live.
 *
 * A value that fits its chunk follows the key.  A value whose item is
 * larger than the largest slab chunk (memcached's slab_chunk_max, half a
 * page) is chained (IFLAG_CHAINED): its head chunk, in the largest class,
 * holds the header, the key, the refs of n data chunks and the first part
 * of the value; each data chunk holds the next part at its data[] and says
 * whose it is (state CHUNK_DATA, h_next = the head).  Every data chunk but
 * the last is of the largest class too; the last, the tail, is of the
 * smallest class that holds what is left (value_chunk_class), as
 * memcached's chunked items end, so a 600 KB value takes 512 KB + 128 KB
 * rather than two 512 KB chunks.
 *
 * Locks: the largest class is not sharded (all in its shard 0:
 * slabs_home), so one shard lock covers a head and its full data chunks.
 * A tail of a smaller class is on its own shard's lists once free; its
 * shard (value_tail_shard) is taken beside the head's before the head
 * leaves LINKED, in address order (slabs.h), or never waiting.
 *
 * The ordering rules: data chunks become CHUNK_DATA before their head
 * becomes LINKED (no lock: that state is on no list); a head leaves
 * LINKED before its data chunks are freed; a data chunk is freed only
 * while its head is held (its shard lock, or CHUNK_ALLOC to the freer),
 * so the head named by its h_next is still the one that listed it.
 * Recovery judges every data chunk of every class by its head
 * (value_chunk_orphaned).
 */
#ifndef SHMC_VALUE_H
#define SHMC_VALUE_H

#include "cache.h"

/* Data chunks an item with this key and value length needs (0: none). */
uint32_t value_extra_chunks(const shmc_cache *c, size_t nkey, size_t vlen);

/* The class of data chunk i (0-based) of the n (at least 1) an item with
 * this key and value length has: the largest class, but for the last (the
 * tail) the smallest class that holds its part. */
unsigned value_chunk_class(const shmc_cache *c, size_t nkey, size_t vlen, uint32_t n,
                           uint32_t i);

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
 * CHUNK_ALLOC to this client, a tail from shard s of its class (a lane's:
 * slabs_alloc); false (SHMC_NO_MEMORY) if memory ran out, with the chunks
 * taken so far released.  Takes the shard locks itself, one at a time. */
bool value_alloc_chunks(shmc_cache *c, item_t *head, unsigned s);

/* Give back the data chunks of a head that was never published. */
void value_release_chunks(shmc_cache *c, item_t *head);

/* Make a head's CHUNK_ALLOC data chunks its CHUNK_DATA (before the head
 * becomes LINKED). */
void value_adopt_chunks(shmc_cache *c, item_t *head);

/* The class of head's last data chunk; 0 if it is not chained (or is
 * marked so, but short enough for one chunk: damage). */
unsigned value_tail_class(const shmc_cache *c, const item_t *head);

/* The shard of linked head's tail, when it has one of a class smaller
 * than its own, to be locked beside the head's shard before the head
 * leaves LINKED; NULL if it has none, or the chunk its last ref names is
 * not its data chunk (damage: the chunk is left to shmc_check and the
 * reaper).  Stable while the caller holds the head's stripe. */
slab_shard *value_tail_shard(shmc_cache *c, item_t *head);

/* Free a head's data chunks: the full ones into sh, the largest class's
 * shard 0 (NULL: not those), and the tail into ts, its shard
 * (value_tail_shard; NULL if none).  Both locks held; the head has left
 * LINKED.  Nothing if head is not chained. */
void value_free_chunks(shmc_cache *c, slab_shard *sh, slab_shard *ts, item_t *head);

/* The head a CHUNK_DATA chunk names, if that is a chunk of the largest
 * class at all (else NULL). */
item_t *value_chunk_head(shmc_cache *c, const item_t *chunk);

/* Is this CHUNK_DATA chunk (of class clsid) nobody's: its head is not
 * linked nor held by a live client, or does not list it where a chunk of
 * clsid belongs?  The lock of the chunk's shard held. */
bool value_chunk_orphaned(shmc_cache *c, item_t *chunk, unsigned clsid);

#endif
