# bench/servers.sh - sourced by benchmark scripts (bash): start and stop one
# memcached-protocol server at a time, build/shmcached or the real
# memcached, with the same flags, on a UNIX socket or loopback TCP.
#
# The caller sets: SHMC (build/shmcached), MEMCACHED (memcached binary),
# MEM (-m), SRV_THREADS (-t), TMP (a private directory for the socket and
# the servers' logs).  Then:
#   srv_init                 picks a free TCP port (SRV_PORT) and the socket (SRV_SOCK)
#   srv_start NAME TRANSPORT NAME shmcached|memcached, TRANSPORT unix|tcp;
#                            sets SRV_PID and SRV_ADDR (socket path or 127.0.0.1:port);
#                            exits 1 if the server does not come up
#   srv_stop                 stops it (call it from an EXIT trap too)

srv_init() {
    SRV_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    SRV_SOCK=$TMP/srv.sock
    SRV_PID=
    SRV_USER=()
    [ "$(id -u)" = 0 ] && SRV_USER=(-u root) # memcached refuses to run as root without it
    return 0
}

srv_start() {
    local bin=$SHMC
    [ "$1" = memcached ] && bin=$MEMCACHED
    local listen=(-l 127.0.0.1 -p "$SRV_PORT" -U 0)
    SRV_ADDR=127.0.0.1:$SRV_PORT
    if [ "$2" = unix ]; then
        rm -f "$SRV_SOCK"
        listen=(-s "$SRV_SOCK")
        SRV_ADDR=$SRV_SOCK
    fi
    "$bin" "${SRV_USER[@]}" "${listen[@]}" -m "$MEM" -t "$SRV_THREADS" -c 4096 >"$TMP/$1-$2.log" 2>&1 &
    SRV_PID=$!
    for _ in $(seq 100); do
        if [ "$2" = unix ]; then [ -S "$SRV_SOCK" ] && break
        else (exec 3<>"/dev/tcp/127.0.0.1/$SRV_PORT") 2>/dev/null && break; fi
        sleep 0.05
    done
    sleep 0.2
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$TMP/$1-$2.log"; echo "$1 did not start" >&2; exit 1; }
}

srv_stop() {
    [ -n "${SRV_PID:-}" ] || return 0
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=
}
