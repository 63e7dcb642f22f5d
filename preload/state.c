/*
 * state.c - the shim's own state of each memcached_st.
 *
 * Owns: a table from memcached_st pointer to shim_memc (the local results
 * of an mget waiting for memcached_fetch*), so that nothing of the
 * program's memcached_st is used for it (its user data stays the
 * program's).  A memcached_st is used by one thread at a time
 * (libmemcached's rule), but different ones by different threads: the
 * table itself is under a mutex.  Entries go on memcached_free
 * (shim_misc.c); a clone starts without one but for the socket_only mark
 * of an encoding key, which it inherits as libmemcached's clone inherits
 * the key.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "shim.h"

#define STATE_BUCKETS 1024 /* chains; a process with more memcached_st just has longer ones */

/* One entry of a chain. */
typedef struct state_node {
    shim_memc st;            /* the state */
    struct state_node *next; /* next in the bucket's chain */
} state_node;

static state_node *buckets[STATE_BUCKETS];
/* memcached_st marked socket_only: while there are none, nothing is looked up */
static unsigned long nsocket_only;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t bucket_of(const memcached_st *memc)
{
    uintptr_t p = (uintptr_t)memc;
    return (size_t)((p >> 4) ^ (p >> 14)) % STATE_BUCKETS;
}

static shim_memc *lookup_locked(const memcached_st *memc)
{
    for (state_node *n = buckets[bucket_of(memc)]; n; n = n->next)
        if (n->st.memc == memc)
            return &n->st;
    return NULL;
}

shim_memc *shim_state_find(const memcached_st *memc)
{
    pthread_mutex_lock(&state_lock);
    shim_memc *st = lookup_locked(memc);
    pthread_mutex_unlock(&state_lock);
    return st;
}

shim_memc *shim_state(const memcached_st *memc)
{
    pthread_mutex_lock(&state_lock);
    shim_memc *st = lookup_locked(memc);
    if (!st) {
        state_node *n = calloc(1, sizeof *n);
        if (n) {
            size_t b = bucket_of(memc);
            n->st.memc = memc;
            n->next = buckets[b];
            buckets[b] = n;
            st = &n->st;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return st;
}

void shim_state_clear(shim_memc *st)
{
    for (size_t i = st->next; i < st->nfound; i++)
        free(st->found[i].value);
    free(st->found);
    st->found = NULL;
    st->nfound = st->next = 0;
    st->remote_pending = 0;
    st->local_mget = 0;
}

void shim_state_drop(const memcached_st *memc)
{
    pthread_mutex_lock(&state_lock);
    state_node **pp = &buckets[bucket_of(memc)];
    while (*pp && (*pp)->st.memc != memc)
        pp = &(*pp)->next;
    state_node *n = *pp;
    if (n)
        *pp = n->next;
    pthread_mutex_unlock(&state_lock);
    if (n) {
        if (n->st.socket_only)
            __atomic_sub_fetch(&nsocket_only, 1, __ATOMIC_RELAXED);
        shim_state_clear(&n->st);
        free(n);
    }
}

void shim_state_socket_only(const memcached_st *memc)
{
    shim_memc *st = shim_state(memc);
    if (st && !st->socket_only) {
        st->socket_only = 1;
        __atomic_add_fetch(&nsocket_only, 1, __ATOMIC_RELAXED);
    }
}

int shim_state_is_socket_only(const memcached_st *memc)
{
    if (!__atomic_load_n(&nsocket_only, __ATOMIC_RELAXED))
        return 0;
    shim_memc *st = shim_state_find(memc);
    return st && st->socket_only;
}

void shim_state_after_fork(void)
{
    pthread_mutex_init(&state_lock, NULL); /* a thread of the parent may have held it */
}
