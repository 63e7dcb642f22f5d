#!/usr/bin/env bash
# Build a protocol fuzz harness (server/fuzz_PROTO.c, PROTO = text or
# binary) with clang, libFuzzer, ASan and UBSan in FUZZ_BUILD (default
# build-fuzz/), and run it for FUZZ_SECONDS (default 60) over the seeds in
# server/fuzz/corpus_PROTO.  Exits non-zero on a crash; a crashing input is
# left in FUZZ_BUILD/fuzz-artifacts-PROTO/ (make it a unit-test case).
# It compiles the library and the protocol directly with clang (the CMake
# build uses the system compiler, gcc); CTest runs it as fuzz_text and
# fuzz_binary.
#
#   usage: tests/fuzz.sh text|binary
set -euo pipefail
PROTO="${1:-}"
case "$PROTO" in
text | binary) ;;
*) echo "usage: tests/fuzz.sh text|binary" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${FUZZ_BUILD:-$ROOT/build-fuzz}"
SECS="${FUZZ_SECONDS:-60}"
command -v clang >/dev/null || { echo "fuzz.sh: clang not found" >&2; exit 2; }
mkdir -p "$BUILD"
# shellcheck disable=SC2046
clang -std=gnu11 -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/server" \
      "$ROOT"/src/*.c "$ROOT"/server/proto_*.c "$ROOT/server/srv_buf.c" \
      "$ROOT/server/fuzz_$PROTO.c" \
      $(pkg-config --cflags --libs libxxhash) -lpthread -o "$BUILD/fuzz_$PROTO"
WORK="$BUILD/fuzz-corpus-$PROTO"          # new inputs go here, the seeds stay clean
mkdir -p "$WORK" "$BUILD/fuzz-artifacts-$PROTO"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export SHMC_PROTECTION="${SHMC_PROTECTION:-none}"
"$BUILD/fuzz_$PROTO" -max_total_time="$SECS" -max_len=4096 -timeout=10 \
    -artifact_prefix="$BUILD/fuzz-artifacts-$PROTO/" "$WORK" "$ROOT/server/fuzz/corpus_$PROTO"
