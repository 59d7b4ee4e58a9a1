#!/usr/bin/env bash
# README command 2: build, then run every test (C++ unit tests, C API, strict-C header, exported
# symbols, CLI end to end, every rule's examples, install, fuzz corpus replay, Python bindings).
#   MF_SANITIZE=1 scripts/test.sh     the same under AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ "${MF_SANITIZE:-0}" == 1 ]]; then
  export BUILD_DIR="${BUILD_DIR:-$root/build-asan}"
  bash "$root/scripts/build.sh" -DMF_SANITIZE=ON -DMF_BUILD_BENCH=OFF
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
else
  export BUILD_DIR="${BUILD_DIR:-$root/build}"
  bash "$root/scripts/build.sh"
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"
