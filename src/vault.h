/*
 * vault.h - the process's protected state: every handle (struct
 * shmc_cache) and the table of attached segments, in pages that carry the
 * process's protection key (protect.h).
 *
 * A shmc_cache pointer a client holds points into the vault.  Client code
 * can neither write a handle (a stray write faults with SEGV_PKUERR) nor
 * forge one: the gate accepts a pointer only if it names a live slot of
 * the vault (vault_handle_ok), so the segment base and size, the client
 * slot and the lock token that decide where the library writes are the
 * library's own.  Where the process runs unprotected the vault is plain
 * memory and guards nothing, as the segment itself is.
 *
 * Every function here except vault_create() runs inside a gate.
 */
#ifndef SHMC_VAULT_H
#define SHMC_VAULT_H

#include "cache.h"
#include "protect.h"

#define VAULT_HANDLES 1024  /* handles one process may have open at once */
#define VAULT_MAX_MAPS 240  /* segments one process may have attached at once */
#define VAULT_STACK_BELOW (256u << 10) /* stack the library's frames of one call may use */

/* Handle states (shmc_cache.magic). */
#define HANDLE_FREE 0u
#define HANDLE_OPENING 0x4f50454eu /* being attached; not yet usable */
#define HANDLE_LIVE 0x4c495645u    /* usable */
#define HANDLE_FORKED 0x464f524bu  /* inherited by a fork child: only shmc_close works */

/* A range of the address space [lo, hi). */
typedef struct vault_range {
    uintptr_t lo;
    uintptr_t hi;
} vault_range;

/* The vault's first page. */
typedef struct vault_header {
    uint32_t lock;              /* spin lock over the handle slots' states and maps[] */
    uint32_t nmaps;             /* maps[0..nmaps) may be in use */
    uint32_t locked_down;       /* 1 once shmc_lockdown() installed its filter */
    uint32_t pad;
    vault_range maps[VAULT_MAX_MAPS]; /* every attached segment; {0, 0} is a free entry */
} vault_header;

typedef struct vault {
    vault_header h;
    struct shmc_cache handles[VAULT_HANDLES] __attribute__((aligned(4096)));
} vault;

/* Map a new vault and tag it with pkey (none if -1); NULL with errno. */
vault *vault_create(int pkey);

/* Does c name a handle slot of the vault?  Looks at the pointer only:
 * client code may call it with the key closed. */
static inline __attribute__((always_inline)) bool vault_handle_ok(const shmc_cache *c)
{
    const vault *v = protect_g.vault;
    uintptr_t off = (uintptr_t)c - (uintptr_t)(v ? v->handles : 0);
    return v && off < sizeof v->handles && off % sizeof *c == 0;
}

/* Take and release the vault's spin lock (over slot states and maps[]);
 * shmc_lockdown() holds it while it reads maps[] (lockdown.c). */
void vault_lock(vault *v);
void vault_unlock(vault *v);

/* A free handle slot, marked HANDLE_OPENING; NULL if all are in use. */
shmc_cache *vault_handle_new(void);

/* Return a slot (its contents are wiped). */
void vault_handle_free(shmc_cache *c);

/* Record an attached segment's range; false if VAULT_MAX_MAPS are in use. */
bool vault_add_map(const void *base, size_t size);

/* Forget it (before it is unmapped). */
void vault_remove_map(const void *base);

/* Mark every live handle HANDLE_FORKED (in a fork child). */
void vault_mark_forked(void);

/*
 * Is [p, p+len) free of the library's memory: every attached segment,
 * the vault, protect_g's page, and the stack below frame, the entry
 * point's frame address, where the library's own frames of this call
 * live (the caller's memory starts at frame + 16, above the return
 * address)?  False also when the range wraps.  Inside a gate.
 */
static inline __attribute__((always_inline)) bool vault_range_ok(const void *p, size_t len,
                                                                 uintptr_t frame)
{
    const vault *v = protect_g.vault;
    uintptr_t a = (uintptr_t)p, e = a + len;
    if (len == 0)
        return true;
    if (e < a)
        return false;
    if (a < frame + 16 && e > frame - VAULT_STACK_BELOW)
        return false;
    if (a < (uintptr_t)(v + 1) && e > (uintptr_t)v)
        return false;
    if (a < (uintptr_t)(&protect_global + 1) && e > (uintptr_t)&protect_global)
        return false;
    for (uint32_t i = 0; i < v->h.nmaps; i++)
        if (a < v->h.maps[i].hi && e > v->h.maps[i].lo)
            return false;
    return true;
}

#endif
