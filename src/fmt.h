/*
 * fmt.h - numbers and messages written as text with the protection key
 * open, without libc.
 *
 * Code that runs with the key open must be the library's own: a client
 * may define snprintf or vsnprintf, and its program's symbols come before
 * libc's (docs/security.md).  incr/decr write their result here, and
 * shmc_check describes what it finds here; both inside the gate.
 */
#ifndef SHMC_FMT_H
#define SHMC_FMT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FMT_U64_MAX 20 /* decimal digits of the largest uint64_t */

/* The decimal digits of v at out (room for FMT_U64_MAX; no NUL); their
 * count. */
size_t fmt_u64(uint64_t v, char *out);

/*
 * printf's formatting of fmt with ap into dst (cap >= 1 bytes), cut to
 * cap - 1 bytes and NUL-terminated; returns the length written.  The
 * conversions: %u %d %lu %llu %zu (decimal), %s, %.*s and %%.  Any other
 * ends the text there with "?", so that no argument is read as another
 * type (the callers' formats are checked by the compiler, format(printf)).
 */
size_t fmt_vformat(char *dst, size_t cap, const char *fmt, va_list ap);

#endif
