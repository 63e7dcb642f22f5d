/*
 * dlopen.c - keeps the preload in front of libmemcached for libraries
 * that are loaded with RTLD_DEEPBIND.
 *
 * PHP loads its extensions with RTLD_DEEPBIND: a symbol of memcached.so
 * (php-memcached) is then looked up in its own dependencies first, so its
 * libmemcached calls would go straight to libmemcached and never through
 * the preload (while libmemcached's own calls of its exported functions
 * still would: a half-intercepted program).  This dlopen takes
 * RTLD_DEEPBIND off for a library whose file name contains "memcached",
 * and passes every other call on unchanged.  (As every wrapper of dlopen,
 * it makes itself dlopen's caller: a file name without a slash is then
 * searched for without the calling library's own RUNPATH.)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "shim.h"

SHIM_EXPORT void *dlopen(const char *file, int mode)
{
    static void *slot;
    void *(*real_dlopen)(const char *, int) = (void *(*)(const char *, int))shim_real(&slot,
                                                                                     "dlopen");
    const char *base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : file;
    if ((mode & RTLD_DEEPBIND) && base && strstr(base, "memcached") &&
        shim_active(__builtin_return_address(0))) {
        shim_debug("dlopen %s without RTLD_DEEPBIND, so that its libmemcached calls reach the "
                   "preload", file);
        mode &= ~RTLD_DEEPBIND;
    }
    return real_dlopen(file, mode);
}
