/*
 * sasl.h - SASL for the binary protocol (-S), with Cyrus libsasl2.
 * See sasl.c for the choices made.
 */
#ifndef SHMC_SERVER_SASL_H
#define SHMC_SERVER_SASL_H

#include <stddef.h>

#include "protocol.h"

/*
 * Initialise libsasl2 (once per process) for the service "memcached" and
 * return the operations the binary protocol calls, or NULL with a message
 * in err.  pwdb: a file of "user:password" lines (memcached's
 * MEMCACHED_SASL_PWDB), or NULL to read that variable; when neither is
 * set, libsasl2's own password check (sasldb) is used.  log_level: 0
 * silent, more for libsasl2's messages on stderr.
 */
const srv_sasl_ops *srv_sasl_init(const char *pwdb, int log_level, char *err, size_t errlen);

#endif
