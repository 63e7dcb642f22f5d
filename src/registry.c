/*
 * registry.c - client slots, liveness by pid and start time, reaping dead
 * clients (see registry.h).
 *
 * Owns: the client_slot array.  Reclaiming the chunks a dead client held
 * is recovery.c's, and taking over its locks is lock.c's; this file
 * decides when, and answers the liveness questions both ask through
 * c->owners.
 */
#define _GNU_SOURCE
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "lock.h"
#include "recovery.h"
#include "sys.h"
#include "vdso.h"

/* What /proc says of a process. */
enum proc_answer {
    PROC_GONE,      /* no such process, or a zombie: it will never run again */
    PROC_HERE,      /* it exists and runs (start time in *start) */
    PROC_UNKNOWN,   /* cannot tell (no /proc, hidden pids): treat as alive */
};

/* Read /proc/PID/stat: its state (field 3), thread count (20) and start
 * time (22).  Runs inside the gate, so with sys.h's calls only. */
static enum proc_answer proc_read(uint32_t pid, uint64_t *start)
{
    char path[32] = "/proc/", buf[1024];
    char *e = sys_utoa(path + 6, pid);
    memcpy(e, "/stat", 6);
    long fd = sys_call3(SYS_open, (long)path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        /* hidden (hidepid) and vanished look alike here: ask kill() */
        return sys_call3(SYS_kill, pid, 0, 0) == -ESRCH ? PROC_GONE : PROC_UNKNOWN;
    }
    long n = sys_call3(SYS_read, fd, (long)buf, sizeof buf - 1);
    sys_call3(SYS_close, fd, 0, 0);
    if (n <= 0)
        return n == -ESRCH ? PROC_GONE : PROC_UNKNOWN;
    buf[n] = 0;
    char *p = NULL; /* the last ')': the command name may hold anything but not past here */
    for (long i = n - 1; i >= 0 && !p; i--) /* (strrchr would be the client's) */
        if (buf[i] == ')')
            p = buf + i;
    if (!p || p[1] != ' ' || !p[2])
        return PROC_UNKNOWN;
    char state = p[2];
    uint64_t field[23] = {0};
    unsigned idx = 3;
    for (p += 3; *p && idx < 22;) {
        while (*p == ' ')
            p++;
        idx++;
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (uint64_t)(*p++ - '0');
        while (*p && *p != ' ')
            p++;
        field[idx] = v;
    }
    if (idx < 22)
        return PROC_UNKNOWN;
    /* a zombie leader whose other threads still run counts them (and
     * itself): only a zombie with no other thread is dead */
    if ((state == 'Z' || state == 'X') && field[20] <= 1)
        return PROC_GONE;
    *start = field[22];
    return PROC_HERE;
}

void registry_identify(client_id *me)
{
    struct stat sb;
    me->pid = (uint32_t)getpid();
    me->pidns = stat("/proc/self/ns/pid", &sb) == 0 ? (uint64_t)sb.st_ino : 0;
    if (proc_read(me->pid, &me->start) != PROC_HERE)
        me->start = 0; /* unknown: others check the pid alone */
}

/* Is the owner of s, as read in owner word o, alive? */
static bool owner_alive(shmc_cache *c, const client_slot *s, uint64_t o)
{
    if (SLOT_STATE(o) == SLOT_FREE)
        return false;
    uint64_t ns = __atomic_load_n(&s->pidns, __ATOMIC_RELAXED);
    if (ns && c->pidns && ns != c->pidns)
        return true; /* another pid namespace: cannot tell, never reap on doubt */
    uint64_t start = 0;
    enum proc_answer a = proc_read(SLOT_PID(o), &start);
    if (a != PROC_HERE)
        return a == PROC_UNKNOWN;
    uint64_t want = __atomic_load_n(&s->start_time, __ATOMIC_RELAXED);
    /* while claiming, start_time may still be the last owner's */
    return SLOT_STATE(o) == SLOT_CLAIMING || !want || want == start;
}

bool registry_alive(shmc_cache *c, uint32_t slot)
{
    if (slot == c->slot)
        return true;
    if (slot >= c->hdr->max_clients)
        return false;
    const client_slot *s = &c->slots[slot];
    return owner_alive(c, s, __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE));
}

bool registry_slot_used(shmc_cache *c, uint32_t slot)
{
    return slot < c->hdr->max_clients &&
           SLOT_STATE(__atomic_load_n(&c->slots[slot].owner, __ATOMIC_ACQUIRE)) != SLOT_FREE;
}

/* Is the client that wrote token into a lock gone? */
static bool token_dead(shmc_cache *c, uint32_t token)
{
    uint32_t slot = (token & 0xffffu) - 1;
    if ((token & 0xffffu) == 0 || slot >= c->hdr->max_clients)
        return true; /* not a token any client could write */
    client_slot *s = &c->slots[slot];
    if ((__atomic_load_n(&s->generation, __ATOMIC_ACQUIRE) & LOCK_GEN_MASK) !=
        lock_token_generation(token))
        return true; /* the slot was claimed again since: its owner died */
    return !registry_alive(c, slot);
}

static bool slot_alive_op(shmc_cache *c, uint32_t slot)
{
    return registry_alive(c, slot);
}

/* What the layers below ask (cache.h: owner_ops). */
static const owner_ops registry_owner_ops = {
    .slot_alive = slot_alive_op,
    .token_dead = token_dead,
    .repair = recovery_repair_lock,
};

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

/* Take slot i from its dead owner (word o) for c's process, as
 * SLOT_CLAIMING; false if another client got there first. */
static bool slot_take(shmc_cache *c, uint32_t i, uint64_t o)
{
    uint64_t mine = SLOT_OWNER(c->pid, SLOT_CLAIMING);
    return __atomic_compare_exchange_n(&c->slots[i].owner, &o, mine, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

/* Start a new generation of slot i: every token written under an earlier
 * one reads as dead from now on (token_dead).  Returns it. */
static uint32_t slot_new_generation(client_slot *s)
{
    return __atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
}

/* We hold slot i as SLOT_CLAIMING, its last owner died, and its generation
 * has moved on (slot_new_generation): the locks still held under a token
 * of an earlier generation (its owner's, or a reaper's that died here) are
 * taken over and repaired, its chunks freed and its counters kept.  c's
 * token must be set, and must not be a stale one of slot i: reaping takes
 * locks, and a waiter would take a lock held under a stale token over. */
static void slot_reap(shmc_cache *c, uint32_t i)
{
    client_slot *s = &c->slots[i];
    lock_release_stale(c, i);
    recovery_reap_slot(c, i);
    events_watch_drop(c, i); /* a dead watcher watches no more */
    slot_retire_counters(c, s);
    __atomic_fetch_add(&c->hdr->clients_recovered, 1, __ATOMIC_RELAXED);
}

/* Find a slot for c: a free one first (cheap), else one whose owner is
 * dead (each costs a /proc read).  Returns its index, or max_clients. */
static uint32_t slot_find(shmc_cache *c, bool *was_dead)
{
    uint32_t n = c->hdr->max_clients;
    for (uint32_t i = 0; i < n; i++)
        if (__atomic_load_n(&c->slots[i].owner, __ATOMIC_RELAXED) == 0 && slot_take(c, i, 0)) {
            *was_dead = false;
            return i;
        }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t o = __atomic_load_n(&c->slots[i].owner, __ATOMIC_ACQUIRE);
        if (o && !owner_alive(c, &c->slots[i], o) && slot_take(c, i, o)) {
            *was_dead = true;
            return i;
        }
    }
    return n;
}

shmc_status registry_attach(shmc_cache *c, const client_id *me)
{
    c->owners = &registry_owner_ops;
    c->pid = me->pid;
    c->pidns = me->pidns;
    bool was_dead = false;
    uint32_t i = slot_find(c, &was_dead);
    if (i >= c->hdr->max_clients)
        return SHMC_TOO_MANY_CLIENTS;
    client_slot *s = &c->slots[i];
    __atomic_store_n(&s->start_time, me->start, __ATOMIC_RELAXED);
    __atomic_store_n(&s->pidns, c->pidns, __ATOMIC_RELAXED);
    c->slot = i;
    /* the token of the new generation first: the reap below takes locks
     * with it, and every older token of the slot is stale from now on */
    c->token = lock_token(i, slot_new_generation(s));
    if (was_dead)
        slot_reap(c, i);
    struct timespec now;
    vdso_clock_gettime(CLOCK_REALTIME, &now);
    s->attached_at = (uint64_t)now.tv_sec;
    memset(s->lanes, 0, sizeof s->lanes);
    __atomic_store_n(&s->owner, SLOT_OWNER(c->pid, SLOT_ACTIVE), __ATOMIC_RELEASE);
    return SHMC_OK;
}

void registry_detach(shmc_cache *c)
{
    client_slot *s = &c->slots[c->slot];
    events_watch_drop(c, c->slot);
    slot_retire_counters(c, s);
    __atomic_store_n(&s->start_time, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
}

shmc_status registry_recover(shmc_cache *c, unsigned *reaped)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < c->hdr->max_clients; i++) {
        client_slot *s = &c->slots[i];
        uint64_t o = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
        if (i == c->slot || !o || owner_alive(c, s, o) || !slot_take(c, i, o))
            continue; /* free, alive, or being claimed by someone else */
        slot_new_generation(s); /* we reap with our own slot's token */
        slot_reap(c, i);
        __atomic_store_n(&s->start_time, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
        n++;
    }
    if (reaped)
        *reaped = n;
    return SHMC_OK;
}

unsigned registry_count(shmc_cache *c, unsigned *dead)
{
    unsigned live = 0, gone = 0;
    for (uint32_t i = 0; i < c->hdr->max_clients; i++) {
        uint64_t o = __atomic_load_n(&c->slots[i].owner, __ATOMIC_ACQUIRE);
        if (SLOT_STATE(o) != SLOT_ACTIVE)
            continue;
        if (i == c->slot || owner_alive(c, &c->slots[i], o))
            live++;
        else
            gone++;
    }
    if (dead)
        *dead = gone;
    return live;
}
