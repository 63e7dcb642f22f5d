#!/usr/bin/env bash
# python.sh - the Python module's benchmark (bench/python_bench.py): gets
# and sets per second of shmcached.Client against pymemcache and pylibmc
# over a UNIX socket to memcached and to build/shmcached, 1 and 2
# processes; where a get's time goes; the GIL threshold.  Builds first
# unless NO_BUILD=1.  Arguments go to python_bench.py (--quick, --runs N,
# --seconds S, --keys N).
#
#   bench/python.sh [--quick]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
if [ "${NO_BUILD:-0}" != 1 ]; then
    "$ROOT/scripts/install-deps.sh" --bench
    cmake -S "$ROOT" -B "$BUILD" >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" --target shmcached_python shmcached_server >/dev/null
fi
# Debian's python3: the module is built for it (CMakeLists.txt), and
# pymemcache and pylibmc are its packages.
PYTHONPATH=$BUILD/python exec /usr/bin/python3 "$ROOT/bench/python_bench.py" --build "$BUILD" "$@"
