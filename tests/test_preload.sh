#!/usr/bin/env bash
# test_preload.sh - the libmemcached drop-in (build/libshmcached-memcached.so,
# preload/, docs/clients.md) proven with the real programs: each is run
# against build/shmcached with and without LD_PRELOAD on the same keys, and
# must print the same; and the preloaded runs must really be served by
# library calls (the server's bytes_read barely moves while the segment's
# get_hits rise), which the same check run with SHMCACHED_PRELOAD=off must
# fail.  Also: a real memcached beside it is never taken for local, and its
# keys stay where libmemcached puts them; a segment the client may not
# open, one replaced at the published path, or a plain file there, and a
# server killed after the probe, all fall back to the socket with the same
# results.
#
#   tests/test_preload.sh BUILD_DIR
#
# Needs libmemcached-tools, php-cli + php-memcached, python3-pylibmc and
# memcached (scripts/install-deps.sh --test); a missing one is a failed
# check, not a skip.  Exits 77 (skipped) if the preload was not built (no
# libmemcached-dev).  Runs as root (hence -u root; the permission check
# runs a client as nobody with setpriv).
set -uo pipefail

BUILD=${1:?usage: test_preload.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRV="$BUILD/shmcached"
PRELOAD="$BUILD/libshmcached-memcached.so"
OPS="$BUILD/tool_preload_ops"
PY=/usr/bin/python3 # Debian's: pylibmc is installed for it
source "$HERE/checks.sh" shmcached-preload
chmod 755 "$TMP"
not() { ! "$@"; }

if [[ ! -f $PRELOAD ]]; then
    echo "skip: $PRELOAD not built (libmemcached-dev missing)"
    exit 77
fi
# An ASan build's preload needs the sanitizer runtimes loaded first in
# programs that are not sanitized themselves (all of these).  PHP cannot
# run so: ASan refuses its RTLD_DEEPBIND loads of other extensions
# (opcache) before the preload's dlopen sees them.
SANITIZED=0
if grep -q libasan <(ldd "$PRELOAD"); then # (not a pipe: grep -q may end it early)
    SANITIZED=1
    CC=${CC:-cc}
    PRELOAD="$("$CC" -print-file-name=libasan.so) $("$CC" -print-file-name=libubsan.so) $PRELOAD"
fi
for tool in memccp memccat memcrm memcexist memctouch memcslap memccapable php memcached; do
    command -v "$tool" >/dev/null || fail "$tool is installed (scripts/install-deps.sh --test)"
done
# The programs run here are other projects' (Python, PHP, libmemcached's
# tools and its own allocations): their leaks are not the preload's, and a
# leak report would differ between two runs.  Even under `make check`,
# which asks for leak detection, it is off here (the last setting wins).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# start NAME PORT ARGS...: start a server (srv: shmcached, mc: memcached),
# wait until it answers; its pid goes into the variable NAME_PID.
start() {
    local which=$1 port=$2; shift 2
    if [[ $which == srv ]]; then
        "$SRV" -u root -l 127.0.0.1 -p "$port" -U 0 "$@" >"$TMP/srv.$port.log" 2>&1 &
    else
        memcached -u nobody -l 127.0.0.1 -p "$port" -U 0 "$@" >"$TMP/mc.$port.log" 2>&1 &
    fi
    local pid=$!
    PIDS+=("$pid")
    printf -v "${which}_PID" %s "$pid"
    for _ in $(seq 100); do
        grep -q VERSION <(mc "127.0.0.1:$port" 'version\r\n' 0.2) && return 0
        sleep 0.05
    done
    return 1
}

# stat PORT NAME: one figure of the server's stats.
stat() { mc "127.0.0.1:$1" 'stats\r\n' 0.3 | tr -d '\r' | awk -v n="$2" '$2 == n {print $3}'; }

# same NAME FILE1 FILE2: the two runs printed the same (the diff shown if not).
same() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1"
        diff "$2" "$3" | head -20
    fi
}

# Addresses in libmemcached's messages differ from run to run.
noaddr() { sed 's/0x[0-9a-f]*/ADDR/g'; }

# run_both NAME CMD...: run CMD plain and preloaded (debug on), compare
# stdout+stderr (the debug lines apart), keep the debug lines in
# $TMP/NAME.debug for the checks that follow.
run_both() {
    local name=$1; shift
    "$@" 2>&1 | noaddr >"$TMP/$name.plain"
    SHMCACHED_PRELOAD_DEBUG=1 LD_PRELOAD="$PRELOAD" "$@" >"$TMP/$name.both" 2>&1
    grep -a '^shmcached-preload\[' "$TMP/$name.both" >"$TMP/$name.debug"
    grep -av '^shmcached-preload\[' "$TMP/$name.both" | noaddr >"$TMP/$name.preload"
    same "$name: the same with and without the preload" "$TMP/$name.plain" "$TMP/$name.preload"
}

PORT=$(free_port)
SEG="$BASE.seg"
check "shmcached starts" start srv "$PORT" -e "$SEG"
check "stats has segment_path $SEG" test "$(stat "$PORT" segment_path)" = "$SEG"
ID=$(stat "$PORT" segment_id)
check "stats segment_id ($ID) names the file's inode" \
    test "$(echo "$ID" | cut -d: -f2)" = "$(command stat -c %i "$SEG")"

# ---- every intercepted call, text and binary, as libmemcached answers ----
CONF="--SERVER=127.0.0.1:$PORT"
run_both ops_text "$OPS" "$CONF"
check "ops_text: the server was found local" grep -q "127.0.0.1:$PORT: local, segment $SEG" \
    "$TMP/ops_text.debug"
run_both ops_binary "$OPS" "$CONF --BINARY-PROTOCOL"
check "ops: the run did the calls" grep -q "^get k1 -> \"casd\"" "$TMP/ops_text.plain"
check "ops: four threads on their clones read every value back" \
    grep -q "^threads: 0 values read back wrong" "$TMP/ops_binary.preload"

# ---- a server on a UNIX socket is this host's too ----
SOCK="$TMP/mc.sock"
"$SRV" -u root -s "$SOCK" -e "$BASE.unix" >"$TMP/srv.unix.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do [[ -S $SOCK ]] && break; sleep 0.05; done
run_both ops_unix "$OPS" "--SOCKET=\"$SOCK\""
check "ops_unix: the UNIX socket's server was found local" \
    grep -q "server $SOCK: local, segment $BASE.unix" "$TMP/ops_unix.debug"

# ---- served by library calls: the socket barely moves ----
# served_locally ENV...: 2000 pylibmc gets with ENV; true if get_hits rose
# by them while bytes_read grew by less than one byte per get.
served_locally() {
    local br0 gh0 br1 gh1
    br0=$(stat "$PORT" bytes_read); gh0=$(stat "$PORT" get_hits)
    env "$@" "$PY" "$HERE/preload/client_pylibmc.py" "$PORT" loop 2000 >"$TMP/loop.out" 2>&1
    br1=$(stat "$PORT" bytes_read); gh1=$(stat "$PORT" get_hits)
    echo "  bytes_read +$((br1 - br0)), get_hits +$((gh1 - gh0)): $(cat "$TMP/loop.out")"
    [[ $((gh1 - gh0)) -ge 2000 && $((br1 - br0)) -lt 2000 ]] && grep -q "hits 2000" "$TMP/loop.out"
}
check "pylibmc gets through the preload are library calls" served_locally LD_PRELOAD="$PRELOAD"
check "the same check fails with SHMCACHED_PRELOAD=off" \
    not served_locally LD_PRELOAD="$PRELOAD" SHMCACHED_PRELOAD=off
check "SHMCACHED_PRELOAD=off says so" bash -c "SHMCACHED_PRELOAD=off SHMCACHED_PRELOAD_DEBUG=1 \
    LD_PRELOAD='$PRELOAD' '$PY' '$HERE/preload/client_pylibmc.py' $PORT loop 1 2>&1 |
    grep -q 'SHMCACHED_PRELOAD=off'"
check "the preload alone (no SHMCACHED_PRELOAD_DEBUG) prints nothing" bash -c \
    "LD_PRELOAD='$PRELOAD' '$PY' '$HERE/preload/client_pylibmc.py' $PORT loop 1 2>&1 | cmp -s - <(echo 'hits 1')"

# ---- libmemcached's tools ----
tools() {
    cd "$TMP" || return 1
    printf 'one\n' >t1; printf 'two two\n' >t2
    memcflush --servers="127.0.0.1:$PORT"; echo "flush $?"
    memccp --servers="127.0.0.1:$PORT" t1 t2; echo "memccp $?"
    memccp --servers="127.0.0.1:$PORT" --add t1; echo "memccp --add existing $?"
    memccat --servers="127.0.0.1:$PORT" t1 t2; echo "memccat $?"
    memcexist --servers="127.0.0.1:$PORT" t1; echo "memcexist $?"
    memctouch --servers="127.0.0.1:$PORT" --expire=1000 t1; echo "memctouch $?"
    memcrm --servers="127.0.0.1:$PORT" t1; echo "memcrm $?"
    memcrm --servers="127.0.0.1:$PORT" t1; echo "memcrm again $?"
    memccat --servers="127.0.0.1:$PORT" t1; echo "memccat removed $?"
    memctouch --servers="127.0.0.1:$PORT" --expire=1000 t1; echo "memctouch removed $?"
    memccat --servers="127.0.0.1:$PORT" t2; echo "memccat t2 $?"
}
run_both tools tools
check "memccat printed the file" grep -qx "two two" "$TMP/tools.plain"

run_both memcapable memccapable -h 127.0.0.1 -p "$PORT"
check "memcapable passes every test" grep -q "All tests passed" "$TMP/memcapable.plain"
for t in set get mget; do
    check "memcslap --test=$t through the preload" bash -c "LD_PRELOAD='$PRELOAD' \
        memcslap --servers=127.0.0.1:$PORT --concurrency=2 --execute-number=300 --test=$t \
        >'$TMP/slap.$t' 2>&1 && grep -q 'Time to $t' '$TMP/slap.$t'"
done

# ---- PHP's Memcached and pylibmc ----
if [[ $SANITIZED == 0 ]]; then
    run_both php_text php "$HERE/preload/client.php" "$PORT" text
    run_both php_binary php "$HERE/preload/client.php" "$PORT" binary
    check "php: the extension was loaded in front of libmemcached" \
        grep -q "dlopen .*memcached.so without RTLD_DEEPBIND" "$TMP/php_text.debug"
    check "php ran to its end" grep -q "get a after flush: false" "$TMP/php_binary.plain"
else
    echo "note: PHP not run with the sanitizers' preload (ASan refuses RTLD_DEEPBIND)"
fi
run_both pylibmc_text "$PY" "$HERE/preload/client_pylibmc.py" "$PORT" text
run_both pylibmc_binary "$PY" "$HERE/preload/client_pylibmc.py" "$PORT" binary
check "pylibmc ran to its end" grep -q "get a after flush: None" "$TMP/pylibmc_binary.plain"
run_both pylibmc_fork "$PY" "$HERE/preload/client_pylibmc.py" "$PORT" fork
check "a fork child's calls worked" grep -q "parent get fc: b'child'" "$TMP/pylibmc_fork.preload"
PYTEST=/usr/lib/python3/dist-packages/pylibmc/test.py
if [[ -f $PYTEST ]]; then # pylibmc's own (its helpers), with the preload
    check "pylibmc's test module imports with the preload" \
        env LD_PRELOAD="$PRELOAD" "$PY" -c "import pylibmc.test"
fi

# ---- a real memcached beside it: never local, its keys where they belong ----
MPORT=$(free_port)
check "memcached starts" start mc "$MPORT"
run_both cluster "$PY" "$HERE/preload/client_pylibmc.py" "$PORT,$MPORT" cluster
check "memcached is found remote (not a shmcached)" \
    grep -q "127.0.0.1:$MPORT: remote (not a shmcached" "$TMP/cluster.debug"
check "shmcached is local in the same client" grep -q "127.0.0.1:$PORT: local" "$TMP/cluster.debug"
# every intercepted call with its keys spread over both (consistent hashing)
CCONF="--SERVER=127.0.0.1:$PORT --SERVER=127.0.0.1:$MPORT --DISTRIBUTION=consistent"
run_both ops_cluster_text "$OPS" "$CCONF"
run_both ops_cluster_binary "$OPS" "$CCONF --BINARY-PROTOCOL"
check "ops_cluster: memcached remote, shmcached local" bash -c \
    "grep -q '$MPORT: remote (not a shmcached' '$TMP/ops_cluster_text.debug' &&
     grep -q '$PORT: local' '$TMP/ops_cluster_text.debug'"
run_both ops_moved "$OPS" "$CONF" "$MPORT"
check "servers_reset + server_add: keys follow to memcached" \
    grep -q "get moved -> \"on the other\"" "$TMP/ops_moved.preload"
check "the cluster's keys are on both servers" bash -c \
    "grep -q '^on $MPORT: .*key' '$TMP/cluster.preload' && grep -q '^on $PORT: .*key' '$TMP/cluster.preload'"

# ---- fallbacks: the socket, with the same results ----
# A segment the client may not open: the server's is 0600 root, the
# client runs as nobody.
if command -v setpriv >/dev/null; then
    AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    cp "$HERE/preload/client_pylibmc.py" "$TMP/c.py"
    run_both nobody "${AS_NOBODY[@]}" "$PY" "$TMP/c.py" "$PORT" text
    check "as nobody: remote, cannot attach" grep -q "remote (cannot attach $SEG" "$TMP/nobody.debug"
    check "as nobody: the calls still ran" grep -q "get a after flush: None" "$TMP/nobody.preload"
else
    fail "setpriv (util-linux) runs a client as nobody"
fi

# Another segment at the published path (the server keeps the one it
# mapped): the identity differs.
"$BUILD/shmcachectl" -S "$BASE.other" create >/dev/null 2>&1
mv "$SEG" "$BASE.orig" && mv "$BASE.other" "$SEG"
run_both replaced "$PY" "$HERE/preload/client_pylibmc.py" "$PORT" text
check "replaced segment: remote, not the segment the server serves" \
    grep -q "is not the segment the server serves" "$TMP/replaced.debug"
# A plain file at the published path.
rm -f "$SEG" && echo "not a segment" >"$SEG"
run_both plainfile "$PY" "$HERE/preload/client_pylibmc.py" "$PORT" text
check "a plain file at segment_path: remote, not a segment" \
    grep -q "cannot attach $SEG: .*not a shmcached segment" "$TMP/plainfile.debug"
rm -f "$SEG" && mv "$BASE.orig" "$SEG"

# A server killed after the probe: the calls fail as libmemcached's do.
killed_run() { # killed_run OUT ENV...: the "kill" client, the server killed mid-way
    local out=$1; shift
    local port fifo="$TMP/go.$RANDOM"
    port=$(free_port)
    start srv "$port" -e "$BASE.k$RANDOM" || return 1
    local pid=$srv_PID
    mkfifo "$fifo"
    env "$@" "$PY" "$HERE/preload/client_pylibmc.py" "$port" kill <"$fifo" >"$out.raw" 2>&1 &
    local client=$!
    exec 3>"$fifo" # the client's stdin stays open until "go"
    for _ in $(seq 300); do grep -q '^ready' "$out.raw" && break; sleep 0.05; done
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    (trap '' PIPE; echo go >&3) 2>/dev/null # the client may have died: not us
    exec 3>&-
    wait "$client"
    noaddr <"$out.raw" | sed "s/:$port /:PORT /g" >"$out" # a new server, a new port
}
killed_run "$TMP/killed.plain"
killed_run "$TMP/killed.both" SHMCACHED_PRELOAD_DEBUG=1 LD_PRELOAD="$PRELOAD"
grep -a '^shmcached-preload\[' "$TMP/killed.both" >"$TMP/killed.debug"
grep -av '^shmcached-preload\[' "$TMP/killed.both" >"$TMP/killed.preload"
same "killed server: the same with and without the preload" "$TMP/killed.plain" "$TMP/killed.preload"
check "killed server: it was local, then remote" bash -c \
    "grep -q ': local, segment' '$TMP/killed.debug' && grep -q \"remote from now on (the server's process is gone)\" '$TMP/killed.debug'"
check "killed server: the calls after it failed" grep -q "get a after kill: 'EXC" "$TMP/killed.plain"

checks_done
