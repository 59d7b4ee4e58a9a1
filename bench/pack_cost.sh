#!/usr/bin/env bash
# What some packs cost: the default packs and the same packs minus the given files or directories of
# patterns/, compiled into two databases and scanned by one library in one process, a chunk of posts
# through one and then through the other, turn by turn (bench/ab_inproc.sh): separate processes a few
# seconds apart differ on this shared machine by more than the cost being measured.
#
#   bash bench/pack_cost.sh --without "promise" [--corpora LIST] [--role 0|1] [--label NAME] [--build DIR]
#   bash bench/pack_cost.sh --without "abuse/model.toml spam/model.toml" --label model   (the learned scorer)
#
# --corpora: names from bench/corpora.py (default prose,tweets,replies); --role 1 (staff, the default)
# or 0. Prints per corpus the scan time without the packs over the time with them, and the share of
# the scan time that the packs add (1 - that ratio), with its spread over the rounds. Needs the
# corpora (python3 bench/corpora.py) and a build (the CLI compiles the databases). Posts are scanned
# one by one (mf_scan_text, as a plugin scans); AB_BATCH=64 scans them through mf_scan_batch, as the
# CLI and the bindings' batch calls do (bench/ab_inproc.c).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build without="" label="" corpora=prose,tweets,replies role=1 posts=${MF_PACK_COST_POSTS:-40000}
usage="usage: bench/pack_cost.sh --without \"PATH...\" [--corpora LIST] [--role 0|1] [--label NAME] [--build DIR]"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --without) without=$2; shift 2 ;;
    --corpora) corpora=$2; shift 2 ;;
    --role) role=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ -n "$without" ] || { echo "$usage" >&2; exit 2; }
label=${label:-$without}
cli="$build/bindings/cli/modfilter"
[ -x "$cli" ] || { echo "pack_cost.sh: no $cli (build first)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r patterns "$tmp/with"; cp -r patterns "$tmp/without"
for p in $without; do
  [ -e "$tmp/without/$p" ] || { echo "pack_cost.sh: no patterns/$p" >&2; exit 1; }
  rm -rf "${tmp:?}/without/$p"
done
for v in with without; do "$cli" compile --rules "$tmp/$v" -o "$tmp/$v.mfdb" >/dev/null; done
printf '%-10s %-6s %12s %15s %8s   %s\n' corpus role "with us/post" "without us/post" share "share over the rounds (min..max)"
IFS=, read -r -a names <<< "$corpora"
for c in "${names[@]}"; do
  out=$(AB_DB_BEFORE="$tmp/with.mfdb" AB_DB_AFTER="$tmp/without.mfdb" \
        bash bench/ab_inproc.sh "$build/capi" "$build/capi" "$c" "$role" "$posts")
  python3 - "$c" "$role" "$out" <<'PY'
import re, sys
out = sys.argv[3]
us = re.findall(r"^(before|after)\s+([\d.]+) us/post", out, re.M)
m = re.search(r"after/before time ([\d.]+) \(rounds: min ([\d.]+), median [\d.]+, max ([\d.]+)\)", out)
w, wo = float(us[0][1]), float(us[1][1])
r, lo, hi = (float(x) for x in m.groups())
print(f"{sys.argv[1]:10s} {('staff' if sys.argv[2] == '1' else 'member'):6s} {w:12.2f} {wo:15.2f} {100 * (1 - r):7.1f}%   "
      f"{100 * (1 - hi):.1f}% .. {100 * (1 - lo):.1f}%")
PY
done
echo "share = part of the scan time that '$label' adds: 1 - (time without) / (time with), in one process"
echo "(more than the packs alone: share / (1 - share); an A/A run shows about 2% either way)"
