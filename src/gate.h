/*
 * gate.h - the single entry and exit of every public call.
 *
 * Every public function in api.c runs its body between gate_enter() and
 * gate_leave(); nothing else in the library is reachable from outside.
 * This is where the protection-key switch belongs (issue: protected
 * library); today's mode is "none": entering picks the calling thread's
 * counter lane in this process's client slot, and paces the amortized
 * maintenance that replaces memcached's background threads.
 */
#ifndef SHMC_GATE_H
#define SHMC_GATE_H

#include <pthread.h>

#include "cache.h"

/* The counter lane of the calling thread (threads spread over lanes by a
 * hash of their id, so two threads rarely share a cache line). */
static inline seg_counters *gate_enter(shmc_cache *c)
{
    uint64_t t = (uint64_t)pthread_self() * 0x9E3779B97F4A7C15ull;
    return &c->slots[c->slot].lanes[t >> 61];
}

static inline void gate_leave(shmc_cache *c)
{
    (void)c;
}

_Static_assert(SEG_LANES == 8, "gate_enter takes 3 bits for the lane");

#endif
