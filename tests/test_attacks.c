/*
 * test_attacks.c - the attacks reproduced in issue 15 (and the liveness
 * ones of issue 16), each shown blocked, on any CPU.
 *
 * Every case here needs no protection keys: the library's argument checks,
 * handle checks and liveness rules are the same in both modes, so the
 * program runs in the mode SHMC_PROTECTION (or argv[1]) asks for, and
 * CTest runs it twice: as test_attacks (auto: mpk where the CPU has keys)
 * and as test_attacks_none.  What only keys can show (a stray write into
 * the handle faults) is in tests/pkey/pkey_suite.c.
 *
 *  2. Confused deputy: a value, an output buffer, or any out-pointer
 *     (cas_out, *len, flags, info, stats...) that points into the segment
 *     is refused with SHMC_INVALID, and the segment's bytes do not change.
 *  3. A claimed buffer longer than the real one: a buffer that ends
 *     exactly at the segment's first byte is accepted, one byte more is
 *     refused; the same above the segment's end.
 *  4. Lengths that wrap ((size_t)-1 .. (size_t)-51) and huge ones never
 *     return SHMC_OK.
 *  -  Buffers in the vault (the handle's mapping), in the protection page,
 *     in another attached segment, and in the caller's stack below the
 *     entry point are refused like the segment; so are forged and stale
 *     handles and a fork child's inherited one; one bad get_multi entry
 *     fails alone.
 *  5. The caller's malloc, memcpy, memmove, memset, memcmp and
 *     clock_gettime never run with the key open (checked with RDPKRU
 *     where the process runs in mpk mode; skipped under AddressSanitizer,
 *     which owns them).
 *  6. The lane index in TLS takes garbage without harm; the protection
 *     page is read-only.
 *  7. No file descriptor of the process reaches the segment file.
 * 16. A fork child does not keep its dead parent alive: the parent dies
 *     holding every lock of the segment (SIGKILLed inside shmc_check) while
 *     its child lives, and another client gets through within 100 ms, 50
 *     rounds out of 50; OFD locks taken on the segment file at the old
 *     liveness offsets neither stop attaches nor hide a dead client.
 *
 * After each attack the values written before it are read back intact from
 * this process and from another one (fork + shmc_open), and shmc_check()
 * finds nothing wrong.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "cache.h"
#include "layout.h"
#include "lock.h"
#include "protect.h"
#include "vault.h"

#define KS(s) (s), strlen(s)

/* The library's one piece of per-thread state (gate.h): a lane index. */
extern __thread uint32_t gate_thread_lane;

/* ------------------------------------------------------------------ */
/* The caller's malloc (item 5): forwards to glibc, and notes whether    */
/* the calling thread's PKRU had the library's key open.                */
/* ------------------------------------------------------------------ */

static int watch_pkey = -1;             /* the process key, when in mpk mode */
static volatile int malloc_watching;
static unsigned long malloc_calls, malloc_calls_key_open;

#ifdef __SANITIZE_ADDRESS__
#define MALLOC_INTERPOSED 0 /* AddressSanitizer owns malloc */
#else
#define MALLOC_INTERPOSED 1
extern void *__libc_malloc(size_t n);

void *malloc(size_t n)
{
    if (malloc_watching) {
        __atomic_fetch_add(&malloc_calls, 1, __ATOMIC_RELAXED);
        if (watch_pkey >= 0 && !(pkru_read() & PKRU_AD(watch_pkey)))
            __atomic_fetch_add(&malloc_calls_key_open, 1, __ATOMIC_RELAXED);
    }
    return __libc_malloc(n);
}
#endif

/* ------------------------------------------------------------------ */
/* The caller's memcpy, memmove, memset, memcmp and clock_gettime       */
/* (item 5 again): the library calls none of them with the key open.   */
/* Each works byte by byte (GCC must not turn the loops back into       */
/* calls) and counts the calls that found the key open.                 */
/* ------------------------------------------------------------------ */

enum { LIBC_MEMCPY, LIBC_MEMMOVE, LIBC_MEMSET, LIBC_MEMCMP, LIBC_CLOCK, LIBC_SNPRINTF,
       LIBC_STRRCHR, LIBC_VSNPRINTF, LIBC_N };
static const char *const libc_names[LIBC_N] = {"memcpy", "memmove", "memset",
                                               "memcmp", "clock_gettime", "snprintf",
                                               "strrchr", "vsnprintf"};
static volatile int libc_watching;
static unsigned long libc_calls[LIBC_N], libc_calls_key_open[LIBC_N];

#if MALLOC_INTERPOSED /* AddressSanitizer owns these too */
static void libc_note(int which)
{
    if (!libc_watching)
        return;
    __atomic_fetch_add(&libc_calls[which], 1, __ATOMIC_RELAXED);
    if (watch_pkey >= 0 && !(pkru_read() & PKRU_AD(watch_pkey)))
        __atomic_fetch_add(&libc_calls_key_open[which], 1, __ATOMIC_RELAXED);
}

#define BYTEWISE __attribute__((optimize("no-tree-loop-distribute-patterns")))

BYTEWISE void *memcpy(void *d, const void *s, size_t n)
{
    libc_note(LIBC_MEMCPY);
    unsigned char *p = d;
    const unsigned char *q = s;
    for (size_t i = 0; i < n; i++)
        p[i] = q[i];
    return d;
}

BYTEWISE void *memmove(void *d, const void *s, size_t n)
{
    libc_note(LIBC_MEMMOVE);
    unsigned char *p = d;
    const unsigned char *q = s;
    if (p < q)
        for (size_t i = 0; i < n; i++)
            p[i] = q[i];
    else
        for (size_t i = n; i-- > 0;)
            p[i] = q[i];
    return d;
}

BYTEWISE void *memset(void *d, int c, size_t n)
{
    libc_note(LIBC_MEMSET);
    unsigned char *p = d;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)c;
    return d;
}

BYTEWISE int memcmp(const void *a, const void *b, size_t n)
{
    libc_note(LIBC_MEMCMP);
    const unsigned char *p = a, *q = b;
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i])
            return p[i] < q[i] ? -1 : 1;
    return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    libc_note(LIBC_CLOCK);
    long r = syscall(SYS_clock_gettime, id, ts);
    return r < 0 ? -1 : 0;
}

/* libc's vsnprintf, found past this program's own. */
static int real_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    static int (*real)(char *, size_t, const char *, va_list);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "vsnprintf");
    return real(buf, n, fmt, ap);
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    libc_note(LIBC_VSNPRINTF);
    return real_vsnprintf(buf, n, fmt, ap);
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
    libc_note(LIBC_SNPRINTF);
    va_list ap;
    va_start(ap, fmt);
    int r = real_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

BYTEWISE char *strrchr(const char *s, int c)
{
    libc_note(LIBC_STRRCHR);
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}
#endif

/* ------------------------------------------------------------------ */
/* The values every attack must leave intact                           */
/* ------------------------------------------------------------------ */

#define NTRUTH 40

static size_t truth_len(unsigned i)
{
    static const size_t lens[] = {0, 1, 7, 48, 100, 1000, 4000, 20000};
    return i == NTRUTH - 1 ? 700000 : lens[i % 8] + i; /* the last one is chained */
}

static void truth_key(unsigned i, char *key, size_t n)
{
    snprintf(key, n, "truth:%u", i);
}

static void truth_write(shmc_cache *c)
{
    char key[32];
    unsigned char *v = malloc(truth_len(NTRUTH - 1));
    assert_non_null(v);
    for (unsigned i = 0; i < NTRUTH; i++) {
        truth_key(i, key, sizeof key);
        tu_fill(v, truth_len(i), 1000 + i);
        assert_ok(shmc_set(c, KS(key), v, truth_len(i), i, 0));
    }
    free(v);
}

/* How many truth values c does not read back exactly (message on out). */
static unsigned truth_bad(shmc_cache *c, FILE *out)
{
    size_t big = truth_len(NTRUTH - 1);
    unsigned char *want = malloc(big), *got = malloc(big);
    unsigned bad = 0;
    for (unsigned i = 0; i < NTRUTH && want && got; i++) {
        char key[32];
        truth_key(i, key, sizeof key);
        size_t len = big;
        uint32_t flags = 0;
        tu_fill(want, truth_len(i), 1000 + i);
        shmc_status st = shmc_get(c, KS(key), got, &len, &flags, NULL);
        if (st != SHMC_OK || len != truth_len(i) || flags != i || memcmp(got, want, len) != 0) {
            fprintf(out, "%s: %s, length %zu (want %zu), flags %u\n", key, tu_status_name(st),
                    len, truth_len(i), flags);
            bad++;
        }
    }
    free(want);
    free(got);
    return bad;
}

/* After an attack: the truth intact here and in another process, which
 * also finds the segment consistent; and consistent from here too. */
static void aftermath(tu_fix *f)
{
    assert_u64_eq(truth_bad(f->c, stderr), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        shmc_cache *cc;
        CHILD_OK(shmc_open(f->path, &cc));
        CHILD_CHECK(truth_bad(cc, stderr) == 0);
        CHILD_CHECK(shmc_check(cc, stderr) == 0);
        shmc_close(cc);
        _exit(0);
    }
    tu_wait_ok(pid, 60);
    assert_u64_eq(shmc_check(f->c, stderr), 0);
}

static int setup(void **state)
{
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 16u << 20;
    if (tu_setup(state, "attacks", &cfg) != 0)
        return -1;
    truth_write(CACHE(state));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Where the library's memory is, as client code can find it           */
/* ------------------------------------------------------------------ */

/* A copy of handle c, read through /proc/self/mem: the kernel's access
 * to another mm's pages ignores protection keys, so this works in mpk
 * mode where a plain load of *c faults. */
static struct shmc_cache handle_peek(shmc_cache *c)
{
    struct shmc_cache h;
    memset(&h, 0, sizeof h);
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &h, sizeof h, (off_t)(uintptr_t)c), (ssize_t)sizeof h);
    close(fd);
    return h;
}

/* The mapping [*lo, *hi) of /proc/self/maps that contains addr, and its
 * path (or "" for an anonymous one) in name; false if none. */
static bool maps_find(uintptr_t addr, uintptr_t *lo, uintptr_t *hi, char *name, size_t n)
{
    FILE *m = fopen("/proc/self/maps", "re");
    char line[1024];
    bool found = false;
    while (m && !found && fgets(line, sizeof line, m)) {
        unsigned long a, b;
        int off = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &a, &b, &off) < 2 || addr < a || addr >= b)
            continue;
        *lo = a;
        *hi = b;
        if (name) {
            snprintf(name, n, "%s", off ? line + off : "");
            name[strcspn(name, "\n")] = 0;
        }
        found = true;
    }
    if (m)
        fclose(m);
    return found;
}

/* Where c's segment is mapped in this process: the handle's own facts,
 * checked against /proc/self/maps (what a stray pointer would hit). */
typedef struct seg_view {
    char *base;
    size_t size;
} seg_view;

static seg_view seg_of(tu_fix *f, shmc_cache *c)
{
    struct shmc_cache h = handle_peek(c);
    seg_view s = {h.base, h.size};
    uintptr_t lo, hi;
    char name[512];
    /* the creator mapped the file under its temporary name (segment.c) */
    assert_true(maps_find((uintptr_t)s.base, &lo, &hi, name, sizeof name));
    assert_u64_eq(lo, (uintptr_t)s.base);
    assert_memory_equal(name, f->path, strlen(f->path));
    assert_true(maps_find((uintptr_t)s.base + s.size - 1, &lo, &hi, name, sizeof name));
    assert_memory_equal(name, f->path, strlen(f->path));
    return s;
}

/* n bytes of the segment file at off, read through a descriptor of our
 * own (the kernel's copy is not subject to protection keys). */
static void file_read(const char *path, size_t off, void *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, n, (off_t)off), (ssize_t)n);
    close(fd);
}

/* Offset in the segment file of the only copy of the n bytes at p. */
static size_t file_find(const char *path, const void *p, size_t n)
{
    size_t len = 0;
    unsigned char *all = tu_read_file(path, &len);
    assert_non_null(all);
    unsigned char *hit = memmem(all, len, p, n);
    assert_non_null(hit);
    size_t off = (size_t)(hit - all);
    assert_null(memmem(hit + 1, len - off - 1, p, n)); /* one copy: the item's */
    free(all);
    return off;
}

/* A victim item: 64 bytes drawn from seed into victim, stored under key;
 * returns where the file holds them (the only copy), for victim_intact. */
static size_t victim_plant(tu_fix *f, const char *key, unsigned char victim[64], uint64_t seed)
{
    tu_fill(victim, 64, seed);
    assert_ok(shmc_set(f->c, key, strlen(key), victim, 64, 0, 0));
    return file_find(f->path, victim, 64);
}

/* The victim's bytes at voff of the file are still the ones planted. */
static void victim_intact(tu_fix *f, size_t voff, const unsigned char victim[64])
{
    unsigned char now[64];
    file_read(f->path, voff, now, sizeof now);
    assert_bytes_equal(now, victim, 64);
}

/* The start of the segment file, where its header and class table are:
 * a refused call must leave every byte of it alone. */
#define SNAP_BYTES (64u << 10)

/* ------------------------------------------------------------------ */
/* 2. Confused deputy: pointers into the segment                        */
/* ------------------------------------------------------------------ */

#define REFUSED(expr) assert_status((expr), SHMC_INVALID)

static const shmc_store_mode all_modes[] = {SHMC_SET,     SHMC_ADD, SHMC_REPLACE,  SHMC_APPEND,
                                            SHMC_PREPEND, SHMC_CAS, SHMC_CAS_STALE};
#define NMODES (sizeof all_modes / sizeof all_modes[0])

/*
 * Every way a call takes a caller pointer, aimed at p (n bytes there):
 * each must be refused.  key "src" holds a value the caller chose.
 */
static __attribute__((noinline)) void every_pointer_refused(shmc_cache *c, char *p, size_t n)
{
    char buf[256];
    size_t len;
    uint64_t cas = 0;
    for (size_t m = 0; m < NMODES; m++) {
        /* value from p: cache bytes copied into a value the caller reads back */
        REFUSED(shmc_store(c, all_modes[m], KS("copy"), p, n, 0, 0, 0, NULL));
        /* cas_out at p: 8 chosen bytes written there */
        REFUSED(shmc_store(c, all_modes[m], KS("src"), "chosen", 6, 0, 0, 1, (uint64_t *)p));
    }
    REFUSED(shmc_store_ex(c, SHMC_SET, KS("copy"), p, n, 0, 0, 0, 0, NULL));
    REFUSED(shmc_set(c, KS("copy"), p, n, 0, 0));
    /* key at p */
    REFUSED(shmc_set(c, p, n < SHMC_KEY_MAX ? n : SHMC_KEY_MAX, "v", 1, 0, 0));
    len = sizeof buf;
    REFUSED(shmc_get(c, p, n < SHMC_KEY_MAX ? n : SHMC_KEY_MAX, buf, &len, NULL, NULL));
    REFUSED(shmc_delete(c, p, n < SHMC_KEY_MAX ? n : SHMC_KEY_MAX, 0));
    /* output buffer at p: the caller's value written over cache bytes */
    len = n;
    REFUSED(shmc_get(c, KS("src"), p, &len, NULL, NULL));
    len = n;
    REFUSED(shmc_gat(c, KS("src"), 0, p, &len, NULL, NULL));
    len = n;
    REFUSED(shmc_get_info(c, KS("src"), NULL, p, &len, NULL));
    /* out-pointers at p */
    len = sizeof buf;
    REFUSED(shmc_get(c, KS("src"), buf, (size_t *)p, NULL, NULL));
    REFUSED(shmc_get(c, KS("src"), buf, &len, (uint32_t *)p, NULL));
    REFUSED(shmc_get(c, KS("src"), buf, &len, NULL, (uint64_t *)p));
    REFUSED(shmc_gat(c, KS("src"), 0, buf, &len, NULL, (uint64_t *)p));
    REFUSED(shmc_get_info(c, KS("src"), NULL, buf, (size_t *)p, NULL));
    REFUSED(shmc_get_info(c, KS("src"), NULL, buf, &len, (shmc_item_info *)p));
    REFUSED(shmc_incr(c, KS("num"), 1, (uint64_t *)p));
    REFUSED(shmc_decr(c, KS("num"), 1, (uint64_t *)p));
    REFUSED(shmc_arith(c, KS("num"), 1, 1, 0, NULL, (uint64_t *)p));
    REFUSED(shmc_arith_ex(c, KS("num"), 1, 1, 0, 0, (uint64_t *)p, &cas));
    REFUSED(shmc_invalidate(c, KS("src"), 0, (const int64_t *)p, 0));
    REFUSED(shmc_stats_get(c, (shmc_stats *)p));
    REFUSED(shmc_class_stats_get(c, 1, (shmc_class_stats *)p));
    REFUSED(shmc_config_get(c, (shmc_config *)p));
    REFUSED(shmc_recover(c, (unsigned *)p));
    REFUSED(shmc_get_multi(c, (shmc_value *)p, 1));
}

/* Issue 15, item 2: shmc_set with a value pointer into the segment copied
 * cache bytes; shmc_get with its buffer in the segment rewrote cache bytes;
 * cas_out pointing into it wrote 8 chosen bytes. */
static void test_confused_deputy_segment(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    seg_view s = seg_of(f, c);
    unsigned char victim[64], chosen[64];
    size_t voff = victim_plant(f, "victim", victim, 4242);
    memset(chosen, 'X', sizeof chosen);
    assert_ok(shmc_set(c, KS("src"), chosen, sizeof chosen, 0, 0));
    assert_ok(shmc_set(c, KS("num"), "5", 1, 0, 0));
    char *targets[] = {s.base + voff, s.base, s.base + s.size - 64};

    static unsigned char before[SNAP_BYTES], after[SNAP_BYTES];
    file_read(f->path, 0, before, SNAP_BYTES);
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++)
        every_pointer_refused(c, targets[t], 64);
    file_read(f->path, 0, after, SNAP_BYTES);
    assert_bytes_equal(after, before, SNAP_BYTES);
    victim_intact(f, voff, victim);

    assert_missing(c, "copy");
    assert_value(c, "src", chosen, sizeof chosen);
    assert_value(c, "victim", victim, sizeof victim);
    assert_value_str(c, "num", "5");
    aftermath(f);
}

/* The same with the output pointers of shmc_get_alloc and the options of
 * shmc_get_info, which those calls used before their gate. */
static void test_confused_deputy_alloc_and_options(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    seg_view s = seg_of(f, c);
    unsigned char victim[64];
    size_t voff = victim_plant(f, "victim", victim, 4343);
    char *p = s.base + voff;

    static unsigned char before[SNAP_BYTES], after[SNAP_BYTES];
    file_read(f->path, 0, before, SNAP_BYTES);
    void *v = NULL;
    size_t len = 0;
    REFUSED(shmc_get_alloc(c, KS("victim"), (void **)p, &len, NULL, NULL));
    REFUSED(shmc_get_alloc(c, KS("victim"), &v, (size_t *)p, NULL, NULL));
    REFUSED(shmc_get_alloc(c, KS("victim"), &v, &len, (uint32_t *)p, NULL));
    REFUSED(shmc_get_alloc(c, KS("victim"), &v, &len, NULL, (uint64_t *)p));
    assert_null(v);
    char buf[128];
    len = sizeof buf;
    REFUSED(shmc_get_info(c, KS("victim"), (const shmc_get_options *)p, buf, &len, NULL));
    REFUSED(shmc_get_info(c, KS("victim"), (const shmc_get_options *)s.base, buf, &len, NULL));
    file_read(f->path, 0, after, SNAP_BYTES);
    assert_bytes_equal(after, before, SNAP_BYTES);
    victim_intact(f, voff, victim);

    /* and the calls work with caller memory */
    assert_ok(shmc_get_alloc(c, KS("victim"), &v, &len, NULL, NULL));
    assert_u64_eq(len, sizeof victim);
    assert_bytes_equal(v, victim, sizeof victim);
    free(v);
    shmc_get_options o = {.flags = SHMC_GET_NO_BUMP};
    len = sizeof buf;
    assert_ok(shmc_get_info(c, KS("victim"), &o, buf, &len, NULL));
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* 3. A claimed buffer longer than the real one                         */
/* ------------------------------------------------------------------ */

/* A page of our own at exactly the address at (MAP_FIXED_NOREPLACE), or
 * NULL if something is mapped there already. */
static unsigned char *page_at(char *at)
{
    void *p = mmap(at, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (p != at) { /* an old kernel that took the address as a hint */
        munmap(p, 4096);
        return NULL;
    }
    memset(p, 0xEE, 4096);
    return p;
}

static bool all_bytes(const unsigned char *p, size_t n, unsigned char b)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != b)
            return false;
    return true;
}

/*
 * A new handle on f's segment whose mapping has a page of ours right below
 * its first byte and right above its last (filled with 0xEE): the segment
 * is mapped into a hole made to its size between two pages, or else pages
 * are placed against wherever it went (MAP_FIXED_NOREPLACE).  NULL if
 * neither worked.
 */
static shmc_cache *open_between_pages(tu_fix *f, unsigned char **below, unsigned char **above)
{
    size_t size = seg_of(f, f->c).size;
    for (int tries = 0; tries < 8; tries++) {
        char *r = mmap(NULL, size + 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        assert_true(r != MAP_FAILED);
        assert_int_equal(munmap(r + 4096, size), 0);
        shmc_cache *h;
        assert_ok(shmc_open(f->path, &h));
        seg_view s = seg_of(f, h);
        if (s.base == r + 4096) {
            *below = (unsigned char *)r;
            *above = (unsigned char *)r + 4096 + size;
            print_message("segment mapped into a hole of its size between two pages\n");
        } else {
            munmap(r, 4096);
            munmap(r + 4096 + size, 4096);
            *below = page_at(s.base - 4096);
            *above = page_at(s.base + s.size);
        }
        if (*below && *above) {
            memset(*below, 0xEE, 4096);
            memset(*above, 0xEE, 4096);
            return h;
        }
        if (*below)
            munmap(*below, 4096);
        if (*above)
            munmap(*above, 4096);
        shmc_close(h);
    }
    return NULL;
}

/* Issue 15, item 3: a malloc'd buffer just below the segment with a get
 * whose *len claimed more than it held overwrote the segment header. */
static void test_claimed_length_crosses_segment_edge(void **state)
{
    tu_fix *f = *state;
    unsigned char *below, *above;
    shmc_cache *c = open_between_pages(f, &below, &above);
    if (!c)
        skip(); /* nowhere to put a page against the segment: cannot tell */
    seg_view s = seg_of(f, c);
    assert_ptr_equal(below + 4096, s.base);
    assert_ptr_equal(above, s.base + s.size);

    unsigned char v100[100], v200[200];
    tu_fill(v100, sizeof v100, 100);
    tu_fill(v200, sizeof v200, 200);
    assert_ok(shmc_set(c, KS("v100"), v100, sizeof v100, 0, 0));
    assert_ok(shmc_set(c, KS("v200"), v200, sizeof v200, 0, 0));
    static unsigned char before[SNAP_BYTES], after[SNAP_BYTES];
    file_read(f->path, 0, before, SNAP_BYTES);

    /* 100 real bytes that end at the segment's first byte */
    unsigned char *buf = below + 4096 - 100;
    size_t len = 4096; /* the claim: 4096 */
    REFUSED(shmc_get(c, KS("v200"), buf, &len, NULL, NULL));
    len = 101;
    REFUSED(shmc_get(c, KS("v100"), buf, &len, NULL, NULL));
    len = 4096;
    REFUSED(shmc_gat(c, KS("v200"), 0, buf, &len, NULL, NULL));
    len = 4096;
    REFUSED(shmc_get_info(c, KS("v200"), NULL, buf, &len, NULL));
    shmc_value mv = {.key = "v200", .key_len = 4, .buf = buf, .cap = 4096};
    assert_ok(shmc_get_multi(c, &mv, 1));
    assert_status(mv.status, SHMC_INVALID);
    /* the other way: a value read past the buffer copies the header out */
    REFUSED(shmc_set(c, KS("leak"), buf, 4096, 0, 0));
    REFUSED(shmc_set(c, KS("leak"), buf, 101, 0, 0));
    /* out-pointers that straddle the edge */
    REFUSED(shmc_stats_get(c, (shmc_stats *)(below + 4096 - 8)));
    REFUSED(shmc_store(c, SHMC_SET, KS("leak"), "x", 1, 0, 0, 0, (uint64_t *)(below + 4096 - 4)));
    file_read(f->path, 0, after, SNAP_BYTES);
    assert_bytes_equal(after, before, SNAP_BYTES);
    assert_true(all_bytes(below, 4096, 0xEE)); /* nothing was copied part-way */
    assert_missing(c, "leak");

    /* exactly the real length: accepted, and nothing written past it */
    len = 100;
    assert_ok(shmc_get(c, KS("v100"), buf, &len, NULL, NULL));
    assert_bytes_equal(buf, v100, 100);
    len = 100;
    assert_status(shmc_get(c, KS("v200"), buf, &len, NULL, NULL), SHMC_BUFFER_TOO_SMALL);
    assert_u64_eq(len, 200);
    assert_ok(shmc_set(c, KS("edge"), buf, 100, 0, 0));
    assert_value(c, "edge", v100, 100);

    /* above the end: a buffer that starts at the first byte past the
     * segment is caller memory; one byte lower is not */
    len = 4096;
    assert_ok(shmc_get(c, KS("v200"), above, &len, NULL, NULL));
    assert_bytes_equal(above, v200, 200);
    len = 4096;
    REFUSED(shmc_get(c, KS("v200"), above - 1, &len, NULL, NULL));
    REFUSED(shmc_set(c, KS("leak"), above - 1, 2, 0, 0));
    assert_missing(c, "leak");

    shmc_close(c);
    munmap(below, 4096);
    munmap(above, 4096);
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* 4. Lengths that wrap, and huge ones                                  */
/* ------------------------------------------------------------------ */

/* Issue 15, item 4: shmc_set with value length (size_t)-1 .. (size_t)-51
 * returned SHMC_OK (its size sum wrapped) and corrupted the cache. */
static void test_negative_and_huge_lengths(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    char val[64] = "a value the length does not describe";
    char key[32];
    truth_key(3, key, sizeof key);
    for (size_t k = 1; k <= 51; k++) {
        size_t n = (size_t)0 - k;
        for (size_t m = 0; m < NMODES; m++) {
            REFUSED(shmc_store(c, all_modes[m], KS(key), val, n, 0, 0, 1, NULL));
            REFUSED(shmc_store(c, all_modes[m], KS("fresh"), val, n, 0, 0, 1, NULL));
            REFUSED(shmc_store(c, all_modes[m], KS(key), NULL, n, 0, 0, 1, NULL));
        }
        REFUSED(shmc_set(c, KS(key), val, n, 0, 0));
        REFUSED(shmc_store_ex(c, SHMC_SET, KS(key), val, n, 0, 0, 0, 5, NULL));
        /* and as a buffer's capacity */
        size_t len = n;
        REFUSED(shmc_get(c, KS(key), val, &len, NULL, NULL));
        len = n;
        REFUSED(shmc_gat(c, KS(key), 0, val, &len, NULL, NULL));
        len = n;
        REFUSED(shmc_get_info(c, KS(key), NULL, val, &len, NULL));
        shmc_value mv = {.key = key, .key_len = strlen(key), .buf = val, .cap = n};
        assert_ok(shmc_get_multi(c, &mv, 1));
        assert_status(mv.status, SHMC_INVALID);
        REFUSED(shmc_get_multi(c, &mv, n));
        /* and as a key's length */
        assert_status(shmc_set(c, key, n, val, 1, 0, 0), SHMC_BAD_KEY);
        len = sizeof val;
        assert_status(shmc_get(c, key, n, val, &len, NULL, NULL), SHMC_BAD_KEY);
    }
    /* huge but not wrapping: too large (or invalid), never stored */
    static const size_t huge[] = {
        SEG_ITEM_SIZE_MAX + (size_t)1, (size_t)1 << 32, (size_t)1 << 40,
        SIZE_MAX / 2, (size_t)1 << 63, SIZE_MAX - ((size_t)1 << 40),
    };
    for (size_t h = 0; h < sizeof huge / sizeof huge[0]; h++) {
        for (size_t m = 0; m < NMODES; m++) {
            assert_ok(shmc_set(c, KS("huge-victim"), "old", 3, 0, 0));
            shmc_status st =
                shmc_store(c, all_modes[m], KS("huge-victim"), val, huge[h], 0, 0, 1, NULL);
            assert_status_either(st, SHMC_TOO_LARGE, SHMC_INVALID);
            if (all_modes[m] == SHMC_SET && st == SHMC_TOO_LARGE)
                assert_missing(c, "huge-victim"); /* memcached drops the old item */
            else
                assert_value_str(c, "huge-victim", "old");
        }
    }
    /* just over the segment's item size, with a buffer that really is
     * that long: too large (memcached drops the old item on such a SET,
     * so a key of its own) */
    size_t over = f->cfg.item_size_max + 1;
    char *big = calloc(1, over);
    assert_non_null(big);
    assert_ok(shmc_set(c, KS("big-victim"), "old", 3, 0, 0));
    assert_status(shmc_set(c, KS("big-victim"), big, over, 0, 0), SHMC_TOO_LARGE);
    for (size_t m = 1; m < NMODES; m++)
        assert_status_either(shmc_store(c, all_modes[m], KS(key), big, over, 0, 0, 1, NULL),
                             SHMC_TOO_LARGE, SHMC_EXISTS);
    free(big);
    assert_missing(c, "fresh");
    aftermath(f);
}

/* The out-pointers of calls that have no handle yet, and check's FILE:
 * shmc_open's *out in the segment or the vault is refused before anything
 * is attached (no slot is left taken), and shmc_check with its FILE inside
 * the segment reports a failure without writing there. */
static void test_open_and_check_out_pointers(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    seg_view v = seg_of(f, c);
    shmc_stats before, after;
    assert_ok(shmc_stats_get(c, &before));
    char *targets[] = {v.base + 4096, (char *)c, (char *)c + 8};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        assert_status(shmc_open(f->path, (shmc_cache **)(void *)targets[i]), SHMC_INVALID);
        assert_status(shmc_open_with(f->path, NULL, (shmc_cache **)(void *)targets[i]),
                      SHMC_INVALID);
    }
    assert_ok(shmc_stats_get(c, &after));
    assert_u64_eq(after.curr_clients, before.curr_clients);
    unsigned char page[4096], page_after[4096];
    file_read(f->path, 4096, page, sizeof page);
    assert_int_equal(shmc_check(c, (FILE *)(void *)(v.base + 4096)), 1);
    file_read(f->path, 4096, page_after, sizeof page_after);
    assert_memory_equal(page, page_after, sizeof page);
    assert_int_equal(shmc_check(c, NULL), 0);
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* The vault, the protection page, another segment                      */
/* ------------------------------------------------------------------ */

/* Buffers over the vault, found as client code would: the mapping that
 * holds the handle pointer.  Writing there would rewrite a handle's
 * segment base, slot or lock token; reading would leak them. */
static void test_buffers_in_the_vault(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    uintptr_t lo, hi;
    assert_true(maps_find((uintptr_t)c, &lo, &hi, NULL, 0));
    assert_true((uintptr_t)protect_g.vault >= lo && (uintptr_t)protect_g.vault < hi);
    if (shmc_protection_of(c) == SHMC_PROTECT_MPK) /* its own key: a mapping of its own */
        assert_u64_eq(hi - lo, sizeof(vault));
    struct shmc_cache before = handle_peek(c);
    /* the handle itself; the vault's first page (c is at least a page in) */
    char *first_page = (char *)(((uintptr_t)c - 4096) & ~(uintptr_t)4095);
    char *targets[] = {(char *)c, (char *)c + 64, first_page, (char *)c - 16};
    assert_ok(shmc_set(c, KS("src"), "chosen", 6, 0, 0));
    assert_ok(shmc_set(c, KS("num"), "5", 1, 0, 0));
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++)
        every_pointer_refused(c, targets[t], 64);
    struct shmc_cache after = handle_peek(c);
    assert_bytes_equal(&after, &before, sizeof before);
    assert_missing(c, "copy");
    aftermath(f);
}

/* The page of the process's protection facts (key, vault address). */
static void test_buffers_in_the_protection_page(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    protect_state before = protect_g;
    assert_ok(shmc_set(c, KS("src"), "chosen", 6, 0, 0));
    assert_ok(shmc_set(c, KS("num"), "5", 1, 0, 0));
    every_pointer_refused(c, (char *)&protect_global, 64);
    every_pointer_refused(c, (char *)&protect_global + 4096 - 32, 64); /* straddles its end */
    assert_bytes_equal(&protect_g, &before, sizeof before);
    aftermath(f);
}

/* Issue 15, item 6 (the library's other per-process state): the page of
 * protection facts is read-only, so a stray write faults in any mode. */
static void test_protection_page_read_only(void **state)
{
    tu_fix *f = *state;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* cmocka's handler would report, not die */
        ((volatile protect_state *)&protect_g)->pkey = -1;
        _exit(0);
    }
    int ws = 0;
    assert_int_equal(tu_wait_timeout(pid, 30, &ws), 0);
    assert_true(WIFSIGNALED(ws));
    assert_int_equal(WTERMSIG(ws), SIGSEGV);
    aftermath(f);
}

/* A buffer in another segment this process has attached. */
static void test_buffers_in_another_segment(void **state)
{
    tu_fix *f = *state;
    tu_fix *g = tu_fix_new("attacks-other", NULL);
    assert_non_null(g);
    seg_view s2 = seg_of(g, g->c);
    unsigned char victim[64];
    tu_fill(victim, sizeof victim, 77);
    assert_ok(shmc_set(g->c, KS("victim2"), victim, sizeof victim, 0, 0));
    size_t voff = file_find(g->path, victim, sizeof victim);
    assert_ok(shmc_set(f->c, KS("src"), "chosen", 6, 0, 0));
    assert_ok(shmc_set(f->c, KS("num"), "5", 1, 0, 0));
    every_pointer_refused(f->c, s2.base + voff, 64);
    every_pointer_refused(f->c, s2.base, 64);
    assert_value(g->c, "victim2", victim, sizeof victim);
    assert_int_equal(tu_fix_free(g), 0);
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* The caller's stack below the entry point                             */
/* ------------------------------------------------------------------ */

/* Below the caller's frame lie the entry point's own frames (its locals
 * hold segment pointers and lengths while the gate is open): a buffer
 * there is refused; a buffer in the caller's own frame is not. */
static __attribute__((noinline)) void test_stack_below_entry_point(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    char *frame = __builtin_frame_address(0);
    char mine[128];
    size_t len = sizeof mine;
    assert_ok(shmc_set(c, KS("src"), "chosen", 6, 0, 0));
    assert_ok(shmc_set(c, KS("num"), "5", 1, 0, 0));
    assert_ok(shmc_get(c, KS("src"), mine, &len, NULL, NULL)); /* the control */
    /* every_pointer_refused() and the entry points' frames are well
     * within the first 4 KiB below ours */
    char *deep[] = {frame - (4u << 10), frame - (64u << 10), frame - (200u << 10)};
    for (size_t d = 0; d < sizeof deep / sizeof deep[0]; d++)
        every_pointer_refused(c, deep[d], 64);
    /* a range from the caller's frame down into the library's */
    REFUSED(shmc_set(c, KS("copy"), frame - (8u << 10), 16u << 10, 0, 0));
    len = 16u << 10;
    REFUSED(shmc_get(c, KS("src"), frame - (8u << 10), &len, NULL, NULL));
    assert_missing(c, "copy");
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* Forged handles                                                       */
/* ------------------------------------------------------------------ */

/* Every call with handle h: SHMC_INVALID (or its no-op), no crash. */
static void every_call_refused(shmc_cache *h)
{
    char buf[64];
    size_t len = sizeof buf;
    uint64_t cas = 0, v = 0;
    uint32_t flags = 0;
    void *p = NULL;
    shmc_item_info info;
    shmc_stats st;
    shmc_class_stats cs;
    shmc_config cfg;
    unsigned n = 0;
    int64_t exp = 10;
    shmc_value mv = {.key = "truth:1", .key_len = 7, .buf = buf, .cap = sizeof buf};
    for (size_t m = 0; m < NMODES; m++)
        REFUSED(shmc_store(h, all_modes[m], KS("truth:1"), "forged", 6, 0, 0, 1, &cas));
    REFUSED(shmc_store_ex(h, SHMC_SET, KS("truth:1"), "forged", 6, 0, 0, 0, 9, &cas));
    REFUSED(shmc_set(h, KS("truth:1"), "forged", 6, 0, 0));
    REFUSED(shmc_get(h, KS("truth:1"), buf, &len, &flags, &cas));
    REFUSED(shmc_gat(h, KS("truth:1"), 0, buf, &len, &flags, &cas));
    REFUSED(shmc_get_alloc(h, KS("truth:1"), &p, &len, &flags, &cas));
    assert_null(p);
    REFUSED(shmc_get_info(h, KS("truth:1"), NULL, buf, &len, &info));
    REFUSED(shmc_get_multi(h, &mv, 1));
    REFUSED(shmc_delete(h, KS("truth:1"), 0));
    REFUSED(shmc_incr(h, KS("truth:1"), 1, &v));
    REFUSED(shmc_decr(h, KS("truth:1"), 1, &v));
    REFUSED(shmc_arith_ex(h, KS("truth:1"), 1, 1, 0, 0, &v, &cas));
    REFUSED(shmc_touch(h, KS("truth:1"), 0));
    REFUSED(shmc_invalidate(h, KS("truth:1"), 0, &exp, 0));
    REFUSED(shmc_flush_all(h, 0));
    REFUSED(shmc_stats_get(h, &st));
    REFUSED(shmc_class_stats_get(h, 1, &cs));
    REFUSED(shmc_config_get(h, &cfg));
    REFUSED(shmc_maintain(h));
    REFUSED(shmc_recover(h, &n));
    REFUSED(shmc_clock_advance(h, 1000000));
    assert_int_equal(shmc_class_count(h), 0);
    assert_int_not_equal(shmc_check(h, NULL), 0);
    (void)shmc_protection_of(h); /* the process's mode for a vault slot; reads no handle */
    shmc_close(h);               /* a no-op */
}

static void test_forged_handles(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    /* a perfect copy of the real handle, in client memory */
    struct shmc_cache *copy = aligned_alloc(64, sizeof *copy);
    assert_non_null(copy);
    *copy = handle_peek(c);
    assert_int_equal(copy->magic, HANDLE_LIVE);
    every_call_refused(copy);
    free(copy);
    struct shmc_cache on_stack = handle_peek(c);
    every_call_refused(&on_stack);
    every_call_refused(NULL);
    every_call_refused((shmc_cache *)((char *)c + 1)); /* one byte into a real handle */
    every_call_refused((shmc_cache *)((char *)c + 64));
    shmc_cache *free_slot = c + 1;                     /* a free slot of the vault */
    while (handle_peek(free_slot).magic != HANDLE_FREE)
        free_slot++;
    every_call_refused(free_slot);
    seg_view s = seg_of(f, c);
    every_call_refused((shmc_cache *)s.base);          /* the segment as a handle */
    /* a closed handle (its slot not reused meanwhile) */
    shmc_cache *h2;
    assert_ok(shmc_open(f->path, &h2));
    shmc_close(h2);
    every_call_refused(h2);
    /* the real one still works */
    assert_ok(tu_set(c, "after", "forgery", 0, 0));
    assert_value_str(c, "after", "forgery");
    aftermath(f);
}

/* A fork child's inherited handle names the parent's client slot: it is
 * refused (include/shmcached.h), and the child attaches its own. */
static void test_inherited_handle_refused(void **state)
{
    tu_fix *f = *state;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char buf[16];
        size_t len = sizeof buf;
        CHILD_STATUS(shmc_get(f->c, KS("truth:1"), buf, &len, NULL, NULL), SHMC_INVALID);
        CHILD_STATUS(tu_set(f->c, "truth:1", "child", 0, 0), SHMC_INVALID);
        shmc_close(f->c);
        shmc_cache *own;
        CHILD_OK(shmc_open(f->path, &own));
        CHILD_OK(tu_set(own, "child", "own handle", 0, 0));
        shmc_close(own);
        _exit(0);
    }
    tu_wait_ok(pid, 60);
    assert_value_str(f->c, "child", "own handle");
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* get_multi: one bad entry                                             */
/* ------------------------------------------------------------------ */

static __attribute__((noinline)) void test_get_multi_bad_entry(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    seg_view s = seg_of(f, c);
    unsigned char victim[64];
    size_t voff = victim_plant(f, "victim", victim, 99);
    char b0[64], b2[64], b8[64];
    char *deep = (char *)__builtin_frame_address(0) - (64u << 10);
    shmc_value mv[] = {
        {.key = "truth:1", .key_len = 7, .buf = b0, .cap = sizeof b0},
        {.key = "victim", .key_len = 6, .buf = s.base + voff, .cap = 64},  /* into the segment */
        {.key = "truth:2", .key_len = 7, .buf = b2, .cap = sizeof b2},
        {.key = s.base + voff, .key_len = 8, .buf = b2, .cap = sizeof b2}, /* key in it */
        {.key = "victim", .key_len = 6, .buf = (char *)c, .cap = 64},      /* the vault */
        {.key = "victim", .key_len = 6, .buf = b2, .cap = (size_t)-8},     /* wraps */
        {.key = "victim", .key_len = 6, .buf = NULL, .cap = 10},
        {.key = "victim", .key_len = 6, .buf = deep, .cap = 64},           /* below the entry */
        {.key = "truth:3", .key_len = 7, .buf = b8, .cap = sizeof b8},
    };
    static const shmc_status want[] = {SHMC_OK,      SHMC_INVALID, SHMC_OK,
                                       SHMC_INVALID, SHMC_INVALID, SHMC_INVALID,
                                       SHMC_INVALID, SHMC_INVALID, SHMC_OK};
    assert_ok(shmc_get_multi(c, mv, sizeof mv / sizeof mv[0]));
    for (size_t i = 0; i < sizeof mv / sizeof mv[0]; i++)
        assert_status(mv[i].status, want[i]);
    unsigned char w[64];
    tu_fill(w, truth_len(1), 1001);
    assert_u64_eq(mv[0].len, truth_len(1));
    assert_bytes_equal(b0, w, truth_len(1));
    tu_fill(w, truth_len(3), 1003);
    assert_u64_eq(mv[8].len, truth_len(3));
    assert_bytes_equal(b8, w, truth_len(3));
    victim_intact(f, voff, victim);
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* 5. Client code inside the gate                                       */
/* ------------------------------------------------------------------ */

/* Issue 15, item 5: shmc_get_alloc called the client's malloc while the
 * key was open.  Every call that allocates (get_alloc, check, attach) is
 * made with malloc interposed; where the process runs in mpk mode the
 * interposer reads PKRU and counts the calls that found the key open. */
static void test_malloc_runs_with_key_closed(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    if (!MALLOC_INTERPOSED)
        skip(); /* a sanitizer build: its malloc cannot be replaced */
    bool mpk = shmc_protection_of(c) == SHMC_PROTECT_MPK;
    watch_pkey = mpk ? protect_g.pkey : -1;
    if (mpk) /* the detector itself: outside a call the key reads closed */
        assert_true(pkru_read() & PKRU_AD(watch_pkey));
    malloc_calls = malloc_calls_key_open = 0;
    malloc_watching = 1;
    char key[32];
    for (unsigned i = 0; i < NTRUTH; i++) {
        void *v = NULL;
        size_t len = 0;
        truth_key(i, key, sizeof key);
        assert_ok(shmc_get_alloc(c, KS(key), &v, &len, NULL, NULL));
        assert_u64_eq(len, truth_len(i));
        free(v);
    }
    unsigned long by_get_alloc = malloc_calls;
    shmc_cache *h2;
    assert_ok(shmc_open(f->path, &h2));
    assert_ok(tu_set(h2, "k", "v", 0, 0));
    assert_u64_eq(shmc_check(h2, stderr), 0);
    shmc_close(h2);
    malloc_watching = 0;
    watch_pkey = -1;
    print_message("malloc: %lu calls from get_alloc, %lu in all, %lu with the key open (%s)\n",
                  by_get_alloc, malloc_calls, malloc_calls_key_open,
                  mpk ? "PKRU read at each" : "none mode: PKRU not checked");
    assert_true(by_get_alloc >= NTRUTH); /* the interposer is the one the library calls */
    assert_u64_eq(malloc_calls_key_open, 0);
    aftermath(f);
}

/* Every kind of call, over the truth values (one of them chained), with
 * memcpy, memmove, memset, memcmp, clock_gettime, snprintf and strrchr
 * interposed: none is called with the key open.  Before the library was
 * built to expand its copies and compares inline and to read the clock in
 * the vDSO, gets and stores called memcpy and clock_gettime with the key
 * open, and incr formatted its result with snprintf. */
static void test_libc_runs_with_key_closed(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    if (!MALLOC_INTERPOSED)
        skip(); /* a sanitizer build: it owns these functions */
    bool mpk = shmc_protection_of(c) == SHMC_PROTECT_MPK;
    watch_pkey = mpk ? protect_g.pkey : -1;
    memset(libc_calls, 0, sizeof libc_calls);
    memset(libc_calls_key_open, 0, sizeof libc_calls_key_open);
    libc_watching = 1;
    /* the detector itself: the test's own calls reach the interposers */
    char a[8] = "abcdefg", b[8];
    void *(*volatile cp)(void *, const void *, size_t) = memcpy;
    cp(b, a, sizeof a);
    struct timespec ts;
    int (*volatile clk)(clockid_t, struct timespec *) = clock_gettime;
    clk(CLOCK_MONOTONIC, &ts);
    assert_u64_eq(libc_calls[LIBC_MEMCPY], 1);
    assert_u64_eq(libc_calls[LIBC_CLOCK], 1);
    /* x86-64 kernels link the vDSO with a SysV hash table: found */
    assert_non_null(protect_g.clock_gettime);

    char key[32], *buf = malloc(800000);
    assert_non_null(buf);
    shmc_value v[NTRUTH];
    for (unsigned i = 0; i < NTRUTH; i++) {
        truth_key(i, key, sizeof key);
        size_t len = 800000;
        assert_ok(shmc_get(c, KS(key), buf, &len, NULL, NULL));
        assert_u64_eq(len, truth_len(i));
    }
    static char keys[NTRUTH][32], bufs[NTRUTH][64];
    for (unsigned i = 0; i < NTRUTH; i++) {
        truth_key(i, keys[i], sizeof keys[i]);
        v[i] = (shmc_value){.key = keys[i], .key_len = strlen(keys[i]), .buf = bufs[i],
                            .cap = sizeof bufs[i]};
    }
    assert_ok(shmc_get_multi(c, v, NTRUTH));
    memset(buf, 'x', 300000);
    assert_ok(shmc_set(c, KS("libc:big"), buf, 300000, 0, 60)); /* chained */
    assert_ok(shmc_set(c, KS("libc:n"), "41", 2, 0, 0));
    assert_ok(shmc_store(c, SHMC_APPEND, KS("libc:n"), "0", 1, 0, 0, 0, NULL));
    uint64_t r;
    assert_ok(shmc_incr(c, KS("libc:n"), 1, &r));
    assert_u64_eq(r, 411);
    assert_ok(shmc_touch(c, KS("libc:big"), 120));
    size_t len = 800000;
    assert_ok(shmc_get(c, KS("libc:big"), buf, &len, NULL, NULL));
    assert_ok(shmc_delete(c, KS("libc:big"), 0));
    assert_ok(shmc_delete(c, KS("libc:n"), 0));
    shmc_stats st;
    assert_ok(shmc_stats_get(c, &st));
    assert_u64_eq(shmc_check(c, NULL), 0);
    shmc_cache *h2;
    assert_ok(shmc_open(f->path, &h2));
    assert_ok(tu_set(h2, "k", "v", 0, 0));
    shmc_close(h2);
    libc_watching = 0;
    watch_pkey = -1;
    free(buf);
    for (int i = 0; i < LIBC_N; i++) {
        print_message("%s: %lu calls, %lu with the key open (%s)\n", libc_names[i],
                      libc_calls[i], libc_calls_key_open[i],
                      mpk ? "PKRU read at each" : "none mode: PKRU not checked");
    }
    for (int i = 0; i < LIBC_N; i++)
        assert_u64_eq(libc_calls_key_open[i], 0);
    aftermath(f);
}

/* A second thread rewrites a batch's entries while shmc_get_multi runs,
 * pointing their buffers into the segment (at another item's value) and
 * back: each entry is checked once and read from the copy it was checked
 * in (api.c, api_get_req), so no read lands in the segment.  With the
 * buffer read again from the caller's array after the check, the victim's
 * bytes are overwritten within the first rounds. */
struct rewriter {
    shmc_value *v;         /* the batch */
    size_t n;              /* its entries */
    char *bad;             /* the buffer it swaps in: inside the segment */
    char (*good)[64];      /* the entries' own buffers */
    volatile int stop;     /* set by the test when it is done */
};

static void *rewrite_entries(void *arg)
{
    struct rewriter *w = arg;
    for (unsigned long round = 0; !w->stop; round++)
        for (size_t i = 0; i < w->n; i++)
            __atomic_store_n(&w->v[i].buf, (round + i) & 1 ? w->bad : w->good[i],
                             __ATOMIC_RELAXED);
    return NULL;
}

static void test_get_multi_entries_rewritten(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    seg_view s = seg_of(f, c);
    unsigned char victim[64];
    size_t voff = victim_plant(f, "rewrite-victim", victim, 77);
    enum { N = 64, ROUNDS = 3000 };
    static char good[N][64];
    static shmc_value v[N];
    for (size_t i = 0; i < N; i++)
        v[i] = (shmc_value){.key = "truth:1", .key_len = 7, .buf = good[i], .cap = 64};
    struct rewriter w = {v, N, s.base + voff, good, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rewrite_entries, &w), 0);
    unsigned long ok = 0, refused = 0;
    for (int r = 0; r < ROUNDS; r++) {
        assert_ok(shmc_get_multi(c, v, N));
        for (size_t i = 0; i < N; i++) {
            shmc_status st = v[i].status;
            if (st != SHMC_OK)
                assert_status(st, SHMC_INVALID);
            ok += st == SHMC_OK;
            refused += st == SHMC_INVALID;
        }
    }
    w.stop = 1;
    pthread_join(t, NULL);
    print_message("%lu reads, %lu refused (buffer in the segment when checked)\n", ok, refused);
    assert_true(ok > 0 && refused > 0); /* the race was run both ways */
    victim_intact(f, voff, victim);
    aftermath(f);
}

/* shmc_check describes what it finds while the gate is open: with
 * vsnprintf and snprintf interposed, a check of a segment with one item's
 * hash damaged reports it, and calls neither with the key open (it
 * called vsnprintf until the library formatted its own messages,
 * src/fmt.c). */
static void test_check_formats_with_key_closed(void **state)
{
    tu_fix *f = *state;
    if (!MALLOC_INTERPOSED)
        skip(); /* a sanitizer build: it owns these functions */
    tu_fix *d = tu_fix_new("attacks-check-damage", NULL);
    assert_non_null(d);
    assert_ok(tu_set(d->c, "fmt:damage-me", "value", 0, 0));
    shmc_close(d->c);
    d->c = NULL;
    size_t len = 0;
    unsigned char *file = tu_read_file(d->path, &len);
    assert_non_null(file);
    unsigned char *key = memmem(file, len, "fmt:damage-me", 13);
    assert_non_null(key);
    item_t *it = (item_t *)(key - sizeof(item_t));
    assert_int_equal(it->nkey, 13);
    it->hash ^= 1; /* found by shmc_check: its key no longer matches its hash */
    assert_int_equal(tu_write_file(d->path, file, len), 0);
    free(file);
    assert_ok(shmc_open(d->path, &d->c));
    bool mpk = shmc_protection_of(d->c) == SHMC_PROTECT_MPK;
    watch_pkey = mpk ? protect_g.pkey : -1;
    memset(libc_calls, 0, sizeof libc_calls);
    memset(libc_calls_key_open, 0, sizeof libc_calls_key_open);
    char *report = NULL;
    size_t report_len = 0;
    FILE *out = open_memstream(&report, &report_len);
    assert_non_null(out);
    libc_watching = 1;
    unsigned problems = shmc_check(d->c, out);
    libc_watching = 0;
    watch_pkey = -1;
    fclose(out);
    print_message("shmc_check: %u problem(s): %s", problems, report);
    assert_true(problems >= 1);
    assert_non_null(strstr(report, "key does not match its hash"));
    free(report);
    for (int i = 0; i < LIBC_N; i++)
        assert_u64_eq(libc_calls_key_open[i], 0);
    d->skip_check = 1; /* damaged on purpose */
    assert_int_equal(tu_fix_free(d), 0);
    aftermath(f);
}

/* An item of the largest class marked chained (damage: IFLAG_CHAINED,
 * a length that needs no data chunk) is deleted, replaced and checked
 * without reading past its chunk: its last data chunk's ref would be
 * refs[-1], 16 GB away (a crash before value_tail_shard answered "no
 * tail" for it). */
static void test_chained_flag_on_whole_item(void **state)
{
    tu_fix *f = *state;
    tu_fix *d = tu_fix_new("attacks-chained-flag", NULL);
    assert_non_null(d);
    static char big[500 * 1000]; /* the largest class (512 KiB chunks), one chunk */
    memset(big, 'b', sizeof big);
    assert_ok(shmc_set(d->c, "flag:one", 8, big, sizeof big, 0, 0));
    assert_ok(shmc_set(d->c, "flag:two", 8, big, sizeof big, 0, 0));
    shmc_close(d->c);
    d->c = NULL;
    size_t len = 0;
    unsigned char *file = tu_read_file(d->path, &len);
    assert_non_null(file);
    for (int i = 0; i < 2; i++) {
        unsigned char *key = memmem(file, len, i ? "flag:two" : "flag:one", 8);
        assert_non_null(key);
        item_t *it = (item_t *)(key - sizeof(item_t));
        assert_int_equal(it->nkey, 8);
        it->iflags |= IFLAG_CHAINED;
    }
    assert_int_equal(tu_write_file(d->path, file, len), 0);
    free(file);
    assert_ok(shmc_open(d->path, &d->c));
    shmc_status st = shmc_delete(d->c, "flag:one", 8, 0);
    assert_true(st == SHMC_OK || st == SHMC_NOT_FOUND || st == SHMC_CORRUPT);
    st = shmc_set(d->c, "flag:two", 8, "new", 3, 0, 0);
    assert_true(st == SHMC_OK || st == SHMC_CORRUPT);
    shmc_check(d->c, NULL);
    d->skip_check = 1; /* damaged on purpose */
    assert_int_equal(tu_fix_free(d), 0);
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* 6. The lane index in TLS                                             */
/* ------------------------------------------------------------------ */

struct lane_arg {
    shmc_cache *c;
    unsigned seed;
    unsigned errors;
};

static void *lane_scribbler(void *p)
{
    struct lane_arg *a = p;
    uint64_t x = a->seed * 0x9E3779B97F4A7C15ull | 1;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        gate_thread_lane = (uint32_t)x; /* a stray write into the thread's lane index */
        if (shmc_incr(a->c, KS("tally"), 1, NULL) != SHMC_OK)
            a->errors++;
    }
    return NULL;
}

/* Issue 15, item 6: one stray write into the thread's lane index broke
 * hash chains.  Garbage there now costs at most a shared lane. */
static void test_tls_lane_garbage(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    static const uint32_t junk[] = {0, SEG_LANES + 1, 0xffffffffu, 0x80000000u, 12345678u,
                                    SEG_LANES, 1};
    bool reassigned = true;
    for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++) {
        char key[32];
        snprintf(key, sizeof key, "lane%zu", j);
        gate_thread_lane = junk[j];
        assert_ok(tu_set(c, key, key, 0, 0));
        gate_thread_lane = junk[j];
        assert_value_str(c, key, key);
        gate_thread_lane = junk[j];
        assert_ok(shmc_delete(c, KS(key), 0));
        reassigned &= gate_thread_lane >= 1 && gate_thread_lane <= SEG_LANES;
    }
    assert_true(reassigned); /* a lane out of range was replaced, not used */
    enum { T = 4 };
    pthread_t t[T];
    struct lane_arg a[T];
    assert_ok(tu_set(c, "tally", "0", 0, 0));
    for (unsigned i = 0; i < T; i++) {
        a[i] = (struct lane_arg){.c = c, .seed = i + 1};
        assert_int_equal(pthread_create(&t[i], NULL, lane_scribbler, &a[i]), 0);
    }
    for (unsigned i = 0; i < T; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].errors, 0);
    }
    assert_value_str(c, "tally", "12000");
    shmc_stats st = tu_stats(c);
    assert_u64_cmp(st.incr_hits, >=, 12000); /* every lane's counters summed */
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* 7. The library's own descriptor                                      */
/* ------------------------------------------------------------------ */

/* How many of this process's descriptors open the file at path. */
static unsigned fds_on(const char *path)
{
    struct stat want, st;
    if (stat(path, &want) != 0)
        return 0;
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && st.st_dev == want.st_dev &&
            st.st_ino == want.st_ino)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* Issue 15, item 7: the segment file stayed open read-write in every
 * client, so any code could write() the cache through it. */
static void test_no_descriptor_on_segment(void **state)
{
    tu_fix *f = *state;
    assert_int_equal(fds_on(f->path), 0); /* after shmc_create */
    shmc_cache *h2;
    assert_ok(shmc_open(f->path, &h2));
    assert_int_equal(fds_on(f->path), 0); /* after shmc_open */
    assert_ok(tu_set(h2, "k", "v", 0, 0));
    assert_int_equal(fds_on(f->path), 0);
    shmc_close(h2);
    /* the check helper itself sees a descriptor it opens */
    int fd = open(f->path, O_RDONLY);
    assert_int_equal(fds_on(f->path), 1);
    close(fd);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        shmc_cache *cc;
        CHILD_OK(shmc_open(f->path, &cc));
        CHILD_CHECK(fds_on(f->path) == 0);
        shmc_close(cc);
        _exit(0);
    }
    tu_wait_ok(pid, 60);
    aftermath(f);
}

/* ------------------------------------------------------------------ */
/* 16. Liveness: a fork child, OFD lock squatters                       */
/* ------------------------------------------------------------------ */

/* The word of stripe 0's lock, read from the file (the segment itself
 * may be closed to this code). */
static uint32_t stripe0_word(const char *path)
{
    seg_header h;
    file_read(path, 0, &h, sizeof h);
    seg_lock l;
    file_read(path, h.off_stripes, &l, sizeof l);
    return l.word;
}

/* The processes a liveness case started and has not reaped yet, killed
 * if the case fails half-way (teardown) or hangs (on_stuck). */
static pid_t spawned[16];

static void spawned_add(pid_t pid)
{
    for (unsigned i = 0; i < sizeof spawned / sizeof spawned[0]; i++)
        if (!spawned[i]) {
            spawned[i] = pid;
            return;
        }
}

/* Kill pid and reap it (it is our child, or an orphan we are the reaper of). */
static void spawned_end(pid_t pid)
{
    int ws;
    kill(pid, SIGKILL);
    waitpid(pid, &ws, 0);
    for (unsigned i = 0; i < sizeof spawned / sizeof spawned[0]; i++)
        if (spawned[i] == pid)
            spawned[i] = 0;
}

static void spawned_kill_all(void)
{
    for (unsigned i = 0; i < sizeof spawned / sizeof spawned[0]; i++)
        if (spawned[i] > 0)
            spawned_end(spawned[i]);
}

static int liveness_teardown(void **state)
{
    spawned_kill_all();
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    return tu_teardown(state);
}

/* Wait for a message on fd for at most ms; bytes read, or -1. */
static ssize_t read_within(int fd, void *buf, size_t n, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1)
        return -1;
    return read(fd, buf, n);
}

/*
 * A client that will die holding every lock of the segment: it attaches,
 * optionally forks a child (which, with child_attaches, attaches a handle
 * of its own) that lives on, and then runs shmc_check - which takes every
 * lock and walks the segment - over and over.  Reports on fd: its pid, then
 * its child's (0 if none) once that child is ready.
 */
static pid_t spawn_lock_holder(const char *path, int fd, bool with_child, bool child_attaches)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) {
        spawned_add(pid);
        return pid;
    }
    shmc_cache *c;
    CHILD_OK(shmc_open(path, &c));
    pid_t kid = 0;
    if (with_child) {
        int ready[2];
        CHILD_CHECK(pipe(ready) == 0);
        kid = fork();
        if (kid == 0) {
            shmc_cache *own = NULL;
            if (child_attaches)
                CHILD_OK(shmc_open(path, &own));
            CHILD_CHECK(write(ready[1], "r", 1) == 1);
            for (;;)
                pause();
        }
        char r;
        CHILD_CHECK(read(ready[0], &r, 1) == 1);
    }
    int32_t msg[2] = {(int32_t)getpid(), (int32_t)kid};
    CHILD_CHECK(write(fd, msg, sizeof msg) == (ssize_t)sizeof msg);
    for (;;)
        shmc_check(c, NULL);
}

/* Stop the holder while it holds stripe 0's lock, then kill it there;
 * return once it is dead (reaped, or left a zombie).  Returns the lock
 * word it died with. */
static uint32_t kill_holding(const char *path, pid_t pid, bool reap)
{
    for (double t0 = tu_now(); tu_now() - t0 < 30;) {
        if (stripe0_word(path) == 0)
            continue;
        kill(pid, SIGSTOP);
        int ws;
        assert_int_equal(waitpid(pid, &ws, WUNTRACED), pid);
        assert_true(WIFSTOPPED(ws));
        uint32_t w = stripe0_word(path);
        if (w != 0) {
            kill(pid, SIGKILL);
            /* dead once it is a zombie (what is timed after is the other
             * client, not how fast the kernel tears a process down) */
            siginfo_t si;
            assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
            if (reap) /* else it stays a zombie: dead all the same */
                spawned_end(pid);
            return w;
        }
        kill(pid, SIGCONT);
    }
    fail_msg("the holder never held stripe 0's lock");
    return 0;
}

static void on_stuck(int sig)
{
    (void)sig;
    static const char msg[] = "\nFAIL: a dead client's locks were not taken over within 10 s "
                              "(it is kept alive)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    spawned_kill_all();
    tu_cleanup_tracked();
    _exit(3);
}

/* Write through c and time it: the locks of a dead client are taken
 * over.  Seconds it took (the process exits after 10 s: never). */
static double timed_store(shmc_cache *c, unsigned round)
{
    char key[32];
    snprintf(key, sizeof key, "after-death:%u", round);
    signal(SIGALRM, on_stuck);
    alarm(10);
    double t0 = tu_now();
    assert_ok(tu_set(c, key, key, 0, 0));
    double took = tu_now() - t0;
    alarm(0);
    signal(SIGALRM, SIG_DFL);
    assert_value_str(c, key, key);
    return took;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Issue 16: the parent dies holding every segment lock while its fork
 * child lives (attached or not); another client takes over within
 * 100 ms, 50 rounds of 50. */
static void test_fork_child_keeps_no_dead_parent_alive(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c = f->c;
    enum { ROUNDS = 50 };
    double took[ROUNDS];
    unsigned fast = 0;
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* the orphaned fork children come back to us */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    for (unsigned r = 0; r < ROUNDS; r++) {
        pid_t holder = spawn_lock_holder(f->path, fds[1], true, r % 2);
        int32_t msg[2];
        assert_int_equal(read_within(fds[0], msg, sizeof msg, 30000), (ssize_t)sizeof msg);
        assert_int_equal(msg[0], holder);
        pid_t kid = msg[1];
        assert_true(kid > 0);
        spawned_add(kid);
        uint32_t w = kill_holding(f->path, holder, r % 4 < 2);
        assert_u64_ne(w, 0);
        assert_int_equal(kill(kid, 0), 0); /* its child lives on */
        took[r] = timed_store(c, r);
        fast += took[r] < 0.100;
        if (took[r] >= 0.100)
            print_message("round %u (%s, child %s): %.1f ms\n", r,
                          r % 4 < 2 ? "parent reaped" : "parent a zombie",
                          r % 2 ? "attached" : "not attached", took[r] * 1e3);
        if (r % 4 >= 2)
            spawned_end(holder); /* the zombie */
        spawned_end(kid);
        unsigned reaped = 0;
        assert_ok(shmc_recover(c, &reaped));
        assert_int_equal(reaped, 1 + r % 2); /* the parent, and the child if it attached */
        /* the dead parent's word is gone from stripe 0 (taken over by the
         * store or the reaper); it held it as a reader (shmc_check), so
         * no repair was due (locks_repaired stays) */
        assert_true(w & LOCK_READER);
        assert_u64_ne(stripe0_word(f->path), w);
    }
    close(fds[0]);
    close(fds[1]);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    qsort(took, ROUNDS, sizeof took[0], cmp_double);
    print_message("dead parent's locks taken over: %u of %u rounds within 100 ms; "
                  "median %.1f ms, max %.1f ms\n",
                  fast, ROUNDS, took[ROUNDS / 2] * 1e3, took[ROUNDS - 1] * 1e3);
    assert_int_equal(fast, ROUNDS);
    shmc_stats st = tu_stats(c);
    assert_u64_eq(st.curr_clients, 1);
    aftermath(f);
}

/* The old liveness protocol's lock bytes: F_OFD_SETLK at LIVENESS_BASE +
 * slot of the segment file meant "slot is alive". */
#define OLD_LIVENESS_BASE (1ull << 40)

/*
 * A squatter: attaches (it is a client as any other), opens the segment
 * file, and takes write locks on every old liveness byte of every slot,
 * then lives on.  Reports the number of locks taken.
 */
static pid_t spawn_squatter(const char *path, unsigned slots, int fd)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) {
        spawned_add(pid);
        return pid;
    }
    shmc_cache *c;
    CHILD_OK(shmc_open(path, &c));
    int file = open(path, O_RDWR);
    CHILD_CHECK(file >= 0);
    int32_t taken = 0;
    for (unsigned i = 0; i < slots; i++) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                           .l_start = (off_t)(OLD_LIVENESS_BASE + i), .l_len = 1};
        taken += fcntl(file, F_OFD_SETLK, &fl) == 0;
    }
    int32_t msg[2] = {taken, 0};
    CHILD_CHECK(write(fd, msg, sizeof msg) == (ssize_t)sizeof msg);
    for (;;)
        pause();
}

/* A client that attaches, reports its status, and lives until killed. */
static pid_t spawn_attacher(const char *path, int fd)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) {
        spawned_add(pid);
        return pid;
    }
    shmc_cache *c = NULL;
    int32_t msg[2] = {(int32_t)shmc_open(path, &c), 0};
    CHILD_CHECK(write(fd, msg, sizeof msg) == (ssize_t)sizeof msg);
    for (;;)
        pause();
}

/* Issue 16: with no OFD lock bytes any more, a client that locks every
 * slot's old liveness byte neither stops new attaches nor hides a dead
 * client (whose locks are taken over, and whose slot is reaped). */
static void test_ofd_squatter_cannot_fake_liveness(void **state)
{
    tu_fix *f = *state;
    shmc_cache *c; /* slot 0 of a segment of its own */
    enum { SLOTS = 4 };
    int fds[2];
    int32_t msg[2];
    assert_int_equal(pipe(fds), 0);
    /* a segment of 4 slots: us, the squatter, a client that dies, one more */
    char path[TU_PATH_MAX];
    tu_make_path(path, sizeof path, "attacks-squat");
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 8u << 20;
    cfg.max_clients = SLOTS;
    assert_ok(shmc_create(path, &cfg, &c));
    assert_ok(tu_set(c, "before", "squat", 0, 0));

    pid_t squatter = spawn_squatter(path, SLOTS, fds[1]); /* slot 1 */
    assert_int_equal(read_within(fds[0], msg, sizeof msg, 30000), (ssize_t)sizeof msg);
    /* it holds the old liveness byte of every slot no live client held
     * under the old protocol (all of them, now that nobody takes them) */
    print_message("squatter holds %d of %d old liveness bytes\n", msg[0], SLOTS);
    assert_true(msg[0] >= SLOTS - 2);

    pid_t holder = spawn_lock_holder(path, fds[1], false, false); /* slot 2 */
    assert_int_equal(read_within(fds[0], msg, sizeof msg, 30000), (ssize_t)sizeof msg);
    assert_int_equal(msg[0], holder); /* attached in spite of the squat */
    assert_u64_ne(kill_holding(path, holder, true), 0);
    double took = timed_store(c, 0);
    print_message("dead client's locks taken over in %.1f ms with every old liveness byte "
                  "locked by a squatter\n", took * 1e3);
    assert_true(took < 0.100);

    /* slot 3, then a fifth client: only if the dead client's slot is reaped */
    pid_t a[2];
    for (int i = 0; i < 2; i++) {
        a[i] = spawn_attacher(path, fds[1]);
        assert_int_equal(read_within(fds[0], msg, sizeof msg, 30000), (ssize_t)sizeof msg);
        assert_status((shmc_status)msg[0], SHMC_OK);
    }
    shmc_stats st = tu_stats(c);
    assert_u64_eq(st.curr_clients, SLOTS);
    assert_u64_cmp(st.clients_recovered, >=, 1);
    /* every slot taken by a live client: the next attach is refused */
    shmc_cache *extra = NULL;
    assert_status(shmc_open(path, &extra), SHMC_TOO_MANY_CLIENTS);

    for (int i = 0; i < 2; i++)
        spawned_end(a[i]);
    spawned_end(squatter);
    close(fds[0]);
    close(fds[1]);
    assert_value_str(c, "before", "squat");
    assert_u64_eq(shmc_check(c, stderr), 0);
    shmc_close(c);
    tu_remove(path);
    aftermath(f);
}

int main(int argc, char **argv)
{
    if (argc > 1) /* the mode, as the protection suite takes it */
        setenv("SHMC_PROTECTION", argv[1], 1);
    const char *only = getenv("SHMC_TEST_FILTER"); /* e.g. "*fork*" */
    if (only && *only)
        cmocka_set_test_filter(only);
    const char *mode = getenv("SHMC_PROTECTION");
    printf("test_attacks: SHMC_PROTECTION=%s\n", mode && *mode ? mode : "(unset: auto)");
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_teardown)
    const struct CMUnitTest tests[] = {
        T(test_confused_deputy_segment),
        T(test_confused_deputy_alloc_and_options),
        T(test_claimed_length_crosses_segment_edge),
        T(test_negative_and_huge_lengths),
        T(test_open_and_check_out_pointers),
        T(test_buffers_in_the_vault),
        T(test_buffers_in_the_protection_page),
        T(test_protection_page_read_only),
        T(test_buffers_in_another_segment),
        T(test_stack_below_entry_point),
        T(test_forged_handles),
        T(test_inherited_handle_refused),
        T(test_get_multi_bad_entry),
        T(test_get_multi_entries_rewritten),
        T(test_malloc_runs_with_key_closed),
        T(test_libc_runs_with_key_closed),
        T(test_check_formats_with_key_closed),
        T(test_chained_flag_on_whole_item),
        T(test_tls_lane_garbage),
        T(test_no_descriptor_on_segment),
        cmocka_unit_test_setup_teardown(test_fork_child_keeps_no_dead_parent_alive, setup,
                                        liveness_teardown),
        cmocka_unit_test_setup_teardown(test_ofd_squatter_cannot_fake_liveness, setup,
                                        liveness_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
