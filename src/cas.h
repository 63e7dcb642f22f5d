/*
 * cas.h - CAS uniques, made per hash stripe.
 *
 * A CAS value is tick << SEG_STRIPE_BITS | stripe.  Each stripe keeps the
 * tick of the last value it made (seg_stripe.cas_tick), written under the
 * stripe lock that every store already holds, so writers of different keys
 * share no counter's cache line.  A new tick is the largest of the
 * stripe's last tick + 1, the clock in ticks (clock_ticks) and the tick of
 * the last flush_all's mark + 1.  So:
 *
 *  - a value made for a key is above every value the key had before,
 *    across deletes and explicit CAS values too (cas_keep_above), which
 *    meta "ms I" (an older CAS stores as stale) and recovery (the copy
 *    with the larger CAS is the newer) rely on;
 *  - made values are unique: stripes differ in the low bits, and a
 *    stripe's ticks only grow, in the segment, across its clients' lives
 *    (explicit values are unique only if their senders keep them so);
 *  - a value made after flush_all returned is above its mark, and every
 *    value made before it is not (cas_flush_mark reads every stripe);
 *  - across stripes, values follow the clock to its few milliseconds,
 *    which eviction uses to order items used in the same second.
 *
 * Ticks stay below 2^53 (clock_ticks below 2^52, explicit values below
 * SHMC_CAS_EXPLICIT_LIMIT, which the API checks), so the values made
 * after the largest explicit one still have 2^63 values of room.
 */
#ifndef SHMC_CAS_H
#define SHMC_CAS_H

#include "clock.h"

/* A fresh CAS value for a key with this hash (its stripe lock held). */
static inline uint64_t cas_make(shmc_cache *c, uint32_t hash)
{
    seg_stripe *s = seg_stripe_of(c, hash);
    uint64_t t = s->cas_tick + 1;
    uint64_t after_flush = (__atomic_load_n(&c->hdr->flush_cas, __ATOMIC_ACQUIRE) >>
                            SEG_STRIPE_BITS) + 1;
    uint64_t now = clock_ticks(c);
    if (t < after_flush)
        t = after_flush;
    if (t < now)
        t = now;
    __atomic_store_n(&s->cas_tick, t, __ATOMIC_RELEASE); /* read by cas_flush_mark */
    return t << SEG_STRIPE_BITS | (hash & (SEG_NSTRIPES - 1));
}

/* The generation a publication with fresh CAS value v gives its chunk's
 * CHUNK_LINKED state word (layout.h): successive values of a stripe differ
 * in it until 2^24 more have been made. */
static inline uint32_t cas_generation(uint64_t v)
{
    return (uint32_t)(v >> SEG_STRIPE_BITS) & 0xffffffu;
}

/* An explicit value v (< SHMC_CAS_EXPLICIT_LIMIT) was given to a key with this
 * hash: keep the values its stripe makes later above it (stripe lock held). */
static inline void cas_keep_above(shmc_cache *c, uint32_t hash, uint64_t v)
{
    seg_stripe *s = seg_stripe_of(c, hash);
    if (v >> SEG_STRIPE_BITS > s->cas_tick)
        __atomic_store_n(&s->cas_tick, v >> SEG_STRIPE_BITS, __ATOMIC_RELEASE);
}

/* A flush_all mark: at least every CAS value made so far, and below every
 * value made after it is published in seg_header.flush_cas. */
static inline uint64_t cas_flush_mark(shmc_cache *c)
{
    uint64_t t = clock_ticks(c);
    for (uint32_t i = 0; i < SEG_NSTRIPES; i++) {
        uint64_t s = __atomic_load_n(&c->stripes[i].cas_tick, __ATOMIC_ACQUIRE);
        if (s > t)
            t = s;
    }
    return t << SEG_STRIPE_BITS | (SEG_NSTRIPES - 1);
}

#endif
