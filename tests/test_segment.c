/*
 * test_segment.c - segment files: create/open/destroy and their errors,
 * files that are not (valid) segments, modes and permissions, several
 * handles and processes on one segment, the client registry.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "segment.h" /* segment_retire: a destroyer that died half-way */

#include <grp.h>
#include <sys/resource.h>

#define KS(s) (s), strlen(s)
#define MiB (1024u * 1024u)

static void small_config(shmc_config *cfg)
{
    shmc_config_init(cfg);
    cfg->mem_bytes = 4 * MiB;
}

static int setup(void **state)
{
    shmc_config cfg;
    small_config(&cfg);
    return tu_setup(state, "segment", &cfg);
}

/* A scratch file path (tracked: removed at exit). */
static void scratch(char *path, const char *name)
{
    tu_make_path(path, TU_PATH_MAX, name);
}

/* Assert the file at path has exactly the bytes given. */
static void assert_file_is(const char *path, const unsigned char *data, size_t len)
{
    size_t n = 0;
    unsigned char *now = tu_read_file(path, &n);
    if (!now)
        fail_msg("%s: cannot read (%s); it should still be there", path, strerror(errno));
    if (n != len) {
        free(now);
        fail_msg("%s: size changed from %zu to %zu", path, len, n);
    }
    size_t d = tu_first_diff(now, data, len);
    free(now);
    if (d != len)
        fail_msg("%s: content changed at byte %zu", path, d);
}

/* Assert opening path fails with want (or want2) and leaves it untouched. */
static void expect_open_fails(const char *path, shmc_status want, shmc_status want2)
{
    size_t len = 0;
    unsigned char *before = tu_read_file(path, &len);
    assert_non_null(before);
    shmc_cache *c = NULL;
    shmc_status st = shmc_open(path, &c);
    if (st == SHMC_OK)
        shmc_close(c);
    if (st != want && st != want2)
        fail_msg("shmc_open(%s) returned " TU_STATUS_FMT ", expected " TU_STATUS_FMT, path,
                 TU_STATUS_ARGS(st), TU_STATUS_ARGS(want));
    assert_file_is(path, before, len);
    free(before);
}

/* Close the fixture's handle and copy its file to a new scratch path. */
static void copy_of_segment(tu_fix *f, char *copy)
{
    if (f->c) {
        shmc_close(f->c);
        f->c = NULL;
    }
    scratch(copy, "copy");
    assert_int_equal(tu_copy_file(f->path, copy), 0);
}

/* ------------------------------------------------------------------ */

/* create uses O_EXCL: never overwrites a segment or any other file. */
static void test_create_twice(void **state)
{
    tu_fix *f = *state;
    assert_ok(tu_set(f->c, "k", "v", 0, 0));
    shmc_cache *c2 = NULL;
    assert_status(shmc_create(f->path, &f->cfg, &c2), SHMC_FILE_EXISTS);
    assert_null(c2);
    assert_status(shmc_create(f->path, NULL, &c2), SHMC_FILE_EXISTS);
    /* the existing segment is unharmed */
    assert_value_str(f->c, "k", "v");
    shmc_cache *c3 = NULL;
    assert_ok(shmc_open(f->path, &c3));
    assert_value_str(c3, "k", "v");
    shmc_close(c3);

    /* nor over an unrelated file */
    char path[TU_PATH_MAX];
    scratch(path, "plain");
    const char text[] = "precious data\n";
    assert_int_equal(tu_write_file(path, text, sizeof text - 1), 0);
    assert_status(shmc_create(path, NULL, &c2), SHMC_FILE_EXISTS);
    assert_file_is(path, (const unsigned char *)text, sizeof text - 1);
}

/* open/destroy of a path with no file: NO_FILE. */
static void test_open_missing(void **state)
{
    (void)state;
    char path[TU_PATH_MAX];
    scratch(path, "missing");
    shmc_cache *c = NULL;
    assert_status(shmc_open(path, &c), SHMC_NO_FILE);
    assert_null(c);
    assert_status(shmc_destroy(path), SHMC_NO_FILE);
    assert_status(shmc_open("/dev/shm/no-such-dir-shmc-test/x", &c), SHMC_NO_FILE);
    assert_false(tu_file_exists(path));
}

/* Files that are not segments: NOT_SEGMENT, and the file is not touched. */
static void test_open_not_segment(void **state)
{
    (void)state;
    char path[TU_PATH_MAX];

    /* 1 MiB of random bytes */
    scratch(path, "random");
    size_t n = 1 * MiB;
    unsigned char *rnd = malloc(n);
    assert_non_null(rnd);
    tu_fill(rnd, n, (uint64_t)getpid());
    assert_int_equal(tu_write_file(path, rnd, n), 0);
    expect_open_fails(path, SHMC_NOT_SEGMENT, SHMC_NOT_SEGMENT);
    free(rnd);

    /* a text file, large enough to hold any header */
    scratch(path, "text");
    size_t tn = 0, cap = 200000;
    char *text = malloc(cap);
    assert_non_null(text);
    while (tn + 100 < cap)
        tn += (size_t)snprintf(text + tn, cap - tn, "line %zu: the quick brown fox jumps\n", tn);
    assert_int_equal(tu_write_file(path, text, tn), 0);
    expect_open_fails(path, SHMC_NOT_SEGMENT, SHMC_NOT_SEGMENT);
    free(text);

    /* a short text file: too short for a header; either answer, no crash */
    scratch(path, "short");
    assert_int_equal(tu_write_file(path, "hello\n", 6), 0);
    expect_open_fails(path, SHMC_NOT_SEGMENT, SHMC_CORRUPT);

    /* a directory */
    shmc_cache *c = NULL;
    shmc_status st = shmc_open(tu_dir(), &c);
    if (st == SHMC_OK) {
        shmc_close(c);
        fail_msg("shmc_open of a directory succeeded");
    }
}

/* A zero-length file: CORRUPT or NOT_SEGMENT, no crash, still empty. */
static void test_open_zero_length(void **state)
{
    (void)state;
    char path[TU_PATH_MAX];
    scratch(path, "empty");
    assert_int_equal(tu_write_file(path, "", 0), 0);
    expect_open_fails(path, SHMC_CORRUPT, SHMC_NOT_SEGMENT);
    assert_status_either(shmc_destroy(path), SHMC_CORRUPT, SHMC_NOT_SEGMENT);
    assert_true(tu_file_exists(path));
}

/* A segment cut short: CORRUPT, file untouched; the uncut copy is fine. */
static void test_open_truncated(void **state)
{
    tu_fix *f = *state;
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_ok(tu_set(f->c, key, "some value", 0, 0));
    }
    char copy[TU_PATH_MAX];
    copy_of_segment(f, copy);

    /* control: an exact copy of a closed segment is a working segment */
    shmc_cache *c = NULL;
    assert_ok(shmc_open(copy, &c));
    assert_value_str(c, "k42", "some value");
    assert_u64_eq(tu_stats(c).curr_items, 100);
    assert_int_equal(shmc_check(c, stderr), 0);
    shmc_close(c);

    struct stat st;
    assert_int_equal(stat(copy, &st), 0);
    off_t full = st.st_size;
    assert_true(full > 4096);

    const off_t cuts[] = { full / 2, full - 1, 4096, 64, 12 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char cut[TU_PATH_MAX];
        scratch(cut, "cut");
        assert_int_equal(tu_copy_file(f->path, cut), 0);
        assert_int_equal(truncate(cut, cuts[i]), 0);
        print_message("truncated to %lld of %lld bytes\n", (long long)cuts[i], (long long)full);
        expect_open_fails(cut, SHMC_CORRUPT, SHMC_CORRUPT);
        unlink(cut);
    }
}

/* Magic (bytes 0..7) changed: NOT_SEGMENT. Version (uint32 at 8..11)
 * changed: BAD_VERSION. The file is untouched either way. */
static void test_bad_magic_and_version(void **state)
{
    tu_fix *f = *state;
    char copy[TU_PATH_MAX];
    copy_of_segment(f, copy);
    size_t n = 0;
    unsigned char *img = tu_read_file(copy, &n);
    assert_non_null(img);
    assert_true(n > 64);

    char path[TU_PATH_MAX];
    /* version bytes flipped */
    scratch(path, "badver");
    unsigned char *m = malloc(n);
    assert_non_null(m);
    memcpy(m, img, n);
    for (int i = 8; i < 12; i++)
        m[i] ^= 0xFF;
    assert_int_equal(tu_write_file(path, m, n), 0);
    expect_open_fails(path, SHMC_BAD_VERSION, SHMC_BAD_VERSION);

    /* version + 1 */
    scratch(path, "nextver");
    memcpy(m, img, n);
    uint32_t v;
    memcpy(&v, m + 8, 4);
    v += 1;
    memcpy(m + 8, &v, 4);
    assert_int_equal(tu_write_file(path, m, n), 0);
    expect_open_fails(path, SHMC_BAD_VERSION, SHMC_BAD_VERSION);

    /* magic: first byte, last byte */
    scratch(path, "badmagic");
    memcpy(m, img, n);
    m[0] ^= 0x01;
    assert_int_equal(tu_write_file(path, m, n), 0);
    expect_open_fails(path, SHMC_NOT_SEGMENT, SHMC_NOT_SEGMENT);
    assert_status(shmc_destroy(path), SHMC_NOT_SEGMENT);
    assert_true(tu_file_exists(path));

    scratch(path, "badmagic7");
    memcpy(m, img, n);
    m[7] ^= 0x80;
    assert_int_equal(tu_write_file(path, m, n), 0);
    expect_open_fails(path, SHMC_NOT_SEGMENT, SHMC_NOT_SEGMENT);

    /* control: the unmodified image opens */
    scratch(path, "good");
    assert_int_equal(tu_write_file(path, img, n), 0);
    shmc_cache *c = NULL;
    assert_ok(shmc_open(path, &c));
    shmc_close(c);
    free(m);
    free(img);
}

/* "mode: file mode of the segment; default 0600". */
static void test_mode_default(void **state)
{
    (void)state;
    mode_t old = umask(022);
    char path[TU_PATH_MAX];
    scratch(path, "mode");
    shmc_config cfg;
    small_config(&cfg);
    shmc_cache *c = NULL;
    shmc_status st = shmc_create(path, &cfg, &c);
    umask(old);
    assert_ok(st);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    if ((sb.st_mode & 07777) != 0600)
        fail_msg("default mode is 0%o, expected 0600", (unsigned)(sb.st_mode & 07777));
    shmc_close(c);
    tu_remove(path);
}

/* A given mode and group are honoured. */
static void test_mode_and_group(void **state)
{
    (void)state;
    mode_t old = umask(022);
    char path[TU_PATH_MAX];
    scratch(path, "mode640");
    shmc_config cfg;
    small_config(&cfg);
    cfg.mode = 0640;
    gid_t want_gid = geteuid() == 0 ? (gid_t)65534 : getegid();
    cfg.group = want_gid;
    shmc_cache *c = NULL;
    shmc_status st = shmc_create(path, &cfg, &c);
    umask(old);
    assert_ok(st);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    if ((sb.st_mode & 07777) != 0640)
        fail_msg("mode is 0%o, expected 0640", (unsigned)(sb.st_mode & 07777));
    assert_u64_eq(sb.st_gid, want_gid);
    shmc_config got;
    assert_ok(shmc_config_get(c, &got));
    assert_int_equal(got.mode, 0640);
    shmc_close(c);
    tu_remove(path);
}

/* The configured mode is the file's mode whatever the umask. */
static void test_mode_ignores_umask(void **state)
{
    (void)state;
    mode_t old = umask(077);
    char path[TU_PATH_MAX];
    scratch(path, "umask");
    shmc_config cfg;
    small_config(&cfg);
    cfg.mode = 0660;
    shmc_cache *c = NULL;
    shmc_status st = shmc_create(path, &cfg, &c);
    umask(old);
    assert_ok(st);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    shmc_close(c);
    tu_remove(path);
    if ((sb.st_mode & 07777) != 0660)
        fail_msg("mode 0660 with umask 077 gave 0%o", (unsigned)(sb.st_mode & 07777));
}

/* Become uid/gid 65534 (nobody) in a forked child. */
static void child_become_nobody(void)
{
    CHILD_CHECK(setgroups(0, NULL) == 0);
    CHILD_CHECK(setresgid(65534, 65534, 65534) == 0);
    CHILD_CHECK(setresuid(65534, 65534, 65534) == 0);
    CHILD_CHECK(geteuid() == 65534);
}

/* PERMISSION: a process that may not read/write the file or the directory. */
static void test_permission(void **state)
{
    tu_fix *f = *state;
    assert_ok(tu_set(f->c, "k", "v", 0, 0));
    size_t len = 0;
    unsigned char *before = NULL;

    if (geteuid() != 0) {
        /* not root: a file mode 000 cannot be opened */
        assert_int_equal(chmod(f->path, 0), 0);
        shmc_cache *c = NULL;
        shmc_status st = shmc_open(f->path, &c);
        chmod(f->path, 0600);
        if (st == SHMC_OK)
            shmc_close(c);
        assert_status(st, SHMC_PERMISSION);
        return;
    }

    /* root: a child as nobody */
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    before = tu_read_file(f->path, &len);
    assert_non_null(before);
    char dir[TU_PATH_MAX];
    scratch(dir, "rootdir");
    assert_int_equal(mkdir(dir, 0755), 0);
    char indir[TU_PATH_MAX + 16];
    snprintf(indir, sizeof indir, "%s/seg", dir);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_become_nobody();
        shmc_cache *c = NULL;
        /* 0600 root's file */
        CHILD_STATUS(shmc_open(f->path, &c), SHMC_PERMISSION);
        CHILD_STATUS(shmc_destroy(f->path), SHMC_PERMISSION);
        /* create in a directory nobody may write */
        CHILD_STATUS(shmc_create(indir, NULL, &c), SHMC_PERMISSION);
        _exit(0);
    }
    tu_wait_ok(pid, 30);
    assert_file_is(f->path, before, len);
    assert_false(tu_file_exists(indir));
    rmdir(dir);
    /* the refused calls left the segment alone (and it still works) */
    assert_true(tu_file_exists(f->path));
    assert_value_str(f->c, "k", "v");

    /* readable but not writable for others: still no (a cache needs writing) */
    assert_int_equal(chmod(f->path, 0644), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_become_nobody();
        shmc_cache *c = NULL;
        CHILD_STATUS(shmc_open(f->path, &c), SHMC_PERMISSION);
        _exit(0);
    }
    tu_wait_ok(pid, 30);

    /* control: once others may read and write, nobody can attach */
    assert_int_equal(chmod(f->path, 0666), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_become_nobody();
        shmc_cache *c = NULL;
        CHILD_OK(shmc_open(f->path, &c));
        CHILD_OK(tu_get_status(c, "k"));
        CHILD_OK(tu_set(c, "from-nobody", "yes", 0, 0));
        shmc_close(c);
        _exit(0);
    }
    tu_wait_ok(pid, 30);
    chmod(f->path, 0600);
    assert_value_str(f->c, "from-nobody", "yes");
    free(before);
}

/* destroy checks the magic first: an unrelated file is refused and kept. */
static void test_destroy(void **state)
{
    tu_fix *f = *state;
    char path[TU_PATH_MAX];
    scratch(path, "notseg");
    const char text[] = "this is not a shmcached segment, and it is long enough to hold "
                        "a header if it were one; do not delete me\n";
    assert_int_equal(tu_write_file(path, text, sizeof text - 1), 0);
    assert_status(shmc_destroy(path), SHMC_NOT_SEGMENT);
    assert_file_is(path, (const unsigned char *)text, sizeof text - 1);

    /* a real segment: removed; then it is gone for open and destroy */
    shmc_close(f->c);
    f->c = NULL;
    assert_ok(shmc_destroy(f->path));
    assert_false(tu_file_exists(f->path));
    shmc_cache *c = NULL;
    assert_status(shmc_open(f->path, &c), SHMC_NO_FILE);
    assert_status(shmc_destroy(f->path), SHMC_NO_FILE);
}

/* "Processes still attached keep working on their mapping until they close." */
static void test_destroy_while_attached(void **state)
{
    tu_fix *f = *state;
    assert_ok(tu_set(f->c, "k", "v", 0, 0));
    shmc_cache *other = NULL;
    assert_ok(shmc_open(f->path, &other));

    /* "if unused" refuses while live clients are attached, changing nothing */
    assert_status(shmc_destroy_with(f->path, SHMC_DESTROY_UNUSED), SHMC_BUSY);
    assert_true(tu_file_exists(f->path));
    assert_value_str(f->c, "k", "v");
    assert_status(shmc_destroy_with(f->path, 2), SHMC_INVALID);

    /* destroyed: every attached handle is told from its next call, so no
     * process keeps reading a cache nobody else can reach */
    assert_ok(shmc_destroy(f->path));
    assert_false(tu_file_exists(f->path));
    char buf[16];
    size_t len = sizeof buf;
    assert_status(shmc_get(f->c, "k", 1, buf, &len, NULL, NULL), SHMC_STALE);
    assert_status(shmc_set(other, "k", 1, "x", 1, 0, 0), SHMC_STALE);
    assert_status(shmc_incr(other, "k", 1, 1, NULL), SHMC_STALE);
    shmc_stats st;
    assert_status(shmc_stats_get(other, &st), SHMC_STALE);
    assert_int_equal(shmc_check(other, NULL), 1);
    shmc_cache *again = NULL;
    assert_status(shmc_open(f->path, &again), SHMC_NO_FILE); /* what re-opening finds */

    /* a new segment can be created at the path; it is a different one */
    shmc_cache *c2 = NULL;
    assert_ok(shmc_create(f->path, &f->cfg, &c2));
    assert_missing(c2, "k");
    assert_ok(tu_set(c2, "k", "new", 0, 0));
    len = sizeof buf;
    assert_status(shmc_get(f->c, "k", 1, buf, &len, NULL, NULL), SHMC_STALE);
    shmc_close(other);
    shmc_close(f->c); /* closing a stale handle works */
    f->c = c2;        /* the teardown checks and removes the new one */
    /* alone on it now: "if unused" would remove it (shown with a copy) */
    char copy[TU_PATH_MAX];
    scratch(copy, "unused");
    shmc_cache *solo = NULL;
    assert_ok(shmc_create(copy, &f->cfg, &solo));
    shmc_close(solo);
    assert_ok(shmc_destroy_with(copy, SHMC_DESTROY_UNUSED));
    assert_false(tu_file_exists(copy));
}

/* A segment marked stale but not yet removed (its destroyer died between
 * the two steps) cannot be attached. */
static void test_stale_segment_refused(void **state)
{
    tu_fix *f = *state;
    assert_ok(segment_retire(f->path));
    shmc_cache *late = NULL;
    assert_status(shmc_open(f->path, &late), SHMC_STALE);
    assert_null(late);
    assert_ok(segment_retire(f->path)); /* twice is fine */
    char buf[4];
    size_t len = sizeof buf;
    assert_status(shmc_get(f->c, "k", 1, buf, &len, NULL, NULL), SHMC_STALE);
    f->skip_check = 1; /* check answers 1 on a stale segment */
    assert_ok(shmc_destroy(f->path));
}

/* Two handles in one process are two clients of one cache. */
static void test_two_handles(void **state)
{
    tu_fix *f = *state;
    shmc_cache *a = f->c, *b = NULL;
    assert_ok(shmc_open(f->path, &b));
    uint64_t cas = 0, gcas = 0;
    assert_ok(shmc_store(a, SHMC_SET, KS("x"), "from a", 6, 1, 0, 0, &cas));
    char buf[16];
    size_t len = sizeof buf;
    uint32_t flags = 0;
    assert_ok(shmc_get(b, KS("x"), buf, &len, &flags, &gcas));
    assert_u64_eq(len, 6);
    assert_memory_equal(buf, "from a", 6);
    assert_u64_eq(flags, 1);
    assert_u64_eq(gcas, cas);

    assert_ok(tu_set(b, "y", "from b", 0, 0));
    assert_value_str(a, "y", "from b");
    assert_status(shmc_incr(b, KS("x"), 1, NULL), SHMC_NOT_NUMERIC);
    assert_ok(shmc_delete(b, KS("x"), 0));
    assert_missing(a, "x");
    /* a cas read by one handle is checked by the other */
    assert_ok(shmc_store(a, SHMC_SET, KS("c"), "1", 1, 0, 0, 0, &cas));
    assert_ok(shmc_store(b, SHMC_CAS, KS("c"), "2", 1, 0, 0, cas, NULL));
    assert_status(shmc_store(a, SHMC_CAS, KS("c"), "3", 1, 0, 0, cas, NULL), SHMC_EXISTS);
    assert_value_str(a, "c", "2");

    shmc_stats sa = tu_stats(a), sb = tu_stats(b);
    assert_u64_eq(sa.curr_items, sb.curr_items);
    assert_u64_eq(sa.curr_items, 2);
    assert_u64_eq(sa.cmd_set, sb.cmd_set);
    shmc_close(b);
    /* a goes on */
    assert_value_str(a, "y", "from b");
    assert_ok(tu_set(a, "z", "after close", 0, 0));
    assert_value_str(a, "z", "after close");
}

/* Another process sees this process's writes at once, and vice versa. */
static void test_fork_child_sees_writes(void **state)
{
    tu_fix *f = *state;
    int to_child[2], to_parent[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    assert_ok(tu_set(f->c, "parent1", "p1", 0, 0));

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        shmc_cache *c = NULL;
        char b;
        CHILD_OK(shmc_open(f->path, &c));
        char buf[16];
        size_t len = sizeof buf;
        CHILD_OK(shmc_get(c, "parent1", 7, buf, &len, NULL, NULL));
        CHILD_CHECK(len == 2 && memcmp(buf, "p1", 2) == 0);
        CHILD_OK(tu_set(c, "child1", "c1", 5, 0));
        CHILD_CHECK(write(to_parent[1], "1", 1) == 1);
        /* wait until the parent wrote again, while still attached */
        CHILD_CHECK(read(to_child[0], &b, 1) == 1);
        len = sizeof buf;
        CHILD_OK(shmc_get(c, "parent2", 7, buf, &len, NULL, NULL));
        CHILD_CHECK(len == 2 && memcmp(buf, "p2", 2) == 0);
        CHILD_STATUS(tu_get_status(c, "parent1"), SHMC_NOT_FOUND);
        shmc_stats s;
        CHILD_OK(shmc_stats_get(c, &s));
        CHILD_CHECK(s.curr_clients == 2);
        shmc_close(c);
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    char b;
    assert_int_equal(read(to_parent[0], &b, 1), 1);
    char buf[16];
    size_t len = sizeof buf;
    uint32_t flags = 0;
    assert_ok(shmc_get(f->c, KS("child1"), buf, &len, &flags, NULL));
    assert_u64_eq(len, 2);
    assert_memory_equal(buf, "c1", 2);
    assert_u64_eq(flags, 5);
    assert_u64_eq(tu_stats(f->c).curr_clients, 2);
    assert_ok(tu_set(f->c, "parent2", "p2", 0, 0));
    assert_ok(shmc_delete(f->c, KS("parent1"), 0));
    assert_int_equal(write(to_child[1], "2", 1), 1);
    tu_wait_ok(pid, 30);
    close(to_child[1]);
    close(to_parent[0]);
    assert_u64_eq(tu_stats(f->c).curr_clients, 1);
}

/* shmc_config_get returns the creation parameters, to every client. */
static void test_config_get(void **state)
{
    (void)state;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 8 * MiB;
    cfg.item_size_max = 512 * 1024;
    cfg.chunk_size_min = 64;
    cfg.growth_factor = 1.5;
    cfg.no_evict = 1;
    cfg.hash_power = 12;
    cfg.max_clients = 16;
    cfg.hot_lru_pct = 30;
    cfg.warm_lru_pct = 30;
    cfg.slab_automove = 0;
    cfg.mode = 0640;
    char path[TU_PATH_MAX];
    scratch(path, "cfgget");
    shmc_cache *c = NULL, *c2 = NULL;
    assert_ok(shmc_create(path, &cfg, &c));
    assert_ok(shmc_open(path, &c2));
    shmc_cache *hs[2] = { c, c2 };
    for (int i = 0; i < 2; i++) {
        shmc_config got;
        memset(&got, 0xAB, sizeof got);
        assert_ok(shmc_config_get(hs[i], &got));
        assert_u64_eq(got.mem_bytes, cfg.mem_bytes);
        assert_u64_eq(got.item_size_max, cfg.item_size_max);
        assert_u64_eq(got.chunk_size_min, cfg.chunk_size_min);
        assert_true(got.growth_factor > 1.4999 && got.growth_factor < 1.5001);
        assert_int_equal(got.no_evict, 1);
        assert_u64_eq(got.hash_power, 12);
        assert_u64_eq(got.max_clients, 16);
        assert_u64_eq(got.hot_lru_pct, 30);
        assert_u64_eq(got.warm_lru_pct, 30);
        assert_int_equal(got.slab_automove, 0);
        assert_int_equal(got.mode, 0640);
    }
    shmc_stats s = tu_stats(c2);
    assert_u64_eq(s.limit_maxbytes, 8 * MiB);
    assert_u64_eq(s.hash_power_level, 12);
    /* the first class's chunk holds chunk_size_min bytes of key+value */
    shmc_class_stats cs;
    assert_ok(shmc_class_stats_get(c, 1, &cs));
    assert_u64_cmp(cs.chunk_size, >=, 64);
    shmc_class_stats cs2;
    assert_ok(shmc_class_stats_get(c, 2, &cs2));
    assert_u64_cmp(cs2.chunk_size, >, cs.chunk_size);
    shmc_close(c2);
    shmc_close(c);
    tu_remove(path);
}

/* shmc_segment_identity: the attached file's dev and inode and the
 * creation time, the same through every handle of the segment; SHMC_STALE
 * once the segment was destroyed, and another identity for the segment
 * created anew at its path. */
static void test_segment_identity(void **state)
{
    (void)state;
    char path[TU_PATH_MAX];
    scratch(path, "ident");
    time_t before = time(NULL);
    shmc_cache *c = NULL, *c2 = NULL;
    assert_ok(shmc_create(path, NULL, &c));
    assert_ok(shmc_open(path, &c2));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    shmc_segment_id a, b;
    memset(&a, 0xAB, sizeof a);
    assert_ok(shmc_segment_identity(c, &a));
    assert_ok(shmc_segment_identity(c2, &b));
    assert_u64_eq(a.dev, (uint64_t)sb.st_dev);
    assert_u64_eq(a.ino, (uint64_t)sb.st_ino);
    assert_true(a.created >= before && a.created <= time(NULL));
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(shmc_segment_identity(c, NULL), SHMC_INVALID);
    assert_int_equal(shmc_segment_identity(NULL, &b), SHMC_INVALID);
    shmc_close(c2);
    /* destroyed: the old handle says so; a new segment at the same path,
     * while the old one is still mapped (as a server keeps it), is another */
    assert_ok(shmc_destroy(path));
    assert_int_equal(shmc_segment_identity(c, &b), SHMC_STALE);
    shmc_cache *c3 = NULL;
    assert_ok(shmc_create(path, NULL, &c3));
    assert_ok(shmc_segment_identity(c3, &b));
    assert_true(b.ino != a.ino || b.dev != a.dev);
    shmc_close(c3);
    shmc_close(c);
    tu_remove(path);
}

/* The client registry has max_clients slots; a closed handle frees one. */
static void test_too_many_clients(void **state)
{
    (void)state;
    shmc_config cfg;
    small_config(&cfg);
    cfg.max_clients = 4;
    char path[TU_PATH_MAX];
    scratch(path, "clients");
    shmc_cache *hs[16] = { 0 };
    assert_ok(shmc_create(path, &cfg, &hs[0]));
    int n = 1;
    shmc_status st = SHMC_OK;
    while (n < 16) {
        st = shmc_open(path, &hs[n]);
        if (st != SHMC_OK)
            break;
        n++;
    }
    print_message("%d handles attached with max_clients = 4\n", n);
    assert_status(st, SHMC_TOO_MANY_CLIENTS);
    assert_int_equal(n, 4);
    assert_u64_eq(tu_stats(hs[0]).curr_clients, 4);
    /* the handles all work */
    assert_ok(tu_set(hs[n - 1], "k", "v", 0, 0));
    assert_value_str(hs[0], "k", "v");
    /* one closed: room for one more */
    shmc_close(hs[n - 1]);
    hs[n - 1] = NULL;
    assert_ok(shmc_open(path, &hs[n - 1]));
    shmc_cache *extra = NULL;
    assert_status(shmc_open(path, &extra), SHMC_TOO_MANY_CLIENTS);
    for (int i = 0; i < n; i++)
        shmc_close(hs[i]);
    tu_remove(path);
}

/* A process that died attached is detected and its slot reclaimed. */
static void test_dead_client_reaped(void **state)
{
    tu_fix *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shmc_cache *c = NULL;
        CHILD_OK(shmc_open(f->path, &c));
        CHILD_OK(tu_set(c, "child", "was here", 0, 0));
        _exit(0);            /* no shmc_close */
    }
    int ws;
    assert_int_equal(tu_wait_timeout(pid, 30, &ws), 0);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

    unsigned reaped = 99;
    assert_ok(shmc_recover(f->c, &reaped));
    shmc_stats s = tu_stats(f->c);
    print_message("recover reaped %u, clients_recovered %" PRIu64 "\n", reaped,
                  s.clients_recovered);
    assert_true(reaped <= 1);
    assert_u64_eq(s.clients_recovered, 1);
    assert_u64_eq(s.curr_clients, 1);
    assert_value_str(f->c, "child", "was here");
    /* a second recover finds nothing */
    assert_ok(shmc_recover(f->c, &reaped));
    assert_int_equal(reaped, 0);
    assert_ok(shmc_recover(f->c, NULL));
}

/* "works after every attached process crashed": open repairs. */
static void test_open_after_all_crashed(void **state)
{
    tu_fix *f = *state;
    shmc_close(f->c);
    f->c = NULL;
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            shmc_cache *c = NULL;
            CHILD_OK(shmc_open(f->path, &c));
            char key[16];
            snprintf(key, sizeof key, "crash%d", round);
            CHILD_OK(tu_set(c, key, "v", 0, 0));
            raise(SIGKILL);
            _exit(1);
        }
        int ws;
        assert_int_equal(tu_wait_timeout(pid, 30, &ws), 0);
        assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    }
    shmc_cache *c = NULL;
    assert_ok(shmc_open(f->path, &c));
    f->c = c;
    assert_value_str(c, "crash0", "v");
    assert_value_str(c, "crash2", "v");
    assert_ok(shmc_recover(c, NULL));
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.curr_clients, 1);
    assert_u64_eq(s.clients_recovered, 3);
    assert_int_equal(shmc_check(c, stderr), 0);
}

/* Slots of clients that died are given back: a full registry of dead
 * clients does not lock out new ones. */
static void test_dead_clients_free_slots(void **state)
{
    (void)state;
    shmc_config cfg;
    small_config(&cfg);
    cfg.max_clients = 4;
    char path[TU_PATH_MAX];
    scratch(path, "deadslots");
    shmc_cache *c = NULL;
    assert_ok(shmc_create(path, &cfg, &c));
    for (int i = 0; i < 3; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            shmc_cache *cc = NULL;
            CHILD_OK(shmc_open(path, &cc));
            _exit(0);     /* dies attached */
        }
        tu_wait_ok(pid, 30);
    }
    /* all 4 slots are held (1 live, 3 dead): opening must reap the dead */
    shmc_cache *hs[3] = { 0 };
    for (int i = 0; i < 3; i++)
        assert_ok(shmc_open(path, &hs[i]));
    shmc_stats s = tu_stats(c);
    assert_u64_eq(s.curr_clients, 4);
    assert_u64_eq(s.clients_recovered, 3);
    shmc_cache *extra = NULL;
    assert_status(shmc_open(path, &extra), SHMC_TOO_MANY_CLIENTS);
    for (int i = 0; i < 3; i++)
        shmc_close(hs[i]);
    assert_int_equal(shmc_check(c, stderr), 0);
    shmc_close(c);
    tu_remove(path);
}

/* A system call failing in create (here: the file size limit) gives
 * SHMC_SYSTEM and leaves nothing at the path. */
static void test_create_system_error(void **state)
{
    (void)state;
    char path[TU_PATH_MAX];
    scratch(path, "fsize");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 1024 * 1024, 1024 * 1024 };
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
        shmc_config cfg;
        small_config(&cfg);
        shmc_cache *c = NULL;
        shmc_status st = shmc_create(path, &cfg, &c);
        if (st == SHMC_OK)
            CHILD_FAIL("shmc_create of a 4 MiB segment under a 1 MiB file size limit succeeded");
        CHILD_STATUS(st, SHMC_SYSTEM);
        CHILD_CHECK(!tu_file_exists(path));
        _exit(0);
    }
    tu_wait_ok(pid, 30);
    assert_false(tu_file_exists(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_teardown)
        T(test_create_twice),
        T(test_create_system_error),
        T(test_open_missing),
        T(test_open_not_segment),
        T(test_open_zero_length),
        T(test_open_truncated),
        T(test_bad_magic_and_version),
        T(test_mode_default),
        T(test_mode_and_group),
        T(test_mode_ignores_umask),
        T(test_permission),
        T(test_destroy),
        T(test_destroy_while_attached),
        T(test_stale_segment_refused),
        T(test_two_handles),
        T(test_fork_child_sees_writes),
        T(test_config_get),
        T(test_segment_identity),
        T(test_too_many_clients),
        T(test_dead_client_reaped),
        T(test_dead_clients_free_slots),
        T(test_open_after_all_crashed),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
