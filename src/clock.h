/*
 * clock.h - the segment's clock and memcached's expiry and flush rules.
 *
 * Times inside the segment are 32-bit seconds relative to the header's
 * epoch, so every process agrees on them.  The test hook clock_offset
 * (shmc_clock_advance) moves the clock for every process at once.
 */
#ifndef SHMC_CLOCK_H
#define SHMC_CLOCK_H

#include <time.h>

#include "cache.h"
#include "vdso.h"

#define REALTIME_MAXDELTA (60 * 60 * 24 * 30) /* memcached: larger is absolute */

/* The segment's idea of Unix time now: seconds returned, and the
 * fraction of the second in *ts (coarse: it moves a few ms at a time). */
static inline int64_t clock_read(const shmc_cache *c, struct timespec *ts)
{
    vdso_clock_gettime(CLOCK_REALTIME_COARSE, ts);
    return (int64_t)ts->tv_sec + __atomic_load_n(&c->hdr->clock_offset, __ATOMIC_RELAXED);
}

/* The segment's idea of Unix time now. */
static inline int64_t clock_unix(const shmc_cache *c)
{
    struct timespec ts;
    return clock_read(c, &ts);
}

/* Segment-relative time now in ticks of 2^-20 s (about a microsecond; the
 * coarse clock moves a few milliseconds at a time): CAS values follow it
 * (cas.h).  Below 2^52 for as long as clock_now fits its 32 bits. */
static inline uint64_t clock_ticks(const shmc_cache *c)
{
    struct timespec ts;
    int64_t rel = clock_read(c, &ts) - c->hdr->epoch;
    if (rel < 0)
        return 0;
    return (uint64_t)rel << 20 | (uint64_t)ts.tv_nsec >> 10; /* nsec >> 10 < 2^20 */
}

/* Segment-relative seconds now (always >= 2). */
static inline uint32_t clock_now(const shmc_cache *c)
{
    int64_t rel = clock_unix(c) - c->hdr->epoch;
    return rel < 2 ? 2 : (uint32_t)rel;
}

/*
 * Turn a memcached exptime into a segment-relative expiry: 0 stays 0
 * (never); negative, or an absolute time not after now, gives 1 (already
 * expired); up to 30 days is relative to now; beyond, an absolute Unix time.
 */
static inline uint32_t clock_exptime(const shmc_cache *c, int64_t exptime)
{
    if (exptime == 0)
        return 0;
    if (exptime < 0)
        return 1;
    int64_t rel;
    if (exptime > REALTIME_MAXDELTA)
        rel = exptime - c->hdr->epoch;
    else
        rel = (int64_t)clock_now(c) + exptime;
    if (rel <= 1)
        return 1;
    return rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
}

/* Why an item is no longer visible. */
enum item_liveness { ITEM_LIVE = 0, ITEM_EXPIRED, ITEM_FLUSHED };

/* Whether a linked item is still visible at relative time now. */
static inline enum item_liveness clock_liveness(const shmc_cache *c, const item_t *it, uint32_t now)
{
    if (it->exptime != 0 && it->exptime <= now)
        return ITEM_EXPIRED;
    uint32_t ft = __atomic_load_n(&c->hdr->flush_time, __ATOMIC_RELAXED);
    if (ft != 0 && ft <= now && it->atime <= ft)
        return ITEM_FLUSHED;
    if (it->cas <= __atomic_load_n(&c->hdr->flush_cas, __ATOMIC_RELAXED))
        return ITEM_FLUSHED;
    return ITEM_LIVE;
}

#endif
