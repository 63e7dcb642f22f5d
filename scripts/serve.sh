#!/usr/bin/env bash
# serve.sh - the run step of `make server`: starts BUILD/shmcached in the
# foreground for a first try, after saying in its first lines where it
# listens, as which user, over which segment, and how to reach it.
#
#   scripts/serve.sh BUILD PORT LISTEN
#
# LISTEN is the address to serve (-l): 127.0.0.1 unless told otherwise, so a
# first try is not a cache open to the network without authentication.  As
# root the server drops to a dedicated system user, shmcached (created here
# if missing, as Debian's memcached package creates "memcache"), or to
# "nobody" where no user can be created.  The daemon's own defaults are
# memcached's and are not changed: this script only chooses its flags.
# Ctrl-C stops it, and it removes its segment.
set -euo pipefail
BUILD=${1:?usage: serve.sh BUILD PORT LISTEN}
PORT=${2:?usage: serve.sh BUILD PORT LISTEN}
LISTEN=${3:?usage: serve.sh BUILD PORT LISTEN}
SRV=$BUILD/shmcached
CTL=$BUILD/shmcachectl

# the user to run as: only root has to choose one (the daemon refuses to
# keep root without -u)
run_user=$(id -un)
user_flag=()
user_note="as $run_user"
if [ "$(id -u)" = 0 ]; then
    if ! getent passwd shmcached >/dev/null; then
        if command -v useradd >/dev/null &&
            useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin --comment "shmcached daemon" shmcached 2>/dev/null; then
            echo "==> created the system user shmcached (userdel shmcached removes it)"
        fi
    fi
    if getent passwd shmcached >/dev/null; then run_user=shmcached; else run_user=nobody; fi
    user_flag=(-u "$run_user")
    user_note="as user $run_user (root dropped with -u $run_user)"
fi

# the segment the daemon names after its listener without -e (docs/server.md)
tag="$LISTEN-$PORT"
tag=${tag//[\/ ,\[\]]/_}
SEG=/dev/shm/shmcached-$tag
case $LISTEN in
127.* | ::1 | localhost) reach="this machine only (LISTEN=0.0.0.0 serves the network: no authentication, mind the firewall)" ;;
*) reach="the network on $LISTEN, WITHOUT authentication (memcached's -S or -Y add it)" ;;
esac

connect=$LISTEN
case $LISTEN in 0.0.0.0) connect=127.0.0.1 ;; ::) connect=::1 ;; esac

cat <<INFO
==> shmcached: memcached's protocol on $LISTEN:$PORT, for $reach
    running $user_note; segment $SEG, removed when it stops
    try it:   bash -c 'exec 3<>/dev/tcp/$connect/$PORT; printf "set greeting 0 0 5\\r\\nhello\\r\\n" >&3; head -1 <&3'
    attach:   $CTL -S $SEG get greeting      (a library client, no socket)
    command:  $SRV -l $LISTEN -p $PORT ${user_flag[*]} -v
    Ctrl-C stops it.
INFO
exec "$SRV" -l "$LISTEN" -p "$PORT" "${user_flag[@]}" -v
