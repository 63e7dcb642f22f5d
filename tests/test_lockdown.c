/*
 * test_lockdown.c - shmc_lockdown_with(): every attack on an attached
 * segment that the lockdown closes, and the calls it must leave alone.
 *
 * The cases need no protection keys (the filters look at system call
 * arguments only), so the whole program runs with SHMC_PROTECTION=none
 * and does the same on every CPU.  A lockdown is irreversible: each case
 * runs in a fork child that attaches the segment, locks down, tries the
 * attack and reports by exit code (CHILD_* of testutil.h; the child's
 * stderr says which check failed).  The parent then attaches with a fresh
 * handle and asserts that every value written before the child ran is
 * intact and that shmc_check() finds nothing.
 *
 * The segment's address comes from /proc/self/maps (the mapping of its
 * file), as an attacker in the process would find it.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <pthread.h>
#include <sys/personality.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "lockdown.h"
#include "protect.h"
#include "vault.h"

#define PAGE 4096ul
#define NVALUES 300u              /* values written before each case */
#define X32_BIT 0x40000000l       /* __X32_SYSCALL_BIT */

/* The segment's mapping in the calling process. */
typedef struct seg_map {
    char *base;  /* first byte */
    size_t size; /* bytes, whole pages */
} seg_map;

/* The state of one case: the segment file. */
typedef struct lock_fix {
    char path[TU_PATH_MAX];
} lock_fix;

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* Key and value i: lengths from 1 byte to ~12 KB, across slab classes. */
static void value_of(unsigned i, char *key, size_t *klen, unsigned char *val, size_t *vlen)
{
    *klen = (size_t)snprintf(key, 32, "key:%u", i);
    *vlen = 1 + (i * 977u) % 12000u;
    tu_fill(val, *vlen, i + 1);
}

/* Is value i stored exactly as written? */
static bool value_ok(shmc_cache *c, unsigned i)
{
    static unsigned char want[12001], got[12001];
    char key[32];
    size_t klen, vlen, len = sizeof got;
    value_of(i, key, &klen, want, &vlen);
    return shmc_get(c, key, klen, got, &len, NULL, NULL) == SHMC_OK && len == vlen &&
           memcmp(got, want, vlen) == 0;
}

static int setup(void **state)
{
    lock_fix *f = calloc(1, sizeof *f);
    shmc_config cfg;
    shmc_cache *c = NULL;
    if (!f)
        return -1;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 64u << 20; /* a slab page for every class the values need */
    tu_make_path(f->path, sizeof f->path, "lockdown");
    if (shmc_create(f->path, &cfg, &c) != SHMC_OK)
        return -1;
    for (unsigned i = 0; i < NVALUES; i++) {
        static unsigned char val[12001];
        char key[32];
        size_t klen, vlen;
        value_of(i, key, &klen, val, &vlen);
        if (shmc_set(c, key, klen, val, vlen, 0, 0) != SHMC_OK)
            return -1;
    }
    shmc_close(c); /* the children map it alone */
    *state = f;
    return 0;
}

/* Every value intact and the segment consistent, seen by a fresh handle. */
static int teardown(void **state)
{
    lock_fix *f = *state;
    shmc_cache *c = NULL;
    assert_ok(shmc_open(f->path, &c));
    for (unsigned i = 0; i < NVALUES; i++)
        if (!value_ok(c, i))
            fail_msg("value %u changed or lost after the child's attack", i);
    assert_int_equal(shmc_check(c, stderr), 0);
    shmc_close(c);
    tu_remove(f->path);
    free(f);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The child                                                           */
/* ------------------------------------------------------------------ */

/* The mapping of path in this process (from /proc/self/maps). */
static seg_map find_mapping(const char *path)
{
    seg_map m = {NULL, 0};
    FILE *maps = fopen("/proc/self/maps", "re");
    char line[1024];
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        int at = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &at) < 2 || !at)
            continue;
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line + at, path) != 0)
            continue;
        if (!m.base)
            m.base = (char *)lo;
        m.size = hi - (unsigned long)m.base;
    }
    if (maps)
        fclose(maps);
    return m;
}

/* The cache still answers in the child: a value, and a new store. */
static void child_cache_works(shmc_cache *c)
{
    CHILD_CHECK(value_ok(c, 7));
    CHILD_CHECK(value_ok(c, NVALUES - 1));
    CHILD_OK(shmc_set(c, "after", 5, "lockdown", 8, 0, 0));
}

/* A call that must fail with EPERM (the filters' answer). */
#define CHILD_EPERM(call) do { \
        errno = 0; \
        long r_ = (long)(call); \
        if (r_ != -1 || errno != EPERM) \
            CHILD_FAIL("%s returned %ld (errno %d: %s), expected EPERM", #call, r_, errno, \
                       strerror(errno)); \
    } while (0)

/* mmap that must fail with EPERM. */
#define CHILD_MMAP_EPERM(call) CHILD_EPERM((call) == MAP_FAILED ? -1 : 0)

/* A call that must succeed (not -1). */
#define CHILD_SYS_OK(call) do { \
        errno = 0; \
        if ((long)(call) == -1) \
            CHILD_FAIL("%s failed: errno %d: %s", #call, errno, strerror(errno)); \
    } while (0)

/* The attack a case runs in its child, after the lockdown. */
typedef void attack_fn(shmc_cache *c, seg_map m);

/* Fork: attach path, lock down with the defaults (if lock; else the
 * attack does), run attack, check that the cache works; the parent reaps
 * it (teardown then checks the values). */
static void run_child(const char *path, bool lock, attack_fn *attack)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *c = NULL;
        shmc_lockdown_report rep;
        CHILD_OK(shmc_open(path, &c));
        seg_map m = find_mapping(path);
        CHILD_CHECK(m.base && m.size >= PAGE);
        if (lock) {
            CHILD_OK(shmc_lockdown_with(NULL, &rep));
            if (rep.ranges != 3) CHILD_FAIL("ranges %u", rep.ranges); /* the segment, the vault, protect_g's page */
        }
        attack(c, m);
        child_cache_works(c);
        _exit(0);
    }
    tu_wait_ok(pid, 60);
}

#define run_locked(path, attack) run_child((path), true, (attack))

/* ------------------------------------------------------------------ */
/* Attacks on the segment's mapping                                    */
/* ------------------------------------------------------------------ */

/* mmap(MAP_FIXED) over the segment would replace it with a mapping of
 * key 0; MAP_FIXED_NOREPLACE is refused too, and ranges that overlap
 * only an end, or whose end wraps, are caught. */
static void attack_map_fixed(shmc_cache *c, seg_map m)
{
    const int anon = MAP_PRIVATE | MAP_ANONYMOUS, rw = PROT_READ | PROT_WRITE;
    CHILD_MMAP_EPERM(mmap(m.base, PAGE, rw, anon | MAP_FIXED, -1, 0));
    CHILD_MMAP_EPERM(mmap(m.base, m.size, rw, anon | MAP_FIXED, -1, 0));
    CHILD_MMAP_EPERM(mmap(m.base + m.size - PAGE, PAGE, rw, anon | MAP_FIXED, -1, 0));
    CHILD_MMAP_EPERM(mmap(m.base - PAGE, 2 * PAGE, rw, anon | MAP_FIXED, -1, 0));
    CHILD_MMAP_EPERM(mmap(m.base, PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0));
    /* [16 pages, 2^64 + 8 pages): its end wraps; unwrapped it covers the segment */
    CHILD_MMAP_EPERM(mmap((void *)(16 * PAGE), (size_t)0 - 8 * PAGE, rw, anon | MAP_FIXED, -1, 0));
}

static void test_map_fixed_over_segment(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_map_fixed);
}

/* munmap of the segment, of a page inside it, or across its start. */
static void attack_munmap(shmc_cache *c, seg_map m)
{
    CHILD_EPERM(munmap(m.base, m.size));
    CHILD_EPERM(munmap(m.base + PAGE, PAGE));
    CHILD_EPERM(munmap(m.base - PAGE, 2 * PAGE));
    CHILD_EPERM(munmap(m.base + m.size - PAGE, 16 * PAGE));
}

static void test_munmap_segment(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_munmap);
}

/* mremap moving, growing, duplicating (old size 0) the segment, or
 * moving another mapping onto it (MREMAP_FIXED). */
static void attack_mremap(shmc_cache *c, seg_map m)
{
    char *other = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(other != MAP_FAILED);
    CHILD_MMAP_EPERM(mremap(m.base, m.size, m.size + PAGE, MREMAP_MAYMOVE));
    CHILD_MMAP_EPERM(mremap(m.base, m.size, PAGE, 0));
    CHILD_MMAP_EPERM(mremap(m.base, 0, PAGE, MREMAP_MAYMOVE));
    CHILD_MMAP_EPERM(mremap(m.base + m.size - PAGE, PAGE, 2 * PAGE, 0));
    CHILD_MMAP_EPERM(mremap(other, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, m.base + PAGE));
    CHILD_SYS_OK(munmap(other, PAGE));
}

static void test_mremap_segment(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_mremap);
}

/* mprotect of the segment, and of the library's own state: the vault
 * and protect_g's read-only page. */
static void attack_mprotect(shmc_cache *c, seg_map m)
{
    CHILD_EPERM(mprotect(m.base, m.size, PROT_READ));
    CHILD_EPERM(mprotect(m.base + PAGE, PAGE, PROT_NONE));
    CHILD_EPERM(mprotect(m.base, PAGE, PROT_READ | PROT_WRITE));
    CHILD_EPERM(mprotect(&protect_global, sizeof protect_global, PROT_READ | PROT_WRITE));
    CHILD_EPERM(mprotect(protect_g.vault, sizeof(vault), PROT_READ));
    CHILD_EPERM(munmap(protect_g.vault, sizeof(vault)));
}

static void test_mprotect_segment(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_mprotect);
}

/* madvise(MADV_REMOVE) punches a hole in the file (every value gone for
 * every process), MADV_DONTNEED drops the pages; also through
 * process_madvise, whose ranges the filter cannot read. */
static void attack_madvise(shmc_cache *c, seg_map m)
{
    CHILD_EPERM(madvise(m.base, m.size, MADV_REMOVE));
    CHILD_EPERM(madvise(m.base + PAGE, 1, MADV_REMOVE));
    CHILD_EPERM(madvise(m.base, m.size, MADV_DONTNEED));
    CHILD_EPERM(madvise(m.base - PAGE, 2 * PAGE, MADV_DONTNEED));
    /* (a kernel without pidfd_open: -1; the filter denies by number first) */
    int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    struct iovec iov = {m.base, m.size};
    CHILD_EPERM(syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_REMOVE, 0));
    if (pidfd >= 0)
        close(pidfd);
}

static void test_madvise_segment(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_madvise);
}

/* ------------------------------------------------------------------ */
/* No over-blocking                                                    */
/* ------------------------------------------------------------------ */

/* mmap(MAP_FIXED_NOREPLACE) of the page at p: allowed (it is free) or
 * EEXIST (something is there), never EPERM, unless p is the vault (the
 * segment is often mapped right below it). */
static void child_neighbour_allowed(char *p)
{
    char *v = (char *)protect_g.vault;
    if (p >= v && p < v + sizeof(vault))
        return;
    void *q = mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (q == MAP_FAILED && errno != EEXIST)
        CHILD_FAIL("page %p next to the segment: errno %d (%s)", (void *)p, errno,
                   strerror(errno));
    if (q == MAP_FAILED)
        return;
    else
        CHILD_SYS_OK(munmap(q, PAGE));
}

/* Every memory call on an unrelated mapping still works, as do the
 * pages right below and right above the segment. */
static void attack_none_unrelated(shmc_cache *c, seg_map m)
{
    const int rw = PROT_READ | PROT_WRITE;
    char *a = mmap(NULL, 4 * PAGE, rw, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *o = mmap(NULL, PAGE, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(a != MAP_FAILED && o != MAP_FAILED);
    memset(a, 1, 4 * PAGE);
    CHILD_CHECK(mmap(a, PAGE, rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == a);
    CHILD_SYS_OK(mprotect(a, PAGE, PROT_READ));
    CHILD_SYS_OK(madvise(a + PAGE, PAGE, MADV_DONTNEED));
    CHILD_SYS_OK(madvise(a + 2 * PAGE, PAGE, MADV_REMOVE));
    CHILD_SYS_OK(munmap(a, 4 * PAGE));
    char *g = mmap(NULL, 4 * PAGE, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(g != MAP_FAILED);
    char *b = mremap(g, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
    CHILD_CHECK(b != MAP_FAILED);
    CHILD_CHECK(mremap(o, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, b + 7 * PAGE) == b + 7 * PAGE);
    CHILD_SYS_OK(munmap(b, 8 * PAGE));
    /* an address hint at the segment, without MAP_FIXED: placed elsewhere */
    char *h = mmap(m.base, PAGE, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(h != MAP_FAILED && h != m.base);
    CHILD_SYS_OK(munmap(h, PAGE));
    child_neighbour_allowed(m.base - PAGE);
    child_neighbour_allowed(m.base + m.size);
    /* ordinary calls, and the ones only their flags make dangerous */
    CHILD_CHECK(syscall(SYS_getpid) == getpid());
    CHILD_CHECK(personality(0xffffffff) != -1);
}

static void test_unrelated_mappings_allowed(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_none_unrelated);
}

/* Four pages R0..R3 whose R2 starts at a multiple of 4 GiB, so that the
 * filter's 64-bit comparisons and its carry between 32-bit words are
 * exercised; NULL if no such place is free. */
static char *map_at_4g_boundary(void)
{
    /* low ones first; ASan's shadow holds those, but not the high ones */
    static const unsigned long starts[] = {0x7f, 0x3000, 0x5000};
    for (unsigned i = 0; i < 3 * 16; i++) {
        unsigned long k = starts[i / 16] + i % 16;
        char *want = (char *)((k << 32) - 2 * PAGE);
        char *r = mmap(want, 4 * PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (r == want)
            return r;
        if (r != MAP_FAILED)
            munmap(r, 4 * PAGE);
    }
    return NULL;
}

/* The exact edges of a protected range [R2, R3): a range ending at R2
 * (its end computed with a carry) or starting at R3 is allowed, one byte
 * more is not, and a range below it in the high word is allowed. */
static void attack_range_edges(shmc_cache *c, seg_map m)
{
    char *r = map_at_4g_boundary();
    CHILD_CHECK(r);
    CHILD_CHECK(((uintptr_t)(r + 2 * PAGE) & 0xffffffffu) == 0);
    CHILD_CHECK(lockdown_add_region(r + 2 * PAGE, PAGE) == 0);
    CHILD_SYS_OK(madvise(r, 2 * PAGE, MADV_DONTNEED));     /* ends at R2 (carry) */
    CHILD_EPERM(madvise(r, 2 * PAGE + 1, MADV_DONTNEED));  /* one byte into it */
    CHILD_SYS_OK(madvise(r + PAGE, PAGE, MADV_DONTNEED));  /* R1: high word below */
    CHILD_EPERM(madvise(r + 2 * PAGE, PAGE, MADV_DONTNEED));
    CHILD_SYS_OK(madvise(r + 3 * PAGE, PAGE, MADV_DONTNEED)); /* starts at its end */
    CHILD_EPERM(mprotect(r, 4 * PAGE, PROT_READ));
    CHILD_EPERM(munmap(r + PAGE, 2 * PAGE));
    char *o = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(o != MAP_FAILED);
    CHILD_MMAP_EPERM(mremap(o, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, r + 2 * PAGE));
    CHILD_CHECK(mremap(o, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, r + 3 * PAGE) == r + 3 * PAGE);
    CHILD_SYS_OK(munmap(r, 2 * PAGE));
    CHILD_SYS_OK(munmap(r + 3 * PAGE, PAGE));
}

static void test_range_edges(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_range_edges);
}

/* ------------------------------------------------------------------ */
/* Calls that ignore protection keys, and other ABIs                   */
/* ------------------------------------------------------------------ */

/* process_vm_writev/readv on itself and ptrace, from the process and
 * from a child it forks (the filters are inherited). */
static void attack_remote(shmc_cache *c, seg_map m)
{
    char src[8] = "attack!", dst[8] = {0};
    struct iovec l = {src, sizeof src}, r = {dst, sizeof dst};
    CHILD_EPERM(process_vm_writev(getpid(), &l, 1, &r, 1, 0));
    CHILD_EPERM(process_vm_readv(getpid(), &r, 1, &l, 1, 0));
    CHILD_CHECK(dst[0] == 0);
    CHILD_EPERM(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
    pid_t me = getpid(), g = fork();
    CHILD_CHECK(g >= 0);
    if (g == 0) {
        errno = 0;
        if (ptrace(PTRACE_ATTACH, me, NULL, NULL) == 0) { /* let it go before failing */
            waitpid(me, NULL, __WALL);
            ptrace(PTRACE_DETACH, me, NULL, NULL);
            _exit(1);
        }
        _exit(errno == EPERM ? 0 : 2);
    }
    int ws = 0;
    CHILD_CHECK(waitpid(g, &ws, 0) == g && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    /* userfaultfd would park a thread inside a call at will */
    CHILD_EPERM(syscall(SYS_userfaultfd, 0));
}

static void test_remote_access_denied(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_remote);
}

/* x32 numbers (the x32 bit set): denied by the filter itself, whether or
 * not the kernel has the x32 ABI. */
static void attack_x32(shmc_cache *c, seg_map m)
{
    CHILD_EPERM(syscall(X32_BIT | SYS_getpid));
    CHILD_EPERM(syscall(X32_BIT | SYS_munmap, m.base, m.size));
    CHILD_EPERM(syscall(X32_BIT | SYS_mmap, m.base, PAGE, PROT_READ,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
}

static void test_x32_numbers_denied(void **state)
{
    run_locked(((lock_fix *)*state)->path, attack_x32);
}

/* no_sigreturn: a handler that returns kills the process with SIGSYS, so a
 * signal frame with an edited PKRU is never loaded; without the option a
 * handler returns as usual; an option value other than 0/1 is refused. */
static void on_usr1(int sig) { (void)sig; }

static void test_no_sigreturn(void **state)
{
    lock_fix *f = *state;
    for (int closed = 0; closed <= 1; closed++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            shmc_cache *c = NULL;
            shmc_lockdown_report rep;
            shmc_lockdown_options bad = {.no_sigreturn = 2};
            shmc_lockdown_options o = {.no_sigreturn = closed};
            CHILD_OK(shmc_open(f->path, &c));
            CHILD_CHECK(shmc_lockdown_with(&bad, &rep) == SHMC_INVALID);
            CHILD_OK(shmc_lockdown_with(&o, &rep));
            CHILD_CHECK(rep.sigreturn_closed == closed);
            child_cache_works(c);
            signal(SIGUSR1, on_usr1);
            raise(SIGUSR1); /* the handler returns: rt_sigreturn */
            _exit(0);
        }
        int ws = 0;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        if (closed)
            assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS);
        else
            assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
}

/* ------------------------------------------------------------------ */
/* What the lockdown protects, and when                                */
/* ------------------------------------------------------------------ */

/* The ranges: the segment, the vault, protect_g's page. */
static void test_reports_ranges(void **state)
{
    lock_fix *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *c = NULL;
        shmc_lockdown_report rep;
        CHILD_OK(shmc_open(f->path, &c));
        CHILD_OK(shmc_lockdown_with(NULL, &rep));
        CHILD_CHECK(rep.ranges == 3);
        CHILD_CHECK(rep.landlock_abi == 0 && !rep.landlock && !rep.proc_mem_closed);
        child_cache_works(c);
        _exit(0);
    }
    tu_wait_ok(pid, 60);
}

/* A segment attached after the lockdown is protected by its own filters. */
static void test_attach_after_lockdown(void **state)
{
    lock_fix *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *c = NULL;
        shmc_lockdown_report rep;
        CHILD_OK(shmc_lockdown_with(NULL, &rep));
        CHILD_CHECK(rep.ranges == 2); /* no segment yet: the vault and the page */
        CHILD_OK(shmc_open(f->path, &c));
        seg_map m = find_mapping(f->path);
        CHILD_CHECK(m.base);
        attack_madvise(c, m);
        attack_munmap(c, m);
        attack_mprotect(c, m);
        attack_map_fixed(c, m);
        attack_mremap(c, m);
        child_cache_works(c);
        _exit(0);
    }
    tu_wait_ok(pid, 60);
}

/* ------------------------------------------------------------------ */
/* Writable and executable mappings                                    */
/* ------------------------------------------------------------------ */

/* Is a new executable mapping refused (the policy filter installed)? */
static bool child_exec_denied(void)
{
    void *x = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x == MAP_FAILED)
        return errno == EPERM;
    munmap(x, PAGE);
    return false;
}

/* Strict mode refuses and installs nothing while a W+X mapping exists,
 * and locks down once it is gone; lax mode reports it and locks down. */
static void test_wx_mappings(void **state)
{
    lock_fix *f = *state;
    for (int strict = 1; strict >= 0; strict--) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            shmc_cache *c = NULL;
            shmc_lockdown_options o = {.strict = strict};
            shmc_lockdown_report rep;
            CHILD_OK(shmc_open(f->path, &c));
            void *wx = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            CHILD_CHECK(wx != MAP_FAILED);
            o.strict = 2;
            CHILD_STATUS(shmc_lockdown_with(&o, &rep), SHMC_INVALID);
            o.strict = strict;
            if (strict) {
                CHILD_STATUS(shmc_lockdown_with(&o, &rep), SHMC_UNSAFE_PROCESS);
                CHILD_CHECK(rep.wx_mappings >= 1 && rep.ranges == 0);
                CHILD_CHECK(!child_exec_denied()); /* nothing installed */
                CHILD_SYS_OK(munmap(wx, PAGE));
                CHILD_OK(shmc_lockdown_with(&o, &rep));
                CHILD_CHECK(rep.wx_mappings == 0);
            } else {
                CHILD_OK(shmc_lockdown_with(&o, &rep));
                CHILD_CHECK(rep.wx_mappings >= 1);
            }
            CHILD_CHECK(rep.ranges == 3 && child_exec_denied());
            child_cache_works(c);
            _exit(0);
        }
        tu_wait_ok(pid, 60);
    }
}

/* ------------------------------------------------------------------ */
/* /proc/self/mem (Landlock)                                           */
/* ------------------------------------------------------------------ */

/* Can this thread open /proc/self/mem for writing? */
static bool mem_writable(void)
{
    int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* Can it still write a new file in /tmp and in the segment's directory? */
static bool files_writable(const char *dir)
{
    char p[TU_PATH_MAX];
    snprintf(p, sizeof p, "%s/shmc-lockdown-XXXXXX", dir);
    int fd = mkstemp(p);
    if (fd < 0)
        return false;
    bool ok = write(fd, "x", 1) == 1;
    close(fd);
    unlink(p);
    return ok;
}

/* close_proc_mem: /proc/self/mem (and a task's mem) cannot be opened for
 * writing, by the process or a child; reading it and writing files
 * elsewhere still work.  Without Landlock the report says it stays open. */
static void attack_proc_mem(shmc_cache *c, seg_map m)
{
    shmc_lockdown_options o = {.close_proc_mem = 1};
    shmc_lockdown_report rep;
    CHILD_CHECK(mem_writable()); /* the hole, before */
    CHILD_OK(shmc_lockdown_with(&o, &rep));
    if (rep.landlock_abi == 0) {
        CHILD_CHECK(!rep.landlock && !rep.proc_mem_closed && mem_writable());
        return; /* no Landlock in this kernel: said so */
    }
    CHILD_CHECK(rep.landlock && rep.proc_mem_closed);
    CHILD_CHECK(!mem_writable() && errno == EACCES);
    char task_mem[64];
    snprintf(task_mem, sizeof task_mem, "/proc/self/task/%ld/mem", (long)syscall(SYS_gettid));
    CHILD_CHECK(open(task_mem, O_WRONLY) < 0 && errno == EACCES);
    int rd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    CHILD_CHECK(rd >= 0);
    close(rd);
    CHILD_CHECK(files_writable("/tmp"));
    CHILD_CHECK(files_writable(tu_dir()));
    pid_t g = fork();
    CHILD_CHECK(g >= 0);
    if (g == 0)
        _exit(mem_writable() ? 1 : 0);
    int ws = 0;
    CHILD_CHECK(waitpid(g, &ws, 0) == g && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

static void test_proc_mem_closed(void **state)
{
    run_child(((lock_fix *)*state)->path, false, attack_proc_mem);
}

/* Without close_proc_mem the report says /proc/self/mem stays writable. */
static void attack_proc_mem_default(shmc_cache *c, seg_map m)
{
    shmc_lockdown_report rep;
    CHILD_OK(shmc_lockdown_with(NULL, &rep));
    CHILD_CHECK(!rep.landlock && !rep.proc_mem_closed && mem_writable());
}

static void test_proc_mem_open_by_default(void **state)
{
    run_child(((lock_fix *)*state)->path, false, attack_proc_mem_default);
}

/* A thread that waits for a byte on fds[0], then answers on fds[1]
 * whether it can open /proc/self/mem for writing. */
static void *mem_probe_thread(void *arg)
{
    int *fds = arg;
    char b;
    if (read(fds[0], &b, 1) != 1)
        return NULL;
    b = mem_writable() ? 'w' : '-';
    if (write(fds[1], &b, 1) != 1)
        return NULL;
    return NULL;
}

/* With another thread alive the ruleset cannot reach it (no TSYNC in
 * Landlock's ABI here): the report says so, and that thread can indeed
 * still open /proc/self/mem for writing. */
static void attack_proc_mem_threads(shmc_cache *c, seg_map m)
{
    int to[2], from[2], fds[2];
    pthread_t t;
    CHILD_CHECK(pipe(to) == 0 && pipe(from) == 0);
    fds[0] = to[0];
    fds[1] = from[1];
    CHILD_CHECK(pthread_create(&t, NULL, mem_probe_thread, fds) == 0);
    shmc_lockdown_options o = {.close_proc_mem = 1};
    shmc_lockdown_report rep;
    CHILD_OK(shmc_lockdown_with(&o, &rep));
    CHILD_CHECK(!rep.proc_mem_closed);
    char b = 'g';
    CHILD_CHECK(write(to[1], &b, 1) == 1 && read(from[0], &b, 1) == 1);
    CHILD_CHECK(pthread_join(t, NULL) == 0);
    CHILD_CHECK(b == 'w'); /* the other thread: open, as reported */
    if (rep.landlock)
        CHILD_CHECK(!mem_writable()); /* this thread: closed */
}

static void test_proc_mem_threads_reported(void **state)
{
    run_child(((lock_fix *)*state)->path, false, attack_proc_mem_threads);
}

int main(void)
{
    setenv("SHMC_PROTECTION", "none", 1); /* the same run on every CPU */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_fixed_over_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_munmap_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mremap_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mprotect_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_madvise_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unrelated_mappings_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_access_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x32_numbers_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_sigreturn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_after_lockdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wx_mappings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proc_mem_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proc_mem_open_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proc_mem_threads_reported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
