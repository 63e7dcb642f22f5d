#!/usr/bin/env bash
# test_ycsb.sh - build/ycsb end to end, small and fast (not a benchmark: no
# figure is judged, only that every workload runs, every value read back is
# right, and bad command lines are refused):
#   - each workload A B C D E F on the lib backend, every value verified
#     (-V), one process and two (-P 2), with the CSV and JSON outputs;
#   - the mc backend against build/shmcached over a UNIX socket, text and
#     binary protocol, when ycsb was built with libmemcached;
#   - the peers' backends: lmdb (each workload, threads and processes, its
#     directory removed after) and redis against a redis-server on a UNIX
#     socket; where their libraries are installed (pkg-config finds them)
#     they must be built in; the reads issued must all be found, counted in
#     the table; a wrong option or a missing server is a clear error;
#   - that a wrong value is caught: records loaded with one value size and
#     read (-L, no load) expecting another must fail with exit status 1;
#   - bad options: exit status 2 and a message naming the option;
#   - the benchmark helpers bench_xcpu, bench_memlat, bench_gate and
#     bench_memory run, print their figures' shape, and refuse bad
#     arguments; bench/memory.sh runs a one-cell matrix and prints its row;
#     bench/clients.sh --quick prints a row with figures for every client.
#
#   bash tests/test_ycsb.sh BUILD_DIR
set -uo pipefail

BUILD=${1:?usage: test_ycsb.sh BUILD_DIR}
YCSB=$BUILD/ycsb
SRV=$BUILD/shmcached
TMP=$(mktemp -d)
SRV_PID=
REDIS_PID=
cleanup() {
    [[ -n $SRV_PID ]] && { kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; }
    [[ -n $REDIS_PID ]] && { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }
    rm -rf "$TMP"
}
trap cleanup EXIT

PASS=0
FAIL=0
check() { # check NAME CMD...: CMD must succeed
    local name=$1
    shift
    if "$@"; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); echo "FAIL: $name" >&2; fi
}
[[ -x $YCSB ]] || { echo "FAIL: $YCSB not built"; echo "0 passed, 1 failed"; exit 1; }

# ok_run NAME ARGS...: ycsb exits 0, reports every value verified, counted ops
ok_run() {
    local name=$1
    shift
    local out rc
    out=$("$YCSB" "$@" -V 2>"$TMP/err"); rc=$?
    check "$name: exit 0" test "$rc" = 0
    check "$name: values verified" grep -q '^RESULT: ok, all values verified' <<<"$out"
    check "$name: operations counted" grep -Eq '^run: .* [1-9][0-9]* ops' <<<"$out"
    [[ $rc = 0 ]] || { echo "$out"; cat "$TMP/err"; } >&2
}

for w in A B C D E F; do
    ok_run "lib $w" -b lib -w "$w" -n 2000 -o 20000 -c "$TMP/out.csv" -j "$TMP/out.json"
done
ok_run "lib E, 2 processes x 2 threads" -b lib -w E -n 2000 -o 20000 -P 2 -t 2
ok_run "lib A, 2 processes x 2 threads" -b lib -w A -n 2000 -o 20000 -P 2 -t 2
ok_run "lib F, uniform" -b lib -w F -D uniform -n 2000 -o 20000
check "CSV has a header and a line per figure" \
    bash -c "head -1 '$TMP/out.csv' | grep -q '^label,backend,workload' && [ \$(wc -l <'$TMP/out.csv') -gt 20 ]"
check "JSON: one object per run" bash -c "[ \$(grep -c '^{' '$TMP/out.json') = 6 ]"
check "JSON: workload E's scans" grep -q '"workload":"E".*"scan":{"count":[1-9]' "$TMP/out.json"

# op_row OUT OP: "count misses wrong errors" of OP's row in a ycsb table
op_row() { awk -v op="$2" '$1 == op { print $2, $(NF - 2), $(NF - 1), $NF }' <<<"$1"; }
# counted NAME OP COUNT ARGS...: a run whose OP row says COUNT done, none
# missed, wrong or failed (reads found = reads issued, after the load)
counted() {
    local name=$1 op=$2 n=$3 out row
    shift 3
    out=$("$YCSB" "$@" -V 2>&1)
    row=$(op_row "$out" "$op")
    check "$name: $n ${op}s, 0 misses, 0 wrong, 0 errors (got '$row')" test "$row" = "$n 0 0 0"
}
counted "lib C counts" read 3000 -b lib -w C -n 1000 -o 3000
check "JSON parses" python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$TMP/out.json"

if "$YCSB" -b mc -a /dev/null/x -d 1 2>&1 | grep -q "not built in"; then
    echo "note: ycsb has no mc backend (libmemcached-dev missing): mc cases skipped"
else
    SOCK=$TMP/srv.sock
    "$SRV" -u root -s "$SOCK" -m 64 -t 2 -e "$TMP/seg" >"$TMP/srv.log" 2>&1 &
    SRV_PID=$!
    for _ in $(seq 100); do [[ -S $SOCK ]] && break; sleep 0.05; done
    ok_run "mc text A" -b mc -a "$SOCK" -w A -n 2000 -o 10000
    ok_run "mc binary F" -b mc -a "$SOCK" -B -w F -n 2000 -o 10000
    ok_run "mc text D, 2 threads" -b mc -a "$SOCK" -w D -n 2000 -o 10000 -t 2
    ok_run "mc text E, 2 threads" -b mc -a "$SOCK" -w E -n 2000 -o 5000 -t 2
    ok_run "mc binary E" -b mc -a "$SOCK" -B -w E -n 2000 -o 5000
    # The server now holds 2000 records of 100 bytes; reading them as
    # 200-byte records without loading must be judged wrong.
    "$YCSB" -b mc -a "$SOCK" -w C -n 2000 -v 200 -o 2000 -L -V >"$TMP/wrong.out" 2>&1; rc=$?
    check "a wrong value is caught: exit 1" test "$rc" = 1
    check "a wrong value is caught: counted as wrong" \
        awk '$1 == "read" && $(NF - 1) > 0 {found = 1} END {exit !found}' "$TMP/wrong.out"
    check "a wrong value is caught: reported" grep -q '^RESULT: PROBLEMS FOUND' "$TMP/wrong.out"
fi

# ---- the peers' backends: LMDB and Redis
# has_backend NAME: ycsb was built with it (else it names the package)
has_backend() { ! "$YCSB" -b "$1" -a /dev/null/x -o 1 2>&1 | grep -q "not built in"; }
for peer in lmdb:lmdb redis:hiredis; do
    if pkg-config --exists "${peer#*:}" 2>/dev/null; then
        check "${peer%%:*} backend built (${peer#*:} is installed)" has_backend "${peer%%:*}"
    fi
done
if has_backend lmdb; then
    for w in A B C D E F; do
        ok_run "lmdb $w, 2 threads" -b lmdb -w "$w" -n 2000 -o 10000 -t 2 -f "$TMP/lmdb-$w"
        check "lmdb $w: its directory removed" test ! -e "$TMP/lmdb-$w"
    done
    ok_run "lmdb E, 2 processes x 2 threads" -b lmdb -w E -n 2000 -o 10000 -P 2 -t 2 -f "$TMP/lmdb-p"
    ok_run "lmdb F, 2 processes" -b lmdb -w F -n 2000 -o 10000 -P 2 -f "$TMP/lmdb-p"
    OUT=$("$YCSB" -b lmdb -W -w A -n 2000 -o 10000 -t 2 -P 2 -f "$TMP/lmdb-w" -V 2>&1); RC=$?
    check "lmdb A with MDB_WRITEMAP (-W): exit 0, verified, says so" \
        bash -c "[ $RC = 0 ] && grep -q '^target: .*|MDB_WRITEMAP' <<<'$OUT' &&
                 grep -q '^RESULT: ok, all values verified' <<<'$OUT'"
    counted "lmdb C counts" read 3000 -b lmdb -w C -n 1000 -o 3000 -t 2 -f "$TMP/lmdb-c"
    mkdir "$TMP/lmdb-there"
    OUT=$("$YCSB" -b lmdb -o 10 -f "$TMP/lmdb-there" 2>&1); RC=$?
    check "lmdb into an existing directory: exit 1, says so ($OUT)" \
        bash -c "[ $RC = 1 ] && grep -q 'does not exist yet' <<<'$OUT'"
    OUT=$("$YCSB" -b lmdb -n 100000 -m 2 -o 10 -f "$TMP/lmdb-small" 2>&1); RC=$?
    check "lmdb map too small: exit 1, load errors reported" \
        bash -c "[ $RC = 1 ] && grep -Eq '^load: .* [1-9][0-9]* errors' <<<'$OUT'"
    check "lmdb map too small: its directory removed" test ! -e "$TMP/lmdb-small"
else
    echo "note: ycsb has no lmdb backend (liblmdb-dev missing): lmdb cases skipped"
fi
if has_backend redis && command -v redis-server >/dev/null; then
    RSOCK=$TMP/redis.sock
    redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 --save '' \
        --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 100); do [[ -S $RSOCK ]] && break; sleep 0.05; done
    for w in A B C D E F; do
        ok_run "redis $w" -b redis -a "$RSOCK" -w "$w" -n 1000 -o 3000
    done
    ok_run "redis E, 2 processes x 2 threads" -b redis -a "$RSOCK" -w E -n 1000 -o 3000 -P 2 -t 2
    counted "redis C counts" read 2000 -b redis -a "$RSOCK" -w C -n 1000 -o 2000 -t 2
    # the server holds 1000 records of 100 bytes: read as 200-byte ones
    "$YCSB" -b redis -a "$RSOCK" -w C -n 1000 -v 200 -o 1000 -L -V >"$TMP/rwrong.out" 2>&1; rc=$?
    check "redis: a wrong value is caught: exit 1, 1000 wrong" \
        bash -c "[ $rc = 1 ] && [ \"\$(awk '\$1 == \"read\" {print \$(NF - 1)}' '$TMP/rwrong.out')\" = 1000 ]"
    kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
    OUT=$("$YCSB" -b redis -a "$RSOCK" -o 10 2>&1); RC=$?
    check "redis with no server: exit 1, names the socket ($OUT)" \
        bash -c "[ $RC = 1 ] && grep -q 'redis server $RSOCK' <<<'$OUT'"
else
    echo "note: ycsb has no redis backend or redis-server is missing: redis cases skipped"
fi

# bad_opt NAME EXPECTED_WORD ARGS...: exit 2 and a message naming the option
bad_opt() {
    local name=$1 word=$2
    shift 2
    local out rc
    out=$("$YCSB" "$@" 2>&1); rc=$?
    check "$name: exit 2" test "$rc" = 2
    check "$name: says $word" grep -q -- "$word" <<<"$out"
}
bad_opt "unknown workload" "-w" -w Z
bad_opt "zero records" "-n" -n 0
bad_opt "value too small" "-v" -v 10
bad_opt "unknown backend" "backend" -b foo
bad_opt "mc without an address" "needs -a" -b mc
bad_opt "bad distribution" "-D" -D foo
bad_opt "negative duration" "-d" -d -1
bad_opt "redis without an address" "needs -a" -b redis
bad_opt "lmdb with an address" "-a and -L are for" -b lmdb -a /tmp/x
bad_opt "binary protocol for redis" "-B is for backend mc" -b redis -a /tmp/x -B
bad_opt "a segment size for redis" "-f and -m are for" -b redis -a /tmp/x -m 64
bad_opt "MDB_WRITEMAP for lib" "-W is for backend lmdb" -b lib -W
bad_opt "unknown workload G" "A, B, C, D, E or F" -w G

# ---- bench_xcpu: the cache-line round trip ycsb.sh prints per 2-thread run
XCPU=$BUILD/bench_xcpu
if [ "$(nproc)" -ge 2 ]; then
    OUT=$("$XCPU" -q -n 20000 2>&1)
    check "bench_xcpu -q prints a positive number of ns ($OUT)" \
        awk -v v="$OUT" 'BEGIN { exit !(v ~ /^[0-9]+\.[0-9]$/ && v + 0 > 0) }'
    OUT=$("$XCPU" -n 20000 2>&1)
    check "bench_xcpu names the two CPUs" grep -q "CPU 0 <-> CPU 1" <<<"$OUT"
fi
"$XCPU" -a 0 -b 0 >/dev/null 2>&1; RC=$?
check "bench_xcpu with one CPU twice: exit 2" test "$RC" = 2
"$XCPU" -n x >/dev/null 2>&1; RC=$?
check "bench_xcpu -n x: exit 2" test "$RC" = 2
OUT=$("$XCPU" -b 1023 2>&1); RC=$?
check "bench_xcpu on a CPU it cannot use: exit 1 and says so" \
    bash -c "[ $RC = 1 ] && grep -q 'cannot run on CPU 1023' <<<'$OUT'"

# ---- bench_memlat: the dependent-load latency by working-set size
MEMLAT=$BUILD/bench_memlat
OUT=$("$MEMLAT" -m 1 -n 100000 2>&1); RC=$?
check "bench_memlat -m 1: exit 0, one line per size 256 KB to 1 MB ($OUT)" \
    bash -c "[ $RC = 0 ] && [ \"\$(grep -c 'ns per dependent load' <<<'$OUT')\" = 3 ]"
check "bench_memlat prints positive latencies" \
    awk '/ns per dependent load/ { if (!($3 > 0)) bad = 1; n++ } END { exit bad || n != 3 }' <<<"$OUT"
"$MEMLAT" -m 0 >/dev/null 2>&1; RC=$?
check "bench_memlat -m 0: exit 2" test "$RC" = 2
"$MEMLAT" -n x >/dev/null 2>&1; RC=$?
check "bench_memlat -n x: exit 2" test "$RC" = 2
OUT=$("$MEMLAT" -c 1023 -m 1 2>&1); RC=$?
check "bench_memlat on a CPU it cannot use: exit 1 and says so" \
    bash -c "[ $RC = 1 ] && grep -q 'cannot run on CPU 1023' <<<'$OUT'"

# ---- bench_gate: the gate's cost, mpk against none (bench/gate.sh)
GATE=$BUILD/bench_gate
GSEG=/dev/shm/test-ycsb-gate-$$
"$GATE" fill "$GSEG" 500 >/dev/null 2>&1; RC=$?
check "bench_gate fill: exit 0" test "$RC" = 0
for b in 1 8; do
    OUT=$(SHMC_PROTECTION=none "$GATE" get "$GSEG" 500 "$b" 0.05 2>&1); RC=$?
    check "bench_gate get batch $b in none mode: 'none $b NS' ($OUT)" \
        bash -c "[ $RC = 0 ] && awk -v b=$b '\$1 == \"none\" && \$2 == b && \$3 > 0 {ok = 1} END {exit !ok}' <<<'$OUT'"
done
if grep -qw pku /proc/cpuinfo && grep -qw ospke /proc/cpuinfo; then
    OUT=$(SHMC_PROTECTION=mpk "$GATE" get "$GSEG" 500 8 0.05 2>&1); RC=$?
    check "bench_gate get in mpk mode where the CPU has keys ($OUT)" \
        bash -c "[ $RC = 0 ] && grep -q '^mpk 8 ' <<<'$OUT'"
fi
OUT=$("$GATE" get "$GSEG" 500 1 0.05 60 2>&1); RC=$?
check "bench_gate catches a wrong value (60-byte values expected, 100 stored): exit 1" \
    bash -c "[ $RC = 1 ] && grep -q 'wrong values' <<<'$OUT'"
"$GATE" get "$GSEG" 500 0 >/dev/null 2>&1; RC=$?
check "bench_gate get with batch 0: exit 2" test "$RC" = 2
"$GATE" fill "$GSEG" 10 8 >/dev/null 2>&1; RC=$?
check "bench_gate fill with 8-byte values: exit 2" test "$RC" = 2
rm -f "$GSEG"

# ---- bench/gate_pair.sh: one build against another, paired rounds
OUT=$(KEYS=500 ROUNDS=1 bash "$(dirname "$0")/../bench/gate_pair.sh" "$BUILD" "$BUILD" 2>&1); RC=$?
check "gate_pair.sh of a build against itself: exit 0 and a row with the ratio ($OUT)" \
    bash -c "[ $RC = 0 ] && grep -Eq '^500 +[0-9.]+ +[0-9.]+ +[0-9.]+x$' <<<'$OUT'"
OUT=$(bash "$(dirname "$0")/../bench/gate_pair.sh" "$TMP/no-build" 2>&1); RC=$?
check "gate_pair.sh without a built OLD: exit 2 and says so" \
    bash -c "[ $RC = 2 ] && grep -q 'no $TMP/no-build/bench_gate' <<<'$OUT'"

# ---- bench_memory and bench/memory.sh: items held, refusals, hit ratio
MEMB=$BUILD/bench_memory
OUT=$("$MEMB" -b lib -p "$TMP/memseg" -m 2 -s 1000 -w 2 -z 0.9 2>&1); RC=$?
check "bench_memory lib: exit 0 and a RESULT line with items held ($OUT)" \
    bash -c "[ $RC = 0 ] && grep -Eq '^RESULT backend=lib .* items=[1-9][0-9]* refused=[0-9]+ .* hit_ratio=0\.[0-9]{4} ' <<<'$OUT'"
check "bench_memory lib removes its segment" test ! -e "$TMP/memseg"
"$MEMB" -b lib -p "$TMP/memseg" -m 1 >/dev/null 2>&1; RC=$?
check "bench_memory -m 1: exit 2" test "$RC" = 2
"$MEMB" -b mc >/dev/null 2>&1; RC=$?
check "bench_memory -b mc without -a: exit 2" test "$RC" = 2
OUT=$("$MEMB" -b mc -a "$TMP/no.sock" 2>&1); RC=$?
check "bench_memory to no server: exit 1 and says so" \
    bash -c "[ $RC = 1 ] && grep -q 'cannot connect' <<<'$OUT'"
NO_BUILD=1 BUILD=$BUILD OUT=$TMP/mem MEM_SIZES=2 MEM_VALUES=1000 MEM_WRITERS=1 MEM_THETAS=0.9 \
    bash "$(dirname "$0")/../bench/memory.sh" >"$TMP/mem.out" 2>&1; RC=$?
check "bench/memory.sh on a 1-cell matrix: exit 0" test "$RC" = 0
check "bench/memory.sh: a table row for the cell" grep -Eq '^\| 2 \| 1000 \| 1 \| 0\.9 \| ' "$TMP/mem.out"
[[ $RC = 0 ]] || cat "$TMP/mem.out" >&2
check "bench/memory.sh: shmcached's and the library's items in the CSV" \
    bash -c "grep -Eq '^2,1000,1,0\.9,shmcached,[0-9]+,[0-9]+,[1-9]' '$TMP/mem/memory.csv' &&
             grep -Eq '^2,1000,1,0\.9,lib,[0-9]+,[0-9]+,[1-9]' '$TMP/mem/memory.csv'"

# ---- bench/clients.sh: every client's row, plain and preloaded
if [[ -f $BUILD/libshmcached-memcached.so ]] && command -v memcslap >/dev/null &&
    php -r 'exit(class_exists("Memcached") ? 0 : 1);' 2>/dev/null &&
    /usr/bin/python3 -c 'import pylibmc' 2>/dev/null; then
    # (the ASan build's preload goes into uninstrumented php and python3)
    NO_BUILD=1 BUILD=$BUILD ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0" \
        bash "$(dirname "$0")/../bench/clients.sh" --quick >"$TMP/clients.out" 2>&1; RC=$?
    check "bench/clients.sh --quick: exit 0" test "$RC" = 0
    for row in "memcslap" "ycsb mc, C" "php-memcached" "pylibmc"; do
        for t in "TCP" "UNIX socket"; do
            check "bench/clients.sh: $row, $t: plain and preloaded ops/s and their ratio" \
                grep -Eq "^$row, $t +[0-9]+ +[0-9]+ +[0-9.]+x " "$TMP/clients.out"
        done
    done
    [[ $RC = 0 ]] || cat "$TMP/clients.out" >&2
    # its PHP and Python loops refuse bad arguments and a server that is not there
    for loop in "php $(dirname "$0")/../bench/clients_php.php" \
                "/usr/bin/python3 $(dirname "$0")/../bench/clients_pylibmc.py"; do
        $loop "$TMP/no.sock" 0 1 1 >/dev/null 2>&1; RC=$?
        check "${loop##*/} with 0 keys: exit 2" test "$RC" = 2
        OUT=$($loop "$TMP/no.sock" 10 0.1 10 2>&1); RC=$?
        check "${loop##*/} to no server: exit 1, naming the failed store ($OUT)" \
            bash -c "[ $RC = 1 ] && grep -q 'bench-0' <<<'$OUT'"
    done
else
    echo "skip: bench/clients.sh (needs the preload, memcslap, php-memcached and pylibmc)"
fi

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
