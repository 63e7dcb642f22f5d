/*
 * shmcachectl - command-line tool for shmcached segments.
 *
 * Creates, inspects, reads, writes, checks and removes one shmcached
 * segment (a shared-memory cache file, by default SHMC_DEFAULT_PATH) by
 * calling the public API of libshmcached, exactly as any other process
 * attached to the cache does.  It owns nothing but its command line: every
 * operation is one library call, and every outcome is reported from the
 * call's shmc_status.
 *
 *   shmcachectl [-S SEGMENT] COMMAND [ARGS...]
 *
 * The segment is -S SEGMENT, else $SHMCACHED_SEGMENT, else
 * SHMC_DEFAULT_PATH.  Run `shmcachectl --help` for the commands.
 *
 * Output follows memcached's text protocol where it has an equivalent:
 * "STAT name value" lines ending with "END" for stats, STORED / DELETED /
 * TOUCHED / OK for writes, and NOT_FOUND (on stderr) for a missing key.
 *
 * Exit status: 0 success; 1 the library reported an error or outcome
 * other than success (missing key, segment not found, check found
 * problems...); 2 bad command line; 3 (check only) consistent, but chunks
 * of clients that died wait for recover - a normal state, not corruption.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "shmcached.h"

#define PROG "shmcachectl"

/** Exit statuses (see the top of this file). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_RECOVERABLE = 3 };

/* ------------------------------------------------------------------ */
/* Usage and error reporting                                           */
/* ------------------------------------------------------------------ */

static void print_usage(FILE *out)
{
    fprintf(out,
"usage: " PROG " [-S SEGMENT] COMMAND [ARGS...]\n"
"\n"
"Manage a shmcached shared-memory cache segment.\n"
"SEGMENT: -S wins, else $SHMCACHED_SEGMENT, else " SHMC_DEFAULT_PATH ".\n"
"\n"
"commands:\n"
"  create [-m MB] [-I SIZE] [-n MINCHUNK] [-f FACTOR] [-M] [-o OPT[,OPT...]]\n"
"         [-c MAXCLIENTS] [--mode OCTAL] [--group NAME|GID]\n"
"                      create a new segment (never overwrites a file);\n"
"                      options as memcached's: -m item memory in megabytes,\n"
"                      -I max item size (k/m suffix allowed), -n min chunk,\n"
"                      -f growth factor, -M no eviction, -c client slots;\n"
"                      -o hashpower=N, hot_lru_pct=N, warm_lru_pct=N,\n"
"                      slab_automove=0|1, no_slab_automove\n"
"  info                path, file size, creation config, class count,\n"
"                      clients attached (this shmcachectl included),\n"
"                      protection mode, per-item overhead\n"
"  stats [slabs|items|-v]\n"
"                      memcached-style \"STAT name value\" lines ending in END:\n"
"                      no argument: general stats; slabs: per class slab\n"
"                      lines (\"STAT <id>:chunk_size N\", classes with pages);\n"
"                      items: \"STAT items:<id>:number N\" (classes with items);\n"
"                      -v: all three, in that order, under one END\n"
"  get [-v] KEY        write the value bytes raw to stdout; -v: also print\n"
"                      \"VALUE <key> <flags> <bytes> <cas>\" to stderr\n"
"  set KEY VALUE [FLAGS [EXPTIME]]\n"
"                      store VALUE (\"-\": read it from stdin); prints STORED\n"
"  delete KEY          prints DELETED\n"
"  incr KEY N          add N; prints the new value\n"
"  decr KEY N          subtract N (stops at 0); prints the new value\n"
"  touch KEY EXPTIME   set a new expiration time; prints TOUCHED\n"
"  flush_all [DELAY]   invalidate every item (after DELAY seconds); prints OK\n"
"  check               verify every invariant of the segment; prints\n"
"                      \"OK: segment consistent\" (exit 0; exit 3 if chunks of\n"
"                      clients that died wait for recover) or the problems (exit 1)\n"
"  recover             reap clients that died while attached\n"
"  destroy [--force]   remove the segment file (after checking it is one);\n"
"                      refused while live clients are attached unless --force;\n"
"                      attached clients then get SHMC_STALE and re-open\n"
"\n"
"EXPTIME as memcached: 0 never, up to 2592000 relative seconds, larger an\n"
"absolute Unix time, negative already expired.\n"
"A missing key prints NOT_FOUND on stderr.\n"
"exit status: 0 success, 1 error or miss reported by the library,\n"
"2 bad command line.\n");
}

/** A bad command line: one line on stderr, a hint, exit 2. */
static _Noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '" PROG " --help' for usage.\n", stderr);
    exit(EXIT_USAGE);
}

/**
 * A library call failed: "shmcachectl: <what>: <shmc_strerror>", with the
 * errno text added for SHMC_SYSTEM, and for SHMC_CORRUPT what the library
 * found damaged (shmc_corrupt_field).  Returns EXIT_FAIL so that callers
 * can close their handle before exiting.
 */
static int lib_error(const char *what, shmc_status st, int saved_errno)
{
    if (st == SHMC_SYSTEM && saved_errno != 0)
        fprintf(stderr, PROG ": %s: %s: %s\n", what, shmc_strerror(st), strerror(saved_errno));
    else if (st == SHMC_CORRUPT && shmc_corrupt_field() != NULL)
        fprintf(stderr, PROG ": %s: %s: %s\n", what, shmc_strerror(st), shmc_corrupt_field());
    else
        fprintf(stderr, PROG ": %s: %s\n", what, shmc_strerror(st));
    return EXIT_FAIL;
}

/**
 * Report a key-level outcome: NOT_FOUND as memcached says it, else
 * "shmcachectl: <cmd> <key>: <shmc_strerror>".  Control bytes of a bad key
 * print as '?' so the message stays on one line.
 */
static int key_error(const char *cmd, const char *key, shmc_status st, int saved_errno)
{
    char what[300];
    size_t n;

    if (st == SHMC_NOT_FOUND) {
        fputs("NOT_FOUND\n", stderr);
        return EXIT_FAIL;
    }
    snprintf(what, sizeof what, "%s %s", cmd, key);
    for (n = 0; what[n] != '\0'; n++)
        if ((unsigned char)what[n] < 0x20 || what[n] == 0x7f)
            what[n] = '?';
    return lib_error(what, st, saved_errno);
}

/** Between min and max arguments, or a usage error naming the command. */
static void need_args(const char *cmd, int argc, int min, int max)
{
    if (argc < min)
        usage_error("%s: missing argument", cmd);
    if (argc > max)
        usage_error("%s: too many arguments", cmd);
}

/* ------------------------------------------------------------------ */
/* Strict number parsing: whole string, in range, or usage error        */
/* ------------------------------------------------------------------ */

/** An unsigned decimal 0..max (no sign, no spaces, no trailing bytes). */
static uint64_t parse_u64(const char *s, uint64_t max, const char *what)
{
    unsigned long long v;
    char *end;

    if (!isdigit((unsigned char)s[0]))
        usage_error("invalid %s '%s': not an unsigned number", what, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0')
        usage_error("invalid %s '%s': not an unsigned number", what, s);
    if (errno == ERANGE || v > max)
        usage_error("invalid %s '%s': out of range (0..%" PRIu64 ")", what, s, max);
    return (uint64_t)v;
}

/** A signed decimal (optional leading '-') that fits in int64_t. */
static int64_t parse_i64(const char *s, const char *what)
{
    long long v;
    char *end;
    const char *digits = (s[0] == '-') ? s + 1 : s;

    if (!isdigit((unsigned char)digits[0]))
        usage_error("invalid %s '%s': not a number", what, s);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0')
        usage_error("invalid %s '%s': not a number", what, s);
    if (errno == ERANGE)
        usage_error("invalid %s '%s': out of range", what, s);
    return (int64_t)v;
}

/** A byte size with an optional k/K or m/M suffix (memcached -I). */
static uint32_t parse_size(const char *s, const char *what)
{
    unsigned long long v, mult = 1;
    char *end;

    if (!isdigit((unsigned char)s[0]))
        usage_error("invalid %s '%s': not a size", what, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        mult = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1024 * 1024, end++;
    if (*end != '\0')
        usage_error("invalid %s '%s': not a size (N, Nk or Nm)", what, s);
    if (errno == ERANGE || v > UINT32_MAX / mult)
        usage_error("invalid %s '%s': out of range", what, s);
    return (uint32_t)(v * mult);
}

/** A finite decimal floating-point number. */
static double parse_double(const char *s, const char *what)
{
    char *end;
    double v;

    if (!isdigit((unsigned char)s[0]) && s[0] != '.')
        usage_error("invalid %s '%s': not a number", what, s);
    errno = 0;
    v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        usage_error("invalid %s '%s': not a number", what, s);
    return v;
}

/** A file mode in octal, 0..07777. */
static mode_t parse_mode(const char *s)
{
    unsigned long v;
    char *end;

    if (s[0] < '0' || s[0] > '7')
        usage_error("invalid mode '%s': not an octal number", s);
    errno = 0;
    v = strtoul(s, &end, 8);
    if (*end != '\0' || errno == ERANGE || v > 07777)
        usage_error("invalid mode '%s': not an octal mode (0..7777)", s);
    return (mode_t)v;
}

/** A group name, or a numeric gid. */
static gid_t parse_group(const char *s)
{
    struct group *gr = getgrnam(s);

    if (gr != NULL)
        return gr->gr_gid;
    if (!isdigit((unsigned char)s[0]))
        usage_error("unknown group '%s'", s);
    return (gid_t)parse_u64(s, (gid_t)-1 - 1, "group id");
}

/* ------------------------------------------------------------------ */
/* Attaching                                                           */
/* ------------------------------------------------------------------ */

/** Attach the segment; on failure report it and return NULL. */
static shmc_cache *open_segment(const char *path)
{
    shmc_cache *cache = NULL;
    shmc_status st = shmc_open(path, &cache);
    char what[4200];

    if (st != SHMC_OK) {
        int e = errno;
        snprintf(what, sizeof what, "open %s", path);
        lib_error(what, st, e);
        return NULL;
    }
    return cache;
}

/** Close the handle and pass the exit status through. */
static int finish(shmc_cache *cache, int status)
{
    shmc_close(cache);
    return status;
}

/* ------------------------------------------------------------------ */
/* create                                                              */
/* ------------------------------------------------------------------ */

/** One -o item (memcached's extended options that the segment has). */
static void parse_extended_one(char *opt, shmc_config *cfg)
{
    char *eq = strchr(opt, '=');
    const char *val = eq ? eq + 1 : NULL;

    if (eq)
        *eq = '\0';
    if (strcmp(opt, "no_slab_automove") == 0 && !val) {
        cfg->slab_automove = 0;
        return;
    }
    if (!val)
        usage_error("create: -o %s needs a value (%s=N)", opt, opt);
    if (strcmp(opt, "hashpower") == 0)
        cfg->hash_power = (uint32_t)parse_u64(val, UINT32_MAX, "hashpower");
    else if (strcmp(opt, "hot_lru_pct") == 0)
        cfg->hot_lru_pct = (uint32_t)parse_u64(val, 100, "hot_lru_pct");
    else if (strcmp(opt, "warm_lru_pct") == 0)
        cfg->warm_lru_pct = (uint32_t)parse_u64(val, 100, "warm_lru_pct");
    else if (strcmp(opt, "slab_automove") == 0)
        cfg->slab_automove = (int)parse_u64(val, 1, "slab_automove");
    else
        usage_error("create: unknown -o option '%s'", opt);
}

/** -o OPT[,OPT...] */
static void parse_extended(const char *arg, shmc_config *cfg)
{
    char buf[1024];
    char *save = NULL, *tok;

    if (strlen(arg) >= sizeof buf)
        usage_error("create: -o argument too long");
    strcpy(buf, arg);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        parse_extended_one(tok, cfg);
}

/** The value of option argv[*i], advancing *i past it. */
static const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        usage_error("create: option %s needs a value", argv[*i]);
    return argv[++*i];
}

/** Parse create's options into *cfg (defaults first). */
static void parse_create_options(int argc, char **argv, shmc_config *cfg)
{
    shmc_config_init(cfg);
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];

        if (strcmp(o, "-m") == 0) {
            uint64_t mb = parse_u64(option_value(argc, argv, &i), UINT64_MAX >> 20, "-m megabytes");
            cfg->mem_bytes = mb << 20;
        } else if (strcmp(o, "-I") == 0) {
            cfg->item_size_max = parse_size(option_value(argc, argv, &i), "-I size");
        } else if (strcmp(o, "-n") == 0) {
            cfg->chunk_size_min = (uint32_t)parse_u64(option_value(argc, argv, &i), UINT32_MAX, "-n size");
        } else if (strcmp(o, "-f") == 0) {
            cfg->growth_factor = parse_double(option_value(argc, argv, &i), "-f factor");
        } else if (strcmp(o, "-M") == 0) {
            cfg->no_evict = 1;
        } else if (strcmp(o, "-o") == 0) {
            parse_extended(option_value(argc, argv, &i), cfg);
        } else if (strcmp(o, "-c") == 0) {
            cfg->max_clients = (uint32_t)parse_u64(option_value(argc, argv, &i), UINT32_MAX, "-c clients");
        } else if (strcmp(o, "--mode") == 0) {
            cfg->mode = parse_mode(option_value(argc, argv, &i));
        } else if (strcmp(o, "--group") == 0) {
            cfg->group = parse_group(option_value(argc, argv, &i));
        } else if (o[0] == '-') {
            usage_error("create: unknown option '%s'", o);
        } else {
            usage_error("create: unexpected argument '%s'", o);
        }
    }
}

static int cmd_create(const char *path, int argc, char **argv)
{
    shmc_config cfg;
    shmc_cache *cache = NULL;
    shmc_status st;
    struct stat sb;
    char what[4200];

    parse_create_options(argc, argv, &cfg);
    st = shmc_create(path, &cfg, &cache);
    if (st != SHMC_OK) {
        int e = errno;
        snprintf(what, sizeof what, "create %s", path);
        return lib_error(what, st, e);
    }
    if (stat(path, &sb) == 0)
        printf("created %s: %lld bytes\n", path, (long long)sb.st_size);
    else
        printf("created %s\n", path);
    return finish(cache, EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* info                                                                */
/* ------------------------------------------------------------------ */

/**
 * The protection mode line.  One place, so that the protection-key mode
 * (a later change) only has to be reported here.
 */
static void print_protection(shmc_cache *cache)
{
    shmc_stats st;
    printf("protection: %s", shmc_protection_name(shmc_protection_of(cache)));
    if (shmc_stats_get(cache, &st) == SHMC_OK && st.pkru_writers)
        printf(" (%" PRIu64 " PKRU writers outside the library's gates)", st.pkru_writers);
    printf("\n");
}

static void print_group(gid_t gid)
{
    struct group *gr;

    if (gid == (gid_t)-1) {
        printf("group: default\n");
        return;
    }
    gr = getgrgid(gid);
    if (gr != NULL)
        printf("group: %lu (%s)\n", (unsigned long)gid, gr->gr_name);
    else
        printf("group: %lu\n", (unsigned long)gid);
}

static void print_config(const shmc_config *cfg)
{
    printf("mem_bytes: %" PRIu64 "\n", cfg->mem_bytes);
    printf("item_size_max: %" PRIu32 "\n", cfg->item_size_max);
    printf("chunk_size_min: %" PRIu32 "\n", cfg->chunk_size_min);
    printf("growth_factor: %g\n", cfg->growth_factor);
    printf("no_evict: %d\n", cfg->no_evict);
    printf("hash_power: %" PRIu32 "\n", cfg->hash_power);
    printf("max_clients: %" PRIu32 "\n", cfg->max_clients);
    printf("hot_lru_pct: %" PRIu32 "\n", cfg->hot_lru_pct);
    printf("warm_lru_pct: %" PRIu32 "\n", cfg->warm_lru_pct);
    printf("slab_automove: %d\n", cfg->slab_automove);
    printf("mode: %04o\n", (unsigned)cfg->mode);
    print_group(cfg->group);
}

static int cmd_info(const char *path, int argc, char **argv)
{
    shmc_cache *cache;
    shmc_config cfg;
    shmc_stats stats;
    shmc_status st;
    struct stat sb;

    (void)argv;
    need_args("info", argc, 0, 0);
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    if ((st = shmc_config_get(cache, &cfg)) != SHMC_OK)
        return finish(cache, lib_error("info: config", st, errno));
    if ((st = shmc_stats_get(cache, &stats)) != SHMC_OK)
        return finish(cache, lib_error("info: stats", st, errno));
    printf("path: %s\n", path);
    if (stat(path, &sb) == 0)
        printf("file_size: %lld\n", (long long)sb.st_size);
    print_config(&cfg);
    printf("classes: %u\n", shmc_class_count(cache));
    printf("clients: %" PRIu64 " (including this " PROG ")\n", stats.curr_clients);
    if (stats.dead_clients)
        printf("dead_clients: %" PRIu64 " (not reaped yet: " PROG " recover)\n",
               stats.dead_clients);
    print_protection(cache);
    printf("item_overhead: %zu\n", shmc_item_overhead());
    return finish(cache, EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* stats                                                               */
/* ------------------------------------------------------------------ */

/** Every field of shmc_stats, in the order memcached's "stats" prints them. */
#define STAT_FIELD(f) { #f, offsetof(shmc_stats, f) }
static const struct {
    const char *name;
    size_t offset;
} stat_fields[] = {
    STAT_FIELD(uptime), STAT_FIELD(time),
    STAT_FIELD(curr_clients), STAT_FIELD(dead_clients), STAT_FIELD(clients_recovered),
    STAT_FIELD(locks_repaired),
    STAT_FIELD(cmd_get), STAT_FIELD(cmd_set), STAT_FIELD(cmd_flush), STAT_FIELD(cmd_touch),
    STAT_FIELD(get_hits), STAT_FIELD(get_misses), STAT_FIELD(get_expired),
    STAT_FIELD(get_flushed),
    STAT_FIELD(delete_misses), STAT_FIELD(delete_hits),
    STAT_FIELD(incr_misses), STAT_FIELD(incr_hits),
    STAT_FIELD(decr_misses), STAT_FIELD(decr_hits),
    STAT_FIELD(cas_misses), STAT_FIELD(cas_hits), STAT_FIELD(cas_badval),
    STAT_FIELD(touch_hits), STAT_FIELD(touch_misses),
    STAT_FIELD(limit_maxbytes),
    STAT_FIELD(hash_power_level), STAT_FIELD(hash_buckets),
    STAT_FIELD(slabs_moved), STAT_FIELD(total_pages), STAT_FIELD(free_pages),
    STAT_FIELD(bytes), STAT_FIELD(curr_items), STAT_FIELD(total_items),
    STAT_FIELD(expired_unfetched), STAT_FIELD(evicted_unfetched),
    STAT_FIELD(evictions), STAT_FIELD(reclaimed),
    STAT_FIELD(protection), STAT_FIELD(pkru_writers),
};
#undef STAT_FIELD

/* A new field in shmc_stats must be added to stat_fields above. */
_Static_assert(sizeof(shmc_stats) == sizeof(stat_fields) / sizeof(stat_fields[0]) * sizeof(uint64_t),
               "stat_fields does not list every field of shmc_stats");
/* A new field in shmc_class_stats must be printed by print_slabs/print_items. */
_Static_assert(sizeof(shmc_class_stats) == 2 * sizeof(uint32_t) + 14 * sizeof(uint64_t),
               "shmc_class_stats changed: update print_slabs/print_items");

static void print_general(const shmc_stats *s)
{
    const unsigned char *base = (const unsigned char *)s;

    printf("STAT version %s\n", SHMC_VERSION_STRING);
    for (size_t i = 0; i < sizeof stat_fields / sizeof stat_fields[0]; i++) {
        uint64_t v;
        memcpy(&v, base + stat_fields[i].offset, sizeof v);
        if (strcmp(stat_fields[i].name, "protection") == 0) /* a name, not a number */
            printf("STAT protection %s\n", shmc_protection_name((shmc_protection)v));
        else
            printf("STAT %s %" PRIu64 "\n", stat_fields[i].name, v);
    }
}

/** memcached "stats slabs": classes that hold pages. */
static int print_slabs(shmc_cache *cache)
{
    unsigned n = shmc_class_count(cache), active = 0;

    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats c;
        shmc_status st = shmc_class_stats_get(cache, id, &c);

        if (st != SHMC_OK)
            return lib_error("stats slabs", st, errno);
        if (c.total_pages == 0)
            continue;
        active++;
        printf("STAT %u:chunk_size %" PRIu32 "\n", id, c.chunk_size);
        printf("STAT %u:chunks_per_page %" PRIu32 "\n", id, c.chunks_per_page);
        printf("STAT %u:total_pages %" PRIu64 "\n", id, c.total_pages);
        printf("STAT %u:total_chunks %" PRIu64 "\n", id, c.total_pages * c.chunks_per_page);
        printf("STAT %u:used_chunks %" PRIu64 "\n", id, c.used_chunks);
        printf("STAT %u:free_chunks %" PRIu64 "\n", id, c.free_chunks);
    }
    printf("STAT active_slabs %u\n", active);
    return EXIT_OK;
}

/** memcached "stats items": classes that hold items. */
static int print_items(shmc_cache *cache)
{
    unsigned n = shmc_class_count(cache);

    for (unsigned id = 1; id <= n; id++) {
        shmc_class_stats c;
        shmc_status st = shmc_class_stats_get(cache, id, &c);

        if (st != SHMC_OK)
            return lib_error("stats items", st, errno);
        if (c.curr_items == 0)
            continue;
        printf("STAT items:%u:number %" PRIu64 "\n", id, c.curr_items);
        printf("STAT items:%u:number_hot %" PRIu64 "\n", id, c.hot);
        printf("STAT items:%u:number_warm %" PRIu64 "\n", id, c.warm);
        printf("STAT items:%u:number_cold %" PRIu64 "\n", id, c.cold);
        printf("STAT items:%u:age %" PRIu64 "\n", id, c.oldest_age);
        printf("STAT items:%u:mem_requested %" PRIu64 "\n", id, c.bytes);
        printf("STAT items:%u:evicted %" PRIu64 "\n", id, c.evictions);
        printf("STAT items:%u:outofmemory %" PRIu64 "\n", id, c.outofmemory);
        printf("STAT items:%u:evicted_unfetched %" PRIu64 "\n", id, c.evicted_unfetched);
        printf("STAT items:%u:expired_unfetched %" PRIu64 "\n", id, c.expired_unfetched);
        printf("STAT items:%u:reclaimed %" PRIu64 "\n", id, c.reclaimed);
    }
    return EXIT_OK;
}

static int cmd_stats(const char *path, int argc, char **argv)
{
    int general = 1, slabs = 0, items = 0, rc = EXIT_OK;
    shmc_cache *cache;

    need_args("stats", argc, 0, 1);
    if (argc == 1) {
        if (strcmp(argv[0], "-v") == 0)
            slabs = items = 1;
        else if (strcmp(argv[0], "slabs") == 0)
            general = 0, slabs = 1;
        else if (strcmp(argv[0], "items") == 0)
            general = 0, items = 1;
        else
            usage_error("stats: unknown argument '%s' (slabs, items or -v)", argv[0]);
    }
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    if (general) {
        shmc_stats s;
        shmc_status st = shmc_stats_get(cache, &s);
        if (st != SHMC_OK)
            return finish(cache, lib_error("stats", st, errno));
        print_general(&s);
    }
    if (slabs && rc == EXIT_OK)
        rc = print_slabs(cache);
    if (items && rc == EXIT_OK)
        rc = print_items(cache);
    if (rc == EXIT_OK)
        printf("END\n");
    return finish(cache, rc);
}

/* ------------------------------------------------------------------ */
/* get / set / delete / incr / decr / touch / flush_all                */
/* ------------------------------------------------------------------ */

static int cmd_get(const char *path, int argc, char **argv)
{
    int verbose = 0;
    shmc_cache *cache;
    shmc_status st;
    void *value = NULL;
    size_t len = 0;
    uint32_t flags = 0;
    uint64_t cas = 0;
    const char *key;

    if (argc > 0 && strcmp(argv[0], "-v") == 0)
        verbose = 1, argc--, argv++;
    if (argc > 0 && strcmp(argv[0], "--") == 0)
        argc--, argv++;
    need_args("get", argc, 1, 1);
    key = argv[0];
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    st = shmc_get_alloc(cache, key, strlen(key), &value, &len, &flags, &cas);
    if (st != SHMC_OK)
        return finish(cache, key_error("get", key, st, errno));
    if (verbose)
        fprintf(stderr, "VALUE %s %" PRIu32 " %zu %" PRIu64 "\n", key, flags, len, cas);
    if (len > 0 && fwrite(value, 1, len, stdout) != len) {
        free(value);
        fprintf(stderr, PROG ": get: write to stdout: %s\n", strerror(errno));
        return finish(cache, EXIT_FAIL);
    }
    free(value);
    return finish(cache, EXIT_OK);
}

/** All of stdin into a malloc'd buffer; exits on failure. */
static char *read_stdin(size_t *len_out)
{
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);

    if (buf == NULL)
        usage_error("set: out of memory reading stdin");
    while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                fprintf(stderr, PROG ": set: out of memory reading stdin\n");
                exit(EXIT_FAIL);
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (ferror(stdin)) {
        free(buf);
        fprintf(stderr, PROG ": set: reading stdin: %s\n", strerror(errno));
        exit(EXIT_FAIL);
    }
    *len_out = len;
    return buf;
}

static int cmd_set(const char *path, int argc, char **argv)
{
    const char *key, *value;
    char *owned = NULL;
    size_t len;
    uint32_t flags = 0;
    int64_t exptime = 0;
    shmc_cache *cache;
    shmc_status st;
    int rc = EXIT_OK;

    need_args("set", argc, 2, 4);
    key = argv[0];
    if (argc >= 3)
        flags = (uint32_t)parse_u64(argv[2], UINT32_MAX, "flags");
    if (argc >= 4)
        exptime = parse_i64(argv[3], "exptime");
    if (strcmp(argv[1], "-") == 0) {
        owned = read_stdin(&len);
        value = owned;
    } else {
        value = argv[1];
        len = strlen(value);
    }
    if ((cache = open_segment(path)) == NULL) {
        free(owned);
        return EXIT_FAIL;
    }
    st = shmc_set(cache, key, strlen(key), value, len, flags, exptime);
    if (st == SHMC_OK)
        printf("STORED\n");
    else
        rc = key_error("set", key, st, errno);
    free(owned);
    return finish(cache, rc);
}

static int cmd_delete(const char *path, int argc, char **argv)
{
    shmc_cache *cache;
    shmc_status st;

    need_args("delete", argc, 1, 1);
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    st = shmc_delete(cache, argv[0], strlen(argv[0]), 0);
    if (st != SHMC_OK)
        return finish(cache, key_error("delete", argv[0], st, errno));
    printf("DELETED\n");
    return finish(cache, EXIT_OK);
}

/** incr and decr: the same command with a different call. */
static int arith(const char *cmd, const char *path, int argc, char **argv)
{
    shmc_cache *cache;
    shmc_status st;
    uint64_t delta, result = 0;
    const char *key;

    need_args(cmd, argc, 2, 2);
    key = argv[0];
    delta = parse_u64(argv[1], UINT64_MAX, "delta");
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    if (strcmp(cmd, "incr") == 0)
        st = shmc_incr(cache, key, strlen(key), delta, &result);
    else
        st = shmc_decr(cache, key, strlen(key), delta, &result);
    if (st != SHMC_OK)
        return finish(cache, key_error(cmd, key, st, errno));
    printf("%" PRIu64 "\n", result);
    return finish(cache, EXIT_OK);
}

static int cmd_incr(const char *path, int argc, char **argv)
{
    return arith("incr", path, argc, argv);
}

static int cmd_decr(const char *path, int argc, char **argv)
{
    return arith("decr", path, argc, argv);
}

static int cmd_touch(const char *path, int argc, char **argv)
{
    shmc_cache *cache;
    shmc_status st;
    int64_t exptime;

    need_args("touch", argc, 2, 2);
    exptime = parse_i64(argv[1], "exptime");
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    st = shmc_touch(cache, argv[0], strlen(argv[0]), exptime);
    if (st != SHMC_OK)
        return finish(cache, key_error("touch", argv[0], st, errno));
    printf("TOUCHED\n");
    return finish(cache, EXIT_OK);
}

static int cmd_flush_all(const char *path, int argc, char **argv)
{
    shmc_cache *cache;
    shmc_status st;
    int64_t delay = 0;

    need_args("flush_all", argc, 0, 1);
    if (argc == 1)
        delay = (int64_t)parse_u64(argv[0], INT64_MAX, "delay");
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    st = shmc_flush_all(cache, delay);
    if (st != SHMC_OK)
        return finish(cache, lib_error("flush_all", st, errno));
    printf("OK\n");
    return finish(cache, EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* check / recover / destroy                                           */
/* ------------------------------------------------------------------ */

static int cmd_check(const char *path, int argc, char **argv)
{
    shmc_cache *cache;
    shmc_check_report rep;

    (void)argv;
    need_args("check", argc, 0, 0);
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    if (shmc_check_with(cache, stdout, &rep) != 0) {
        fflush(stdout);
        fprintf(stderr, PROG ": check: %u problem%s found\n", rep.problems,
                rep.problems == 1 ? "" : "s");
        return finish(cache, EXIT_FAIL);
    }
    if (rep.recoverable_chunks) {
        printf("OK: segment consistent; %u chunk%s of clients that died wait for "
               "recover\n", rep.recoverable_chunks, rep.recoverable_chunks == 1 ? "" : "s");
        return finish(cache, EXIT_RECOVERABLE);
    }
    printf("OK: segment consistent\n");
    return finish(cache, EXIT_OK);
}

static int cmd_recover(const char *path, int argc, char **argv)
{
    shmc_cache *cache;
    shmc_status st;
    unsigned reaped = 0;

    (void)argv;
    need_args("recover", argc, 0, 0);
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    st = shmc_recover(cache, &reaped);
    if (st != SHMC_OK)
        return finish(cache, lib_error("recover", st, errno));
    printf("reaped %u dead client%s\n", reaped, reaped == 1 ? "" : "s");
    return finish(cache, EXIT_OK);
}

static int cmd_destroy(const char *path, int argc, char **argv)
{
    shmc_status st;
    char what[4200];
    int force = argc == 1 && strcmp(argv[0], "--force") == 0;

    if (argc == 1 && !force)
        usage_error("destroy: unknown argument '%s' (only --force)", argv[0]);
    need_args("destroy", argc, 0, 1);
    st = shmc_destroy_with(path, force ? 0 : SHMC_DESTROY_UNUSED);
    if (st == SHMC_CORRUPT || st == SHMC_BAD_VERSION || st == SHMC_STALE)
        st = shmc_destroy(path); /* nobody can attach it: nobody to count */
    if (st == SHMC_BUSY) {
        fprintf(stderr, PROG ": destroy %s: live clients are attached (" PROG " -S %s info);"
                        " --force removes it anyway, and they get SHMC_STALE\n", path, path);
        return EXIT_FAIL;
    }
    if (st != SHMC_OK) {
        int e = errno;
        snprintf(what, sizeof what, "destroy %s", path);
        return lib_error(what, st, e);
    }
    printf("destroyed %s\n", path);
    return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

static const struct command {
    const char *name;
    int (*run)(const char *path, int argc, char **argv);
} commands[] = {
    { "create", cmd_create },   { "info", cmd_info },
    { "stats", cmd_stats },     { "get", cmd_get },
    { "set", cmd_set },         { "delete", cmd_delete },
    { "incr", cmd_incr },       { "decr", cmd_decr },
    { "touch", cmd_touch },     { "flush_all", cmd_flush_all },
    { "check", cmd_check },     { "recover", cmd_recover },
    { "destroy", cmd_destroy },
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path = getenv("SHMCACHED_SEGMENT");
    const struct command *cmd;
    int i = 1;

    if (path == NULL || path[0] == '\0')
        path = SHMC_DEFAULT_PATH;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_usage(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            printf(PROG " %s\n", SHMC_VERSION_STRING);
            return EXIT_OK;
        } else if (strcmp(argv[i], "-S") == 0) {
            if (++i >= argc || argv[i][0] == '\0')
                usage_error("option -S needs a segment path");
            path = argv[i];
        } else if (strncmp(argv[i], "-S", 2) == 0) {
            path = argv[i] + 2;
        } else {
            usage_error("unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc)
        usage_error("missing command");
    if ((cmd = find_command(argv[i])) == NULL)
        usage_error("unknown command '%s'", argv[i]);
    return cmd->run(path, argc - i - 1, argv + i + 1);
}
