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

# A small pack that does not depend on the default packs' content.
RULES = """\
[pack]
name = "test-pack"
applies_to = "everyone"

[[rule]]
id = "harass.idiot"
category = "abuse.harassment"
severity = "medium"
word = "idiot"

[[rule]]
id = "harass.moron"
category = "abuse.harassment"
severity = "high"
words = ["moron", "imbecile"]

[[rule]]
id = "threat.kill"
category = "abuse.threat"
severity = "critical"
phrase = "i will kill you"

[[rule]]
id = "fr.cretin"
category = "abuse.harassment"
severity = "medium"
word = "crétin"

[[rule]]
id = "ru.durak"
category = "abuse.harassment"
severity = "medium"
word = "дурак"

[[rule]]
id = "spam.cheap"
category = "spam.commercial"
severity = "low"
word = "cheap"

[[rule]]
id = "promise.refund"
category = "promise.refund"
severity = "high"
phrase = "full refund"
applies_to = "staff"
"""


def engine(**options):
    return modfilter.Engine.from_text(RULES, **options)
