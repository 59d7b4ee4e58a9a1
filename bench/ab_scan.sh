#!/usr/bin/env bash
# Two builds of libmodfilter side by side in one run: the same corpus through mf_scan_text with one
# build's library, then the other's, turn by turn, so that the machine's drift hits both alike.
#
#   bash bench/ab_scan.sh BEFORE_CAPI_DIR AFTER_CAPI_DIR [CORPUS] [ROLE] [POSTS] [ROUNDS] [REPS]
#   bash bench/ab_scan.sh /tmp/old/build/capi build/capi prose 1 20000 3 2
#
# CORPUS is a name from bench/corpora.py (build/bench-corpora/NAME.txt, one post a line), ROLE 0
# (member) or 1 (staff). Each line printed is the best of ROUNDS passes in thread CPU time. Equal
# checksums mean both builds reached the same actions and hit counts (bench/verdict_diff.py checks
# verdicts fully); a build with other rule packs gives another checksum.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
before=$1 after=$2 corpus=${3:-prose} role=${4:-1} posts=${5:-20000} rounds=${6:-3} reps=${7:-2}
file="${MF_BENCH_CORPORA:-$repo/build/bench-corpora}/$corpus.txt"
[[ -f $file ]] || { echo "ab_scan: $file missing: run python3 bench/corpora.py" >&2; exit 2; }
bin=$(mktemp -d)/ab_scan
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -std=c11 -I"$repo/capi/include" "$repo/bench/ab_scan.c" -L"$after" -lmodfilter -o "$bin"
for ((i = 0; i < reps; i++)); do
  printf 'before '; LD_LIBRARY_PATH=$before "$bin" "$file" "$role" "$posts" "$rounds"
  printf 'after  '; LD_LIBRARY_PATH=$after "$bin" "$file" "$role" "$posts" "$rounds"
done
