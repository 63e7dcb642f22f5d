/*
 * lock.h - process-shared locks in the segment that survive their owner.
 *
 * A lock's word holds its owner's token: the owner's client slot and that
 * slot's generation.  A waiter that finds the owner dead (c->owners, which
 * the registry injects: its slot reclaimed, or its process gone) takes the
 * lock over and first rebuilds what the lock guards (c->owners->repair:
 * recovery.c), so callers always get
 * a lock over a consistent structure and never wait for a dead process.
 * The reaper of a dead client does the same for every lock it held.
 *
 * The uncontended path is one compare-and-swap to take and one exchange to
 * release.  Waiters spin briefly, then sleep on a futex, checking the
 * owner's liveness every LOCK_CHECK_MS while the owner stays the same.
 * Unlike glibc's robust mutexes this needs nothing from the kernel at
 * process exit, so it keeps working when the segment is behind a memory
 * protection key the exiting thread no longer holds.
 */
#ifndef SHMC_LOCK_H
#define SHMC_LOCK_H

#include <stdbool.h>

#include "cache.h"

/* What a lock guards (seg_lock.kind). */
enum lock_kind { LOCK_STRIPE = 1, LOCK_SHARD = 2, LOCK_POOL = 3, LOCK_GROW = 4 };

#define LOCK_WAITERS 0x80000000u /* someone may sleep on the word */
#define LOCK_CHECK_MS 10         /* how often a waiter asks if the owner lives */

/* The token a client with this slot and generation writes into locks. */
static inline uint32_t lock_token(uint32_t slot, uint32_t generation)
{
    return ((generation & 0x7fffu) << 16) | (slot + 1);
}

/* Initialise a lock in a new segment. */
void lock_init(seg_lock *l, enum lock_kind kind, uint32_t id);

void lock_take_slow(shmc_cache *c, seg_lock *l);

/* Take l, taking it over and repairing its structure if its owner died. */
static inline void lock_take(shmc_cache *c, seg_lock *l)
{
    uint32_t free_word = 0;
    if (!__atomic_compare_exchange_n(&l->word, &free_word, c->token, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        lock_take_slow(c, l);
}

/* Take l if it is free now; never waits. */
static inline bool lock_try(shmc_cache *c, seg_lock *l)
{
    uint32_t free_word = 0;
    return __atomic_compare_exchange_n(&l->word, &free_word, c->token, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

void lock_wake(seg_lock *l);

/* Release l. */
static inline void lock_drop(seg_lock *l)
{
    if (__atomic_exchange_n(&l->word, 0, __ATOMIC_RELEASE) & LOCK_WAITERS)
        lock_wake(l);
}

/* Take over, repair and release every lock held under a token of slot
 * from an earlier generation than its current one (called by the reaper
 * of a dead client, after it started a new generation). */
void lock_release_stale(shmc_cache *c, uint32_t slot);

#endif
