/*
 * protocol.h - the contract between the daemon's I/O (conn.c, daemon.c)
 * and memcached's protocols (proto_text.c for text and meta commands;
 * later proto_binary.c).
 *
 * A protocol module turns the bytes a client sent into requests (a pure
 * parse: bytes in, a request struct out, no I/O) and runs each request
 * against the cache through the public API (include/shmcached.h), writing
 * memcached's exact reply bytes into an output buffer.  The server is just
 * another client of the library: it never touches the segment itself.
 */
#ifndef SHMC_SERVER_PROTOCOL_H
#define SHMC_SERVER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shmcached.h"

/* A growable output buffer owned by the connection. */
typedef struct srv_buf {
    char *data;
    size_t len; /* bytes written so far */
    size_t cap; /* bytes allocated */
} srv_buf;

/* Append n bytes; false if memory ran out (the connection then closes). */
bool srv_buf_add(srv_buf *b, const void *p, size_t n);
/* printf-style append. */
bool srv_buf_printf(srv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv_buf_free(srv_buf *b);

/* Daemon-wide settings a protocol needs (filled by daemon.c from the
 * command line; memcached's names and defaults). */
typedef struct srv_settings {
    uint32_t item_size_max;   /* -I: larger values get SERVER_ERROR object too large */
    int allow_shutdown;       /* -A: the shutdown command is allowed */
    int cas_enabled;          /* !-C */
    int flush_enabled;        /* !-F */
    int verbose;              /* -v count */
    uint32_t max_reqs_per_event; /* -R */
    const char *version;      /* reply of "version" */
} srv_settings;

/* What the connection must do after process(). */
enum srv_action {
    SRV_CONTINUE = 0,   /* keep reading */
    SRV_CLOSE,          /* write out what is buffered, then close ("quit", fatal errors) */
    SRV_SHUTDOWN,       /* the "shutdown" command: stop the daemon gracefully */
};

/* Per-connection protocol state. */
typedef struct srv_session {
    shmc_cache *cache;            /* the daemon's handle */
    const srv_settings *settings;
    int noreply_pending;          /* internal: current request asked for noreply */
    int swallow;                  /* internal: bytes of a bad data block to skip */
    const struct srv_daemon_hooks *hooks; /* daemon commands; NULL in unit tests */
    void *daemon;                 /* opaque: passed back to the hooks */
} srv_session;

/*
 * Process as many complete requests as in[0..len) holds.  Appends every
 * reply to out.  Returns the number of bytes consumed (requests fully
 * handled); the caller keeps the rest and calls again when more arrive.
 * *action tells what to do next.  Never reads past len, never crashes on
 * any input (it is fuzzed), and handles a line longer than the limit by
 * memcached's rules (CLIENT_ERROR line too long / close).
 */
size_t proto_text_process(srv_session *s, const char *in, size_t len, srv_buf *out,
                          enum srv_action *action);

/*
 * Hooks the daemon provides for commands that are about the daemon rather
 * than the cache ("stats" general/settings/conns, "verbosity", "version",
 * "shutdown", "cache_memlimit", "slabs"/"lru_crawler" replies).  A test
 * may leave them NULL: then the protocol answers from the cache alone.
 */
typedef struct srv_daemon_hooks {
    /* "verbosity N": set the daemon's verbosity */
    void (*set_verbosity)(void *daemon, unsigned level);
    /* append "STAT name value\r\n" lines of the daemon (pid, uptime,
     * curr_connections, threads...) before the cache's own stats */
    void (*stats_general)(void *daemon, srv_buf *out);
    /* append the "stats settings" lines */
    void (*stats_settings)(void *daemon, srv_buf *out);
    /* append the "stats conns" lines */
    void (*stats_conns)(void *daemon, srv_buf *out);
} srv_daemon_hooks;

#endif
