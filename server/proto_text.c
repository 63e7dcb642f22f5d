/*
 * proto_text.c - memcached's text and meta protocols for shmcached's
 * server: the executor and proto_text_process() (protocol.h).
 *
 * proto_text_parse() (proto_text_parse.c) turns bytes into a request;
 * here each request runs against s->cache through the public API only
 * (shmcached.h) and memcached's exact reply is rendered into out.
 *
 * Where the daemon differs from memcached, and why:
 *  - a line over 2048 bytes without \n closes the connection silently, as
 *    memcached does; a get/gets line may be longer (memcached: unbounded;
 *    we close past TEXT_GET_LINE_MAX = 1 MiB);
 *  - "stats reset": the counters live in the shared segment and other
 *    processes read them, so one server must not zero them; instead this
 *    server keeps a baseline taken at the reset and reports counters
 *    relative to it, also per slab class for "stats items" (gauges such
 *    as curr_items and bytes are not reset, as in memcached);
 *  - "cache_memlimit N" sets the limit (shmc_set_memlimit) up to the
 *    segment's size, which is fixed at creation: above it the answer is
 *    memcached's "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust";
 *  - "slabs automove N" answers OK (0, 1, 2) but the engine's automove
 *    is a creation parameter of the segment (shmc_config.slab_automove);
 *    "slabs reassign" moves a page at once (shmc_slabs_reassign, which
 *    evicts the page's items) with memcached's answers;
 *  - "lru_crawler": "crawl <ids|all>" asks the daemon's crawler thread
 *    (server/crawler.c) for a whole crawl and answers OK, or BUSY while
 *    one runs (BADCLASS for bad ids); enable/disable switch the daemon's
 *    lru_crawler setting with memcached's answers (enable while enabled:
 *    "ERROR failed to start lru crawler thread"; crawl/metadump while
 *    disabled: "CLIENT_ERROR lru crawler disabled"); sleep/tocrawl answer
 *    OK after memcached's checks; "metadump" lists the items from the
 *    library's walk (proto_walk.c), answering in a pipeline as any
 *    command (memcached hands the connection to its crawler);
 *  - memcached allocates an item for a storage command's data before it
 *    reads it, and answers "SERVER_ERROR out of memory storing object"
 *    when that fails; an append/prepend whose joined item then finds no
 *    memory is NOT_STORED (meta NS), the value kept.  shmcached reads the
 *    data into the connection's buffer, so only the joined item can fail:
 *    it answers NOT_STORED / NS as memcached does then;
 *  - "lru mode flat" answers OK and shows in stats settings, but the
 *    engine's LRU stays segmented;
 *  - "watch" streams the segment's events (proto_watch.c): every client's,
 *    in memcached's line formats where they map (mc_lines.h);
 *  - "stats sizes" answers "STAT sizes_status disabled" (no histogram);
 *  - "stats detail": counted by this server for its own commands only
 *    (proto_detail.h), so a library client's operations do not show;
 *  - "stats cachedump" lists in memory order, not LRU order (proto_walk.c);
 *  - a get with a key over 250 bytes fails before any key is fetched
 *    (memcached fetches the keys before it, then drops their values);
 *  - settings->max_reqs_per_event is not used here: process() handles
 *    every complete request in the buffer (yielding would need the daemon
 *    to call again without new input);
 *  - -Y (settings->auth): until authenticated, requests go to
 *    proto_auth_process() (proto_auth.c), memcached's exact exchange; the
 *    "stats" counters auth_cmds / auth_errors are not kept;
 *  - -S without -Y (settings->sasl, no auth): the daemon never negotiates
 *    text then (settings_check_auth); should text reach here anyway, it
 *    has no way to authenticate, so nothing is served: the connection
 *    closes unanswered, as a text byte does under -B binary.
 *
 * A command whose cache call could not run (SHMC_BUSY, SHMC_STALE:
 * protocol.h) answers "SERVER_ERROR <why>" (unavailable()) instead of its
 * own reply, never a miss or "out of memory"; one key of a get that meets
 * it replaces the whole reply.  Reads made only to report a meta flag
 * once the command did its work (ma's c and t, the clock behind a t just
 * set) keep their fallback values: the next command meets the condition.
 */
#include <inttypes.h>
#include <stdio.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "item_size.h"
#include "protocol.h"
#include "proto_text_parse.h"
#include "proto_detail.h"
#include "proto_walk.h"
#include "proto_watch.h"
#include "stats_names.h"

bool text_parse_i32(const char *p, size_t n, int32_t *out);
bool text_parse_u32(const char *p, size_t n, uint32_t *out);

typedef struct ctx {
    srv_session *s;
    shmc_cache *cache;
    const srv_settings *set;
    srv_buf *out;
    bool oom;
    bool retired;           /* a call answered SHMC_STALE: the stale reply is written */
} ctx;

static const srv_settings default_settings = {
    .item_size_max = 1u << 20,
    .allow_shutdown = 0,
    .cas_enabled = 1,
    .flush_enabled = 1,
    .verbose = 0,
    .max_reqs_per_event = 20,
    .version = SHMC_VERSION_STRING,
};

static void put(ctx *c, const void *p, size_t n)
{
    if (!srv_buf_add(c->out, p, n))
        c->oom = true;
}

static void put_str(ctx *c, const char *s)
{
    put(c, s, strlen(s));
}

/* prefix then v in decimal (the hot reply paths: no printf). */
static void put_num(ctx *c, const char *prefix, uint64_t v)
{
    char num[24];
    put_str(c, prefix);
    put(c, num, fmt_u64(v, num));
}

/* The same for a signed value (a meta TTL of -1). */
static void put_snum(ctx *c, const char *prefix, int64_t v)
{
    put_str(c, prefix);
    if (v < 0) {
        put(c, "-", 1);
        v = -v;
    }
    char num[24];
    put(c, num, fmt_u64((uint64_t)v, num));
}

#define PUTF(c, ...) do { if (!srv_buf_printf((c)->out, __VA_ARGS__)) (c)->oom = true; } while (0)

/* A reply line, unless the request asked for noreply. */
static void reply(ctx *c, const text_request *r, const char *line)
{
    if (r->noreply)
        return;
    put_str(c, line);
    put(c, "\r\n", 2);
}

static void stat_u64(ctx *c, const char *name, uint64_t v)
{
    PUTF(c, "STAT %s %" PRIu64 "\r\n", name, v);
}

/*
 * If st says the cache could not run the call (SHMC_BUSY, SHMC_STALE),
 * answer "SERVER_ERROR <why>" and return true; else write nothing and
 * return false.  A busy answer honours noreply as the other SERVER_ERROR
 * replies do (a noreply client reads no reply, so one it did not expect
 * would answer its next command); it is counted all the same.  The stale
 * answer is always written: the connection closes after it (SRV_RETIRED).
 */
static bool unavailable(ctx *c, shmc_status st, bool noreply)
{
    const char *msg = srv_unavailable_take(st, &c->retired);
    if (!msg)
        return false;
    if (st != SHMC_STALE && noreply)
        return true;
    put_str(c, "SERVER_ERROR ");
    put_str(c, msg);
    put(c, "\r\n", 2);
    return true;
}

/* As memcached, a store that failed (too large, out of memory) leaves no
 * stale value: drop r's key.  False once the busy or stale answer is
 * written instead (the old value may still be there). */
static bool drop_old_value(ctx *c, const text_request *r, bool noreply)
{
    return !unavailable(c, shmc_delete(c->cache, r->key, r->nkey, 0), noreply);
}

/* shmc_get_info into a malloc'd buffer: the value with its metadata
 * (opts: SHMC_GET_TOUCH for gat, SHMC_GET_NO_BUMP for meta u).  A call
 * answered SHMC_BUFFER_TOO_SMALL is only a size probe in the library (no
 * hit counted, no recache token taken), so retrying is one get. */
static shmc_status get_info_alloc(shmc_cache *cache, const char *k, size_t nk,
                                  const shmc_get_options *opts, void **val, size_t *vlen,
                                  shmc_item_info *info)
{
    size_t cap = 256;
    for (int tries = 0; tries < 16; tries++) {
        char *buf = malloc(cap ? cap : 1);
        if (!buf)
            return SHMC_SYSTEM;
        size_t len = cap;
        shmc_status st = shmc_get_info(cache, k, nk, opts, buf, &len, info);
        if (st == SHMC_OK) {
            *val = buf;
            *vlen = len;
            return SHMC_OK;
        }
        free(buf);
        if (st != SHMC_BUFFER_TOO_SMALL)
            return st;
        cap = len; /* it grew meanwhile: try again with its size */
    }
    return SHMC_SYSTEM;
}

/* ------------------------------------------------------------------ */
/* Text commands                                                       */
/* ------------------------------------------------------------------ */

/*
 * One "VALUE key flags bytes [cas]" block of a text get, with the value
 * copied by the library straight into the output buffer: room for the
 * header is left before it, the header is written once the length is
 * known, and the value slides down behind it (a move within the buffer,
 * not a second copy from the cache).
 */
/* The longest "VALUE key flags bytes cas\r\n" for a key of nk bytes. */
#define VALUE_HEADER_MAX(nk) \
    (sizeof "VALUE   4294967295 18446744073709551615 18446744073709551615\r\n" + (nk))

/* "VALUE key flags bytes [cas]\r\n" at dst; returns its length. */
static size_t value_header(char *dst, const char *k, size_t nk, uint32_t flags, size_t bytes,
                           bool with_cas, uint64_t cas)
{
    char *p = dst;
    memcpy(p, "VALUE ", 6);
    p += 6;
    memcpy(p, k, nk);
    p += nk;
    *p++ = ' ';
    p += fmt_u64(flags, p);
    *p++ = ' ';
    p += fmt_u64(bytes, p);
    if (with_cas) {
        *p++ = ' ';
        p += fmt_u64(cas, p);
    }
    *p++ = '\r';
    *p++ = '\n';
    return (size_t)(p - dst);
}

static shmc_status get_value_block(ctx *c, const char *k, size_t nk,
                                   const shmc_get_options *o, bool with_cas)
{
    size_t room = VALUE_HEADER_MAX(nk);
    size_t guess = 2048;
    for (int tries = 0; tries < 16; tries++) {
        if (!srv_buf_reserve(c->out, room + guess + 2))
            return SHMC_SYSTEM;
        char *hdr = c->out->data + c->out->len;
        size_t len = guess;
        shmc_item_info info;
        shmc_status st = shmc_get_info(c->cache, k, nk, o, hdr + room, &len, &info);
        if (st == SHMC_BUFFER_TOO_SMALL) {
            /* the value's size now (the probe counted nothing): make room
             * and read again */
            guess = len;
            continue;
        }
        if (st != SHMC_OK)
            return st;
        uint64_t cs = c->set->cas_enabled ? info.cas : 0;
        size_t hl = value_header(hdr, k, nk, info.flags, len, with_cas, cs);
        memmove(hdr + hl, hdr + room, len);
        memcpy(hdr + hl + len, "\r\n", 2);
        c->out->len += (size_t)hl + len + 2;
        return SHMC_OK;
    }
    return SHMC_SYSTEM;
}

/*
 * The most one get/gets/gat/gats reply may hold: GET_REPLY_MAX, or one
 * value of the largest size if -I allows more.  Values are copied into the
 * reply (memcached's point at the items instead), so without a bound a
 * one-line "get k k k ..." of a 1 MB item, up to 1 MiB of keys, would ask
 * for hundreds of GB.  Past it the reply is what memcached sends when it
 * runs out of memory for a get's reply: the values gathered are dropped
 * and "SERVER_ERROR out of memory writing get response" takes their place.
 * With -o read_buf_mem_limit the bound is also what the budget has free
 * (protocol.h), as memcached answers once its pool of buffers runs dry.
 */
#define GET_REPLY_MAX ((size_t)64 << 20)

static size_t get_reply_limit(const ctx *c)
{
    size_t one = (size_t)c->set->item_size_max + 4096; /* a value and its header */
    size_t limit = one > GET_REPLY_MAX ? one : GET_REPLY_MAX;
    /* -o read_buf_mem_limit: no more than the daemon's budget has free */
    size_t room = srv_mem_room(c->set->mem_budget);
    return room < limit ? room : limit;
}

/* What follows one key's read in a get: the detail stats, and the end
 * of the reply if the read or the reply's size says so (the values
 * gathered since start are dropped).  False once the reply is ended. */
static bool get_key_done(ctx *c, const char *k, size_t nk, shmc_status st, size_t start,
                         size_t limit)
{
    detail_record(c->set->prefix_delimiter, k, nk, DETAIL_GET, st == SHMC_OK);
    if (st == SHMC_SYSTEM)
        c->oom = true;
    if (srv_unavailable_msg(st)) { /* the values gathered are dropped, as past the limit */
        c->out->len = start;
        unavailable(c, st, false);
        return false;
    }
    if (c->out->len - start > limit) {
        c->out->len = start;
        srv_count(SRV_RESPONSE_OBJ_OOM, 1); /* memcached counts its answer so */
        put_str(c, "SERVER_ERROR out of memory writing get response\r\n");
        return false;
    }
    return true;
}

/* The next key of a get line at *p (before end), or NULL at its end. */
static const char *get_key_next(const char **p, const char *end, size_t *nk)
{
    const char *q = *p;
    while (q < end && *q == ' ')
        q++;
    const char *k = q;
    while (q < end && *q != ' ')
        q++;
    *p = q;
    *nk = (size_t)(q - k);
    return *nk ? k : NULL;
}

/*
 * A get or gets reads its keys SRV_GET_BATCH at a time with one
 * shmc_get_multi: one gate for them all, and their cache misses overlap
 * (src/items.c, items_get_batch).  The values land in the worker's slots
 * (srv_get_scratch, protocol.h) and are written out in the keys' order; a
 * larger value is read again alone, straight into the reply, as
 * get_value_block reads (the batch's read of it was a size probe, which
 * counts nothing).
 */

/* One entry of a batch read, written out as get_value_block writes it. */
static shmc_status get_batch_block(ctx *c, const shmc_value *v, bool with_cas)
{
    if (v->status == SHMC_BUFFER_TOO_SMALL) {
        shmc_get_options o = {0};
        return get_value_block(c, v->key, v->key_len, &o, with_cas);
    }
    if (v->status != SHMC_OK)
        return v->status;
    size_t room = VALUE_HEADER_MAX(v->key_len);
    if (!srv_buf_reserve(c->out, room + v->len + 2))
        return SHMC_SYSTEM;
    char *hdr = c->out->data + c->out->len;
    uint64_t cs = c->set->cas_enabled ? v->cas : 0;
    size_t hl = value_header(hdr, v->key, v->key_len, v->flags, v->len, with_cas, cs);
    memcpy(hdr + hl, v->buf, v->len);
    memcpy(hdr + hl + v->len, "\r\n", 2);
    c->out->len += hl + v->len + 2;
    return SHMC_OK;
}

/* A get or gets: batch by batch.  False once the reply is ended. */
static bool get_batched(ctx *c, const char **p, const char *end, bool with_cas, size_t start,
                        size_t limit)
{
    while (!c->oom) {
        shmc_value v[SRV_GET_BATCH];
        size_t m = 0, nk;
        for (const char *k; m < SRV_GET_BATCH && (k = get_key_next(p, end, &nk)); m++)
            v[m] = (shmc_value){.key = k, .key_len = nk, .buf = srv_get_scratch[m],
                                .cap = SRV_GET_SLOT};
        if (m == 0)
            return true;
        shmc_status all = shmc_get_multi(c->cache, v, m);
        for (size_t i = 0; i < m; i++) {
            if (all != SHMC_OK)
                v[i].status = all; /* busy or stale: no entry was read */
            shmc_status st = get_batch_block(c, &v[i], with_cas);
            if (!get_key_done(c, v[i].key, v[i].key_len, st, start, limit))
                return false;
            if (c->oom)
                return true;
        }
    }
    return true;
}

/* A gat or gats: key by key, each read with its touch. */
static bool get_touching(ctx *c, const char **p, const char *end, bool with_cas,
                         int64_t exptime, size_t start, size_t limit)
{
    size_t nk;
    for (const char *k; !c->oom && (k = get_key_next(p, end, &nk));) {
        shmc_get_options o = {.flags = SHMC_GET_TOUCH, .exptime = exptime};
        shmc_status st = get_value_block(c, k, nk, &o, with_cas);
        if (!get_key_done(c, k, nk, st, start, limit))
            return false;
    }
    return true;
}

static void exec_get(ctx *c, text_request *r)
{
    bool with_cas = r->cmd == TC_GETS || r->cmd == TC_GATS;
    bool touch = r->cmd == TC_GAT || r->cmd == TC_GATS;
    const char *p = r->keys;
    size_t start = c->out->len, limit = get_reply_limit(c);
    bool go = touch ? get_touching(c, &p, r->line_end, with_cas, r->exptime, start, limit)
                    : get_batched(c, &p, r->line_end, with_cas, start, limit);
    if (go)
        put(c, "END\r\n", 5);
}

/*
 * -C: items carry no CAS for the client (memcached's CAS 0), so a CAS
 * compare in memcached meets 0: "cas" and "ms C" (set/replace) never
 * match an existing item, "md C<n>" / "ma C<n>" match only n == 0, and
 * "ms C" on append/prepend is not compared at all.  SHMC_EXISTS if the
 * key is there, else SHMC_NOT_FOUND.
 */
static shmc_status nocas_probe(ctx *c, const text_request *r)
{
    const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
    shmc_status st = shmc_get_info(c->cache, r->key, r->nkey, &nobump, NULL, NULL, NULL);
    return st == SHMC_OK ? SHMC_EXISTS : st;
}

static void exec_store(ctx *c, text_request *r)
{
    shmc_store_mode mode = SHMC_SET;
    switch (r->cmd) {
    case TC_ADD: mode = SHMC_ADD; break;
    case TC_REPLACE: mode = SHMC_REPLACE; break;
    case TC_APPEND: mode = SHMC_APPEND; break;
    case TC_PREPEND: mode = SHMC_PREPEND; break;
    case TC_CAS: mode = SHMC_CAS; break;
    default: break;
    }
    bool concat = mode == SHMC_APPEND || mode == SHMC_PREPEND;
    shmc_status st;
    detail_record(c->set->prefix_delimiter, r->key, r->nkey, DETAIL_SET, false);
    if (mode == SHMC_CAS && !c->set->cas_enabled)
        st = nocas_probe(c, r);
    else if (concat && mc_concat_too_large(c->cache, r->key, r->nkey, r->data_len,
                                           c->set->item_size_max, c->set->cas_enabled))
        st = SHMC_NOT_STORED;
    else
        st = shmc_store(c->cache, mode, r->key, r->nkey, r->data, r->data_len, r->flags,
                        r->exptime, r->cas, NULL);
    if (st == SHMC_TOO_LARGE && concat) /* memcached: the joined item does not fit */
        st = SHMC_NOT_STORED;
    if (unavailable(c, st, r->noreply))
        return;
    switch (st) {
    case SHMC_OK: reply(c, r, "STORED"); break;
    case SHMC_NOT_STORED: reply(c, r, "NOT_STORED"); break;
    case SHMC_EXISTS: reply(c, r, "EXISTS"); break;
    case SHMC_NOT_FOUND: reply(c, r, "NOT_FOUND"); break;
    case SHMC_TOO_LARGE:
        srv_count(SRV_STORE_TOO_LARGE, 1);
        reply(c, r, "SERVER_ERROR object too large for cache");
        break;
    case SHMC_NO_MEMORY:
        /* as memcached: an append whose joined item finds no memory is
         * NOT_STORED, the value kept (its data's own item was allocated:
         * shmcached needs none, see the top of this file) */
        if (concat) {
            srv_count(SRV_STORE_NO_MEMORY, 1);
            reply(c, r, "NOT_STORED");
            break;
        }
        /* as memcached: a failed set leaves no stale value */
        if (r->cmd != TC_SET || drop_old_value(c, r, r->noreply)) {
            srv_count(SRV_STORE_NO_MEMORY, 1);
            reply(c, r, "SERVER_ERROR out of memory storing object");
        }
        break;
    case SHMC_BAD_KEY: reply(c, r, "CLIENT_ERROR bad command line format"); break;
    default: reply(c, r, "SERVER_ERROR Unhandled storage type."); break;
    }
}

static void exec_arith(ctx *c, text_request *r)
{
    uint64_t res = 0;
    shmc_status st = r->cmd == TC_INCR
                         ? shmc_incr(c->cache, r->key, r->nkey, r->delta, &res)
                         : shmc_decr(c->cache, r->key, r->nkey, r->delta, &res);
    if (unavailable(c, st, r->noreply))
        return;
    char num[32];
    switch (st) {
    case SHMC_OK:
        num[fmt_u64(res, num)] = '\0';
        reply(c, r, num);
        break;
    case SHMC_NOT_FOUND: reply(c, r, "NOT_FOUND"); break;
    case SHMC_NOT_NUMERIC:
        reply(c, r, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        break;
    case SHMC_NO_MEMORY: reply(c, r, "SERVER_ERROR out of memory"); break;
    case SHMC_BAD_KEY: reply(c, r, "CLIENT_ERROR bad command line format"); break;
    default: reply(c, r, "SERVER_ERROR out of memory"); break;
    }
}

static void exec_flush_all(ctx *c, text_request *r)
{
    if (!c->set->flush_enabled) {
        reply(c, r, "CLIENT_ERROR flush_all not allowed");
        return;
    }
    int32_t delay = 0;
    if (r->ntokens != (r->noreply ? 3u : 2u)) {
        if (!text_parse_i32(r->tok[1].p, r->tok[1].len, &delay)) {
            reply(c, r, "CLIENT_ERROR invalid exptime argument");
            return;
        }
    }
    if (!unavailable(c, shmc_flush_all(c->cache, delay > 0 ? delay : 0), r->noreply))
        reply(c, r, "OK");
}

/*
 * For the commands that read the cache's layout or statistics: their
 * calls take no lock, and their answers hide SHMC_STALE (a class count of
 * 0, zeroed counters), so a retired segment is asked about first.  False
 * once the stale answer is written.
 */
static bool cache_live(ctx *c, const text_request *r)
{
    shmc_config cfg;
    return !unavailable(c, shmc_config_get(c->cache, &cfg), r->noreply);
}

/* A crawler's class list: "all", or ids 1..classes separated by commas;
 * want (if not NULL) gets the ids set.  false for a bad list. */
static bool class_list_parse(ctx *c, const text_token *t, bool want[WALK_MAX_CLASSES])
{
    if (want)
        memset(want, 0, WALK_MAX_CLASSES * sizeof *want);
    if (t->len == 3 && memcmp(t->p, "all", 3) == 0) {
        if (want)
            memset(want, 1, WALK_MAX_CLASSES * sizeof *want);
        return true;
    }
    unsigned n = shmc_class_count(c->cache);
    const char *p = t->p, *end = t->p + t->len;
    while (p <= end) {
        const char *s = p;
        while (p < end && *p != ',')
            p++;
        uint32_t id;
        if (!text_parse_u32(s, (size_t)(p - s), &id) || id < 1 || id > n || id >= WALK_MAX_CLASSES)
            return false;
        if (want)
            want[id] = true;
        p++;
    }
    return true;
}

/* "slabs reassign src dst": memcached's checks in its order, then the
 * library's page move (src -1: it picks; dst 0: the free pool). */
static void reassign(ctx *c, text_request *r, int32_t src, int32_t dst)
{
    int32_t n = (int32_t)shmc_class_count(c->cache);
    if (src == dst) {
        reply(c, r, "SAME src and dst class are identical");
        return;
    }
    if (src < -1 || src > n || dst < 0 || dst > n) {
        reply(c, r, "BADCLASS invalid src or dst class id");
        return;
    }
    shmc_status st = src == 0 ? SHMC_NO_MEMORY : shmc_slabs_reassign(c->cache, src, (unsigned)dst);
    if (st == SHMC_OK)
        reply(c, r, "OK");
    else if (st == SHMC_NO_MEMORY && src == -1) /* memcached found no class to pick */
        reply(c, r, "BADCLASS invalid src or dst class id");
    else if (st == SHMC_NO_MEMORY)
        reply(c, r, "NOSPARE source class has no spare pages");
    else if (st == SHMC_BUSY)
        reply(c, r, "BUSY currently processing reassign request");
    else if (st == SHMC_INVALID)
        reply(c, r, "BADCLASS invalid src or dst class id");
    else
        (void)unavailable(c, st, r->noreply);
}

static void exec_slabs(ctx *c, text_request *r)
{
    const text_token *t = r->tok;
    if (r->ntokens == 5 && t[1].len == 8 && memcmp(t[1].p, "reassign", 8) == 0) {
        int32_t src, dst;
        if (!text_parse_i32(t[2].p, t[2].len, &src) || !text_parse_i32(t[3].p, t[3].len, &dst)) {
            reply(c, r, "CLIENT_ERROR bad command line format");
            return;
        }
        if (!cache_live(c, r))
            return;
        reassign(c, r, src, dst);
        return;
    }
    if (r->ntokens >= 4 && t[1].len == 8 && memcmp(t[1].p, "automove", 8) == 0) {
        if (r->ntokens >= 2 && t[r->ntokens - 2].len == 7 &&
            memcmp(t[r->ntokens - 2].p, "noreply", 7) == 0)
            r->noreply = true;
        if (t[2].len == 5 && memcmp(t[2].p, "ratio", 5) == 0) {
            if (r->ntokens < 5)
                reply(c, r, "ERROR");
            else
                reply(c, r, "OK");
            return;
        }
        uint32_t level;
        if (!text_parse_u32(t[2].p, t[2].len, &level))
            reply(c, r, "CLIENT_ERROR bad command line format");
        else if (level > 2)
            reply(c, r, "ERROR");
        else
            reply(c, r, "OK");
        return;
    }
    reply(c, r, "ERROR");
}

static bool tok_eq(const text_token *t, const char *s)
{
    size_t n = strlen(s);
    return t->p && t->len == n && memcmp(t->p, s, n) == 0;
}

/* The daemon's lru_crawler setting (on when there is no daemon); on 0/1
 * also switches it.  Returns the setting before the call. */
static int crawler_switch(ctx *c, int on)
{
    if (!c->s->hooks || !c->s->hooks->lru_crawler)
        return 1;
    return c->s->hooks->lru_crawler(c->s->daemon, on);
}

/* A crawler's class list as a mask for the crawler thread (crawler.h):
 * bit i for class i, SRV_CRAWL_ALL (UINT64_MAX) for "all".  false for a
 * bad list. */
static bool class_mask(ctx *c, const text_token *t, uint64_t *mask)
{
    bool want[WALK_MAX_CLASSES];
    if (!class_list_parse(c, t, want))
        return false;
    *mask = UINT64_MAX;
    if (tok_eq(t, "all"))
        return true;
    *mask = 0;
    for (unsigned id = 1; id < WALK_MAX_CLASSES && id < 64; id++)
        if (want[id])
            *mask |= 1ull << id;
    return true;
}

/* "lru_crawler crawl": the daemon's crawler thread crawls the classes in
 * mask, as memcached's does, after the reply; with no daemon (tests),
 * the whole segment is crawled here before it. */
static void crawl_now(ctx *c, text_request *r, uint64_t mask)
{
    if (c->s->hooks && c->s->hooks->crawl) {
        reply(c, r, c->s->hooks->crawl(c->s->daemon, mask) == 0
                        ? "OK"
                        : "BUSY currently processing crawler request");
        return;
    }
    shmc_crawl_result res = {.next_page = 0};
    shmc_status st;
    do
        st = shmc_crawl(c->cache, 0, res.next_page, 16, &res);
    while (st == SHMC_OK && res.next_page);
    if (!unavailable(c, st, r->noreply))
        reply(c, r, "OK");
}

/* "lru_crawler metadump <all|hash|ids>" (-X: refused as memcached). */
static void exec_metadump(ctx *c, text_request *r)
{
    bool want[WALK_MAX_CLASSES];
    const text_token *arg = &r->tok[2];
    bool all = tok_eq(arg, "hash"); /* memcached: walk by hash table, every class */
    if (c->set->dump_disabled) {
        reply(c, r, "ERROR metadump not allowed");
    } else if (!all && !class_list_parse(c, arg, want)) {
        reply(c, r, "BADCLASS invalid class id");
    } else if (cache_live(c, r)) {
        shmc_status st = walk_metadump(c->cache, all ? NULL : want, c->out);
        if (st == SHMC_SYSTEM)
            c->oom = true;
        else
            unavailable(c, st, false);
    }
}

static void exec_lru_crawler(ctx *c, text_request *r)
{
    const text_token *t = r->tok;
    size_t nt = r->ntokens;
    bool dump = nt == 4 && tok_eq(&t[1], "metadump");
    if ((dump || (nt == 4 && tok_eq(&t[1], "crawl"))) && !crawler_switch(c, -1)) {
        reply(c, r, "CLIENT_ERROR lru crawler disabled");
    } else if (nt == 4 && tok_eq(&t[1], "crawl")) {
        if (!cache_live(c, r))
            return;
        uint64_t mask;
        if (!class_mask(c, &t[2], &mask)) {
            reply(c, r, "BADCLASS invalid class id");
            return;
        }
        crawl_now(c, r, mask);
    } else if (dump) {
        exec_metadump(c, r);
    } else if (nt == 4 && tok_eq(&t[1], "tocrawl")) {
        uint32_t v;
        reply(c, r, text_parse_u32(t[2].p, t[2].len, &v) ? "OK"
                                                          : "CLIENT_ERROR bad command line format");
    } else if (nt == 4 && tok_eq(&t[1], "sleep")) {
        uint32_t v;
        if (!text_parse_u32(t[2].p, t[2].len, &v))
            reply(c, r, "CLIENT_ERROR bad command line format");
        else if (v > 1000000)
            reply(c, r, "CLIENT_ERROR sleep must be one second or less");
        else
            reply(c, r, "OK");
    } else if (nt == 3 && tok_eq(&t[1], "enable")) {
        /* memcached: the crawler thread is already running */
        reply(c, r, crawler_switch(c, 1) ? "ERROR failed to start lru crawler thread" : "OK");
    } else if (nt == 3 && tok_eq(&t[1], "disable")) {
        (void)crawler_switch(c, 0);
        reply(c, r, "OK");
    } else {
        reply(c, r, "ERROR");
    }
}

static void exec_lru(ctx *c, text_request *r)
{
    const text_token *t = r->tok;
    size_t nt = r->ntokens;
    if (nt >= 2 && tok_eq(&t[nt - 2], "noreply"))
        r->noreply = true;
    if (tok_eq(&t[1], "tune") && nt >= 7) {
        uint32_t hot, warm;
        if (!text_parse_u32(t[2].p, t[2].len, &hot) || !text_parse_u32(t[3].p, t[3].len, &warm))
            reply(c, r, "ERROR");
        else if (hot + (uint64_t)warm > 80)
            reply(c, r, "ERROR hot and warm pcts must not exceed 80");
        else
            reply(c, r, "OK"); /* accepted; the segment's LRU split is fixed at creation */
    } else if (tok_eq(&t[1], "mode") && nt >= 4) {
        /* recorded for stats settings; the engine's LRU stays segmented */
        bool seg = tok_eq(&t[2], "segmented");
        if (seg || tok_eq(&t[2], "flat")) {
            if (c->s->hooks && c->s->hooks->set_lru_segmented)
                c->s->hooks->set_lru_segmented(c->s->daemon, seg);
            reply(c, r, "OK");
        } else {
            reply(c, r, "ERROR");
        }
    } else if (tok_eq(&t[1], "temp_ttl") && nt >= 4) {
        int32_t v;
        reply(c, r, text_parse_i32(t[2].p, t[2].len, &v) ? "OK" : "ERROR");
    } else {
        reply(c, r, "ERROR");
    }
}

/* The page size the library uses: 1 MiB, or item_size_max rounded up to
 * a power of two if larger (shmc_config doc). */
static uint64_t page_size_of(const shmc_config *cfg)
{
    uint64_t p = 1u << 20;
    while (p < cfg->item_size_max)
        p <<= 1;
    return p;
}

/* "stats reset": the baseline this server reports counters against (one
 * per server process, shared by its worker threads). */
static pthread_mutex_t reset_lock = PTHREAD_MUTEX_INITIALIZER;
static shmc_stats reset_base;
static const shmc_cache *reset_cache; /* the handle the baseline belongs to */
static uint64_t reset_busy;           /* srv_busy_answers() at the reset */
#define SRV_CLASS_ID_MAX 63 /* the segment's slab class ids are 1..63 (src/layout.h) */
/* the per-class counters of "stats items" at the reset, by class id and
 * stats_items_names index (0 for the gauges, never subtracted) */
static uint64_t reset_class[SRV_CLASS_ID_MAX + 1][STATS_ITEMS_COUNT];

/* Take the per-class baseline; reset_lock held. */
static void class_reset_take(shmc_cache *cache)
{
    memset(reset_class, 0, sizeof reset_class);
    unsigned n = shmc_class_count(cache);
    for (unsigned id = 1; id <= n && id <= SRV_CLASS_ID_MAX; id++) {
        shmc_class_stats cs;
        if (shmc_class_stats_get(cache, id, &cs) != SHMC_OK)
            continue;
        for (size_t i = 0; i < STATS_ITEMS_COUNT; i++)
            if (stats_items_names[i].counter)
                reset_class[id][i] = class_stat_value(&cs, &stats_items_names[i]);
    }
}

/* Statistic i of class id, a counter relative to the last "stats reset". */
static uint64_t class_stat_since_reset(ctx *c, unsigned id, const shmc_class_stats *cs, size_t i)
{
    uint64_t v = class_stat_value(cs, &stats_items_names[i]);
    pthread_mutex_lock(&reset_lock);
    uint64_t b = reset_cache == c->cache && id <= SRV_CLASS_ID_MAX ? reset_class[id][i] : 0;
    pthread_mutex_unlock(&reset_lock);
    return v >= b ? v - b : 0;
}

/* The cumulative counters of shmc_stats, which "stats reset" zeroes. */
static const size_t reset_fields[] = {
    offsetof(shmc_stats, total_items), offsetof(shmc_stats, get_hits),
    offsetof(shmc_stats, get_misses), offsetof(shmc_stats, get_expired),
    offsetof(shmc_stats, get_flushed), offsetof(shmc_stats, cmd_get),
    offsetof(shmc_stats, cmd_set), offsetof(shmc_stats, cmd_touch),
    offsetof(shmc_stats, cmd_flush), offsetof(shmc_stats, delete_hits),
    offsetof(shmc_stats, delete_misses), offsetof(shmc_stats, incr_hits),
    offsetof(shmc_stats, incr_misses), offsetof(shmc_stats, decr_hits),
    offsetof(shmc_stats, decr_misses), offsetof(shmc_stats, cas_hits),
    offsetof(shmc_stats, cas_misses), offsetof(shmc_stats, cas_badval),
    offsetof(shmc_stats, touch_hits), offsetof(shmc_stats, touch_misses),
    offsetof(shmc_stats, evictions), offsetof(shmc_stats, expired_unfetched),
    offsetof(shmc_stats, evicted_unfetched), offsetof(shmc_stats, reclaimed),
    offsetof(shmc_stats, slabs_moved),
};

/* The cache's statistics, counters relative to the last "stats reset". */
static void stats_read(ctx *c, shmc_stats *st)
{
    memset(st, 0, sizeof *st);
    (void)shmc_stats_get(c->cache, st);
    pthread_mutex_lock(&reset_lock);
    for (size_t i = 0; reset_cache == c->cache && i < sizeof reset_fields / sizeof reset_fields[0];
         i++) {
        uint64_t *v = (uint64_t *)((char *)st + reset_fields[i]);
        uint64_t b = *(const uint64_t *)((const char *)&reset_base + reset_fields[i]);
        *v = *v >= b ? *v - b : 0;
    }
    pthread_mutex_unlock(&reset_lock);
}

static void stats_reset(ctx *c)
{
    shmc_stats st;
    memset(&st, 0, sizeof st);
    (void)shmc_stats_get(c->cache, &st);
    pthread_mutex_lock(&reset_lock);
    reset_base = st;
    reset_cache = c->cache;
    reset_busy = srv_busy_answers();
    srv_counters_reset();
    class_reset_take(c->cache);
    pthread_mutex_unlock(&reset_lock);
}

/* The busy answers this server sent since the last "stats reset". */
static uint64_t busy_answers_since_reset(void)
{
    pthread_mutex_lock(&reset_lock);
    uint64_t n = srv_busy_answers() - reset_busy;
    pthread_mutex_unlock(&reset_lock);
    return n;
}

/* memcached's general stats of machinery the library has not, or does not
 * count (docs/server.md, "stats"): printed as 0 under memcached's names. */
static const char *const no_slab_reassign[] = {
    "slab_reassign_rescues",       "slab_reassign_chunk_rescues",
    "slab_reassign_evictions_nomem", "slab_reassign_inline_reclaim",
    "slab_reassign_busy_items",    "slab_reassign_busy_deletes",
    "slab_reassign_running",
};
static const char *const no_helpers[] = {
    "lru_maintainer_juggles",
    "malloc_fails",        "log_worker_dropped", "log_worker_written",
    "log_watcher_skipped", "log_watcher_sent",   "log_watchers",
    "unexpected_napi_ids", "round_robin_fallback",
};
static const char *const no_lru_counts[] = {
    "lrutail_reflocked", "moves_to_cold",
    "moves_to_warm",     "moves_within_lru",      "direct_reclaims",   "lru_bumps_dropped",
};

static void stats_zeros(ctx *c, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stat_u64(c, names[i], 0);
}

static void stats_general(ctx *c)
{
    shmc_stats st;
    stats_read(c, &st);
    if (c->s->hooks && c->s->hooks->stats_general) {
        c->s->hooks->stats_general(c->s->daemon, c->out);
    } else {
        stat_u64(c, "pid", (uint64_t)getpid());
        stat_u64(c, "uptime", st.uptime);
        stat_u64(c, "time", st.time);
        PUTF(c, "STAT version %s\r\n", c->set->version ? c->set->version : SHMC_VERSION_STRING);
        stat_u64(c, "pointer_size", 8 * sizeof(void *));
    }
    stat_u64(c, "cmd_get", st.cmd_get);
    stat_u64(c, "cmd_set", st.cmd_set);
    stat_u64(c, "cmd_flush", st.cmd_flush);
    stat_u64(c, "cmd_touch", st.cmd_touch);
    stat_u64(c, "cmd_meta", srv_counted(SRV_CMD_META));
    stat_u64(c, "get_hits", st.get_hits);
    stat_u64(c, "get_misses", st.get_misses);
    stat_u64(c, "get_expired", st.get_expired);
    stat_u64(c, "get_flushed", st.get_flushed);
    stat_u64(c, "delete_misses", st.delete_misses);
    stat_u64(c, "delete_hits", st.delete_hits);
    stat_u64(c, "incr_misses", st.incr_misses);
    stat_u64(c, "incr_hits", st.incr_hits);
    stat_u64(c, "decr_misses", st.decr_misses);
    stat_u64(c, "decr_hits", st.decr_hits);
    stat_u64(c, "cas_misses", st.cas_misses);
    stat_u64(c, "cas_hits", st.cas_hits);
    stat_u64(c, "cas_badval", st.cas_badval);
    stat_u64(c, "touch_hits", st.touch_hits);
    stat_u64(c, "touch_misses", st.touch_misses);
    stat_u64(c, "store_too_large", srv_counted(SRV_STORE_TOO_LARGE));
    stat_u64(c, "store_no_memory", srv_counted(SRV_STORE_NO_MEMORY));
    stat_u64(c, "auth_cmds", srv_counted(SRV_AUTH_CMDS));
    stat_u64(c, "auth_errors", srv_counted(SRV_AUTH_ERRORS));
    if (c->set->idle_timeout > 0) /* as memcached: only with -o idle_timeout */
        stat_u64(c, "idle_kicks", srv_counted(SRV_IDLE_KICKS));
    stat_u64(c, "bytes_read", srv_counted(SRV_BYTES_READ));
    stat_u64(c, "bytes_written", srv_counted(SRV_BYTES_WRITTEN));
    stat_u64(c, "limit_maxbytes", st.limit_maxbytes);
    if (c->s->hooks && c->s->hooks->stats_general_listen)
        c->s->hooks->stats_general_listen(c->s->daemon, c->out);
    stat_u64(c, "hash_power_level", st.hash_power_level);
    stat_u64(c, "hash_bytes", st.hash_buckets * sizeof(void *));
    stat_u64(c, "hash_is_expanding", 0);
    stats_zeros(c, no_slab_reassign, sizeof no_slab_reassign / sizeof *no_slab_reassign);
    stat_u64(c, "slabs_moved", st.slabs_moved);
    stat_u64(c, "lru_crawler_running",
             c->s->hooks && c->s->hooks->crawl ? (uint64_t)c->s->hooks->crawl(c->s->daemon, 0) : 0);
    stat_u64(c, "lru_crawler_starts", srv_counted(SRV_CRAWLER_STARTS));
    stats_zeros(c, no_helpers, sizeof no_helpers / sizeof *no_helpers);
    stat_u64(c, "bytes", st.bytes);
    stat_u64(c, "curr_items", st.curr_items);
    stat_u64(c, "total_items", st.total_items);
    stat_u64(c, "slab_global_page_pool", st.free_pages);
    stat_u64(c, "expired_unfetched", st.expired_unfetched);
    stat_u64(c, "evicted_unfetched", st.evicted_unfetched);
    stat_u64(c, "evicted_active", 0); /* no LRU bumps at eviction: never */
    stat_u64(c, "evictions", st.evictions);
    stat_u64(c, "reclaimed", st.reclaimed);
    stat_u64(c, "crawler_reclaimed", srv_counted(SRV_CRAWLER_RECLAIMED));
    stat_u64(c, "crawler_items_checked", srv_counted(SRV_CRAWLER_CHECKED));
    stats_zeros(c, no_lru_counts, sizeof no_lru_counts / sizeof *no_lru_counts);
    /* shmcached's own: the segment shared by every attached process */
    stat_u64(c, "shm_clients", st.curr_clients);
    stat_u64(c, "shm_dead_clients", st.dead_clients);
    stat_u64(c, "shm_clients_recovered", st.clients_recovered);
    stat_u64(c, "shm_locks_repaired", st.locks_repaired);
    stat_u64(c, "shm_busy_answers", busy_answers_since_reset()); /* this server's */
    stat_u64(c, "shm_uptime", st.uptime);
}

static void stats_settings(ctx *c)
{
    shmc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    (void)shmc_config_get(c->cache, &cfg);
    shmc_stats st;
    stats_read(c, &st);
    stat_u64(c, "maxbytes", st.limit_maxbytes); /* cache_memlimit changes it */
    PUTF(c, "STAT verbosity %d\r\n", c->set->verbose);
    PUTF(c, "STAT evictions %s\r\n", cfg.no_evict ? "off" : "on");
    PUTF(c, "STAT growth_factor %.2f\r\n", cfg.growth_factor);
    stat_u64(c, "chunk_size", cfg.chunk_size_min);
    stat_u64(c, "reqs_per_event", c->set->max_reqs_per_event);
    PUTF(c, "STAT cas_enabled %s\r\n", c->set->cas_enabled ? "yes" : "no");
    stat_u64(c, "item_size_max", cfg.item_size_max);
    PUTF(c, "STAT flush_enabled %s\r\n", c->set->flush_enabled ? "yes" : "no");
    stat_u64(c, "hashpower_init", cfg.hash_power);
    PUTF(c, "STAT slab_reassign %s\r\n", "yes");
    stat_u64(c, "slab_automove", (uint64_t)cfg.slab_automove);
    PUTF(c, "STAT lru_maintainer_thread %s\r\n", "yes");
    stat_u64(c, "hot_lru_pct", cfg.hot_lru_pct);
    stat_u64(c, "warm_lru_pct", cfg.warm_lru_pct);
    if (c->s->hooks && c->s->hooks->stats_settings)
        c->s->hooks->stats_settings(c->s->daemon, c->out);
}

static void stats_items(ctx *c)
{
    unsigned n = shmc_class_count(c->cache);
    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats cs;
        if (shmc_class_stats_get(c->cache, id, &cs) != SHMC_OK || cs.curr_items == 0)
            continue;
        for (size_t i = 0; i < STATS_ITEMS_COUNT; i++)
            PUTF(c, "STAT items:%u:%s %" PRIu64 "\r\n", id, stats_items_names[i].name,
                 class_stat_since_reset(c, id, &cs, i));
    }
}

static void stats_slabs(ctx *c)
{
    shmc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    (void)shmc_config_get(c->cache, &cfg);
    uint64_t psize = page_size_of(&cfg);
    unsigned n = shmc_class_count(c->cache);
    unsigned active = 0;
    uint64_t pages = 0;
    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats cs;
        if (shmc_class_stats_get(c->cache, id, &cs) != SHMC_OK || cs.total_pages == 0)
            continue;
        active++;
        pages += cs.total_pages;
        PUTF(c, "STAT %u:chunk_size %" PRIu32 "\r\n", id, cs.chunk_size);
        PUTF(c, "STAT %u:chunks_per_page %" PRIu32 "\r\n", id, cs.chunks_per_page);
        PUTF(c, "STAT %u:total_pages %" PRIu64 "\r\n", id, cs.total_pages);
        PUTF(c, "STAT %u:total_chunks %" PRIu64 "\r\n", id,
             cs.total_pages * (uint64_t)cs.chunks_per_page);
        PUTF(c, "STAT %u:used_chunks %" PRIu64 "\r\n", id, cs.used_chunks);
        PUTF(c, "STAT %u:free_chunks %" PRIu64 "\r\n", id, cs.free_chunks);
        PUTF(c, "STAT %u:mem_requested %" PRIu64 "\r\n", id, cs.bytes);
    }
    PUTF(c, "STAT active_slabs %u\r\n", active);
    stat_u64(c, "total_malloced", pages * psize);
}

/* "stats cachedump <class> <limit>": memcached's argument checks, then
 * the class's items (limit 0: all); -X refuses it, as memcached. */
static void stats_cachedump(ctx *c, const text_request *r)
{
    const text_token *t = r->tok;
    uint32_t id, limit;
    if (r->ntokens < 5)
        put_str(c, "CLIENT_ERROR bad command line\r\n");
    else if (!text_parse_u32(t[2].p, t[2].len, &id) || !text_parse_u32(t[3].p, t[3].len, &limit))
        put_str(c, "CLIENT_ERROR bad command line format\r\n");
    else if (id >= WALK_MAX_CLASSES)
        put_str(c, "CLIENT_ERROR Illegal slab id\r\n");
    else if (c->set->dump_disabled)
        put_str(c, "CLIENT_ERROR stats cachedump not allowed\r\n");
    else if (cache_live(c, r)) {
        shmc_status st = walk_cachedump(c->cache, id, limit, c->out);
        if (st == SHMC_SYSTEM)
            c->oom = true;
        else
            unavailable(c, st, false);
    }
}

/* The "stats" groups that read the cache ("stats" itself: nt 2). */
static bool stats_reads_cache(const text_request *r)
{
    const text_token *t = &r->tok[1];
    return r->ntokens == 2 || tok_eq(t, "reset") || tok_eq(t, "settings") ||
           tok_eq(t, "items") || tok_eq(t, "slabs");
}

static void exec_stats(ctx *c, text_request *r)
{
    const text_token *t = r->tok;
    size_t nt = r->ntokens;
    if (stats_reads_cache(r) && !cache_live(c, r))
        return;
    if (nt == 2) {
        stats_general(c);
    } else if (tok_eq(&t[1], "reset")) {
        stats_reset(c);
        put_str(c, "RESET\r\n");
        return;
    } else if (tok_eq(&t[1], "detail")) {
        if (nt >= 4 && (tok_eq(&t[2], "on") || tok_eq(&t[2], "off"))) {
            detail_set_enabled(tok_eq(&t[2], "on"));
            put_str(c, "OK\r\n");
        } else if (nt >= 4 && tok_eq(&t[2], "dump")) {
            if (!detail_dump(c->out))
                c->oom = true;
        } else
            put_str(c, "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
        return;
    } else if (tok_eq(&t[1], "settings")) {
        stats_settings(c);
    } else if (tok_eq(&t[1], "cachedump")) {
        stats_cachedump(c, r);
        return;
    } else if (tok_eq(&t[1], "conns")) {
        if (c->s->hooks && c->s->hooks->stats_conns)
            c->s->hooks->stats_conns(c->s->daemon, c->out);
    } else if (tok_eq(&t[1], "items")) {
        stats_items(c);
    } else if (tok_eq(&t[1], "slabs")) {
        stats_slabs(c);
    } else if (tok_eq(&t[1], "sizes") || tok_eq(&t[1], "sizes_disable")) {
        put_str(c, "STAT sizes_status disabled\r\n");
    } else if (tok_eq(&t[1], "sizes_enable")) {
        put_str(c, "STAT sizes_status error\r\n"
                   "STAT sizes_error sizes histogram not supported by shmcached\r\n");
    } else {
        put_str(c, "ERROR\r\n");
        return;
    }
    put(c, "END\r\n", 5);
}

/* "watch [kinds]": OK, then the connection streams events (SRV_WATCH). */
static enum srv_action exec_watch(ctx *c, text_request *r)
{
    unsigned groups;
    uint64_t cursor;
    if (c->set->watch_disabled) { /* -W, memcached's answer */
        put_str(c, "CLIENT_ERROR watch commands not allowed\r\n");
        return SRV_CONTINUE;
    }
    if (watch_parse(&r->tok[1], r->ntokens - 2, &groups) < 0) {
        put_str(c, "ERROR\r\n");
        return SRV_CONTINUE;
    }
    if (unavailable(c, shmc_watch_start(c->cache, &cursor), false))
        return SRV_CONTINUE;
    c->s->watch_groups = groups;
    c->s->watch_cursor = cursor;
    put_str(c, "OK\r\n");
    return SRV_WATCH;
}

static enum srv_action exec_shutdown(ctx *c, text_request *r)
{
    if (!c->set->allow_shutdown) {
        reply(c, r, "ERROR: shutdown not enabled");
        return SRV_CONTINUE;
    }
    if (r->ntokens == 2 || (r->ntokens == 3 && tok_eq(&r->tok[1], "graceful")))
        return SRV_SHUTDOWN;
    reply(c, r, "CLIENT_ERROR invalid shutdown mode");
    return SRV_CONTINUE;
}

/* The limit the library can set: at most the segment's size (see the
 * top of this file). */
static void memlimit_set(ctx *c, text_request *r, uint64_t bytes)
{
    shmc_status st = shmc_set_memlimit(c->cache, bytes);
    if (st == SHMC_OK)
        reply(c, r, "OK");
    else if (st == SHMC_INVALID || st == SHMC_BUSY)
        reply(c, r, "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust");
    else
        (void)unavailable(c, st, r->noreply);
}

static void exec_memlimit(ctx *c, text_request *r)
{
    if (r->delta < 8)
        reply(c, r, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m");
    else if (r->delta > 1000000000)
        reply(c, r, "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes");
    else
        memlimit_set(c, r, r->delta << 20);
}

/* ------------------------------------------------------------------ */
/* Meta commands                                                       */
/* ------------------------------------------------------------------ */
/*
 * mg ms md ma mn me, as memcached 1.6's proto_text.c answers them.
 * What the public API cannot express, and what we do instead:
 *  - t (TTL remaining), l (seconds since last access), h (read before):
 *    from shmc_get_info; u (no LRU bump) reads with SHMC_GET_NO_BUMP.
 *  - E (explicit new CAS): honoured by ms, ma and md I (shmc_store_ex,
 *    shmc_arith_ex, shmc_invalidate).
 *  - R, W, X, Z: the library's recache token (shmc_get_info): a stale
 *    item, or one whose TTL is below R, gives W to its first reader and Z
 *    to later ones; X marks a stale item.  N (vivify): the client whose add
 *    creates the placeholder takes the token (W), later readers get Z.
 *  - I (invalidate): md I marks the item stale with a new CAS
 *    (shmc_invalidate; T sets its TTL); ms I with an older CAS stores the
 *    value as stale (SHMC_CAS_STALE).
 *  - C on ms append/prepend and on ma, and c on ma, are atomic with the
 *    update (the library compares under the item's lock).
 *  - me: memcached's line (exp la cas fetch cls size) from shmc_get_info,
 *    without marking the item used; exp is printed as memcached 1.6.18
 *    prints it, the remaining seconds negated (-1: no expiry), size as
 *    memcached counts an item (item_size.h); cls is the library's class.
 *  - keys decoded from base64 (b) may hold any byte, as in memcached.
 */

static void meta_key(ctx *c, const text_request *r)
{
    put(c, " k", 2);
    put(c, r->tok[1].p, r->tok[1].len);
    if (r->meta.key_binary)
        put(c, " b", 2);
}

static void meta_opaque_key(ctx *c, const text_request *r)
{
    for (size_t i = r->meta.first_flag; i < r->ntokens - 1; i++) {
        const text_token *t = &r->tok[i];
        if (t->p[0] == 'O') {
            put(c, " ", 1);
            put(c, t->p, t->len);
        } else if (t->p[0] == 'k') {
            meta_key(c, r);
        }
    }
}

static void meta_error(ctx *c, const char *line)
{
    put_str(c, line);
    put(c, "\r\n", 2);
}

/* The relative TTL memcached's t flag reports for an exptime just set. */
static int64_t ttl_of(ctx *c, int32_t e)
{
    if (e == 0)
        return -1;
    if (e < 0)
        return 0;
    if (e <= 60 * 60 * 24 * 30)
        return e;
    shmc_stats st;
    memset(&st, 0, sizeof st);
    (void)shmc_stats_get(c->cache, &st);
    return (int64_t)e > (int64_t)st.time ? (int64_t)e - (int64_t)st.time : 0;
}

static void exec_mg(ctx *c, text_request *r)
{
    const text_meta *m = &r->meta;
    void *v = NULL;
    size_t vl = 0;
    uint32_t fl = 0;
    uint64_t cs = 0;
    bool won = false;
    shmc_item_info info;
    shmc_get_options opts = {
        .flags = (m->new_ttl ? SHMC_GET_TOUCH : 0) | (m->no_update ? SHMC_GET_NO_BUMP : 0),
        .exptime = m->exptime,
        .recache_below = m->recache ? m->recache_time : 0,
    };
    shmc_status st = get_info_alloc(c->cache, r->key, r->nkey, &opts, &v, &vl, &info);
    fl = info.flags;
    cs = info.cas;
    if (st == SHMC_NOT_FOUND && m->vivify) {
        /* T applies to the new placeholder too (memcached touches it) */
        int32_t exptime = m->new_ttl ? m->exptime : m->autoviv_exptime;
        shmc_status as = shmc_store(c->cache, SHMC_ADD, r->key, r->nkey, "", 0, 0,
                                    exptime, 0, &cs);
        if (as == SHMC_OK) {
            /* we created it: take its recache token, so that later
             * readers of the empty placeholder see Z, as in memcached */
            const shmc_get_options take = {.flags = SHMC_GET_NO_BUMP,
                                           .recache_below = INT64_MAX};
            shmc_status ts = shmc_get_info(c->cache, r->key, r->nkey, &take, NULL, NULL, NULL);
            if (unavailable(c, ts, false))
                return;
            won = true;
            st = SHMC_OK;
            v = malloc(1);
            vl = 0;
            fl = 0;
            if (!v)
                st = SHMC_SYSTEM;
            memset(&info, 0, sizeof info);
            info.ttl = ttl_of(c, exptime);
        } else if (unavailable(c, as, false)) {
            return;
        } else {
            st = get_info_alloc(c->cache, r->key, r->nkey, &opts, &v, &vl, &info);
            fl = info.flags;
            cs = info.cas;
        }
    }
    if (st == SHMC_BAD_KEY) {
        meta_error(c, "CLIENT_ERROR bad command line format");
        return;
    }
    if (st == SHMC_SYSTEM) {
        c->oom = true;
        return;
    }
    if (unavailable(c, st, false)) {
        free(v);
        return;
    }
    if (st != SHMC_OK) {
        if (m->no_reply)
            return;
        put(c, "EN", 2);
        meta_opaque_key(c, r);
        put(c, "\r\n", 2);
        return;
    }
    if (!c->set->cas_enabled)
        cs = 0;
    if (m->value)
        put_num(c, "VA ", vl);
    else
        put(c, "HD", 2);
    for (size_t i = m->first_flag; i < r->ntokens - 1; i++) {
        const text_token *t = &r->tok[i];
        switch (t->p[0]) {
        case 's': put_num(c, " s", vl); break;
        case 't': put_snum(c, " t", info.ttl); break;
        case 'l': put_num(c, " l", info.last_access); break;
        case 'h': put_num(c, " h", info.fetched != 0); break;
        case 'c': put_num(c, " c", cs); break;
        case 'f': put_num(c, " f", fl); break;
        case 'O': put(c, " ", 1); put(c, t->p, t->len); break;
        case 'k': meta_key(c, r); break;
        default: break;
        }
    }
    /* memcached's order: Z (someone has the token), X (stale), W (won) */
    if (!won && info.win == -1)
        put(c, " Z", 2);
    if (info.stale)
        put(c, " X", 2);
    if (won || info.win == 1)
        put(c, " W", 2);
    put(c, "\r\n", 2);
    if (m->value) {
        put(c, v, vl);
        put(c, "\r\n", 2);
    }
    free(v);
}

static void exec_ms(ctx *c, text_request *r)
{
    const text_meta *m = &r->meta;
    shmc_store_mode mode = SHMC_SET;
    switch (m->mode) {
    case 'E': mode = SHMC_ADD; break;
    case 'A': mode = SHMC_APPEND; break;
    case 'P': mode = SHMC_PREPEND; break;
    case 'R': mode = SHMC_REPLACE; break;
    default: break;
    }
    bool cas_store = m->has_cas && (mode == SHMC_SET || mode == SHMC_REPLACE);
    if (cas_store)
        mode = m->invalidate ? SHMC_CAS_STALE : SHMC_CAS; /* I: an older CAS stores, stale */
    uint64_t newcas = 0;
    shmc_status st = SHMC_OK;
    bool concat = mode == SHMC_APPEND || mode == SHMC_PREPEND;
    if (cas_store && !c->set->cas_enabled)
        st = nocas_probe(c, r);
    else if (concat && mc_concat_too_large(c->cache, r->key, r->nkey, r->data_len,
                                           c->set->item_size_max, c->set->cas_enabled))
        st = SHMC_NOT_STORED; /* memcached: the joined item does not fit */
    /* C on append/prepend: the library compares it under the item's lock;
     * E: the item takes the client's CAS value */
    if (st == SHMC_OK)
        st = shmc_store_ex(c->cache, mode, r->key, r->nkey, r->data, r->data_len,
                           m->client_flags, m->exptime, c->set->cas_enabled ? m->req_cas : 0,
                           m->has_new_cas ? m->new_cas : 0, &newcas);
    if (st == SHMC_TOO_LARGE && concat)
        st = SHMC_NOT_STORED;
    if (unavailable(c, st, false))
        return;
    const char *code;
    switch (st) {
    case SHMC_OK:
        if (m->no_reply)
            return;
        code = "HD";
        break;
    case SHMC_NOT_STORED: code = "NS"; break;
    case SHMC_EXISTS: code = "EX"; break;
    case SHMC_NOT_FOUND: code = "NF"; break;
    case SHMC_TOO_LARGE:
        srv_count(SRV_STORE_TOO_LARGE, 1);
        meta_error(c, "SERVER_ERROR object too large for cache");
        return;
    case SHMC_NO_MEMORY:
        if (concat) { /* the joined item: NS, the value kept, as exec_store */
            srv_count(SRV_STORE_NO_MEMORY, 1);
            code = "NS";
            break;
        }
        /* as memcached: an ms that cannot allocate drops the old value, any mode */
        if (drop_old_value(c, r, false)) {
            srv_count(SRV_STORE_NO_MEMORY, 1);
            meta_error(c, "SERVER_ERROR out of memory storing object");
        }
        return;
    case SHMC_BAD_KEY: meta_error(c, "CLIENT_ERROR bad command line format"); return;
    default: meta_error(c, "SERVER_ERROR Unhandled storage type."); return;
    }
    if (!c->set->cas_enabled)
        newcas = 0;
    put(c, code, 2);
    for (size_t i = m->first_flag; i < r->ntokens - 1; i++) {
        const text_token *t = &r->tok[i];
        if (t->p[0] == 'O') {
            put(c, " ", 1);
            put(c, t->p, t->len);
        } else if (t->p[0] == 'k') {
            meta_key(c, r);
        } else if (t->p[0] == 'c') {
            put_num(c, " c", newcas);
        }
    }
    put(c, "\r\n", 2);
}

static void exec_md(ctx *c, text_request *r)
{
    const text_meta *m = &r->meta;
    shmc_status st;
    bool has_cas = m->has_cas && (c->set->cas_enabled || m->req_cas != 0);
    if (has_cas && !c->set->cas_enabled) {
        st = nocas_probe(c, r); /* -C: C<n>, n != 0, meets CAS 0 */
    } else if (has_cas && m->req_cas == 0) {
        /* the library reads CAS 0 as "any"; memcached compares it */
        const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
        st = shmc_get_info(c->cache, r->key, r->nkey, &nobump, NULL, NULL, NULL);
        if (st == SHMC_OK)
            st = SHMC_EXISTS;
    } else if (m->invalidate) {
        /* I: keep the item, stale, for one client to recache (T sets its TTL) */
        int64_t ttl = m->exptime;
        st = shmc_invalidate(c->cache, r->key, r->nkey, has_cas ? m->req_cas : 0,
                             m->new_ttl ? &ttl : NULL, m->has_new_cas ? m->new_cas : 0);
    } else {
        st = shmc_delete(c->cache, r->key, r->nkey, has_cas ? m->req_cas : 0);
    }
    if (unavailable(c, st, false))
        return;
    const char *code;
    switch (st) {
    case SHMC_OK:
        if (m->no_reply)
            return;
        code = "HD";
        break;
    case SHMC_NOT_FOUND: code = "NF"; break;
    case SHMC_EXISTS: code = "EX"; break;
    case SHMC_BAD_KEY: meta_error(c, "CLIENT_ERROR bad command line format"); return;
    default: code = "NF"; break;
    }
    put(c, code, 2);
    meta_opaque_key(c, r);
    put(c, "\r\n", 2);
}

/* The remaining TTL of r's key as meta "t" shows it (-1: none). */
static int64_t item_ttl(ctx *c, const text_request *r)
{
    const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
    shmc_item_info info;
    if (shmc_get_info(c->cache, r->key, r->nkey, &nobump, NULL, NULL, &info) != SHMC_OK)
        return -1;
    return info.ttl;
}

static void exec_ma(ctx *c, text_request *r)
{
    const text_meta *m = &r->meta;
    bool incr = !(m->mode == 'D' || m->mode == '-');
    uint64_t res = 0, cs = 0;
    bool created = false;
    /* C compares and c reports the CAS atomically with the update */
    shmc_status st = SHMC_NOT_FOUND;
    if (m->has_cas && m->req_cas && !c->set->cas_enabled)
        st = nocas_probe(c, r); /* -C: C<n>, n != 0, meets CAS 0 */
    if (st == SHMC_NOT_FOUND)
        st = shmc_arith_ex(c->cache, r->key, r->nkey, incr, m->delta,
                           m->has_cas && c->set->cas_enabled ? m->req_cas : 0,
                           m->has_new_cas ? m->new_cas : 0, &res, &cs);
    bool ns = false;
    if (st == SHMC_NOT_FOUND && m->vivify) {
        char num[32];
        int n = snprintf(num, sizeof num, "%" PRIu64, m->initial);
        shmc_status as = shmc_store(c->cache, SHMC_ADD, r->key, r->nkey, num, (size_t)n, 0,
                                    m->autoviv_exptime, 0, &cs);
        if (unavailable(c, as, false))
            return;
        if (as == SHMC_OK) {
            created = true;
            res = m->initial;
            st = SHMC_OK;
        } else if (as == SHMC_NO_MEMORY) {
            meta_error(c, "SERVER_ERROR Out of memory allocating new item");
            return;
        } else {
            ns = true;
        }
    }
    if (ns) {
        put(c, "NS", 2);
        meta_opaque_key(c, r);
        put(c, "\r\n", 2);
        return;
    }
    if (unavailable(c, st, false))
        return;
    switch (st) {
    case SHMC_OK: break;
    case SHMC_NOT_NUMERIC:
        meta_error(c, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    case SHMC_NO_MEMORY: meta_error(c, "SERVER_ERROR out of memory"); return;
    case SHMC_BAD_KEY: meta_error(c, "CLIENT_ERROR bad command line format"); return;
    case SHMC_EXISTS:
    case SHMC_NOT_FOUND:
    default:
        put(c, st == SHMC_EXISTS ? "EX" : "NF", 2);
        meta_opaque_key(c, r);
        put(c, "\r\n", 2);
        return;
    }
    /* N (new_ttl): the TTL is part of the command, not a reported flag */
    if (m->new_ttl && unavailable(c, shmc_touch(c->cache, r->key, r->nkey, m->exptime), false))
        return;
    if (m->no_reply && !created)
        return;
    char num[24];
    size_t nlen = fmt_u64(res, num);
    num[nlen] = '\0';
    if (m->value)
        put_num(c, "VA ", nlen);
    else
        put(c, "HD", 2);
    for (size_t i = m->first_flag; i < r->ntokens - 1; i++) {
        const text_token *t = &r->tok[i];
        switch (t->p[0]) {
        case 'c':
            if (!created) {
                size_t len = 0;
                void *v = NULL;
                if (shmc_get_alloc(c->cache, r->key, r->nkey, &v, &len, NULL, &cs) != SHMC_OK)
                    cs = 0;
                free(v);
            }
            put_num(c, " c", c->set->cas_enabled ? cs : 0);
            break;
        case 't':
            if (m->new_ttl)
                put_snum(c, " t", ttl_of(c, m->exptime));
            else if (created)
                put_snum(c, " t", ttl_of(c, m->autoviv_exptime));
            else /* memcached: the item's remaining TTL, -1 for none */
                put_snum(c, " t", item_ttl(c, r));
            break;
        case 'O': put(c, " ", 1); put(c, t->p, t->len); break;
        case 'k': meta_key(c, r); break;
        default: break;
        }
    }
    if (m->value) {
        put(c, "\r\n", 2);
        put(c, num, (size_t)nlen);
    }
    put(c, "\r\n", 2);
}

/* me: memcached's debug line, from the item's metadata; a read that leaves
 * the item's LRU position alone. */
/* "me" size=: the item's size as memcached 1.6 counts it (item_size.h). */
static size_t mc_item_size(const ctx *c, size_t nkey, const shmc_item_info *info)
{
    return MC_ITEM_HEADER + nkey + 1 + (info->flags ? 4 : 0) + info->len + 2 +
           (c->set->cas_enabled ? 8 : 0);
}

static void exec_me(ctx *c, text_request *r)
{
    shmc_item_info info;
    const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
    shmc_status st = shmc_get_info(c->cache, r->key, r->nkey, &nobump, NULL, NULL, &info);
    if (st == SHMC_OK) {
        PUTF(c, "ME %.*s exp=%" PRId64 " la=%" PRIu32 " cas=%" PRIu64 " fetch=%s cls=%u size=%zu\r\n",
             (int)r->tok[1].len, r->tok[1].p, info.ttl < 0 ? info.ttl : -info.ttl,
             info.last_access, c->set->cas_enabled ? info.cas : 0,
             info.fetched ? "yes" : "no", info.class_id, mc_item_size(c, r->nkey, &info));
    } else if (st == SHMC_BAD_KEY) {
        meta_error(c, "CLIENT_ERROR bad command line format");
    } else if (!unavailable(c, st, false)) {
        put(c, "EN\r\n", 4);
    }
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static bool is_meta(enum text_cmd cmd)
{
    return cmd >= TC_MG && cmd <= TC_ME;
}

/* A command that stores a value sent with it (the text and meta sets). */
static bool is_store(enum text_cmd cmd)
{
    return (cmd >= TC_SET && cmd <= TC_CAS) || cmd == TC_MS;
}

/* "refresh_certs" (-Z): "OK", or memcached's "Error <reason>"; without a
 * daemon (unit tests) TLS is not enabled. */
static void exec_refresh_certs(ctx *c)
{
    char err[512] = "TLS not enabled";
    if (c->s->hooks && c->s->hooks->refresh_certs &&
        c->s->hooks->refresh_certs(c->s->daemon, err, sizeof err) == 0) {
        put_str(c, "OK\r\n");
        return;
    }
    PUTF(c, "Error %s\r\n", err);
}


static enum srv_action execute(ctx *c, text_request *r)
{
    if (is_meta(r->cmd))
        srv_count(SRV_CMD_META, 1);
    switch (r->cmd) {
    case TC_ERROR:
        if (is_meta(r->orig_cmd))
            r->noreply = false;
        /* as memcached: a set too large leaves no stale value */
        if (r->err == TE_TOO_LARGE && (r->orig_cmd == TC_SET || r->orig_cmd == TC_MS) &&
            r->nkey && !drop_old_value(c, r, r->noreply))
            break;
        if (r->err == TE_TOO_LARGE && is_store(r->orig_cmd))
            srv_count(SRV_STORE_TOO_LARGE, 1); /* a data block over item_size_max */
        reply(c, r, text_err_string(r->err));
        break;
    case TC_GET: case TC_GETS: case TC_GAT: case TC_GATS:
        exec_get(c, r);
        break;
    case TC_SET: case TC_ADD: case TC_REPLACE: case TC_APPEND: case TC_PREPEND: case TC_CAS:
        exec_store(c, r);
        break;
    case TC_DELETE: {
        detail_record(c->set->prefix_delimiter, r->key, r->nkey, DETAIL_DEL, false);
        shmc_status st = shmc_delete(c->cache, r->key, r->nkey, 0);
        if (unavailable(c, st, r->noreply))
            break;
        reply(c, r, st == SHMC_OK ? "DELETED"
                    : st == SHMC_BAD_KEY ? "CLIENT_ERROR bad command line format" : "NOT_FOUND");
        break;
    }
    case TC_INCR: case TC_DECR:
        exec_arith(c, r);
        break;
    case TC_TOUCH: {
        shmc_status st = shmc_touch(c->cache, r->key, r->nkey, r->exptime);
        if (unavailable(c, st, r->noreply))
            break;
        reply(c, r, st == SHMC_OK ? "TOUCHED"
                    : st == SHMC_BAD_KEY ? "CLIENT_ERROR bad command line format" : "NOT_FOUND");
        break;
    }
    case TC_FLUSH_ALL:
        exec_flush_all(c, r);
        break;
    case TC_VERSION:
        PUTF(c, "VERSION %s\r\n", c->set->version ? c->set->version : SHMC_VERSION_STRING);
        break;
    case TC_VERBOSITY:
        if (c->s->hooks && c->s->hooks->set_verbosity)
            c->s->hooks->set_verbosity(c->s->daemon, (unsigned)r->delta);
        reply(c, r, "OK");
        break;
    case TC_QUIT:
        return SRV_CLOSE;
    case TC_SHUTDOWN:
        return exec_shutdown(c, r);
    case TC_CACHE_MEMLIMIT:
        exec_memlimit(c, r);
        break;
    case TC_STATS:
        exec_stats(c, r);
        break;
    case TC_SLABS:
        exec_slabs(c, r);
        break;
    case TC_LRU_CRAWLER:
        exec_lru_crawler(c, r);
        break;
    case TC_LRU:
        exec_lru(c, r);
        break;
    case TC_WATCH:
        return exec_watch(c, r);
    case TC_MG: exec_mg(c, r); break;
    case TC_MS: exec_ms(c, r); break;
    case TC_MD: exec_md(c, r); break;
    case TC_MA: exec_ma(c, r); break;
    case TC_MN: put(c, "MN\r\n", 4); break;
    case TC_ME: exec_me(c, r); break;
    case TC_REFRESH_CERTS: exec_refresh_certs(c); break;
    }
    return SRV_CONTINUE;
}

/* memcached sends the replies so far right after these (even while it
 * then reads a storage command's data); after the others it waits. */
static bool sends_at_once(enum text_cmd cmd)
{
    return cmd == TC_GET || cmd == TC_GETS || cmd == TC_GAT || cmd == TC_GATS || cmd == TC_MN;
}

size_t proto_text_process(srv_session *s, const char *in, size_t len, srv_buf *out,
                          enum srv_action *action)
{
    ctx c = {
        .s = s,
        .cache = s->cache,
        .set = s->settings ? s->settings : &default_settings,
        .out = out,
        .oom = false,
    };
    size_t off = 0;
    *action = SRV_CONTINUE;
    if (c.set->sasl && !c.set->auth) { /* -S: SASL is binary only; text cannot log in */
        *action = SRV_CLOSE;
        return len;
    }
    if (!s->awaiting_data && s->swallow == 0)
        s->sendable = out->len; /* memcached sent all of it when it waited for input */
    s->awaiting_data = 0;
    while (off < len) {
        if (s->swallow > 0) {
            size_t n = len - off < (size_t)s->swallow ? len - off : (size_t)s->swallow;
            off += n;
            s->swallow -= (int)n;
            continue;
        }
        if (c.set->auth && !s->authenticated) { /* -Y: proto_auth.c */
            long an = proto_auth_process(s, c.set->auth, in + off, len - off, out);
            if (an == 0)
                break;
            if (an < 0) {
                *action = SRV_CLOSE;
                return len;
            }
            off += (size_t)an;
            continue;
        }
        text_request r;
        r.item_size_max = c.set->item_size_max;
        r.no_cas = !c.set->cas_enabled;
        long n = proto_text_parse(in + off, len - off, &r);
        if (n == TEXT_NEED_MORE) {
            /* a whole line waiting for more is a storage command's data */
            s->awaiting_data = memchr(in + off, '\n', len - off) != NULL;
            break;
        }
        if (n < 0) {
            *action = SRV_CLOSE;
            return len;
        }
        off += (size_t)n;
        if (r.swallow > 0)
            s->swallow = (int)r.swallow;
        s->noreply_pending = r.noreply;
        enum srv_action a = execute(&c, &r);
        s->noreply_pending = 0;
        if (sends_at_once(r.cmd))
            s->sendable = out->len;
        if (c.oom) {
            *action = SRV_CLOSE;
            return len;
        }
        if (c.retired) { /* the cache is gone: nothing more is served */
            *action = SRV_RETIRED;
            return len;
        }
        if (a != SRV_CONTINUE) {
            *action = a;
            return off;
        }
    }
    if (!s->awaiting_data && s->swallow == 0)
        s->sendable = out->len;
    return off;
}
