/*
 * proto_walk.h - memcached's item listings for the text protocol
 * ("lru_crawler metadump", "stats cachedump"), rendered from the
 * library's item walk (shmc_dump_next).
 */
#ifndef SHMC_SERVER_PROTO_WALK_H
#define SHMC_SERVER_PROTO_WALK_H

#include <stdbool.h>

#include "protocol.h"

#define WALK_MAX_CLASSES 64 /* memcached's MAX_NUMBER_OF_SLAB_CLASSES */

/*
 * "lru_crawler metadump": one line per live item of a class with
 * want[class] set (want NULL: every class), memcached's
 *   key=<uri-encoded key> exp=<unix time|-1> la=<unix time> cas=<n>
 *   fetch=<yes|no> cls=<class> size=<bytes>
 * then "END".  The lines go to out only if the whole walk ran: SHMC_OK
 * (or SHMC_CORRUPT: damaged items were skipped); any other status (a
 * live client held a lock past the bound; the segment retired; no memory:
 * SHMC_SYSTEM) leaves out untouched.
 */
shmc_status walk_metadump(shmc_cache *cache, const bool *want, srv_buf *out);

/*
 * "stats cachedump <class> <limit>": "ITEM <key> [<bytes> b; <exp> s]"
 * for up to limit (0: every) live items of class clsid, exp the Unix
 * expiry time or 0, then "END".  As walk_metadump for the status.
 */
shmc_status walk_cachedump(shmc_cache *cache, unsigned clsid, uint32_t limit, srv_buf *out);

#endif
