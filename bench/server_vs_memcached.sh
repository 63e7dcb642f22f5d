#!/usr/bin/env bash
# bench/server_vs_memcached.sh - build/shmcached (the server) against the
# real memcached, same -m and -t, over loopback TCP and over a UNIX socket,
# driven by the same load, in one run:
#
#   build/ycsb -b mc       (libmemcached, text protocol) one client thread,
#                         workload A (50% get / 50% set), uniform keys,
#                         100-byte values, every value verified: get and set
#                         latency percentiles, over TCP and the UNIX socket,
#                         twice: client and server pinned to different CPUs
#                         ("split") and to the same CPU ("same").  Unpinned,
#                         the figure depends on where the scheduler happens
#                         to put the two threads (about 9 us on one vCPU, 45
#                         us across two on this VM, for either server)
#   memcslap (libmemcached-tools)  --test=set then --test=get, CONC threads x
#                         EXEC operations each, over TCP and the UNIX socket;
#                         it reports wall time only: ops/s and the mean
#                         latency (threads x time / ops; each thread is
#                         synchronous) are derived from it
#
# A third column runs build/shmcached with -o busy_poll_us=BUSY_POLL_US
# (default 50; off by default in the server, see docs/server.md), to show
# what polling before sleeping buys across CPUs and what it costs.
#
# memcaslap (memaslap), whose keys begin with raw control bytes, is not
# used: memcslap gives the same load shape with less setup.
#
#   bench/server_vs_memcached.sh           full: 3 rounds, EXEC=100000, 2 s latency runs (about 8 minutes)
#   bench/server_vs_memcached.sh --quick   1 round, EXEC=40000, 1 s latency runs (under a minute)
#
# Environment: BUILD (default build), MEMCACHED (default memcached),
# MEM (-m, default 256), THREADS (-t, default 2), CONC (memcslap threads,
# default 4), EXEC, ROUNDS, BUSY_POLL_US, NO_BUILD=1.  Each server runs alone while it is
# measured (started, driven, stopped; bench/servers.sh); shmcached uses its
# default segment (named after the listener, removed at its clean exit).
# Rounds alternate which server goes first, and every figure is the median
# over the rounds: on a shared 2-core VM one run's noise is as large as the
# difference being measured.  The latency client runs first on each fresh
# server (it flushes and loads its own records).
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args server_vs_memcached.sh 35 "$@"
BUILD=${BUILD:-build}
MEMCACHED=${MEMCACHED:-memcached}
MEM=${MEM:-256}
SRV_THREADS=${THREADS:-2}
if [ "$QUICK" = 1 ]; then EXEC=${EXEC:-40000}; LAT=(-n 20000 -d 1); ROUNDS=${ROUNDS:-1}
else EXEC=${EXEC:-100000}; LAT=(-n 100000 -d 2); ROUNDS=${ROUNDS:-3}; fi
SLAP_CONC=${CONC:-4}
BUSY_POLL_US=${BUSY_POLL_US:-50}

bench_build server_vs_memcached.sh
SHMC=$BUILD/shmcached
[ -x "$SHMC" ] || { echo "$SHMC not built" >&2; exit 1; }
command -v "$MEMCACHED" >/dev/null || { echo "$MEMCACHED not found (apt-get install memcached)" >&2; exit 1; }
SLAP=$(command -v memcslap || command -v memslap || true)
[ -n "$SLAP" ] || { echo "memcslap not found (apt-get install libmemcached-tools)" >&2; exit 1; }
YCSB=$BUILD/ycsb
if ! bench_ycsb_has_mc "$YCSB"; then
    echo "note: $YCSB has no mc backend (libmemcached-dev missing): no latency percentiles" >&2
    YCSB=
fi

TMP=$(mktemp -d)
# shellcheck source=bench/servers.sh
. "$ROOT/bench/servers.sh"
srv_init
cleanup() {
    srv_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A R # R[name,transport,figure,round]; the median over rounds is R[name,transport,figure]
ROUND=1
FAILED=0

# Placements of the latency runs: "split" = server threads on CPU 1,
# client on CPU 0; "same" = all on CPU 0.  Without taskset or a second
# CPU, one unpinned run ("any").
PLACES=(any)
command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] && PLACES=(split same)

# pin PLACE: pin the running server's threads; sets CLIENT_PIN
pin() {
    CLIENT_PIN=()
    case $1 in
    split) taskset -a -cp 1 "$SRV_PID" >/dev/null; CLIENT_PIN=(taskset -c 0) ;;
    same) taskset -a -cp 0 "$SRV_PID" >/dev/null; CLIENT_PIN=(taskset -c 0) ;;
    esac
}
unpin() { [ "${PLACES[0]}" = any ] || taskset -a -cp "0-$(($(nproc) - 1))" "$SRV_PID" >/dev/null; }

# run_lat NAME TRANSPORT PLACE: build/ycsb's CSV is
# label,backend,workload,dist,records,value_bytes,processes,threads,op,metric,value
run_lat() {
    local name=$1 tr=$2 place=$3 csv=$TMP/lat-$1-$2-$3-$ROUND.csv log=$TMP/lat-$1-$2-$3.txt
    pin "$place"
    if ! "${CLIENT_PIN[@]}" "$YCSB" -b mc -a "$SRV_ADDR" -w A -D uniform -v 100 -t 1 "${LAT[@]}" -V \
        -l "$name-$tr-$place" -c "$csv" >"$log" 2>&1; then
        echo "ycsb against $name/$tr/$place failed (misses, wrong values or errors):" >&2
        tail -5 "$log" >&2
        FAILED=1
    fi
    unpin
    [ -s "$csv" ] || return 0
    local op metric
    for op in read update; do
        for metric in p50_ns p99_ns mean_ns; do
            R[$name,$tr,lat_${place}_${op}_$metric,$ROUND]=$(awk -F, -v o="$op" -v m="$metric" \
                '$9 == o && $10 == m {printf "%.0f", $11}' "$csv")
        done
    done
    R[$name,$tr,lat_${place}_misses,$ROUND]=$(awk -F, '$9 == "read" && $10 == "misses" {printf "%.0f", $11}' "$csv")
}

# memcslap: "Time to <test> <keys> keys by <n> threads: <secs> seconds."
run_slap() {
    local name=$1 tr=$2 test=$3 out=$TMP/slap-$1-$2-$3.txt
    "$SLAP" --servers="$SRV_ADDR" --concurrency="$SLAP_CONC" --execute-number="$EXEC" --test="$test" >"$out" 2>&1 || true
    local line keys secs
    line=$(grep -E "^Time to $test +[0-9]+ keys by" "$out" | tail -1)
    [ -n "$line" ] || { echo "memcslap $test against $name/$tr gave no result:" >&2; tail -5 "$out" >&2; return; }
    keys=$(awk '{print $4}' <<<"$line")
    secs=$(awk -F: '{print $2}' <<<"$line" | awk '{print $1}')
    R[$name,$tr,slap_${test}_ops,$ROUND]=$(awk -v k="$keys" -v s="$secs" 'BEGIN{printf "%.0f", (s > 0 ? k / s : 0)}')
    R[$name,$tr,slap_${test}_lat,$ROUND]=$(awk -v k="$keys" -v s="$secs" -v c="$SLAP_CONC" 'BEGIN{printf "%.1f", (k > 0 ? c * s * 1e6 / k : 0)}')
}

# median NAME TRANSPORT FIGURE: the median of the rounds that gave a value
median() {
    local r v vals=()
    for r in $(seq "$ROUNDS"); do
        v=${R[$1,$2,$3,$r]:-}
        [ -n "$v" ] && vals+=("$v")
    done
    [ ${#vals[@]} = 0 ] && return
    printf '%s\n' "${vals[@]}" | sort -g |
        awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.10g\n", (a[NR/2]+a[NR/2+1])/2}'
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== shmcached ($SHMC) vs $($MEMCACHED -V 2>/dev/null || echo memcached): -m $MEM -t $SRV_THREADS, $(nproc) CPUs"
echo "   memcslap: $SLAP --concurrency=$SLAP_CONC --execute-number=$EXEC --test=set|get"
[ -n "$YCSB" ] && echo "   latency:  $YCSB -b mc -a <addr> -w A -D uniform -v 100 -t 1 ${LAT[*]} -V"
echo "   load average before: $LOAD_BEFORE; $ROUNDS round(s), medians shown"
bench_progress_start $((ROUNDS * 2 * 3))
for ROUND in $(seq "$ROUNDS"); do
    order=(shmcached memcached shmcached_bp)
    [ $((ROUND % 2)) = 0 ] && order=(shmcached_bp memcached shmcached)
    for tr in tcp unix; do
        for name in "${order[@]}"; do
            bench_progress "round $ROUND/$ROUNDS: backend $name (-t $SRV_THREADS) over $tr:" \
                "${YCSB:+ycsb workload A, 1 client thread (${PLACES[*]});}" \
                "memcslap set and get, $SLAP_CONC client threads" >&2
            if [ "$name" = shmcached_bp ]; then srv_start "$name" "$tr" -o "busy_poll_us=$BUSY_POLL_US"
            else srv_start "$name" "$tr"; fi
            if [ -n "$YCSB" ]; then
                for place in "${PLACES[@]}"; do run_lat "$name" "$tr" "$place"; done
            fi
            run_slap "$name" "$tr" set
            run_slap "$name" "$tr" get
            srv_stop
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
FIGURES=(slap_set_ops slap_set_lat slap_get_ops slap_get_lat)
for place in "${PLACES[@]}"; do
    FIGURES+=("lat_${place}_misses")
    for op in read update; do for m in p50_ns p99_ns mean_ns; do FIGURES+=("lat_${place}_${op}_$m"); done; done
done
for name in shmcached memcached shmcached_bp; do
    for tr in tcp unix; do
        for f in "${FIGURES[@]}"; do R[$name,$tr,$f]=$(median "$name" "$tr" "$f"); done
    done
done

# ratio A B: A/B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
row() { # row LABEL TRANSPORT FIGURE
    local s=${R[shmcached,$2,$3]:-} m=${R[memcached,$2,$3]:-} b=${R[shmcached_bp,$2,$3]:-}
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "${s:--}" "${m:--}" "$(ratio "$s" "$m")" \
        "${b:--}" "$(ratio "$b" "$m")"
}
echo
echo "| figure | transport | shmcached | memcached | shmcached / memcached | shmcached -o busy_poll_us=$BUSY_POLL_US | that / memcached |"
echo "|---|---|---|---|---|---|---|"
for tr in tcp unix; do
    row "memcslap set, ops/s" "$tr" slap_set_ops
    row "memcslap set, mean latency us (derived)" "$tr" slap_set_lat
    row "memcslap get, ops/s" "$tr" slap_get_ops
    row "memcslap get, mean latency us (derived)" "$tr" slap_get_lat
done
if [ -n "$YCSB" ]; then
    for place in "${PLACES[@]}"; do
        case $place in
        split) where="client and server on different CPUs" ;;
        same) where="client and server on one CPU" ;;
        *) where="unpinned" ;;
        esac
        for tr in tcp unix; do
            row "1-thread get p50, ns ($where)" "$tr" "lat_${place}_read_p50_ns"
            row "1-thread get p99, ns ($where)" "$tr" "lat_${place}_read_p99_ns"
            row "1-thread set p50, ns ($where)" "$tr" "lat_${place}_update_p50_ns"
            row "1-thread set p99, ns ($where)" "$tr" "lat_${place}_update_p99_ns"
            row "1-thread get misses, must be 0 ($where)" "$tr" "lat_${place}_misses"
        done
    done
fi
echo
echo "load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
exit "$FAILED"
