/*
 * sasl.c - SASL authentication for the binary protocol (-S).
 *
 * The choice: Cyrus libsasl2 (Debian's libsasl2-2 + libsasl2-modules),
 * used as memcached uses it: sasl_server_init() once with the service
 * name "memcached", one sasl_server_new() per connection, the binary
 * protocol's SASL Auth/Step mapped onto sasl_server_start()/_step(), the
 * List Mechs reply from sasl_listmech().  Passwords come, as in
 * memcached, from the file named by MEMCACHED_SASL_PWDB ("user:password"
 * lines), checked by our SASL_CB_SERVER_USERDB_CHECKPASS callback, so no
 * system sasldb is needed; without that variable libsasl2's own check
 * (sasldb, /etc/sasldb2) applies.  The mechanism list is restricted to
 * PLAIN (SASL_CB_GETOPT mech_list) and anonymous mechanisms are refused
 * (SASL_SEC_NOANONYMOUS): the ANONYMOUS plugin Debian installs would
 * otherwise let anyone in.  PLAIN sends the password in the clear, as
 * with memcached: use it on trusted networks or through a tunnel.
 */
#include "sasl.h"

#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pw_entry {
    const char *user, *pass;
    size_t ulen, plen;
} pw_entry;

static char *g_pwdata;
static pw_entry *g_pw;
static size_t g_npw;
static int g_log_level;

typedef struct sconn {
    sasl_conn_t *conn;
    int started;
} sconn;

static int cb_getopt(void *context, const char *plugin, const char *option, const char **result,
                     unsigned *len)
{
    (void)context;
    if (!plugin && option && strcmp(option, "mech_list") == 0) {
        *result = "PLAIN";
        if (len)
            *len = 5;
        return SASL_OK;
    }
    return SASL_FAIL;
}

static int cb_log(void *context, int level, const char *message)
{
    (void)context;
    if (g_log_level > 0 && level <= SASL_LOG_WARN + g_log_level)
        fprintf(stderr, "sasl: %s\n", message);
    return SASL_OK;
}

/* true if a and b are equal, in time depending on the lengths only */
static int same(const char *a, size_t an, const char *b, size_t bn)
{
    unsigned char d = an != bn;
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int cb_checkpass(sasl_conn_t *conn, void *context, const char *user, const char *pass,
                        unsigned passlen, struct propctx *propctx)
{
    (void)conn;
    (void)context;
    (void)propctx;
    size_t ulen = strlen(user);
    for (size_t i = 0; i < g_npw; i++) {
        if (same(user, ulen, g_pw[i].user, g_pw[i].ulen) &&
            same(pass, passlen, g_pw[i].pass, g_pw[i].plen))
            return SASL_OK;
    }
    return SASL_NOAUTHZ;
}

static sasl_callback_t g_callbacks[] = {
    {SASL_CB_GETOPT, (int (*)(void))(void (*)(void))cb_getopt, NULL},
    {SASL_CB_LOG, (int (*)(void))(void (*)(void))cb_log, NULL},
    {SASL_CB_SERVER_USERDB_CHECKPASS, (int (*)(void))(void (*)(void))cb_checkpass, NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

/* Read the "user:password" file. */
static int load_pwdb(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open the SASL password file %s", path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *data = malloc(cap);
    size_t n;
    while (data && (n = fread(data + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *nd = realloc(data, cap * 2);
            if (!nd) {
                free(data);
                data = NULL;
                break;
            }
            data = nd;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    data[len] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    g_pw = calloc(lines, sizeof *g_pw);
    if (!g_pw) {
        free(data);
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    char *p = data;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *end = eol ? eol : p + strlen(p);
        if (end > p && end[-1] == '\r')
            end[-1] = '\0', end--;
        *end = '\0';
        char *colon = strchr(p, ':');
        if (colon && colon > p) {
            *colon = '\0';
            g_pw[g_npw].user = p;
            g_pw[g_npw].ulen = (size_t)(colon - p);
            g_pw[g_npw].pass = colon + 1;
            g_pw[g_npw].plen = (size_t)(end - colon - 1);
            g_npw++;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    g_pwdata = data;
    return 0;
}

static sconn *conn_get(void **slot)
{
    sconn *sc = *slot;
    if (sc)
        return sc;
    sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    if (sasl_server_new("memcached", NULL, NULL, NULL, NULL, NULL, 0, &sc->conn) != SASL_OK) {
        free(sc);
        return NULL;
    }
    sasl_security_properties_t props;
    memset(&props, 0, sizeof props);
    props.max_ssf = 0;
    props.maxbufsize = 0;
    props.security_flags = SASL_SEC_NOANONYMOUS;
    if (sasl_setprop(sc->conn, SASL_SEC_PROPS, &props) != SASL_OK) {
        sasl_dispose(&sc->conn);
        free(sc);
        return NULL;
    }
    *slot = sc;
    return sc;
}

static bool op_list_mechs(void *ctx, void **slot, const char **out, unsigned *outlen)
{
    (void)ctx;
    sconn *sc = conn_get(slot);
    if (!sc)
        return false;
    int n = 0;
    return sasl_listmech(sc->conn, NULL, "", " ", "", out, outlen, &n) == SASL_OK;
}

static enum srv_sasl_result op_auth(void *ctx, void **slot, bool step, const char *mech,
                                    const char *data, unsigned len, const char **out,
                                    unsigned *outlen)
{
    (void)ctx;
    *out = NULL;
    *outlen = 0;
    sconn *sc = conn_get(slot);
    if (!sc)
        return SRV_SASL_FAIL;
    int rc;
    if (!step) {
        if (sc->started) { /* a new exchange: a fresh libsasl2 connection */
            sasl_dispose(&sc->conn);
            free(sc);
            *slot = NULL;
            sc = conn_get(slot);
            if (!sc)
                return SRV_SASL_FAIL;
        }
        rc = sasl_server_start(sc->conn, mech, len ? data : NULL, len, out, outlen);
        sc->started = rc == SASL_OK || rc == SASL_CONTINUE;
    } else {
        if (!sc->started)
            return SRV_SASL_FAIL;
        rc = sasl_server_step(sc->conn, len ? data : NULL, len, out, outlen);
    }
    if (rc == SASL_OK)
        return SRV_SASL_OK;
    if (rc == SASL_CONTINUE)
        return SRV_SASL_CONTINUE;
    *out = NULL;
    *outlen = 0;
    return SRV_SASL_FAIL;
}

static void op_conn_free(void *ctx, void *conn)
{
    (void)ctx;
    sconn *sc = conn;
    if (!sc)
        return;
    if (sc->conn)
        sasl_dispose(&sc->conn);
    free(sc);
}

static srv_sasl_ops g_ops = {
    .ctx = NULL,
    .list_mechs = op_list_mechs,
    .auth = op_auth,
    .conn_free = op_conn_free,
};

const srv_sasl_ops *srv_sasl_init(const char *pwdb, int log_level, char *err, size_t errlen)
{
    static int done;
    if (done)
        return &g_ops;
    g_log_level = log_level;
    if (!pwdb)
        pwdb = getenv("MEMCACHED_SASL_PWDB");
    if (pwdb && *pwdb) {
        if (load_pwdb(pwdb, err, errlen) < 0)
            return NULL;
    } else {
        /* no password file: libsasl2's own check (drop our callback) */
        g_callbacks[2].id = SASL_CB_LIST_END;
    }
    int rc = sasl_server_init(g_callbacks, "memcached");
    if (rc != SASL_OK) {
        snprintf(err, errlen, "Error initializing sasl: %s", sasl_errstring(rc, NULL, NULL));
        return NULL;
    }
    done = 1;
    return &g_ops;
}
