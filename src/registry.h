/*
 * registry.h - the attached-client registry: one slot per attached handle,
 * and the answer to "is this client alive?".
 *
 * A client owns slot i while client_slot.owner holds its pid (layout.h).
 * It is alive while a process with that pid and start time exists and is
 * not a zombie: pid reuse cannot fool the check, a fork child (another
 * pid) never keeps a dead parent alive, and no daemon is needed - whoever
 * notices a dead slot reaps it.  No descriptor is held: the segment file
 * is closed once it is mapped.  The owner word lives in the segment,
 * behind the protection key, so a client cannot forge another's liveness.
 *
 * The layers below (lock.c, recovery.c, value.c, check.c) ask through
 * c->owners (cache.h), which registry_attach() sets, so that they never
 * call up into this file.
 */
#ifndef SHMC_REGISTRY_H
#define SHMC_REGISTRY_H

#include "cache.h"

/* Who this process is, as liveness checks will see it.  Outside a gate
 * (it calls libc). */
typedef struct client_id {
    uint32_t pid;               /* getpid() */
    uint64_t pidns;             /* inode of /proc/self/ns/pid; 0 unknown */
    uint64_t start;             /* start time, /proc/self/stat field 22; 0 unknown */
} client_id;
void registry_identify(client_id *me);

/* Claim a slot for c, the process me: a free one, else one whose owner
 * died (reaped first).  SHMC_TOO_MANY_CLIENTS if every slot has a live
 * owner.  Sets c->owners, c->slot, c->token, c->pid, c->pidns. */
shmc_status registry_attach(shmc_cache *c, const client_id *me);

/* Give c's slot back: fold its counters into the header, free it. */
void registry_detach(shmc_cache *c);

/* Whether the process owning slot is alive (our own slot: true; on any
 * doubt, true: a live client must never be reaped). */
bool registry_alive(shmc_cache *c, uint32_t slot);

/* Whether slot is owned at all (claiming or attached). */
bool registry_slot_used(shmc_cache *c, uint32_t slot);

/* Reap every slot whose owner died; *reaped counts them. */
shmc_status registry_recover(shmc_cache *c, unsigned *reaped);

/* Number of attached clients that are alive; *dead (may be NULL) gets
 * the number of those that died and are not reaped yet.  Each attached
 * slot costs a /proc read. */
unsigned registry_count(shmc_cache *c, unsigned *dead);

/* Add a slot's counters into *sum. */
void registry_sum_counters(const client_slot *s, seg_counters *sum);

/* Add counters *add into *sum. */
void registry_add_counters(seg_counters *sum, const seg_counters *add);

#endif
