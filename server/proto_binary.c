/*
 * proto_binary.c - memcached's binary protocol for shmcached's server:
 * the executor and proto_binary_process() (protocol.h).
 *
 * proto_binary_parse() (proto_binary_parse.c) turns bytes into a request;
 * here each request runs against s->cache through the public API only
 * (shmcached.h) and memcached 1.6's exact reply packets are rendered into
 * out: magic 0x81, the request's opcode and opaque echoed, status, CAS;
 * error replies carry memcached's message as their body.
 *
 * memcached's rules kept: quiet opcodes (...Q) send no success reply
 * (GetQ/GetKQ/GATQ/GATKQ still send hits and drop misses), errors are
 * always sent; GetK/GATK misses carry the key; key + extras longer than
 * the body answer "Unknown command" and close; a key over 250 bytes or
 * lengths wrong for the command answer "Invalid arguments" and close; an
 * unknown opcode answers "Unknown command" and its body is skipped (so
 * does Verbosity, 0x1b, as in memcached 1.6.18, which does not implement
 * it: the text "verbosity" sets the level); a bad magic byte closes
 * silently (after a whole header, as memcached); a store that cannot be
 * allocated answers "Out of memory allocating item" (a failed Set drops
 * the old value, as memcached); with -S every command but SASL and Version
 * answers "Auth failure." and closes until SASL succeeded.
 *
 * Where we differ from memcached, and why:
 *  - Stat: the replies are rendered by the text module ("stats <key>")
 *    and turned into packets, so the same counters and the same
 *    limitations apply (proto_text.c); an unknown group answers
 *    "Not found", as memcached does;
 *  - Append/Prepend and Increment/Decrement with a CAS: compared by the
 *    library under the item's lock, atomic with the update;
 *  - Touch/GAT/GATK and Stat: body bytes past the key are discarded
 *    (memcached would read them as the next request);
 *  - SASL data over 8 KiB answers "Invalid arguments";
 *  - -Y (settings->auth): the daemon never negotiates binary then
 *    (settings_check_auth); should binary reach here anyway, it cannot
 *    carry -Y's auth "set", so nothing is served: the connection closes
 *    unanswered.
 *
 * A command whose cache call could not run (protocol.h) answers an error,
 * sent even for a quiet opcode, never a miss: SHMC_BUSY status 0x0085
 * (memcached's EBUSY), SHMC_STALE 0x0086 (ETMPFAIL: try again once the
 * server is restarted), then the connection closes (SRV_RETIRED); the
 * body is the text protocol's message (memcached has none for these).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item_size.h"
#include "protocol.h"
#include "proto_binary_parse.h"
#include "proto_detail.h"

typedef struct bctx {
    srv_session *s;
    shmc_cache *cache;
    const srv_settings *set;
    srv_buf *out;
    const bin_request *r;
    bool oom;
    bool retired;           /* a call answered SHMC_STALE: the error is written */
} bctx;

static const srv_settings default_settings = {
    .item_size_max = 1u << 20,
    .cas_enabled = 1,
    .flush_enabled = 1,
    .max_reqs_per_event = 20,
    .version = SHMC_VERSION_STRING,
};

static void put(bctx *c, const void *p, size_t n)
{
    if (n && !srv_buf_add(c->out, p, n))
        c->oom = true;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void wr64(unsigned char *p, uint64_t v)
{
    wr32(p, (uint32_t)(v >> 32));
    wr32(p + 4, (uint32_t)v);
}

/* A response header for the current request, into h. */
static void header_at(const bctx *c, unsigned char *h, uint16_t status, uint8_t extlen,
                      uint16_t keylen, uint32_t bodylen, uint64_t cas)
{
    h[0] = BIN_RES_MAGIC;
    h[1] = c->r->h.opcode;
    h[2] = (unsigned char)(keylen >> 8);
    h[3] = (unsigned char)keylen;
    h[4] = extlen;
    h[5] = 0;
    h[6] = (unsigned char)(status >> 8);
    h[7] = (unsigned char)status;
    wr32(h + 8, bodylen);
    memcpy(h + 12, &c->r->h.opaque, 4);
    wr64(h + 16, c->set->cas_enabled ? cas : 0);
}

/* A response header for the current request, appended to the reply. */
static void header(bctx *c, uint16_t status, uint8_t extlen, uint16_t keylen, uint32_t bodylen,
                   uint64_t cas)
{
    unsigned char h[BIN_HEADER_LEN];
    header_at(c, h, status, extlen, keylen, bodylen, cas);
    put(c, h, sizeof h);
}

/* An error reply: the status and memcached's message.  Always sent. */
/* An error reply with its own message. */
static void error_msg(bctx *c, enum bin_status st, const char *msg)
{
    size_t n = strlen(msg);
    header(c, (uint16_t)st, 0, 0, (uint32_t)n, 0);
    put(c, msg, n);
}

static void error(bctx *c, enum bin_status st)
{
    error_msg(c, st, bin_status_string(st));
}

/* If st says the cache could not run the call (SHMC_BUSY, SHMC_STALE),
 * send its error and return true; else send nothing and return false. */
static bool unavailable(bctx *c, shmc_status st)
{
    const char *msg = srv_unavailable_take(st, &c->retired);
    if (!msg)
        return false;
    error_msg(c, st == SHMC_BUSY ? BIN_ST_EBUSY : BIN_ST_ETMPFAIL, msg);
    return true;
}

/* As memcached, a failed Set leaves no stale value: drop r's key.  False
 * once the busy or stale error is sent instead. */
static bool drop_old_value(bctx *c, const bin_request *r)
{
    return !unavailable(c, shmc_delete(c->cache, r->key, r->nkey, 0));
}

/* A success reply with an optional body, unless the request is quiet. */
static void success(bctx *c, const void *body, uint32_t n, uint64_t cas)
{
    if (c->r->quiet)
        return;
    header(c, BIN_ST_OK, 0, 0, n, cas);
    put(c, body, n);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/*
 * A hit's reply to r, read straight into the reply buffer: the header,
 * the flags, the key if kl, then the value if with_value, copied once
 * from the segment in one call (no malloc, one gate).  The first read
 * offers GET_GUESS bytes; a larger value is read again at its size (the
 * probe counted nothing: shmc_get_info).  o touches for GAT/GATK/Touch.
 * SHMC_SYSTEM if the reply cannot grow; else shmc_get_info's status,
 * with nothing written unless SHMC_OK.
 */
#define GET_GUESS 2048

/* A hit's reply to r before its value, at p: the header (a value of len
 * bytes), the flags and kl bytes of the key; returns its length. */
static size_t hit_head_at(const bctx *c, unsigned char *p, const bin_request *r, uint16_t kl,
                          size_t len, uint32_t flags, uint64_t cas)
{
    header_at(c, p, BIN_ST_OK, 4, kl, (uint32_t)(4 + kl + len), cas);
    wr32(p + BIN_HEADER_LEN, flags);
    memcpy(p + BIN_HEADER_LEN + 4, r->key, kl);
    return BIN_HEADER_LEN + 4 + (size_t)kl;
}

static shmc_status get_reply(bctx *c, const bin_request *r, const shmc_get_options *o,
                             uint16_t kl, bool with_value)
{
    size_t head = BIN_HEADER_LEN + 4 + kl, guess = with_value ? GET_GUESS : 0;
    for (int tries = 0; tries < 16; tries++) {
        if (!srv_buf_reserve(c->out, head + guess))
            return SHMC_SYSTEM;
        unsigned char *p = (unsigned char *)c->out->data + c->out->len;
        size_t len = guess;
        shmc_item_info info;
        shmc_status st = shmc_get_info(c->cache, r->key, r->nkey, o, p + head,
                                       with_value ? &len : NULL, &info);
        if (st == SHMC_BUFFER_TOO_SMALL) {
            guess = len;
            continue;
        }
        if (st != SHMC_OK)
            return st;
        if (!with_value)
            len = 0;
        c->out->len += hit_head_at(c, p, r, kl, len, info.flags, info.cas) + len;
        return SHMC_OK;
    }
    return SHMC_SYSTEM;
}

/* The reply to a get-like request r that did not hit (st): nothing for
 * a quiet miss, the key for GetK/GATK, else "Not found"; the error of a
 * call that could not run; the connection closed if the reply could not
 * grow (SHMC_SYSTEM). */
static void get_missed(bctx *c, const bin_request *r, shmc_status st)
{
    bool with_key = r->cmd == BIN_GETK || r->cmd == BIN_GATK;
    if (st == SHMC_SYSTEM) {
        c->oom = true;
        return;
    }
    if (unavailable(c, st))
        return;
    /* a miss (or a key the library refuses) */
    if (r->quiet)
        return;
    if (with_key) {
        header(c, BIN_ST_KEY_ENOENT, 0, r->nkey, r->nkey, 0);
        put(c, r->key, r->nkey);
    } else {
        error(c, BIN_ST_KEY_ENOENT);
    }
}

static void exec_get(bctx *c, const bin_request *r)
{
    bool touch = r->cmd == BIN_TOUCH || r->cmd == BIN_GAT || r->cmd == BIN_GATK;
    bool with_key = r->cmd == BIN_GETK || r->cmd == BIN_GATK;
    shmc_get_options o = {.flags = touch ? SHMC_GET_TOUCH : 0, .exptime = (int64_t)r->exptime};
    shmc_status st = get_reply(c, r, &o, with_key ? r->nkey : 0, r->cmd != BIN_TOUCH);
    detail_record(c->set->prefix_delimiter, r->key, r->nkey, DETAIL_GET, st == SHMC_OK);
    if (st != SHMC_OK)
        get_missed(c, r, st);
}

/*
 * Runs of Get/GetK requests, quiet or not (libmemcached's mget: GetKQ ...
 * Noop), are read SRV_GET_BATCH at a time with one shmc_get_multi into
 * the worker thread's slots (srv_get_scratch, protocol.h), as the text
 * protocol reads a get of several keys (proto_text.c get_batched): one
 * gate, the keys' cache misses overlapped.
 * The replies are those exec_get writes, in the requests' order; a value
 * larger than its slot is read again alone, into the reply (the batch's
 * read of it was a size probe, which counts nothing).
 */
/* The reply to batch entry r, read as v. */
static void get_batch_reply(bctx *c, const bin_request *r, const shmc_value *v)
{
    if (v->status == SHMC_BUFFER_TOO_SMALL) {
        exec_get(c, r);
        return;
    }
    detail_record(c->set->prefix_delimiter, r->key, r->nkey, DETAIL_GET, v->status == SHMC_OK);
    if (v->status != SHMC_OK) {
        get_missed(c, r, v->status);
        return;
    }
    uint16_t kl = r->cmd == BIN_GETK ? r->nkey : 0;
    if (!srv_buf_reserve(c->out, BIN_HEADER_LEN + 4 + (size_t)kl + v->len)) {
        c->oom = true;
        return;
    }
    unsigned char *p = (unsigned char *)c->out->data + c->out->len;
    size_t head = hit_head_at(c, p, r, kl, v->len, v->flags, v->cas);
    memcpy(p + head, v->buf, v->len);
    c->out->len += head + v->len;
}

/* Read the k (2..SRV_GET_BATCH) get requests of reqs and reply to each, in
 * order, until the connection must close or retire. */
static void exec_get_batch(bctx *c, const bin_request *reqs, size_t k)
{
    shmc_value v[SRV_GET_BATCH];
    for (size_t i = 0; i < k; i++)
        v[i] = (shmc_value){.key = reqs[i].key, .key_len = reqs[i].nkey,
                            .buf = srv_get_scratch[i], .cap = SRV_GET_SLOT};
    shmc_status all = shmc_get_multi(c->cache, v, k);
    for (size_t i = 0; i < k && !c->oom && !c->retired; i++) {
        if (all != SHMC_OK)
            v[i].status = all; /* busy or stale: no entry was read */
        c->r = &reqs[i];
        get_batch_reply(c, &reqs[i], &v[i]);
    }
}

/*
 * -C: items carry no CAS for the client (memcached's CAS 0).  memcached
 * then ignores a store's CAS, and a delete or incr/decr with a non-zero
 * CAS meets an item whose CAS is 0: "exists" if the key is there.
 * Returns true if that decided the reply (sent); false to go on with cas 0.
 */
static bool nocas_mismatch(bctx *c, const bin_request *r)
{
    if (c->set->cas_enabled || r->h.cas == 0)
        return false;
    const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
    if (shmc_get_info(c->cache, r->key, r->nkey, &nobump, NULL, NULL, NULL) != SHMC_OK)
        return false;
    error(c, BIN_ST_KEY_EEXISTS);
    return true;
}

static void exec_store(bctx *c, const bin_request *r)
{
    shmc_store_mode mode = SHMC_SET;
    detail_record(c->set->prefix_delimiter, r->key, r->nkey, DETAIL_SET, false);
    switch (r->cmd) {
    case BIN_ADD: mode = SHMC_ADD; break;
    case BIN_REPLACE: mode = SHMC_REPLACE; break;
    case BIN_APPEND: mode = SHMC_APPEND; break;
    case BIN_PREPEND: mode = SHMC_PREPEND; break;
    default: break;
    }
    bool concat = mode == SHMC_APPEND || mode == SHMC_PREPEND;
    /* memcached: any set/add/replace with a CAS is a CAS store; append and
     * prepend compare it too (the library, under the item's lock) */
    uint64_t cas = c->set->cas_enabled ? r->h.cas : 0; /* -C: ignored, as memcached */
    if (cas && !concat)
        mode = SHMC_CAS;
    uint64_t newcas = 0;
    shmc_status st;
    if (concat && mc_concat_too_large(c->cache, r->key, r->nkey, r->nvalue,
                                      c->set->item_size_max, c->set->cas_enabled))
        st = SHMC_NOT_STORED; /* memcached: the joined item does not fit */
    else
        st = shmc_store(c->cache, mode, r->key, r->nkey, r->value, r->nvalue, r->flags,
                        (int64_t)r->exptime, cas, &newcas);
    if (st == SHMC_TOO_LARGE && concat)
        st = SHMC_NOT_STORED;
    if (unavailable(c, st))
        return;
    switch (st) {
    case SHMC_OK: success(c, NULL, 0, newcas); break;
    case SHMC_EXISTS: error(c, BIN_ST_KEY_EEXISTS); break;
    case SHMC_NOT_FOUND: error(c, BIN_ST_KEY_ENOENT); break;
    case SHMC_NOT_STORED:
        error(c, r->cmd == BIN_ADD       ? BIN_ST_KEY_EEXISTS
                 : r->cmd == BIN_REPLACE ? BIN_ST_KEY_ENOENT
                                         : BIN_ST_NOT_STORED);
        break;
    case SHMC_TOO_LARGE:
        srv_count(SRV_STORE_TOO_LARGE, 1);
        error(c, BIN_ST_E2BIG);
        break;
    /* memcached's text for a store it cannot allocate */
    case SHMC_NO_MEMORY:
        if (r->cmd == BIN_APPEND || r->cmd == BIN_PREPEND) { /* the joined item: as text */
            srv_count(SRV_STORE_NO_MEMORY, 1);
            error(c, BIN_ST_NOT_STORED);
            break;
        }
        if (r->cmd != BIN_SET || drop_old_value(c, r)) {
            srv_count(SRV_STORE_NO_MEMORY, 1);
            error_msg(c, BIN_ST_ENOMEM, "Out of memory allocating item");
        }
        break;
    case SHMC_SYSTEM: c->oom = true; break;
    default: error(c, BIN_ST_EINVAL); break;
    }
}

static void exec_delete(bctx *c, const bin_request *r)
{
    detail_record(c->set->prefix_delimiter, r->key, r->nkey, DETAIL_DEL, false);
    if (nocas_mismatch(c, r))
        return;
    shmc_status st = shmc_delete(c->cache, r->key, r->nkey, c->set->cas_enabled ? r->h.cas : 0);
    if (unavailable(c, st))
        return;
    switch (st) {
    case SHMC_OK: success(c, NULL, 0, 0); break;
    case SHMC_EXISTS: error(c, BIN_ST_KEY_EEXISTS); break;
    default: error(c, BIN_ST_KEY_ENOENT); break;
    }
}

static void exec_arith(bctx *c, const bin_request *r)
{
    bool incr = r->cmd == BIN_INCREMENT;
    uint64_t res = 0, cas = 0;
    if (nocas_mismatch(c, r))
        return;
    shmc_status st = shmc_arith(c->cache, r->key, r->nkey, incr, r->delta,
                                c->set->cas_enabled ? r->h.cas : 0, &res, &cas);
    if (st == SHMC_NOT_FOUND) {
        if (r->exptime == 0xffffffffu) {
            error(c, BIN_ST_KEY_ENOENT);
            return;
        }
        char num[32];
        int n = snprintf(num, sizeof num, "%" PRIu64, r->initial);
        shmc_status as = shmc_store(c->cache, SHMC_ADD, r->key, r->nkey, num, (size_t)n, 0,
                                    (int64_t)r->exptime, 0, &cas);
        if (unavailable(c, as))
            return;
        if (as == SHMC_OK) {
            res = r->initial;
            st = SHMC_OK;
        } else if (as == SHMC_NO_MEMORY) {
            error(c, BIN_ST_ENOMEM);
            return;
        } else if (as == SHMC_BAD_KEY) {
            error(c, BIN_ST_EINVAL);
            return;
        } else {
            error(c, BIN_ST_NOT_STORED);
            return;
        }
    }
    if (unavailable(c, st))
        return;
    switch (st) {
    case SHMC_OK: {
        unsigned char body[8];
        wr64(body, res);
        success(c, body, 8, cas);
        break;
    }
    case SHMC_EXISTS: error(c, BIN_ST_KEY_EEXISTS); break;
    case SHMC_NOT_NUMERIC: error(c, BIN_ST_DELTA_BADVAL); break;
    case SHMC_NO_MEMORY: error(c, BIN_ST_ENOMEM); break;
    case SHMC_SYSTEM: c->oom = true; break;
    default: error(c, BIN_ST_EINVAL); break;
    }
}

static void exec_flush(bctx *c, const bin_request *r)
{
    if (!c->set->flush_enabled) {
        error(c, BIN_ST_AUTH_ERROR); /* memcached's answer to a disabled flush */
        return;
    }
    if (!unavailable(c, shmc_flush_all(c->cache, r->has_exptime ? (int64_t)r->exptime : 0)))
        success(c, NULL, 0, 0);
}

/* One stat packet: key = name, value = value. */
static void stat_packet(bctx *c, const char *name, size_t nn, const char *val, size_t vn)
{
    if (nn > UINT16_MAX)
        nn = UINT16_MAX;
    header(c, BIN_ST_OK, 0, (uint16_t)nn, (uint32_t)(nn + vn), 0);
    put(c, name, nn);
    put(c, val, vn);
}

/* Stat: "stats <key>" through the text module, its "STAT name value"
 * lines turned into packets, then the empty terminating packet. */
static void exec_stat(bctx *c, const bin_request *r)
{
    for (size_t i = 0; i < r->nkey; i++) {
        unsigned char ch = (unsigned char)r->key[i];
        if (ch < 0x20 || ch == 0x7f) {
            error(c, BIN_ST_KEY_ENOENT);
            return;
        }
    }
    if (r->nkey == 11 && memcmp(r->key, "detail dump", 11) == 0) {
        /* memcached sends the text dump as one stat "detailed" */
        srv_buf dump = {0};
        if (detail_dump(&dump))
            stat_packet(c, "detailed", 8, dump.data, dump.len);
        else
            c->oom = true;
        srv_buf_free(&dump);
        header(c, BIN_ST_OK, 0, 0, 0, 0);
        return;
    }
    srv_buf cmd = {0}, txt = {0};
    bool ok = r->nkey ? srv_buf_printf(&cmd, "stats %.*s\r\n", (int)r->nkey, r->key)
                      : srv_buf_printf(&cmd, "stats\r\n");
    if (!ok) {
        srv_buf_free(&cmd);
        c->oom = true;
        return;
    }
    srv_session t = *c->s;
    t.swallow = 0;
    t.noreply_pending = 0;
    t.authenticated = 1;
    enum srv_action a = SRV_CONTINUE;
    (void)proto_text_process(&t, cmd.data, cmd.len, &txt, &a);
    srv_buf_free(&cmd);
    if (a == SRV_RETIRED) { /* the text was its stale line */
        srv_buf_free(&txt);
        (void)unavailable(c, SHMC_STALE);
        return;
    }
    /* no text at all (a stats key that made the text parser close, e.g. as
     * an HTTP request) leaves txt.data NULL: nothing to walk */
    const char *p = txt.data, *end = txt.data ? txt.data + txt.len : NULL;
    bool any = false, good = false;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        size_t n = (size_t)(eol - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n > 5 && memcmp(p, "STAT ", 5) == 0) {
            const char *name = p + 5, *le = p + n;
            const char *sp = memchr(name, ' ', (size_t)(le - name));
            const char *val = sp ? sp + 1 : le;
            stat_packet(c, name, (size_t)((sp ? sp : le) - name), val, (size_t)(le - val));
            any = true;
        } else if ((n == 3 && memcmp(p, "END", 3) == 0) || (n == 5 && memcmp(p, "RESET", 5) == 0) ||
                   (n == 2 && memcmp(p, "OK", 2) == 0)) {
            good = true;
            break;
        } else {
            break;
        }
        p = eol + 1;
    }
    srv_buf_free(&txt);
    if (!good && !any) {
        error(c, BIN_ST_KEY_ENOENT);
        return;
    }
    header(c, BIN_ST_OK, 0, 0, 0, 0);
}

static void exec_sasl(bctx *c, const bin_request *r)
{
    const srv_sasl_ops *ops = c->set->sasl;
    if (!ops) {
        error(c, BIN_ST_UNKNOWN_COMMAND);
        return;
    }
    const char *out = NULL;
    unsigned outlen = 0;
    if (r->cmd == BIN_SASL_LIST_MECHS) {
        if (!ops->list_mechs(ops->ctx, &c->s->sasl_conn, &out, &outlen)) {
            error(c, BIN_ST_AUTH_ERROR);
            return;
        }
        success(c, out, outlen, 0);
        return;
    }
    if (r->err == BE_SASL_EINVAL) {
        error(c, BIN_ST_EINVAL);
        return;
    }
    char mech[BIN_SASL_MECH_MAX + 1];
    memcpy(mech, r->key, r->nkey);
    mech[r->nkey] = '\0';
    enum srv_sasl_result res = ops->auth(ops->ctx, &c->s->sasl_conn, r->cmd == BIN_SASL_STEP,
                                         mech, r->value, (unsigned)r->nvalue, &out, &outlen);
    srv_count(SRV_AUTH_CMDS, 1);
    if (res != SRV_SASL_OK && res != SRV_SASL_CONTINUE)
        srv_count(SRV_AUTH_ERRORS, 1);
    switch (res) {
    case SRV_SASL_OK:
        c->s->sasl_authenticated = 1;
        success(c, "Authenticated", 13, 0);
        break;
    case SRV_SASL_CONTINUE:
        header(c, BIN_ST_AUTH_CONTINUE, 0, 0, outlen, 0);
        put(c, out, outlen);
        break;
    default:
        error(c, BIN_ST_AUTH_ERROR);
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static bool needs_auth(uint8_t opcode)
{
    return !(opcode == BIN_SASL_LIST_MECHS || opcode == BIN_SASL_AUTH ||
             opcode == BIN_SASL_STEP || opcode == BIN_VERSION);
}

static enum srv_action execute(bctx *c, const bin_request *r)
{
    if (r->err == BE_BAD_LENGTHS) {
        error(c, BIN_ST_UNKNOWN_COMMAND);
        return SRV_CLOSE;
    }
    if (c->set->sasl && !c->s->sasl_authenticated && needs_auth(r->h.opcode)) {
        error(c, BIN_ST_AUTH_ERROR);
        return SRV_CLOSE;
    }
    switch (r->err) {
    case BE_PROTOCOL:
        error(c, BIN_ST_EINVAL);
        return SRV_CLOSE;
    case BE_UNKNOWN:
        error(c, BIN_ST_UNKNOWN_COMMAND);
        return SRV_CONTINUE;
    case BE_TOO_LARGE:
        /* as memcached: no stale value survives */
        if (r->cmd != BIN_SET || drop_old_value(c, r)) {
            srv_count(SRV_STORE_TOO_LARGE, 1);
            error(c, BIN_ST_E2BIG);
        }
        return SRV_CONTINUE;
    default:
        break;
    }
    switch (r->cmd) {
    case BIN_GET: case BIN_GETK: case BIN_TOUCH: case BIN_GAT: case BIN_GATK:
        exec_get(c, r);
        break;
    case BIN_SET: case BIN_ADD: case BIN_REPLACE: case BIN_APPEND: case BIN_PREPEND:
        exec_store(c, r);
        break;
    case BIN_DELETE:
        exec_delete(c, r);
        break;
    case BIN_INCREMENT: case BIN_DECREMENT:
        exec_arith(c, r);
        break;
    case BIN_QUIT:
        success(c, NULL, 0, 0);
        return SRV_CLOSE;
    case BIN_FLUSH:
        exec_flush(c, r);
        break;
    case BIN_NOOP:
        success(c, NULL, 0, 0);
        break;
    case BIN_VERSION: {
        const char *v = c->set->version ? c->set->version : SHMC_VERSION_STRING;
        success(c, v, (uint32_t)strlen(v), 0);
        break;
    }
    case BIN_STAT:
        exec_stat(c, r);
        break;
    case BIN_SASL_LIST_MECHS: case BIN_SASL_AUTH: case BIN_SASL_STEP:
        exec_sasl(c, r);
        break;
    default:
        error(c, BIN_ST_UNKNOWN_COMMAND);
        break;
    }
    return SRV_CONTINUE;
}

/* Whether r is a Get or GetK (quiet or not) that exec_get_batch may read
 * with others: well formed, nothing to skip, and allowed (-S). */
static bool batchable(const bctx *c, const bin_request *r)
{
    return r->err == BE_NONE && r->swallow == 0 && (r->cmd == BIN_GET || r->cmd == BIN_GETK) &&
           !(c->set->sasl && !c->s->sasl_authenticated && needs_auth(r->h.opcode));
}

/* Parse the first request of in[0..len) into r, with the limits of this
 * server (proto_binary_parse's return). */
static long parse_request(const bctx *c, const char *in, size_t len, bin_request *r)
{
    r->item_size_max = c->set->item_size_max;
    r->no_cas = !c->set->cas_enabled;
    return proto_binary_parse((const unsigned char *)in, len, r);
}

/* Parse into reqs[1..] the batchable requests that follow reqs[0] in
 * in[0..len), whole ones only, up to SRV_GET_BATCH in all.  Returns how many
 * reqs hold (1 if none follows), *used the bytes after reqs[0] they take;
 * the first that is not batchable, or not whole, is left for the loop. */
static size_t gather_gets(const bctx *c, const char *in, size_t len, bin_request *reqs,
                          size_t *used)
{
    size_t k = 1;
    *used = 0;
    while (k < SRV_GET_BATCH && *used < len) {
        long n = parse_request(c, in + *used, len - *used, &reqs[k]);
        if (n <= 0 || !batchable(c, &reqs[k]))
            break;
        *used += (size_t)n;
        k++;
    }
    return k;
}

size_t proto_binary_process(srv_session *s, const char *in, size_t len, srv_buf *out,
                            enum srv_action *action)
{
    bctx c = {
        .s = s,
        .cache = s->cache,
        .set = s->settings ? s->settings : &default_settings,
        .out = out,
        .oom = false,
    };
    size_t off = 0;
    *action = SRV_CONTINUE;
    if (c.set->auth) { /* -Y: its auth is a text exchange; binary cannot log in */
        *action = SRV_CLOSE;
        return len;
    }
    while (off < len) {
        if (s->bin_swallow > 0) {
            size_t n = len - off < s->bin_swallow ? len - off : (size_t)s->bin_swallow;
            off += n;
            s->bin_swallow -= n;
            continue;
        }
        bin_request r;
        long n = parse_request(&c, in + off, len - off, &r);
        if (n == BIN_NEED_MORE)
            break;
        if (n < 0) {
            *action = SRV_CLOSE;
            return len;
        }
        off += (size_t)n;
        s->bin_swallow = r.swallow;
        c.r = &r;
        enum srv_action a = SRV_CONTINUE;
        bin_request reqs[SRV_GET_BATCH];
        size_t used = 0, k = 0;
        if (batchable(&c, &r)) {
            reqs[0] = r;
            k = gather_gets(&c, in + off, len - off, reqs, &used);
        }
        if (k > 1) {
            off += used;
            exec_get_batch(&c, reqs, k);
        } else {
            a = execute(&c, &r);
        }
        if (c.oom) {
            *action = SRV_CLOSE;
            return len;
        }
        if (c.retired) { /* the cache is gone: nothing more is served */
            *action = SRV_RETIRED;
            return len;
        }
        if (a != SRV_CONTINUE) {
            *action = a;
            return off;
        }
    }
    return off;
}
