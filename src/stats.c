/*
 * stats.c - statistics under memcached's names, read from the segment.
 *
 * Owns: the summing of per-client counter lanes, retired counters and
 * per-class counters into shmc_stats / shmc_class_stats.  Reads without
 * locks: figures are a moment's snapshot, as memcached's are.
 */
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "gate.h"
#include "hash.h"
#include "registry.h"

#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Events of every client past and present. */
static void stats_sum_events(shmc_cache *c, seg_counters *sum)
{
    memset(sum, 0, sizeof *sum);
    registry_add_counters(sum, &c->hdr->retired);
    for (uint32_t i = 0; i < c->hdr->max_clients; i++)
        if (registry_slot_used(c, i))
            registry_sum_counters(&c->slots[i], sum);
}

/* memcached's names from our events: a gat counts as a get command and a
 * touch command, and its hits as touch hits, not get hits. */
static void stats_copy_events(shmc_stats *o, const seg_counters *e)
{
    uint64_t gats = e->gat_hits + e->gat_misses;
    o->total_items = e->total_items;
    o->get_hits = e->get_hits;
    o->get_misses = e->get_misses;
    o->get_expired = e->get_expired;
    o->get_flushed = e->get_flushed;
    o->cmd_get = e->get_hits + e->get_misses + gats;
    o->cmd_set = e->cmd_set;
    o->cmd_touch = e->touch_hits + e->touch_misses + gats;
    o->cmd_flush = e->cmd_flush;
    o->delete_hits = e->delete_hits;
    o->delete_misses = e->delete_misses;
    o->incr_hits = e->incr_hits;
    o->incr_misses = e->incr_misses;
    o->decr_hits = e->decr_hits;
    o->decr_misses = e->decr_misses;
    o->cas_hits = e->cas_hits;
    o->cas_misses = e->cas_misses;
    o->cas_badval = e->cas_badval;
    o->touch_hits = e->touch_hits + e->gat_hits;
    o->touch_misses = e->touch_misses + e->gat_misses;
}

/* Class id's figures, its shards summed without locks. */
static void stats_sum_class(shmc_cache *c, unsigned id, shmc_class_stats *o)
{
    slab_class *cls = &c->classes[id];
    uint32_t now = clock_now(c), oldest = 0;
    memset(o, 0, sizeof *o);
    o->chunk_size = cls->size;
    o->chunks_per_page = cls->perslab;
    o->total_pages = LD(cls->pages);
    for (unsigned s = 0; s < SEG_SHARDS; s++) {
        slab_shard *sh = &cls->shards[s];
        o->free_chunks += LD(sh->free_count);
        o->hot += LD(sh->lru_count[SEG_LRU_HOT]);
        o->warm += LD(sh->lru_count[SEG_LRU_WARM]);
        o->cold += LD(sh->lru_count[SEG_LRU_COLD]);
        o->temp += LD(sh->lru_count[SEG_LRU_TEMP]);
        o->bytes += LD(sh->bytes);
        o->evictions += LD(sh->evictions);
        o->reclaimed += LD(sh->reclaimed);
        o->expired_unfetched += LD(sh->expired_unfetched);
        o->evicted_unfetched += LD(sh->evicted_unfetched);
        o->outofmemory += LD(sh->alloc_fails);
        uint32_t t = LD(sh->tail_atime);
        if (t && LD(sh->lru_count[SEG_LRU_COLD]) && (!oldest || t < oldest))
            oldest = t;
    }
    o->used_chunks = o->total_pages * cls->perslab - o->free_chunks;
    o->curr_items = o->hot + o->warm + o->cold + o->temp;
    o->oldest_age = oldest && now > oldest ? now - oldest : 0;
}

static void stats_add_classes(shmc_cache *c, shmc_stats *o)
{
    for (uint32_t i = 1; i <= c->hdr->nclasses; i++) {
        shmc_class_stats cs;
        stats_sum_class(c, i, &cs);
        o->curr_items += cs.curr_items;
        o->bytes += cs.bytes;
        o->evictions += cs.evictions;
        o->evicted_unfetched += cs.evicted_unfetched;
        o->reclaimed += cs.reclaimed;
        o->expired_unfetched += cs.expired_unfetched;
        o->total_pages += cs.total_pages;
    }
    /* the classes may hold limit_pages, and each one page past it */
    uint64_t limit = LD(c->hdr->limit_pages), given = o->total_pages;
    o->total_pages = given > limit ? given : limit;
    o->free_pages = o->total_pages - given;
}

shmc_status shmc_stats_get(shmc_cache *c, shmc_stats *out)
{
    shmc_status gst = gate_enter_out(c, out, sizeof *out, GATE_FRAME());
    if (gst != SHMC_OK)
        return gst;
    shmc_stats os, *o = &os;
    seg_counters e;
    memset(o, 0, sizeof *o);
    stats_sum_events(c, &e);
    stats_copy_events(o, &e);
    stats_add_classes(c, o);
    o->limit_maxbytes = (uint64_t)LD(c->hdr->limit_pages) * c->hdr->page_size;
    o->slabs_moved = LD(c->hdr->slabs_moved);
    o->hash_buckets = hash_buckets(c);
    for (uint64_t b = o->hash_buckets; b > 1; b >>= 1)
        o->hash_power_level++;
    unsigned dead = 0;
    o->curr_clients = registry_count(c, &dead);
    o->dead_clients = dead;
    o->clients_recovered = LD(c->hdr->clients_recovered);
    o->locks_repaired = LD(c->hdr->locks_repaired);
    o->protection = protect_g.pkey >= 0 ? SHMC_PROTECT_MPK : SHMC_PROTECT_NONE;
    o->pkru_writers = c->pkru_writers;
    o->time = (uint64_t)clock_unix(c);
    o->uptime = o->time - (uint64_t)c->hdr->created;
    gate_leave();
    *out = os;
    return SHMC_OK;
}

unsigned shmc_class_count(shmc_cache *c)
{
    if (gate_enter(c) != SHMC_OK)
        return 0;
    unsigned n = c->hdr->nclasses;
    gate_leave();
    return n;
}

shmc_status shmc_class_stats_get(shmc_cache *c, unsigned id, shmc_class_stats *out)
{
    uintptr_t frame = GATE_FRAME();
    if (!out || id < 1)
        return SHMC_INVALID;
    shmc_status gst = gate_enter(c);
    if (gst != SHMC_OK)
        return gst;
    shmc_class_stats o;
    shmc_status st = SHMC_INVALID;
    if (id <= c->hdr->nclasses && vault_range_ok(out, sizeof *out, frame)) {
        stats_sum_class(c, id, &o);
        st = SHMC_OK;
    }
    gate_leave();
    if (st == SHMC_OK)
        *out = o;
    return st;
}

shmc_status shmc_segment_identity(shmc_cache *c, shmc_segment_id *out)
{
    shmc_status gst = gate_enter_out(c, out, sizeof *out, GATE_FRAME());
    if (gst != SHMC_OK)
        return gst;
    shmc_segment_id o;
    memset(&o, 0, sizeof o);
    o.dev = c->file_dev;
    o.ino = c->file_ino;
    o.created = c->hdr->created;
    gate_leave();
    *out = o;
    return SHMC_OK;
}

shmc_status shmc_config_get(shmc_cache *c, shmc_config *out)
{
    shmc_status gst = gate_enter_out(c, out, sizeof *out, GATE_FRAME());
    if (gst != SHMC_OK)
        return gst;
    seg_header *h = c->hdr;
    shmc_config os, *o = &os;
    memset(o, 0, sizeof *o);
    o->mem_bytes = h->mem_bytes;
    o->item_size_max = h->item_size_max;
    o->chunk_size_min = h->chunk_size_min;
    o->growth_factor = h->growth_factor;
    o->no_evict = (int)h->no_evict;
    o->hash_power = h->hash_power;
    o->max_clients = h->max_clients;
    o->hot_lru_pct = h->hot_lru_pct;
    o->warm_lru_pct = h->warm_lru_pct;
    o->slab_automove = (int)h->slab_automove;
    o->mode = (mode_t)h->mode;
    o->group = (gid_t)h->group;
    gate_leave();
    *out = os;
    return SHMC_OK;
}
