#!/usr/bin/env bash
# bench/gate.sh - what the protection gate costs: the same binary
# (build/bench_gate) reads the same segment in "none" and "mpk" mode, one
# process per mode, alternated round by round; medians and ratios printed,
# with the CPU.  Single gets (one gate each) and shmc_get_multi batches of
# 32 (one gate per batch), over 4096 keys and over 1M keys, 100-byte values;
# then the memory floor of a 1M-key batch (build/bench_memlat).
#
#   bench/gate.sh            7 rounds of 1 s per mode and shape (about 3 minutes)
#   bench/gate.sh --quick    3 rounds of 0.5 s (about 1 minute)
#
# Environment: BUILD (default build), NO_BUILD=1 (use BUILD as it is).
# Where the CPU has no protection keys only "none" can run: that is said,
# and no ratio is printed.  Exit status: 0 unless a run failed (a wrong
# value read is a failure).
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args gate.sh 13 "$@"
BUILD=${BUILD:-build}
bench_build gate.sh
if [ "$QUICK" = 1 ]; then ROUNDS=3; SECS=0.5; else ROUNDS=7; SECS=1; fi
SEG=/dev/shm/shmc-bench-gate-$$
trap 'rm -f "$SEG"' EXIT

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
keys=no
grep -qw pku /proc/cpuinfo && grep -qw ospke /proc/cpuinfo && keys=yes
modes="none"
[ "$keys" = yes ] && modes="none mpk"
echo "== gate cost: $cpu, $(nproc) CPUs; protection keys: $keys; $ROUNDS rounds of ${SECS}s"

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf "%-8s %-6s %10s %10s %8s\n" keys batch "none ns" "mpk ns" mpk/none
bench_progress_start $((2 * 2 * ROUNDS * $(wc -w <<<"$modes")))
for n in 4096 1000000; do
    "$BUILD/bench_gate" fill "$SEG" "$n"
    for batch in 1 32; do
        declare -A runs=([none]="" [mpk]="")
        for _ in $(seq "$ROUNDS"); do
            for m in $modes; do
                bench_progress "backend lib in $m mode, workload: gets over $n keys," \
                    "$([ "$batch" = 1 ] && echo "one per call" || echo "$batch per shmc_get_multi"), 1 thread" >&2
                out=$(SHMC_PROTECTION=$m "$BUILD/bench_gate" get "$SEG" "$n" "$batch" "$SECS")
                read -r got _ ns <<<"$out"
                [ "$got" = "$m" ] || { echo "gate.sh: asked $m, ran $got" >&2; exit 1; }
                runs[$m]+="$ns"$'\n'
            done
        done
        none=$(printf '%s' "${runs[none]}" | median)
        if [ "$keys" = yes ]; then
            mpk=$(printf '%s' "${runs[mpk]}" | median)
            printf "%-8s %-6s %10.1f %10.1f %7.2fx\n" "$n" "$batch" "$none" "$mpk" \
                "$(awk -v a="$mpk" -v b="$none" 'BEGIN {print a / b}')"
        else
            printf "%-8s %-6s %10.1f %10s %8s\n" "$n" "$batch" "$none" - -
        fi
    done
    rm -f "$SEG"
done

# The machine's floor for a batch of 1M keys: a key's read fetches its
# bucket's line and the lines of its item (a 48-byte header, the 14-byte
# key and the 100-byte value, from an 8-byte boundary: 3.5 lines on
# average), and no faster than bench_memlat's random lines with many in
# flight, over a working set of the segment's size (256 MB).
line=$("$BUILD/bench_memlat" -m 256 -n 4000000 | sed -n 's/^ *262144 KB:.*, *\([0-9.]*\) ns per independent load/\1/p')
if [ -n "$line" ]; then
    lines=$(awk 'BEGIN { t = 0; for (a = 0; a < 64; a += 8) t += int((a + 48 + 14 + 100 + 63) / 64); print 1 + t / 8 }')
    awk -v l="$line" -v k="$lines" 'BEGIN { printf "memory floor of a 1M-key batch: %.1f lines a key x %.1f ns a random line (many in flight, 256 MB) = %.0f ns a key\n", k, l, k * l }'
fi
