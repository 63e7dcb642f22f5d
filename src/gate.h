/*
 * gate.h - the single entry and exit of every public call.
 *
 * Every public function runs its body between gate_enter() and
 * gate_leave(); nothing else in the library is reachable from outside.
 * Where the process has a protection key (protect.h), entering opens the
 * calling thread's access to it and leaving closes it, with WRPKRU
 * instructions inlined into the entry point itself and each followed by a
 * check of PKRU: there is no function that returns to its caller with the
 * key open, and a jump onto a WRPKRU with another value ends in a trap.
 * Without a key both are a predictable branch.
 *
 * Entering also checks the handle: it must name a live slot of the vault
 * (vault.h), which client code cannot write, so a forged or closed handle
 * gets SHMC_INVALID and the segment is never touched; and its segment
 * must not be retired (SHMC_STALE), and the thread must not be inside a
 * call already (SHMC_BUSY: a signal handler that interrupted a call).  Between the two,
 * the entry point checks every caller pointer and length (vault_range_ok)
 * before the segment is touched, and runs no code the caller supplies:
 * no callback, no malloc.
 */
#ifndef SHMC_GATE_H
#define SHMC_GATE_H

#include "cache.h"
#include "lock.h"
#include "protect.h"
#include "vault.h"

#define GATE_INLINE static inline __attribute__((always_inline))

/* The entry point's frame address, which the argument checks use to keep
 * caller memory out of the library's own stack frames (vault_range_ok). */
#define GATE_FRAME() ((uintptr_t)__builtin_frame_address(0))

/* The calling thread's lane, 1..SEG_LANES once assigned (api.c).  The one
 * piece of per-thread state in the library: an index, no cache state,
 * checked on every use. */
extern __thread uint32_t gate_thread_lane;
uint32_t gate_assign_lane(void);

/* 1 while the calling thread is inside a call (between gate_enter and
 * gate_leave).  A signal handler that calls the library while the thread
 * it interrupted is inside a call would wait forever for a lock its own
 * thread holds: gate_enter answers SHMC_BUSY instead. */
extern __thread uint32_t gate_thread_inside;

/* Open the process's key for this thread (no handle yet: attach), and
 * start the call's lock-wait budget (lock.h). */
GATE_INLINE void gate_open(void)
{
    lock_call_begin();
    int k = protect_g.pkey;
    if (k >= 0)
        pkru_open(k);
}

/* Close it. */
GATE_INLINE void gate_close(void)
{
    int k = protect_g.pkey;
    if (k >= 0)
        pkru_close(k);
}

/* Enter with handle c: SHMC_OK with the gate open; else the gate is closed
 * and the status says why: SHMC_INVALID unless c is a live handle of this
 * process, SHMC_STALE if its segment was destroyed or replaced (one load
 * of a header line every call reads anyway). */
GATE_INLINE shmc_status gate_enter(shmc_cache *c)
{
    if (!vault_handle_ok(c))
        return SHMC_INVALID;
    if (__builtin_expect(gate_thread_inside, 0))
        return SHMC_BUSY; /* re-entered from a signal handler */
    gate_open();
    if (__builtin_expect(c->magic != HANDLE_LIVE, 0)) {
        gate_close();
        return SHMC_INVALID;
    }
    if (__builtin_expect(__atomic_load_n(&c->hdr->stale, __ATOMIC_RELAXED) != 0, 0)) {
        gate_close();
        return SHMC_STALE;
    }
    __atomic_store_n(&gate_thread_inside, 1, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* set before any lock is taken */
    return SHMC_OK;
}

GATE_INLINE void gate_leave(void);

/* gate_enter for a call that writes one result of size bytes at out:
 * also SHMC_INVALID (the gate closed again) unless out is caller memory.
 * frame is the public entry point's (GATE_FRAME). */
GATE_INLINE shmc_status gate_enter_out(shmc_cache *c, const void *out, size_t size,
                                       uintptr_t frame)
{
    if (!out)
        return SHMC_INVALID;
    shmc_status st = gate_enter(c);
    if (st == SHMC_OK && !vault_range_ok(out, size, frame)) {
        gate_leave();
        st = SHMC_INVALID;
    }
    return st;
}

GATE_INLINE void gate_leave(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* cleared after every lock is dropped */
    __atomic_store_n(&gate_thread_inside, 0, __ATOMIC_RELAXED);
    gate_close();
}

/* The counter lane of the calling thread in c's slot (inside the gate):
 * threads take lanes in turn, so up to SEG_LANES threads never share one.
 * The lane index lives in client memory, so it is range-checked here: a
 * stray write to it costs at most a shared lane. */
GATE_INLINE seg_counters *gate_lane(shmc_cache *c)
{
    uint32_t lane = gate_thread_lane;
    if (__builtin_expect(lane - 1 >= SEG_LANES, 0))
        lane = gate_assign_lane();
    return &c->slots[c->slot].lanes[lane - 1];
}

#endif
