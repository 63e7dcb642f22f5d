#!/usr/bin/env bash
# test_man.sh - the man pages (man/) are well-formed and complete:
# `mandoc -T lint` finds nothing at warning level or above in any of them,
# libshmcached(3) declares (.Fn in its SYNOPSIS) and describes every call
# the library exports (src/libshmcached.map), shmcached(1) names the
# server's own -o options, and shmcachectl(1) names every command of
# `shmcachectl --help`.
#
#   bash tests/test_man.sh BUILD_DIR
#
# Exit status 0 only when nothing failed; the last line is "N passed, M failed".
set -uo pipefail
BUILD=${1:?usage: test_man.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAN=$ROOT/man
PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }

if ! command -v mandoc >/dev/null; then
    echo "FAIL: mandoc is not installed (scripts/install-deps.sh --test installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi

for page in "$MAN"/shmcached.1 "$MAN"/shmcachectl.1 "$MAN"/libshmcached.3; do
    if out=$(mandoc -T lint -W warning "$page" 2>&1); then pass; else fail "mandoc -T lint $page:"$'\n'"$out"; fi
    if mandoc -T utf8 "$page" >/dev/null 2>&1; then pass; else fail "mandoc cannot render $page"; fi
done

# every exported call: in the SYNOPSIS, and described (named again below it)
for fn in $(sed -n 's/^    \(shmc_[a-z_]*\);$/\1/p' "$ROOT/src/libshmcached.map"); do
    if grep -q "^\.Fn $fn \|^\.Fn $fn$" "$MAN/libshmcached.3"; then pass; else fail "libshmcached.3: no .Fn $fn"; fi
    n=$(grep -c "^\.Fn $fn\b" "$MAN/libshmcached.3")
    if [ "$n" -ge 2 ]; then pass; else fail "libshmcached.3: $fn is declared but not described"; fi
done
for opt in segment_mode segment_group busy_poll_us; do
    if grep -q "$opt" "$MAN/shmcached.1"; then pass; else fail "shmcached.1 lacks -o $opt"; fi
done
if [ -x "$BUILD/shmcachectl" ]; then
    for cmd in $("$BUILD/shmcachectl" --help | sed -n 's/^  \([a-z_]\{3,\}\)\b.*/\1/p'); do
        if grep -q "^\.It Cm $cmd\b\|Cm $cmd " "$MAN/shmcachectl.1"; then pass; else fail "shmcachectl.1 lacks $cmd"; fi
    done
else
    fail "$BUILD/shmcachectl not built"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
