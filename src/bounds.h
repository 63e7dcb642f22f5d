/*
 * bounds.h - the checks a value read from the segment passes before it is
 * used as an address, an index or a loop bound, and the report of the
 * damage a check finds.
 *
 * The segment is shared memory that other processes write, and a file
 * that someone may damage; the library never crashes or hangs on what it
 * reads there (docs/design.md, "Damage").  Fields fixed at creation (the
 * layout, the parameters, the class table's sizes) are validated once, at
 * attach (segment.c), and their results kept in the handle (pages_lo,
 * pages_hi, nclasses, walk_max, bucket_mask, chunk_magic), which lives in
 * the vault.
 * Everything that changes at run time is checked where it enters:
 *
 *  - a ref is followed only if the 48-byte header it names lies in the
 *    slab pages (bounds_ref): so a read, or the write of one link field
 *    of a list neighbour, stays in the pages;
 *  - a ref is used as an item, moved between lists, or handed out as a
 *    chunk only if it is the first byte of a chunk of the right class
 *    (bounds_chunk_at: a multiplication), so two chunks a call writes
 *    whole never overlap, nor overlap an item it reads;
 *  - an item's class id, LRU number, key and value lengths and, for a
 *    chained value, its data chunks' refs are checked before the item is
 *    read or changed as a whole (bounds_item); a link write through a
 *    damaged neighbour ref may change them afterwards, so the few uses
 *    that index or size with them after such a write check again, with a
 *    compare (the class id where a shard is taken from it, the lengths
 *    where a value is copied, a chained head where its refs are read);
 *  - a walk of a hash chain stops on a cycle (Brent's method) and after
 *    walk_max steps, which no list of distinct chunks can exceed
 *    (bounds_follow); the LRU and free lists are never walked far;
 *  - a bucket index is masked with bucket_mask.
 *
 * A failed check calls bounds_fail(what), which records on the calling
 * thread what was damaged; the call then treats the structure as ending
 * there (a miss, an empty list) and the public entry point answers
 * SHMC_CORRUPT (api.c).  Most checks are a compare or two on values
 * already in registers or in a cache line the call reads anyway; a chunk
 * boundary costs a multiplication and two loads, and a set makes about
 * four (docs/design.md gives the measured cost).
 */
#ifndef SHMC_BOUNDS_H
#define SHMC_BOUNDS_H

#include "cache.h"

/* What the calling thread last found damaged (a static string naming the
 * field), and how many times it found damage: a call compares the count
 * before and after (bounds_status).  In client memory (TLS): the library
 * only ever writes them. */
extern __thread const char *bounds_thread_what;
extern __thread uint32_t bounds_thread_hits;

/* Record damage to the field named what (a string literal); false, so
 * that a check can end with `return bounds_fail(...)`. */
bool bounds_fail(const char *what) __attribute__((cold, noinline));

/* The count of damage met by the calling thread so far. */
static inline uint32_t bounds_hits(void)
{
    return __atomic_load_n(&bounds_thread_hits, __ATOMIC_RELAXED);
}

/* A call's status: SHMC_CORRUPT if the thread met damage since it read
 * bounds_hits() into before, else st. */
static inline shmc_status bounds_status(uint32_t before, shmc_status st)
{
    return __builtin_expect(bounds_hits() != before, 0) ? SHMC_CORRUPT : st;
}

/* Does ref r name an item header that lies in the slab pages?  (0 does not.) */
static inline bool bounds_ref(const shmc_cache *c, ref_t r)
{
    uint64_t off = (uint64_t)r << 3;
    return off >= c->pages_lo && off + sizeof(item_t) <= c->pages_hi;
}

/* Does a chunk of class clsid (a valid class id) at r lie in the slab pages? */
static inline bool bounds_chunk(const shmc_cache *c, ref_t r, unsigned clsid)
{
    uint64_t off = (uint64_t)r << 3;
    return off >= c->pages_lo && off + c->classes[clsid].size <= c->pages_hi;
}

/* Is id a class in use (1..nclasses)? */
static inline bool bounds_clsid(const shmc_cache *c, unsigned id)
{
    return id - 1u < c->nclasses;
}

#define BOUNDS_MAGIC_BITS 34 /* chunk_magic's precision: see bounds_magic */

/* The chunk_magic of chunks of size bytes (a multiple of 8, 56..512 KiB).
 * For u, the 8-byte units of an offset into a page (u < 2^17), and d =
 * size / 8, u * m with m = ceil(2^34 / d) has low 34 bits below m exactly
 * when d divides u, and then u / d in its high bits (Lemire, Kaser and
 * Kurz, "Faster remainder by direct computation", 2019: 34 >= 17 +
 * log2(d) bits suffice); m < 2^32 since d >= 7. */
static inline uint32_t bounds_magic(uint32_t size)
{
    uint64_t d = size / 8;
    return (uint32_t)(((1ull << BOUNDS_MAGIC_BITS) + d - 1) / d);
}

/* Is r the first byte of a chunk of a page of class clsid (a class in
 * use)?  Stricter than bounds_chunk, for a chunk that is about to be
 * written as a whole or read as an item: two such chunks never overlap.
 * A multiplication, no division (bounds_magic). */
static inline bool bounds_chunk_at(const shmc_cache *c, ref_t r, unsigned clsid)
{
    uint64_t rel = ((uint64_t)r << 3) - c->pages_lo; /* wraps for a ref below the pages */
    if (rel >= c->pages_hi - c->pages_lo)
        return false;
    uint32_t units = (uint32_t)(rel & (SEG_PAGE_SIZE - 1)) >> 3; /* page_size is SEG_PAGE_SIZE */
    uint32_t m = c->chunk_magic[clsid];
    uint64_t q = (uint64_t)units * m;
    return c->pagemap[rel / SEG_PAGE_SIZE] == clsid &&
           (q & ((1ull << BOUNDS_MAGIC_BITS) - 1)) < m &&
           (uint32_t)(q >> BOUNDS_MAGIC_BITS) < c->classes[clsid].perslab;
}

/* Do len bytes from p lie in the slab pages (p itself does)? */
static inline bool bounds_span(const shmc_cache *c, const void *p, size_t len)
{
    return (uint64_t)((const char *)p - c->base) + len <= c->pages_hi;
}

/* The data chunks of a chained item are all chunks of the largest class
 * (value.c); false, recorded, if not. */
bool bounds_chained(const shmc_cache *c, const item_t *it);

/*
 * Whether an item met in a chain or a list can be used as a whole: its
 * class is in use and it is a chunk of that class (bounds_chunk_at: so
 * no chunk the call allocates overlaps it), its LRU number is one, its
 * key and value fit its chunk (or, chained, item_size_max, and the refs
 * name chunks of the largest class).  The item's ref passed bounds_ref.
 * Records the damage and returns false if not.
 */
static inline bool bounds_item(const shmc_cache *c, const item_t *it)
{
    unsigned id = it->clsid;
    if (__builtin_expect(!bounds_clsid(c, id), 0))
        return bounds_fail("item_t.clsid");
    if (__builtin_expect(!bounds_chunk_at(c, seg_ref(c, it), id), 0))
        return bounds_fail("item_t (not a chunk of its class)");
    if (__builtin_expect(PLACE_LRU(it->place) >= SEG_NLRU, 0))
        return bounds_fail("item_t.place");
    uint32_t size = c->classes[id].size;
    uint64_t total = item_total(it->nkey, it->nbytes);
    if (__builtin_expect(it->iflags & IFLAG_CHAINED, 0))
        return id == c->nclasses && total <= c->hdr->item_size_max ? bounds_chained(c, it)
                                                                    : bounds_fail("item_t.nbytes");
    return it->nkey && total <= size ? true : bounds_fail("item_t.nkey/nbytes");
}

/*
 * A bounded walk of a list of refs.  bounds_follow(c, w, r) before
 * following each ref r (not 0): false when r names no item header in the
 * pages, when it closes a cycle, found within two laps of it by Brent's
 * method (a mark that moves to the current ref after 1, 2, 4... steps),
 * or when the walk is longer than any list of distinct chunks can be.
 * The caller records the damage (bounds_fail) and stops.  Costs a few
 * compares, a decrement and an increment per step.
 */
typedef struct bounds_walk {
    ref_t mark;         /* the ref a cycle comes back to */
    uint32_t lap;       /* steps since mark moved */
    uint32_t lap_len;   /* steps between moves of mark (doubles) */
    uint32_t left;      /* steps allowed before the walk is cut */
} bounds_walk;

static inline void bounds_walk_init(bounds_walk *w, const shmc_cache *c)
{
    w->mark = 0;
    w->lap = 0;
    w->lap_len = 1;
    w->left = c->walk_max;
}

static inline bool bounds_follow(const shmc_cache *c, bounds_walk *w, ref_t r)
{
    if (__builtin_expect(!bounds_ref(c, r) || r == w->mark || w->left-- == 0, 0))
        return false;
    if (++w->lap == w->lap_len) {
        w->mark = r;
        w->lap = 0;
        w->lap_len <<= 1;
    }
    return true;
}

#endif
