"""Shared by the tests: imports modfilter from this checkout and defines small rule packs.

Run from the repository root:
    MODFILTER_LIBRARY=build/capi/libmodfilter.so python3 -m unittest discover -s bindings/python/tests
"""

import os
import sys

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
