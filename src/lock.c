/*
 * lock.c - robust process-shared mutexes and the EOWNERDEAD hand-off.
 *
 * Owns: the mutex protocol.  Knows nothing of what the locks guard; the
 * repair of a structure whose lock owner died is recovery_repair_lock()'s.
 */
#include "lock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "recovery.h"

int lock_init(seg_lock *l, enum lock_kind kind, uint32_t id)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc)
        return rc;
    rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (!rc)
        rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (!rc)
        rc = pthread_mutex_init(&l->mu, &a);
    pthread_mutexattr_destroy(&a);
    l->kind = kind;
    l->id = id;
    return rc;
}

/* The previous owner died holding l: rebuild what it guards, then let
 * others use it again. */
static void lock_recover(shmc_cache *c, seg_lock *l)
{
    recovery_repair_lock(c, l);
    pthread_mutex_consistent(&l->mu);
    __atomic_fetch_add(&c->hdr->locks_repaired, 1, __ATOMIC_RELAXED);
}

/* A mutex that is not recoverable can only come from a bug in this
 * library (unlocking without pthread_mutex_consistent): nothing sane is
 * left to do in this process. */
static void lock_fatal(int rc)
{
    fprintf(stderr, "shmcached: lock failed: %d; segment lock unrecoverable\n", rc);
    abort();
}

void lock_take(shmc_cache *c, seg_lock *l)
{
    int rc = pthread_mutex_lock(&l->mu);
    if (rc == EOWNERDEAD)
        lock_recover(c, l);
    else if (rc)
        lock_fatal(rc);
}

bool lock_try(shmc_cache *c, seg_lock *l)
{
    int rc = pthread_mutex_trylock(&l->mu);
    if (rc == 0)
        return true;
    if (rc == EBUSY)
        return false;
    if (rc == EOWNERDEAD) {
        lock_recover(c, l);
        return true;
    }
    lock_fatal(rc);
    return false;
}

void lock_drop(seg_lock *l)
{
    pthread_mutex_unlock(&l->mu);
}
