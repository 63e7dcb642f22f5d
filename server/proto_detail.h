/*
 * proto_detail.h - memcached's per-prefix statistics ("stats detail
 * on|off|dump"), kept by this server for the commands it runs itself.
 *
 * A key's prefix is its bytes before the first -D delimiter (':' by
 * default); a key without one has no prefix and is not counted.  As in
 * memcached 1.6.18: text get, gets, gat and gats count a get per key (and
 * a hit if found), every set/add/replace/append/prepend/cas a set, every
 * delete a del; meta commands, text touch and incr/decr count nothing;
 * binary Get/GetK/Touch/GAT count a get, the stores a set, Delete a del.
 * Library clients' operations are not counted (they never pass through
 * a server; docs/server.md).  Process-wide and thread-safe.
 */
#ifndef SHMC_SERVER_PROTO_DETAIL_H
#define SHMC_SERVER_PROTO_DETAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

#define DETAIL_MAX_PREFIXES 65536 /* prefixes kept at most; later new ones are not counted */

enum detail_op { DETAIL_GET, DETAIL_SET, DETAIL_DEL };

/* Whether counting is on ("stats detail on"; off at start). */
bool detail_enabled(void);
void detail_set_enabled(bool on);

/* Count op on key's prefix (delim: the -D delimiter; 0 means ':');
 * hit matters for DETAIL_GET.  Nothing while counting is off. */
void detail_record(char delim, const char *key, size_t nkey, enum detail_op op, bool hit);

/* "stats detail dump": "PREFIX <p> get <n> hit <n> set <n> del <n>" per
 * prefix, then "END".  false if memory ran out. */
bool detail_dump(srv_buf *out);

#endif
