#!/usr/bin/env bash
# bench/tls.sh - what TLS costs the server: build/shmcached with -Z against
# memcached with its own -Z (Debian 12's memcached 1.6.18 is built with
# --enable-tls), against memcached behind stunnel (TLS ended in front of a
# plaintext memcached, what a memcached without TLS would need), and each
# server's plain TCP, over loopback, same -m and -t:
#
#   build/bench_tls (bench/bench_tls.c: libmemcached has no TLS)  CONC
#       connections, one thread each, workload A (50% get / 50% set,
#       uniform keys, 100-byte values, every get checked) for SECS s:
#       ops/s, p50 and p99 latency
#   build/bench_tls --handshakes N: N connections one after another
#       (connect, handshake, "version", close): connections/s, p50, p99
#
# Every figure is the median over ROUNDS rounds, the rows in a different
# order each round.  The CPU (lscpu), shmcached's protection mode ("stats
# settings" segment_protection) and the load average are printed with the
# figures.
#
#   bench/tls.sh           full: 3 rounds, 3 s runs, 500 handshakes
#   bench/tls.sh --quick   1 round, 1 s runs, 200 handshakes
#
# Environment: BUILD (default build), MEMCACHED (default memcached),
# STUNNEL (default stunnel4), MEM (-m, 64), THREADS (-t, 2), CONC (4),
# ROUNDS, NO_BUILD=1.
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
bench_args tls.sh 25 "$@"
BUILD=${BUILD:-build}
MEMCACHED=${MEMCACHED:-memcached}
STUNNEL=${STUNNEL:-stunnel4}
MEM=${MEM:-64}
SRV_THREADS=${THREADS:-2}
CONC=${CONC:-4}
if [ "$QUICK" = 1 ]; then SECS=1; HS=200; ROUNDS=${ROUNDS:-1}
else SECS=3; HS=500; ROUNDS=${ROUNDS:-3}; fi

bench_build tls.sh
SHMC=$BUILD/shmcached
CLIENT=$BUILD/bench_tls
[ -x "$SHMC" ] && [ -x "$CLIENT" ] || { echo "$SHMC or $CLIENT not built" >&2; exit 1; }
command -v "$MEMCACHED" >/dev/null || { echo "$MEMCACHED not found (apt-get install memcached)" >&2; exit 1; }
command -v "$STUNNEL" >/dev/null || { echo "$STUNNEL not found (apt-get install stunnel4)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl not found (apt-get install openssl)" >&2; exit 1; }

TMP=$(mktemp -d)
# shellcheck source=bench/servers.sh
. "$ROOT/bench/servers.sh"
srv_init
STUNNEL_PID=
cleanup() {
    srv_stop
    [ -z "$STUNNEL_PID" ] || { kill "$STUNNEL_PID" 2>/dev/null; wait "$STUNNEL_PID" 2>/dev/null; } || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A throwaway self-signed certificate (the client does not verify it).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 \
    -subj /CN=localhost >/dev/null 2>&1
chmod 644 "$TMP/key.pem" # memcached drops to -u's user before it reads it
SSL_OPTS=(-Z -o "ssl_chain_cert=$TMP/cert.pem,ssl_key=$TMP/key.pem")

ROWS=(shmcached shmcached_tls memcached memcached_tls memcached_stunnel)
declare -A DESC=(
    [shmcached]="shmcached, plain TCP"
    [shmcached_tls]="shmcached -Z"
    [memcached]="memcached, plain TCP"
    [memcached_tls]="memcached -Z"
    [memcached_stunnel]="stunnel -> memcached"
)
declare -A R # R[row,figure,round]

# start ROW: the row's server (and stunnel); sets PORT (where the client goes)
# and TLS (--tls or empty).
start_row() {
    local row=$1
    TLS=--tls
    case $row in
    shmcached) srv_start shmcached tcp; TLS= ;;
    shmcached_tls) srv_start shmcached_tls tcp "${SSL_OPTS[@]}" ;;
    memcached) srv_start memcached tcp; TLS= ;;
    memcached_tls) srv_start memcached_tls tcp "${SSL_OPTS[@]}" ;;
    memcached_stunnel)
        srv_start memcached tcp
        PORT=$(srv_free_port)
        cat >"$TMP/stunnel.conf" <<EOF
foreground = yes
pid =
[mc]
accept = 127.0.0.1:$PORT
connect = ${SRV_ADDRS[memcached]}
cert = $TMP/cert.pem
key = $TMP/key.pem
EOF
        "$STUNNEL" "$TMP/stunnel.conf" >"$TMP/stunnel.log" 2>&1 &
        STUNNEL_PID=$!
        for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
        return 0 ;;
    esac
    PORT=${SRV_ADDR##*:}
}
stop_row() {
    srv_stop
    if [ -n "$STUNNEL_PID" ]; then kill "$STUNNEL_PID" 2>/dev/null || true; wait "$STUNNEL_PID" 2>/dev/null || true; fi
    STUNNEL_PID=
}

# field LINE NAME: the value after NAME in bench_tls's output line
field() { awk -v n="$2" '{ for (i = 1; i < NF; i++) if ($i == n) print $(i + 1) }' <<<"$1"; }

PROT=?
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$ROUNDS"); do
    order=("${ROWS[@]}")
    if [ $((round % 2)) = 0 ]; then order=(); for ((i = ${#ROWS[@]} - 1; i >= 0; i--)); do order+=("${ROWS[$i]}"); done; fi
    for row in "${order[@]}"; do
        start_row "$row"
        if [ "$row" = shmcached ]; then
            PROT=$(python3 -c "
import socket; s = socket.create_connection(('127.0.0.1', $PORT)); s.sendall(b'stats settings\r\n')
b = b''
while not b.endswith(b'END\r\n'): b += s.recv(65536)
print([l.split()[2] for l in b.decode().splitlines() if l.startswith('STAT segment_protection ')][0])")
        fi
        # shellcheck disable=SC2086
        LOAD=$("$CLIENT" 127.0.0.1 "$PORT" $TLS -c "$CONC" -s "$SECS" -k 10000)
        # shellcheck disable=SC2086
        CONN=$("$CLIENT" 127.0.0.1 "$PORT" $TLS --handshakes "$HS")
        stop_row
        R[$row,ops,$round]=$(field "$LOAD" ops_per_s)
        R[$row,p50,$round]=$(field "$LOAD" p50_us)
        R[$row,p99,$round]=$(field "$LOAD" p99_us)
        R[$row,conns,$round]=$(field "$CONN" conns_per_s)
        R[$row,cp50,$round]=$(field "$CONN" p50_us)
        echo "round $round/$ROUNDS ${DESC[$row]}: $LOAD; $CONN"
    done
done

median() { # median ROW FIGURE
    local v=() r
    for r in $(seq "$ROUNDS"); do v+=("${R[$1,$2,$r]}"); done
    printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo
echo "== TLS: $CPU, $(nproc) CPUs; shmcached protection: $PROT; -m $MEM -t $SRV_THREADS;"
echo "   $CONC connections x ${SECS}s of 50% get / 50% set, 100-byte values; $HS connections one by one;"
echo "   median of $ROUNDS round(s); TLSv1.3, OpenSSL $(openssl version | awk '{ print $2 }');"
echo "   load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %10s %9s %9s %10s %12s\n' server ops/s p50_us p99_us conns/s conn_p50_us
for row in "${ROWS[@]}"; do
    printf '%-24s %10s %9s %9s %10s %12s\n' "${DESC[$row]}" "$(median "$row" ops)" "$(median "$row" p50)" \
        "$(median "$row" p99)" "$(median "$row" conns)" "$(median "$row" cp50)"
done
