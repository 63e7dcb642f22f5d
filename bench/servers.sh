# bench/servers.sh - sourced by benchmark scripts (bash): start and stop
# memcached-protocol servers, build/shmcached and the real memcached, with
# the same flags, and Redis (ycsb.sh's peer), on a UNIX socket or loopback
# TCP.  Each server has its own
# socket and port, so both may run at once (ycsb.sh interleaves its runs
# against them, so that the machine's drift falls on both alike).
#
# The caller sets: SHMC (build/shmcached), MEMCACHED (memcached binary),
# REDIS (redis-server binary, for a redis server), MEM (-m), SRV_THREADS
# (-t), TMP (a private directory for the sockets and the servers' logs).
# Then:
#   srv_init                 picks a free TCP port per server and the socket paths
#   srv_start NAME TRANSPORT [ARG...]
#                            NAME memcached (or memcached_VARIANT) runs
#                            MEMCACHED, redis (or redis_VARIANT) runs REDIS
#                            as a cache (no snapshots, no append-only file,
#                            no memory limit, one I/O thread: its
#                            defaults; -m and -t are memcached's flags), any
#                            other name (shmcached, or a variant such as
#                            shmcached_bp) runs SHMC, with the extra ARGs; TRANSPORT
#                            unix|tcp; sets SRV_PID and SRV_ADDR (socket path
#                            or 127.0.0.1:port), also kept in SRV_PIDS[NAME]
#                            and SRV_ADDRS[NAME]; exits 1 if the server does
#                            not come up
#   srv_stop [NAME]          stops that server, or every running one (call it
#                            from an EXIT trap too)

declare -A SRV_PORTS SRV_PIDS SRV_ADDRS

srv_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

srv_init() {
    SRV_PORTS[shmcached]=$(srv_free_port)
    SRV_PORTS[memcached]=$(srv_free_port)
    while [ "${SRV_PORTS[memcached]}" = "${SRV_PORTS[shmcached]}" ]; do SRV_PORTS[memcached]=$(srv_free_port); done
    SRV_PID=
    SRV_ADDR=
    SRV_USER=()
    [ "$(id -u)" = 0 ] && SRV_USER=(-u root) # memcached refuses to run as root without it
    return 0
}

srv_start() {
    local name=$1 tr=$2 bin=$SHMC sock=$TMP/$1.sock
    shift 2
    case $name in memcached*) bin=$MEMCACHED ;; redis*) bin=$REDIS ;; esac
    [ -n "${SRV_PORTS[$name]:-}" ] || SRV_PORTS[$name]=$(srv_free_port)
    local port=${SRV_PORTS[$name]}
    local listen=(-l 127.0.0.1 -p "$port" -U 0)
    SRV_ADDR=127.0.0.1:$port
    if [ "$tr" = unix ]; then
        rm -f "$sock"
        listen=(-s "$sock")
        SRV_ADDR=$sock
    fi
    local flags=("${SRV_USER[@]}" "${listen[@]}" -m "$MEM" -t "$SRV_THREADS" -c 4096)
    case $name in redis*)
        listen=(--port "$port" --bind 127.0.0.1)
        [ "$tr" = unix ] && listen=(--port 0 --unixsocket "$sock" --unixsocketperm 700)
        flags=("${listen[@]}" --save '' --appendonly no --dir "$TMP") ;;
    esac
    "$bin" "${flags[@]}" "$@" >"$TMP/$name-$tr.log" 2>&1 &
    SRV_PID=$!
    SRV_PIDS[$name]=$SRV_PID
    SRV_ADDRS[$name]=$SRV_ADDR
    for _ in $(seq 100); do
        if [ "$tr" = unix ]; then [ -S "$sock" ] && break
        else (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; fi
        sleep 0.05
    done
    sleep 0.2
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$TMP/$name-$tr.log"; echo "$name did not start" >&2; exit 1; }
}

srv_stop() {
    local name pid names=("$@")
    [ $# -gt 0 ] || names=("${!SRV_PIDS[@]}")
    for name in "${names[@]}"; do
        pid=${SRV_PIDS[$name]:-}
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        unset "SRV_PIDS[$name]"
    done
    SRV_PID=
}
