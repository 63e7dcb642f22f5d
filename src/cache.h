/*
 * cache.h - the per-process handle (struct shmc_cache) and the small
 * address helpers every module uses to turn refs into pointers.
 *
 * The handle holds only process-local facts (where the segment is mapped,
 * which client slot this process owns); every shared fact lives in the
 * segment header.  The library's only C globals are the process's
 * protection facts (protect.h), on a read-only page.
 */
#ifndef SHMC_CACHE_H
#define SHMC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "shmcached.h"

/*
 * What the layers below the registry (lock.c, recovery.c, value.c,
 * check.c) need to know about clients, injected by registry.c so that
 * they never call up into it.
 */
typedef struct owner_ops {
    bool (*slot_alive)(shmc_cache *c, uint32_t slot);   /* does slot's owner live? */
    bool (*token_dead)(shmc_cache *c, uint32_t token);  /* is a lock word's writer gone? */
    void (*repair)(shmc_cache *c, seg_lock *l);         /* rebuild what l guards (recovery.c) */
} owner_ops;

/*
 * A handle: one process's attachment of one segment.  It lives in the
 * vault (vault.h), behind the protection key, so client code can neither
 * change nor forge the facts that decide where the library writes.
 */
struct shmc_cache {
    uint32_t magic;             /* HANDLE_* (vault.h): is this vault slot a usable handle? */
    uint32_t slot;              /* our client slot */
    uint32_t token;             /* our lock-owner token (lock.h) */
    uint32_t pid;               /* our pid at attach (registry.c) */
    uint64_t pidns;             /* our pid namespace's inode (registry.c) */
    char *base;                 /* where the segment is mapped in this process */
    size_t size;                /* mapped length (the file size) */
    unsigned pkru_writers;      /* foreign PKRU writers found at attach */
    int64_t wait_ns;            /* how long a call waits on locks of live owners before
                                   SHMC_BUSY (lock.h); < 0: for ever */
    uint32_t nclasses;          /* classes in use, as validated at attach (bounds.h) */
    uint64_t file_dev;          /* st_dev of the segment file when it was attached */
    uint64_t file_ino;          /* st_ino of that file (shmc_segment_identity) */
    const owner_ops *owners;    /* liveness and repair, for the layers below (registry.c) */
    seg_header *hdr;            /* == base */
    slab_class *classes;        /* indexed by class id (entry 0 unused) */
    seg_stripe *stripes;        /* SEG_NSTRIPES stripes, a line each */
    client_slot *slots;         /* max_clients slots */
    seg_event_ring *events;     /* the event ring (events.h) */
    uint8_t *pagemap;           /* class id of each page, 0 = unassigned */
    ref_t *buckets;             /* the hash index */
    /* the segment's geometry as validated at attach, for the checks of
     * bounds.h: here, behind the key, no write to the segment changes it */
    uint64_t pages_lo;          /* offset of the first slab page */
    uint64_t pages_hi;          /* offset just past the last slab page */
    uint32_t walk_max;          /* most chunks the pages can hold: no list is longer */
    uint32_t bucket_mask;       /* max_buckets - 1: no bucket index is larger */
    uint32_t chunk_magic[SEG_MAX_CLASSES + 1]; /* per class, ceil(2^34 / (size / 8)): tells a
                                                  chunk's start without a division (bounds.h) */
} __attribute__((aligned(64)));

/* Pointer to the item a ref names (ref must not be 0). */
static inline item_t *seg_item(const shmc_cache *c, ref_t r)
{
    return (item_t *)(c->base + ((size_t)r << 3));
}

/* Ref of an item pointer inside the segment. */
static inline ref_t seg_ref(const shmc_cache *c, const void *p)
{
    return (ref_t)(((const char *)p - c->base) >> 3);
}

/* First byte of page number pg. */
static inline char *seg_page(const shmc_cache *c, uint32_t pg)
{
    return c->base + c->hdr->off_pages + (size_t)pg * c->hdr->page_size;
}

/* Page number holding the chunk r. */
static inline uint32_t seg_page_of(const shmc_cache *c, ref_t r)
{
    return (uint32_t)((((size_t)r << 3) - c->hdr->off_pages) / c->hdr->page_size);
}

/* The stripe of a key with this hash: its lock guards every bucket the
 * key can be in (hash.h), and it makes the key's CAS values (cas.h). */
static inline seg_stripe *seg_stripe_of(const shmc_cache *c, uint32_t hash)
{
    return &c->stripes[hash & (SEG_NSTRIPES - 1)];
}

/* The LRU list of a linked item and the shard that holds a chunk
 * (layout.h: item_t.place). */
static inline unsigned item_lru(const item_t *it) { return PLACE_LRU(it->place); }
static inline unsigned item_shard(const item_t *it)
{
    return PLACE_SHARD(__atomic_load_n(&it->place, __ATOMIC_RELAXED));
}

/* The shard a counter lane works in: lanes of one process, and the first
 * lanes of different processes, take different shards in turn. */
static inline unsigned lane_shard(const shmc_cache *c, const seg_counters *n)
{
    size_t lane = (size_t)(n - c->slots[c->slot].lanes);
    return (unsigned)((c->slot + lane) % SEG_SHARDS);
}

/* Total bytes of an item: header, key, value. */
static inline size_t item_total(size_t nkey, size_t nbytes)
{
    return sizeof(item_t) + nkey + nbytes;
}

static inline const char *item_key(const item_t *it) { return it->data; }
static inline char *item_value(item_t *it) { return it->data + it->nkey; }

/* Atomic accessors for fields that are read without their lock. */
static inline uint32_t item_state(const item_t *it)
{
    return __atomic_load_n(&it->state, __ATOMIC_ACQUIRE);
}
static inline void item_set_state(item_t *it, uint32_t w)
{
    __atomic_store_n(&it->state, w, __ATOMIC_RELEASE);
}

/* Make a chunk this client's (CHUNK_ALLOC) before its header, key or
 * value is written: the fence keeps those writes after the state change,
 * which a reader without the stripe lock checks after its copy (items.c:
 * item_get_unlocked). */
static inline void item_set_alloc(item_t *it, uint32_t slot)
{
    item_set_state(it, STATE_MAKE(CHUNK_ALLOC, slot));
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Count one event on a client's counter lane (relaxed: counters order
 * nothing; the lane comes from gate_enter()). */
#define COUNT(lane, field) ((void)__atomic_fetch_add(&(lane)->field, 1, __ATOMIC_RELAXED))

#endif /* SHMC_CACHE_H */
