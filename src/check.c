/*
 * check.c - shmc_check(): walk the whole segment and verify every
 * invariant (shmcachectl check).
 *
 * Owns nothing in the segment; reads it all with every lock held (stripes,
 * then each class's shards, then the pool: the library's lock order), so writers wait
 * while it runs.  Each chunk is marked as seen in a chain, an LRU list or
 * a free list, and the final scan of every chunk proves each is exactly
 * one of: free and on the free list of the shard it names; linked and in
 * both its chain and the LRU list of the shard it names; or allocated to
 * a live client.
 *
 * A damaged segment is what the check is for, so it trusts nothing it
 * reads: the header, class table, locks' names and page map are checked
 * as attach checks them (segment_bad_field), and the walks stop only if
 * the fields fixed at creation are damaged; every ref is checked to be a
 * chunk of the right class before it is followed, a chunk is marked when
 * seen, so a cycle ends a walk, and a key or value is read only within
 * its chunk.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "cache.h"
#include "clock.h"
#include "crashpoint.h"
#include "fmt.h"
#include "gate.h"
#include "hash.h"
#include "lock.h"
#include "lru.h"
#include "registry.h"
#include "segment.h"
#include "slabs.h"
#include "value.h"
#include "mem.h"

enum { SEEN_HASH = 1, SEEN_LRU = 2, SEEN_FREE = 4 };

#define CHECK_SHOWN 100     /* problems described; the rest are counted */
#define CHECK_LINE 200      /* bytes of one description */

typedef struct checker {
    shmc_cache *c;
    char *text;           /* descriptions, printed once the gate is closed (NULL: none) */
    size_t text_len;      /* bytes of text in use */
    unsigned problems;
    unsigned recoverable; /* chunks held by clients that died, not yet reaped */
    uint8_t *seen;        /* one byte per possible chunk */
    uint32_t stride;      /* chunk slots per page in seen[] */
} checker;

static void problem(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(checker *k, const char *fmt, ...)
{
    k->problems++;
    if (!k->text || k->problems > CHECK_SHOWN)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *p = k->text + k->text_len;
    k->text_len += fmt_vformat(p, CHECK_LINE, fmt, ap); /* libc's may be the client's */
    va_end(ap);
    k->text[k->text_len++] = '\n';
}

/* Is it a chunk a client that died holds (CHUNK_ALLOC, its slot still
 * claimed: the reaper has not been by yet)? */
static bool held_by_dead_client(shmc_cache *c, const item_t *it)
{
    uint32_t st = it ? it->state : 0;
    return it && STATE_KIND(st) == CHUNK_ALLOC && registry_slot_used(c, STATE_SLOT(st)) &&
           !registry_alive(c, STATE_SLOT(st));
}

/* The seen[] byte of a ref, or NULL if the ref is not a chunk boundary of
 * a page of class clsid. */
static uint8_t *chunk_mark(checker *k, ref_t r, unsigned clsid)
{
    shmc_cache *c = k->c;
    uint64_t off = (uint64_t)r << 3;
    if (off < c->pages_lo || off >= c->pages_hi || !bounds_clsid(c, clsid))
        return NULL;
    uint32_t pg = (uint32_t)((off - c->hdr->off_pages) / c->hdr->page_size);
    uint64_t in = (off - c->hdr->off_pages) % c->hdr->page_size;
    if (c->pagemap[pg] != clsid)
        return NULL;
    slab_class *cls = &c->classes[clsid];
    if (in % cls->size || in / cls->size >= cls->perslab)
        return NULL;
    return &k->seen[(size_t)pg * k->stride + in / cls->size];
}

static void check_pages(checker *k)
{
    shmc_cache *c = k->c;
    uint32_t count[SEG_MAX_CLASSES + 1] = {0};
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        if (c->pagemap[pg] > c->hdr->nclasses)
            problem(k, "page %u has bad class %u", pg, c->pagemap[pg]);
        else
            count[c->pagemap[pg]]++;
    }
    for (unsigned i = 1; i <= c->hdr->nclasses; i++)
        if (count[i] != c->classes[i].pages)
            problem(k, "class %u owns %u pages but counts %u", i, count[i], c->classes[i].pages);
}

static void check_free_list(checker *k, unsigned clsid, unsigned s)
{
    shmc_cache *c = k->c;
    slab_class *cls = &c->classes[clsid];
    slab_shard *sh = &cls->shards[s];
    uint64_t n = 0, limit = (uint64_t)cls->pages * cls->perslab;
    ref_t prev = 0;
    for (ref_t r = sh->free_head; r; r = seg_item(c, r)->next) {
        uint8_t *m = chunk_mark(k, r, clsid);
        if (!m || (*m & SEEN_FREE) || ++n > limit) {
            problem(k, "class %u shard %u: free list broken at ref %u", clsid, s, r);
            return;
        }
        item_t *it = seg_item(c, r);
        if (STATE_KIND(it->state) != CHUNK_FREE || item_shard(it) != s)
            problem(k, "class %u shard %u: chunk %u on free list has state %u shard %u", clsid,
                    s, r, it->state, item_shard(it));
        if (it->prev != prev)
            problem(k, "class %u shard %u: free chunk %u has prev %u, expected %u", clsid, s, r,
                    it->prev, prev);
        *m |= SEEN_FREE;
        prev = r;
    }
    if (n != sh->free_count)
        problem(k, "class %u shard %u: %llu chunks on free list, counter says %u", clsid, s,
                (unsigned long long)n, sh->free_count);
}

static void check_lru(checker *k, unsigned clsid, unsigned s)
{
    shmc_cache *c = k->c;
    slab_class *cls = &c->classes[clsid];
    slab_shard *sh = &cls->shards[s];
    uint64_t limit = (uint64_t)cls->pages * cls->perslab, bytes = 0;
    for (unsigned l = 0; l < SEG_NLRU; l++) {
        uint64_t n = 0;
        ref_t prev = 0;
        for (ref_t r = sh->head[l]; r; r = seg_item(c, r)->next) {
            uint8_t *m = chunk_mark(k, r, clsid);
            if (!m || (*m & SEEN_LRU) || ++n > limit) {
                problem(k, "class %u shard %u: LRU %u broken at ref %u", clsid, s, l, r);
                break;
            }
            item_t *it = seg_item(c, r);
            if (STATE_KIND(it->state) != CHUNK_LINKED || item_lru(it) != l || item_shard(it) != s)
                problem(k, "class %u shard %u: item %u in LRU %u has state %u place %u", clsid,
                        s, r, l, it->state, it->place);
            if (it->prev != prev)
                problem(k, "class %u shard %u: LRU %u item %u has prev %u, expected %u", clsid,
                        s, l, r, it->prev, prev);
            *m |= SEEN_LRU;
            bytes += item_total(it->nkey, it->nbytes);
            prev = r;
        }
        if (prev != sh->tail[l])
            problem(k, "class %u shard %u: LRU %u tail is %u, walk ended at %u", clsid, s, l,
                    sh->tail[l], prev);
        if (n != sh->lru_count[l])
            problem(k, "class %u shard %u: LRU %u holds %llu items, counter says %u", clsid, s,
                    l, (unsigned long long)n, sh->lru_count[l]);
    }
    if (bytes != sh->bytes)
        problem(k, "class %u shard %u: lists hold %llu bytes, counter says %llu", clsid, s,
                (unsigned long long)bytes, (unsigned long long)sh->bytes);
}

static void check_classes(checker *k)
{
    shmc_cache *c = k->c;
    for (unsigned i = 1; i <= c->hdr->nclasses; i++)
        for (unsigned s = 0; s < SEG_SHARDS; s++) {
            if (i == c->hdr->nclasses && s > 0 &&
                (c->classes[i].shards[s].free_head || lru_items(&c->classes[i].shards[s])))
                problem(k, "class %u shard %u: the largest class uses shard 0 only", i, s);
            check_free_list(k, i, s);
            check_lru(k, i, s);
        }
}

/* Two live items with the same key in one chain?  (A damaged rest of the
 * chain is check_index's to report: here it ends the search.) */
static bool chain_has_live_twin(shmc_cache *c, ref_t from, const item_t *it, uint32_t now)
{
    bounds_walk w;
    bounds_walk_init(&w, c);
    for (ref_t r = from; r && bounds_follow(c, &w, r); r = seg_item(c, r)->h_next) {
        item_t *o = seg_item(c, r);
        if (o->hash == it->hash && o->nkey == it->nkey && bounds_span(c, o->data, o->nkey) &&
            mem_equal(o->data, it->data, it->nkey) && clock_liveness(c, o, now) == ITEM_LIVE)
            return true;
    }
    return false;
}

/* A linked chained item's data chunks are all its own (head is a chunk
 * of a page of class clsid). */
static void check_chunks_of(checker *k, item_t *head, unsigned clsid)
{
    shmc_cache *c = k->c;
    if (!value_is_chained(head))
        return;
    if (head->clsid != c->hdr->nclasses || clsid != c->hdr->nclasses) {
        problem(k, "chained item %u is in class %u", seg_ref(c, head), head->clsid);
        return;
    }
    if (item_total(head->nkey, head->nbytes) > c->hdr->item_size_max) {
        problem(k, "chained item %u is %u bytes long, above item_size_max", seg_ref(c, head),
                head->nbytes);
        return; /* its refs would run past its chunk */
    }
    uint32_t n = value_extra_chunks(c, head->nkey, head->nbytes);
    for (uint32_t i = 0; i < n; i++) {
        ref_t r = value_refs(head)[i];
        uint8_t *m = chunk_mark(k, r, value_chunk_class(c, head->nkey, head->nbytes, n, i));
        item_t *d = m ? seg_item(c, r) : NULL;
        if (!d || STATE_KIND(d->state) != CHUNK_DATA || d->h_next != seg_ref(c, head))
            problem(k, "chained item %u: data chunk %u of %u is not its own", seg_ref(c, head),
                    i, n);
    }
}

/* The class of the page holding ref r (0 if r is not in the pages). */
static unsigned page_class_of(shmc_cache *c, ref_t r)
{
    uint64_t off = (uint64_t)r << 3;
    return off >= c->pages_lo && off < c->pages_hi ? c->pagemap[seg_page_of(c, r)] : 0;
}

/* One item of bucket b's chain, marked seen (r is a chunk boundary). */
static void check_chain_item(checker *k, uint64_t b, ref_t r, uint32_t now)
{
    shmc_cache *c = k->c;
    item_t *it = seg_item(c, r);
    if (STATE_KIND(it->state) != CHUNK_LINKED)
        problem(k, "bucket %llu: item %u has state %u", (unsigned long long)b, r, it->state);
    /* the key is read only within the chunk */
    if (it->nkey < 1 || it->nkey > SHMC_KEY_MAX ||
        item_total(it->nkey, 0) > c->classes[page_class_of(c, r)].size ||
        hash_key(it->data, it->nkey) != it->hash) {
        problem(k, "bucket %llu: item %u key does not match its hash", (unsigned long long)b, r);
        return;
    }
    unsigned clsid = page_class_of(c, r);
    if (!value_is_chained(it) && item_total(it->nkey, it->nbytes) > c->classes[clsid].size)
        problem(k, "item %u: its key and value (%u bytes) overrun its chunk", r, it->nbytes);
    if (hash_bucket(c, it->hash) != b)
        problem(k, "item %u is in bucket %llu, belongs in %llu", r, (unsigned long long)b,
                (unsigned long long)hash_bucket(c, it->hash));
    if (clock_liveness(c, it, now) == ITEM_LIVE && chain_has_live_twin(c, it->h_next, it, now))
        problem(k, "item %u: key %.*s is live twice", r, it->nkey, it->data);
    check_chunks_of(k, it, clsid);
}

static void check_index(checker *k)
{
    shmc_cache *c = k->c;
    uint64_t nb = hash_buckets(c);
    uint32_t now = clock_now(c);
    if (nb > (uint64_t)c->bucket_mask + 1)
        nb = (uint64_t)c->bucket_mask + 1; /* hash_word damaged: reported by check_fields */
    for (uint64_t b = 0; b < nb; b++) {
        for (ref_t r = c->buckets[b]; r; r = seg_item(c, r)->h_next) {
            uint8_t *m = chunk_mark(k, r, page_class_of(c, r));
            if (!m || (*m & SEEN_HASH)) {
                problem(k, "bucket %llu: chain broken at ref %u", (unsigned long long)b, r);
                break;
            }
            *m |= SEEN_HASH;
            check_chain_item(k, b, r, now);
        }
    }
}

/* Every chunk is exactly one of free, linked, or owned by a live client. */
static void check_chunks(checker *k)
{
    shmc_cache *c = k->c;
    for (uint32_t pg = 0; pg < c->hdr->npages; pg++) {
        unsigned clsid = c->pagemap[pg];
        if (!clsid || clsid > c->hdr->nclasses)
            continue;
        item_t *it;
        SLABS_FOR_EACH_CHUNK(c, pg, clsid, it) {
            ref_t r = seg_ref(c, it);
            uint8_t m = *chunk_mark(k, r, clsid);
            uint32_t st = it->state;
            if (it->clsid != clsid)
                problem(k, "chunk %u of class %u says class %u", r, clsid, it->clsid);
            switch (STATE_KIND(st)) {
            case CHUNK_FREE:
                if (m != SEEN_FREE)
                    problem(k, "free chunk %u is %s", r, m ? "in a list it must not be in"
                                                           : "on no free list (leaked)");
                break;
            case CHUNK_LINKED:
                if (m != (SEEN_HASH | SEEN_LRU))
                    problem(k, "linked item %u is %s%s", r, m & SEEN_HASH ? "" : "in no chain ",
                            m & SEEN_LRU ? "" : "in no LRU");
                break;
            case CHUNK_DATA:
                if (m)
                    problem(k, "data chunk %u is in a list", r);
                else if (!value_chunk_orphaned(c, it, clsid))
                    break;
                else if (held_by_dead_client(c, value_chunk_head(c, it)))
                    k->recoverable++; /* its head is a dead client's */
                else
                    problem(k, "data chunk %u belongs to no item (leaked)", r);
                break;
            case CHUNK_ALLOC:
                if (m)
                    problem(k, "allocated chunk %u is in a list", r);
                else if (!registry_slot_used(c, STATE_SLOT(st)))
                    problem(k, "chunk %u is held by client slot %u, which is free (leaked)", r,
                            STATE_SLOT(st));
                else if (!registry_alive(c, STATE_SLOT(st)))
                    k->recoverable++; /* shmcachectl recover (or the next reap) frees it */
                break;
            default:
                problem(k, "chunk %u has bad state %u", r, st);
            }
        }
    }
}

/* The header, class table, locks' names and page map, as attach checks
 * them; false if a field fixed at creation is damaged, which every other
 * check relies on. */
static bool check_fields(checker *k)
{
    shmc_cache *c = k->c;
    const char *bad = segment_bad_field(c->hdr, c->classes, c->stripes, c->pagemap);
    if (bad)
        problem(k, "%s is out of range", bad);
    if (segment_bad_fixed(c->hdr, c->classes) || c->hdr->nclasses != c->nclasses) {
        problem(k, "fields fixed at creation are damaged: nothing else was checked");
        return false;
    }
    return true;
}

/* Drop the first `stripes` stripe locks and the shard locks of classes
 * 1..classes, in the reverse of lock_all's order. */
static void unlock_some(shmc_cache *c, uint32_t stripes, unsigned classes)
{
    for (unsigned i = classes; i >= 1; i--)
        slabs_unlock_class(c, i);
    for (uint32_t i = stripes; i-- > 0;)
        lock_drop(&c->stripes[i].l);
}

/* Take every lock in the library's order, as a reader (lock.h: the check
 * changes nothing, so a check that dies leaves nothing to repair); false,
 * holding none, if a live client holds one past the call's bound. */
static bool lock_all(shmc_cache *c)
{
    for (uint32_t i = 0; i < SEG_NSTRIPES; i++)
        if (!lock_wait_reader(c, &c->stripes[i].l)) {
            unlock_some(c, i, 0);
            return false;
        }
    for (unsigned i = 1; i <= c->nclasses; i++) /* the handle's: the header's may be damaged */
        if (!slabs_lock_class_wait(c, i, true)) {
            unlock_some(c, SEG_NSTRIPES, i - 1);
            return false;
        }
    if (!lock_wait_reader(c, &c->hdr->pool_lock.l)) {
        unlock_some(c, SEG_NSTRIPES, c->nclasses);
        return false;
    }
    CRASH_POINT("check.locked");
    return true;
}

static void unlock_all(shmc_cache *c)
{
    lock_drop(&c->hdr->pool_lock.l);
    unlock_some(c, SEG_NSTRIPES, c->nclasses);
}

/* Print what the check found (the gate is closed: out is the caller's). */
static void check_report(const checker *k, FILE *out)
{
    if (!out)
        return;
    for (size_t i = 0; i < k->text_len;) {
        const char *nl = memchr(k->text + i, '\n', k->text_len - i);
        size_t n = (size_t)(nl - (k->text + i));
        fprintf(out, "problem: %.*s\n", (int)n, k->text + i);
        i += n + 1;
    }
    if (k->problems > CHECK_SHOWN)
        fprintf(out, "... %u problems in all\n", k->problems);
    if (k->recoverable)
        fprintf(out, "recoverable: %u chunk%s held by clients that died (recover frees them)\n",
                k->recoverable, k->recoverable == 1 ? "" : "s");
}

/* How many chunk slots seen[] needs (inside the gate): from the handle's
 * geometry, which no damage to the segment changes. */
static size_t check_seen_size(shmc_cache *c, uint32_t *stride)
{
    uint64_t npages = (c->pages_hi - c->pages_lo) / SEG_PAGE_SIZE;
    *stride = (uint32_t)(c->walk_max / npages);
    return (size_t)c->walk_max;
}

unsigned shmc_check(shmc_cache *c, FILE *out)
{
    return shmc_check_with(c, out, NULL);
}

unsigned shmc_check_with(shmc_cache *c, FILE *out, shmc_check_report *report)
{
    uintptr_t frame = GATE_FRAME();
    checker k = {.c = c};
    size_t nseen;
    if (gate_enter(c) != SHMC_OK)
        return 1;
    bool out_ok = (!out || vault_range_ok(out, sizeof *out, frame)) && /* libc writes *out */
                  (!report || vault_range_ok(report, sizeof *report, frame));
    nseen = check_seen_size(c, &k.stride);
    gate_leave();
    if (!out_ok)
        return 1;
    /* memory is allocated with the gate closed: malloc is the caller's */
    k.seen = calloc(nseen, 1);
    k.text = out ? malloc(CHECK_SHOWN * (CHECK_LINE + 1)) : NULL;
    if (!k.seen || (out && !k.text)) {
        free(k.seen);
        free(k.text);
        if (out)
            fprintf(out, "problem: out of memory for the check\n");
        return 1;
    }
    if (gate_enter(c) != SHMC_OK) { /* closed by another thread meanwhile */
        free(k.seen);
        free(k.text);
        return 1;
    }
    bool busy = !lock_all(c);
    if (busy) {
        problem(&k, "busy: a live client held a lock past the bound; nothing was checked");
    } else {
        if (check_fields(&k)) {
            check_pages(&k);
            check_classes(&k);
            check_index(&k);
            check_chunks(&k);
        }
        unlock_all(c);
    }
    gate_leave();
    check_report(&k, out);
    free(k.seen);
    free(k.text);
    if (report) {
        report->problems = k.problems;
        report->recoverable_chunks = k.recoverable;
        report->busy = busy;
    }
    return k.problems;
}
