#!/usr/bin/env bash
# The exported symbols of libmodfilter.so must be exactly capi/modfilter.symbols: an ABI change is
# then a visible diff in review. To accept a deliberate change: run with --update.
set -euo pipefail
lib=$1 expected=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
if [[ ${3:-} == --update ]]; then echo "$actual" > "$expected"; exit 0; fi
if ! diff -u "$expected" <(echo "$actual"); then
  echo "exported symbols differ from $expected (see diff above)" >&2
  exit 1
fi
echo "$(wc -l < "$expected") exported symbols, all mf_*, as committed"
grep -qv '^mf_' <(echo "$actual") && { echo "a non-mf_ symbol is exported" >&2; exit 1; }
exit 0
