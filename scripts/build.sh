#!/usr/bin/env bash
# Installs the Debian packages modfilter needs (once), then configures and builds into build/.
#   scripts/build.sh [extra cmake arguments...]      BUILD_DIR=build-x scripts/build.sh ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
