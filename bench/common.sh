# bench/common.sh - sourced first by the benchmark scripts (bench/run.sh,
# bench/ycsb.sh, bench/server_vs_memcached.sh): their shared command line,
# build step and probe of build/ycsb.  Sets ROOT and changes to it.
#
#   bench_args NAME HELP_LAST "$@"  --quick/-q sets QUICK=1 (else 0); -h/--help
#                                   prints lines 2..HELP_LAST of the script;
#                                   anything else: an error, exit 2
#   bench_build NAME                unless NO_BUILD is set: make (JOBS, default
#                                   2), quiet unless it fails (then exit 1)
#   bench_ycsb_has NAME YCSB        true if YCSB is built with backend NAME (mc,
#                                   lmdb, redis: not without the library's -dev
#                                   package)
#   bench_ycsb_has_mc YCSB          bench_ycsb_has mc YCSB
#   bench_progress_start TOTAL      TOTAL steps (runs) are to come: starts the
#                                   clock of the ETA
#   bench_progress WHAT             one step starts: prints
#                                   "[ N/TOTAL, M:SS in, ETA M:SS] WHAT", the
#                                   ETA from the mean time of the steps so far;
#                                   WHAT names the backend, the workload and the
#                                   thread count (bench/README.md)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bench_args() {
    local name=$1 help_last=$2 a
    shift 2
    QUICK=0
    for a in "$@"; do
        case "$a" in
        --quick | -q) QUICK=1 ;;
        -h | --help) sed -n "2,${help_last}p" "$0"; exit 0 ;;
        *) echo "$name: unknown argument $a (use --quick)" >&2; exit 2 ;;
        esac
    done
}

bench_build() {
    [ -z "${NO_BUILD:-}" ] || return 0
    local log
    log=$(mktemp)
    make JOBS="${JOBS:-2}" >"$log" 2>&1 || { tail -30 "$log"; rm -f "$log"; echo "$1: make failed" >&2; exit 1; }
    rm -f "$log"
}

bench_ycsb_has() {
    [ -x "$2" ] && ! "$2" -b "$1" -a /dev/null/x -d 1 2>&1 | grep -q "not built in"
}

bench_ycsb_has_mc() {
    bench_ycsb_has mc "$1"
}

bench_progress_start() {
    BENCH_TOTAL=$1
    BENCH_DONE=0
    BENCH_T0=$SECONDS
}

# M:SS (or H:MM:SS) of a number of seconds
bench_clock() {
    local t=$1
    if [ "$t" -ge 3600 ]; then printf '%d:%02d:%02d' $((t / 3600)) $((t % 3600 / 60)) $((t % 60))
    else printf '%d:%02d' $((t / 60)) $((t % 60)); fi
}

bench_progress() {
    local elapsed=$((SECONDS - BENCH_T0)) eta="?"
    if [ "$BENCH_DONE" -gt 0 ]; then
        eta=$(bench_clock $((elapsed * (BENCH_TOTAL - BENCH_DONE) / BENCH_DONE)))
    fi
    BENCH_DONE=$((BENCH_DONE + 1))
    printf '[%3d/%d, %s in, ETA %s] %s\n' "$BENCH_DONE" "$BENCH_TOTAL" "$(bench_clock "$elapsed")" "$eta" "$*"
}
