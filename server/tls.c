/*
 * tls.c - TLS for the daemon's TCP connections (-Z, -o ssl_*): the server
 * context built from the command line, swapped by "refresh_certs", and each
 * connection's OpenSSL object reading and writing its socket in place of
 * recv()/send().  See tls.h.
 */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct tls_conn {
    SSL *ssl;         /* OpenSSL's connection, on the caller's socket */
    int want_write;   /* the last call stopped for the socket to become writable */
    size_t owed;      /* a write stopped with this many bytes offered (0: none) */
};

/* What the server context is built from: the settings, paths made absolute. */
typedef struct tls_files {
    char chain[PATH_MAX + SETTINGS_PATH_MAX]; /* ssl_chain_cert */
    char key[PATH_MAX + SETTINGS_PATH_MAX];   /* ssl_key, or the chain's file */
    char ca[PATH_MAX + SETTINGS_PATH_MAX];    /* ssl_ca_cert ("": no client CAs) */
    char ciphers[SETTINGS_PATH_MAX];          /* ssl_ciphers ("": OpenSSL's default) */
    int keyformat;                            /* ssl_keyformat, OpenSSL's SSL_FILETYPE_* */
    int verify_mode;                          /* ssl_verify_mode 0..3 */
    int min_version;                          /* ssl_min_version 0..3 (TLSv1.0..TLSv1.3) */
    int session_cache;                        /* ssl_session_cache */
    int kernel_tls;                           /* ssl_kernel_tls */
} tls_files;

static tls_files g_files;
static SSL_CTX *g_ctx;                  /* new connections' context; NULL without -Z */
static pthread_mutex_t g_ctx_lock = PTHREAD_MUTEX_INITIALIZER; /* g_ctx, g_loaded_at */
static time_t g_loaded_at;              /* CLOCK_MONOTONIC seconds of the last good load */
static atomic_ullong g_handshake_errors; /* "stats" ssl_handshake_errors */

static time_t mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* dst = path made absolute against the current directory. */
static void absolute_path(char *dst, size_t n, const char *path)
{
    char cwd[PATH_MAX];
    if (!*path || path[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(dst, n, "%s", path);
    else
        snprintf(dst, n, "%s/%s", cwd, path);
}

/* err = "<what>: <path> : <OpenSSL's last error>" (memcached's layout). */
static int load_error(char *err, size_t errlen, const char *what, const char *path)
{
    char reason[256] = "unknown error";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s : %s", what, path, reason);
    return -1;
}

/* OpenSSL's verify flags for memcached's ssl_verify_mode 0..3. */
static int verify_flags(int mode)
{
    switch (mode) {
    case 1: return SSL_VERIFY_PEER;
    case 2: return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    case 3: return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE;
    default: return SSL_VERIFY_NONE;
    }
}

/* Versions, modes and options of a new context (no files). */
static void ctx_options(SSL_CTX *ctx, const tls_files *f)
{
    static const int versions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};
    SSL_CTX_set_min_proto_version(ctx, versions[f->min_version]);
    /* Replies are written from a buffer that may grow (move) between a
     * blocked write and its retry, and may go out in parts. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    uint64_t opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;
#ifdef SSL_OP_ENABLE_KTLS
    if (f->kernel_tls)
        opts |= SSL_OP_ENABLE_KTLS;
#endif
    SSL_CTX_set_options(ctx, opts);
    SSL_CTX_set_verify(ctx, verify_flags(f->verify_mode), NULL);
    if (f->session_cache) {
        static const unsigned char sid[] = "shmcached";
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
}

/* The chain, the key, the client CAs and the ciphers into ctx. */
static int ctx_files(SSL_CTX *ctx, const tls_files *f, char *err, size_t errlen)
{
    if (!*f->chain) {
        snprintf(err, errlen, "Error loading the certificate chain: (null) : -Z needs "
                              "-o ssl_chain_cert=FILE,ssl_key=FILE (PEM)");
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, f->chain) != 1)
        return load_error(err, errlen, "Error loading the certificate chain", f->chain);
    if (SSL_CTX_use_PrivateKey_file(ctx, f->key, f->keyformat) != 1)
        return load_error(err, errlen, "Error loading the key", f->key);
    if (*f->ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(f->ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            return load_error(err, errlen, "Error loading the CA certificate", f->ca);
        }
        SSL_CTX_set_client_CA_list(ctx, names); /* ctx owns names */
    }
    if (*f->ciphers && SSL_CTX_set_cipher_list(ctx, f->ciphers) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "Error setting the provided cipher(s): %s", f->ciphers);
        return -1;
    }
    return 0;
}

/* A new server context from g_files, or NULL with the message in err. */
static SSL_CTX *ctx_build(char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        load_error(err, errlen, "Error creating the TLS context", "-");
        return NULL;
    }
    ctx_options(ctx, &g_files);
    if (ctx_files(ctx, &g_files, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int tls_init(const settings *s, char *err, size_t errlen)
{
    if (!s->ssl_enabled)
        return 0;
    tls_files *f = &g_files;
    absolute_path(f->chain, sizeof f->chain, s->ssl_chain_cert);
    absolute_path(f->key, sizeof f->key, *s->ssl_key ? s->ssl_key : s->ssl_chain_cert);
    absolute_path(f->ca, sizeof f->ca, s->ssl_ca_cert);
    snprintf(f->ciphers, sizeof f->ciphers, "%s", s->ssl_ciphers);
    f->keyformat = s->ssl_keyformat;
    f->verify_mode = s->ssl_verify_mode;
    f->min_version = s->ssl_min_version;
    f->session_cache = s->ssl_session_cache;
    f->kernel_tls = s->ssl_kernel_tls;
    SSL_CTX *ctx = ctx_build(err, errlen);
    if (!ctx)
        return -1;
    pthread_mutex_lock(&g_ctx_lock);
    g_ctx = ctx;
    g_loaded_at = mono_seconds();
    pthread_mutex_unlock(&g_ctx_lock);
    return 0;
}

int tls_enabled(void)
{
    pthread_mutex_lock(&g_ctx_lock);
    int on = g_ctx != NULL;
    pthread_mutex_unlock(&g_ctx_lock);
    return on;
}

int tls_refresh_certs(char *err, size_t errlen)
{
    if (!tls_enabled()) {
        snprintf(err, errlen, "TLS not enabled");
        return -1;
    }
    SSL_CTX *ctx = ctx_build(err, errlen); /* the files are read outside the lock */
    if (!ctx)
        return -1;
    pthread_mutex_lock(&g_ctx_lock);
    SSL_CTX *old = g_ctx;
    g_ctx = ctx;
    g_loaded_at = mono_seconds();
    pthread_mutex_unlock(&g_ctx_lock);
    SSL_CTX_free(old); /* reference counted: open connections keep it */
    return 0;
}

void tls_shutdown(void)
{
    pthread_mutex_lock(&g_ctx_lock);
    SSL_CTX *old = g_ctx;
    g_ctx = NULL;
    pthread_mutex_unlock(&g_ctx_lock);
    SSL_CTX_free(old);
}

tls_conn *tls_conn_new(int fd)
{
    tls_conn *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_lock(&g_ctx_lock);
    t->ssl = g_ctx ? SSL_new(g_ctx) : NULL;
    pthread_mutex_unlock(&g_ctx_lock);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(t->ssl);
    return t;
}

void tls_conn_free(tls_conn *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

/*
 * A failed SSL_read/SSL_write (rc <= 0) as recv()/send() would report it.
 * reading: an orderly end is 0 for a read, EPIPE for a write.
 */
static ssize_t tls_fail(tls_conn *t, int rc, int reading)
{
    int e = SSL_get_error(t->ssl, rc);
    int saved = errno;
    int handshaking = !SSL_is_init_finished(t->ssl);
    ERR_clear_error();
    t->want_write = e == SSL_ERROR_WANT_WRITE;
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
        if (reading)
            return 0;
        errno = EPIPE;
        return -1;
    case SSL_ERROR_SYSCALL:
        if (handshaking && saved)
            atomic_fetch_add(&g_handshake_errors, 1);
        if (reading && !saved)
            return 0;
        errno = saved ? saved : EPIPE;
        return -1;
    default: /* SSL_ERROR_SSL: not TLS, refused certificate, version... */
        if (handshaking)
            atomic_fetch_add(&g_handshake_errors, 1);
        errno = EPROTO;
        return -1;
    }
}

ssize_t tls_conn_read(tls_conn *t, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    ERR_clear_error(); /* SSL_get_error reads this thread's queue */
    int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        t->want_write = 0;
        return n;
    }
    return tls_fail(t, n, 1);
}

ssize_t tls_conn_write(tls_conn *t, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (len < t->owed) { /* the caller broke the retry contract: OpenSSL would fail it */
        errno = EINVAL;
        return -1;
    }
    ERR_clear_error();
    int n = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        t->want_write = 0;
        t->owed = 0;
        return n;
    }
    ssize_t r = tls_fail(t, n, 0);
    if (errno == EAGAIN && len > t->owed)
        t->owed = len > INT_MAX ? INT_MAX : len;
    return r;
}

int tls_conn_wants_write(const tls_conn *t)
{
    return t->want_write;
}

size_t tls_conn_buffered(const tls_conn *t)
{
    int n = SSL_pending(t->ssl);
    return n > 0 ? (size_t)n : 0;
}

size_t tls_conn_owed(const tls_conn *t)
{
    return t->owed;
}

void tls_stats(srv_buf *out)
{
    pthread_mutex_lock(&g_ctx_lock);
    int on = g_ctx != NULL;
    time_t since = mono_seconds() - g_loaded_at;
    pthread_mutex_unlock(&g_ctx_lock);
    if (!on)
        return;
    srv_buf_printf(out, "STAT ssl_handshake_errors %llu\r\n",
                   (unsigned long long)atomic_load(&g_handshake_errors));
    srv_buf_printf(out, "STAT time_since_server_cert_refresh %ld\r\n", (long)since);
}

/* A path setting as "stats settings" shows it: memcached's (null) / NULL. */
static const char *shown(const char *v, const char *none)
{
    return *v ? v : none;
}

void tls_stats_settings(const settings *s, srv_buf *out)
{
    static const char *const versions[] = {"tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3"};
    int v = s->ssl_min_version >= 0 && s->ssl_min_version <= 3 ? s->ssl_min_version : 2;
    srv_buf_printf(out, "STAT ssl_enabled %s\r\n", s->ssl_enabled ? "yes" : "no");
    srv_buf_printf(out, "STAT ssl_chain_cert %s\r\n", shown(s->ssl_chain_cert, "(null)"));
    srv_buf_printf(out, "STAT ssl_key %s\r\n", shown(s->ssl_key, "(null)"));
    srv_buf_printf(out, "STAT ssl_verify_mode %d\r\n", s->ssl_verify_mode);
    srv_buf_printf(out, "STAT ssl_keyformat %d\r\n", s->ssl_keyformat);
    srv_buf_printf(out, "STAT ssl_ciphers %s\r\n", shown(s->ssl_ciphers, "NULL"));
    srv_buf_printf(out, "STAT ssl_ca_cert %s\r\n", shown(s->ssl_ca_cert, "NULL"));
    srv_buf_printf(out, "STAT ssl_wbuf_size %d\r\n", s->ssl_wbuf_size * 1024);
    srv_buf_printf(out, "STAT ssl_session_cache %s\r\n", s->ssl_session_cache ? "yes" : "no");
    srv_buf_printf(out, "STAT ssl_kernel_tls %s\r\n", s->ssl_kernel_tls ? "yes" : "no");
    srv_buf_printf(out, "STAT ssl_min_version %s\r\n", versions[v]);
}
