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
# nothing failed.

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
