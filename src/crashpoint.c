/*
 * crashpoint.c - the test build's crash points (see crashpoint.h).
 *
 * The only process-global state of the library, and only in the test
 * build: which point is armed in this process, with which signal, and
 * the hit counters.
 */
#include "crashpoint.h"

#ifdef SHMC_CRASH_POINTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const crashpoint_names[] = {
    "slabs.popped",          /* chunk off the free list, state still FREE */
    "slabs.stolen",          /* free chunks taken from another shard, ours, not yet on ours */
    "slabs.grow_locked",     /* pool lock held, page chosen */
    "slabs.grow_half_init",  /* half the chunk headers of a new page written */
    "slabs.grow_published",  /* page map says the class owns the page */
    "slabs.grow_half_freed", /* half the new page's chunks on the free list */
    "slabs.free_half",       /* chunk state FREE, not yet on the free list */
    "slabs.reassign_half",   /* a page move has emptied half a page */
    "slabs.reassign_released", /* page back in the pool, class count not updated */
    "item.alloc",            /* a private chunk allocated, nothing filled */
    "item.chunks_taken",     /* a chained value's data chunks allocated, not filled */
    "item.filled",           /* a private chunk filled, no lock taken */
    "publish.lru_linked",    /* new item in the LRU, state still ALLOC */
    "publish.adopted",       /* data chunks belong to the new head, still ALLOC */
    "publish.committed",     /* new item LINKED, not yet in its chain */
    "publish.chained",       /* new item in the chain, old item still LINKED */
    "publish.old_unlinked",  /* old item out of its LRU, state still LINKED */
    "publish.old_freed",     /* old item FREE, its data chunks not yet freed */
    "unlink.unchained",      /* item out of its chain, still LINKED */
    "unlink.lru_unlinked",   /* item out of its LRU, still LINKED */
    "lru.moved",             /* item out of one LRU list, not in the next */
    "lru.evict_dropped",     /* evicted item out of chain and LRU, still LINKED */
    "hash.split_half",       /* an item moved between split buckets */
    "hash.split_done",       /* split buckets done, hash word not advanced */
    "reap.half",             /* a dead client's chunks half freed */
    "check.locked",          /* shmc_check holds every lock, as a reader */
    "event.claimed",         /* an event's slot claimed (seq odd), body not written */
    "event.written",         /* an event's body written, not yet published */
    NULL,
};

#define NPOINTS (sizeof crashpoint_names / sizeof crashpoint_names[0] - 1)

static unsigned long hits[NPOINTS];
static const char *armed;
static unsigned long armed_skip;
static int armed_signal = SIGKILL;

static int point_index(const char *name)
{
    for (unsigned i = 0; i < NPOINTS; i++)
        if (strcmp(crashpoint_names[i], name) == 0)
            return (int)i;
    return -1;
}

void crashpoint_hit(const char *name)
{
    int i = point_index(name);
    if (i < 0) {
        fprintf(stderr, "crashpoint: unknown point %s\n", name);
        abort();
    }
    unsigned long n = __atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
    const char *a = __atomic_load_n(&armed, __ATOMIC_ACQUIRE);
    if (a && strcmp(a, name) == 0 && n >= armed_skip) {
        if (armed_signal != SIGKILL) /* stop once; go on when continued */
            __atomic_store_n(&armed, NULL, __ATOMIC_RELEASE);
        kill(getpid(), armed_signal);
    }
}

void crashpoint_arm_signal(const char *name, unsigned skip, int sig)
{
    /* passes from now: a forked child inherits its parent's counts */
    armed_skip = skip + (name ? crashpoint_hits(name) : 0);
    armed_signal = sig;
    __atomic_store_n(&armed, name, __ATOMIC_RELEASE);
}

void crashpoint_arm(const char *name, unsigned skip)
{
    crashpoint_arm_signal(name, skip, SIGKILL);
}

unsigned long crashpoint_hits(const char *name)
{
    int i = point_index(name);
    return i < 0 ? 0 : __atomic_load_n(&hits[i], __ATOMIC_RELAXED);
}
#endif
