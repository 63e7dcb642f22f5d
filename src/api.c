/*
 * api.c - the public entry points declared in include/shmcached.h.
 *
 * Owns: argument validation and the handle's life cycle.  Every call that
 * touches the segment goes gate_enter() -> argument checks -> items.c (or
 * stats.c, check.c) -> gate_leave(), so a bad handle or argument costs the
 * caller an error, never the cache: a handle must be a live one of the
 * vault, and every caller range [p, p+len) must lie outside the library's
 * memory (vault_range_ok), checked before the segment is touched.  Caller
 * memory a pointer names is read once, into locals, so another thread
 * cannot change it between the check and the use.  While someone
 * watches (events.h), each call on a key records its event here, after
 * its work, in a cold function (the key is read again for it: another
 * thread changing it meanwhile changes only the event); without a
 * watcher that costs a load and a branch.  Maintenance that memcached
 * runs in background threads is paced here: every MAINTAIN_EVERY calls,
 * the calling thread does one round.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bounds.h"
#include "cache.h"
#include "crawler.h"
#include "events.h"
#include "gate.h"
#include "hash.h"
#include "items.h"
#include "lockdown.h"
#include "mem.h"
#include "protect.h"
#include "registry.h"
#include "segment.h"
#include "slabs.h"

#define MAINTAIN_EVERY 4096u        /* calls per lane between maintenance rounds */
#define REAP_EVERY (MAINTAIN_EVERY * 256u) /* calls per lane between dead-client sweeps */

/* Is [p, p+len) caller memory (vault.h)?  In an entry point, inside the gate. */
#define ARG_OK(p, len) vault_range_ok((p), (len), frame)

__thread uint32_t gate_thread_lane;
__thread uint32_t gate_thread_inside;

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

/* opts, or the defaults and environment when NULL. */
static shmc_status options_or_default(const shmc_options *opts, shmc_options *buf,
                                      const shmc_options **use)
{
    *use = opts;
    if (opts)
        return opts->protection > SHMC_PROTECT_NONE || opts->lock_wait_ms < -1 ||
                       opts->lock_wait_ms > SHMC_LOCK_WAIT_MS_MAX
                   ? SHMC_INVALID
                   : SHMC_OK;
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
    opts->lock_wait_ms = SHMC_LOCK_WAIT_MS_DEFAULT;
    const char *wait = getenv("SHMC_LOCK_WAIT_MS");
    if (wait && *wait) {
        char *end;
        errno = 0;
        long ms = strtol(wait, &end, 10);
        if (*end || errno || ms < -1 || ms > SHMC_LOCK_WAIT_MS_MAX)
            return SHMC_INVALID;
        opts->lock_wait_ms = (int)ms;
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
    return vault_handle_ok(c) && protect_g.pkey >= 0 ? SHMC_PROTECT_MPK : SHMC_PROTECT_NONE;
}

/* The fork child's handler: handles inherited from the parent name the
 * parent's client slot, so the child must not use them (include/shmcached.h). */
static void api_atfork_child(void)
{
    if (!protect_g.vault)
        return;
    gate_open();
    vault_mark_forked();
    gate_close();
}

static void api_atfork_child_register(void)
{
    pthread_atfork(NULL, NULL, api_atfork_child);
}

/* Decide the process's protection (first attach), scan the process, and
 * refuse in strict mode if it has foreign PKRU writers. */
static shmc_status api_protect(const shmc_options *opts, unsigned *writers)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    shmc_status st = protect_decide(opts->protection);
    if (st != SHMC_OK)
        return st;
    pthread_once(&once, api_atfork_child_register);
    *writers = 0;
    if (protect_g.pkey < 0)
        return SHMC_OK;
    unsigned xrstor;
    *writers = protect_scan(&xrstor);
    return opts->strict && *writers ? SHMC_UNSAFE_PROCESS : SHMC_OK;
}

/* Is [p, p+n) caller memory?  For calls that have no handle yet (the
 * process's protection is decided, so the vault exists). */
static bool api_caller_ok(const void *p, size_t n, uintptr_t frame)
{
    gate_open();
    bool ok = vault_range_ok(p, n, frame);
    gate_close();
    return ok;
}

/* Move the handle built in tmp (segment mapped, outside any gate) into the
 * vault and claim a client slot; on error the mapping is undone. */
static shmc_status api_install(shmc_cache *tmp, shmc_cache **out)
{
    client_id me;
    registry_identify(&me);
    shmc_status st = SHMC_OK;
    gate_open();
    shmc_cache *c = vault_handle_new();
    if (!c) {
        st = SHMC_SYSTEM;
        errno = EMFILE;
    } else if (!vault_add_map(tmp->base, tmp->size)) {
        vault_handle_free(c);
        st = SHMC_SYSTEM;
        errno = EMFILE;
    } else {
        uint32_t magic = c->magic;
        *c = *tmp;
        c->magic = magic;
        st = registry_attach(c, &me);
        if (st == SHMC_OK) {
            c->magic = HANDLE_LIVE;
        } else {
            vault_remove_map(c->base);
            vault_handle_free(c);
        }
    }
    bool locked = protect_g.vault->h.locked_down;
    gate_close();
    if (st != SHMC_OK) {
        segment_detach(tmp);
        return st;
    }
    /* a segment attached after lockdown: its own filters, or no attach */
    if (locked && lockdown_add_region(tmp->base, tmp->size) != 0) {
        int e = errno;
        shmc_close(c);       /* leaves the mapping: locked down */
        segment_detach(tmp); /* unmapped, unless a filter already covers it */
        errno = e;
        return SHMC_SYSTEM;
    }
    *out = c;
    return SHMC_OK;
}

/* What create and open do before they touch a file: decide the
 * process's protection and scan it (api_protect), and check *out, which
 * is written at the end; tmp is the handle under construction. */
static shmc_status api_prepare(const shmc_options *opts, shmc_cache **out, uintptr_t frame,
                               shmc_cache *tmp)
{
    memset(tmp, 0, sizeof *tmp);
    tmp->wait_ns = opts->lock_wait_ms < 0 ? -1 : (int64_t)opts->lock_wait_ms * 1000000;
    shmc_status st = api_protect(opts, &tmp->pkru_writers);
    if (st == SHMC_OK && !api_caller_ok(out, sizeof *out, frame))
        st = SHMC_INVALID; /* *out is written: not into the library's memory */
    return st;
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
    shmc_cache tmp;
    shmc_status st = api_prepare(opts, out, GATE_FRAME(), &tmp);
    if (st == SHMC_OK)
        st = segment_create(&tmp, path, cfg);
    return st == SHMC_OK ? api_install(&tmp, out) : st;
}

shmc_status shmc_open_with(const char *path, const shmc_options *opts, shmc_cache **out)
{
    shmc_options obuf;
    if (!path || !*path || !out || options_or_default(opts, &obuf, &opts) != SHMC_OK)
        return SHMC_INVALID;
    shmc_cache tmp;
    shmc_status st = api_prepare(opts, out, GATE_FRAME(), &tmp);
    if (st == SHMC_OK)
        st = segment_attach(&tmp, path);
    return st == SHMC_OK ? api_install(&tmp, out) : st;
}

shmc_status shmc_create(const char *path, const shmc_config *cfg, shmc_cache **out)
{
    return shmc_create_with(path, cfg, NULL, out);
}

shmc_status shmc_open(const char *path, shmc_cache **out)
{
    return shmc_open_with(path, NULL, out);
}

void shmc_close(shmc_cache *c)
{
    if (!vault_handle_ok(c))
        return;
    gate_open();
    uint32_t magic = c->magic;
    shmc_cache copy = *c;
    if (magic == HANDLE_LIVE)
        registry_detach(c);
    if (magic == HANDLE_LIVE || magic == HANDLE_FORKED) {
        vault_remove_map(c->base);
        vault_handle_free(c);
    }
    bool locked = protect_g.vault->h.locked_down;
    gate_close();
    /* after lockdown the mapping stays: its filter forbids unmapping it */
    if ((magic == HANDLE_LIVE || magic == HANDLE_FORKED) && !locked)
        segment_detach(&copy);
}

shmc_status shmc_destroy(const char *path)
{
    return shmc_destroy_with(path, 0);
}

/* Live clients attached to the segment at path, this process's handles
 * included; SHMC_OK and *n, or why it could not be attached. */
static shmc_status api_live_clients(const char *path, uint64_t *n)
{
    shmc_cache *c;
    shmc_stats st;
    shmc_status rc = shmc_open(path, &c);
    if (rc != SHMC_OK)
        return rc;
    rc = shmc_stats_get(c, &st);
    shmc_close(c);
    *n = st.curr_clients - 1; /* not the handle that counted */
    return rc;
}

shmc_status shmc_destroy_with(const char *path, unsigned flags)
{
    if (!path || !*path || (flags & ~SHMC_DESTROY_UNUSED))
        return SHMC_INVALID;
    if (flags & SHMC_DESTROY_UNUSED) {
        uint64_t live = 0;
        shmc_status st = api_live_clients(path, &live);
        if (st != SHMC_OK)
            return st;
        if (live)
            return SHMC_BUSY;
    }
    shmc_status st = segment_retire(path);
    if (st != SHMC_OK)
        return st;
    return unlink(path) == 0 ? SHMC_OK : SHMC_SYSTEM;
}

/* memcached's key rule as memcached enforces it: 1..250 bytes, of any
 * value (binary-protocol keys and base64 meta keys may hold any byte; the
 * text protocol cannot carry spaces or newlines, and its parser stops them
 * there).  A NULL key, or one in the library's memory, is a bad argument
 * rather than a bad key.  Inside the gate. */
static inline __attribute__((always_inline)) shmc_status
key_check(const void *key, size_t nkey, uintptr_t frame)
{
    if (!key)
        return SHMC_INVALID;
    if (nkey == 0 || nkey > SHMC_KEY_MAX)
        return SHMC_BAD_KEY;
    return ARG_OK(key, nkey) ? SHMC_OK : SHMC_INVALID;
}

/* An optional out-pointer of n bytes: NULL, or caller memory. */
#define OUT_OK(p) (!(p) || ARG_OK((p), sizeof *(p)))

/* Count k calls on lane n, running a maintenance round when they cross
 * the lane's next one (and a sweep for dead clients when they cross one). */
static void api_pace(shmc_cache *c, seg_counters *n, uint64_t k)
{
    uint64_t calls = __atomic_add_fetch(&n->calls, k, __ATOMIC_RELAXED);
    if (calls / MAINTAIN_EVERY != (calls - k) / MAINTAIN_EVERY)
        items_maintain(c, calls / REAP_EVERY != (calls - k) / REAP_EVERY);
}

/* Leave the gate after a call on lane n. */
static void api_leave(shmc_cache *c, seg_counters *n)
{
    api_pace(c, n, 1);
    gate_leave();
}

/* A get's event (someone watches). */
static __attribute__((noinline, cold)) void api_event_get(shmc_cache *c, shmc_status st,
                                                           bool touch, const void *key,
                                                           size_t nkey, const shmc_item_info *i)
{
    bool hit = st == SHMC_OK;
    events_put_key(c, SHMC_EV_GET, st, touch, key, nkey, hit ? i->ttl : -1,
                   hit ? i->class_id : 0, hit ? i->len : 0);
}

/* A store's event (someone watches). */
static __attribute__((noinline, cold)) void api_event_store(shmc_cache *c, shmc_status st,
                                                             shmc_store_mode mode,
                                                             const void *key, size_t nkey,
                                                             size_t vlen, int64_t exptime)
{
    events_put_key(c, SHMC_EV_STORE, st, mode, key, nkey, events_ttl(c, exptime),
                   events_class(c, nkey, vlen), vlen);
}

/* The event of a call on a key that stores no value (delete, arith,
 * touch, invalidate). */
static __attribute__((noinline, cold)) void api_event_key(shmc_cache *c, unsigned kind,
                                                           shmc_status st, unsigned op,
                                                           const void *key, size_t nkey,
                                                           int64_t ttl)
{
    events_put_key(c, kind, st, op, key, nkey, ttl, 0, 0);
}

/* The buffer of a read: o->buf and o->cap caller memory (unless only
 * the metadata is asked for), buf NULL only for a capacity of 0. */
static inline bool out_buf_ok(const item_out *o, uintptr_t frame)
{
    return o->no_value || (ARG_OK(o->buf, o->cap) && (o->buf || !o->cap));
}

/* The body of every single-key read, inside the gate: the key, then
 * o->buf and o->cap are checked, the item read, the event put and the
 * call counted.  The frame is the public entry point's. */
static shmc_status api_get_in(shmc_cache *c, const void *key, size_t nkey, bool touch,
                              int64_t exptime, item_out *o, uintptr_t frame)
{
    shmc_status st = key_check(key, nkey, frame);
    if (st != SHMC_OK)
        return st;
    if (!out_buf_ok(o, frame))
        return SHMC_INVALID;
    seg_counters *n = gate_lane(c);
    uint32_t damage = bounds_hits();
    st = bounds_status(damage, items_get(c, n, key, nkey, touch, exptime, o));
    if (events_on(c) && st != SHMC_BUFFER_TOO_SMALL) /* a size probe is no get */
        api_event_get(c, st, touch, key, nkey, &o->info);
    api_pace(c, n, 1);
    return st;
}

/* The common body of get, gat and get_alloc: the out-pointers are
 * checked, *len (if given: else o->cap is set) read once, and the
 * results written after the gate closes. */
static inline __attribute__((always_inline)) shmc_status
api_get(shmc_cache *c, const void *key, size_t nkey, bool touch, int64_t exptime, item_out *o,
        size_t *len, uint32_t *flags, uint64_t *cas, uintptr_t frame)
{
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    shmc_status st = SHMC_INVALID;
    if (OUT_OK(len) && OUT_OK(flags) && OUT_OK(cas)) {
        if (len)
            o->cap = *len;
        st = api_get_in(c, key, nkey, touch, exptime, o, frame);
    }
    gate_leave();
    if (st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL) {
        if (len)
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
    uintptr_t frame = GATE_FRAME();
    shmc_get_options o_in = {0};
    item_out o;
    item_out_plain(&o, buf, 0); /* not a designated initializer: see item_out_plain */
    o.no_value = !len;
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    shmc_status st = SHMC_INVALID;
    /* opts is caller memory like the others: checked, then read once */
    if (OUT_OK(len) && OUT_OK(info) && OUT_OK(opts)) {
        if (opts)
            o_in = *opts;
        o.no_bump = o_in.flags & SHMC_GET_NO_BUMP;
        o.recache_below = o_in.recache_below;
        o.cap = len ? *len : 0;
        if (!(o_in.flags & ~(SHMC_GET_NO_BUMP | SHMC_GET_TOUCH)))
            st = api_get_in(c, key, nkey, o_in.flags & SHMC_GET_TOUCH, o_in.exptime, &o, frame);
    }
    gate_leave();
    if (st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL) {
        if (len)
            *len = o.info.len;
        if (info)
            *info = o.info;
    }
    return st;
}

shmc_status shmc_get(shmc_cache *c, const void *key, size_t nkey, void *buf, size_t *len,
                     uint32_t *flags, uint64_t *cas)
{
    item_out o;
    item_out_plain(&o, buf, 0);
    if (!len)
        return SHMC_INVALID;
    return api_get(c, key, nkey, false, 0, &o, len, flags, cas, GATE_FRAME());
}

shmc_status shmc_gat(shmc_cache *c, const void *key, size_t nkey, int64_t exptime, void *buf,
                     size_t *len, uint32_t *flags, uint64_t *cas)
{
    item_out o;
    item_out_plain(&o, buf, 0);
    if (!len)
        return SHMC_INVALID;
    return api_get(c, key, nkey, true, exptime, &o, len, flags, cas, GATE_FRAME());
}

/* get_alloc: malloc is the caller's (it may be interposed), so it runs
 * outside the gate: learn the length, allocate, read; again if the value
 * grew meanwhile. */
shmc_status shmc_get_alloc(shmc_cache *c, const void *key, size_t nkey, void **value,
                           size_t *len, uint32_t *flags, uint64_t *cas)
{
    uintptr_t frame = GATE_FRAME();
    if (!value || !len)
        return SHMC_INVALID;
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    /* written outside the gate below: checked first, as api_get checks
     * flags and cas */
    bool ok = ARG_OK(value, sizeof *value) && ARG_OK(len, sizeof *len);
    gate_leave();
    if (!ok)
        return SHMC_INVALID;
    *value = NULL;
    size_t cap = 256;
    for (int tries = 0;; tries++) {
        void *p = malloc(cap ? cap : 1);
        if (!p)
            return SHMC_SYSTEM;
        item_out o;
        item_out_plain(&o, p, cap);
        shmc_status st = api_get(c, key, nkey, false, 0, &o, NULL, flags, cas, frame);
        size_t got = o.info.len;
        if (st == SHMC_OK) {
            *value = p;
            *len = got;
            return st;
        }
        free(p);
        if (st != SHMC_BUFFER_TOO_SMALL || tries == 8)
            return st == SHMC_BUFFER_TOO_SMALL ? SHMC_SYSTEM : st;
        cap = got; /* the length it has now */
    }
}

/*
 * Batched reads: the caller's entries are taken GET_CHUNK at a time.
 * Each entry is read once into an item_req, its key and buffer checked and
 * its key hashed; items_get_batch then reads the chunk in stages, so that
 * the keys' cache misses overlap; the results are written back.  The
 * caller's array is not read again after the check: another thread that
 * changes an entry meanwhile changes nothing of this read.
 */
#define GET_CHUNK 32 /* entries in one items_get_batch */

/* An entry read once into r and checked: the key, then the buffer; its
 * key hashed.  r->asked false (with the status) if refused.  Each field
 * is one load (atomic, so that the compiler cannot read the caller's
 * memory again where it would otherwise keep a copy). */
static void api_get_req(const shmc_value *v, item_req *r, uintptr_t frame)
{
    const void *key = __atomic_load_n(&v->key, __ATOMIC_RELAXED);
    void *buf = __atomic_load_n(&v->buf, __ATOMIC_RELAXED);
    size_t nkey = __atomic_load_n(&v->key_len, __ATOMIC_RELAXED);
    size_t cap = __atomic_load_n(&v->cap, __ATOMIC_RELAXED);
    r->key = key;
    r->nkey = nkey;
    item_out_plain(&r->out, buf, cap);
    r->status = key_check(key, nkey, frame);
    if (r->status == SHMC_OK && !out_buf_ok(&r->out, frame))
        r->status = SHMC_INVALID;
    r->asked = r->status == SHMC_OK;
    if (r->asked)
        r->hash = hash_key(key, nkey);
}

/* An entry's results written back (its event first, if events are on). */
static void api_get_result(shmc_cache *c, shmc_value *v, const item_req *r)
{
    shmc_status st = r->status;
    if (r->asked && events_on(c) && st != SHMC_BUFFER_TOO_SMALL) /* a size probe is no get */
        api_event_get(c, st, false, r->key, r->nkey, &r->out.info);
    if (st == SHMC_OK || st == SHMC_BUFFER_TOO_SMALL) {
        v->len = r->out.info.len;
        v->flags = r->out.info.flags;
        v->cas = r->out.info.cas;
    }
    v->status = st;
}

/* shmc_get_multi inside the gate, the array checked: chunk by chunk, the
 * lane's calls and lock-free hits counted after each. */
static void api_get_multi_in(shmc_cache *c, void *arr, size_t n, uintptr_t frame)
{
    shmc_value *v = arr;
    item_req r[GET_CHUNK];
    for (size_t at = 0; at < n; at += GET_CHUNK) {
        size_t m = n - at < GET_CHUNK ? n - at : GET_CHUNK;
        for (size_t i = 0; i < m; i++)
            api_get_req(&v[at + i], &r[i], frame);
        seg_counters *lane = gate_lane(c);
        item_batch b;
        items_batch_start(c, &b);
        items_get_batch(c, lane, r, m, &b);
        for (size_t i = 0; i < m; i++)
            api_get_result(c, &v[at + i], &r[i]);
        if (b.fast_hits)
            __atomic_fetch_add(&lane->get_hits, b.fast_hits, __ATOMIC_RELAXED);
        api_pace(c, lane, m);
    }
}

/* A batch of n entries of size bytes at arr, run by all() (inside the
 * gate), under one gate: the array is checked as a whole here, each
 * entry by all().  frame is the public entry point's. */
static shmc_status api_batch(shmc_cache *c, void *arr, size_t n, size_t size,
                             void (*all)(shmc_cache *, void *, size_t, uintptr_t),
                             uintptr_t frame)
{
    if (n > SIZE_MAX / size || (n && !arr))
        return SHMC_INVALID;
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    shmc_status st = SHMC_INVALID;
    if (ARG_OK(arr, n * size)) {
        all(c, arr, n, frame);
        st = SHMC_OK;
    }
    gate_leave();
    return st;
}

shmc_status shmc_get_multi(shmc_cache *c, shmc_value *values, size_t n)
{
    return api_batch(c, values, n, sizeof *values, api_get_multi_in, GATE_FRAME());
}

shmc_status shmc_store(shmc_cache *c, shmc_store_mode mode, const void *key, size_t nkey,
                       const void *value, size_t vlen, uint32_t flags, int64_t exptime,
                       uint64_t cas_in, uint64_t *cas_out)
{
    return shmc_store_ex(c, mode, key, nkey, value, vlen, flags, exptime, cas_in, 0, cas_out);
}

/* The checks of a store's plain values (no caller memory read). */
static shmc_status store_values_check(shmc_store_mode mode, const void *value, size_t vlen,
                                      uint64_t new_cas)
{
    if ((vlen && !value) || (uintptr_t)value + vlen < (uintptr_t)value ||
        (unsigned)mode > SHMC_CAS_STALE || new_cas >= SHMC_CAS_EXPLICIT_LIMIT)
        return SHMC_INVALID; /* a length from a failed read(), (size_t)-1, wraps */
    /* value + vlen does not wrap, so vlen < 2^47 (user addresses) and no
     * size sum of items.c can wrap; the size itself is items_store's */
    return SHMC_OK;
}

/* The body of every store, inside the gate: the checks, then the key is
 * copied (so that another thread cannot change it between the hash and
 * the copy into the item), then the store.  The frame is the public entry
 * point's. */
static shmc_status api_store_in(shmc_cache *c, shmc_store_mode mode, const void *key,
                                size_t nkey, const void *value, size_t vlen, uint32_t flags,
                                int64_t exptime, uint64_t cas_in, uint64_t new_cas,
                                uint64_t *cas, uintptr_t frame)
{
    shmc_status st = store_values_check(mode, value, vlen, new_cas);
    if (st == SHMC_OK)
        st = key_check(key, nkey, frame);
    if (st == SHMC_OK && !ARG_OK(value, vlen))
        st = SHMC_INVALID;
    if (st != SHMC_OK)
        return st;
    char kbuf[SHMC_KEY_MAX];
    mem_copy(kbuf, key, nkey);
    seg_counters *n = gate_lane(c);
    uint32_t damage = bounds_hits();
    st = items_store(c, n, mode, kbuf, nkey, value, vlen, flags, exptime, cas_in, new_cas, cas);
    st = bounds_status(damage, st);
    if (events_on(c))
        api_event_store(c, st, mode, kbuf, nkey, vlen, exptime);
    api_pace(c, n, 1);
    return st;
}

shmc_status shmc_store_ex(shmc_cache *c, shmc_store_mode mode, const void *key, size_t nkey,
                          const void *value, size_t vlen, uint32_t flags, int64_t exptime,
                          uint64_t cas_in, uint64_t new_cas, uint64_t *cas_out)
{
    uintptr_t frame = GATE_FRAME();
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    uint64_t cas = 0;
    shmc_status st = SHMC_INVALID;
    if (OUT_OK(cas_out))
        st = api_store_in(c, mode, key, nkey, value, vlen, flags, exptime, cas_in, new_cas, &cas,
                          frame);
    gate_leave();
    if (cas_out && st == SHMC_OK)
        *cas_out = cas;
    return st;
}

/* One entry of a batched store, inside the gate: read once into locals,
 * checked, stored; its results written back. */
static void api_store_one(shmc_cache *c, shmc_store_req *r, uintptr_t frame)
{
    shmc_store_req in = *r;
    uint64_t cas = 0;
    shmc_status st = api_store_in(c, in.mode, in.key, in.key_len, in.value, in.value_len,
                                  in.flags, in.exptime, in.cas_in, 0, &cas, frame);
    r->cas = st == SHMC_OK ? cas : 0;
    r->status = st;
}

/* shmc_store_multi inside the gate, the array checked: one entry after
 * another (a store's misses are few next to its locks and writes). */
static void api_store_multi_in(shmc_cache *c, void *arr, size_t n, uintptr_t frame)
{
    for (size_t i = 0; i < n; i++)
        api_store_one(c, (shmc_store_req *)arr + i, frame);
}

shmc_status shmc_store_multi(shmc_cache *c, shmc_store_req *reqs, size_t n)
{
    return api_batch(c, reqs, n, sizeof *reqs, api_store_multi_in, GATE_FRAME());
}

shmc_status shmc_set(shmc_cache *c, const void *key, size_t nkey, const void *value,
                     size_t vlen, uint32_t flags, int64_t exptime)
{
    return shmc_store(c, SHMC_SET, key, nkey, value, vlen, flags, exptime, 0, NULL);
}

/* Enter for a call on one key; SHMC_OK with the gate open, else the
 * gate is closed again. */
static inline __attribute__((always_inline)) shmc_status
api_enter_keyed(shmc_cache *c, const void *key, size_t nkey, uintptr_t frame)
{
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    shmc_status st = key_check(key, nkey, frame);
    if (st != SHMC_OK)
        gate_leave();
    return st;
}

shmc_status shmc_delete(shmc_cache *c, const void *key, size_t nkey, uint64_t cas)
{
    shmc_status st = api_enter_keyed(c, key, nkey, GATE_FRAME());
    if (st != SHMC_OK)
        return st;
    seg_counters *n = gate_lane(c);
    uint32_t damage = bounds_hits();
    st = bounds_status(damage, items_delete(c, n, key, nkey, cas));
    if (events_on(c))
        api_event_key(c, SHMC_EV_DELETE, st, 0, key, nkey, -1);
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
    uintptr_t frame = GATE_FRAME();
    if (new_cas >= SHMC_CAS_EXPLICIT_LIMIT)
        return SHMC_INVALID;
    shmc_status st = api_enter_keyed(c, key, nkey, frame);
    if (st != SHMC_OK)
        return st;
    if (!OUT_OK(result) || !OUT_OK(cas_out)) {
        gate_leave();
        return SHMC_INVALID;
    }
    uint64_t r = 0, cas = 0;
    seg_counters *n = gate_lane(c);
    uint32_t damage = bounds_hits();
    st = items_arith(c, n, key, nkey, incr, delta, cas_in, new_cas, &r, &cas);
    st = bounds_status(damage, st);
    if (events_on(c))
        api_event_key(c, SHMC_EV_ARITH, st, incr != 0, key, nkey, -1);
    api_leave(c, n);
    if (st == SHMC_OK) {
        if (result)
            *result = r;
        if (cas_out)
            *cas_out = cas;
    }
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
    uintptr_t frame = GATE_FRAME();
    if (new_cas >= SHMC_CAS_EXPLICIT_LIMIT)
        return SHMC_INVALID;
    shmc_status st = api_enter_keyed(c, key, nkey, frame);
    if (st != SHMC_OK)
        return st;
    if (!OUT_OK(exptime)) {
        gate_leave();
        return SHMC_INVALID;
    }
    int64_t exp = exptime ? *exptime : 0;
    seg_counters *n = gate_lane(c);
    uint32_t damage = bounds_hits();
    st = items_invalidate(c, n, key, nkey, cas_in, exptime ? &exp : NULL, new_cas);
    st = bounds_status(damage, st);
    if (events_on(c))
        api_event_key(c, SHMC_EV_DELETE, st, 1, key, nkey, exptime ? events_ttl(c, exp) : -1);
    api_leave(c, n);
    return st;
}

shmc_status shmc_touch(shmc_cache *c, const void *key, size_t nkey, int64_t exptime)
{
    shmc_status st = api_enter_keyed(c, key, nkey, GATE_FRAME());
    if (st != SHMC_OK)
        return st;
    seg_counters *n = gate_lane(c);
    uint32_t damage = bounds_hits();
    st = bounds_status(damage, items_touch(c, n, key, nkey, exptime));
    if (events_on(c))
        api_event_key(c, SHMC_EV_TOUCH, st, 0, key, nkey, events_ttl(c, exptime));
    api_leave(c, n);
    return st;
}

shmc_status shmc_flush_all(shmc_cache *c, int64_t delay)
{
    if (delay < 0)
        return SHMC_INVALID;
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    seg_counters *n = gate_lane(c);
    shmc_status st = items_flush(c, n, delay);
    api_leave(c, n);
    return st;
}

shmc_status shmc_maintain(shmc_cache *c)
{
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    uint32_t damage = bounds_hits();
    items_maintain(c, true);
    gst = bounds_status(damage, SHMC_OK);
    gate_leave();
    return gst;
}

shmc_status shmc_crawl(shmc_cache *c, unsigned class_id, uint32_t page, uint32_t max_pages,
                       shmc_crawl_result *out)
{
    shmc_status gst = gate_enter_out(c, out, sizeof *out, GATE_FRAME());
    if (gst != SHMC_OK)
        return gst;
    uint64_t npages = (c->pages_hi - c->pages_lo) / SEG_PAGE_SIZE;
    if (class_id > c->nclasses || page >= npages) {
        gate_leave();
        return SHMC_INVALID;
    }
    uint32_t damage = bounds_hits();
    crawl_tally t = {0, 0, 0};
    uint32_t next = crawler_walk(c, class_id, page, max_pages ? max_pages : UINT32_MAX, &t);
    gst = bounds_status(damage, SHMC_OK);
    gate_leave();
    *out = (shmc_crawl_result){t.checked, t.reclaimed, t.busy, next};
    return gst;
}

shmc_status shmc_slabs_reassign(shmc_cache *c, int src, unsigned dst)
{
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    int n = (int)c->nclasses;
    if (src < -1 || src == 0 || src > n || dst > (unsigned)n || src == (int)dst) {
        gate_leave();
        return SHMC_INVALID;
    }
    uint32_t damage = bounds_hits();
    gst = bounds_status(damage, slabs_move_page(c, src, dst));
    gate_leave();
    return gst;
}

shmc_status shmc_set_memlimit(shmc_cache *c, uint64_t bytes)
{
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    gst = slabs_set_limit(c, bytes);
    gate_leave();
    return gst;
}

shmc_status shmc_set_temp_lru(shmc_cache *c, uint32_t ttl)
{
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    __atomic_store_n(&c->hdr->temp_ttl, ttl, __ATOMIC_RELAXED);
    gate_leave();
    return SHMC_OK;
}

shmc_status shmc_recover(shmc_cache *c, unsigned *reaped)
{
    uintptr_t frame = GATE_FRAME();
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    unsigned n = 0;
    uint32_t damage = bounds_hits();
    shmc_status st = OUT_OK(reaped) ? registry_recover(c, &n) : SHMC_INVALID;
    st = bounds_status(damage, st);
    gate_leave();
    if (st == SHMC_OK && reaped)
        *reaped = n;
    return st;
}

shmc_status shmc_clock_advance(shmc_cache *c, int64_t seconds)
{
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    __atomic_fetch_add(&c->hdr->clock_offset, seconds, __ATOMIC_RELAXED);
    gate_leave();
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
        [SHMC_CORRUPT] =
            "segment is damaged (truncated, a header field out of range, or a broken structure)",
        [SHMC_PERMISSION] = "permission denied",
        [SHMC_FILE_EXISTS] = "file already exists",
        [SHMC_NO_FILE] = "no such segment file",
        [SHMC_TOO_MANY_CLIENTS] = "too many clients attached to the segment",
        [SHMC_SYSTEM] = "system error (see errno)",
        [SHMC_NO_PROTECTION] = "memory protection keys are not available (CPU or kernel)",
        [SHMC_UNSAFE_PROCESS] = "strict protection: code outside the library can write PKRU",
        [SHMC_BUSY] = "busy: a live client held a lock past the bound, a call re-entered "
                      "from a signal handler, or live clients are attached",
        [SHMC_STALE] = "segment was destroyed or replaced: close and open it again",
    };
    if ((unsigned)st >= SHMC_STATUS_COUNT)
        return "unknown status code";
    return text[st];
}
