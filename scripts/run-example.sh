#!/usr/bin/env bash
# README command 1: build, then filter examples/posts.jsonl with the default packs.
# One verdict line per input line (invalid JSON and invalid UTF-8 included) goes to standard output.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/build.sh" >&2
"$root/build/bindings/cli/modfilter" scan "$@" < "$root/examples/posts.jsonl"
