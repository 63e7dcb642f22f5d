#!/usr/bin/env bash
# Build the binary protocol fuzz harness (server/fuzz_binary.c) with clang,
# libFuzzer, ASan and UBSan in build-fuzz/, and run it for FUZZ_SECONDS
# (default 60) over server/fuzz/corpus_binary.  Exits non-zero on a crash.
# It compiles the library and the protocol directly with clang (the CMake
# build uses the system compiler, gcc); CTest runs it as the test fuzz_binary.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${FUZZ_BUILD:-$ROOT/build-fuzz}"
SECS="${FUZZ_SECONDS:-60}"
command -v clang >/dev/null || { echo "fuzz_binary.sh: clang not found" >&2; exit 2; }
mkdir -p "$BUILD"
clang -std=gnu11 -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/server" \
      "$ROOT"/src/*.c "$ROOT"/server/proto_*.c "$ROOT/server/srv_buf.c" \
      "$ROOT/server/fuzz_binary.c" \
      $(pkg-config --cflags --libs libxxhash) -lpthread -o "$BUILD/fuzz_binary"
WORK="$BUILD/fuzz-corpus-binary"          # new inputs go here, the seeds stay clean
mkdir -p "$WORK" "$BUILD/fuzz-artifacts-binary"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export SHMC_PROTECTION="${SHMC_PROTECTION:-none}"
"$BUILD/fuzz_binary" -max_total_time="$SECS" -max_len=4096 -timeout=10 \
    -artifact_prefix="$BUILD/fuzz-artifacts-binary/" "$WORK" "$ROOT/server/fuzz/corpus_binary"
