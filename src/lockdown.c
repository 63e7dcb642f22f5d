/*
 * lockdown.c - shmc_lockdown(): a seccomp filter that closes the system
 * calls through which a client could reach around the protection keys
 * (include/shmcached.h says what it forbids; docs/security.md why).
 *
 * Owns: the process's seccomp filters.  Knows the library's memory only
 * through vault.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gate.h"
#include "lockdown.h"
#include "shmcached.h"

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
    if (protect_g.vault) {
        gate_open();
        protect_g.vault->h.locked_down = 1;
        gate_close();
    }
    return SHMC_OK;
}

void lockdown_add_region(void *base, size_t size)
{
    (void)base;
    (void)size; /* the filter does not look at ranges yet */
}
