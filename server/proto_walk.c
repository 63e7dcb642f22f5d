/*
 * proto_walk.c - memcached's item listings (proto_walk.h) from the
 * library's item walk: shmc_dump_next, batch after batch, each line
 * rendered into a buffer of its own, handed over once the walk is done.
 *
 * Where the listings differ from memcached's: items come in memory order
 * (memcached: per class, LRU order), and "size" is the library's item
 * size (header, key, value: shmc_dump_item.size), not memcached's, whose
 * items carry a different header and the value's "\r\n".
 */
#include "proto_walk.h"

#include <inttypes.h>
#include <string.h>

#include "mc_lines.h"

#define WALK_BATCH 64       /* items per shmc_dump_next */
#define WALK_BUSY_TRIES 3   /* SHMC_BUSY answers of one position before the walk gives up */

/* The walk's state: a batch and where to go on. */
typedef struct walk {
    shmc_cache *cache;
    uint64_t cursor;                 /* shmc_dump_next's cursor */
    shmc_dump_item items[WALK_BATCH]; /* the current batch (keys and metadata only) */
    size_t n;                        /* entries of items filled */
    unsigned busy;                   /* SHMC_BUSY answers in a row */
} walk;

/* The next batch into w->items.  SHMC_OK with w->n > 0, or w->n == 0 at
 * the end; another status on failure. */
static shmc_status walk_batch(walk *w)
{
    w->n = 0;
    while (w->cursor != SHMC_DUMP_END && w->n == 0) {
        for (size_t i = 0; i < WALK_BATCH; i++) {
            w->items[i].buf = NULL;
            w->items[i].cap = 0;
        }
        shmc_status st = shmc_dump_next(w->cache, &w->cursor, w->items, WALK_BATCH, &w->n);
        if (st == SHMC_BUSY && w->n == 0 && ++w->busy >= WALK_BUSY_TRIES)
            return st;
        if (st != SHMC_OK && st != SHMC_BUSY && st != SHMC_CORRUPT)
            return st;
        if (w->n)
            w->busy = 0;
    }
    return SHMC_OK;
}

static bool put_metadump_line(srv_buf *b, const shmc_dump_item *it)
{
    char line[MC_LINE_MAX];
    size_t n = mc_metadump_line(line, it);
    line[n++] = '\n'; /* memcached ends these lines with \n alone */
    return srv_buf_add(b, line, n);
}

static bool put_cachedump_line(srv_buf *b, const shmc_dump_item *it)
{
    return srv_buf_add(b, "ITEM ", 5) && srv_buf_add(b, it->key, it->key_len) &&
           srv_buf_printf(b, " [%zu b; %" PRId64 " s]\r\n", it->len, it->exptime);
}

/* Walk every item, putting the line of each one keep() accepts into tmp
 * (at most limit lines; 0: no limit). */
static shmc_status walk_lines(shmc_cache *cache, srv_buf *tmp, uint32_t limit,
                              bool (*keep)(const shmc_dump_item *, const void *), const void *arg,
                              bool (*line)(srv_buf *, const shmc_dump_item *))
{
    static __thread walk w; /* a batch is 20 KB: not on a worker's stack */
    w.cache = cache;
    w.cursor = SHMC_DUMP_START;
    w.busy = 0;
    uint32_t lines = 0;
    for (;;) {
        shmc_status st = walk_batch(&w);
        if (st != SHMC_OK)
            return st;
        if (w.n == 0)
            return SHMC_OK;
        for (size_t i = 0; i < w.n; i++) {
            if (!keep(&w.items[i], arg))
                continue;
            if (!line(tmp, &w.items[i]))
                return SHMC_SYSTEM;
            if (limit && ++lines >= limit)
                return SHMC_OK;
        }
    }
}

static bool keep_wanted(const shmc_dump_item *it, const void *arg)
{
    const bool *want = arg;
    return !want || (it->class_id < WALK_MAX_CLASSES && want[it->class_id]);
}

static bool keep_class(const shmc_dump_item *it, const void *arg)
{
    return it->class_id == *(const unsigned *)arg;
}

/* Hand tmp's lines and end over to out if st is a finished walk. */
static shmc_status walk_finish(shmc_status st, srv_buf *tmp, const char *end, srv_buf *out)
{
    if (st == SHMC_OK && (!srv_buf_add(tmp, end, strlen(end)) ||
                          !srv_buf_add(out, tmp->data, tmp->len)))
        st = SHMC_SYSTEM;
    srv_buf_free(tmp);
    return st;
}

shmc_status walk_metadump(shmc_cache *cache, const bool *want, srv_buf *out)
{
    srv_buf tmp = {0};
    shmc_status st = walk_lines(cache, &tmp, 0, keep_wanted, want, put_metadump_line);
    return walk_finish(st == SHMC_CORRUPT ? SHMC_OK : st, &tmp, "END\r\n", out);
}

shmc_status walk_cachedump(shmc_cache *cache, unsigned clsid, uint32_t limit, srv_buf *out)
{
    srv_buf tmp = {0};
    shmc_status st = walk_lines(cache, &tmp, limit, keep_class, &clsid, put_cachedump_line);
    return walk_finish(st == SHMC_CORRUPT ? SHMC_OK : st, &tmp, "END\r\n", out);
}
