/*
 * testutil.h - helpers shared by the cmocka test programs of shmcached.
 *
 *  - unique segment paths: $SHMC_TEST_DIR/shmc-test-<name>-<pid>-<n>
 *    (SHMC_TEST_DIR defaults to /dev/shm);
 *  - a fixture (tu_fix) that creates a segment with a given config and,
 *    in teardown, runs shmc_check, closes, and removes the file
 *    (shmc_destroy, falling back to unlink);
 *  - every path handed out is tracked and unlinked at exit of the
 *    process that made it (never by forked children);
 *  - assert_status(expr, expected): on mismatch prints the expression,
 *    both codes by name and shmc_strerror() text;
 *  - assert_u64_eq(a, b): prints both sides in decimal;
 *  - CHILD_* macros for forked children (no cmocka there: print and
 *    _exit non-zero), tu_wait_ok() to reap them with a timeout.
 */
#ifndef SHMC_TESTUTIL_H
#define SHMC_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmcached.h"

/* ------------------------------------------------------------------ */
/* Status names and assertions                                         */
/* ------------------------------------------------------------------ */

static inline const char *tu_status_name(shmc_status s)
{
    switch (s) {
    case SHMC_OK: return "SHMC_OK";
    case SHMC_NOT_FOUND: return "SHMC_NOT_FOUND";
    case SHMC_NOT_STORED: return "SHMC_NOT_STORED";
    case SHMC_EXISTS: return "SHMC_EXISTS";
    case SHMC_NOT_NUMERIC: return "SHMC_NOT_NUMERIC";
    case SHMC_TOO_LARGE: return "SHMC_TOO_LARGE";
    case SHMC_BAD_KEY: return "SHMC_BAD_KEY";
    case SHMC_NO_MEMORY: return "SHMC_NO_MEMORY";
    case SHMC_BUFFER_TOO_SMALL: return "SHMC_BUFFER_TOO_SMALL";
    case SHMC_INVALID: return "SHMC_INVALID";
    case SHMC_NOT_SEGMENT: return "SHMC_NOT_SEGMENT";
    case SHMC_BAD_VERSION: return "SHMC_BAD_VERSION";
    case SHMC_CORRUPT: return "SHMC_CORRUPT";
    case SHMC_PERMISSION: return "SHMC_PERMISSION";
    case SHMC_FILE_EXISTS: return "SHMC_FILE_EXISTS";
    case SHMC_NO_FILE: return "SHMC_NO_FILE";
    case SHMC_TOO_MANY_CLIENTS: return "SHMC_TOO_MANY_CLIENTS";
    case SHMC_SYSTEM: return "SHMC_SYSTEM";
    case SHMC_NO_PROTECTION: return "SHMC_NO_PROTECTION";
    case SHMC_UNSAFE_PROCESS: return "SHMC_UNSAFE_PROCESS";
    case SHMC_BUSY: return "SHMC_BUSY";
    case SHMC_STALE: return "SHMC_STALE";
    case SHMC_STATUS_COUNT: break;
    }
    return "(unknown status)";
}

#define TU_STATUS_FMT "%s (%d: \"%s\")"
#define TU_STATUS_ARGS(s) tu_status_name(s), (int)(s), shmc_strerror(s)

/** Assert that expr returns the shmc_status expected. */
#define assert_status(expr, expected) do { \
        shmc_status tu_got_ = (expr); \
        shmc_status tu_want_ = (expected); \
        if (tu_got_ != tu_want_) { \
            fail_msg("%s\n    returned " TU_STATUS_FMT "\n    expected " TU_STATUS_FMT, \
                     #expr, TU_STATUS_ARGS(tu_got_), TU_STATUS_ARGS(tu_want_)); \
        } \
    } while (0)

#define assert_ok(expr) assert_status((expr), SHMC_OK)

/** Assert that expr returns one of two acceptable statuses. */
#define assert_status_either(expr, a, b) do { \
        shmc_status tu_got_ = (expr); \
        shmc_status tu_a_ = (a), tu_b_ = (b); \
        if (tu_got_ != tu_a_ && tu_got_ != tu_b_) { \
            fail_msg("%s\n    returned " TU_STATUS_FMT "\n    expected " TU_STATUS_FMT \
                     " or " TU_STATUS_FMT, #expr, TU_STATUS_ARGS(tu_got_), \
                     TU_STATUS_ARGS(tu_a_), TU_STATUS_ARGS(tu_b_)); \
        } \
    } while (0)

/** Assert two unsigned 64-bit values are equal, printing them in decimal. */
#define assert_u64_eq(a, b) do { \
        uint64_t tu_a_ = (uint64_t)(a), tu_b_ = (uint64_t)(b); \
        if (tu_a_ != tu_b_) \
            fail_msg("%s == %s\n    %" PRIu64 " != %" PRIu64, #a, #b, tu_a_, tu_b_); \
    } while (0)

#define assert_u64_ne(a, b) do { \
        uint64_t tu_a_ = (uint64_t)(a), tu_b_ = (uint64_t)(b); \
        if (tu_a_ == tu_b_) \
            fail_msg("%s != %s\n    both are %" PRIu64, #a, #b, tu_a_); \
    } while (0)

/** Assert a relation between two unsigned 64-bit values (op: <, <=, >, >=). */
#define assert_u64_cmp(a, op, b) do { \
        uint64_t tu_a_ = (uint64_t)(a), tu_b_ = (uint64_t)(b); \
        if (!(tu_a_ op tu_b_)) \
            fail_msg("%s %s %s\n    is false: %" PRIu64 " %s %" PRIu64, \
                     #a, #op, #b, tu_a_, #op, tu_b_); \
    } while (0)

/* ------------------------------------------------------------------ */
/* Paths                                                               */
/* ------------------------------------------------------------------ */

#define TU_PATH_MAX 512
#define TU_MAX_TRACKED 256

static char tu_tracked_[TU_MAX_TRACKED][TU_PATH_MAX];
static unsigned tu_ntracked_;
static unsigned tu_counter_;
static pid_t tu_owner_pid_;

static inline void tu_cleanup_tracked(void)
{
    if (getpid() != tu_owner_pid_)
        return;                 /* a forked child: the files are the parent's */
    for (unsigned i = 0; i < tu_ntracked_; i++) {
        if (tu_tracked_[i][0]) {
            unlink(tu_tracked_[i]);
            tu_tracked_[i][0] = 0;
        }
    }
}

static inline void tu_track(const char *path)
{
    if (tu_owner_pid_ == 0) {
        tu_owner_pid_ = getpid();
        atexit(tu_cleanup_tracked);
    }
    if (tu_ntracked_ < TU_MAX_TRACKED)
        snprintf(tu_tracked_[tu_ntracked_++], TU_PATH_MAX, "%s", path);
}

static inline const char *tu_dir(void)
{
    const char *d = getenv("SHMC_TEST_DIR");
    return (d && *d) ? d : "/dev/shm";
}

/** Fill buf with a fresh unique path "<dir>/shmc-test-<name>-<pid>-<n>" (tracked). */
static inline void tu_make_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/shmc-test-%s-%ld-%u", tu_dir(), name, (long)getpid(), tu_counter_++);
    unlink(buf);                /* a stale leftover of a crashed earlier run */
    tu_track(buf);
}

static inline int tu_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/** Remove a segment: shmc_destroy, then unlink if anything is left. */
static inline void tu_remove(const char *path)
{
    (void)shmc_destroy(path);
    if (tu_file_exists(path))
        unlink(path);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

typedef struct tu_fix {
    char path[TU_PATH_MAX];
    shmc_cache *c;
    shmc_config cfg;
    int skip_check;             /* set by a test that leaves a deliberately odd segment */
} tu_fix;

/** Create a fixture with a fresh segment (cfg NULL: defaults). NULL on failure. */
static inline tu_fix *tu_fix_new(const char *name, const shmc_config *cfg)
{
    tu_fix *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (cfg)
        f->cfg = *cfg;
    else
        shmc_config_init(&f->cfg);
    tu_make_path(f->path, sizeof f->path, name);
    shmc_status st = shmc_create(f->path, &f->cfg, &f->c);
    if (st != SHMC_OK) {
        print_error("setup: shmc_create(%s) returned " TU_STATUS_FMT "\n", f->path,
                    TU_STATUS_ARGS(st));
        tu_remove(f->path);
        free(f);
        return NULL;
    }
    return f;
}

/** cmocka setup body: a fixture named name with cfg (NULL: defaults) in *state. */
static inline int tu_setup(void **state, const char *name, const shmc_config *cfg);

/** cmocka teardown: check, close and remove the fixture in *state. */
static inline int tu_teardown(void **state);

/** The cache of the fixture in a cmocka state. */
#define CACHE(state) (((tu_fix *)*(state))->c)

/** Check, close and remove the fixture's segment. -1 if shmc_check found problems. */
static inline int tu_fix_free(tu_fix *f)
{
    int rc = 0;
    if (!f)
        return 0;
    if (f->c) {
        if (!f->skip_check) {
            unsigned problems = shmc_check(f->c, stderr);
            if (problems != 0) {
                print_error("teardown: shmc_check found %u problem(s) in %s\n", problems, f->path);
                rc = -1;
            }
        }
        shmc_close(f->c);
        f->c = NULL;
    }
    tu_remove(f->path);
    free(f);
    return rc;
}

static inline int tu_setup(void **state, const char *name, const shmc_config *cfg)
{
    tu_fix *f = tu_fix_new(name, cfg);
    if (!f)
        return -1;
    *state = f;
    return 0;
}

static inline int tu_teardown(void **state)
{
    return tu_fix_free(*state);
}

static inline shmc_stats tu_stats(shmc_cache *c)
{
    shmc_stats s;
    memset(&s, 0, sizeof s);
    assert_ok(shmc_stats_get(c, &s));
    return s;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/** Deterministic pseudo-random bytes for (seed, position). */
static inline void tu_fill(void *buf, size_t n, uint64_t seed)
{
    unsigned char *p = buf;
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    for (size_t i = 0; i < n; i++) {
        if ((i & 7) == 0) {
            x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        }
        p[i] = (unsigned char)((x * 0x2545F4914F6CDD1Dull) >> (56 - 8 * (i & 7) % 64));
    }
}

/** Index of the first byte where a and b differ, or n if equal. */
static inline size_t tu_first_diff(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return i;
    return n;
}

/** Assert two buffers are equal; on mismatch report the first differing offset. */
#define assert_bytes_equal(a, b, n) do { \
        size_t tu_n_ = (n); \
        size_t tu_d_ = tu_first_diff((a), (b), tu_n_); \
        if (tu_d_ != tu_n_) \
            fail_msg("%s and %s differ at byte %zu of %zu", #a, #b, tu_d_, tu_n_); \
    } while (0)

/** Get key (a C string) and assert it is present with exactly the value given. */
#define assert_value(c, key, expected, expected_len) do { \
        char tu_buf_[4096]; \
        size_t tu_len_ = sizeof tu_buf_; \
        size_t tu_elen_ = (expected_len); \
        assert_ok(shmc_get((c), (key), strlen(key), tu_buf_, &tu_len_, NULL, NULL)); \
        if (tu_len_ != tu_elen_) \
            fail_msg("value of \"%s\": length %zu, expected %zu", (const char *)(key), \
                     tu_len_, tu_elen_); \
        if (tu_elen_ && memcmp(tu_buf_, (expected), tu_elen_) != 0) \
            fail_msg("value of \"%s\": \"%.*s\", expected \"%.*s\"", (const char *)(key), \
                     (int)tu_len_, tu_buf_, (int)tu_elen_, (const char *)(expected)); \
    } while (0)

#define assert_value_str(c, key, str) assert_value((c), (key), (str), strlen(str))

/** Assert key (a C string) is absent. */
#define assert_missing(c, key) do { \
        char tu_buf_[64]; \
        size_t tu_len_ = sizeof tu_buf_; \
        assert_status(shmc_get((c), (key), strlen(key), tu_buf_, &tu_len_, NULL, NULL), \
                      SHMC_NOT_FOUND); \
    } while (0)

/** shmc_set of C-string key and value. */
static inline shmc_status tu_set(shmc_cache *c, const char *key, const char *val,
                                 uint32_t flags, int64_t exptime)
{
    return shmc_set(c, key, strlen(key), val, strlen(val), flags, exptime);
}

/** shmc_get of a C-string key; status only. */
static inline shmc_status tu_get_status(shmc_cache *c, const char *key)
{
    char buf[64];
    size_t len = sizeof buf;
    shmc_status st = shmc_get(c, key, strlen(key), buf, &len, NULL, NULL);
    if (st == SHMC_BUFFER_TOO_SMALL)
        st = SHMC_OK;           /* present; the caller only asks whether */
    return st;
}

/* ------------------------------------------------------------------ */
/* Forked children                                                     */
/* ------------------------------------------------------------------ */

#define CHILD_FAIL(...) do { \
        fprintf(stderr, "child %ld: %s:%d: ", (long)getpid(), __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr); \
        fflush(stderr); \
        _exit(100); \
    } while (0)

#define CHILD_CHECK(cond) do { \
        if (!(cond)) CHILD_FAIL("check failed: %s", #cond); \
    } while (0)

#define CHILD_STATUS(expr, expected) do { \
        shmc_status tu_got_ = (expr); \
        shmc_status tu_want_ = (expected); \
        if (tu_got_ != tu_want_) \
            CHILD_FAIL("%s returned " TU_STATUS_FMT ", expected " TU_STATUS_FMT, #expr, \
                       TU_STATUS_ARGS(tu_got_), TU_STATUS_ARGS(tu_want_)); \
    } while (0)

#define CHILD_OK(expr) CHILD_STATUS((expr), SHMC_OK)

/** Wait for pid for at most seconds; SIGKILL it on timeout. 0 ok, -1 timeout. */
static inline int tu_wait_timeout(pid_t pid, double seconds, int *status)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (el > seconds) {
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            return -1;
        }
        usleep(2000);
    }
}

/** Reap pid (timeout in seconds) and assert it exited with status 0. */
#define tu_wait_ok(pid, seconds) do { \
        int tu_ws_ = 0; \
        pid_t tu_pid_ = (pid); \
        if (tu_wait_timeout(tu_pid_, (seconds), &tu_ws_) != 0) \
            fail_msg("child %ld did not finish within %g s (killed)", (long)tu_pid_, \
                     (double)(seconds)); \
        if (WIFSIGNALED(tu_ws_)) \
            fail_msg("child %ld killed by signal %d", (long)tu_pid_, WTERMSIG(tu_ws_)); \
        if (!WIFEXITED(tu_ws_) || WEXITSTATUS(tu_ws_) != 0) \
            fail_msg("child %ld exited with status %d (see its stderr above)", \
                     (long)tu_pid_, WEXITSTATUS(tu_ws_)); \
    } while (0)

static inline double tu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The second of the clock the library reads (clock.h: coarse real time,
 * before the segment's clock_offset). */
static inline int64_t tu_real_second(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME_COARSE, &t);
    return (int64_t)t.tv_sec;
}

/* Wait for the library's real clock to start a new second, and return it:
 * a test counting simulated seconds then has most of a second before a
 * real tick adds one. */
static inline int64_t tu_next_second(void)
{
    int64_t s = tu_real_second();
    while (tu_real_second() == s)
        usleep(1000);
    return tu_real_second();
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/** Read a whole file into a malloc'd buffer. NULL on error. */
static inline unsigned char *tu_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n ? n : 1);
    size_t got = 0;
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (buf)
        *len = n;
    return buf;
}

/** Write len bytes to a new file (mode 0600). 0 on success. */
static inline int tu_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    const unsigned char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

/** Copy a file. 0 on success. */
static inline int tu_copy_file(const char *from, const char *to)
{
    size_t n = 0;
    unsigned char *buf = tu_read_file(from, &n);
    if (!buf)
        return -1;
    int rc = tu_write_file(to, buf, n);
    free(buf);
    return rc;
}

#endif /* SHMC_TESTUTIL_H */
