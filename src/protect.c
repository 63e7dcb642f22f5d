/*
 * protect.c - protection keys: allocation, the PKRU-writing gates, and
 * the scan of the process for other PKRU writers (see protect.h).
 *
 * Owns: the segment's pkey, every WRPKRU instruction in the library, and
 * the optional seccomp lockdown.
 */
#define _GNU_SOURCE
#include "protect.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PKRU_AD(pkey) (1u << (2 * (pkey)))     /* access disable */
#define PKRU_BITS(pkey) (3u << (2 * (pkey)))   /* access + write disable */

static inline uint32_t rdpkru(void)
{
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

static inline void wrpkru(uint32_t v)
{
    __asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

/* The entry gate: allow this thread to read and write the segment. */
__attribute__((noinline)) void protect_allow(int pkey)
{
    wrpkru(rdpkru() & ~PKRU_BITS(pkey));
}

/* The exit gate: deny again, and check the result, so that a jump to the
 * WRPKRU with another value in EAX cannot leave access open. */
__attribute__((noinline)) void protect_deny(int pkey)
{
    wrpkru(rdpkru() | PKRU_AD(pkey));
    if (!(rdpkru() & PKRU_AD(pkey)))
        abort();
}

shmc_status protect_setup(shmc_cache *c, shmc_protection want, int strict)
{
    c->pkey = -1;
    c->protection = SHMC_PROTECT_NONE;
    c->pkru_writers = 0;
    if (want == SHMC_PROTECT_NONE)
        return SHMC_OK;
    /* the key starts denied for this thread; other threads' PKRU denies
     * every key but 0 by default (the kernel's init value) */
    int k = pkey_alloc(0, PKEY_DISABLE_ACCESS);
    if (k < 0)
        return want == SHMC_PROTECT_MPK ? SHMC_NO_PROTECTION : SHMC_OK;
    if (pkey_mprotect(c->base, c->size, PROT_READ | PROT_WRITE, k) != 0) {
        int e = errno;
        pkey_free(k);
        errno = e;
        return want == SHMC_PROTECT_MPK ? SHMC_NO_PROTECTION : SHMC_OK;
    }
    unsigned xrstor;
    c->pkru_writers = protect_scan(&xrstor);
    if (strict && c->pkru_writers) {
        mprotect(c->base, c->size, PROT_READ | PROT_WRITE);
        pkey_free(k);
        return SHMC_UNSAFE_PROCESS;
    }
    c->pkey = k;
    c->protection = SHMC_PROTECT_MPK;
    return SHMC_OK;
}

void protect_teardown(shmc_cache *c)
{
    if (c->pkey < 0)
        return;
    pkey_free(c->pkey); /* the mapping goes right after */
    c->pkey = -1;
}

/* Address of the WRPKRU inside a gate function (searched in its first
 * bytes), so the scan can tell our gates from foreign writers. */
static const unsigned char *gate_wrpkru(const void *fn)
{
    const unsigned char *p = fn;
    for (int i = 0; i < 128; i++)
        if (p[i] == 0x0f && p[i + 1] == 0x01 && p[i + 2] == 0xef)
            return p + i;
    return NULL;
}

/* Scan [lo, hi) for WRPKRU and XRSTOR byte patterns. */
static unsigned scan_range(const unsigned char *lo, const unsigned char *hi,
                           const unsigned char *skip1, const unsigned char *skip2,
                           unsigned *xrstor)
{
    unsigned n = 0;
    for (const unsigned char *p = lo; p + 3 <= hi; p++) {
        if (p[0] != 0x0f)
            continue;
        if (p[1] == 0x01 && p[2] == 0xef && p != skip1 && p != skip2)
            n++;
        /* XRSTOR: 0F AE /5 with a memory operand (mod != 3: else LFENCE) */
        else if (p[1] == 0xae && ((p[2] >> 3) & 7) == 5 && (p[2] >> 6) != 3)
            (*xrstor)++;
    }
    return n;
}

unsigned protect_scan(unsigned *xrstor)
{
    const unsigned char *skip1 = gate_wrpkru((const void *)protect_allow);
    const unsigned char *skip2 = gate_wrpkru((const void *)protect_deny);
    FILE *maps = fopen("/proc/self/maps", "re");
    unsigned n = 0;
    *xrstor = 0;
    if (!maps)
        return 0;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[2] != 'x')
            continue;
        if (perms[0] != 'r' || strstr(line, "[vsyscall]"))
            continue; /* execute-only: cannot be read (and holds no gadget we could see) */
        n += scan_range((const unsigned char *)lo, (const unsigned char *)hi, skip1, skip2,
                        xrstor);
    }
    fclose(maps);
    return n;
}

/*
 * shmc_lockdown: a seccomp filter, in classic BPF, over (arch, syscall
 * number, args[2]).  See include/shmcached.h for what it forbids.
 */

#define SC_LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define SC_DENY BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define SC_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

shmc_status shmc_lockdown(void)
{
    struct sock_filter code[] = {
        SC_LOAD(arch),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        SC_DENY, /* another ABI (x32, i386) could name these calls by other numbers */
        SC_LOAD(nr),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_mprotect, 0, 1),
        SC_DENY,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_alloc, 0, 1),
        SC_DENY,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_free, 0, 1),
        SC_DENY,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 3),
        /* mmap(addr, len, prot, ...) and mprotect(addr, len, prot): args[2] */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
        SC_DENY,
        SC_ALLOW,
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return SHMC_SYSTEM;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
        return SHMC_SYSTEM;
    return SHMC_OK;
}
