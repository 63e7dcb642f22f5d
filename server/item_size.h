/*
 * item_size.h - memcached 1.6's rule for "too large", which the server's
 * parsers apply so that the limit (-I) falls exactly where memcached's
 * does: an item is its header (sizeof(item), 48 bytes on 64-bit
 * platforms), the key and a NUL, the client flags when they are not 0,
 * the value and its "\r\n", and the CAS unless -C; memcached refuses it
 * when that is over item_size_max.  The library's own item is smaller,
 * so whatever passes here fits the segment.
 */
#ifndef SHMC_SERVER_ITEM_SIZE_H
#define SHMC_SERVER_ITEM_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shmcached.h"

#define MC_ITEM_HEADER 48u /* memcached 1.6's sizeof(item), 64-bit */

/* item_size_max 0 means memcached's default, 1 MiB. */
static inline bool mc_item_too_large(uint32_t item_size_max, size_t nkey, uint32_t flags,
                                     uint64_t vlen, bool cas)
{
    uint64_t max = item_size_max ? item_size_max : (1u << 20);
    uint64_t total = MC_ITEM_HEADER + (uint64_t)nkey + 1 + (flags ? 4 : 0) + vlen + 2 +
                     (cas ? 8 : 0);
    return total > max;
}

/*
 * append/prepend: memcached builds the joined item (the old item's flags,
 * both values) and answers "not stored" when that is too large.  true if
 * key's item joined with add more bytes would be; false if it fits or is
 * missing (the store then says what it says).
 */
static inline bool mc_concat_too_large(shmc_cache *cache, const void *key, size_t nkey,
                                       size_t add, uint32_t item_size_max, bool cas)
{
    const shmc_get_options nobump = {.flags = SHMC_GET_NO_BUMP};
    shmc_item_info info;
    if (shmc_get_info(cache, key, nkey, &nobump, NULL, NULL, &info) != SHMC_OK)
        return false;
    return mc_item_too_large(item_size_max, nkey, info.flags, (uint64_t)info.len + add, cas);
}

#endif
