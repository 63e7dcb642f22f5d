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
 *
 * Bounded waits.  An owner that lives but does not run (SIGSTOP, a
 * debugger, a spinning signal handler) would hold everyone up for as long
 * as it is stopped.  So a call's waits on live owners are bounded: the
 * handle's wait_ns (shmc_options.lock_wait_ms) from the call's first wait
 * that sleeps, one deadline for the whole call (lock_thread_call, reset by
 * the gate).  lock_wait() gives up at the deadline and returns false; the
 * caller then undoes what it did and answers SHMC_BUSY.  Past the
 * deadline every later lock_wait() of the call fails at once unless the
 * lock is free (a try).  lock_take() never gives up: it is for the few
 * places that must finish what they started (a repair, giving back a
 * chunk that no other shard will take), and its holders never stop
 * inside a lock that a lock_take() waits for, except by being stopped.
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

/* A lock word: 0 when free, else the owner's token (slot + 1 in bits
 * 0-15, generation in bits 16-29), the reader bit and the waiters bit. */
#define LOCK_WAITERS 0x80000000u /* someone may sleep on the word */
#define LOCK_READER 0x40000000u  /* the owner only reads under it (shmc_check): if it dies,
                                    the lock is taken over without a repair */
#define LOCK_GEN_MASK 0x3fffu    /* the generation bits of a token, shifted down */
#define LOCK_CHECK_MS 10         /* how often a waiter asks if the owner lives */

/* The token a client with this slot and generation writes into locks. */
static inline uint32_t lock_token(uint32_t slot, uint32_t generation)
{
    return ((generation & LOCK_GEN_MASK) << 16) | (slot + 1);
}

/* The generation bits of a token or lock word. */
static inline uint32_t lock_token_generation(uint32_t token)
{
    return token >> 16 & LOCK_GEN_MASK;
}

/* Initialise a lock in a new segment. */
void lock_init(seg_lock *l, enum lock_kind kind, uint32_t id);

/* The calling thread's lock waits in its current call. */
typedef struct lock_call {
    int64_t deadline_ns; /* CLOCK_MONOTONIC time its waits end; 0: it has not slept yet */
    uint32_t timed_out;  /* a lock_wait() of this call gave up at the deadline */
} lock_call;

extern __thread lock_call lock_thread_call;

/* A call starts (the gate): no wait yet, no time spent. */
static inline void lock_call_begin(void)
{
    lock_thread_call.deadline_ns = 0;
    lock_thread_call.timed_out = 0;
}

/* Whether a lock_wait() of the current call gave up: a failure the caller
 * sees as a missing resource (no chunk) was SHMC_BUSY, not what it seems. */
static inline bool lock_call_timed_out(void)
{
    return lock_thread_call.timed_out != 0;
}

bool lock_wait_slow(shmc_cache *c, seg_lock *l, uint32_t token, bool bounded);

/* Take l within the call's bound (above), taking it over and repairing
 * its structure if its owner died.  false: its owner lives and held it
 * past the bound; nothing was taken. */
static inline bool lock_wait(shmc_cache *c, seg_lock *l)
{
    uint32_t free_word = 0;
    return __atomic_compare_exchange_n(&l->word, &free_word, c->token, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED) ||
           lock_wait_slow(c, l, c->token, true);
}

/* lock_wait for a holder that changes nothing under l (shmc_check): its
 * word carries LOCK_READER, so that if it dies, whoever takes l over
 * skips the repair, which would find nothing to do and could take
 * seconds (a stripe's repair scans every page). */
static inline bool lock_wait_reader(shmc_cache *c, seg_lock *l)
{
    uint32_t free_word = 0;
    return __atomic_compare_exchange_n(&l->word, &free_word, c->token | LOCK_READER, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED) ||
           lock_wait_slow(c, l, c->token | LOCK_READER, true);
}

/* Take l, however long its owner keeps it, taking it over and repairing
 * its structure if its owner died: only where the caller must finish. */
static inline void lock_take(shmc_cache *c, seg_lock *l)
{
    uint32_t free_word = 0;
    if (!__atomic_compare_exchange_n(&l->word, &free_word, c->token, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        lock_wait_slow(c, l, c->token, false);
}

/* Take l if it is free now; never waits. */
static inline bool lock_try(shmc_cache *c, seg_lock *l)
{
    uint32_t free_word = 0;
    return __atomic_compare_exchange_n(&l->word, &free_word, c->token, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

/* lock_try, or true if this handle holds l already (then as a writer
 * from now on: a repair, which changes what it guards, follows our death
 * even where we took it as a reader).  *took: taken here, to drop. */
static inline bool lock_try_or_mine(shmc_cache *c, seg_lock *l, bool *took)
{
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
    *took = false;
    if (w && (w & ~(LOCK_WAITERS | LOCK_READER)) == c->token) {
        __atomic_fetch_and(&l->word, ~LOCK_READER, __ATOMIC_ACQ_REL);
        return true;
    }
    return *took = lock_try(c, l);
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
