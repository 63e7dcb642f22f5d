#!/usr/bin/env bash
# bench/ycsb.sh - the headline benchmark: YCSB core workloads A to F
# through build/ycsb against the library and the peers a user would pick
# instead of it:
#   lib          libshmcached calls, 1 process (threads share its handle)
#   lib-2proc    libshmcached calls, 2 processes (-P 2), each attaching the segment
#   lmdb         an LMDB environment in /dev/shm (MDB_NOSYNC), in-process
#   memcached-unix-text  memcached through libmemcached over a UNIX socket
#   redis-unix   Redis through hiredis over a UNIX socket (no persistence)
# then build/shmcached against memcached, side by side, as
#   shmcached-{unix,tcp}-{text,binary}, memcached-{unix,tcp}-{text,binary}
# at 1 and 2 client threads, both shapes (100,000 x 100 B and 1,000 x
# 10 KB), every value verified.  The headline runs repeat REPEATS times,
# each round running lib, lmdb, memcached and redis one after the other
# (the order rotating), so the machine's drift falls on all alike; tables
# show medians over the repeats.  1-client-thread runs against a server
# pin client and server to CPU 0 (place_server below says why), and
# memcached's 1-thread workload C runs once more unpinned, as the
# scheduler places it by default ("memcached-unix-text-unpinned").
# Writes build/ycsb-results/ycsb.csv (+ ycsb.json, one object per run,
# medians.csv), prints markdown tables with the CPU and the protection
# mode, ratios (library / peer) against the issue's targets, and draws PNG
# plots with gnuplot when it is installed.
#
#   bench/ycsb.sh           full: both shapes, 3 s per run, every transport
#                           and protocol of the servers (about 35 minutes)
#   bench/ycsb.sh --quick   small shape, 1 s per run, servers over UNIX
#                           sockets, text protocol only (about 5 minutes)
#
# Environment: BUILD (default build), MEMCACHED (default memcached), REDIS
# (default redis-server), MEM (server -m, default 1024), SRV_THREADS
# (memcached's and shmcached's -t, default 2), SECS (run seconds), REPEATS
# (headline rounds, default 3), LMDB_WRITEMAP=1 (LMDB with MDB_WRITEMAP: a
# writable map, faster commits), NO_BUILD=1 (skip make), OUT (default
# $BUILD/ycsb-results).  A peer whose backend or server is missing is
# skipped with a message.  Exit status: 0, or 1 if any run reported a
# miss, a wrong value or an error (or could not run).
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args ycsb.sh 37 "$@"
BUILD=${BUILD:-build}
MEMCACHED=${MEMCACHED:-memcached}
REDIS=${REDIS:-redis-server}
MEM=${MEM:-1024}
SRV_THREADS=${SRV_THREADS:-2}
REPEATS=${REPEATS:-3}
LMDB_OPTS=()
LMDB_DESC="MDB_NOSYNC, read-only map"
[ "${LMDB_WRITEMAP:-0}" = 1 ] && LMDB_OPTS=(-W) LMDB_DESC="MDB_NOSYNC, MDB_WRITEMAP"
OUT=${OUT:-$BUILD/ycsb-results}
if [ "$QUICK" = 1 ]; then
    SHAPES=(small); SECS=${SECS:-1}; TRANSPORTS=(unix); PROTOS=(text)
else
    SHAPES=(small large); SECS=${SECS:-3}; TRANSPORTS=(unix tcp); PROTOS=(text binary)
fi
WORKLOADS=(A B C D E F)
THREADS=(1 2)

bench_build ycsb.sh
YCSB=$BUILD/ycsb
SHMC=$BUILD/shmcached
[ -x "$YCSB" ] || { echo "ycsb.sh: $YCSB not built" >&2; exit 1; }
# PEERS: the headline's peers that can run here
SERVERS=()
PEERS=()
bench_ycsb_has lmdb "$YCSB" && PEERS+=(lmdb) ||
    echo "ycsb.sh: $YCSB has no lmdb backend (liblmdb-dev missing at build time): no LMDB" >&2
if ! bench_ycsb_has mc "$YCSB"; then
    echo "ycsb.sh: $YCSB has no mc backend (libmemcached-dev missing at build time): no servers" >&2
else
    [ -x "$SHMC" ] && SERVERS+=(shmcached) || echo "ycsb.sh: $SHMC not built: skipping it" >&2
    command -v "$MEMCACHED" >/dev/null && { SERVERS+=(memcached); PEERS+=(memcached); } ||
        echo "ycsb.sh: $MEMCACHED not found (apt-get install memcached): skipping it" >&2
fi
if ! bench_ycsb_has redis "$YCSB"; then
    echo "ycsb.sh: $YCSB has no redis backend (libhiredis-dev missing at build time): no Redis" >&2
elif ! command -v "$REDIS" >/dev/null; then
    echo "ycsb.sh: $REDIS not found (apt-get install redis-server): no Redis" >&2
else
    PEERS+=(redis)
fi

mkdir -p "$OUT"
CSV=$OUT/ycsb.csv
JSON=$OUT/ycsb.json
LOG=$OUT/ycsb.log
rm -f "$CSV" "$JSON" "$OUT"/*.png "$OUT"/*.dat "$OUT/medians.csv"
: >"$LOG"
TMP=$(mktemp -d)
# LMDB's environments go to memory, as the library's segment (/dev/shm)
LMDB_TMP=$(mktemp -d /dev/shm/ycsb-lmdb.XXXXXX)
. "$ROOT/bench/servers.sh"
srv_init
cleanup() {
    srv_stop
    rm -rf "$TMP" "$LMDB_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILED=0
RUNS=0
CLIENT_PIN=()
# place_server NAME THREADS: single-client-thread runs against a server pin
# the client and every server thread to CPU 0.  Unpinned, a lone
# request/reply pair lands on one vCPU (about 9 us a round trip here) or on
# two (about 45 us: waking the idle vCPU) as the scheduler happens to
# choose, and that lottery, not the server, decided the 1-thread figures.
# One CPU is the fast case, for memcached and Redis as for shmcached.  Runs
# with 2 client threads keep both CPUs busy and run unpinned.
PIN_OK=0
command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] && PIN_OK=1
place_server() {
    CLIENT_PIN=()
    [ "$PIN_OK" = 1 ] || return 0
    if [ "$2" = 1 ]; then
        taskset -a -cp 0 "${SRV_PIDS[$1]}" >/dev/null
        CLIENT_PIN=(taskset -c 0)
    else
        taskset -a -cp "0-$(($(nproc) - 1))" "${SRV_PIDS[$1]}" >/dev/null
    fi
}
# run_name LABEL ARGS...: "LABEL, workload W, T thread(s)[ x P processes],
# SHAPE[, PINNED]" from build/ycsb's arguments, for the progress line
run_name() {
    local label=$1 w=? t=1 p=1 shape=small
    shift
    while [ $# -gt 0 ]; do
        case $1 in -w) w=$2 ;; -t) t=$2 ;; -P) p=$2 ;; -s) shape=$2 ;; esac
        shift
    done
    local procs=""
    [ "$p" != 1 ] && procs=" x $p processes"
    printf 'backend %s, workload %s, %s thread%s%s, %s' "$label" "$w" "$t" "$([ "$t" = 1 ] || echo s)" \
        "$procs" "$([ "$shape" = small ] && echo '100 B' || echo '10 KB')"
    [ ${#CLIENT_PIN[@]} -gt 0 ] && printf ', pinned to CPU 0'
    return 0
}
# drive LABEL ARGS...: one build/ycsb run, its table into the log; the
# progress line before it (backend, workload, threads, ETA) and its result after
drive() {
    local label=$1
    shift
    RUNS=$((RUNS + 1))
    bench_progress "$(run_name "$label" "$@")"
    echo "== $label: $YCSB $* -V -d $SECS" >>"$LOG"
    if "${CLIENT_PIN[@]}" "$YCSB" "$@" -V -d "$SECS" -l "$label" -c "$CSV" -j "$JSON" >>"$LOG" 2>"$TMP/err"; then
        printf '      %s\n' "$(grep '^run:' "$LOG" | tail -1)"
    else
        FAILED=$((FAILED + 1))
        printf '      FAILED: %s\n' "$(tail -3 "$LOG" "$TMP/err" | grep -v '^==' | tr '\n' ' ')"
    fi
    grep -v '^ycsb .*ops/s now$' "$TMP/err" >>"$LOG" || true
}

# xcpu_probe LABEL SHAPE WORKLOAD THREADS PROCESSES: the cache-line round
# trip between CPU 0 and CPU 1 just before a run (build/bench_xcpu), as a
# CSV row of op "probe": the host's placement of the two vCPUs decides how
# much threads that write shared lines pay (bench/bench_xcpu.c).
XCPU=$BUILD/bench_xcpu
xcpu_probe() {
    [ -x "$XCPU" ] && [ "$(nproc)" -ge 2 ] || return 0
    local ns records=100000 vb=100
    [ "$2" = large ] && records=1000 vb=10240
    ns=$("$XCPU" -q -n 100000 2>/dev/null) || return 0
    echo "$1,lib,$3,probe,$records,$vb,$5,$4,probe,xcpu_rtt_ns,$ns" >>"$CSV"
    echo "== cache-line round trip CPU 0 <-> CPU 1 before $1 $3 t=$4: $ns ns" >>"$LOG"
}

# headline_run NAME SHAPE W T ROUND: one headline run of NAME (lib, lmdb,
# memcached, redis); lib also runs lib-2proc, and memcached's 1-thread C
# once more unpinned, in the first round.  `loaded` (per shape) says which
# server already holds the shape's records (-L: no flush, no load).
headline_run() {
    local name=$1 shape=$2 w=$3 t=$4 r=$5 load
    case $name in
    lib)
        CLIENT_PIN=()
        [ "$t" -ge 2 ] && xcpu_probe lib "$shape" "$w" "$t" 1
        drive lib -b lib -s "$shape" -w "$w" -t "$t"
        if [ "$r" = 1 ]; then
            [ "$t" -ge 2 ] && xcpu_probe lib-2proc "$shape" "$w" "$t" 2
            drive lib-2proc -b lib -s "$shape" -w "$w" -t "$t" -P 2
        fi ;;
    lmdb)
        CLIENT_PIN=()
        drive lmdb -b lmdb "${LMDB_OPTS[@]}" -f "$LMDB_TMP/$RUNS" -s "$shape" -w "$w" -t "$t" ;;
    memcached | redis)
        local label=memcached-unix-text bk=mc
        [ "$name" = redis ] && label=redis-unix bk=redis
        load=${loaded[$name]:+-L}
        place_server "$name" "$t"
        drive "$label" -b "$bk" -a "${SRV_ADDRS[$name]}" -s "$shape" -w "$w" -t "$t" $load
        loaded[$name]=1
        # memcached's 1-thread read also as the scheduler places it, as it
        # runs by default
        if [ "$name" = memcached ] && [ "$PIN_OK" = 1 ] && [ "$w-$t-$r" = C-1-1 ]; then
            place_server "$name" 2 # unpins the server; the client runs unpinned
            drive memcached-unix-text-unpinned -b mc -a "${SRV_ADDRS[$name]}" -s "$shape" -w C -t 1 -L
        fi ;;
    esac
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CPU_MODEL=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
echo "== ycsb.sh: workloads ${WORKLOADS[*]}, threads ${THREADS[*]}, shapes ${SHAPES[*]}, $SECS s per run, $REPEATS headline rounds"
echo "   CPU: ${CPU_MODEL:-unknown}, $(nproc) CPUs; load average before: $LOAD_BEFORE"
echo "   peers: ${PEERS[*]:-none} (LMDB: $LMDB_DESC); servers: ${SERVERS[*]:-none} over ${TRANSPORTS[*]}, ${PROTOS[*]}; memcached -m $MEM -t $SRV_THREADS"
echo "   every table: $LOG"
# the runs to come, for the ETA: per shape, workload and thread count, the
# headline rounds (lib and each peer; lib-2proc once; memcached's unpinned
# read once), then each server over every transport and protocol
NS=${#SHAPES[@]} NW=${#WORKLOADS[@]} NT=${#THREADS[@]}
HAS_MEMCACHED=0
for name in "${PEERS[@]}"; do [ "$name" = memcached ] && HAS_MEMCACHED=1; done
bench_progress_start $((NS * NW * NT * (REPEATS * (1 + ${#PEERS[@]}) + 1) + HAS_MEMCACHED * PIN_OK * NS +
    ${#SERVERS[@]} * ${#TRANSPORTS[@]} * ${#PROTOS[@]} * NS * NW * NT))

# ---- the headline: the library against LMDB, memcached and Redis ---------
for name in "${PEERS[@]}"; do
    case $name in memcached | redis) srv_start "$name" unix ;; esac
done
ROUND=(lib "${PEERS[@]}")
for shape in "${SHAPES[@]}"; do
    declare -A loaded=()
    turn=0
    for r in $(seq "$REPEATS"); do
        for w in "${WORKLOADS[@]}"; do
            for t in "${THREADS[@]}"; do
                n=${#ROUND[@]} k=$((turn++ % ${#ROUND[@]}))
                for i in $(seq 0 $((n - 1))); do
                    headline_run "${ROUND[$(((i + k) % n))]}" "$shape" "$w" "$t" "$r"
                done
            done
        done
    done
    unset loaded
done
CLIENT_PIN=()
srv_stop

# ---- build/shmcached against memcached, over every transport ------------
# The servers of one transport run side by side, and every run against one
# is followed by the same run against the other (the order alternating), so
# that the machine's drift during the benchmark falls on both alike.
for tr in "${TRANSPORTS[@]}"; do
    [ ${#SERVERS[@]} -gt 0 ] || break
    for name in "${SERVERS[@]}"; do srv_start "$name" "$tr"; done
    for shape in "${SHAPES[@]}"; do
        declare -A loaded=() # the first run of a shape per server flushes and loads; the others reuse the records
        turn=0
        for proto in "${PROTOS[@]}"; do
            popt=()
            [ "$proto" = binary ] && popt=(-B)
            for w in "${WORKLOADS[@]}"; do
                for t in "${THREADS[@]}"; do
                    order=("${SERVERS[@]}")
                    [ $((turn++ % 2)) = 1 ] && [ ${#SERVERS[@]} = 2 ] && order=("${SERVERS[1]}" "${SERVERS[0]}")
                    for name in "${order[@]}"; do
                        load=${loaded[$name]:+-L}
                        place_server "$name" "$t"
                        drive "$name-$tr-$proto" -b mc -a "${SRV_ADDRS[$name]}" "${popt[@]}" -s "$shape" -w "$w" -t "$t" $load
                        loaded[$name]=1
                    done
                done
            done
        done
        unset loaded
    done
    CLIENT_PIN=()
    srv_stop
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)


# ---- tables -------------------------------------------------------------
# The CSV: label,backend,workload,dist,records,value_bytes,processes,threads,op,metric,value
# medians.csv: the same, one line per figure, its value the median over the
# runs of that label, shape, workload and thread count (the headline's
# repeats; one run for the others).  The tables and plots read it.
MEDIANS=$OUT/medians.csv
awk -F, -v OFS=, '
function median(k,   m, i, j, a, t) {
    m = n[k]
    for (i = 1; i <= m; i++) a[i] = v[k, i] + 0
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
NR == 1 { print; next }
{
    k = $1; for (i = 2; i <= 10; i++) k = k OFS $i
    if (!(k in n)) order[++nk] = k
    v[k, ++n[k]] = $11
}
END { for (i = 1; i <= nk; i++) print order[i], sprintf("%.10g", median(order[i])) }' "$CSV" >"$MEDIANS"
# the library's protection mode, as its first run reported it
PROT=$(sed -n 's/^target: libshmcached calls .*, protection \([a-z]*\).*/\1/p' "$LOG" | head -1)

# ---- the machine's floor for a single get (issue 19) ---------------------
# A get of a record outside the caches costs at least one dependent load
# in a working set of the records' size (build/bench_memlat; 100,000
# records of 100 B take about 20 MB: its 32 MB line) plus, with keys, the
# gate's pair of WRPKRU (build/bench_gate: mpk minus none, single gets of
# 4096 keys that stay in the caches; medians of 3 alternated rounds).
FLOOR_LOAD=$("$BUILD/bench_memlat" -m 32 2>/dev/null | sed -n 's/^ *32768 KB: *\([0-9.]*\) ns.*/\1/p')
FLOOR_GATE=0
if [ "${PROT:-}" != none ] && grep -qw pku /proc/cpuinfo && grep -qw ospke /proc/cpuinfo; then
    GSEG=/dev/shm/ycsb-floor-$$
    "$BUILD/bench_gate" fill "$GSEG" 4096 >/dev/null
    gm=() gn=()
    for _ in 1 2 3; do
        gm+=("$(SHMC_PROTECTION=mpk "$BUILD/bench_gate" get "$GSEG" 4096 1 0.5 | cut -d' ' -f3)")
        gn+=("$(SHMC_PROTECTION=none "$BUILD/bench_gate" get "$GSEG" 4096 1 0.5 | cut -d' ' -f3)")
    done
    rm -f "$GSEG"
    med3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
    FLOOR_GATE=$(awk -v a="$(med3 "${gm[@]}")" -v b="$(med3 "${gn[@]}")" 'BEGIN { d = a - b; printf "%.1f", (d > 0 ? d : 0) }')
fi
TABLES=$OUT/tables.md
awk -F, -v prot="${PROT:-unknown}" -v cpu="${CPU_MODEL:-unknown}" -v repeats="$REPEATS" -v lmdb="$LMDB_DESC" \
    -v floor_load="$FLOOR_LOAD" -v floor_gate="$FLOOR_GATE" '
function shape(records, vb) { return records == 100000 && vb == 100 ? "small" : (records == 1000 && vb == 10240 ? "large" : records "x" vb) }
function num(v, d) { return v == "" ? "-" : sprintf("%." d "f", v) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.1fx", a / b) }
function ratio2(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
function rop(w) { return w == "E" ? "scan" : "read" }
NR > 1 {
    s = shape($5, $6); k = $1 SUBSEP s SUBSEP $3 SUBSEP $8 SUBSEP $9 SUBSEP $10
    F[k] = $11
    if (!($1 in seen)) { seen[$1] = 1; labels[++nl] = $1 }
    if (!(s in sseen)) { sseen[s] = 1; shapes[++ns] = s }
}
function get(l, s, w, t, op, m) { return F[l, s, w, t, op, m] }
# target W PEER PEERLABEL X: one row of the targets table, lib / PEER >= X at 2 threads
function target(s, w, peer, pl, x,   a, b, verdict) {
    a = get("lib", s, w, 2, "all", "ops_per_s"); b = get(pl, s, w, 2, "all", "ops_per_s")
    verdict = (a == "" || b == "" || b + 0 == 0) ? "not measured" : (a / b >= x ? "MET" : "NOT MET")
    printf "| %s, 2 threads: lib >= %gx %s | %s | %s | %s | %s |\n", w, x, peer, num(a, 0), num(b, 0), ratio(a, b), verdict
}
function headline(s, desc,   wi, t, l, a, i, f) {
    printf "\n### Headline: the library (protection %s) against its peers, %s\n\n", prot, desc
    printf "CPU: %s. Medians of %d run(s). ops/s of every operation; p50 of a read (of a scan of 1-100 records for E), ns. lib: libshmcached calls; LMDB: in-process, %s; memcached and Redis over a UNIX socket.\n\n", cpu, repeats, lmdb
    printf "| workload | threads | lib ops/s | LMDB ops/s | lib / LMDB | memcached ops/s | lib / memcached | Redis ops/s | lib / Redis | lib p50 | LMDB p50 | memcached p50 | Redis p50 |\n"
    printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    for (wi = 1; wi <= 6; wi++) for (t = 1; t <= 2; t++) {
        a = get("lib", s, W[wi], t, "all", "ops_per_s")
        printf "| %s | %d | %s |", W[wi], t, num(a, 0)
        for (i = 1; i <= 3; i++) {
            l = PL[i]
            printf " %s | %s |", num(get(l, s, W[wi], t, "all", "ops_per_s"), 0), ratio(a, get(l, s, W[wi], t, "all", "ops_per_s"))
        }
        printf " %s |", num(get("lib", s, W[wi], t, rop(W[wi]), "p50_ns"), 0)
        for (i = 1; i <= 3; i++) printf " %s |", num(get(PL[i], s, W[wi], t, rop(W[wi]), "p50_ns"), 0)
        printf "\n"
    }
    a = get("memcached-unix-text-unpinned", s, "C", 1, "read", "p50_ns")
    if (a != "")
        printf "\n1-thread C against memcached placed by the scheduler (not pinned with its client on CPU 0): read p50 %s ns, %s the library'"'"'s.\n", num(a, 0), ratio(a, get("lib", s, "C", 1, "read", "p50_ns"))
    a = get("lib", s, "C", 1, "read", "p50_ns")
    if (s == "small" && a != "" && floor_load != "") {
        f = floor_load + floor_gate
        printf "\nSingle get, 1 thread, C: p50 %s ns; the machine'"'"'s floor %s ns (a dependent load in 32 MB, %s ns, plus the gate'"'"'s WRPKRU pair, %s ns): %.2fx (target at most 1.5x: %s).\n", num(a, 0), num(f, 0), num(floor_load, 0), num(floor_gate, 0), a / f, a / f <= 1.5 ? "MET" : "NOT MET"
    }
    printf "\n#### Targets (issue 19), 2 threads, %s\n\n| target | lib ops/s | peer ops/s | ratio | verdict |\n|---|---|---|---|---|\n", desc
    target(s, "A", "memcached", PL[2], 20); target(s, "B", "memcached", PL[2], 20); target(s, "C", "memcached", PL[2], 20)
    target(s, "A", "Redis", PL[3], 20); target(s, "B", "Redis", PL[3], 20); target(s, "C", "Redis", PL[3], 20)
    target(s, "C", "LMDB", PL[1], 2.5); target(s, "A", "LMDB", PL[1], 10)
}
END {
    split("A B C D E F", W, " ")
    split("lmdb memcached-unix-text redis-unix", PL, " ")
    for (si = 1; si <= ns; si++) {
        s = shapes[si]
        desc = s == "small" ? "100,000 records x 100 B" : (s == "large" ? "1,000 records x 10 KB" : s)
        headline(s, desc)
        printf "\n### Throughput, ops/s (%s)\n\n| workload | threads |", desc
        for (i = 1; i <= nl; i++) printf " %s |", labels[i]
        printf "\n|---|---|"; for (i = 1; i <= nl; i++) printf "---|"; printf "\n"
        for (wi = 1; wi <= 6; wi++) for (t = 1; t <= 2; t++) {
            printf "| %s | %d |", W[wi], t
            for (i = 1; i <= nl; i++) printf " %s |", num(get(labels[i], s, W[wi], t, "all", "ops_per_s"), 0)
            printf "\n"
        }
        printf "\n### Read latency p50 / p99, ns (%s; E: a scan)\n\n| workload | threads |", desc
        for (i = 1; i <= nl; i++) printf " %s |", labels[i]
        printf "\n|---|---|"; for (i = 1; i <= nl; i++) printf "---|"; printf "\n"
        for (wi = 1; wi <= 6; wi++) for (t = 1; t <= 2; t++) {
            printf "| %s | %d |", W[wi], t
            for (i = 1; i <= nl; i++) {
                l = labels[i]
                printf " %s / %s |", num(get(l, s, W[wi], t, rop(W[wi]), "p50_ns"), 0), num(get(l, s, W[wi], t, rop(W[wi]), "p99_ns"), 0)
            }
            printf "\n"
        }
        printf "\n### build/shmcached against memcached over the same socket and protocol, %s\n\n", desc
        printf "| transport | workload | ops/s ratio, 1 thread | ops/s ratio, 2 threads | read p50 ratio, 1 thread (lower is better) |\n|---|---|---|---|---|\n"
        split("unix-text unix-binary tcp-text tcp-binary", TR, " ")
        for (ti = 1; ti <= 4; ti++) for (wi = 1; wi <= 6; wi++) {
            sl = "shmcached-" TR[ti]; ml = "memcached-" TR[ti]
            if (get(sl, s, W[wi], 1, "all", "ops_per_s") == "" || get(ml, s, W[wi], 1, "all", "ops_per_s") == "") continue
            printf "| %s | %s | %s | %s | %s |\n", TR[ti], W[wi],
                ratio2(get(sl, s, W[wi], 1, "all", "ops_per_s"), get(ml, s, W[wi], 1, "all", "ops_per_s")),
                ratio2(get(sl, s, W[wi], 2, "all", "ops_per_s"), get(ml, s, W[wi], 2, "all", "ops_per_s")),
                ratio2(get(sl, s, W[wi], 1, rop(W[wi]), "p50_ns"), get(ml, s, W[wi], 1, rop(W[wi]), "p50_ns"))
        }
        printf "\nCPU 0 <-> CPU 1 cache-line round trip before the 2-thread lib runs (bench_xcpu), median, ns:"
        for (wi = 1; wi <= 6; wi++) printf " %s %s;", W[wi], num(get("lib", s, W[wi], 2, "probe", "xcpu_rtt_ns"), 0)
        printf "\n"
    }
}' "$MEDIANS" >"$TABLES"
cat "$TABLES"
echo
echo "runs: $RUNS, failed or with problems: $FAILED; load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "CSV: $CSV  medians: $MEDIANS  JSON: $JSON  tables: $TABLES  log: $LOG"

# ---- plots --------------------------------------------------------------
# Per shape: ops/s against threads per backend (log scale), one panel per
# workload; read latency percentiles (E: scan) per backend at 1 thread, one
# panel per workload; medians over the repeats.  Data files:
# $OUT/<shape>-<workload>-{tput,lat}.dat
if command -v gnuplot >/dev/null; then
    for shape in "${SHAPES[@]}"; do
        for w in "${WORKLOADS[@]}"; do
            awk -F, -v w="$w" -v shape="$shape" -v kind=tput '
                function sh(r, v) { return r == 100000 && v == 100 ? "small" : (r == 1000 && v == 10240 ? "large" : "other") }
                # every panel has the same columns, in the order of the
                # whole shape (the headline rotates its order per
                # workload): a column is one backend and one colour
                NR > 1 && sh($5, $6) == shape && $9 == "all" && !($1 in seen) { seen[$1] = 1; L[++n] = $1 }
                NR > 1 && $3 == w && sh($5, $6) == shape && $9 == "all" && $10 == "ops_per_s" {
                    V[$1, $8] = $11; T[$8] = 1 }
                END { printf "threads"; for (i = 1; i <= n; i++) printf " %s", L[i]; printf "\n"
                      for (t = 1; t <= 64; t++) if (t in T) { printf "%d", t; for (i = 1; i <= n; i++) printf " %s", (L[i] SUBSEP t) in V ? V[L[i], t] : "NaN"; printf "\n" } }
            ' "$MEDIANS" >"$OUT/$shape-$w-tput.dat"
            awk -F, -v w="$w" -v shape="$shape" '
                function sh(r, v) { return r == 100000 && v == 100 ? "small" : (r == 1000 && v == 10240 ? "large" : "other") }
                NR > 1 && sh($5, $6) == shape && $9 == "all" && !($1 in seen) { seen[$1] = 1; L[++n] = $1 }
                NR > 1 && $3 == w && sh($5, $6) == shape && $8 == 1 && $9 == (w == "E" ? "scan" : "read") && $10 ~ /^p[0-9.]+_ns$/ {
                    V[$1, $10] = $11; has[$1] = 1 }
                END { print "backend p50 p90 p99 p99.9"
                      for (i = 1; i <= n; i++) if (L[i] in has)
                          printf "%s %s %s %s %s\n", L[i], V[L[i], "p50_ns"], V[L[i], "p90_ns"], V[L[i], "p99_ns"], V[L[i], "p99.9_ns"] }
            ' "$MEDIANS" >"$OUT/$shape-$w-lat.dat"
        done
        ncol=$(head -1 "$OUT/$shape-A-tput.dat" | wc -w)
        gnuplot <<EOF 2>>"$LOG" || echo "ycsb.sh: gnuplot failed (see $LOG)" >&2
# Throughput: one panel per workload; the seventh panel holds the legend
# alone, at full size, so no backend's name is cut short.
set terminal pngcairo size 2000,900 noenhanced font ",10"
set output "$OUT/throughput-$shape.png"
set multiplot layout 2,4 title "YCSB throughput against client threads per process (lib-2proc: 2 processes), $shape shape (ops/s, log scale)"
set logscale y
set xtics 1
set xrange [0.8:2.2]
set grid
unset key
do for [w in "${WORKLOADS[*]}"] {
    f = "$OUT/$shape-".w."-tput.dat"
    set title "workload ".w
    plot for [i=2:$ncol] f using 1:i with linespoints title columnheader(i)
}
unset title; unset logscale y; unset grid; unset border; unset tics
set xrange [0:1]; set yrange [0:1]
set key center center vertical Left reverse font ",10" samplen 2 spacing 1.1
plot for [i=2:$ncol] "$OUT/$shape-A-tput.dat" using (-1):(-1) with linespoints title columnheader(i)
unset multiplot
# Read latency: one full-width panel per workload, so that every backend's
# name fits under its bars.
reset
set terminal pngcairo size 1300,1800 noenhanced font ",10"
set output "$OUT/latency-$shape.png"
set multiplot layout 6,1 title "YCSB read latency percentiles (E: a scan of 1-100 records), 1 client thread, $shape shape (ns, log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by 15 right font ",9" nomirror
set logscale y
set grid ytics
set key inside top left horizontal font ",9"
set lmargin 10
do for [w in "${WORKLOADS[*]}"] {
    f = "$OUT/$shape-".w."-lat.dat"
    set title "workload ".w offset 0,-0.5
    plot f using 2:xtic(1) title "p50", "" using 3 title "p90", "" using 4 title "p99", "" using 5 title "p99.9"
}
unset multiplot
EOF
    done
    echo "plots: $(ls "$OUT"/*.png 2>/dev/null | tr '\n' ' ')"
else
    echo "ycsb.sh: gnuplot not installed (apt-get install gnuplot-nox): no plots" >&2
fi
[ "$FAILED" = 0 ] || exit 1
