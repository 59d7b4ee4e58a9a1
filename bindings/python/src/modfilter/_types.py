"""Enums, exceptions and small value types of the public API."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple, Optional, Union


class _Named:
    """str() and format() give the name ("FLAG"), as before Python 3.11 changed IntEnum's str()."""

    name: str

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)


class Action(_Named, enum.IntEnum):
    """What to do with a post, in increasing order of severity (so ``action >= Action.HOLD`` works)."""

    ALLOW = 0  #: publish
    FLAG = 1  #: publish, tell moderators
    HOLD = 2  #: queue for human review before publishing
    REJECT = 3  #: do not publish


class Role(_Named, enum.IntEnum):
    """The author's role. Promise rules usually apply to staff; abuse and spam rules to everyone."""

    MEMBER = 0  #: a customer or community member
    STAFF = 1  #: an employee or community manager speaking for the company


class Severity(_Named, enum.IntEnum):
    """Severity of a rule and of its hits."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class Evasion(enum.IntFlag):
    """Evasion techniques seen in the text of hits (a set of flags)."""

    NONE = 0
    COMPAT = 0x01  #: fullwidth, mathematical, circled, ligature... letters
    CONFUSABLE = 0x02  #: look-alike letters from another script
    INVISIBLE = 0x04  #: zero-width, soft hyphen, bidi controls, variation selectors
    COMBINING = 0x08  #: combining marks stacked on letters
    LEET = 0x10  #: digits or symbols standing for letters
    SEPARATORS = 0x20  #: letters spaced out or split by punctuation
    REPEATS = 0x40  #: letters repeated to stretch a word
    MIXED_SCRIPT = 0x80  #: one word written in letters of two scripts


RoleLike = Union[Role, str, int]
"""An author role: ``Role.STAFF``, ``"staff"`` / ``"member"``, or the C constant (0 or 1)."""

Text = Union[str, bytes]
"""A post's text. ``str`` is encoded as UTF-8; ``bytes`` is passed as is (invalid UTF-8 tolerated)."""


class Hit(NamedTuple):
    """One match of one rule in a post.

    ``start`` and ``end`` are a half-open span ``[start, end)`` in the object that was scanned: indices
    into the ``str`` for a ``str`` post (so ``post[hit.start:hit.end] == hit.text``), byte offsets for a
    ``bytes`` post.
    """

    rule: str  #: the rule's id, e.g. ``"threat.kill-you"``
    category: str  #: dotted category, e.g. ``"abuse.threat"``
    severity: Severity
    score: float  #: the rule's score
    start: int  #: first index of the match
    end: int  #: index just past the match
    evasion: Evasion  #: evasion techniques seen inside the span
    text: Text  #: ``post[start:end]``
    #: the span lies in text the post quotes ("> " lines, [quote], <blockquote>): its rule counted
    #: for the policy's ``quoted_weight`` of its score if none of its hits was outside a quote
    quoted: bool = False


class Category(NamedTuple):
    """A category with a non-zero score in a verdict."""

    name: str  #: dotted name, e.g. ``"abuse.harassment"``
    score: float  #: summed score of the distinct rules that hit
    action: Action  #: the action this category's score alone reaches
    route: str  #: escalation route: ``"legal"``, ``"hr"``, ``"pr"``, ``"support"`` or ``""``


class RuleInfo(NamedTuple):
    """A rule compiled into an engine (see :attr:`Engine.rules`)."""

    id: str
    category: str
    severity: Severity
    score: float


class Diagnostic(NamedTuple):
    """A mistake found in a rule pack by :func:`check_rules`."""

    file: str
    line: int  #: 1-based; 0 when unknown
    message: str

    def __str__(self) -> str:
        return "%s:%d: %s" % (self.file, self.line, self.message) if self.line else "%s: %s" % (
            self.file,
            self.message,
        )


# ---------------------------------------------------------------------------------------------------
# Exceptions: one class per MF_E_* status code, all deriving from ModfilterError.


class ModfilterError(Exception):
    """Base class of every error raised by modfilter.

    ``status`` is the C status code (``MF_E_*``, negative), ``message`` the library's explanation
    (``mf_last_error()``). Branch on the class or on ``status``, never on the message.
    """

    status: int = -99
    #: In :meth:`Engine.scan_many`: the position of the post that failed, and its ``"id"``.
    index: Optional[int] = None
    id: Any = None

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgumentError(ModfilterError, ValueError):
    """MF_E_INVALID_ARG: a value the library refused (for example an out-of-range option)."""

    status = -1


class OutOfMemoryError(ModfilterError, MemoryError):
    """MF_E_NOMEM: an allocation failed inside the library."""

    status = -2


class RulesError(ModfilterError):
    """MF_E_RULES: a rule pack is wrong. The message starts with ``file:line:``."""

    status = -3


class ModfilterIOError(ModfilterError, OSError):
    """MF_E_IO: a file (a rule pack, a compiled database, a state file) or a directory could not be
    read or written."""

    status = -4


# The name this error had when only rule packs were read: the same class, so that code catching it
# goes on catching every MF_E_IO.
RulesIOError = ModfilterIOError


class VersionError(ModfilterError):
    """MF_E_VERSION: the library does not know a struct version this binding sent (upgrade it)."""

    status = -5


class BadDatabaseError(ModfilterError):
    """MF_E_BAD_DATABASE: a compiled database is corrupt or not a modfilter database."""

    status = -6


class DatabaseMismatchError(ModfilterError):
    """MF_E_DB_MISMATCH: a compiled database was built by another version or platform: rebuild it."""

    status = -7


class PostTooLargeError(ModfilterError, ValueError):
    """MF_E_TOO_LARGE: a post is larger than the engine's ``max_post_bytes``.

    In :meth:`Engine.scan_many`, ``index`` is the position of the offending post in the input.
    """

    status = -8


class BusyError(ModfilterError):
    """MF_E_BUSY: a scanner was used by two threads at once (a bug: the binding keeps one per thread)."""

    status = -9


class NotFoundError(ModfilterError, LookupError):
    """MF_E_NOT_FOUND: an index or name that does not exist."""

    status = -10


class StateCorruptError(ModfilterError):
    """MF_E_STATE_CORRUPT: a state file is truncated, corrupt or not a modfilter state file."""

    status = -11


class StateVersionError(ModfilterError):
    """MF_E_STATE_VERSION: a state file was written with another format or fingerprint version."""

    status = -12


class InternalError(ModfilterError):
    """MF_E_INTERNAL: a bug in modfilter; please report it with the message."""

    status = -99


ERRORS = {
    cls.status: cls
    for cls in (
        InvalidArgumentError,
        OutOfMemoryError,
        RulesError,
        ModfilterIOError,
        VersionError,
        BadDatabaseError,
        DatabaseMismatchError,
        PostTooLargeError,
        BusyError,
        NotFoundError,
        StateCorruptError,
        StateVersionError,
        InternalError,
    )
}
