/*
 * segment.c - the segment file: its creation, validation, mapping and
 * removal.
 *
 * Everything here runs outside a gate, on a handle under construction in
 * the caller's frame (api.c copies it into the vault afterwards).
 *
 * Owns: the file, the mapping, the header's format fields and the layout
 * computation.  A segment is built under a temporary name and published
 * with link(2), so no process can ever open a half-initialised one, and
 * an existing file is never overwritten.  Attaching validates the header
 * with pread() before mapping anything, so a foreign or damaged file is
 * refused without being changed.
 */
#include "segment.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "lock.h"
#include "protect.h"
#include "slabs.h"

#define ALIGN_UP(x, a) (((x) + (a)-1) / (a) * (a))

static uint64_t pow2_at_least(uint64_t x)
{
    uint64_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

/* The first parameter of cfg out of range, named as the header names it;
 * NULL if none is. */
static const char *config_bad_field(const shmc_config *cfg)
{
    if (cfg->item_size_max < 1024 || cfg->item_size_max > SEG_ITEM_SIZE_MAX)
        return "seg_header.item_size_max";
    if (!(cfg->growth_factor > 1.0) || cfg->growth_factor > 100.0)
        return "seg_header.growth_factor";
    if (cfg->chunk_size_min < 8 || cfg->chunk_size_min > cfg->item_size_max / 2)
        return "seg_header.chunk_size_min";
    if (cfg->hash_power < 10 || cfg->hash_power > 31)
        return "seg_header.hash_power";
    if (cfg->max_clients < 1 || cfg->max_clients > 65535) /* tokens keep 16 bits */
        return "seg_header.max_clients";
    if (cfg->hot_lru_pct < 1 || cfg->warm_lru_pct < 1 || cfg->hot_lru_pct + cfg->warm_lru_pct > 80)
        return cfg->hot_lru_pct < 1 ? "seg_header.hot_lru_pct" : "seg_header.warm_lru_pct";
    if (cfg->mode & ~07777u)
        return "seg_header.mode";
    if (cfg->mem_bytes < 2 * SEG_PAGE_SIZE || cfg->mem_bytes > (16ull << 30))
        return "seg_header.mem_bytes";
    return NULL;
}

shmc_status segment_check_config(const shmc_config *cfg)
{
    return config_bad_field(cfg) ? SHMC_INVALID : SHMC_OK;
}

/* Decide where every region goes; fills the layout fields of h (whose
 * parameters are set).  The pages are mem_bytes' and one per class: as
 * memcached gives a class without a page its first past -m, so that no
 * class is starved by the others (slabs.c: slabs_grow); the file is
 * sparse, so a page no class took costs no memory. */
static shmc_status segment_layout(seg_header *h, const shmc_config *cfg)
{
    uint64_t page = SEG_PAGE_SIZE;
    h->page_size = (uint32_t)page;
    uint32_t size[SEG_MAX_CLASSES + 1];
    h->npages = (uint32_t)(cfg->mem_bytes / page) + slabs_class_sizes(h, size);
    uint32_t smallest = (uint32_t)ALIGN_UP(sizeof(item_t) + cfg->chunk_size_min, 8);
    uint64_t max_items = (uint64_t)h->npages * (page / smallest);
    uint64_t nb = pow2_at_least(max_items);
    uint64_t n0 = 1ull << cfg->hash_power;
    if (nb < 2 * n0)
        nb = 2 * n0;
    if (nb > (1ull << 32))
        nb = 1ull << 32;
    h->max_buckets = nb;

    uint64_t off = ALIGN_UP(sizeof(seg_header), 64);
    h->off_classes = off;
    off += sizeof(slab_class) * (SEG_MAX_CLASSES + 1);
    h->off_stripes = off;
    off += sizeof(seg_stripe) * SEG_NSTRIPES;
    h->off_slots = off;
    off += ALIGN_UP(sizeof(client_slot) * cfg->max_clients, 64);
    h->off_events = off;
    off += ALIGN_UP(sizeof(seg_event_ring), 64);
    h->off_pagemap = off;
    off += ALIGN_UP(h->npages, 4096);
    h->off_buckets = off;
    off += ALIGN_UP(nb * sizeof(ref_t), 4096);
    off = ALIGN_UP(off, 2u << 20); /* pages start on a huge-page boundary */
    h->off_pages = off;
    /* a whole number of 2 MiB huge pages, as hugetlbfs requires */
    h->file_size = ALIGN_UP(off + (uint64_t)h->npages * page, 2u << 20);
    if (h->file_size >> 35) /* refs are 32 bits of 8-byte units */
        return SHMC_INVALID;
    return SHMC_OK;
}

static void segment_set_params(seg_header *h, const shmc_config *cfg)
{
    memcpy(h->magic, SEG_MAGIC, 8);
    h->version = SEG_FORMAT_VERSION;
    h->header_size = sizeof(seg_header);
    h->mem_bytes = cfg->mem_bytes;
    h->limit_pages = (uint32_t)(cfg->mem_bytes / SEG_PAGE_SIZE);
    h->item_size_max = cfg->item_size_max;
    h->chunk_size_min = cfg->chunk_size_min;
    h->growth_factor = cfg->growth_factor;
    h->no_evict = cfg->no_evict ? 1 : 0;
    h->hash_power = cfg->hash_power;
    h->max_clients = cfg->max_clients;
    h->hot_lru_pct = cfg->hot_lru_pct;
    h->warm_lru_pct = cfg->warm_lru_pct;
    h->slab_automove = cfg->slab_automove ? 1 : 0;
    h->mode = cfg->mode;
    h->group = (uint32_t)cfg->group;
    time_t now = time(NULL);
    h->created = now;
    h->epoch = now - 2; /* relative time 1 is always in the past: "expired" */
}

/* Map a segment file.  The mapping asks for transparent huge pages: a
 * cache is random access over a large area, where 4 KiB pages cost a TLB
 * miss on nearly every lookup.  The kernel gives them to shared memory
 * when /sys/kernel/mm/transparent_hugepage/shmem_enabled allows it
 * ("advise" or better); otherwise the advice is a no-op.  With tag, the
 * mapping starts inaccessible and becomes readable and writable only
 * with the process's protection key (protect.h), so client code never
 * sees it unprotected. */
static void *segment_map(int fd, size_t size, bool tag)
{
    void *base = mmap(NULL, size, tag ? PROT_NONE : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return base;
    if (tag && protect_tag(base, size) != 0) {
        int e = errno;
        munmap(base, size);
        errno = e;
        return MAP_FAILED;
    }
    madvise(base, size, MADV_HUGEPAGE);
    return base;
}

/* Point the handle's region pointers into the mapping, by the layout in
 * h (a copy: the mapping itself may be readable only inside a gate), and
 * keep the geometry the checks of bounds.h use. */
/* Remember which file the mapping came from (shmc_segment_identity). */
static void segment_note_file(shmc_cache *c, int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) == 0) {
        c->file_dev = (uint64_t)sb.st_dev;
        c->file_ino = (uint64_t)sb.st_ino;
    }
}

static void segment_bind(shmc_cache *c, const seg_header *h)
{
    c->hdr = (seg_header *)c->base;
    c->classes = (slab_class *)(c->base + h->off_classes);
    c->stripes = (seg_stripe *)(c->base + h->off_stripes);
    c->slots = (client_slot *)(c->base + h->off_slots);
    c->events = (seg_event_ring *)(c->base + h->off_events);
    c->pagemap = (uint8_t *)(c->base + h->off_pagemap);
    c->buckets = (ref_t *)(c->base + h->off_buckets);
    c->pages_lo = h->off_pages;
    c->pages_hi = h->off_pages + (uint64_t)h->npages * h->page_size;
    /* the smallest chunk is class 1's (slabs_class_sizes) */
    c->walk_max = (uint32_t)((uint64_t)h->npages *
                             (h->page_size / ALIGN_UP(sizeof(item_t) + h->chunk_size_min, 8)));
    c->bucket_mask = (uint32_t)(h->max_buckets - 1);
}

/* Keep in the handle what bounds.h needs of the class table that the
 * parameters in h give (validated at attach, just made at create). */
static void segment_bind_classes(shmc_cache *c, const seg_header *h)
{
    uint32_t size[SEG_MAX_CLASSES + 1];
    c->nclasses = slabs_class_sizes(h, size);
    for (unsigned id = 1; id <= c->nclasses; id++)
        c->chunk_magic[id] = bounds_magic(size[id]);
}

static void segment_init_locks(shmc_cache *c)
{
    seg_header *h = c->hdr;
    lock_init(&h->pool_lock.l, LOCK_POOL, 0);
    lock_init(&h->grow_lock.l, LOCK_GROW, 0);
    for (uint32_t i = 0; i < SEG_NSTRIPES; i++)
        lock_init(&c->stripes[i].l, LOCK_STRIPE, i);
    for (uint32_t i = 1; i <= SEG_MAX_CLASSES; i++)
        for (uint32_t s = 0; s < SEG_SHARDS; s++)
            lock_init(&c->classes[i].shards[s].lock, LOCK_SHARD, i | s << 8);
}

static shmc_status status_from_errno(int e)
{
    switch (e) {
    case EACCES:
    case EPERM:
    case EROFS:
        return SHMC_PERMISSION;
    case ENOENT:
        return SHMC_NO_FILE;
    case EEXIST:
        return SHMC_FILE_EXISTS;
    default:
        return SHMC_SYSTEM;
    }
}

/* Open the temporary file next to path with the segment's mode. */
static int segment_open_temp(const char *path, const shmc_config *cfg, char **tmp_out)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.new.%ld", path, (long)getpid());
    unlink(tmp); /* a leftover of a creator with our pid that died */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    /* umask must not weaken or widen what the caller asked for */
    if (fchmod(fd, cfg->mode) != 0 ||
        (cfg->group != (gid_t)-1 && fchown(fd, (uid_t)-1, cfg->group) != 0)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    *tmp_out = tmp;
    return fd;
}

shmc_status segment_create(shmc_cache *c, const char *path, const shmc_config *cfg)
{
    seg_header proto;
    memset(&proto, 0, sizeof proto);
    segment_set_params(&proto, cfg);
    if (segment_layout(&proto, cfg) != SHMC_OK)
        return SHMC_INVALID;
    if (access(path, F_OK) == 0)
        return SHMC_FILE_EXISTS;

    char *tmp = NULL;
    int fd = segment_open_temp(path, cfg, &tmp);
    if (fd < 0)
        return status_from_errno(errno);
    shmc_status st = SHMC_SYSTEM;
    if (ftruncate(fd, (off_t)proto.file_size) != 0)
        goto fail;
    void *base = segment_map(fd, proto.file_size, false);
    if (base == MAP_FAILED)
        goto fail;
    c->base = base;
    c->size = proto.file_size;
    memcpy(c->base, &proto, sizeof proto);
    segment_bind(c, &proto);
    segment_init_locks(c);
    slabs_init_classes(c);
    segment_bind_classes(c, c->hdr);
    __atomic_store_n(&c->hdr->init_done, 1, __ATOMIC_RELEASE);
    /* behind the key before anyone else can open it */
    if (protect_tag(c->base, c->size) != 0 || msync(c->base, sizeof(seg_header), MS_SYNC) != 0) {
        st = SHMC_SYSTEM;
        goto fail_unmap;
    }
    if (link(tmp, path) != 0) { /* publish; fails if path appeared meanwhile */
        st = status_from_errno(errno);
        goto fail_unmap;
    }
    unlink(tmp);
    free(tmp);
    segment_note_file(c, fd);
    close(fd); /* the mapping is all we keep: no descriptor reaches the bytes */
    return SHMC_OK;

fail_unmap:
    munmap(c->base, c->size);
    c->base = NULL;
fail:;
    int e = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    errno = e;
    return st;
}

/* A header field, to name the one that is wrong. */
typedef struct header_field {
    size_t off, len;            /* where in seg_header */
    const char *name;           /* "seg_header.<field>" */
} header_field;

#define HEADER_FIELD(f) {offsetof(seg_header, f), sizeof(((seg_header *)0)->f), "seg_header." #f}

/* The fields segment_layout computes from the parameters. */
static const header_field layout_fields[] = {
    HEADER_FIELD(page_size),   HEADER_FIELD(npages),      HEADER_FIELD(max_buckets),
    HEADER_FIELD(off_classes), HEADER_FIELD(off_stripes), HEADER_FIELD(off_slots),
    HEADER_FIELD(off_events),  HEADER_FIELD(off_pagemap), HEADER_FIELD(off_buckets), HEADER_FIELD(off_pages),
    HEADER_FIELD(file_size),
};

#define CLOCK_LIMIT (1ll << 40) /* seconds: no sum or difference of times can overflow */

/* The header's fixed fields: format, parameters and layout. */
static const char *header_bad_fixed(const seg_header *h)
{
    if (h->header_size != sizeof *h)
        return "seg_header.header_size";
    if (h->init_done != 1)
        return "seg_header.init_done";
    if (h->no_evict > 1 || h->slab_automove > 1)
        return h->no_evict > 1 ? "seg_header.no_evict" : "seg_header.slab_automove";
    shmc_config cfg = {
        .mem_bytes = h->mem_bytes, .item_size_max = h->item_size_max,
        .chunk_size_min = h->chunk_size_min, .growth_factor = h->growth_factor,
        .no_evict = (int)h->no_evict, .hash_power = h->hash_power,
        .max_clients = h->max_clients, .hot_lru_pct = h->hot_lru_pct,
        .warm_lru_pct = h->warm_lru_pct, .slab_automove = (int)h->slab_automove,
        .mode = h->mode, .group = (gid_t)h->group,
    };
    const char *bad = config_bad_field(&cfg);
    if (bad)
        return bad;
    /* the layout must be what these parameters give */
    seg_header expect = *h;
    if (segment_layout(&expect, &cfg) != SHMC_OK)
        return "seg_header.mem_bytes";
    for (size_t i = 0; i < sizeof layout_fields / sizeof layout_fields[0]; i++) {
        const header_field *f = &layout_fields[i];
        if (memcmp((const char *)&expect + f->off, (const char *)h + f->off, f->len) != 0)
            return f->name;
    }
    if (h->epoch <= 0 || h->epoch >= CLOCK_LIMIT)
        return "seg_header.epoch";
    if (h->created != h->epoch + 2) /* segment_set_params */
        return "seg_header.created";
    if (h->clock_offset <= -CLOCK_LIMIT || h->clock_offset >= CLOCK_LIMIT)
        return "seg_header.clock_offset";
    return NULL;
}

/* The header's fields that change at run time and are used as indices
 * or bounds (the others - flush_time, flush_cas, the statistics - may
 * hold any value), and the names of its locks. */
static const char *header_bad_state(const seg_header *h)
{
    uint64_t level = h->hash_word >> 32, split = (uint32_t)h->hash_word;
    uint64_t round = level < 32 ? (1ull << h->hash_power) << level : 0;
    if (!round || round > h->max_buckets || split >= round || round + split > h->max_buckets)
        return "seg_header.hash_word";
    if (h->page_hint > h->npages)
        return "seg_header.page_hint";
    if (h->limit_pages < 1 || h->limit_pages > h->npages)
        return "seg_header.limit_pages";
    if (h->pool_lock.l.kind != LOCK_POOL || h->pool_lock.l.id != 0)
        return "seg_header.pool_lock";
    if (h->grow_lock.l.kind != LOCK_GROW || h->grow_lock.l.id != 0)
        return "seg_header.grow_lock";
    return NULL;
}

const char *segment_bad_fixed(const seg_header *h, const slab_class *classes)
{
    const char *bad = header_bad_fixed(h);
    if (bad)
        return bad;
    uint32_t size[SEG_MAX_CLASSES + 1];
    if (h->nclasses != slabs_class_sizes(h, size))
        return "seg_header.nclasses";
    for (unsigned id = 1; id <= h->nclasses; id++) {
        if (classes[id].size != size[id])
            return "slab_class.size";
        if (classes[id].perslab != h->page_size / size[id])
            return "slab_class.perslab";
    }
    return NULL;
}

/* The class table's page counts (within the pages) and shard locks' names. */
static const char *classes_bad_state(const seg_header *h, const slab_class *classes)
{
    for (unsigned id = 1; id <= h->nclasses; id++) {
        const slab_class *cls = &classes[id];
        if (cls->pages > h->npages)
            return "slab_class.pages";
        for (unsigned s = 0; s < SEG_SHARDS; s++)
            if (cls->shards[s].lock.kind != LOCK_SHARD || cls->shards[s].lock.id != (id | s << 8))
                return "slab_shard.lock";
    }
    return NULL;
}

const char *segment_bad_field(const seg_header *h, const slab_class *classes,
                              const seg_stripe *stripes, const uint8_t *pagemap)
{
    const char *bad = segment_bad_fixed(h, classes);
    if (!bad)
        bad = header_bad_state(h);
    if (!bad)
        bad = classes_bad_state(h, classes);
    for (uint32_t i = 0; !bad && i < SEG_NSTRIPES; i++)
        if (stripes[i].l.kind != LOCK_STRIPE || stripes[i].l.id != i)
            bad = "seg_stripe.l";
    for (uint32_t pg = 0; !bad && pg < h->npages; pg++)
        if (pagemap[pg] > h->nclasses)
            bad = "page map";
    return bad;
}

/* Name what is damaged (bounds.h) and say so. */
static shmc_status corrupt(const char *what)
{
    bounds_fail(what);
    return SHMC_CORRUPT;
}

/* Read the class table, the stripes and the page map of the file whose
 * header h passed header_bad_fixed, and validate all of it. */
static shmc_status segment_validate_tables(int fd, const seg_header *h)
{
    size_t tables = h->off_slots - h->off_classes; /* classes, then stripes */
    char *buf = aligned_alloc(64, ALIGN_UP(tables + h->npages, 64));
    if (!buf)
        return SHMC_SYSTEM;
    shmc_status st = SHMC_OK;
    if (pread(fd, buf, tables, (off_t)h->off_classes) != (ssize_t)tables ||
        pread(fd, buf + tables, h->npages, (off_t)h->off_pagemap) != (ssize_t)h->npages) {
        st = SHMC_CORRUPT; /* the file is long enough: it changed meanwhile */
    } else {
        const char *bad = segment_bad_field(h, (const slab_class *)buf,
                                            (const seg_stripe *)(buf + (h->off_stripes -
                                                                        h->off_classes)),
                                            (const uint8_t *)buf + tables);
        if (bad)
            st = corrupt(bad);
    }
    free(buf);
    return st;
}

/* Read and validate the header of an open file without mapping it. */
static shmc_status segment_validate(int fd, seg_header *h)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return SHMC_SYSTEM;
    if (!S_ISREG(sb.st_mode))
        return SHMC_NOT_SEGMENT;
    memset(h, 0, sizeof *h);
    ssize_t n = pread(fd, h, sizeof *h, 0);
    if (n < 0)
        return SHMC_SYSTEM;
    if (n < 8 || memcmp(h->magic, SEG_MAGIC, 8) != 0)
        return SHMC_NOT_SEGMENT; /* as segment_probe says: never half-created */
    if ((size_t)n < sizeof(h->magic) + sizeof(h->version))
        return corrupt("file size");
    if (h->version != SEG_FORMAT_VERSION)
        return SHMC_BAD_VERSION;
    if ((size_t)n < sizeof *h)
        return corrupt("file size");
    if (h->file_size != (uint64_t)sb.st_size)
        return corrupt("seg_header.file_size");
    if (h->stale)
        return SHMC_STALE; /* destroyed or replaced: about to be removed */
    const char *bad = header_bad_fixed(h);
    if (bad)
        return corrupt(bad);
    return segment_validate_tables(fd, h);
}

shmc_status segment_attach(shmc_cache *c, const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return status_from_errno(errno);
    seg_header h;
    shmc_status st = segment_validate(fd, &h);
    if (st != SHMC_OK) {
        int e = errno;
        close(fd);
        errno = e;
        return st;
    }
    void *base = segment_map(fd, h.file_size, true);
    int e = errno;
    segment_note_file(c, fd);
    close(fd); /* the mapping is all we keep: no descriptor reaches the bytes */
    if (base == MAP_FAILED) {
        errno = e;
        return SHMC_SYSTEM;
    }
    c->base = base;
    c->size = h.file_size;
    segment_bind(c, &h);
    segment_bind_classes(c, &h);
    return SHMC_OK;
}

void segment_detach(shmc_cache *c)
{
    if (c->base)
        munmap(c->base, c->size);
    c->base = NULL;
}

shmc_status segment_probe(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return status_from_errno(errno);
    char magic[8];
    ssize_t n = pread(fd, magic, sizeof magic, 0);
    close(fd);
    if (n < 0)
        return SHMC_SYSTEM;
    if (n < 8 || memcmp(magic, SEG_MAGIC, 8) != 0)
        return SHMC_NOT_SEGMENT;
    return SHMC_OK;
}

shmc_status segment_retire(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        /* not writable here: at least refuse what is not a segment */
        shmc_status st = segment_probe(path);
        return st == SHMC_OK ? status_from_errno(EACCES) : st;
    }
    seg_header h;
    shmc_status st = segment_validate(fd, &h);
    if (st == SHMC_STALE || st == SHMC_CORRUPT || st == SHMC_BAD_VERSION)
        st = SHMC_OK; /* retired already; or a segment nobody can attach anyway */
    else if (st == SHMC_OK) {
        /* through the file, not a mapping: the page is the one every
         * attached process maps, so they all see it at once */
        uint32_t one = 1;
        if (pwrite(fd, &one, sizeof one, offsetof(seg_header, stale)) != sizeof one)
            st = SHMC_SYSTEM;
    }
    int e = errno;
    close(fd);
    errno = e;
    return st;
}
