/*
 * registry.h - the attached-client registry: one slot per process.
 *
 * A process owns slot i while it holds an open-file-description lock on
 * byte LIVENESS_BASE + i of the segment file.  The kernel drops that lock
 * when the process dies however it dies, so liveness cannot be fooled by
 * pid reuse, and no daemon is needed: whoever notices a dead slot reaps it.
 */
#ifndef SHMC_REGISTRY_H
#define SHMC_REGISTRY_H

#include "cache.h"

/* Claim a slot for c (reaping it first if its last owner died). */
shmc_status registry_attach(shmc_cache *c);

/* Give c's slot back: fold its counters into the header, drop the lock. */
void registry_detach(shmc_cache *c);

/* Whether the process owning slot is alive (our own slot: true). */
bool registry_alive(shmc_cache *c, uint32_t slot);

/* Reap every slot whose owner died; *reaped counts them. */
shmc_status registry_recover(shmc_cache *c, unsigned *reaped);

/* Number of slots in use by live processes. */
unsigned registry_count(shmc_cache *c);

/* Add a slot's counters into *sum. */
void registry_sum_counters(const client_slot *s, seg_counters *sum);

/* Add counters *add into *sum. */
void registry_add_counters(seg_counters *sum, const seg_counters *add);

#endif
