/*
 * settings.h - the daemon's command line: memcached 1.6's flags, with
 * memcached's meanings and defaults, parsed into one struct.
 *
 * settings_parse() is a pure function of argv (no I/O, no exit): it either
 * fills the struct or returns -1 with memcached's error wording in err.
 * settings_check_auth(), also pure, applies memcached's rules tying the
 * authentication flags (-S, -Y) to the protocol and UDP; the daemon calls
 * it next and exits EX_USAGE (64) when it fails, as memcached does.
 * Checks that depend on the running process (root without -u, binding,
 * the segment) are the daemon's (daemon.c).
 */
#ifndef SHMC_SERVER_SETTINGS_H
#define SHMC_SERVER_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

/* Upper bound of -o busy_poll_us (10 ms: past that, a sleep costs less). */
#define BUSY_POLL_US_MAX 10000

/*
 * The server's own default of -o lock_wait_ms: how long a command waits
 * for a cache lock that a live library client holds (the library's
 * default, SHMC_LOCK_WAIT_MS_DEFAULT, is 1 s).  A worker thread that
 * waits stalls every connection it serves; running clients hold a lock
 * for microseconds, so 100 ms is only reached when the holder is stopped
 * or stuck, and then it bounds what one such client costs the server.
 * SHMC_LOCK_WAIT_MS in the environment replaces it; -o replaces both.
 */
#define SRV_LOCK_WAIT_MS_DEFAULT 100

/* settings.given: a creation parameter set on the command line, not defaulted. */
#define SET_GIVEN_MAXBYTES 1u   /* -m */
#define SET_GIVEN_ITEM_SIZE 2u  /* -I */
#define SET_GIVEN_FACTOR 4u     /* -f */
#define SET_GIVEN_CHUNK_SIZE 8u /* -n */
/* The longest path an -o ssl_* option may name (bytes, with the NUL). */
#define SETTINGS_PATH_MAX 1024

enum binding_protocol { PROTO_AUTO = 0, PROTO_ASCII, PROTO_BINARY };

typedef struct settings {
    /* listeners */
    int port;                 /* -p: TCP port (11211); 0 = off, -1 = any free port;
                                 -U N without -p sets it to N, as memcached 1.6 */
    int udpport;              /* -U: UDP port (0 = off, memcached 1.6's default; -1 = any) */
    const char *socketpath;   /* -s: UNIX socket (disables TCP and UDP) */
    int access;               /* -a: UNIX socket mask, octal (0700) */
    const char *inter;        /* -l: listen address list (NULL = INADDR_ANY) */
    int backlog;              /* -b: listen backlog (1024) */
    enum binding_protocol binding_protocol; /* -B (auto; -S/-Y choose when -B is absent) */
    int protocol_given;       /* -B was on the command line (memcached's protocol_specified) */
    /* connections and threads */
    int maxconns;             /* -c (1024) */
    int num_threads;          /* -t (4) */
    int reqs_per_event;       /* -R (20) */
    int idle_timeout;         /* -o idle_timeout (0 = none) */
    int busy_poll_us;         /* -o busy_poll_us: poll before sleeping (0 = off; shmcached only) */
    int maxconns_fast;        /* -o maxconns_fast (on) */
    int lock_wait_ms;         /* -o lock_wait_ms: the most a command waits for a lock a live
                                 library client holds, ms; -1 for ever (shmcached only; the
                                 daemon settles the default: SRV_LOCK_WAIT_MS_DEFAULT) */
    int lock_wait_ms_given;   /* -o lock_wait_ms was on the command line */
    /* the cache (mapped onto shmc_config at creation) */
    uint64_t maxbytes;        /* -m MB (64) */
    uint32_t item_size_max;   /* -I (1m; k/m suffix) */
    double factor;            /* -f (1.25) */
    int chunk_size;           /* -n (48) */
    int evict_to_free;        /* !-M (1) */
    unsigned given;           /* which of -m -I -f -n the command line set (SET_GIVEN_*):
                                 with -e, only those are held against the segment's own */
    int hashpower_init;       /* -o hashpower (0 = default) */
    char hash_algorithm[16];  /* -o hash_algorithm (murmur3; we always use xxh3) */
    uint32_t slab_chunk_size_max; /* -o slab_chunk_max, bytes as memcached 1.6.18 (512k) */
    int slab_chunk_given;     /* -o slab_chunk_max was on the command line */
    char slab_sizes[256];     /* -o slab_sizes: checked as 1.6.18 does, classes unchanged */
    int slab_reassign;        /* -o slab_reassign (on) */
    int slab_automove;        /* -o slab_automove (1) */
    int slab_automove_window; /* -o slab_automove_window (30; shown, no effect here) */
    double slab_automove_ratio;     /* -o slab_automove_ratio (0.8; shown, no effect) */
    double slab_automove_freeratio; /* -o slab_automove_freeratio (0.01; shown, no effect) */
    int lru_crawler;          /* -o lru_crawler / no_lru_crawler (on) */
    int lru_maintainer_thread;/* -o lru_maintainer / no_lru_maintainer (on) */
    int lru_segmented;        /* on */
    int temporary_ttl;        /* -o temporary_ttl (61) */
    int temp_lru;             /* 1 once -o temporary_ttl was given: the TEMP LRU is on */
    int hot_lru_pct;          /* -o hot_lru_pct (20) */
    int warm_lru_pct;         /* -o warm_lru_pct (40) */
    double hot_max_factor;    /* -o hot_max_factor (0.2) */
    double warm_max_factor;   /* -o warm_max_factor (2.0) */
    int tail_repair_time;     /* -o tail_repair_time (0) */
    int lru_crawler_sleep;    /* -o lru_crawler_sleep (100) */
    uint32_t lru_crawler_tocrawl; /* -o lru_crawler_tocrawl (0) */
    int read_buf_mem_limit;   /* -o read_buf_mem_limit MB (0) */
    int watcher_logbuf_size;  /* -o watcher_logbuf_size KB (256) */
    int worker_logbuf_size;   /* -o worker_logbuf_size KB (64) */
    int track_sizes;          /* -o track_sizes (off) */
    int hash_expand;          /* !-o no_hashexpand (on) */
    /* commands */
    int use_cas;              /* !-C (1) */
    int flush_enabled;        /* !-F (1) */
    int shutdown_command;     /* -A (0) */
    int dump_enabled;         /* !-X (1) */
    int watch_enabled;        /* !-W (1) */
    const char *auth_file;    /* -Y */
    int sasl;                 /* -S: SASL PLAIN; the binary protocol only, no UDP */
    /* TLS (-Z, -o ssl_*: tls.c); the paths as given ("" = none) */
    int ssl_enabled;          /* -Z: TLS on every TCP listener but -l notls:... */
    char ssl_chain_cert[SETTINGS_PATH_MAX]; /* -o ssl_chain_cert: PEM chain (required with -Z) */
    char ssl_key[SETTINGS_PATH_MAX];        /* -o ssl_key ("": in the chain's file) */
    int ssl_keyformat;        /* -o ssl_keyformat: OpenSSL's file type (1 PEM, 2 DER; 1) */
    int ssl_verify_mode;      /* -o ssl_verify_mode: 0 none, 1 request, 2 require, 3 once (0) */
    char ssl_ca_cert[SETTINGS_PATH_MAX];    /* -o ssl_ca_cert: client CAs, PEM ("": none) */
    char ssl_ciphers[SETTINGS_PATH_MAX];    /* -o ssl_ciphers: OpenSSL cipher list ("": its own) */
    int ssl_wbuf_size;        /* -o ssl_wbuf_size KB (16; shown: replies have their own buffer) */
    int ssl_session_cache;    /* -o ssl_session_cache: server-side session resumption (off) */
    int ssl_kernel_tls;       /* -o ssl_kernel_tls: ask OpenSSL for kernel TLS (off) */
    int ssl_min_version;      /* -o ssl_min_version: 0 TLSv1.0 .. 3 TLSv1.3 (2) */
    /* process */
    int daemonize;            /* -d */
    const char *pid_file;     /* -P */
    const char *username;     /* -u */
    int verbose;              /* -v count */
    int lock_memory;          /* -k */
    int coredumps;            /* -r */
    int largepages;           /* -L */
    const char *segment;      /* -e: the segment file (NULL = derived from the listener) */
    int segment_mode;         /* -o segment_mode: the segment file's mode when the server
                                 creates it (0600, the library's default; shmcached only) */
    char segment_group[64];   /* -o segment_group: its group, a name or a gid ("": the
                                 server's own group; resolved by the daemon) */
    char prefix_delimiter;    /* -D (':') */
    int napi_ids;             /* -N */
    int help;                 /* -h */
    int version;              /* -V */
    int license;              /* -i */
} settings;

/* Fill *s with memcached 1.6's defaults. */
void settings_init(settings *s);

/*
 * Parse argv (argv[0] is the program name) into *s (settings_init first).
 * Strings in *s point into argv.  Returns 0, or -1 with a message (no
 * trailing newline) in err.  Uses getopt_long; resets its state itself,
 * so it may be called more than once.
 */
int settings_parse(settings *s, int argc, char **argv, char *err, size_t errlen);

/*
 * memcached's rules for the authentication flags, after settings_parse():
 *  - -S: SASL exists in the binary protocol only, so without -B the
 *    protocol is binary; -B ascii or -B auto would leave the text and meta
 *    commands open without authentication, and is refused; so is UDP (-U
 *    not 0: a datagram has no connection to authenticate).
 *  - -Y: the auth "set" exists in the text protocol only, so without -B
 *    the protocol is ascii (also after -S: memcached then serves text
 *    behind -Y); -B binary and -B auto are refused, and so is UDP.
 * Settles s->binding_protocol.  Returns 0, or -1 with memcached's message
 * (no trailing newline) in err: the daemon exits EX_USAGE.
 */
int settings_check_auth(settings *s, char *err, size_t errlen);

/* Parse memcached's size syntax: digits with an optional k/K/m/M suffix.
 * Returns 0 and *out, or -1. */
int settings_parse_size(const char *str, uint64_t *out);

/* The usage text (memcached -h's layout, our options). */
const char *settings_usage(void);

#endif
