#!/usr/bin/env bash
# test_restart.sh - build/shmcached's -e memory file across restarts, next
# to memcached 1.6.18's (the oracle, where it behaves comparably):
#   1. stats settings: memory_file (the -e path, "(null)" without -e);
#   2. the <file>.meta restart file at a clean stop: memcached's format
#      and the same values for the same flags, mode 0600; removed at start;
#   3. a restart with the same settings keeps the items (both servers),
#      also after SIGTERM and kill -9 (shmcached only: memcached starts
#      clean without a .meta), and the uptime goes on from the first start;
#   4. -m, -I, -f, -n differing: memcached's line, a clean cache with the
#      new settings (both servers); -M, -C, -o hashpower keep the items;
#   5. differing settings while another process is attached: refused,
#      exit status 1, that process's items untouched;
#   6. a corrupt, truncated, oversized, stale or misplaced .meta: a clear
#      line, the items kept, no crash (memcached 1.6.18 aborts on some);
#   7. a .meta that cannot be written: a line, exit status still 0.
#
#   bash tests/test_restart.sh BUILD_DIR
#
# Runs as root (hence -u root; memcached: -u nobody).  Every check is
# counted; the last line is "N passed, M failed"; exit status 0 only if
# none failed.
set -uo pipefail

BUILD=${1:?usage: test_restart.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
SRV="$BUILD/shmcached"
MEMCACHED=$(command -v memcached || true)
source "$(dirname "$0")/checks.sh" shmcached-restart
chmod 755 "$TMP"
SEG="$BASE.seg"
MSEG="$BASE.mc" # memcached's memory file
not() { ! "$@"; }

if [[ ! -x $SRV ]]; then
    echo "FAIL: $SRV not built"; echo "0 passed, 1 failed"; exit 1
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

PORT=$(free_port)
PORT2=$(free_port)
# mc PORT BYTES: the reply of 127.0.0.1:PORT, until 1 s of silence (checks.sh)
mcp() { mc "127.0.0.1:$1" "$2" 1.0; }

PID=""
# start WHICH LOG PORT ARGS...: start shmcached or memcached (WHICH = srv
# or mc) and wait until it answers; 1 (and the log shown) if it exits.
start() {
    local which=$1 log=$2 port=$3; shift 3
    if [[ $which == srv ]]; then
        "$SRV" -u root -l 127.0.0.1 -p "$port" -U 0 "$@" >"$log" 2>&1 &
    else
        "$MEMCACHED" -u nobody -l 127.0.0.1 -p "$port" -U 0 "$@" >"$log" 2>&1 &
    fi
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 100); do
        if python3 - "$port" <<'EOF' 2>/dev/null; then return 0; fi
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2)
s.sendall(b"version\r\n"); s.settimeout(1)
sys.exit(0 if s.recv(100).startswith(b"VERSION") else 1)
EOF
        kill -0 "$PID" 2>/dev/null || { cat "$log"; return 1; }
        sleep 0.05
    done
    cat "$log"
    return 1
}
# stop SIGNAL: stop the last server started with SIGNAL; its exit status.
stop() {
    kill "-$1" "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    local rc=$?
    PID=""
    return $rc
}
# fill PORT N: store k0..k(N-1); prints how many were STORED.
fill() {
    python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
n = int(sys.argv[2])
s.sendall(b"".join(b"set k%d 0 0 %d\r\nv%d\r\n" % (i, len(b"v%d" % i), i) for i in range(n)))
f = s.makefile("rb")
print(sum(1 for _ in range(n) if f.readline() == b"STORED\r\n"))
EOF
}
# kept PORT N: how many of k0..k(N-1) read back with their values.
kept() {
    python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
good = 0
for i in range(int(sys.argv[2])):
    s.sendall(b"get k%d\r\n" % i)
    l = f.readline()
    if l.startswith(b"VALUE"):
        good += f.readline() == b"v%d\r\n" % i
        f.readline()
print(good)
EOF
}
stat_of() { # stat_of PORT "stats settings" NAME
    mcp "$1" "$2\r\n" | tr -d '\r' | awk -v n="$3" '$1 == "STAT" && $2 == n {print $3}'
}
meta_val() { # meta_val FILE KEY: the value of "K<KEY> <value>"
    awk -v k="K$2" '$1 == k {print $2}' "$1"
}
meta_keys() { # meta_keys FILE: its keys, sorted
    sed -n 's/^K\([^ ]*\) .*/\1/p' "$1" | sort
}
# A clean stop writes the .meta with second resolution; memcached refuses
# a restart in the same second as its stop (stop_time).
next_second() { sleep 1.1; }

# ---------------------------------------------------------------- 1. memory_file
T0=$(date +%s)
check "start with -e" start srv "$TMP/s1.log" "$PORT" -e "$SEG" -m 64
check "stats settings: memory_file is the -e path" \
    test "$(stat_of "$PORT" "stats settings" memory_file)" = "$SEG"
N=$(fill "$PORT" 200)
check "200 items stored (got $N)" test "$N" = 200
check "a first start on a new segment says so, in memcached's words" \
    grep -q "^\[restart\] no metadata save file, starting with a clean cache" "$TMP/s1.log"
check "no .meta while the server runs" test ! -e "$SEG.meta"

# ---------------------------------------------------------------- 2. the .meta file
STARTED=$(stat_of "$PORT" stats time)
sleep 1
stop USR1; RC=$?
check "SIGUSR1: clean exit (status $RC)" test "$RC" = 0
check "SIGUSR1 writes $SEG.meta" test -f "$SEG.meta"
check "the .meta file is mode 0600, as memcached's" test "$(stat -c %a "$SEG.meta")" = 600
check "the .meta file starts with memcached's tag line Tmain" test "$(head -1 "$SEG.meta")" = Tmain
check "every other line is K<key> <value>" \
    not grep -vqE '^K[a-z_]+ [^ ]+$' <(tail -n +2 "$SEG.meta")
check "no temporary file is left" test ! -e "$SEG.meta.tmp"
check ".meta maxbytes is -m 64" test "$(meta_val "$SEG.meta" maxbytes)" = 67108864
PS=$(meta_val "$SEG.meta" process_started)
check ".meta process_started ($PS) is the server's start (launched at $T0, answered at $STARTED)" \
    test "${PS:-0}" -le "$STARTED" -a "${PS:-0}" -ge "$T0"
check ".meta stop_time is after the start" test "$(meta_val "$SEG.meta" stop_time)" -gt "${PS:-0}"
cp "$SEG.meta" "$TMP/srv.meta"

if [[ -n $MEMCACHED ]]; then
    check "memcached: start with -e" start mc "$TMP/m1.log" "$PORT2" -e "$MSEG" -m 64
    check "memcached: stats settings memory_file is the -e path (the oracle)" \
        test "$(stat_of "$PORT2" "stats settings" memory_file)" = "$MSEG"
    N=$(fill "$PORT2" 200)
    stop USR1
    check "memcached: SIGUSR1 writes $MSEG.meta" test -f "$MSEG.meta"
    cp "$MSEG.meta" "$TMP/mc.meta"
    # Same flags, same settings' values; memcached's runtime state keys that
    # have no shmcached counterpart are absent (docs/server.md lists them).
    for k in slab_config maxbytes chunk_size item_size_max slab_chunk_size_max \
             slab_page_size use_cas slab_reassign hashpower; do
        check ".meta $k: shmcached's $(meta_val "$TMP/srv.meta" $k) = memcached's" \
            test "$(meta_val "$TMP/srv.meta" $k)" = "$(meta_val "$TMP/mc.meta" $k)"
    done
    ONLY_MC=$(comm -13 <(meta_keys "$TMP/srv.meta") <(meta_keys "$TMP/mc.meta") | xargs)
    check "memcached's keys missing from shmcached's .meta are the documented ones ($ONLY_MC)" \
        test "$ONLY_MC" = "current_cas logger_gid mmap_oldbase oldest_cas oldest_live"
    ONLY_SRV=$(comm -23 <(meta_keys "$TMP/srv.meta") <(meta_keys "$TMP/mc.meta") | grep -v '^shm_' | xargs)
    check "shmcached's own keys all carry the prefix shm_ (others: '$ONLY_SRV')" test -z "$ONLY_SRV"
    check "memcached: memory_file without -e is (null)" \
        start mc "$TMP/m0.log" "$PORT2"
    MC_NULL=$(stat_of "$PORT2" "stats settings" memory_file)
    stop TERM
else
    echo "skip: memcached is not installed: its .meta file is not compared"
    MC_NULL="(null)"
fi

# ---------------------------------------------------------------- 3. same settings
next_second
check "restart with the same settings" start srv "$TMP/s2.log" "$PORT" -e "$SEG" -m 64 -v
N=$(kept "$PORT" 200)
check "warm restart after SIGUSR1: 200/200 items kept (got $N)" test "$N" = 200
check "the .meta file is removed at start, as memcached removes it" test ! -e "$SEG.meta"
check "-v: the warm restart is reported" grep -q "^\[restart\] warm restart of $SEG" "$TMP/s2.log"
UP=$(stat_of "$PORT" stats uptime)
check "the uptime goes on from the first start, as memcached's ($UP s >= 2)" test "$UP" -ge 2
stop TERM; RC=$?
check "SIGTERM: status 0" test "$RC" = 0
check "SIGTERM writes the .meta file too (shmcached)" test -f "$SEG.meta"
check "restart after SIGTERM" start srv "$TMP/s3.log" "$PORT" -e "$SEG"
N=$(kept "$PORT" 200)
check "warm restart after SIGTERM, no flags: 200/200 items kept (got $N)" test "$N" = 200
stop KILL
check "kill -9 leaves no .meta file" test ! -e "$SEG.meta"
check "restart after kill -9" start srv "$TMP/s4.log" "$PORT" -e "$SEG" -m 64
N=$(kept "$PORT" 200)
check "after kill -9 the items are kept all the same: 200/200 (got $N)" test "$N" = 200
check "after kill -9: the missing .meta is reported, the items kept" \
    grep -q "^\[restart\] no metadata save file, keeping the items of $SEG" "$TMP/s4.log"
stop TERM
check "restart with -A" start srv "$TMP/s5.log" "$PORT" -e "$SEG" -A
mcp "$PORT" 'shutdown graceful\r\n' >/dev/null
wait "$PID"; RC=$?
check "'shutdown graceful': status 0 ($RC)" test "$RC" = 0
check "'shutdown graceful' writes the .meta file" test -f "$SEG.meta"
if [[ -n $MEMCACHED ]]; then
    next_second
    check "memcached: restart with the same settings" start mc "$TMP/m2.log" "$PORT2" -e "$MSEG" -m 64
    N=$(kept "$PORT2" 200)
    check "memcached: warm restart keeps 200/200 (got $N): the oracle agrees" test "$N" = 200
    check "memcached: the .meta file is removed at start" test ! -e "$MSEG.meta"
    stop TERM
fi
check "memory_file without -e: $MC_NULL, as memcached" start srv "$TMP/s6.log" "$PORT"
check "stats settings: memory_file (null)" \
    test "$(stat_of "$PORT" "stats settings" memory_file)" = "$MC_NULL"
stop TERM

# ---------------------------------------------------------------- 4. differing settings
# restart_with WHICH LOG PORT FILE ARGS...: fill 50 items, stop cleanly,
# restart with ARGS; prints the items kept.
restart_with() {
    local which=$1 log=$2 port=$3 file=$4; shift 4
    start "$which" "$log.first" "$port" -e "$file" >/dev/null || return 1
    fill "$port" 50 >/dev/null
    stop USR1
    next_second
    start "$which" "$log" "$port" -e "$file" "$@" >/dev/null || { echo "no start"; return 1; }
    kept "$port" 50
    stop TERM
}
# memcached's key and the old (default) value for each flag
declare -A KEY=([-m 48]=maxbytes [-I 2m]=item_size_max [-f 1.5]=slab_config [-n 96]=chunk_size)
declare -A OLD=([-m 48]=67108864 [-I 2m]=1048576 [-f 1.5]=1.25 [-n 96]=48)
for flag in "-m 48" "-I 2m" "-f 1.5" "-n 96"; do # memcached -e needs -m 39 or more
    rm -f "$SEG" "$SEG.meta"
    # shellcheck disable=SC2086
    N=$(restart_with srv "$TMP/d.log" "$PORT" "$SEG" $flag)
    LINE="[restart] restart incompatible due to setting for [${KEY[$flag]}] [old value: ${OLD[$flag]}]"
    check "$flag differing: memcached's line '$LINE'" grep -qxF "$LINE" "$TMP/d.log"
    check "$flag differing: 'starting with a clean cache'" \
        grep -qxF "[restart] failed to validate metadata, starting with a clean cache" "$TMP/d.log"
    check "$flag differing: a clean cache, 0/50 items (got $N)" test "$N" = 0
    if [[ -n $MEMCACHED ]]; then
        rm -f "$MSEG" "$MSEG.meta"
        # shellcheck disable=SC2086
        M=$(restart_with mc "$TMP/dm.log" "$PORT2" "$MSEG" $flag)
        check "$flag differing: memcached prints the same line (the oracle)" \
            grep -qxF "$LINE" "$TMP/dm.log"
        check "$flag differing: memcached also starts clean: $M/50 items" test "$M" = 0
    fi
done
rm -f "$SEG" "$SEG.meta"
start srv "$TMP/d1.log" "$PORT" -e "$SEG" >/dev/null; fill "$PORT" 10 >/dev/null; stop TERM
check "restart with -m 32" start srv "$TMP/d2.log" "$PORT" -e "$SEG" -m 32
check "stats settings: the new maxbytes" test "$(stat_of "$PORT" "stats settings" maxbytes)" = 33554432
stop TERM
for flag in "-M" "-C" "-o hashpower=20" "-m 64 -I 1m -f 1.25 -n 48"; do
    rm -f "$SEG" "$SEG.meta"
    # shellcheck disable=SC2086
    N=$(restart_with srv "$TMP/k.log" "$PORT" "$SEG" $flag)
    check "$flag (the segment's own, or not a segment's setting): 50/50 items kept (got $N)" \
        test "$N" = 50
    check "$flag: no 'incompatible' line" not grep -q incompatible "$TMP/k.log"
done

# ---------------------------------------------------------------- 5. in use
rm -f "$SEG" "$SEG.meta"
check "a server on the segment" start srv "$TMP/u1.log" "$PORT" -e "$SEG" -m 64
UPID=$PID
N=$(fill "$PORT" 100)
# (a server that wrongly starts is stopped after 20 s: status 124)
OUT=$(timeout 20 "$SRV" -u root -l 127.0.0.1 -p "$PORT2" -U 0 -e "$SEG" -m 128 2>&1); RC=$?
check "a second server with -m 128 on it: refused, exit status 1 (got $RC)" test "$RC" = 1
check "... with memcached's line" grep -qF "[restart] restart incompatible due to setting for [maxbytes] [old value: 67108864]" <<<"$OUT"
check "... and what to do (the segment's settings)" grep -qF "start with the segment's settings, -m 64 -I 1048576 -f 1.25 -n 48" <<<"$OUT"
check "... and no clean cache" not grep -q "failed to validate" <<<"$OUT"
N=$(kept "$PORT" 100)
check "the first server's 100/100 items untouched (got $N)" test "$N" = 100
check "a second server without -m shares it" start srv "$TMP/u2.log" "$PORT2" -e "$SEG"
N=$(kept "$PORT2" 100)
check "the second server reads the first one's items: 100/100 (got $N)" test "$N" = 100
stop TERM
PID=$UPID; stop TERM

# ---------------------------------------------------------------- 6. bad .meta files
rm -f "$SEG" "$SEG.meta"
start srv "$TMP/b0.log" "$PORT" -e "$SEG" >/dev/null; fill "$PORT" 20 >/dev/null; stop TERM
cp "$SEG.meta" "$TMP/good.meta"
# bad_meta NAME WHY: restart on the .meta now in place; the items are kept,
# the reason WHY is printed, the file is gone.
bad_meta() {
    local name=$1 why=$2
    if ! start srv "$TMP/b.log" "$PORT" -e "$SEG" >/dev/null; then
        fail "$name: the server did not start"; return
    fi
    local n; n=$(kept "$PORT" 20)
    check "$name: 20/20 items kept (got $n)" test "$n" = 20
    check "$name: '$why'" grep -qF "$why" "$TMP/b.log"
    check "$name: the bad file is removed" test ! -e "$SEG.meta"
    stop TERM
    check "$name: the next stop writes a good one" cmp -s <(head -1 "$SEG.meta") <(echo Tmain)
}
: >"$SEG.meta"
bad_meta "an empty .meta" "corrupt metadata file $SEG.meta: the file is empty"
echo garbage >"$SEG.meta"
bad_meta "a garbage .meta" "corrupt metadata file $SEG.meta: its first line is not \"Tmain\""
head -c 100 "$TMP/good.meta" >"$SEG.meta"
bad_meta "a truncated .meta" "corrupt metadata file $SEG.meta: truncated"
grep -v '^Kstop_time' "$TMP/good.meta" >"$SEG.meta"
bad_meta "a .meta without stop_time" "missing some metadata lines (no stop_time)"
sed 's/^Kmaxbytes .*/Kmaxbytes 12x/' "$TMP/good.meta" >"$SEG.meta"
bad_meta "a bad maxbytes" "bad value for maxbytes"
sed 's/^Kslab_config .*/Kslab_config 1.0/' "$TMP/good.meta" >"$SEG.meta"
bad_meta "a growth factor of 1.0" "bad value for slab_config"
sed 's/^Kmaxbytes .*/Kmaxbytes 99999999999999999999999/' "$TMP/good.meta" >"$SEG.meta"
bad_meta "an out-of-range maxbytes" "bad value for maxbytes"
{ cat "$TMP/good.meta"; echo "Tother"; } >"$SEG.meta"
bad_meta "a second tag" "a second tag"
{ cat "$TMP/good.meta"; printf 'Kzz\0z 1\n'; } >"$SEG.meta"
bad_meta "a NUL byte" "a NUL byte"
{ cat "$TMP/good.meta"; head -c 70000 /dev/zero | tr '\0' x; echo; } >"$SEG.meta"
bad_meta "a 70 kB .meta" "larger than 65536 bytes"
sed 's/^Kmaxbytes .*/Kmaxbytes 134217728/' "$TMP/good.meta" >"$SEG.meta"
bad_meta "a .meta of another segment" "describes another segment ([maxbytes] 134217728)"
rm -f "$SEG.meta"; ln -s "$TMP/good.meta" "$SEG.meta"
bad_meta "a symlink as .meta" "cannot read it"
{ cat "$TMP/good.meta"; echo "Kshm_future_key 7"; } >"$SEG.meta"
start srv "$TMP/b1.log" "$PORT" -e "$SEG" -v >/dev/null
check "an unknown key is skipped, as memcached skips it: a warm restart" \
    grep -q "^\[restart\] warm restart" "$TMP/b1.log"
stop TERM
if [[ -n $MEMCACHED ]]; then
    : >"$MSEG.meta"
    # (in a command substitution, so that bash does not report the abort)
    RC=$("$MEMCACHED" -u nobody -l 127.0.0.1 -p "$PORT2" -U 0 -e "$MSEG" >"$TMP/mb.log" 2>&1
         echo $?)
    check "memcached 1.6.18 aborts on an empty .meta (status $RC; shmcached keeps going)" \
        test "$RC" = 134
    rm -f "$MSEG.meta"
fi
rm -f "$SEG"
cp "$TMP/good.meta" "$SEG.meta"
check "a .meta without its segment" start srv "$TMP/b2.log" "$PORT" -e "$SEG"
check "... 'starting with a clean cache'" \
    grep -q "is left from a segment that is gone: starting with a clean cache" "$TMP/b2.log"
check "... the .meta removed" test ! -e "$SEG.meta"
stop TERM

# ---------------------------------------------------------------- 7. unwritable .meta
rm -f "$SEG.meta"
check "start" start srv "$TMP/w.log" "$PORT" -e "$SEG"
mkdir "$SEG.meta"
stop TERM; RC=$?
check "a .meta that cannot be written: status still 0 ($RC)" test "$RC" = 0
check "... and memcached's words: failed to write metadata file" \
    grep -q "^\[restart\] failed to write metadata file $SEG.meta: " "$TMP/w.log"
check "... no temporary file left" test ! -e "$SEG.meta.tmp"
rmdir "$SEG.meta"

checks_done
