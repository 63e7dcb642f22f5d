/*
 * conn.c - a client connection's life in its worker thread: read into the
 * connection's buffer, hand the bytes to proto_text_process(), write the
 * replies (partial writes kept for EV_WRITE), close.  Also the UDP socket
 * (memcached's 8-byte frame header).  Also each connection's share of the
 * -o read_buf_mem_limit budget (conn_charge).  A TLS connection (-Z) reads
 * and writes through tls.h instead of recv()/send().  See conn.h.
 */
#include "conn.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"

#define READ_CHUNK 16384
/* Stop reading while this much output is queued (a client that sends
 * without reading cannot grow the server's memory without bound). */
#define OUT_HIGH_WATER (4u << 20)
#define WATCH_POLL_US 10000 /* how often a watching connection looks for events */

/* A request that does not fit in this much is refused (conn_process). */
static size_t request_limit(const daemon_t *d)
{
    return (size_t)d->srv.item_size_max + (1u << 20);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);

/* recv() of the connection: plaintext, through TLS when it has it. */
static ssize_t conn_recv(conn *c, void *buf, size_t len)
{
    return c->tls ? tls_conn_read(c->tls, buf, len) : recv(c->fd, buf, len, 0);
}

/* send() of the connection, through TLS when it has it. */
static ssize_t conn_send(conn *c, const void *buf, size_t len)
{
    return c->tls ? tls_conn_write(c->tls, buf, len) : send(c->fd, buf, len, MSG_NOSIGNAL);
}

/* A TLS read must write first (its handshake) and the socket is full:
 * come back to the read when it is writable (conn_on_write). */
static void conn_tls_wait_writable(conn *c)
{
    c->tls_read_blocked = 1;
    if (!c->writing) {
        event_add(c->wev, NULL);
        c->writing = 1;
    }
}

/* TLS holds plaintext already decrypted, which no socket event will
 * announce: read it now (when reading and no requests wait to run). */
static void conn_tls_kick(conn *c)
{
    if (c->tls && c->reading && !c->pending && !c->closing && tls_conn_buffered(c->tls))
        event_active(c->rev, EV_READ, 0);
}

/*
 * -o read_buf_mem_limit: charge the budget for what c's buffers hold now,
 * its read buffer and the replies not yet written, or give back what they
 * no longer hold.  -1 if the budget cannot take them: the caller closes c,
 * as memcached closes a connection it finds no read buffer for.
 */
static int conn_charge(conn *c)
{
    srv_mem_budget *b = c->w->d->srv.mem_budget;
    if (!b || !b->limit)
        return 0;
    size_t held = c->rcap + (c->out.len - c->wpos);
    if (held > c->charged && !srv_mem_charge(b, held - c->charged))
        return -1;
    if (held < c->charged)
        srv_mem_release(b, c->charged - held);
    c->charged = held;
    return 0;
}

/* With a budget, an emptied read buffer goes back (memcached returns it to
 * its pool), so idle connections hold none of the budget. */
static void conn_drop_rbuf(conn *c)
{
    srv_mem_budget *b = c->w->d->srv.mem_budget;
    if (!b || !b->limit || c->rlen || c->pending)
        return;
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rpos = 0;
    (void)conn_charge(c); /* a release: cannot fail */
}

static void conn_free(conn *c)
{
    worker *w = c->w;
    daemon_t *d = w->d;
    pthread_mutex_lock(&w->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->lock);
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    if (c->resume_ev)
        event_free(c->resume_ev);
    if (c->watch_ev)
        event_free(c->watch_ev);
    proto_watch_end(&c->sess);
    tls_conn_free(c->tls);
    close(c->fd);
    if (d->st.verbose > 1)
        fprintf(stderr, "<%d connection closed.\n", c->fd);
    free(c->rbuf);
    srv_buf_free(&c->out);
    srv_mem_release(d->srv.mem_budget, c->charged);
    if (c->sess.sasl_conn && d->srv.sasl)
        d->srv.sasl->conn_free(d->srv.sasl->ctx, c->sess.sasl_conn);
    free(c);
    atomic_fetch_sub(&d->curr_conns, 1);
    atomic_fetch_sub(&d->conn_structures, 1);
}

static void set_reading(conn *c, int on)
{
    if (on && !c->reading) {
        int idle = c->w->d->st.idle_timeout;
        struct timeval tv = {idle, 0};
        event_add(c->rev, idle > 0 ? &tv : NULL);
        c->reading = 1;
    } else if (!on && c->reading) {
        event_del(c->rev);
        c->reading = 0;
    }
}

/*
 * How much of the queued replies may go now.  memcached sends its replies
 * when it waits for input; while it reads a text storage command's data
 * block, or skips a refused request's data, it holds the replies that came
 * after its last get/gets/gat/gats/mn (the protocol keeps that mark in
 * sess.sendable); a binary request's skipped body holds them all.
 */
static size_t send_limit(const conn *c)
{
    if (c->closing)
        return c->out.len;
    if (c->sess.proto == SRV_PROTO_BINARY)
        return c->sess.bin_swallow > 0 ? c->wpos : c->out.len;
    if (c->sess.swallow == 0 && !c->sess.awaiting_data)
        return c->out.len;
    size_t lim = c->sess.sendable < c->out.len ? c->sess.sendable : c->out.len;
    return lim > c->wpos ? lim : c->wpos;
}

/* Write what is queued and may go.  Returns -1 if the connection was closed. */
static int conn_flush(conn *c)
{
    size_t lim = send_limit(c);
    /* A TLS write that would block is retried with at least the bytes it
     * offered (tls.h): they were on their way already. */
    if (c->tls && c->wpos + tls_conn_owed(c->tls) > lim)
        lim = c->wpos + tls_conn_owed(c->tls);
    while (c->wpos < lim) {
        ssize_t n = conn_send(c, c->out.data + c->wpos, lim - c->wpos);
        if (n > 0) {
            srv_count(SRV_BYTES_WRITTEN, (uint64_t)n);
            c->wpos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->writing) {
                event_add(c->wev, NULL);
                c->writing = 1;
            }
            if (c->out.len - c->wpos > OUT_HIGH_WATER)
                set_reading(c, 0);
            return 0;
        }
        conn_free(c); /* the peer went away */
        return -1;
    }
    if (c->wpos < c->out.len) { /* the rest is held (send_limit) */
        if (c->writing && !c->tls_read_blocked) { /* a later EAGAIN must add wev again */
            event_del(c->wev);
            c->writing = 0;
        }
        return 0;
    }
    /* everything written */
    c->out.len = 0;
    c->wpos = 0;
    c->sess.sendable = 0;
    if (c->out.cap > (1u << 20)) { /* give back a big reply's memory */
        srv_buf_free(&c->out);
        memset(&c->out, 0, sizeof c->out);
    }
    (void)conn_charge(c); /* the replies written leave the budget */
    if (c->writing && !c->tls_read_blocked) {
        event_del(c->wev);
        c->writing = 0;
    }
    if (c->closing) {
        conn_free(c);
        return -1;
    }
    return 0;
}

/* A watching connection's poll: new events while its output drains. */
static void conn_on_watch(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    if (c->closing || c->out.len - c->wpos > OUT_HIGH_WATER)
        return; /* a slow reader: the ring moves on, and it reads "skipped=N" */
    size_t before = c->out.len;
    if (!proto_watch_poll(&c->sess, &c->out)) {
        c->closing = 1;
        set_reading(c, 0);
    }
    if (c->out.len != before || c->closing)
        (void)conn_flush(c);
}

/* The connection answered "watch": from now on it streams events. */
static int conn_watch_begin(conn *c)
{
    static const struct timeval every = {0, WATCH_POLL_US};
    c->watch_ev = event_new(c->w->base, -1, EV_PERSIST, conn_on_watch, c);
    if (!c->watch_ev || event_add(c->watch_ev, &every) != 0)
        return -1;
    c->rpos = c->rlen = 0; /* requests after "watch" are not run (memcached) */
    return 0;
}

/* Run the protocol on what is buffered; then write.  Returns -1 if closed. */
static int conn_process(conn *c)
{
    daemon_t *d = c->w->d;
    if (c->sess.watch_groups) /* a watcher's input is read and dropped */
        c->rpos = c->rlen = 0;
    if (c->rlen == 0 || c->closing)
        return 0;
    enum srv_action action = SRV_CONTINUE;
    /* -R: proto_text_process() handles every complete request it is
     * given, so fairness is by bytes: give it about reqs_per_event small
     * requests' worth; if that slice holds no complete request (a big
     * value), give it everything. */
    size_t slice = (size_t)d->st.reqs_per_event * 256;
    if (slice < 4096)
        slice = 4096;
    if (slice > c->rlen)
        slice = c->rlen;
    const char *in = c->rbuf + c->rpos;
    if (c->sess.proto == SRV_PROTO_UNDECIDED) /* -B: memcached's auto-negotiation */
        c->sess.proto = d->st.binding_protocol == PROTO_BINARY ? SRV_PROTO_BINARY
                        : d->st.binding_protocol == PROTO_ASCII ? SRV_PROTO_TEXT
                        : (unsigned char)in[0] == 0x80 ? SRV_PROTO_BINARY : SRV_PROTO_TEXT;
    size_t (*process)(srv_session *, const char *, size_t, srv_buf *, enum srv_action *) =
        c->sess.proto == SRV_PROTO_BINARY ? proto_binary_process : proto_text_process;
    size_t used = process(&c->sess, in, slice, &c->out, &action);
    if (!used && action == SRV_CONTINUE && slice < c->rlen)
        used = process(&c->sess, in, c->rlen, &c->out, &action);
    if (used > c->rlen)
        used = c->rlen;
    if (used) { /* no memmove per slice: conn_on_read compacts before it reads */
        c->rpos += used;
        c->rlen -= used;
        if (c->rlen == 0)
            c->rpos = 0;
        c->last_cmd = time(NULL);
    }
    /* Replies queued past the budget (a client pipelining without
     * reading): closed.  memcached only stalls such a client, its replies
     * pointing at items; here they are copies (docs/server.md). */
    if (conn_charge(c) < 0) {
        if (d->st.verbose > 1)
            fprintf(stderr, "<%d read_buf_mem_limit reached, closing\n", c->fd);
        conn_free(c);
        return -1;
    }
    if (action == SRV_CLOSE) {
        c->closing = 1;
    } else if (action == SRV_SHUTDOWN) {
        c->closing = 1;
        daemon_request_shutdown(d);
    } else if (action == SRV_RETIRED) { /* the stale line goes, then the server stops */
        c->closing = 1;
        daemon_segment_retired(d);
    } else if (action == SRV_WATCH && conn_watch_begin(c) < 0) {
        conn_free(c);
        return -1;
    }
    /* A request that can never complete: the buffer is past any item. */
    if (!used && c->rlen > request_limit(d) && !c->closing) {
        if (c->sess.proto != SRV_PROTO_BINARY)
            srv_buf_printf(&c->out, "SERVER_ERROR out of memory reading request\r\n");
        c->closing = 1;
    }
    if (c->closing)
        set_reading(c, 0);
    if (conn_flush(c) < 0)
        return -1;
    /* -R: the slice ended with more buffered: come back after the other
     * connections had their turn.  A zero timeout fires after the loop's
     * next poll; event_active() would run this connection again in the
     * same pass, before any other connection's input is even seen. */
    c->pending = used && c->rlen && !c->closing;
    if (c->pending)
        srv_count(SRV_CONN_YIELDS, 1);
    if (c->pending && c->reading) {
        static const struct timeval now = {0, 0};
        event_add(c->resume_ev, &now);
    }
    return 0;
}

static void conn_on_resume(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    if (c->pending && c->reading) { /* not while the output is over the high-water mark */
        if (conn_process(c) < 0)
            return;
        conn_tls_kick(c);
    }
}

/* A read buffer's first size.  With a budget, memcached's 16 KiB, so the
 * same limit holds as many connections' partial requests as memcached's
 * pool does; it grows as a request needs. */
static size_t first_rbuf_size(const conn *c)
{
    const srv_mem_budget *b = c->w->d->srv.mem_budget;
    return b && b->limit ? READ_CHUNK : READ_CHUNK * 2;
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    if (what & EV_TIMEOUT) {
        if (c->wpos >= c->out.len && !c->sess.watch_groups) { /* a watcher is not idle */
            if (c->w->d->st.verbose > 1)
                fprintf(stderr, "<%d idle timeout, closing\n", c->fd);
            srv_count(SRV_IDLE_KICKS, 1);
            conn_free(c);
        }
        return;
    }
    c->w->activity++;
    int eof = 0;
    /* Requests still buffered run before more is read (memcached reads
     * only when it needs more): else a client sending faster than its
     * requests run grows rbuf without bound.  rbuf holds at most one
     * request's limit (conn_process refuses a request that does not fit). */
    size_t max = request_limit(c->w->d) + READ_CHUNK;
    if (!c->pending && c->rpos) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen);
        c->rpos = 0;
    }
    for (int i = 0; i < 4 && !c->pending; i++) {
        if (c->rcap - c->rlen < READ_CHUNK && c->rcap < max) {
            size_t ncap = c->rcap ? c->rcap * 2 : first_rbuf_size(c);
            if (ncap > max)
                ncap = max;
            char *nb = realloc(c->rbuf, ncap);
            if (!nb) {
                conn_free(c);
                return;
            }
            c->rbuf = nb;
            c->rcap = ncap;
            if (conn_charge(c) < 0) { /* memcached's read_buf_oom */
                srv_count(SRV_READ_BUF_OOM, 1);
                conn_free(c);
                return;
            }
        }
        size_t room = c->rcap - c->rlen;
        if (room == 0)
            break; /* full of one request: conn_process refuses it */
        ssize_t n = conn_recv(c, c->rbuf + c->rlen, room);
        if (n > 0) {
            srv_count(SRV_BYTES_READ, (uint64_t)n);
            c->rlen += (size_t)n;
            /* TLS hands out one record (at most 16 KiB) per read: after a
             * full one, more is likely waiting in the socket */
            if ((size_t)n < room && (!c->tls || n < 16384))
                break;
            continue;
        }
        if (n == 0) {
            eof = 1;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (c->tls && tls_conn_wants_write(c->tls))
                conn_tls_wait_writable(c);
            break;
        }
        if (c->w->d->st.verbose > 1 && c->tls)
            fprintf(stderr, "<%d TLS failed: %s, closing\n", c->fd, strerror(errno));
        conn_free(c); /* ECONNRESET and friends; TLS: not TLS, refused, failed */
        return;
    }
    if (conn_process(c) < 0)
        return;
    conn_drop_rbuf(c);
    if (!eof)
        conn_tls_kick(c);
    if (eof && !c->pending) {
        /* The client is gone or half-closed: write what is left, then close.
         * (With requests still buffered, they run first: the socket stays
         * readable at its end, so this comes back.) */
        c->closing = 1;
        set_reading(c, 0);
        if (c->wpos >= c->out.len)
            conn_free(c);
        else
            (void)conn_flush(c); /* replies held while reading data */
    }
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    if (c->tls_read_blocked) { /* the TLS read (a handshake) may go on now */
        c->tls_read_blocked = 0;
        if (c->wpos >= send_limit(c)) { /* and no reply waits for the socket */
            event_del(c->wev);
            c->writing = 0;
        }
        conn_on_read(fd, EV_READ, c);
        return;
    }
    if (conn_flush(c) < 0)
        return;
    /* Drained below the high-water mark, or all that may go now is gone and
     * the rest is held until a data block arrives: read again. */
    if (c->wpos >= send_limit(c) && !c->closing && !c->reading) {
        set_reading(c, 1);
        if (c->rlen || (c->tls && tls_conn_buffered(c->tls)))
            event_active(c->rev, EV_READ, 0);
    }
}

void conn_new(worker *w, const new_conn *nc)
{
    daemon_t *d = w->d;
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(nc->fd);
        atomic_fetch_sub(&d->curr_conns, 1);
        return;
    }
    atomic_fetch_add(&d->conn_structures, 1);
    c->fd = nc->fd;
    c->w = w;
    c->last_cmd = time(NULL);
    memcpy(c->addr, nc->addr, sizeof c->addr);
    memcpy(c->listen_addr, nc->listen_addr, sizeof c->listen_addr);
    c->sess.cache = d->cache;
    c->sess.settings = &d->srv;
    c->sess.hooks = &d->hooks;
    c->sess.daemon = d;
    c->rev = event_new(w->base, c->fd, EV_READ | EV_PERSIST, conn_on_read, c);
    c->wev = event_new(w->base, c->fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
    c->resume_ev = evtimer_new(w->base, conn_on_resume, c);
    c->tls = nc->tls ? tls_conn_new(c->fd) : NULL;
    pthread_mutex_lock(&w->lock);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    pthread_mutex_unlock(&w->lock);
    if (!c->rev || !c->wev || !c->resume_ev || (nc->tls && !c->tls)) {
        conn_free(c);
        return;
    }
    if (d->st.verbose > 1)
        fprintf(stderr, "<%d new auto-negotiating client connection%s\n", c->fd,
                c->tls ? " (TLS)" : "");
    set_reading(c, 1);
}

void conn_close_all(worker *w)
{
    while (w->conns)
        conn_free(w->conns);
}

/* ------------------------------------------------------------------ */
/* UDP: every datagram is one request with memcached's frame header:   */
/* request id, sequence number, datagram count, reserved (2 bytes      */
/* each, network order).  Replies go out in datagrams of at most 1400  */
/* bytes, each with the header (sequence numbered, count filled in).   */
/* ------------------------------------------------------------------ */
#define UDP_HEADER 8
#define UDP_MAX_PAYLOAD 1400

void conn_udp_read(int fd, short what, void *arg)
{
    worker *w = arg;
    daemon_t *d = w->d;
    w->activity++;
    static __thread unsigned char pkt[65536];
    static __thread unsigned char dgram[UDP_MAX_PAYLOAD];
    for (int round = 0; round < d->st.reqs_per_event; round++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0)
            return; /* EAGAIN: another worker took it, or nothing left */
        srv_count(SRV_BYTES_READ, (uint64_t)n);
        if (n < UDP_HEADER)
            continue; /* not a memcached frame: dropped, as memcached does */
        if (d->srv.sasl)
            continue; /* -S: never here (settings_check_auth refuses -S with -U): a
                       * datagram has no connection to authenticate, so none is served */
        unsigned reqid = (unsigned)pkt[0] << 8 | pkt[1];
        unsigned total = (unsigned)pkt[4] << 8 | pkt[5];
        srv_buf out = {0};
        if (total != 1) {
            srv_buf_printf(&out, "SERVER_ERROR multi-packet request not supported\r\n");
        } else {
            enum srv_action action = SRV_CONTINUE;
            w->udp_sess.cache = d->cache;
            w->udp_sess.settings = &d->srv;
            w->udp_sess.hooks = &d->hooks;
            w->udp_sess.daemon = d;
            w->udp_sess.swallow = 0;
            w->udp_sess.noreply_pending = 0;
            w->udp_sess.bin_swallow = 0;
            /* each datagram is negotiated as a connection's first bytes (-B) */
            unsigned char first = (size_t)n > UDP_HEADER ? pkt[UDP_HEADER] : 0;
            bool binary = d->st.binding_protocol == PROTO_BINARY ||
                          (d->st.binding_protocol == PROTO_AUTO && first == 0x80);
            w->udp_sess.proto = binary ? SRV_PROTO_BINARY : SRV_PROTO_TEXT;
            (binary ? proto_binary_process : proto_text_process)(
                &w->udp_sess, (const char *)pkt + UDP_HEADER, (size_t)n - UDP_HEADER, &out,
                &action);
            proto_watch_end(&w->udp_sess); /* a datagram cannot stream: OK, and no more */
            if (action == SRV_SHUTDOWN)
                daemon_request_shutdown(d);
            else if (action == SRV_RETIRED)
                daemon_segment_retired(d);
        }
        size_t per = UDP_MAX_PAYLOAD - UDP_HEADER;
        size_t count = out.len ? (out.len + per - 1) / per : 0;
        if (count > 65535)
            count = 0; /* a reply too big for the frame counter: dropped */
        for (size_t i = 0; i < count; i++) {
            size_t off = i * per;
            size_t len = out.len - off < per ? out.len - off : per;
            dgram[0] = (unsigned char)(reqid >> 8);
            dgram[1] = (unsigned char)reqid;
            dgram[2] = (unsigned char)(i >> 8);
            dgram[3] = (unsigned char)i;
            dgram[4] = (unsigned char)(count >> 8);
            dgram[5] = (unsigned char)count;
            dgram[6] = dgram[7] = 0;
            memcpy(dgram + UDP_HEADER, out.data + off, len);
            ssize_t sent = sendto(fd, dgram, UDP_HEADER + len, MSG_NOSIGNAL,
                                  (struct sockaddr *)&from, fromlen);
            if (sent > 0)
                srv_count(SRV_BYTES_WRITTEN, (uint64_t)sent);
        }
        srv_buf_free(&out);
    }
}
