/*
 * mc_lines.h - memcached's listing and log lines, shared by the daemon
 * (proto_walk.c, "watch") and shmcachectl (dump, watch): each formats one
 * line from the library's shmc_dump_item / shmc_event into a buffer of
 * MC_LINE_MAX bytes, without its line ending.
 *
 *   metadump: key=<uri key> exp=<unix|-1> la=<unix> cas=<n> fetch=<yes|no>
 *             cls=<class> size=<bytes>                (memcached's own)
 *   watch:    ts=<sec>.<usec> gid=<seq> type=<type> key=<uri key> ...
 *
 * The watch lines take memcached 1.6.18's field names where they exist
 * (type=item_get status=found|not_found, type=item_store status=stored
 * cmd=set ttl=..., type=eviction fetch=... la=...); where memcached has a
 * connection's fd (cfd=) these say which library client made the call
 * (client=<slot> pid=<pid>), and deletes, incr/decr and touches, which
 * memcached does not log, are type=item_delete, item_arith, item_touch.
 */
#ifndef SHMC_MC_LINES_H
#define SHMC_MC_LINES_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shmcached.h"

#define MC_LINE_MAX 1024 /* a key uri-encoded is at most 750 bytes */

/* memcached's uriencode: unreserved bytes as they are, any other %XX.
 * dst holds 3 * n bytes; returns the length. */
static inline size_t mc_uri_key(char *dst, const char *k, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)k[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            dst[o++] = (char)ch;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        }
    }
    return o;
}

/* A metadump line; returns its length. */
static inline size_t mc_metadump_line(char *dst, const shmc_dump_item *it)
{
    char key[SHMC_KEY_MAX * 3 + 1];
    key[mc_uri_key(key, it->key, it->key_len)] = 0;
    int n = snprintf(dst, MC_LINE_MAX,
                     "key=%s exp=%" PRId64 " la=%" PRId64 " cas=%" PRIu64 " fetch=%s cls=%u "
                     "size=%zu",
                     key, it->exptime ? it->exptime : -1, it->last_access, it->cas,
                     it->fetched ? "yes" : "no", it->class_id, it->size);
    return n < 0 ? 0 : (size_t)n;
}

/* A watch line's status word: memcached's for gets and stores. */
static inline const char *mc_event_status(const shmc_event *e)
{
    switch (e->status) {
    case SHMC_OK:
        return e->kind == SHMC_EV_GET ? "found" : e->kind == SHMC_EV_STORE ? "stored"
             : e->kind == SHMC_EV_DELETE ? "deleted" : e->kind == SHMC_EV_TOUCH ? "touched"
             : "ok";
    case SHMC_NOT_FOUND: return "not_found";
    case SHMC_NOT_STORED: return "not_stored";
    case SHMC_EXISTS: return "exists";
    case SHMC_NOT_NUMERIC: return "non_numeric";
    case SHMC_TOO_LARGE: return "too_large";
    case SHMC_NO_MEMORY: return "no_memory";
    case SHMC_BUSY: return "busy";
    default: return "error";
    }
}

static inline const char *mc_store_cmd(unsigned op)
{
    static const char *const cmds[] = {"set", "add", "replace", "append", "prepend", "cas",
                                       "cas"};
    return op < sizeof cmds / sizeof cmds[0] ? cmds[op] : "set";
}

/* A watch line; returns its length. */
static inline size_t mc_watch_line(char *dst, const shmc_event *e)
{
    char key[SHMC_KEY_MAX * 3 + 1];
    key[mc_uri_key(key, e->key, e->key_len)] = 0;
    int n = snprintf(dst, MC_LINE_MAX, "ts=%" PRId64 ".%06" PRIu32 " gid=%" PRIu64 " ",
                     e->time_sec, e->time_usec, e->seq);
    size_t o = n < 0 ? 0 : (size_t)n, room = MC_LINE_MAX - o;
    const char *st = mc_event_status(e);
    switch (e->kind) {
    case SHMC_EV_GET:
        n = snprintf(dst + o, room, "type=item_get key=%s status=%s clsid=%u", key, st,
                     e->class_id);
        break;
    case SHMC_EV_STORE:
        n = snprintf(dst + o, room, "type=item_store key=%s status=%s cmd=%s ttl=%" PRId64
                                    " clsid=%u", key, st, mc_store_cmd(e->op), e->ttl,
                     e->class_id);
        break;
    case SHMC_EV_DELETE:
        n = snprintf(dst + o, room, "type=item_delete key=%s status=%s cmd=%s", key, st,
                     e->op ? "invalidate" : "delete");
        break;
    case SHMC_EV_ARITH:
        n = snprintf(dst + o, room, "type=item_arith key=%s status=%s cmd=%s", key, st,
                     e->op ? "incr" : "decr");
        break;
    case SHMC_EV_TOUCH:
        n = snprintf(dst + o, room, "type=item_touch key=%s status=%s ttl=%" PRId64, key, st,
                     e->ttl);
        break;
    default: /* SHMC_EV_EVICT */
        n = snprintf(dst + o, room, "type=eviction key=%s fetch=%s ttl=%" PRId64
                                    " la=%" PRId64 " clsid=%u",
                     key, e->fetched ? "yes" : "no", e->ttl,
                     e->last_access ? e->time_sec - e->last_access : 0, e->class_id);
        break;
    }
    o += n < 0 ? 0 : (size_t)n;
    n = snprintf(dst + o, MC_LINE_MAX - o, " client=%" PRIu32 " pid=%" PRIu32 " size=%zu",
                 e->client, e->pid, e->len);
    o += n < 0 ? 0 : (size_t)n;
    return o < MC_LINE_MAX ? o : MC_LINE_MAX - 1;
}

#endif
