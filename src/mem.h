/*
 * mem.h - byte compares and short copies made with the protection key
 * open, compiled in.
 *
 * Code that runs with the key open must be the library's own: a client
 * may interpose libc's memcmp and memcpy.  The library is built so that
 * GCC expands every memcpy and memset inline (CMakeLists.txt,
 * SHMC_INLINE_STRINGOPS), but a copy of a length known only at run time
 * becomes rep movsb, whose start-up costs a 100-byte get about a quarter
 * of its time: keys and values up to MEM_COPY_SHORT bytes are copied here
 * 16 bytes at a time instead.  A compare GCC would expand as repz cmpsb,
 * which is slow, so keys are compared here a word at a time.
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

#define MEM_COPY_SHORT 512 /* longer copies: rep movsb, which streams well once started */

/* Copy n bytes from src to dst (not overlapping).  Each load and store
 * of a constant size is one instruction, never a call; the last piece
 * of each size overlaps the one before it instead of looping on bytes. */
static inline void mem_copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n > MEM_COPY_SHORT) {
        __builtin_memcpy(d, s, n);
    } else if (n >= 16) {
        unsigned char last[16];
        __builtin_memcpy(last, s + n - 16, 16); /* read before the loop's stores */
        for (; n > 16; n -= 16, d += 16, s += 16)
            __builtin_memcpy(d, s, 16);
        __builtin_memcpy(d + n - 16, last, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        __builtin_memcpy(&a, s, 8);
        __builtin_memcpy(&b, s + n - 8, 8);
        __builtin_memcpy(d, &a, 8);
        __builtin_memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        __builtin_memcpy(&a, s, 4);
        __builtin_memcpy(&b, s + n - 4, 4);
        __builtin_memcpy(d, &a, 4);
        __builtin_memcpy(d + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

#endif
