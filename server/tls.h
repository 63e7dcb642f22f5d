/*
 * tls.h - TLS for the daemon's TCP connections (-Z, -o ssl_*), over
 * OpenSSL, as memcached 1.6 built with --enable-tls serves it.
 *
 * One process-wide server context holds the certificate chain, the key,
 * the client CAs, the verify mode, the minimum version, the ciphers and
 * the session cache; tls_init() builds it at start and tls_refresh_certs()
 * ("refresh_certs") builds a new one and swaps it in: connections already
 * open keep theirs, new ones get the new one.  Each TLS connection owns a
 * tls_conn that reads and writes the socket in place of recv()/send(); the
 * handshake runs inside the first reads (non-blocking: a read or a write
 * may have to wait for the socket to become readable or writable).  The
 * protocol code never sees TLS: it gets the plaintext.
 *
 * Thread safety: every call may be made from any thread; one tls_conn is
 * used by one thread at a time (its worker).
 */
#ifndef SHMC_SERVER_TLS_H
#define SHMC_SERVER_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "protocol.h"
#include "settings.h"

typedef struct tls_conn tls_conn;

/*
 * Build the server context from s (its ssl_* settings), when s->ssl_enabled.
 * The certificate chain is required; the key defaults to the chain's file.
 * Relative paths are made absolute here, so "refresh_certs" finds the files
 * after -d's chdir.  Returns 0 (also when -Z is off: nothing is done), or -1
 * with memcached's message in err ("Error loading the certificate chain:
 * PATH : REASON"...): the daemon exits EX_USAGE (64), as memcached does.
 */
int tls_init(const settings *s, char *err, size_t errlen);

/* 1 once tls_init() built a context (-Z), else 0. */
int tls_enabled(void);

/*
 * "refresh_certs": load the files named at start again into a new context
 * and make it the one new connections get.  Returns 0, or -1 with
 * memcached's message in err (the old context stays in use); -1 with
 * "TLS not enabled" without -Z.
 */
int tls_refresh_certs(char *err, size_t errlen);

/* Free the server context (at exit; connections still open keep theirs). */
void tls_shutdown(void);

/*
 * A TLS connection over the connected non-blocking socket fd, the server's
 * side of the handshake still to run.  NULL without -Z or when out of memory
 * (the caller closes fd).  fd stays the caller's to close, after
 * tls_conn_free().
 */
tls_conn *tls_conn_new(int fd);

/* Free t (sends no close_notify: the caller is closing the socket). */
void tls_conn_free(tls_conn *t);

/*
 * recv() for a TLS connection: up to len bytes of plaintext into buf.
 * Returns the bytes read (> 0); 0 when the peer closed (close_notify or the
 * socket's end); -1 with errno EAGAIN when nothing can be read now: call
 * again when the socket is readable, or writable if tls_conn_wants_write();
 * -1 with errno EPROTO when the handshake or a record failed (plaintext or
 * garbage on a TLS port, a refused client certificate, a version below
 * ssl_min_version): counted in "stats" ssl_handshake_errors when the
 * handshake had not completed; the caller closes.  Other errno: the socket's.
 */
ssize_t tls_conn_read(tls_conn *t, void *buf, size_t len);

/*
 * send() for a TLS connection: up to len bytes of buf, encrypted.  Returns
 * the bytes taken (> 0, maybe fewer than len); -1 with errno EAGAIN when
 * the socket is full (or the handshake must read first: see
 * tls_conn_wants_write), EPIPE/EPROTO/... when the connection failed.
 * After EAGAIN, the next call must offer at least the same len bytes, at
 * the same place in the stream (the buffer may have moved): see
 * tls_conn_owed().
 */
ssize_t tls_conn_write(tls_conn *t, const void *buf, size_t len);

/* 1 if the last read or write of t waits for the socket to become writable. */
int tls_conn_wants_write(const tls_conn *t);

/* Bytes of plaintext already decrypted and buffered inside t, which the
 * socket's readiness will not announce: read them without waiting. */
size_t tls_conn_buffered(const tls_conn *t);

/* The length the next tls_conn_write() must offer at least (0: any). */
size_t tls_conn_owed(const tls_conn *t);

/* "stats": memcached's ssl_handshake_errors and
 * time_since_server_cert_refresh lines (only with -Z, as memcached). */
void tls_stats(srv_buf *out);

/* "stats settings": memcached's ssl_* lines, from s (always printed). */
void tls_stats_settings(const settings *s, srv_buf *out);

#endif
