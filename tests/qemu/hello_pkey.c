/* Self-check for the QEMU test harness (tests/qemu/run.sh).
 *
 * Proves that the guest kernel + emulated CPU give us working memory
 * protection keys:
 *   1. pkey_alloc(0, 0) succeeds;
 *   2. a page tagged with pkey_mprotect() and whose key has its access
 *      disabled in PKRU (pkey_set) faults on touch with SIGSEGV and
 *      si_code == SEGV_PKUERR (and si_pkey == our key);
 *   3. re-enabling access in PKRU makes the page usable again.
 * Also prints the kernel version and whether /proc/cpuinfo lists the
 * `pku` and `ospke` flags.  Exit 0 when everything holds, 1 otherwise.
 *
 * Build: gcc -static -O2 -o hello_pkey tests/qemu/hello_pkey.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif
#ifndef PKEY_DISABLE_ACCESS
#define PKEY_DISABLE_ACCESS 0x1
#endif

static sigjmp_buf jb;
static volatile sig_atomic_t got_signal;
static volatile int seen_code;
static volatile void *seen_addr;
static volatile unsigned seen_pkey;
static volatile uint32_t pkru_in_handler;

/* Only call once PKU is known to be enabled (OSPKE), or RDPKRU is #UD. */
static uint32_t rdpkru(void)
{
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got_signal = 1;
    seen_code = si->si_code;
    seen_addr = si->si_addr;
#ifdef si_pkey
    seen_pkey = si->si_pkey;
#endif
    pkru_in_handler = rdpkru();
    /* Returning would restore the faulting PKRU from the signal frame and
     * re-execute the access forever: jump out instead. */
    siglongjmp(jb, 1);
}

static void cpu_flags(int *pku, int *ospke)
{
    *pku = *ospke = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *tok = strtok(line, " \t\n:"); tok; tok = strtok(NULL, " \t\n:")) {
            if (strcmp(tok, "pku") == 0)
                *pku = 1;
            else if (strcmp(tok, "ospke") == 0)
                *ospke = 1;
        }
        break; /* first CPU is enough */
    }
    fclose(f);
}

int main(void)
{
    volatile int ok = 1;
    struct utsname u;
    setvbuf(stdout, NULL, _IONBF, 0);

    if (uname(&u) == 0)
        printf("hello_pkey: kernel %s %s (%s)\n", u.sysname, u.release, u.machine);
    int pku, ospke;
    cpu_flags(&pku, &ospke);
    printf("hello_pkey: /proc/cpuinfo pku=%s ospke=%s\n", pku ? "yes" : "no",
           ospke ? "yes" : "no");

    int pkey = pkey_alloc(0, 0);
    if (pkey < 0) {
        printf("hello_pkey: pkey_alloc(0, 0) FAILED: %s\n", strerror(errno));
        printf("hello_pkey: FAIL\n");
        return 1;
    }
    printf("hello_pkey: pkey_alloc(0, 0) OK -> pkey %d, PKRU=0x%08x\n", pkey, rdpkru());

    long pgsz = sysconf(_SC_PAGESIZE);
    volatile char *page = mmap(NULL, (size_t)pgsz, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("hello_pkey: mmap");
        return 1;
    }
    page[0] = 42;
    if (pkey_mprotect((void *)page, (size_t)pgsz, PROT_READ | PROT_WRITE, pkey) != 0) {
        printf("hello_pkey: pkey_mprotect FAILED: %s\n", strerror(errno));
        return 1;
    }
    printf("hello_pkey: pkey_mprotect OK (page %p tagged with pkey %d)\n", (void *)page, pkey);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        perror("hello_pkey: sigaction");
        return 1;
    }

    if (pkey_set(pkey, PKEY_DISABLE_ACCESS) != 0) {
        printf("hello_pkey: pkey_set(DISABLE_ACCESS) FAILED: %s\n", strerror(errno));
        return 1;
    }
    printf("hello_pkey: access disabled, PKRU=0x%08x; touching page...\n", rdpkru());

    volatile int value = -1;
    if (sigsetjmp(jb, 1) == 0) {
        value = page[0]; /* must fault */
        printf("hello_pkey: read did NOT fault (value %d)\n", value);
        ok = 0;
    } else {
        printf("hello_pkey: SIGSEGV caught: si_code=%d (SEGV_PKUERR=%d) si_addr=%p si_pkey=%u"
               " PKRU in handler=0x%08x\n",
               seen_code, SEGV_PKUERR, (void *)seen_addr, seen_pkey, pkru_in_handler);
        if (seen_code != SEGV_PKUERR) {
            printf("hello_pkey: si_code is not SEGV_PKUERR\n");
            ok = 0;
        }
        if (seen_addr != (void *)page) {
            printf("hello_pkey: si_addr mismatch\n");
            ok = 0;
        }
#ifdef si_pkey
        if ((int)seen_pkey != pkey) {
            printf("hello_pkey: si_pkey mismatch\n");
            ok = 0;
        }
#endif
    }
    /* siglongjmp does not restore PKRU: we are left with whatever the
     * kernel loaded for the handler. */
    printf("hello_pkey: PKRU after leaving handler=0x%08x\n", rdpkru());

    if (pkey_set(pkey, 0) != 0) {
        printf("hello_pkey: pkey_set(0) FAILED: %s\n", strerror(errno));
        ok = 0;
    } else {
        got_signal = 0;
        if (sigsetjmp(jb, 1) == 0) {
            value = page[0];
            page[0] = 43;
            printf("hello_pkey: access re-enabled: read %d, wrote %d OK\n", value, page[0]);
            if (value != 42)
                ok = 0;
        } else {
            printf("hello_pkey: page still faults after re-enabling (si_code=%d)\n", seen_code);
            ok = 0;
        }
    }

    if (pkey_free(pkey) != 0) {
        printf("hello_pkey: pkey_free FAILED: %s\n", strerror(errno));
        ok = 0;
    }
    printf("hello_pkey: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
