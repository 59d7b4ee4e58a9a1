"""Loading libmodfilter and declaring its C functions (private).

The binding uses :mod:`ctypes` from the standard library. ctypes calls through ``CDLL`` release the GIL
for the duration of every foreign call, which is what lets a thread pool scan in parallel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Iterator, Optional

#: The oldest library version (MF_VERSION_NUMBER) whose ABI this binding was written against.
ABI_VERSION_MIN = 100  # 0.1.0
#: Major version of the C ABI this binding understands (the SONAME carries it).
ABI_MAJOR = 0

ENV_VAR = "MODFILTER_LIBRARY"


class EngineOptions(Structure):
    """mf_engine_options (MF_ENGINE_OPTIONS_VERSION 1)."""

    _fields_ = [
        ("version", c_uint32),
        ("rules_path", c_char_p),
        ("rules_text", c_char_p),
        ("rules_text_len", c_size_t),
        ("flag_threshold", c_double),
        ("hold_threshold", c_double),
        ("reject_threshold", c_double),
        ("max_post_bytes", c_uint64),
        ("max_hits", c_uint32),
    ]


class Post(Structure):
    """mf_post (MF_POST_VERSION 2: version 1's fields, then who, where and when)."""

    _fields_ = [
        ("version", c_uint32),
        ("text", c_char_p),
        ("len", c_size_t),
        ("author_role", c_int32),
        ("flags", c_uint32),
        ("id", c_char_p),
        ("id_len", c_size_t),
        ("author_id", c_char_p),
        ("author_id_len", c_size_t),
        ("channel", c_char_p),
        ("channel_len", c_size_t),
        ("ts_ms", c_int64),
        ("author_age_days", c_int32),
        ("edit", c_uint32),
    ]


class StateOptions(Structure):
    """mf_state_options (MF_STATE_OPTIONS_VERSION 1)."""

    _fields_ = [("version", c_uint32), ("memory_budget", c_uint64)]


class Hit(Structure):
    """mf_hit (MF_HIT_VERSION 2)."""

    _fields_ = [
        ("version", c_uint32),
        ("rule", c_void_p),  # const char *, kept as an address so names can be cached per engine
        ("category", c_void_p),
        ("severity", c_int32),
        ("score", c_double),
        ("start", c_size_t),
        ("end", c_size_t),
        ("evasion", c_uint32),
        ("flags", c_uint32),  # since version 2: HIT_QUOTED
    ]


ENGINE_OPTIONS_VERSION = 1
POST_VERSION = 2
STATE_OPTIONS_VERSION = 1
AGE_UNKNOWN = -1
POST_EDIT = 1
HIT_VERSION = 2
HIT_QUOTED = 0x1
SCAN_CENSOR = 0x1

DIAGNOSTIC_CB = CFUNCTYPE(None, c_char_p, c_uint32, c_char_p, c_void_p)

_status = c_int32
_pp = POINTER(c_void_p)

# name: (restype, argtypes)
_PROTOTYPES = {
    "mf_version": (c_char_p, []),
    "mf_version_number": (c_uint32, []),
    "mf_status_str": (c_char_p, [_status]),
    "mf_last_error": (c_char_p, []),
    "mf_engine_options_init": (_status, [POINTER(EngineOptions), c_uint32]),
    "mf_engine_create": (_status, [_pp, POINTER(EngineOptions)]),
    "mf_engine_destroy": (None, [c_void_p]),
    "mf_engine_rule_count": (c_size_t, [c_void_p]),
    "mf_engine_rule": (
        _status,
        [c_void_p, c_size_t, POINTER(c_char_p), POINTER(c_char_p), POINTER(c_int32), POINTER(c_double)],
    ),
    "mf_scanner_create": (_status, [_pp, c_void_p]),
    "mf_scanner_destroy": (None, [c_void_p]),
    "mf_verdict_create": (_status, [_pp]),
    "mf_verdict_destroy": (None, [c_void_p]),
    "mf_post_init": (_status, [POINTER(Post), c_uint32]),
    "mf_scan_text": (_status, [c_void_p, c_void_p, c_char_p, c_size_t, c_int32]),
    "mf_scan": (_status, [c_void_p, c_void_p, POINTER(Post)]),
    "mf_verdict_action": (c_int32, [c_void_p]),
    "mf_verdict_flags": (c_uint32, [c_void_p]),
    "mf_verdict_evasion": (c_uint32, [c_void_p]),
    "mf_verdict_invalid_utf8_count": (c_size_t, [c_void_p]),
    "mf_verdict_category_count": (c_size_t, [c_void_p]),
    "mf_verdict_category": (
        _status,
        [c_void_p, c_size_t, POINTER(c_void_p), POINTER(c_double), POINTER(c_int32), POINTER(c_void_p)],
    ),
    "mf_verdict_hit_count": (c_size_t, [c_void_p]),
    "mf_verdict_hit": (_status, [c_void_p, c_size_t, POINTER(Hit)]),
    "mf_verdict_censored": (c_void_p, [c_void_p, POINTER(c_size_t)]),
    "mf_verdict_json": (c_char_p, [c_void_p, POINTER(c_size_t)]),
    "mf_action_name": (c_char_p, [c_int32]),
    "mf_severity_name": (c_char_p, [c_int32]),
    "mf_evasion_name": (c_char_p, [c_uint32]),
    # posts are passed as a packed buffer (bytes) of mf_post structs: see _engine._pack_posts
    "mf_scan_batch": (_status, [c_void_p, c_void_p, c_char_p, c_size_t, POINTER(c_size_t)]),
    "mf_rules_check": (_status, [POINTER(c_size_t), c_char_p, DIAGNOSTIC_CB, c_void_p]),
    "mf_engine_serialize": (_status, [POINTER(c_void_p), POINTER(c_size_t), c_void_p]),
    "mf_engine_deserialize": (_status, [_pp, c_char_p, c_size_t, POINTER(EngineOptions)]),
    "mf_free": (None, [c_void_p]),
    # state (duplicates, floods)
    "mf_state_create": (_status, [_pp, POINTER(StateOptions)]),
    "mf_state_destroy": (None, [c_void_p]),
    "mf_scanner_set_state": (_status, [c_void_p, c_void_p]),
    "mf_state_save": (_status, [c_void_p, c_char_p]),
    "mf_state_load": (_status, [c_void_p, c_char_p]),
    "mf_state_clear": (_status, [c_void_p]),
    "mf_state_stats": (_status, [c_void_p, POINTER(c_uint64), POINTER(c_uint64), POINTER(c_uint64)]),
    "mf_fingerprint_version": (c_uint32, []),
    "mf_fingerprint": (
        _status,
        [POINTER(c_uint64), POINTER(c_uint64), POINTER(c_uint32), c_char_p, c_size_t],
    ),
}


class LibraryNotFound(OSError):
    """libmodfilter could not be located or loaded; the message lists every place that was tried."""


def _candidates() -> Iterator[str]:
    """Where to look for the shared library, in order (see README: "Finding libmodfilter").
    A generator: find_library (which runs ldconfig) only runs when the loader's own search failed."""
    env = os.environ.get(ENV_VAR)
    if env:
        yield env  # explicit: only this one, so a typo is an error rather than a silent fallback
        return
    if sys.platform == "darwin":
        soname: Optional[str] = "libmodfilter.%d.dylib" % ABI_MAJOR
        plain = "libmodfilter.dylib"
    else:
        soname = "libmodfilter.so.%d" % ABI_MAJOR
        plain = "libmodfilter.so"
    # The installed library, through the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache).
    yield soname
    found = ctypes.util.find_library("modfilter")
    if found:
        yield found
    for prefix in dict.fromkeys((sys.prefix, "/usr/local")):
        yield str(Path(prefix) / "lib" / soname)
    # The build tree, when running from a checkout (bindings/python/src/modfilter -> repository root),
    # or the checkout recorded when the package was built from one (buildsys/modfilter_build.py).
    here = Path(__file__).resolve().parent
    roots = [here.parents[3]] if len(here.parents) > 3 else []
    try:
        from . import _buildinfo  # type: ignore[attr-defined]

        roots.append(Path(_buildinfo.SOURCE_ROOT))
    except ImportError:
        pass
    for root in dict.fromkeys(roots):
        for build in ("build", "build-py"):
            lib = root / build / "capi" / plain
            if lib.exists():
                yield str(lib)


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None


def lib() -> ctypes.CDLL:
    """The loaded library (loaded on first use, so ``import modfilter`` and ``help()`` never fail)."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    tried = []
    for cand in _candidates():
        try:
            candidate = ctypes.CDLL(cand)
        except OSError as exc:
            tried.append("%s (%s)" % (cand, exc))
            continue
        try:
            _declare(candidate)
        except AttributeError as exc:
            tried.append("%s (not a modfilter library: %s)" % (cand, exc))
            continue
        number = candidate.mf_version_number()
        if number < ABI_VERSION_MIN or number // 10000 != ABI_MAJOR:
            tried.append(
                "%s (version %s; this binding needs %d.x >= 0.1.0)"
                % (cand, candidate.mf_version().decode(), ABI_MAJOR)
            )
            continue
        _lib, _lib_path = candidate, cand
        return candidate
    raise LibraryNotFound(
        "libmodfilter not found. Build it (cmake -S . -B build && cmake --build build), install it "
        "(cmake --install build), or set %s to the library's path. Tried: %s"
        % (ENV_VAR, "; ".join(tried) if tried else "nothing")
    )


def lib_path() -> str:
    """The path (or name) the library was loaded from."""
    lib()
    assert _lib_path is not None
    return _lib_path
