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
 * Options are parsed with getopt_long, as the server's are: -m64,
 * --mode=0660, --memory-limit 64 all work.  Every error says what failed,
 * why, and what to do: the range of a bad value, a missing directory
 * apart from a missing file, and that attaching needs read and write
 * access to the file, even to read (tests/test_shmcachectl.sh asserts
 * each message).
 *
 * Exit status: 0 success; 1 the library reported an error or outcome
 * other than success (missing key, segment not found, check found
 * problems...); 2 bad command line; 3 (check only) consistent, but chunks
 * of clients that died wait for recover - a normal state, not corruption;
 * 4 (check only) a live client held a lock past the bound (SHMC_LOCK_WAIT_MS)
 * - stopped or stuck - so nothing was checked: try again.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ctl.h"
#include "shmcached.h"
#include "stats_names.h"


/*
 * The library's bounds on shmc_config (include/shmcached.h documents them,
 * src/segment.c enforces them), checked here first so that an error names
 * the range instead of the library's bare "invalid argument".
 */
#define MEM_MB_MIN 2u            /* two 1 MiB slab pages */
#define MEM_MB_MAX 16384u        /* 16 GiB */
#define ITEM_MIN 1024u           /* 1k */
#define ITEM_MAX (128u << 20)    /* 128m */
#define CHUNK_MIN 8u             /* ..item_size_max / 2 */
#define FACTOR_MAX 100.0         /* above 1.0 */
#define HASHPOWER_MIN 10u
#define HASHPOWER_MAX 31u
#define CLIENTS_MAX 65535u
#define LRU_PCT_MAX 80u          /* hot + warm, each at least 1 */

/* ------------------------------------------------------------------ */
/* Usage and error reporting                                           */
/* ------------------------------------------------------------------ */

static void print_usage(FILE *out)
{
    fprintf(out,
"usage: " PROG " [-S SEGMENT] COMMAND [ARGS...]\n"
"\n"
"Manage a shmcached shared-memory cache segment.\n"
"SEGMENT: -S (--segment) wins, else $SHMCACHED_SEGMENT, else " SHMC_DEFAULT_PATH ".\n"
"\n"
"commands:\n"
"  create [-m MB] [-I SIZE] [-n MINCHUNK] [-f FACTOR] [-M] [-o OPT[,OPT...]]\n"
"         [-c MAXCLIENTS] [--mode OCTAL] [--group NAME|GID]\n"
"                      create a new segment (never overwrites a file);\n"
"                      options as memcached's: -m item memory in megabytes\n"
"                      (2..16384), -I max item size (1k..128m), -n min chunk\n"
"                      (8..SIZE/2), -f growth factor (above 1, at most 100),\n"
"                      -M no eviction, -c client slots (1..65535); -o\n"
"                      hashpower=10..31, hot_lru_pct=1..80, warm_lru_pct=1..80\n"
"                      (at most 80 together), slab_automove=0|1,\n"
"                      no_slab_automove; --mode: every client needs read and\n"
"                      write access (0660: the group attaches).  Long forms:\n"
"                      --memory-limit, --max-item-size, --slab-min-size,\n"
"                      --slab-growth-factor, --disable-evictions, --extended,\n"
"                      --max-clients; -m64 and --mode=0660 work\n"
"  info                path, file size, creation config, class count,\n"
"                      clients attached (this shmcachectl included),\n"
"                      protection mode, per-item overhead\n"
"  stats [slabs|items|-v]\n"
"                      memcached-style \"STAT name value\" lines ending in END:\n"
"                      no argument: general stats; slabs: per class slab\n"
"                      lines (\"STAT <id>:chunk_size N\", classes with pages);\n"
"                      items: \"STAT items:<id>:number N\" (classes with items);\n"
"                      -v: all three, in that order, under one END\n"
"  get [-v] [--] KEY   write the value bytes raw to stdout; -v: also print\n"
"                      \"VALUE <key> <flags> <bytes> <cas>\" to stderr; a key\n"
"                      that starts with '-' follows --\n"
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
"  dump [-v]           every live item as memcached's metadump line\n"
"                      (\"key=<uri key> exp= la= cas= fetch= cls= size=\"), then\n"
"                      END; -v (--values): instead, memcached text-protocol\n"
"                      \"set <key> <flags> <exptime> <bytes>\" commands with the\n"
"                      values, which memcached or shmcached can replay\n"
"  watch [-n COUNT] [fetchers] [mutations] [evictions]\n"
"                      print every process's events as memcached's watch log\n"
"                      lines (default: all three kinds) until interrupted, or\n"
"                      COUNT lines; \"skipped=N\" when events were lost\n"
"\n"
"EXPTIME as memcached: 0 never, up to 2592000 relative seconds, larger an\n"
"absolute Unix time, negative already expired.\n"
"A missing key prints NOT_FOUND on stderr.\n"
"exit status: 0 success, 1 error or miss reported by the library,\n"
"2 bad command line; check: 3 consistent but recover is due, 4 busy (a\n"
"stopped client holds a lock: nothing checked).\n");
}

/** A bad command line: one line on stderr, a hint, exit 2. */
_Noreturn void usage_error(const char *fmt, ...)
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
 * What to do about a status, when nothing more particular is known: the
 * text after "; " in a library error, or "" (NOT_FOUND and the other
 * memcached answers need none).
 */
static const char *status_hint(shmc_status st)
{
    switch (st) {
    case SHMC_NOT_SEGMENT:
        return "the file is someone else's; -S names the segment (it was left alone)";
    case SHMC_BAD_VERSION:
        return "another version of shmcached made it: use that version's tools, or "
               "destroy it and create it again";
    case SHMC_CORRUPT:
        return "the segment is damaged (" PROG " -S PATH check lists what): destroy it (" PROG
               " -S PATH destroy --force) and create it again";
    case SHMC_TOO_MANY_CLIENTS:
        return "every client slot is taken (create -c sets how many): wait for a client to "
               "close; slots of clients that died are freed by the next attach";
    case SHMC_NO_PROTECTION:
        return "SHMC_PROTECTION=mpk asks for protection keys: unset it, or set it to auto";
    case SHMC_UNSAFE_PROCESS:
        return "SHMC_PROTECTION_STRICT=1 refuses this process: unset it";
    case SHMC_BUSY:
        return "a live client holds a lock past the bound (SHMC_LOCK_WAIT_MS, 1000 ms by "
               "default): it is stopped or stuck; try again";
    case SHMC_STALE:
        return "it was destroyed or replaced meanwhile: run the command again";
    case SHMC_BAD_KEY:
        return "keys are 1 to 250 bytes";
    case SHMC_NOT_NUMERIC:
        return "incr and decr need a decimal number, 0 to 18446744073709551615";
    case SHMC_NO_MEMORY:
        return "the cache is full and cannot evict (created with -M, or every item of this "
               "size is in use): delete items, or create a larger segment (-m)";
    case SHMC_INVALID:
        return "an environment variable may be wrong: SHMC_PROTECTION (auto, mpk or none), "
               "SHMC_PROTECTION_STRICT (0 or 1), SHMC_LOCK_WAIT_MS (-1, or 0 to 3600000)";
    default:
        return "";
    }
}

/**
 * A library call failed: "shmcachectl: <what>: <shmc_strerror>[: errno
 * text, or what the library found damaged][; <what to do>]".  hint NULL: status_hint's.  Returns EXIT_FAIL so
 * that callers can close their handle before exiting.
 */
static int report(const char *what, shmc_status st, int saved_errno, const char *hint)
{
    if (hint == NULL)
        hint = status_hint(st);
    fprintf(stderr, PROG ": %s: %s", what, shmc_strerror(st));
    if (st == SHMC_SYSTEM && saved_errno != 0)
        fprintf(stderr, ": %s", strerror(saved_errno));
    else if (st == SHMC_CORRUPT && shmc_corrupt_field() != NULL)
        fprintf(stderr, ": %s", shmc_corrupt_field());
    if (hint[0] != '\0')
        fprintf(stderr, "; %s", hint);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

int lib_error(const char *what, shmc_status st, int saved_errno)
{
    return report(what, st, saved_errno, NULL);
}

/** The directory part of path ("." for a bare name), into buf. */
static const char *dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        snprintf(buf, size, ".");
    else if (slash == path)
        snprintf(buf, size, "/");
    else
        snprintf(buf, size, "%.*s", (int)(slash - path), path);
    return buf;
}

/** 1 if the calling process is in group gid (primary or supplementary). */
static int in_group(gid_t gid)
{
    gid_t groups[256];
    int n = getgroups(sizeof groups / sizeof groups[0], groups);

    if (getegid() == gid)
        return 1;
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return 1;
    return 0;
}

static const char *user_name(uid_t uid, char *buf, size_t size)
{
    struct passwd *pw = getpwuid(uid);

    if (pw != NULL)
        snprintf(buf, size, "%s", pw->pw_name);
    else
        snprintf(buf, size, "%lu", (unsigned long)uid);
    return buf;
}

static const char *group_name(gid_t gid, char *buf, size_t size)
{
    struct group *gr = getgrgid(gid);

    if (gr != NULL)
        snprintf(buf, size, "%s", gr->gr_name);
    else
        snprintf(buf, size, "%lu", (unsigned long)gid);
    return buf;
}

/**
 * Why op (open: attaching; destroy) on path was refused, and what to do:
 * attaching maps the file for reading and writing, so even a read needs
 * write access; destroy writes the file's stale mark before removing it.
 */
static void permission_hint(const char *op, const char *path, char *hint, size_t size)
{
    struct stat sb;
    char dir[4096], me[64], owner[64], group[64], todo[256];

    if (stat(path, &sb) != 0) {
        snprintf(hint, size, "the file cannot be reached: the directory %s is not searchable "
                 "by you (ls -ld %s)", dir_of(path, dir, sizeof dir), dir);
        return;
    }
    user_name(geteuid(), me, sizeof me);
    user_name(sb.st_uid, owner, sizeof owner);
    group_name(sb.st_gid, group, sizeof group);
    if (in_group(sb.st_gid) || geteuid() == sb.st_uid)
        snprintf(todo, sizeof todo, "its owner can give access (chmod g+rw %s; create --mode "
                 "0660 gives it to the group)", path);
    else
        snprintf(todo, sizeof todo, "join its group (adduser %s %s, then log in again), or run "
                 "as %s", me, group, owner);
    snprintf(hint, size, "%s read and write access to the file%s; it is mode %04o, owner %s, "
             "group %s, and you are %s%s: %s",
             strcmp(op, "open") == 0 ? "attaching needs" : "destroying needs",
             strcmp(op, "open") == 0 ? ", even to read" : " (to mark it stale for its clients)",
             (unsigned)(sb.st_mode & 07777), owner, group, me,
             in_group(sb.st_gid) ? " (in that group)" : ", not in that group", todo);
}

/**
 * A segment could not be opened, created or removed: the status, and what
 * is known about path (which part is missing; who may open it).
 */
static int path_error(const char *op, const char *path, shmc_status st, int saved_errno)
{
    char what[4200], hint[3 * 4096 + 512], dir[4096];
    struct stat sb;

    snprintf(what, sizeof what, "%s %s", op, path);
    dir_of(path, dir, sizeof dir);
    if (st == SHMC_NO_FILE && stat(dir, &sb) != 0) {
        fprintf(stderr, PROG ": %s: no such directory %s; create it, or give another "
                "segment path with -S\n", what, dir);
        return EXIT_FAIL;
    }
    if (st == SHMC_NO_FILE)
        snprintf(hint, sizeof hint, "%s", strcmp(op, "create") == 0 ? "" :
                 "create one (" PROG " -S PATH create), or start shmcached with -e PATH");
    else if (st == SHMC_PERMISSION && strcmp(op, "open") == 0)
        permission_hint(op, path, hint, sizeof hint);
    else if (st == SHMC_PERMISSION && access(dir, W_OK | X_OK) != 0)
        snprintf(hint, sizeof hint, "%s needs write access to the directory %s (ls -ld %s)",
                 op, dir, dir);
    else if (st == SHMC_PERMISSION && strcmp(op, "create") == 0)
        snprintf(hint, sizeof hint, "--group must be a group you are in (id -Gn)");
    else if (st == SHMC_PERMISSION)
        permission_hint(op, path, hint, sizeof hint);
    else if (st == SHMC_FILE_EXISTS)
        snprintf(hint, sizeof hint, "attach it as it is, remove it (" PROG " -S %s destroy), or "
                 "choose another path", path);
    else if (st == SHMC_SYSTEM && (saved_errno == ENOSPC || saved_errno == ENOMEM))
        snprintf(hint, sizeof hint, "not enough room in %s for the segment (df -h %s): a "
                 "smaller -m, or free some", dir, dir);
    else
        snprintf(hint, sizeof hint, "%s", status_hint(st));
    return report(what, st, saved_errno, hint);
}

/**
 * Report a key-level outcome: NOT_FOUND as memcached says it, else
 * "shmcachectl: <cmd> <key>: <shmc_strerror>; <what to do>".  Control
 * bytes of a bad key print as '?' so the message stays on one line.
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
void need_args(const char *cmd, int argc, int min, int max)
{
    if (argc < min)
        usage_error("%s: missing argument", cmd);
    if (argc > max)
        usage_error("%s: too many arguments", cmd);
}

/**
 * getopt_long's complaint about argv as a usage error: an unknown option,
 * or one without its value.  cmd is NULL for the options before the
 * command.
 */
_Noreturn void option_error(const char *cmd, int c, char **argv)
{
    char name[64];
    const char *prefix = cmd ? cmd : "", *sep = cmd ? ": " : "";

    if (optopt > 0 && optopt < 128) /* a short option; a long one's val may be above */
        snprintf(name, sizeof name, "-%c", optopt);
    else
        snprintf(name, sizeof name, "%s", argv[optind - 1]);
    if (c == ':')
        usage_error("%s%soption %s needs a value", prefix, sep, name);
    usage_error("%s%sunknown option '%s'", prefix, sep, name);
}

/* ------------------------------------------------------------------ */
/* Strict number parsing: whole string, in range, or usage error        */
/* ------------------------------------------------------------------ */

/** An unsigned decimal min..max (no sign, no spaces, no trailing bytes). */
static uint64_t parse_range(const char *s, uint64_t min, uint64_t max, const char *what)
{
    unsigned long long v;
    char *end;

    if (!isdigit((unsigned char)s[0]))
        usage_error("invalid %s '%s': not an unsigned number (%" PRIu64 "..%" PRIu64 ")", what,
                    s, min, max);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0')
        usage_error("invalid %s '%s': not an unsigned number (%" PRIu64 "..%" PRIu64 ")", what,
                    s, min, max);
    if (errno == ERANGE || v < min || v > max)
        usage_error("invalid %s '%s': out of range (%" PRIu64 "..%" PRIu64 ")", what, s, min, max);
    return (uint64_t)v;
}

/** An unsigned decimal 0..max. */
uint64_t parse_u64(const char *s, uint64_t max, const char *what)
{
    return parse_range(s, 0, max, what);
}

/** An expiration time: a signed decimal that fits in int64_t. */
static int64_t parse_exptime(const char *s)
{
    long long v;
    char *end;
    const char *digits = (s[0] == '-') ? s + 1 : s;
    static const char rule[] = "seconds: 0 never, up to 2592000 from now, larger an absolute "
                               "Unix time, negative already expired";

    if (!isdigit((unsigned char)digits[0]))
        usage_error("invalid exptime '%s': not a number (%s)", s, rule);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0')
        usage_error("invalid exptime '%s': not a number (%s)", s, rule);
    if (errno == ERANGE)
        usage_error("invalid exptime '%s': out of range (%s)", s, rule);
    return (int64_t)v;
}

/** A byte size with an optional k/K or m/M suffix (memcached -I), min..max. */
static uint32_t parse_size(const char *s, uint32_t min, uint32_t max, const char *what,
                           const char *range)
{
    unsigned long long v, mult = 1;
    char *end;

    if (!isdigit((unsigned char)s[0]))
        usage_error("invalid %s '%s': not a size (N, Nk or Nm: %s)", what, s, range);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        mult = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1024 * 1024, end++;
    if (*end != '\0')
        usage_error("invalid %s '%s': not a size (N, Nk or Nm: %s)", what, s, range);
    if (errno == ERANGE || v > max / mult || v * mult < min)
        usage_error("invalid %s '%s': out of range (%s)", what, s, range);
    return (uint32_t)(v * mult);
}

/** The growth factor: a finite number above 1, at most FACTOR_MAX. */
static double parse_factor(const char *s)
{
    char *end;
    double v;

    if (!isdigit((unsigned char)s[0]) && s[0] != '.')
        usage_error("invalid -f factor '%s': not a number (above 1, at most 100)", s);
    errno = 0;
    v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        usage_error("invalid -f factor '%s': not a number (above 1, at most 100)", s);
    if (!(v > 1.0) || v > FACTOR_MAX)
        usage_error("invalid -f factor '%s': out of range (above 1, at most 100)", s);
    return v;
}

/** A file mode in octal, 0..07777. */
static mode_t parse_mode(const char *s)
{
    unsigned long v;
    char *end;

    if (s[0] < '0' || s[0] > '7')
        usage_error("invalid mode '%s': not an octal number (0..7777, e.g. 0660)", s);
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
        usage_error("unknown group '%s' (a name from getent group, or a number)", s);
    return (gid_t)parse_u64(s, (gid_t)-1 - 1, "group id");
}

/* ------------------------------------------------------------------ */
/* Attaching                                                           */
/* ------------------------------------------------------------------ */

/** Attach the segment; on failure report it and return NULL. */
shmc_cache *open_segment(const char *path)
{
    shmc_cache *cache = NULL;
    shmc_status st = shmc_open(path, &cache);

    if (st != SHMC_OK) {
        path_error("open", path, st, errno);
        return NULL;
    }
    return cache;
}

/** Close the handle and pass the exit status through. */
int finish(shmc_cache *cache, int status)
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
        cfg->hash_power = (uint32_t)parse_range(val, HASHPOWER_MIN, HASHPOWER_MAX, "hashpower");
    else if (strcmp(opt, "hot_lru_pct") == 0)
        cfg->hot_lru_pct = (uint32_t)parse_range(val, 1, LRU_PCT_MAX, "hot_lru_pct");
    else if (strcmp(opt, "warm_lru_pct") == 0)
        cfg->warm_lru_pct = (uint32_t)parse_range(val, 1, LRU_PCT_MAX, "warm_lru_pct");
    else if (strcmp(opt, "slab_automove") == 0)
        cfg->slab_automove = (int)parse_u64(val, 1, "slab_automove");
    else
        usage_error("create: unknown -o option '%s' (hashpower, hot_lru_pct, warm_lru_pct, "
                    "slab_automove, no_slab_automove)", opt);
}

/** -o OPT[,OPT...] */
static void parse_extended(const char *arg, shmc_config *cfg)
{
    char buf[1024];
    char *save = NULL, *tok;

    if (strlen(arg) >= sizeof buf)
        usage_error("create: -o argument too long (over 1023 bytes)");
    strcpy(buf, arg);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        parse_extended_one(tok, cfg);
}

/** The checks that tie create's options together, after all are read. */
static void check_create_options(const shmc_config *cfg)
{
    if (cfg->chunk_size_min < CHUNK_MIN || cfg->chunk_size_min > cfg->item_size_max / 2)
        usage_error("invalid -n size '%" PRIu32 "': out of range (%u..%" PRIu32 " with -I %" PRIu32 ")",
                    cfg->chunk_size_min, CHUNK_MIN, cfg->item_size_max / 2, cfg->item_size_max);
    if (cfg->hot_lru_pct + cfg->warm_lru_pct > LRU_PCT_MAX)
        usage_error("create: hot_lru_pct + warm_lru_pct is %" PRIu32 ": at most %u together",
                    cfg->hot_lru_pct + cfg->warm_lru_pct, LRU_PCT_MAX);
}

enum { OPT_MODE = 256, OPT_GROUP };

/** Parse create's options into *cfg, defaults first.  As for every command,
 * argv holds the arguments after the command's name, and argv[-1] is that
 * name: getopt's argv[0]. */
static void parse_create_options(int argc, char **argv, shmc_config *cfg)
{
    static const struct option longopts[] = {
        {"memory-limit", required_argument, 0, 'm'},
        {"max-item-size", required_argument, 0, 'I'},
        {"slab-min-size", required_argument, 0, 'n'},
        {"slab-growth-factor", required_argument, 0, 'f'},
        {"disable-evictions", no_argument, 0, 'M'},
        {"extended", required_argument, 0, 'o'},
        {"max-clients", required_argument, 0, 'c'},
        {"mode", required_argument, 0, OPT_MODE},
        {"group", required_argument, 0, OPT_GROUP},
        {0, 0, 0, 0},
    };
    int c;

    shmc_config_init(cfg);
    optind = 0; /* glibc: a full re-initialisation */
    opterr = 0;
    argc++, argv--;
    while ((c = getopt_long(argc, argv, "+:m:I:n:f:Mo:c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            cfg->mem_bytes = parse_range(optarg, MEM_MB_MIN, MEM_MB_MAX, "-m megabytes") << 20;
            break;
        case 'I':
            cfg->item_size_max = parse_size(optarg, ITEM_MIN, ITEM_MAX, "-I size", "1k..128m");
            break;
        case 'n':
            cfg->chunk_size_min = (uint32_t)parse_u64(optarg, UINT32_MAX, "-n size");
            break;
        case 'f':
            cfg->growth_factor = parse_factor(optarg);
            break;
        case 'M':
            cfg->no_evict = 1;
            break;
        case 'o':
            parse_extended(optarg, cfg);
            break;
        case 'c':
            cfg->max_clients = (uint32_t)parse_range(optarg, 1, CLIENTS_MAX, "-c clients");
            break;
        case OPT_MODE:
            cfg->mode = parse_mode(optarg);
            break;
        case OPT_GROUP:
            cfg->group = parse_group(optarg);
            break;
        default:
            option_error("create", c, argv);
        }
    }
    if (optind < argc)
        usage_error("create: unexpected argument '%s' (options only)", argv[optind]);
    check_create_options(cfg);
}

static int cmd_create(const char *path, int argc, char **argv)
{
    shmc_config cfg;
    shmc_cache *cache = NULL;
    shmc_status st;
    struct stat sb;

    parse_create_options(argc, argv, &cfg);
    st = shmc_create(path, &cfg, &cache);
    if (st == SHMC_INVALID) /* out of range despite the checks above: say every range */
        return report(path, st, 0, "the ranges: -m 2..16384, -I 1k..128m, -n 8..SIZE/2, "
                      "-f above 1 and at most 100, -c 1..65535, hashpower 10..31, "
                      "hot_lru_pct + warm_lru_pct 2..80, --mode 0..7777");
    if (st != SHMC_OK)
        return path_error("create", path, st, errno);
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

/**
 * Every field of shmc_stats, in the order memcached's "stats" prints them,
 * under the names the server's "stats" gives them (one rule for both,
 * docs/api.md "Statistics names"): memcached's name where memcached has
 * the figure (uptime and time are the segment's, as the server's protocol
 * module reports them with no daemon in front); else shm_ and the
 * server's name for it, or the library's field name where the server does
 * not print it.
 */
#define STAT_FIELD(f) { #f, offsetof(shmc_stats, f) }
#define SHM_FIELD(name, f) { "shm_" name, offsetof(shmc_stats, f) }
static const struct {
    const char *name;
    size_t offset;
} stat_fields[] = {
    STAT_FIELD(uptime), STAT_FIELD(time),
    SHM_FIELD("clients", curr_clients), SHM_FIELD("dead_clients", dead_clients),
    SHM_FIELD("clients_recovered", clients_recovered),
    SHM_FIELD("locks_repaired", locks_repaired),
    STAT_FIELD(cmd_get), STAT_FIELD(cmd_set), STAT_FIELD(cmd_flush), STAT_FIELD(cmd_touch),
    STAT_FIELD(get_hits), STAT_FIELD(get_misses), STAT_FIELD(get_expired),
    STAT_FIELD(get_flushed),
    STAT_FIELD(delete_misses), STAT_FIELD(delete_hits),
    STAT_FIELD(incr_misses), STAT_FIELD(incr_hits),
    STAT_FIELD(decr_misses), STAT_FIELD(decr_hits),
    STAT_FIELD(cas_misses), STAT_FIELD(cas_hits), STAT_FIELD(cas_badval),
    STAT_FIELD(touch_hits), STAT_FIELD(touch_misses),
    STAT_FIELD(limit_maxbytes),
    STAT_FIELD(hash_power_level), SHM_FIELD("hash_buckets", hash_buckets),
    STAT_FIELD(slabs_moved), SHM_FIELD("total_pages", total_pages),
    { "slab_global_page_pool", offsetof(shmc_stats, free_pages) },
    STAT_FIELD(bytes), STAT_FIELD(curr_items), STAT_FIELD(total_items),
    STAT_FIELD(expired_unfetched), STAT_FIELD(evicted_unfetched),
    STAT_FIELD(evictions), STAT_FIELD(reclaimed),
    SHM_FIELD("protection", protection), SHM_FIELD("pkru_writers", pkru_writers),
};
#undef STAT_FIELD
#undef SHM_FIELD

/* A new field in shmc_stats must be added to stat_fields above. */
_Static_assert(sizeof(shmc_stats) == sizeof(stat_fields) / sizeof(stat_fields[0]) * sizeof(uint64_t),
               "stat_fields does not list every field of shmc_stats");
/* A new field in shmc_class_stats must be printed by print_slabs/print_items. */
_Static_assert(sizeof(shmc_class_stats) == 2 * sizeof(uint32_t) + 15 * sizeof(uint64_t),
               "shmc_class_stats changed: update print_slabs/print_items");

static void print_general(const shmc_stats *s)
{
    const unsigned char *base = (const unsigned char *)s;

    printf("STAT version %s\n", SHMC_VERSION_STRING);
    for (size_t i = 0; i < sizeof stat_fields / sizeof stat_fields[0]; i++) {
        uint64_t v;
        memcpy(&v, base + stat_fields[i].offset, sizeof v);
        if (stat_fields[i].offset == offsetof(shmc_stats, protection)) /* a name, not a number */
            printf("STAT %s %s\n", stat_fields[i].name, shmc_protection_name((shmc_protection)v));
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
        for (size_t i = 0; i < STATS_ITEMS_COUNT; i++)
            printf("STAT items:%u:%s %" PRIu64 "\n", id, stats_items_names[i].name,
                   class_stat_value(&c, &stats_items_names[i]));
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

    static const struct option longopts[] = {{"verbose", no_argument, 0, 'v'}, {0, 0, 0, 0}};
    int c;

    argc++, argv--; /* argv[-1] is "get": getopt's argv[0] */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:v", longopts, NULL)) != -1) {
        if (c == '?' && (optopt <= 0 || optopt >= 128))
            usage_error("get: unknown option '%s' (a key that starts with '-' follows --)",
                        argv[optind - 1]);
        if (c == '?')
            usage_error("get: unknown option '-%c' (a key that starts with '-' follows --)", optopt);
        verbose = 1;
    }
    argc -= optind, argv += optind;
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

/** set's SHMC_TOO_LARGE: the largest value this segment stores with this key. */
static int too_large(shmc_cache *cache, const char *key, size_t len)
{
    shmc_config cfg;
    size_t overhead = shmc_item_overhead(), klen = strlen(key), room = 0;
    char what[300];

    if (shmc_config_get(cache, &cfg) != SHMC_OK)
        return key_error("set", key, SHMC_TOO_LARGE, 0);
    if (cfg.item_size_max > overhead + klen)
        room = cfg.item_size_max - overhead - klen;
    snprintf(what, sizeof what, "the value is %zu bytes; with this %zu-byte key this segment "
             "stores at most %zu (-I %" PRIu32 ", less a %zu-byte item header and the key; "
             "create -I sets it)", len, klen, room, cfg.item_size_max, overhead);
    fprintf(stderr, PROG ": set %s: %s: %s\n", key, shmc_strerror(SHMC_TOO_LARGE), what);
    return EXIT_FAIL;
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
        exptime = parse_exptime(argv[3]);
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
    else if (st == SHMC_TOO_LARGE)
        rc = too_large(cache, key, len);
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
    exptime = parse_exptime(argv[1]);
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
    shmc_check_report rep = {0}; /* left as is when the check could not start */

    (void)argv;
    need_args("check", argc, 0, 0);
    if ((cache = open_segment(path)) == NULL)
        return EXIT_FAIL;
    unsigned problems = shmc_check_with(cache, stdout, &rep);
    if (problems != 0 && rep.busy) {
        fflush(stdout);
        fprintf(stderr, PROG ": check: busy: a live client held a lock for over the bound; "
                        "nothing was checked\n");
        return finish(cache, EXIT_BUSY);
    }
    if (problems != 0) {
        fflush(stdout);
        fprintf(stderr, PROG ": check: %u problem%s found\n", problems, problems == 1 ? "" : "s");
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
    static const struct option longopts[] = {{"force", no_argument, 0, 'F'}, {0, 0, 0, 0}};
    shmc_status st;
    int force = 0, c;

    argc++, argv--; /* argv[-1] is "destroy": getopt's argv[0] */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c != 'F')
            usage_error("destroy: unknown option '%s' (only --force)", argv[optind - 1]);
        force = 1;
    }
    if (optind < argc && !force)
        usage_error("destroy: unknown argument '%s' (only --force)", argv[optind]);
    need_args("destroy", argc - optind, 0, 0);
    st = shmc_destroy_with(path, force ? 0 : SHMC_DESTROY_UNUSED);
    if (st == SHMC_CORRUPT || st == SHMC_BAD_VERSION || st == SHMC_STALE)
        st = shmc_destroy(path); /* nobody can attach it: nobody to count */
    if (st == SHMC_BUSY) {
        fprintf(stderr, PROG ": destroy %s: live clients are attached (" PROG " -S %s info);"
                        " --force removes it anyway, and they get SHMC_STALE\n", path, path);
        return EXIT_FAIL;
    }
    if (st != SHMC_OK)
        return path_error("destroy", path, st, errno);
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
    { "destroy", cmd_destroy }, { "dump", cmd_dump },
    { "watch", cmd_watch },
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
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {"segment", required_argument, 0, 'S'},
        {0, 0, 0, 0},
    };
    const char *path = getenv("SHMCACHED_SEGMENT");
    const struct command *cmd;
    int c;

    if (path == NULL || path[0] == '\0')
        path = SHMC_DEFAULT_PATH;
    opterr = 0;
    /* '+': the options before the command only; each command reads its own */
    while ((c = getopt_long(argc, argv, "+:hVS:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_usage(stdout);
            return EXIT_OK;
        case 'V':
            printf(PROG " %s\n", SHMC_VERSION_STRING);
            return EXIT_OK;
        case 'S':
            if (optarg[0] == '\0')
                usage_error("option -S needs a segment path");
            path = optarg;
            break;
        case ':':
            if (optopt == 'S')
                usage_error("option -S needs a segment path");
            option_error(NULL, c, argv);
        default:
            option_error(NULL, c, argv);
        }
    }
    if (optind >= argc)
        usage_error("missing command (create, info, stats, get, set, delete, incr, decr, touch, "
                    "flush_all, check, recover, destroy, dump, watch)");
    if ((cmd = find_command(argv[optind])) == NULL)
        usage_error("unknown command '%s' (create, info, stats, get, set, delete, incr, decr, "
                    "touch, flush_all, check, recover, destroy, dump, watch)", argv[optind]);
    return cmd->run(path, argc - optind - 1, argv + optind + 1);
}
