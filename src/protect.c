/*
 * protect.c - protection keys: the process's key and its one-time
 * decision, and the scan of the process for PKRU writers other than the
 * library's own gates (see protect.h).
 *
 * Owns: the process's pkey and the page protect_g lives on.  The WRPKRU
 * instructions themselves are inlined into each entry point (gate.h).
 */
#define _GNU_SOURCE
#include "protect.h"
#include "vdso.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vault.h"

/* Bounds of the table of the library's own WRPKRU sites (pkru_write_read, protect.h). */
extern const int32_t __start_shmc_wrpkru[] __attribute__((visibility("hidden")));
extern const int32_t __stop_shmc_wrpkru[] __attribute__((visibility("hidden")));

protect_page protect_global = {.s = {.decided = 0, .pkey = -1, .vault = NULL}};

static pthread_mutex_t decide_lock = PTHREAD_MUTEX_INITIALIZER;

/* The key, if the CPU and kernel have them; -1 with errno otherwise. */
static int protect_alloc_key(void)
{
    /* denied for this thread at once; threads created later inherit
     * their creator's PKRU, which denies it outside a call */
    return pkey_alloc(0, PKEY_DISABLE_ACCESS);
}

shmc_status protect_decide(shmc_protection want)
{
    shmc_status st = SHMC_OK;
    pthread_mutex_lock(&decide_lock);
    if (!protect_g.decided) {
        int key = -1;
        if (want != SHMC_PROTECT_NONE)
            key = protect_alloc_key();
        if (key < 0 && want == SHMC_PROTECT_MPK) {
            st = SHMC_NO_PROTECTION; /* undecided: a later attach may ask for none */
            goto out;
        }
        struct vault *v = vault_create(key);
        if (!v) {
            st = SHMC_SYSTEM;
            if (key >= 0)
                pkey_free(key); /* never used: nothing is tagged with it */
            goto out;
        }
        protect_g.pkey = key;
        protect_g.vault = v;
        protect_g.clock_gettime = (vdso_clock_fn)vdso_find("__vdso_clock_gettime");
        protect_g.decided = 1;
        /* from now on the facts never change: a stray write faults */
        if (mprotect(&protect_global, sizeof protect_global, PROT_READ) != 0) {
            st = SHMC_SYSTEM;
            goto out;
        }
    }
    if (want == SHMC_PROTECT_MPK && protect_g.pkey < 0)
        st = SHMC_NO_PROTECTION; /* the process's first attach chose none */
out:
    pthread_mutex_unlock(&decide_lock);
    return st;
}

int protect_tag(void *base, size_t size)
{
    if (protect_g.pkey < 0)
        return mprotect(base, size, PROT_READ | PROT_WRITE);
    return pkey_mprotect(base, size, PROT_READ | PROT_WRITE, protect_g.pkey);
}

/* Is p one of the library's own recorded WRPKRU instructions? */
static bool protect_is_site(const unsigned char *p)
{
    for (const int32_t *r = __start_shmc_wrpkru; r < __stop_shmc_wrpkru; r++)
        if ((const unsigned char *)r + *r == p)
            return true;
    return false;
}

/* Scan n bytes (at address at, whose copy is buf) for WRPKRU and XRSTOR. */
static unsigned scan_bytes(const unsigned char *buf, size_t n, const unsigned char *at,
                           unsigned *xrstor)
{
    unsigned found = 0;
    for (size_t i = 0; i + 3 <= n; i++) {
        if (buf[i] != 0x0f)
            continue;
        if (buf[i + 1] == 0x01 && buf[i + 2] == 0xef && !protect_is_site(at + i))
            found++;
        /* XRSTOR: 0F AE /5 with a memory operand (mod != 3: else LFENCE) */
        else if (buf[i + 1] == 0xae && ((buf[i + 2] >> 3) & 7) == 5 && (buf[i + 2] >> 6) != 3)
            (*xrstor)++;
    }
    return found;
}

/* Scan an execute-only mapping [lo, hi) through /proc/self/mem, which reads
 * what a plain load cannot.  Chunks overlap by 2 bytes so that an
 * instruction across a chunk boundary is seen once. */
static unsigned scan_unreadable(int mem, uintptr_t lo, uintptr_t hi, unsigned *xrstor)
{
    enum { CHUNK = 64 << 10 };
    unsigned char *buf = malloc(CHUNK); /* at attach, outside any gate */
    unsigned found = 0;
    if (!buf)
        return 1; /* cannot look: never trust doubt */
    for (uintptr_t at = lo; at + 2 < hi; at += CHUNK - 2) {
        size_t want = hi - at < CHUNK ? hi - at : CHUNK;
        ssize_t got = mem < 0 ? -1 : pread(mem, buf, want, (off_t)at);
        if (got < 3) {
            found++; /* cannot be read: counted as a writer (never trust doubt) */
            break;
        }
        found += scan_bytes(buf, (size_t)got, (const unsigned char *)at, xrstor);
    }
    free(buf);
    return found;
}

unsigned protect_scan(unsigned *xrstor)
{
    FILE *maps = fopen("/proc/self/maps", "re");
    unsigned n = 0;
    *xrstor = 0;
    if (!maps)
        return 1; /* cannot look: never trust doubt */
    int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[2] != 'x')
            continue;
        if (strstr(line, "[vsyscall]"))
            continue; /* emulated by the kernel: no instruction bytes run from it */
        if (perms[0] == 'r')
            n += scan_bytes((const unsigned char *)lo, hi - lo, (const unsigned char *)lo, xrstor);
        else
            n += scan_unreadable(mem, lo, hi, xrstor);
    }
    if (mem >= 0)
        close(mem);
    fclose(maps);
    return n;
}
