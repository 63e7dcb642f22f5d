#!/usr/bin/env bash
# test_shmcachectl.sh - drives build/shmcachectl through every subcommand
# and its error paths, then runs the examples (share_demo, api_example).
#
#   bash tests/test_shmcachectl.sh BUILD_DIR
#
# Every check is counted; a failing check is reported and counted, not
# fatal, so the closing "N passed, M failed" line is honest.  Exit status
# is 0 only when nothing failed.
set -euo pipefail

BUILD=${1:?usage: test_shmcachectl.sh BUILD_DIR}
CTL="$BUILD/shmcachectl"
TMP=$(mktemp -d)
BASE="/dev/shm/shmcachectl-test.$$.$RANDOM"
SEG="$BASE.seg"        # the main segment
BIG="$BASE.big"        # a second segment: large values, --group, a dead client
NOTSEG="$BASE.notseg"  # a file that is not a segment
BADSEG="$BASE.bad"     # must never be created by a rejected command line
DAMAGED="$BASE.damaged" # a segment whose bytes the test changes
FULL="$BASE.full"      # a segment with a single client slot
DEMO="$BASE.demo"
EXAMPLE="$BASE.example"
BLOCKED_PID=""

cleanup() {
    if [[ -n $BLOCKED_PID ]]; then kill -9 "$BLOCKED_PID" 2>/dev/null || true; fi
    rm -f "$BASE".*
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASS=0
FAIL=0
OUT=""
ERR=""
RC=0

pass() { PASS=$((PASS + 1)); }
shmc_corrupt_text() { echo "segment is damaged (truncated, a header field out of range, or a broken structure)"; }
# the hint shmcachectl adds to every SHMC_CORRUPT error line
corrupt_hint() { echo "the segment is damaged (shmcachectl -S PATH check lists what): destroy it (shmcachectl -S PATH destroy --force) and create it again"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

# run CMD...: OUT, ERR (trailing newlines kept) and RC of CMD.
run() {
    RC=0
    "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
    OUT=$(cat "$TMP/out"; echo x); OUT=${OUT%x}
    ERR=$(cat "$TMP/err"; echo x); ERR=${ERR%x}
}
# ctl ARGS...: run shmcachectl on the main segment.
ctl() { run "$CTL" -S "$SEG" "$@"; }

expect_rc() {   # DESC WANT
    if [[ $RC == "$2" ]]; then pass; else fail "$1: exit $RC, want $2 (stderr: ${ERR%$'\n'})"; fi
}
expect_out() {  # DESC EXACT-STDOUT
    if [[ $OUT == "$2" ]]; then pass; else fail "$1: stdout '$OUT', want '$2'"; fi
}
expect_err() {  # DESC EXACT-STDERR
    if [[ $ERR == "$2" ]]; then pass; else fail "$1: stderr '$ERR', want '$2'"; fi
}
expect_err_prefix() {  # DESC PREFIX
    if [[ $ERR == "$2"* ]]; then pass; else fail "$1: stderr '$ERR', want it to start with '$2'"; fi
}
expect_line() { # DESC EXACT-LINE (somewhere in stdout)
    if grep -qxF -- "$2" <<<"$OUT"; then pass; else fail "$1: no line '$2' in stdout:"$'\n'"$OUT"; fi
}
expect_match() { # DESC REGEX (a line of stdout matches it)
    if grep -qE -- "$2" <<<"$OUT"; then pass; else fail "$1: no line matching /$2/ in stdout:"$'\n'"$OUT"; fi
}
expect_true() { # DESC COMMAND...
    local desc=$1; shift
    if "$@"; then pass; else fail "$desc"; fi
}
# usage error: exit 2, a one-line message, then the usage hint.
expect_usage() { # DESC MESSAGE
    expect_rc "$1" 2
    expect_err "$1" "shmcachectl: $2"$'\n'"Try 'shmcachectl --help' for usage."$'\n'
}

# ------------------------------------------------------------------
# Command line, before any segment exists
# ------------------------------------------------------------------
run "$CTL" --help
expect_rc "--help" 0
expect_true "--help prints usage" grep -q '^usage: shmcachectl \[-S SEGMENT\] COMMAND' "$TMP/out"
run "$CTL" -h
expect_rc "-h" 0
COMMANDS="create, info, stats, get, set, delete, incr, decr, touch, flush_all, check, recover, destroy, dump, watch"
run "$CTL"
expect_usage "no command" "missing command ($COMMANDS)"
run "$CTL" -S "$SEG" bogus
expect_usage "unknown command" "unknown command 'bogus' ($COMMANDS)"
run "$CTL" -x info
expect_usage "unknown option" "unknown option '-x'"
run "$CTL" --bogus info
expect_usage "unknown long option" "unknown option '--bogus'"
run "$CTL" -S
expect_usage "-S without path" "option -S needs a segment path"
run "$CTL" -S ""
expect_usage "-S with an empty path" "option -S needs a segment path"
run "$CTL" --segment
expect_usage "--segment without path" "option -S needs a segment path"
run "$CTL" -V
expect_out "-V" "shmcachectl 0.1.0"$'\n'

# a missing file and a missing directory are told apart
ctl info
expect_rc "info, no segment" 1
expect_err "info, no segment" "shmcachectl: open $SEG: no such segment file; create one (shmcachectl -S PATH create), or start shmcached with -e PATH"$'\n'
run "$CTL" -S "$TMP/no/such/dir/seg" info
expect_rc "info, no directory" 1
expect_err "info, no directory" "shmcachectl: open $TMP/no/such/dir/seg: no such directory $TMP/no/such/dir; create it, or give another segment path with -S"$'\n'
run "$CTL" -S "$TMP/no/such/dir/seg" create
expect_rc "create, no directory" 1
expect_err "create, no directory" "shmcachectl: create $TMP/no/such/dir/seg: no such directory $TMP/no/such/dir; create it, or give another segment path with -S"$'\n'
# the library's own environment, when it is wrong
SHMC_PROTECTION=bogus ctl info
expect_rc "SHMC_PROTECTION=bogus" 1
expect_err "SHMC_PROTECTION=bogus" "shmcachectl: open $SEG: invalid argument; an environment variable may be wrong: SHMC_PROTECTION (auto, mpk or none), SHMC_PROTECTION_STRICT (0 or 1), SHMC_LOCK_WAIT_MS (-1, or 0 to 3600000)"$'\n'

# ------------------------------------------------------------------
# create: bad command lines create nothing
# ------------------------------------------------------------------
bad_create() { # MESSAGE ARGS...
    local msg=$1; shift
    run "$CTL" -S "$BADSEG" create "$@"
    expect_usage "create $*" "$msg"
    expect_true "create $*: no file left" test ! -e "$BADSEG"
}
bad_create "invalid -m megabytes 'abc': not an unsigned number (2..16384)" -m abc
bad_create "invalid -m megabytes '-5': not an unsigned number (2..16384)" -m -5
bad_create "invalid -m megabytes '+5': not an unsigned number (2..16384)" -m +5
bad_create "invalid -m megabytes '99999999999999999999': out of range (2..16384)" -m 99999999999999999999
bad_create "invalid -m megabytes '1': out of range (2..16384)" -m 1
bad_create "invalid -m megabytes '1': out of range (2..16384)" -m1
bad_create "invalid -m megabytes '16385': out of range (2..16384)" --memory-limit=16385
bad_create "invalid -I size '12x': not a size (N, Nk or Nm: 1k..128m)" -I 12x
bad_create "invalid -I size '8192m': out of range (1k..128m)" -I 8192m
bad_create "invalid -I size '512': out of range (1k..128m)" -I 512
bad_create "invalid -I size '129m': out of range (1k..128m)" --max-item-size=129m
bad_create "invalid -f factor '1.2.3': not a number (above 1, at most 100)" -f 1.2.3
bad_create "invalid -f factor '0.5': out of range (above 1, at most 100)" -f 0.5
bad_create "invalid -f factor '101': out of range (above 1, at most 100)" --slab-growth-factor=101
bad_create "invalid -n size '4294967296': out of range (0..4294967295)" -n 4294967296
bad_create "invalid -n size '4': out of range (8..524288 with -I 1048576)" -n 4
bad_create "invalid -n size '40000': out of range (8..32768 with -I 65536)" -I 64k -n 40000
bad_create "invalid -c clients '0': out of range (1..65535)" -c 0
bad_create "invalid -c clients '65536': out of range (1..65535)" --max-clients=65536
bad_create "create: unknown -o option 'bogus' (hashpower, hot_lru_pct, warm_lru_pct, slab_automove, no_slab_automove)" -o bogus=1
bad_create "invalid hashpower 'x': not an unsigned number (10..31)" -o hashpower=x
bad_create "invalid hashpower '9': out of range (10..31)" -o hashpower=9
bad_create "invalid hashpower '32': out of range (10..31)" --extended=hashpower=32
bad_create "invalid hot_lru_pct '0': out of range (1..80)" -o hot_lru_pct=0
bad_create "invalid warm_lru_pct '81': out of range (1..80)" -o warm_lru_pct=81
bad_create "create: hot_lru_pct + warm_lru_pct is 90: at most 80 together" -o hot_lru_pct=50,warm_lru_pct=40
bad_create "invalid slab_automove '2': out of range (0..1)" -o slab_automove=2
bad_create "create: -o hashpower needs a value (hashpower=N)" -o hashpower
bad_create "create: -o argument too long (over 1023 bytes)" -o "$(printf 'x%.0s' {1..1100})"
bad_create "invalid mode '9': not an octal number (0..7777, e.g. 0660)" --mode 9
bad_create "invalid mode '01777777': not an octal mode (0..7777)" --mode 01777777
bad_create "invalid mode '0888': not an octal mode (0..7777)" --mode=0888
bad_create "create: option -m needs a value" -m
bad_create "create: option --mode needs a value" --mode
bad_create "create: unknown option '-z'" -z
bad_create "create: unknown option '--bogus'" --bogus
bad_create "create: unexpected argument 'extra' (options only)" extra
bad_create "unknown group 'no-such-group-xyz' (a name from getent group, or a number)" --group no-such-group-xyz

# ------------------------------------------------------------------
# create, info
# ------------------------------------------------------------------
ctl create -m2 -I64k -n 48 -f 1.25 -o hashpower=12,hot_lru_pct=20 -c 16 --mode=0640
expect_rc "create (-m2, -I64k, --mode=0640: getopt_long's forms)" 0
size=$(stat -c %s "$SEG" 2>/dev/null || echo none)
expect_out "create" "created $SEG: $size bytes"$'\n'
expect_true "create --mode 0640 sets the file mode" test "$(stat -c %a "$SEG")" = 640

ctl create
expect_rc "create over an existing file" 1
expect_err "create over an existing file" "shmcachectl: create $SEG: file already exists; attach it as it is, remove it (shmcachectl -S $SEG destroy), or choose another path"$'\n'
expect_true "create over an existing file keeps it" test "$(stat -c %s "$SEG")" = "$size"

ctl info
expect_rc "info" 0
expect_line "info" "path: $SEG"
expect_line "info" "file_size: $size"
expect_line "info" "mem_bytes: 2097152"
expect_line "info" "item_size_max: 65536"
expect_line "info" "chunk_size_min: 48"
expect_line "info" "growth_factor: 1.25"
expect_line "info" "no_evict: 0"
expect_line "info" "hash_power: 12"
expect_line "info" "max_clients: 16"
expect_line "info" "hot_lru_pct: 20"
expect_line "info" "warm_lru_pct: 40"
expect_line "info" "slab_automove: 1"
expect_line "info" "mode: 0640"
expect_line "info" "clients: 1 (including this shmcachectl)"
expect_match "info" '^protection: (mpk|none)'
# The protection mode, on any CPU: none when asked; mpk when asked where
# the CPU and kernel have protection keys, else a clear refusal.
SHMC_PROTECTION=none ctl info
expect_line "info with SHMC_PROTECTION=none" "protection: none"
SHMC_PROTECTION=mpk ctl info
if grep -qw pku /proc/cpuinfo && grep -qw ospke /proc/cpuinfo; then
    expect_rc "info with SHMC_PROTECTION=mpk (CPU has keys)" 0
    expect_match "info with SHMC_PROTECTION=mpk (CPU has keys)" \
        "^protection: mpk( \([0-9]+ PKRU writers outside the library's gates\))?\$"
else
    expect_true "info with SHMC_PROTECTION=mpk (no keys): refused" test "$RC" != 0
    expect_true "info with SHMC_PROTECTION=mpk (no keys): says why" \
        grep -q "protection keys are not available" <<<"$ERR"
fi
expect_match "info" '^classes: [1-9][0-9]*$'
expect_match "info" '^item_overhead: [1-9][0-9]*$'
ctl info extra
expect_usage "info extra" "info: too many arguments"

# The segment from the environment; -S wins over it.
RC=0
SHMCACHED_SEGMENT="$SEG" "$CTL" info >"$TMP/out" 2>&1 || RC=$?
expect_rc "SHMCACHED_SEGMENT" 0
expect_true "SHMCACHED_SEGMENT names the segment" grep -qxF "path: $SEG" "$TMP/out"
RC=0
SHMCACHED_SEGMENT="$BADSEG" "$CTL" -S "$SEG" info >"$TMP/out" 2>&1 || RC=$?
expect_rc "-S wins over SHMCACHED_SEGMENT" 0
expect_true "-S wins over SHMCACHED_SEGMENT" grep -qxF "path: $SEG" "$TMP/out"

# ------------------------------------------------------------------
# set, get
# ------------------------------------------------------------------
ctl set foo bar
expect_rc "set foo" 0
expect_out "set foo" "STORED"$'\n'
ctl get foo
expect_rc "get foo" 0
expect_out "get foo (raw bytes, no newline)" "bar"
expect_err "get foo" ""
ctl get -v foo
expect_rc "get -v foo" 0
expect_out "get -v foo" "bar"
expect_true "get -v prints VALUE key flags bytes cas" grep -qxE 'VALUE foo 0 3 [1-9][0-9]*' "$TMP/err"

ctl set fl value 123 0
expect_out "set with flags and exptime" "STORED"$'\n'
ctl get -v fl
expect_true "flags stored" grep -qxE 'VALUE fl 123 5 [1-9][0-9]*' "$TMP/err"

printf 'a\0b\nc\n\n' >"$TMP/binary"
RC=0
"$CTL" -S "$SEG" set bin - <"$TMP/binary" >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc "set - (stdin)" 0
"$CTL" -S "$SEG" get bin >"$TMP/got" 2>/dev/null || true
expect_true "set -: binary value round-trips exactly" cmp -s "$TMP/binary" "$TMP/got"
RC=0
"$CTL" -S "$SEG" set empty - </dev/null >/dev/null 2>&1 || RC=$?
expect_rc "set empty value" 0
ctl get -v empty
expect_rc "get empty value" 0
expect_out "get empty value" ""
expect_true "empty value has 0 bytes" grep -qxE 'VALUE empty 0 0 [1-9][0-9]*' "$TMP/err"

ctl get missing
expect_rc "get missing" 1
expect_out "get missing" ""
expect_err "get missing" "NOT_FOUND"$'\n'

ctl get
expect_usage "get, no key" "get: missing argument"
ctl get a b
expect_usage "get, two keys" "get: too many arguments"
ctl set onlykey
expect_usage "set, no value" "set: missing argument"
ctl set k v 1 2 3
expect_usage "set, 5 args" "set: too many arguments"
ctl set k v x
expect_usage "set, bad flags" "invalid flags 'x': not an unsigned number (0..4294967295)"
ctl set k v 4294967296
expect_usage "set, flags > 32 bits" "invalid flags '4294967296': out of range (0..4294967295)"
ctl set k v 0 1.5
expect_usage "set, bad exptime" "invalid exptime '1.5': not a number (seconds: 0 never, up to 2592000 from now, larger an absolute Unix time, negative already expired)"
# keys may hold any byte, as memcached accepts them
ctl set "with space" v
expect_rc "set key with a space" 0
ctl get "with space"
expect_out "get key with a space" "v"
ctl set "$(printf 'a\tb')" v2
expect_rc "set key with a control byte" 0
ctl delete "with space"
expect_rc "delete key with a space" 0
ctl delete "$(printf 'a\tb')"
expect_rc "delete key with a control byte" 0
ctl set "$(printf 'k%.0s' {1..251})" v
expect_rc "set 251-byte key" 1
expect_err "set 251-byte key" "shmcachectl: set $(printf 'k%.0s' {1..251}): bad key: empty or longer than 250 bytes; keys are 1 to 250 bytes"$'\n'
ctl get -x
expect_usage "get -x" "get: unknown option '-x' (a key that starts with '-' follows --)"
ctl get --bogus
expect_usage "get --bogus" "get: unknown option '--bogus' (a key that starts with '-' follows --)"
ctl set -dash v
expect_rc "set a key that starts with '-' (set has no options)" 0
ctl get -- -dash
expect_out "get -- a key that starts with '-'" "v"
ctl get --verbose -- -dash
expect_true "get --verbose -- KEY" grep -qxE 'VALUE -dash 0 1 [1-9][0-9]*' "$TMP/err"
ctl delete -dash

# Values larger than item_size_max (64k here).
head -c 70000 /dev/zero | tr '\0' v >"$TMP/large"
RC=0
"$CTL" -S "$SEG" set large - <"$TMP/large" >"$TMP/out" 2>"$TMP/err" || RC=$?
ERR=$(cat "$TMP/err"; echo x); ERR=${ERR%x}
expect_rc "set too large" 1
expect_err "set too large: says the largest value" "shmcachectl: set large: object too large for cache: the value is 70000 bytes; with this 5-byte key this segment stores at most 65483 (-I 65536, less a 48-byte item header and the key; create -I sets it)"$'\n'
# ... and that largest value is stored, one byte more is not
head -c 65483 /dev/zero | tr '\0' v >"$TMP/largest"
RC=0
"$CTL" -S "$SEG" set large - <"$TMP/largest" >/dev/null 2>&1 || RC=$?
expect_rc "set the largest value the message names" 0
RC=0
{ cat "$TMP/largest"; printf v; } | "$CTL" -S "$SEG" set large - >/dev/null 2>&1 || RC=$?
expect_rc "set one byte more" 1
ctl get large
expect_err "a too-large set removed the old value (as memcached)" "NOT_FOUND"$'\n'

# ------------------------------------------------------------------
# incr, decr
# ------------------------------------------------------------------
ctl set n 10
ctl incr n 5
expect_rc "incr" 0
expect_out "incr" "15"$'\n'
ctl get n
expect_out "incr stores the decimal" "15"
ctl decr n 3
expect_out "decr" "12"$'\n'
ctl decr n 20
expect_out "decr stops at 0" "0"$'\n'
ctl set w 18446744073709551615
ctl incr w 1
expect_out "incr wraps at 2^64" "0"$'\n'
ctl incr n 18446744073709551615
expect_out "incr by 2^64-1" "18446744073709551615"$'\n'
ctl incr missing 1
expect_rc "incr missing" 1
expect_err "incr missing" "NOT_FOUND"$'\n'
ctl decr missing 1
expect_rc "decr missing" 1
expect_err "decr missing" "NOT_FOUND"$'\n'
ctl incr foo 1
expect_rc "incr non-numeric value" 1
expect_err "incr non-numeric value" "shmcachectl: incr foo: cannot increment or decrement non-numeric value; incr and decr need a decimal number, 0 to 18446744073709551615"$'\n'
ctl incr n abc
expect_usage "incr n abc" "invalid delta 'abc': not an unsigned number (0..18446744073709551615)"
ctl incr n -1
expect_usage "incr n -1" "invalid delta '-1': not an unsigned number (0..18446744073709551615)"
ctl incr n 18446744073709551616
expect_usage "incr n 2^64" "invalid delta '18446744073709551616': out of range (0..18446744073709551615)"
ctl decr n ' 5'
expect_usage "decr n ' 5'" "invalid delta ' 5': not an unsigned number (0..18446744073709551615)"
ctl incr n
expect_usage "incr n" "incr: missing argument"

# ------------------------------------------------------------------
# touch, delete
# ------------------------------------------------------------------
ctl touch foo 100
expect_rc "touch" 0
expect_out "touch" "TOUCHED"$'\n'
ctl touch missing 100
expect_rc "touch missing" 1
expect_err "touch missing" "NOT_FOUND"$'\n'
ctl touch foo soon
expect_usage "touch bad exptime" "invalid exptime 'soon': not a number (seconds: 0 never, up to 2592000 from now, larger an absolute Unix time, negative already expired)"
ctl touch fl -1
expect_out "touch to a negative exptime" "TOUCHED"$'\n'
ctl get fl
expect_rc "negative exptime: expired at once" 1
expect_err "negative exptime: expired at once" "NOT_FOUND"$'\n'

ctl delete foo
expect_rc "delete" 0
expect_out "delete" "DELETED"$'\n'
ctl delete foo
expect_rc "delete again" 1
expect_err "delete again" "NOT_FOUND"$'\n'
ctl get foo
expect_rc "get deleted" 1
ctl delete
expect_usage "delete, no key" "delete: missing argument"

# ------------------------------------------------------------------
# stats
# ------------------------------------------------------------------
# Items now: bin, empty, n, w.
ctl stats
expect_rc "stats" 0
# the server's names (docs/api.md, "Statistics names"): memcached's, else shm_
stat_names="version uptime time shm_clients shm_dead_clients shm_clients_recovered shm_locks_repaired
 cmd_get cmd_set cmd_flush cmd_touch get_hits get_misses get_expired get_flushed delete_misses
 delete_hits incr_misses incr_hits decr_misses decr_hits cas_misses cas_hits cas_badval touch_hits
 touch_misses limit_maxbytes hash_power_level shm_hash_buckets slabs_moved shm_total_pages
 slab_global_page_pool bytes curr_items total_items expired_unfetched evicted_unfetched evictions
 reclaimed"
for name in $stat_names shm_pkru_writers; do
    expect_match "stats has $name" "^STAT $name [0-9.]+\$"
done
expect_match "stats names the protection in effect" "^STAT shm_protection (mpk|none)\$"
expect_true "stats: 41 STAT lines" test "$(grep -c '^STAT ' "$TMP/out")" = 41
expect_true "stats ends with END" test "$(tail -n 1 "$TMP/out")" = END
expect_line "stats" "STAT version 0.1.0"
expect_line "stats" "STAT curr_items 4"
expect_line "stats" "STAT limit_maxbytes 2097152"
expect_line "stats" "STAT shm_clients 1"
expect_line "stats" "STAT shm_dead_clients 0"
expect_line "stats" "STAT delete_hits 4"
expect_line "stats" "STAT delete_misses 1"
expect_line "stats" "STAT touch_hits 2"
expect_line "stats" "STAT touch_misses 1"

ctl stats slabs
expect_rc "stats slabs" 0
expect_match "stats slabs" '^STAT [0-9]+:chunk_size [0-9]+$'
expect_match "stats slabs" '^STAT [0-9]+:used_chunks [0-9]+$'
expect_match "stats slabs" '^STAT active_slabs [1-9][0-9]*$'
expect_true "stats slabs: only slab lines" test -z "$(grep -vE '^(STAT [0-9]+:[a-z_]+ [0-9]+|STAT active_slabs [0-9]+|END)$' "$TMP/out")"
ctl stats items
expect_rc "stats items" 0
expect_match "stats items" '^STAT items:[0-9]+:number [1-9][0-9]*$'
expect_true "stats items: numbers add up to curr_items" \
    test "$(awk '/^STAT items:[0-9]+:number /{n+=$3} END{print n+0}' "$TMP/out")" = 4
ctl stats -v
expect_rc "stats -v" 0
expect_line "stats -v" "STAT curr_items 4"
expect_match "stats -v" '^STAT [0-9]+:chunk_size [0-9]+$'
expect_match "stats -v" '^STAT items:[0-9]+:number [0-9]+$'
expect_true "stats -v: one END, last" test "$(grep -c '^END$' "$TMP/out")-$(tail -n 1 "$TMP/out")" = 1-END
ctl stats bogus
expect_usage "stats bogus" "stats: unknown argument 'bogus' (slabs, items or -v)"

# ------------------------------------------------------------------
# check, flush_all
# ------------------------------------------------------------------
ctl check
expect_rc "check" 0
expect_out "check" "OK: segment consistent"$'\n'
ctl check now
expect_usage "check now" "check: too many arguments"

ctl flush_all
expect_rc "flush_all" 0
expect_out "flush_all" "OK"$'\n'
ctl get n
expect_rc "flush_all removed n" 1
expect_err "flush_all removed n" "NOT_FOUND"$'\n'
ctl set after flush
ctl get after
expect_out "set after flush_all" "flush"
ctl flush_all 100
expect_rc "flush_all 100" 0
expect_out "flush_all 100" "OK"$'\n'
ctl get after
expect_out "delayed flush_all leaves items until then" "flush"
ctl flush_all -1
expect_usage "flush_all -1" "invalid delay '-1': not an unsigned number (0..9223372036854775807)"
ctl flush_all 1 2
expect_usage "flush_all 1 2" "flush_all: too many arguments"
ctl check
expect_out "check after flush_all" "OK: segment consistent"$'\n'

# ------------------------------------------------------------------
# dump (memcached's lru_crawler metadump lines; -v: replayable set
# commands) and watch (memcached's watch log lines)
# ------------------------------------------------------------------
ctl flush_all
ctl set d:one hello 7 0
ctl set d:two world 0 1000
ctl set "d three" x
ctl dump
expect_rc "dump" 0
expect_match "dump: a metadump line" '^key=d%3Aone exp=-1 la=[0-9]+ cas=[0-9]+ fetch=no cls=[0-9]+ size=[0-9]+$'
expect_match "dump: expiry as a Unix time" '^key=d%3Atwo exp=[0-9]{10} la=[0-9]+ '
expect_match "dump: a key with a space, uri-encoded" '^key=d%20three exp=-1 '
expect_true "dump: three items, END last" test "$(grep -c '^key=' "$TMP/out")-$(tail -n 1 "$TMP/out")" = 3-END
ctl dump extra
expect_usage "dump extra" "dump: too many arguments"
ctl dump -x
expect_usage "dump -x" "dump: unknown option '-x'"
ctl dump -v
expect_rc "dump -v: a key the text protocol cannot carry is left out" 1
expect_err "dump -v says which" "shmcachectl: dump: key of 7 bytes left out: the text protocol cannot carry its control bytes or spaces"$'\n'
expect_true "dump -v: set commands, with flags, absolute expiry and the value" \
    grep -qaP '^set d:one 7 0 5\r$' "$TMP/out"
expect_true "dump -v: the value follows" grep -qaP '^hello\r$' "$TMP/out"
expect_true "dump -v: expiry as a Unix time" grep -qaP '^set d:two 0 [0-9]{10} 5\r$' "$TMP/out"
cp "$TMP/out" "$TMP/replay"
# replay into a server on another segment: memcached's text protocol
REPLAY="$BASE.replay"
if [[ -x "$BUILD/shmcached" ]] && command -v python3 >/dev/null; then
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$BUILD/shmcached" -u root -l 127.0.0.1 -p "$PORT" -U 0 -e "$REPLAY" -m 8 &
    SRV_PID=$!
    run python3 - "$PORT" "$TMP/replay" <<'PY'
import socket, sys, time
data = open(sys.argv[2], "rb").read()
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
        break
    except OSError:
        time.sleep(0.05)
s.sendall(data + b"mn\r\n")
buf = b""
while not buf.endswith(b"MN\r\n"):
    buf += s.recv(4096)
sys.stdout.write(buf.decode())
PY
    kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true
    expect_out "dump -v replayed by shmcached: every set stored" "STORED"$'\r\n'"STORED"$'\r\n'"MN"$'\r\n'
    run "$CTL" -S "$REPLAY" get -v d:one
    expect_out "replayed value" "hello"
    expect_err "replayed flags" "VALUE d:one 7 5 $(sed -n 's/^VALUE d:one 7 5 \([0-9]*\)$/\1/p' "$TMP/err")"$'\n'
    run "$CTL" -S "$REPLAY" dump
    expect_match "replayed expiry kept" '^key=d%3Atwo exp=[0-9]{10} '
    run "$CTL" -S "$REPLAY" destroy --force
else
    fail "dump -v replay: $BUILD/shmcached or python3 missing"
fi

"$CTL" -S "$SEG" watch -n 3 mutations >"$TMP/watch" 2>&1 &
WATCH_PID=$!
for _ in $(seq 100); do [[ -s $TMP/watch ]] && break; sleep 0.05; done
ctl get d:one
ctl set d:w v 0 100
ctl delete d:w
ctl delete d:w
wait "$WATCH_PID"; RC=$?
expect_rc "watch -n 3 ends after three lines" 0
expect_true "watch: OK, then three mutation lines (the get is a fetcher)" test "$(wc -l <"$TMP/watch")" = 4
expect_true "watch: OK first" test "$(head -n 1 "$TMP/watch")" = OK
expect_true "watch: the store" grep -qE '^ts=[0-9]+\.[0-9]{6} gid=[0-9]+ type=item_store key=d%3Aw status=stored cmd=set ttl=100 clsid=[0-9]+ client=[0-9]+ pid=[0-9]+ size=1$' "$TMP/watch"
expect_true "watch: the delete" grep -qE ' type=item_delete key=d%3Aw status=deleted cmd=delete ' "$TMP/watch"
expect_true "watch: the failed delete" grep -qE ' type=item_delete key=d%3Aw status=not_found ' "$TMP/watch"
ctl watch bogus
expect_usage "watch bogus" "watch: unknown kind 'bogus' (fetchers, mutations, evictions)"
ctl watch -n x
expect_rc "watch -n x" 2
ctl delete "d three"

# ------------------------------------------------------------------
# recover: a client killed while attached
# ------------------------------------------------------------------
run "$CTL" -S "$BIG" create -m 8 -I 1m --group "$(id -gn)"
expect_rc "create -I 1m --group" 0
expect_true "--group sets the file's group" test "$(stat -c %g "$BIG")" = "$(id -g)"
run "$CTL" -S "$BIG" info
expect_line "info --group" "group: $(id -g) ($(id -gn))"
head -c 600000 /dev/urandom >"$TMP/bigval"
RC=0
"$CTL" -S "$BIG" set big - <"$TMP/bigval" >/dev/null 2>"$TMP/err" || RC=$?
expect_rc "set a 600000-byte value" 0
"$CTL" -S "$BIG" get big >"$TMP/got" 2>/dev/null || true
expect_true "600000-byte value round-trips" cmp -s "$TMP/bigval" "$TMP/got"

# get blocks writing into a fifo nobody reads, while attached; kill -9 it.
mkfifo "$TMP/fifo"
exec 3<>"$TMP/fifo"
"$CTL" -S "$BIG" get big >"$TMP/fifo" 2>/dev/null &
BLOCKED_PID=$!
attached=no
for _ in $(seq 100); do
    "$CTL" -S "$BIG" info >"$TMP/info" 2>/dev/null || true
    if grep -qxF "clients: 2 (including this shmcachectl)" "$TMP/info"; then
        attached=yes; break
    fi
    sleep 0.05
done
expect_true "a blocked get stays attached" test $attached = yes
{ kill -9 "$BLOCKED_PID"; wait "$BLOCKED_PID"; } 2>/dev/null || true
BLOCKED_PID=""
exec 3>&-
run "$CTL" -S "$BIG" recover
expect_rc "recover" 0
# shmc_open already repairs what dead clients left, so recover's own open
# may have reaped it first.
expect_match "recover" '^reaped [01] dead clients?$'
run "$CTL" -S "$BIG" info
expect_line "dead client gone" "clients: 1 (including this shmcachectl)"
run "$CTL" -S "$BIG" stats
expect_line "dead client counted" "STAT shm_clients_recovered 1"
run "$CTL" -S "$BIG" recover
expect_out "recover again" "reaped 0 dead clients"$'\n'
run "$CTL" -S "$BIG" check
expect_out "check after a dead client" "OK: segment consistent"$'\n'
RC=0
"$CTL" -S "$BIG" get big >"$TMP/got" 2>/dev/null || RC=$?
expect_rc "value survives a dead reader" 0
expect_true "value intact after a dead reader" cmp -s "$TMP/bigval" "$TMP/got"
run "$CTL" -S "$BIG" recover now
expect_usage "recover now" "recover: too many arguments"
run "$CTL" -S "$BIG" destroy
expect_rc "destroy big" 0

# ------------------------------------------------------------------
# check while a client is stopped inside a store, holding locks
# (tests/tool_stopper.c): past the bound (SHMC_LOCK_WAIT_MS) check gives
# up, says so and exits 4; once the client is killed it checks again
# ------------------------------------------------------------------
STOPSEG="$BASE.stopped"
run "$CTL" -S "$STOPSEG" create -m 8
expect_rc "create for the stopped client" 0
"$BUILD/tool_stopper" "$STOPSEG" held >"$TMP/stopper" 2>&1 &
BLOCKED_PID=$!
stopped=no
for _ in $(seq 200); do
    if [[ $(awk '{print $3}' "/proc/$BLOCKED_PID/stat" 2>/dev/null) == T ]]; then stopped=yes; break; fi
    sleep 0.05
done
expect_true "the client stopped inside its store ($(cat "$TMP/stopper"))" test $stopped = yes
RC=0
SHMC_LOCK_WAIT_MS=50 "$CTL" -S "$STOPSEG" check >"$TMP/out" 2>"$TMP/err" || RC=$?
ERR=$(cat "$TMP/err")
expect_rc "check while a client is stopped holding locks" 4
expect_true "check says it is busy ($ERR)" grep -q "check: busy: a live client held a lock" "$TMP/err"
{ kill -9 "$BLOCKED_PID"; wait "$BLOCKED_PID"; } 2>/dev/null || true
BLOCKED_PID=""
run "$CTL" -S "$STOPSEG" check
# 0, or 3 if its chunk still waits for a reap (an attach may reap first)
expect_true "check once the stopped client is killed: exit $RC" test "$RC" = 0 -o "$RC" = 3
run "$CTL" -S "$STOPSEG" destroy --force
expect_rc "destroy the stopped client's segment" 0

# ------------------------------------------------------------------
# a full client registry (-c 1): a second client is refused until the
# first one dies, then its slot is reclaimed on the next open
# ------------------------------------------------------------------
run "$CTL" -S "$FULL" create -m 8 -I 1m -c 1
expect_rc "create -c 1" 0
"$CTL" -S "$FULL" set big - <"$TMP/bigval" >/dev/null 2>&1 || true
mkfifo "$TMP/fifo2"
exec 4<>"$TMP/fifo2"
"$CTL" -S "$FULL" get big >"$TMP/fifo2" 2>/dev/null &
BLOCKED_PID=$!
refused=no
for _ in $(seq 100); do
    run "$CTL" -S "$FULL" info
    if [[ $RC == 1 ]]; then refused=yes; break; fi
    sleep 0.05
done
expect_true "registry full: a second client is refused" test $refused = yes
expect_err_prefix "registry full" "shmcachectl: open $FULL: "
expect_err "registry full says so, and what to do" "shmcachectl: open $FULL: too many clients attached to the segment; every client slot is taken (create -c sets how many): wait for a client to close; slots of clients that died are freed by the next attach"$'\n'
{ kill -9 "$BLOCKED_PID"; wait "$BLOCKED_PID"; } 2>/dev/null || true
BLOCKED_PID=""
exec 4>&-
run "$CTL" -S "$FULL" info
expect_rc "a dead client's slot is reclaimed on open" 0
expect_line "a dead client's slot is reclaimed on open" "clients: 1 (including this shmcachectl)"
run "$CTL" -S "$FULL" destroy
expect_rc "destroy the -c 1 segment" 0

# ------------------------------------------------------------------
# check on a damaged segment: one key byte changed behind the library's
# back no longer matches its hash
# ------------------------------------------------------------------
run "$CTL" -S "$DAMAGED" create -m 2 -I 64k
expect_rc "create a segment to damage" 0
run "$CTL" -S "$DAMAGED" set victim-key-0123456789 victim-value-0123456789
run "$CTL" -S "$DAMAGED" check
expect_out "check before damage" "OK: segment consistent"$'\n'
offsets=$(grep -obUa 'victim-key-0123456789victim-value' "$DAMAGED" | cut -d: -f1 || true)
expect_true "the key is stored once, in place" test "$(wc -w <<<"$offsets")" = 1
if [[ $offsets =~ ^[0-9]+$ ]]; then
    printf 'V' | dd of="$DAMAGED" bs=1 seek="$offsets" conv=notrunc status=none
fi
run "$CTL" -S "$DAMAGED" check
expect_rc "check a damaged segment" 1
expect_true "check lists the problem on stdout" test -n "$OUT" -a "$OUT" != "OK: segment consistent"$'\n'
expect_true "check sums up on stderr" grep -qxE 'shmcachectl: check: [1-9][0-9]* problems? found' "$TMP/err"
# the key put back, and the item's value length (header bytes 36-39; the
# key follows the 48-byte header) made 1 MiB, past its chunk: a get answers
# SHMC_CORRUPT and names the field, check reports it, nothing crashes
if [[ $offsets =~ ^[0-9]+$ ]]; then
    printf 'v' | dd of="$DAMAGED" bs=1 seek="$offsets" conv=notrunc status=none
    printf '\x00\x00\x10\x00' | dd of="$DAMAGED" bs=1 seek=$((offsets - 48 + 36)) conv=notrunc status=none
fi
run "$CTL" -S "$DAMAGED" get victim-key-0123456789
expect_rc "get of an item whose length is damaged" 1
expect_err "get of an item whose length is damaged" \
    "shmcachectl: get victim-key-0123456789: $(shmc_corrupt_text): item_t.nkey/nbytes; $(corrupt_hint)"$'\n'
run "$CTL" -S "$DAMAGED" check
expect_rc "check a segment with a damaged length" 1
expect_true "check says the value overruns its chunk" grep -q "overrun its chunk" "$TMP/out"
# a header field out of range: open refuses the file and names the field
# (hash_word at offset 200: a level of 40 would shift past 64 bits)
printf '\x00\x00\x00\x00\x28\x00\x00\x00' | dd of="$DAMAGED" bs=1 seek=200 conv=notrunc status=none
run "$CTL" -S "$DAMAGED" check
expect_rc "check a segment with a damaged header" 1
expect_err "check a segment with a damaged header" \
    "shmcachectl: open $DAMAGED: $(shmc_corrupt_text): seg_header.hash_word; $(corrupt_hint)"$'\n'
run "$CTL" -S "$DAMAGED" destroy
expect_rc "destroy a damaged segment" 0
expect_true "destroy removes a damaged segment" test ! -e "$DAMAGED"
# a segment of another format version (an older or newer shmcached made
# it): refused by open, removed by destroy, so an upgrade can start clean
run "$CTL" -S "$DAMAGED" create -m 2
expect_rc "create a segment to age" 0
printf '\xff\xff\xff\xff' | dd of="$DAMAGED" bs=1 seek=8 conv=notrunc status=none
run "$CTL" -S "$DAMAGED" info
expect_rc "info on another format version" 1
expect_true "info on another format version says so" grep -q "unsupported format version" "$TMP/err"
run "$CTL" -S "$DAMAGED" destroy
expect_rc "destroy a segment of another format version" 0
expect_true "destroy removes a segment of another format version" test ! -e "$DAMAGED"

# ------------------------------------------------------------------
# a file that is not a segment
# ------------------------------------------------------------------
head -c 1048576 < <(yes "this is not a shmcached segment") >"$NOTSEG"
run "$CTL" -S "$NOTSEG" info
expect_rc "info on a non-segment file" 1
expect_err_prefix "info on a non-segment file" "shmcachectl: open $NOTSEG: "
expect_err "info on a non-segment file says so" "shmcachectl: open $NOTSEG: not a shmcached segment; the file is someone else's; -S names the segment (it was left alone)"$'\n'
run "$CTL" -S "$NOTSEG" destroy
expect_rc "destroy a non-segment file" 1
expect_true "destroy a non-segment file says so" grep -qi "not a shmcached segment" "$TMP/err"
expect_true "destroy leaves a non-segment file alone" test -s "$NOTSEG"
run "$CTL" -S "$NOTSEG" check
expect_rc "check a non-segment file" 1

# ------------------------------------------------------------------
# permission denied: what a read needs, and who may give it (as nobody,
# when the test runs as root, as CI does)
# ------------------------------------------------------------------
PERM="$BASE.perm"
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
    PUB=$(mktemp -d)
    chmod 755 "$PUB"
    cp "$CTL" "$PUB/shmcachectl"
    as_nobody() { run setpriv --reuid=nobody --regid=nogroup --clear-groups "$PUB/shmcachectl" "$@"; }
    run "$CTL" -S "$PERM" create -m 2 -I 64k
    run "$CTL" -S "$PERM" set secret s3
    as_nobody -S "$PERM" get secret
    expect_rc "a read without access" 1
    expect_err "a read without access: says a read needs write access, and who may give it" "shmcachectl: open $PERM: permission denied; attaching needs read and write access to the file, even to read; it is mode 0600, owner root, group root, and you are nobody, not in that group: join its group (adduser nobody root, then log in again), or run as root"$'\n'
    chmod 0644 "$PERM"
    as_nobody -S "$PERM" get secret
    expect_err "read access alone is not enough" "shmcachectl: open $PERM: permission denied; attaching needs read and write access to the file, even to read; it is mode 0644, owner root, group root, and you are nobody, not in that group: join its group (adduser nobody root, then log in again), or run as root"$'\n'
    chgrp nogroup "$PERM"
    chmod 0640 "$PERM"
    as_nobody -S "$PERM" get secret
    expect_err "in the group, without group write" "shmcachectl: open $PERM: permission denied; attaching needs read and write access to the file, even to read; it is mode 0640, owner root, group nogroup, and you are nobody (in that group): its owner can give access (chmod g+rw $PERM; create --mode 0660 gives it to the group)"$'\n'
    chmod 0660 "$PERM"
    as_nobody -S "$PERM" get secret
    expect_rc "mode 0660, in the group: attached" 0
    expect_out "mode 0660, in the group: the value" "s3"
    chmod 0600 "$PERM"
    as_nobody -S "$PERM" destroy
    expect_rc "destroy without access" 1
    expect_err "destroy without access says what it needs" "shmcachectl: destroy $PERM: permission denied; destroying needs read and write access to the file (to mark it stale for its clients); it is mode 0600, owner root, group nogroup, and you are nobody (in that group): its owner can give access (chmod g+rw $PERM; create --mode 0660 gives it to the group)"$'\n'
    as_nobody -S "$PUB/seg" create -m 2
    expect_rc "create in a directory without write access" 1
    expect_err "create in a directory without write access says so" "shmcachectl: create $PUB/seg: permission denied; create needs write access to the directory $PUB (ls -ld $PUB)"$'\n'
    as_nobody -S "$PERM.nobody" create -m 2 --group root
    expect_rc "create --group of a group one is not in" 1
    expect_err "create --group of a group one is not in says so" "shmcachectl: create $PERM.nobody: permission denied; --group must be a group you are in (id -Gn)"$'\n'
    expect_true "a refused create leaves nothing" test ! -e "$PERM.nobody"
    run "$CTL" -S "$PERM" destroy
    rm -rf "$PUB"
else
    echo "note: not root (or no setpriv): the permission messages are not checked"
fi

# ------------------------------------------------------------------
# destroy
# ------------------------------------------------------------------
ctl destroy extra
expect_usage "destroy extra" "destroy: unknown argument 'extra' (only --force)"
ctl destroy -x
expect_usage "destroy -x" "destroy: unknown option '-x' (only --force)"
ctl destroy --force extra
expect_usage "destroy --force extra" "destroy: too many arguments"
ctl destroy
expect_rc "destroy" 0
expect_out "destroy" "destroyed $SEG"$'\n'
expect_true "destroy removes the file" test ! -e "$SEG"
ctl destroy
expect_rc "destroy again" 1
expect_err "destroy again" "shmcachectl: destroy $SEG: no such segment file; create one (shmcachectl -S PATH create), or start shmcached with -e PATH"$'\n'
ctl get foo
expect_rc "get after destroy" 1
expect_err_prefix "get after destroy" "shmcachectl: open $SEG: "

# ------------------------------------------------------------------
# the examples
# ------------------------------------------------------------------
run "$BUILD/share_demo" "$DEMO"
expect_rc "share_demo" 0
expect_true "share_demo says OK" test "$(tail -n 1 "$TMP/out")" = "OK: two processes shared one cache"
expect_line "share_demo counter" "counter after 1000 increments by each process: 2000 (want 2000)"
expect_true "share_demo removes its segment" test ! -e "$DEMO"
run "$BUILD/share_demo" "$DEMO" --keep
expect_rc "share_demo --keep" 0
expect_true "share_demo --keep keeps the segment" test -e "$DEMO"
run "$BUILD/share_demo" "$DEMO"
expect_rc "share_demo on an existing segment" 0
expect_line "share_demo on an existing segment" "opened existing segment $DEMO"
expect_true "share_demo removes an existing segment too" test ! -e "$DEMO"

run "$BUILD/api_example" "$EXAMPLE"
expect_rc "api_example" 0
expect_true "api_example output" test "$(head -n 2 "$TMP/out")" = 'greeting = "hello from shared memory, no server involved" (flags 42)
hits = 42'
expect_true "api_example removes its segment" test ! -e "$EXAMPLE"

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
