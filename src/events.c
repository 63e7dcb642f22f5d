/*
 * events.c - the event ring (events.h): writers, the watcher count, and
 * the reader that tells published slots from overwritten, torn and
 * unfinished ones.
 *
 * Owns: seg_event_ring and the watch counts (seg_header.watchers,
 * client_slot.watching).  A slot's seq is the single word a writer
 * changes to claim and to publish it, by compare-and-swap so that a slow
 * writer lapped by a later one never moves it back: a writer whose claim
 * finds a later position there drops its event (the reader counts it
 * skipped).  The checksum catches the one overlap the seq cannot: two
 * writers a lap apart copying into the same slot at once.
 */
#include "events.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crashpoint.h"
#include "hash.h"
#include "slabs.h"

_Static_assert(sizeof(((seg_event_body *)0)->key) == SHMC_KEY_MAX, "an event holds any key");

#define EV_MASK (SEG_EVENTS - 1)
#define EV_WAIT_NS 200000 /* how long a reader waits for a claimed slot to be published */

/* Bytes of a body the checksum covers: up to the end of its key. */
static size_t ev_body_len(unsigned nkey)
{
    return offsetof(seg_event_body, key) + nkey;
}

static uint32_t ev_check(const seg_event_body *b)
{
    return hash_key(b, ev_body_len(b->nkey));
}

void events_put(shmc_cache *c, seg_event_body *b)
{
    b->ticks = clock_ticks(c);
    b->client = c->slot;
    b->pid = c->pid;
    seg_event_ring *r = c->events;
    uint64_t pos = __atomic_fetch_add(&r->head, 1, __ATOMIC_RELAXED);
    seg_event *e = &r->ev[pos & EV_MASK];
    uint64_t want = 2 * pos + 1, cur = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
    do {
        if (cur >= want)
            return; /* a writer a lap ahead has the slot: this event is lost */
    } while (!__atomic_compare_exchange_n(&e->seq, &cur, want, true, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    __atomic_thread_fence(__ATOMIC_RELEASE); /* the odd seq before the body */
    CRASH_POINT("event.claimed");
    memcpy(&e->b, b, ev_body_len(b->nkey));
    e->check = ev_check(b);
    CRASH_POINT("event.written");
    __atomic_compare_exchange_n(&e->seq, &want, want + 1, false, __ATOMIC_RELEASE,
                                __ATOMIC_RELAXED); /* fails only if lapped meanwhile */
}

void events_put_key(shmc_cache *c, unsigned kind, shmc_status st, unsigned op, const void *key,
                    size_t nkey, int64_t ttl, unsigned clsid, size_t nbytes)
{
    seg_event_body b;
    b.ttl = ttl < INT32_MIN ? INT32_MIN : ttl > INT32_MAX ? INT32_MAX : (int32_t)ttl;
    b.nbytes = nbytes > UINT32_MAX ? UINT32_MAX : (uint32_t)nbytes;
    b.atime = 0;
    b.kind = (uint8_t)kind;
    b.status = (uint8_t)st;
    b.op = (uint8_t)op;
    b.clsid = (uint8_t)clsid;
    b.nkey = (uint8_t)nkey;
    b.fetched = 0;
    b.pad[0] = b.pad[1] = 0;
    memcpy(b.key, key, nkey);
    events_put(c, &b);
}

int64_t events_ttl(const shmc_cache *c, int64_t exptime)
{
    uint32_t exp = clock_exptime(c, exptime);
    return exp ? (int64_t)exp - (int64_t)clock_now(c) : -1;
}

unsigned events_class(const shmc_cache *c, size_t nkey, size_t nbytes)
{
    size_t total = item_total(nkey, nbytes);
    return total > c->hdr->item_size_max ? 0 : slabs_clsid(c, total);
}

void events_put_item(shmc_cache *c, unsigned kind, const item_t *it, uint32_t now)
{
    seg_event_body b;
    b.ttl = it->exptime ? (int32_t)((int64_t)it->exptime - now) : -1;
    b.nbytes = it->nbytes;
    b.atime = it->atime;
    b.kind = (uint8_t)kind;
    b.status = SHMC_OK;
    b.op = 0;
    b.clsid = it->clsid;
    b.nkey = it->nkey;
    b.fetched = (__atomic_load_n(&it->iflags, __ATOMIC_RELAXED) & IFLAG_FETCHED) != 0;
    b.pad[0] = b.pad[1] = 0;
    memcpy(b.key, it->data, it->nkey);
    events_put(c, &b);
}

/* One slot fewer watches (never below 0, whatever a damaged count says). */
static void events_unwatch_slot(shmc_cache *c)
{
    uint32_t cur = __atomic_load_n(&c->hdr->watchers, __ATOMIC_RELAXED);
    while (cur && !__atomic_compare_exchange_n(&c->hdr->watchers, &cur, cur - 1, true,
                                               __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

uint64_t events_watch_start(shmc_cache *c)
{
    uint32_t *w = &c->slots[c->slot].watching;
    if (__atomic_fetch_add(w, 1, __ATOMIC_RELAXED) == 0)
        __atomic_fetch_add(&c->hdr->watchers, 1, __ATOMIC_RELAXED);
    return __atomic_load_n(&c->events->head, __ATOMIC_ACQUIRE);
}

bool events_watch_stop(shmc_cache *c)
{
    uint32_t *w = &c->slots[c->slot].watching;
    uint32_t cur = __atomic_load_n(w, __ATOMIC_RELAXED);
    do {
        if (cur == 0)
            return false;
    } while (!__atomic_compare_exchange_n(w, &cur, cur - 1, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    if (cur == 1)
        events_unwatch_slot(c);
    return true;
}

void events_watch_drop(shmc_cache *c, uint32_t slot)
{
    if (__atomic_exchange_n(&c->slots[slot].watching, 0, __ATOMIC_RELAXED) != 0)
        events_unwatch_slot(c);
}

bool events_pos_ok(const shmc_cache *c, uint64_t pos)
{
    return pos <= __atomic_load_n(&c->events->head, __ATOMIC_ACQUIRE);
}

static int64_t ev_mono_ns(void)
{
    struct timespec ts;
    vdso_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The public form of a body read at position pos. */
static void ev_export(const shmc_cache *c, const seg_event_body *b, uint64_t pos, shmc_event *o)
{
    int64_t epoch = c->hdr->epoch;
    o->seq = pos;
    o->kind = b->kind;
    o->status = (shmc_status)b->status;
    o->op = b->op;
    o->client = b->client;
    o->pid = b->pid;
    o->time_sec = epoch + (int64_t)(b->ticks >> 20);
    o->time_usec = (uint32_t)(((b->ticks & 0xfffffu) * 1000000u) >> 20);
    o->ttl = b->ttl;
    o->class_id = b->clsid;
    o->len = b->nbytes;
    o->fetched = b->fetched;
    o->last_access = b->kind == SHMC_EV_EVICT ? epoch + b->atime : 0;
    o->key_len = b->nkey;
    memcpy(o->key, b->key, b->nkey);
}

/* Copy the body at slot e if it holds position pos, published and whole. */
static bool ev_copy(const seg_event *e, uint64_t pos, seg_event_body *b)
{
    uint64_t done = 2 * pos + 2;
    if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) != done)
        return false;
    memcpy(b, &e->b, sizeof *b);
    uint32_t check = e->check;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != done)
        return false; /* rewritten while we copied */
    return b->nkey >= 1 && b->nkey <= SHMC_KEY_MAX && check == ev_check(b);
}

/* Wait briefly for slot e, claimed for pos or before, to be published:
 * true if it was (or moved past pos). */
static bool ev_wait(const seg_event *e, uint64_t pos)
{
    int64_t until = ev_mono_ns() + EV_WAIT_NS;
    do {
        if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) >= 2 * pos + 2)
            return true;
        __builtin_ia32_pause();
    } while (ev_mono_ns() < until);
    return false;
}

size_t events_read(shmc_cache *c, uint64_t *pos, shmc_event *out, size_t n, uint64_t *skipped)
{
    seg_event_ring *r = c->events;
    uint64_t p = *pos, lost = 0;
    size_t got = 0;
    seg_event_body b;
    while (got < n) {
        uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        if (p >= head)
            break;
        if (head - p > SEG_EVENTS) { /* overwritten before we came */
            lost += head - SEG_EVENTS - p;
            p = head - SEG_EVENTS;
        }
        const seg_event *e = &r->ev[p & EV_MASK];
        if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) < 2 * p + 2 && !ev_wait(e, p) &&
            __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == p + 1)
            break; /* the newest event, still being written: next time */
        if (ev_copy(e, p, &b))
            ev_export(c, &b, p, &out[got++]);
        else
            lost++; /* overwritten, torn, or its writer died or stalls */
        p++;
    }
    *pos = p;
    *skipped += lost;
    return got;
}
