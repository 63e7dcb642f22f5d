/*
 * protect.h - memory protection keys: the process's key, the only
 * instructions that write PKRU, and the inspection of the process for
 * other PKRU writers (the "protected" in protected library).
 *
 * A process has at most one protection key for all its segments and its
 * protected state (vault.h).  It is allocated by the first handle that
 * runs in mpk mode and never freed, so a thread that kept a key open can
 * never gain access to something tagged later with a recycled key.  Every
 * thread's PKRU denies the key except between gate_enter() and
 * gate_leave() (gate.h), which open and close it with pkru_open() and
 * pkru_close() below, inlined into each entry point: there is no callable
 * function that returns with the key open.  Each WRPKRU is followed by a
 * check of PKRU, as in ERIM's and Hodor's call gates, and each one is
 * recorded in the section shmc_wrpkru, so that the inspection can tell
 * the library's own sites from foreign ones.  docs/security.md says what
 * this protects against and what it does not.
 */
#ifndef SHMC_PROTECT_H
#define SHMC_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include "shmcached.h"

struct vault;

/*
 * The process's protection facts, on a page of their own that is made
 * read-only once the process's first attach has set them: client code can
 * read them (the gate must, before it opens the key) but a stray write
 * faults, and shmc_lockdown() forbids making the page writable again.
 */
/* The vDSO's clock_gettime (vdso.h). */
typedef int (*vdso_clock_fn)(clockid_t id, struct timespec *ts);

typedef struct protect_state {
    int decided;                /* 1 once the first attach chose the process's mode */
    int pkey;                   /* the process's key; -1: this process runs unprotected */
    struct vault *vault;        /* the handle vault (vault.h), tagged with pkey */
    vdso_clock_fn clock_gettime; /* the vDSO's clock_gettime; NULL: the system call */
} protect_state;

/* The page holding protect_state alone (nothing else may share it). */
typedef union protect_page {
    protect_state s;
    char bytes[4096];
} __attribute__((aligned(4096))) protect_page;

extern protect_page protect_global;
#define protect_g (protect_global.s)

#define PKRU_AD(pkey) (1u << (2 * (pkey)))   /* access disable */
#define PKRU_BITS(pkey) (3u << (2 * (pkey))) /* access and write disable */

static inline __attribute__((always_inline)) uint32_t pkru_read(void)
{
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

/* WRPKRU, then at once RDPKRU, in one asm statement so that nothing can
 * come between them at any optimisation level: returns what PKRU holds
 * after the write, for the caller to check.  The WRPKRU is recorded as one
 * of the library's own sites (a 32-bit offset from the record to the
 * instruction, so the table needs no relocation). */
static inline __attribute__((always_inline)) uint32_t pkru_write_read(uint32_t v)
{
    uint32_t eax = v, edx = 0;
    __asm__ volatile("1: .byte 0x0f,0x01,0xef\n\t" /* WRPKRU: eax, ecx = edx = 0 */
                     ".byte 0x0f,0x01,0xee\n\t"    /* RDPKRU: eax (edx = 0) */
                     ".pushsection shmc_wrpkru,\"a\"\n\t"
                     ".balign 4\n\t"
                     ".long 1b - .\n\t"
                     ".popsection"
                     : "+a"(eax), "+d"(edx)
                     : "c"(0)
                     : "memory");
    return eax;
}

/* Open the calling thread's access to pkey.  The check right after the
 * write makes a jump onto the WRPKRU with another EAX end in a trap. */
static inline __attribute__((always_inline)) void pkru_open(int pkey)
{
    uint32_t want = pkru_read() & ~PKRU_BITS(pkey);
    if (__builtin_expect(pkru_write_read(want) != want, 0))
        __builtin_trap();
}

/* Close it again; the check makes sure no path leaves with it open. */
static inline __attribute__((always_inline)) void pkru_close(int pkey)
{
    uint32_t want = pkru_read() | PKRU_BITS(pkey);
    if (__builtin_expect((pkru_write_read(want) & PKRU_BITS(pkey)) != PKRU_BITS(pkey), 0))
        __builtin_trap();
}

/* The process's key, allocated on first use (and the vault tagged with
 * it).  -1 (errno set) where the CPU or kernel has no protection keys. */
int protect_process_key(void);

/* Decide the process's protection at its first attach (later calls
 * return what was decided): with a key when want is mpk, or auto and the
 * CPU and kernel have keys.  Creates the vault (vault.c) and makes
 * protect_g read-only.  SHMC_NO_PROTECTION if mpk is wanted and the
 * process has no key; SHMC_SYSTEM (errno) if the vault cannot be made. */
shmc_status protect_decide(shmc_protection want);

/* Make [base, base+size) readable and writable, with the process key if
 * it has one.  0, or -1 with errno. */
int protect_tag(void *base, size_t size);

/* Count PKRU-writing instructions (WRPKRU, any alignment) in the
 * process's executable mappings, readable or execute-only (read through
 * /proc/self/mem), outside the library's recorded sites; *xrstor receives
 * how many XRSTOR instructions (which can also load PKRU) were seen. */
unsigned protect_scan(unsigned *xrstor);

#endif
