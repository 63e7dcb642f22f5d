/*
 * proto_detail.c - the per-prefix counters of "stats detail"
 * (proto_detail.h): a chained hash table of prefixes under one mutex,
 * taken only while counting is on.
 */
#include "proto_detail.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DETAIL_BUCKETS 1024u

/* One prefix's counters. */
typedef struct prefix_stat {
    struct prefix_stat *next;   /* next in its bucket */
    uint64_t gets, hits, sets, dels; /* memcached's get / hit / set / del */
    size_t len;                 /* bytes of name */
    char name[];                /* the prefix, not NUL-terminated */
} prefix_stat;

static pthread_mutex_t detail_mu = PTHREAD_MUTEX_INITIALIZER; /* guards the table */
static prefix_stat *detail_table[DETAIL_BUCKETS];              /* the prefixes by hash */
static unsigned detail_count;                                  /* prefixes in the table */
static bool detail_on;                                         /* counting (atomic) */

bool detail_enabled(void)
{
    return __atomic_load_n(&detail_on, __ATOMIC_RELAXED);
}

void detail_set_enabled(bool on)
{
    __atomic_store_n(&detail_on, on, __ATOMIC_RELAXED);
}

static unsigned detail_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h % DETAIL_BUCKETS;
}

/* The entry of prefix p (mutex held), made if new; NULL when full or
 * out of memory. */
static prefix_stat *detail_find(const char *p, size_t n)
{
    prefix_stat **head = &detail_table[detail_hash(p, n)];
    for (prefix_stat *e = *head; e; e = e->next)
        if (e->len == n && memcmp(e->name, p, n) == 0)
            return e;
    if (detail_count >= DETAIL_MAX_PREFIXES)
        return NULL;
    prefix_stat *e = calloc(1, sizeof *e + n);
    if (!e)
        return NULL;
    e->len = n;
    memcpy(e->name, p, n);
    e->next = *head;
    *head = e;
    detail_count++;
    return e;
}

void detail_record(char delim, const char *key, size_t nkey, enum detail_op op, bool hit)
{
    if (!detail_enabled())
        return;
    const char *end = memchr(key, delim ? delim : ':', nkey);
    if (!end)
        return;
    pthread_mutex_lock(&detail_mu);
    prefix_stat *e = detail_find(key, (size_t)(end - key));
    if (e) {
        if (op == DETAIL_GET) {
            e->gets++;
            e->hits += hit;
        } else if (op == DETAIL_SET) {
            e->sets++;
        } else {
            e->dels++;
        }
    }
    pthread_mutex_unlock(&detail_mu);
}

bool detail_dump(srv_buf *out)
{
    bool ok = true;
    pthread_mutex_lock(&detail_mu);
    for (unsigned b = 0; b < DETAIL_BUCKETS && ok; b++)
        for (prefix_stat *e = detail_table[b]; e && ok; e = e->next)
            ok = srv_buf_add(out, "PREFIX ", 7) && srv_buf_add(out, e->name, e->len) &&
                 srv_buf_printf(out, " get %" PRIu64 " hit %" PRIu64 " set %" PRIu64
                                     " del %" PRIu64 "\r\n",
                                e->gets, e->hits, e->sets, e->dels);
    pthread_mutex_unlock(&detail_mu);
    return ok && srv_buf_add(out, "END\r\n", 5);
}
