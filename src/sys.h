/*
 * sys.h - the few system calls the library makes while a gate is open,
 * issued directly rather than through libc.
 *
 * A client may interpose its own definition of any libc function (its
 * program's symbols come first), and code that runs while the protection
 * key is open must be the library's own.  So lock waits (futex) and
 * liveness checks (/proc reads, kill) use these wrappers, which return
 * the kernel's result: a value >= 0, or -errno.
 */
#ifndef SHMC_SYS_H
#define SHMC_SYS_H

#include <stdint.h>
#include <sys/syscall.h>

static inline long sys_call6(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long sys_call3(long nr, long a, long b, long c)
{
    return sys_call6(nr, a, b, c, 0, 0, 0);
}

/* Write the decimal digits of v at p (no terminator); returns the end. */
static inline char *sys_utoa(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *p++ = tmp[--n];
    return p;
}

#endif
