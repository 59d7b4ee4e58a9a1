#!/usr/bin/env python3
"""Generates core/lookalikes.inc: the look-alike letters the evasion skeleton folds (core/skeleton.hpp).

    python3 scripts/gen-lookalikes.py [--data ../shared/data] [--out core/lookalikes.inc]

Each entry is a code point as the normalizer leaves it (core/normalize.cpp: NFKC case folding and the
UTS #39 single-letter look-alikes already done) and the Latin letter it stands for. Sources, in order
of precedence (the first that gives a code point one letter wins):

  1. the upside-down alphabets of rustrict src/unicode_fonts.csv (MIT), position = letter; marked,
     since upside-down words are also written backwards;
  2. Unicode confusables.txt (UTS #39, Unicode License): code points whose prototype is one Latin letter
     (marks on it aside);
  3. rustrict src/replacements.csv and replacements_extra.csv (MIT): a character and the letters it
     may stand for, kept only when that is one letter ('i' and 'l' count as one, as in the skeleton);
  4. the other "fancy" alphabets of unicode_fonts.csv;
  5. SUPPLEMENT below, written for this project: the "fancy text" CJK strokes that none of the above
     gives one letter, and symbols written for letters that the maps give several letters ("€");
  6. BETWEEN_LETTERS, WEAK and OVERRIDE below, written for this project: symbols that count only
     between letters ("bi†ch", not "Shi†" or "£5"), letters of European languages that count only in
     a word other look-alikes already mark ("f∆gøt", not "brød"), and a letter chosen over a source's.

Left out: ASCII, code points that NFKC case folding already turns into ASCII, digits, punctuation,
spaces, marks and controls, and the letters of Latin-1 and Latin Extended-A ("ø", "ł", "ı": the
letters of European languages, whose words are no evasion). Standard library only; the data is read where it is (../shared/data).
"""
import argparse
import re
import sys
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Strokes of CJK and other scripts written for Latin letters in "fancy text" generators, where the
# sources above give no single letter, and a symbol. Written for this project.
SUPPLEMENT = {
    "卂": "a", "乃": "b", "匚": "c", "ᗪ": "d", "乇": "e", "千": "f", "Ꮆ": "g", "卄": "h", "丨": "i",
    "ﾌ": "j", "Ҝ": "k", "ㄥ": "l", "爪": "m", "几": "n", "ㄖ": "o", "卩": "p", "Ɋ": "q", "尺": "r",
    "丂": "s", "ㄒ": "t", "ㄩ": "u", "ᐯ": "v", "山": "w", "乂": "x", "ㄚ": "y", "乙": "z",
    # Symbols written for letters inside Latin words ("fu¢k€r") that the maps give several letters,
    # with the letter their glyph is drawn from. The dagger is in BETWEEN_LETTERS below (footnote
    # daggers end names: "Shi†"); the inverted exclamation mark (i) is left out: "¡" opens Spanish
    # words, as a letter first in a word it would make words of innocent text.
    "€": "e",  # euro sign, an epsilon with bars (rustrict: C or E)
}

# Symbols that stand for a letter only between letters (or look-alikes), or first in a word before
# one: the dagger and the pound sign also end names and open prices ("Shi†", "£5"), which as letters
# would make words of innocent text; "bi†ch", "a££", "£ick" are evasions. Written for this project,
# each the letter its glyph is drawn from (rustrict: † t; £ E, e or f).
BETWEEN_LETTERS = {"†": "t", "£": "l"}
# Letters of European languages that stand for a Latin letter only inside a word that is already
# written with other look-alikes ("f∆gøt"): alone they are Danish or Norwegian ("brød"), no evasion.
WEAK = {"ø": "o"}
# A letter chosen over the sources': the partial differential sign is drawn as a curly d and written
# for one ("∂ick"); rustrict reads it as an e.
OVERRIDE = {"∂": "d"}

KEEP_CATEGORIES = ("L", "S", "Nl", "No")


def fold(s):
    """NFKC case folding, as the normalizer does it (close enough: Python's Unicode data)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())


def letters_of(candidates):
    """The Latin letters a rustrict candidate string stands for, 'l' counted as 'i'."""
    out = set()
    for c in candidates:
        c = c.lower()
        if "a" <= c <= "z":
            out.add("i" if c == "l" else c)
    return out


def keep(ch, upside=False):
    if len(ch) != 1 or ord(ch) < 0x80:
        return False
    if 0xC0 <= ord(ch) <= 0x17F and unicodedata.category(ch).startswith("L") and not upside:
        return False  # letters of European languages ("ø", "ł", "ı"): a Danish or Polish word is no evasion
    if not unicodedata.category(ch).startswith(KEEP_CATEGORIES) and unicodedata.category(ch) not in KEEP_CATEGORIES:
        return False
    f = fold(ch)
    return not (f.isascii())  # NFKC already makes it ASCII: the normalizer handles it


def single_confusables(path, marks=False):
    """(character, prototype) pairs of confusables.txt where both are one code point; with marks, a
    prototype of one code point followed by combining marks counts as that code point."""
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        fields = [f.strip() for f in line.partition("#")[0].split(";")]
        if len(fields) < 2 or not fields[0]:
            continue
        src, tgt = fields[0].split(), [chr(int(c, 16)) for c in fields[1].split()]
        if marks:
            tgt = tgt[:1] + [c for c in tgt[1:] if not unicodedata.category(c).startswith("M")]
        if len(src) == 1 and len(tgt) == 1:
            yield chr(int(src[0], 16)), tgt[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(REPO / "core" / "lookalikes.inc"))
    a = ap.parse_args()
    data = Path(a.data)
    rr = data / "rustrict-maps"
    conf_path = data / "unicode-security" / "confusables.txt"
    for p in (rr / "unicode_fonts.csv", rr / "replacements.csv", rr / "replacements_extra.csv", conf_path):
        if not p.is_file():
            sys.exit(f"gen-lookalikes: {p} missing (see ../shared/data/SOURCES.md)")

    cands = []  # (character, letter, upside-down, source), in order of precedence

    def add(ch, letter, upside, source):
        if keep(ch, upside):
            cands.append((ch, letter, upside, source))

    # 1. alphabets; the upside-down ones first, since their letters also appear in mirrored alphabets
    rows = []
    for line in (rr / "unicode_fonts.csv").read_text(encoding="utf-8").splitlines():
        case, _, alpha = line.partition(",")
        if len(alpha) == 26:
            rows.append(alpha)
    upside_rows = [r for r in rows if r.startswith("ɐ") or r.startswith("∀")]
    for r in upside_rows:
        for k, ch in enumerate(r):
            add(ch, chr(ord("a") + k), True, "fonts")

    # 2. confusables whose prototype is one Latin letter, perhaps with marks ("η" -> "n̩")
    for src, tgt in single_confusables(conf_path, marks=True):
        if "a" <= tgt.lower() <= "z":
            add(src, tgt.lower(), False, "confusables")

    # 3. rustrict replacements: one letter only
    for name in ("replacements.csv", "replacements_extra.csv"):
        per_char = {}
        for line in (rr / name).read_text(encoding="utf-8").splitlines():
            ch, sep, options = line.partition(",")
            if sep and len(ch) == 1:
                per_char.setdefault(ch, set()).update(letters_of(options))
        for ch, ls in per_char.items():
            if len(ls) == 1:
                add(ch, next(iter(ls)), False, name)

    # the other alphabets, after the character maps: a font's designer may borrow a letter for
    # another one ("ρ" for a "g"), where the maps give what the letter looks like
    for r in rows:
        if r not in upside_rows:
            for k, ch in enumerate(r):
                add(ch, chr(ord("a") + k), False, "fonts")

    # 5. the supplement
    for ch, letter in SUPPLEMENT.items():
        add(ch, letter, False, "supplement")

    # Keyed by the code point the normalizer leaves: a character that is its own folding first, then
    # the foldings of the others ("Σ" and "ς" never reach the skeleton; "σ" does, as itself).
    table = {}  # code point -> (letter, upside-down, source)
    for own in (True, False):
        for ch, letter, upside, source in cands:
            key = fold(ch)
            if (key == ch) == own and len(key) == 1 and ord(key) >= 0x80 and key not in table:
                table[key] = (letter, upside, source)

    # The entries written for this project that the precedence above does not give: a letter chosen
    # over a source's, symbols that count only between letters, and weak letters.
    # The third field is when the entry counts (core/lookalike.hpp: kLookAlways, kLookBetweenLetters,
    # kLookWeak).
    when = {}
    for entries, w in ((OVERRIDE, 0), (BETWEEN_LETTERS, 1), (WEAK, 2)):
        for ch, letter in entries.items():
            table[ch] = (letter, False, "supplement")
            when[ch] = w

    # Script of each entry, for the rule that a word wholly in one other script does not wake the
    # skeleton: 0 = Latin or a symbol (wakes alone), otherwise a number per script (name's first word).
    scripts = {"CJK": 1}  # Han is 1 (core/lookalike.hpp: kScriptHan)

    def script_of(ch):
        name = unicodedata.name(ch, "")
        if not unicodedata.category(ch).startswith("L") or name.startswith(("LATIN", "MODIFIER LETTER")):
            return 0
        first = name.split()[0] if name else "UNKNOWN"
        if first in ("HALFWIDTH", "FULLWIDTH"):
            first = name.split()[1]
        return scripts.setdefault(first, len(scripts) + 1)

    entries = sorted(table.items(), key=lambda kv: ord(kv[0]))
    lines = []
    counts = {}
    for ch, (letter, upside, source) in entries:
        s = script_of(ch)
        if s > 255:
            sys.exit("gen-lookalikes: too many scripts")
        counts[source] = counts.get(source, 0) + 1
        lines.append(f"    {{0x{ord(ch):05X}, '{letter}', {1 if upside else 0}, {s}, {when.get(ch, 0)}}},  // {unicodedata.name(ch, '?').lower()}")
    head = f"""// Generated by scripts/gen-lookalikes.py; do not edit. {len(entries)} look-alike letters.
// Adapted from rustrict src/unicode_fonts.csv, src/replacements.csv and src/replacements_extra.csv
// (https://github.com/finnbear/rustrict, commit 8c8644b7585795934fda3efb41afd977549e856f,
// Copyright (c) 2021 Finn Bear, MIT License) and from Unicode confusables.txt (UTS #39, 17.0.0,
// Copyright (c) Unicode, Inc., Unicode License v3); the licenses are in patterns/NOTICE.
// Entries per source: {", ".join(f"{k} {v}" for k, v in sorted(counts.items()))}.
// Fields: code point (as the normalizer leaves it), the letter, 1 if from an upside-down alphabet,
// the script (0: Latin or a symbol; 1: Han; other numbers tell scripts apart), when it counts
// (0: always; 1: between letters, or first before one; 2: only in a word other look-alikes make one).
"""
    Path(a.out).write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"gen-lookalikes: {len(entries)} entries -> {a.out} ({counts}; {len(scripts)} scripts)")


if __name__ == "__main__":
    main()
