/*
 * real.c - the real libmemcached underneath the shim.
 *
 * Owns: finding the real calls (dlsym(RTLD_NEXT): the next definition after
 * this library, Debian's libmemcached.so.11), and the per-thread guard
 * that marks "a real call is running": libmemcached's calls of its own
 * exported functions (memcached_get -> memcached_fetch ...) may come back
 * through the shim, and must then go straight on to the real ones.
 * Also owns telling such calls by their return address, for those whose
 * outer call did not go through the shim (a library bound straight to
 * libmemcached, as PHP's extension is with RTLD_DEEPBIND: dlopen.c).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim.h"

/* Depth of real calls running on this thread. */
static __thread unsigned real_depth;

void *shim_real(void **slot, const char *name)
{
    void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (fn)
        return fn;
    fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        fprintf(stderr, "libshmcached-memcached: %s not found after this library (%s): load "
                        "libmemcached (-lmemcached) too\n", name, dlerror());
        abort();
    }
    __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    return fn;
}

int shim_nested(void)
{
    return real_depth > 0;
}

void shim_real_begin(void)
{
    real_depth++;
}

void shim_real_end(void)
{
    real_depth--;
}

/* The loaded segments of libmemcached's file, found once. */
#define MAX_RANGES 8
static uintptr_t range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static int nranges;
static uintptr_t lib_base; /* libmemcached's load address (dladdr) */

static int note_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (info->dlpi_addr != lib_base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum && nranges < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        range_lo[nranges] = info->dlpi_addr + ph->p_vaddr;
        range_hi[nranges++] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    }
    return 1;
}

static void find_ranges(void)
{
    static void *slot;
    Dl_info di;
    if (dladdr(shim_real(&slot, "memcached_strerror"), &di) && di.dli_fbase) {
        lib_base = (uintptr_t)di.dli_fbase;
        dl_iterate_phdr(note_ranges, NULL);
    }
}

int shim_from_libmemcached(const void *caller)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_ranges);
    uintptr_t a = (uintptr_t)caller;
    for (int i = 0; i < nranges; i++)
        if (a >= range_lo[i] && a < range_hi[i])
            return 1;
    return 0;
}
