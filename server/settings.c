/*
 * settings.c - memcached 1.6's command line (see settings.h).
 *
 * Error messages are memcached's where it has one, so scripts that grep
 * them keep working, followed in parentheses by what memcached's leave
 * out: the accepted range, or what to do.  Options that tune memcached
 * internals we do
 * differently (LRU crawler, slab_chunk_max, hash algorithm...) are accepted,
 * range-checked as memcached does, and reported by "stats settings".
 */
#include "settings.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shmcached.h" /* SHMC_LOCK_WAIT_MS_MAX */

#define MB (1024ULL * 1024ULL)
#define SLAB_PAGE_SIZE (1024U * 1024U) /* memcached's slab page: slab_chunk_max divides it */
#define SLAB_SIZES_MAX 63             /* memcached's class limit, less one */
/* shmcached's own bounds (include/shmcached.h: shmc_config). */
#define SHMC_ITEM_MAX (128ULL * MB)
#define SHMC_MEM_MAX (16ULL * 1024ULL * MB)

void settings_init(settings *s)
{
    memset(s, 0, sizeof *s);
    s->port = 11211;
    s->udpport = 0;
    s->access = 0700;
    s->backlog = 1024;
    s->binding_protocol = PROTO_AUTO;
    s->maxconns = 1024;
    s->num_threads = 4;
    s->reqs_per_event = 20;
    s->maxconns_fast = 1;
    s->lock_wait_ms = SRV_LOCK_WAIT_MS_DEFAULT;
    s->maxbytes = 64 * MB;
    s->item_size_max = 1024 * 1024;
    s->factor = 1.25;
    s->chunk_size = 48;
    s->evict_to_free = 1;
    s->hashpower_init = 0;
    snprintf(s->hash_algorithm, sizeof s->hash_algorithm, "%s", "murmur3");
    s->slab_chunk_size_max = 512 * 1024;
    s->slab_automove_window = 30;
    s->slab_automove_ratio = 0.8;
    s->slab_automove_freeratio = 0.01;
    s->slab_reassign = 1;
    s->slab_automove = 1;
    s->lru_crawler = 1;
    s->lru_maintainer_thread = 1;
    s->lru_segmented = 1;
    s->temporary_ttl = 61;
    s->hot_lru_pct = 20;
    s->warm_lru_pct = 40;
    s->hot_max_factor = 0.2;
    s->warm_max_factor = 2.0;
    s->lru_crawler_sleep = 100;
    s->watcher_logbuf_size = 256;
    s->worker_logbuf_size = 64;
    s->hash_expand = 1;
    s->use_cas = 1;
    s->flush_enabled = 1;
    s->dump_enabled = 1;
    s->watch_enabled = 1;
    s->prefix_delimiter = ':';
    s->segment_mode = 0600; /* shmc_config_init's */
    s->ssl_keyformat = 1;   /* SSL_FILETYPE_PEM */
    s->ssl_wbuf_size = 16;
    s->ssl_min_version = 2; /* TLSv1.2 */
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A whole decimal int in [lo, hi]. */
static int parse_int(const char *str, long lo, long hi, int *out)
{
    if (!str || !*str)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(str, &end, 10);
    if (errno || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* A whole octal number in [0, max] (a file mode, a mask). */
static int parse_octal(const char *str, long max, int *out)
{
    if (!str || !*str)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(str, &end, 8);
    if (errno || *end != '\0' || *str == '-' || *str == '+' || v < 0 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_double(const char *str, double *out)
{
    if (!str || !*str)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(str, &end);
    if (errno || *end != '\0' || v != v)
        return -1;
    *out = v;
    return 0;
}

int settings_parse_size(const char *str, uint64_t *out)
{
    if (!str || *str < '0' || *str > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(str, &end, 10);
    if (errno)
        return -1;
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K') {
        mul = 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        mul = MB;
        end++;
    }
    if (*end != '\0' || (v && mul > ULLONG_MAX / v))
        return -1;
    *out = v * mul;
    return 0;
}

/* A path option's value into its settings array; -1 if too long. */
static int copy_path(char *dst, const char *name, const char *val, char *err, size_t errlen)
{
    if (strlen(val) >= SETTINGS_PATH_MAX)
        return fail(err, errlen, "%s is too long (at most %d bytes)", name, SETTINGS_PATH_MAX - 1);
    memcpy(dst, val, strlen(val) + 1);
    return 0;
}

/* -o ssl_min_version: memcached 1.6.18's 0..3, or the names "stats
 * settings" prints (tlsv1.0 .. tlsv1.3, shmcached also takes them). */
static int parse_tls_version(const char *val, int *out)
{
    static const char *const names[] = {"tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3"};
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(val, names[i]) || (val[0] == '0' + i && !val[1])) {
            *out = i;
            return 0;
        }
    return -1;
}

/* The -o ssl_* options that name a file or a list: their settings array. */
static char *ssl_string_option(settings *s, const char *name)
{
    if (!strcmp(name, "ssl_chain_cert"))
        return s->ssl_chain_cert;
    if (!strcmp(name, "ssl_key"))
        return s->ssl_key;
    if (!strcmp(name, "ssl_ca_cert"))
        return s->ssl_ca_cert;
    if (!strcmp(name, "ssl_ciphers"))
        return s->ssl_ciphers;
    return NULL;
}

/* The numeric -o ssl_* options (their value present); 0, or -1 with
 * memcached 1.6.18's message.  name is one of them (parse_ssl_option). */
static int parse_ssl_number(settings *s, const char *name, const char *val, char *err,
                            size_t errlen)
{
    int v;
    if (!strcmp(name, "ssl_keyformat")) {
        if (parse_int(val, INT_MIN, INT_MAX, &s->ssl_keyformat))
            return fail(err, errlen, "could not parse argument to ssl_keyformat (1: PEM, 2: DER)");
    } else if (!strcmp(name, "ssl_wbuf_size")) {
        if (parse_int(val, 0, INT_MAX / 1024, &s->ssl_wbuf_size))
            return fail(err, errlen, "could not parse argument to ssl_wbuf_size (kilobytes)");
    } else if (!strcmp(name, "ssl_verify_mode")) {
        if (parse_int(val, INT_MIN, INT_MAX, &v))
            return fail(err, errlen, "could not parse argument to ssl_verify_mode (0..3)");
        if (v < 0 || v > 3)
            return fail(err, errlen, "Invalid ssl_verify_mode. Use help to see valid options.");
        s->ssl_verify_mode = v;
    } else if (parse_tls_version(val, &s->ssl_min_version)) { /* ssl_min_version */
        return fail(err, errlen, "Invalid ssl_min_version. Use help to see valid options. "
                                 "(0..3 or tlsv1.0..tlsv1.3)");
    }
    return 0;
}

/*
 * The -o ssl_* options, with memcached 1.6.18's messages; taken with or
 * without -Z (memcached's way: they matter only with it).  Returns 1 if
 * name is one of them and its value is good, 0 if it is not one of them,
 * -1 with the message in err.
 */
static int parse_ssl_option(settings *s, const char *name, const char *val, char *err,
                            size_t errlen)
{
    static const char *const numbers[] = {"ssl_keyformat", "ssl_wbuf_size", "ssl_verify_mode",
                                          "ssl_min_version"};
    if (!strcmp(name, "ssl_session_cache")) { /* flags: no value */
        s->ssl_session_cache = 1;
        return 1;
    }
    if (!strcmp(name, "ssl_kernel_tls")) {
        s->ssl_kernel_tls = 1;
        return 1;
    }
    char *str = ssl_string_option(s, name);
    int number = 0;
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        number |= !strcmp(name, numbers[i]);
    if (!str && !number)
        return 0; /* not one of them (an unknown ssl_ name: "Illegal suboption") */
    if (!val || !*val)
        return fail(err, errlen, "Missing %s argument", name);
    if (str)
        return copy_path(str, name, val, err, errlen) ? -1 : 1;
    return parse_ssl_number(s, name, val, err, errlen) ? -1 : 1;
}

/* -o name[=value],... (memcached's "extended" options). */
static int parse_extended(settings *s, const char *arg, char *err, size_t errlen)
{
    char buf[1024];
    if (strlen(arg) >= sizeof buf)
        return fail(err, errlen, "Illegal suboption \"%s\" (over 1023 bytes)", arg);
    memcpy(buf, arg, strlen(arg) + 1);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *val = strchr(tok, '=');
        if (val)
            *val++ = '\0';
        const char *name = tok;
#define NEED_VALUE(msg)                                                              \
    do {                                                                             \
        if (!val || !*val)                                                           \
            return fail(err, errlen, "%s", msg);                                     \
    } while (0)
        int ssl = parse_ssl_option(s, name, val, err, errlen);
        if (ssl < 0)
            return -1;
        if (ssl > 0) {
            /* taken */
        } else if (!strcmp(name, "maxconns_fast")) {
            s->maxconns_fast = 1;
        } else if (!strcmp(name, "no_maxconns_fast")) {
            s->maxconns_fast = 0;
        } else if (!strcmp(name, "hashpower")) {
            int v;
            NEED_VALUE("Missing numeric argument for hashpower (hashpower=12..31)");
            if (parse_int(val, INT_MIN, INT_MAX, &v))
                return fail(err, errlen, "Missing numeric argument for hashpower (hashpower=12..31)");
            if (v < 12)
                return fail(err, errlen, "Initial hashtable multiplier of %d is too low (12..31)", v);
            /* memcached allows up to 64; the segment's index stops at 31. */
            if (v > 31)
                return fail(err, errlen, "Initial hashtable multiplier of %d is too high (12..31)\n"
                            "Choose a value based on \"STAT hash_power_level\" from a running instance", v);
            s->hashpower_init = v;
        } else if (!strcmp(name, "hash_algorithm")) {
            NEED_VALUE("Missing hash_algorithm argument");
            if (strcmp(val, "jenkins") && strcmp(val, "murmur3") && strcmp(val, "xxh3"))
                return fail(err, errlen, "Unavailable hash_algorithm option: %s (jenkins, murmur3 or xxh3)", val);
            snprintf(s->hash_algorithm, sizeof s->hash_algorithm, "%s", val);
        } else if (!strcmp(name, "slab_chunk_max")) {
            int v; /* bytes, as memcached 1.6.18 reads it (1.6.24 and later: KiB) */
            NEED_VALUE("Missing slab_chunk_max argument");
            if (parse_int(val, 1, INT_MAX, &v))
                return fail(err, errlen, "could not parse argument to slab_chunk_max "
                                         "(bytes, dividing -I evenly)");
            s->slab_chunk_size_max = (uint32_t)v;
            s->slab_chunk_given = 1;
        } else if (!strcmp(name, "no_chunked_items")) {
            s->slab_chunk_size_max = SLAB_PAGE_SIZE; /* as memcached 1.6.18 */
        } else if (!strcmp(name, "slab_automove_window")) {
            NEED_VALUE("Missing slab_automove_window argument");
            if (parse_int(val, INT_MIN, INT_MAX, &s->slab_automove_window) ||
                s->slab_automove_window < 3)
                return fail(err, errlen, "slab_automove_window must be > 2");
        } else if (!strcmp(name, "slab_automove_ratio")) {
            NEED_VALUE("Missing slab_automove_ratio argument");
            if (parse_double(val, &s->slab_automove_ratio))
                return fail(err, errlen, "slab_automove_ratio must be > 0 and < 1");
        } else if (!strcmp(name, "slab_automove_freeratio")) {
            NEED_VALUE("Missing slab_automove_freeratio argument");
            if (parse_double(val, &s->slab_automove_freeratio))
                return fail(err, errlen, "could not parse argument to slab_automove_freeratio");
        } else if (!strcmp(name, "slab_sizes")) {
            NEED_VALUE("Missing slab_sizes argument");
            snprintf(s->slab_sizes, sizeof s->slab_sizes, "%s", val);
        } else if (!strcmp(name, "inline_ascii_resp") || !strcmp(name, "no_inline_ascii_resp") ||
                   !strcmp(name, "sock_cookie_id")) {
            /* accepted and without effect, as in memcached 1.6.18 */
        } else if (!strcmp(name, "resp_obj_mem_limit")) {
            fprintf(stderr, "DEPRECATED: resp_obj_mem_limit no longer used. See read_buf_mem_limit,\n");
        } else if (!strcmp(name, "slab_reassign")) {
            s->slab_reassign = 1;
        } else if (!strcmp(name, "no_slab_reassign")) {
            s->slab_reassign = 0;
        } else if (!strcmp(name, "slab_automove")) {
            if (!val || !*val) {
                s->slab_automove = 1;
            } else if (parse_int(val, 0, 2, &s->slab_automove)) {
                return fail(err, errlen, "slab_automove must be between 0 and 2 (0: off, 1 or 2: on)");
            }
        } else if (!strcmp(name, "no_slab_automove")) {
            s->slab_automove = 0;
        } else if (!strcmp(name, "lru_crawler")) {
            s->lru_crawler = 1;
        } else if (!strcmp(name, "no_lru_crawler")) {
            s->lru_crawler = 0;
        } else if (!strcmp(name, "lru_maintainer")) {
            s->lru_maintainer_thread = 1;
            s->lru_segmented = 1;
        } else if (!strcmp(name, "no_lru_maintainer")) {
            s->lru_maintainer_thread = 0;
        } else if (!strcmp(name, "lru_segmented")) {
            s->lru_segmented = 1;
        } else if (!strcmp(name, "no_lru_segmented")) {
            s->lru_segmented = 0;
        } else if (!strcmp(name, "temporary_ttl")) {
            NEED_VALUE("Missing temporary_ttl argument");
            if (parse_int(val, 0, INT_MAX, &s->temporary_ttl))
                return fail(err, errlen, "could not parse argument to temporary_ttl (seconds, 0 or more)");
            s->temp_lru = 1; /* as memcached: the option turns the TEMP LRU on */
        } else if (!strcmp(name, "hot_lru_pct")) {
            NEED_VALUE("Missing hot_lru_pct argument");
            int v;
            if (parse_int(val, INT_MIN, INT_MAX, &v))
                return fail(err, errlen, "could not parse argument to hot_lru_pct (a percentage, 1..80)");
            if (v < 1 || v > 80)
                return fail(err, errlen, "hot_lru_pct must be > 1 and < 80 (1..80, and with "
                                         "warm_lru_pct at most 80 together)");
            s->hot_lru_pct = v;
        } else if (!strcmp(name, "warm_lru_pct")) {
            NEED_VALUE("Missing warm_lru_pct argument");
            int v;
            if (parse_int(val, INT_MIN, INT_MAX, &v))
                return fail(err, errlen, "could not parse argument to warm_lru_pct (a percentage, 1..80)");
            if (v < 1 || v > 80)
                return fail(err, errlen, "warm_lru_pct must be > 1 and < 80 (1..80, and with "
                                         "hot_lru_pct at most 80 together)");
            s->warm_lru_pct = v;
        } else if (!strcmp(name, "hot_max_factor")) {
            NEED_VALUE("Missing hot_max_factor argument");
            if (parse_double(val, &s->hot_max_factor) || s->hot_max_factor <= 0)
                return fail(err, errlen, "hot_max_factor must be > 0 (a number, e.g. 0.2)");
        } else if (!strcmp(name, "warm_max_factor")) {
            NEED_VALUE("Missing warm_max_factor argument");
            if (parse_double(val, &s->warm_max_factor) || s->warm_max_factor <= 0)
                return fail(err, errlen, "warm_max_factor must be > 0 (a number, e.g. 2.0)");
        } else if (!strcmp(name, "idle_timeout")) {
            NEED_VALUE("Missing numeric argument for idle_timeout");
            if (parse_int(val, 0, INT_MAX, &s->idle_timeout))
                return fail(err, errlen, "could not parse argument to idle_timeout "
                                         "(seconds, 0 or more; 0: no timeout)");
        } else if (!strcmp(name, "busy_poll_us")) {
            NEED_VALUE("Missing numeric argument for busy_poll_us");
            if (parse_int(val, 0, BUSY_POLL_US_MAX, &s->busy_poll_us))
                return fail(err, errlen, "busy_poll_us must be 0 to 10000 (microseconds)");
        } else if (!strcmp(name, "lock_wait_ms")) {
            NEED_VALUE("Missing numeric argument for lock_wait_ms");
            if (parse_int(val, -1, SHMC_LOCK_WAIT_MS_MAX, &s->lock_wait_ms))
                return fail(err, errlen, "lock_wait_ms must be -1 (wait for ever) or 0 to %d "
                            "(milliseconds): \"%s\"", SHMC_LOCK_WAIT_MS_MAX, val);
            s->lock_wait_ms_given = 1;
        } else if (!strcmp(name, "tail_repair_time")) {
            NEED_VALUE("Missing numeric argument for tail_repair_time");
            if (parse_int(val, 0, INT_MAX, &s->tail_repair_time))
                return fail(err, errlen, "could not parse argument to tail_repair_time "
                                         "(seconds: 0, or 10 and more)");
            if (s->tail_repair_time > 0 && s->tail_repair_time < 10)
                return fail(err, errlen, "Cannot set tail_repair_time to less than 10 seconds "
                                         "(0: off, or 10 and more)");
        } else if (!strcmp(name, "lru_crawler_sleep")) {
            NEED_VALUE("Missing lru_crawler_sleep value");
            if (parse_int(val, 0, 1000000, &s->lru_crawler_sleep))
                return fail(err, errlen, "LRU crawler sleep must be between 0 and 1 second "
                                         "(lru_crawler_sleep=0..1000000 microseconds)");
        } else if (!strcmp(name, "lru_crawler_tocrawl")) {
            int v;
            NEED_VALUE("Missing lru_crawler_tocrawl value");
            if (parse_int(val, 0, INT_MAX, &v))
                return fail(err, errlen, "could not parse argument to lru_crawler_tocrawl (items, 0 or more)");
            s->lru_crawler_tocrawl = (uint32_t)v;
        } else if (!strcmp(name, "read_buf_mem_limit")) {
            NEED_VALUE("Missing read_buf_mem_limit argument");
            if (parse_int(val, 0, INT_MAX, &s->read_buf_mem_limit))
                return fail(err, errlen, "could not parse argument to read_buf_mem_limit (megabytes, 0 or more)");
        } else if (!strcmp(name, "watcher_logbuf_size")) {
            NEED_VALUE("Missing watcher_logbuf_size argument");
            if (parse_int(val, 0, INT_MAX / 1024, &s->watcher_logbuf_size))
                return fail(err, errlen, "could not parse argument to watcher_logbuf_size (kilobytes, 0 or more)");
        } else if (!strcmp(name, "worker_logbuf_size")) {
            NEED_VALUE("Missing worker_logbuf_size argument");
            if (parse_int(val, 0, INT_MAX / 1024, &s->worker_logbuf_size))
                return fail(err, errlen, "could not parse argument to worker_logbuf_size (kilobytes, 0 or more)");
        } else if (!strcmp(name, "track_sizes")) {
            s->track_sizes = 1;
        } else if (!strcmp(name, "no_hashexpand")) {
            s->hash_expand = 0;
        } else if (!strcmp(name, "modern")) {
            /* memcached 1.6: "currently: nothing" */
        } else if (!strcmp(name, "no_modern")) {
            /* 1.4.x defaults */
            s->slab_reassign = 0;
            s->slab_automove = 0;
            s->lru_crawler = 0;
            s->lru_maintainer_thread = 0;
            s->lru_segmented = 0;
            s->slab_chunk_size_max = 1024 * 1024 / 2;
            snprintf(s->hash_algorithm, sizeof s->hash_algorithm, "%s", "jenkins");
        } else if (!strcmp(name, "segment_mode")) {
            NEED_VALUE("Missing segment_mode argument (an octal file mode, e.g. 0660)");
            if (parse_octal(val, 0777, &s->segment_mode))
                return fail(err, errlen, "segment_mode must be an octal file mode, 0 to 0777 "
                                         "(e.g. 0660: the owner and the group may attach)");
        } else if (!strcmp(name, "segment_group")) {
            NEED_VALUE("Missing segment_group argument (a group name or number)");
            if (strlen(val) >= sizeof s->segment_group)
                return fail(err, errlen, "segment_group \"%s\" is too long (at most %zu bytes)", val,
                            sizeof s->segment_group - 1);
            snprintf(s->segment_group, sizeof s->segment_group, "%s", val);
        } else {
            return fail(err, errlen, "Illegal suboption \"%s\" (shmcached -h lists the -o options)",
                        name);
        }
#undef NEED_VALUE
    }
    return 0;
}

/* slab_chunk_max in bytes against -I and the page, with memcached 1.6.18's
 * messages (each followed by the largest value that would do). */
static int check_slab_chunk_max(const settings *s, char *err, size_t errlen)
{
    uint32_t c = s->slab_chunk_size_max, i = s->item_size_max;
    if (!s->slab_chunk_given && c == i)
        return 0; /* followed a -I below 512k, which 1.6.18 refuses (docs/server.md) */
    if (c > i)
        return fail(err, errlen, "slab_chunk_max (bytes: %u) cannot be larger than -I "
                    "(item_size_max %u) (-o slab_chunk_max=%u bytes at most)", c, i, i);
    if (i % c)
        return fail(err, errlen, "-I (item_size_max: %u) must be evenly divisible by "
                    "slab_chunk_max (bytes: %u)", i, c);
    if (SLAB_PAGE_SIZE % c)
        return fail(err, errlen, "slab_chunk_max (bytes: %u) must divide evenly into %u "
                    "(slab_page_size)", c, SLAB_PAGE_SIZE);
    return 0;
}

/* -o slab_sizes=a-b-c: checked as memcached 1.6.18 checks it, after every
 * option (-n, slab_chunk_max); the library keeps its own -f classes. */
static int check_slab_sizes(const settings *s, char *err, size_t errlen)
{
    if (!*s->slab_sizes)
        return 0;
    char buf[sizeof s->slab_sizes];
    memcpy(buf, s->slab_sizes, sizeof buf);
    unsigned long last = 0;
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, "-", &save); tok; tok = strtok_r(NULL, "-", &save)) {
        char *end;
        unsigned long size = strtoul(tok, &end, 10);
        if (*end)
            size = 0; /* not a number: reported as size 0, as memcached does */
        if (++n >= SLAB_SIZES_MAX)
            return fail(err, errlen, "too many slab classes specified");
        if (size < (unsigned long)s->chunk_size || size > s->slab_chunk_size_max)
            return fail(err, errlen, "slab size %lu is out of valid range", size);
        if (last >= size)
            return fail(err, errlen, "slab size %lu cannot be lower than or equal to a previous "
                        "class size", size);
        if (size <= last + 8)
            return fail(err, errlen, "slab size %lu must be at least 8 bytes larger than "
                        "previous class", size);
        last = size;
    }
    return 0;
}

static const struct option long_options[] = {
    {"unix-socket", required_argument, 0, 's'},
    {"unix-mask", required_argument, 0, 'a'},
    {"enable-shutdown", no_argument, 0, 'A'},
    {"enable-ssl", no_argument, 0, 'Z'},
    {"port", required_argument, 0, 'p'},
    {"udp-port", required_argument, 0, 'U'},
    {"listen", required_argument, 0, 'l'},
    {"daemon", no_argument, 0, 'd'},
    {"enable-coredumps", no_argument, 0, 'r'},
    {"user", required_argument, 0, 'u'},
    {"memory-limit", required_argument, 0, 'm'},
    {"disable-evictions", no_argument, 0, 'M'},
    {"conn-limit", required_argument, 0, 'c'},
    {"lock-memory", no_argument, 0, 'k'},
    {"verbose", optional_argument, 0, 'v'},
    {"help", no_argument, 0, 'h'},
    {"license", no_argument, 0, 'i'},
    {"version", no_argument, 0, 'V'},
    {"pidfile", required_argument, 0, 'P'},
    {"slab-growth-factor", required_argument, 0, 'f'},
    {"slab-min-size", required_argument, 0, 'n'},
    {"enable-largepages", no_argument, 0, 'L'},
    {"threads", required_argument, 0, 't'},
    {"enable-sasl", no_argument, 0, 'S'},
    {"max-reqs-per-event", required_argument, 0, 'R'},
    {"disable-cas", no_argument, 0, 'C'},
    {"listen-backlog", required_argument, 0, 'b'},
    {"protocol", required_argument, 0, 'B'},
    {"max-item-size", required_argument, 0, 'I'},
    {"disable-flush-all", no_argument, 0, 'F'},
    {"disable-dumping", no_argument, 0, 'X'},
    {"disable-watch", no_argument, 0, 'W'},
    {"auth-file", required_argument, 0, 'Y'},
    {"memory-file", required_argument, 0, 'e'},
    {"extended", required_argument, 0, 'o'},
    {"napi-ids", required_argument, 0, 'N'},
    {0, 0, 0, 0},
};
static const char short_options[] = ":a:Ab:B:c:CdD:e:f:FhiI:kl:LMm:n:N:o:p:P:rR:s:St:u:U:vVWXY:Z";

int settings_parse(settings *s, int argc, char **argv, char *err, size_t errlen)
{
    int c, v;
    int item_size_given = 0;
    int port_given = 0, udp_given = 0; /* -p, -U on the command line */
    optind = 0; /* glibc: full re-initialisation */
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_int(optarg, -1, 65535, &s->port))
                return fail(err, errlen, "Invalid value for -p: \"%s\" (a TCP port, 0..65535; "
                                         "0: no TCP; -1: any free port)", optarg);
            port_given = 1;
            break;
        case 'U':
            if (parse_int(optarg, -1, 65535, &s->udpport))
                return fail(err, errlen, "Invalid value for -U: \"%s\" (a UDP port, 0..65535; "
                                         "0: no UDP; -1: any free port)", optarg);
            udp_given = 1;
            break;
        case 's':
            s->socketpath = optarg;
            break;
        case 'a':
            if (parse_octal(optarg, 0777, &s->access))
                return fail(err, errlen, "Invalid value for -a: \"%s\" (an octal mask, 0..777, "
                                         "e.g. 700)", optarg);
            break;
        case 'l':
            s->inter = optarg;
            break;
        case 'b':
            if (parse_int(optarg, 1, INT_MAX, &s->backlog))
                return fail(err, errlen, "Invalid value for -b: \"%s\" (a backlog of 1 "
                                         "or more connections, e.g. 1024)", optarg);
            break;
        case 'B':
            s->protocol_given = 1;
            if (!strcmp(optarg, "auto"))
                s->binding_protocol = PROTO_AUTO;
            else if (!strcmp(optarg, "binary"))
                s->binding_protocol = PROTO_BINARY;
            else if (!strcmp(optarg, "ascii"))
                s->binding_protocol = PROTO_ASCII;
            else
                return fail(err, errlen, "Invalid value for binding protocol: %s\n"
                            " -- should be one of auto, binary, or ascii", optarg);
            break;
        case 'c':
            if (parse_int(optarg, INT_MIN, INT_MAX, &v))
                return fail(err, errlen, "Invalid value for -c: \"%s\" (connections, 1 or "
                                         "more)", optarg);
            if (v <= 0)
                return fail(err, errlen, "Maximum connections must be greater than 0 (e.g. 1024)");
            s->maxconns = v;
            break;
        case 't':
            if (parse_int(optarg, INT_MIN, INT_MAX, &v))
                return fail(err, errlen, "Invalid value for -t: \"%s\" (threads, 1..256)", optarg);
            if (v <= 0)
                return fail(err, errlen, "Number of threads must be greater than 0 (1..256)");
            if (v > 256)
                return fail(err, errlen, "Number of threads must be at most 256 (1..256)");
            s->num_threads = v;
            break;
        case 'R':
            if (parse_int(optarg, INT_MIN, INT_MAX, &v))
                return fail(err, errlen, "Invalid value for -R: \"%s\" (requests, 1 or more)",
                            optarg);
            if (v <= 0)
                return fail(err, errlen, "Number of requests per event must be greater than 0 "
                                         "(e.g. 20)");
            s->reqs_per_event = v;
            break;
        case 'm': {
            uint64_t mb;
            /* memcached: megabytes; a k/m suffix is read as memcached 1.6 does (bytes) */
            char *end;
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || errno)
                return fail(err, errlen, "Invalid value for -m: \"%s\" (megabytes, 1..16384)", optarg);
            if (*end == '\0') {
                mb = n * MB;
                if (n > SHMC_MEM_MAX / MB)
                    return fail(err, errlen, "Memory limit %llu MB is above shmcached's 16384 MB", n);
            } else if (settings_parse_size(optarg, &mb)) {
                return fail(err, errlen, "Invalid value for -m: \"%s\" (megabytes, 1..16384; or "
                                         "a size with a k or m suffix)", optarg);
            }
            if (mb == 0)
                return fail(err, errlen, "Memory limit must be greater than 0 (megabytes, 1..16384)");
            if (mb > SHMC_MEM_MAX)
                return fail(err, errlen, "Memory limit is above shmcached's 16384 MB (16384m at most)");
            s->maxbytes = mb;
            s->given |= SET_GIVEN_MAXBYTES;
            break;
        }
        case 'M':
            s->evict_to_free = 0;
            break;
        case 'I': {
            uint64_t size;
            if (settings_parse_size(optarg, &size))
                return fail(err, errlen, "Invalid value for -I: \"%s\" (bytes, or with a k or m "
                                         "suffix: 1k..128m)", optarg);
            if (size > UINT32_MAX)
                return fail(err, errlen, "Cannot set item size limit higher than a gigabyte. "
                                         "(shmcached: at most 128m)");
            s->item_size_max = (uint32_t)size;
            item_size_given = 1;
            s->given |= SET_GIVEN_ITEM_SIZE;
            break;
        }
        case 'f':
            if (parse_double(optarg, &s->factor))
                return fail(err, errlen, "Invalid value for -f: \"%s\" (a number above 1, at "
                                         "most 100, e.g. 1.25)", optarg);
            if (s->factor <= 1.0)
                return fail(err, errlen, "Factor must be greater than 1 (at most 100, e.g. 1.25)");
            if (s->factor > 100.0)
                return fail(err, errlen, "Factor must be at most 100 (above 1, e.g. 1.25)");
            s->given |= SET_GIVEN_FACTOR;
            break;
        case 'n':
            if (parse_int(optarg, INT_MIN, INT_MAX, &v))
                return fail(err, errlen, "Invalid value for -n: \"%s\" (bytes, 8 up to half "
                                         "of -I)", optarg);
            if (v <= 0)
                return fail(err, errlen, "Chunk size must be greater than 0 (bytes, 8 up to half of -I)");
            if (v < 8) /* the library's floor (shmc_config.chunk_size_min) */
                return fail(err, errlen, "Chunk size must be at least 8 bytes (8 up to half of -I)");
            s->chunk_size = v;
            s->given |= SET_GIVEN_CHUNK_SIZE;
            break;
        case 'C':
            s->use_cas = 0;
            break;
        case 'F':
            s->flush_enabled = 0;
            break;
        case 'A':
            s->shutdown_command = 1;
            break;
        case 'X':
            s->dump_enabled = 0;
            break;
        case 'W':
            s->watch_enabled = 0;
            break;
        case 'Y':
            s->auth_file = optarg;
            break;
        case 'd':
            s->daemonize = 1;
            break;
        case 'P':
            s->pid_file = optarg;
            break;
        case 'u':
            s->username = optarg;
            break;
        case 'v':
            if (optarg) { /* --verbose=N */
                if (parse_int(optarg, 0, 3, &v))
                    return fail(err, errlen, "Invalid value for --verbose: \"%s\" (0..3)", optarg);
                s->verbose = v;
            } else {
                s->verbose++;
            }
            break;
        case 'k':
            s->lock_memory = 1;
            break;
        case 'r':
            s->coredumps = 1;
            break;
        case 'L':
            s->largepages = 1;
            break;
        case 'e':
            if (!*optarg)
                return fail(err, errlen, "Invalid value for -e: an empty path (the segment "
                                         "file, e.g. -e /dev/shm/shmcached)");
            s->segment = optarg;
            break;
        case 'D':
            if (!optarg[0] || optarg[1])
                return fail(err, errlen, "the -D option (the prefix delimiter) takes one character "
                                         "(e.g. -D :)");
            s->prefix_delimiter = optarg[0];
            break;
        case 'N':
            if (parse_int(optarg, 0, INT_MAX, &s->napi_ids))
                return fail(err, errlen, "Invalid value for -N: \"%s\" (a number, 0 or more)", optarg);
            break;
        case 'o':
            if (parse_extended(s, optarg, err, errlen))
                return -1;
            break;
        case 'h':
            s->help = 1;
            break;
        case 'V':
            s->version = 1;
            break;
        case 'i':
            s->license = 1;
            break;
        case 'S':
            s->sasl = 1;
            break;
        case 'Z':
            s->ssl_enabled = 1;
            break;
        case ':':
            if (optopt)
                return fail(err, errlen, "option requires an argument -- '%c' (shmcached -h "
                                         "shows it)", optopt);
            return fail(err, errlen, "option '%s' requires an argument (shmcached -h shows it)",
                        argv[optind - 1]);
        case '?':
        default:
            if (optopt)
                return fail(err, errlen, "invalid option -- '%c'\nIllegal argument \"?\"\n"
                                         "(shmcached -h lists the options)", optopt);
            return fail(err, errlen, "unrecognized option '%s'\nIllegal argument \"?\"\n"
                                     "(shmcached -h lists the options)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(err, errlen, "Illegal argument \"%s\" (memcached takes no operands: "
                                         "every setting is an option, shmcached -h)", argv[optind]);

    /* memcached 1.6: -U N (not 0) without -p serves TCP on N too */
    if (udp_given && s->udpport && !port_given)
        s->port = s->udpport;

    /* Cross-option checks, after every flag is known (as memcached does). */
    if (s->item_size_max < 1024)
        return fail(err, errlen, "Item max size cannot be less than 1024 bytes. (-I 1k..128m)");
    if (s->item_size_max > s->maxbytes / 2)
        return fail(err, errlen, "Cannot set item size limit higher than 1/2 of memory max. "
                                 "(-I %u bytes with -m %llu MB: raise -m to %llu MB or more, or "
                                 "lower -I)", s->item_size_max,
                    (unsigned long long)(s->maxbytes / MB),
                    (unsigned long long)((2ULL * s->item_size_max + MB - 1) / MB));
    if (s->item_size_max > 1024 * MB)
        return fail(err, errlen, "Cannot set item size limit higher than a gigabyte. "
                                 "(shmcached: at most 128m)");
    if (s->item_size_max > SHMC_ITEM_MAX)
        return fail(err, errlen, "Cannot set item size limit higher than 128 megabytes (shmcached's limit).");
    if ((uint64_t)s->chunk_size > s->item_size_max / 2)
        return fail(err, errlen, "Chunk size must be at most half of the item size max (-I) "
                                 "(-n %d with -I %u: -n %u at most)", s->chunk_size, s->item_size_max,
                    s->item_size_max / 2);
    if (s->hot_lru_pct + s->warm_lru_pct > 80)
        return fail(err, errlen, "hot_lru_pct + warm_lru_pct cannot be more than 80%% combined "
                                 "(%d + %d)", s->hot_lru_pct, s->warm_lru_pct);
    if (!s->slab_chunk_given && item_size_given && s->slab_chunk_size_max > s->item_size_max)
        s->slab_chunk_size_max = s->item_size_max;
    if (check_slab_chunk_max(s, err, errlen) < 0 || check_slab_sizes(s, err, errlen) < 0)
        return -1;
    if (s->socketpath && !*s->socketpath)
        return fail(err, errlen, "Invalid value for -s: an empty path (the UNIX socket, "
                                 "e.g. -s /run/shmcached/shmcached.sock)");
    return 0;
}

/* -S: SASL is a binary-protocol exchange; nothing else may be served. */
static int check_sasl(settings *s, char *err, size_t errlen)
{
    if (!s->sasl)
        return 0;
    if (!s->protocol_given)
        s->binding_protocol = PROTO_BINARY;
    else if (s->binding_protocol != PROTO_BINARY)
        return fail(err, errlen, "ERROR: You cannot allow the ASCII protocol while using SASL.");
    if (s->udpport)
        return fail(err, errlen, "ERROR: Cannot enable UDP while using binary SASL authentication.");
    return 0;
}

/* -Y: the auth "set" is a text-protocol exchange; binary cannot carry it. */
static int check_authfile(settings *s, char *err, size_t errlen)
{
    if (!s->auth_file)
        return 0;
    if (!s->protocol_given)
        s->binding_protocol = PROTO_ASCII;
    else if (s->binding_protocol != PROTO_ASCII) /* auto would let binary past -Y */
        return fail(err, errlen, "ERROR: You cannot allow the BINARY protocol while using ascii "
                                 "authentication tokens.");
    if (s->udpport)
        return fail(err, errlen, "Cannot use UDP with ascii authentication enabled (-U 0 to disable)");
    return 0;
}

int settings_check_auth(settings *s, char *err, size_t errlen)
{
    /* memcached's order: -S first, so -S -Y without -B ends up ascii */
    if (check_sasl(s, err, errlen) < 0)
        return -1;
    return check_authfile(s, err, errlen);
}

const char *settings_usage(void)
{
    return
"-p, --port=<num>          TCP port to listen on (default: 11211)\n"
"-U, --udp-port=<num>      UDP port to listen on (default: 0, off)\n"
"-s, --unix-socket=<file>  UNIX socket to listen on (disables network support)\n"
"-a, --unix-mask=<mask>    access mask for UNIX socket, in octal (default: 700)\n"
"-A, --enable-shutdown     enable ascii \"shutdown\" command\n"
"-l, --listen=<addr>       interface to listen on (default: INADDR_ANY)\n"
"                          if TLS/SSL is enabled, 'notls' prefix can be used to\n"
"                          disable for specific listeners (-l notls:<ip>:<port>)\n"
"-d, --daemon              run as a daemon\n"
"-r, --enable-coredumps    maximize core file limit\n"
"-u, --user=<user>         assume identity of <username> (only when run as root)\n"
"-m, --memory-limit=<num>  item memory in megabytes (default: 64)\n"
"-M, --disable-evictions   return error on memory exhausted instead of evicting\n"
"-c, --conn-limit=<num>    max simultaneous connections (default: 1024)\n"
"-k, --lock-memory         lock down all paged memory\n"
"-v, --verbose             verbose (print errors/warnings while in event loop)\n"
"-vv                       very verbose (also print client commands/responses)\n"
"-vvv                      extremely verbose (internal state transitions)\n"
"-h, --help                print this help and exit\n"
"-i, --license             print the license and exit\n"
"-V, --version             print version and exit\n"
"-P, --pidfile=<file>      save PID in <file>\n"
"-f, --slab-growth-factor=<num> chunk size growth factor (default: 1.25)\n"
"-n, --slab-min-size=<bytes> min space used for key+value+flags (default: 48)\n"
"-L, --enable-largepages   accepted (the segment may live on hugetlbfs instead: -e)\n"
"-D <char>                 accepted (prefix delimiter for per-prefix stats)\n"
"-t, --threads=<num>       number of threads to use (default: 4)\n"
"-R, --max-reqs-per-event  maximum number of requests per event, limits the\n"
"                          requests processed per connection to prevent\n"
"                          starvation (default: 20)\n"
"-C, --disable-cas         disable use of CAS\n"
"-b, --listen-backlog=<num> set the backlog queue limit (default: 1024)\n"
"-B, --protocol=<name>     protocol - one of ascii, binary, or auto (default: auto-negotiate)\n"
"-I, --max-item-size=<num> adjusts max item size\n"
"                          (default: 1m, min: 1k, max: 128m)\n"
"-S, --enable-sasl         turn on Sasl authentication (PLAIN; passwords:\n"
"                          MEMCACHED_SASL_PWDB file of user:password). Binary\n"
"                          protocol only: -B ascii/auto and -U are refused\n"
"-F, --disable-flush-all   disable flush_all command\n"
"-X, --disable-dumping     disable stats cachedump and lru_crawler metadump\n"
"-W  --disable-watch       disable watch commands (live logging)\n"
"-Y, --auth-file=<file>    enable ASCII protocol authentication. format:\n"
"                          user:pass\\nuser2:pass2\\n\n"
"-e, --memory-file=<file>  the shared-memory segment: attached if it exists\n"
"                          (its data and its own configuration kept; -m -I -f\n"
"                          -n given and differing start a clean cache), else\n"
"                          created; <file>.meta written at a clean stop.\n"
"                          Default: /dev/shm/shmcached-<port>, or derived\n"
"                          from -s, replaced at start, removed at exit\n"
"-Z, --enable-ssl          enable TLS/SSL on the TCP listeners (not -s, not -U)\n"
"-o, --extended            comma separated list of extended options\n"
"                          most options have a 'no_' prefix to disable\n"
"   - maxconns_fast:       immediately close new connections after limit (default: enabled)\n"
"   - hashpower:           log2 of the initial hash table size (12..31)\n"
"   - hash_algorithm:      accepted: jenkins, murmur3, xxh3 (shmcached always uses xxh3)\n"
"   - slab_chunk_max, slab_reassign, slab_automove[=0|1|2], lru_crawler,\n"
"     lru_maintainer, lru_segmented, lru_crawler_sleep, lru_crawler_tocrawl,\n"
"     tail_repair_time, hot_max_factor, warm_max_factor,\n"
"     watcher_logbuf_size, worker_logbuf_size, track_sizes, no_hashexpand,\n"
"     slab_automove_window, slab_automove_ratio, slab_automove_freeratio:\n"
"                          accepted and reported by \"stats settings\"\n"
"   - slab_chunk_max:      in bytes, as memcached 1.6.18 (default: 524288)\n"
"   - read_buf_mem_limit:  megabytes of connection buffers, all connections\n"
"                          together; 0 means unlimited (default: 0)\n"
"   - slab_sizes, no_chunked_items, inline_ascii_resp, no_inline_ascii_resp,\n"
"     sock_cookie_id, resp_obj_mem_limit: memcached 1.6.18's, accepted\n"
"   - hot_lru_pct:         pct of slab memory to reserve for hot lru (default: 20)\n"
"   - warm_lru_pct:        pct of slab memory to reserve for warm lru (default: 40)\n"
"   - temporary_ttl:       TTL's up to this go to a TEMP LRU, never evicted (61)\n"
"   - idle_timeout:        timeout for idle connections. (default: 0, no timeout)\n"
"   - busy_poll_us:        shmcached only: after reading requests, a worker polls\n"
"                          its sockets this long before sleeping; lower latency\n"
"                          across CPUs for CPU time (default: 0, off; max 10000)\n"
"   - lock_wait_ms:        shmcached only: the most a command waits for a cache\n"
"                          lock held by a stopped or stuck library client, in ms;\n"
"                          then it answers SERVER_ERROR busy (default: 100, or\n"
"                          $SHMC_LOCK_WAIT_MS; -1: wait for ever; max 3600000)\n"
"   - modern / no_modern:  memcached 1.6 / 1.4 defaults\n"
"   - segment_mode:        shmcached only: the segment file's mode when the server\n"
"                          creates it, octal (default: 0600; 0660 lets its group attach)\n"
"   - ssl_chain_cert:      certificate chain file in PEM format\n"
"   - ssl_key:             private key, if not part of the -ssl_chain_cert\n"
"   - ssl_keyformat:       private key format (1: PEM, 2: DER) (default: 1)\n"
"   - ssl_verify_mode:     peer certificate verification mode, default is 0(None).\n"
"                          valid values are 0(None), 1(Request), 2(Require)\n"
"                          or 3(Once)\n"
"   - ssl_ciphers:         specify cipher list to be used\n"
"   - ssl_ca_cert:         PEM format file of acceptable client CA's\n"
"   - ssl_wbuf_size:       accepted and shown (kilobytes; default: 16)\n"
"   - ssl_session_cache:   enable server-side SSL session cache, to support session\n"
"                          resumption\n"
"   - ssl_kernel_tls:      enable kernel TLS offload (where OpenSSL has it)\n"
"   - ssl_min_version:     minimum protocol version to accept (default: tlsv1.2)\n"
"                          valid values are 0(tlsv1.0), 1(tlsv1.1), 2(tlsv1.2),\n"
"                          or 3(tlsv1.3); also the names tlsv1.0 .. tlsv1.3\n"
"   - segment_group:       shmcached only: the segment file's group, a name or a\n"
"                          number (default: the server's group)\n";
}
