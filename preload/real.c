/*
 * real.c - the real libmemcached underneath the shim.
 *
 * Owns: finding the real calls (dlsym(RTLD_NEXT): the next definition after
 * this library, Debian's libmemcached.so.11), and the per-thread guard
 * that marks "a real call is running": libmemcached's calls of its own
 * exported functions (memcached_get -> memcached_fetch ...) may come back
 * through the shim, and must then go straight on to the real ones.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
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
