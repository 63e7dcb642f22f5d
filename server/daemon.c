/*
 * daemon.c - build/shmcached: a drop-in memcached over a shmcached segment.
 *
 * main: command line (settings.c), root/-u checks, listeners (TCP, UNIX,
 * UDP), daemonizing, the segment (attach with -e, else a fresh one named
 * after the listener), worker threads (conn.c), signals, the stats hooks
 * of protocol.h, graceful shutdown.
 *
 * The segment:
 *  - with -e PATH: an existing segment at PATH is attached and kept (warm
 *    restart, also after a crash: shmc_open repairs what a dead process
 *    left); its own configuration wins over -M/-o hashpower... (a note at
 *    -v when they differ); -m/-I/-f/-n given and differing start a clean
 *    cache, as memcached's (restart.c, which also keeps memcached's
 *    PATH.meta restart file).  Missing, it is created with the flags.  The
 *    server removes it only to start such a clean cache.
 *  - without -e: /dev/shm/shmcached-<port> (or -<addr>-<port> with -l, or
 *    derived from the -s path, or -udp<port>).  It is the server's own
 *    cache, like memcached's memory: a stale one from a previous run of the
 *    same listener is destroyed and a fresh one created (after the listener
 *    is bound, so a second server on a busy port never touches it), and it
 *    is removed at a clean shutdown.  Library clients may attach it while
 *    the server runs (its path is printed at -v and in "stats settings").
 *  - It is attached with the environment's options (shmc_options_init:
 *    SHMC_PROTECTION...) and the server's own lock bound, -o lock_wait_ms
 *    (settings.h says why its default is 100 ms, not the library's 1 s).
 *  - Destroyed or replaced under the server (SHMC_STALE), it is no cache
 *    any more: the command that meets it gets the stale line, and the
 *    server stops as on SIGTERM but exits EX_TEMPFAIL (75), for a
 *    supervisor to start a fresh one.  Re-attaching the path instead would
 *    swap the handle under worker threads still inside calls, and serve a
 *    cache that is not the one the clients wrote (or create one, with -e,
 *    where an operator removed it).  A segment at the path that is not the
 *    server's own (a replacement) is never removed at exit.
 */
#define _GNU_SOURCE /* accept4, setgroups */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "conn.h"
#include "crawler.h"
#include "proto_detail.h"
#include "restart.h"
#include "sasl.h"
#include "tls.h"

#define MAX_LISTENERS 64
/* Descriptors allowed beyond -c for listeners, the segment, logs...
 * (RLIMIT_NOFILE is raised to maxconns + this; "stats": reserved_fds). */
#define RESERVED_FDS 64

typedef struct listener {
    int fd;
    struct event *ev;
    char name[80]; /* "tcp:127.0.0.1:11211" / "unix:/path" */
    int is_unix;
    int notls;     /* -l notls:...: plain TCP even with -Z */
} listener;

static daemon_t D;
static listener listeners[MAX_LISTENERS];
static char udp_names[SRV_MAX_UDP][80]; /* "udp:127.0.0.1:11211", of D.udp_fds[i] */
static struct event *accept_retry_ev;
static unsigned next_worker;
/* Accepting paused for want of descriptors (EMFILE), read by "stats" from
 * the workers: whether accepting now, the pauses, their total time. */
static int accepting = 1;                /* 0 while paused (atomic) */
static uint64_t listen_disabled_num;     /* pauses so far (atomic) */
static uint64_t listen_disabled_us;      /* time in ended pauses, microseconds (atomic) */
static uint64_t listen_disabled_at;      /* monotonic_us() the current pause began (atomic) */

/* ------------------------------------------------------------------ */
/* stats hooks                                                         */
/* ------------------------------------------------------------------ */

static void hook_set_verbosity(void *daemon, unsigned level)
{
    daemon_t *d = daemon;
    d->st.verbose = (int)level;
    d->srv.verbose = (int)level;
}

static int hook_lru_crawler(void *daemon, int on)
{
    daemon_t *d = daemon;
    if (on < 0)
        return __atomic_load_n(&d->st.lru_crawler, __ATOMIC_RELAXED);
    return __atomic_exchange_n(&d->st.lru_crawler, on, __ATOMIC_RELAXED);
}

/* "lru_crawler crawl" and stats: the crawler thread (crawler.h). */
static int hook_crawl(void *daemon, uint64_t mask)
{
    (void)daemon;
    return mask ? srv_crawler_request(mask) : srv_crawler_running();
}

/* "refresh_certs": tls.c reloads the -o ssl_* files (tls.h). */
static int hook_refresh_certs(void *daemon, char *err, size_t errlen)
{
    (void)daemon;
    return tls_refresh_certs(err, errlen);
}

static void hook_set_lru_segmented(void *daemon, int on)
{
    daemon_t *d = daemon;
    __atomic_store_n(&d->st.lru_segmented, on, __ATOMIC_RELAXED);
}

/* shmcached's own: which segment this server serves, so that a client on
 * this host (the libmemcached preload, docs/clients.md) may attach the
 * same one: its path, and its identity as dev:ino:created (decimal;
 * shmc_segment_identity) for the client to check against what it
 * attached.  Nothing when the identity cannot be read (the segment
 * retired). */
static void hook_stats_segment(daemon_t *d, srv_buf *out)
{
    shmc_segment_id id;
    if (shmc_segment_identity(d->cache, &id) != SHMC_OK)
        return;
    srv_buf_printf(out, "STAT segment_path %s\r\n", d->segment);
    srv_buf_printf(out, "STAT segment_id %llu:%llu:%lld\r\n", (unsigned long long)id.dev,
                   (unsigned long long)id.ino, (long long)id.created);
}

static void hook_stats_general(void *daemon, srv_buf *out)
{
    daemon_t *d = daemon;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    time_t now = time(NULL);
    srv_buf_printf(out, "STAT pid %ld\r\n", (long)getpid());
    hook_stats_segment(d, out);
    srv_buf_printf(out, "STAT uptime %ld\r\n", (long)(now - d->started));
    srv_buf_printf(out, "STAT time %ld\r\n", (long)now);
    srv_buf_printf(out, "STAT version %s\r\n", d->version);
    srv_buf_printf(out, "STAT libevent %s\r\n", event_get_version());
    srv_buf_printf(out, "STAT pointer_size %d\r\n", (int)(8 * sizeof(void *)));
    srv_buf_printf(out, "STAT rusage_user %ld.%06ld\r\n", (long)ru.ru_utime.tv_sec,
                   (long)ru.ru_utime.tv_usec);
    srv_buf_printf(out, "STAT rusage_system %ld.%06ld\r\n", (long)ru.ru_stime.tv_sec,
                   (long)ru.ru_stime.tv_usec);
    srv_buf_printf(out, "STAT max_connections %d\r\n", d->st.maxconns);
    srv_buf_printf(out, "STAT curr_connections %ld\r\n", atomic_load(&d->curr_conns));
    srv_buf_printf(out, "STAT total_connections %ld\r\n", atomic_load(&d->total_conns));
    srv_buf_printf(out, "STAT rejected_connections %ld\r\n", atomic_load(&d->rejected_conns));
    srv_buf_printf(out, "STAT connection_structures %ld\r\n", atomic_load(&d->conn_structures));
    /* memcached's pooled response objects and read buffers: no pools here
     * (each connection owns its buffers, docs/server.md), but the refusals
     * of the read_buf_mem_limit budget are counted under their names */
    srv_buf_printf(out, "STAT response_obj_oom %llu\r\n",
                   (unsigned long long)srv_counted(SRV_RESPONSE_OBJ_OOM));
    static const char *const no_pools[] = {"response_obj_count", "response_obj_bytes",
                                           "read_buf_count", "read_buf_bytes",
                                           "read_buf_bytes_free"};
    for (size_t i = 0; i < sizeof no_pools / sizeof no_pools[0]; i++)
        srv_buf_printf(out, "STAT %s 0\r\n", no_pools[i]);
    srv_buf_printf(out, "STAT read_buf_oom %llu\r\n",
                   (unsigned long long)srv_counted(SRV_READ_BUF_OOM));
    srv_buf_printf(out, "STAT reserved_fds %d\r\n", RESERVED_FDS);
}

static uint64_t monotonic_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

/* Microseconds of the current pause of accepting, 0 when accepting. */
static uint64_t current_pause_us(void)
{
    if (__atomic_load_n(&accepting, __ATOMIC_ACQUIRE))
        return 0;
    uint64_t at = __atomic_load_n(&listen_disabled_at, __ATOMIC_RELAXED);
    uint64_t now = monotonic_us();
    return now > at ? now - at : 0;
}

/* Microseconds accepting has been paused, the current pause included. */
static uint64_t time_listen_disabled_us(void)
{
    return __atomic_load_n(&listen_disabled_us, __ATOMIC_RELAXED) + current_pause_us();
}

static void hook_stats_general_listen(void *daemon, srv_buf *out)
{
    daemon_t *d = daemon;
    srv_buf_printf(out, "STAT accepting_conns %d\r\n",
                   __atomic_load_n(&accepting, __ATOMIC_RELAXED));
    srv_buf_printf(out, "STAT listen_disabled_num %llu\r\n",
                   (unsigned long long)__atomic_load_n(&listen_disabled_num, __ATOMIC_RELAXED));
    srv_buf_printf(out, "STAT time_in_listen_disabled_us %llu\r\n",
                   (unsigned long long)time_listen_disabled_us());
    srv_buf_printf(out, "STAT threads %d\r\n", d->nworkers);
    srv_buf_printf(out, "STAT conn_yields %llu\r\n",
                   (unsigned long long)srv_counted(SRV_CONN_YIELDS));
    tls_stats(out); /* -Z: ssl_handshake_errors, time_since_server_cert_refresh */
}

static void hook_stats_settings(void *daemon, srv_buf *out)
{
    daemon_t *d = daemon;
    const settings *s = &d->st;
    shmc_config cfg;
    shmc_config_init(&cfg);
    shmc_config_get(d->cache, &cfg);
    static const char *const protos[] = {"auto-negotiate", "ascii", "binary"};
    /* proto_text.c writes the cache's own lines first (maxbytes, verbosity,
     * evictions, growth_factor, chunk_size, reqs_per_event, cas_enabled,
     * item_size_max, flush_enabled, hashpower_init, slab_reassign,
     * slab_automove, lru_maintainer_thread, hot/warm_lru_pct): the daemon's
     * lines follow, without repeating those. */
#define S(fmt, ...) srv_buf_printf(out, "STAT " fmt "\r\n", __VA_ARGS__)
    S("maxconns %d", s->maxconns);
    S("tcpport %d", s->socketpath ? 0 : s->port);
    S("udpport %d", s->socketpath ? 0 : s->udpport);
    S("inter %s", s->inter ? s->inter : "NULL");
    S("oldest %lu", 0UL);
    S("domain_socket %s", s->socketpath ? s->socketpath : "NULL");
    S("umask %o", s->access);
    S("shutdown_command %s", s->shutdown_command ? "yes" : "no");
    S("num_threads %d", s->num_threads);
    S("num_threads_per_udp %d", s->num_threads);
    S("stat_key_prefix %c", s->prefix_delimiter);
    S("detail_enabled %s", detail_enabled() ? "yes" : "no");
    S("tcp_backlog %d", s->backlog);
    S("binding_protocol %s", protos[s->binding_protocol]);
    S("auth_enabled_sasl %s", s->sasl ? "yes" : "no");
    S("auth_enabled_ascii %s", s->auth_file ? "yes" : "no");
    S("maxconns_fast %s", s->maxconns_fast ? "yes" : "no");
    S("slab_automove_ratio %.2f", s->slab_automove_ratio);
    S("slab_automove_window %d", s->slab_automove_window);
    S("slab_chunk_max %u", s->slab_chunk_size_max);
    S("lru_crawler %s", __atomic_load_n(&s->lru_crawler, __ATOMIC_RELAXED) ? "yes" : "no");
    S("lru_crawler_sleep %d", s->lru_crawler_sleep);
    S("lru_crawler_tocrawl %u", s->lru_crawler_tocrawl);
    S("tail_repair_time %d", s->tail_repair_time);
    S("dump_enabled %s", s->dump_enabled ? "yes" : "no");
    S("hash_algorithm %s", "xxh3");
    S("lru_segmented %s", __atomic_load_n(&s->lru_segmented, __ATOMIC_RELAXED) ? "yes" : "no");
    S("hot_max_factor %.2f", s->hot_max_factor);
    S("warm_max_factor %.2f", s->warm_max_factor);
    S("temp_lru %s", s->temp_lru ? "yes" : "no");
    S("temporary_ttl %d", s->temporary_ttl);
    S("idle_timeout %d", s->idle_timeout);
    S("busy_poll_us %d", s->busy_poll_us);
    S("lock_wait_ms %d", s->lock_wait_ms);
    S("watcher_logbuf_size %d", s->watcher_logbuf_size * 1024);
    S("worker_logbuf_size %d", s->worker_logbuf_size * 1024);
    S("read_buf_mem_limit %d", s->read_buf_mem_limit);
    S("track_sizes %s", s->track_sizes ? "yes" : "no");
    S("inline_ascii_response %s", "no");
    S("ext_item_size %d", 512);
    S("slab_automove_freeratio %.3f", s->slab_automove_freeratio);
    S("memory_file %s", s->segment ? s->segment : "(null)"); /* memcached's, also without -e */
    tls_stats_settings(s, out);
    S("segment %s", d->segment);
    S("segment_attached %s", d->segment_attached ? "yes" : "no");
    S("segment_protection %s", shmc_protection_name(shmc_protection_of(d->cache)));
    S("segment_mode %04o", (unsigned)cfg.mode);
    S("max_clients %u", cfg.max_clients);
#undef S
}

/* memcached's name for what connection c is doing now. */
static const char *conn_state_name(const conn *c)
{
    if (c->wpos < c->out.len)
        return "conn_mwrite";
    if (c->sess.awaiting_data)
        return "conn_nread"; /* a storage command's line is in, its data is not */
    if (c->sess.swallow > 0 || c->sess.bin_swallow > 0)
        return "conn_swallow";
    return "conn_parse_cmd";
}

static void hook_stats_conns(void *daemon, srv_buf *out)
{
    daemon_t *d = daemon;
    time_t now = time(NULL);
    for (int i = 0; i < MAX_LISTENERS && listeners[i].ev; i++)
        srv_buf_printf(out,
                       "STAT %d:addr %s\r\nSTAT %d:state conn_listening\r\n"
                       "STAT %d:secs_since_last_cmd 0\r\n",
                       listeners[i].fd, listeners[i].name, listeners[i].fd, listeners[i].fd);
    /* memcached lists a UDP socket per worker; here every worker serves
     * the one socket, listed once */
    for (int u = 0; u < d->nudp; u++)
        srv_buf_printf(out,
                       "STAT %d:UDP UDP\r\nSTAT %d:addr %s\r\nSTAT %d:state conn_read\r\n"
                       "STAT %d:secs_since_last_cmd 0\r\n",
                       d->udp_fds[u], d->udp_fds[u], udp_names[u], d->udp_fds[u], d->udp_fds[u]);
    for (int i = 0; i < d->nworkers; i++) {
        worker *w = &d->workers[i];
        pthread_mutex_lock(&w->lock);
        for (conn *c = w->conns; c; c = c->next) {
            srv_buf_printf(out, "STAT %d:addr %s\r\n", c->fd, c->addr);
            srv_buf_printf(out, "STAT %d:listen_addr %s\r\n", c->fd, c->listen_addr);
            srv_buf_printf(out, "STAT %d:state %s\r\n", c->fd, conn_state_name(c));
            srv_buf_printf(out, "STAT %d:secs_since_last_cmd %ld\r\n", c->fd,
                           (long)(now - c->last_cmd));
        }
        pthread_mutex_unlock(&w->lock);
    }
}

/* ------------------------------------------------------------------ */
/* workers                                                             */
/* ------------------------------------------------------------------ */

/*
 * Cross-thread wake-ups are eventfd writes, each read by the owning thread's
 * event loop: every event base is touched by its own thread only, so
 * libevent runs without its lock layer (evthread_use_pthreads cost three
 * mutex pairs per request).
 */
static void wake(int fd)
{
    uint64_t one = 1;
    ssize_t n;
    do
        n = write(fd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
}

static void drain_wake(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) < 0 && errno == EINTR)
        ;
}

/* Start the connections the listener queued for this worker. */
static void worker_take_queue(worker *w)
{
    pthread_mutex_lock(&w->lock);
    new_conn *q = w->queue;
    w->queue = NULL;
    pthread_mutex_unlock(&w->lock);
    while (q) {
        new_conn *next = q->next;
        conn_new(w, q);
        free(q);
        q = next;
    }
}

static void worker_wake(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    drain_wake(w->wake_fd);
    worker_take_queue(w);
    if (atomic_load(&w->stopping)) {
        conn_close_all(w);
        event_base_loopbreak(w->base);
    }
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A sched_yield slower than this may have run another thread; the thread's
 * involuntary context-switch count (getrusage) then tells whether it did,
 * or the time went elsewhere (an interrupt, the hypervisor). */
#define BUSY_POLL_SLOW_YIELD_NS 3000
/* Rounds (event-loop wake-ups) to sleep plainly once the CPU proved wanted. */
#define BUSY_POLL_BACKOFF_ROUNDS 256

/* Involuntary context switches of the calling thread so far. */
static long thread_nivcsw(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : 0;
}

/*
 * -o busy_poll_us: after a round of events that read requests, keep polling
 * this worker's sockets (epoll with no wait, then sched_yield) for up to
 * that long before sleeping in epoll_wait; each request read restarts the
 * window.  A client's next request then finds the worker awake: no wake-up
 * IPI, no vCPU halt, which on a VM is most of a round trip across CPUs
 * (docs/performance.md).  The cost is CPU time, and a yield hands the CPU
 * to any other runnable thread; once a yield is seen to have done so (the
 * CPU is wanted by clients or other workers), polling stops for
 * BUSY_POLL_BACKOFF_ROUNDS rounds.  Returns 1 when the loop was asked to
 * stop.
 */
static int worker_busy_poll(worker *w, int64_t window_ns, int *backoff, long *nivcsw)
{
    int64_t start = mono_ns();
    for (;;) {
        uint64_t seen = w->activity;
        event_base_loop(w->base, EVLOOP_NONBLOCK);
        if (event_base_got_break(w->base))
            return 1;
        int64_t now = mono_ns();
        if (w->activity != seen) {
            start = now;
            continue;
        }
        if (now - start >= window_ns)
            return 0;
        sched_yield();
        if (mono_ns() - now > BUSY_POLL_SLOW_YIELD_NS) {
            long n = thread_nivcsw();
            if (n != *nivcsw) {
                *nivcsw = n;
                *backoff = BUSY_POLL_BACKOFF_ROUNDS;
                return 0;
            }
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int64_t window_ns = (int64_t)w->d->st.busy_poll_us * 1000;
    if (window_ns == 0) {
        event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
        return NULL;
    }
    int backoff = 0;
    long nivcsw = thread_nivcsw();
    for (;;) {
        uint64_t seen = w->activity;
        if (event_base_loop(w->base, EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY) < 0 ||
            event_base_got_break(w->base))
            return NULL;
        if (backoff > 0)
            backoff--;
        else if (w->activity != seen && worker_busy_poll(w, window_ns, &backoff, &nivcsw))
            return NULL;
    }
}

void daemon_request_shutdown(daemon_t *d)
{
    if (d->shutdown_fd >= 0)
        wake(d->shutdown_fd);
}

void daemon_segment_retired(daemon_t *d)
{
    if (atomic_exchange(&d->retired, 1))
        return; /* said once: every worker may meet it */
    fprintf(stderr, "segment %s was destroyed or replaced: shutting down\n", d->segment);
    daemon_request_shutdown(d);
}

static void on_shutdown(evutil_socket_t fd, short what, void *arg)
{
    daemon_t *d = arg;
    if (fd >= 0)
        drain_wake(d->shutdown_fd);
    atomic_store(&d->shutting_down, 1);
    event_base_loopbreak(d->main_base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    daemon_t *d = arg;
    if (d->st.verbose)
        fprintf(stderr, "Signal handled: %s.\n", strsignal((int)sig));
    on_shutdown(-1, 0, d);
}

/* ------------------------------------------------------------------ */
/* listeners                                                           */
/* ------------------------------------------------------------------ */

static void format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(buf, n, "tcp:%s:%d", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(buf, n, "tcp6:[%s]:%d", host, port);
    } else {
        snprintf(buf, n, "unix:%s", D.st.socketpath ? D.st.socketpath : "");
    }
}

/* Stop accepting for a moment: out of descriptors (memcached does the same). */
static void accept_pause(void)
{
    for (int i = 0; i < MAX_LISTENERS && listeners[i].ev; i++)
        event_del(listeners[i].ev);
    if (__atomic_load_n(&accepting, __ATOMIC_RELAXED)) {
        __atomic_store_n(&listen_disabled_at, monotonic_us(), __ATOMIC_RELAXED);
        __atomic_add_fetch(&listen_disabled_num, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&accepting, 0, __ATOMIC_RELEASE);
    }
    struct timeval tv = {0, 100000};
    event_add(accept_retry_ev, &tv);
}

static void accept_retry(evutil_socket_t fd, short what, void *arg)
{
    for (int i = 0; i < MAX_LISTENERS && listeners[i].ev; i++)
        event_add(listeners[i].ev, NULL);
    __atomic_add_fetch(&listen_disabled_us, current_pause_us(), __ATOMIC_RELAXED);
    __atomic_store_n(&accepting, 1, __ATOMIC_RELEASE);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    listener *l = arg;
    daemon_t *d = &D;
    for (int round = 0; round < 64; round++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* memcached: stop accepting for a moment */
                if (d->st.verbose)
                    fprintf(stderr, "Too many open connections\n");
                accept_pause();
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                       errno != ECONNABORTED && d->st.verbose) {
                perror("accept()");
            }
            return;
        }
        if (atomic_load(&d->curr_conns) >= d->st.maxconns) {
            static const char msg[] = "ERROR Too many open connections\r\n";
            if (send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL) < 0) {
                /* nothing to do: closing anyway */
            }
            close(fd);
            atomic_fetch_add(&d->rejected_conns, 1);
            continue;
        }
        if (!l->is_unix) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        new_conn *nc = calloc(1, sizeof *nc);
        if (!nc) {
            close(fd);
            continue;
        }
        nc->fd = fd;
        nc->tls = d->st.ssl_enabled && !l->is_unix && !l->notls; /* memcached: TCP only */
        format_addr((struct sockaddr *)&ss, sl, nc->addr, sizeof nc->addr);
        snprintf(nc->listen_addr, sizeof nc->listen_addr, "%s", l->name);
        atomic_fetch_add(&d->curr_conns, 1);
        atomic_fetch_add(&d->total_conns, 1);
        worker *w = &d->workers[next_worker++ % (unsigned)d->nworkers];
        pthread_mutex_lock(&w->lock);
        nc->next = w->queue;
        w->queue = nc;
        pthread_mutex_unlock(&w->lock);
        wake(w->wake_fd);
    }
}

static int add_listener(int fd, const char *name, int is_unix, int notls)
{
    int i = D.nlisteners;
    if (i >= MAX_LISTENERS) {
        close(fd);
        return -1;
    }
    listeners[i].fd = fd;
    listeners[i].is_unix = is_unix;
    listeners[i].notls = notls;
    snprintf(listeners[i].name, sizeof listeners[i].name, "%s", name);
    D.nlisteners++;
    return 0;
}

/* MEMCACHED_PORT_FILENAME's lines ("TCP INET: 11211"), TCP then UDP, in
 * the order the sockets are bound. */
static char port_lines[2][1024];

/* A bound inet socket: its real port (-1 asked the kernel for one) into
 * the port file's lines, the first of each kind kept for the segment name. */
static void note_bound_port(int fd, int type, char *name, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return;
    format_addr((struct sockaddr *)&ss, len, name, n);
    int v6 = ss.ss_family == AF_INET6;
    int port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                        : ((struct sockaddr_in *)&ss)->sin_port);
    int udp = type == SOCK_DGRAM;
    char *lines = port_lines[udp];
    size_t used = strlen(lines);
    snprintf(lines + used, sizeof port_lines[0] - used, "%s INET%s: %d\n", udp ? "UDP" : "TCP",
             v6 ? "6" : "", port);
    int *first = udp ? &D.udp_port_bound : &D.tcp_port_bound;
    if (!*first)
        *first = port;
}

/* As memcached: with MEMCACHED_PORT_FILENAME set, the ports bound are
 * written to NAME.lck, renamed to NAME once complete (tests and scripts
 * that start it on -p -1 read the port there). */
static int write_port_file(void)
{
    const char *name = getenv("MEMCACHED_PORT_FILENAME");
    if (!name || !*name)
        return 0;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.lck", name);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s%s", port_lines[0], port_lines[1]) < 0 || fclose(f) != 0 ||
        rename(tmp, name) < 0) {
        fprintf(stderr, "cannot write MEMCACHED_PORT_FILENAME %s: %s\n", name, strerror(errno));
        return -1;
    }
    return 0;
}

/* Bind host:port (host NULL = any) for TCP (and UDP if udp_port); port -1:
 * a port the kernel chooses, as memcached's -p -1. */
static int bind_inet(const char *host, int port, int type, int backlog, int notls)
{
    struct addrinfo hints = {0}, *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port < 0 ? 0 : port);
    hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = type;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc) {
        fprintf(stderr, "getaddrinfo(): %s (-l %s: an address or name of this machine, e.g. "
                        "127.0.0.1)\n", gai_strerror(rc), host ? host : "(any)");
        return -1;
    }
    int bound = 0, failed = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (type == SOCK_STREAM) {
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            if (errno == EADDRINUSE) {
                fprintf(stderr, "failed to listen on %s port %d: %s (another server has it, maybe "
                        "memcached: ss -lnp 'sport = :%d'; choose another with %s)\n",
                        type == SOCK_STREAM ? "TCP" : "UDP", port, strerror(errno), port,
                        type == SOCK_STREAM ? "-p" : "-U");
                failed = 1;
            }
            close(fd);
            continue;
        }
        if (type == SOCK_STREAM && listen(fd, backlog) < 0) {
            perror("listen()");
            close(fd);
            failed = 1;
            continue;
        }
        char name[80];
        format_addr(ai->ai_addr, ai->ai_addrlen, name, sizeof name);
        note_bound_port(fd, type, name, sizeof name);
        if (type == SOCK_DGRAM) {
            memmove(name, "udp", 3);
            if (D.nudp >= SRV_MAX_UDP) {
                fprintf(stderr, "too many UDP addresses (at most %d)\n", SRV_MAX_UDP);
                close(fd);
                failed = 1;
                continue;
            }
            snprintf(udp_names[D.nudp], sizeof udp_names[0], "%s", name);
            D.udp_fds[D.nudp++] = fd; /* served by every worker */
        } else if (add_listener(fd, name, 0, notls) < 0) {
            failed = 1;
            continue;
        }
        bound++;
    }
    freeaddrinfo(res);
    if (failed || !bound) {
        if (!failed)
            fprintf(stderr, "failed to listen on %s port %d\n", type == SOCK_STREAM ? "TCP" : "UDP",
                    port);
        return -1;
    }
    return 0;
}

static int bind_unix(const char *path, int mask, int backlog)
{
    struct stat sb;
    /* memcached: a stale socket file is removed (never another file) */
    if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
        unlink(path);
    struct sockaddr_un sun = {0};
    if (strlen(path) >= sizeof sun.sun_path) {
        fprintf(stderr, "UNIX socket path too long: %s\n", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket()");
        return -1;
    }
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    mode_t old = umask((mode_t)(~mask & 0777));
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old);
    if (rc < 0 || listen(fd, backlog) < 0) {
        fprintf(stderr, "failed to listen on UNIX socket \"%s\": %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    char name[80];
    snprintf(name, sizeof name, "unix:%s", path);
    return add_listener(fd, name, 1, 1);
}

/* -l: comma/space separated list of host, host:port, [v6]:port. */
static int bind_listeners(const settings *s)
{
    if (s->socketpath)
        return bind_unix(s->socketpath, s->access, s->backlog);
    if (!s->inter) {
        if (s->port && bind_inet(NULL, s->port, SOCK_STREAM, s->backlog, 0) < 0)
            return -1;
        if (s->udpport && bind_inet(NULL, s->udpport, SOCK_DGRAM, 0, 1) < 0)
            return -1;
        return 0;
    }
    char *list = strdup(s->inter), *save = NULL;
    if (!list)
        return -1;
    int rc = 0;
    for (char *tok = strtok_r(list, ", ", &save); tok && !rc; tok = strtok_r(NULL, ", ", &save)) {
        int port = s->port, udpport = s->udpport;
        int notls = !strncmp(tok, "notls:", 6); /* memcached: this listener plain under -Z */
        if (notls)
            tok += 6;
        char *host = tok;
        if (*tok == '[') {
            char *end = strchr(tok, ']');
            if (!end) {
                fprintf(stderr, "Invalid IPV6 address: \"%s\"\n", tok);
                rc = -1;
                break;
            }
            *end = '\0';
            host = tok + 1;
            if (end[1] == ':')
                port = atoi(end + 2);
        } else {
            char *colon = strchr(tok, ':');
            if (colon && !strchr(colon + 1, ':')) { /* host:port (not a bare v6 address) */
                *colon = '\0';
                port = atoi(colon + 1);
            }
        }
        if (!strcmp(host, "INADDR_ANY") || !*host)
            host = NULL;
        if (port && bind_inet(host, port, SOCK_STREAM, s->backlog, notls) < 0)
            rc = -1;
        if (!rc && udpport && bind_inet(host, udpport, SOCK_DGRAM, 0, 1) < 0)
            rc = -1;
    }
    free(list);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the segment                                                         */
/* ------------------------------------------------------------------ */

static void default_segment_path(const settings *s, char *out, size_t n)
{
    char tag[256];
    /* -1 (any free port): named after the port bound, unique while it runs */
    int port = s->port < 0 ? D.tcp_port_bound : s->port;
    int udpport = s->udpport < 0 ? D.udp_port_bound : s->udpport;
    if (s->socketpath) {
        const char *p = s->socketpath;
        while (*p == '/')
            p++;
        snprintf(tag, sizeof tag, "%s", p);
    } else if (s->inter) {
        snprintf(tag, sizeof tag, "%s-%d", s->inter, port ? port : udpport);
    } else if (port) {
        snprintf(tag, sizeof tag, "%d", port);
    } else {
        snprintf(tag, sizeof tag, "udp%d", udpport);
    }
    for (char *p = tag; *p; p++)
        if (*p == '/' || *p == ' ' || *p == ',' || *p == '[' || *p == ']')
            *p = '_';
    snprintf(out, n, "/dev/shm/shmcached-%s", tag);
}

static void config_from_settings(const settings *s, shmc_config *cfg)
{
    shmc_config_init(cfg);
    cfg->mem_bytes = s->maxbytes;
    cfg->item_size_max = s->item_size_max;
    cfg->chunk_size_min = (uint32_t)s->chunk_size;
    cfg->growth_factor = s->factor;
    cfg->no_evict = !s->evict_to_free;
    if (s->hashpower_init)
        cfg->hash_power = (uint32_t)s->hashpower_init;
    cfg->hot_lru_pct = (uint32_t)s->hot_lru_pct;
    cfg->warm_lru_pct = (uint32_t)s->warm_lru_pct;
    cfg->slab_automove = s->slab_automove != 0;
    cfg->mode = (mode_t)s->segment_mode;
}

/* -o segment_group: a group name or number, into cfg->group; -1 with a
 * message saying what to do when there is no such group. */
static int segment_group(const settings *s, shmc_config *cfg)
{
    const char *name = s->segment_group;
    if (!name[0])
        return 0;
    struct group *gr = getgrnam(name);
    if (gr) {
        cfg->group = gr->gr_gid;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long gid = strtoul(name, &end, 10);
    if (name[0] >= '0' && name[0] <= '9' && !*end && !errno && gid < (gid_t)-1) {
        cfg->group = (gid_t)gid;
        return 0;
    }
    fprintf(stderr, "-o segment_group=%s: no such group (getent group %s; addgroup --system %s "
                    "creates it)\n", name, name, name);
    return -1;
}

/* Why a segment could not be opened or created, and what to do. */
static const char *segment_reason(shmc_status st, const char *path)
{
    static char hint[3 * PATH_MAX + 256];
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    switch (st) {
    case SHMC_NO_FILE:
        snprintf(hint, sizeof hint, "no such directory %s (create it, or name another segment "
                 "with -e)", dir);
        return hint;
    case SHMC_PERMISSION:
        snprintf(hint, sizeof hint, "%s (the server's user needs read and write access to the "
                 "file, and write access to %s to create it: ls -ld %s %s)", shmc_strerror(st), dir,
                 dir, path);
        return hint;
    case SHMC_BUSY: /* restart.c printed why and what to do */
        return "in use by other processes, with other settings";
    case SHMC_NOT_SEGMENT:
    case SHMC_FILE_EXISTS:
        snprintf(hint, sizeof hint, "%s (name another segment with -e)", shmc_strerror(st));
        return hint;
    default:
        return shmc_strerror(st);
    }
}

/*
 * The attach options: the environment's (SHMC_PROTECTION,
 * SHMC_PROTECTION_STRICT, SHMC_LOCK_WAIT_MS), then the lock bound settled
 * as -o lock_wait_ms, else SHMC_LOCK_WAIT_MS, else the server's default;
 * s->lock_wait_ms is left at the bound in force (stats settings).
 */
static int attach_options(daemon_t *d)
{
    settings *s = &d->st;
    const char *env = getenv("SHMC_LOCK_WAIT_MS");
    if (shmc_options_init(&d->opts) != SHMC_OK) {
        const char *p = getenv("SHMC_PROTECTION"), *strict = getenv("SHMC_PROTECTION_STRICT");
        fprintf(stderr, "bad library settings in the environment: SHMC_PROTECTION=\"%s\" "
                        "(auto, mpk or none), SHMC_PROTECTION_STRICT=\"%s\" (0 or 1), "
                        "SHMC_LOCK_WAIT_MS=\"%s\" (-1 or 0 to %d)\n",
                p ? p : "", strict ? strict : "", env ? env : "", SHMC_LOCK_WAIT_MS_MAX);
        return -1;
    }
    if (s->lock_wait_ms_given)
        d->opts.lock_wait_ms = s->lock_wait_ms;
    else if (!env || !*env) /* as shmc_options_init, an empty one is unset */
        d->opts.lock_wait_ms = SRV_LOCK_WAIT_MS_DEFAULT;
    s->lock_wait_ms = d->opts.lock_wait_ms;
    return 0;
}

/* Whether the segment at d->segment is still the one d->cache attached
 * (not destroyed or replaced), asked before the handle is closed. */
static int segment_still_ours(daemon_t *d)
{
    shmc_config cfg;
    return !atomic_load(&d->retired) && shmc_config_get(d->cache, &cfg) != SHMC_STALE;
}

static int open_segment(daemon_t *d)
{
    shmc_config want, have;
    config_from_settings(&d->st, &want);
    if (segment_group(&d->st, &want) < 0)
        return -1;
    shmc_status st;
    if (d->st.segment) { /* the .meta file and differing settings: restart.c */
        snprintf(d->segment, sizeof d->segment, "%s", d->st.segment);
        st = restart_open(d->segment, &d->st, &want, &d->opts, &d->cache, &d->segment_attached,
                          &d->started);
    } else {
        default_segment_path(&d->st, d->segment, sizeof d->segment);
        st = shmc_destroy(d->segment);
        if (st != SHMC_OK && st != SHMC_NO_FILE) {
            fprintf(stderr, "cannot replace %s: %s (remove it, or name a segment with -e)%s\n",
                    d->segment, shmc_strerror(st), st == SHMC_PERMISSION ?
                    " - it belongs to another user, maybe of an earlier run as root" : "");
            return -1;
        }
        st = shmc_create_with(d->segment, &want, &d->opts, &d->cache);
        d->segment_owned = st == SHMC_OK;
    }
    if (st != SHMC_OK) {
        fprintf(stderr, "failed to %s segment %s: %s\n", d->st.segment ? "open or create" : "create",
                d->segment, segment_reason(st, d->segment));
        return -1;
    }
    shmc_config_get(d->cache, &have);
    if (d->st.verbose) {
        fprintf(stderr, "segment %s (%s, protection %s, lock_wait_ms %d)\n", d->segment,
                d->segment_attached ? "attached, data kept" : "created",
                shmc_protection_name(shmc_protection_of(d->cache)), d->opts.lock_wait_ms);
        if (d->segment_attached &&
            (have.mem_bytes != want.mem_bytes || have.item_size_max != want.item_size_max ||
             have.chunk_size_min != want.chunk_size_min || have.growth_factor != want.growth_factor ||
             have.no_evict != want.no_evict || have.hash_power != want.hash_power ||
             have.hot_lru_pct != want.hot_lru_pct || have.warm_lru_pct != want.warm_lru_pct))
            fprintf(stderr,
                    "note: the segment's own configuration wins over the command line: "
                    "-m %llu -I %u -n %u -f %.2f%s -o hashpower=%u,hot_lru_pct=%u,warm_lru_pct=%u\n",
                    (unsigned long long)(have.mem_bytes >> 20), have.item_size_max,
                    have.chunk_size_min, have.growth_factor, have.no_evict ? " -M" : "",
                    have.hash_power, have.hot_lru_pct, have.warm_lru_pct);
    }
    d->srv.item_size_max = have.item_size_max;
    /* memcached's -o temporary_ttl: a setting of the segment, so the
     * command line of the server that attaches last wins */
    shmc_set_temp_lru(d->cache, d->st.temp_lru ? (uint32_t)d->st.temporary_ttl : 0);
    return 0;
}

/* ------------------------------------------------------------------ */
/* process setup                                                       */
/* ------------------------------------------------------------------ */

/* Make a relative path absolute (the daemon may chdir("/") with -d). */
static const char *absolute(const char *p)
{
    if (!p || p[0] == '/')
        return p;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return p;
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *r = malloc(n);
    if (!r)
        return p;
    snprintf(r, n, "%s/%s", cwd, p);
    return r; /* lives for the process */
}

/* After memcached's refusal to stay root: what to do instead. */
#define ROOT_HINT "(-u USER runs the server as USER, e.g. -u nobody; -u root keeps root)\n"

static int drop_privileges(const settings *s)
{
    if (getuid() != 0 && geteuid() != 0)
        return 0;
    if (!s->username) {
        fprintf(stderr, "can't run as root without the -u switch\n%s", ROOT_HINT);
        return -1;
    }
    if (!strcmp(s->username, "root"))
        return 0;
    struct passwd *pw = getpwnam(s->username);
    if (!pw) {
        fprintf(stderr, "can't find the user %s to switch to (getent passwd %s; adduser --system "
                        "%s creates it)\n", s->username, s->username, s->username);
        return -1;
    }
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        fprintf(stderr, "failed to assume identity of user %s: %s\n", s->username, strerror(errno));
        return -1;
    }
    return 0;
}

static void set_limits(const settings *s)
{
    struct rlimit rl;
    if (s->coredumps && getrlimit(RLIMIT_CORE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_CORE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = (rlim_t)s->maxconns + RESERVED_FDS;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want;
            if (rl.rlim_max < want)
                rl.rlim_max = want;
            if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
                getrlimit(RLIMIT_NOFILE, &rl);
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
                fprintf(stderr, "failed to set rlimit for open files to %llu (using %llu). "
                        "Try starting as root or requesting smaller maxconns value.\n",
                        (unsigned long long)want, (unsigned long long)rl.rlim_cur);
            }
        }
    }
}

static int become_daemon(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(EXIT_SUCCESS);
    if (setsid() < 0)
        return -1;
    if (chdir("/") < 0)
        return -1;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return 0;
}

static void save_pid(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "Could not open the pid file %s for writing: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0)
        fprintf(stderr, "Could not close the pid file %s.\n", path);
}

/* -Y: memcached's authfile, loaded once at start (memcached's messages). */
static srv_auth g_auth;

static int load_authfile(const char *path)
{
    switch (srv_auth_load(&g_auth, path)) {
    case SRV_AUTH_OK:
        return 0;
    case SRV_AUTH_STATFAIL:
        fprintf(stderr, "Could not stat authfile [%s], error %s\n", path, strerror(errno));
        return -1;
    case SRV_AUTH_OPENFAIL:
        fprintf(stderr, "Could not open authfile [%s] for reading, error %s\n", path,
                strerror(errno));
        return -1;
    case SRV_AUTH_OOM:
        fprintf(stderr, "Out of memory reading password file: %s\n", path);
        return -1;
    case SRV_AUTH_MALFORMED:
        fprintf(stderr, "Authfile [%s] has a malformed entry. Should be 'user:password'\n", path);
        return -1;
    }
    return -1;
}

/* What every session of this server shares (srv_config), from the
 * settings, and the hooks through which the protocols reach the daemon. */
static void configure_sessions(daemon_t *d)
{
    const settings *s = &d->st;
    d->srv.allow_shutdown = s->shutdown_command;
    d->srv.cas_enabled = s->use_cas;
    d->srv.flush_enabled = s->flush_enabled;
    d->srv.verbose = s->verbose;
    d->srv.max_reqs_per_event = (uint32_t)s->reqs_per_event;
    d->srv.idle_timeout = s->idle_timeout;
    d->srv.dump_disabled = !s->dump_enabled;
    d->srv.watch_disabled = !s->watch_enabled;
    d->srv.prefix_delimiter = s->prefix_delimiter;
    d->srv.version = d->version;
    d->srv.auth = s->auth_file ? &g_auth : NULL;
    d->mem_budget.limit = (size_t)s->read_buf_mem_limit << 20; /* MB; 0 = no limit */
    d->srv.mem_budget = d->mem_budget.limit ? &d->mem_budget : NULL;
    d->hooks.set_verbosity = hook_set_verbosity;
    d->hooks.stats_general = hook_stats_general;
    d->hooks.stats_general_listen = hook_stats_general_listen;
    d->hooks.stats_settings = hook_stats_settings;
    d->hooks.stats_conns = hook_stats_conns;
    d->hooks.lru_crawler = hook_lru_crawler;
    d->hooks.crawl = hook_crawl;
    d->hooks.set_lru_segmented = hook_set_lru_segmented;
    d->hooks.refresh_certs = hook_refresh_certs;
}

/* Start the -t worker threads, each with its event base, its wake-up
 * eventfd and its watch on every UDP socket.  -1 (said on stderr) if one
 * could not be set up; the process then exits. */
static int start_workers(daemon_t *d)
{
    d->nworkers = d->st.num_threads;
    d->workers = calloc((size_t)d->nworkers, sizeof *d->workers);
    if (!d->workers)
        return -1;
    for (int i = 0; i < d->nworkers; i++) {
        worker *w = &d->workers[i];
        w->id = i;
        w->d = d;
        pthread_mutex_init(&w->lock, NULL);
        w->base = event_base_new();
        if (!w->base)
            return -1;
        w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->wake_fd < 0) {
            fprintf(stderr, "eventfd: %s\n", strerror(errno));
            return -1;
        }
        w->wake_ev = event_new(w->base, w->wake_fd, EV_READ | EV_PERSIST, worker_wake, w);
        event_add(w->wake_ev, NULL);
        for (int u = 0; u < d->nudp; u++) {
            w->udp_ev[u] = event_new(w->base, d->udp_fds[u], EV_READ | EV_PERSIST, conn_udp_read, w);
            if (!w->udp_ev[u] || event_add(w->udp_ev[u], NULL) < 0) {
                fprintf(stderr, "failed to watch the UDP socket\n");
                return -1;
            }
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            fprintf(stderr, "Can't create thread: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* What the main thread's loop watches: the listeners (accepting), the
 * accept retry timer, the shutdown eventfd and the signals SIGTERM,
 * SIGINT and SIGUSR1 (their events in sigs, freed at the end). */
static void watch_main(daemon_t *d, struct event *sigs[3])
{
    for (int i = 0; i < d->nlisteners; i++) {
        listeners[i].ev = event_new(d->main_base, listeners[i].fd, EV_READ | EV_PERSIST, on_accept,
                                    &listeners[i]);
        event_add(listeners[i].ev, NULL);
        if (d->st.verbose)
            fprintf(stderr, "listening on %s\n", listeners[i].name);
    }
    if (d->st.verbose && d->nudp > 0)
        fprintf(stderr, "listening on udp port %d\n", d->st.udpport);
    accept_retry_ev = evtimer_new(d->main_base, accept_retry, NULL);
    d->shutdown_ev = event_new(d->main_base, d->shutdown_fd, EV_READ | EV_PERSIST, on_shutdown, d);
    event_add(d->shutdown_ev, NULL);
    const int signums[3] = {SIGTERM, SIGINT, SIGUSR1};
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(d->main_base, signums[i], on_signal, d);
        event_add(sigs[i], NULL);
    }
}

/* Stop the workers: each closes its connections and leaves its loop;
 * then they are joined and their events freed. */
static void stop_workers(daemon_t *d)
{
    for (int i = 0; i < d->nworkers; i++) {
        atomic_store(&d->workers[i].stopping, 1);
        wake(d->workers[i].wake_fd);
    }
    for (int i = 0; i < d->nworkers; i++) {
        worker *w = &d->workers[i];
        pthread_join(w->thread, NULL);
        event_free(w->wake_ev);
        close(w->wake_fd);
        for (int u = 0; u < d->nudp; u++)
            event_free(w->udp_ev[u]);
        event_base_free(w->base);
        pthread_mutex_destroy(&w->lock);
    }
}

/* The options checked together, where one alone cannot tell: auth and
 * protocols, the segment's, root's -u, a listener; paths made absolute
 * (-d changes directory).  0, or the exit status (said on stderr). */
static int check_options(daemon_t *d)
{
    settings *s = &d->st;
    char err[1024];
    /* -S: binary only, no UDP; -Y: text only, no UDP (memcached's rules) */
    if (settings_check_auth(s, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return EX_USAGE;
    }
    if (attach_options(d) < 0)
        return EXIT_FAILURE;
    if ((getuid() == 0 || geteuid() == 0) && !s->username) {
        fprintf(stderr, "can't run as root without the -u switch\n%s", ROOT_HINT);
        return EX_USAGE;
    }
    if (!s->socketpath && !s->port && !s->udpport) {
        fprintf(stderr, "no listener: -p 0 and no -U or -s (give a TCP port with -p, a UDP port "
                        "with -U or a UNIX socket with -s)\n");
        return EXIT_FAILURE;
    }
    s->socketpath = absolute(s->socketpath);
    s->pid_file = absolute(s->pid_file);
    s->segment = absolute(s->segment);
    return 0;
}

/* Limits, TLS certificates (read as root), then -u's user, then the
 * credentials read as that user (-Y's file, SASL).  0, or the exit status
 * (said on stderr). */
static int take_credentials(daemon_t *d)
{
    settings *s = &d->st;
    char err[1024];
    set_limits(s);
    /* -Z: the certificate and key are read before -u drops root (memcached's
     * order), so they may be readable by root only; refresh_certs reads them
     * again as the -u user. */
    if (tls_init(s, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return EX_USAGE;
    }
    if (drop_privileges(s) < 0)
        return EX_OSERR;
    if (s->auth_file && load_authfile(s->auth_file) < 0)
        return EXIT_FAILURE;
    if (s->sasl) { /* -S: SASL PLAIN for the binary protocol (sasl.c) */
        char serr[256];
        d->srv.sasl = srv_sasl_init(NULL, s->verbose, serr, sizeof serr);
        if (!d->srv.sasl) {
            fprintf(stderr, "%s\n", serr);
            return EXIT_FAILURE;
        }
    }
    return 0;
}

/* -h, -V, --license: true if one was asked for and printed. */
static bool print_info(const settings *s)
{
    if (s->help)
        printf("shmcached %s (memcached 1.6 compatible)\n%s", SHMC_VERSION_STRING, settings_usage());
    else if (s->version)
        printf("shmcached %s\n", SHMC_VERSION_STRING);
    else if (s->license)
        printf("shmcached %s: see the project's license file. libevent %s: BSD 3-clause.\n",
               SHMC_VERSION_STRING, event_get_version());
    else
        return false;
    return true;
}

/* Graceful shutdown, once the main loop has ended: stop accepting, let
 * the workers close their connections, save the restart file, detach,
 * and remove what this server made (its segment, if it is still the one
 * at the path, its socket and pid files). */
static void shut_down(daemon_t *d)
{
    const settings *s = &d->st;
    if (s->verbose)
        fprintf(stderr, "Gracefully stopping\n");
    for (int i = 0; i < d->nlisteners; i++) {
        event_free(listeners[i].ev);
        listeners[i].ev = NULL;
        close(listeners[i].fd);
    }
    stop_workers(d);
    srv_crawler_stop();
    for (int u = 0; u < d->nudp; u++)
        close(d->udp_fds[u]);
    int ours = segment_still_ours(d); /* a replacement at the path is not ours to remove */
    if (s->segment && ours) /* memcached's restart file, for the next start */
        restart_save(d->segment, d->cache, s, d->started, d->version);
    shmc_close(d->cache);
    if (d->segment_owned && ours)
        shmc_destroy(d->segment);
    if (s->socketpath)
        unlink(s->socketpath);
    if (s->pid_file)
        unlink(s->pid_file);
}

int main(int argc, char **argv)
{
    daemon_t *d = &D;
    char err[1024];
    d->nudp = 0;
    settings_init(&d->st);
    if (settings_parse(&d->st, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return EXIT_FAILURE;
    }
    settings *s = &d->st;
    snprintf(d->version, sizeof d->version, "1.6.18-shmcached-%s", SHMC_VERSION_STRING);
    if (print_info(s))
        return EXIT_SUCCESS;
    int rc = check_options(d);
    if (rc == 0)
        rc = take_credentials(d);
    if (rc != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);

    /* Bind first: a second server on a busy listener fails here, before it
     * could replace the running server's segment. */
    if (bind_listeners(s) < 0 || write_port_file() < 0)
        return EX_OSERR;

    if (s->daemonize && become_daemon() < 0) {
        fprintf(stderr, "failed to daemon() in order to daemonize\n");
        return EXIT_FAILURE;
    }
    if (s->lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        fprintf(stderr, "warning: -k invalid, mlockall() failed: %s\n", strerror(errno));
    if (s->pid_file)
        save_pid(s->pid_file);

    d->started = time(NULL); /* a warm restart (restart.c) moves it back to the first start */
    if (open_segment(d) < 0) {
        if (s->socketpath)
            unlink(s->socketpath);
        if (s->pid_file)
            unlink(s->pid_file);
        return EXIT_FAILURE;
    }
    configure_sessions(d);
    d->main_base = event_base_new();
    if (!d->main_base) {
        fprintf(stderr, "failed to create the event base\n");
        return EXIT_FAILURE;
    }
    d->shutdown_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* before any worker runs */
    if (d->shutdown_fd < 0) {
        fprintf(stderr, "eventfd: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }
    if (start_workers(d) < 0)
        return EXIT_FAILURE;
    /* the background pass: 8 pages (8 MB of items) a tenth of a second */
    if (srv_crawler_start(d->cache, &d->st.lru_crawler, 8) != 0) {
        fprintf(stderr, "Can't create thread: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }
    struct event *sigs[3];
    watch_main(d, sigs);

    event_base_loop(d->main_base, 0);

    shut_down(d);
    for (int i = 0; i < 3; i++)
        event_free(sigs[i]);
    event_free(accept_retry_ev);
    event_free(d->shutdown_ev);
    close(d->shutdown_fd);
    event_base_free(d->main_base);
    free(d->workers);
    tls_shutdown();
    if (s->verbose)
        fprintf(stderr, "shmcached stopped\n");
    /* a retired segment: EX_TEMPFAIL, for a supervisor to start a fresh server */
    return atomic_load(&d->retired) ? EX_TEMPFAIL : EXIT_SUCCESS;
}
