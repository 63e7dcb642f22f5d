/*
 * lock.c - the slow paths of the segment's locks: sleeping, detecting a
 * dead owner, taking over and repairing (see lock.h for the protocol).
 *
 * Owns: the lock words.  Knows nothing of what the locks guard nor of
 * clients: whether an owner died, and the repair of what its lock
 * guarded, come from c->owners (cache.h), which the registry injects.  So
 * this file sits at the bottom: it calls no other file of the library.
 */
#include "lock.h"

#include <linux/futex.h>
#include <time.h>

#include "sys.h"
#include "vdso.h"

#define LOCK_SPINS 200

void lock_init(seg_lock *l, enum lock_kind kind, uint32_t id)
{
    l->word = 0;
    l->kind = kind;
    l->id = id;
}

static void futex_wait(uint32_t *word, uint32_t val, int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    sys_call6(SYS_futex, (long)word, FUTEX_WAIT, val, (long)&ts, 0, 0);
}

void lock_wake(seg_lock *l)
{
    sys_call6(SYS_futex, (long)&l->word, FUTEX_WAKE, 1, 0, 0, 0);
}

/* We own l now, taken from a dead owner: rebuild what it guards. */
static void lock_repair(shmc_cache *c, seg_lock *l)
{
    c->owners->repair(c, l);
    __atomic_fetch_add(&c->hdr->locks_repaired, 1, __ATOMIC_RELAXED);
}

/* Try to replace the dead owner's word w by our token; true if we own l
 * (repaired, unless the dead owner only read under it). */
static bool lock_take_over(shmc_cache *c, seg_lock *l, uint32_t w, uint32_t token)
{
    uint32_t mine = token | (w & LOCK_WAITERS);
    if (!__atomic_compare_exchange_n(&l->word, &w, mine, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false;
    if (!(w & LOCK_READER))
        lock_repair(c, l);
    return true;
}

__thread lock_call lock_thread_call;

static int64_t now_ns(void)
{
    struct timespec ts;
    vdso_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* How long the next sleep may last, in ms (1..LOCK_CHECK_MS); 0 if a
 * bounded wait's deadline has passed.  The call's deadline starts at its
 * first sleep. */
static int lock_sleep_ms(const shmc_cache *c, bool bounded)
{
    if (!bounded || c->wait_ns < 0)
        return LOCK_CHECK_MS;
    lock_call *k = &lock_thread_call;
    int64_t now = now_ns();
    if (k->deadline_ns == 0)
        k->deadline_ns = now + c->wait_ns;
    int64_t left = k->deadline_ns - now;
    if (left <= 0)
        return 0;
    return left >= LOCK_CHECK_MS * 1000000LL ? LOCK_CHECK_MS : (int)(left / 1000000) + 1;
}

/* Spin a little for l to come free; true if we took it. */
static bool lock_spin(seg_lock *l, uint32_t token)
{
    for (int i = 0; i < LOCK_SPINS; i++) {
        uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
        if (w == 0 && __atomic_compare_exchange_n(&l->word, &w, token, false,
                                                  __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return true;
        __builtin_ia32_pause();
    }
    return false;
}

bool lock_wait_slow(shmc_cache *c, seg_lock *l, uint32_t token, bool bounded)
{
    if (lock_spin(l, token))
        return true;
    uint32_t watched = 0; /* the owner we have been waiting on */
    int waited_ms = 0;
    for (;;) {
        uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
        if (w == 0) {
            /* others may sleep: keep the waiters bit when we take it */
            if (__atomic_compare_exchange_n(&l->word, &w, token | LOCK_WAITERS, false,
                                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                return true;
            continue;
        }
        uint32_t owner = w & ~(LOCK_WAITERS | LOCK_READER);
        int sleep_ms = lock_sleep_ms(c, bounded);
        if (owner != watched) {
            watched = owner;
            waited_ms = 0;
        }
        /* a dead owner is taken over whatever the bound: before giving up,
         * and every LOCK_CHECK_MS of waiting on the same owner */
        if ((sleep_ms == 0 || waited_ms >= LOCK_CHECK_MS) && c->owners->token_dead(c, owner)) {
            if (lock_take_over(c, l, w, token))
                return true;
            continue;
        }
        if (sleep_ms == 0) {
            lock_thread_call.timed_out = 1;
            return false; /* a live owner held it past the call's bound */
        }
        if (!(w & LOCK_WAITERS) &&
            !__atomic_compare_exchange_n(&l->word, &w, w | LOCK_WAITERS, false,
                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            continue;
        futex_wait(&l->word, w | LOCK_WAITERS, sleep_ms);
        waited_ms += sleep_ms;
    }
}

/* Take over l if a stale token of slot owns it (then repair and release it). */
static void lock_clear_stale(shmc_cache *c, seg_lock *l, uint32_t slot, uint32_t gen)
{
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_ACQUIRE);
    if ((w & 0xffffu) == slot + 1 && lock_token_generation(w) != (gen & LOCK_GEN_MASK) &&
        lock_take_over(c, l, w, c->token))
        lock_drop(l);
}

void lock_release_stale(shmc_cache *c, uint32_t slot)
{
    uint32_t gen = __atomic_load_n(&c->slots[slot].generation, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < SEG_NSTRIPES; i++)
        lock_clear_stale(c, &c->stripes[i].l, slot, gen);
    for (uint32_t i = 1; i <= c->hdr->nclasses; i++)
        for (unsigned s = 0; s < SEG_SHARDS; s++)
            lock_clear_stale(c, &c->classes[i].shards[s].lock, slot, gen);
    lock_clear_stale(c, &c->hdr->pool_lock.l, slot, gen);
    lock_clear_stale(c, &c->hdr->grow_lock.l, slot, gen);
}
