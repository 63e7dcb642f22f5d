/*
 * events.h - the event ring: what every client does, for watchers
 * (memcached's "watch"), in the segment so that every process writes to
 * it and any process reads it (layout.h: seg_event_ring).
 *
 * Writers write only while seg_header.watchers is not 0; the check is one
 * relaxed load of a header line every call reads anyway (events_on), so
 * without a watcher an event costs one predictable branch.  A writer
 * never waits: it claims a position with a fetch-add, copies, and
 * publishes.  A reader never trusts a slot it has not seen published
 * before and after its copy with the right checksum; what it could not
 * read is counted as skipped.  A writer that dies at any instruction
 * leaves at worst one slot unpublished, which readers skip.
 */
#ifndef SHMC_EVENTS_H
#define SHMC_EVENTS_H

#include "cache.h"

/* Whether anyone watches (the hot path's only cost). */
static inline bool events_on(const shmc_cache *c)
{
    return __builtin_expect(__atomic_load_n(&c->hdr->watchers, __ATOMIC_RELAXED) != 0, 0);
}

/* Write an event (inside the gate; any locks may be held: it takes none).
 * b's ticks, client and pid are filled here; key and nkey (1..250) must
 * be set; b is the caller's. */
void events_put(shmc_cache *c, seg_event_body *b);

/* An event of a call on a key (inside the gate; key is checked caller
 * memory or the library's, nkey 1..250). */
void events_put_key(shmc_cache *c, unsigned kind, shmc_status st, unsigned op, const void *key,
                    size_t nkey, int64_t ttl, unsigned clsid, size_t nbytes);

/* The ttl an exptime gives now (-1: never expires), and the class a
 * key and value of these lengths go to (0: none): for a store's event. */
int64_t events_ttl(const shmc_cache *c, int64_t exptime);
unsigned events_class(const shmc_cache *c, size_t nkey, size_t nbytes);

/* An event about item it (eviction: its stripe lock held). */
void events_put_item(shmc_cache *c, unsigned kind, const item_t *it, uint32_t now);

/* Start / stop watching for this handle's client (counted once per slot
 * in seg_header.watchers); start returns the position to read from. */
uint64_t events_watch_start(shmc_cache *c);
/* false if this client was not watching. */
bool events_watch_stop(shmc_cache *c);

/* A dead or leaving client's watches end (registry.c: reaping, close). */
void events_watch_drop(shmc_cache *c, uint32_t slot);

/*
 * Read from position *pos into out (up to n), returning how many; *pos
 * advances past what was read or skipped, and *skipped grows by the
 * events lost: overwritten before they were read (the reader fell more
 * than SEG_EVENTS behind), torn, or left unpublished by a writer that
 * died or stalled (a slot still unpublished after a short wait, once a
 * later one was claimed).  Stops at the first position not yet written.
 */
size_t events_read(shmc_cache *c, uint64_t *pos, shmc_event *out, size_t n, uint64_t *skipped);

/* Whether pos can be a read position now (not ahead of the head). */
bool events_pos_ok(const shmc_cache *c, uint64_t pos);

#endif
