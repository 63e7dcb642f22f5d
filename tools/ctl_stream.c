/*
 * ctl_stream.c - shmcachectl's commands that read the cache as a stream:
 * "dump" (the item walk, shmc_dump_next) and "watch" (the event ring,
 * shmc_watch_next), printing memcached's own line formats (mc_lines.h).
 *
 * dump's two forms:
 *   default  memcached's "lru_crawler metadump" lines, then END;
 *   -v       memcached text-protocol commands,
 *              set <key> <flags> <exptime> <bytes>\r\n<value>\r\n
 *            with exptime the item's absolute Unix expiry (0: never), so
 *            that piping them to memcached or shmcached (nc HOST 11211)
 *            stores the same items with the same expiry.  A key the text
 *            protocol cannot carry (a control byte or a space) is left out
 *            with a warning, and the exit status is then 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "mc_lines.h"

#define DUMP_BATCH 16              /* items per shmc_dump_next */
#define DUMP_VALUE_CAP (64u << 10) /* value bytes per entry; larger ones are read by key */
#define WATCH_BATCH 64             /* events per shmc_watch_next */
#define WATCH_IDLE_NS 10000000L    /* sleep between polls that found nothing: 10 ms */

/* Can the text protocol carry this key (no control byte, no space)? */
static int text_key_ok(const char *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] <= 0x20 || k[i] == 0x7f)
            return 0;
    return 1;
}

/* The value of an entry too large for its buffer, read again by key
 * without bumping it: NULL if it went meanwhile.  *it's len and flags
 * become the ones read. */
static void *value_by_key(shmc_cache *cache, shmc_dump_item *it)
{
    shmc_get_options o = {.flags = SHMC_GET_NO_BUMP};
    for (int tries = 0; tries < 4; tries++) {
        size_t len = it->len;
        void *buf = malloc(len ? len : 1);
        shmc_item_info info;
        if (!buf)
            return NULL;
        shmc_status st = shmc_get_info(cache, it->key, it->key_len, &o, buf, &len, &info);
        if (st == SHMC_OK) {
            it->len = len;
            it->flags = info.flags;
            return buf;
        }
        free(buf);
        if (st != SHMC_BUFFER_TOO_SMALL)
            return NULL;
        it->len = len; /* it grew meanwhile: try again with its size */
    }
    return NULL;
}

/* One item as a "set" command; 0, or 1 if it was left out. */
static int print_set(shmc_cache *cache, shmc_dump_item *it)
{
    if (!text_key_ok(it->key, it->key_len)) {
        fprintf(stderr, PROG ": dump: key of %zu bytes left out: the text protocol cannot "
                        "carry its control bytes or spaces\n", it->key_len);
        return 1;
    }
    void *big = NULL;
    const void *val = it->buf;
    if (it->status == SHMC_BUFFER_TOO_SMALL && (val = big = value_by_key(cache, it)) == NULL)
        return 0; /* deleted since the walk saw it */
    printf("set %.*s %" PRIu32 " %" PRId64 " %zu\r\n", (int)it->key_len, it->key, it->flags,
           it->exptime, it->len);
    fwrite(val, 1, it->len, stdout);
    fputs("\r\n", stdout);
    free(big);
    return 0;
}

/* Walk every item, printing each; returns the exit status. */
static int dump_walk(shmc_cache *cache, int values)
{
    static shmc_dump_item items[DUMP_BATCH];
    static char bufs[DUMP_BATCH][DUMP_VALUE_CAP];
    uint64_t cursor = SHMC_DUMP_START;
    int left_out = 0;
    unsigned busy = 0;
    while (cursor != SHMC_DUMP_END) {
        for (size_t i = 0; i < DUMP_BATCH; i++) {
            items[i].buf = values ? bufs[i] : NULL;
            items[i].cap = values ? DUMP_VALUE_CAP : 0;
        }
        size_t got = 0;
        shmc_status st = shmc_dump_next(cache, &cursor, items, DUMP_BATCH, &got);
        if (st == SHMC_BUSY && got == 0 && ++busy >= 3)
            return lib_error("dump", st, 0);
        if (st != SHMC_OK && st != SHMC_BUSY && st != SHMC_CORRUPT)
            return lib_error("dump", st, errno);
        if (st == SHMC_CORRUPT)
            lib_error("dump: a damaged item was skipped", st, 0);
        busy = got ? 0 : busy;
        for (size_t i = 0; i < got; i++) {
            if (values) {
                left_out |= print_set(cache, &items[i]);
            } else {
                char line[MC_LINE_MAX];
                size_t n = mc_metadump_line(line, &items[i]);
                printf("%.*s\n", (int)n, line);
            }
        }
    }
    if (!values)
        puts("END");
    if (fflush(stdout) != 0) {
        fprintf(stderr, PROG ": dump: write to stdout: %s\n", strerror(errno));
        return EXIT_FAIL;
    }
    return left_out ? EXIT_FAIL : EXIT_OK;
}

int cmd_dump(const char *path, int argc, char **argv)
{
    static const struct option longopts[] = {{"values", no_argument, 0, 'v'}, {0, 0, 0, 0}};
    int values = 0, c;
    argc++, argv--; /* argv[-1] is "dump": getopt's argv[0] */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:v", longopts, NULL)) != -1) {
        if (c != 'v')
            option_error("dump", c, argv);
        values = 1;
    }
    need_args("dump", argc - optind, 0, 0);
    shmc_cache *cache = open_segment(path);
    if (!cache)
        return EXIT_FAIL;
    return finish(cache, dump_walk(cache, values));
}

static volatile sig_atomic_t watch_stop; /* SIGINT or SIGTERM: end the watch */

static void on_stop_signal(int sig)
{
    (void)sig;
    watch_stop = 1;
}

/* The SHMC_WATCH_* groups named in argv (all when none is). */
static unsigned watch_groups(int argc, char **argv)
{
    unsigned groups = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "fetchers") == 0)
            groups |= SHMC_WATCH_FETCHERS;
        else if (strcmp(argv[i], "mutations") == 0)
            groups |= SHMC_WATCH_MUTATIONS;
        else if (strcmp(argv[i], "evictions") == 0)
            groups |= SHMC_WATCH_EVICTIONS;
        else
            usage_error("watch: unknown kind '%s' (fetchers, mutations, evictions)", argv[i]);
    }
    return groups ? groups : SHMC_WATCH_FETCHERS | SHMC_WATCH_MUTATIONS | SHMC_WATCH_EVICTIONS;
}

/* Print events of the groups wanted until stopped or count lines were
 * printed (0: no limit); returns the exit status. */
static int watch_loop(shmc_cache *cache, uint64_t cursor, unsigned groups, uint64_t count)
{
    static shmc_event ev[WATCH_BATCH];
    uint64_t printed = 0;
    while (!watch_stop && (!count || printed < count)) {
        size_t got = 0;
        uint64_t skipped = 0;
        shmc_status st = shmc_watch_next(cache, &cursor, ev, WATCH_BATCH, &got, &skipped);
        if (st != SHMC_OK)
            return lib_error("watch", st, errno);
        if (skipped)
            printf("skipped=%" PRIu64 "\n", skipped);
        for (size_t i = 0; i < got && (!count || printed < count); i++) {
            if (!(shmc_event_group(ev[i].kind) & groups))
                continue;
            char line[MC_LINE_MAX];
            size_t n = mc_watch_line(line, &ev[i]);
            printf("%.*s\n", (int)n, line);
            printed++;
        }
        if (fflush(stdout) != 0)
            return EXIT_FAIL; /* the reader went away */
        if (!got && !skipped)
            nanosleep(&(struct timespec){0, WATCH_IDLE_NS}, NULL);
    }
    return EXIT_OK;
}

int cmd_watch(const char *path, int argc, char **argv)
{
    static const struct option longopts[] = {{"count", required_argument, 0, 'n'},
                                              {0, 0, 0, 0}};
    uint64_t count = 0;
    int c;
    argc++, argv--; /* argv[-1] is "watch" */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:n:", longopts, NULL)) != -1) {
        if (c != 'n')
            option_error("watch", c, argv);
        count = parse_u64(optarg, UINT64_MAX, "watch: -n COUNT");
    }
    unsigned groups = watch_groups(argc - optind, argv + optind);
    shmc_cache *cache = open_segment(path);
    if (!cache)
        return EXIT_FAIL;
    uint64_t cursor;
    shmc_status st = shmc_watch_start(cache, &cursor);
    if (st != SHMC_OK)
        return finish(cache, lib_error("watch", st, errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("OK\n"); /* as memcached's watch: the stream begins */
    fflush(stdout);
    int rc = watch_loop(cache, cursor, groups, count);
    shmc_watch_stop(cache);
    return finish(cache, rc);
}
