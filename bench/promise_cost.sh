#!/usr/bin/env bash
# What the promise stage costs: bench_scan's real corpora posted as staff, with the default packs and
# with the same packs minus patterns/promise/, alternating in one run (the machine is noisy).
#
#   bash bench/promise_cost.sh [--rounds N] [--build DIR]
#
# Needs the corpora (python3 bench/corpora.py) and a Release build with benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 build=build
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: bench/promise_cost.sh [--rounds N] [--build DIR]" >&2; exit 2 ;;
  esac
done
bench="$build/bench/bench_scan"
[ -x "$bench" ] || { echo "promise_cost.sh: no $bench (build with benchmarks first)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r patterns "$tmp/with"; cp -r patterns "$tmp/without"; rm -rf "$tmp/without/promise"
filter='real/(prose|replies|tweets)/staff'
for r in $(seq "$rounds"); do
  for v in with without; do
    MF_BENCH_RULES="$tmp/$v" "$bench" --benchmark_filter="$filter" --benchmark_min_time=1 \
      --benchmark_format=csv 2>/dev/null | grep '^"real' | sed "s/^/$v,/" >> "$tmp/out.csv"
  done
done
python3 - "$tmp/out.csv" <<'PY'
import csv, statistics, sys
rows = {}
for r in csv.reader(open(sys.argv[1])):
    v, name, bps = r[0], r[1], float(r[6])  # bytes_per_second
    rows.setdefault(name, {}).setdefault(v, []).append(bps / 1e6)
print(f"{'corpus (staff)':28s} {'with promise MB/s':>18s} {'without MB/s':>14s} {'promise stage':>14s}")
for name, d in rows.items():
    w, wo = statistics.median(d["with"]), statistics.median(d["without"])
    print(f"{name:28s} {w:18.1f} {wo:14.1f} {100 * (1 / w - 1 / wo) / (1 / w):13.1f}%")
print("promise stage = share of the staff scan time that the promise packs add (medians of the rounds)")
PY
