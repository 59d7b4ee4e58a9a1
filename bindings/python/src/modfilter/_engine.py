"""Engine, Verdict and scanning (the heart of the binding)."""

from __future__ import annotations

import bisect
import ctypes
import json
import os
import re
import struct
import threading
import weakref
from ctypes import byref, c_char_p, c_double, c_int32, c_size_t, c_void_p
from typing import (
    Any,
    Literal,
    overload,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _native
from ._native import EngineOptions, Post
from ._types import (
    ERRORS,
    Action,
    Category,
    Diagnostic,
    Evasion,
    Hit,
    InvalidArgumentError,
    ModfilterError,
    PostTooLargeError,
    Role,
    RoleLike,
    RuleInfo,
    RulesError,
    Severity,
    Text,
)

PathLike = Union[str, "os.PathLike[str]"]
PostLike = Union[str, bytes, Mapping[str, Any]]

_ACTIONS = tuple(Action)
_SEVERITIES = {int(s): s for s in Severity}
_EVASION_BY_NAME = {(e.name or "").lower(): e for e in Evasion if e.name != "NONE"}  # as mf_evasion_name()
_ROLES: Dict[Any, int] = {"member": 0, "staff": 1, "MEMBER": 0, "STAFF": 1, 0: 0, 1: 1}
_CONTINUATION = bytes(range(0x80, 0xC0))
# Surrogates in a str: a high-low pair, or a lone one (a str holding "\\ud83d\\ude00" spells out the
# emoji as JSON does; the CLI reads the pair as the emoji and any other surrogate as one byte 0xFF).
_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")
_PAIRS = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_VERDICT_HITS_TRUNCATED = 0x2
_E_TOO_LARGE = PostTooLargeError.status
_VERDICT_INVALID_UTF8 = 0x1


def _raise(status: int, what: str = "") -> None:
    """Raises the exception for a failed call, with mf_last_error() of this thread."""
    lib = _native.lib()
    msg = (lib.mf_last_error() or b"").decode("utf-8", "replace")
    if not msg:
        msg = (lib.mf_status_str(status) or b"").decode("utf-8", "replace")
    if what:
        msg = "%s: %s" % (what, msg)
    raise ERRORS.get(status, ModfilterError)(msg, status)


def _role(role: RoleLike) -> int:
    try:
        return _ROLES[role]
    except (KeyError, TypeError):
        if isinstance(role, str) and role.lower() in _ROLES:
            return _ROLES[role.lower()]
        raise ValueError("author_role must be 'member', 'staff' or a modfilter.Role, not %r" % (role,)) from None


def _encode(text: Text) -> bytes:
    if isinstance(text, str):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # surrogates
            return _encode_surrogates(text)
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("a post is a str or bytes (or a dict with a 'text'), not %s" % type(text).__name__)


def _surrogate_sub(m: "re.Match[str]") -> str:
    s = m.group()
    if len(s) == 2:
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    return "\udcff"  # (encoded with surrogateescape: the byte 0xFF)


def _encode_surrogates(text: str) -> bytes:
    """UTF-8 for a str holding surrogates, read as the CLI reads the same JSON escapes: a high-low
    pair is the character it encodes (4 bytes for 2 str indices), any other surrogate is the single
    invalid byte 0xFF (1 byte for 1 index, counted once in invalid_utf8 and read as U+FFFD)."""
    return _SURROGATES.sub(_surrogate_sub, text).encode("utf-8", "surrogateescape")


def _str_index_map(text: str, data: bytes, offsets: Iterable[int]) -> Dict[int, int]:
    """:func:`_index_map` for a str: also counts two indices for a surrogate pair (one code point
    in ``data``)."""
    m = _index_map(data, offsets)
    if not _PAIRS.search(text):
        return m
    # The code point index in data of each pair: its str index less the pairs before it.
    pairs = [p.start() - j for j, p in enumerate(_PAIRS.finditer(text))]
    return {off: idx + bisect.bisect_left(pairs, idx) for off, idx in m.items()}


def _censored_str(text: str, raw: bytes) -> str:
    """The censored copy of ``text`` (a str holding surrogates) from the library's ``raw`` copy,
    which has one '*' per censored code point of the data: the surrogates are kept as passed
    (a pair is two indices, so a censored pair is two stars)."""
    got = raw.decode("utf-8", "surrogateescape")
    out = []
    pos = j = 0
    for m in _SURROGATES.finditer(text):
        plain = text[pos : m.start()]
        out.append(got[j : j + len(plain)])
        j += len(plain)
        s = m.group()
        out.append("*" * len(s) if got[j : j + 1] == "*" else s)
        j += 1
        pos = m.end()
    out.append(got[j:])
    return "".join(out)


def _index_map(data: bytes, offsets: Iterable[int]) -> Dict[int, int]:
    """Maps UTF-8 byte offsets in ``data`` to code-point indices (an offset inside a sequence counts
    the code point it is in as started)."""
    out: Dict[int, int] = {}
    prev = idx = 0
    for off in sorted(set(offsets)):
        idx += len(data[prev:off].translate(None, _CONTINUATION))
        out[off] = idx
        prev = off
    return out


class Verdict:
    """The result of scanning one post: what to do with it, and why.

    A verdict is an immutable Python object independent of the engine: keep it, pass it to another
    thread or process (it pickles), or turn it into JSON with :meth:`to_dict`.

    ``action``, ``text``, ``id`` and ``censored`` are plain attributes; the others are computed
    from the hits and categories on access (each access to ``categories`` returns a new dict).
    """

    __slots__ = ("action", "text", "id", "censored", "state", "_cats", "_hits", "_extra")

    #: The :class:`Action` to take with the post.
    action: Action
    #: The post that was scanned, as passed (``str`` or ``bytes``).
    text: Text
    #: The post's ``id``: given to :meth:`Engine.scan` (``id=``) or as the ``"id"`` of a dict post to :meth:`Engine.scan_many`; ``None`` otherwise.
    id: Any
    #: With ``censor=True``: the post with each character of each hit replaced by ``*``
    #: (``str`` or ``bytes`` like the post); ``None`` otherwise.
    censored: Optional[Text]
    #: With a :class:`State` attached to the engine: the state's evidence, as in the CLI's
    #: ``"state"`` object (``{"spam.duplicate": {"copies": 3, ...}, "notes": [...]}``); else ``None``.
    state: Optional[Dict[str, Any]]
    _cats: Tuple[Category, ...]
    _hits: Tuple[Hit, ...]
    _extra: Optional[Tuple[Evasion, int, bool]]  # evasion, invalid_utf8, hits_truncated; None: all 0

    @property
    def categories(self) -> Dict[str, float]:
        """``{category: score}`` for every category with a non-zero score (a new dict)."""
        return {c.name: c.score for c in self._cats}

    @property
    def category_details(self) -> Tuple[Category, ...]:
        """Every category with a non-zero score, with its own action and escalation route."""
        return self._cats

    @property
    def routes(self) -> List[str]:
        """Escalation routes ("legal", "hr", "pr", "support") of the categories, sorted, unique."""
        return sorted({c.route for c in self._cats if c.route})

    @property
    def hits(self) -> Tuple[Hit, ...]:
        """Every :class:`Hit` (rule, category, severity, score, start, end, evasion, text), in order
        of start offset. Offsets index the scanned object: ``verdict.text[h.start:h.end] == h.text``."""
        return self._hits

    @property
    def evasion(self) -> Evasion:
        """Evasion techniques seen in the hits (union of ``hit.evasion``)."""
        return self._extra[0] if self._extra else _EMPTY_EVASION

    @property
    def invalid_utf8(self) -> int:
        """Number of invalid UTF-8 sequences in the post (replaced by U+FFFD for matching)."""
        return self._extra[1] if self._extra else 0

    @property
    def hits_truncated(self) -> bool:
        """True when the post had more hits than the engine's ``max_hits``: only the first are
        listed in :attr:`hits`, but all of them count towards the scores."""
        return self._extra[2] if self._extra else False

    @property
    def flagged(self) -> bool:
        """True when the action is anything but ALLOW."""
        return self.action != Action.ALLOW

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict shaped like the CLI's output lines (offsets as in :attr:`hits`)."""
        d: Dict[str, Any] = {}
        if self.id is not None:
            d["id"] = self.id
        d["action"] = self.action.name
        d["categories"] = self.categories
        d["routes"] = self.routes
        d["hits"] = [
            {
                "rule": h.rule,
                "category": h.category,
                "severity": h.severity.name.lower(),
                "score": h.score,
                "start": h.start,
                "end": h.end,
                "evasion": _evasion_names(h.evasion),
                **({"quoted": True} if h.quoted else {}),
            }
            for h in self._hits
        ]
        d["evasion"] = _evasion_names(self.evasion)
        d["invalid_utf8"] = self.invalid_utf8
        d["hits_truncated"] = self.hits_truncated
        if self.censored is not None:
            c = self.censored
            d["censored"] = c if isinstance(c, str) else c.decode("utf-8", "replace")
        if self.state is not None:
            d["state"] = self.state
        return d

    def __repr__(self) -> str:
        parts = ["Verdict(action=%s" % self.action.name]
        if self.id is not None:
            parts.append("id=%r" % (self.id,))
        parts.append("categories=%r" % (self.categories,))
        parts.append("hits=%d)" % len(self._hits))
        return ", ".join(parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


def _evasion_names(bits: int) -> List[str]:
    return [n for n, e in _EVASION_BY_NAME.items() if bits & e]


_EMPTY_EVASION = Evasion(0)
_EVASIONS: Dict[int, Evasion] = {0: _EMPTY_EVASION}


def _evasion(bits: int) -> Evasion:
    e = _EVASIONS[bits] = Evasion(bits)  # Enum construction is slow: cache each combination
    return e


class _Names:
    """Caches the engine-owned strings (rule ids, categories, routes) by address: they live as long as
    the engine, so each is decoded once."""

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: Dict[int, str] = {}

    def get(self, addr: Optional[int]) -> str:
        if not addr:
            return ""
        s = self.cache.get(addr)
        if s is None:
            s = ctypes.string_at(addr).decode("utf-8", "replace")
            self.cache[addr] = s
        return s


class _EngineHandle:
    """Owns the mf_engine pointer; freed when the last user (Engine or a thread's scanner) is gone."""

    __slots__ = ("ptr", "lib", "names", "states", "__weakref__")

    def __init__(self, ptr: int, lib: ctypes.CDLL) -> None:
        self.ptr: Optional[int] = ptr
        self.lib = lib
        self.names = _Names()
        self.states: "weakref.WeakSet[_ThreadState]" = weakref.WeakSet()

    def close(self) -> None:
        for st in list(self.states):
            st.close()
        if self.ptr:
            self.lib.mf_engine_destroy(self.ptr)
            self.ptr = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


# mf_hit and mf_post as struct formats: struct's native alignment ("@") is the C compiler's, so
# one unpack_from / pack replaces 8 ctypes field accesses. Checked against ctypes' layout at import.
_HIT_STRUCT = struct.Struct("@IPPidNNII")  # mf_hit version 2
_H_START, _H_END = 5, 6
_POST_STRUCT = struct.Struct("@IPNiIPNPNPNqiI")  # mf_post version 2


def _check_layouts() -> None:
    h = _native.Hit(2, 0x1111, 0x2222, 3, 4.5, 6, 7, 8, 9)
    if ctypes.sizeof(h) < _HIT_STRUCT.size or _HIT_STRUCT.unpack_from(h) != (2, 0x1111, 0x2222, 3, 4.5, 6, 7, 8, 9):
        raise ImportError("modfilter: unexpected mf_hit layout on this platform")
    packed = _POST_STRUCT.pack(2, 0x3333, 5, 1, 1, 0x4444, 6, 0x5555, 7, 0x6666, 8, -9, 10, 1)
    p = Post.from_buffer_copy(packed.ljust(ctypes.sizeof(Post), b"\0"))
    if ctypes.sizeof(Post) != _POST_STRUCT.size or (
        p.version,
        c_void_p.from_buffer(p, Post.text.offset).value,  # (reading .text would dereference it)
        p.len,
        p.author_role,
        p.flags,
        c_void_p.from_buffer(p, Post.id.offset).value,
        p.id_len,
        c_void_p.from_buffer(p, Post.author_id.offset).value,
        p.author_id_len,
        c_void_p.from_buffer(p, Post.channel.offset).value,
        p.channel_len,
        p.ts_ms,
        p.author_age_days,
        p.edit,
    ) != (2, 0x3333, 5, 1, 1, 0x4444, 6, 0x5555, 7, 0x6666, 8, -9, 10, 1):
        raise ImportError("modfilter: unexpected mf_post layout on this platform")


_check_layouts()


class _ThreadState:
    """One thread's scanner, reusable verdicts and scratch structs for one engine."""

    __slots__ = (
        "handle",
        "scanner",
        "verdict",
        "batch",
        "batch_ptrs",
        "hit",
        "hit_ref",
        "post",
        "post_ref",
        "cat",
        "cat_refs",
        "len_out",
        "len_ref",
        "failed",
        "failed_ref",
        "attached",
        "attached_obj",
        "__weakref__",
    )

    def __init__(self, handle: _EngineHandle) -> None:
        lib = handle.lib
        self.handle = handle
        scanner = c_void_p()
        st = lib.mf_scanner_create(byref(scanner), handle.ptr)
        if st:
            _raise(st, "creating a scanner")
        self.scanner: Optional[int] = scanner.value
        self.batch: List[int] = []
        self.verdict: int = self._new_verdict()
        self.batch_ptrs = (c_void_p * 0)()
        # Output structs and their byref()s, made once: building a byref costs as much as a call.
        self.hit = _native.Hit(version=_native.HIT_VERSION)
        self.hit_ref = byref(self.hit)
        self.post = Post(version=_native.POST_VERSION)
        self.post_ref = byref(self.post)
        self.cat = (c_void_p(), c_double(), c_int32(), c_void_p())
        self.cat_refs = tuple(byref(x) for x in self.cat)
        self.len_out = c_size_t()
        self.len_ref = byref(self.len_out)
        self.failed = c_size_t()
        self.failed_ref = byref(self.failed)
        self.attached: Optional[int] = None  # the mf_state attached to this scanner
        # ... and its State, held while attached: a State replaced on the engine by another thread
        # is not freed under a scan that still uses it (it goes when this scanner takes the new one)
        self.attached_obj: Optional["State"] = None
        handle.states.add(self)

    def _new_verdict(self) -> int:
        v = c_void_p()
        st = self.handle.lib.mf_verdict_create(byref(v))
        if st:
            _raise(st, "creating a verdict")
        assert v.value is not None
        return v.value

    def batch_verdicts(self, n: int) -> Any:
        if len(self.batch) < n:
            while len(self.batch) < n:
                self.batch.append(self._new_verdict())
            self.batch_ptrs = (c_void_p * len(self.batch))(*self.batch)
        return self.batch_ptrs

    def close(self) -> None:
        lib = self.handle.lib
        if self.scanner:
            lib.mf_scanner_destroy(self.scanner)
            self.scanner = None
        for v in [self.verdict] + self.batch:
            if v:
                lib.mf_verdict_destroy(v)
        self.verdict = 0
        self.batch = []

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _options(
    rules_path: Optional[PathLike] = None,
    rules_text: Optional[Union[str, bytes]] = None,
    flag_threshold: Optional[float] = None,
    hold_threshold: Optional[float] = None,
    reject_threshold: Optional[float] = None,
    max_post_bytes: Optional[int] = None,
    max_hits: Optional[int] = None,
) -> Tuple[EngineOptions, List[Any]]:
    lib = _native.lib()
    opts = EngineOptions()
    st = lib.mf_engine_options_init(byref(opts), _native.ENGINE_OPTIONS_VERSION)
    if st:
        _raise(st, "initialising engine options")
    keep: List[Any] = []
    if rules_text is not None:
        raw = rules_text.encode("utf-8") if isinstance(rules_text, str) else bytes(rules_text)
        keep.append(raw)
        opts.rules_text = raw
        opts.rules_text_len = len(raw)
    elif rules_path is not None:
        raw = os.fsencode(rules_path)
        keep.append(raw)
        opts.rules_path = raw
    for name, value in (
        ("flag_threshold", flag_threshold),
        ("hold_threshold", hold_threshold),
        ("reject_threshold", reject_threshold),
    ):
        if value is not None:
            if value < 0:
                raise ValueError("%s must be >= 0, not %r" % (name, value))
            setattr(opts, name, float(value))
    if max_post_bytes is not None:
        if max_post_bytes <= 0:
            raise ValueError("max_post_bytes must be > 0, not %r" % (max_post_bytes,))
        opts.max_post_bytes = max_post_bytes
    if max_hits is not None:
        if max_hits <= 0:
            raise ValueError("max_hits must be > 0, not %r" % (max_hits,))
        opts.max_hits = max_hits
    return opts, keep


class Engine:
    """Compiled rule packs: create once, share between threads, scan many posts.

    ``Engine()`` uses the default packs built into the library. Other sources:
    :meth:`from_rules` (a ``.toml`` file or a directory of them), :meth:`from_text` (TOML in a string)
    and :meth:`load` / :meth:`from_bytes` (a database saved by :meth:`save` / :meth:`serialize`).

    Keyword options (all constructors):
        flag_threshold, hold_threshold, reject_threshold: global score thresholds, overriding the
            packs' policy (defaults 2, 4, 8).
        max_post_bytes: largest post accepted, in UTF-8 bytes (default 16 MiB);
            larger ones raise :class:`PostTooLargeError`.
        max_hits: most hits listed per post (default 1024); later hits still count towards scores.

    An engine is immutable and thread-safe: every thread that scans gets its own scanner (C scratch
    space) automatically, and the GIL is released while the C library scans, so a thread pool
    scales across cores. Use it as a context manager, or call :meth:`close`, to free it early; do
    not close it while another thread is scanning with it.

    Raises:
        RulesError: a rule pack has a mistake; the message says ``file:line: what``.
        ModfilterIOError (an OSError): the rules path cannot be read.
    """

    #: Posts per call to the C batch API in :meth:`scan_many`.
    batch_size = 128

    def __init__(
        self,
        rules: Optional[PathLike] = None,
        *,
        text: Optional[Union[str, bytes]] = None,
        flag_threshold: Optional[float] = None,
        hold_threshold: Optional[float] = None,
        reject_threshold: Optional[float] = None,
        max_post_bytes: Optional[int] = None,
        max_hits: Optional[int] = None,
    ) -> None:
        """Compiles rule packs: ``rules`` is a ``.toml`` file or a directory (searched recursively),
        ``text`` a rule pack's TOML; neither means the library's default packs."""
        opts, keep = _options(
            rules, text, flag_threshold, hold_threshold, reject_threshold, max_post_bytes, max_hits
        )
        lib = _native.lib()
        ptr = c_void_p()
        st = lib.mf_engine_create(byref(ptr), byref(opts))
        del keep
        if st:
            _raise(st)
        self._init(ptr.value, lib)

    def _init(self, ptr: Optional[int], lib: ctypes.CDLL) -> None:
        assert ptr
        self._handle = _EngineHandle(ptr, lib)
        self._local = threading.local()

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_rules(cls, path: PathLike, **options: Any) -> "Engine":
        """Compiles the rule packs in ``path``: a ``.toml`` file or a directory searched recursively
        for ``*.toml`` (loaded in sorted path order). See :class:`Engine` for ``options``."""
        return cls(path, **options)

    @classmethod
    def from_text(cls, toml: Union[str, bytes], **options: Any) -> "Engine":
        """Compiles one rule pack given as TOML text. Error messages name it ``<rules_text>``-like,
        with the line number inside ``toml``."""
        return cls(text=toml, **options)

    @classmethod
    def from_bytes(cls, data: bytes, **options: Any) -> "Engine":
        """Loads an engine from :meth:`serialize` output (thresholds and limits may be overridden).

        Raises:
            BadDatabaseError: ``data`` is not a modfilter database or is corrupt.
            DatabaseMismatchError: it was built by another library version or platform.
        """
        opts, keep = _options(None, None, **options)
        lib = _native.lib()
        data = bytes(data)
        ptr = c_void_p()
        st = lib.mf_engine_deserialize(byref(ptr), data, len(data), byref(opts))
        del keep
        if st:
            _raise(st)
        self = cls.__new__(cls)
        self._init(ptr.value, lib)
        return self

    @classmethod
    def load(cls, path: PathLike, **options: Any) -> "Engine":
        """Loads an engine saved with :meth:`save` (``modfilter compile`` files too)."""
        with open(path, "rb") as f:
            data = f.read()
        try:
            return cls.from_bytes(data, **options)
        except ModfilterError as exc:
            raise type(exc)("%s: %s" % (os.fspath(path), exc.message), exc.status) from None

    def serialize(self) -> bytes:
        """The compiled engine as bytes, for :meth:`from_bytes` (same library version and platform)."""
        lib = self._handle.lib
        buf = c_void_p()
        n = c_size_t()
        st = lib.mf_engine_serialize(byref(buf), byref(n), self._ptr())
        if st:
            _raise(st)
        try:
            return ctypes.string_at(buf.value or 0, n.value) if n.value else b""
        finally:
            lib.mf_free(buf)

    def save(self, path: PathLike) -> None:
        """Writes :meth:`serialize` to ``path``; :meth:`load` reads it back without compiling."""
        data = self.serialize()
        with open(path, "wb") as f:
            f.write(data)

    # ------------------------------------------------------------------ lifetime

    def _ptr(self) -> int:
        ptr = self._handle.ptr
        if not ptr:
            raise ValueError("the engine is closed")
        return ptr

    def close(self) -> None:
        """Frees the engine and every thread's scanner now (otherwise done by the garbage collector).
        Must not run while another thread is scanning with this engine."""
        self._handle.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return not self._handle.ptr

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<modfilter.Engine closed>"
        return "<modfilter.Engine with %d rules>" % self.rule_count

    # ------------------------------------------------------------------ introspection

    @property
    def rule_count(self) -> int:
        """Number of rules compiled into the engine."""
        return int(self._handle.lib.mf_engine_rule_count(self._ptr()))

    @property
    def rules(self) -> List[RuleInfo]:
        """Every compiled rule as :class:`RuleInfo` (id, category, severity, score)."""
        lib = self._handle.lib
        ptr = self._ptr()
        out = []
        rid, cat, sev, score = c_char_p(), c_char_p(), c_int32(), c_double()
        for i in range(lib.mf_engine_rule_count(ptr)):
            st = lib.mf_engine_rule(ptr, i, byref(rid), byref(cat), byref(sev), byref(score))
            if st:
                _raise(st)
            out.append(
                RuleInfo(
                    (rid.value or b"").decode(),
                    (cat.value or b"").decode(),
                    _SEVERITIES.get(sev.value, sev.value),  # type: ignore[arg-type]
                    score.value,
                )
            )
        return out

    # ------------------------------------------------------------------ scanning

    def _state(self) -> _ThreadState:
        st = getattr(self._local, "state", None)
        if st is None or not st.scanner:
            self._ptr()
            st = self._local.state = _ThreadState(self._handle)
        obj = self._state_obj  # (read once: another thread may set engine.state meanwhile)
        want = obj._ptr() if obj is not None else None
        if st.attached != want:
            status = self._handle.lib.mf_scanner_set_state(st.scanner, want)
            if status:
                _raise(status, "attaching the state")
            st.attached = want
            st.attached_obj = obj
        return st

    # ------------------------------------------------------------------ state

    _state_obj: Optional["State"] = None

    @property
    def state(self) -> Optional["State"]:
        """The :class:`State` scans remember posts in (duplicates, floods), or ``None``.

        Set it to a :class:`State` to turn on ``spam.duplicate``, ``spam.flood`` and
        ``spam.new-account-links`` (thresholds from the packs' ``[state]`` policy), ``None`` to turn
        them off. One state may be shared by several engines and threads. Pass who, where and
        when to :meth:`scan` (``id``, ``author``, ``channel``, ``ts``, ``age_days``, ``edit``) or in
        :meth:`scan_many`'s dicts."""
        return self._state_obj

    @state.setter
    def state(self, value: Optional["State"]) -> None:
        if value is not None and not isinstance(value, State):
            raise TypeError("Engine.state must be a modfilter.State or None")
        self._state_obj = value

    def scan(
        self,
        text: Text,
        author_role: RoleLike = "member",
        *,
        censor: bool = False,
        id: Any = None,
        author: Optional[Union[str, int]] = None,
        channel: Optional[Union[str, int]] = None,
        ts: Optional[float] = None,
        age_days: Optional[int] = None,
        edit: bool = False,
    ) -> Verdict:
        """Scans one post and returns its :class:`Verdict`.

        Args:
            text: the post, ``str`` (offsets in the verdict are ``str`` indices) or ``bytes``
                (UTF-8; offsets are byte offsets; invalid bytes are tolerated and counted). In a
                ``str``, a surrogate pair is the character it encodes and a lone surrogate one
                invalid byte (counted once), as the CLI reads the same JSON escapes.
            author_role: ``"member"`` (default) or ``"staff"``, or a :class:`Role`.
            censor: also produce ``verdict.censored``, the post with every hit starred out.
            id, author, channel: the post's id, its author's id and where it was posted (str or
                int); read only with a :attr:`state`. ``id`` is copied to ``verdict.id``.
            ts: when it was posted, seconds since 1970 (default: now); age_days: the author's
                account age in days; edit: a new version of the earlier post with the same id.

        Raises:
            PostTooLargeError: the post is larger than the engine's ``max_post_bytes``.
            InvalidArgumentError: a negative ``ts`` or ``age_days``.
        """
        data = _encode(text)
        role = _ROLES.get(author_role)
        if role is None:
            role = _role(author_role)
        state = self._state()
        lib = self._handle.lib
        v = state.verdict
        if id is not None or author is not None or channel is not None or ts is not None or age_days is not None or edit:
            meta = _meta(id, author, channel, ts, age_days, edit)
            packed = _pack_post(data, role, _native.SCAN_CENSOR if censor else 0, meta)
            status = lib.mf_scan(state.scanner, v, byref(packed[0]))
            if status:
                _raise(status)
            return _read(state, v, text, data, id, censor)
        if censor:
            post = state.post
            post.text = data
            post.len = len(data)
            post.author_role = role
            post.flags = _native.SCAN_CENSOR
            status = lib.mf_scan(state.scanner, v, state.post_ref)
            post.text = None
        else:
            status = lib.mf_scan_text(state.scanner, v, data, len(data), role)
        if status:
            _raise(status)
        return _read(state, v, text, data, None, censor)

    @overload
    def scan_many(
        self,
        posts: Iterable[PostLike],
        author_role: RoleLike = ...,
        *,
        censor: bool = ...,
        batch_size: Optional[int] = ...,
        on_error: Literal["raise"] = ...,
    ) -> Iterator[Verdict]: ...

    @overload
    def scan_many(
        self,
        posts: Iterable[PostLike],
        author_role: RoleLike = ...,
        *,
        censor: bool = ...,
        batch_size: Optional[int] = ...,
        on_error: Literal["yield"],
    ) -> Iterator[Union[Verdict, ModfilterError]]: ...

    def scan_many(
        self,
        posts: Iterable[PostLike],
        author_role: RoleLike = "member",
        *,
        censor: bool = False,
        batch_size: Optional[int] = None,
        on_error: str = "raise",
    ) -> Iterator[Any]:
        """Scans many posts, yielding one :class:`Verdict` per post, in input order.

        ``posts`` is any iterable (a list, a generator, lines being read...) of:
          - ``str`` or ``bytes``: the text, scanned with ``author_role``;
          - a dict shaped like the CLI's JSON lines: ``{"id": ..., "text": "...",
            "author": {"role": "staff"}}`` (``"author_role": "staff"`` is accepted too); the id is
            copied to ``verdict.id``; a dict without a role is scanned with ``author_role``.

        Posts go to the C library ``batch_size`` at a time (default :attr:`batch_size`) in one
        ``mf_scan_batch`` call, with the GIL released. The iterator is lazy: it reads one batch
        ahead, so an endless stream works.

        ``on_error`` says what happens when the library refuses a post (too large for
        ``max_post_bytes``): ``"raise"`` (default) yields the verdicts before it, then raises the
        error; ``"yield"`` yields the exception object in the post's place and goes on, like the
        CLI's error lines. Either way the error's ``index`` attribute is the post's position
        (and ``id`` its ``"id"``). A post that cannot be scanned (not str, bytes or a dict with a
        str or bytes "text"; a bad author, role or ts) is handled the same way: ``"raise"`` raises
        its TypeError or ValueError after the verdicts before it; ``"yield"`` yields an
        :class:`InvalidArgumentError` in its place (the original error as ``__cause__``).
        """
        if on_error not in ("raise", "yield"):
            raise ValueError("on_error must be 'raise' or 'yield', not %r" % (on_error,))
        n = int(batch_size or self.batch_size)
        if n <= 0:
            raise ValueError("batch_size must be > 0")
        default_role = _role(author_role)
        flags = _native.SCAN_CENSOR if censor else 0
        it = iter(posts)
        base_index = 0
        while True:
            chunk: List[Tuple[Text, Any, int, Any]] = []
            bad: Optional[Tuple[Exception, Any]] = None  # a post that cannot be scanned ends the chunk
            for post in it:
                try:
                    if isinstance(post, (str, bytes)):
                        chunk.append((post, None, default_role, None))
                    elif isinstance(post, Mapping):
                        chunk.append(_from_mapping(post, default_role))
                    else:
                        chunk.append((_check_text(post), None, default_role, None))
                except (TypeError, ValueError, OverflowError) as exc:
                    bad = (exc, post.get("id") if isinstance(post, Mapping) else None)
                    break
                if len(chunk) >= n:
                    break
            if not chunk and bad is None:
                return
            start = 0
            while start < len(chunk):
                out, err = self._scan_chunk(chunk[start:], flags, censor, base_index + start)
                yield from out
                if err is None:
                    break
                if on_error == "raise":
                    raise err
                yield err
                start += len(out) + 1
            base_index += len(chunk)
            if bad is not None:
                err = _post_error(bad[0], base_index, bad[1], on_error == "yield")
                if on_error == "raise":
                    raise err
                yield err
                base_index += 1

    def _scan_chunk(
        self, chunk: Sequence[Tuple[Text, Any, int, Any]], flags: int, censor: bool, base_index: int
    ) -> Tuple[List[Verdict], Optional[ModfilterError]]:
        """Scans chunk with one mf_scan_batch; returns the verdicts up to the first failing post and
        that post's error (None when all succeeded)."""
        state = self._state()
        lib = self._handle.lib
        try:
            datas = [t.encode("utf-8") if type(t) is str else _encode(t) for t, _, _, _ in chunk]
        except UnicodeEncodeError:  # a str with surrogates
            datas = [_encode(t) for t, _, _, _ in chunk]
        # Texts and the id, author and channel strings in one buffer, addressed by offset.
        strings = list(datas)
        for _, _, _, meta in chunk:
            if meta is not None:
                strings.extend(meta[:3])
        joined = b"".join(strings)
        addr = ctypes.cast(joined, c_void_p).value or 0  # type: ignore[arg-type]  # (bytes works)
        pack = _POST_STRUCT.pack
        parts = []
        off = 0
        for d in datas:
            off += len(d)
        meta_off = off
        off = 0
        for (_, _, role, meta), d in zip(chunk, datas):
            ln = len(d)
            if meta is None:
                parts.append(pack(_native.POST_VERSION, addr + off, ln, role, flags, 0, 0, 0, 0, 0, 0, 0, -1, 0))
            else:
                pid, aid, chan, ts_ms, age, ed = meta
                a0 = addr + meta_off
                a1 = a0 + len(pid)
                a2 = a1 + len(aid)
                meta_off += len(pid) + len(aid) + len(chan)
                parts.append(pack(_native.POST_VERSION, addr + off, ln, role, flags,
                                  a0 if pid else 0, len(pid), a1 if aid else 0, len(aid),
                                  a2 if chan else 0, len(chan), ts_ms, age, ed))
            off += ln
        packed = b"".join(parts)
        count = len(chunk)
        verdicts = state.batch_verdicts(count)
        failed = state.failed
        failed.value = count
        status = lib.mf_scan_batch(state.scanner, verdicts, packed, count, state.failed_ref)
        done = failed.value if status else count
        batch = state.batch
        out = [_read(state, batch[i], chunk[i][0], datas[i], chunk[i][1], censor) for i in range(done)]
        if not status:
            return out, None
        msg = (lib.mf_last_error() or b"").decode("utf-8", "replace")
        pid = chunk[done][1] if done < count else None
        index = base_index + done
        err = ERRORS.get(status, ModfilterError)(
            "post %d%s: %s" % (index, " (id %r)" % (pid,) if pid is not None else "", msg), status
        )
        err.index = index
        err.id = pid
        # Only a post the library refuses (too large) is that post's error, to yield and skip past.
        # Anything else (busy, out of memory, a bug) is raised: mf_scan_batch also reports
        # *failed_index = 0 for failures that are not tied to any post.
        if status != _E_TOO_LARGE or done >= count:
            raise err
        return out, err


def _post_error(exc: Exception, index: int, pid: Any, as_modfilter_error: bool) -> Exception:
    """The error for a post that cannot be scanned (the wrong type, no "text", a bad role...), with
    the post's ``index`` and ``id`` like the library's per-post errors. ``as_modfilter_error``: an
    :class:`InvalidArgumentError` (what ``on_error="yield"`` yields; ``exc`` is its ``__cause__``);
    otherwise ``exc`` itself (a TypeError or ValueError), its message prefixed the same way."""
    msg = "post %d%s: %s" % (index, " (id %r)" % (pid,) if pid is not None else "", exc)
    if as_modfilter_error and not isinstance(exc, ModfilterError):
        err: Exception = InvalidArgumentError(msg, InvalidArgumentError.status)
        err.__cause__ = exc
    else:
        err = exc
        err.args = (msg,)
        if isinstance(err, ModfilterError):
            err.message = msg
    err.index = index  # type: ignore[attr-defined]
    err.id = pid  # type: ignore[attr-defined]
    return err


def _check_text(post: Any, field: Optional[str] = None) -> Text:
    """A post's text as str or bytes; ``field`` names where it came from (a dict post's 'text')."""
    if isinstance(post, (str, bytes, bytearray, memoryview)):
        return post if isinstance(post, (str, bytes)) else bytes(post)
    if field:
        raise TypeError("%s must be a str or bytes, not %s" % (field, type(post).__name__))
    raise TypeError("a post is a str, bytes or a dict with a 'text', not %s" % type(post).__name__)


def _name(value: Any, what: str) -> bytes:
    """An id, author id or channel as bytes (str and int; None as empty)."""
    if value is None:
        return b""
    if isinstance(value, bool) or not isinstance(value, (str, int, bytes)):
        raise TypeError("%s must be a str or an int, not %s" % (what, type(value).__name__))
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def _meta(pid: Any, author: Any, channel: Any, ts: Any, age_days: Any, edit: Any) -> Tuple[bytes, bytes, bytes, int, int, int]:
    """Who, where and when, checked, as mf_post version 2 fields."""
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float)) or not ts >= 0):
        raise InvalidArgumentError("ts must be seconds since 1970 (a number from 0), not %r" % (ts,), -1)
    if ts is not None and ts >= 1e11:  # (year 5138: milliseconds, as time.time() * 1000 or Date.now() give them)
        raise InvalidArgumentError("ts must be seconds since 1970, not milliseconds (divide by 1000): %r" % (ts,), -1)
    if age_days is not None and (isinstance(age_days, bool) or not isinstance(age_days, (int, float)) or not 0 <= age_days < 1e6):
        raise InvalidArgumentError("age_days must be a number of days from 0 to 999999 (as the CLI reads it), not %r" % (age_days,), -1)
    if not isinstance(edit, bool):
        raise InvalidArgumentError("edit must be True or False, not %r" % (edit,), -1)
    return (
        _name(pid, "id"),
        _name(author, "author id"),
        _name(channel, "channel"),
        int(ts * 1000) if ts is not None else 0,
        int(age_days) if age_days is not None else _native.AGE_UNKNOWN,
        _native.POST_EDIT if edit else 0,
    )


def _pack_post(data: bytes, role: int, flags: int, meta: Tuple[bytes, bytes, bytes, int, int, int]) -> Tuple[Any, bytes]:
    """One mf_post (version 2) in a buffer; returns (buffer, the bytes it points into)."""
    pid, aid, chan, ts_ms, age, ed = meta
    joined = data + pid + aid + chan
    addr = ctypes.cast(joined, c_void_p).value or 0  # type: ignore[arg-type]
    a0 = addr + len(data)
    a1 = a0 + len(pid)
    a2 = a1 + len(aid)
    raw = _POST_STRUCT.pack(_native.POST_VERSION, addr, len(data), role, flags, a0 if pid else 0, len(pid),
                            a1 if aid else 0, len(aid), a2 if chan else 0, len(chan), ts_ms, age, ed)
    return Post.from_buffer_copy(raw), joined


def _from_mapping(post: Mapping[str, Any], default_role: int) -> Tuple[Text, Any, int, Any]:
    try:
        text = post["text"]
    except KeyError:
        raise ValueError("a dict post needs a 'text' key: %r" % (dict(post),)) from None
    role = default_role
    author = post.get("author")
    if author is not None and not isinstance(author, Mapping):
        # (as the CLI: a role or an id written where the author object belongs is a mistake, not a member)
        raise ValueError("a dict post's 'author' must be a dict like {'id': ..., 'role': ..., 'age_days': ...}, not %r"
                         % (author,))
    r = None
    if isinstance(author, Mapping):
        r = author.get("role")
    if r is None:
        r = post.get("author_role")
    if r is not None:
        role = _role(r)
    meta = None
    aid = author.get("id") if isinstance(author, Mapping) else None
    age = author.get("age_days") if isinstance(author, Mapping) else None
    if aid is not None or age is not None or any(k in post for k in ("ts", "channel", "edit")) or post.get("id") is not None:
        meta = _meta(post.get("id"), aid, post.get("channel"), post.get("ts"), age, post.get("edit", False))
    return _check_text(text, "a dict post's 'text'"), post.get("id"), role, meta


_new_verdict = object.__new__
_tuple_new = tuple.__new__


def _read(state: _ThreadState, v: int, text: Text, data: bytes, pid: Any, censor: bool) -> Verdict:
    """Copies C verdict ``v`` into a new Verdict (the C one is reused by the next scan)."""
    lib = state.handle.lib
    out = _new_verdict(Verdict)
    out.action = _ACTIONS[lib.mf_verdict_action(v)]
    out.text = text
    out.id = pid
    out.state = None
    if state.attached:
        j = lib.mf_verdict_json(v, None)
        if j:
            out.state = json.loads(j.decode("utf-8", "replace")).get("state")
    if censor:
        p = lib.mf_verdict_censored(v, state.len_ref)
        raw = ctypes.string_at(p, state.len_out.value) if p else b""
        if not isinstance(text, str):
            out.censored = raw
        else:
            try:
                out.censored = raw.decode("utf-8")
            except UnicodeDecodeError:  # a lone surrogate's byte 0xFF
                out.censored = None
            if out.censored is None or len(out.censored) != len(text):  # surrogates
                out.censored = _censored_str(text, raw)
    else:
        out.censored = None
    nhits = lib.mf_verdict_hit_count(v)
    flags = lib.mf_verdict_flags(v)
    if not flags and not nhits and not (out.state and len(out.state) > 1):  # the common case: nothing found
        out._cats = out._hits = ()
        out._extra = None
        return out
    ev = lib.mf_verdict_evasion(v)
    out._extra = (
        _EVASIONS.get(ev) or _evasion(ev),
        lib.mf_verdict_invalid_utf8_count(v) if flags & _VERDICT_INVALID_UTF8 else 0,
        bool(flags & _VERDICT_HITS_TRUNCATED),
    )
    names = state.handle.names
    get = names.cache.get
    # categories
    cat_fn = lib.mf_verdict_category
    name, score, action, route = state.cat
    refs = state.cat_refs
    cats = []
    for i in range(lib.mf_verdict_category_count(v)):
        st = cat_fn(v, i, *refs)
        if st:
            _raise(st)
        n_addr, r_addr = name.value or 0, route.value or 0
        cats.append(
            _tuple_new(
                Category,
                (
                    get(n_addr) or names.get(n_addr),
                    score.value,
                    _ACTIONS[action.value],
                    (get(r_addr) or names.get(r_addr)) if r_addr else "",
                ),
            )
        )
    out._cats = tuple(cats)
    # hits
    if not nhits:
        out._hits = ()
        return out
    hit_fn = lib.mf_verdict_hit
    href = state.hit_ref
    unpack = _HIT_STRUCT.unpack_from
    h = state.hit
    raw_hits = []
    for i in range(nhits):
        st = hit_fn(v, i, href)
        if st:
            _raise(st)
        raw_hits.append(unpack(h))
    m = None
    if isinstance(text, str) and len(data) != len(text):  # non-ASCII: UTF-8 offsets -> str indices
        m = _str_index_map(text, data, [x for r in raw_hits for x in (r[_H_START], r[_H_END])])
    hits = []
    for _ver, rule, cat, sev, sc, start, end, ev, fl in raw_hits:
        if m is not None:
            start, end = m[start], m[end]
        hits.append(
            _tuple_new(
                Hit,
                (
                    get(rule) or names.get(rule),
                    get(cat) or names.get(cat),
                    _SEVERITIES.get(sev, sev),
                    sc,
                    start,
                    end,
                    _EVASIONS.get(ev) or _evasion(ev),
                    text[start:end],
                    bool(fl & _native.HIT_QUOTED),
                ),
            )
        )
    out._hits = tuple(hits)
    return out


class State:
    """What scans remember between posts: duplicates, floods and young accounts' links.

    Attach it to an engine (``engine.state = State()``) and give posts their ``id``, ``author``,
    ``channel``, ``ts`` (seconds since 1970), ``age_days`` and ``edit``: verdicts then carry
    ``spam.duplicate``, ``spam.flood`` and ``spam.new-account-links`` with their evidence in
    ``verdict.state``. The state keeps a fixed memory budget (default 64 MiB; the least recently seen
    entries go first), is shared safely by threads and engines, and saves to a file. A State
    replaced on an engine (``engine.state = other``) stays alive until each thread that scanned with
    it scans again (or the engine is closed); :meth:`close` frees it at once, so detach it from every
    engine and let scans finish first.

    Raises (load):
        StateCorruptError: the file is truncated or corrupt; StateVersionError: another format or
        fingerprint version wrote it; ModfilterIOError (an OSError): it cannot be read.
    """

    def __init__(self, memory_budget: Optional[int] = None) -> None:
        lib = _native.lib()
        budget = int(memory_budget or 0)
        if not 0 <= budget < 1 << 64:
            raise ValueError(f"memory_budget must be a number of bytes from 0 (the default) to 2**64 - 1, not {memory_budget}")
        opts = _native.StateOptions(_native.STATE_OPTIONS_VERSION, budget)
        ptr = c_void_p()
        st = lib.mf_state_create(byref(ptr), byref(opts))
        if st:
            _raise(st)
        self._lib = lib
        self._p: Optional[int] = ptr.value

    @classmethod
    def load(cls, path: PathLike, memory_budget: Optional[int] = None) -> "State":
        """A state read from a file written by :meth:`save`."""
        s = cls(memory_budget)
        s.load_into(path)
        return s

    def load_into(self, path: PathLike) -> None:
        """Replaces this state's contents with a saved file (unchanged when that fails)."""
        st = self._lib.mf_state_load(self._ptr(), os.fsencode(path))
        if st:
            _raise(st)

    def save(self, path: PathLike) -> None:
        """Writes the state to ``path`` (through a temporary file and a rename)."""
        st = self._lib.mf_state_save(self._ptr(), os.fsencode(path))
        if st:
            _raise(st)

    def clear(self) -> None:
        """Forgets everything."""
        st = self._lib.mf_state_clear(self._ptr())
        if st:
            _raise(st)

    def stats(self) -> Dict[str, int]:
        """``{"memory_used": bytes, "memory_budget": bytes, "entries": n}``."""
        used, budget, entries = ctypes.c_uint64(), ctypes.c_uint64(), ctypes.c_uint64()
        st = self._lib.mf_state_stats(self._ptr(), byref(used), byref(budget), byref(entries))
        if st:
            _raise(st)
        return {"memory_used": used.value, "memory_budget": budget.value, "entries": entries.value}

    def _ptr(self) -> int:
        if not self._p:
            raise ValueError("this State is closed")
        return self._p

    def close(self) -> None:
        """Frees the state. Detach it from engines first (``engine.state = None``)."""
        if self._p:
            self._lib.mf_state_destroy(self._p)
            self._p = None

    def __enter__(self) -> "State":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def fingerprint(text: Text) -> Tuple[int, int, int]:
    """``(exact, near, words)``: the fingerprints a :class:`State` keeps of a text (a 64-bit xxHash
    of its normalized words, a 64-bit SimHash) and its number of words outside quotes."""
    data = _encode(text)
    lib = _native.lib()
    exact, near, words = ctypes.c_uint64(), ctypes.c_uint64(), ctypes.c_uint32()
    st = lib.mf_fingerprint(byref(exact), byref(near), byref(words), data, len(data))
    if st:
        _raise(st)
    return exact.value, near.value, words.value


def check_rules(path: Optional[PathLike] = None) -> List[Diagnostic]:
    """Lints rule packs without building an engine: parses every file, compiles every pattern and
    runs every rule's ``match`` / ``no_match`` examples (like ``modfilter check-rules``).

    ``path`` is a ``.toml`` file or a directory; ``None`` checks the library's default packs.
    Returns the list of mistakes (empty when the packs are fine).
    """
    lib = _native.lib()
    found: List[Diagnostic] = []

    def on_diag(file: Optional[bytes], line: int, message: Optional[bytes], payload: Any) -> None:
        found.append(
            Diagnostic(
                (file or b"").decode("utf-8", "replace"),
                int(line),
                (message or b"").decode("utf-8", "replace"),
            )
        )

    cb = _native.DIAGNOSTIC_CB(on_diag)
    n = c_size_t()
    raw = os.fsencode(path) if path is not None else None
    st = lib.mf_rules_check(byref(n), raw, cb, None)
    if st and st != RulesError.status:  # MF_E_RULES: the mistakes are in `found`
        _raise(st)
    return found



def library_version() -> str:
    """The version of the loaded libmodfilter ("major.minor.patch")."""
    return (_native.lib().mf_version() or b"").decode()


def library_path() -> str:
    """Where libmodfilter was loaded from (see the README's "Finding libmodfilter")."""
    return _native.lib_path()
