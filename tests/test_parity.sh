#!/usr/bin/env bash
# test_parity.sh - byte-for-byte reply parity of BUILD/shmcached with the
# real memcached (tests/parity.py, cases in tests/parity_cases.py): text,
# meta and binary requests, good and bad, on servers started with the same
# flags; CAS, version and stats values are normalised, the documented
# departures (EXCLUDED in parity_cases.py, docs/server.md) are not run.
#
#   bash tests/test_parity.sh BUILD_DIR
#
# Skipped (exit 0 with a SKIP line) only when memcached is not installed
# (scripts/install-deps.sh installs it).  The last line is
# "N passed, M failed, K excluded"; exit status 0 only if none failed.
set -uo pipefail

BUILD=${1:?usage: test_parity.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRV="$BUILD/shmcached"

if [[ ! -x $SRV ]]; then
    echo "FAIL: $SRV not built"
    exit 1
fi
MEMCACHED=$(command -v memcached || true)
if [[ -z $MEMCACHED ]]; then
    echo "SKIP: memcached is not installed (apt-get install memcached); parity not checked"
    exit 0
fi
command -v python3 >/dev/null || { echo "FAIL: python3 not found"; exit 1; }

# The ASan build's server is slower to start and leak-checks at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$HERE/parity.py" "$SRV" "$MEMCACHED"
