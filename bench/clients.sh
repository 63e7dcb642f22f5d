#!/usr/bin/env bash
# bench/clients.sh - what the libmemcached drop-in (issue 17) gives the
# programs people already run: each client below reads keys of one local
# build/shmcached, once over the socket (plain) and once with
# LD_PRELOAD=BUILD/libshmcached-memcached.so (preloaded: the same binary,
# its gets served by library calls), over TCP on loopback and over a UNIX
# socket (the fast plain path):
#
#   memcslap   libmemcached's own load tool, `memcslap -F -t get -c 1`: it
#              empties the server, stores E keys (its random values, about
#              2.6 KB on average) then gets each once; ops/s = E / its get
#              time (it has no p50)
#   ycsb mc    build/ycsb's libmemcached backend, workload C (read only,
#              zipfian), 10000 records x 100 B, 1 thread: ops/s and p50
#   php        php-cli with php-memcached (bench/clients_php.php): 1000
#              keys x 100 B, gets for SECS s untimed (ops/s), then LAT
#              gets each timed with hrtime() (p50, less the timer's cost)
#   pylibmc    /usr/bin/python3 with pylibmc (bench/clients_pylibmc.py),
#              the same as php with time.perf_counter_ns()
#   pylibmc x100  the same with get_multi of 100 keys (memcached_mget):
#              ops/s counts keys, the p50 is of one 100-key call
#
# Table: path, plain ops/s, preloaded ops/s, ratio, plain p50,
# preloaded p50, ratio (plain / preloaded: the target is 10x for each).
# Every figure is the median of ROUNDS rounds, plain and preloaded
# alternating first from round to round.  The header names the CPU
# (lscpu), the segment's protection mode ("stats settings"
# segment_protection) and the load average.  Without the preload built the
# plain columns are still measured and the others print "-".
#
#   bench/clients.sh           3 rounds, 3 s runs, 100000 timed gets, memcslap -e 50000
#   bench/clients.sh --quick   1 round, 0.5 s runs, 20000 timed gets, memcslap -e 10000
#
# Environment: BUILD (default build), PRELOAD (default
# BUILD/libshmcached-memcached.so), MEM (-m, 256), THREADS (-t, 2), ROUNDS,
# NO_BUILD=1.  Packages: scripts/install-deps.sh --bench.
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args clients.sh 36 "$@"
BUILD=${BUILD:-build}
PRELOAD=${PRELOAD:-$BUILD/libshmcached-memcached.so}
case $PRELOAD in /*) ;; *) PRELOAD=$ROOT/$PRELOAD ;; esac # LD_PRELOAD: from any directory
MEM=${MEM:-256}
SRV_THREADS=${THREADS:-2}
MEMCACHED=memcached # servers.sh's name for the real one: not started here
PY=/usr/bin/python3
if [ "$QUICK" = 1 ]; then SECS=0.5; LAT=20000; SLAP=10000; ROUNDS=${ROUNDS:-1}
else SECS=3; LAT=100000; SLAP=50000; ROUNDS=${ROUNDS:-3}; fi

bench_build clients.sh
SHMC=$BUILD/shmcached
YCSB=$BUILD/ycsb
[ -x "$SHMC" ] || { echo "clients.sh: $SHMC not built" >&2; exit 1; }
bench_ycsb_has_mc "$YCSB" || { echo "clients.sh: $YCSB has no mc backend (libmemcached-dev)" >&2; exit 1; }
command -v memcslap >/dev/null || { echo "clients.sh: memcslap not found (libmemcached-tools)" >&2; exit 1; }
command -v php >/dev/null && php -r 'exit(class_exists("Memcached") ? 0 : 1);' ||
    { echo "clients.sh: php with the Memcached class not found (php-cli, php-memcached)" >&2; exit 1; }
"$PY" -c 'import pylibmc' 2>/dev/null || { echo "clients.sh: pylibmc not found (python3-pylibmc)" >&2; exit 1; }
HAVE_PRELOAD=0
if [ -f "$PRELOAD" ]; then HAVE_PRELOAD=1
else echo "clients.sh: $PRELOAD is not built: plain runs only"; fi

TMP=$(mktemp -d)
# shellcheck source=bench/servers.sh
. "$ROOT/bench/servers.sh"
srv_init
trap 'srv_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

CLIENTS=(memcslap ycsb php pylibmc pylibmc_multi)
TRANSPORTS=(tcp unix)
declare -A DESC=([memcslap]="memcslap" [ycsb]="ycsb mc, C" [php]="php-memcached" [pylibmc]="pylibmc" [pylibmc_multi]="pylibmc mget x100"
                 [tcp]="TCP" [unix]="UNIX socket")
declare -A ADDR R # ADDR[transport]; R[client,transport,mode,figure,round]

# field LINE NAME: the value after NAME in a line of "name value" pairs
field() { awk -v n="$2" '{ for (i = 1; i < NF; i++) if ($i == n) print $(i + 1) }' <<<"$1"; }

# run_CLIENT ADDR: one run, printed as "ops_per_s N p50_ns N" (p50 "-"
# where the client has none); non-zero exit status if the run failed.  The
# client runs under RUN_ENV (empty: plain; env LD_PRELOAD=...: preloaded).
run_memcslap() {
    local out secs
    out=$("${RUN_ENV[@]}" memcslap -s "$1" -F -t get -c 1 -e "$SLAP" 2>&1) || { echo "$out" >&2; return 1; }
    secs=$(sed -n 's/^Time to get .* \([0-9.]*\) seconds\.$/\1/p' <<<"$out")
    [ -n "$secs" ] || { echo "$out" >&2; return 1; }
    awk -v n="$SLAP" -v s="$secs" 'BEGIN { printf "ops_per_s %d p50_ns -\n", (s > 0 ? n / s : 0) }'
}
run_ycsb() {
    local out row
    out=$("${RUN_ENV[@]}" "$YCSB" -b mc -a "$1" -w C -n 10000 -d "$SECS" 2>&1) || { echo "$out" >&2; return 1; }
    row=$(awk '$1 == "read" { print $3, $4 }' <<<"$out")
    [ -n "$row" ] || { echo "$out" >&2; return 1; }
    echo "ops_per_s ${row% *} p50_ns ${row#* }"
}
run_php() { "${RUN_ENV[@]}" php "$ROOT/bench/clients_php.php" "$1" 1000 "$SECS" "$LAT"; }
run_pylibmc() { "${RUN_ENV[@]}" "$PY" "$ROOT/bench/clients_pylibmc.py" "$1" 1000 "$SECS" "$LAT"; }
run_pylibmc_multi() { "${RUN_ENV[@]}" "$PY" "$ROOT/bench/clients_pylibmc.py" "$1" 1000 "$SECS" $((LAT / 100)) 100; }

# measure CLIENT TRANSPORT MODE ROUND: one run, kept in R
measure() {
    local out
    RUN_ENV=()
    [ "$3" = preloaded ] && RUN_ENV=(env "LD_PRELOAD=$PRELOAD")
    if out=$("run_$1" "${ADDR[$2]}") && [ -n "$(field "$out" ops_per_s)" ]; then
        R[$1,$2,$3,ops,$4]=$(field "$out" ops_per_s)
        R[$1,$2,$3,p50,$4]=$(field "$out" p50_ns)
    else
        R[$1,$2,$3,ops,$4]=fail
        R[$1,$2,$3,p50,$4]=fail
        FAILED=1
    fi
    echo "round $4/$ROUNDS ${DESC[$1]}, ${DESC[$2]}, $3: ${out:-failed}"
}

srv_start shmcached tcp
ADDR[tcp]=$SRV_ADDR
srv_start shmcached_unix unix
ADDR[unix]=$SRV_ADDR
PROT=$("$PY" -c "
import socket; s = socket.create_connection(('127.0.0.1', ${ADDR[tcp]##*:})); s.sendall(b'stats settings\r\n')
b = b''
while not b.endswith(b'END\r\n'): b += s.recv(65536)
print([l.split()[2] for l in b.decode().splitlines() if l.startswith('STAT segment_protection ')][0])")

MODES=(plain)
[ "$HAVE_PRELOAD" = 1 ] && MODES+=(preloaded)
FAILED=0
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_progress_start $((ROUNDS * ${#CLIENTS[@]} * ${#TRANSPORTS[@]} * ${#MODES[@]}))
for round in $(seq "$ROUNDS"); do
    order=("${MODES[@]}")
    if [ $((round % 2)) = 0 ] && [ ${#MODES[@]} = 2 ]; then order=(preloaded plain); fi
    for c in "${CLIENTS[@]}"; do
        for t in "${TRANSPORTS[@]}"; do
            for m in "${order[@]}"; do
                bench_progress "${DESC[$c]}, ${DESC[$t]}, $m"
                measure "$c" "$t" "$m" "$round"
            done
        done
    done
done
srv_stop

# median CLIENT TRANSPORT MODE FIGURE: over the rounds ("fail" if any
# failed, "-" if not measured)
median() {
    local v=() r x
    for r in $(seq "$ROUNDS"); do
        x=${R[$1,$2,$3,$4,$r]:--}
        case $x in fail | -) echo "$x"; return ;; esac
        v+=("$x")
    done
    printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
# ratio A B: A / B with one decimal and an x, or "-"
ratio() {
    case "$1$2" in *[!0-9.]* | "") echo -; return ;; esac
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx\n", a / b; else print "-" }'
}
us() { case $1 in *[!0-9]* | "") echo "$1" ;; *) awk -v n="$1" 'BEGIN { printf "%.2f\n", n / 1000 }' ;; esac; }

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo
echo "== existing clients, plain (socket) against preloaded ($PRELOAD): $CPU, $(nproc) CPUs;"
echo "   shmcached protection: $PROT; -m $MEM -t $SRV_THREADS; one client process, one thread;"
echo "   median of $ROUNDS round(s); ${SECS}s runs, $LAT timed gets, memcslap -e $SLAP;"
echo "   load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   ratios are plain / preloaded for p50 and preloaded / plain for ops/s (target: 10x each)"
printf '%-28s %12s %12s %7s %10s %10s %7s\n' path plain_ops/s preload_ops/s ratio plain_p50 preload_p50 ratio
printf '%-28s %12s %12s %7s %10s %10s %7s\n' "" "" "" "" us us ""
for c in "${CLIENTS[@]}"; do
    for t in "${TRANSPORTS[@]}"; do
        po=$(median "$c" "$t" plain ops); qo=$(median "$c" "$t" preloaded ops)
        pp=$(median "$c" "$t" plain p50); qp=$(median "$c" "$t" preloaded p50)
        printf '%-28s %12s %12s %7s %10s %10s %7s\n' "${DESC[$c]}, ${DESC[$t]}" "$po" "$qo" \
            "$(ratio "$qo" "$po")" "$(us "$pp")" "$(us "$qp")" "$(ratio "$pp" "$qp")"
    done
done
[ "$FAILED" = 0 ] || { echo "clients.sh: some runs failed (above)" >&2; exit 1; }
