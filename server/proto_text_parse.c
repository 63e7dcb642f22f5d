/*
 * proto_text_parse.c - the pure parser of memcached's text and meta
 * protocols: bytes in, a text_request out.  See proto_text_parse.h.
 *
 * It follows memcached's rules (proto_text.c of memcached 1.6):
 *  - a line ends at \n; a \r just before it is dropped (unless it is the
 *    only byte); a NUL ends the line early (memcached uses strlen);
 *  - tokens are separated by spaces only; at most 23 are split off, the
 *    rest of the line stays in "rest" (multigets carry on past it);
 *  - numbers are read like memcached's safe_strto*: the whole token must
 *    be the number;
 *  - a line of more than 2048 bytes without \n closes the connection,
 *    unless it is a get/gets (multigets are unbounded in memcached; we
 *    bound them at TEXT_GET_LINE_MAX);
 *  - an unknown command that looks like an HTTP request closes the
 *    connection with no reply (from_browser below).
 */
#include <limits.h>
#include <string.h>

#include "item_size.h"
#include "proto_text_parse.h"
#include "shmcached.h"

const char *text_err_string(enum text_err e)
{
    switch (e) {
    case TE_NONE: return "";
    case TE_ERROR: return "ERROR";
    case TE_BAD_FORMAT: return "CLIENT_ERROR bad command line format";
    case TE_BAD_DATA_CHUNK: return "CLIENT_ERROR bad data chunk";
    case TE_TOO_LARGE: return "SERVER_ERROR object too large for cache";
    case TE_BAD_EXPTIME: return "CLIENT_ERROR invalid exptime argument";
    case TE_BAD_DELTA: return "CLIENT_ERROR invalid numeric delta argument";
    case TE_DELETE_USAGE:
        return "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
    case TE_META_FLAGS_TOO_LONG_MG: return "CLIENT_ERROR options flags are too long";
    case TE_META_FLAGS_TOO_LONG: return "CLIENT_ERROR options flags too long";
    case TE_META_DUP_FLAG: return "CLIENT_ERROR duplicate flag";
    case TE_META_INVALID_FLAG: return "CLIENT_ERROR invalid flag";
    case TE_META_BAD_TOKEN: return "CLIENT_ERROR bad token in command line format";
    case TE_META_KEY_DECODE: return "CLIENT_ERROR error decoding key";
    case TE_META_M_LENGTH: return "CLIENT_ERROR incorrect length for M token";
    case TE_META_BAD_INITIAL: return "CLIENT_ERROR invalid numeric initial value";
    case TE_META_BAD_DELTA: return "CLIENT_ERROR invalid numeric delta value";
    case TE_META_OPAQUE_LONG: return "CLIENT_ERROR opaque token too long";
    case TE_META_INVALID_OR_DUP: return "CLIENT_ERROR invalid or duplicate flag";
    case TE_META_MS_MODE: return "CLIENT_ERROR invalid mode for ms M token";
    case TE_META_MA_MODE: return "CLIENT_ERROR invalid mode for ma M token";
    }
    return "ERROR";
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    if (n > 0 && p[0] == '+')
        i = 1;
    if (i == n)
        return false;
    for (; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9)
            return false;
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_u32(const char *p, size_t n, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(p, n, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Client flags: memcached 1.6.18 reads them as an unsigned 64-bit number
 * and keeps the low 32 bits (4294967296 stores flags 0). */
static bool parse_flags(const char *p, size_t n, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(p, n, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* A 32-bit signed argument (exptimes, lengths, T/N/R): memcached 1.6.18
 * reads a signed long and keeps its low 32 bits, so 4294967296 is 0 and
 * 2147483648 is -2147483648; only numbers outside 64 bits are refused. */
static bool parse_i32(const char *p, size_t n, int32_t *out)
{
    bool neg = false;
    uint64_t v;
    if (n > 0 && p[0] == '-') {
        neg = true;
        p++;
        n--;
        if (n > 0 && p[0] == '+')
            return false;
    }
    if (!parse_u64(p, n, &v))
        return false;
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    uint32_t low = (uint32_t)(neg ? 0 - v : v);
    memcpy(out, &low, sizeof *out);
    return true;
}

static bool tok_is(const text_token *t, const char *s)
{
    size_t n = strlen(s);
    return t->p && t->len == n && memcmp(t->p, s, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Base64                                                              */
/* ------------------------------------------------------------------ */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

size_t text_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n == 0 || n % 4 != 0)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)in[i + j];
            if (c == '=') {
                /* padding only in the last group's last two places */
                if (i + 4 != n || j < 2)
                    return 0;
                pad++;
                v[j] = 0;
            } else {
                if (pad)
                    return 0;
                v[j] = b64val(c);
                if (v[j] < 0)
                    return 0;
            }
        }
        unsigned triple = ((unsigned)v[0] << 18) | ((unsigned)v[1] << 12) |
                          ((unsigned)v[2] << 6) | (unsigned)v[3];
        size_t k = 3 - (size_t)pad;
        if (o + k > cap)
            return 0;
        out[o++] = (unsigned char)(triple >> 16);
        if (k > 1)
            out[o++] = (unsigned char)(triple >> 8);
        if (k > 2)
            out[o++] = (unsigned char)triple;
    }
    return o;
}

size_t text_base64_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t need = (n + 2) / 3 * 4;
    if (need > cap)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
    }
    return o;
}

/* ------------------------------------------------------------------ */
/* Lines and tokens                                                    */
/* ------------------------------------------------------------------ */

static void tokenize(const char *s, size_t n, text_request *r)
{
    const char *end = s + n, *e = s, *start = s;
    size_t nt = 0;
    r->rest = NULL;
    r->rest_len = 0;
    for (; e < end; e++) {
        if (*e == ' ') {
            if (start != e) {
                r->tok[nt].p = start;
                r->tok[nt].len = (size_t)(e - start);
                nt++;
                if (nt == TEXT_MAX_TOKENS - 1) {
                    e++;
                    start = e;
                    break;
                }
            }
            start = e + 1;
        }
    }
    if (start != e && e <= end && nt < TEXT_MAX_TOKENS - 1) {
        r->tok[nt].p = start;
        r->tok[nt].len = (size_t)(e - start);
        nt++;
    }
    if (e < end) {
        r->rest = e;
        r->rest_len = (size_t)(end - e);
    }
    r->tok[nt].p = r->rest;
    r->tok[nt].len = 0;
    r->ntokens = nt + 1;
}

static long fail(text_request *r, enum text_err e, long consumed)
{
    r->orig_cmd = r->cmd;
    r->cmd = TC_ERROR;
    r->err = e;
    return consumed;
}

static void set_noreply_maybe(text_request *r)
{
    if (r->ntokens >= 2 && tok_is(&r->tok[r->ntokens - 2], "noreply"))
        r->noreply = true;
}

/* Too large for the cache, by memcached's rule (item_size.h). */
static bool too_large(const text_request *r, size_t nkey, uint32_t flags, size_t vlen)
{
    return mc_item_too_large(r->item_size_max, nkey, flags, vlen, !r->no_cas);
}

/*
 * The data block of a storage command (classic or ms): vlen bytes after
 * the command line of linelen bytes, then "\r\n".  e other than TE_NONE
 * refuses the command, its block swallowed as it arrives (memcached reads
 * it and drops it).  Returns the bytes the command takes, TEXT_NEED_MORE
 * until the whole block is in, or the block consumed as TE_BAD_DATA_CHUNK
 * when it does not end in "\r\n".
 */
static long data_block(const char *in, size_t len, size_t linelen, size_t vlen,
                       enum text_err e, text_request *r)
{
    if (e != TE_NONE) {
        r->swallow = vlen + 2;
        return fail(r, e, (long)linelen);
    }
    size_t total = linelen + vlen + 2;
    if (len < total)
        return TEXT_NEED_MORE;
    r->data = in + linelen;
    r->data_len = vlen;
    if (r->data[vlen] != '\r' || r->data[vlen + 1] != '\n')
        return fail(r, TE_BAD_DATA_CHUNK, (long)total);
    return (long)total;
}

/* Storage commands: set add replace append prepend cas. */
static long parse_storage(const char *in, size_t len, size_t linelen, text_request *r,
                          bool handle_cas)
{
    size_t want_lo = handle_cas ? 7 : 6;
    if (r->ntokens != want_lo && r->ntokens != want_lo + 1)
        return fail(r, TE_ERROR, (long)linelen);
    set_noreply_maybe(r);
    text_token *t = r->tok;
    if (t[1].len > TEXT_KEY_MAX)
        return fail(r, TE_BAD_FORMAT, (long)linelen);
    r->key = t[1].p;
    r->nkey = t[1].len;
    int32_t exptime, vlen;
    if (!parse_flags(t[2].p, t[2].len, &r->flags) || !parse_i32(t[3].p, t[3].len, &exptime) ||
        !parse_i32(t[4].p, t[4].len, &vlen))
        return fail(r, TE_BAD_FORMAT, (long)linelen);
    r->exptime = exptime;
    if (handle_cas && !parse_u64(t[5].p, t[5].len, &r->cas))
        return fail(r, TE_BAD_FORMAT, (long)linelen);
    if (vlen < 0 || vlen > INT_MAX - 2)
        return fail(r, TE_BAD_FORMAT, (long)linelen);
    return data_block(in, len, linelen, (size_t)vlen,
                      too_large(r, r->nkey, r->flags, (size_t)vlen) ? TE_TOO_LARGE : TE_NONE, r);
}

/* Meta flags, as memcached's _meta_flag_preparse. */
static enum text_err meta_preparse(text_request *r, unsigned start)
{
    text_meta *m = &r->meta;
    unsigned char seen[128] = {0};
    enum text_err err = TE_NONE;
    m->delta = 1;
    m->first_flag = start;
    for (size_t i = start; i < r->ntokens - 1; i++) {
        const text_token *t = &r->tok[i];
        unsigned char o = (unsigned char)t->p[0];
        const char *arg = t->p + 1;
        size_t alen = t->len - 1;
        if (o >= 127 || seen[o])
            return TE_META_DUP_FLAG;
        seen[o] = 1;
        switch (o) {
        case 'b': {
            size_t n = text_base64_decode(r->tok[1].p, r->tok[1].len, r->keybuf,
                                          sizeof r->keybuf);
            if (n == 0 || n > TEXT_KEY_MAX) {
                err = TE_META_KEY_DECODE;
                n = 0;
            }
            r->key = (const char *)r->keybuf;
            r->nkey = n;
            m->key_binary = 1;
            break;
        }
        case 'N':
            m->vivify = 1;
            if (!parse_i32(arg, alen, &m->autoviv_exptime))
                err = TE_META_BAD_TOKEN;
            break;
        case 'T':
            if (!parse_i32(arg, alen, &m->exptime))
                err = TE_META_BAD_TOKEN;
            else
                m->new_ttl = 1;
            break;
        case 'R':
            m->recache = 1;
            if (!parse_i32(arg, alen, &m->recache_time))
                err = TE_META_BAD_TOKEN;
            break;
        case 'O':
            if (t->len > TEXT_META_OPAQUE_MAX)
                err = TE_META_OPAQUE_LONG;
            break;
        case 'l': case 'P': case 'L': case 'k': case 's': case 't': case 'c':
        case 'f': case 'h':
            break;
        case 'v':
            m->value = 1;
            break;
        case 'u':
            m->no_update = 1;
            break;
        case 'q':
            m->no_reply = 1;
            break;
        case 'F':
            if (!parse_flags(arg, alen, &m->client_flags))
                err = TE_BAD_FORMAT;
            break;
        case 'C':
            if (!parse_u64(arg, alen, &m->req_cas))
                err = TE_META_BAD_TOKEN;
            else
                m->has_cas = 1;
            break;
        case 'E':
            if (!parse_u64(arg, alen, &m->new_cas) || m->new_cas >= SHMC_CAS_EXPLICIT_LIMIT)
                err = TE_META_BAD_TOKEN;
            else
                m->has_new_cas = 1;
            break;
        case 'M':
            if (t->len != 2)
                err = TE_META_M_LENGTH;
            else
                m->mode = t->p[1];
            break;
        case 'J':
            if (!parse_u64(arg, alen, &m->initial))
                err = TE_META_BAD_INITIAL;
            else
                m->has_initial = 1;
            break;
        case 'D':
            if (!parse_u64(arg, alen, &m->delta))
                err = TE_META_BAD_DELTA;
            else
                m->has_delta = 1;
            break;
        case 'I':
            m->invalidate = 1;
            break;
        default:
            return TE_META_INVALID_FLAG;
        }
    }
    return err;
}

static long parse_meta(const char *in, size_t len, size_t linelen, text_request *r)
{
    text_token *t = r->tok;
    char c = t[0].p[1];
    switch (c) {
    case 'n':
        r->cmd = TC_MN;
        return (long)linelen;
    case 'g': r->cmd = TC_MG; break;
    case 's': r->cmd = TC_MS; break;
    case 'd': r->cmd = TC_MD; break;
    case 'a': r->cmd = TC_MA; break;
    case 'e': r->cmd = TC_ME; break;
    default:
        return fail(r, TE_ERROR, (long)linelen);
    }
    if (r->cmd == TC_ME) {
        if (r->ntokens < 3 || t[1].len > TEXT_KEY_MAX)
            return fail(r, TE_BAD_FORMAT, (long)linelen);
        r->key = t[1].p;
        r->nkey = t[1].len;
        if (r->ntokens >= 4 && t[2].len == 1 && t[2].p[0] == 'b') {
            size_t n = text_base64_decode(t[1].p, t[1].len, r->keybuf, sizeof r->keybuf);
            if (n == 0)
                return fail(r, TE_BAD_FORMAT, (long)linelen);
            r->key = (const char *)r->keybuf;
            r->nkey = n;
            r->meta.key_binary = 1;
        }
        return (long)linelen;
    }
    if (r->ntokens < 3)
        return fail(r, TE_ERROR, (long)linelen);
    if (t[1].len > TEXT_KEY_MAX)
        return fail(r, TE_BAD_FORMAT, (long)linelen);
    r->key = t[1].p;
    r->nkey = t[1].len;
    if (r->cmd == TC_MS && r->ntokens == 3)
        return fail(r, TE_BAD_FORMAT, (long)linelen);
    if (r->ntokens > TEXT_META_MAX_TOKENS)
        return fail(r, r->cmd == TC_MG ? TE_META_FLAGS_TOO_LONG_MG : TE_META_FLAGS_TOO_LONG,
                    (long)linelen);
    if (r->cmd != TC_MS) {
        enum text_err e = meta_preparse(r, 2);
        if (e != TE_NONE) {
            if (r->cmd == TC_MD || r->cmd == TC_MA)
                e = TE_META_INVALID_OR_DUP;
            return fail(r, e, (long)linelen);
        }
        if (r->cmd == TC_MA && r->meta.mode != 0 && !strchr("I+D-", r->meta.mode))
            return fail(r, TE_META_MA_MODE, (long)linelen);
        return (long)linelen;
    }
    /* ms <key> <datalen> <flags>*\r\n<data>\r\n */
    int32_t vlen;
    if (!parse_i32(t[2].p, t[2].len, &vlen) || vlen < 0 || vlen > INT_MAX - 2)
        return fail(r, TE_BAD_FORMAT, (long)linelen);
    enum text_err e = meta_preparse(r, 3);
    if (e == TE_NONE && r->meta.mode != 0 && !strchr("EAPRS", r->meta.mode))
        e = TE_META_MS_MODE;
    if (e == TE_NONE && too_large(r, r->nkey, r->meta.client_flags, (size_t)vlen))
        e = TE_TOO_LARGE;
    return data_block(in, len, linelen, (size_t)vlen, e, r);
}

/*
 * memcached's defence against cross-protocol requests (a browser made to
 * post to a cache port): an unknown command whose last token begins
 * "HTTP/" (case matters; the 23rd token on a longer line, the last one
 * tokenize splits off) closes the connection without a reply.  memcached
 * picks commands starting with a, c, d, g, i, s or t by their first
 * letter and answers ERROR for an unknown one of those before it looks,
 * so "soo / HTTP/1.1" is ERROR and "GET / HTTP/1.1" closes.  Called only
 * for a command no branch above knows, of two letters or more.
 */
static bool from_browser(const text_request *r)
{
    const text_token *last = &r->tok[r->ntokens - 2];
    return !strchr("acdgist", r->tok[0].p[0]) && last->len >= 5 &&
           memcmp(last->p, "HTTP/", 5) == 0;
}

long proto_text_parse(const char *in, size_t len, text_request *r)
{
    uint32_t ism = r->item_size_max;
    bool no_cas = r->no_cas;
    memset(r, 0, offsetof(text_request, keybuf));
    r->item_size_max = ism;
    r->no_cas = no_cas;

    const char *nl = memchr(in, '\n', len);
    if (!nl) {
        if (len > TEXT_LINE_MAX) {
            size_t sp = 0;
            while (sp < len && in[sp] == ' ')
                sp++;
            bool is_get = (len - sp >= 4 && memcmp(in + sp, "get ", 4) == 0) ||
                          (len - sp >= 5 && memcmp(in + sp, "gets ", 5) == 0);
            if (sp > 100 || !is_get || len > TEXT_GET_LINE_MAX)
                return TEXT_CLOSE;
        }
        return TEXT_NEED_MORE;
    }
    size_t linelen = (size_t)(nl - in) + 1;
    const char *el = nl;
    if (nl - in > 1 && nl[-1] == '\r')
        el--;
    size_t n = (size_t)(el - in);
    const char *z = memchr(in, '\0', n);
    if (z)
        n = (size_t)(z - in);
    r->line_end = in + n;
    tokenize(in, n, r);

    text_token *t = r->tok;
    size_t nt = r->ntokens;
    if (nt < 2 || t[0].len < 2)
        return fail(r, TE_ERROR, (long)linelen);

    if (t[0].p[0] == 'm' && t[0].len == 2)
        return parse_meta(in, len, linelen, r);

    if (t[0].p[0] == 'g') {
        if (tok_is(&t[0], "get")) r->cmd = TC_GET;
        else if (tok_is(&t[0], "gets")) r->cmd = TC_GETS;
        else if (tok_is(&t[0], "gat")) r->cmd = TC_GAT;
        else if (tok_is(&t[0], "gats")) r->cmd = TC_GATS;
        else return fail(r, TE_ERROR, (long)linelen);
        if (nt < 3)
            return fail(r, TE_ERROR, (long)linelen);
        size_t first = 1;
        if (r->cmd == TC_GAT || r->cmd == TC_GATS) {
            int32_t e;
            if (!parse_i32(t[1].p, t[1].len, &e))
                return fail(r, TE_BAD_EXPTIME, (long)linelen);
            r->exptime = e;
            first = 2;
        }
        r->keys = first < nt - 1 ? t[first].p : r->line_end;
        if (first == nt - 1 && r->rest)
            r->keys = r->rest;
        /* a key over 250 bytes anywhere fails the whole request */
        const char *p = r->keys;
        while (p < r->line_end) {
            while (p < r->line_end && *p == ' ')
                p++;
            const char *s = p;
            while (p < r->line_end && *p != ' ')
                p++;
            if ((size_t)(p - s) > TEXT_KEY_MAX)
                return fail(r, TE_BAD_FORMAT, (long)linelen);
        }
        return (long)linelen;
    }

    if (tok_is(&t[0], "set")) { r->cmd = TC_SET; return parse_storage(in, len, linelen, r, false); }
    if (tok_is(&t[0], "add")) { r->cmd = TC_ADD; return parse_storage(in, len, linelen, r, false); }
    if (tok_is(&t[0], "append")) { r->cmd = TC_APPEND; return parse_storage(in, len, linelen, r, false); }
    if (tok_is(&t[0], "replace")) { r->cmd = TC_REPLACE; return parse_storage(in, len, linelen, r, false); }
    if (tok_is(&t[0], "prepend")) { r->cmd = TC_PREPEND; return parse_storage(in, len, linelen, r, false); }
    if (tok_is(&t[0], "cas")) { r->cmd = TC_CAS; return parse_storage(in, len, linelen, r, true); }

    if (tok_is(&t[0], "incr") || tok_is(&t[0], "decr")) {
        r->cmd = t[0].p[0] == 'i' ? TC_INCR : TC_DECR;
        if (nt != 4 && nt != 5)
            return fail(r, TE_ERROR, (long)linelen);
        set_noreply_maybe(r);
        if (t[1].len > TEXT_KEY_MAX)
            return fail(r, TE_BAD_FORMAT, (long)linelen);
        r->key = t[1].p;
        r->nkey = t[1].len;
        if (!parse_u64(t[2].p, t[2].len, &r->delta))
            return fail(r, TE_BAD_DELTA, (long)linelen);
        return (long)linelen;
    }
    if (tok_is(&t[0], "delete")) {
        r->cmd = TC_DELETE;
        if (nt < 3 || nt > 5)
            return fail(r, TE_ERROR, (long)linelen);
        if (nt > 3) {
            bool hold_is_zero = tok_is(&t[2], "0");
            set_noreply_maybe(r);
            bool valid = (nt == 4 && (hold_is_zero || r->noreply)) ||
                         (nt == 5 && hold_is_zero && r->noreply);
            if (!valid)
                return fail(r, TE_DELETE_USAGE, (long)linelen);
        }
        if (t[1].len > TEXT_KEY_MAX)
            return fail(r, TE_BAD_FORMAT, (long)linelen);
        r->key = t[1].p;
        r->nkey = t[1].len;
        return (long)linelen;
    }
    if (tok_is(&t[0], "touch")) {
        r->cmd = TC_TOUCH;
        if (nt != 4 && nt != 5)
            return fail(r, TE_ERROR, (long)linelen);
        set_noreply_maybe(r);
        if (t[1].len > TEXT_KEY_MAX)
            return fail(r, TE_BAD_FORMAT, (long)linelen);
        r->key = t[1].p;
        r->nkey = t[1].len;
        int32_t e;
        if (!parse_i32(t[2].p, t[2].len, &e))
            return fail(r, TE_BAD_EXPTIME, (long)linelen);
        r->exptime = e;
        return (long)linelen;
    }
    if (tok_is(&t[0], "flush_all")) {
        r->cmd = TC_FLUSH_ALL;
        if (nt > 4)
            return fail(r, TE_ERROR, (long)linelen);
        set_noreply_maybe(r);
        /* the exptime is read by the executor after the flush_enabled check */
        return (long)linelen;
    }
    if (tok_is(&t[0], "version")) { r->cmd = TC_VERSION; return (long)linelen; }
    if (tok_is(&t[0], "quit")) { r->cmd = TC_QUIT; return (long)linelen; }
    if (tok_is(&t[0], "shutdown")) { r->cmd = TC_SHUTDOWN; return (long)linelen; }
    if (tok_is(&t[0], "verbosity")) {
        r->cmd = TC_VERBOSITY;
        if (nt != 3 && nt != 4)
            return fail(r, TE_ERROR, (long)linelen);
        set_noreply_maybe(r);
        uint64_t lv; /* memcached keeps the low 32 bits, as for flags */
        if (!parse_u64(t[1].p, t[1].len, &lv))
            return fail(r, TE_BAD_FORMAT, (long)linelen);
        r->delta = (uint32_t)lv;
        return (long)linelen;
    }
    if (tok_is(&t[0], "cache_memlimit")) {
        r->cmd = TC_CACHE_MEMLIMIT;
        if (nt != 3 && nt != 4)
            return fail(r, TE_ERROR, (long)linelen);
        set_noreply_maybe(r);
        uint32_t mb;
        if (!parse_u32(t[1].p, t[1].len, &mb))
            return fail(r, TE_ERROR, (long)linelen);
        r->delta = mb;
        return (long)linelen;
    }
    if (tok_is(&t[0], "stats")) { r->cmd = TC_STATS; return (long)linelen; }
    if (tok_is(&t[0], "slabs")) { r->cmd = TC_SLABS; return (long)linelen; }
    if (tok_is(&t[0], "lru_crawler")) { r->cmd = TC_LRU_CRAWLER; return (long)linelen; }
    if (tok_is(&t[0], "lru")) {
        r->cmd = TC_LRU;
        if (nt < 3)
            return fail(r, TE_ERROR, (long)linelen);
        return (long)linelen;
    }
    if (tok_is(&t[0], "watch")) { r->cmd = TC_WATCH; return (long)linelen; }
    if (tok_is(&t[0], "refresh_certs")) { r->cmd = TC_REFRESH_CERTS; return (long)linelen; }
    if (from_browser(r))
        return TEXT_CLOSE;
    return fail(r, TE_ERROR, (long)linelen);
}

/* exported for the executor */
bool text_parse_i32(const char *p, size_t n, int32_t *out);
bool text_parse_i32(const char *p, size_t n, int32_t *out)
{
    return parse_i32(p, n, out);
}
bool text_parse_u32(const char *p, size_t n, uint32_t *out);
bool text_parse_u32(const char *p, size_t n, uint32_t *out)
{
    return parse_u32(p, n, out);
}
