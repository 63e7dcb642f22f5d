#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages one job of shmcached needs,
# and only those.  Idempotent; needs root (or sudo) only when something is
# missing.  Quiet: one line, or apt-get's output in full if it fails.
#
#   scripts/install-deps.sh --build    build the library, shmcachectl and the
#                                      server (make, make server, make demo,
#                                      make install)
#   scripts/install-deps.sh --python   --build, and python3-dev: the Python
#                                      module (python/, docs/python.md)
#   scripts/install-deps.sh --test     --build, --python, and everything `make check`
#                                      runs: cmocka, memcached for parity,
#                                      clang for the fuzzers, QEMU for the
#                                      protection-key suite (~250 MB), mandoc,
#                                      systemd-analyze...
#   scripts/install-deps.sh --bench    --build, --python, and memcached,
#                                      libmemcached, LMDB, hiredis, Redis,
#                                      gnuplot, pymemcache, pylibmc, PHP
#                                      (make bench, bench/*.sh)
#   scripts/install-deps.sh --all      all of the above
#   scripts/install-deps.sh --list SET print the packages of SET, install nothing
#
# Several sets may be given.  No argument means --all (what this script did
# before it had sets).
set -euo pipefail

# The library, the tool and the server: a C compiler, CMake, pkg-config,
# XXH3 (libxxhash), and the server's libevent, Cyrus SASL and OpenSSL (-Z).
BUILD_PKGS=(build-essential cmake pkg-config libxxhash-dev libevent-dev libsasl2-dev libssl-dev)
# The Python module (python/, built by CMake when these are there: no
# setuptools): Python's headers.
PYTHON_PKGS=(python3-dev)
# make check: cmocka (unit tests), the SASL PLAIN module (-S tests),
# memcached and libmemcached (parity, the ycsb driver's mc backend, test_ycsb),
# LMDB, hiredis and Redis (the ycsb driver's lmdb and redis backends, which
# test_ycsb runs),
# Python with pymemcache/pytest (server tests), clang (libFuzzer), QEMU +
# busybox + cpio (the protection-key suite where the CPU has no keys),
# mandoc (man page lint), systemd (systemd-analyze verify of the unit),
# openssl (the command: test_tls and test_server make their certificates),
# PHP's Memcached and pylibmc (test_preload runs them through the preload;
# test_cluster reads its ketama cluster through them), nutcracker
# (twemproxy: test_cluster's proxy).
TEST_PKGS=(libcmocka-dev libsasl2-modules memcached libmemcached-dev libmemcached-tools
           liblmdb-dev libhiredis-dev redis-server python3-pymemcache python3-pytest clang
           qemu-system-x86 busybox-static cpio mandoc systemd openssl
           php-cli php-memcached python3-pylibmc nutcracker)
# make bench: memcached to compare with, libmemcached for build/ycsb's mc
# backend, LMDB, hiredis and Redis for its lmdb and redis backends (the
# peers of bench/ycsb.sh's headline table), memcslap, gnuplot for the plots, stunnel4 (bench/tls.sh: TLS in
# front of memcached, beside memcached's own -Z); pymemcache and pylibmc for
# the Python module's comparison (bench/python.sh); php-cli and php-memcached
# (with pylibmc and memcslap: the existing clients of bench/clients.sh).
BENCH_PKGS=(memcached libmemcached-dev libmemcached-tools liblmdb-dev libhiredis-dev
            redis-server gnuplot-nox stunnel4
            python3-pymemcache python3-pylibmc php-cli php-memcached)

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

want=()
list_only=0
[ $# -gt 0 ] || set -- --all
for arg in "$@"; do
    case $arg in
    --build | --server | --demo) want+=("${BUILD_PKGS[@]}") ;;
    --python) want+=("${BUILD_PKGS[@]}" "${PYTHON_PKGS[@]}") ;;
    --test) want+=("${BUILD_PKGS[@]}" "${PYTHON_PKGS[@]}" "${TEST_PKGS[@]}") ;;
    --bench) want+=("${BUILD_PKGS[@]}" "${PYTHON_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
    --all) want+=("${BUILD_PKGS[@]}" "${PYTHON_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
    --list) list_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install-deps.sh: unknown set '$arg' (--build, --python, --test, --bench, --all; --help)" >&2; exit 2 ;;
    esac
done
# one of each, in order
mapfile -t want < <(printf '%s\n' "${want[@]}" | awk '!seen[$0]++')
if [ "$list_only" = 1 ]; then
    printf '%s\n' "${want[@]}"
    exit 0
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: the ${#want[@]} packages needed are installed"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "deps: missing ${missing[*]}; run as root (or install sudo) to install them" >&2
        exit 1
    }
    SUDO=(sudo)
fi
echo "deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq &&
       DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
           "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps: apt-get failed (above)" >&2
    exit 1
fi
