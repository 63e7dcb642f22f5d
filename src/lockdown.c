/*
 * lockdown.c - shmc_lockdown(): seccomp filters that close the system
 * calls through which client code could reach around the protection keys,
 * the count of mappings that are both writable and executable, and the
 * optional Landlock ruleset that closes /proc/<pid>/mem to writers
 * (include/shmcached.h says what is forbidden; docs/security.md why).
 *
 * Owns: the process's seccomp filters and its Landlock domain.  Knows the
 * library's memory only through vault.h and protect.h.
 *
 * The filters are classic BPF, which sees the system call number, the
 * ABI and the six raw argument values, never memory they point to.  Three
 * are stacked at lockdown, and every filter stands alone (the kernel runs
 * them all and the most severe answer wins):
 *  - the policy filter: other ABIs and x32 numbers, the calls denied
 *    outright, PROT_EXEC and its detours (policy_filter);
 *  - two range filters over the protected ranges (range_filter): one for
 *    the range a memory call acts on, (args[0], args[1]); one for the
 *    range mremap moves a mapping onto, (args[4], args[2]).  Two because
 *    classic BPF only jumps forward: a filter compares one range against
 *    every protected range once, and mremap names two ranges.
 * A segment attached after the lockdown stacks two more range filters
 * over its own range (lockdown_add_region).
 *
 * 64-bit arithmetic on 32-bit halves: a filter loads an argument's low
 * and high words separately (x86_64 is little-endian), computes the end
 * of the call's range with an explicit carry into scratch memory, and
 * compares 64-bit values high word first.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gate.h"
#include "lockdown.h"
#include "protect.h"
#include "shmcached.h"
#include "vault.h"

#define LD_PAGE 4096u              /* protected ranges are widened to whole pages */
#define LD_X32_BIT 0x40000000u     /* __X32_SYSCALL_BIT: x32 numbers have it set */
#define LD_MAX_RANGES (VAULT_MAX_MAPS + 2) /* every segment, the vault, protect_g's page */

#define LD_DENY (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define LD_ALLOW SECCOMP_RET_ALLOW

/* seccomp_data offsets: the system call number, the ABI, an argument's halves. */
#define SD_NR offsetof(struct seccomp_data, nr)
#define SD_ARCH offsetof(struct seccomp_data, arch)
#define SD_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define SD_HI(i) (SD_LO(i) + 4)

/* Scratch words (BPF_MEMWORDS) of the range filters. */
enum {
    M_A_LO, /* start of the call's range, low and high words */
    M_A_HI,
    M_E_LO, /* its end (exclusive; a length 0 counts as 1) */
    M_E_HI,
    M_L_LO, /* its length */
    M_L_HI,
    M_CARRY /* carry from the low words of start + length */
};

/* ------------------------------------------------------------------ */
/* Emitting classic BPF                                                */
/* ------------------------------------------------------------------ */

/* A program being built. */
typedef struct bpf_buf {
    struct sock_filter ins[BPF_MAXINSNS]; /* the program */
    unsigned n;                           /* instructions emitted */
    bool bad;                             /* out of room, or a jump too far: unusable */
} bpf_buf;

/* Append one instruction; its index. */
static unsigned emit(bpf_buf *b, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
    if (b->n >= BPF_MAXINSNS) {
        b->bad = true;
        return b->n - 1;
    }
    b->ins[b->n] = (struct sock_filter){.code = code, .jt = jt, .jf = jf, .k = k};
    return b->n++;
}

static void ld_abs(bpf_buf *b, uint32_t off) { emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, off); }
static void ld_mem(bpf_buf *b, uint32_t m) { emit(b, BPF_LD | BPF_MEM, 0, 0, m); }
static void ld_imm(bpf_buf *b, uint32_t k) { emit(b, BPF_LD | BPF_IMM, 0, 0, k); }
static void st_mem(bpf_buf *b, uint32_t m) { emit(b, BPF_ST, 0, 0, m); }
static void ret(bpf_buf *b, uint32_t v) { emit(b, BPF_RET | BPF_K, 0, 0, v); }

/* A conditional jump on A against the constant k (op: BPF_JEQ...). */
static unsigned jmp_k(bpf_buf *b, uint16_t op, uint32_t k, uint8_t jt, uint8_t jf)
{
    return emit(b, BPF_JMP | op | BPF_K, jt, jf, k);
}

/* Point the true branch of the conditional jump at index at to here. */
static void patch_jt(bpf_buf *b, unsigned at)
{
    unsigned off = b->n - at - 1;
    if (off > 255)
        b->bad = true;
    else
        b->ins[at].jt = (uint8_t)off;
}

/* Point the unconditional jump at index at to here. */
static void patch_ja(bpf_buf *b, unsigned at)
{
    b->ins[at].k = b->n - at - 1;
}

/* ------------------------------------------------------------------ */
/* The checks, one function each                                       */
/* ------------------------------------------------------------------ */

/* The x86_64 ABI only: another ABI (i386) would name the same calls by
 * other numbers, and x32 numbers (the x32 bit set) would dodge every
 * comparison of nr below. */
static void check_abi(bpf_buf *b)
{
    ld_abs(b, SD_ARCH);
    jmp_k(b, BPF_JEQ, AUDIT_ARCH_X86_64, 1, 0);
    ret(b, LD_DENY);
    ld_abs(b, SD_NR);
    jmp_k(b, BPF_JSET, LD_X32_BIT, 0, 1);
    ret(b, LD_DENY);
}

/* Deny system call nr whatever its arguments. */
static void check_deny_call(bpf_buf *b, uint32_t nr)
{
    ld_abs(b, SD_NR);
    jmp_k(b, BPF_JEQ, nr, 0, 1);
    ret(b, LD_DENY);
}

/* Deny system call nr when the low word of args[arg] has a bit of mask
 * (every flag tested here lives in the low word). */
static void check_deny_flag(bpf_buf *b, uint32_t nr, unsigned arg, uint32_t mask)
{
    ld_abs(b, SD_NR);
    jmp_k(b, BPF_JEQ, nr, 0, 3);
    ld_abs(b, SD_LO(arg));
    jmp_k(b, BPF_JSET, mask, 0, 1);
    ret(b, LD_DENY);
}

/* Deny personality() setting READ_IMPLIES_EXEC, which makes every later
 * readable mapping executable without asking for PROT_EXEC; the query
 * personality(0xffffffff) stays allowed. */
static void check_personality(bpf_buf *b)
{
    ld_abs(b, SD_NR);
    jmp_k(b, BPF_JEQ, SYS_personality, 0, 4);
    ld_abs(b, SD_LO(0));
    jmp_k(b, BPF_JEQ, 0xffffffffu, 2, 0);
    jmp_k(b, BPF_JSET, READ_IMPLIES_EXEC, 0, 1);
    ret(b, LD_DENY);
}

/* Calls denied outright: each reaches around the protection key or the
 * segment without a range seccomp could compare. */
static const uint32_t denied_calls[] = {
    SYS_pkey_alloc,        /* with pkey_free: recycles the key, and the kernel opens it */
    SYS_pkey_free,
    SYS_process_vm_readv,  /* remote access ignores protection keys */
    SYS_process_vm_writev,
    SYS_ptrace,            /* PEEK/POKE ignore them too; a child could trace its parent */
    SYS_process_madvise,   /* madvise (MADV_REMOVE...) of ranges held in memory */
    SYS_userfaultfd,       /* parks a thread at will inside a call: deterministic races */
};

/* pkey_mprotect only with the process's own key (-1: none, so never):
 * another key re-tags memory away from the gate.  With its own key it
 * tags a segment attached after the lockdown (segment.c); the range
 * filters keep it off the protected ranges, and PROT_EXEC is refused. */
static void check_pkey_mprotect(bpf_buf *b, int pkey)
{
    ld_abs(b, SD_NR);
    jmp_k(b, BPF_JEQ, SYS_pkey_mprotect, 0, 7);
    if (pkey < 0) {
        ret(b, LD_DENY);
        for (int i = 0; i < 6; i++) /* keep the jump above aimed past this block */
            ret(b, LD_DENY);
        return;
    }
    ld_abs(b, SD_HI(3));
    jmp_k(b, BPF_JEQ, 0, 0, 3);
    ld_abs(b, SD_LO(3));
    jmp_k(b, BPF_JEQ, (uint32_t)pkey, 0, 1);
    emit(b, BPF_JMP | BPF_JA, 0, 0, 1);
    ret(b, LD_DENY);
    ld_abs(b, SD_NR); /* A again as the checks that follow expect it */
}

/* The policy filter: ABI, calls denied outright, no new executable code,
 * and with no_sigreturn no return from a signal handler: rt_sigreturn
 * loads PKRU from a signal frame the handler may have edited, opening the
 * key without a WRPKRU.  The process is killed (SIGSYS), since a handler
 * that cannot return has nowhere sane to go. */
static void policy_filter(bpf_buf *b, bool no_sigreturn)
{
    check_abi(b);
    if (no_sigreturn) {
        ld_abs(b, SD_NR);
        jmp_k(b, BPF_JEQ, SYS_rt_sigreturn, 0, 1);
        ret(b, SECCOMP_RET_KILL_PROCESS);
    }
    for (size_t i = 0; i < sizeof denied_calls / sizeof denied_calls[0]; i++)
        check_deny_call(b, denied_calls[i]);
    check_pkey_mprotect(b, protect_g.pkey);
    /* new executable code would escape the attach-time WRPKRU scan */
    check_deny_flag(b, SYS_mmap, 2, PROT_EXEC);
    check_deny_flag(b, SYS_mprotect, 2, PROT_EXEC);
    check_deny_flag(b, SYS_pkey_mprotect, 2, PROT_EXEC);
    /* shmat: SHM_EXEC maps executable, SHM_REMAP maps over what is
     * there (the segment) with a length seccomp cannot see */
    check_deny_flag(b, SYS_shmat, 2, SHM_EXEC | SHM_REMAP);
    check_personality(b);
    ret(b, LD_ALLOW);
}

/* A memory call whose range the range filters compare. */
typedef struct range_call {
    uint32_t nr;        /* system call number */
    unsigned addr;      /* argument holding the range's start */
    unsigned len;       /* argument holding its length */
    int flag_arg;       /* -1: always compared; else only when args[flag_arg] */
    uint32_t flag_mask; /*     has a bit of flag_mask */
} range_call;

/* Calls compared by the range they act on. */
static const range_call own_range_calls[] = {
    {SYS_mmap, 0, 1, 3, MAP_FIXED | MAP_FIXED_NOREPLACE}, /* replaces the mapping (key 0) */
    {SYS_munmap, 0, 1, -1, 0},
    {SYS_mprotect, 0, 1, -1, 0},         /* PROT_NONE; PROT_EXEC then RW re-tags to key 0 */
    {SYS_pkey_mprotect, 0, 1, -1, 0},    /* as mprotect (only the process's key gets here) */
    {SYS_madvise, 0, 1, -1, 0},          /* MADV_REMOVE empties the file, DONTNEED... */
    {SYS_mremap, 0, 1, -1, 0},           /* moves, shrinks, duplicates (old size 0) */
    {SYS_remap_file_pages, 0, 1, -1, 0}, /* rebuilds the mapping */
};

/* Calls compared by the range they map onto. */
static const range_call target_range_calls[] = {
    {SYS_mremap, 4, 2, 3, MREMAP_FIXED}, /* new_address, new_size: unmaps what is there */
};

/*
 * Load the call's range [args[a], args[a] + args[l]) into scratch memory:
 * M_A_* its start, M_E_* its end.  A length 0 counts as 1, so that a call
 * naming an address inside a protected range is caught even when it
 * names no bytes (mremap with old size 0 duplicates the mapping there).
 * A range whose end does not fit 64 bits is denied here (the kernel
 * would refuse it anyway).
 */
static void load_range(bpf_buf *b, unsigned a, unsigned l)
{
    ld_abs(b, SD_LO(l));
    st_mem(b, M_L_LO);
    ld_abs(b, SD_HI(l));
    st_mem(b, M_L_HI);
    jmp_k(b, BPF_JEQ, 0, 0, 4); /* high word 0 ... */
    ld_mem(b, M_L_LO);
    jmp_k(b, BPF_JEQ, 0, 0, 2); /* ... and low word 0: length 1 */
    ld_imm(b, 1);
    st_mem(b, M_L_LO);
    /* low words: end = start + length, and the carry */
    ld_abs(b, SD_LO(a));
    st_mem(b, M_A_LO);
    emit(b, BPF_MISC | BPF_TAX, 0, 0, 0);
    ld_mem(b, M_L_LO);
    emit(b, BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);
    st_mem(b, M_E_LO);
    emit(b, BPF_JMP | BPF_JGE | BPF_X, 2, 0, 0); /* sum >= start: no carry */
    ld_imm(b, 1);
    emit(b, BPF_JMP | BPF_JA, 0, 0, 1);
    ld_imm(b, 0);
    st_mem(b, M_CARRY);
    /* high words, then the carry; either overflowing 32 bits: wraps */
    ld_abs(b, SD_HI(a));
    st_mem(b, M_A_HI);
    emit(b, BPF_MISC | BPF_TAX, 0, 0, 0);
    ld_mem(b, M_L_HI);
    emit(b, BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);
    emit(b, BPF_JMP | BPF_JGE | BPF_X, 1, 0, 0);
    ret(b, LD_DENY);
    emit(b, BPF_MISC | BPF_TAX, 0, 0, 0);
    ld_mem(b, M_CARRY);
    emit(b, BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);
    emit(b, BPF_JMP | BPF_JGE | BPF_X, 1, 0, 0);
    ret(b, LD_DENY);
    st_mem(b, M_E_HI);
}

/*
 * Deny if the loaded range [A, E) overlaps the protected range [lo, hi):
 * A < hi and E > lo, each compared high word first.
 */
static void check_overlap(bpf_buf *b, uint64_t lo, uint64_t hi)
{
    uint32_t lo_h = (uint32_t)(lo >> 32), lo_l = (uint32_t)lo;
    uint32_t hi_h = (uint32_t)(hi >> 32), hi_l = (uint32_t)hi;
    /* A < hi? (else on to the next range) */
    ld_mem(b, M_A_HI);
    jmp_k(b, BPF_JGT, hi_h, 9, 0);
    jmp_k(b, BPF_JEQ, hi_h, 0, 2);
    ld_mem(b, M_A_LO);
    jmp_k(b, BPF_JGE, hi_l, 6, 0);
    /* E > lo? (then deny) */
    ld_mem(b, M_E_HI);
    jmp_k(b, BPF_JGT, lo_h, 3, 0);
    jmp_k(b, BPF_JEQ, lo_h, 0, 3);
    ld_mem(b, M_E_LO);
    jmp_k(b, BPF_JGT, lo_l, 0, 1);
    ret(b, LD_DENY);
}

/* The call's range into scratch memory, if the call's flag asks for the
 * comparison (else allowed at once). */
static void load_call(bpf_buf *b, const range_call *c)
{
    if (c->flag_arg >= 0) {
        ld_abs(b, SD_LO((unsigned)c->flag_arg));
        jmp_k(b, BPF_JSET, c->flag_mask, 1, 0);
        ret(b, LD_ALLOW);
    }
    load_range(b, c->addr, c->len);
}

/*
 * A range filter: each call of calls[0..ncalls) is denied when its range
 * overlaps one of ranges[0..nranges).  Layout: the ABI check; a
 * dispatch on nr (anything else allowed); per call, its range loaded into
 * scratch memory and a jump to the one block of comparisons.
 */
static void range_filter(bpf_buf *b, const range_call *calls, size_t ncalls,
                         const vault_range *ranges, unsigned nranges)
{
    unsigned dispatch[8], to_ranges[8];
    if (ncalls > 8) {
        b->bad = true;
        return;
    }
    check_abi(b);
    ld_abs(b, SD_NR);
    for (size_t i = 0; i < ncalls; i++)
        dispatch[i] = jmp_k(b, BPF_JEQ, calls[i].nr, 0, 0);
    ret(b, LD_ALLOW);
    for (size_t i = 0; i < ncalls; i++) {
        patch_jt(b, dispatch[i]);
        load_call(b, &calls[i]);
        to_ranges[i] = emit(b, BPF_JMP | BPF_JA, 0, 0, 0);
    }
    for (size_t i = 0; i < ncalls; i++)
        patch_ja(b, to_ranges[i]);
    for (unsigned r = 0; r < nranges; r++) {
        uint64_t lo = ranges[r].lo & ~(uint64_t)(LD_PAGE - 1);
        uint64_t hi = (ranges[r].hi + LD_PAGE - 1) & ~(uint64_t)(LD_PAGE - 1);
        check_overlap(b, lo, hi);
    }
    ret(b, LD_ALLOW);
}

/* ------------------------------------------------------------------ */
/* Installing                                                          */
/* ------------------------------------------------------------------ */

/* Install b on every thread of the process (TSYNC).  0, or -1 with errno. */
static int install(const bpf_buf *b)
{
    if (b->bad) {
        errno = E2BIG;
        return -1;
    }
    struct sock_fprog prog = {.len = (unsigned short)b->n, .filter = (struct sock_filter *)b->ins};
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
    if (rc > 0)
        errno = ESRCH; /* rc is a thread that could not take the filter */
    return rc == 0 ? 0 : -1;
}

/* Build and install the two range filters over ranges.  0, or -1 with errno. */
static int install_ranges(const vault_range *ranges, unsigned n)
{
    bpf_buf *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    range_filter(b, own_range_calls, sizeof own_range_calls / sizeof own_range_calls[0], ranges,
                 n);
    int rc = install(b);
    if (rc == 0) {
        memset(b, 0, sizeof *b);
        range_filter(b, target_range_calls,
                     sizeof target_range_calls / sizeof target_range_calls[0], ranges, n);
        rc = install(b);
    }
    int e = errno;
    free(b);
    errno = e;
    return rc;
}

/* Build and install the policy filter.  0, or -1 with errno. */
static int install_policy(bool no_sigreturn)
{
    bpf_buf *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    policy_filter(b, no_sigreturn);
    int rc = install(b);
    int e = errno;
    free(b);
    errno = e;
    return rc;
}

/* The protected ranges: every attached segment, the vault, protect_g's
 * page.  Inside the gate, with the vault locked. */
static unsigned collect_ranges(const vault *v, vault_range *out)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < v->h.nmaps && i < VAULT_MAX_MAPS; i++)
        if (v->h.maps[i].hi)
            out[n++] = v->h.maps[i];
    out[n++] = (vault_range){(uintptr_t)v, (uintptr_t)(v + 1)};
    out[n++] = (vault_range){(uintptr_t)&protect_global, (uintptr_t)(&protect_global + 1)};
    return n;
}

/* Mark the vault locked down (or not, on failure) and take the ranges.
 * Under the vault's lock: an attach either recorded its segment before
 * (and it is among the ranges) or reads locked_down after (and stacks its
 * own filters, api_install). */
static unsigned lockdown_mark(vault_range *ranges, uint32_t locked)
{
    vault *v = protect_g.vault;
    unsigned n = 0;
    gate_open();
    vault_lock(v);
    __atomic_store_n(&v->h.locked_down, locked, __ATOMIC_RELEASE);
    if (ranges)
        n = collect_ranges(v, ranges);
    vault_unlock(v);
    gate_close();
    return n;
}

int lockdown_add_region(void *base, size_t size)
{
    vault_range r = {(uintptr_t)base, (uintptr_t)base + size};
    return install_ranges(&r, 1);
}

/* ------------------------------------------------------------------ */
/* Writable and executable mappings                                    */
/* ------------------------------------------------------------------ */

/* Mappings both writable and executable now (/proc/self/maps); 1 if the
 * file cannot be read (never trust doubt). */
static unsigned count_wx(void)
{
    FILE *maps = fopen("/proc/self/maps", "re");
    if (!maps)
        return 1;
    unsigned n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, maps) > 0) {
        char perms[8];
        if (sscanf(line, "%*x-%*x %7s", perms) == 1 && perms[1] == 'w' && perms[2] == 'x')
            n++;
    }
    free(line);
    fclose(maps);
    return n;
}

/* ------------------------------------------------------------------ */
/* Landlock: no write opens under /proc                                */
/* ------------------------------------------------------------------ */

/* The kernel's Landlock ABI version; 0 without Landlock. */
static int landlock_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v > 0 ? (int)v : 0;
}

/* Is the calling thread the process's only one?  A Landlock domain covers
 * the thread that enforces it and what it creates later, not its siblings
 * (LANDLOCK_RESTRICT_SELF_TSYNC is not in the ABIs this knows). */
static bool single_thread(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return false;
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n == 1;
}

/* Is a proc file system mounted outside /proc (where the grants below
 * would reach its mem files)? */
static bool proc_mounted_elsewhere(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return true; /* cannot tell */
    bool found = false;
    char *line = NULL;
    size_t cap = 0;
    while (!found && getline(&line, &cap, f) > 0) {
        char mnt[4096], fstype[64];
        const char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
            sscanf(sep + 3, "%63s", fstype) != 1)
            continue;
        found = strcmp(fstype, "proc") == 0 && strcmp(mnt, "/proc") != 0 &&
                strncmp(mnt, "/proc/", 6) != 0;
    }
    free(line);
    fclose(f);
    return found;
}

/* Does the process hold a descriptor open for writing on a mem file
 * (opened before the ruleset, which only checks opens)? */
static bool mem_fd_writable(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return true; /* cannot tell */
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        char target[256];
        ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
        if (n < 10)
            continue;
        target[n] = 0;
        if (strncmp(target, "/proc/", 6) != 0 || strcmp(target + n - 4, "/mem") != 0)
            continue;
        int fl = fcntl(atoi(e->d_name), F_GETFL);
        found = fl >= 0 && (fl & O_ACCMODE) != O_RDONLY;
    }
    closedir(d);
    return found;
}

/* Grant write opens beneath the root's entry name (not followed if a
 * symbolic link: its target is another entry, or outside the grants).
 * false if the rule could not be added. */
static bool landlock_grant(int ruleset, int root, const char *name)
{
    struct stat st;
    if (fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode))
        return true;
    int fd = openat(root, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return true; /* gone meanwhile: nothing to grant */
    struct landlock_path_beneath_attr pb = {
        .allowed_access = LANDLOCK_ACCESS_FS_WRITE_FILE,
        .parent_fd = fd,
    };
    long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    close(fd);
    return rc == 0;
}

/* Enforce on the calling thread (and what it creates later) a ruleset
 * that handles only write opens and grants them beneath every entry of
 * the root but /proc.  All or nothing: true if enforced. */
static bool landlock_deny_proc_writes(void)
{
    struct landlock_ruleset_attr attr = {.handled_access_fs = LANDLOCK_ACCESS_FS_WRITE_FILE};
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (rs < 0)
        return false;
    bool ok = false;
    DIR *d = opendir("/");
    if (d) {
        ok = true;
        for (struct dirent *e; ok && (e = readdir(d));)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                strcmp(e->d_name, "proc") != 0)
                ok = landlock_grant(rs, dirfd(d), e->d_name);
        closedir(d);
    }
    ok = ok && syscall(SYS_landlock_restrict_self, rs, 0) == 0;
    close(rs);
    return ok;
}

/* The Landlock part of the lockdown, into the report. */
static void lockdown_landlock(shmc_lockdown_report *rep)
{
    rep->landlock_abi = landlock_abi();
    if (!rep->landlock_abi)
        return;
    /* looked at before enforcing: the one thread cannot change them meanwhile */
    bool whole = single_thread() && !proc_mounted_elsewhere() && !mem_fd_writable();
    rep->landlock = landlock_deny_proc_writes();
    rep->proc_mem_closed = rep->landlock && whole;
}

/* ------------------------------------------------------------------ */
/* The public calls                                                    */
/* ------------------------------------------------------------------ */

/* The seccomp part: mark the vault, install the three filters.  *nranges
 * receives how many ranges they protect. */
static shmc_status lockdown_seccomp(bool no_sigreturn, unsigned *nranges)
{
    vault_range ranges[LD_MAX_RANGES];
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return SHMC_SYSTEM;
    unsigned n = lockdown_mark(ranges, 1);
    int rc = install_policy(no_sigreturn);
    if (rc == 0)
        rc = install_ranges(ranges, n);
    if (rc != 0) {
        int e = errno;
        lockdown_mark(NULL, 0); /* later attaches must not stack filters of their own */
        errno = e;
        return SHMC_SYSTEM;
    }
    *nranges = n;
    return SHMC_OK;
}

shmc_status shmc_lockdown_with(const shmc_lockdown_options *opts, shmc_lockdown_report *report)
{
    static const shmc_lockdown_options defaults = {0};
    shmc_lockdown_report rep = {0};
    shmc_status st = SHMC_OK;
    if (!opts)
        opts = &defaults;
    if ((opts->strict != 0 && opts->strict != 1) ||
        (opts->close_proc_mem != 0 && opts->close_proc_mem != 1) ||
        (opts->no_sigreturn != 0 && opts->no_sigreturn != 1))
        return SHMC_INVALID;
    rep.wx_mappings = count_wx();
    if (opts->strict && rep.wx_mappings)
        st = SHMC_UNSAFE_PROCESS; /* nothing installed */
    /* no attach yet: decide now (no key: pkey_alloc is about to be denied),
     * so that the vault exists and later attaches stack their filters */
    if (st == SHMC_OK)
        st = protect_decide(SHMC_PROTECT_NONE);
    if (st == SHMC_OK)
        st = lockdown_seccomp(opts->no_sigreturn, &rep.ranges);
    if (st == SHMC_OK)
        rep.sigreturn_closed = opts->no_sigreturn;
    if (st == SHMC_OK && opts->close_proc_mem)
        lockdown_landlock(&rep);
    if (report)
        *report = rep;
    return st;
}

shmc_status shmc_lockdown(void)
{
    return shmc_lockdown_with(NULL, NULL);
}
