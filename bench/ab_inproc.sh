#!/usr/bin/env bash
# Two builds of libmodfilter in one process, turn by turn, a chunk of posts at a time
# (bench/ab_inproc.c): on a shared machine whose speed drifts from minute to minute, the fairest
# side-by-side there is. Compare the two runs' ratio, not their us/post.
#
#   bash bench/ab_inproc.sh BEFORE_CAPI_DIR AFTER_CAPI_DIR [CORPUS] [ROLE] [POSTS] [ROUNDS] [CHUNK]
#   bash bench/ab_inproc.sh /tmp/old/build/capi build/capi tweets 1
#
# CORPUS is a name from bench/corpora.py (build/bench-corpora/NAME.txt), ROLE 0 (member) or 1
# (staff). AB_DB_BEFORE / AB_DB_AFTER name compiled databases (`modfilter compile --rules DIR -o
# FILE`) to scan with instead of the default engines: two databases, one library. Give the same
# directory on both sides to see the noise floor: an A/A ratio has come out between 0.96 and 1.01.
# AB_BATCH=64 scans through mf_scan_batch, 64 posts a call (CHUNK should be a multiple of it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
before=$1 after=$2 corpus=${3:-prose} role=${4:-1} posts=${5:-100000} rounds=${6:-5} chunk=${7:-256}
file="${MF_BENCH_CORPORA:-$repo/build/bench-corpora}/$corpus.txt"
[[ -f $file ]] || { echo "ab_inproc: $file missing: run python3 bench/corpora.py" >&2; exit 2; }
lib() { local f; f=$(ls "$1"/libmodfilter.so.*.*.* 2>/dev/null | head -1); [[ -n $f ]] || { echo "ab_inproc: no libmodfilter in $1" >&2; exit 2; }; echo "$f"; }
a=$(lib "$before") b=$(lib "$after")
# the same file twice would be one library to the loader: the second side gets a copy of its own
if [[ "$(realpath "$a")" == "$(realpath "$b")" ]]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp "$b" "$tmp/libmodfilter-after.so"; b="$tmp/libmodfilter-after.so"
fi
bin=$(mktemp -d)/ab_inproc
trap 'rm -rf "$(dirname "$bin")" ${tmp:+"$tmp"}' EXIT
cc -O2 -std=c11 -I"$repo/capi/include" "$repo/bench/ab_inproc.c" -ldl -o "$bin"
"$bin" "$a" "$b" "$file" "$role" "$posts" "$rounds" "$chunk"
