/*
 * proto_watch.c - memcached's "watch" for the text protocol: the
 * command's arguments, and the stream of log lines a watching connection
 * sends (protocol.h: proto_watch_poll), read from the segment's event
 * ring (shmc_watch_next), so that every client's calls show, a library
 * client's as much as this server's.
 *
 * As memcached 1.6.18: no argument watches fetchers; the kinds it knows
 * but this server has no events for (rawcmds, connevents and the proxy's)
 * are accepted and stream nothing; any other word answers ERROR.
 */
#include <inttypes.h>
#include <string.h>

#include "mc_lines.h"
#include "protocol.h"
#include "proto_watch.h"

#define WATCH_BATCH 64   /* events per shmc_watch_next */
#define WATCH_ROUNDS 16  /* batches per poll at most: a busy cache does not hold the worker */

/* The groups one argument names: a SHMC_WATCH_* bit, 0 for a kind with
 * no events here, -1 for an unknown word. */
static int watch_word(const char *p, size_t n)
{
    static const struct {
        const char *name;
        int groups;
    } words[] = {
        {"fetchers", SHMC_WATCH_FETCHERS}, {"mutations", SHMC_WATCH_MUTATIONS},
        {"evictions", SHMC_WATCH_EVICTIONS}, {"rawcmds", 0}, {"connevents", 0},
        {"proxyreqs", 0}, {"proxyevents", 0}, {"proxyuser", 0},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].name) == n && memcmp(words[i].name, p, n) == 0)
            return words[i].groups;
    return -1;
}

int watch_parse(const text_token *args, size_t n, unsigned *groups)
{
    *groups = n ? WATCH_ACCEPTED : SHMC_WATCH_FETCHERS;
    for (size_t i = 0; i < n; i++) {
        int g = watch_word(args[i].p, args[i].len);
        if (g < 0)
            return -1;
        *groups |= (unsigned)g;
    }
    return 0;
}

bool proto_watch_poll(srv_session *s, srv_buf *out)
{
    shmc_event ev[WATCH_BATCH];
    char line[MC_LINE_MAX + 1];
    size_t got = WATCH_BATCH;
    for (int round = 0; round < WATCH_ROUNDS && got == WATCH_BATCH; round++) {
        uint64_t skipped = 0;
        if (shmc_watch_next(s->cache, &s->watch_cursor, ev, WATCH_BATCH, &got, &skipped) !=
            SHMC_OK)
            return false;
        if (skipped && !srv_buf_printf(out, "skipped=%" PRIu64 "\n", skipped))
            return false;
        for (size_t i = 0; i < got; i++) {
            if (!(shmc_event_group(ev[i].kind) & s->watch_groups))
                continue;
            size_t n = mc_watch_line(line, &ev[i]);
            line[n++] = '\n';
            if (!srv_buf_add(out, line, n))
                return false;
        }
    }
    return true;
}

void proto_watch_end(srv_session *s)
{
    if (s->watch_groups)
        shmc_watch_stop(s->cache);
    s->watch_groups = 0;
}
