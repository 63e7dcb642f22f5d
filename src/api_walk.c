/*
 * api_walk.c - the public entry points that read the cache as a stream
 * rather than by key: shmc_dump_next (the item walk, iter.c) and the
 * watch calls (the event ring, events.c).
 *
 * As in api.c, every caller pointer is checked (vault_range_ok) before the
 * segment is touched and caller memory is read once, into locals; the
 * walk runs no caller code: a batch is copied out and the call returns.
 */
#include <string.h>

#include "bounds.h"
#include "events.h"
#include "gate.h"
#include "iter.h"

#define DUMP_CHUNKS_PER_CALL 4096u /* chunks one shmc_dump_next visits at most */

/* Is [p, p+len) caller memory (vault.h)?  In an entry point, inside the gate. */
#define ARG_OK(p, len) vault_range_ok((p), (len), frame)

/* Fill one entry from pos (inside the gate): the entry's buf and cap are
 * read once and checked.  SHMC_INVALID for a bad buf, else as iter_next. */
static shmc_status dump_one(shmc_cache *c, uint64_t *pos, uint32_t *budget, shmc_dump_item *e,
                            uintptr_t frame)
{
    void *buf = e->buf;
    size_t cap = e->cap;
    if (buf ? !ARG_OK(buf, cap) : cap != 0)
        return SHMC_INVALID;
    shmc_dump_item tmp;
    shmc_status st = iter_next(c, pos, budget, buf, cap, &tmp);
    if (st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL) {
        tmp.buf = buf;
        tmp.cap = cap;
        tmp.status = st;
        memcpy(e, &tmp, sizeof tmp);
    }
    return st;
}

/* The walk of up to n entries from *pos (inside the gate, arguments
 * checked): the number filled. */
static size_t dump_batch(shmc_cache *c, uint64_t *pos, shmc_dump_item *items, size_t n,
                         shmc_status *st, uintptr_t frame)
{
    uint32_t budget = DUMP_CHUNKS_PER_CALL;
    size_t got = 0;
    *st = SHMC_OK;
    while (got < n && *pos != ITER_END) {
        shmc_status one = dump_one(c, pos, &budget, &items[got], frame);
        if (one == SHMC_OK || one == SHMC_BUFFER_TOO_SMALL) {
            got++;
            continue;
        }
        if (one != SHMC_NOT_FOUND)
            *st = one; /* SHMC_BUSY or SHMC_INVALID: stop here */
        break;
    }
    return got;
}

shmc_status shmc_dump_next(shmc_cache *c, uint64_t *cursor, shmc_dump_item *items, size_t n,
                           size_t *got)
{
    uintptr_t frame = GATE_FRAME();
    if (!cursor || !got || (n && !items) || n > SIZE_MAX / sizeof *items)
        return SHMC_INVALID;
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    shmc_status st = SHMC_INVALID;
    uint64_t pos = 0;
    size_t filled = 0;
    bool walked = false;
    if (ARG_OK(cursor, sizeof *cursor) && ARG_OK(got, sizeof *got) &&
        ARG_OK(items, n * sizeof *items)) {
        pos = *cursor;
        if (iter_pos_ok(c, pos)) {
            uint32_t damage = bounds_hits();
            filled = dump_batch(c, &pos, items, n, &st, frame);
            st = bounds_status(damage, st);
            walked = true;
        }
    }
    gate_leave();
    if (walked) {
        *cursor = pos;
        *got = filled;
    }
    return st;
}

unsigned shmc_event_group(unsigned kind)
{
    switch (kind) {
    case SHMC_EV_GET: return SHMC_WATCH_FETCHERS;
    case SHMC_EV_STORE: case SHMC_EV_DELETE: case SHMC_EV_ARITH: case SHMC_EV_TOUCH:
        return SHMC_WATCH_MUTATIONS;
    case SHMC_EV_EVICT: return SHMC_WATCH_EVICTIONS;
    default: return 0;
    }
}

shmc_status shmc_watch_start(shmc_cache *c, uint64_t *cursor)
{
    uintptr_t frame = GATE_FRAME();
    if (!cursor)
        return SHMC_INVALID;
    shmc_status st = gate_enter(c);
    if (st != SHMC_OK)
        return st;
    uint64_t pos = 0;
    if (ARG_OK(cursor, sizeof *cursor))
        pos = events_watch_start(c);
    else
        st = SHMC_INVALID;
    gate_leave();
    if (st == SHMC_OK)
        *cursor = pos;
    return st;
}

shmc_status shmc_watch_stop(shmc_cache *c)
{
    shmc_status st = gate_enter(c);
    if (st != SHMC_OK)
        return st;
    st = events_watch_stop(c) ? SHMC_OK : SHMC_NOT_FOUND;
    gate_leave();
    return st;
}

shmc_status shmc_watch_next(shmc_cache *c, uint64_t *cursor, shmc_event *events, size_t n,
                            size_t *got, uint64_t *skipped)
{
    uintptr_t frame = GATE_FRAME();
    if (!cursor || !got || (n && !events) || n > SIZE_MAX / sizeof *events)
        return SHMC_INVALID;
    shmc_status st = gate_enter(c);
    if (st != SHMC_OK)
        return st;
    uint64_t pos = 0, lost = 0;
    size_t filled = 0;
    st = SHMC_INVALID;
    if (ARG_OK(cursor, sizeof *cursor) && ARG_OK(got, sizeof *got) &&
        (!skipped || ARG_OK(skipped, sizeof *skipped)) && ARG_OK(events, n * sizeof *events)) {
        pos = *cursor;
        if (events_pos_ok(c, pos)) {
            filled = events_read(c, &pos, events, n, &lost);
            st = SHMC_OK;
        }
    }
    gate_leave();
    if (st == SHMC_OK) {
        *cursor = pos;
        *got = filled;
        if (skipped)
            *skipped += lost;
    }
    return st;
}
