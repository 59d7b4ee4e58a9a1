#!/usr/bin/env bash
# What the promise stage costs: the real corpora posted as staff, with the default packs and
# with the same packs minus patterns/promise/, alternating in one run (bench/pack_cost.sh).
#
#   bash bench/promise_cost.sh [--corpora LIST] [--build DIR]
set -euo pipefail
exec bash "$(dirname "$0")/pack_cost.sh" --without promise --label "the promise packs" "$@"
