/*
 * gate.h - the single entry and exit of every public call.
 *
 * Every public function in api.c runs its body between gate_enter() and
 * gate_leave(); nothing else in the library is reachable from outside.
 * In mpk mode (protect.h) entering opens the calling thread's access to the
 * segment's protection key and leaving closes it again; in none mode both
 * are a predictable branch.  Entering also picks the calling thread's
 * counter lane in this process's client slot.
 */
#ifndef SHMC_GATE_H
#define SHMC_GATE_H

#include "cache.h"
#include "protect.h"

/* The calling thread's lane, 1..SEG_LANES once assigned (api.c).  The one
 * piece of per-thread state in the library: an index, no cache state. */
extern __thread uint32_t gate_thread_lane;
uint32_t gate_assign_lane(void);

/* The counter lane of the calling thread in this process's slot: threads
 * take lanes in turn, so up to SEG_LANES threads never share one. */
static inline seg_counters *gate_enter(shmc_cache *c)
{
    if (c->pkey >= 0)
        protect_allow(c->pkey);
    uint32_t lane = gate_thread_lane;
    if (__builtin_expect(lane == 0, 0))
        lane = gate_assign_lane();
    return &c->slots[c->slot].lanes[lane - 1];
}

static inline void gate_leave(shmc_cache *c)
{
    if (c->pkey >= 0)
        protect_deny(c->pkey);
}


#endif
