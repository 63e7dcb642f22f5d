/*
 * api.c - the public entry points declared in include/shmcached.h.
 *
 * Owns: argument validation and the handle's life cycle.  Every call that
 * touches the segment goes gate_enter() -> items.c (or stats.c, check.c)
 * -> gate_leave(), and validates what the caller passed before any lock is
 * taken, so a bad argument costs the caller an error, never the cache.
 * Maintenance that memcached runs in background threads is paced here:
 * every MAINTAIN_EVERY calls, the calling thread does one round.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "gate.h"
#include "items.h"
#include "protect.h"
#include "registry.h"
#include "segment.h"

#define MAINTAIN_EVERY 4096u        /* calls per lane between maintenance rounds */
#define REAP_EVERY (MAINTAIN_EVERY * 256u) /* calls per lane between dead-client sweeps */

__thread uint32_t gate_thread_lane;

uint32_t gate_assign_lane(void)
{
    static uint32_t next; /* process-wide turn counter for lanes */
    gate_thread_lane = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % SEG_LANES + 1;
    return gate_thread_lane;
}

void shmc_config_init(shmc_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->mem_bytes = 64ull << 20;
    cfg->item_size_max = 1u << 20;
    cfg->chunk_size_min = 48;
    cfg->growth_factor = 1.25;
    cfg->hash_power = 16;
    cfg->max_clients = 256;
    cfg->hot_lru_pct = 20;
    cfg->warm_lru_pct = 40;
    cfg->slab_automove = 1;
    cfg->mode = 0600;
    cfg->group = (gid_t)-1;
}

static shmc_cache *handle_new(const char *path)
{
    shmc_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    c->pkey = -1;
    c->path = strdup(path);
    if (!c->path) {
        free(c);
        return NULL;
    }
    return c;
}

static void handle_free(shmc_cache *c)
{
    protect_teardown(c);
    segment_detach(c);
    free(c->path);
    free(c);
}

/* Protect the mapping and claim a client slot, or undo the attach. */
static shmc_status handle_register(shmc_cache *c, const shmc_options *opts, shmc_cache **out)
{
    shmc_status st = protect_setup(c, opts->protection, opts->strict);
    if (st == SHMC_OK) {
        gate_enter(c);
        st = registry_attach(c);
        gate_leave(c);
    }
    if (st != SHMC_OK) {
        int e = errno;
        handle_free(c);
        errno = e;
        return st;
    }
    *out = c;
    return SHMC_OK;
}

/* opts, or the defaults and environment when NULL. */
static shmc_status options_or_default(const shmc_options *opts, shmc_options *buf,
                                      const shmc_options **use)
{
    *use = opts;
    if (opts)
        return opts->protection > SHMC_PROTECT_NONE ? SHMC_INVALID : SHMC_OK;
    *use = buf;
    return shmc_options_init(buf);
}

shmc_status shmc_options_init(shmc_options *opts)
{
    if (!opts)
        return SHMC_INVALID;
    opts->protection = SHMC_PROTECT_AUTO;
    opts->strict = 0;
    const char *p = getenv("SHMC_PROTECTION");
    if (p && *p) {
        if (strcmp(p, "auto") == 0)
            opts->protection = SHMC_PROTECT_AUTO;
        else if (strcmp(p, "mpk") == 0)
            opts->protection = SHMC_PROTECT_MPK;
        else if (strcmp(p, "none") == 0)
            opts->protection = SHMC_PROTECT_NONE;
        else
            return SHMC_INVALID;
    }
    const char *strict = getenv("SHMC_PROTECTION_STRICT");
    if (strict && *strict) {
        if (strcmp(strict, "0") != 0 && strcmp(strict, "1") != 0)
            return SHMC_INVALID;
        opts->strict = strict[0] == '1';
    }
    return SHMC_OK;
}

const char *shmc_protection_name(shmc_protection p)
{
    switch (p) {
    case SHMC_PROTECT_AUTO: return "auto";
    case SHMC_PROTECT_MPK: return "mpk";
    case SHMC_PROTECT_NONE: return "none";
    }
    return "unknown";
}

shmc_protection shmc_protection_of(shmc_cache *c)
{
    return c ? c->protection : SHMC_PROTECT_NONE;
}

shmc_status shmc_create(const char *path, const shmc_config *cfg, shmc_cache **out)
{
    return shmc_create_with(path, cfg, NULL, out);
}

shmc_status shmc_open(const char *path, shmc_cache **out)
{
    return shmc_open_with(path, NULL, out);
}

shmc_status shmc_create_with(const char *path, const shmc_config *cfg,
                             const shmc_options *opts, shmc_cache **out)
{
    shmc_config def;
    shmc_options obuf;
    if (!path || !*path || !out || options_or_default(opts, &obuf, &opts) != SHMC_OK)
        return SHMC_INVALID;
    if (!cfg) {
        shmc_config_init(&def);
        cfg = &def;
    }
    if (segment_check_config(cfg) != SHMC_OK)
        return SHMC_INVALID;
    shmc_cache *c = handle_new(path);
    if (!c)
        return SHMC_SYSTEM;
    shmc_status st = segment_create(c, path, cfg);
    if (st != SHMC_OK) {
        int e = errno;
        handle_free(c);
        errno = e;
        return st;
    }
    return handle_register(c, opts, out);
}

shmc_status shmc_open_with(const char *path, const shmc_options *opts, shmc_cache **out)
{
    shmc_options obuf;
    if (!path || !*path || !out || options_or_default(opts, &obuf, &opts) != SHMC_OK)
        return SHMC_INVALID;
    shmc_cache *c = handle_new(path);
    if (!c)
        return SHMC_SYSTEM;
    shmc_status st = segment_attach(c, path);
    if (st != SHMC_OK) {
        int e = errno;
        handle_free(c);
        errno = e;
        return st;
    }
    return handle_register(c, opts, out);
}

void shmc_close(shmc_cache *c)
{
    if (!c)
        return;
    gate_enter(c);
    registry_detach(c);
    gate_leave(c);
    handle_free(c);
}

shmc_status shmc_destroy(const char *path)
{
    if (!path || !*path)
        return SHMC_INVALID;
    shmc_status st = segment_probe(path);
    if (st != SHMC_OK)
        return st;
    return unlink(path) == 0 ? SHMC_OK : SHMC_SYSTEM;
}

/* memcached's key rule as memcached enforces it: 1..250 bytes, of any
 * value (binary-protocol keys and base64 meta keys may hold any byte; the
 * text protocol cannot carry spaces or newlines, and its parser stops them
 * there).  A NULL key is a bad argument rather than a bad key. */
static shmc_status key_check(const void *key, size_t nkey)
{
    if (!key)
        return SHMC_INVALID;
    return nkey == 0 || nkey > SHMC_KEY_MAX ? SHMC_BAD_KEY : SHMC_OK;
}

/* The checks of every call on one key, made before entering the gate. */
static shmc_status api_check_keyed(const shmc_cache *c, const void *key, size_t nkey)
{
    return c ? key_check(key, nkey) : SHMC_INVALID;
}

/* Leave the gate, running a maintenance round when the lane is due one. */
static void api_leave(shmc_cache *c, seg_counters *n)
{
    uint64_t calls = __atomic_add_fetch(&n->calls, 1, __ATOMIC_RELAXED);
    if (calls % MAINTAIN_EVERY == 0)
        items_maintain(c, calls % REAP_EVERY == 0);
    gate_leave(c);
}

/* The common body of get, gat and get_alloc. */
static shmc_status api_get(shmc_cache *c, const void *key, size_t nkey, bool touch,
                           int64_t exptime, item_out *o, size_t *len, uint32_t *flags,
                           uint64_t *cas)
{
    if (!c || !len || (!o->alloced && !o->buf && o->cap))
        return SHMC_INVALID;
    shmc_status kst = key_check(key, nkey);
    if (kst != SHMC_OK)
        return kst;
    seg_counters *n = gate_enter(c);
    shmc_status st = items_get(c, n, key, nkey, touch, exptime, o);
    api_leave(c, n);
    if (st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL) {
        *len = o->info.len;
        if (flags)
            *flags = o->info.flags;
        if (cas)
            *cas = o->info.cas;
    }
    return st;
}

shmc_status shmc_get_info(shmc_cache *c, const void *key, size_t nkey,
                          const shmc_get_options *opts, void *buf, size_t *len,
                          shmc_item_info *info)
{
    static const shmc_get_options plain;
    size_t ignored = 0;
    if (!opts)
        opts = &plain;
    if (opts->flags & ~(SHMC_GET_NO_BUMP | SHMC_GET_TOUCH))
        return SHMC_INVALID;
    item_out o = {.buf = buf, .cap = len ? *len : 0, .no_value = !len,
                  .no_bump = opts->flags & SHMC_GET_NO_BUMP,
                  .recache_below = opts->recache_below};
    shmc_status st = api_get(c, key, nkey, opts->flags & SHMC_GET_TOUCH, opts->exptime, &o,
                             len ? len : &ignored, NULL, NULL);
    if ((st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL) && info)
        *info = o.info;
    return st;
}

shmc_status shmc_get(shmc_cache *c, const void *key, size_t nkey, void *buf, size_t *len,
                     uint32_t *flags, uint64_t *cas)
{
    item_out o = {.buf = buf, .cap = len ? *len : 0};
    return api_get(c, key, nkey, false, 0, &o, len, flags, cas);
}

shmc_status shmc_gat(shmc_cache *c, const void *key, size_t nkey, int64_t exptime, void *buf,
                     size_t *len, uint32_t *flags, uint64_t *cas)
{
    item_out o = {.buf = buf, .cap = len ? *len : 0};
    return api_get(c, key, nkey, true, exptime, &o, len, flags, cas);
}

shmc_status shmc_get_alloc(shmc_cache *c, const void *key, size_t nkey, void **value,
                           size_t *len, uint32_t *flags, uint64_t *cas)
{
    if (!value)
        return SHMC_INVALID;
    *value = NULL;
    item_out o = {.alloced = value};
    return api_get(c, key, nkey, false, 0, &o, len, flags, cas);
}

shmc_status shmc_get_multi(shmc_cache *c, shmc_value *values, size_t n)
{
    if (!c || (n && !values))
        return SHMC_INVALID;
    for (size_t i = 0; i < n; i++) {
        shmc_value *v = &values[i];
        v->len = v->cap;
        v->status = shmc_get(c, v->key, v->key_len, v->buf, &v->len, &v->flags, &v->cas);
    }
    return SHMC_OK;
}

shmc_status shmc_store(shmc_cache *c, shmc_store_mode mode, const void *key, size_t nkey,
                       const void *value, size_t vlen, uint32_t flags, int64_t exptime,
                       uint64_t cas_in, uint64_t *cas_out)
{
    return shmc_store_ex(c, mode, key, nkey, value, vlen, flags, exptime, cas_in, 0, cas_out);
}

shmc_status shmc_store_ex(shmc_cache *c, shmc_store_mode mode, const void *key, size_t nkey,
                          const void *value, size_t vlen, uint32_t flags, int64_t exptime,
                          uint64_t cas_in, uint64_t new_cas, uint64_t *cas_out)
{
    if (!c || (vlen && !value) || (unsigned)mode > SHMC_CAS_STALE ||
        new_cas >= SHMC_CAS_EXPLICIT_LIMIT)
        return SHMC_INVALID;
    shmc_status kst = key_check(key, nkey);
    if (kst != SHMC_OK)
        return kst;
    seg_counters *n = gate_enter(c);
    shmc_status st = items_store(c, n, mode, key, nkey, value, vlen, flags, exptime, cas_in,
                                 new_cas, cas_out);
    api_leave(c, n);
    return st;
}

shmc_status shmc_set(shmc_cache *c, const void *key, size_t nkey, const void *value,
                     size_t vlen, uint32_t flags, int64_t exptime)
{
    return shmc_store(c, SHMC_SET, key, nkey, value, vlen, flags, exptime, 0, NULL);
}

shmc_status shmc_delete(shmc_cache *c, const void *key, size_t nkey, uint64_t cas)
{
    shmc_status kst = api_check_keyed(c, key, nkey);
    if (kst != SHMC_OK)
        return kst;
    seg_counters *n = gate_enter(c);
    shmc_status st = items_delete(c, n, key, nkey, cas);
    api_leave(c, n);
    return st;
}

shmc_status shmc_arith(shmc_cache *c, const void *key, size_t nkey, int incr, uint64_t delta,
                       uint64_t cas_in, uint64_t *result, uint64_t *cas_out)
{
    return shmc_arith_ex(c, key, nkey, incr, delta, cas_in, 0, result, cas_out);
}

shmc_status shmc_arith_ex(shmc_cache *c, const void *key, size_t nkey, int incr,
                          uint64_t delta, uint64_t cas_in, uint64_t new_cas, uint64_t *result,
                          uint64_t *cas_out)
{
    if (new_cas >= SHMC_CAS_EXPLICIT_LIMIT)
        return SHMC_INVALID;
    shmc_status kst = api_check_keyed(c, key, nkey);
    if (kst != SHMC_OK)
        return kst;
    seg_counters *n = gate_enter(c);
    shmc_status st = items_arith(c, n, key, nkey, incr, delta, cas_in, new_cas, result, cas_out);
    api_leave(c, n);
    return st;
}

shmc_status shmc_incr(shmc_cache *c, const void *key, size_t nkey, uint64_t delta,
                      uint64_t *result)
{
    return shmc_arith(c, key, nkey, 1, delta, 0, result, NULL);
}

shmc_status shmc_decr(shmc_cache *c, const void *key, size_t nkey, uint64_t delta,
                      uint64_t *result)
{
    return shmc_arith(c, key, nkey, 0, delta, 0, result, NULL);
}

shmc_status shmc_invalidate(shmc_cache *c, const void *key, size_t nkey, uint64_t cas_in,
                            const int64_t *exptime, uint64_t new_cas)
{
    if (new_cas >= SHMC_CAS_EXPLICIT_LIMIT)
        return SHMC_INVALID;
    shmc_status kst = api_check_keyed(c, key, nkey);
    if (kst != SHMC_OK)
        return kst;
    seg_counters *n = gate_enter(c);
    shmc_status st = items_invalidate(c, n, key, nkey, cas_in, exptime, new_cas);
    api_leave(c, n);
    return st;
}

shmc_status shmc_touch(shmc_cache *c, const void *key, size_t nkey, int64_t exptime)
{
    shmc_status kst = api_check_keyed(c, key, nkey);
    if (kst != SHMC_OK)
        return kst;
    seg_counters *n = gate_enter(c);
    shmc_status st = items_touch(c, n, key, nkey, exptime);
    api_leave(c, n);
    return st;
}

shmc_status shmc_flush_all(shmc_cache *c, int64_t delay)
{
    if (!c || delay < 0)
        return SHMC_INVALID;
    seg_counters *n = gate_enter(c);
    shmc_status st = items_flush(c, n, delay);
    api_leave(c, n);
    return st;
}

shmc_status shmc_maintain(shmc_cache *c)
{
    if (!c)
        return SHMC_INVALID;
    gate_enter(c);
    items_maintain(c, true);
    gate_leave(c);
    return SHMC_OK;
}

shmc_status shmc_recover(shmc_cache *c, unsigned *reaped)
{
    if (!c)
        return SHMC_INVALID;
    gate_enter(c);
    shmc_status st = registry_recover(c, reaped);
    gate_leave(c);
    return st;
}

shmc_status shmc_clock_advance(shmc_cache *c, int64_t seconds)
{
    if (!c)
        return SHMC_INVALID;
    gate_enter(c);
    __atomic_fetch_add(&c->hdr->clock_offset, seconds, __ATOMIC_RELAXED);
    gate_leave(c);
    return SHMC_OK;
}

size_t shmc_item_overhead(void)
{
    return sizeof(item_t);
}

const char *shmc_strerror(shmc_status st)
{
    static const char *const text[SHMC_STATUS_COUNT] = {
        [SHMC_OK] = "success",
        [SHMC_NOT_FOUND] = "not found",
        [SHMC_NOT_STORED] = "not stored",
        [SHMC_EXISTS] = "item exists with another CAS value",
        [SHMC_NOT_NUMERIC] = "cannot increment or decrement non-numeric value",
        [SHMC_TOO_LARGE] = "object too large for cache",
        [SHMC_BAD_KEY] = "bad key: empty or longer than 250 bytes",
        [SHMC_NO_MEMORY] = "out of memory storing object",
        [SHMC_BUFFER_TOO_SMALL] = "buffer too small for the value",
        [SHMC_INVALID] = "invalid argument",
        [SHMC_NOT_SEGMENT] = "not a shmcached segment",
        [SHMC_BAD_VERSION] = "segment has an unsupported format version",
        [SHMC_CORRUPT] = "segment is truncated or its header is inconsistent",
        [SHMC_PERMISSION] = "permission denied",
        [SHMC_FILE_EXISTS] = "file already exists",
        [SHMC_NO_FILE] = "no such segment file",
        [SHMC_TOO_MANY_CLIENTS] = "too many clients attached to the segment",
        [SHMC_SYSTEM] = "system error (see errno)",
        [SHMC_NO_PROTECTION] = "memory protection keys are not available (CPU or kernel)",
        [SHMC_UNSAFE_PROCESS] = "strict protection: code outside the library can write PKRU",
    };
    if ((unsigned)st >= SHMC_STATUS_COUNT)
        return "unknown status code";
    return text[st];
}
