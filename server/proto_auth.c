/*
 * proto_auth.c - memcached 1.6's ASCII authentication (-Y authfile) for
 * shmcached's server (protocol.h).
 *
 * The authfile: "user:password" lines, split at the first ':'; the
 * password runs to the end of the line (a trailing \r is dropped); a line
 * without ':' - an empty line too - makes the file malformed; only the
 * first SRV_AUTH_MAX_ENTRIES (8) lines count, the rest are ignored, as in
 * memcached's authfile.c.
 *
 * The exchange (memcached's try_read_command_asciiauth): an
 * unauthenticated connection's next line must be
 *   set <anykey> <flags> <exptime> <bytes>
 * (key, flags and exptime are ignored; at least those five tokens).  Any
 * other line is consumed and answered "CLIENT_ERROR unauthenticated".
 * Then <bytes>+2 bytes are read: if they do not end in \r\n the answer is
 * "CLIENT_ERROR bad command line termination"; fewer than two
 * space-separated tokens, "CLIENT_ERROR bad authentication token format";
 * a user and password matching an entry, "STORED" and the connection is
 * authenticated for good; otherwise "CLIENT_ERROR authentication failure".
 * noreply is not honoured (memcached replies regardless).  A line longer
 * than 2048 bytes without \n closes the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "protocol.h"

#define AUTH_LINE_MAX 2048
#define AUTH_TOKENS 24

void srv_auth_free(srv_auth *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

enum srv_auth_load_result srv_auth_parse(srv_auth *a, char *data)
{
    memset(a, 0, sizeof *a);
    a->data = data;
    char *p = data;
    while (*p && a->count < SRV_AUTH_MAX_ENTRIES) {
        char *eol = strchr(p, '\n');
        char *end = eol ? eol : p + strlen(p);
        char *colon = memchr(p, ':', (size_t)(end - p));
        if (!colon) {
            srv_auth_free(a);
            return SRV_AUTH_MALFORMED;
        }
        char *pe = colon + 1;
        while (pe < end && *pe != '\r')
            pe++;
        srv_auth_entry *e = &a->e[a->count++];
        e->user = p;
        e->ulen = (size_t)(colon - p);
        e->pass = colon + 1;
        e->plen = (size_t)(pe - (colon + 1));
        if (!eol)
            break;
        p = eol + 1;
    }
    return SRV_AUTH_OK;
}

enum srv_auth_load_result srv_auth_load(srv_auth *a, const char *path)
{
    memset(a, 0, sizeof *a);
    if (!path || !*path) {
        errno = ENOENT;
        return SRV_AUTH_OPENFAIL;
    }
    FILE *f = fopen(path, "r");
    if (!f)
        return SRV_AUTH_OPENFAIL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        int e = errno;
        fclose(f);
        errno = e;
        return SRV_AUTH_STATFAIL;
    }
    size_t cap = (size_t)sb.st_size + 1;
    char *data = malloc(cap);
    if (!data) {
        fclose(f);
        return SRV_AUTH_OOM;
    }
    size_t n = fread(data, 1, cap - 1, f);
    fclose(f);
    data[n] = '\0';
    return srv_auth_parse(a, data);
}

/* Compare without an early exit (memcached's safe_memcmp). */
static bool same_bytes(const char *x, const char *y, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}

bool srv_auth_check(const srv_auth *a, const char *user, size_t ulen, const char *pass,
                    size_t plen)
{
    bool ok = false;
    for (unsigned i = 0; a && i < a->count; i++) {
        const srv_auth_entry *e = &a->e[i];
        if (ulen == e->ulen && plen == e->plen && same_bytes(user, e->user, ulen) &&
            same_bytes(pass, e->pass, plen))
            ok = true;
    }
    return ok;
}

typedef struct tok {
    const char *p;
    size_t len;
} tok;

/* memcached's tokenize_command: split at ' ', empty tokens skipped. */
static size_t split(const char *p, size_t n, tok *t, size_t max)
{
    size_t k = 0;
    size_t i = 0;
    while (i < n && k < max) {
        while (i < n && p[i] == ' ')
            i++;
        if (i >= n)
            break;
        size_t s = i;
        while (i < n && p[i] != ' ')
            i++;
        t[k].p = p + s;
        t[k].len = i - s;
        k++;
    }
    return k;
}

static bool parse_size(const tok *t, uint32_t *out)
{
    if (t->len == 0 || t->len > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] < '0' || t->p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(t->p[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static long answer(srv_buf *out, const char *line, size_t consumed)
{
    if (!srv_buf_add(out, line, strlen(line)) || !srv_buf_add(out, "\r\n", 2))
        return -1;
    return (long)consumed;
}

long proto_auth_process(srv_session *s, const srv_auth *a, const char *in, size_t len,
                        srv_buf *out)
{
    if (len < 2)
        return 0;
    const char *nl = memchr(in, '\n', len < AUTH_LINE_MAX ? len : AUTH_LINE_MAX);
    if (!nl)
        return len >= AUTH_LINE_MAX ? -1 : 0;
    size_t line_len = (size_t)(nl - in) + 1;
    size_t n = (size_t)(nl - in);
    if (n > 0 && in[n - 1] == '\r')
        n--;
    tok t[AUTH_TOKENS];
    size_t nt = split(in, n, t, AUTH_TOKENS);
    uint32_t size = 0;
    if (nt < 5 || t[0].len != 3 || memcmp(t[0].p, "set", 3) != 0 || !parse_size(&t[4], &size))
        return answer(out, "CLIENT_ERROR unauthenticated", line_len);
    size_t need = line_len + (size_t)size + 2;
    if (len < need)
        return 0;
    const char *cont = in + line_len;
    if (cont[size] != '\r' || cont[size + 1] != '\n')
        return answer(out, "CLIENT_ERROR bad command line termination", need);
    /* memcached tokenizes the payload as a C string: a NUL ends it */
    const char *z = memchr(cont, '\0', size);
    size_t plen = z ? (size_t)(z - cont) : size;
    nt = split(cont, plen, t, AUTH_TOKENS);
    if (nt < 2)
        return answer(out, "CLIENT_ERROR bad authentication token format", need);
    srv_count(SRV_AUTH_CMDS, 1);
    if (srv_auth_check(a, t[0].p, t[0].len, t[1].p, t[1].len)) {
        s->authenticated = 1;
        return answer(out, "STORED", need);
    }
    srv_count(SRV_AUTH_ERRORS, 1);
    return answer(out, "CLIENT_ERROR authentication failure", need);
}
