#!/usr/bin/env bash
# modfilter's CLI next to the npm filters @2toad/profanity and obscenity, end to end, on real text.
#
#   bench/compare.sh [--cli PATH] [--corpus prose[,tweets,...]] [--rounds 3] [--min-mb 8]
#                    [--corpora DIR]
#
# For each corpus (built by bench/corpora.py; built here when missing) and each round, runs in turn
# (the starting tool rotates from round to round, so drift hits every tool alike):
#   modfilter-text   modfilter scan --threads 1 --format text --role staff < NAME.txt
#   modfilter-jsonl  modfilter scan --threads 1 --role staff < NAME.jsonl   (JSON lines, staff authors)
#   modfilter-jsonl-all-cpus  the same with the CLI's default --threads (one per CPU)
# The peers use one core; modfilter's ratio is taken on the --threads 1 rows, so it compares one
# core with one core.
#   @2toad/profanity node bench/peers_speed.cjs 2toad NAME.txt          (profanity.exists per line)
#   obscenity        node bench/peers_speed.cjs obscenity NAME.txt      (matcher.hasMatch per line)
# All output goes to /dev/null. Times are wall-clock and include process start-up (node start-up and
# package loading, modfilter's engine load); node's in-process scan time is reported too.
# MiB/s = post text bytes (newlines and JSON framing not counted) / median time, 1 MiB = 2^20 bytes.
# Corpora smaller than --min-mb MiB are repeated up to that size so that start-up does not dominate.
#
# Environment: MF_BENCH_CORPORA (corpora directory, default build/bench-corpora), MF_SHARED (shared
# data for corpora.py, default <repo>/../shared). Needs python3, node and npm (the peers are installed
# from bench/quality/package-lock.json with `npm ci --prefix bench/quality` when missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="$root/build/bindings/cli/modfilter"
corpora="${MF_BENCH_CORPORA:-$root/build/bench-corpora}"
names="prose"
rounds=3
min_mb=8

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cli) cli="$2"; shift 2 ;;
    --corpus) names="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --min-mb) min_mb="$2"; shift 2 ;;
    --corpora) corpora="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

[[ -x "$cli" ]] || { echo "compare.sh: no modfilter CLI at $cli (build it: scripts/build.sh, or pass --cli PATH)" >&2; exit 1; }
command -v node >/dev/null || { echo "compare.sh: node not found" >&2; exit 1; }
if [[ ! -d "$root/bench/quality/node_modules/obscenity" || ! -d "$root/bench/quality/node_modules/@2toad/profanity" ]]; then
  echo "installing the npm peers (npm ci --prefix bench/quality)..." >&2
  npm ci --prefix "$root/bench/quality" --no-audit --no-fund >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
times="$tmp/times.tsv"   # corpus  tool  round  start  end  in-process-ms
: > "$times"

# Input files for one corpus: the corpus itself, or copies of it concatenated up to --min-mb MiB.
prepare() {
  local name="$1" txt="$corpora/$1.txt" jsonl="$corpora/$1.jsonl"
  if [[ ! -f "$txt" || ! -f "$jsonl" ]]; then
    echo "building corpus $name (python3 bench/corpora.py --only $name --out $corpora)..." >&2
    python3 "$root/bench/corpora.py" --only "$name" --out "$corpora" >&2 || true
    [[ -f "$txt" && -f "$jsonl" ]] || { echo "compare.sh: corpus $name unavailable, skipped" >&2; return 1; }
  fi
  local size copies
  size=$(stat -c %s "$txt")
  copies=$(( (min_mb * 1048576 + size - 1) / size ))
  if (( copies > 1 )); then
    for ((i = 0; i < copies; ++i)); do cat "$txt"; done > "$tmp/$name.txt"
    for ((i = 0; i < copies; ++i)); do cat "$jsonl"; done > "$tmp/$name.jsonl"
  else
    ln -s "$txt" "$tmp/$name.txt"
    ln -s "$jsonl" "$tmp/$name.jsonl"
  fi
  echo "$copies"
}

now() { date +%s.%N; }

run_tool() {  # corpus tool round
  local name="$1" tool="$2" round="$3" t0 t1 inproc="-"
  t0=$(now)
  case "$tool" in
    modfilter-text) "$cli" scan --threads 1 --format text --role staff < "$tmp/$name.txt" > /dev/null ;;
    modfilter-jsonl) "$cli" scan --threads 1 --role staff < "$tmp/$name.jsonl" > /dev/null ;;
    modfilter-jsonl-all-cpus) "$cli" scan --role staff < "$tmp/$name.jsonl" > /dev/null ;;
    @2toad/profanity) node "$root/bench/peers_speed.cjs" 2toad "$tmp/$name.txt" > /dev/null 2> "$tmp/node.json" ;;
    obscenity) node "$root/bench/peers_speed.cjs" obscenity "$tmp/$name.txt" > /dev/null 2> "$tmp/node.json" ;;
  esac
  t1=$(now)
  if [[ "$tool" != modfilter-* ]]; then
    inproc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scan_ms"])' "$tmp/node.json")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tool" "$round" "$t0" "$t1" "$inproc" >> "$times"
}

tools=(modfilter-text modfilter-jsonl modfilter-jsonl-all-cpus @2toad/profanity obscenity)
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo "load average at start (other work on the machine skews figures): $(cut -d" " -f1-3 /proc/loadavg)"
echo "modfilter: $cli ($("$cli" --version 2>/dev/null | head -1)); node $(node --version);" \
     "@2toad/profanity $(node -p "require('$root/bench/quality/node_modules/@2toad/profanity/package.json').version")," \
     "obscenity $(node -p "require('$root/bench/quality/node_modules/obscenity/package.json').version")"
echo "rounds: $rounds, end to end (process start-up included), role staff for modfilter"

sizes="$tmp/sizes.tsv"; : > "$sizes"
IFS=',' read -r -a corpus_list <<< "$names"
for name in "${corpus_list[@]}"; do
  copies=$(prepare "$name") || continue
  lines=$(wc -l < "$tmp/$name.txt")
  bytes=$(( $(stat -L -c %s "$tmp/$name.txt") - lines ))
  printf '%s\t%s\t%s\t%s\n' "$name" "$bytes" "$lines" "$copies" >> "$sizes"
  echo "corpus $name: $lines posts, $bytes bytes of text$( ((copies > 1)) && echo " ($copies copies of the corpus)")" >&2
  # Untimed check: every tool answers one line per post.
  head -n 500 "$tmp/$name.txt" > "$tmp/check.txt"
  head -n 500 "$tmp/$name.jsonl" > "$tmp/check.jsonl"
  want=$(wc -l < "$tmp/check.txt")
  for got in "$("$cli" scan --format text --role staff < "$tmp/check.txt" | wc -l)" \
             "$("$cli" scan --role staff < "$tmp/check.jsonl" | wc -l)" \
             "$(node "$root/bench/peers_speed.cjs" 2toad "$tmp/check.txt" 2>/dev/null | wc -l)" \
             "$(node "$root/bench/peers_speed.cjs" obscenity "$tmp/check.txt" 2>/dev/null | wc -l)"; do
    [[ "$got" == "$want" ]] || { echo "compare.sh: a tool answered $got lines for $want posts" >&2; exit 1; }
  done
  for ((r = 0; r < rounds; ++r)); do
    for ((k = 0; k < ${#tools[@]}; ++k)); do
      tool="${tools[$(( (k + r) % ${#tools[@]} ))]}"
      echo "  round $((r + 1))/$rounds: $tool" >&2
      run_tool "$name" "$tool" "$r"
    done
  done
done

python3 - "$times" "$sizes" <<'EOF'
import statistics, sys
times, sizes = sys.argv[1], sys.argv[2]
size = {}
for line in open(sizes):
    name, nbytes, posts, copies = line.split("\t")
    size[name] = (int(nbytes), int(posts))
rows = {}
for line in open(times):
    name, tool, rnd, t0, t1, inproc = line.rstrip("\n").split("\t")
    sec = float(t1) - float(t0)
    rows.setdefault(name, {}).setdefault(tool, []).append((float(sec), None if inproc == "-" else float(inproc)))
MiB = 1 << 20
for name, tools in rows.items():
    nbytes, posts = size[name]
    print(f"\n{name}: {posts} posts, {nbytes / MiB:.1f} MiB of text")
    print(f"  {'tool':<26} {'median s':>9} {'MiB/s':>8} {'in-process MiB/s':>17}   rounds (s)")
    med = {}
    for tool, runs in tools.items():
        m = statistics.median(s for s, _ in runs)
        med[tool] = m
        ip = [i for _, i in runs if i is not None]
        ipr = f"{nbytes / MiB / (statistics.median(ip) / 1000):>17.2f}" if ip else f"{'-':>17}"
        print(f"  {tool:<26} {m:>9.2f} {nbytes / MiB / m:>8.2f} {ipr}   " + " ".join(f"{s:.2f}" for s, _ in runs))
    for mf in ("modfilter-text", "modfilter-jsonl"):
        for peer in ("@2toad/profanity", "obscenity"):
            if mf in med and peer in med:
                print(f"  {mf} / {peer}: {med[peer] / med[mf]:.2f}x the throughput")
EOF
