/*
 * local.c - which of libmemcached's servers are a shmcached on this host.
 *
 * Owns: the process-wide table of servers met (by address), each decided
 * once per process: a server whose address is this host's (a UNIX socket,
 * a loopback address or one of the host's interface addresses) is probed
 * on a socket of our own (not libmemcached's) with "stats"; a shmcached
 * answers segment_path, segment_id (dev:ino:created) and pid.  The shim
 * attaches that path with shmc_open and checks that shmc_segment_identity
 * of what it attached equals segment_id: only then is the server local.
 * Anything else (not on this host, not a shmcached, no answer, a segment
 * it may not open, another one at that path) makes it remote for the
 * process's life.  A local server whose process is gone (kill(pid, 0),
 * checked at most once a second) or whose segment fails a call turns
 * remote too: from then on its keys go by socket, as before the preload.
 *
 * Also owns the environment (SHMCACHED_PRELOAD, SHMCACHED_PRELOAD_DEBUG)
 * and fork: a child re-attaches the segment (a handle is the process's,
 * include/shmcached.h) on its first local call.
 *
 * Entries are never removed and their handles never closed while the
 * process runs (another thread may be in a call on one): the table is
 * append-only, read without a lock.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define SHIM_MAX_SERVERS 256   /* servers one process may meet; later ones stay remote */
#define PROBE_TIMEOUT_MS 500   /* the whole probe: connect, stats, answer */
#define LIVENESS_PERIOD_NS 1000000000LL /* how often a local server's pid is checked */

enum server_state { SERVER_REMOTE, SERVER_LOCAL };

struct shim_server {
    char name[256];            /* memcached_server_name: host, or the UNIX socket's path */
    in_port_t port;            /* memcached_server_port (0 for a UNIX socket) */
    int state;                 /* enum server_state (atomic) */
    shmc_cache *cache;         /* the attached segment (atomic; LOCAL only) */
    unsigned long fork_gen;    /* shim_fork_gen when cache was attached */
    pid_t pid;                 /* the server's pid, from its stats */
    int64_t checked_ns;        /* CLOCK_MONOTONIC of the last liveness check (atomic) */
    char path[PATH_MAX];       /* segment_path from its stats */
    shmc_segment_id id;        /* segment_id from its stats */
};

/* The table: entries [0, nservers) are published, and never change but
 * for state, cache, fork_gen and checked_ns. */
static shim_server servers[SHIM_MAX_SERVERS];
static unsigned nservers;
static pthread_mutex_t servers_lock = PTHREAD_MUTEX_INITIALIZER;
/* Bumped in every fork child: handles attached before belong to the parent. */
static unsigned long shim_fork_gen;

static int env_enabled = -1; /* SHMCACHED_PRELOAD is not "off" */
static int env_debug = -1;   /* SHMCACHED_PRELOAD_DEBUG=1 */

static void shim_atfork_child(void)
{
    pthread_mutex_init(&servers_lock, NULL); /* a thread of the parent may have held it */
    shim_state_after_fork();
    __atomic_add_fetch(&shim_fork_gen, 1, __ATOMIC_RELEASE);
}

static void shim_env_init(void)
{
    const char *on = getenv("SHMCACHED_PRELOAD"), *dbg = getenv("SHMCACHED_PRELOAD_DEBUG");
    env_debug = dbg && !strcmp(dbg, "1");
    env_enabled = !(on && !strcmp(on, "off"));
    pthread_atfork(NULL, NULL, shim_atfork_child);
    if (!env_enabled)
        shim_debug("SHMCACHED_PRELOAD=off: every call goes to libmemcached");
}

int shim_active(const void *caller)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (__builtin_expect(env_enabled < 0, 0))
        pthread_once(&once, shim_env_init);
    return env_enabled && !shim_nested() && !shim_from_libmemcached(caller);
}

void shim_debug(const char *fmt, ...)
{
    if (env_debug <= 0)
        return;
    char line[PATH_MAX + 512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "shmcached-preload[%ld]: %s\n", (long)getpid(), line);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* is the address this host's?                                         */
/* ------------------------------------------------------------------ */

static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return 0;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->sa_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
    return 0;
}

static int is_loopback(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return 0;
}

/* Whether addr is loopback or one of this host's interface addresses. */
static int addr_is_here(const struct sockaddr *addr)
{
    if (is_loopback(addr))
        return 1;
    struct ifaddrs *ifs, *i;
    if (getifaddrs(&ifs) != 0)
        return 0;
    int here = 0;
    for (i = ifs; i && !here; i = i->ifa_next)
        here = i->ifa_addr && same_addr(i->ifa_addr, addr);
    freeifaddrs(ifs);
    return here;
}

/* The first address of name:port that is this host's, into *out; 0 if none. */
static int resolve_here(const char *name, in_port_t port, struct sockaddr_storage *out,
                        socklen_t *len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *a;
    char service[16];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(name, service, &hints, &res) != 0)
        return 0;
    int found = 0;
    for (a = res; a && !found; a = a->ai_next) {
        if (a->ai_addrlen <= sizeof *out && addr_is_here(a->ai_addr)) {
            memcpy(out, a->ai_addr, a->ai_addrlen);
            *len = a->ai_addrlen;
            found = 1;
        }
    }
    freeaddrinfo(res);
    return found;
}

/* ------------------------------------------------------------------ */
/* the probe                                                           */
/* ------------------------------------------------------------------ */

/* Milliseconds left before deadline (CLOCK_MONOTONIC ns), at least 0. */
static int ms_left(int64_t deadline)
{
    int64_t left = deadline - monotonic_ns();
    return left > 0 ? (int)(left / 1000000) + 1 : 0;
}

/* A connected socket to addr, or -1 (refused, or not within the deadline). */
static int probe_connect(const struct sockaddr *addr, socklen_t len, int64_t deadline)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, addr, len) == 0)
        return fd;
    if (errno == EINPROGRESS || errno == EAGAIN) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t elen = sizeof err;
        if (poll(&p, 1, ms_left(deadline)) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
            return fd;
    }
    close(fd);
    return -1;
}

/* Send "stats" on fd and read the answer up to its END into buf (NUL-ended).
 * 0, or -1 (error, timeout, or an answer longer than cap). */
static int probe_stats(int fd, char *buf, size_t cap, int64_t deadline)
{
    static const char req[] = "stats\r\n";
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)sizeof req - 1)
        return -1;
    size_t got = 0;
    while (got + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, ms_left(deadline)) != 1)
            return -1;
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "END\r\n") || strstr(buf, "ERROR"))
            return 0;
    }
    return -1;
}

/* The value of "STAT name <value>" in a stats answer, into out; 0 if absent. */
static int stat_line(const char *answer, const char *name, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "STAT %s ", name);
    const char *p = strstr(answer, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    size_t n = strcspn(p, "\r\n");
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

/* Parse a stats answer into s (path, id, pid): NULL, or why not. */
static const char *probe_parse(const char *answer, shim_server *s)
{
    char id[128], pid[32];
    if (!stat_line(answer, "segment_path", s->path, sizeof s->path))
        return "not a shmcached (no segment_path in its stats)";
    unsigned long long dev, ino;
    long long created;
    char end;
    if (!stat_line(answer, "segment_id", id, sizeof id) ||
        sscanf(id, "%llu:%llu:%lld%c", &dev, &ino, &created, &end) != 3)
        return "no readable segment_id in its stats";
    long p;
    if (!stat_line(answer, "pid", pid, sizeof pid) || sscanf(pid, "%ld%c", &p, &end) != 1 ||
        p <= 0)
        return "no readable pid in its stats";
    s->id.dev = dev;
    s->id.ino = ino;
    s->id.created = created;
    s->pid = (pid_t)p;
    return NULL;
}

/* Ask the server at name:port what it serves: NULL and s filled, or why
 * it is not a local shmcached. */
static const char *probe(shim_server *s, int unix_socket)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    memset(&ss, 0, sizeof ss);
    if (unix_socket) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        if (strlen(s->name) >= sizeof un->sun_path)
            return "socket path too long";
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, s->name);
        len = sizeof *un;
    } else if (!resolve_here(s->name, s->port, &ss, &len)) {
        return "not on this host";
    }
    int64_t deadline = monotonic_ns() + PROBE_TIMEOUT_MS * 1000000LL;
    int fd = probe_connect((struct sockaddr *)&ss, len, deadline);
    if (fd < 0)
        return "no answer to the probe";
    static char answer[16384]; /* servers_lock held: one probe at a time */
    int rc = probe_stats(fd, answer, sizeof answer, deadline);
    close(fd);
    if (rc < 0)
        return "no answer to stats";
    return probe_parse(answer, s);
}

/* ------------------------------------------------------------------ */
/* attaching                                                           */
/* ------------------------------------------------------------------ */

/* Attach s->path and check it is the segment the server serves: the
 * handle, or NULL with *why set (servers_lock held: *why is static). */
static shmc_cache *attach(shim_server *s, const char **why)
{
    static char reason[PATH_MAX + 128];
    shmc_cache *c = NULL;
    shmc_status st = shmc_open(s->path, &c);
    if (st != SHMC_OK) {
        snprintf(reason, sizeof reason, "cannot attach %s: %s", s->path, shmc_strerror(st));
        *why = reason;
        return NULL;
    }
    shmc_segment_id got;
    st = shmc_segment_identity(c, &got);
    if (st != SHMC_OK || got.dev != s->id.dev || got.ino != s->id.ino ||
        got.created != s->id.created) {
        snprintf(reason, sizeof reason, "%s is not the segment the server serves (identity "
                 "%llu:%llu:%lld, the server's %llu:%llu:%lld)", s->path,
                 (unsigned long long)got.dev, (unsigned long long)got.ino,
                 (long long)got.created, (unsigned long long)s->id.dev,
                 (unsigned long long)s->id.ino, (long long)s->id.created);
        *why = reason;
        shmc_close(c);
        return NULL;
    }
    return c;
}

static const char *server_label(const shim_server *s, char *buf, size_t cap)
{
    if (s->port)
        snprintf(buf, cap, "%s:%u", s->name, (unsigned)s->port);
    else
        snprintf(buf, cap, "%s", s->name);
    return buf;
}

/* Decide a new entry: probe, attach, check (servers_lock held). */
static void decide(shim_server *s, int unix_socket)
{
    char label[300];
    const char *why = probe(s, unix_socket);
    shmc_cache *c = why ? NULL : attach(s, &why);
    if (!c) {
        shim_debug("server %s: remote (%s)", server_label(s, label, sizeof label), why);
        s->state = SERVER_REMOTE;
        return;
    }
    s->cache = c;
    s->fork_gen = __atomic_load_n(&shim_fork_gen, __ATOMIC_ACQUIRE);
    s->checked_ns = monotonic_ns();
    s->state = SERVER_LOCAL;
    shim_debug("server %s: local, segment %s (id %llu:%llu:%lld, server pid %ld)",
               server_label(s, label, sizeof label), s->path, (unsigned long long)s->id.dev,
               (unsigned long long)s->id.ino, (long long)s->id.created, (long)s->pid);
}

/* The published entry for name:port, or NULL. */
static shim_server *find(const char *name, in_port_t port)
{
    unsigned n = __atomic_load_n(&nservers, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (servers[i].port == port && !strcmp(servers[i].name, name))
            return &servers[i];
    return NULL;
}

/* The entry for instance, decided now if it is new; NULL if the table is full. */
static shim_server *lookup(const memcached_instance_st *instance)
{
    const char *name = memcached_server_name(instance);
    in_port_t port = memcached_server_port(instance);
    if (!name)
        return NULL;
    shim_server *s = find(name, port);
    if (s)
        return s;
    pthread_mutex_lock(&servers_lock);
    s = find(name, port);
    if (!s && nservers < SHIM_MAX_SERVERS && strlen(name) < sizeof s->name) {
        s = &servers[nservers];
        memset(s, 0, sizeof *s);
        strcpy(s->name, name);
        s->port = port;
        const char *type = memcached_server_type(instance);
        if (type && !strcmp(type, "UDP")) {
            shim_debug("server %s:%u: remote (UDP)", name, (unsigned)port);
            s->state = SERVER_REMOTE;
        } else {
            decide(s, type && !strcmp(type, "SOCKET"));
        }
        __atomic_store_n(&nservers, nservers + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&servers_lock);
    return s;
}

/* Turn s remote, saying why. */
static void turn_remote(shim_server *s, const char *why)
{
    char label[300];
    if (__atomic_exchange_n(&s->state, SERVER_REMOTE, __ATOMIC_ACQ_REL) == SERVER_LOCAL)
        shim_debug("server %s: remote from now on (%s)", server_label(s, label, sizeof label),
                   why);
}

void shim_server_failed(shim_server *s, shmc_status st)
{
    turn_remote(s, shmc_strerror(st));
}

/* The server's process still runs (checked at most once a period). */
static int server_alive(shim_server *s)
{
    int64_t now = monotonic_ns();
    if (now - __atomic_load_n(&s->checked_ns, __ATOMIC_RELAXED) < LIVENESS_PERIOD_NS)
        return 1;
    __atomic_store_n(&s->checked_ns, now, __ATOMIC_RELAXED);
    if (kill(s->pid, 0) == 0 || errno != ESRCH)
        return 1;
    turn_remote(s, "the server's process is gone");
    return 0;
}

/* In a fork child: attach again (the parent's handle is not ours). */
static shmc_cache *reattach(shim_server *s)
{
    pthread_mutex_lock(&servers_lock);
    unsigned long gen = __atomic_load_n(&shim_fork_gen, __ATOMIC_ACQUIRE);
    if (s->fork_gen != gen && __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SERVER_LOCAL) {
        const char *why = NULL;
        shmc_close(s->cache); /* accepted in a child: unmaps the parent's mapping */
        shmc_cache *c = attach(s, &why);
        __atomic_store_n(&s->cache, c, __ATOMIC_RELEASE);
        s->fork_gen = gen;
        if (!c)
            turn_remote(s, why);
    }
    shmc_cache *c = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SERVER_LOCAL
                        ? __atomic_load_n(&s->cache, __ATOMIC_ACQUIRE) : NULL;
    pthread_mutex_unlock(&servers_lock);
    return c;
}

shmc_cache *shim_local_handle(const memcached_instance_st *instance, shim_server **srv)
{
    shim_server *s = lookup(instance);
    if (!s || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SERVER_LOCAL)
        return NULL;
    if (!server_alive(s))
        return NULL;
    *srv = s;
    if (__builtin_expect(s->fork_gen != __atomic_load_n(&shim_fork_gen, __ATOMIC_ACQUIRE), 0))
        return reattach(s);
    return __atomic_load_n(&s->cache, __ATOMIC_ACQUIRE);
}
