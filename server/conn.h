/*
 * conn.h - the daemon's threads and connections.
 *
 * memcached's model: one listener thread (the main thread) accepts and
 * hands each connection, round-robin, to one of N worker threads; each
 * worker runs its own libevent event_base and owns its connections for
 * their whole life.  A connection keeps a read buffer (bytes not yet
 * consumed by proto_text_process) and an srv_buf of replies not yet
 * written; reading stops while too much output is queued.
 *
 * Every worker shares the daemon's one shmc_cache handle (the library is
 * thread-safe per handle).  When a call finds the handle's segment retired
 * (SHMC_STALE), the worker reports it (daemon_segment_retired) and the
 * main thread stops every worker before the handle is closed: the handle
 * is never swapped or closed under a running worker.
 */
#ifndef SHMC_SERVER_CONN_H
#define SHMC_SERVER_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "protocol.h"
#include "settings.h"

struct event;
struct event_base;
struct daemon;
struct tls_conn;

typedef struct conn {
    int fd;
    struct worker *w;
    struct tls_conn *tls;   /* -Z on a TCP listener: reads and writes go through it (tls.h) */
    int tls_read_blocked;   /* a TLS read waits for the socket to become writable */
    struct event *rev;      /* EV_READ|EV_PERSIST, with the idle timeout */
    struct event *wev;      /* EV_WRITE|EV_PERSIST, added while output is queued */
    char *rbuf;             /* rbuf[rpos..rpos+rlen): bytes read, not yet consumed */
    size_t rpos, rlen, rcap;
    struct event *resume_ev; /* timer: run the requests left buffered after a -R slice */
    struct event *watch_ev; /* timer: a watching connection polls for events (SRV_WATCH) */
    int pending;            /* rbuf may hold complete requests: they run before more is read */
    srv_buf out;            /* replies; out.data[wpos..out.len) still to write */
    size_t wpos;
    size_t charged;         /* bytes of d->srv.mem_budget this conn holds (conn_charge) */
    srv_session sess;
    int closing;            /* close once out is written */
    int reading;            /* rev is added */
    int writing;            /* wev is added (a write would block) */
    time_t last_cmd;        /* for stats conns and idle_timeout */
    char addr[80];          /* "tcp:1.2.3.4:5678" / "unix:/path" */
    char listen_addr[80];
    struct conn *prev, *next; /* the worker's list (under w->lock) */
} conn;

/* A connection handed from the listener to a worker. */
typedef struct new_conn {
    int fd;
    int tls;                /* serve it with TLS (-Z, a TCP listener without notls:) */
    char addr[80];
    char listen_addr[80];
    struct new_conn *next;
} new_conn;

/* UDP sockets a daemon may serve (one per address family and -l address). */
#define SRV_MAX_UDP 8

typedef struct worker {
    int id;
    struct daemon *d;
    pthread_t thread;
    struct event_base *base;
    int wake_fd;              /* eventfd other threads write to: new conns queued, or stop */
    struct event *wake_ev;    /* read event on wake_fd in this worker's base */
    atomic_int stopping;      /* set by the main thread at shutdown, before a wake */
    struct event *udp_ev[SRV_MAX_UDP]; /* one per UDP socket of the daemon (udp_fds) */
    pthread_mutex_t lock;     /* queue and the conns list */
    new_conn *queue;
    conn *conns;
    srv_session udp_sess;
    uint64_t activity;        /* read events handled (the busy-poll window restarts on change) */
} worker;

/* The daemon: one per process (daemon.c). */
typedef struct daemon {
    settings st;              /* the command line */
    srv_settings srv;         /* what the protocol needs */
    srv_mem_budget mem_budget; /* -o read_buf_mem_limit: all connections' buffers */
    srv_daemon_hooks hooks;
    shmc_cache *cache;
    shmc_options opts;        /* the attach options: the environment's, lock_wait_ms settled
                                 (settings.h: SRV_LOCK_WAIT_MS_DEFAULT, -o lock_wait_ms) */
    char segment[4096];       /* the segment's path */
    int segment_owned;        /* created by us (no -e): removed at exit */
    int segment_attached;     /* -e found an existing segment */
    char version[64];
    time_t started;
    int nworkers;
    worker *workers;
    struct event_base *main_base;
    int shutdown_fd;          /* eventfd: any thread (or a signal) asks the main loop to stop */
    struct event *shutdown_ev; /* read event on shutdown_fd in main_base */
    int udp_fds[SRV_MAX_UDP]; /* UDP sockets (IPv4 and IPv6, -l addresses), all workers read them */
    int nudp;
    int tcp_port_bound;       /* the first TCP port bound: names the segment of -p -1 */
    int udp_port_bound;       /* the first UDP port bound: the same for -U -1 */
    atomic_long curr_conns;
    atomic_long total_conns;
    atomic_long rejected_conns;
    atomic_long conn_structures;
    atomic_int shutting_down;
    atomic_int retired;       /* a call met SHMC_STALE: the server stops, exit EX_TEMPFAIL */
    int nlisteners;
} daemon_t;

/* Called in the worker's thread: start serving fd. */
void conn_new(worker *w, const new_conn *nc);
/* Close every connection of w (its thread, at shutdown). */
void conn_close_all(worker *w);
/* The UDP socket's read callback (memcached's 8-byte frame header). */
void conn_udp_read(int fd, short what, void *arg);
/* Ask the daemon to stop (thread-safe). */
void daemon_request_shutdown(daemon_t *d);
/* A cache call answered SHMC_STALE: log it once and stop (thread-safe). */
void daemon_segment_retired(daemon_t *d);

#endif
