#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) in build-fuzz/
# and runs each one, one after the other, for the given number of seconds (default 60).
#
#   scripts/fuzz.sh [seconds-per-target] [target...]      # targets: see fuzz/CMakeLists.txt
#
# Each fuzzer starts from the committed seeds in fuzz/corpora/<target>/ (read, never written) and
# keeps what it discovers in build-fuzz/corpus/<target>/, so later runs continue from there.
# A failure (crash, failed check, leak, timeout) is written to fuzz/artifacts/<target>/ (git-ignored);
# fix it, then commit the input to fuzz/corpora/<target>/ so the replay tests keep it fixed.
# Exit status: 0 when every target ran clean, 1 otherwise.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(normalize scan rules capi deserialize cli_stream differential state_file)
fi

MF_WITH_FUZZ=1 "$root/scripts/install-deps.sh"
build="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMF_BUILD_FUZZ=ON -DMF_SANITIZE=ON -DMF_BUILD_TESTS=OFF -DMF_BUILD_BENCH=OFF -DMF_BUILD_CLI=OFF >/dev/null
cmake --build "$build" -j2 --target $(printf 'fuzz_%s ' "${targets[@]}")

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$root/fuzz/artifacts/$t"
  echo "== fuzz_$t: ${secs}s" >&2
  # -timeout: one input may not take more than 20 s; -rss_limit_mb: nor more than 4 GiB.
  if ! "$build/fuzz/fuzz_$t" "$build/corpus/$t" "$root/fuzz/corpora/$t" \
      -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$root/fuzz/artifacts/$t/" 2>"$build/fuzz_$t.log"; then
    failed+=("$t")
    echo "fuzz_$t FAILED: see $build/fuzz_$t.log and fuzz/artifacts/$t/" >&2
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added)|^Done|ERROR|check failed" "$build/fuzz_$t.log" | head -5 >&2 || true
done
if ((${#failed[@]})); then
  echo "fuzz: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs}s each, no failure" >&2
