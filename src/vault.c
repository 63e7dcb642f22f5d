/*
 * vault.c - the process's protected state (see vault.h): handle slots and
 * the table of attached segments, in pages tagged with the process key.
 *
 * Owns: the vault mapping.  The slot states and maps[] change under the
 * vault's own spin lock, which lives in the vault, so client code cannot
 * corrupt it as it could a pthread mutex in its own memory.  Calls here
 * are short and never block, so a spin lock suffices.
 */
#define _GNU_SOURCE
#include "vault.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

void vault_lock(vault *v)
{
    while (__atomic_exchange_n(&v->h.lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}

void vault_unlock(vault *v)
{
    __atomic_store_n(&v->h.lock, 0, __ATOMIC_RELEASE);
}

vault *vault_create(int pkey)
{
    void *p = mmap(NULL, sizeof(vault), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* tagged before it is ever writable: no moment without the key */
    int rc = pkey >= 0 ? pkey_mprotect(p, sizeof(vault), PROT_READ | PROT_WRITE, pkey)
                       : mprotect(p, sizeof(vault), PROT_READ | PROT_WRITE);
    if (rc != 0) {
        int e = errno;
        munmap(p, sizeof(vault));
        errno = e;
        return NULL;
    }
    return p;
}

shmc_cache *vault_handle_new(void)
{
    vault *v = protect_g.vault;
    shmc_cache *c = NULL;
    vault_lock(v);
    for (unsigned i = 0; i < VAULT_HANDLES && !c; i++)
        if (v->handles[i].magic == HANDLE_FREE)
            c = &v->handles[i];
    if (c) {
        memset(c, 0, sizeof *c);
        c->magic = HANDLE_OPENING;
    }
    vault_unlock(v);
    return c;
}

void vault_handle_free(shmc_cache *c)
{
    vault *v = protect_g.vault;
    vault_lock(v);
    memset(c, 0, sizeof *c); /* magic becomes HANDLE_FREE */
    vault_unlock(v);
}

bool vault_add_map(const void *base, size_t size)
{
    vault *v = protect_g.vault;
    bool ok = false;
    vault_lock(v);
    for (uint32_t i = 0; i < VAULT_MAX_MAPS && !ok; i++) {
        if (v->h.maps[i].hi)
            continue;
        v->h.maps[i].lo = (uintptr_t)base;
        __atomic_store_n(&v->h.maps[i].hi, (uintptr_t)base + size, __ATOMIC_RELEASE);
        if (i >= v->h.nmaps)
            __atomic_store_n(&v->h.nmaps, i + 1, __ATOMIC_RELEASE);
        ok = true;
    }
    vault_unlock(v);
    return ok;
}

void vault_remove_map(const void *base)
{
    vault *v = protect_g.vault;
    vault_lock(v);
    for (uint32_t i = 0; i < v->h.nmaps; i++) {
        if (v->h.maps[i].lo == (uintptr_t)base && v->h.maps[i].hi) {
            __atomic_store_n(&v->h.maps[i].hi, 0, __ATOMIC_RELEASE);
            v->h.maps[i].lo = 0;
            break;
        }
    }
    while (v->h.nmaps && !v->h.maps[v->h.nmaps - 1].hi)
        v->h.nmaps--;
    vault_unlock(v);
}

void vault_mark_forked(void)
{
    vault *v = protect_g.vault;
    /* the child has one thread: the lock is either free or was held by a
     * thread that no longer exists here */
    v->h.lock = 0;
    for (unsigned i = 0; i < VAULT_HANDLES; i++)
        if (v->handles[i].magic == HANDLE_LIVE || v->handles[i].magic == HANDLE_OPENING)
            v->handles[i].magic = HANDLE_FORKED;
}
