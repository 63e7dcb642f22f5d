/*
 * mem.h - byte compares made with the protection key open, compiled in.
 *
 * Code that runs with the key open must be the library's own: a client
 * may interpose libc's memcmp.  Copies and fills need nothing here: the
 * library is built so that GCC expands every memcpy and memset inline
 * (CMakeLists.txt, SHMC_INLINE_STRINGOPS); a compare GCC would expand as
 * repz cmpsb, which is slow, so keys are compared here a word at a time.
 */
#ifndef SHMC_MEM_H
#define SHMC_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the n bytes at a and b are equal. */
static inline bool mem_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n >= 8; n -= 8, p += 8, q += 8) {
        uint64_t x, y;
        __builtin_memcpy(&x, p, 8); /* a constant 8: one load, never a call */
        __builtin_memcpy(&y, q, 8);
        if (x != y)
            return false;
    }
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= p[i] ^ q[i];
    return diff == 0;
}

#endif
