"""Shared by the tests: imports modfilter from this checkout and defines small rule packs.

Run from the repository root:
    MODFILTER_LIBRARY=build/capi/libmodfilter.so python3 -m unittest discover -s bindings/python/tests
"""

import ctypes.util
import os
import sys


def _asan_needs_libstdcxx() -> bool:
    preload = os.environ.get("LD_PRELOAD", "")
    return "libasan" in preload and "libstdc++" not in preload


# Under a sanitizer build, ctest preloads libasan into this (uninstrumented) interpreter. ASan then
# cannot find the real __cxa_throw, because libstdc++ only arrives later with libmodfilter through
# ctypes, and the first C++ exception (Hyperscan throws internally while compiling) aborts with
# "CHECK failed: real___cxa_throw". Preloading libstdc++ too fixes it, so restart once with it.
if _asan_needs_libstdcxx() and getattr(sys, "orig_argv", None):
    _stdcxx = ctypes.util.find_library("stdc++")
    if _stdcxx:
        _env = dict(os.environ, LD_PRELOAD=os.environ["LD_PRELOAD"] + " " + _stdcxx)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, sys.orig_argv, _env)

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)  # test the checkout, not an older installed copy

import modfilter  # noqa: E402

# A small pack that does not depend on the default packs' content, shared with the other bindings' tests.
with open(os.path.join(os.path.dirname(SRC), "..", "..", "tests", "data", "bindings-pack.toml"), encoding="utf-8") as _f:
    RULES = _f.read()


def engine(**options):
    return modfilter.Engine.from_text(RULES, **options)
