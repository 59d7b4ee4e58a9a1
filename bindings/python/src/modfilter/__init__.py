"""modfilter: an embedded moderation filter for forum posts.

Compile rule packs once into an :class:`Engine`, share it between threads, and scan posts::

    import modfilter
    engine = modfilter.Engine()                      # the default packs built into libmodfilter
    verdict = engine.scan("You are an idiot", author_role="member")
    verdict.action                                   # Action.FLAG
    verdict.categories                               # {"abuse.harassment": 3.0, "abuse.toxic": 2.0}
    for hit in verdict.hits:                         # offsets index the str you passed
        print(hit.rule, hit.category, hit.start, hit.end, hit.text)
    engine.scan("You are an idiot", censor=True).censored   # "****************" (the whole insult)
    for v in engine.scan_many(posts):                # str, bytes or {"id","text","author":{"role"}}
        ...

Other engines: :meth:`Engine.from_rules` (a directory of ``.toml`` packs), :meth:`Engine.from_text`
(TOML in a string), :meth:`Engine.load` (a database written by :meth:`Engine.save`).
Errors are :class:`ModfilterError` subclasses carrying the library's message, e.g.
:class:`RulesError` with ``file:line: what``.

The binding calls the stable C ABI of libmodfilter through :mod:`ctypes`; see
:func:`library_path` for where it was found.
"""

from ._engine import Engine, State, Verdict, check_rules, fingerprint, library_path, library_version
from ._native import LibraryNotFound
from ._types import (
    Action,
    BadDatabaseError,
    BusyError,
    Category,
    DatabaseMismatchError,
    Diagnostic,
    Evasion,
    Hit,
    InternalError,
    InvalidArgumentError,
    ModfilterError,
    NotFoundError,
    OutOfMemoryError,
    PostTooLargeError,
    Role,
    RuleInfo,
    RulesError,
    ModfilterIOError,
    RulesIOError,
    Severity,
    StateCorruptError,
    StateVersionError,
    VersionError,
)

__version__ = "0.1.0"

__all__ = [
    "Action",
    "BadDatabaseError",
    "BusyError",
    "Category",
    "DatabaseMismatchError",
    "Diagnostic",
    "Engine",
    "Evasion",
    "Hit",
    "InternalError",
    "InvalidArgumentError",
    "LibraryNotFound",
    "ModfilterError",
    "NotFoundError",
    "OutOfMemoryError",
    "PostTooLargeError",
    "Role",
    "RuleInfo",
    "RulesError",
    "ModfilterIOError",
    "RulesIOError",
    "Severity",
    "State",
    "StateCorruptError",
    "StateVersionError",
    "Verdict",
    "VersionError",
    "check_rules",
    "fingerprint",
    "library_path",
    "library_version",
]
