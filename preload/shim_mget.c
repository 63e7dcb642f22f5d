/*
 * shim_mget.c - memcached_mget, _mget_by_key, _fetch, _fetch_result and
 * _fetch_execute with some keys on local segments.
 *
 * An mget reads its local keys at once (hits only, as a server answers)
 * into the memcached_st's shim state (state.c), and sends the others to
 * the real mget.  The fetch calls hand out the local results first, then
 * the real ones, then END: so a program sees each hit once and END after
 * both, and libmemcached's own state only ever holds the remote part.
 * An mget with no local key is the real call alone (and forgets the
 * results of a former one still pending here, as libmemcached would).
 * The fetch calls pass through with CALL_REAL, not PASS_REAL: unlike the
 * others, libmemcached's do not clear the error state (errors.c).
 */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

REAL_SLOT(memcached_mget_by_key);
REAL_SLOT(memcached_fetch);
REAL_SLOT(memcached_fetch_result);
REAL_SLOT(memcached_fetch_execute);

/* Keep the outcome of reading key (routed to r) in st's results: 1 if it
 * was served here (a hit, kept, or a miss), 0 if it must go to the real
 * mget (no memory for the copy, or the segment failed: then it is marked
 * so). */
static int mget_take(shim_memc *st, const shim_route *r, const char *key, size_t key_len,
                     shmc_status s, const char *value, size_t len, uint32_t flags, uint64_t cas)
{
    if (s == SHMC_NOT_FOUND)
        return 1;
    char *copy = s == SHMC_OK ? malloc(len + 1) : NULL;
    if (!copy) {
        if (shim_segment_broken(s))
            shim_server_failed(r->srv, s);
        return 0;
    }
    memcpy(copy, value, len);
    copy[len] = '\0';
    shim_found *f = &st->found[st->nfound++];
    memcpy(f->key, key, key_len);
    f->key_len = key_len;
    f->value = copy;
    f->value_len = len;
    f->flags = flags;
    f->cas = cas;
    return 1;
}

/*
 * The local keys of an mget are read MGET_BATCH at a time with one
 * shmc_get_multi per segment (one gate, the keys' cache misses
 * overlapped: src/items.c), into slots of MGET_SLOT bytes; a larger value
 * is read again alone (the batch's read of it was a size probe, which
 * counts nothing).  Hits keep the keys' order.
 */
#define MGET_BATCH 32
#define MGET_SLOT 1024

typedef struct mget_batch {
    shim_route r[MGET_BATCH];         /* the routes of the keys pending, all to one segment */
    const char *key[MGET_BATCH];      /* the keys as the program gave them */
    size_t key_len[MGET_BATCH];       /* their lengths */
    shmc_value v[MGET_BATCH];         /* the reads, into slot */
    char slot[MGET_BATCH][MGET_SLOT]; /* the values read */
    size_t n;                         /* keys pending */
} mget_batch;

/* Where the keys an mget sends to the real call are listed. */
typedef struct mget_remote {
    const char **keys; /* the keys */
    size_t *lens;      /* their lengths */
    size_t n;          /* how many */
} mget_remote;

static void remote_add(mget_remote *rem, const char *key, size_t key_len)
{
    rem->keys[rem->n] = key;
    rem->lens[rem->n++] = key_len;
}

/* Read the pending keys of b (one shmc_get_multi) into st, the others to
 * rem; b is empty after. */
static void mget_flush(shim_memc *st, mget_batch *b, int want_cas, mget_remote *rem)
{
    if (!b->n)
        return;
    for (size_t i = 0; i < b->n; i++)
        b->v[i] = (shmc_value){.key = b->r[i].key, .key_len = b->r[i].key_len,
                               .buf = b->slot[i], .cap = MGET_SLOT};
    shmc_status all = shmc_get_multi(b->r[0].cache, b->v, b->n);
    for (size_t i = 0; i < b->n; i++) {
        shmc_value *v = &b->v[i];
        const char *value = v->buf;
        size_t len = v->len;
        shmc_status s = all != SHMC_OK ? all : v->status;
        if (s == SHMC_BUFFER_TOO_SMALL)
            s = shim_read(&b->r[i], &value, &len, &v->flags, &v->cas);
        if (!mget_take(st, &b->r[i], b->key[i], b->key_len[i], s, value, len, v->flags,
                       want_cas ? v->cas : 0))
            remote_add(rem, b->key[i], b->key_len[i]);
    }
    b->n = 0;
}

/* Serve the local keys of an mget into st (hits only), and list the
 * others in rem: whether any was served here (the return value). */
static int mget_split(memcached_st *ptr, shim_memc *st, const char *group, size_t group_len,
                      const char *const *keys, const size_t *key_length, size_t n,
                      mget_batch *b, mget_remote *rem)
{
    int want_cas = shim_wants_cas(ptr);
    b->n = 0;
    rem->n = 0;
    for (size_t i = 0; i < n; i++) {
        shim_route *r = &b->r[b->n];
        if (!shim_route_key(ptr, group, group_len, keys[i], key_length[i], r)) {
            remote_add(rem, keys[i], key_length[i]);
            continue;
        }
        if (b->n && r->cache != b->r[0].cache) { /* another local segment: read alone, */
            mget_flush(st, b, want_cas, rem);    /* after the keys before it */
            const char *value;
            size_t len = 0;
            uint32_t flags = 0;
            uint64_t cas = 0;
            shmc_status s = shim_read(r, &value, &len, &flags, &cas);
            if (!mget_take(st, r, keys[i], key_length[i], s, value, len, flags,
                           want_cas ? cas : 0))
                remote_add(rem, keys[i], key_length[i]);
            continue;
        }
        b->key[b->n] = keys[i];
        b->key_len[b->n++] = key_length[i];
        if (b->n == MGET_BATCH)
            mget_flush(st, b, want_cas, rem);
    }
    mget_flush(st, b, want_cas, rem);
    return rem->n < n;
}

SHIM_EXPORT memcached_return_t memcached_mget_by_key(memcached_st *ptr, const char *group_key,
                                                     size_t group_key_length,
                                                     const char *const *keys,
                                                     const size_t *key_length,
                                                     size_t number_of_keys)
{
    shim_memc *st = NULL;
    int on = SHIM_ON();
    if (on && ptr && (st = shim_state_find(ptr)))
        shim_state_clear(st); /* a new mget: the former's results are gone */
    mget_remote rem = {0};
    mget_batch *b = NULL;
    if (on && shim_memc_ok(ptr, 1) && number_of_keys <= SIZE_MAX / sizeof(shim_found) &&
        shim_keys_ok(ptr, keys, key_length, number_of_keys) && (st = shim_state(ptr)) &&
        (rem.keys = malloc(number_of_keys * sizeof *rem.keys)) &&
        (rem.lens = malloc(number_of_keys * sizeof *rem.lens)) && (b = malloc(sizeof *b)) &&
        (st->found = malloc(number_of_keys * sizeof *st->found))) {
        const char *group = group_key && group_key_length ? group_key : NULL;
        st->local_mget = mget_split(ptr, st, group, group_key_length, keys, key_length,
                                    number_of_keys, b, &rem);
    }
    memcached_return_t rc = MEMCACHED_SUCCESS;
    if (st && st->local_mget) {
        shim_local_done(ptr);
        if (rem.n) {
            rc = PASS_REAL(memcached_mget_by_key, ptr, group_key, group_key_length, rem.keys,
                           rem.lens, rem.n);
            st->remote_pending = 1;
        }
    } else { /* nothing served here (or no memory to try): all to libmemcached */
        if (st)
            shim_state_clear(st);
        rc = PASS_REAL(memcached_mget_by_key, ptr, group_key, group_key_length, keys, key_length,
                       number_of_keys);
    }
    free(b);
    free(rem.keys);
    free(rem.lens);
    return rc;
}

SHIM_EXPORT memcached_return_t memcached_mget(memcached_st *ptr, const char *const *keys,
                                              const size_t *key_length, size_t number_of_keys)
{
    return memcached_mget_by_key(ptr, NULL, 0, keys, key_length, number_of_keys);
}

/* The shim state of ptr if a local mget is being fetched, else NULL (on:
 * the caller's SHIM_ON()). */
static shim_memc *fetching(memcached_st *ptr, int on)
{
    if (!on || !ptr)
        return NULL;
    shim_memc *st = shim_state_find(ptr);
    return st && st->local_mget ? st : NULL;
}

/* The next local result of st, or NULL when they are all handed out. */
static shim_found *next_local(shim_memc *st)
{
    return st->next < st->nfound ? &st->found[st->next++] : NULL;
}

/* The result struct fetch_result fills, chosen as libmemcached chooses it:
 * the caller's; else the memcached_st's own if it is not in use; else a
 * new one.  NULL if memory ran out. */
static memcached_result_st *result_to_fill(memcached_st *ptr, memcached_result_st *result)
{
    if (result)
        return result;
    if (ptr->result.options.is_initialized)
        return memcached_result_create(ptr, NULL);
    return memcached_result_create(ptr, &ptr->result);
}

/* The end of a fetch with nothing left anywhere: libmemcached's code
 * (END once this result struct carried a result, NOT FOUND before), and
 * the struct freed if it was allocated for the call. */
static memcached_return_t local_end(memcached_result_st *res)
{
    memcached_return_t rc = res->count ? MEMCACHED_END : MEMCACHED_NOTFOUND;
    if (res->options.is_allocated)
        memcached_result_free(res);
    else
        memcached_result_reset(res);
    return rc;
}

SHIM_EXPORT memcached_result_st *memcached_fetch_result(memcached_st *ptr,
                                                        memcached_result_st *result,
                                                        memcached_return_t *error)
{
    memcached_return_t unused;
    if (!error)
        error = &unused;
    shim_memc *st = fetching(ptr, SHIM_ON());
    if (!st)
        return CALL_REAL(memcached_fetch_result, ptr, result, error);
    shim_found *f = next_local(st);
    if (!f && st->remote_pending) {
        shim_state_clear(st);
        return CALL_REAL(memcached_fetch_result, ptr, result, error);
    }
    memcached_result_st *res = result_to_fill(ptr, result);
    if (!res) {
        *error = MEMCACHED_MEMORY_ALLOCATION_FAILURE;
        return NULL;
    }
    if (!f) {
        shim_state_clear(st);
        *error = local_end(res);
        return NULL;
    }
    shim_result_fill(res, f);
    res->count++;
    free(f->value);
    f->value = NULL;
    *error = MEMCACHED_SUCCESS;
    return res;
}

/* memcached_fetch's outputs when there is no result. */
static char *fetch_none(char *key, size_t *key_length, size_t *value_length, uint32_t *flags)
{
    if (value_length)
        *value_length = 0;
    if (key_length)
        *key_length = 0;
    if (flags)
        *flags = 0;
    if (key)
        *key = 0;
    return NULL;
}

/* As libmemcached's: fetch_result into the memcached_st's own result,
 * then the value taken out of it (allocated with its allocators). */
SHIM_EXPORT char *memcached_fetch(memcached_st *ptr, char *key, size_t *key_length,
                                  size_t *value_length, uint32_t *flags,
                                  memcached_return_t *error)
{
    memcached_return_t unused;
    if (!error)
        error = &unused;
    if (!fetching(ptr, SHIM_ON()))
        return CALL_REAL(memcached_fetch, ptr, key, key_length, value_length, flags, error);
    memcached_result_st *res = memcached_fetch_result(ptr, &ptr->result, error);
    if (!res || memcached_failed(*error))
        return fetch_none(key, key_length, value_length, flags);
    if (value_length)
        *value_length = memcached_result_length(res);
    if (key) {
        memcpy(key, res->item_key, res->key_length); /* key_length bytes, not NUL-ended */
        if (key_length)
            *key_length = res->key_length;
    }
    if (flags)
        *flags = res->item_flags;
    return memcached_result_take_value(res);
}

/* fetch_execute over the local results, then the remote ones, calling
 * the program's callbacks (outside the library: plain client code), as
 * libmemcached's own loop: a callback's failure stops that result's
 * callbacks and makes the answer MEMCACHED_SOME_ERRORS. */
SHIM_EXPORT memcached_return_t memcached_fetch_execute(memcached_st *ptr,
                                                       memcached_execute_fn *callback,
                                                       void *context,
                                                       uint32_t number_of_callbacks)
{
    if (!fetching(ptr, SHIM_ON()))
        return CALL_REAL(memcached_fetch_execute, ptr, callback, context, number_of_callbacks);
    memcached_result_st *result = &ptr->result; /* as libmemcached's loop */
    memcached_return_t rc;
    int some_errors = 0;
    while (memcached_fetch_result(ptr, result, &rc)) {
        if (memcached_failed(rc)) {
            some_errors |= rc != MEMCACHED_NOTFOUND;
            continue;
        }
        for (uint32_t x = 0; x < number_of_callbacks; x++) {
            if (memcached_failed(callback[x](ptr, result, context))) {
                some_errors = 1;
                break;
            }
        }
    }
    if (some_errors)
        return MEMCACHED_SOME_ERRORS;
    return memcached_success(rc) ? MEMCACHED_SUCCESS : rc;
}
