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
  libhiredis-dev       # the worker's Redis client (reference C client; synchronous API fits its batch loop)
  redis-server         # the worker's tests and benchmark start their own
  catch2               # tests (v2)
  libbenchmark-dev     # benchmarks
  python3
  php8.2-cli php8.2-mbstring  # the PHP binding (FFI is part of php8.2-common)
  phpunit                     # its tests
  wordpress php8.2-mysql mariadb-server chromium  # the WordPress plugin's end-to-end test
  ruby ruby-ffi ruby-minitest  # the Ruby binding (ruby-ffi on the C ABI), its tests and the Discourse plugin's
)
if [[ "${MF_WITH_FUZZ:-0}" == 1 ]]; then PKGS+=(clang libclang-rt-14-dev); fi
# The Node.js binding and the NodeBB plugin: Debian's nodejs and npm, unless a Node.js with npm is
# already there (a NodeSource nodejs carries its own npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi

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

# koffi for the Node.js binding, at the version pinned in its package-lock.json (npm registry).
node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bindings/node"
if [[ ! -f "$node_dir/node_modules/.package-lock.json" || "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]]; then
  echo "install-deps: npm ci in bindings/node" >&2
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
