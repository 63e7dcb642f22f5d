#!/usr/bin/env bash
# bench/run.sh - build, run the library benchmark and the memcached
# comparison (build/ycsb's mc backend), print both side by side, then the
# protection gate's cost (bench/gate.sh: mpk against none, alternated).
# The headline comparison is bench/ycsb.sh; see bench/README.md.
#
#   bench/run.sh            full run (1M items, 3 s phases)
#   bench/run.sh --quick    short run (200k items, 1 s phases): well under 2 minutes
#
# Environment: BUILD (default build), SOCK (memcached socket, default
# /tmp/shmc-bench-memcached.sock), MEMCACHED (default memcached from PATH),
# NO_BUILD=1 (skip `make`: use the binaries already in BUILD).
# Exit status: 0 if every value read back was right, else 1.
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args run.sh 12 "$@"
QFLAG=() # bench_lib's quick mode
[ "$QUICK" = 1 ] && QFLAG=(-q)
BUILD=${BUILD:-build}
SOCK=${SOCK:-/tmp/shmc-bench-memcached.sock}
MEMCACHED=${MEMCACHED:-memcached}
LIB_CSV=$BUILD/bench-lib.csv
MC_CSV=$BUILD/bench-memcached.csv

[ -n "${NO_BUILD:-}" ] || echo "== build (make)"
bench_build run.sh
HAVE_MC=1
if ! bench_ycsb_has_mc "$BUILD/ycsb"; then
    echo "run.sh: $BUILD/ycsb has no mc backend (no libmemcached-dev): skipping the memcached comparison" >&2
    HAVE_MC=0
elif ! command -v "$MEMCACHED" >/dev/null; then
    echo "run.sh: $MEMCACHED not found: skipping the memcached comparison" >&2
    HAVE_MC=0
fi

bench_progress_start $((2 + HAVE_MC))
echo
bench_progress "backend lib (bench_lib): get/set latency, 1 thread; 95/5 get/set mix, 1 and 2 threads"
echo "== shmcached library: $BUILD/bench_lib ${QFLAG[*]} -o $LIB_CSV"
rc=0
"$BUILD/bench_lib" "${QFLAG[@]}" -o "$LIB_CSV" || rc=$?

if [ "$HAVE_MC" = 1 ]; then
    echo
    bench_progress "backend memcached over a UNIX socket (-t 2): ycsb workload A, uniform keys, 1 client thread"
    echo "== memcached over a UNIX socket"
    rm -f "$SOCK"
    USER_OPT=()
    [ "$(id -u)" = 0 ] && USER_OPT=(-u root)
    "$MEMCACHED" "${USER_OPT[@]}" -s "$SOCK" -m 1024 -t 2 &
    MC_PID=$!
    trap 'kill "$MC_PID" 2>/dev/null; wait "$MC_PID" 2>/dev/null; rm -f "$SOCK"' EXIT
    for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
    [ -S "$SOCK" ] || { echo "run.sh: memcached did not create $SOCK" >&2; exit 1; }
    echo "memcached $("$MEMCACHED" -V | awk '{print $2}') pid $MC_PID: -s $SOCK -m 1024 -t 2"
    # build/ycsb's mc backend: workload A (50% read / 50% update) on uniform
    # keys, one thread, every op timed alone: the get and set latencies of
    # the library run, through libmemcached.
    if [ "$QUICK" = 1 ]; then MC_N=20000; MC_D=1; else MC_N=100000; MC_D=3; fi
    rm -f "$MC_CSV"
    "$BUILD/ycsb" -b mc -a "$SOCK" -w A -D uniform -n "$MC_N" -v 100 -t 1 -d "$MC_D" -V \
        -l memcached_unix -c "$MC_CSV" || rc=$?
else
    : >"$MC_CSV"
fi

echo
echo "== summary: single-thread latency, 100-byte values (ns; timer overhead subtracted)"
awk -F, '
    FNR == NR { lib[$2] = $3; next }
    # build/ycsb CSV: label,backend,workload,dist,records,value_bytes,processes,threads,op,metric,value
    FNR > 1   { op = $9 == "read" ? "get" : ($9 == "update" ? "set" : $9)
                mc[op "_" $10] = $11; mc["items"] = $5 }
    function cell(v) { return v == "" ? "         -" : sprintf("%10.0f", v) }
    END {
        printf "%-10s %18s %22s %12s\n", "", "shmcached library", "memcached UNIX socket", "memcached/lib"
        n = split("get_p50_ns get_p99_ns set_p50_ns set_p99_ns", m, " ")
        for (i = 1; i <= n; i++) {
            name = m[i]; sub(/_ns$/, "", name); sub(/_/, " ", name)
            r = (lib[m[i]] > 0 && mc[m[i]] != "") ? sprintf("%11.0fx", mc[m[i]] / lib[m[i]]) : "           -"
            printf "%-10s %18s %22s %12s\n", name, cell(lib[m[i]]), cell(mc[m[i]]), r
        }
        printf "\nshmcached library throughput, 95%% get / 5%% set on one handle:\n"
        for (t = 1; t <= 1024; t++) if (("mix_" t "t_ops_per_s") in lib)
            printf "  %4d thread%s %14.0f ops/s\n", t, t == 1 ? " " : "s", lib["mix_" t "t_ops_per_s"]
        for (k in lib) if (k ~ /^mix_[0-9]+t_over_1t_ratio$/) printf "  ratio T/1 %18.2fx  (wall clock: the figure)\n", lib[k]
        for (k in lib) if (k ~ /^mix_[0-9]+t_over_1t_cpu_normalized_ratio$/)
            printf "  CPU-normalized %13.2fx  (diagnostic, see bench/README.md)\n", lib[k]
        printf "\ntargets: get p50 <= 250 ns: %s;  set p50 <= 400 ns: %s;  2 threads >= 1.6x 1 thread: %s\n",
            (lib["get_p50_ns"] != "" && lib["get_p50_ns"] <= 250) ? "met" : "NOT met",
            (lib["set_p50_ns"] != "" && lib["set_p50_ns"] <= 400) ? "met" : "NOT met",
            (lib["mix_2t_over_1t_ratio"] != "" && lib["mix_2t_over_1t_ratio"] >= 1.6) ? "met" : "NOT met"
        printf "items resident: %s (library), %s (memcached)\n", lib["items"], mc["items"] == "" ? "-" : mc["items"]
        printf "load average during the library run: %s at start, %s at end (above 0.5: other work was running)\n", lib["loadavg_start"], lib["loadavg_end"]
    }' "$LIB_CSV" "$MC_CSV"
echo "CSV: $LIB_CSV $MC_CSV"

# The protection gate's cost: the same binary in "mpk" and "none" mode,
# alternated (bench/gate.sh; mpk only where the CPU has protection keys).
echo
bench_progress "backend lib, mpk against none: the protection gate (bench/gate.sh)"
QARG=()
[ "$QUICK" = 1 ] && QARG=(--quick)
NO_BUILD=1 BUILD="$BUILD" bench/gate.sh "${QARG[@]}" || rc=1
exit "$rc"
