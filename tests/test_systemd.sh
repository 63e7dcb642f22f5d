#!/usr/bin/env bash
# test_systemd.sh - the systemd unit and its conf file (dist/), without a
# running systemd:
#   1. `systemd-analyze verify` finds nothing to say about the unit as
#      installed (a DESTDIR install; ExecStart pointed at the staged binary
#      and MANPATH at the staged man pages, which verify also checks);
#   2. the daemon starts the way the unit starts it: ExecStart= is read from
#      the unit, $OPTIONS from dist/shmcached.conf (read as the shell reads
#      it: the conf is one shell-compatible assignment, as EnvironmentFile=
#      reads it), split into words as systemd splits an unbraced $VAR; then
#      only the test's overrides are appended (a free port, a scratch
#      segment, the run user's group), as an administrator would add them
#      to OPTIONS.  As root it runs as nobody:nogroup (setpriv), as User=
#      would; it must serve TCP on 127.0.0.1, create the segment with mode
#      0660 and the given group, share items with a library client, stop
#      cleanly on SIGTERM, keep the segment, and find the items again when
#      started anew (the warm restart the unit promises).
#
#   bash tests/test_systemd.sh BUILD_DIR
#
# Part 1 is skipped, saying why, where systemd-analyze cannot run at all
# (no systemd package, or a container where it cannot verify even a
# trivial unit).  Last line "N passed, M failed"; exit 0 only if none failed.
set -uo pipefail
BUILD=$(cd "${1:?usage: test_systemd.sh BUILD_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
chmod 755 "$TMP"
SEG=/dev/shm/shmc-test-systemd.$$
SRV_PID=""
cleanup() {
    [ -n "$SRV_PID" ] && kill -9 "$SRV_PID" 2>/dev/null
    rm -f "$SEG" "$SEG.meta" # .meta: the restart file a clean stop writes
    rm -rf "$TMP"
}
trap cleanup EXIT
PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "ok: $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $1"; }
check() { # DESC COMMAND...
    local d=$1; shift
    if "$@"; then pass "$d"; else fail "$d"; fi
}
cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
PREFIX=$(cache_var CMAKE_INSTALL_PREFIX)
UNITDIR=$(cache_var SHMC_SYSTEMD_UNITDIR)

STAGE=$TMP/stage
if ! DESTDIR=$STAGE cmake --install "$BUILD" >"$TMP/install.log" 2>&1; then
    cat "$TMP/install.log"
    echo "0 passed, 1 failed"
    exit 1
fi
UNIT=$STAGE$UNITDIR/shmcached.service
check "the unit is installed at $UNITDIR" test -f "$UNIT"

# ---- 1. systemd-analyze verify ----------------------------------------
# verify also looks up the unit's Documentation= man pages, with man(1);
# where man is missing (a minimal container) that check is left out
MAN_OPT=()
command -v man >/dev/null || { MAN_OPT=(--man=no); echo "note: no man(1): verify does not look up the man pages"; }
verify() { # UNIT-FILE: verify's output, empty when it has nothing to say
    MANPATH=$STAGE$PREFIX/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify "${MAN_OPT[@]}" "$1" 2>&1
}
if ! command -v systemd-analyze >/dev/null; then
    echo "skip: systemd-analyze is missing (package systemd; scripts/install-deps.sh --test)"
else
    mkdir -p "$TMP/trivial"
    printf '[Service]\nExecStart=/bin/true\n' >"$TMP/trivial/shmc-trivial.service"
    if ! out=$(verify "$TMP/trivial/shmc-trivial.service") || [ -n "$out" ]; then
        echo "skip: systemd-analyze cannot verify even a trivial unit here (a container" \
             "without what its manager needs?): $out"
    else
        mkdir -p "$TMP/verify"
        sed "s|^ExecStart=$PREFIX/bin/|ExecStart=$STAGE$PREFIX/bin/|" "$UNIT" >"$TMP/verify/shmcached.service"
        out=$(verify "$TMP/verify/shmcached.service"); rc=$?
        check "systemd-analyze verify shmcached.service: exit 0, nothing to say (got: $out)" \
            test "$rc" = 0 -a -z "$out"
        # verify must see a broken unit, or its silence above means nothing
        sed 's|^Restart=on-failure|Restart=sometimes|' "$TMP/verify/shmcached.service" >"$TMP/verify/broken.service"
        out=$(verify "$TMP/verify/broken.service")
        check "systemd-analyze verify notices a bad Restart= value ($out)" grep -qi "restart" <<<"$out"
    fi
fi

# ---- 2. the daemon started as the unit starts it ----------------------
exec_line=$(sed -n 's/^ExecStart=//p' "$UNIT")
check "the unit has one ExecStart= line" test "$(grep -c '^ExecStart=' "$UNIT")" = 1
check "ExecStart names the segment with -e (warm restart)" grep -q -- "-e /dev/shm/shmcached" <<<"$exec_line"
check "ExecStart gives the segment mode 0660 and group shmcached" \
    grep -q -- "-o segment_mode=0660,segment_group=shmcached" <<<"$exec_line"
check "the unit runs as User=shmcached, Group=shmcached" \
    bash -c 'grep -qx User=shmcached "$1" && grep -qx Group=shmcached "$1"' _ "$UNIT"
OPTIONS=$(set -a; . "$ROOT/dist/shmcached.conf"; echo "$OPTIONS")
check "the conf file listens on 127.0.0.1 only" grep -q -- "-l 127.0.0.1" <<<"$OPTIONS"
read -ra argv <<<"${exec_line//\$OPTIONS/$OPTIONS}" # systemd: $VAR splits on white space
check "ExecStart runs $PREFIX/bin/shmcached" test "${argv[0]}" = "$PREFIX/bin/shmcached"
cp "$BUILD/shmcached" "$TMP/shmcached" # a path the unprivileged user can reach
argv[0]=$TMP/shmcached
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_user=()
group=$(id -gn)
if [ "$(id -u)" = 0 ]; then
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    group=nogroup
fi
argv+=(-p "$PORT" -e "$SEG" -o "segment_group=$group")
echo "command: ${as_user[*]} ${argv[*]}"

mc() { # REQUEST: send it to the server, print the reply's lines until END/STORED/...
    timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1; printf "$2" >&3
        while IFS= read -r -t 2 line <&3; do printf "%s\n" "${line%$'"'"'\r'"'"'}"
            case $line in END*|STORED*|ERROR*|VERSION*) break;; esac; done' _ "$PORT" "$1"
}
start() {
    "${as_user[@]}" "${argv[@]}" >"$TMP/srv.log" 2>&1 &
    SRV_PID=$!
    for _ in $(seq 100); do
        mc 'version\r\n' 2>/dev/null | grep -q '^VERSION' && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$TMP/srv.log"
    return 1
}
stop() { # SIGTERM, as systemctl stop sends it: the exit status
    kill -TERM "$SRV_PID"
    wait "$SRV_PID"
    local rc=$?
    SRV_PID=""
    return $rc
}
if check "the daemon starts from the unit's command line" start; then
    check "it answers over TCP on 127.0.0.1" test "$(mc 'set greeting 0 0 5\r\nhello\r\n')" = STORED
    check "the segment is mode 0660" test "$(stat -c %a "$SEG")" = 660
    check "the segment's group is $group" test "$(stat -c %G "$SEG")" = "$group"
    [ "$(id -u)" = 0 ] && check "the server runs as nobody, not root" test "$(stat -c %U "$SEG")" = nobody
    check "a library client reads what TCP stored" test "$("$BUILD/shmcachectl" -S "$SEG" get greeting)" = hello
    check "SIGTERM: a clean stop (exit 0)" stop
    check "the segment is kept after the stop" test -f "$SEG"
    if check "the daemon starts again from the same command line" start; then
        check "warm restart: the item is still there" \
            test "$(mc 'get greeting\r\n' | head -2 | tr '\n' ' ')" = "VALUE greeting 0 5 hello "
        check "SIGTERM again: a clean stop" stop
    fi
fi
"$BUILD/shmcachectl" -S "$SEG" destroy >/dev/null 2>&1

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
