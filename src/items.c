/*
 * items.c - memcached's commands: get, store (set/add/replace/append/
 * prepend/cas), delete, incr/decr, touch, flush_all.
 *
 * Owns: the item life cycle.  A command takes the key's stripe lock, finds
 * the item in the index (hash.c), and, to change it, allocates a new chunk
 * (slabs.c), fills it while it is private (CHUNK_ALLOC), and publishes it:
 * under the lock of the caller's shard of its class it enters the LRU
 * (lru.c) and its state becomes CHUNK_LINKED (the commit point), then one
 * store puts it in the chain in place of the old item, which is then
 * freed into the caller's shard (item_retire).  A value is never changed in
 * place, so no reader and no crash can see a torn value.  A plain get
 * takes no lock at all unless it must (item_get_unlocked): it copies, then
 * checks that the chunk still holds the same publication.
 */
#include "items.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "cas.h"
#include "clock.h"
#include "crashpoint.h"
#include "fmt.h"
#include "hash.h"
#include "lock.h"
#include "lru.h"
#include "registry.h"
#include "slabs.h"
#include "value.h"
#include "mem.h"
#include "sys.h"

/*
 * Take a linked item that has left its chain out of its LRU (shard sh,
 * whose lock is held) and free its chunk into shard dst of its class
 * (held too: sh itself, or another of the class, so that the chunk goes
 * from one LRU to the other free list in one step).  A publish passes its
 * own lane's shard, so the chunk a lane frees is the next it allocates,
 * still in its CPU's cache.  ts is the lock of its chained value's tail,
 * held too (value_tail_shard; NULL if none).  unlinked and freed name the
 * crash points of the caller's command (freed may be NULL).
 */
static void item_retire(shmc_cache *c, item_t *it, slab_shard *sh, slab_shard *dst,
                        slab_shard *ts, const char *unlinked, const char *freed)
{
    if (STATE_KIND(item_state(it)) == CHUNK_LINKED) { /* a repair may have run */
        lru_unlink(c, sh, it);
        CRASH_POINT(unlinked);
        slabs_free_locked(c, dst, it);
        if (freed)
            CRASH_POINT(freed);
        value_free_chunks(c, dst, ts, it); /* chained values: sh == dst, shard 0 */
    }
    (void)unlinked;
    (void)freed;
}

/* Remove a linked item from the index, its LRU and free it into its own
 * shard (stripe held).  false, having changed nothing, if a live client
 * holds its shard's lock past the call's bound (lock.h), or if its class
 * id is damaged (recorded: bounds.h). */
static bool item_unlink(shmc_cache *c, item_t *it)
{
    if (!bounds_clsid(c, it->clsid)) /* checked when found; written since through a damaged link */
        return bounds_fail("item_t.clsid");
    slab_shard *sh = slabs_shard_of(c, it); /* stays its shard while we hold the stripe */
    slab_shard *ts = value_tail_shard(c, it);   /* so does its tail's */
    if (!slabs_lock_pair(c, sh, ts ? ts : sh))
        return false;
    hash_remove(c, it);
    CRASH_POINT("unlink.unchained");
    /* a death past the free is a finished delete: no crash point there */
    item_retire(c, it, sh, sh, ts, "unlink.lru_unlinked", NULL);
    slabs_unlock_pair(sh, ts ? ts : sh);
    return true;
}

/* Start fetching the header, key and a small value's lines of a chain
 * item in parallel: one memory round trip instead of two. */
static inline void item_prefetch(const item_t *it)
{
    __builtin_prefetch((const char *)it + 64);
    __builtin_prefetch((const char *)it + 128);
}

/* Whether it holds this key (of this hash); its key bytes are read only
 * if they lie in the pages. */
static inline bool item_has_key(const shmc_cache *c, const item_t *it, const void *key,
                                size_t nkey, uint32_t hash)
{
    return it->hash == hash && it->nkey == nkey && bounds_span(c, it->data, nkey) &&
           mem_equal(it->data, key, nkey);
}

/*
 * The live item with this key (stripe lock held), or NULL.  Expired and
 * flushed items met on the way are unlinked; *why says why the key was
 * missing when it was found dead.  One that cannot be unlinked within the
 * call's bound stays, dead, in its chain (*stuck is set, if not NULL): a
 * miss all the same, but no place for a new item of the key.
 */
static item_t *item_find(shmc_cache *c, const void *key, size_t nkey, uint32_t hash,
                         uint32_t now, enum item_liveness *why, bool *stuck)
{
    *why = ITEM_LIVE;
    ref_t r = hash_head(c, hash);
    bounds_walk w;
    bounds_walk_init(&w, c);
    while (r) {
        if (!bounds_follow(c, &w, r)) {
            bounds_fail("item_t.h_next (hash chain)");
            return NULL; /* a damaged chain ends here: the call answers SHMC_CORRUPT */
        }
        item_t *it = seg_item(c, r);
        item_prefetch(it);
        r = it->h_next;
        if (!item_has_key(c, it, key, nkey, hash))
            continue;
        if (!bounds_item(c, it))
            return NULL;
        if (STATE_KIND(item_state(it)) != CHUNK_LINKED) { /* a chain holds linked items only */
            bounds_fail("item_t.state (hash chain)");
            return NULL;
        }
        enum item_liveness l = clock_liveness(c, it, now);
        if (l == ITEM_LIVE)
            return it;
        *why = l;
        if (!item_unlink(c, it) && stuck)
            *stuck = true;
    }
    return NULL;
}

#define IFLAGS_USED (IFLAG_ACTIVE | IFLAG_FETCHED)

/* Whether marking the item used now would change it. */
static bool item_bump_due(const item_t *it, uint32_t now)
{
    return __atomic_load_n(&it->atime, __ATOMIC_RELAXED) != now ||
           (__atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAGS_USED) != IFLAGS_USED;
}

/* Mark an item used now: atime and the ACTIVE/FETCHED bits (its stripe
 * lock held, so that the chunk cannot be reused meanwhile). */
static void item_bump(item_t *it, uint32_t now)
{
    if (it->atime != now)
        it->atime = now;
    if ((__atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAGS_USED) != IFLAGS_USED)
        __atomic_fetch_or(&it->iflags, IFLAGS_USED, __ATOMIC_RELAXED);
}

/* What a read reports about a live item (stripe lock held, before it is
 * bumped). */
static inline __attribute__((always_inline)) void item_report(const item_t *it, uint32_t now,
                                                              shmc_item_info *info)
{
    info->flags = it->flags;
    info->cas = it->cas;
    info->len = it->nbytes;
    info->ttl = it->exptime ? (int64_t)it->exptime - (int64_t)now : -1;
    info->last_access = now > it->atime ? now - it->atime : 0;
    info->fetched = (__atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAG_FETCHED) != 0;
    info->class_id = it->clsid;
    info->stale = (__atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAG_STALE) != 0;
    info->win = 0;
}

/* The recache token (stripe lock held): a stale item, or one whose TTL is
 * below recache_below, gives it to its first reader; once given, later
 * readers learn that someone holds it. */
static void item_recache_token(item_t *it, int64_t recache_below, shmc_item_info *info)
{
    bool due = info->stale || (recache_below > 0 && info->ttl >= 0 && info->ttl < recache_below);
    bool given = __atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAG_TOKEN;
    if (due && !given) {
        __atomic_fetch_or(&it->iflags, (uint8_t)IFLAG_TOKEN, __ATOMIC_RELAXED);
        info->win = 1;
    } else if (given) {
        info->win = -1;
    }
}

/* A new private chunk for key + vlen bytes from the shard of lane n,
 * header filled; NULL with *st.  One try: item_alloc retries it. */
static item_t *item_alloc_once(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                               uint32_t hash, size_t vlen, uint32_t flags, uint32_t exptime,
                               uint32_t now, shmc_status *st)
{
    if (item_total(nkey, vlen) > c->hdr->item_size_max) {
        *st = SHMC_TOO_LARGE;
        return NULL;
    }
    uint32_t extra = value_extra_chunks(c, nkey, vlen);
    unsigned clsid = extra ? c->hdr->nclasses : slabs_clsid(c, item_total(nkey, vlen));
    item_t *it = slabs_alloc(c, clsid, lane_shard(c, n));
    if (!it) {
        *st = lock_call_timed_out() ? SHMC_BUSY : SHMC_NO_MEMORY;
        return NULL;
    }
    CRASH_POINT("item.alloc");
    it->h_next = it->next = it->prev = 0;
    it->exptime = exptime;
    it->atime = now;
    it->flags = flags;
    it->cas = 0;
    it->hash = hash;
    it->nbytes = (uint32_t)vlen;
    it->nkey = (uint8_t)nkey;
    it->iflags = extra ? IFLAG_CHAINED : 0;
    mem_copy(it->data, key, nkey);
    if (extra && !value_alloc_chunks(c, it, lane_shard(c, n))) {
        slabs_release(c, it);
        *st = lock_call_timed_out() ? SHMC_BUSY : SHMC_NO_MEMORY;
        return NULL;
    }
    CRASH_POINT("item.chunks_taken");
    return it;
}

#define ALLOC_WAITS 20          /* pauses a store makes for memory other stores hold */
#define ALLOC_WAIT_NS 250000L   /* each: a few 1 MB copies */

/*
 * item_alloc_once, and again after a pause while memory is short and
 * eviction is on.  Then nothing of the class could be evicted or moved:
 * its chunks are held by stores in flight (with 4 writers of values up
 * to 1 MB in 8 MiB, 40% of stores found every chunk of the largest class
 * taken that way, and memcached refuses them too).  Those stores link
 * their items within microseconds, and linked items can be evicted: so a
 * store waits for them, ALLOC_WAITS pauses at most, instead of refusing.
 * With -M (no eviction) a full cache answers at once.
 */
static item_t *item_alloc(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                          uint32_t hash, size_t vlen, uint32_t flags, uint32_t exptime,
                          uint32_t now, shmc_status *st)
{
    for (unsigned w = 0;; w++) {
        item_t *it = item_alloc_once(c, n, key, nkey, hash, vlen, flags, exptime, now, st);
        if (it || *st != SHMC_NO_MEMORY || c->hdr->no_evict || w == ALLOC_WAITS)
            return it;
        struct timespec pause = {0, ALLOC_WAIT_NS};
        sys_call3(SYS_nanosleep, (long)&pause, 0, 0);
    }
}

/* Take old's shard lock osh (NULL: none) and a free shard lock of it's
 * class, home first, without waiting while holding one; true with the
 * latter in *in. */
static bool publish_lock_any(shmc_cache *c, item_t *it, slab_shard *home, slab_shard *osh,
                             slab_shard **in)
{
    if (osh && !lock_wait(c, &osh->lock))
        return false;
    slab_shard *o = NULL;
    if (lock_try(c, &home->lock)) /* fails on osh, which we hold: then osh serves */
        o = home;
    else if (osh && slabs_shard_clsid(c, osh) == it->clsid)
        o = osh;
    else
        o = slabs_try_other(c, it->clsid, slabs_shard_no(c, home));
    if (o) {
        *in = o;
        return true;
    }
    if (osh)
        lock_drop(&osh->lock);
    return false;
}

/*
 * Take the shard locks a publication of it in place of old needs (stripe
 * held): *in, the shard it enters (the lane's home shard of its class,
 * or if that is busy any other of the class that is free), *out, the
 * one old leaves (its own: NULL without old), and ts, old's tail's
 * (value_tail_shard; NULL if none).  Two or three are waited for only in
 * address order (slabs.h).  false, holding none, if a live client holds
 * one past the call's bound (lock.h), or old's class id is damaged.
 */
static bool publish_lock(shmc_cache *c, item_t *it, item_t *old, slab_shard *ts, unsigned home,
                         slab_shard **in, slab_shard **out)
{
    if (old && !bounds_clsid(c, old->clsid)) /* as item_unlink */
        return bounds_fail("item_t.clsid");
    slab_shard *sh = slabs_shard(c, it->clsid, slabs_home(c, it->clsid, home));
    slab_shard *osh = old ? slabs_shard_of(c, old) : NULL;
    *in = sh;
    *out = osh;
    if (ts) /* old is a large value with a tail: rare enough to wait in order */
        return slabs_lock_set(c, (slab_shard *[]){sh, osh, ts}, 3);
    if (lock_try(c, &sh->lock)) { /* the common case: home is free */
        if (!osh || osh == sh || lock_try(c, &osh->lock))
            return true;
        lock_drop(&sh->lock);
    }
    return publish_lock_any(c, it, sh, osh, in) || slabs_lock_pair(c, sh, osh ? osh : sh);
}

/*
 * Publish a filled private item in place of old (or as new if old is
 * NULL); stripe lock held.  It enters the LRU of lane n's shard; old
 * leaves its own shard's.  Returns true with its new CAS in *cas; false,
 * having changed nothing (it is still private), if a shard lock is held
 * by a live client past the call's bound, or if its class id was spoiled
 * meanwhile (the damage recorded: bounds.h).
 */
static bool item_publish(shmc_cache *c, seg_counters *n, item_t *it, item_t *old, uint64_t *cas)
{
    if (!bounds_clsid(c, it->clsid)) /* ours; a write through a damaged link may have hit it */
        return bounds_fail("item_t.clsid");
    if (old) { /* unlinking old touches its LRU neighbours: start those reads now */
        ref_t p = __atomic_load_n(&old->prev, __ATOMIC_RELAXED);
        ref_t nx = __atomic_load_n(&old->next, __ATOMIC_RELAXED);
        if (p)
            __builtin_prefetch(seg_item(c, p), 1);
        if (nx)
            __builtin_prefetch(seg_item(c, nx), 1);
    }
    slab_shard *sh = NULL, *osh = NULL;
    slab_shard *ts = old ? value_tail_shard(c, old) : NULL; /* stripe held: stays */
    if (!publish_lock(c, it, old, ts, lane_shard(c, n), &sh, &osh))
        return false;
    uint64_t fresh = cas_make(c, it->hash); /* also names this publication */
    if (it->cas) /* an explicit CAS (meta E): keep generated ones above it */
        cas_keep_above(c, it->hash, it->cas);
    else
        it->cas = fresh;
    lru_link(c, sh, it); /* it is ours (ALLOC): it takes sh's name */
    CRASH_POINT("publish.lru_linked");
    if (value_is_chained(it)) {
        value_adopt_chunks(c, it); /* before the commit point: see value.h */
        CRASH_POINT("publish.adopted");
    }
    item_set_state(it, STATE_MAKE(CHUNK_LINKED, cas_generation(fresh))); /* the commit point */
    CRASH_POINT("publish.committed");
    if (old) {
        hash_replace(c, old, it);
        CRASH_POINT("publish.chained");
        /* old's chunk goes to the lane's shard if it is of the same class */
        item_retire(c, old, osh, old->clsid == it->clsid ? sh : osh, ts,
                    "publish.old_unlinked", "publish.old_freed");
        if (ts)
            slabs_unlock_set((slab_shard *[]){sh, osh, ts}, 3);
        else
            slabs_unlock_pair(sh, osh);
    } else {
        lock_drop(&sh->lock);
        hash_insert(c, it);
    }
    COUNT(n, total_items);
    *cas = it->cas;
    return true;
}

/* Whether ref r names a chunk whose header and nkey key bytes lie inside
 * the slab pages: a reader without the lock may follow a ref that
 * changed under it. */
static bool item_ref_in_pages(const shmc_cache *c, ref_t r, size_t nkey)
{
    size_t off = (size_t)r << 3;
    return off >= c->hdr->off_pages && off + sizeof(item_t) + nkey <= c->size;
}

/*
 * The unlocked read of it, a linked item of this key whose state word st
 * and CAS were read before its key was compared: the value copied into
 * out, then the publication checked unchanged (item_get_unlocked says
 * why that suffices), the item marked used if due.  false, out->buf
 * perhaps written, where the locked path must decide.
 */
static inline __attribute__((always_inline)) bool
item_read_unlocked(shmc_cache *c, item_t *it, uint32_t st, uint64_t cas, size_t nkey,
                   uint32_t hash, uint32_t now, item_out *out)
{
    uint32_t nbytes = it->nbytes;
    const uint8_t refuse = IFLAG_CHAINED | IFLAG_STALE | IFLAG_TOKEN;
    if ((__atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & refuse) ||
        (!out->no_value && nbytes > out->cap) ||
        (size_t)(it->data - c->base) + nkey + nbytes > c->size ||
        clock_liveness(c, it, now) != ITEM_LIVE)
        return false;
    item_report(it, now, &out->info);
    if (!out->no_value && nbytes)
        mem_copy(out->buf, it->data + nkey, nbytes);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&it->state, __ATOMIC_RELAXED) != st ||
        __atomic_load_n(&it->cas, __ATOMIC_RELAXED) != cas)
        return false;
    out->info.len = nbytes; /* as copied, whatever item_report read */
    out->info.cas = cas;
    if (!out->no_bump && item_bump_due(it, now)) {
        seg_lock *s = hash_stripe(c, hash);
        if (lock_wait(c, s)) { /* else its marks wait for the next read */
            if (item_state(it) == st && __atomic_load_n(&it->cas, __ATOMIC_RELAXED) == cas)
                item_bump(it, now); /* else replaced or deleted: no longer ours to mark */
            lock_drop(s);
        }
    }
    return true;
}

#define UNLOCKED_MAX_STEPS 16 /* chain links an unlocked read follows before it gives up */

/*
 * A get without the stripe lock, for the common case: a live item with a
 * contiguous value, copied into the caller's buffer.  It finds the item,
 * copies it, then checks that the chunk still holds the same publication:
 * the state word (CHUNK_LINKED and its generation, layout.h) and the CAS
 * unchanged.  That suffices because a chunk's key and value are written
 * only while it is not CHUNK_LINKED (items are never changed in place;
 * item_set_alloc orders those writes after the state change), and every
 * publication takes a new generation.  So two CPUs reading one hot key
 * share its lines instead of passing its stripe lock's line between them.
 *
 * Returns false, having changed nothing in the segment (out->buf may hold
 * a partial copy; include/shmcached.h allows it), whenever it cannot be
 * sure: a miss (a bucket split may hide an item for a moment), an expired
 * or flushed item (the locked path unlinks it), a chained value, a buffer
 * too small, a stale item or one whose recache token is out (the token is
 * handed out under the lock), or a chain that changed under it.  The
 * caller then takes the lock.  Marking the item used is a write, and the
 * chunk may be reused (even re-cut for another class by a page move) the
 * moment after the check: so when the item's access time or bits need a
 * change (once a second for a hot item), that is done under the stripe
 * lock, after checking the publication once more.
 */
static bool item_get_unlocked(shmc_cache *c, const void *key, size_t nkey, uint32_t hash,
                              uint32_t now, item_out *out)
{
    ref_t r = hash_head(c, hash);
    for (unsigned step = 0; r && step < UNLOCKED_MAX_STEPS; step++) {
        if (!item_ref_in_pages(c, r, nkey))
            return false;
        item_t *it = seg_item(c, r);
        item_prefetch(it);
        uint32_t st = item_state(it);
        uint64_t cas = __atomic_load_n(&it->cas, __ATOMIC_RELAXED);
        if (STATE_KIND(st) != CHUNK_LINKED)
            return false;
        if (!item_has_key(c, it, key, nkey, hash)) {
            r = __atomic_load_n(&it->h_next, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (__atomic_load_n(&it->state, __ATOMIC_RELAXED) != st)
                return false; /* h_next may be a free list's link now */
            continue;
        }
        return item_read_unlocked(c, it, st, cas, nkey, hash, now, out);
    }
    return false;
}

/* item_get_unlocked's read for a batch, of the one item r its stages
 * found of this hash (its lines fetched) instead of a walk from the
 * bucket.  The item was in the chain within this call, and it is checked
 * as a walk's item is, so what is read is what a walk would have read
 * then.  false as item_get_unlocked, and when the item is another key's
 * (the same hash): the caller then walks. */
static bool item_get_found(shmc_cache *c, const void *key, size_t nkey, uint32_t hash,
                           uint32_t now, item_out *out, ref_t r)
{
    if (!item_ref_in_pages(c, r, nkey))
        return false;
    item_t *it = seg_item(c, r);
    uint32_t st = item_state(it);
    uint64_t cas = __atomic_load_n(&it->cas, __ATOMIC_RELAXED);
    return STATE_KIND(st) == CHUNK_LINKED && item_has_key(c, it, key, nkey, hash) &&
           item_read_unlocked(c, it, st, cas, nkey, hash, now, out);
}

/* Start fetching the header of the item at r, if r lies in the pages (a
 * prefetch cannot fault, but the address must be sane).  Returns r, or 0
 * if not followed. */
static ref_t item_prefetch_header(const shmc_cache *c, ref_t r)
{
    if (!r || !item_ref_in_pages(c, r, 0))
        return 0;
    const char *it = (const char *)seg_item(c, r);
    __builtin_prefetch(it);
    __builtin_prefetch(it + sizeof(item_t) - 1);
    return r;
}

#define PREFETCH_BODY_MAX 256 /* key and value bytes fetched ahead; a copy streams the rest */

/* Start fetching the key and value lines of it (its header has arrived):
 * up to PREFETCH_BODY_MAX bytes, within the pages. */
static void item_prefetch_body(const shmc_cache *c, const item_t *it)
{
    size_t body = (size_t)__atomic_load_n(&it->nkey, __ATOMIC_RELAXED) +
                  __atomic_load_n(&it->nbytes, __ATOMIC_RELAXED);
    const char *p = (const char *)it->data;
    const char *end = p + (body < PREFETCH_BODY_MAX ? body : PREFETCH_BODY_MAX);
    if (end > (const char *)c->base + c->size)
        return;
    for (; p < end; p += 64)
        __builtin_prefetch(p);
    __builtin_prefetch(end - 1);
}

/* A batch's chain stage for request q, whose item header at q->at has
 * arrived: if the item is of q's hash, its key and value are fetched and
 * q->found set (the walk is done); else q->at moves to its successor,
 * whose header is fetched (0 if none).  Reads without the lock: hints
 * only, checked as item_get_unlocked checks. */
static void item_prefetch_next(const shmc_cache *c, item_req *q)
{
    const item_t *it = seg_item(c, q->at);
    if (__atomic_load_n(&it->hash, __ATOMIC_RELAXED) == q->hash) {
        item_prefetch_body(c, it);
        q->found = true;
        return;
    }
    q->at = item_prefetch_header(c, __atomic_load_n(&it->h_next, __ATOMIC_RELAXED));
}

/* A batch's read of request q: from the item its stages found, without
 * the lock, if that item holds the key; else as items_get_hashed reads.
 * A call of its own: inlined into the stage loops it cost a batch of
 * 4096 keys its gain (paired runs, bench/gate_pair.sh). */
static __attribute__((noinline)) void item_get_req(shmc_cache *c, seg_counters *n, item_req *q,
                                                  item_batch *b)
{
    uint32_t damage = bounds_hits();
    shmc_status st;
    if (q->found && q->out.recache_below <= 0 &&
        item_get_found(c, q->key, q->nkey, q->hash, b->now, &q->out, q->at)) {
        b->fast_hits++;
        st = SHMC_OK;
    } else {
        st = items_get_hashed(c, n, q->key, q->nkey, q->hash, false, 0, &q->out, b);
    }
    q->status = bounds_status(damage, st); /* damage met on the way: SHMC_CORRUPT */
}

#define GET_HOPS 3 /* chain items a batch fetches ahead of its reads */

/* The bucket slot of hash under growth word w (a hint: read without the
 * stripe lock, so the table may grow meanwhile; the read looks again). */
static const ref_t *item_bucket_hint(const shmc_cache *c, uint64_t w, uint32_t hash)
{
    return &c->buckets[hash_bucket_for(c, w, hash)];
}

void items_get_batch(shmc_cache *c, seg_counters *n, item_req *r, size_t m, item_batch *b)
{
    uint64_t w = hash_word(c);
    for (size_t i = 0; i < m; i++)
        if (r[i].asked)
            __builtin_prefetch(item_bucket_hint(c, w, r[i].hash));
    for (size_t i = 0; i < m; i++) {
        r[i].found = false;
        if (r[i].asked)
            r[i].at = item_prefetch_header(
                c, __atomic_load_n(item_bucket_hint(c, w, r[i].hash), __ATOMIC_RELAXED));
    }
    for (unsigned h = 1; h < GET_HOPS; h++)
        for (size_t i = 0; i < m; i++)
            if (r[i].asked && r[i].at && !r[i].found)
                item_prefetch_next(c, &r[i]);
    for (size_t i = 0; i < m; i++)
        if (r[i].asked)
            item_get_req(c, n, &r[i], b);
}

shmc_status items_get(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                      bool touch, int64_t exptime, item_out *out)
{
    return items_get_hashed(c, n, key, nkey, hash_key(key, nkey), touch, exptime, out, NULL);
}

void items_batch_start(const shmc_cache *c, item_batch *b)
{
    b->now = clock_now(c);
    b->fast_hits = 0;
}

shmc_status items_get_hashed(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                             uint32_t hash, bool touch, int64_t exptime, item_out *out,
                             item_batch *b)
{
    uint32_t now = b ? b->now : clock_now(c);
    if (!touch && out->recache_below <= 0 &&
        item_get_unlocked(c, key, nkey, hash, now, out)) {
        if (b)
            b->fast_hits++; /* a locked add each would stall the batch's misses */
        else
            COUNT(n, get_hits);
        return SHMC_OK;
    }
    uint32_t exp = touch ? clock_exptime(c, exptime) : 0;
    seg_lock *s = hash_stripe(c, hash);
    enum item_liveness why;
    __builtin_prefetch(&c->buckets[hash_bucket(c, hash)]); /* overlaps the lock's miss */
    if (!lock_wait(c, s))
        return SHMC_BUSY;
    item_t *it = item_find(c, key, nkey, hash, now, &why, NULL);
    if (!it) {
        lock_drop(s);
        if (touch)
            COUNT(n, gat_misses);
        else
            COUNT(n, get_misses);
        if (why == ITEM_EXPIRED)
            COUNT(n, get_expired);
        else if (why == ITEM_FLUSHED)
            COUNT(n, get_flushed);
        return SHMC_NOT_FOUND;
    }
    if (!out->no_value && it->nbytes > out->cap) {
        /* a size probe: the caller retries with a buffer this large, and
         * that call is the get: so this one neither touches, takes the
         * recache token, bumps nor counts a hit */
        item_report(it, now, &out->info);
        lock_drop(s);
        return SHMC_BUFFER_TOO_SMALL;
    }
    if (touch)
        it->exptime = exp;
    item_report(it, now, &out->info);
    item_recache_token(it, out->recache_below, &out->info);
    if (!out->no_value) /* buf may be NULL for an empty value: value_read copies nothing */
        value_read(c, it, 0, out->buf, it->nbytes);
    if (!out->no_bump)
        item_bump(it, now);
    lock_drop(s);
    if (touch)
        COUNT(n, gat_hits);
    else
        COUNT(n, get_hits);
    return SHMC_OK;
}

/* Whether mode allows storing given the current item; the error if not. */
static shmc_status store_check(shmc_store_mode mode, const item_t *old, uint64_t cas_in,
                               seg_counters *n)
{
    switch (mode) {
    case SHMC_ADD:
        return old ? SHMC_NOT_STORED : SHMC_OK;
    case SHMC_REPLACE:
        return old ? SHMC_OK : SHMC_NOT_STORED;
    case SHMC_APPEND:
    case SHMC_PREPEND:
        if (!old)
            return SHMC_NOT_STORED;
        return cas_in && old->cas != cas_in ? SHMC_EXISTS : SHMC_OK;
    case SHMC_CAS:
    case SHMC_CAS_STALE:
        if (!old) {
            COUNT(n, cas_misses);
            return SHMC_NOT_FOUND;
        }
        /* CAS_STALE: an older CAS still stores, as a stale item (below) */
        if (old->cas != cas_in && !(mode == SHMC_CAS_STALE && cas_in < old->cas)) {
            COUNT(n, cas_badval);
            return SHMC_EXISTS;
        }
        COUNT(n, cas_hits);
        return SHMC_OK;
    default:
        return SHMC_OK;
    }
}

/* append/prepend: a new item holding old's value with val added (stripe held). */
static shmc_status store_concat(shmc_cache *c, seg_counters *n, shmc_store_mode mode,
                                item_t *old, const void *val, size_t vlen, uint32_t now,
                                uint64_t new_cas, uint64_t *cas_out)
{
    size_t total = (size_t)old->nbytes + vlen;
    shmc_status st;
    if (total > UINT32_MAX)
        return SHMC_TOO_LARGE;
    item_t *it = item_alloc(c, n, old->data, old->nkey, old->hash, total, old->flags,
                            old->exptime, now, &st);
    if (!it)
        return st;
    if (!bounds_item(c, old) || old->nbytes + vlen != total) { /* a damaged link wrote it */
        slabs_release(c, it);
        return SHMC_CORRUPT;
    }
    value_copy(c, it, mode == SHMC_APPEND ? 0 : vlen, old);
    value_write(c, it, mode == SHMC_APPEND ? old->nbytes : 0, val, vlen);
    it->cas = new_cas;
    uint64_t cas;
    if (!item_publish(c, n, it, old, &cas)) {
        slabs_release(c, it);
        return SHMC_BUSY;
    }
    if (cas_out)
        *cas_out = cas;
    return SHMC_OK;
}

/* SET of a value too large: memcached drops the old item so that a
 * reader does not keep seeing stale data.  SHMC_TOO_LARGE once it is
 * gone; SHMC_BUSY if a live client held a lock past the call's bound. */
static shmc_status store_drop_stale(shmc_cache *c, const void *key, size_t nkey, uint32_t hash,
                                    uint32_t now)
{
    seg_lock *s = hash_stripe(c, hash);
    enum item_liveness why;
    if (!lock_wait(c, s))
        return SHMC_BUSY;
    bool stuck = false;
    item_t *old = item_find(c, key, nkey, hash, now, &why, &stuck);
    bool gone = old ? item_unlink(c, old) : !stuck;
    lock_drop(s);
    return gone ? SHMC_TOO_LARGE : SHMC_BUSY;
}

/* A stale store (SHMC_CAS_STALE with an older CAS) replaces only the
 * value: as memcached, the new item keeps old's expiration time and
 * whether old's recache token was handed out, and is marked stale.  it
 * is still private (plain writes); old is under the stripe lock. */
static void store_stale_from(item_t *it, const item_t *old)
{
    uint8_t token = __atomic_load_n(&old->iflags, __ATOMIC_RELAXED) & IFLAG_TOKEN;
    it->exptime = old->exptime;
    it->iflags |= (uint8_t)(IFLAG_STALE | token);
}

shmc_status items_store(shmc_cache *c, seg_counters *n, shmc_store_mode mode,
                        const void *key, size_t nkey, const void *val, size_t vlen,
                        uint32_t flags, int64_t exptime, uint64_t cas_in, uint64_t new_cas,
                        uint64_t *cas_out)
{
    uint32_t hash = hash_key(key, nkey);
    uint32_t now = clock_now(c);
    bool concat = mode == SHMC_APPEND || mode == SHMC_PREPEND;
    shmc_status st = SHMC_OK;
    item_t *it = NULL;
    COUNT(n, cmd_set);
    if (concat && item_total(nkey, vlen) > c->hdr->item_size_max)
        return SHMC_TOO_LARGE; /* as memcached: the size is checked before the key */
    if (!concat) { /* fill the new item before taking any lock */
        it = item_alloc(c, n, key, nkey, hash, vlen, flags, clock_exptime(c, exptime), now, &st);
        if (!it) {
            if (st == SHMC_TOO_LARGE && mode == SHMC_SET)
                st = store_drop_stale(c, key, nkey, hash, now);
            return st;
        }
        value_write(c, it, 0, val, vlen); /* nothing when vlen is 0 and val NULL */
        it->cas = new_cas; /* 0: item_publish makes a fresh one */
        CRASH_POINT("item.filled");
    }
    seg_lock *s = hash_stripe(c, hash);
    enum item_liveness why;
    bool grew = false;
    if (!lock_wait(c, s)) {
        if (it)
            slabs_release(c, it);
        return SHMC_BUSY;
    }
    bool stuck = false; /* a dead item of the key that could not be unlinked */
    item_t *old = item_find(c, key, nkey, hash, now, &why, &stuck);
    st = stuck ? SHMC_BUSY : store_check(mode, old, cas_in, n);
    if (st == SHMC_OK && concat) {
        st = store_concat(c, n, mode, old, val, vlen, now, new_cas, cas_out);
    } else if (st == SHMC_OK) {
        if (mode == SHMC_CAS_STALE && old->cas != cas_in)
            store_stale_from(it, old);
        uint64_t cas;
        if (item_publish(c, n, it, old, &cas)) {
            if (cas_out)
                *cas_out = cas;
            grew = !old && (cas & 63) == 0;
            it = NULL;
        } else {
            st = SHMC_BUSY;
        }
    }
    lock_drop(s);
    if (it)
        slabs_release(c, it); /* not stored: give the chunk back */
    if (grew)
        hash_maybe_grow(c, 256);
    return st;
}

shmc_status items_delete(shmc_cache *c, seg_counters *n, const void *key, size_t nkey, uint64_t cas)
{
    uint32_t hash = hash_key(key, nkey);
    seg_lock *s = hash_stripe(c, hash);
    enum item_liveness why;
    shmc_status st = SHMC_OK;
    if (!lock_wait(c, s))
        return SHMC_BUSY;
    item_t *it = item_find(c, key, nkey, hash, clock_now(c), &why, NULL);
    if (!it)
        st = SHMC_NOT_FOUND;
    else if (cas && it->cas != cas)
        st = SHMC_EXISTS;
    else if (!item_unlink(c, it))
        st = SHMC_BUSY;
    lock_drop(s);
    if (st == SHMC_NOT_FOUND)
        COUNT(n, delete_misses);
    else if (st == SHMC_OK)
        COUNT(n, delete_hits);
    return st;
}

static bool is_space(char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* Parse the value as memcached's incr/decr reads it (strtoull): optional
 * white space and sign, decimal digits within 64 bits, then white space
 * or the end of the value (what follows the white space is not looked
 * at).  A '-' is refused when the negated number would be negative as a
 * signed 64-bit value ("-0" is 0).  A NUL byte is not white space here
 * (memcached, reading a C string, would stop at it). */
static bool parse_u64(const char *p, size_t len, uint64_t *out)
{
    size_t i = 0;
    while (i < len && is_space(p[i]))
        i++;
    bool neg = i < len && p[i] == '-';
    if (i < len && (p[i] == '+' || p[i] == '-'))
        i++;
    size_t first = i;
    uint64_t v = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (i == first || (i < len && !is_space(p[i])))
        return false;
    if (neg) {
        v = 0 - v;
        if ((int64_t)v < 0)
            return false;
    }
    *out = v;
    return true;
}

shmc_status items_arith(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                        bool incr, uint64_t delta, uint64_t cas_in, uint64_t new_cas,
                        uint64_t *result, uint64_t *cas_out)
{
    uint32_t hash = hash_key(key, nkey);
    uint32_t now = clock_now(c);
    seg_lock *s = hash_stripe(c, hash);
    enum item_liveness why;
    shmc_status st = SHMC_OK;
    uint64_t v = 0;
    if (!lock_wait(c, s))
        return SHMC_BUSY;
    item_t *old = item_find(c, key, nkey, hash, now, &why, NULL);
    uint64_t cas = 0;
    if (!old) {
        st = SHMC_NOT_FOUND;
    } else if (cas_in && old->cas != cas_in) {
        st = SHMC_EXISTS;
    } else if (value_is_chained(old) || !parse_u64(item_value(old), old->nbytes, &v)) {
        st = SHMC_NOT_NUMERIC;
    } else {
        v = incr ? v + delta : (delta > v ? 0 : v - delta); /* incr wraps, decr floors */
        char digits[FMT_U64_MAX];
        size_t len = fmt_u64(v, digits);
        item_t *it = item_alloc(c, n, old->data, old->nkey, hash, len, old->flags,
                                old->exptime, now, &st);
        if (it) {
            memcpy(item_value(it), digits, len);
            /* memcached rewrites a result that fits in place, so the item
             * keeps its flags: fetched (meta h, me fetch=), stale (meta X)
             * and the recache token already handed out (meta W/Z; losing it
             * would let a second reader win).  A longer result is a new
             * item with none of them.  it is still private: plain stores. */
            const uint8_t keep = IFLAG_FETCHED | IFLAG_STALE | IFLAG_TOKEN;
            uint8_t was = __atomic_load_n(&old->iflags, __ATOMIC_RELAXED);
            it->iflags = (size_t)len <= old->nbytes ? (uint8_t)(was & keep) : 0;
            it->cas = new_cas; /* 0: a fresh one */
            if (!item_publish(c, n, it, old, &cas)) {
                slabs_release(c, it);
                st = SHMC_BUSY;
            }
        }
    }
    lock_drop(s);
    if (st == SHMC_NOT_FOUND && incr)
        COUNT(n, incr_misses);
    else if (st == SHMC_NOT_FOUND)
        COUNT(n, decr_misses);
    else if (st == SHMC_OK && incr)
        COUNT(n, incr_hits);
    else if (st == SHMC_OK)
        COUNT(n, decr_hits);
    if (st == SHMC_OK && result)
        *result = v;
    if (st == SHMC_OK && cas_out)
        *cas_out = cas;
    return st;
}

shmc_status items_touch(shmc_cache *c, seg_counters *n, const void *key, size_t nkey, int64_t exptime)
{
    uint32_t hash = hash_key(key, nkey);
    uint32_t now = clock_now(c);
    uint32_t exp = clock_exptime(c, exptime);
    seg_lock *s = hash_stripe(c, hash);
    enum item_liveness why;
    if (!lock_wait(c, s))
        return SHMC_BUSY;
    item_t *it = item_find(c, key, nkey, hash, now, &why, NULL);
    if (it) {
        it->exptime = exp;
        item_bump(it, now);
    }
    lock_drop(s);
    if (!it) {
        COUNT(n, touch_misses);
        return SHMC_NOT_FOUND;
    }
    COUNT(n, touch_hits);
    return SHMC_OK;
}

shmc_status items_invalidate(shmc_cache *c, seg_counters *n, const void *key, size_t nkey,
                             uint64_t cas_in, const int64_t *exptime, uint64_t new_cas)
{
    uint32_t hash = hash_key(key, nkey);
    uint32_t now = clock_now(c);
    uint32_t exp = exptime ? clock_exptime(c, *exptime) : 0;
    seg_lock *s = hash_stripe(c, hash);
    enum item_liveness why;
    shmc_status st = SHMC_OK;
    if (!lock_wait(c, s))
        return SHMC_BUSY;
    item_t *it = item_find(c, key, nkey, hash, now, &why, NULL);
    if (!it) {
        st = SHMC_NOT_FOUND;
    } else if (cas_in && it->cas != cas_in) {
        st = SHMC_EXISTS;
    } else {
        /* each a single store: a death between them leaves a valid item */
        if (exptime)
            it->exptime = exp;
        if (new_cas)
            cas_keep_above(c, hash, new_cas);
        else
            new_cas = cas_make(c, hash);
        __atomic_store_n(&it->cas, new_cas, __ATOMIC_RELAXED);
        __atomic_fetch_and(&it->iflags, (uint8_t)~IFLAG_TOKEN, __ATOMIC_RELAXED);
        __atomic_fetch_or(&it->iflags, (uint8_t)IFLAG_STALE, __ATOMIC_RELAXED);
    }
    lock_drop(s);
    if (st == SHMC_OK)
        COUNT(n, delete_hits);
    else if (st == SHMC_NOT_FOUND)
        COUNT(n, delete_misses);
    return st;
}

shmc_status items_flush(shmc_cache *c, seg_counters *n, int64_t delay)
{
    seg_header *h = c->hdr;
    COUNT(n, cmd_flush);
    uint32_t when = delay > 0 ? clock_exptime(c, delay) : 0; /* memcached reads it as an exptime */
    if (when > clock_now(c)) {
        __atomic_store_n(&h->flush_time, when, __ATOMIC_RELEASE);
        return SHMC_OK;
    }
    uint64_t cas = cas_flush_mark(c); /* everything written so far is at or below it */
    uint64_t prev = __atomic_load_n(&h->flush_cas, __ATOMIC_RELAXED);
    while (prev < cas &&
           !__atomic_compare_exchange_n(&h->flush_cas, &prev, cas, false, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
        ;
    __atomic_store_n(&h->flush_time, 0, __ATOMIC_RELEASE); /* cancels a pending one */
    return SHMC_OK;
}

void items_maintain(shmc_cache *c, bool reap)
{
    uint32_t now = clock_now(c);
    for (unsigned id = 1; id <= c->hdr->nclasses; id++) {
        for (unsigned s = 0; s < SEG_SHARDS; s++) {
            slab_shard *sh = slabs_shard(c, id, s);
            if (!lru_items(sh) || !lock_wait(c, &sh->lock))
                continue; /* a shard held past the bound waits for the next round */
            lru_crawl(c, sh, 16, now);
            lru_balance(c, sh, now);
            lock_drop(&sh->lock);
        }
    }
    slabs_shrink_step(c);
    hash_maybe_grow(c, 1024);
    if (reap)
        registry_recover(c, NULL);
}
