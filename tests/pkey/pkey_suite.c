/*
 * pkey_suite.c - the protection suite: client code cannot reach the cache
 * except through the library's entry points.
 *
 * Run inside QEMU (-cpu max, Debian's stock kernel: tests/qemu/run.sh) it
 * checks mpk mode; run natively with SHMC_PROTECTION=none it runs the same
 * calls and shows that nothing is protected there.  Statically linked, so
 * it uses no test framework: each check prints a line, and the last line
 * is "N passed, N failed".
 *
 *  1. a read and a write of segment memory outside a call fault with
 *     SEGV_PKUERR, and the cache is intact afterwards;
 *  2. every public call works with protection on, from several threads
 *     and several processes;
 *  3. a thread created after attach is denied;
 *  4. a signal handler that runs during a library call is denied, and the
 *     interrupted call completes;
 *  5. the inspection finds a WRPKRU planted in the program's own
 *     executable memory, and strict mode refuses to attach;
 *  6. shmc_lockdown() forbids new executable mappings and pkey calls, and
 *     replacing, re-protecting or emptying the segment's mapping;
 *  7. the library's per-process state (issue 15, item 6): a stray read or
 *     write of the handle or of any page of the vault faults with
 *     SEGV_PKUERR, the page of protection facts is read-only in any mode,
 *     and garbage in the TLS lane index harms nothing;
 *  8. key reuse (issue 15, item 10): the process key never changes across
 *     20 close/open cycles and the process holds no more keys after them;
 *     and what a thread that opened the key itself (a WRPKRU planted at run
 *     time) can do: reach a segment attached later - the key is the
 *     process's for good, so what stops this is the inspection, which
 *     counts the gadget at that attach and refuses it in strict mode;
 *  9. a documented gap: a thread that freed a key of its own with access
 *     allowed before the first attach keeps that access when the library
 *     gets the same key number (shown, and counted as the behaviour it is,
 *     not as a failure: docs/security.md).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "shmcached.h"
#include "vault.h" /* the handle, the vault, the protection facts: what client code could hit */

/* The library's one piece of per-thread state (src/gate.h). */
extern __thread uint32_t gate_thread_lane;

#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif

static unsigned passed, failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

#define CHECK_OK(expr)                                                                         \
    do {                                                                                       \
        shmc_status st_ = (expr);                                                              \
        CHECK(st_ == SHMC_OK, "%s: %s", #expr, shmc_strerror(st_));                            \
    } while (0)

static char seg_path[128];
static int mpk; /* 1 when the handle under test runs in mpk mode */

/* ---- probing segment memory from client code ------------------------- */

static __thread sigjmp_buf probe_env;
static __thread volatile int probing;
static __thread volatile int probe_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (!probing) {
        signal(SIGSEGV, SIG_DFL); /* a real crash: let it happen */
        return;
    }
    probe_code = si->si_code;
    siglongjmp(probe_env, 1);
}

/* Try to read (or write) *p from client code: 0 if it worked, else the
 * si_code of the fault. */
static int probe(volatile char *p, int write)
{
    probing = 1;
    probe_code = 0;
    if (sigsetjmp(probe_env, 1) == 0) {
        if (write)
            *p = *p;
        else
            (void)*p;
    }
    probing = 0;
    return probe_code;
}

/* Where the segment is mapped in this process, from /proc/self/maps (what
 * a stray pointer would hit), and its protection key from smaps. */
static char *segment_mapping(int *pkey)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    char *base = NULL;
    *pkey = -1;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && strchr(line, '/')) {
            if (base)
                break; /* the next mapping: the key line was not there */
            if (strstr(line, seg_path))
                base = (char *)lo;
        } else if (base && sscanf(line, "ProtectionKey: %d", pkey) == 1) {
            break;
        }
    }
    if (f)
        fclose(f);
    return base;
}

/* ---- 1. stray reads and writes ---------------------------------------- */

static void test_stray_access(shmc_cache *c)
{
    int pkey;
    char *seg = segment_mapping(&pkey);
    CHECK(seg != NULL, "segment mapping found in /proc/self/maps");
    if (!seg)
        return;
    CHECK_OK(shmc_set(c, "guarded", 7, "treasure", 8, 0, 0));
    int r = probe(seg, 0), w = probe(seg + 4096, 1);
    if (mpk) {
        CHECK(pkey > 0, "segment mapping carries a protection key (%d)", pkey);
        CHECK(r == SEGV_PKUERR, "read outside a call faults with SEGV_PKUERR (si_code %d)", r);
        CHECK(w == SEGV_PKUERR, "write outside a call faults with SEGV_PKUERR (si_code %d)", w);
    } else {
        CHECK(r == 0 && memcmp(seg, "SHMCACHD", 8) == 0,
              "none mode: client code can read the segment (header seen)");
    }
    char buf[16];
    size_t len = sizeof buf;
    CHECK_OK(shmc_get(c, "guarded", 7, buf, &len, NULL, NULL));
    CHECK(len == 8 && memcmp(buf, "treasure", 8) == 0, "cache intact after the stray access");
    CHECK(shmc_check(c, stdout) == 0, "check clean after the stray access");
}

/* ---- 2. every public call --------------------------------------------- */

static void test_every_call(shmc_cache *c)
{
    char buf[64];
    size_t len = sizeof buf;
    uint64_t cas = 0, v = 0;
    uint32_t flags = 0;
    CHECK_OK(shmc_store(c, SHMC_SET, "k", 1, "v1", 2, 7, 0, 0, &cas));
    CHECK_OK(shmc_get(c, "k", 1, buf, &len, &flags, &cas));
    CHECK(len == 2 && flags == 7, "get returns what set stored");
    CHECK(shmc_store(c, SHMC_ADD, "k", 1, "x", 1, 0, 0, 0, NULL) == SHMC_NOT_STORED, "add exists");
    CHECK_OK(shmc_store(c, SHMC_REPLACE, "k", 1, "v2", 2, 0, 0, 0, NULL));
    CHECK_OK(shmc_store(c, SHMC_APPEND, "k", 1, "a", 1, 0, 0, 0, NULL));
    CHECK_OK(shmc_store(c, SHMC_PREPEND, "k", 1, "p", 1, 0, 0, 0, NULL));
    len = sizeof buf;
    CHECK_OK(shmc_gat(c, "k", 1, 100, buf, &len, NULL, &cas));
    CHECK(len == 4 && memcmp(buf, "pv2a", 4) == 0, "append/prepend/gat");
    CHECK(shmc_store(c, SHMC_CAS, "k", 1, "c", 1, 0, 0, cas + 1, NULL) == SHMC_EXISTS, "cas stale");
    CHECK_OK(shmc_store(c, SHMC_CAS, "k", 1, "c", 1, 0, 0, cas, NULL));
    void *p = NULL;
    CHECK_OK(shmc_get_alloc(c, "k", 1, &p, &len, NULL, NULL));
    CHECK(p && len == 1 && *(char *)p == 'c', "get_alloc");
    free(p);
    shmc_value mv[2] = {{.key = "k", .key_len = 1, .buf = buf, .cap = sizeof buf},
                        {.key = "nope", .key_len = 4, .buf = buf + 32, .cap = 32}};
    CHECK_OK(shmc_get_multi(c, mv, 2));
    CHECK(mv[0].status == SHMC_OK && mv[1].status == SHMC_NOT_FOUND, "get_multi");
    CHECK_OK(shmc_set(c, "n", 1, "41", 2, 0, 0));
    CHECK_OK(shmc_incr(c, "n", 1, 2, &v));
    CHECK_OK(shmc_decr(c, "n", 1, 1, &v));
    CHECK(v == 42, "incr/decr give 42 (%llu)", (unsigned long long)v);
    CHECK_OK(shmc_touch(c, "n", 1, 1000));
    CHECK_OK(shmc_delete(c, "n", 1, 0));
    CHECK(shmc_delete(c, "n", 1, 0) == SHMC_NOT_FOUND, "delete twice");
    shmc_stats st;
    CHECK_OK(shmc_stats_get(c, &st));
    CHECK(st.protection == (uint64_t)(mpk ? SHMC_PROTECT_MPK : SHMC_PROTECT_NONE),
          "stats report the protection (%llu)", (unsigned long long)st.protection);
    CHECK(shmc_class_count(c) > 1, "class count");
    shmc_class_stats cs;
    CHECK_OK(shmc_class_stats_get(c, 1, &cs));
    shmc_config cfg;
    CHECK_OK(shmc_config_get(c, &cfg));
    CHECK(cfg.mem_bytes == 64u << 20, "config_get");
    CHECK_OK(shmc_maintain(c));
    unsigned reaped;
    CHECK_OK(shmc_recover(c, &reaped));
    CHECK_OK(shmc_clock_advance(c, 1));
    CHECK_OK(shmc_flush_all(c, 0));
    CHECK(shmc_get(c, "k", 1, buf, &len, NULL, NULL) == SHMC_NOT_FOUND, "flush_all");
    CHECK(shmc_check(c, stdout) == 0, "check");
}

/* ---- 2 and 3: threads created after attach ---------------------------- */

struct thread_arg {
    shmc_cache *c;
    int probe_result;
    int errors;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    int pkey;
    a->probe_result = probe(segment_mapping(&pkey), 0);
    for (int i = 0; i < 2000; i++) {
        char key[32], buf[32];
        snprintf(key, sizeof key, "t%d", i % 50);
        size_t len = sizeof buf;
        if (shmc_incr(a->c, "tally", 5, 1, NULL) != SHMC_OK ||
            shmc_set(a->c, key, strlen(key), key, strlen(key), 0, 0) != SHMC_OK)
            a->errors++;
        shmc_status st = shmc_get(a->c, key, strlen(key), buf, &len, NULL, NULL);
        if (st != SHMC_OK && st != SHMC_NOT_FOUND)
            a->errors++;
    }
    return NULL;
}

static uint64_t read_number(shmc_cache *c, const char *key)
{
    char buf[32];
    size_t len = sizeof buf - 1;
    if (shmc_get(c, key, strlen(key), buf, &len, NULL, NULL) != SHMC_OK)
        return UINT64_MAX;
    buf[len] = 0;
    return strtoull(buf, NULL, 10);
}

static void test_threads(shmc_cache *c)
{
    enum { N = 4 };
    pthread_t t[N];
    struct thread_arg a[N];
    CHECK_OK(shmc_set(c, "tally", 5, "0", 1, 0, 0));
    for (int i = 0; i < N; i++) {
        a[i] = (struct thread_arg){.c = c};
        pthread_create(&t[i], NULL, thread_main, &a[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK(a[i].errors == 0, "thread %d: every call succeeded", i);
        CHECK(mpk ? a[i].probe_result == SEGV_PKUERR : a[i].probe_result == 0,
              "thread %d created after attach: %s (si_code %d)", i,
              mpk ? "denied" : "not protected in none mode", a[i].probe_result);
    }
    CHECK(read_number(c, "tally") == N * 2000, "threads' increments all counted");
}

/* ---- 2: several processes ---------------------------------------------- */

static void test_processes(shmc_cache *c, const shmc_options *opts)
{
    enum { P = 3, K = 1000 };
    CHECK_OK(shmc_set(c, "ptally", 6, "0", 1, 0, 0));
    for (int i = 0; i < P; i++) {
        if (fork() == 0) {
            shmc_cache *cc;
            if (shmc_open_with(seg_path, opts, &cc) != SHMC_OK ||
                shmc_protection_of(cc) != (mpk ? SHMC_PROTECT_MPK : SHMC_PROTECT_NONE))
                _exit(2);
            int pkey;
            if (mpk && probe(segment_mapping(&pkey), 1) != SEGV_PKUERR)
                _exit(3);
            for (int k = 0; k < K; k++)
                if (shmc_incr(cc, "ptally", 6, 1, NULL) != SHMC_OK)
                    _exit(4);
            shmc_close(cc);
            _exit(0);
        }
    }
    for (int i = 0; i < P; i++) {
        int st;
        wait(&st);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child process %d (status %d)", i, st);
    }
    CHECK(read_number(c, "ptally") == P * K, "processes' increments all counted");
}

/* ---- 4: a signal handler during a library call ------------------------ */

static int sig_pkey;
static uint32_t pkru_offset; /* of PKRU in the XSAVE area of a signal frame */
static volatile int sig_inside, sig_denied, sig_total;
static char *sig_seg;

static void on_alarm(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    sig_total++;
    /* was the interrupted code inside a call (our key open in its PKRU)? */
    uint32_t pkru = *(uint32_t *)((char *)uc->uc_mcontext.fpregs + pkru_offset);
    if (pkru & (3u << (2 * sig_pkey)))
        return;
    sig_inside++;
    if (probe(sig_seg, 0) == SEGV_PKUERR)
        sig_denied++;
}

static void test_signal_during_call(shmc_cache *c)
{
    unsigned eax, ebx, ecx, edx;
    if (!mpk || !__get_cpuid_count(0xd, 9, &eax, &ebx, &ecx, &edx) || !ebx) {
        printf("signal test: mpk only\n");
        return;
    }
    pkru_offset = ebx;
    sig_seg = segment_mapping(&sig_pkey);
    enum { BIG = 4 << 20 };
    char *val = malloc(BIG), *out = malloc(BIG);
    for (int i = 0; i < BIG; i++)
        val[i] = (char)(i * 7);
    CHECK_OK(shmc_set(c, "big", 3, val, BIG, 0, 0));
    struct sigaction sa = {.sa_sigaction = on_alarm, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_interval = {0, 200}, .it_value = {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    int bad = 0;
    for (int round = 0; round < 2000 && sig_inside < 20; round++) {
        size_t len = BIG;
        if (shmc_get(c, "big", 3, out, &len, NULL, NULL) != SHMC_OK || len != BIG ||
            memcmp(out, val, BIG) != 0)
            bad++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    printf("signals: %d delivered, %d inside a library call, %d of those denied\n", sig_total,
           sig_inside, sig_denied);
    CHECK(sig_inside > 0, "some signals arrived inside a library call");
    CHECK(sig_denied == sig_inside, "a handler running inside a call is denied");
    CHECK(bad == 0, "the interrupted calls completed with the right value");
    free(val);
    free(out);
}

/* ---- 5: inspection ------------------------------------------------------ */

static void test_inspection(void)
{
    /* the process as it is: a dynamically linked one has glibc's
     * pkey_set (a WRPKRU) mapped, a static one may have none */
    shmc_options lax = {.protection = SHMC_PROTECT_MPK, .strict = 0};
    shmc_options strict = {.protection = SHMC_PROTECT_MPK, .strict = 1};
    shmc_cache *h = NULL;
    shmc_stats s0 = {0};
    CHECK_OK(shmc_open_with(seg_path, &lax, &h));
    if (h) {
        shmc_stats_get(h, &s0);
        shmc_close(h);
    }
    printf("PKRU writers outside the library before planting: %llu\n",
           (unsigned long long)s0.pkru_writers);
    h = NULL;
    shmc_status st = shmc_open_with(seg_path, &strict, &h);
    if (s0.pkru_writers == 0)
        CHECK(st == SHMC_OK, "strict attach of a clean process: %s", shmc_strerror(st));
    else
        CHECK(st == SHMC_UNSAFE_PROCESS && !h, "strict attach refused with %llu foreign writers: %s",
              (unsigned long long)s0.pkru_writers, shmc_strerror(st));
    if (h)
        shmc_close(h);
    /* plant a WRPKRU; RET in the process's own executable memory */
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);
    /* the bytes come from data, never an immediate: an immediate holding
     * 0F 01 EF in this program's own text would itself be a PKRU writer */
    static volatile unsigned char plant[4] = {0x0f, 0x01, 0xef, 0xc3};
    for (int i = 0; i < 4; i++)
        code[i] = plant[i];
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    h = NULL;
    CHECK_OK(shmc_open_with(seg_path, &lax, &h));
    shmc_stats s1 = {0};
    if (h) {
        shmc_stats_get(h, &s1);
        shmc_close(h);
    }
    CHECK(s1.pkru_writers == s0.pkru_writers + 1, "inspection finds the planted WRPKRU (%llu)",
          (unsigned long long)s1.pkru_writers);
    h = NULL;
    st = shmc_open_with(seg_path, &strict, &h);
    CHECK(st == SHMC_UNSAFE_PROCESS && !h, "strict mode refuses to attach: %s",
          shmc_strerror(st));
    /* the same gadget on an execute-only page: read through /proc/self/mem */
    mprotect(code, 4096, PROT_EXEC);
    h = NULL;
    CHECK_OK(shmc_open_with(seg_path, &lax, &h));
    shmc_stats s2 = {0};
    if (h) {
        shmc_stats_get(h, &s2);
        shmc_close(h);
    }
    CHECK(s2.pkru_writers == s0.pkru_writers + 1,
          "inspection finds the WRPKRU on an execute-only page (%llu)",
          (unsigned long long)s2.pkru_writers);
    munmap(code, 4096);
}

/* ---- the seccomp lockdown (in a child: it is irreversible) ------------- */

static void test_lockdown(const shmc_options *opts)
{
    pid_t pid = fork();
    if (pid == 0) {
        shmc_cache *cc;
        if (shmc_open_with(seg_path, opts, &cc) != SHMC_OK)
            _exit(2);
        if (shmc_lockdown() != SHMC_OK)
            _exit(3);
        void *x = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (x != MAP_FAILED || errno != EPERM)
            _exit(4); /* new executable mapping */
        void *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (rw == MAP_FAILED)
            _exit(5); /* plain data mappings still work */
        if (mprotect(rw, 4096, PROT_READ | PROT_EXEC) == 0 || errno != EPERM)
            _exit(6);
        if (syscall(SYS_pkey_mprotect, rw, 4096, PROT_READ, 0) == 0 || errno != EPERM)
            _exit(7); /* re-tagging memory (the segment) to another key */
        if (syscall(SYS_pkey_alloc, 0, 0) >= 0 || errno != EPERM)
            _exit(8);
        /* the segment's mapping cannot be replaced (key 0), re-protected
         * (re-tagged) or emptied */
        int seg_pkey;
        char *seg = segment_mapping(&seg_pkey);
        if (!seg)
            _exit(10);
        if (mmap(seg, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                 0) != MAP_FAILED || errno != EPERM)
            _exit(11);
        if (mprotect(seg, 4096, PROT_READ | PROT_WRITE) == 0 || errno != EPERM)
            _exit(12);
        if (madvise(seg, 4096, MADV_REMOVE) == 0 || errno != EPERM)
            _exit(13);
        /* pkey_mprotect: only the process's own key, and never over the
         * segment; so a segment attached after the lockdown is tagged */
        if (mpk && syscall(SYS_pkey_mprotect, rw, 4096, PROT_READ | PROT_WRITE, seg_pkey) != 0)
            _exit(14);
        if (syscall(SYS_pkey_mprotect, seg, 4096, PROT_READ | PROT_WRITE, seg_pkey) == 0 ||
            errno != EPERM)
            _exit(15);
        shmc_cache *later = NULL;
        char lbuf[16];
        size_t llen = sizeof lbuf;
        if (shmc_open_with(seg_path, opts, &later) != SHMC_OK ||
            shmc_protection_of(later) != shmc_protection_of(cc) ||
            shmc_set(later, "later", 5, "attach", 6, 0, 0) != SHMC_OK ||
            shmc_get(cc, "later", 5, lbuf, &llen, NULL, NULL) != SHMC_OK || llen != 6)
            _exit(16); /* an attach after the lockdown, in the process's mode */
        shmc_close(later);
        char buf[16];
        size_t len = sizeof buf;
        if (shmc_set(cc, "locked", 6, "down", 4, 0, 0) != SHMC_OK ||
            shmc_get(cc, "locked", 6, buf, &len, NULL, NULL) != SHMC_OK || len != 4)
            _exit(9); /* the cache keeps working */
        shmc_close(cc);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "lockdown forbids PROT_EXEC, pkey calls and changes to the segment's mapping, "
          "a later attach works, cache keeps working (status %d)",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ---- mappings as client code sees them ------------------------------- */

/* The mapping of /proc/self/smaps that holds addr: its range and its
 * protection key (-1 if none is shown).  False if none holds it. */
static bool mapping_of(const void *addr, uintptr_t *lo, uintptr_t *hi, int *pkey)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    bool in = false, found = false;
    *pkey = -1;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char c;
        if (sscanf(line, "%lx-%lx %c", &a, &b, &c) == 3 && strchr(line, ' ') &&
            strchr(line, '-') < strchr(line, ' ')) {
            if (in)
                break;
            in = (uintptr_t)addr >= a && (uintptr_t)addr < b;
            if (in) {
                *lo = a;
                *hi = b;
                found = true;
            }
        } else if (in && sscanf(line, "ProtectionKey: %d", pkey) == 1) {
            break;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* How many mappings of the segment file there are, and whether every one
 * carries protection key want. */
static int segment_mappings(int want, bool *all_want)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int n = 0;
    bool in = false;
    *all_want = true;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        int k;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && strchr(line, ' ') &&
            strchr(line, '-') < strchr(line, ' ')) {
            in = strstr(line, seg_path) != NULL;
            n += in;
        } else if (in && sscanf(line, "ProtectionKey: %d", &k) == 1) {
            *all_want &= k == want;
            in = false;
        }
    }
    if (f)
        fclose(f);
    return n;
}

/* A copy of a handle, read through /proc/self/mem (whose accesses the
 * kernel makes as another process's: protection keys do not apply). */
static struct shmc_cache handle_peek(shmc_cache *c)
{
    struct shmc_cache h;
    memset(&h, 0, sizeof h);
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && pread(fd, &h, sizeof h, (off_t)(uintptr_t)c) != (ssize_t)sizeof h)
        memset(&h, 0, sizeof h);
    if (fd >= 0)
        close(fd);
    return h;
}

static bool values_intact(shmc_cache *c)
{
    char buf[16];
    size_t len = sizeof buf;
    return shmc_get(c, "guarded", 7, buf, &len, NULL, NULL) == SHMC_OK && len == 8 &&
           memcmp(buf, "treasure", 8) == 0;
}

/* ---- 7. the library's per-process state --------------------------------- */

static void test_process_state(shmc_cache *c)
{
    CHECK_OK(shmc_set(c, "guarded", 7, "treasure", 8, 0, 0));
    int seg_key;
    segment_mapping(&seg_key);
    /* the handle: its segment base, slot and lock token decide where the
     * library writes (issue 15, item 6: one stray 8-byte write into it made
     * another client lose a key) */
    volatile char *h = (volatile char *)c;
    int w = probe(h + offsetof(struct shmc_cache, base), 1), r = probe(h, 0);
    uintptr_t lo = 0, hi = 0;
    int vkey;
    CHECK(mapping_of(c, &lo, &hi, &vkey), "the handle's mapping found in /proc/self/smaps");
    if (mpk) {
        CHECK(w == SEGV_PKUERR, "a stray write into the handle faults with SEGV_PKUERR (si_code %d)",
              w);
        CHECK(r == SEGV_PKUERR, "a stray read of the handle faults with SEGV_PKUERR (si_code %d)",
              r);
        CHECK(vkey == seg_key && hi - lo == sizeof(vault),
              "the vault is a mapping of its own with the segment's key (%d, %d; %lu bytes)", vkey,
              seg_key, (unsigned long)(hi - lo));
        /* every page of it: the table of attached segments, other slots, the end */
        volatile char *spots[] = {(volatile char *)lo, (volatile char *)lo + 4096 - 8,
                                  (volatile char *)(c + 1), (volatile char *)hi - 1};
        for (unsigned i = 0; i < sizeof spots / sizeof spots[0]; i++) {
            int sw = probe(spots[i], 1);
            CHECK(sw == SEGV_PKUERR, "a stray write into the vault at +%#lx faults (si_code %d)",
                  (unsigned long)((uintptr_t)spots[i] - lo), sw);
        }
    } else {
        CHECK(w == 0 && r == 0, "none mode: the handle is plain memory (nothing is protected)");
    }
    /* the protection facts (key, vault address): read-only in any mode */
    volatile char *facts = (volatile char *)&protect_global;
    int fr = probe(facts, 0), fw = probe(facts, 1);
    CHECK(fr == 0 && fw == SEGV_ACCERR,
          "the protection facts are readable and a stray write faults with SEGV_ACCERR "
          "(read %d, write %d)", fr, fw);
    CHECK(values_intact(c), "cache intact after the stray accesses");
    CHECK(shmc_check(c, stdout) == 0, "check clean after the stray accesses");
}

/* Garbage in the lane index (issue 15, item 6: it broke hash chains). */
struct lane_arg {
    shmc_cache *c;
    uint64_t x;
    int errors;
};

static void *lane_thread(void *p)
{
    struct lane_arg *a = p;
    for (int i = 0; i < 2000; i++) {
        a->x ^= a->x << 13;
        a->x ^= a->x >> 7;
        a->x ^= a->x << 17;
        gate_thread_lane = (uint32_t)a->x; /* a stray write into the thread's TLS */
        char key[16];
        snprintf(key, sizeof key, "lane%d", i % 64);
        if (shmc_incr(a->c, "ltally", 6, 1, NULL) != SHMC_OK ||
            shmc_set(a->c, key, strlen(key), key, strlen(key), 0, 0) != SHMC_OK)
            a->errors++;
    }
    return NULL;
}

static void test_tls_lane(shmc_cache *c)
{
    enum { N = 4 };
    pthread_t t[N];
    struct lane_arg a[N];
    CHECK_OK(shmc_set(c, "ltally", 6, "0", 1, 0, 0));
    for (int i = 0; i < N; i++) {
        a[i] = (struct lane_arg){.c = c, .x = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)};
        pthread_create(&t[i], NULL, lane_thread, &a[i]);
    }
    int errors = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        errors += a[i].errors;
    }
    CHECK(errors == 0, "every call with garbage in its lane index succeeded (%d errors)", errors);
    CHECK(read_number(c, "ltally") == N * 2000, "every increment counted (%llu)",
          (unsigned long long)read_number(c, "ltally"));
    CHECK(values_intact(c), "cache intact after lane garbage");
    CHECK(shmc_check(c, stdout) == 0, "check clean after lane garbage");
}

/* ---- 8. key reuse ---------------------------------------------------------- */

/* How many protection keys the process could still allocate (each taken
 * with access disabled, then given back). */
static int pkeys_free(void)
{
    int keys[16], n = 0;
    while (n < 16 && (keys[n] = (int)syscall(SYS_pkey_alloc, 0, PKEY_DISABLE_ACCESS)) >= 0)
        n++;
    for (int i = 0; i < n; i++)
        syscall(SYS_pkey_free, keys[i]);
    return n;
}

/* 20 close/open cycles; 0 if every mapping had key k and the free key
 * count stayed, else which check failed. */
static int key_cycles(const shmc_options *opts, int k)
{
    int free0 = pkeys_free();
    for (int i = 0; i < 20; i++) {
        shmc_cache *h;
        if (shmc_open_with(seg_path, opts, &h) != SHMC_OK)
            return 1;
        bool all;
        int n = segment_mappings(k, &all);
        shmc_close(h);
        if (n < 1 || !all)
            return 2;
        if (pkeys_free() != free0)
            return 3;
    }
    return 0;
}

/* WRPKRU; RET behind "mov eax, edi; xor ecx, ecx; xor edx, edx", planted
 * from data at run time (an immediate would put 0F 01 EF in our own text). */
typedef void (*pkru_gadget)(uint32_t);
static pkru_gadget plant_gadget(void)
{
    static volatile unsigned char bytes[] = {0x89, 0xf8, 0x31, 0xc9, 0x31, 0xd2,
                                             0x0f, 0x01, 0xef, 0xc3};
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);
    if (code == MAP_FAILED)
        return NULL;
    for (unsigned i = 0; i < sizeof bytes; i++)
        code[i] = bytes[i];
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    return (pkru_gadget)(uintptr_t)code;
}

static uint32_t rdpkru(void)
{
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

struct opener {
    pkru_gadget gadget;
    int pkey;
    volatile int stage;          /* 1: key opened; 2: probed */
    volatile char *volatile target;
    int read, write;
};

static void *opener_thread(void *p)
{
    struct opener *o = p;
    uint32_t closed = rdpkru();
    o->gadget(closed & ~(3u << (2 * o->pkey))); /* the key, open for this thread */
    o->stage = 1;
    while (!o->target)
        usleep(1000);
    o->read = probe(o->target, 0);
    o->write = probe(o->target + 4096, 1);
    o->gadget(closed);
    o->stage = 2;
    return NULL;
}

static void test_key_reuse(shmc_cache *c, const shmc_options *opts)
{
    if (!mpk) {
        printf("key reuse: mpk only\n");
        return;
    }
    int k;
    segment_mapping(&k);
    /* here, with a handle open all along */
    int r = key_cycles(opts, k);
    CHECK(r == 0, "20 close/open cycles: every mapping has key %d, no key is added (step %d)", k,
          r);
    /* in a child that closes every handle first, so no handle is left */
    pid_t pid = fork();
    if (pid == 0) {
        shmc_close(c); /* the inherited handle */
        _exit(key_cycles(opts, k));
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "20 close/open cycles with no handle left between them: key %d each time (status %d)",
          k, WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    /* the attack: a thread opens the key with a WRPKRU of its own while a
     * handle is attached; the handle is closed and the segment attached
     * again, mapped anew */
    shmc_options lax = *opts, strict = *opts;
    lax.strict = 0;
    strict.strict = 1;
    shmc_cache *h = NULL;
    shmc_stats s0 = {0}, s1 = {0};
    CHECK_OK(shmc_open_with(seg_path, &lax, &h));
    shmc_stats_get(h, &s0);
    struct opener o = {.gadget = plant_gadget(), .pkey = k};
    CHECK(o.gadget != NULL, "gadget planted");
    if (!o.gadget)
        return;
    pthread_t t;
    pthread_create(&t, NULL, opener_thread, &o);
    while (o.stage < 1)
        usleep(1000);
    shmc_close(h);
    h = NULL;
    CHECK_OK(shmc_open_with(seg_path, &lax, &h));
    struct shmc_cache copy = handle_peek(h);
    o.target = copy.base;
    pthread_join(t, NULL);
    printf("a thread that opened key %d itself, probing the segment attached after close: "
           "read si_code %d, write si_code %d\n", k, o.read, o.write);
    CHECK(o.read == 0 && o.write == 0,
          "honest result: a thread holding the key open reaches the segment attached again - "
          "the key is the process's for good, as with any WRPKRU gadget");
    shmc_stats_get(h, &s1);
    CHECK(s1.pkru_writers == s0.pkru_writers + 1,
          "what stops it: that attach's inspection counts the planted gadget (%llu, before %llu)",
          (unsigned long long)s1.pkru_writers, (unsigned long long)s0.pkru_writers);
    shmc_close(h);
    h = NULL;
    shmc_status sst = shmc_open_with(seg_path, &strict, &h);
    CHECK(sst == SHMC_UNSAFE_PROCESS && !h, "and strict mode refuses that attach: %s",
          shmc_strerror(sst));
    if (h)
        shmc_close(h);
    munmap((void *)(uintptr_t)o.gadget, 4096);
}

/* ---- 9. a key freed with access allowed, before the first attach ------- */

struct stale {
    volatile int key;                /* the key the thread took and freed; -2 until then */
    volatile char *volatile target;
    volatile int read, write, done;
};

static void *stale_thread(void *p)
{
    struct stale *s = p;
    int k = (int)syscall(SYS_pkey_alloc, 0, 0); /* access allowed, set by the kernel */
    if (k >= 0)
        syscall(SYS_pkey_free, k);        /* PKRU keeps the rights: pkey_free(2) */
    s->key = k;
    while (!s->target)
        usleep(1000);
    s->read = probe(s->target, 0);
    s->write = probe(s->target + 4096, 1);
    s->done = 1;
    return NULL;
}

/* Run in a fresh process (the key is decided at a process's first attach):
 * exit 0 if the thread was denied, 10 if it reached the segment, 20 if the
 * library got another key number, 30 if the setup failed. */
static int stale_key_main(const char *path)
{
    snprintf(seg_path, sizeof seg_path, "%s", path);
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER};
    sigaction(SIGSEGV, &sa, NULL);
    struct stale s = {.key = -2};
    pthread_t t;
    pthread_create(&t, NULL, stale_thread, &s);
    while (s.key == -2)
        usleep(1000);
    /* strict where the process is clean of PKRU writers (the static build):
     * the thread wrote none */
    shmc_options strict = {.protection = SHMC_PROTECT_MPK, .strict = 1};
    shmc_options lax = {.protection = SHMC_PROTECT_MPK, .strict = 0};
    shmc_cache *c = NULL;
    bool was_strict = shmc_open_with(seg_path, &strict, &c) == SHMC_OK;
    if (s.key < 0 || (!was_strict && shmc_open_with(seg_path, &lax, &c) != SHMC_OK))
        return 30;
    int k;
    char *seg = segment_mapping(&k);
    s.target = seg;
    pthread_join(t, NULL);
    printf("stale key: a thread freed key %d with access allowed; the library's key is %d "
           "(attached in %s mode); the thread's read of the segment: si_code %d, write: "
           "si_code %d\n", s.key, k, was_strict ? "strict" : "lax", s.read, s.write);
    shmc_close(c);
    if (k != s.key)
        return 20;
    return s.read == 0 || s.write == 0 ? 10 : 0;
}

static void test_stale_key(void)
{
    if (!mpk) {
        printf("stale key: mpk only\n");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "pkey_suite", "--stale-key", seg_path, (char *)NULL);
        _exit(31);
    }
    int st;
    waitpid(pid, &st, 0);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code == 10)
        printf("NOT BLOCKED (documented gap, docs/security.md): a thread that freed a key of its "
               "own with access allowed, before the process's first attach, can read and write "
               "the segment when the library is given the same key number\n");
    else if (code == 0)
        printf("stale key: the thread was denied\n");
    CHECK(code == 0 || code == 10 || code == 20, "stale-key run completed (status %d)", code);
}

/* ---- the gates: every WRPKRU checked, the key closed after every call -- */

/* The library's WRPKRU sites (src/protect.h: PKRU_WRITE records each as a
 * 32-bit offset in the section shmc_wrpkru; the linker gives its bounds). */
extern const int32_t __start_shmc_wrpkru[];
extern const int32_t __stop_shmc_wrpkru[];

/* Every recorded site is a WRPKRU immediately followed by an RDPKRU
 * (0F 01 EE: the read of what was written, which the gate then checks):
 * no WRPKRU of the library is left unchecked, at any optimisation level,
 * so a jump onto one with another EAX traps. */
static void test_gate_sites(void)
{
    unsigned sites = 0, checked = 0;
    for (const int32_t *r = __start_shmc_wrpkru; r < __stop_shmc_wrpkru; r++) {
        const unsigned char *p = (const unsigned char *)r + *r;
        sites++;
        if (p[0] != 0x0f || p[1] != 0x01 || p[2] != 0xef)
            continue;
        if (p[3] == 0x0f && p[4] == 0x01 && p[5] == 0xee) /* the read-back, at once */
            checked++;
    }
    printf("library WRPKRU sites: %u, each followed by an RDPKRU check: %u\n", sites, checked);
    CHECK(sites >= 2, "the library records its WRPKRU sites (%u)", sites);
    CHECK(checked == sites, "every WRPKRU site is a WRPKRU followed at once by RDPKRU (%u of %u)",
          checked, sites);
}

static uint32_t read_pkru(void)
{
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

/* After every kind of public call, successful or refused, this thread's
 * PKRU denies the key again: no path returns with it open. */
static void test_pkru_after_calls(shmc_cache *c)
{
    int pkey;
    if (!mpk || !segment_mapping(&pkey) || pkey <= 0) {
        printf("pkru after calls: mpk only\n");
        return;
    }
    const uint32_t bits = 3u << (2 * pkey);
    unsigned open_after = 0, calls = 0;
    char buf[64];
    size_t len;
    uint64_t v;
    void *p = NULL;
    shmc_stats st;
    shmc_value mv = {.key = "pk", .key_len = 2, .buf = buf, .cap = sizeof buf};
#define AFTER(call) do { (void)(call); calls++; open_after += (read_pkru() & bits) != bits; } while (0)
    AFTER(shmc_set(c, "pk", 2, "12", 2, 0, 0));
    len = sizeof buf;
    AFTER(shmc_get(c, "pk", 2, buf, &len, NULL, NULL));
    len = 1;
    AFTER(shmc_get(c, "pk", 2, buf, &len, NULL, NULL)); /* too small */
    len = sizeof buf;
    AFTER(shmc_get(c, "nope", 4, buf, &len, NULL, NULL)); /* miss */
    AFTER(shmc_get(c, "pk", 2, (char *)c, &len, NULL, NULL)); /* refused: the vault */
    AFTER(shmc_get(NULL, "pk", 2, buf, &len, NULL, NULL));    /* refused: no handle */
    AFTER(shmc_get_alloc(c, "pk", 2, &p, &len, NULL, NULL));
    free(p);
    AFTER(shmc_get_multi(c, &mv, 1));
    AFTER(shmc_incr(c, "pk", 2, 1, &v));
    AFTER(shmc_touch(c, "pk", 2, 100));
    AFTER(shmc_delete(c, "pk", 2, 0));
    AFTER(shmc_stats_get(c, &st));
    AFTER(shmc_check(c, NULL));
#undef AFTER
    CHECK(open_after == 0, "the key is closed after each of %u calls (%u left it open)", calls,
          open_after);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--stale-key") == 0)
        return stale_key_main(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) /* the mode, for runs where the environment cannot be set */
        setenv("SHMC_PROTECTION", argv[1], 1);
    snprintf(seg_path, sizeof seg_path, "/dev/shm/pkey-suite-%d", (int)getpid());
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER};
    sigaction(SIGSEGV, &sa, NULL);

    shmc_options opts;
    CHECK_OK(shmc_options_init(&opts)); /* SHMC_PROTECTION decides the mode */
    shmc_cache *c = NULL;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.item_size_max = 8u << 20; /* for the long calls of the signal test */
    shmc_status st = shmc_create_with(seg_path, &cfg, &opts, &c);
    CHECK(st == SHMC_OK, "create: %s", shmc_strerror(st));
    if (!c)
        return 1;
    mpk = shmc_protection_of(c) == SHMC_PROTECT_MPK;
    printf("protection in effect: %s (asked: %s)\n",
           shmc_protection_name(shmc_protection_of(c)), shmc_protection_name(opts.protection));
    if (opts.protection == SHMC_PROTECT_MPK)
        CHECK(mpk, "mpk asked for and given");

    printf("== %s\n", "stray_access");
    test_stray_access(c);
    printf("== %s\n", "every_call");
    test_every_call(c);
    printf("== gate_sites\n");
    test_gate_sites();
    printf("== pkru_after_calls\n");
    test_pkru_after_calls(c);
    printf("== %s\n", "threads");
    test_threads(c);
    printf("== processes\n");
    test_processes(c, &opts);
    printf("== %s\n", "signal_during_call");
    test_signal_during_call(c);
    if (mpk) {
        printf("== inspection\n");
        test_inspection();
    }
    printf("== lockdown\n");
    test_lockdown(&opts);
    printf("== process_state\n");
    test_process_state(c);
    printf("== tls_lane\n");
    test_tls_lane(c);
    printf("== key_reuse\n");
    test_key_reuse(c, &opts);
    printf("== stale_key\n");
    test_stale_key();
    CHECK(shmc_check(c, stdout) == 0, "check clean at the end");
    shmc_close(c);
    shmc_destroy(seg_path);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
