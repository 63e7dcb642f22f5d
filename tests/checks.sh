# checks.sh - the counted checks of the shell tests that start servers
# (test_server.sh, test_tls.sh, test_restart.sh), sourced by them:
#
#   source "$(dirname "$0")/checks.sh" NAME
#
# gives a scratch directory TMP, a prefix BASE=/dev/shm/NAME.<pid>.<random>
# for segments, and PIDS, an array of the servers a test starts: at exit
# each is killed and TMP and BASE.* are removed.  pass/fail/check count
# every check (a failing one is reported, not fatal), and checks_done
# prints the closing "N passed, M failed" line and returns 0 only if
# nothing failed.  free_port prints a free TCP port; mc ADDR BYTES [WAIT]
# is a tiny memcached client (below).

TMP=$(mktemp -d)
BASE="/dev/shm/${1:?usage: source checks.sh NAME}.$$.$RANDOM"
PIDS=()

checks_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$BASE".* "$TMP"
}
trap checks_cleanup EXIT
trap 'exit 130' INT TERM

PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "ok: $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $1"; }
check() { # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
checks_done() {
    echo "$PASS passed, $FAIL failed"
    [[ $FAIL -eq 0 ]]
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# mc ADDR BYTES [WAIT]: send BYTES (Python escapes) to ADDR (host:port, or
# a UNIX socket's path), print the reply until the server closes or WAIT
# seconds (0.5) pass with nothing new.
cat > "$TMP/mc.py" <<'PYEOF'
import socket, sys
addr, data = sys.argv[1], sys.argv[2]
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
if addr.startswith("/"):
    s = socket.socket(socket.AF_UNIX); s.connect(addr)
else:
    h, p = addr.rsplit(":", 1); s = socket.create_connection((h, int(p)))
s.sendall(data.encode().decode("unicode_escape").encode("latin1"))
s.settimeout(wait); buf = b""
try:
    while True:
        d = s.recv(1 << 20)
        if not d: break
        buf += d
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.write(buf.decode("latin1"))
PYEOF
mc() { python3 "$TMP/mc.py" "$@"; }
