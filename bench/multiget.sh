#!/usr/bin/env bash
# bench/multiget.sh - what a multi-key get costs the server: build/shmcached
# (which reads each 32 keys of a get with one shmc_get_multi) against the
# real memcached, same -m and -t 1 (one worker, so that its CPU time is
# the get's), UNIX socket, 1M keys x 100 B, each loaded with the same
# keys; the client (bench/multiget.py, plain sockets) sends gets of BATCH
# random keys, two in flight, and checks every value.  Per server:
# keys served a second, and the server's CPU time (utime + stime of
# /proc/PID/stat) per key served; medians of ROUNDS rounds, the servers
# alternating first.  The header names the CPU and the segment's
# protection mode.
#
#   bench/multiget.sh          3 rounds of 4 s, gets of 100 keys
#   bench/multiget.sh --quick  1 round of 2 s
#
# Environment: BUILD (default build), MEMCACHED (default memcached),
# BATCH (keys a get, default 100), KEYS (default 1000000), NO_BUILD=1,
# PROTO (text, the default: "get k1 k2 ..."; binary: BATCH GetKQ and a
# Noop, as libmemcached's mget sends them).
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args multiget.sh 19 "$@"
BUILD=${BUILD:-build}
SHMC=$BUILD/shmcached
MEMCACHED=${MEMCACHED:-memcached}
MEM=1024
SRV_THREADS=1
BATCH=${BATCH:-100}
KEYS=${KEYS:-1000000}
PROTO=${PROTO:-text}
case $PROTO in text | binary) ;; *) echo "multiget.sh: PROTO is text or binary" >&2; exit 2 ;; esac
PY=/usr/bin/python3
if [ "$QUICK" = 1 ]; then ROUNDS=1; SECS=2; else ROUNDS=3; SECS=4; fi
bench_build multiget.sh
command -v "$MEMCACHED" >/dev/null || { echo "multiget.sh: $MEMCACHED not found" >&2; exit 1; }

TMP=$(mktemp -d)
# shellcheck source=bench/servers.sh
. "$ROOT/bench/servers.sh"
srv_init
trap 'srv_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

SERVERS=(shmcached memcached)
for s in "${SERVERS[@]}"; do
    srv_start "$s" unix
    "$PY" "$ROOT/bench/multiget.py" "$SRV_ADDR" load "$KEYS"
done
prot=$("$PY" -c "
import socket; s = socket.socket(socket.AF_UNIX); s.connect('${SRV_ADDRS[shmcached]}')
s.sendall(b'stats settings\r\n'); d = b''
while not d.endswith(b'END\r\n'): d += s.recv(65536)
print([l.split()[2].decode() for l in d.split(b'\r\n') if l.startswith(b'STAT segment_protection ')][0])")
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "== multi-key gets ($PROTO): $cpu, $(nproc) CPUs; shmcached segment: $prot; $KEYS keys x 100 B, $BATCH keys a get, $ROUNDS x ${SECS}s"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -A RATE CPU
hz=$(getconf CLK_TCK)
for r in $(seq "$ROUNDS"); do
    order=("${SERVERS[@]}")
    [ $((r % 2)) = 0 ] && order=(memcached shmcached)
    for s in "${order[@]}"; do
        pid=${SRV_PIDS[$s]}
        t0=$(ticks "$pid")
        out=$("$PY" "$ROOT/bench/multiget.py" "${SRV_ADDRS[$s]}" run "$KEYS" "$BATCH" "$SECS" "$PROTO")
        t1=$(ticks "$pid")
        read -r _ keys _ secs <<<"$out"
        RATE[$s]+="$(awk -v k="$keys" -v s="$secs" 'BEGIN { printf "%.0f", k / s }')"$'\n'
        CPU[$s]+="$(awk -v a="$t0" -v b="$t1" -v k="$keys" -v hz="$hz" 'BEGIN { printf "%.0f", (b - a) * 1e9 / hz / k }')"$'\n'
        echo "round $r/$ROUNDS $s: $out"
    done
done
printf "%-10s %12s %20s\n" server "keys/s" "server CPU ns/key"
for s in "${SERVERS[@]}"; do
    printf "%-10s %12s %20s\n" "$s" "$(printf '%s' "${RATE[$s]}" | median)" "$(printf '%s' "${CPU[$s]}" | median)"
done
a=$(printf '%s' "${CPU[memcached]}" | median)
b=$(printf '%s' "${CPU[shmcached]}" | median)
awk -v a="$a" -v b="$b" 'BEGIN { printf "server CPU a key, memcached / shmcached: %.2fx\n", a / b }'
