/*
 * test_settings.c - the daemon's command line (server/settings.c):
 * memcached 1.6's defaults, every flag in short and long form, the k/m
 * size suffixes, -o suboptions, and bad values -> an error with
 * memcached's wording; settings_check_auth: -S and -Y against -B and -U.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "settings.h"
#include "shmcached.h" /* SHMC_LOCK_WAIT_MS_MAX */

static char err[1024];

/* Parse a NULL-terminated list of arguments (argv[0] added). */
static int parse_v(settings *s, va_list ap)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"shmcached";
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 63)
        argv[argc++] = (char *)a;
    argv[argc] = NULL;
    settings_init(s);
    err[0] = '\0';
    return settings_parse(s, argc, argv, err, sizeof err);
}

static void ok(settings *s, ...)
{
    va_list ap;
    va_start(ap, s);
    int rc = parse_v(s, ap);
    va_end(ap);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
}

/* Expect an error whose message contains want. */
static void bad(const char *want, ...)
{
    settings s;
    va_list ap;
    va_start(ap, want);
    int rc = parse_v(&s, ap);
    va_end(ap);
    assert_int_equal(rc, -1);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

/* Parse (which must succeed), then settings_check_auth: its result. */
static int check_auth_v(settings *s, va_list ap)
{
    if (parse_v(s, ap) != 0)
        fail_msg("unexpected parse error: %s", err);
    return settings_check_auth(s, err, sizeof err);
}

/* Expect the authentication rules to pass and settle the protocol at want. */
static void auth_ok(enum binding_protocol want, ...)
{
    settings s;
    va_list ap;
    va_start(ap, want);
    int rc = check_auth_v(&s, ap);
    va_end(ap);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
    assert_int_equal(s.binding_protocol, want);
}

/* Expect the authentication rules to refuse, with exactly this message. */
static void auth_bad(const char *want, ...)
{
    settings s;
    va_list ap;
    va_start(ap, want);
    int rc = check_auth_v(&s, ap);
    va_end(ap);
    assert_int_equal(rc, -1);
    assert_string_equal(err, want);
}

static void test_defaults(void **state)
{
    settings s;
    ok(&s, NULL);
    assert_int_equal(s.port, 11211);
    assert_int_equal(s.udpport, 0);
    assert_null(s.socketpath);
    assert_int_equal(s.access, 0700);
    assert_null(s.inter);
    assert_int_equal(s.maxbytes, 64ULL << 20);
    assert_int_equal(s.maxconns, 1024);
    assert_int_equal(s.num_threads, 4);
    assert_int_equal(s.item_size_max, 1 << 20);
    assert_true(s.factor == 1.25);
    assert_int_equal(s.chunk_size, 48);
    assert_int_equal(s.evict_to_free, 1);
    assert_int_equal(s.use_cas, 1);
    assert_int_equal(s.flush_enabled, 1);
    assert_int_equal(s.shutdown_command, 0);
    assert_int_equal(s.reqs_per_event, 20);
    assert_int_equal(s.binding_protocol, PROTO_AUTO);
    assert_int_equal(s.backlog, 1024);
    assert_null(s.auth_file);
    assert_int_equal(s.daemonize, 0);
    assert_null(s.pid_file);
    assert_null(s.username);
    assert_int_equal(s.verbose, 0);
    assert_null(s.segment);
    assert_int_equal(s.hashpower_init, 0);
    assert_string_equal(s.hash_algorithm, "murmur3");
    assert_int_equal(s.slab_chunk_size_max, 512 * 1024);
    assert_int_equal(s.slab_reassign, 1);
    assert_int_equal(s.slab_automove, 1);
    assert_int_equal(s.lru_crawler, 1);
    assert_int_equal(s.lru_maintainer_thread, 1);
    assert_int_equal(s.temporary_ttl, 61);
    assert_int_equal(s.hot_lru_pct, 20);
    assert_int_equal(s.warm_lru_pct, 40);
    assert_int_equal(s.idle_timeout, 0);
    assert_int_equal(s.maxconns_fast, 1);
    assert_int_equal(s.help, 0);
    assert_int_equal(s.version, 0);
}

static void test_short_flags(void **state)
{
    settings s;
    ok(&s, "-p", "1234", "-U", "4321", "-s", "/tmp/x.sock", "-a", "755", "-l", "127.0.0.1",
       "-m", "128", "-c", "10", "-t", "2", "-I", "2m", "-f", "1.5", "-n", "64", "-M", "-C", "-F",
       "-A", "-R", "5", "-B", "ascii", "-b", "16", "-Y", "/tmp/auth", "-d", "-P", "/tmp/pid",
       "-u", "nobody", "-vv", "-e", "/dev/shm/seg", "-k", "-r", "-L", "-X", "-W", "-D", "#",
       NULL);
    assert_int_equal(s.port, 1234);
    assert_int_equal(s.udpport, 4321);
    assert_string_equal(s.socketpath, "/tmp/x.sock");
    assert_int_equal(s.access, 0755);
    assert_string_equal(s.inter, "127.0.0.1");
    assert_int_equal(s.maxbytes, 128ULL << 20);
    assert_int_equal(s.maxconns, 10);
    assert_int_equal(s.num_threads, 2);
    assert_int_equal(s.item_size_max, 2 << 20);
    assert_true(s.factor == 1.5);
    assert_int_equal(s.chunk_size, 64);
    assert_int_equal(s.evict_to_free, 0);
    assert_int_equal(s.use_cas, 0);
    assert_int_equal(s.flush_enabled, 0);
    assert_int_equal(s.shutdown_command, 1);
    assert_int_equal(s.reqs_per_event, 5);
    assert_int_equal(s.binding_protocol, PROTO_ASCII);
    assert_int_equal(s.backlog, 16);
    assert_string_equal(s.auth_file, "/tmp/auth");
    assert_int_equal(s.daemonize, 1);
    assert_string_equal(s.pid_file, "/tmp/pid");
    assert_string_equal(s.username, "nobody");
    assert_int_equal(s.verbose, 2);
    assert_string_equal(s.segment, "/dev/shm/seg");
    assert_int_equal(s.lock_memory, 1);
    assert_int_equal(s.coredumps, 1);
    assert_int_equal(s.largepages, 1);
    assert_int_equal(s.dump_enabled, 0);
    assert_int_equal(s.watch_enabled, 0);
    assert_int_equal(s.prefix_delimiter, '#');
}

static void test_long_flags(void **state)
{
    settings s;
    ok(&s, "--port=2000", "--udp-port=2001", "--unix-socket=/tmp/y", "--unix-mask=711",
       "--listen=::1", "--memory-limit=256", "--conn-limit=99", "--threads=8",
       "--max-item-size=512k", "--slab-growth-factor=2", "--slab-min-size=96",
       "--disable-evictions", "--disable-cas", "--disable-flush-all", "--enable-shutdown",
       "--max-reqs-per-event=7", "--protocol=binary", "--listen-backlog=64",
       "--auth-file=/a", "--daemon", "--pidfile=/p", "--user=root", "--verbose",
       "--memory-file=/dev/shm/z", "--extended=hashpower=20", "--lock-memory",
       "--enable-coredumps", "--enable-largepages", "--disable-dumping", "--disable-watch",
       "--napi-ids=2", NULL);
    assert_int_equal(s.port, 2000);
    assert_int_equal(s.udpport, 2001);
    assert_string_equal(s.socketpath, "/tmp/y");
    assert_int_equal(s.access, 0711);
    assert_string_equal(s.inter, "::1");
    assert_int_equal(s.maxbytes, 256ULL << 20);
    assert_int_equal(s.maxconns, 99);
    assert_int_equal(s.num_threads, 8);
    assert_int_equal(s.item_size_max, 512 * 1024);
    assert_true(s.factor == 2.0);
    assert_int_equal(s.chunk_size, 96);
    assert_int_equal(s.evict_to_free, 0);
    assert_int_equal(s.use_cas, 0);
    assert_int_equal(s.flush_enabled, 0);
    assert_int_equal(s.shutdown_command, 1);
    assert_int_equal(s.reqs_per_event, 7);
    assert_int_equal(s.binding_protocol, PROTO_BINARY);
    assert_int_equal(s.backlog, 64);
    assert_string_equal(s.auth_file, "/a");
    assert_int_equal(s.daemonize, 1);
    assert_string_equal(s.pid_file, "/p");
    assert_string_equal(s.username, "root");
    assert_int_equal(s.verbose, 1);
    assert_string_equal(s.segment, "/dev/shm/z");
    assert_int_equal(s.hashpower_init, 20);
    assert_int_equal(s.lock_memory, 1);
    assert_int_equal(s.napi_ids, 2);
    /* -I 512k with the default slab_chunk_max (512k): unchanged */
    assert_int_equal(s.slab_chunk_size_max, 512 * 1024);

    ok(&s, "--port", "3000", "--verbose=3", "--help", "--version", "--license", NULL);
    assert_int_equal(s.port, 3000);
    assert_int_equal(s.verbose, 3);
    assert_int_equal(s.help, 1);
    assert_int_equal(s.version, 1);
    assert_int_equal(s.license, 1);
    ok(&s, "-h", "-V", "-i", NULL);
    assert_int_equal(s.help + s.version + s.license, 3);
}

static void test_verbose_levels(void **state)
{
    settings s;
    ok(&s, "-v", NULL);
    assert_int_equal(s.verbose, 1);
    ok(&s, "-vvv", NULL);
    assert_int_equal(s.verbose, 3);
    ok(&s, "-v", "-v", NULL);
    assert_int_equal(s.verbose, 2);
}

static void test_sizes(void **state)
{
    uint64_t v;
    assert_int_equal(settings_parse_size("1024", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(settings_parse_size("1k", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(settings_parse_size("3K", &v), 0);
    assert_int_equal(v, 3072);
    assert_int_equal(settings_parse_size("2m", &v), 0);
    assert_int_equal(v, 2 << 20);
    assert_int_equal(settings_parse_size("4M", &v), 0);
    assert_int_equal(v, 4 << 20);
    assert_int_equal(settings_parse_size("", &v), -1);
    assert_int_equal(settings_parse_size("-1", &v), -1);
    assert_int_equal(settings_parse_size("1g", &v), -1);
    assert_int_equal(settings_parse_size("1kk", &v), -1);
    assert_int_equal(settings_parse_size("x", &v), -1);
    assert_int_equal(settings_parse_size("99999999999999999999", &v), -1);

    settings s;
    ok(&s, "-I", "1k", NULL);
    assert_int_equal(s.item_size_max, 1024);
    assert_int_equal(s.slab_chunk_size_max, 1024); /* follows a smaller -I, as memcached */
    ok(&s, "-I", "4194304", NULL);
    assert_int_equal(s.item_size_max, 4 << 20);
    ok(&s, "-m", "1024", "-I", "128m", NULL);
    assert_int_equal(s.item_size_max, 128 << 20);
    ok(&s, "-m", "100m", NULL); /* a suffix means bytes */
    assert_int_equal(s.maxbytes, 100ULL << 20);
    ok(&s, "-m", "16384", NULL);
    assert_int_equal(s.maxbytes, 16384ULL << 20);
}

static void test_extended(void **state)
{
    settings s;
    ok(&s, "-o", "hashpower=16,hash_algorithm=xxh3,slab_chunk_max=262144,no_slab_reassign,"
       "slab_automove=2,no_lru_crawler,no_lru_maintainer,temporary_ttl=30,hot_lru_pct=10,"
       "warm_lru_pct=30,idle_timeout=5,no_maxconns_fast,tail_repair_time=60,"
       "lru_crawler_sleep=50,lru_crawler_tocrawl=100,read_buf_mem_limit=8,"
       "watcher_logbuf_size=128,worker_logbuf_size=32,track_sizes,no_hashexpand,"
       "hot_max_factor=0.5,warm_max_factor=3,modern", NULL);
    assert_int_equal(s.hashpower_init, 16);
    assert_string_equal(s.hash_algorithm, "xxh3");
    assert_int_equal(s.slab_chunk_size_max, 256 * 1024);
    assert_int_equal(s.slab_reassign, 0);
    assert_int_equal(s.slab_automove, 2);
    assert_int_equal(s.lru_crawler, 0);
    assert_int_equal(s.lru_maintainer_thread, 0);
    assert_int_equal(s.temporary_ttl, 30);
    assert_int_equal(s.hot_lru_pct, 10);
    assert_int_equal(s.warm_lru_pct, 30);
    assert_int_equal(s.idle_timeout, 5);
    assert_int_equal(s.maxconns_fast, 0);
    assert_int_equal(s.tail_repair_time, 60);
    assert_int_equal(s.lru_crawler_sleep, 50);
    assert_int_equal(s.lru_crawler_tocrawl, 100);
    assert_int_equal(s.read_buf_mem_limit, 8);
    assert_int_equal(s.watcher_logbuf_size, 128);
    assert_int_equal(s.worker_logbuf_size, 32);
    assert_int_equal(s.track_sizes, 1);
    assert_int_equal(s.hash_expand, 0);
    assert_true(s.hot_max_factor == 0.5);
    assert_true(s.warm_max_factor == 3.0);

    ok(&s, "-o", "slab_reassign,slab_automove,lru_crawler,lru_maintainer,maxconns_fast", NULL);
    assert_int_equal(s.slab_reassign, 1);
    assert_int_equal(s.slab_automove, 1);
    assert_int_equal(s.lru_crawler, 1);
    assert_int_equal(s.lru_maintainer_thread, 1);
    assert_int_equal(s.maxconns_fast, 1);

    ok(&s, "-o", "no_modern", NULL);
    assert_int_equal(s.slab_reassign, 0);
    assert_int_equal(s.lru_maintainer_thread, 0);
    assert_string_equal(s.hash_algorithm, "jenkins");

    /* several -o accumulate */
    ok(&s, "-o", "hashpower=14", "-o", "idle_timeout=9", NULL);
    assert_int_equal(s.hashpower_init, 14);
    assert_int_equal(s.idle_timeout, 9);

    ok(&s, NULL);
    assert_int_equal(s.busy_poll_us, 0);
    ok(&s, "-o", "busy_poll_us=50", NULL);
    assert_int_equal(s.busy_poll_us, 50);
    ok(&s, "-o", "busy_poll_us=10000", NULL);
    assert_int_equal(s.busy_poll_us, 10000);

    /* lock_wait_ms: the library's range; given or not (the daemon then
     * settles it from SHMC_LOCK_WAIT_MS or its own default) */
    ok(&s, NULL);
    assert_int_equal(s.lock_wait_ms, SRV_LOCK_WAIT_MS_DEFAULT);
    assert_int_equal(s.lock_wait_ms_given, 0);
    ok(&s, "-o", "lock_wait_ms=50", NULL);
    assert_int_equal(s.lock_wait_ms, 50);
    assert_int_equal(s.lock_wait_ms_given, 1);
    ok(&s, "-o", "lock_wait_ms=-1", NULL);
    assert_int_equal(s.lock_wait_ms, -1);
    ok(&s, "-o", "lock_wait_ms=0", NULL);
    assert_int_equal(s.lock_wait_ms, 0);
    ok(&s, "-o", "lock_wait_ms=3600000", NULL);
    assert_int_equal(s.lock_wait_ms, SHMC_LOCK_WAIT_MS_MAX);
}

static void test_errors(void **state)
{
    bad("invalid option -- 'z'", "-z", NULL);
    bad("Illegal argument", "-z", NULL);
    bad("unrecognized option '--bogus'", "--bogus", NULL);
    bad("option requires an argument -- 'p'", "-p", NULL);
    bad("Illegal argument \"extra\"", "extra", NULL);
    bad("Invalid value for -p", "-p", "abc", NULL);
    bad("Invalid value for -p", "-p", "70000", NULL);
    bad("Invalid value for -p", "-p", "-2", NULL);
    bad("Invalid value for -U", "-U", "-2", NULL);
    bad("Invalid value for -U", "-U", "x", NULL);
    bad("Invalid value for -a", "-a", "999", NULL);
    bad("Invalid value for -a", "-a", "", NULL);
    bad("Invalid value for -m", "-m", "abc", NULL);
    bad("Invalid value for -m", "-m", "-1", NULL);
    bad("Memory limit must be greater than 0", "-m", "0", NULL);
    bad("16384", "-m", "16385", NULL);
    bad("Maximum connections must be greater than 0", "-c", "0", NULL);
    bad("Invalid value for -c", "-c", "lots", NULL);
    bad("Number of threads must be greater than 0", "-t", "0", NULL);
    bad("Number of threads must be greater than 0", "-t", "-3", NULL);
    bad("Invalid value for -t", "-t", "2x", NULL);
    bad("Item max size cannot be less than 1024 bytes.", "-I", "512", NULL);
    bad("Cannot set item size limit higher than 1/2 of memory max.", "-I", "64m", NULL);
    bad("Cannot set item size limit higher than 1/2 of memory max.", "-I", "2000m", NULL);
    bad("128 megabytes", "-m", "4096", "-I", "256m", NULL);
    bad("Invalid value for -I", "-I", "1g", NULL);
    bad("Invalid value for -I", "-I", "abc", NULL);
    bad("Factor must be greater than 1", "-f", "0.5", NULL);
    bad("Factor must be greater than 1", "-f", "1", NULL);
    bad("Invalid value for -f", "-f", "x", NULL);
    bad("Chunk size must be greater than 0", "-n", "0", NULL);
    bad("Invalid value for -n", "-n", "abc", NULL);
    bad("Number of requests per event must be greater than 0", "-R", "0", NULL);
    bad("Invalid value for binding protocol: foo", "-B", "foo", NULL);
    bad("Invalid value for -b", "-b", "x", NULL);
    bad("Invalid value for -b", "-b", "0", NULL);
    bad("Invalid value for --verbose", "--verbose=9", NULL);
    bad("empty path", "-e", "", NULL);
    bad("empty path", "-s", "", NULL);
    bad("-D", "-D", "ab", NULL);
    /* -o */
    bad("Illegal suboption \"foo\"", "-o", "foo", NULL);
    bad("Illegal suboption \"ext_path\"", "-o", "ext_path=/x:1G", NULL);
    bad("Initial hashtable multiplier of 100 is too high", "-o", "hashpower=100", NULL);
    bad("Initial hashtable multiplier of 5 is too low", "-o", "hashpower=5", NULL);
    bad("Missing numeric argument for hashpower", "-o", "hashpower", NULL);
    bad("Missing numeric argument for hashpower", "-o", "hashpower=x", NULL);
    bad("Unavailable hash_algorithm option: md5", "-o", "hash_algorithm=md5", NULL);
    bad("hot_lru_pct must be > 1 and < 80", "-o", "hot_lru_pct=90", NULL);
    bad("warm_lru_pct must be > 1 and < 80", "-o", "warm_lru_pct=0", NULL);
    bad("cannot be more than 80% combined", "-o", "hot_lru_pct=50,warm_lru_pct=50", NULL);
    bad("idle_timeout", "-o", "idle_timeout=x", NULL);
    bad("idle_timeout", "-o", "idle_timeout=-1", NULL);
    bad("Missing numeric argument for busy_poll_us", "-o", "busy_poll_us", NULL);
    bad("busy_poll_us must be 0 to 10000", "-o", "busy_poll_us=10001", NULL);
    bad("busy_poll_us must be 0 to 10000", "-o", "busy_poll_us=-1", NULL);
    bad("busy_poll_us must be 0 to 10000", "-o", "busy_poll_us=5x", NULL);
    bad("Missing numeric argument for lock_wait_ms", "-o", "lock_wait_ms", NULL);
    bad("Missing numeric argument for lock_wait_ms", "-o", "lock_wait_ms=", NULL);
    bad("lock_wait_ms must be -1 (wait for ever) or 0 to 3600000", "-o", "lock_wait_ms=abc", NULL);
    bad("lock_wait_ms must be -1 (wait for ever) or 0 to 3600000", "-o", "lock_wait_ms=-2", NULL);
    bad("lock_wait_ms must be -1 (wait for ever) or 0 to 3600000", "-o", "lock_wait_ms=3600001",
        NULL);
    bad("lock_wait_ms must be -1 (wait for ever) or 0 to 3600000", "-o", "lock_wait_ms=10ms", NULL);
    bad("temporary_ttl", "-o", "temporary_ttl=x", NULL);
    bad("slab_automove must be between 0 and 2", "-o", "slab_automove=3", NULL);
    bad("slab_chunk_max", "-o", "slab_chunk_max=x", NULL);
    bad("slab_chunk_max (bytes: 2097152) cannot be larger than -I (item_size_max 1048576)", "-o",
        "slab_chunk_max=2097152", NULL);
    bad("tail_repair_time", "-o", "tail_repair_time=5", NULL);
    bad("LRU crawler sleep must be between 0 and 1 second", "-o", "lru_crawler_sleep=2000000", NULL);
}

#define SASL_ASCII "ERROR: You cannot allow the ASCII protocol while using SASL."
#define SASL_UDP "ERROR: Cannot enable UDP while using binary SASL authentication."
#define AUTH_BINARY "ERROR: You cannot allow the BINARY protocol while using ascii " \
                    "authentication tokens."
#define AUTH_UDP "Cannot use UDP with ascii authentication enabled (-U 0 to disable)"

/* -S: the binary protocol only (else text and meta commands would be
 * served without authentication), no UDP: memcached 1.6.18's rules. */
static void test_sasl_protocol(void **state)
{
    settings s;
    ok(&s, "-S", NULL);
    assert_int_equal(s.protocol_given, 0);
    ok(&s, "-B", "auto", NULL);
    assert_int_equal(s.protocol_given, 1);
    auth_ok(PROTO_AUTO, NULL);
    auth_ok(PROTO_AUTO, "-B", "auto", NULL);
    auth_ok(PROTO_ASCII, "-B", "ascii", NULL);
    auth_ok(PROTO_BINARY, "-S", NULL);
    auth_ok(PROTO_BINARY, "--enable-sasl", NULL);
    auth_ok(PROTO_BINARY, "-S", "-B", "binary", NULL);
    auth_ok(PROTO_BINARY, "-B", "binary", "-S", NULL);
    auth_ok(PROTO_BINARY, "-S", "-U", "0", NULL);
    auth_ok(PROTO_BINARY, "-S", "-s", "/tmp/x.sock", NULL);
    auth_bad(SASL_ASCII, "-S", "-B", "ascii", NULL);
    auth_bad(SASL_ASCII, "-B", "ascii", "-S", NULL);
    auth_bad(SASL_ASCII, "-S", "-B", "auto", NULL);
    auth_bad(SASL_ASCII, "--enable-sasl", "--protocol=auto", NULL);
    auth_bad(SASL_ASCII, "-S", "-B", "ascii", "-U", "11211", NULL); /* protocol first */
    auth_bad(SASL_UDP, "-S", "-U", "11211", NULL);
    auth_bad(SASL_UDP, "-S", "-B", "binary", "-U", "11211", NULL);
    auth_bad(SASL_UDP, "-S", "-s", "/tmp/x.sock", "-U", "11211", NULL);
}

/* -Y: the text protocol only, no UDP; with -S too, -S's rules first. */
static void test_authfile_protocol(void **state)
{
    auth_ok(PROTO_ASCII, "-Y", "/tmp/a", NULL);
    auth_ok(PROTO_ASCII, "-Y", "/tmp/a", "-B", "ascii", NULL);
    auth_bad(AUTH_BINARY, "-Y", "/tmp/a", "-B", "binary", NULL);
    auth_bad(AUTH_BINARY, "-Y", "/tmp/a", "-B", "auto", NULL);
    auth_bad(AUTH_BINARY, "--auth-file=/tmp/a", "--protocol=auto", NULL);
    auth_bad(AUTH_UDP, "-Y", "/tmp/a", "-U", "11211", NULL);
    auth_bad(AUTH_BINARY, "-Y", "/tmp/a", "-B", "binary", "-U", "11211", NULL);
    /* -S -Y: memcached serves text, behind -Y's authentication */
    auth_ok(PROTO_ASCII, "-S", "-Y", "/tmp/a", NULL);
    auth_ok(PROTO_ASCII, "-Y", "/tmp/a", "-S", NULL);
    auth_bad(SASL_ASCII, "-S", "-Y", "/tmp/a", "-B", "ascii", NULL);
    auth_bad(SASL_ASCII, "-S", "-Y", "/tmp/a", "-B", "auto", NULL);
    auth_bad(AUTH_BINARY, "-S", "-Y", "/tmp/a", "-B", "binary", NULL);
    auth_bad(SASL_UDP, "-S", "-Y", "/tmp/a", "-U", "11211", NULL);
}

/* -o segment_mode, segment_group: the segment file's mode and group
 * (shmcached's own; what shmcached.service uses so clients can attach). */
static void test_segment_access(void **state)
{
    settings s;
    ok(&s, NULL);
    assert_int_equal(s.segment_mode, 0600);
    assert_string_equal(s.segment_group, "");
    ok(&s, "-o", "segment_mode=0660,segment_group=shmcached", NULL);
    assert_int_equal(s.segment_mode, 0660);
    assert_string_equal(s.segment_group, "shmcached");
    ok(&s, "-o", "segment_mode=640", "-o", "segment_group=1234", NULL);
    assert_int_equal(s.segment_mode, 0640);
    assert_string_equal(s.segment_group, "1234");
    /* a later option wins: the unit's defaults, then the conf file's */
    ok(&s, "-o", "segment_mode=0660", "-o", "segment_mode=0600", NULL);
    assert_int_equal(s.segment_mode, 0600);
    bad("segment_mode must be an octal file mode, 0 to 0777 (e.g. 0660", "-o", "segment_mode=0888", NULL);
    bad("segment_mode must be an octal file mode", "-o", "segment_mode=01777", NULL);
    bad("segment_mode must be an octal file mode", "-o", "segment_mode=-1", NULL);
    bad("Missing segment_mode argument (an octal file mode, e.g. 0660)", "-o", "segment_mode", NULL);
    bad("Missing segment_group argument (a group name or number)", "-o", "segment_group=", NULL);
    bad("is too long (at most 63 bytes)", "-o",
        "segment_group=a123456789b123456789c123456789d123456789e123456789f123456789g1234", NULL);
}

/* Every error of the command line says the accepted range or what to do
 * after memcached's own words (which the tests above hold). */
static void test_errors_say_what_to_do(void **state)
{
    bad("(shmcached -h lists the options)", "-z", NULL);
    bad("(shmcached -h lists the options)", "--bogus", NULL);
    bad("-- 'p' (shmcached -h shows it)", "-p", NULL);
    bad("(memcached takes no operands: every setting is an option, shmcached -h)", "extra", NULL);
    bad("Invalid value for -p: \"70000\" (a TCP port, 0..65535; 0: no TCP; -1: any free port)", "-p", "70000", NULL);
    bad("Invalid value for -U: \"x\" (a UDP port, 0..65535; 0: no UDP; -1: any free port)", "-U", "x", NULL);
    bad("Invalid value for -a: \"999\" (an octal mask, 0..777, e.g. 700)", "-a", "999", NULL);
    bad("Invalid value for -b: \"0\" (a backlog of 1 or more connections, e.g. 1024)", "-b", "0", NULL);
    bad("-- should be one of auto, binary, or ascii", "-B", "foo", NULL);
    bad("Invalid value for -c: \"lots\" (connections, 1 or more)", "-c", "lots", NULL);
    bad("Maximum connections must be greater than 0 (e.g. 1024)", "-c", "0", NULL);
    bad("Invalid value for -t: \"2x\" (threads, 1..256)", "-t", "2x", NULL);
    bad("Number of threads must be greater than 0 (1..256)", "-t", "0", NULL);
    bad("Number of threads must be at most 256 (1..256)", "-t", "257", NULL);
    bad("Invalid value for -R: \"x\" (requests, 1 or more)", "-R", "x", NULL);
    bad("Number of requests per event must be greater than 0 (e.g. 20)", "-R", "0", NULL);
    bad("Invalid value for -m: \"abc\" (megabytes, 1..16384)", "-m", "abc", NULL);
    bad("Invalid value for -m: \"5x\" (megabytes, 1..16384; or a size with a k or m suffix)",
        "-m", "5x", NULL);
    bad("Memory limit must be greater than 0 (megabytes, 1..16384)", "-m", "0", NULL);
    bad("Memory limit 16385 MB is above shmcached's 16384 MB", "-m", "16385", NULL);
    bad("Memory limit is above shmcached's 16384 MB (16384m at most)", "-m", "16385m", NULL);
    bad("Invalid value for -I: \"abc\" (bytes, or with a k or m suffix: 1k..128m)", "-I", "abc", NULL);
    bad("higher than a gigabyte. (shmcached: at most 128m)", "-m", "16384", "-I", "4096m", NULL);
    bad("Item max size cannot be less than 1024 bytes. (-I 1k..128m)", "-I", "512", NULL);
    bad("(-I 67108864 bytes with -m 64 MB: raise -m to 128 MB or more, or lower -I)", "-I", "64m", NULL);
    bad("Invalid value for -f: \"x\" (a number above 1, at most 100, e.g. 1.25)", "-f", "x", NULL);
    bad("Factor must be greater than 1 (at most 100, e.g. 1.25)", "-f", "1", NULL);
    bad("Factor must be at most 100 (above 1, e.g. 1.25)", "-f", "101", NULL);
    bad("Invalid value for -n: \"abc\" (bytes, 8 up to half of -I)", "-n", "abc", NULL);
    bad("Chunk size must be greater than 0 (bytes, 8 up to half of -I)", "-n", "0", NULL);
    bad("Chunk size must be at least 8 bytes (8 up to half of -I)", "-n", "4", NULL);
    bad("(-n 1000 with -I 1024: -n 512 at most)", "-I", "1k", "-n", "1000", NULL);
    bad("Invalid value for --verbose: \"9\" (0..3)", "--verbose=9", NULL);
    bad("(the segment file, e.g. -e /dev/shm/shmcached)", "-e", "", NULL);
    bad("(the UNIX socket, e.g. -s /run/shmcached/shmcached.sock)", "-s", "", NULL);
    bad("takes one character (e.g. -D :)", "-D", "ab", NULL);
    bad("Invalid value for -N: \"x\" (a number, 0 or more)", "-N", "x", NULL);
    bad("(shmcached -h lists the -o options)", "-o", "foo", NULL);
    bad("Missing numeric argument for hashpower (hashpower=12..31)", "-o", "hashpower", NULL);
    bad("is too low (12..31)", "-o", "hashpower=5", NULL);
    bad("is too high (12..31)", "-o", "hashpower=40", NULL);
    bad("md5 (jenkins, murmur3 or xxh3)", "-o", "hash_algorithm=md5", NULL);
    bad("slab_chunk_max (bytes, dividing -I evenly)", "-o", "slab_chunk_max=x", NULL);
    bad("(-o slab_chunk_max=1048576 bytes at most)", "-o", "slab_chunk_max=2097152", NULL);
    bad("slab_automove must be between 0 and 2 (0: off, 1 or 2: on)", "-o", "slab_automove=3", NULL);
    bad("temporary_ttl (seconds, 0 or more)", "-o", "temporary_ttl=x", NULL);
    bad("hot_lru_pct (a percentage, 1..80)", "-o", "hot_lru_pct=x", NULL);
    bad("(1..80, and with warm_lru_pct at most 80 together)", "-o", "hot_lru_pct=90", NULL);
    bad("warm_lru_pct (a percentage, 1..80)", "-o", "warm_lru_pct=x", NULL);
    bad("(1..80, and with hot_lru_pct at most 80 together)", "-o", "warm_lru_pct=0", NULL);
    bad("combined (50 + 50)", "-o", "hot_lru_pct=50,warm_lru_pct=50", NULL);
    bad("hot_max_factor must be > 0 (a number, e.g. 0.2)", "-o", "hot_max_factor=0", NULL);
    bad("warm_max_factor must be > 0 (a number, e.g. 2.0)", "-o", "warm_max_factor=x", NULL);
    bad("idle_timeout (seconds, 0 or more; 0: no timeout)", "-o", "idle_timeout=x", NULL);
    bad("busy_poll_us must be 0 to 10000 (microseconds)", "-o", "busy_poll_us=10001", NULL);
    bad("tail_repair_time (seconds: 0, or 10 and more)", "-o", "tail_repair_time=x", NULL);
    bad("less than 10 seconds (0: off, or 10 and more)", "-o", "tail_repair_time=5", NULL);
    bad("(lru_crawler_sleep=0..1000000 microseconds)", "-o", "lru_crawler_sleep=2000000", NULL);
    bad("lru_crawler_tocrawl (items, 0 or more)", "-o", "lru_crawler_tocrawl=x", NULL);
    bad("read_buf_mem_limit (megabytes, 0 or more)", "-o", "read_buf_mem_limit=x", NULL);
    bad("watcher_logbuf_size (kilobytes, 0 or more)", "-o", "watcher_logbuf_size=x", NULL);
    bad("worker_logbuf_size (kilobytes, 0 or more)", "-o", "worker_logbuf_size=x", NULL);
}

static void test_reparse(void **state)
{
    /* getopt state is reset: a second parse sees every flag again */
    settings s;
    ok(&s, "-p", "1", NULL);
    ok(&s, "-p", "2", NULL);
    assert_int_equal(s.port, 2);
    bad("invalid option", "-z", NULL);
    ok(&s, "-t", "3", NULL);
    assert_int_equal(s.num_threads, 3);
}

static void test_usage(void **state)
{
    const char *u = settings_usage();
    assert_non_null(strstr(u, "--port"));
    assert_non_null(strstr(u, "--memory-file"));
    assert_non_null(strstr(u, "idle_timeout"));
    assert_non_null(strstr(u, "lock_wait_ms"));
    assert_non_null(strstr(u, "segment_mode"));
    assert_non_null(strstr(u, "segment_group"));
}

/* memcached 1.6.18's own -o suboptions: every one starts the server, with
 * 1.6.18's units (slab_chunk_max in bytes), limits and messages. */
static void test_memcached_1618_suboptions(void **state)
{
    (void)state;
    settings s;
    ok(&s, "-o", "slab_automove_window=7,slab_automove_ratio=0.5,slab_sizes=96-200-400,"
       "no_chunked_items,inline_ascii_resp,no_inline_ascii_resp,resp_obj_mem_limit=10,"
       "sock_cookie_id=5,slab_automove_freeratio=0.2", NULL);
    assert_int_equal(s.slab_automove_window, 7);
    assert_true(s.slab_automove_ratio == 0.5);
    assert_true(s.slab_automove_freeratio == 0.2);
    ok(&s, "-o", "slab_chunk_max=4096", NULL);
    assert_int_equal(s.slab_chunk_size_max, 4096);
    ok(&s, "-o", "slab_chunk_max=16384", NULL);
    assert_int_equal(s.slab_chunk_size_max, 16384);
    bad("-I (item_size_max: 1048576) must be evenly divisible by slab_chunk_max (bytes: 3000)",
        "-o", "slab_chunk_max=3000", NULL);
    bad("Missing slab_chunk_max argument", "-o", "slab_chunk_max", NULL);
    bad("slab_chunk_max", "-o", "slab_chunk_max=0", NULL);
    bad("slab_automove_window must be > 2", "-o", "slab_automove_window=2", NULL);
    bad("Missing slab_automove_window argument", "-o", "slab_automove_window", NULL);
    bad("slab_automove_ratio must be > 0 and < 1", "-o", "slab_automove_ratio=x", NULL);
    bad("could not parse argument to slab_automove_freeratio", "-o",
        "slab_automove_freeratio=x", NULL);
    bad("slab size 0 is out of valid range", "-o", "slab_sizes=x", NULL);
    bad("slab size 1 is out of valid range", "-o", "slab_sizes=1-2", NULL);
    bad("slab size 2000000 is out of valid range", "-o", "slab_sizes=96-2000000", NULL);
    bad("slab size 100 cannot be lower than or equal to a previous class size", "-o",
        "slab_sizes=200-100", NULL);
    bad("Missing slab_sizes argument", "-o", "slab_sizes", NULL);
}

/* Ports as memcached 1.6.18: -U N without -p serves TCP on N too (not with
 * -U 0); -1 is an ephemeral port, kept as -1 (stats settings shows it). */
/* -Z and memcached 1.6.18's -o ssl_* suboptions (tls.c loads the files). */
static void test_ssl_options(void **state)
{
    (void)state;
    settings s;
    ok(&s, NULL);
    assert_int_equal(s.ssl_enabled, 0);
    assert_int_equal(s.ssl_keyformat, 1);   /* PEM */
    assert_int_equal(s.ssl_verify_mode, 0);
    assert_int_equal(s.ssl_min_version, 2); /* TLSv1.2 */
    assert_int_equal(s.ssl_wbuf_size, 16);
    assert_string_equal(s.ssl_chain_cert, "");
    ok(&s, "-Z", "-o", "ssl_chain_cert=/c.pem,ssl_key=k.pem,ssl_ca_cert=/ca.pem,ssl_verify_mode=3,"
       "ssl_keyformat=2,ssl_ciphers=HIGH:!aNULL,ssl_min_version=tlsv1.3,ssl_session_cache,"
       "ssl_kernel_tls,ssl_wbuf_size=32", NULL);
    assert_int_equal(s.ssl_enabled, 1);
    assert_string_equal(s.ssl_chain_cert, "/c.pem");
    assert_string_equal(s.ssl_key, "k.pem");
    assert_string_equal(s.ssl_ca_cert, "/ca.pem");
    assert_string_equal(s.ssl_ciphers, "HIGH:!aNULL");
    assert_int_equal(s.ssl_verify_mode, 3);
    assert_int_equal(s.ssl_keyformat, 2);
    assert_int_equal(s.ssl_min_version, 3);
    assert_int_equal(s.ssl_session_cache, 1);
    assert_int_equal(s.ssl_kernel_tls, 1);
    assert_int_equal(s.ssl_wbuf_size, 32);
    ok(&s, "--enable-ssl", "-o", "ssl_min_version=0", NULL);
    assert_int_equal(s.ssl_enabled, 1);
    assert_int_equal(s.ssl_min_version, 0);
    ok(&s, "-o", "ssl_min_version=TLSv1.1", NULL);
    assert_int_equal(s.ssl_min_version, 1);
    bad("Invalid ssl_verify_mode. Use help to see valid options.", "-o", "ssl_verify_mode=4", NULL);
    bad("Invalid ssl_verify_mode.", "-o", "ssl_verify_mode=-1", NULL);
    bad("could not parse argument to ssl_verify_mode", "-o", "ssl_verify_mode=one", NULL);
    bad("Invalid ssl_min_version.", "-o", "ssl_min_version=4", NULL);
    bad("Invalid ssl_min_version.", "-o", "ssl_min_version=sslv3", NULL);
    bad("could not parse argument to ssl_keyformat", "-o", "ssl_keyformat=PEM", NULL);
    bad("could not parse argument to ssl_wbuf_size", "-o", "ssl_wbuf_size=-1", NULL);
    bad("Missing ssl_chain_cert argument", "-o", "ssl_chain_cert", NULL);
    bad("Missing ssl_key argument", "-o", "ssl_key=", NULL);
    bad("Missing ssl_ca_cert argument", "-o", "ssl_ca_cert", NULL);
    bad("Missing ssl_ciphers argument", "-o", "ssl_ciphers", NULL);
    bad("Illegal suboption \"ssl_foo\"", "-o", "ssl_foo=1", NULL);
}

static void test_ports(void **state)
{
    (void)state;
    settings s;
    ok(&s, "-U", "23456", NULL);
    assert_int_equal(s.port, 23456);
    assert_int_equal(s.udpport, 23456);
    ok(&s, "-U", "23456", "-p", "23457", NULL);
    assert_int_equal(s.port, 23457);
    ok(&s, "-p", "23457", "-U", "23456", NULL);
    assert_int_equal(s.port, 23457);
    ok(&s, "-p", "23457", NULL);
    assert_int_equal(s.udpport, 0);
    ok(&s, "-U", "0", NULL);
    assert_int_equal(s.port, 11211);
    ok(&s, "-p", "-1", NULL);
    assert_int_equal(s.port, -1);
    assert_int_equal(s.udpport, 0);
    ok(&s, "-U", "-1", NULL);
    assert_int_equal(s.port, -1);
    assert_int_equal(s.udpport, -1);
    ok(&s, "-p", "0", "-U", "-1", NULL);
    assert_int_equal(s.port, 0);
    assert_int_equal(s.udpport, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_short_flags),
        cmocka_unit_test(test_long_flags), cmocka_unit_test(test_verbose_levels),
        cmocka_unit_test(test_sizes),      cmocka_unit_test(test_extended),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_reparse),
        cmocka_unit_test(test_usage), cmocka_unit_test(test_memcached_1618_suboptions),
        cmocka_unit_test(test_ports),        cmocka_unit_test(test_ssl_options),
        cmocka_unit_test(test_segment_access), cmocka_unit_test(test_errors_say_what_to_do),
        cmocka_unit_test(test_sasl_protocol), cmocka_unit_test(test_authfile_protocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
