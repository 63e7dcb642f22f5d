/*
 * layout.h - the format of a shmcached segment: every structure that lives
 * in shared memory, and nothing else.
 *
 * A segment file is laid out as
 *
 *   [seg_header][slab_class x MAX_CLASSES][stripes][client slots][event ring]
 *   [page map][hash buckets (reserved for the most items, sparse)][pages]
 *
 * Every reference inside the segment is a ref_t: the byte offset from the
 * start of the segment divided by 8 (items are 8-byte aligned), so a 32-bit
 * ref addresses 32 GiB and every process may map the segment anywhere.
 * Raw pointers are made from refs only inside the library (seg_ptr()).
 *
 * Crash safety rests on one rule (docs/design.md): the state word of each
 * chunk (item_t.state) is the single source of truth about what the chunk
 * is - FREE, ALLOCATED to a client slot, or LINKED into the cache - and it
 * only changes by one store while holding the locks that protect the
 * structures it implies.  The hash chains, LRU lists, free lists and
 * counters are all derivable from the states, so the next process to take
 * a lock whose owner died rebuilds them from the states (recovery.c).
 */
#ifndef SHMC_LAYOUT_H
#define SHMC_LAYOUT_H

#include <stdint.h>

#define SEG_MAGIC "SHMCACHD"            /* first 8 bytes of every segment */
#define SEG_FORMAT_VERSION 7u           /* bumped on any layout change (2: sharded classes;
                                           3: CAS values made per stripe; 4: liveness by
                                           pid and start time; 5: a lock word's reader
                                           bit, lock.h; 6: a page per class past the
                                           limit, seg_header.limit_pages; the TEMP
                                           LRU; the event ring, events.h; 7: a
                                           chained value's last data chunk of the
                                           class that fits it, value.h;
                                           seg_header.automove_at,
                                           slab_class.evicting) */

#define SEG_PAGE_SIZE (1u << 20)        /* slab page size: 1 MiB, as memcached's */
#define SEG_ITEM_SIZE_MAX (128u << 20)  /* largest item_size_max accepted */
#define SEG_STRIPE_BITS 10u
#define SEG_NSTRIPES (1u << SEG_STRIPE_BITS) /* hash lock stripes */
#define SEG_MAX_CLASSES 63u             /* slab class ids are 1..63; 0 means "no class" */
#define SEG_LRU_HOT 0
#define SEG_LRU_WARM 1
#define SEG_LRU_COLD 2
#define SEG_LRU_TEMP 3                  /* short-TTL items (seg_header.temp_ttl): never moved */
#define SEG_NLRU 4
#define SEG_LANES 8                     /* per-slot counter lanes, one per thread group */
#define SEG_SHARDS 4                    /* shards per slab class; a power of two, at most 64 */

typedef uint32_t ref_t;                 /* segment offset / 8; 0 is the null ref */

/* A process-shared lock whose word names its owner (lock.c): 0 when free,
 * else the owner's token (client slot and slot generation) with bit 31 set
 * when someone sleeps on it.  kind/id tell the repair code which structure
 * the lock guards, so a dead owner's lock can be repaired generically.
 * 12 bytes, so that a lock can share its cache line with the fields it
 * guards (slab_shard); seg_lock_line gives a lock a line of its own. */
typedef struct seg_lock {
    uint32_t word;                      /* 0, or owner token | LOCK_WAITERS */
    uint32_t kind;                      /* LOCK_STRIPE, LOCK_SHARD, LOCK_POOL, LOCK_GROW */
    uint32_t id;                        /* stripe number; class id | shard << 8 */
} seg_lock;

/* A lock alone on its cache line (the pool and grow locks). */
typedef struct seg_lock_line {
    seg_lock l;
    uint32_t pad[13];
} __attribute__((aligned(64))) seg_lock_line;

/* One hash stripe: its lock and the CAS sequence of its keys (cas.h),
 * on a line of their own, so a write takes one line it already holds. */
typedef struct seg_stripe {
    seg_lock l;                 /* guards the stripe's buckets and the items in them */
    uint32_t pad;
    uint64_t cas_tick;          /* tick of the last CAS made for a key of the stripe (cas.h) */
} __attribute__((aligned(64))) seg_stripe;

/* Chunk states (low 8 bits of item_t.state); the high 24 bits hold the
 * owning client slot for CHUNK_ALLOC, and for CHUNK_LINKED a generation
 * that differs between a chunk's successive publications (low bits of a
 * fresh CAS tick), which lets a reader without the stripe lock tell that
 * the chunk was reused while it copied (items.c: item_get_unlocked). */
enum chunk_state {
    CHUNK_FREE = 0,     /* on its shard's free list (or about to be) */
    CHUNK_ALLOC = 1,    /* owned by a client slot; in no list or chain */
    CHUNK_LINKED = 2,   /* in the hash index and in one LRU list; key and value fixed */
    CHUNK_DATA = 3,     /* holds part of a chained value; h_next is its head (value.h) */
};
#define STATE_MAKE(st, slot) ((uint32_t)(st) | ((uint32_t)(slot) << 8))
#define STATE_KIND(w) ((w) & 0xffu)
#define STATE_SLOT(w) ((w) >> 8)

/* Item flags (item_t.iflags), changed with atomic byte operations because a
 * get sets them under a stripe lock while the LRU code clears them under a
 * shard lock. */
#define IFLAG_FETCHED 0x01u  /* read at least once since stored */
#define IFLAG_ACTIVE 0x02u   /* read since last LRU move */
#define IFLAG_CHAINED 0x04u  /* value continues in data chunks (value.h); set at allocation */
#define IFLAG_STALE 0x08u    /* invalidated: still served, marked stale (meta X) */
#define IFLAG_TOKEN 0x10u    /* the recache token was handed out (meta W, then Z) */

/* An item: this 48-byte header, then the key, then the value. */
typedef struct item_t {
    ref_t h_next;       /* next item in the same hash bucket; a data chunk's head */
    ref_t next;         /* next in LRU list (toward tail) or free list */
    ref_t prev;         /* previous in LRU list or free list */
    uint32_t exptime;   /* expiry, segment-relative seconds; 0 = never */
    uint32_t atime;     /* last access, segment-relative seconds */
    uint32_t flags;     /* client flags, opaque to us */
    uint64_t cas;       /* CAS unique; also orders duplicates in recovery */
    uint32_t hash;      /* hash of the key (32 bits of XXH3) */
    uint32_t nbytes;    /* value length */
    uint8_t nkey;       /* key length, 1..250 */
    uint8_t clsid;      /* slab class of the chunk */
    uint8_t place;      /* PLACE_MAKE(LRU list while linked, shard): see below */
    uint8_t iflags;     /* IFLAG_* */
    uint32_t state;     /* chunk_state | owner slot << 8: the commit point */
    char data[];        /* key bytes, then value bytes */
} item_t;

_Static_assert(sizeof(item_t) == 48, "item header must stay 48 bytes");

/* item_t.place: the LRU list in bits 0-1 and, in bits 2-7, the shard of
 * the class whose free list or LRU holds the chunk (or will, for a chunk
 * a client holds: recovery frees a dead client's chunk into it).  The
 * shard part changes only while the chunk is CHUNK_ALLOC, after that
 * state was stored (slabs.c: renaming). */
#define PLACE_MAKE(lru, shard) ((uint8_t)((lru) | ((shard) << 2)))
#define PLACE_LRU(p) ((unsigned)(p) & 3u)
#define PLACE_SHARD(p) (((unsigned)(p) >> 2) & (SEG_SHARDS - 1)) /* in range even if corrupt */

/*
 * One shard of a slab class: a free list and HOT/WARM/COLD/TEMP lists of
 * the class's chunks, guarded by its own lock.  A thread allocates from,
 * links into and frees into the shard of its lane (slabs.h), so two
 * threads that update different keys write different cache lines.  The
 * lock, the free list and the lists share the first cache line; the two
 * counts an update also writes and the statistics written only by
 * eviction and balancing are on the second.
 */
typedef struct slab_shard {
    seg_lock lock;              /* guards every field below and the states of the chunks it names */
    ref_t free_head;            /* free list, doubly linked through next/prev */
    ref_t head[SEG_NLRU];       /* most recently used end of each LRU */
    ref_t tail[SEG_NLRU];       /* least recently used end of each LRU */
    uint32_t lru_count[SEG_NLRU]; /* items in each LRU; their sum is the shard's items */
    /* second cache line: the counts, then what eviction and balancing write */
    uint32_t free_count __attribute__((aligned(64))); /* chunks on the free list */
    uint64_t bytes;             /* sum of header+key+value of linked items */
    uint64_t evictions;         /* live items evicted */
    uint64_t evicted_unfetched; /* evicted without ever being read */
    uint64_t reclaimed;         /* expired items whose chunk was reused */
    uint64_t expired_unfetched; /* expired without ever being read */
    uint64_t alloc_fails;       /* allocations that found no memory (memcached's outofmemory) */
    uint32_t tail_atime;        /* atime of the last COLD tail seen (age stat) */
} __attribute__((aligned(64))) slab_shard;

_Static_assert(sizeof(slab_shard) == 128, "a shard is two cache lines");

/* One slab class: chunks of one size, cut from the pages the page map
 * gives it, held in SEG_SHARDS shards.  size and perslab are fixed at
 * creation; pages changes under the pool lock, with the page map. */
typedef struct slab_class {
    uint32_t size;              /* chunk size in bytes (multiple of 8) */
    uint32_t perslab;           /* chunks per page */
    uint32_t pages;             /* pages owned now (pool lock) */
    uint32_t pad;
    uint64_t evicting;          /* automove's window (slabs.c): the second of bit 0 << 32 |
                                   a bit for each of the 32 seconds before it in which
                                   the class evicted; no lock (a hint) */
    slab_shard shards[SEG_SHARDS] __attribute__((aligned(64)));
} __attribute__((aligned(64))) slab_class;

/* Event counters kept per client slot and lane (so threads do not share
 * cache lines), summed for statistics. */
typedef struct seg_counters {
    uint64_t get_hits, get_misses;      /* get/gets (memcached's cmd_get adds gat_*) */
    uint64_t get_expired, get_flushed;  /* misses because the item expired / was flushed */
    uint64_t gat_hits, gat_misses;      /* gat/gats: a get and a touch in memcached's stats */
    uint64_t touch_hits, touch_misses;  /* touch only */
    uint64_t cmd_set, cmd_flush, total_items;
    uint64_t delete_hits, delete_misses;
    uint64_t incr_hits, incr_misses, decr_hits, decr_misses;
    uint64_t cas_hits, cas_misses, cas_badval;
    uint64_t calls;                     /* calls through this lane: paces maintenance */
} __attribute__((aligned(64))) seg_counters;

#define SEG_NCOUNTERS (sizeof(seg_counters) / sizeof(uint64_t))

/* Slot states: the low byte of client_slot.owner. */
enum slot_state {
    SLOT_FREE = 0,      /* nobody: owner is 0 */
    SLOT_CLAIMING = 1,  /* a live client is taking the slot (and reaping what it held) */
    SLOT_ACTIVE = 2,    /* attached */
};
#define SLOT_OWNER(pid, st) ((uint64_t)(uint32_t)(pid) << 32 | (uint64_t)(st))
#define SLOT_STATE(o) ((unsigned)((o) & 0xffu))
#define SLOT_PID(o) ((uint32_t)((o) >> 32))

/* One attached process.  Ownership is the owner word, taken by one
 * compare-and-swap; the owner is alive while a process with its pid and
 * start time exists and is not a zombie (registry.c).  The word lives
 * behind the protection key, so no client can forge another's liveness,
 * and a fork child, with its own pid, never keeps its parent "alive". */
typedef struct client_slot {
    uint64_t owner;             /* SLOT_OWNER(pid, SLOT_*), 0 when free */
    uint64_t start_time;        /* owner's start: /proc/PID/stat field 22, clock ticks; 0 unknown */
    uint64_t pidns;             /* inode of the owner's pid namespace; 0 unknown */
    uint32_t generation;        /* claims of this slot so far; part of lock tokens */
    uint32_t watching;          /* this client's open watches (events.h); while not 0 the
                                   slot counts once in seg_header.watchers */
    uint64_t attached_at;       /* Unix time of attach */
    seg_counters lanes[SEG_LANES]; /* this client's event counters */
} client_slot;

/*
 * The event ring (events.h): what clients did, written by every process
 * while someone watches.  A writer claims position pos by a fetch-add on
 * head and writes slot pos % SEG_EVENTS: seq = 2*pos+1 (being written),
 * the body and its checksum, then seq = 2*pos+2 (published).  A reader
 * trusts a body only if seq was 2*pos+2 before and after its copy and the
 * checksum matches; a writer that died mid-write leaves an odd seq, which
 * readers skip and the next lap overwrites.
 */
#define SEG_EVENTS 1024u                /* slots in the ring (a power of two) */

/* What an event says (its body: the part the checksum covers). */
typedef struct seg_event_body {
    uint64_t ticks;             /* when: clock_ticks (2^-20 s since the epoch) */
    uint32_t client;            /* client slot of the process that did it */
    uint32_t pid;               /* that process */
    int32_t ttl;                /* seconds to live after it; -1 never expires */
    uint32_t nbytes;            /* value length */
    uint32_t atime;             /* evictions: last access, segment-relative seconds */
    uint8_t kind;               /* SHMC_EV_* (include/shmcached.h) */
    uint8_t status;             /* the call's shmc_status */
    uint8_t op;                 /* the store mode; incr 1 / decr 0; a get's touch 1 */
    uint8_t clsid;              /* slab class of the item (0: none) */
    uint8_t nkey;               /* key length, 1..SHMC_KEY_MAX */
    uint8_t fetched;            /* evictions: the item had been read */
    uint8_t pad[2];
    char key[250];              /* nkey bytes of key (SHMC_KEY_MAX) */
} seg_event_body;

/* One slot of the ring. */
typedef struct seg_event {
    uint64_t seq;               /* 2*pos+1 being written, 2*pos+2 published; 0 never */
    uint32_t check;             /* checksum of the body's first bytes up to its key's end */
    uint32_t pad;
    seg_event_body b;           /* the event */
} __attribute__((aligned(64))) seg_event;

_Static_assert(sizeof(seg_event) == 320, "an event slot is five cache lines");

typedef struct seg_event_ring {
    uint64_t head __attribute__((aligned(64))); /* positions claimed so far (fetch-add) */
    seg_event ev[SEG_EVENTS];   /* slot pos % SEG_EVENTS holds position pos */
} seg_event_ring;

/* The header at offset 0. */
typedef struct seg_header {
    char magic[8];              /* SEG_MAGIC */
    uint32_t version;           /* SEG_FORMAT_VERSION */
    uint32_t header_size;       /* sizeof(seg_header), a second format check */
    uint64_t file_size;         /* the segment file's size in bytes */
    uint32_t init_done;         /* 1 once creation finished; else the file is unusable */
    uint32_t page_size;         /* slab page size in bytes */

    /* creation parameters (shmc_config) */
    uint64_t mem_bytes;
    uint32_t item_size_max;
    uint32_t chunk_size_min;
    double growth_factor;
    uint32_t no_evict;
    uint32_t hash_power;
    uint32_t max_clients;
    uint32_t hot_lru_pct;
    uint32_t warm_lru_pct;
    uint32_t slab_automove;
    uint32_t mode;
    uint32_t group;

    /* where things are (byte offsets from the start of the segment) */
    uint64_t off_classes, off_stripes, off_slots, off_events, off_pagemap, off_buckets,
        off_pages;
    uint32_t npages;            /* slab pages in the segment */
    uint32_t nclasses;          /* classes in use, ids 1..nclasses */
    uint64_t max_buckets;       /* buckets reserved for the index (power of two) */

    /* the clock: segment-relative seconds are Unix time - epoch */
    int64_t epoch;              /* Unix time of relative second 0 */
    int64_t created;            /* Unix time of creation */
    int64_t clock_offset;       /* test hook: seconds added to real time */

    /* flush_all */
    uint32_t flush_time;        /* items with atime <= this are dead once now >= it; 0 none */
    uint32_t automove_at;       /* second of the last automatic page move (slabs.c) */
    uint64_t flush_cas;         /* items with cas <= this are dead (flush_all now) */

    /* the index: linear hashing; buckets = (1<<hash_power << level) + split */
    uint64_t hash_word;         /* level << 32 | split, one atomic store per split */

    uint32_t page_hint;         /* where to start looking for a free page */
    uint32_t stale;             /* 1 once the segment was destroyed or replaced: every call
                                   then answers SHMC_STALE (on hash_word's cache line, which
                                   every call reads anyway) */
    uint32_t watchers;          /* clients watching events now (events.h): calls write
                                   events only while it is not 0 (same line as stale) */
    uint32_t limit_pages;       /* pages the classes may hold (mem_bytes, or cache_memlimit's);
                                   a class with none takes its first past it, as memcached's
                                   -m: npages has one more page per class for that (pool lock) */
    uint32_t temp_ttl;          /* 0, or items stored with a TTL up to this many seconds go to
                                   the TEMP LRU (memcached's temporary_ttl; shmc_set_temp_lru) */
    uint32_t shrink_to;         /* 0, or the pages the classes shrink to after the limit was
                                   lowered (slabs_set_limit: what they held less the drop),
                                   so that first pages past the limit are not taken (pool lock) */

    /* counters of the whole segment */
    uint64_t slabs_moved;
    uint64_t clients_recovered;
    uint64_t locks_repaired;
    seg_counters retired;       /* counters of clients that left or died */

    seg_lock_line pool_lock;    /* guards page_hint, limit_pages, page map entries and class page counts */
    seg_lock_line grow_lock;    /* one index split at a time */
} seg_header;

#endif /* SHMC_LAYOUT_H */
