#!/usr/bin/env bash
# test_cluster.sh - a memcached cluster of three build/shmcached servers on
# loopback (issue 17, item 4), reached four ways:
#   plain    libmemcached (tests/tool_mcclient.c: ketama weighted, MD5)
#            over the sockets of all three servers;
#   preload  the same binary under LD_PRELOAD=BUILD/libshmcached-memcached.so,
#            which serves the keys of this host's servers by library calls;
#   proxy    twemproxy (Debian's nutcracker: distribution ketama, hash
#            md5, the three servers), through libmemcached to it alone;
#   library  build/shmcachectl on the segment of the key's owner;
# and reads through php-memcached and pylibmc (tests/tool_ketama_get.*,
# with their ketama settings), plain and preloaded.
# It checks:
#   1. the owner of every key computed by libmemcached is twemproxy's: after
#      writes through the proxy alone, each server's curr_items is the
#      number of keys libmemcached gives it, and each key is in its owner's
#      segment (the preload does not change the owner);
#   2. a key written through any path is read back through every other;
#   3. the local shard is served by calls: N preloaded gets of a key raise
#      its server's get_hits and cmd_get by N and its bytes_read by less
#      than one byte per get, where N plain gets raise bytes_read by N
#      requests' worth; the preload says (SHMCACHED_PRELOAD_DEBUG=1) that
#      each server is local, on the segment it serves, and nutcracker remote;
#   4. killing one server (kill -9) breaks its shard only: the other keys
#      still read through plain, preload and proxy and can be written;
#      the killed shard's keys fail with libmemcached's connection
#      errors, the same through the preload (never a miss, never the
#      stale segment's value); through nutcracker they do not read (it
#      answers SERVER_ERROR on the wire, which libmemcached 1.1 reports
#      to a get as a miss) and a set fails with SERVER ERROR.
#
#   bash tests/test_cluster.sh BUILD_DIR
#
# The preload's checks are skipped, each with a "skip:" line, while
# BUILD/libshmcached-memcached.so is not built; everything else runs.
# Exit status 77 (CTest: skipped) if nutcracker or BUILD/tool_mcclient
# (libmemcached-dev) is missing: scripts/install-deps.sh --test installs
# both.  Every check is counted; the last line is "N passed, M failed";
# exit status 0 only if none failed.  The servers and the proxy are killed
# and the segments removed at exit, also on failure (tests/checks.sh).
set -uo pipefail

BUILD=${1:?usage: test_cluster.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRV=$BUILD/shmcached
CTL=$BUILD/shmcachectl
CLIENT=$BUILD/tool_mcclient
PRELOAD=$BUILD/libshmcached-memcached.so
PY=/usr/bin/python3
NUTCRACKER=$(command -v nutcracker || echo /usr/sbin/nutcracker)
source "$(dirname "$0")/checks.sh" shmcached-cluster

for f in "$SRV" "$CTL"; do
    [[ -x $f ]] || { echo "FAIL: $f not built"; echo "0 passed, 1 failed"; exit 1; }
done
[[ -x $CLIENT ]] || { echo "SKIP: $CLIENT not built (libmemcached-dev: scripts/install-deps.sh --test)"; exit 77; }
[[ -x $NUTCRACKER ]] || { echo "SKIP: nutcracker is not installed (scripts/install-deps.sh --test)"; exit 77; }
HAVE_PRELOAD=0
if [[ -f $PRELOAD ]]; then
    HAVE_PRELOAD=1
else
    echo "note: $PRELOAD is not built: the preload's checks are skipped (issue 17, items 1-3)"
fi
# The ASan build: its runtime must come first, but LD_PRELOAD puts the
# preload before the client's own libasan.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:verify_asan_link_order=0"
USER_FLAG=()
[[ $(id -u) = 0 ]] && USER_FLAG=(-u root)

# ---- the cluster ---------------------------------------------------------

PORTS=()
for i in 0 1 2; do
    p=$(free_port)
    while [[ " ${PORTS[*]} " == *" $p "* ]]; do p=$(free_port); done
    PORTS+=("$p")
done
SERVERS="127.0.0.1:${PORTS[0]},127.0.0.1:${PORTS[1]},127.0.0.1:${PORTS[2]}"
declare -A SEG SRVPID # by port: the server's segment and process
PROXY_PORT=$(free_port)
PROXY=127.0.0.1:$PROXY_PORT

# wait_port PORT: until something accepts on 127.0.0.1:PORT (5 s at most)
wait_port() {
    local _
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

start_servers() {
    local p
    for p in "${PORTS[@]}"; do
        SEG[$p]=$BASE.seg-$p
        "$SRV" "${USER_FLAG[@]}" -l 127.0.0.1 -p "$p" -U 0 -m 16 -t 2 -e "${SEG[$p]}" \
            >"$TMP/server-$p.log" 2>&1 &
        SRVPID[$p]=$!
        PIDS+=("$!")
    done
    for p in "${PORTS[@]}"; do
        wait_port "$p" || { cat "$TMP/server-$p.log"; return 1; }
    done
}

start_proxy() {
    cat >"$TMP/nutcracker.yml" <<EOF
shmcached_cluster:
  listen: $PROXY
  distribution: ketama
  hash: md5
  timeout: 2000
  auto_eject_hosts: false
  servers:
   - 127.0.0.1:${PORTS[0]}:1
   - 127.0.0.1:${PORTS[1]}:1
   - 127.0.0.1:${PORTS[2]}:1
EOF
    "$NUTCRACKER" -t -c "$TMP/nutcracker.yml" >"$TMP/nutcracker-t.log" 2>&1 || {
        cat "$TMP/nutcracker-t.log"; return 1; }
    "$NUTCRACKER" -c "$TMP/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 \
        -o "$TMP/nutcracker.log" -p "$TMP/nutcracker.pid" &
    PIDS+=("$!")
    wait_port "$PROXY_PORT" || { cat "$TMP/nutcracker.log"; return 1; }
}

if ! start_servers || ! start_proxy; then
    fail "three servers and nutcracker start"
    checks_done
    exit 1
fi
pass "three servers (ports ${PORTS[*]}) and nutcracker ($PROXY, ketama md5) start"

# ---- the four paths --------------------------------------------------------

# plain ADDRS / preload ADDRS: tool_mcclient over ADDRS, commands on stdin
plain() { "$CLIENT" "$1"; }
preload() { LD_PRELOAD=$PRELOAD "$CLIENT" "$1"; }

# library_get: "get KEY" lines on stdin, answered as tool_mcclient does, by
# shmcachectl on the segment of the key's owner (OWNER, from libmemcached)
library_get() {
    local _ key v
    while read -r _ key; do
        if v=$("$CTL" -S "${SEG[${OWNER[$key]}]}" get -- "$key" 2>"$TMP/ctl.err"); then
            echo "$key value $v"
        elif [[ $(cat "$TMP/ctl.err") = NOT_FOUND ]]; then
            echo "$key notfound"
        else
            echo "$key error $(head -1 "$TMP/ctl.err")"
        fi
    done
}

# library_set: "set KEY VALUE" lines on stdin, stored in the owner's segment
library_set() {
    local _ key v
    while read -r _ key v; do
        if "$CTL" -S "${SEG[${OWNER[$key]}]}" set "$key" "$v" >/dev/null 2>"$TMP/ctl.err"; then
            echo "$key stored"
        else
            echo "$key error $(head -1 "$TMP/ctl.err")"
        fi
    done
}

# srv_stat ADDR NAME: the value of "STAT NAME" in the server's stats
srv_stat() {
    "$PY" - "$1" "$2" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
for line in buf.decode().splitlines():
    f = line.split()
    if len(f) == 3 and f[0] == "STAT" and f[1] == sys.argv[2]:
        print(f[2])
EOF
}

# keys GROUP N: "cl-GROUP-0" .. "cl-GROUP-(N-1)", one a line
keys() { local i; for ((i = 0; i < $2; i++)); do echo "cl-$1-$i"; done; }
# sets GROUP N: the set commands of the group, value "v-KEY"
sets() { keys "$1" "$2" | awk '{ print "set", $1, "v-" $1 }'; }
gets() { sed 's/^set \([^ ]*\) .*/get \1/'; }

# ---- 0. the clients refuse what they cannot run ----------------------------

"$CLIENT" </dev/null >/dev/null 2>&1
check "tool_mcclient without servers: exit 2" test $? = 2
"$CLIENT" "127.0.0.1:70000" </dev/null >/dev/null 2>"$TMP/err"
check "tool_mcclient 127.0.0.1:70000: exit 3, naming the server" \
    bash -c "test $? = 3 && grep -q '127.0.0.1:70000' '$TMP/err'"
echo "get a b" | "$CLIENT" "$SERVERS" >/dev/null 2>"$TMP/err"
check "tool_mcclient, a line that is not a command: exit 4, naming the line" \
    bash -c "test $? = 4 && grep -q 'line 1' '$TMP/err'"

# ---- 1. one owner per key: libmemcached's ketama is twemproxy's ----------

GROUPS_W=(proxy plain library preload)
NKEYS=40
sets proxy 60 >"$TMP/set-proxy"
for g in plain library preload; do sets "$g" "$NKEYS" >"$TMP/set-$g"; done
cat "$TMP/set-"{proxy,plain,library,preload} >"$TMP/all-sets"
gets <"$TMP/all-sets" >"$TMP/all-gets"
# every key's value: "KEY value v-KEY"
awk '{ print $2, "value", $3 }' "$TMP/all-sets" >"$TMP/expect"

declare -A OWNER # key -> port of its owner, as libmemcached computes it
sed 's/^get/owner/' "$TMP/all-gets" | plain "$SERVERS" >"$TMP/owners"
while read -r key _ addr; do OWNER[$key]=${addr##*:}; done <"$TMP/owners"
check "libmemcached names an owner among the three for every key" \
    test "$(grep -cE " owner 127\.0\.0\.1:(${PORTS[0]}|${PORTS[1]}|${PORTS[2]})$" "$TMP/owners")" \
    = "$(wc -l <"$TMP/all-gets")"
for p in "${PORTS[@]}"; do
    check "ketama gives server $p some keys" grep -q ":$p$" "$TMP/owners"
done

plain "$PROXY" <"$TMP/set-proxy" >"$TMP/r-set-proxy"
check "60 sets through nutcracker" test "$(grep -c ' stored$' "$TMP/r-set-proxy")" = 60
for p in "${PORTS[@]}"; do
    want=$(head -60 "$TMP/owners" | grep -c ":$p$")
    got=$(srv_stat "127.0.0.1:$p" curr_items)
    check "server $p: curr_items $got after the proxy's writes = $want keys libmemcached gives it" \
        test "$got" = "$want"
done
head -60 "$TMP/all-gets" | library_get >"$TMP/r-lib-proxy"
check "each key written through nutcracker is in the segment of libmemcached's owner" \
    diff <(head -60 "$TMP/expect") "$TMP/r-lib-proxy"
if [[ $HAVE_PRELOAD = 1 ]]; then
    sed 's/^get/owner/' "$TMP/all-gets" | preload "$SERVERS" >"$TMP/owners-preload"
    check "the preload leaves the owner of every key to libmemcached" \
        diff "$TMP/owners" "$TMP/owners-preload"
else
    echo "skip: the preload's owners (no preload)"
fi

# ---- 2. written through any path, read back through every other ----------

plain "$SERVERS" <"$TMP/set-plain" >"$TMP/r-set-plain"
check "$NKEYS sets through plain libmemcached" test "$(grep -c ' stored$' "$TMP/r-set-plain")" = "$NKEYS"
library_set <"$TMP/set-library" >"$TMP/r-set-library"
check "$NKEYS sets through the library" test "$(grep -c ' stored$' "$TMP/r-set-library")" = "$NKEYS"
if [[ $HAVE_PRELOAD = 1 ]]; then
    preload "$SERVERS" <"$TMP/set-preload" >"$TMP/r-set-preload"
    check "$NKEYS sets through the preload" test "$(grep -c ' stored$' "$TMP/r-set-preload")" = "$NKEYS"
    written=(proxy plain library preload)
else
    echo "skip: sets through the preload (no preload)"
    written=(proxy plain library)
fi
# reader PATH: its answers to the gets of every written group
read_all() {
    local g
    for g in "${written[@]}"; do gets <"$TMP/set-$g"; done >"$TMP/gets-written"
    case $1 in
    plain) plain "$SERVERS" ;;
    preload) preload "$SERVERS" ;;
    proxy) plain "$PROXY" ;;
    library) library_get ;;
    php) php "$HERE/tool_ketama_get.php" "$SERVERS" ;;
    php+preload) LD_PRELOAD=$PRELOAD php "$HERE/tool_ketama_get.php" "$SERVERS" ;;
    pylibmc) "$PY" "$HERE/tool_ketama_get.py" "$SERVERS" ;;
    pylibmc+preload) LD_PRELOAD=$PRELOAD "$PY" "$HERE/tool_ketama_get.py" "$SERVERS" ;;
    esac <"$TMP/gets-written"
}
readers=(plain proxy library)
[[ $HAVE_PRELOAD = 1 ]] && readers+=(preload)
# the same ketama through the clients of PHP and Python, plain and preloaded
if php -r 'exit(class_exists("Memcached") ? 0 : 1);' 2>/dev/null; then
    readers+=(php)
    [[ $HAVE_PRELOAD = 1 ]] && readers+=(php+preload)
else
    echo "skip: reads through php-memcached (php-cli, php-memcached not installed)"
fi
if "$PY" -c 'import pylibmc' 2>/dev/null; then
    readers+=(pylibmc)
    [[ $HAVE_PRELOAD = 1 ]] && readers+=(pylibmc+preload)
else
    echo "skip: reads through pylibmc (python3-pylibmc not installed)"
fi
for r in "${readers[@]}"; do
    read_all "$r" >"$TMP/read-$r"
    for g in "${written[@]}"; do
        check "written through $g, read through $r" \
            diff <(grep "^cl-$g-" "$TMP/expect") <(grep "^cl-$g-" "$TMP/read-$r")
    done
done
[[ $HAVE_PRELOAD = 1 ]] || echo "skip: reads through the preload (no preload)"

# ---- 3. the local shard by calls: get_hits rise, bytes_read do not -------

N=2000
P0=${PORTS[0]}
KEY=$(awk -v p=":$P0" '$3 ~ p"$" && $1 ~ /^cl-plain-/ { print $1; exit }' "$TMP/owners")
REQ=$((${#KEY} + 6)) # "get KEY\r\n"
# counters PATH: N gets of KEY through PATH; prints the deltas of
# get_hits, cmd_get, bytes_read of KEY's server, and the client's line
counters() {
    local h0 g0 b0 out
    h0=$(srv_stat "127.0.0.1:$P0" get_hits); g0=$(srv_stat "127.0.0.1:$P0" cmd_get)
    b0=$(srv_stat "127.0.0.1:$P0" bytes_read)
    out=$(echo "getn $N $KEY" | "$1" "$SERVERS")
    echo "$(($(srv_stat "127.0.0.1:$P0" get_hits) - h0)) $(($(srv_stat "127.0.0.1:$P0" cmd_get) - g0))" \
        "$(($(srv_stat "127.0.0.1:$P0" bytes_read) - b0)) $out"
}
read -r hits cmdgets bytes rest <<<"$(counters plain)"
check "plain: $N gets of $KEY all hit ($rest)" test "$rest" = "$KEY hits $N notfound 0 errors 0"
check "plain: get_hits +$hits, cmd_get +$cmdgets (want +$N each)" test "$hits $cmdgets" = "$N $N"
check "plain: bytes_read +$bytes, at least $N requests of $REQ bytes" test "$bytes" -ge $((N * REQ))
if [[ $HAVE_PRELOAD = 1 ]]; then
    read -r hits cmdgets bytes rest <<<"$(counters preload)"
    check "preload: $N gets of $KEY all hit ($rest)" test "$rest" = "$KEY hits $N notfound 0 errors 0"
    check "preload: get_hits +$hits, cmd_get +$cmdgets (want +$N each: counted by the segment)" \
        test "$hits $cmdgets" = "$N $N"
    check "preload: bytes_read +$bytes, under one byte per get (the socket: $REQ a get)" \
        test "$bytes" -lt "$N"
    # its decisions (SHMCACHED_PRELOAD_DEBUG=1): each server local, on the
    # segment it serves; nutcracker (which answers no "stats") remote
    awk '{ print "get", $1 }' "$TMP/owners" | SHMCACHED_PRELOAD_DEBUG=1 preload "$SERVERS" \
        2>"$TMP/decisions" >/dev/null
    for p in "${PORTS[@]}"; do
        check "preload: server $p is local, on its segment" \
            grep -q "server 127\.0\.0\.1:$p: local, segment ${SEG[$p]} " "$TMP/decisions"
    done
    echo "get ${KEY}" | SHMCACHED_PRELOAD_DEBUG=1 preload "$PROXY" 2>"$TMP/decisions-proxy" >/dev/null
    check "preload: nutcracker is remote" grep -q "server $PROXY: remote" "$TMP/decisions-proxy"
else
    echo "skip: the local shard by calls (no preload)"
fi

# ---- 4. kill -9 one server: only its shard breaks -------------------------

VICTIM=${PORTS[2]}
kill -9 "${SRVPID[$VICTIM]}"
wait "${SRVPID[$VICTIM]}" 2>/dev/null
# expect_after_kill: each key's value, or "error" for the killed shard's
awk -v v="$VICTIM" 'NR == FNR { own[$1] = $3; next }
    { split(own[$1], a, ":"); print $1, (a[2] == v ? "error" : "value " $3) }' \
    "$TMP/owners" "$TMP/expect" >"$TMP/expect-killed"
# after_kill PATH: its reads of the written groups, an error as one word
after_kill() {
    read_all "$1" >"$TMP/killed-$1"
    awk '$2 == "error" { print $1, "error"; next } { print }' "$TMP/killed-$1"
}
# the expectation for the written groups' keys, in their order
awk 'NR == FNR { want[$1] = $0; next } { print want[$2] }' \
    "$TMP/expect-killed" "$TMP/gets-written" >"$TMP/expect-killed-written"
alive_readers=(plain)
[[ $HAVE_PRELOAD = 1 ]] && alive_readers+=(preload)
for r in "${alive_readers[@]}"; do
    after_kill "$r" >"$TMP/killed-$r.short"
    check "server $VICTIM killed: through $r the other shards read, its own fail" \
        diff "$TMP/expect-killed-written" "$TMP/killed-$r.short"
done
check "the killed shard's keys fail in libmemcached with a connection error" \
    test -z "$(awk '$2 == "error"' "$TMP/killed-plain" |
        grep -vE ' error (CONNECTION FAILURE|SERVER IS MARKED DEAD|SERVER HAS FAILED AND IS DISABLED UNTIL TIMED RETRY|SYSTEM ERROR)')"
if [[ $HAVE_PRELOAD = 1 ]]; then
    check "and through the preload as through plain libmemcached (no read of its stale segment)" \
        diff <(awk '$2 == "error" { print $1, $3, $4 }' "$TMP/killed-plain") \
        <(awk '$2 == "error" { print $1, $3, $4 }' "$TMP/killed-preload")
fi
# Through the proxy, libmemcached 1.1 reports nutcracker's answer to a get
# of the dead shard (SERVER_ERROR Connection refused) as a miss, or as a
# SERVER ERROR: the other shards' keys must read, the dead one's must not
# ("down" below); on the wire, nutcracker answers each with SERVER_ERROR.
after_kill proxy | awk 'NR == FNR { dead[$1] = $2 == "error"; next }
    dead[$1] && ($2 == "notfound" || $2 == "error") { print $1, "down"; next } { print }' \
    "$TMP/expect-killed-written" - >"$TMP/killed-proxy.short"
check "server $VICTIM killed: through nutcracker the other shards read, its own do not" \
    diff <(sed 's/ error$/ down/' "$TMP/expect-killed-written") "$TMP/killed-proxy.short"
awk '$2 == "error" { print $1 }' "$TMP/expect-killed-written" >"$TMP/dead-keys"
"$PY" -c '
import socket, sys
for key in sys.stdin.read().split():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"get " + key.encode() + b"\r\n")
    print(key, s.makefile("rb").readline().decode().strip())
    s.close()' "$PROXY_PORT" <"$TMP/dead-keys" >"$TMP/killed-proxy-wire"
ndead=$(wc -l <"$TMP/dead-keys")
check "on the wire nutcracker answers each of the $ndead dead keys SERVER_ERROR" \
    test "$(grep -c ' SERVER_ERROR Connection refused$' "$TMP/killed-proxy-wire")" = "$ndead"
DEAD1=$(head -1 "$TMP/dead-keys")
check "a set of a dead key through nutcracker fails with SERVER ERROR" \
    grep -q "^$DEAD1 error SERVER ERROR" <(echo "set $DEAD1 x" | plain "$PROXY")
# writes to the living shards still work, through every path
LIVE_KEYS=$(awk -v v=":$VICTIM" '$3 !~ v"$" { print $1 }' "$TMP/owners" | head -3)
for r in plain proxy preload; do
    [[ $r = preload && $HAVE_PRELOAD = 0 ]] && { echo "skip: writes through the preload after the kill"; continue; }
    addr=$SERVERS
    [[ $r = proxy ]] && addr=$PROXY
    cmds=$(for k in $LIVE_KEYS; do echo "set $k after-$r"; echo "get $k"; done)
    want=$(for k in $LIVE_KEYS; do echo "$k stored"; echo "$k value after-$r"; done)
    if [[ $r = preload ]]; then got=$(preload "$addr" <<<"$cmds"); else got=$(plain "$addr" <<<"$cmds"); fi
    check "server $VICTIM killed: $r still writes and reads the other shards" test "$got" = "$want"
done

checks_done
