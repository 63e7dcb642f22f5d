/*
 * lock.h - process-shared robust locks in the segment.
 *
 * Every lock is a robust pthread mutex.  When its owner dies holding it,
 * the next taker gets EOWNERDEAD; lock_take() then calls the repair for
 * the structure the lock guards (recovery.c) before marking the mutex
 * consistent, so callers always receive a lock over a consistent structure
 * and never wait for a dead process.
 */
#ifndef SHMC_LOCK_H
#define SHMC_LOCK_H

#include <stdbool.h>

#include "cache.h"

/* What a lock guards (seg_lock.kind). */
enum lock_kind { LOCK_STRIPE = 1, LOCK_CLASS = 2, LOCK_POOL = 3, LOCK_GROW = 4 };

/* Initialise a lock in a new segment.  Returns 0 or an errno value. */
int lock_init(seg_lock *l, enum lock_kind kind, uint32_t id);

/* Take l, repairing its structure if the previous owner died. */
void lock_take(shmc_cache *c, seg_lock *l);

/* Try to take l without waiting; true if taken (repaired as lock_take). */
bool lock_try(shmc_cache *c, seg_lock *l);

/* Release l. */
void lock_drop(seg_lock *l);

#endif
