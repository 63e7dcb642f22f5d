/*
 * registry.c - client slots, liveness by OFD locks, reaping dead clients.
 *
 * Owns: the client_slot array and the liveness lock bytes.  Reclaiming the
 * chunks a dead client held is recovery.c's; this file decides when.
 */
#define _GNU_SOURCE
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "recovery.h"

static int slot_lock_op(shmc_cache *c, uint32_t slot, int cmd, short type, struct flock *out)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)(LIVENESS_BASE + slot);
    fl.l_len = 1;
    int rc = fcntl(c->fd, cmd, &fl);
    if (out)
        *out = fl;
    return rc;
}

/* Try to own slot; true if we now hold its lock. */
static bool slot_try_claim(shmc_cache *c, uint32_t slot)
{
    return slot_lock_op(c, slot, F_OFD_SETLK, F_WRLCK, NULL) == 0;
}

static void slot_unlock(shmc_cache *c, uint32_t slot)
{
    slot_lock_op(c, slot, F_OFD_SETLK, F_UNLCK, NULL);
}

void registry_add_counters(seg_counters *sum, const seg_counters *add)
{
    uint64_t *d = (uint64_t *)sum;
    const uint64_t *s = (const uint64_t *)add;
    for (size_t i = 0; i < SEG_NCOUNTERS; i++)
        d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

void registry_sum_counters(const client_slot *s, seg_counters *sum)
{
    for (unsigned l = 0; l < SEG_LANES; l++)
        registry_add_counters(sum, &s->lanes[l]);
}

/* Move a slot's counters into the header's retired totals. */
static void slot_retire_counters(shmc_cache *c, client_slot *s)
{
    seg_counters sum;
    memset(&sum, 0, sizeof sum);
    registry_sum_counters(s, &sum);
    uint64_t *d = (uint64_t *)&c->hdr->retired;
    const uint64_t *v = (const uint64_t *)&sum;
    for (size_t i = 0; i < SEG_NCOUNTERS; i++)
        __atomic_fetch_add(&d[i], v[i], __ATOMIC_RELAXED);
    memset(s->lanes, 0, sizeof s->lanes);
}

/* Reclaim what the dead owner of slot left (we hold its liveness lock):
 * first the locks its token still holds, repaired, then its chunks.
 * c must have its own token set: reaping takes locks. */
static void slot_reap(shmc_cache *c, uint32_t slot, uint32_t dead_token)
{
    client_slot *s = &c->slots[slot];
    lock_release_dead(c, dead_token);
    recovery_reap_slot(c, slot);
    slot_retire_counters(c, s);
    __atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
    __atomic_fetch_add(&c->hdr->clients_recovered, 1, __ATOMIC_RELAXED);
}

shmc_status registry_attach(shmc_cache *c)
{
    for (uint32_t i = 0; i < c->hdr->max_clients; i++) {
        if (!slot_try_claim(c, i)) {
            if (errno == EAGAIN || errno == EACCES)
                continue;
            return SHMC_SYSTEM;
        }
        client_slot *s = &c->slots[i];
        bool dead = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_FREE;
        uint32_t old_gen = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
        /* a new generation first: our token, and locks still naming the
         * last owner read as dead from now on */
        uint32_t gen = __atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
        c->slot = i;
        c->token = lock_token(i, gen);
        if (dead)
            slot_reap(c, i, lock_token(i, old_gen));
        s->pid = (uint32_t)getpid();
        s->attached_at = (uint64_t)time(NULL);
        memset(s->lanes, 0, sizeof s->lanes);
        __atomic_store_n(&s->state, SLOT_ACTIVE, __ATOMIC_RELEASE);
        return SHMC_OK;
    }
    return SHMC_TOO_MANY_CLIENTS;
}

void registry_detach(shmc_cache *c)
{
    client_slot *s = &c->slots[c->slot];
    slot_retire_counters(c, s);
    __atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
    slot_unlock(c, c->slot);
}

bool registry_alive(shmc_cache *c, uint32_t slot)
{
    if (slot == c->slot)
        return true;
    if (slot >= c->hdr->max_clients)
        return false;
    struct flock fl;
    if (slot_lock_op(c, slot, F_OFD_GETLK, F_WRLCK, &fl) != 0)
        return true; /* cannot tell: never reap on doubt */
    return fl.l_type != F_UNLCK;
}

shmc_status registry_recover(shmc_cache *c, unsigned *reaped)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < c->hdr->max_clients; i++) {
        if (i == c->slot || __atomic_load_n(&c->slots[i].state, __ATOMIC_ACQUIRE) == SLOT_FREE)
            continue;
        if (!slot_try_claim(c, i))
            continue; /* alive, or being claimed by someone else */
        if (__atomic_load_n(&c->slots[i].state, __ATOMIC_ACQUIRE) != SLOT_FREE) {
            uint32_t gen = __atomic_load_n(&c->slots[i].generation, __ATOMIC_ACQUIRE);
            slot_reap(c, i, lock_token(i, gen));
            n++;
        }
        slot_unlock(c, i);
    }
    if (reaped)
        *reaped = n;
    return SHMC_OK;
}

unsigned registry_count(shmc_cache *c)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < c->hdr->max_clients; i++)
        n += __atomic_load_n(&c->slots[i].state, __ATOMIC_RELAXED) == SLOT_ACTIVE;
    return n;
}
