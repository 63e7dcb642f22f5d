/*
 * restart.h - the -e memory file across server restarts: memcached's
 * "<file>.meta" restart file, and what a start does with an existing
 * segment whose settings differ from the command line.
 *
 * memcached 1.6 (restart.c) writes <file>.meta at a graceful stop
 * (SIGUSR1, "shutdown graceful") and, at the next start, reuses its item
 * memory only if that file is there and its settings are the command
 * line's; otherwise it starts with a clean cache.  It removes the file
 * once read.
 *
 * shmcached's segment is consistent after any stop (a crash included) and
 * holds its own creation parameters, so the segment decides, not the file:
 *  - the .meta file is written at every clean stop of a server with -e
 *    (SIGTERM, SIGINT, SIGUSR1, "shutdown [graceful]"), in memcached's
 *    format ("Tmain", then "K<key> <value>" lines; shmcached's own keys
 *    carry the prefix shm_), through a temporary file renamed into place;
 *  - at start it is read and removed; missing, corrupt or describing
 *    another segment, it is reported and ignored (the items are kept);
 *    valid, the server's uptime goes on from the first start, as
 *    memcached's does after a warm restart;
 *  - -m, -I, -f or -n given on the command line and differing from the
 *    segment's: memcached's "[restart] restart incompatible" line, then,
 *    as memcached, a clean cache with the new settings (the segment is
 *    replaced), unless another process is attached to it: then the server
 *    does not start (SHMC_BUSY), since that would wipe their cache.
 * docs/server.md ("Segment naming, restart and warm restart") lists the
 * differences from memcached and why.
 */
#ifndef SHMC_SERVER_RESTART_H
#define SHMC_SERVER_RESTART_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "settings.h"
#include "shmcached.h"

/* The most bytes a .meta file may have; a larger one is corrupt. */
#define RESTART_META_MAX 65536

/* What a .meta file records: memcached's keys where they map, shm_* else. */
typedef struct restart_meta {
    shmc_config seg;          /* the segment's creation parameters: maxbytes, chunk_size,
                                 item_size_max, slab_config (the growth factor), shm_no_evict,
                                 shm_hot_lru_pct, shm_warm_lru_pct, shm_slab_automove,
                                 shm_max_clients (mode and group are not recorded) */
    uint32_t slab_chunk_size_max; /* -o slab_chunk_max of the server that stopped */
    uint32_t slab_page_size;  /* always 1 MiB (memcached's slab page) */
    int use_cas;              /* !-C of the server that stopped */
    int slab_reassign;        /* -o slab_reassign of the server that stopped */
    uint64_t current_time;    /* seconds the server had run (memcached's relative clock) */
    int64_t process_started;  /* Unix time the server's uptime counts from */
    int64_t stop_time;        /* Unix time of the clean stop */
    uint32_t hashpower;       /* log2 of the segment's index buckets at the stop */
    char version[64];         /* shm_version: the version line of the server that stopped */
} restart_meta;

/* How restart_meta_load went. */
enum restart_meta_status {
    RESTART_META_OK = 0,      /* read and valid: *m filled */
    RESTART_META_MISSING,     /* there is no <segment>.meta */
    RESTART_META_CORRUPT,     /* unreadable, truncated or not a .meta file: why in err */
};

/*
 * Format m as a .meta file into buf (n bytes; pure).  Returns the length,
 * or n or more when buf is too small (nothing usable then).
 */
size_t restart_meta_format(const restart_meta *m, char *buf, size_t n);

/*
 * Parse a .meta file's text (len bytes, not NUL-terminated; pure).  0 with
 * *m filled, or -1 with the reason in err (always terminated): empty,
 * truncated (no newline at the end), a first line other than "Tmain", a
 * line that is neither "T..." nor "K<key> <value>", a bad value, a required
 * key missing.  Unknown keys are skipped, as memcached skips them.
 */
int restart_meta_parse(const char *text, size_t len, restart_meta *m, char *err, size_t errlen);

/*
 * Read <segment>.meta (at most RESTART_META_MAX bytes, no symlink
 * followed).  RESTART_META_OK with *m, RESTART_META_MISSING, or
 * RESTART_META_CORRUPT with the reason in err.  The file is left in place.
 */
enum restart_meta_status restart_meta_load(const char *segment, restart_meta *m, char *err,
                                           size_t errlen);

/*
 * Write <segment>.meta, mode 0600, through <segment>.meta.tmp renamed over
 * it (a crash mid-write leaves no half file).  0, or -1 with errno set
 * (ENAMETOOLONG for a path with no room for the suffix).
 */
int restart_meta_save(const char *segment, const restart_meta *m);

/* Remove <segment>.meta; 0, or -1 with errno (ENOENT when there was none). */
int restart_meta_remove(const char *segment);

/*
 * The first creation parameter of m that differs from the segment's have:
 * its .meta key, with m's value written into val (n bytes); NULL when m
 * describes that segment.
 */
const char *restart_meta_stale(const restart_meta *m, const shmc_config *have, char *val, size_t n);

/*
 * The i-th (from 0) of -m -I -f -n that s gives and that differs from the
 * segment's have: memcached's .meta key, with the segment's value in
 * memcached's units written into old (n bytes); NULL past the last.
 */
const char *restart_incompatible(const settings *s, const shmc_config *have, int i, char *old,
                                 size_t n);

/*
 * With -e: attach the segment at path, or create it with want, with the
 * [restart] lines on stderr that the header comment describes, and
 * <path>.meta removed once the segment is in hand.  SHMC_OK with *out,
 * *attached (1: an existing segment was kept) and, after a valid .meta,
 * *started moved back to the first start; SHMC_BUSY when differing
 * settings would replace a segment that other processes have attached
 * (nothing changed); else shmc_open_with's or shmc_create_with's error.
 */
shmc_status restart_open(const char *path, const settings *s, const shmc_config *want,
                         const shmc_options *opts, shmc_cache **out, int *attached,
                         time_t *started);

/*
 * At a clean stop with -e: write <path>.meta for cache (still attached)
 * and the server's settings s, uptime counted from started.  A failure
 * is printed (memcached's "failed to write metadata file") and ignored.
 */
void restart_save(const char *path, shmc_cache *cache, const settings *s, time_t started,
                  const char *version);

#endif
