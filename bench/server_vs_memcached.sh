#!/usr/bin/env bash
# bench/server_vs_memcached.sh - build/shmcached (the server) against the
# real memcached, same -m and -t, over loopback TCP and over a UNIX socket,
# driven by the same load, in one run:
#
#   memcslap (libmemcached-tools)  --test=set then --test=get, CONC threads x
#                         EXEC operations each, over TCP and the UNIX socket;
#                         it reports wall time only: ops/s and the mean
#                         latency (threads x time / ops; each thread is
#                         synchronous) are derived from it
#   build/bench_memcached  (this project's libmemcached client, UNIX socket
#                         only) single-thread get and set latency
#                         percentiles over 100-byte values
#
# memcaslap (memaslap), whose keys begin with raw control bytes, is not
# used: memcslap gives the same load shape with less setup.
#
#   bench/server_vs_memcached.sh           full: 3 rounds, EXEC=100000, 3 s phases (about 6 minutes)
#   bench/server_vs_memcached.sh --quick   1 round, EXEC=40000, 1 s phases (under a minute)
#
# Environment: BUILD (default build), MEMCACHED (default memcached),
# MEM (-m, default 256), THREADS (-t, default 2), CONC (memcslap threads,
# default 4), EXEC, ROUNDS, NO_BUILD=1.  Each server runs alone while it is
# measured (started, driven, stopped); shmcached uses its default segment
# (named after the listener, removed at its clean exit).  Rounds alternate
# which server goes first, and every figure is the median over the rounds:
# on a shared 2-core VM one run's noise is as large as the difference
# being measured.  The latency client runs first on each fresh server, so
# that memcslap's keys have not yet filled the memory.
set -euo pipefail

QUICK=0
for a in "$@"; do
    case "$a" in
    --quick | -q) QUICK=1 ;;
    -h | --help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "server_vs_memcached.sh: unknown argument $a (use --quick)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MEMCACHED=${MEMCACHED:-memcached}
MEM=${MEM:-256}
THREADS=${THREADS:-2}
if [ "$QUICK" = 1 ]; then EXEC=${EXEC:-40000}; BM_OPT=(-q -d 1); ROUNDS=${ROUNDS:-1}
else EXEC=${EXEC:-100000}; BM_OPT=(-d 3); ROUNDS=${ROUNDS:-3}; fi
SLAP_CONC=${CONC:-4}

if [ -z "${NO_BUILD:-}" ]; then
    log=$(mktemp)
    make >"$log" 2>&1 || { tail -30 "$log"; rm -f "$log"; echo "make failed" >&2; exit 1; }
    rm -f "$log"
fi
SHMC=$BUILD/shmcached
[ -x "$SHMC" ] || { echo "$SHMC not built" >&2; exit 1; }
command -v "$MEMCACHED" >/dev/null || { echo "$MEMCACHED not found (apt-get install memcached)" >&2; exit 1; }
SLAP=$(command -v memcslap || command -v memslap || true)
[ -n "$SLAP" ] || { echo "memcslap not found (apt-get install libmemcached-tools)" >&2; exit 1; }
BM=$BUILD/bench_memcached
[ -x "$BM" ] || { echo "note: $BM not built (libmemcached-dev missing): no latency percentiles" >&2; BM=; }

TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SOCK=$TMP/srv.sock
USER_OPT=()
[ "$(id -u)" = 0 ] && USER_OPT=(-u root)
SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && { kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; }
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME TRANSPORT: one server alone, with equal -m and -t
start() {
    local bin=$SHMC
    [ "$1" = memcached ] && bin=$MEMCACHED
    local listen=(-l 127.0.0.1 -p "$PORT" -U 0)
    [ "$2" = unix ] && { rm -f "$SOCK"; listen=(-s "$SOCK"); }
    "$bin" "${USER_OPT[@]}" "${listen[@]}" -m "$MEM" -t "$THREADS" -c 4096 >"$TMP/$1-$2.log" 2>&1 &
    SRV_PID=$!
    for _ in $(seq 100); do
        if [ "$2" = unix ]; then [ -S "$SOCK" ] && break
        else (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; fi
        sleep 0.05
    done
    sleep 0.2
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$TMP/$1-$2.log"; echo "$1 did not start" >&2; exit 1; }
}
stop() {
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=
}

declare -A R # R[name,transport,figure,round]; the median over rounds is R[name,transport,figure]
ROUND=1

# bench_memcached -o CSV: "label,figure,value,unit" lines
run_bm() {
    local name=$1 csv=$TMP/bm-$1.csv
    "$BM" -s "$SOCK" "${BM_OPT[@]}" -o "$csv" >"$TMP/bm-$1.txt" 2>&1 || true
    [ -s "$csv" ] || { echo "bench_memcached against $name gave no result:" >&2; tail -5 "$TMP/bm-$1.txt" >&2; return; }
    local f
    for f in get_p50_ns get_p99_ns get_mean_ns set_p50_ns set_p99_ns set_mean_ns get_misses set_failures; do
        R[$name,unix,bm_$f,$ROUND]=$(awk -F, -v f="$f" '$2 == f {printf "%.0f", $3}' "$csv")
    done
}

# memcslap: "Time to <test> <keys> keys by <n> threads: <secs> seconds."
run_slap() {
    local name=$1 tr=$2 test=$3 addr=127.0.0.1:$PORT out=$TMP/slap-$1-$2-$3.txt
    [ "$tr" = unix ] && addr=$SOCK
    "$SLAP" --servers="$addr" --concurrency="$SLAP_CONC" --execute-number="$EXEC" --test="$test" >"$out" 2>&1 || true
    local line keys secs
    line=$(grep -E "^Time to $test +[0-9]+ keys by" "$out" | tail -1)
    [ -n "$line" ] || { echo "memcslap $test against $name/$tr gave no result:" >&2; tail -5 "$out" >&2; return; }
    keys=$(awk '{print $4}' <<<"$line")
    secs=$(awk -F: '{print $2}' <<<"$line" | awk '{print $1}')
    R[$name,$tr,slap_${test}_ops,$ROUND]=$(awk -v k="$keys" -v s="$secs" 'BEGIN{printf "%.0f", (s > 0 ? k / s : 0)}')
    R[$name,$tr,slap_${test}_lat,$ROUND]=$(awk -v k="$keys" -v s="$secs" -v c="$SLAP_CONC" 'BEGIN{printf "%.1f", (k > 0 ? c * s * 1e6 / k : 0)}')
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== shmcached ($SHMC) vs $($MEMCACHED -V 2>/dev/null || echo memcached): -m $MEM -t $THREADS, $(nproc) CPUs"
echo "   memcslap: $SLAP --concurrency=$SLAP_CONC --execute-number=$EXEC --test=set|get"
[ -n "$BM" ] && echo "   latency:  $BM -s <socket> ${BM_OPT[*]}"
echo "   load average before: $LOAD_BEFORE; $ROUNDS round(s), medians shown"
for ROUND in $(seq "$ROUNDS"); do
    order=(shmcached memcached)
    [ $((ROUND % 2)) = 0 ] && order=(memcached shmcached)
    for tr in tcp unix; do
        for name in "${order[@]}"; do
            echo "-- round $ROUND: $name over $tr" >&2
            start "$name" "$tr"
            if [ "$tr" = unix ] && [ -n "$BM" ]; then run_bm "$name"; fi
            run_slap "$name" "$tr" set
            run_slap "$name" "$tr" get
            stop
        done
    done
done
# median NAME TRANSPORT FIGURE: the median of the rounds that gave a value
median() {
    local r v vals=()
    for r in $(seq "$ROUNDS"); do
        v=${R[$1,$2,$3,$r]:-}
        [ -n "$v" ] && vals+=("$v")
    done
    [ ${#vals[@]} = 0 ] && return
    printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.10g\n", (a[NR/2]+a[NR/2+1])/2}'
}
for name in shmcached memcached; do
    for tr in tcp unix; do
        for f in slap_set_ops slap_set_lat slap_get_ops slap_get_lat bm_get_p50_ns bm_get_p99_ns bm_get_mean_ns \
                 bm_set_p50_ns bm_set_p99_ns bm_set_mean_ns bm_get_misses bm_set_failures; do
            R[$name,$tr,$f]=$(median "$name" "$tr" "$f")
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ratio A B: A/B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
row() { # row LABEL TRANSPORT FIGURE
    local s=${R[shmcached,$2,$3]:-} m=${R[memcached,$2,$3]:-}
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "${s:--}" "${m:--}" "$(ratio "$s" "$m")"
}
echo
echo "| figure | transport | shmcached | memcached | shmcached / memcached |"
echo "|---|---|---|---|---|"
for tr in tcp unix; do
    row "memcslap set, ops/s" "$tr" slap_set_ops
    row "memcslap set, mean latency us (derived)" "$tr" slap_set_lat
    row "memcslap get, ops/s" "$tr" slap_get_ops
    row "memcslap get, mean latency us (derived)" "$tr" slap_get_lat
done
if [ -n "$BM" ]; then
    row "1-thread get p50, ns" unix bm_get_p50_ns
    row "1-thread get p99, ns" unix bm_get_p99_ns
    row "1-thread get mean, ns" unix bm_get_mean_ns
    row "1-thread set p50, ns" unix bm_set_p50_ns
    row "1-thread set p99, ns" unix bm_set_p99_ns
    row "1-thread set mean, ns" unix bm_set_mean_ns
    row "1-thread get misses (must be 0)" unix bm_get_misses
fi
echo
echo "load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
