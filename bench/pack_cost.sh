#!/usr/bin/env bash
# What some packs cost: bench_scan's real corpora with the default packs and with the same packs minus
# the given files or directories of patterns/, alternating in one run (the machine is noisy).
#
#   bash bench/pack_cost.sh --without "promise" [--filter REGEX] [--label NAME] [--rounds N] [--build DIR]
#   bash bench/pack_cost.sh --without "abuse/model.toml spam/model.toml" --label model   (the learned scorer)
#
# Needs the corpora (python3 bench/corpora.py) and a build with benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 build=build without="" label="" filter='real/(prose|replies|tweets)/staff'
usage="usage: bench/pack_cost.sh --without \"PATH...\" [--filter REGEX] [--label NAME] [--rounds N] [--build DIR]"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --without) without=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ -n "$without" ] || { echo "$usage" >&2; exit 2; }
label=${label:-$without}
bench="$build/bench/bench_scan"
[ -x "$bench" ] || { echo "pack_cost.sh: no $bench (build with benchmarks first)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r patterns "$tmp/with"; cp -r patterns "$tmp/without"
for p in $without; do
  [ -e "$tmp/without/$p" ] || { echo "pack_cost.sh: no patterns/$p" >&2; exit 1; }
  rm -rf "${tmp:?}/without/$p"
done
for r in $(seq "$rounds"); do
  for v in with without; do
    MF_BENCH_RULES="$tmp/$v" "$bench" --benchmark_filter="$filter" --benchmark_min_time=1 \
      --benchmark_format=csv 2>/dev/null | grep '^"real' | sed "s/^/$v,/" >> "$tmp/out.csv"
  done
done
python3 - "$tmp/out.csv" "$label" <<'PY'
import csv, statistics, sys
rows = {}
for r in csv.reader(open(sys.argv[1])):
    v, name, bps = r[0], r[1], float(r[6])  # bytes_per_second
    rows.setdefault(name, {}).setdefault(v, []).append(bps / 1e6)
label = sys.argv[2]
print(f"{'corpus':28s} {'with MB/s':>10s} {'without MB/s':>13s} {'share':>7s}")
for name, d in rows.items():
    w, wo = statistics.median(d["with"]), statistics.median(d["without"])
    print(f"{name:28s} {w:10.1f} {wo:13.1f} {100 * (1 / w - 1 / wo) / (1 / w):6.1f}%")
print(f"share = part of the scan time that '{label}' adds (medians of the rounds)")
PY
