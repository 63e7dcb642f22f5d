/*
 * recovery.h - putting the segment right after a client died.
 *
 * Two entry points: the repair of the structure guarded by a lock whose
 * owner died (called by lock.c on EOWNERDEAD, lock held), and the reaping
 * of a dead client's allocated chunks (called by registry.c).
 */
#ifndef SHMC_RECOVERY_H
#define SHMC_RECOVERY_H

#include "cache.h"

/* Rebuild what l guards from the chunk states; l is held. */
void recovery_repair_lock(shmc_cache *c, seg_lock *l);

/* Free every chunk allocated to slot (whose owner is dead). */
void recovery_reap_slot(shmc_cache *c, uint32_t slot);

#endif
