#!/usr/bin/env bash
# bench/gate_pair.sh - one build's reads against another's, paired: the
# bench_gate of OLD (a build folder, e.g. of a git worktree at the commit
# before a change) and of NEW (default build) read the same segment one
# after the other, their order swapped every round, so that a slow spell
# of the host falls on both sides of a pair.  Per shape (4096 and 1M keys
# of 100 B): each side's median ns a key, and the median of the rounds'
# NEW/OLD ratios, the figure to quote on a noisy VM.  With the CPU.
#
#   bench/gate_pair.sh OLD [NEW]     15 pairs of 0.5 s a shape (about 1 minute)
#
# Environment: MODE (SHMC_PROTECTION, default mpk where the CPU has keys,
# else none), BATCH (entries per shmc_get_multi, default 32; 1 for
# shmc_get), ROUNDS (default 15), KEYS (default "4096 1000000").  Both
# builds must share the segment format (the fill is OLD's).
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
case "${1:-}" in -h | --help | "") sed -n '2,15p' "$0"; [ -n "${1:-}" ]; exit $? ;; esac
OLD=$1 NEW=${2:-build}
for b in "$OLD" "$NEW"; do
    [ -x "$b/bench_gate" ] || { echo "gate_pair.sh: no $b/bench_gate (build it first)" >&2; exit 2; }
done
MODE=${MODE:-$(grep -qw pku /proc/cpuinfo && grep -qw ospke /proc/cpuinfo && echo mpk || echo none)}
BATCH=${BATCH:-32} ROUNDS=${ROUNDS:-15}
SEG=/dev/shm/shmc-bench-pair-$$
trap 'rm -f "$SEG"' EXIT

echo "== $NEW against $OLD: $(lscpu | sed -n 's/^Model name: *//p' | head -1), protection $MODE," \
     "batch $BATCH, $ROUNDS pairs of 0.5 s"
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
run() { SHMC_PROTECTION=$MODE "$1/bench_gate" get "$SEG" "$2" "$BATCH" 0.5 | awk '{print $3}'; }

printf "%-8s %10s %10s %14s\n" keys "old ns" "new ns" "new/old"
for n in ${KEYS:-4096 1000000}; do
    "$OLD/bench_gate" fill "$SEG" "$n"
    olds="" news="" ratios=""
    for r in $(seq "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then o=$(run "$OLD" "$n"); w=$(run "$NEW" "$n")
        else w=$(run "$NEW" "$n"); o=$(run "$OLD" "$n"); fi
        olds+="$o"$'\n' news+="$w"$'\n'
        ratios+="$(awk -v o="$o" -v w="$w" 'BEGIN {printf "%.3f", w / o}')"$'\n'
    done
    printf "%-8s %10.1f %10.1f %13.3fx\n" "$n" "$(printf '%s' "$olds" | median)" \
        "$(printf '%s' "$news" | median)" "$(printf '%s' "$ratios" | median)"
    rm -f "$SEG"
done
