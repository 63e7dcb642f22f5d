/*
 * srv_buf.c - the growable output buffer of a connection, the worker
 * thread's slots for batched gets, and the daemon-wide budget of buffer
 * bytes, -o read_buf_mem_limit (protocol.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

__thread char srv_get_scratch[SRV_GET_BATCH][SRV_GET_SLOT];

bool srv_buf_reserve(srv_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return true;
    size_t need = b->len + n;
    if (need < b->len)
        return false;           /* overflow */
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d)
        return false;
    b->data = d;
    b->cap = cap;
    return true;
}

bool srv_buf_add(srv_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return true;
    if (!srv_buf_reserve(b, n))
        return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

bool srv_buf_printf(srv_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room = b->cap - b->len;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < room) {
        b->len += (size_t)n;
        return true;
    }
    if (!srv_buf_reserve(b, (size_t)n + 1))
        return false;
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    b->len += (size_t)n;
    return true;
}

void srv_buf_free(srv_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

bool srv_mem_charge(srv_mem_budget *b, size_t n)
{
    if (!b || !b->limit || !n)
        return true;
    size_t used = atomic_load(&b->used);
    do {
        if (n > b->limit || used > b->limit - n)
            return false;
    } while (!atomic_compare_exchange_weak(&b->used, &used, used + n));
    return true;
}

void srv_mem_release(srv_mem_budget *b, size_t n)
{
    if (b && b->limit && n)
        atomic_fetch_sub(&b->used, n);
}

size_t srv_mem_room(srv_mem_budget *b)
{
    if (!b || !b->limit)
        return SIZE_MAX;
    size_t used = atomic_load(&b->used);
    return used < b->limit ? b->limit - used : 0;
}
