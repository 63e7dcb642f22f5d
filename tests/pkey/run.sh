#!/usr/bin/env bash
# Runs the protection suite (tests/pkey/pkey_suite.c) in mpk mode wherever
# protection keys can be had, deciding at run time from the CPU it runs on:
#   - the CPU and kernel have keys (/proc/cpuinfo: pku and ospke): natively,
#     the dynamically linked build and, if given, the static one;
#   - they do not: the static build inside QEMU -cpu max (tests/qemu/run.sh);
#     without a static build (sanitizer builds) the run is skipped (exit 77).
#
# usage: tests/pkey/run.sh BUILD_DIR DYNAMIC_SUITE [STATIC_SUITE]
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR DYNAMIC_SUITE [STATIC_SUITE]" >&2; exit 2; }
build=$1 dynamic=$2 static=${3:-}
here=$(cd "$(dirname "$0")" && pwd)

if grep -qw pku /proc/cpuinfo && grep -qw ospke /proc/cpuinfo; then
    echo "pkey suite: this CPU has protection keys ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')): running natively"
    rc=0
    "$dynamic" mpk || rc=1
    if [ -n "$static" ]; then
        "$static" mpk || rc=1
    fi
    exit $rc
fi
if [ -z "$static" ]; then
    echo "pkey suite: no protection keys on this CPU and no static build for QEMU: skipped"
    exit 77
fi
echo "pkey suite: no protection keys on this CPU: running under QEMU -cpu max"
exec bash "$here/../qemu/run.sh" "$build" "$static" mpk
