#!/usr/bin/env bash
# bench/memory.sh - memory efficiency against memcached: items held, stores
# refused for want of memory and the hit ratio of a read-through loop (get,
# and on a miss set) of build/bench_memory, for memcached, build/shmcached
# (the same flags, each started fresh for every cell, UNIX socket) and the
# library (a fresh segment), over the matrix
#   cache size   8 16 64 MiB (--quick), + 256 (default), + 1024 (--full)
#   values       100 B, 10 KB, 500 KB fixed; mix: log-uniform 10 B .. 1 MB
#   writers      1, 4
#   zipf theta   0.7, 0.99 over a key space 4x what fits
# A cell whose stream would pass OPS_CAP gets (small values in big caches)
# is left out: 600k --quick, 5M default, none --full.  The figures are
# counts, not times: valid on a loaded machine.  Prints a markdown table
# (ratios are shmcached/memcached), writes $OUT/memory.csv and, with
# gnuplot, $OUT/memory.png.
#
#   bench/memory.sh --quick   about 2 minutes
#   bench/memory.sh           about 10 minutes
#   bench/memory.sh --full    also 1024 MiB and every cell (long)
#
# Environment: BUILD (default build), MEMCACHED (default memcached),
# SRV_THREADS (server -t, default 2), NO_BUILD=1 (skip make), OUT (default
# $BUILD/memory-results), KEYS (key space factor, default 4), OPS (gets per
# item that fits, default 8), MEM_SIZES MEM_VALUES MEM_WRITERS MEM_THETAS
# (space-separated lists replacing the matrix's).  Exit status 0, or 1 if
# a run failed.
set -euo pipefail

FULL=0
ARGS=()
for a in "$@"; do [ "$a" = --full ] && FULL=1 || ARGS+=("$a"); done
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args memory.sh 26 "${ARGS[@]+"${ARGS[@]}"}"
BUILD=${BUILD:-build}
MEMCACHED=${MEMCACHED:-memcached}
SRV_THREADS=${SRV_THREADS:-2}
OUT=${OUT:-$BUILD/memory-results}
KEYS=${KEYS:-4}
OPS=${OPS:-8}
if [ "$FULL" = 1 ]; then SIZES=(8 16 64 256 1024); CAP=0
elif [ "$QUICK" = 1 ]; then SIZES=(8 16 64); CAP=600000
else SIZES=(8 16 64 256); CAP=5000000; fi
VALUES=(100 10240 512000 mix)
WRITERS=(1 4)
THETAS=(0.7 0.99)
# a smaller matrix (tests/test_ycsb.sh): space-separated lists
[ -z "${MEM_SIZES:-}" ] || read -r -a SIZES <<<"$MEM_SIZES"
[ -z "${MEM_VALUES:-}" ] || read -r -a VALUES <<<"$MEM_VALUES"
[ -z "${MEM_WRITERS:-}" ] || read -r -a WRITERS <<<"$MEM_WRITERS"
[ -z "${MEM_THETAS:-}" ] || read -r -a THETAS <<<"$MEM_THETAS"

bench_build memory.sh
DRV=$BUILD/bench_memory
SHMC=$BUILD/shmcached
[ -x "$DRV" ] || { echo "memory.sh: $DRV not built" >&2; exit 1; }
BACKENDS=(lib)
[ -x "$SHMC" ] && BACKENDS+=(shmcached) || echo "memory.sh: $SHMC not built: skipping it" >&2
command -v "$MEMCACHED" >/dev/null && BACKENDS+=(memcached) ||
    echo "memory.sh: $MEMCACHED not found (apt-get install memcached): skipping it" >&2

mkdir -p "$OUT"
CSV=$OUT/memory.csv
TMP=$(mktemp -d)
# shellcheck source=bench/servers.sh
. "$(dirname "$0")/servers.sh"
trap 'srv_stop; rm -rf "$TMP"' EXIT
srv_init

# gets of a cell: OPS x the items that fit (as bench_memory computes it)
cell_ops() {
    awk -v m="$1" -v s="$2" -v f="$OPS" 'BEGIN {
        mean = s == "mix" ? (1000000 - 10) / log(100000) : s
        n = f * m * 1048576 / (mean + 16); print int(n < 20000 ? 20000 : n) }'
}

CELLS=()
for m in "${SIZES[@]}"; do for s in "${VALUES[@]}"; do
    ops=$(cell_ops "$m" "$s")
    if [ "$CAP" != 0 ] && [ "$ops" -gt "$CAP" ]; then
        echo "left out (over $CAP gets): ${m} MiB, $s B values"; continue
    fi
    for w in "${WRITERS[@]}"; do for z in "${THETAS[@]}"; do CELLS+=("$m $s $w $z"); done; done
done; done

echo "mem_mib,value,writers,theta,backend,keys,gets,items,refused,sets,hit_ratio,evictions,protection" >"$CSV"
FAILED=0
bench_progress_start $((${#CELLS[@]} * ${#BACKENDS[@]}))
for cell in "${CELLS[@]}"; do
    read -r m s w z <<<"$cell"
    MEM=$m
    for b in "${BACKENDS[@]}"; do
        bench_progress "$b ${m} MiB values $s writers $w theta $z"
        args=(-m "$m" -s "$s" -w "$w" -z "$z" -k "$KEYS" -o "$OPS")
        if [ "$b" = lib ]; then
            args+=(-b lib -p "/dev/shm/bench-memory-$$")
        else
            srv_start "$b" unix
            args+=(-b mc -a "$SRV_ADDR")
        fi
        if line=$("$DRV" "${args[@]}" 2>"$TMP/err"); then :; else
            FAILED=1; echo "memory.sh: $b failed: $(cat "$TMP/err")" >&2; fi
        [ "$b" = lib ] || srv_stop "$b"
        line=${line#RESULT }
        declare -A R=()
        for kv in $line; do R[${kv%%=*}]=${kv#*=}; done
        echo "$m,$s,$w,$z,$b,${R[keys]:-},${R[gets]:-},${R[items]:-},${R[refused]:-},${R[sets]:-},${R[hit_ratio]:-},${R[evictions]:-},${R[protection]:-}" >>"$CSV"
        unset R
    done
done

# ---- table ----------------------------------------------------------------
PROT=$(awk -F, '$5 == "lib" && $13 != "" { print $13; exit }' "$CSV")
echo
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); library protection: ${PROT:-?}; memcached $("$MEMCACHED" -V 2>/dev/null | awk '{print $2}')"
echo "command: bench/memory.sh $*; key space ${KEYS}x what fits, ${OPS}x as many gets; hit ratio over each writer's second half"
echo
awk -F, '
    NR > 1 { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; if (!(k in seen)) { seen[k] = 1; K[++n] = k; M[n] = $1; S[n] = $2; W[n] = $3; Z[n] = $4 }
             I[k, $5] = $8; F[k, $5] = $9; H[k, $5] = $11 }
    function r(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
    function sz(s) { return s == "mix" ? "10B-1MB" : (s >= 1024 ? s / 1024 "K" : s) }
    END {
        print "| MiB | values | writers | theta | items mc | items shmcached | ratio | items lib | refused mc | refused shmcached | refused lib | hit mc | hit shmcached | ratio | hit lib |"
        print "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for (i = 1; i <= n; i++) { k = K[i]
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", M[i], sz(S[i]), W[i], Z[i],
                I[k, "memcached"], I[k, "shmcached"], r(I[k, "shmcached"], I[k, "memcached"]), I[k, "lib"],
                F[k, "memcached"], F[k, "shmcached"], F[k, "lib"],
                H[k, "memcached"], H[k, "shmcached"], r(H[k, "shmcached"], H[k, "memcached"]), H[k, "lib"] }
    }' "$CSV" | tee "$OUT/memory.md"

# ---- plot -----------------------------------------------------------------
# Per value size: items held and hit ratio against cache size, one line per
# backend; the most writers and the last theta (4 and 0.99: the issue's case).
PW=${WRITERS[${#WRITERS[@]} - 1]} PZ=${THETAS[${#THETAS[@]} - 1]}
if command -v gnuplot >/dev/null; then
    for s in "${VALUES[@]}"; do
        awk -F, -v s="$s" -v w="$PW" -v z="$PZ" 'NR > 1 && $2 == s && $3 == w && $4 == z {
                I[$1, $5] = $8; H[$1, $5] = $11; if (!($1 in seen)) { seen[$1] = 1; M[++n] = $1 } }
            END { print "mib items_memcached items_shmcached items_lib hit_memcached hit_shmcached hit_lib"
                  for (i = 1; i <= n; i++) { m = M[i]; printf "%s", m
                      split("memcached shmcached lib", B, " ")
                      for (j = 1; j <= 3; j++) printf " %s", (m SUBSEP B[j]) in I ? I[m, B[j]] : "NaN"
                      for (j = 1; j <= 3; j++) printf " %s", (m SUBSEP B[j]) in H ? H[m, B[j]] : "NaN"
                      printf "\n" } }' "$CSV" >"$OUT/memory-$s.dat"
    done
    gnuplot <<GP 2>"$TMP/gp" || { echo "memory.sh: gnuplot failed:" >&2; cat "$TMP/gp" >&2; }
set terminal pngcairo size 1400,700 noenhanced font ",10"
set output "$OUT/memory.png"
set multiplot layout 2,${#VALUES[@]} title "Items held (top, log) and read-through hit ratio (bottom) against cache size; $PW writers, zipf $PZ"
set logscale x 2
set grid
set key top left font ",8"
set xlabel "cache MiB"
do for [s in "${VALUES[*]}"] {
    set logscale y
    set title "values ".s
    plot for [i=2:4] "$OUT/memory-".s.".dat" using 1:i with linespoints title columnhead(i)
}
unset logscale y
set yrange [0:1]
do for [s in "${VALUES[*]}"] {
    set title "values ".s
    plot for [i=5:7] "$OUT/memory-".s.".dat" using 1:i with linespoints title columnhead(i)
}
unset multiplot
GP
    echo "plot: $OUT/memory.png"
else
    echo "memory.sh: gnuplot not installed (apt-get install gnuplot-nox): no plot" >&2
fi
echo "CSV: $CSV"
[ "$FAILED" = 0 ] || exit 1
