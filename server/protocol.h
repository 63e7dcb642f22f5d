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

#include <stdatomic.h>
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

/* Make room for n more bytes after len; false if memory ran out. */
bool srv_buf_reserve(srv_buf *b, size_t n);

/* Append n bytes; false if memory ran out (the connection then closes). */
bool srv_buf_add(srv_buf *b, const void *p, size_t n);
/* printf-style append. */
bool srv_buf_printf(srv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv_buf_free(srv_buf *b);

/*
 * A multi-key get's values, read SRV_GET_BATCH keys a shmc_get_multi into
 * slots of SRV_GET_SLOT bytes, then written out in the keys' order (a
 * larger value is read again alone): the text protocol's get of several
 * keys (proto_text.c get_batched) and the binary's runs of Get/GetK
 * (proto_binary.c exec_get_batch).  One set per worker thread, which the
 * protocols share: each fills and empties it within one request.
 */
#define SRV_GET_BATCH 32
#define SRV_GET_SLOT 1024
extern __thread char srv_get_scratch[SRV_GET_BATCH][SRV_GET_SLOT];

/*
 * -o read_buf_mem_limit: one budget of buffer bytes shared by every
 * connection of the daemon (memcached's pool of read buffers and response
 * objects).  Each connection charges what its read and reply buffers hold
 * (conn.c); a connection whose buffers cannot be charged is closed, and a
 * get whose reply would not fit answers "SERVER_ERROR out of memory
 * writing get response" (proto_text.c).
 */
typedef struct srv_mem_budget {
    size_t limit;             /* bytes; 0 = no limit */
    atomic_size_t used;       /* bytes charged by all connections now */
} srv_mem_budget;

/* Charge n bytes; false (nothing charged) if that would pass the limit. */
bool srv_mem_charge(srv_mem_budget *b, size_t n);
/* Give back n bytes charged before. */
void srv_mem_release(srv_mem_budget *b, size_t n);
/* Bytes still free in the budget; SIZE_MAX with no budget or no limit. */
size_t srv_mem_room(srv_mem_budget *b);

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
    const struct srv_auth *auth; /* -Y: non-NULL = text connections must authenticate first */
    const struct srv_sasl_ops *sasl; /* -S: non-NULL = binary connections need SASL first */
    int idle_timeout;         /* -o idle_timeout: 0 off; when on, "stats" shows idle_kicks */
    srv_mem_budget *mem_budget; /* -o read_buf_mem_limit; NULL = no limit */
    int dump_disabled;        /* -X: stats cachedump and lru_crawler metadump refused */
    int watch_disabled;       /* -W: watch refused */
    char prefix_delimiter;    /* -D: ends a key's prefix for "stats detail" (0: ':') */
} srv_settings;

/* What the connection must do after process(). */
enum srv_action {
    SRV_CONTINUE = 0,   /* keep reading */
    SRV_CLOSE,          /* write out what is buffered, then close ("quit", fatal errors) */
    SRV_SHUTDOWN,       /* the "shutdown" command: stop the daemon gracefully */
    SRV_RETIRED,        /* the cache's segment was destroyed or replaced (SHMC_STALE):
                           the stale reply is buffered; write it, close, and stop the
                           daemon, which has no cache any more (daemon.c) */
    SRV_WATCH,          /* "watch": the connection only streams events from now on
                           (proto_watch_poll); its input is read and dropped */
};

/*
 * A cache call that could not run (proto_unavailable.c): one wording for
 * every protocol.
 *  - SHMC_BUSY: a live library client held a lock the command needed for
 *    longer than the daemon's bound (-o lock_wait_ms), because it is
 *    stopped or stuck; the command changed nothing.  Text and meta answer
 *    "SERVER_ERROR " SRV_MSG_BUSY (a whole get/gets/gat/gats reply is
 *    replaced by it); binary answers BIN_ST_EBUSY with it as the body.
 *  - SHMC_STALE: the segment was destroyed or replaced under the daemon.
 *    "SERVER_ERROR " SRV_MSG_RETIRED, binary BIN_ST_ETMPFAIL, then
 *    SRV_RETIRED.
 * Any other status is the command's own outcome.
 */
#define SRV_MSG_BUSY "busy: a lock is held by a stopped client"
#define SRV_MSG_RETIRED "cache segment was destroyed or replaced"

/* The message for SHMC_BUSY or SHMC_STALE; NULL for any other status. */
const char *srv_unavailable_msg(shmc_status st);
/* The same, for a reply about to be sent: counts it, and sets *retired
 * for SHMC_STALE (the connection then closes: SRV_RETIRED). */
const char *srv_unavailable_take(shmc_status st, bool *retired);
/* SHMC_BUSY answers this process sent ("stats": shm_busy_answers). */
uint64_t srv_busy_answers(void);

/* The server's event counters that "stats" prints under memcached's names. */
typedef enum srv_counter {
    SRV_BYTES_READ,       /* bytes received from clients (TCP, UNIX, UDP) */
    SRV_BYTES_WRITTEN,    /* bytes sent to clients */
    SRV_STORE_TOO_LARGE,  /* stores answered "object too large for cache" */
    SRV_STORE_NO_MEMORY,  /* stores answered "out of memory storing object" */
    SRV_CMD_META,         /* meta commands run (mg, ms, md, ma, mn, me) */
    SRV_AUTH_CMDS,        /* authentication attempts (SASL auth/step, ascii auth) */
    SRV_AUTH_ERRORS,      /* of those, the ones refused */
    SRV_CONN_YIELDS,      /* a connection gave way after its -R share, input left */
    SRV_IDLE_KICKS,       /* connections closed by -o idle_timeout */
    SRV_CRAWLER_STARTS,   /* crawls begun: requested ones, and background passes (crawler.h) */
    SRV_CRAWLER_CHECKED,  /* items the crawler looked at */
    SRV_CRAWLER_RECLAIMED, /* dead items the crawler freed */
    SRV_READ_BUF_OOM,     /* connections closed: the read_buf_mem_limit budget had no room */
    SRV_RESPONSE_OBJ_OOM, /* gets answered "out of memory writing get response" */
    SRV_NCOUNTERS
} srv_counter;
/* Add n to counter which (any thread). */
void srv_count(srv_counter which, uint64_t n);
/* Counter which, since the last srv_counters_reset() (or the start). */
uint64_t srv_counted(srv_counter which);
/* "stats reset": the counters start again from 0. */
void srv_counters_reset(void);

/* Per-connection protocol state. */
typedef struct srv_session {
    shmc_cache *cache;            /* the daemon's handle */
    const srv_settings *settings;
    int noreply_pending;          /* internal: current request asked for noreply */
    int swallow;                  /* internal: bytes of a bad data block to skip */
    const struct srv_daemon_hooks *hooks; /* daemon commands; NULL in unit tests */
    void *daemon;                 /* opaque: passed back to the hooks */
    int authenticated;            /* -Y: this connection passed the auth "set" */
    int proto;                    /* conn.c: 0 undecided, 1 text, 2 binary (SRV_PROTO_*) */
    uint64_t bin_swallow;         /* internal (binary): bytes of a request to discard */
    int awaiting_data;            /* internal (text): a storage command's line is in,
                                     not yet all its data */
    size_t sendable;              /* internal (text): while awaiting data or skipping
                                     it, how much of the output memcached would have
                                     sent (up to its last get or mn); conn.c holds the
                                     rest and zeroes this when the output drains */
    void *sasl_conn;              /* -S: this connection's SASL state (srv_sasl_ops) */
    int sasl_authenticated;       /* -S: this connection completed SASL */
    unsigned watch_groups;        /* "watch": the SHMC_WATCH_* groups it streams; 0 none */
    uint64_t watch_cursor;        /* "watch": the next event to read (shmc_watch_next) */
} srv_session;

/*
 * "watch" (proto_watch.c): a session that answered SRV_WATCH streams the
 * events of every client of the segment, the server's own and library
 * clients' alike, as memcached's log lines (mc_lines.h), each ending in
 * "\n", with "skipped=N" where events were lost.  The connection calls
 * proto_watch_poll now and then; it appends what is new and returns
 * false if the events cannot be read any more (the segment retired).
 * proto_watch_end ends the session's watch (the connection closes).
 */
bool proto_watch_poll(srv_session *s, srv_buf *out);
void proto_watch_end(srv_session *s);

/*
 * ASCII authentication (-Y <authfile>), as memcached 1.6 does it
 * (proto_auth.c).  The file holds "user:password" lines; memcached keeps
 * the first SRV_AUTH_MAX_ENTRIES and ignores the rest.  Until it has
 * authenticated, a text connection may only send
 *   set <anykey> <flags> <exptime> <bytes>\r\n<user> <password>\r\n
 * answered STORED or "CLIENT_ERROR authentication failure"; every other
 * line gets "CLIENT_ERROR unauthenticated".
 */
#define SRV_AUTH_MAX_ENTRIES 8

typedef struct srv_auth_entry {
    const char *user;
    size_t ulen;
    const char *pass;
    size_t plen;
} srv_auth_entry;

typedef struct srv_auth {
    unsigned count;
    srv_auth_entry e[SRV_AUTH_MAX_ENTRIES];
    char *data;                   /* the file's bytes; the entries point here */
} srv_auth;

enum srv_auth_load_result {
    SRV_AUTH_OK = 0,
    SRV_AUTH_OPENFAIL,            /* errno tells why */
    SRV_AUTH_STATFAIL,            /* errno tells why */
    SRV_AUTH_OOM,
    SRV_AUTH_MALFORMED,           /* a line without ':' (an empty line too) */
};

/* Load an authfile into *a (zeroed first).  srv_auth_free() releases it. */
enum srv_auth_load_result srv_auth_load(srv_auth *a, const char *path);
/* Parse the file's bytes (used by srv_auth_load; tests call it directly).
 * Takes ownership of data (malloc'd, NUL-terminated). */
enum srv_auth_load_result srv_auth_parse(srv_auth *a, char *data);
void srv_auth_free(srv_auth *a);
/* true if user/pass match an entry (constant time per entry). */
bool srv_auth_check(const srv_auth *a, const char *user, size_t ulen, const char *pass,
                    size_t plen);
/* The text protocol's step for an unauthenticated connection: handle the
 * first request of in[0..len).  Returns bytes consumed, 0 to wait for
 * more, -1 to close the connection (a line over 2048 bytes, or no memory). */
long proto_auth_process(srv_session *s, const srv_auth *a, const char *in, size_t len,
                        srv_buf *out);

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
    /* append the daemon's lines that memcached prints after limit_maxbytes
     * (accepting_conns, listen_disabled_num, threads, conn_yields...) */
    void (*stats_general_listen)(void *daemon, srv_buf *out);
    /* append the "stats settings" lines */
    void (*stats_settings)(void *daemon, srv_buf *out);
    /* append the "stats conns" lines */
    void (*stats_conns)(void *daemon, srv_buf *out);
    /* "lru_crawler enable|disable": on 0/1 switches the daemon's crawler
     * setting, -1 only reads it; returns the setting before the call */
    int (*lru_crawler)(void *daemon, int on);
    /* "lru_crawler crawl": ask the daemon's crawler thread for a crawl of
     * the classes in mask (crawler.h); 0 accepted, -1 busy.  mask 0 asks
     * nothing: 1 while a requested crawl runs, else 0 (stats) */
    int (*crawl)(void *daemon, uint64_t mask);
    /* "lru mode flat|segmented": records the daemon's lru_segmented */
    void (*set_lru_segmented)(void *daemon, int on);
    /* "refresh_certs": reload the TLS certificate and key; 0, or -1 with
     * the reason in err ("TLS not enabled" without -Z) */
    int (*refresh_certs)(void *daemon, char *err, size_t errlen);
} srv_daemon_hooks;

/* srv_session.proto */
enum { SRV_PROTO_UNDECIDED = 0, SRV_PROTO_TEXT = 1, SRV_PROTO_BINARY = 2 };

/*
 * memcached's binary protocol (proto_binary.c): as proto_text_process.
 * Bytes that do not start with the request magic (0x80) close the
 * connection (*action SRV_CLOSE), as memcached does.
 */
size_t proto_binary_process(srv_session *s, const char *in, size_t len, srv_buf *out,
                            enum srv_action *action);

/*
 * SASL for the binary protocol (-S; server/sasl.c implements it with
 * Cyrus libsasl2).  The protocol module only calls these; *conn is the
 * session's sasl_conn, created on first use.
 */
enum srv_sasl_result { SRV_SASL_OK = 0, SRV_SASL_CONTINUE, SRV_SASL_FAIL };
typedef struct srv_sasl_ops {
    void *ctx;
    /* the mechanisms, space-separated; false on failure */
    bool (*list_mechs)(void *ctx, void **conn, const char **out, unsigned *outlen);
    /* SASL auth (step false: start mechanism mech) or SASL step (step
     * true); out, outlen: data for the client (valid until the next call) */
    enum srv_sasl_result (*auth)(void *ctx, void **conn, bool step, const char *mech,
                                 const char *data, unsigned len, const char **out,
                                 unsigned *outlen);
    /* release a connection's state (conn may be NULL) */
    void (*conn_free)(void *ctx, void *conn);
} srv_sasl_ops;

#endif
