#!/usr/bin/env bash
# Installs the Debian packages modfilter needs to build, test and benchmark.
# Idempotent: packages already present are skipped, apt-get runs only when something is missing.
# Used by both README commands and by .ci/run.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  libhyperscan-dev     # multi-pattern matching
  libicu-dev           # Unicode normalization, case folding
  libxxhash-dev        # fingerprints
  nlohmann-json3-dev   # JSON: rule-pack loader's sibling formats, CLI JSON lines
  libtomlplusplus-dev  # TOML: rule packs
  libcli11-dev         # command-line parsing for the CLI
  libsimdjson-dev      # the CLI's per-line JSON parsing (on-demand API, hundreds of MB/s)
  catch2               # tests (v2)
  libbenchmark-dev     # benchmarks
  python3
  ruby ruby-ffi ruby-minitest  # the Ruby binding (ruby-ffi on the C ABI), its tests and the Discourse plugin's
)
if [[ "${MF_WITH_FUZZ:-0}" == 1 ]]; then PKGS+=(clang libclang-rt-14-dev); fi

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != *"install ok installed"* ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
