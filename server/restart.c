/*
 * restart.c - the -e memory file across server restarts: the <file>.meta
 * restart file in memcached's format, and the start of a server on an
 * existing segment (restart.h says what, docs/server.md why).
 *
 * One table (meta_keys) lists the .meta file's keys, their types and
 * where they live in a restart_meta: the writer prints it in order, the
 * parser checks every value against it.
 */
#define _GNU_SOURCE /* O_NOFOLLOW, O_CLOEXEC */
#include "restart.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_SUFFIX ".meta"
#define META_TMP_SUFFIX ".meta.tmp"
#define SLAB_PAGE (1024U * 1024U) /* memcached's slab page, shmcached's too */

/* How a key's value is written and read. */
enum meta_type {
    MT_U32,    /* uint32_t, decimal */
    MT_U64,    /* uint64_t, decimal */
    MT_I64,    /* int64_t, decimal, not negative */
    MT_BOOL,   /* int, "true" / "false" */
    MT_FACTOR, /* double, > 1 and <= 100, the shortest text that reads back the same */
    MT_TEXT,   /* char[64], printable, no space */
};

/* One key of the .meta file. */
typedef struct meta_key {
    const char *name;    /* after the "K" */
    enum meta_type type; /* its value's form */
    size_t off;          /* offset of its field in restart_meta */
} meta_key;

#define F(field) offsetof(restart_meta, field)
/* memcached's keys first, in memcached's order, then shmcached's own. */
static const meta_key meta_keys[] = {
    {"slab_config", MT_FACTOR, F(seg.growth_factor)},
    {"maxbytes", MT_U64, F(seg.mem_bytes)},
    {"chunk_size", MT_U32, F(seg.chunk_size_min)},
    {"item_size_max", MT_U32, F(seg.item_size_max)},
    {"slab_chunk_size_max", MT_U32, F(slab_chunk_size_max)},
    {"slab_page_size", MT_U32, F(slab_page_size)},
    {"use_cas", MT_BOOL, F(use_cas)},
    {"slab_reassign", MT_BOOL, F(slab_reassign)},
    {"current_time", MT_U64, F(current_time)},
    {"process_started", MT_I64, F(process_started)},
    {"stop_time", MT_I64, F(stop_time)},
    {"hashpower", MT_U32, F(hashpower)},
    {"shm_version", MT_TEXT, F(version)},
    {"shm_no_evict", MT_BOOL, F(seg.no_evict)},
    {"shm_hot_lru_pct", MT_U32, F(seg.hot_lru_pct)},
    {"shm_warm_lru_pct", MT_U32, F(seg.warm_lru_pct)},
    {"shm_slab_automove", MT_BOOL, F(seg.slab_automove)},
    {"shm_max_clients", MT_U32, F(seg.max_clients)},
};
#undef F
#define NKEYS (sizeof meta_keys / sizeof meta_keys[0])
_Static_assert(offsetof(restart_meta, seg) == 0, "the creation parameters come first");
_Static_assert(NKEYS <= 32, "parse_kv keeps one bit per key in a uint32_t");

/* The shortest decimal text of f that strtod reads back as f. */
static void format_factor(double f, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, f);
        if (strtod(out, NULL) == f)
            return;
    }
}

/* One key's value of m as text, into out (n bytes). */
static void format_value(const meta_key *k, const restart_meta *m, char *out, size_t n)
{
    const char *p = (const char *)m + k->off;
    switch (k->type) {
    case MT_U32:
        snprintf(out, n, "%u", *(const uint32_t *)p);
        break;
    case MT_U64:
        snprintf(out, n, "%llu", (unsigned long long)*(const uint64_t *)p);
        break;
    case MT_I64:
        snprintf(out, n, "%lld", (long long)*(const int64_t *)p);
        break;
    case MT_BOOL:
        snprintf(out, n, "%s", *(const int *)p ? "true" : "false");
        break;
    case MT_FACTOR:
        format_factor(*(const double *)p, out, n);
        break;
    case MT_TEXT:
        snprintf(out, n, "%s", p);
        break;
    }
}

size_t restart_meta_format(const restart_meta *m, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "Tmain\n");
    for (size_t i = 0; i < NKEYS && len < n; i++) {
        char val[96];
        format_value(&meta_keys[i], m, val, sizeof val);
        len += (size_t)snprintf(buf + len, n - len, "K%s %s\n", meta_keys[i].name, val);
    }
    return len;
}

/* err = the formatted reason; returns -1. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* v[0..len) as an unsigned decimal no larger than max, into *out; -1 if not. */
static int parse_decimal(const char *v, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        unsigned d = (unsigned)(v[i] - '0');
        if (n > (max - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* v[0..len) as a growth factor (> 1, <= 100) into *out; -1 if not one. */
static int parse_factor(const char *v, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double f = strtod(buf, &end);
    if (*end || errno || !isfinite(f) || f <= 1.0 || f > 100.0 || buf[0] < '0' || buf[0] > '9')
        return -1;
    *out = f;
    return 0;
}

/* Read v[0..len) as key k's value into m; -1 when it is not one. */
static int parse_value(const meta_key *k, const char *v, size_t len, restart_meta *m)
{
    char *p = (char *)m + k->off;
    uint64_t n;
    switch (k->type) {
    case MT_U32:
        if (parse_decimal(v, len, UINT32_MAX, &n))
            return -1;
        *(uint32_t *)p = (uint32_t)n;
        return 0;
    case MT_U64:
        if (parse_decimal(v, len, UINT64_MAX, &n))
            return -1;
        *(uint64_t *)p = n;
        return 0;
    case MT_I64:
        if (parse_decimal(v, len, INT64_MAX, &n))
            return -1;
        *(int64_t *)p = (int64_t)n;
        return 0;
    case MT_BOOL:
        if (len == 4 && !memcmp(v, "true", 4))
            *(int *)p = 1;
        else if (len == 5 && !memcmp(v, "false", 5))
            *(int *)p = 0;
        else
            return -1;
        return 0;
    case MT_FACTOR:
        return parse_factor(v, len, (double *)p);
    case MT_TEXT:
        if (len == 0 || len >= sizeof m->version)
            return -1;
        for (size_t i = 0; i < len; i++)
            if (v[i] <= ' ' || v[i] > '~')
                return -1;
        memcpy(p, v, len);
        p[len] = '\0';
        return 0;
    }
    return -1;
}

/* The index of the key named key[0..len) in meta_keys, or -1. */
static int find_key(const char *key, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(meta_keys[i].name) == len && !memcmp(meta_keys[i].name, key, len))
            return (int)i;
    return -1;
}

/* One "K<key> <value>" line (line number no, len bytes, no newline) into
 * m, its key's bit set in *seen; unknown keys are skipped. */
static int parse_kv(const char *line, size_t len, int no, restart_meta *m, uint32_t *seen,
                    char *err, size_t errlen)
{
    if (len == 0 || line[0] != 'K')
        return fail(err, errlen, "line %d is neither \"T<tag>\" nor \"K<key> <value>\"", no);
    const char *sp = memchr(line, ' ', len);
    if (!sp || sp == line + 1)
        return fail(err, errlen, "line %d has no \"K<key> <value>\"", no);
    int k = find_key(line + 1, (size_t)(sp - line - 1));
    if (k < 0)
        return 0;
    const char *val = sp + 1;
    if (parse_value(&meta_keys[k], val, (size_t)(line + len - val), m))
        return fail(err, errlen, "line %d: bad value for %s", no, meta_keys[k].name);
    *seen |= 1u << k;
    return 0;
}

int restart_meta_parse(const char *text, size_t len, restart_meta *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (len == 0)
        return fail(err, errlen, "the file is empty");
    if (memchr(text, '\0', len))
        return fail(err, errlen, "it holds a NUL byte (not a text file)");
    if (text[len - 1] != '\n')
        return fail(err, errlen, "truncated (its last line has no newline)");
    uint32_t seen = 0;
    size_t pos = 0;
    for (int no = 1; pos < len; no++) {
        const char *line = text + pos;
        size_t ll = (size_t)((const char *)memchr(line, '\n', len - pos) - line);
        pos += ll + 1;
        if (no == 1) {
            if (ll != 5 || memcmp(line, "Tmain", 5))
                return fail(err, errlen, "its first line is not \"Tmain\"");
        } else if (ll > 0 && line[0] == 'T') {
            return fail(err, errlen, "line %d: a second tag (only \"Tmain\" is known)", no);
        } else if (parse_kv(line, ll, no, m, &seen, err, errlen)) {
            return -1;
        }
    }
    for (size_t i = 0; i < NKEYS; i++)
        if (!(seen & (1u << i)))
            return fail(err, errlen, "missing some metadata lines (no %s)", meta_keys[i].name);
    return 0;
}

/* path + suffix into out (n bytes); -1 with ENAMETOOLONG when it does not fit. */
static int meta_path(const char *path, const char *suffix, char *out, size_t n)
{
    if ((size_t)snprintf(out, n, "%s%s", path, suffix) >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

enum restart_meta_status restart_meta_load(const char *segment, restart_meta *m, char *err,
                                           size_t errlen)
{
    char path[4096 + sizeof META_TMP_SUFFIX];
    if (meta_path(segment, META_SUFFIX, path, sizeof path) < 0)
        return fail(err, errlen, "%s", strerror(errno)), RESTART_META_CORRUPT;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT)
        return RESTART_META_MISSING;
    if (fd < 0)
        return fail(err, errlen, "cannot read it: %s", strerror(errno)), RESTART_META_CORRUPT;
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(err, errlen, "not a regular file"), RESTART_META_CORRUPT;
    }
    char *buf = malloc(RESTART_META_MAX + 1);
    size_t len = 0;
    ssize_t r = 1;
    while (buf && len <= RESTART_META_MAX &&
           (r = read(fd, buf + len, RESTART_META_MAX + 1 - len)) > 0)
        len += (size_t)r;
    int rerr = errno;
    close(fd);
    enum restart_meta_status st = RESTART_META_CORRUPT;
    if (!buf)
        fail(err, errlen, "out of memory reading it");
    else if (r < 0)
        fail(err, errlen, "cannot read it: %s", strerror(rerr));
    else if (len > RESTART_META_MAX)
        fail(err, errlen, "larger than %d bytes", RESTART_META_MAX);
    else if (restart_meta_parse(buf, len, m, err, errlen) == 0)
        st = RESTART_META_OK;
    free(buf);
    return st;
}

/* Write all of buf to fd; 0 or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int restart_meta_save(const char *segment, const restart_meta *m)
{
    char path[4096 + sizeof META_TMP_SUFFIX], tmp[sizeof path];
    char text[4096];
    if (meta_path(segment, META_SUFFIX, path, sizeof path) < 0 ||
        meta_path(segment, META_TMP_SUFFIX, tmp, sizeof tmp) < 0)
        return -1;
    size_t len = restart_meta_format(m, text, sizeof text);
    if (len >= sizeof text) {
        errno = EOVERFLOW;
        return -1;
    }
    unlink(tmp); /* a leftover of a crash, or a symlink planted there */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int bad = write_all(fd, text, len) < 0, e = errno;
    if (close(fd) < 0 && !bad)
        bad = 1, e = errno;
    if (!bad && rename(tmp, path) < 0)
        bad = 1, e = errno;
    if (bad) {
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int restart_meta_remove(const char *segment)
{
    char path[4096 + sizeof META_TMP_SUFFIX];
    if (meta_path(segment, META_SUFFIX, path, sizeof path) < 0)
        return -1;
    return unlink(path);
}

const char *restart_meta_stale(const restart_meta *m, const shmc_config *have, char *val, size_t n)
{
    restart_meta seg;
    memset(&seg, 0, sizeof seg);
    seg.seg = *have;
    for (size_t i = 0; i < NKEYS; i++) {
        const meta_key *k = &meta_keys[i];
        if (k->off >= sizeof(shmc_config))
            continue; /* not a creation parameter (seg comes first: see below NKEYS) */
        char mine[96], theirs[96];
        format_value(k, m, mine, sizeof mine);
        format_value(k, &seg, theirs, sizeof theirs);
        if (strcmp(mine, theirs)) {
            snprintf(val, n, "%s", mine);
            return k->name;
        }
    }
    return NULL;
}

const char *restart_incompatible(const settings *s, const shmc_config *have, int i, char *old,
                                 size_t n)
{
    /* memcached's order of the checks: slab_config, maxbytes, chunk_size, item_size_max */
    int found = -1;
    if ((s->given & SET_GIVEN_FACTOR) && s->factor != have->growth_factor && ++found == i) {
        format_factor(have->growth_factor, old, n);
        return "slab_config";
    }
    if ((s->given & SET_GIVEN_MAXBYTES) && s->maxbytes != have->mem_bytes && ++found == i) {
        snprintf(old, n, "%llu", (unsigned long long)have->mem_bytes);
        return "maxbytes";
    }
    if ((s->given & SET_GIVEN_CHUNK_SIZE) && (uint32_t)s->chunk_size != have->chunk_size_min &&
        ++found == i) {
        snprintf(old, n, "%u", have->chunk_size_min);
        return "chunk_size";
    }
    if ((s->given & SET_GIVEN_ITEM_SIZE) && s->item_size_max != have->item_size_max &&
        ++found == i) {
        snprintf(old, n, "%u", have->item_size_max);
        return "item_size_max";
    }
    return NULL;
}

/* Create the segment with want, or attach it if another creator won the
 * race (*attached then 1). */
static shmc_status create_or_attach(const char *path, const shmc_config *want,
                                    const shmc_options *opts, shmc_cache **out, int *attached)
{
    shmc_status st = shmc_create_with(path, want, opts, out);
    *attached = 0;
    if (st == SHMC_FILE_EXISTS) {
        st = shmc_open_with(path, opts, out);
        *attached = st == SHMC_OK;
    }
    return st;
}

/* The segment's settings as flags, for the operator to repeat. */
static void segment_flags(const shmc_config *have, char *out, size_t n)
{
    char f[32];
    format_factor(have->growth_factor, f, sizeof f);
    int whole = have->mem_bytes % SLAB_PAGE == 0; /* else -m with a k suffix: KiB */
    snprintf(out, n, "-m %llu%s -I %u -f %s -n %u",
             (unsigned long long)(whole ? have->mem_bytes >> 20 : have->mem_bytes >> 10),
             whole ? "" : "k", have->item_size_max, f, have->chunk_size_min);
}

/*
 * The command line against the attached segment *out: each differing
 * -m/-I/-f/-n gets memcached's line; then, as memcached, a clean cache
 * with the new settings (*out then the new segment's handle), unless
 * other processes are attached: SHMC_BUSY, *out closed, the segment kept.
 */
static shmc_status check_settings(const char *path, const settings *s, const shmc_config *want,
                                  const shmc_options *opts, shmc_cache **out, int *attached)
{
    shmc_config have;
    char old[64];
    const char *key;
    int n = 0;
    if (shmc_config_get(*out, &have) != SHMC_OK)
        return SHMC_OK; /* retired under us: the first command finds out */
    for (; (key = restart_incompatible(s, &have, n, old, sizeof old)); n++)
        fprintf(stderr, "[restart] restart incompatible due to setting for [%s] [old value: %s]\n",
                key, old);
    if (n == 0)
        return SHMC_OK;
    shmc_close(*out); /* our own handle would count as a live client */
    *out = NULL;
    shmc_status st = shmc_destroy_with(path, SHMC_DESTROY_UNUSED);
    if (st == SHMC_BUSY) {
        char flags[128];
        segment_flags(&have, flags, sizeof flags);
        fprintf(stderr, "[restart] %s is attached by other processes: not starting with a clean "
                        "cache, that would wipe theirs (start with the segment's settings, %s, "
                        "or without those flags, to share it; or stop them - shmcachectl -S %s "
                        "stats shows shm_clients - to start clean)\n", path, flags, path);
        return SHMC_BUSY;
    }
    if (st != SHMC_OK && st != SHMC_NO_FILE)
        return st;
    fprintf(stderr, "[restart] failed to validate metadata, starting with a clean cache\n");
    return create_or_attach(path, want, opts, out, attached);
}

/* What the .meta file said about the segment just attached (cache). */
static void report_meta(const char *path, enum restart_meta_status ms, const restart_meta *m,
                        const char *why, shmc_cache *cache, int verbose, time_t *started)
{
    shmc_config have;
    char val[96];
    const char *key;
    time_t now = time(NULL);
    if (ms == RESTART_META_MISSING) {
        fprintf(stderr, "[restart] no metadata save file, keeping the items of %s (its last "
                        "server did not stop cleanly, or still runs: the segment survives "
                        "either)\n", path);
    } else if (ms == RESTART_META_CORRUPT) {
        fprintf(stderr, "[restart] corrupt metadata file %s" META_SUFFIX ": %s (ignored: the "
                        "segment checks itself, its items are kept)\n", path, why);
    } else if (shmc_config_get(cache, &have) == SHMC_OK &&
               (key = restart_meta_stale(m, &have, val, sizeof val))) {
        fprintf(stderr, "[restart] metadata file %s" META_SUFFIX " describes another segment "
                        "([%s] %s): ignored, the segment's items are kept\n", path, key, val);
    } else if (m->stop_time > (int64_t)now || m->process_started > m->stop_time) {
        fprintf(stderr, "[restart] metadata file %s" META_SUFFIX " has times the clock does not "
                        "fit (process_started %lld, stop_time %lld, now %lld): items kept, "
                        "uptime starts again\n", path, (long long)m->process_started,
                (long long)m->stop_time, (long long)now);
    } else {
        *started = (time_t)m->process_started; /* memcached's uptime goes on, too */
        if (verbose)
            fprintf(stderr, "[restart] warm restart of %s: stopped cleanly %lld s ago\n", path,
                    (long long)(now - m->stop_time));
    }
}

shmc_status restart_open(const char *path, const settings *s, const shmc_config *want,
                         const shmc_options *opts, shmc_cache **out, int *attached,
                         time_t *started)
{
    restart_meta meta;
    char why[256] = "";
    enum restart_meta_status ms = restart_meta_load(path, &meta, why, sizeof why);
    *attached = 0;
    shmc_status st = shmc_open_with(path, opts, out);
    int existed = st == SHMC_OK;
    if (st == SHMC_OK) {
        *attached = 1;
        st = check_settings(path, s, want, opts, out, attached);
    } else if (st == SHMC_NO_FILE) {
        st = create_or_attach(path, want, opts, out, attached);
    }
    if (st != SHMC_OK)
        return st;
    if (*attached)
        report_meta(path, ms, &meta, why, *out, s->verbose, started);
    else if (!existed && ms == RESTART_META_MISSING)
        fprintf(stderr, "[restart] no metadata save file, starting with a clean cache\n");
    else if (!existed)
        fprintf(stderr, "[restart] %s" META_SUFFIX " is left from a segment that is gone: "
                        "starting with a clean cache\n", path);
    if (ms != RESTART_META_MISSING && restart_meta_remove(path) < 0 && errno != ENOENT)
        fprintf(stderr, "[restart] cannot remove %s" META_SUFFIX ": %s (it describes the last "
                        "stop; remove it by hand)\n", path, strerror(errno));
    return SHMC_OK;
}

void restart_save(const char *path, shmc_cache *cache, const settings *s, time_t started,
                  const char *version)
{
    restart_meta m;
    shmc_stats st;
    memset(&m, 0, sizeof m);
    if (shmc_config_get(cache, &m.seg) != SHMC_OK || shmc_stats_get(cache, &st) != SHMC_OK) {
        fprintf(stderr, "[restart] failed to save metadata: segment %s is gone\n", path);
        return;
    }
    time_t now = time(NULL);
    m.slab_chunk_size_max = s->slab_chunk_size_max;
    m.slab_page_size = SLAB_PAGE;
    m.use_cas = s->use_cas;
    m.slab_reassign = s->slab_reassign;
    m.current_time = now > started ? (uint64_t)(now - started) : 0;
    m.process_started = started;
    m.stop_time = now;
    m.hashpower = (uint32_t)st.hash_power_level;
    snprintf(m.version, sizeof m.version, "%s", version);
    if (restart_meta_save(path, &m) < 0)
        fprintf(stderr, "[restart] failed to write metadata file %s" META_SUFFIX ": %s\n", path,
                strerror(errno));
}
