/*
 * vdso.h - the clock, read through the kernel's vDSO directly rather than
 * through libc's clock_gettime.
 *
 * Code that runs with the protection key open must be the library's own
 * (sys.h): a client may define its own clock_gettime, and its program's
 * symbols come before libc's.  The vDSO is the kernel's code, mapped into
 * every process; its clock_gettime is found once, by the process's first
 * attach, and kept on the read-only page of the protection facts
 * (protect.h).  Before that, or where the vDSO has none, the system call
 * is made directly.
 */
#ifndef SHMC_VDSO_H
#define SHMC_VDSO_H

#include <time.h>

#include "protect.h"
#include "sys.h"

/* The address of the vDSO's function name (e.g. "__vdso_clock_gettime"),
 * or NULL if the process has no vDSO or it has no such function. */
void *vdso_find(const char *name);

/* clock_gettime(2) without libc: 0, or -errno. */
static inline int vdso_clock_gettime(clockid_t id, struct timespec *ts)
{
    vdso_clock_fn f = protect_g.clock_gettime;
    if (f)
        return f(id, ts);
    return (int)sys_call3(SYS_clock_gettime, id, (long)ts, 0);
}

#endif
