#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds examples/c/scan.c against the installed
# header and library with pkg-config and with the CMake package, and runs both and the installed CLI.
set -euo pipefail
build=$1 src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -1)
export PKG_CONFIG_PATH="$libdir/pkgconfig" LD_LIBRARY_PATH="$libdir"
test -f "$prefix/include/modfilter/modfilter.h"
test -f "$prefix/share/modfilter/patterns/policy.toml"
cc -std=c99 -Wall -Werror "$src/examples/c/scan.c" $(pkg-config --cflags --libs modfilter) -o "$prefix/scan"
out=$("$prefix/scan" "I will kill you" member)
echo "$out"
grep -q '^action: REJECT' <<<"$out"
# The same through the CMake package.
mkdir -p "$prefix/cm"
cat > "$prefix/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(modfilter 0.1 REQUIRED)
add_executable(scan "$src/examples/c/scan.c")
target_link_libraries(scan modfilter::modfilter)
CM
cmake -S "$prefix/cm" -B "$prefix/cm/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm/build" >/dev/null
out=$("$prefix/cm/build/scan" "hello friends")
grep -q '^action: ALLOW' <<<"$out"
# The installed CLI uses the installed library.
# (Outputs are captured before grep -q: with pipefail, grep closing the pipe early could fail the
# writer with SIGPIPE and the test with it.)
out=$(echo '{"id":"x","text":"I will kill you"}' | "$prefix/bin/modfilter" scan)
grep -q '"action":"REJECT"' <<<"$out"
deps=$(ldd "$prefix/bin/modfilter")
grep -q "$libdir" <<<"$deps"
echo "install test ok"
