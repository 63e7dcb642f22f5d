/*
 * value.c - reading and writing value bytes, contiguous or chained over
 * data chunks, and the life of data chunks (see value.h).
 *
 * Owns: the layout of a chained value and the CHUNK_ALLOC -> CHUNK_DATA
 * -> CHUNK_FREE transitions of data chunks.  Allocation itself is
 * slabs.c's.
 */
#include "value.h"

#include <string.h>

#include "bounds.h"
#include "lock.h"
#include "mem.h"
#include "slabs.h"

/* Bytes of value a data chunk holds, and the class of chained items. */
static inline size_t data_cap(const shmc_cache *c)
{
    return c->classes[c->hdr->nclasses].size - sizeof(item_t);
}

uint32_t value_extra_chunks(const shmc_cache *c, size_t nkey, size_t vlen)
{
    size_t chunk = c->classes[c->hdr->nclasses].size;
    if (item_total(nkey, vlen) <= chunk)
        return 0;
    /* each data chunk adds data_cap bytes but costs a 4-byte ref in the head */
    size_t head_room = chunk - sizeof(item_t) - value_refs_at(nkey);
    size_t per = data_cap(c) - sizeof(ref_t);
    return (uint32_t)((vlen - head_room + per - 1) / per);
}

/* Bytes of the value the head of n data chunks holds. */
static size_t head_len(const shmc_cache *c, size_t nkey, uint32_t n)
{
    return c->classes[c->hdr->nclasses].size - sizeof(item_t) - value_refs_at(nkey) -
           n * sizeof(ref_t);
}

unsigned value_chunk_class(const shmc_cache *c, size_t nkey, size_t vlen, uint32_t n,
                           uint32_t i)
{
    if (i + 1 < n)
        return c->hdr->nclasses;
    size_t tail = vlen - head_len(c, nkey, n) - (size_t)(n - 1) * data_cap(c);
    return slabs_clsid(c, sizeof(item_t) + tail);
}

/* The part of the value held by segment i (0 = the head): pointer and length. */
static char *segment_at(shmc_cache *c, item_t *it, uint32_t n, uint32_t i, size_t *len)
{
    size_t refs_at = value_refs_at(it->nkey);
    size_t first = head_len(c, it->nkey, n);
    if (i == 0) {
        *len = it->nbytes < first ? it->nbytes : first;
        return it->data + refs_at + n * sizeof(ref_t);
    }
    size_t before = first + (size_t)(i - 1) * data_cap(c);
    size_t rest = it->nbytes - before;
    *len = rest < data_cap(c) ? rest : data_cap(c);
    ref_t r = value_refs(it)[i - 1];
    /* the chunk's class holds *len bytes: both come from nkey and nbytes */
    if (!bounds_chunk(c, r, value_chunk_class(c, it->nkey, it->nbytes, n, i - 1))) {
        bounds_fail("chained value ref (item_t.data)"); /* bounds_item checked it: damaged since */
        *len = 0;
        return it->data;
    }
    return seg_item(c, r)->data;
}

/* Whether a chained head's refs can be read: its chunk, of the largest
 * class's size, lies in the pages, and it is not longer than
 * item_size_max, so its refs lie in its chunk.  Checked where the head is
 * used: bounds_item checked it where it entered, but a write through a
 * damaged list link may have changed it since (bounds.h). */
static bool head_ok(const shmc_cache *c, const item_t *head)
{
    if (bounds_chunk(c, seg_ref(c, head), c->nclasses) &&
        item_total(head->nkey, head->nbytes) <= c->hdr->item_size_max)
        return true;
    return bounds_fail("item_t.nkey/nbytes (chained)");
}

/* Walk the segments overlapping [off, off+len): fn(segment ptr, buf ptr, n). */
static void value_span(shmc_cache *c, item_t *it, size_t off, char *buf, size_t len, bool to_value)
{
    if (!value_is_chained(it)) {
        if (!bounds_span(c, it->data + it->nkey + off, len)) {
            bounds_fail("item_t.nkey/nbytes");
            return;
        }
        if (to_value)
            mem_copy(it->data + it->nkey + off, buf, len);
        else
            mem_copy(buf, it->data + it->nkey + off, len);
        return;
    }
    if (!head_ok(c, it))
        return;
    uint32_t n = value_extra_chunks(c, it->nkey, it->nbytes);
    size_t pos = 0;
    for (uint32_t i = 0; i <= n && len; i++) {
        size_t seg_len;
        char *seg = segment_at(c, it, n, i, &seg_len);
        if (off < pos + seg_len) {
            size_t from = off - pos, take = seg_len - from < len ? seg_len - from : len;
            if (to_value)
                memcpy(seg + from, buf, take);
            else
                memcpy(buf, seg + from, take);
            buf += take;
            off += take;
            len -= take;
        }
        pos += seg_len;
    }
}

void value_read(shmc_cache *c, item_t *it, size_t off, void *dst, size_t len)
{
    if (len)
        value_span(c, it, off, dst, len, false);
}

void value_write(shmc_cache *c, item_t *it, size_t off, const void *src, size_t len)
{
    if (len)
        value_span(c, it, off, (char *)src, len, true);
}

void value_copy(shmc_cache *c, item_t *dst, size_t dst_off, item_t *src)
{
    if (!value_is_chained(src)) {
        if (bounds_span(c, src->data + src->nkey, src->nbytes))
            value_write(c, dst, dst_off, src->data + src->nkey, src->nbytes);
        else
            bounds_fail("item_t.nkey/nbytes");
        return;
    }
    if (!head_ok(c, src))
        return;
    uint32_t n = value_extra_chunks(c, src->nkey, src->nbytes);
    for (uint32_t i = 0; i <= n; i++) {
        size_t seg_len;
        char *seg = segment_at(c, src, n, i, &seg_len);
        value_write(c, dst, dst_off, seg, seg_len);
        dst_off += seg_len;
    }
}

bool value_alloc_chunks(shmc_cache *c, item_t *head, unsigned s)
{
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    ref_t *refs = value_refs(head);
    memset(refs, 0, n * sizeof(ref_t));
    for (uint32_t i = 0; i < n; i++) {
        item_t *d = slabs_alloc(c, value_chunk_class(c, head->nkey, head->nbytes, n, i), s);
        if (!d) {
            value_release_chunks(c, head);
            return false;
        }
        d->iflags = 0; /* not a head: slabs_release must not follow refs */
        refs[i] = seg_ref(c, d); /* ours (CHUNK_ALLOC) until adopted */
    }
    return true;
}

/* Data chunk i of head's n, if its ref names a chunk of its class (else
 * NULL, the damage recorded). */
static item_t *data_chunk(shmc_cache *c, item_t *head, uint32_t n, uint32_t i)
{
    ref_t r = value_refs(head)[i];
    if (bounds_chunk_at(c, r, value_chunk_class(c, head->nkey, head->nbytes, n, i)))
        return seg_item(c, r);
    bounds_fail("chained value ref (item_t.data)");
    return NULL;
}

void value_release_chunks(shmc_cache *c, item_t *head)
{
    if (!head_ok(c, head))
        return;
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    slab_shard *sh = slabs_shard(c, c->hdr->nclasses, 0); /* the largest class: not sharded */
    uint32_t mine = STATE_MAKE(CHUNK_ALLOC, c->slot);
    item_t *tail = NULL;
    lock_take(c, &sh->lock);
    for (uint32_t i = 0; i < n; i++) {
        item_t *d = value_refs(head)[i] ? data_chunk(c, head, n, i) : NULL;
        if (!d || item_state(d) != mine)
            continue;
        if (value_chunk_class(c, head->nkey, head->nbytes, n, i) == c->hdr->nclasses)
            slabs_free_locked(c, sh, d);
        else
            tail = d; /* its own class's lock: not under this one (slabs.h) */
    }
    lock_drop(&sh->lock);
    if (tail)
        slabs_release(c, tail);
}

void value_adopt_chunks(shmc_cache *c, item_t *head)
{
    if (!head_ok(c, head))
        return;
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    ref_t hr = seg_ref(c, head);
    for (uint32_t i = 0; i < n; i++) {
        item_t *d = data_chunk(c, head, n, i); /* ours since value_alloc_chunks */
        if (!d)
            continue;
        d->h_next = hr;
        item_set_state(d, STATE_MAKE(CHUNK_DATA, 0));
    }
}

/* Whether d is head's data chunk (state and back ref). */
static bool chunk_is_heads(shmc_cache *c, const item_t *d, const item_t *head)
{
    return STATE_KIND(item_state(d)) == CHUNK_DATA && d->h_next == seg_ref(c, head);
}

unsigned value_tail_class(const shmc_cache *c, const item_t *head)
{
    if (!value_is_chained(head))
        return 0;
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    if (n == 0) /* chained, yet short enough for one chunk: damaged (no tail to read) */
        return 0;
    return value_chunk_class(c, head->nkey, head->nbytes, n, n - 1);
}

slab_shard *value_tail_shard(shmc_cache *c, item_t *head)
{
    unsigned t = value_tail_class(c, head);
    if (!t || t == c->hdr->nclasses || !head_ok(c, head))
        return NULL;
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    item_t *d = data_chunk(c, head, n, n - 1);
    return d && chunk_is_heads(c, d, head) ? slabs_shard(c, t, item_shard(d)) : NULL;
}

void value_free_chunks(shmc_cache *c, slab_shard *sh, slab_shard *ts, item_t *head)
{
    if (!value_is_chained(head) || !head_ok(c, head))
        return;
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    for (uint32_t i = 0; i < n; i++) {
        item_t *d = data_chunk(c, head, n, i);
        if (!d || !chunk_is_heads(c, d, head))
            continue;
        unsigned cls = value_chunk_class(c, head->nkey, head->nbytes, n, i);
        if (cls == c->hdr->nclasses) {
            if (sh)
                slabs_free_locked(c, sh, d);
        }
        else if (slabs_shard(c, cls, item_shard(d)) == ts) /* else left to the reaper */
            slabs_free_locked(c, ts, d);
    }
}

item_t *value_chunk_head(shmc_cache *c, const item_t *chunk)
{
    return bounds_chunk_at(c, chunk->h_next, c->nclasses) ? seg_item(c, chunk->h_next) : NULL;
}

bool value_chunk_orphaned(shmc_cache *c, item_t *chunk, unsigned clsid)
{
    item_t *head = value_chunk_head(c, chunk);
    if (!head)
        return true;
    uint32_t st = item_state(head);
    bool held = STATE_KIND(st) == CHUNK_LINKED ||
                (STATE_KIND(st) == CHUNK_ALLOC && c->owners->slot_alive(c, STATE_SLOT(st)));
    if (!held || !value_is_chained(head))
        return true;
    if (item_total(head->nkey, head->nbytes) > c->hdr->item_size_max) {
        bounds_fail("item_t.nbytes (chained)"); /* its refs would run past its chunk */
        return true;
    }
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    ref_t me = seg_ref(c, chunk);
    for (uint32_t i = 0; i < n; i++)
        if (value_refs(head)[i] == me)
            return value_chunk_class(c, head->nkey, head->nbytes, n, i) != clsid;
    return true;
}
