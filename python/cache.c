/*
 * cache.c - the Cache object: one library handle (shmc_cache) as Python
 * sees it, the low-level API under shmcached.Client.
 *
 * Owns: the handle's life (open, close, re-open after fork or close), the
 * calls into the library with their arguments converted and their results
 * copied into Python objects, and where the GIL is released.  Keys arrive
 * as bytes already checked (keys.c); the library checks them again.
 *
 * Fork: a pthread_atfork handler (module.c) bumps the fork generation.  A
 * Cache whose handle belongs to another generation is in a fork child: its
 * handle names the parent's client slot (the library refuses it with
 * SHMC_INVALID), so the Cache closes it and opens its own, or raises if it
 * was made with reopen_after_fork=False.  The child never acts as its
 * parent: it has its own slot under its own pid.
 *
 * The GIL: a copy of pyshmc_gil_threshold bytes or more runs without it.
 * The Cache then counts the call in flight, so that close() from another
 * thread meanwhile is refused instead of unmapping under the copy.
 */
#include "pyshmc.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SMALL_VALUE 2048 /* a get first copies into a stack buffer this large */
#define GROW_TRIES 8     /* a value that keeps growing between two reads: give up */

typedef struct {
    PyObject_HEAD
    shmc_cache *handle;           /* the library handle; NULL once closed */
    char *path;                   /* the segment's path (malloc'd), to re-open */
    shmc_options opts;            /* the options it was opened with */
    unsigned long fork_gen;       /* pyshmc_fork_generation when handle was opened */
    int reopen_after_fork;        /* 1: re-open in a fork child; 0: raise there */
    int reopen_closed;            /* 1: a call after close() opens again (pymemcache's
                                     Client reconnects after close) */
    int inflight;                 /* calls running with the GIL released */
} CacheObject;

/* ---------------------------------------------------------------- handle */

/* Open with the GIL held: two threads re-opening a closed Cache at once
 * must not both open (one handle would leak).  Opening is rare and short. */
static int cache_open(CacheObject *self)
{
    shmc_cache *h = NULL;
    shmc_status st = shmc_open_with(self->path, &self->opts, &h);
    if (st != SHMC_OK) {
        char what[64 + 256];
        snprintf(what, sizeof what, "open %.256s", self->path);
        pyshmc_raise(st, what);
        return -1;
    }
    self->handle = h;
    self->fork_gen = pyshmc_fork_generation;
    return 0;
}

/* The handle to call with, re-opened if this is a fork child or it was
 * closed and may be re-opened; NULL with an exception set. */
static shmc_cache *cache_handle(CacheObject *self)
{
    if (self->handle && self->fork_gen == pyshmc_fork_generation)
        return self->handle;
    if (self->handle) { /* the parent's handle, in a fork child */
        if (!self->reopen_after_fork) {
            pyshmc_raise(SHMC_INVALID, "this Cache was opened by the parent process before "
                                       "fork() (reopen_after_fork=False): open a new one");
            return NULL;
        }
        shmc_close(self->handle); /* accepted for an inherited handle: unmaps it */
        self->handle = NULL;
        self->inflight = 0;       /* the parent's threads are not here */
    } else if (!self->reopen_closed) {
        PyErr_SetString(PyExc_ValueError, "operation on a closed shmcached Cache");
        return NULL;
    }
    return cache_open(self) == 0 ? self->handle : NULL;
}

static PyObject *protection_arg(PyObject *prot, shmc_options *opts)
{
    if (prot == Py_None)
        return Py_None;
    const char *s = PyUnicode_Check(prot) ? PyUnicode_AsUTF8(prot) : NULL;
    if (s && !strcmp(s, "auto"))
        opts->protection = SHMC_PROTECT_AUTO;
    else if (s && !strcmp(s, "mpk"))
        opts->protection = SHMC_PROTECT_MPK;
    else if (s && !strcmp(s, "none"))
        opts->protection = SHMC_PROTECT_NONE;
    else
        return pyshmc_raise_illegal("protection must be 'auto', 'mpk' or 'none', not %R", prot);
    return Py_None;
}

/* The options from the environment (shmc_options_init), then the arguments. */
static int options_from(shmc_options *opts, PyObject *prot, PyObject *lock_wait_ms)
{
    shmc_status st = shmc_options_init(opts);
    if (st != SHMC_OK) {
        pyshmc_raise(st, "SHMC_PROTECTION, SHMC_PROTECTION_STRICT or SHMC_LOCK_WAIT_MS");
        return -1;
    }
    if (!protection_arg(prot, opts))
        return -1;
    if (lock_wait_ms != Py_None) {
        long ms = PyLong_AsLong(lock_wait_ms);
        if (ms == -1 && PyErr_Occurred())
            return -1;
        if (ms < -1 || ms > SHMC_LOCK_WAIT_MS_MAX) {
            pyshmc_raise_illegal("lock_wait_ms must be -1 or 0..3600000, not %R", lock_wait_ms);
            return -1;
        }
        opts->lock_wait_ms = (int)ms;
    }
    return 0;
}

static int cache_init(CacheObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"path", "protection", "lock_wait_ms", "reopen_after_fork",
                         "reopen_closed", NULL};
    PyObject *path, *prot = Py_None, *wait = Py_None;
    int reopen_fork = 1, reopen_closed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|OOpp:Cache", kw, PyUnicode_FSConverter,
                                     &path, &prot, &wait, &reopen_fork, &reopen_closed))
        return -1;
    int rc = -1;
    if (self->handle || self->path) {
        PyErr_SetString(PyExc_RuntimeError, "Cache.__init__ called twice");
        goto out;
    }
    if (options_from(&self->opts, prot, wait) < 0)
        goto out;
    self->path = strdup(PyBytes_AS_STRING(path));
    if (!self->path) {
        PyErr_NoMemory();
        goto out;
    }
    self->reopen_after_fork = reopen_fork;
    self->reopen_closed = reopen_closed;
    rc = cache_open(self);
out:
    Py_DECREF(path);
    return rc;
}

static void cache_dealloc(CacheObject *self)
{
    if (self->handle)
        shmc_close(self->handle); /* in a fork child too: accepted, unmaps it */
    free(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *cache_close(CacheObject *self, PyObject *unused)
{
    if (self->inflight > 0 && self->fork_gen == pyshmc_fork_generation) {
        PyErr_SetString(PyExc_RuntimeError, "close() while another thread is in a call");
        return NULL;
    }
    if (self->handle)
        shmc_close(self->handle);
    self->handle = NULL;
    Py_RETURN_NONE;
}

static PyObject *cache_enter(CacheObject *self, PyObject *unused)
{
    if (!cache_handle(self))
        return NULL;
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *cache_exit(CacheObject *self, PyObject *args)
{
    PyObject *r = cache_close(self, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

/* ---------------------------------------------------------------- reading */

/* (value, flags, cas) */
static PyObject *hit_tuple(PyObject *value, uint32_t flags, uint64_t cas)
{
    if (!value)
        return NULL;
    PyObject *t = Py_BuildValue("(NkK)", value, (unsigned long)flags, (unsigned long long)cas);
    return t;
}

/* A value longer than SMALL_VALUE: read into a bytes object of its size,
 * without the GIL if large, again if it grew meanwhile. */
static PyObject *get_large(CacheObject *self, shmc_cache *h, const char *key, size_t klen,
                           size_t need, uint32_t *flags, uint64_t *cas, shmc_status *st)
{
    for (int tries = 0; tries < GROW_TRIES; tries++) {
        PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)need);
        if (!b)
            return NULL;
        size_t len = need;
        if ((Py_ssize_t)need >= pyshmc_gil_threshold) {
            self->inflight++;
            Py_BEGIN_ALLOW_THREADS
            *st = shmc_get(h, key, klen, PyBytes_AS_STRING(b), &len, flags, cas);
            Py_END_ALLOW_THREADS
            self->inflight--;
        } else {
            *st = shmc_get(h, key, klen, PyBytes_AS_STRING(b), &len, flags, cas);
        }
        if (*st == SHMC_OK) {
            if (len != need && _PyBytes_Resize(&b, (Py_ssize_t)len) < 0)
                return NULL;
            return b;
        }
        Py_DECREF(b);
        if (*st != SHMC_BUFFER_TOO_SMALL)
            return NULL;
        need = len;
    }
    *st = SHMC_SYSTEM; /* the value kept growing (no system call failed) */
    errno = 0;
    return NULL;
}

/* get(key) -> (value, flags, cas), or None on a miss. */
static PyObject *cache_get(CacheObject *self, PyObject *key)
{
    if (!PyBytes_Check(key))
        return PyErr_Format(PyExc_TypeError, "key must be bytes");
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    char buf[SMALL_VALUE];
    size_t len = sizeof buf;
    uint32_t flags;
    uint64_t cas;
    const char *k = PyBytes_AS_STRING(key);
    size_t klen = (size_t)PyBytes_GET_SIZE(key);
    shmc_status st = shmc_get(h, k, klen, buf, &len, &flags, &cas);
    if (st == SHMC_OK)
        return hit_tuple(PyBytes_FromStringAndSize(buf, (Py_ssize_t)len), flags, cas);
    if (st == SHMC_BUFFER_TOO_SMALL) {
        PyObject *v = get_large(self, h, k, klen, len, &flags, &cas, &st);
        if (v)
            return hit_tuple(v, flags, cas);
        if (PyErr_Occurred())
            return NULL;
    }
    if (st == SHMC_NOT_FOUND)
        Py_RETURN_NONE;
    return pyshmc_raise(st, "get");
}

/* get(key) or get(key, allow_unicode, prefix): Client.get's one call. */
static PyObject *cache_get_py(CacheObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 1)
        return cache_get(self, args[0]);
    if (nargs != 3)
        return PyErr_Format(PyExc_TypeError, "get(key) or get(key, allow_unicode, prefix)");
    PyObject *key = pyshmc_check_key(NULL, args, nargs);
    if (!key)
        return NULL;
    PyObject *r = cache_get(self, key);
    Py_DECREF(key);
    return r;
}

/* Fill result with the hits of one shmc_get_multi batch over keys. */
static int multi_batch(CacheObject *self, shmc_cache *h, PyObject *keys, PyObject *result)
{
    Py_ssize_t n = PyTuple_GET_SIZE(keys);
    shmc_value *v = PyMem_Calloc((size_t)n, sizeof *v);
    char *arena = PyMem_Malloc((size_t)n * SMALL_VALUE);
    int rc = -1;
    if (!v || !arena) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = PyTuple_GET_ITEM(keys, i);
        if (!PyBytes_Check(k)) {
            PyErr_SetString(PyExc_TypeError, "keys must be bytes");
            goto out;
        }
        v[i] = (shmc_value){.key = PyBytes_AS_STRING(k), .key_len = (size_t)PyBytes_GET_SIZE(k),
                            .buf = arena + i * SMALL_VALUE, .cap = SMALL_VALUE};
    }
    shmc_status st;
    self->inflight++;
    Py_BEGIN_ALLOW_THREADS /* keys is a tuple of ours: nobody changes it meanwhile */
    st = shmc_get_multi(h, v, (size_t)n);
    Py_END_ALLOW_THREADS
    self->inflight--;
    if (st != SHMC_OK) {
        pyshmc_raise(st, "get_multi");
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = PyTuple_GET_ITEM(keys, i), *hit = NULL;
        if (v[i].status == SHMC_NOT_FOUND)
            continue;
        if (v[i].status == SHMC_OK)
            hit = hit_tuple(PyBytes_FromStringAndSize(v[i].buf, (Py_ssize_t)v[i].len), v[i].flags,
                            v[i].cas);
        else if (v[i].status == SHMC_BUFFER_TOO_SMALL)
            hit = cache_get(self, k);
        else
            pyshmc_raise(v[i].status, "get_multi");
        if (!hit)
            goto out;
        if (hit != Py_None && PyDict_SetItem(result, k, hit) < 0) {
            Py_DECREF(hit);
            goto out;
        }
        Py_DECREF(hit);
    }
    rc = 0;
out:
    PyMem_Free(v);
    PyMem_Free(arena);
    return rc;
}

/* get_multi(keys) -> {key: (value, flags, cas)} for the hits. */
static PyObject *cache_get_multi(CacheObject *self, PyObject *arg)
{
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    PyObject *keys = PySequence_Tuple(arg);
    if (!keys)
        return NULL;
    PyObject *result = PyDict_New();
    if (result && PyTuple_GET_SIZE(keys) > 0 && multi_batch(self, h, keys, result) < 0)
        Py_CLEAR(result);
    Py_DECREF(keys);
    return result;
}

/* One shmc_item_info as a dict. */
static PyObject *info_dict(const shmc_item_info *in)
{
    return Py_BuildValue("{s:k,s:K,s:n,s:L,s:k,s:O,s:I,s:O,s:i}", "flags", (unsigned long)in->flags,
                         "cas", (unsigned long long)in->cas, "len", (Py_ssize_t)in->len, "ttl",
                         (long long)in->ttl, "last_access", (unsigned long)in->last_access,
                         "fetched", in->fetched ? Py_True : Py_False, "class_id", in->class_id,
                         "stale", in->stale ? Py_True : Py_False, "win", in->win);
}

/* get_info(key, no_bump=False, touch=None, recache_below=0) -> dict or None
 * (the item's metadata, its value not copied). */
static PyObject *cache_get_info(CacheObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"key", "no_bump", "touch", "recache_below", NULL};
    PyObject *key, *touch = Py_None;
    int no_bump = 0;
    long long recache = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "S|pOL:get_info", kw, &key, &no_bump, &touch,
                                     &recache))
        return NULL;
    shmc_get_options o = {.flags = no_bump ? SHMC_GET_NO_BUMP : 0, .recache_below = recache};
    if (touch != Py_None) {
        o.exptime = PyLong_AsLongLong(touch);
        if (o.exptime == -1 && PyErr_Occurred())
            return NULL;
        o.flags |= SHMC_GET_TOUCH;
    }
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    shmc_item_info info;
    shmc_status st = shmc_get_info(h, PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key), &o,
                                   NULL, NULL, &info);
    if (st == SHMC_NOT_FOUND)
        Py_RETURN_NONE;
    if (st != SHMC_OK)
        return pyshmc_raise(st, "get_info");
    return info_dict(&info);
}

/* ---------------------------------------------------------------- writing */

/* *out = obj as an integer 0..max; else MemcacheIllegalInputError naming
 * what (the "k" and "K" formats would wrap silently instead). */
static int uint_arg(PyObject *obj, unsigned long long max, const char *what,
                    unsigned long long *out)
{
    if (!obj) {
        *out = 0;
        return 0;
    }
    unsigned long long v = PyLong_Check(obj) ? PyLong_AsUnsignedLongLong(obj) : (unsigned long long)-1;
    if ((v == (unsigned long long)-1 && PyErr_Occurred()) || !PyLong_Check(obj) || v > max) {
        PyErr_Clear();
        char fmt[96];
        snprintf(fmt, sizeof fmt, "%s must be an integer 0..%llu, not %%R", what, max);
        pyshmc_raise_illegal(fmt, obj);
        return -1;
    }
    *out = v;
    return 0;
}

/* store(mode, key, value, flags=0, exptime=0, cas=0) -> (status, new cas).
 * status: OK, NOT_STORED, EXISTS or NOT_FOUND; any other raises. */
static PyObject *cache_store(CacheObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"mode", "key", "value", "flags", "exptime", "cas", NULL};
    int mode;
    PyObject *key, *flags_obj = NULL, *cas_obj = NULL;
    Py_buffer val;
    unsigned long long flags, cas_in;
    long long exptime = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iSy*|OLO:store", kw, &mode, &key, &val,
                                     &flags_obj, &exptime, &cas_obj))
        return NULL;
    PyObject *r = NULL;
    if (mode < SHMC_SET || mode > SHMC_CAS_STALE) {
        PyObject *m = PyLong_FromLong(mode);
        if (m)
            pyshmc_raise_illegal("store: no such mode: %R", m);
        Py_XDECREF(m);
        goto out;
    }
    if (uint_arg(flags_obj, UINT32_MAX, "flags", &flags) < 0 ||
        uint_arg(cas_obj, UINT64_MAX, "cas", &cas_in) < 0)
        goto out;
    shmc_cache *h = cache_handle(self);
    if (!h)
        goto out;
    uint64_t cas_out = 0;
    shmc_status st;
    const char *k = PyBytes_AS_STRING(key);
    size_t klen = (size_t)PyBytes_GET_SIZE(key);
    if (val.len >= pyshmc_gil_threshold) {
        self->inflight++;
        Py_BEGIN_ALLOW_THREADS /* val is held: its buffer stays */
        st = shmc_store(h, (shmc_store_mode)mode, k, klen, val.buf, (size_t)val.len,
                        (uint32_t)flags, exptime, cas_in, &cas_out);
        Py_END_ALLOW_THREADS
        self->inflight--;
    } else {
        st = shmc_store(h, (shmc_store_mode)mode, k, klen, val.buf, (size_t)val.len,
                        (uint32_t)flags, exptime, cas_in, &cas_out);
    }
    if (st == SHMC_OK || st == SHMC_NOT_STORED || st == SHMC_EXISTS || st == SHMC_NOT_FOUND)
        r = Py_BuildValue("(iK)", (int)st, (unsigned long long)cas_out);
    else
        pyshmc_raise(st, "store");
out:
    PyBuffer_Release(&val);
    return r;
}

/* delete(key, cas=0) -> status (OK, NOT_FOUND or EXISTS). */
static PyObject *cache_delete(CacheObject *self, PyObject *args)
{
    PyObject *key, *cas_obj = NULL;
    unsigned long long cas;
    if (!PyArg_ParseTuple(args, "S|O:delete", &key, &cas_obj) ||
        uint_arg(cas_obj, UINT64_MAX, "cas", &cas) < 0)
        return NULL;
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    shmc_status st = shmc_delete(h, PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key), cas);
    if (st == SHMC_OK || st == SHMC_NOT_FOUND || st == SHMC_EXISTS)
        return PyLong_FromLong(st);
    return pyshmc_raise(st, "delete");
}

/* arith(key, incr, delta) -> the new value, or None on a miss. */
static PyObject *cache_arith(CacheObject *self, PyObject *args)
{
    PyObject *key, *delta_obj;
    int incr;
    if (!PyArg_ParseTuple(args, "SpO:arith", &key, &incr, &delta_obj))
        return NULL;
    unsigned long long delta = PyLong_AsUnsignedLongLong(delta_obj);
    if (delta == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return pyshmc_raise_illegal("delta must be an integer 0..2**64-1, not %R", delta_obj);
    }
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    uint64_t result = 0;
    const char *k = PyBytes_AS_STRING(key);
    size_t klen = (size_t)PyBytes_GET_SIZE(key);
    shmc_status st = incr ? shmc_incr(h, k, klen, delta, &result)
                          : shmc_decr(h, k, klen, delta, &result);
    if (st == SHMC_OK)
        return PyLong_FromUnsignedLongLong(result);
    if (st == SHMC_NOT_FOUND)
        Py_RETURN_NONE;
    return pyshmc_raise(st, incr ? "incr" : "decr");
}

/* touch(key, exptime) -> True, or False on a miss. */
static PyObject *cache_touch(CacheObject *self, PyObject *args)
{
    PyObject *key;
    long long exptime;
    if (!PyArg_ParseTuple(args, "SL:touch", &key, &exptime))
        return NULL;
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    shmc_status st = shmc_touch(h, PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key), exptime);
    if (st == SHMC_OK || st == SHMC_NOT_FOUND)
        return PyBool_FromLong(st == SHMC_OK);
    return pyshmc_raise(st, "touch");
}

/* flush_all(delay=0) */
static PyObject *cache_flush_all(CacheObject *self, PyObject *args)
{
    long long delay = 0;
    if (!PyArg_ParseTuple(args, "|L:flush_all", &delay))
        return NULL;
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    shmc_status st = shmc_flush_all(h, delay);
    if (st != SHMC_OK)
        return pyshmc_raise(st, "flush_all");
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- state */

/* shmc_stats's fields, by name. */
static const struct {
    const char *name;   /* memcached's name (the field's) */
    size_t off;         /* offsetof(shmc_stats, field) */
} stat_fields[] = {
#define F(f) {#f, offsetof(shmc_stats, f)}
    F(curr_items), F(total_items), F(bytes), F(limit_maxbytes), F(get_hits), F(get_misses),
    F(get_expired), F(get_flushed), F(cmd_get), F(cmd_set), F(cmd_touch), F(cmd_flush),
    F(delete_hits), F(delete_misses), F(incr_hits), F(incr_misses), F(decr_hits),
    F(decr_misses), F(cas_hits), F(cas_misses), F(cas_badval), F(touch_hits), F(touch_misses),
    F(evictions), F(expired_unfetched), F(evicted_unfetched), F(reclaimed), F(slabs_moved),
    F(total_pages), F(free_pages), F(hash_power_level), F(hash_buckets), F(curr_clients),
    F(dead_clients), F(clients_recovered), F(locks_repaired), F(protection), F(pkru_writers),
    F(uptime), F(time),
#undef F
};
_Static_assert(sizeof stat_fields / sizeof stat_fields[0] * sizeof(uint64_t) == sizeof(shmc_stats),
               "a field of shmc_stats missing from stat_fields");

/* shmc_stats() -> {name: int} */
static PyObject *cache_stats(CacheObject *self, PyObject *unused)
{
    shmc_cache *h = cache_handle(self);
    if (!h)
        return NULL;
    shmc_stats s;
    shmc_status st = shmc_stats_get(h, &s);
    if (st != SHMC_OK)
        return pyshmc_raise(st, "stats");
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < sizeof stat_fields / sizeof stat_fields[0]; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&s + stat_fields[i].off, sizeof v);
        PyObject *o = PyLong_FromUnsignedLongLong(v);
        if (!o || PyDict_SetItemString(d, stat_fields[i].name, o) < 0)
            Py_CLEAR(d);
        Py_XDECREF(o);
    }
    return d;
}

static PyObject *cache_protection(CacheObject *self, void *unused)
{
    shmc_cache *h = cache_handle(self);
    return h ? PyUnicode_FromString(shmc_protection_name(shmc_protection_of(h))) : NULL;
}

static PyObject *cache_closed(CacheObject *self, void *unused)
{
    return PyBool_FromLong(self->handle == NULL);
}

static PyObject *cache_inflight(CacheObject *self, void *unused)
{
    return PyLong_FromLong(self->inflight);
}

static PyObject *cache_path(CacheObject *self, void *unused)
{
    return PyUnicode_DecodeFSDefault(self->path ? self->path : "");
}

/* _bench_get(keys: tuple of bytes, rounds) -> nanoseconds per shmc_get:
 * the library's own cost, in a C loop, for bench/python_bench.py to split
 * a Python get between the interpreter and the library. */
static PyObject *cache_bench_get(CacheObject *self, PyObject *args)
{
    PyObject *keys;
    Py_ssize_t rounds;
    if (!PyArg_ParseTuple(args, "O!n:_bench_get", &PyTuple_Type, &keys, &rounds))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(keys);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!PyBytes_Check(PyTuple_GET_ITEM(keys, i)))
            return PyErr_Format(PyExc_TypeError, "keys must be bytes");
    shmc_cache *h = cache_handle(self);
    if (!h || n == 0 || rounds <= 0)
        return h ? pyshmc_raise_illegal("_bench_get: keys and rounds > 0, %R", args) : NULL;
    char buf[SMALL_VALUE];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (Py_ssize_t r = 0; r < rounds; r++)
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *k = PyTuple_GET_ITEM(keys, i);
            size_t len = sizeof buf;
            shmc_get(h, PyBytes_AS_STRING(k), (size_t)PyBytes_GET_SIZE(k), buf, &len, NULL, NULL);
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    return PyFloat_FromDouble(ns / ((double)rounds * (double)n));
}

static PyMethodDef cache_methods[] = {
    {"get", (PyCFunction)(void (*)(void))cache_get_py, METH_FASTCALL,
     "get(key: bytes) -> (value, flags, cas) or None; get(key, allow_unicode, prefix): "
     "the key checked first by pymemcache's rules (check_key)"},
    {"get_multi", (PyCFunction)cache_get_multi, METH_O,
     "get_multi(keys) -> {key: (value, flags, cas)} for the keys found (one library call)"},
    {"get_info", (PyCFunction)(void (*)(void))cache_get_info, METH_VARARGS | METH_KEYWORDS,
     "get_info(key, no_bump=False, touch=None, recache_below=0) -> dict or None"},
    {"store", (PyCFunction)(void (*)(void))cache_store, METH_VARARGS | METH_KEYWORDS,
     "store(mode, key, value, flags=0, exptime=0, cas=0) -> (status, new cas)"},
    {"delete", (PyCFunction)cache_delete, METH_VARARGS,
     "delete(key, cas=0) -> status (SHMC_OK, SHMC_NOT_FOUND, SHMC_EXISTS)"},
    {"arith", (PyCFunction)cache_arith, METH_VARARGS,
     "arith(key, incr: bool, delta) -> new value, or None if missing"},
    {"touch", (PyCFunction)cache_touch, METH_VARARGS, "touch(key, exptime) -> bool"},
    {"flush_all", (PyCFunction)cache_flush_all, METH_VARARGS, "flush_all(delay=0)"},
    {"shmc_stats", (PyCFunction)cache_stats, METH_NOARGS, "shmc_stats() -> dict of shmc_stats"},
    {"_bench_get", (PyCFunction)cache_bench_get, METH_VARARGS,
     "_bench_get(keys: tuple of bytes, rounds) -> ns per shmc_get in a C loop"},
    {"close", (PyCFunction)cache_close, METH_NOARGS, "close the handle"},
    {"__enter__", (PyCFunction)cache_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)cache_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef cache_getset[] = {
    {"protection", (getter)cache_protection, NULL, "'mpk' or 'none'", NULL},
    {"closed", (getter)cache_closed, NULL, "True once closed", NULL},
    {"path", (getter)cache_path, NULL, "the segment's path", NULL},
    {"_inflight", (getter)cache_inflight, NULL,
     "calls running without the GIL now (seen from another thread: the GIL was released)",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pyshmc_CacheType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmcached._shmcached.Cache",
    .tp_basicsize = sizeof(CacheObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Cache(path, protection=None, lock_wait_ms=None, reopen_after_fork=True, "
              "reopen_closed=False): a handle on the segment at path",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)cache_init,
    .tp_dealloc = (destructor)cache_dealloc,
    .tp_methods = cache_methods,
    .tp_getset = cache_getset,
};

/* ---------------------------------------------------------------- segments */

PyObject *pyshmc_create(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"path", "mem_bytes", "item_size_max", "protection", NULL};
    PyObject *path, *prot = Py_None;
    unsigned long long mem = 0;
    unsigned int isz = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|KIO:create", kw, PyUnicode_FSConverter,
                                     &path, &mem, &isz, &prot))
        return NULL;
    shmc_config cfg;
    shmc_config_init(&cfg);
    if (mem)
        cfg.mem_bytes = mem;
    if (isz)
        cfg.item_size_max = isz;
    shmc_options opts;
    shmc_cache *h = NULL;
    CacheObject *self = NULL;
    if (options_from(&opts, prot, Py_None) < 0)
        goto out;
    shmc_status st = shmc_create_with(PyBytes_AS_STRING(path), &cfg, &opts, &h);
    if (st != SHMC_OK) {
        pyshmc_raise(st, "create");
        goto out;
    }
    self = PyObject_New(CacheObject, &pyshmc_CacheType);
    if (!self) {
        shmc_close(h);
        goto out;
    }
    self->handle = h; /* dealloc closes it */
    self->path = strdup(PyBytes_AS_STRING(path));
    if (!self->path) {
        Py_CLEAR(self);
        PyErr_NoMemory();
        goto out;
    }
    self->opts = opts;
    self->fork_gen = pyshmc_fork_generation;
    self->reopen_after_fork = 1;
    self->reopen_closed = 0;
    self->inflight = 0;
out:
    Py_DECREF(path);
    return (PyObject *)self;
}

PyObject *pyshmc_destroy(PyObject *module, PyObject *arg)
{
    PyObject *path;
    if (!PyUnicode_FSConverter(arg, &path))
        return NULL;
    shmc_status st = shmc_destroy(PyBytes_AS_STRING(path));
    Py_DECREF(path);
    if (st != SHMC_OK)
        return pyshmc_raise(st, "destroy");
    Py_RETURN_NONE;
}
