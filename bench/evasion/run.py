#!/usr/bin/env python3
"""Evasion and Scunthorpe evaluation: modfilter's default packs next to the npm profanity filters.

One run reports, for modfilter and each npm peer (obscenity, @2toad/profanity, bad-words,
leo-profanity, run through bench/quality/peers.cjs):

  1. evasion recall: abusive words from the English lists in ../shared/data (ldnoobw/en, rustrict
     profanity.csv rows rated >= 2 profane or offensive, cuss words rated 2), each written inside an
     ordinary sentence, first plainly (plain coverage: the words the system claims to cover), then
     with each evasion transform alone and combined (SINGLE and COMBINED below; deterministic, no
     random seed). Recall per transform counts only the words the
     system catches plainly; one more row counts every word of the lists (plain coverage times
     evasion recall, in effect: what a user sees). For modfilter a sentence counts as caught when any hit's category
     starts with "abuse"; the share of caught sentences whose hit spans exactly the transformed word
     (and the share whose hit covers it) is reported too.
  2. false-positive rate on innocent text: dictionary words (wamerican, wbritish) and a few names
     that contain an abusive word but are not abusive, each in a neutral sentence; clean prose
     (../shared/domain paragraphs, SMS ham messages without a listed word).

The data sets are read where they are (never copied into the repository); a missing one is skipped
with a message. Standard library only; the peers need `npm ci --prefix bench/quality` once.

    python3 bench/evasion/run.py --cli build/bindings/cli/modfilter [--json FILE] [--no-peers]
"""
import argparse
import csv
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
QUALITY = REPO / "bench" / "quality"
PEERS = ["obscenity", "@2toad/profanity", "bad-words", "leo-profanity"]
SYSTEMS = ["modfilter"] + PEERS


def load_script(name, path):
    """A Python file of the repository as a module (bench/quality/run.py, scripts/gen-abuse-vocab.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_left_out(data):
    """The words scripts/gen-abuse-vocab.py leaves out of the vocabulary on purpose (identity words,
    history, medicine, everyday words with a second sense, mildly rated ordinary phrases), as a set."""
    return set(load_script("gen_abuse_vocab", REPO / "scripts" / "gen-abuse-vocab.py").every_left_out(data))


def load_quality_harness():
    """bench/quality/run.py: its run_modfilter and run_peers are reused as they are."""
    return load_script("quality_run", QUALITY / "run.py")


# --------------------------------------------------------------------------------------------
# Abuse word lists


def load_abuse_lists(data):
    """Returns (base, listed): base = single abusive words (a-z, >= 3 letters) used for the evasion
    set and as the substrings of the innocent-word set; listed = every entry of every list, used to
    exclude words that are themselves abusive from the innocent set. None when no list is present."""
    base, listed, found = set(), set(), []
    word_re = re.compile(r"^[a-z]{3,}$")

    path = data / "ldnoobw" / "en"
    if path.is_file():
        found.append("ldnoobw/en")
        for line in path.read_text(encoding="utf-8").splitlines():
            w = line.strip().lower()
            if w:
                listed.add(w)
                if word_re.match(w):
                    base.add(w)

    path = data / "rustrict-maps" / "profanity.csv"
    if path.is_file():
        found.append("rustrict-maps/profanity.csv")
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                w = row["word"].strip().lower()
                ratings = [int(row[k] or 0) for k in ("profane", "offensive", "sexual", "mean")]
                if max(ratings) >= 2:
                    listed.add(w)
                # A high profane or offensive rating, and not itself an evasive spelling.
                if (int(row["profane"] or 0) >= 2 or int(row["offensive"] or 0) >= 2) \
                        and int(row["evasive"] or 0) == 0 and word_re.match(w):
                    base.add(w)

    path = data / "npm-wordlists" / "cuss@2.2.0" / "index.js"
    if path.is_file():
        found.append("npm-wordlists/cuss")
        for m in re.finditer(r"^\s*'?([^':\n]+?)'?\s*:\s*(\d)\s*,?\s*$", path.read_text(encoding="utf-8"), re.M):
            w, rating = m.group(1).strip().lower(), int(m.group(2))
            if rating >= 1:
                listed.add(w)
            if rating >= 2 and word_re.match(w):
                base.add(w)
    if not found:
        return None
    return sorted(base), listed, found


# --------------------------------------------------------------------------------------------
# Evasion transforms. A word is a list of units, one per original letter; transforms rewrite units
# in this order: repeats, mask, leet, letter substitution (one of fullwidth, math, circled,
# confusable, greek, regional), combining marks, then the units are joined with a separator or an
# invisible character.


def load_confusables(data):
    """Latin small letter -> (Cyrillic look-alike or None, Greek look-alike or None), from UTS #39."""
    path = data / "unicode-security" / "confusables.txt"
    cyr, grk = {}, {}
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("gen_lookalikes", REPO / "scripts" / "gen-lookalikes.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for s, t in gen.single_confusables(path):  # the file's format only; the harness picks its own letters
        if not ("a" <= t <= "z"):
            continue
        name = unicodedata.name(s, "")
        if name.startswith("CYRILLIC SMALL LETTER") and t not in cyr:
            cyr[t] = s
        elif name.startswith("GREEK SMALL LETTER") and t not in grk:
            grk[t] = s
    return {"confusable": cyr, "greek": grk}


MATH_SCRIPT_HOLES = {"e": "\u212f", "g": "\u210a", "o": "\u2134"}
LEET_DIGITS = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
LEET_SYMBOLS = {"a": "@", "e": "3", "i": "!", "o": "0", "s": "$", "t": "7"}
ZALGO = ["\u0301\u0317", "\u0336\u0358", "\u030f\u0324", "\u0352\u0329", "\u0300\u0323"]
INVISIBLE = {"zwsp": "\u200b", "zwj": "\u200d", "shy": "\u00ad"}
SEPARATORS = {"space": " ", "dot": ".", "dash": "-", "underscore": "_"}
VOWELS = set("aeiouy")


# The families of issue 11, each table written for this harness from the Unicode names of the
# characters (not taken from the maps the engine is built from).
UPSIDE_DOWN = dict(zip("abcdefghijklmnopqrstuvwxyz", "ɐqɔpǝɟƃɥᴉɾʞlɯuodbɹsʇnʌʍxʎz"))
SMALL_CAPS = dict(zip("abcdefghijklmnopqrstuvwxyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡxʏᴢ"))
# Greek letters that look like Latin ones, and symbols that do; used on every other letter that has
# one, so that the word stays mixed with Latin ("fυcκ").
GREEK_MIX = {"a": "α", "b": "β", "e": "ε", "i": "ι", "k": "κ", "n": "η", "o": "σ", "p": "ρ", "t": "τ",
             "u": "υ", "v": "ν", "w": "ω", "x": "χ", "y": "γ"}
SYMBOLS = {"a": "∆", "b": "ß", "c": "¢", "d": "∂", "e": "€", "l": "£", "o": "ø", "t": "†", "y": "¥"}
# "Fancy text": CJK and other scripts' strokes for Latin letters, as seen in the wild.
STROKES = dict(zip("abcdefghijklmnopqrstuvwxyz", "卂乃匚ᗪ乇千Ꮆ卄丨ﾌҜㄥ爪几ㄖ卩Ɋ尺丂ㄒㄩᐯ山乂ㄚ乙"))


def substitute(kind, c, conf):
    o = ord(c) - ord("a")
    if kind == "double-struck":
        return chr(0x1D552 + o)
    if kind == "parenthesized":
        return chr(0x249C + o)
    if kind == "small-caps":
        return SMALL_CAPS[c]
    if kind == "strokes":
        return STROKES[c]
    if kind == "symbols":
        return SYMBOLS.get(c, c)
    if kind == "fullwidth":
        return chr(0xFF41 + o)
    if kind == "bold":
        return chr(0x1D41A + o)
    if kind == "script":
        return MATH_SCRIPT_HOLES.get(c) or chr(0x1D4B6 + o)
    if kind == "circled":
        return chr(0x24D0 + o)
    if kind == "regional":
        return chr(0x1F1E6 + o)
    if kind in ("confusable", "greek"):
        return conf[kind].get(c, c)
    raise ValueError(kind)


def transform(word, spec, conf):
    """Applies the transforms named in spec (a dict) to word; returns the evasive spelling, or None
    when the transform does not apply to this word (nothing would change)."""
    units = list(word)
    n = len(units)
    inner = range(1, n - 1)
    mask_at = None
    if spec.get("mask"):
        vowels = [i for i in inner if units[i] in VOWELS]
        mask_at = vowels[0] if vowels else 1
    if spec.get("repeats"):
        vowels = [i for i in inner if units[i] in VOWELS and i != mask_at]
        at = vowels[0] if vowels else n - 1
        units[at] = units[at] * 5
    if mask_at is not None:
        units[mask_at] = "*"
    leet = spec.get("leet")
    if leet:
        table = LEET_DIGITS if leet in ("digits", "one") else LEET_SYMBOLS
        targets = [i for i in range(n) if units[i][:1] in table]
        if leet == "one":
            targets = targets[:1]
        elif len(targets) == sum(1 for u in units if u != "*"):
            targets = targets[1:]  # keep one letter, so the word is not a bare number ("455")
        if not targets:
            return None
        for i in targets:
            units[i] = table[units[i][0]] * len(units[i])
    sub = spec.get("sub")
    if sub == "greek-mix":
        # every other letter that has a Greek look-alike, starting with the first
        changed, k = False, 0
        for i, u in enumerate(units):
            if u[:1] in GREEK_MIX:
                if k % 2 == 0:
                    units[i] = GREEK_MIX[u[0]] * len(u)
                    changed = True
                k += 1
        if not changed:
            return None
        sub = None
    if sub:
        changed = False
        for i, u in enumerate(units):
            new = "".join(substitute(sub, c, conf) if "a" <= c <= "z" else c for c in u)
            changed |= new != u
            units[i] = new
        if not changed:
            return None
    if spec.get("zalgo"):
        units = [u + ZALGO[i % len(ZALGO)] for i, u in enumerate(units)]
    if spec.get("upside-down"):
        # flipped letters in reverse order, as upside-down text generators write them
        units = ["".join(UPSIDE_DOWN.get(c, c) for c in reversed(u)) for u in reversed(units)]
    if spec.get("split"):
        # one separator inside the word ("fu.ck"), or two-letter pieces ("fu ck", "bi tc h")
        kind = spec["split"]
        if kind == "pairs":
            out = " ".join("".join(units[i:i + 2]) for i in range(0, n, 2))
        else:
            at = n // 2
            out = "".join(units[:at]) + SEPARATORS[kind] + "".join(units[at:])
        return out if out != word else None
    sep = ""
    if spec.get("invisible"):
        sep = INVISIBLE[spec["invisible"]]
    elif spec.get("sep"):
        sep = SEPARATORS[spec["sep"]]
    out = sep.join(units)
    return out if out != word else None


# name -> (spec, evasion tags the verdict is expected to name)
SINGLE = {
    "fullwidth": ({"sub": "fullwidth"}, {"compat"}),
    "math-bold": ({"sub": "bold"}, {"compat"}),
    "math-script": ({"sub": "script"}, {"compat"}),
    "circled": ({"sub": "circled"}, {"compat"}),
    "cyrillic": ({"sub": "confusable"}, {"confusable"}),
    "greek": ({"sub": "greek"}, {"confusable"}),
    "zwsp": ({"invisible": "zwsp"}, {"invisible"}),
    "zwj": ({"invisible": "zwj"}, {"invisible"}),
    "soft-hyphen": ({"invisible": "shy"}, {"invisible"}),
    "zalgo": ({"zalgo": True}, {"combining"}),
    "leet-digits": ({"leet": "digits"}, {"leet"}),
    "leet-symbols": ({"leet": "symbols"}, {"leet"}),
    "leet-one": ({"leet": "one"}, {"leet"}),
    "sep-space": ({"sep": "space"}, {"separators"}),
    "sep-dot": ({"sep": "dot"}, {"separators"}),
    "sep-dash": ({"sep": "dash"}, {"separators"}),
    "sep-underscore": ({"sep": "underscore"}, {"separators"}),
    "mask": ({"mask": True}, set()),
    "repeats": ({"repeats": True}, {"repeats"}),
    "regional": ({"sub": "regional"}, {"compat"}),
    # issue 11's families
    "split-dot": ({"split": "dot"}, {"separators"}),
    "split-dash": ({"split": "dash"}, {"separators"}),
    "split-pairs": ({"split": "pairs"}, {"separators"}),
    "greek-mix": ({"sub": "greek-mix"}, {"confusable"}),
    "symbols": ({"sub": "symbols"}, {"confusable"}),
    "upside-down": ({"upside-down": True}, {"confusable"}),
    "small-caps": ({"sub": "small-caps"}, {"confusable"}),
    "double-struck": ({"sub": "double-struck"}, {"compat"}),
    "parenthesized": ({"sub": "parenthesized"}, {"compat"}),
    "strokes": ({"sub": "strokes"}, {"confusable"}),
}
COMBINED = {
    "fullwidth+zwsp": ({"sub": "fullwidth", "invisible": "zwsp"}, {"compat", "invisible"}),
    "cyrillic+zwj": ({"sub": "confusable", "invisible": "zwj"}, {"confusable", "invisible"}),
    "cyrillic+zalgo": ({"sub": "confusable", "zalgo": True}, {"confusable", "combining"}),
    "leet+sep-dot": ({"leet": "digits", "sep": "dot"}, {"leet", "separators"}),
    "leet+cyrillic": ({"leet": "symbols", "sub": "confusable"}, {"leet", "confusable"}),
    "fullwidth+leet": ({"sub": "fullwidth", "leet": "digits"}, {"compat", "leet"}),
    "bold+sep-space": ({"sub": "bold", "sep": "space"}, {"compat", "separators"}),
    "circled+soft-hyphen": ({"sub": "circled", "invisible": "shy"}, {"compat", "invisible"}),
    "mask+repeats": ({"mask": True, "repeats": True}, {"repeats"}),
    "repeats+sep-space": ({"repeats": True, "sep": "space"}, {"repeats", "separators"}),
    "regional+sep-space": ({"sub": "regional", "sep": "space"}, {"compat", "separators"}),
    "leet+cyrillic+zwsp+zalgo": ({"leet": "one", "sub": "confusable", "invisible": "zwsp", "zalgo": True},
                                 {"leet", "confusable", "invisible", "combining"}),
    "leet+split-pairs": ({"leet": "one", "split": "pairs"}, {"leet", "separators"}),
    "greek-mix+repeats": ({"sub": "greek-mix", "repeats": True}, {"confusable", "repeats"}),
    "small-caps+zwsp": ({"sub": "small-caps", "invisible": "zwsp"}, {"confusable", "invisible"}),
}

EVASION_TEMPLATES = [
    "I think you are a {}, honestly.",
    "Honestly, what a {} that was yesterday.",
    "He wrote {} on the board and walked out.",
]
INNOCENT_TEMPLATES = [
    "We talked about {} for a while yesterday.",
    "The next item on the list is {}, I believe.",
    "She mentioned {} twice during the meeting.",
]
CONTROL_WORDS = ["teacher", "window", "garden", "pencil", "weather", "kitchen", "bicycle", "meeting"]


def sentence(template, word):
    """Returns (text, start, end): the sentence and the UTF-8 byte span of word in it."""
    pre, _, post = template.partition("{}")
    start = len(pre.encode("utf-8"))
    return pre + word + post, start, start + len(word.encode("utf-8"))


# --------------------------------------------------------------------------------------------
# The innocent word set


# Inflections: a dictionary word that is a listed word plus one of these is itself abusive.
INFLECTIONS = ["s", "es", "ed", "d", "er", "ers", "ing", "y", "ies", "ier", "iest", "ish", "ic",
               "ly", "ty", "ness", "head", "heads", "face", "faces", "hole", "holes"]
# Dictionary words that contain a listed word and are vulgar or abusive themselves (compounds and
# derivations the lists do not carry). They are left out of the innocent set.
VULGAR_DICTIONARY_WORDS = {
    "whorehouse", "whorehouses", "whoremonger", "whoremongers", "whoredom", "shitload", "shitloads",
    "bullshitted", "bullshitter", "bullshitters", "bullshitting", "chickenshit", "chickenshits",
    "horseshit", "dipshits", "apeshit", "batshit", "shithole", "shitholes", "shitless", "shitfaced",
    "cocksucker", "cocksuckers", "motherfucker", "motherfuckers", "motherfucking", "mindfuck",
    "clusterfuck", "fuckup", "fuckups", "fuckwit", "fuckwits", "cuntish", "pisshead", "pissheads",
    "pisspot", "pissoir", "jackasses", "dumbasses", "smartass", "smartasses", "badass", "badasses",
    "kickass", "hardass", "lardass", "asswipe", "asswipes", "asshat", "twats", "wankers", "bitchiness",
    "sluttish", "sluttishness", "slutty", "whoring", "titties", "titty", "boobies", "niggers",
    "faggots", "faggoty", "dickheads", "pricks", "dildos", "jizzed", "blowjobs", "handjobs",
    "rapist", "rapists", "raping", "raped", "rapes", "bastardly", "bastardy", "bastardize",
    "bastardized", "bastardizes", "bastardizing", "bastardise", "bastardised", "bastardises",
    "bastardising", "bastardization", "bastardisation", "bitchier", "bitchiest", "bitchily",
    "goddamned", "goddamn", "goddam", "damnedest", "pussies", "pussy", "spics", "kikes", "coons",
    "gook", "gooks", "retards", "retarded", "homos", "fags", "fagged", "scumbag", "scumbags",
}
# Names and places famous for the Scunthorpe problem that the dictionaries lack.
EXTRA_INNOCENT = [
    "Scunthorpe", "Penistone", "Clitheroe", "Cockburnspath", "Lightwater", "Middlesex", "Sussex",
    "Essex", "Wessex", "Shitterton", "Cockermouth", "Arsenal", "Dickensian", "Hancock", "Babcock",
    "Peacock", "Woodcock", "Pasadena", "Matsushita", "Kuntz", "Dickerson", "Cummings", "Analytics",
]


def innocent_words(base, listed, dict_paths):
    """Dictionary words containing a base word as a substring that are not themselves abusive."""
    words = set()
    for p in dict_paths:
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            w = line.strip()
            if w and "'" not in w and w.isalpha():
                words.add(w)
    words.update(EXTRA_INNOCENT)
    subs = sorted(base, key=len)
    sub_re = re.compile("|".join(re.escape(s) for s in sorted(base, key=len, reverse=True)))
    out = {}
    abusive = set(listed) | VULGAR_DICTIONARY_WORDS
    for w in sorted(words):
        lw = w.lower()
        if lw in abusive or not sub_re.search(lw):
            continue
        inflected = False
        for a in subs:
            if lw.startswith(a) and lw[len(a):] in INFLECTIONS:
                inflected = True
                break
            if a.endswith("e") and lw.startswith(a[:-1]) and lw[len(a) - 1:] in ("ing", "ed", "er", "ers"):
                inflected = True
                break
        if inflected:
            continue
        found = sorted({a for a in subs if a in lw}, key=len, reverse=True)
        out.setdefault(lw, (w, found))
    # one spelling per lowercase form (keep the dictionary's capitalisation of names)
    return [(w, found) for w, found in out.values()]


def load_prose(data, domain, listed):
    """Domain paragraphs and SMS ham messages that contain no listed word (plainly)."""
    posts, notes = [], []
    if domain.is_dir():
        n = 0
        for path in sorted(domain.glob("*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            for k, para in enumerate(re.split(r"\n\s*\n", text)):
                para = para.strip()
                if para:
                    posts.append({"id": f"dom:{path.name}#{k}", "text": para, "set": "domain"})
                    n += 1
        notes.append(f"domain: {n} paragraphs")
    else:
        notes.append(f"domain prose skipped: {domain} not found")
    path = data / "sms-spam-collection" / "SMSSpamCollection"
    if path.is_file():
        tokens_listed = {w for w in listed | VULGAR_DICTIONARY_WORDS if re.fullmatch(r"[a-z]+", w)}
        kept = dropped = 0
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                label, _, text = line.rstrip("\n").partition("\t")
                if label != "ham" or not text:
                    continue
                toks = re.findall(r"[a-z]+", text.lower())
                toks += [re.sub(r"(.)\1{2,}", r"\1", t) for t in toks]  # "fuuuuck" -> "fuck"
                if any(t in tokens_listed or (t.endswith("s") and t[:-1] in tokens_listed) or
                       (t.endswith("ing") and t[:-3] in tokens_listed) for t in toks):
                    dropped += 1
                    continue
                posts.append({"id": f"sms:{i}", "text": text, "set": "sms-ham"})
                kept += 1
        notes.append(f"sms ham: {kept} messages ({dropped} with a listed word left out)")
    else:
        notes.append("sms ham skipped: sms-spam-collection not found")
    return posts, notes


# --------------------------------------------------------------------------------------------
# Scoring


def mf_abuse_hits(verdict):
    return [h for h in verdict["hits"] if h["category"].startswith("abuse")]


def flagged(system, post_id, mf, peers):
    if system == "modfilter":
        return bool(mf_abuse_hits(mf[post_id]))
    return bool(peers[post_id][system])


def pct(num, den):
    return f"{100.0 * num / den:.1f}" if den else "-"


def pct2(num, den):
    return f"{100.0 * num / den:.2f}" if den else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", default=str(REPO / "build" / "bindings" / "cli" / "modfilter"))
    ap.add_argument("--rules", help="rule packs (default: the CLI's built-in packs)")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--domain", default=str(REPO.parent / "shared" / "domain"))
    ap.add_argument("--dict", action="append", help="word list (default /usr/share/dict/{american,british}-english)")
    ap.add_argument("--no-peers", action="store_true", help="modfilter only")
    ap.add_argument("--show", type=int, default=50, help="modfilter false positives and misses to list")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    command = "python3 " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__)] + sys.argv[1:])
    t0 = time.time()

    data, domain = Path(args.data), Path(args.domain)
    if not Path(args.cli).is_file():
        sys.exit(f"run.py: no CLI at {args.cli} (build it, or pass --cli)")
    lists = load_abuse_lists(data) if data.is_dir() else None
    if not lists:
        print(f"run.py: skipped: no abuse word lists under {data} (see ../shared/data/SOURCES.md)")
        return 0
    base, listed, found = lists
    conf = load_confusables(data)
    if conf is None:
        print("run.py: unicode-security/confusables.txt missing: the cyrillic and greek transforms are skipped")
    quality = load_quality_harness()

    dict_paths = [Path(p) for p in args.dict] if args.dict else \
        [Path("/usr/share/dict/american-english"), Path("/usr/share/dict/british-english")]
    missing = [p for p in dict_paths if not p.is_file()]
    if missing and not args.dict and os.geteuid() == 0:
        print("run.py: installing wamerican wbritish (apt-get) for the innocent-word set")
        subprocess.run(["apt-get", "install", "-y", "-q", "wamerican", "wbritish"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        missing = [p for p in dict_paths if not p.is_file()]
    dict_paths = [p for p in dict_paths if p.is_file()]
    if missing:
        print(f"run.py: word lists missing ({', '.join(map(str, missing))}): "
              "run `apt-get install -y wamerican wbritish` as root for the full innocent-word set")

    # ---- build every post
    posts = []  # {"id", "text", ...}
    for i, w in enumerate(CONTROL_WORDS):
        text, s, e = sentence(EVASION_TEMPLATES[i % len(EVASION_TEMPLATES)], w)
        posts.append({"id": f"ctl:{w}", "text": text, "kind": "control"})
    transforms = dict(SINGLE)
    transforms.update(COMBINED)
    if conf is None:
        transforms = {k: v for k, v in transforms.items() if "cyrillic" not in k and "greek" not in k}
    ev = []  # (word, transform name, post id, evasive spelling, span)
    for i, w in enumerate(base):
        tpl = EVASION_TEMPLATES[i % len(EVASION_TEMPLATES)]
        text, s, e = sentence(tpl, w)
        posts.append({"id": f"ev:{w}:plain", "text": text})
        ev.append((w, "plain", f"ev:{w}:plain", w, (s, e)))
        for name, (spec, _) in transforms.items():
            spelled = transform(w, spec, conf)
            if spelled is None:
                continue
            text, s, e = sentence(tpl, spelled)
            pid = f"ev:{w}:{name}"
            posts.append({"id": pid, "text": text})
            ev.append((w, name, pid, spelled, (s, e)))
    innocent = innocent_words(base, listed, dict_paths) if dict_paths else []
    for i, (w, _) in enumerate(innocent):
        text, _, _ = sentence(INNOCENT_TEMPLATES[i % len(INNOCENT_TEMPLATES)], w)
        posts.append({"id": f"in:{w}", "text": text})
    prose, prose_notes = load_prose(data, domain, listed)
    posts.extend(prose)

    print(f"evasion set: {len(base)} words from {', '.join(found)}; {len(ev)} sentences "
          f"({len(transforms)} transforms)")
    print(f"innocent words: {len(innocent)} from {', '.join(map(str, dict_paths)) or 'no dictionary'} "
          f"+ {len(EXTRA_INNOCENT)} names; prose: {'; '.join(prose_notes)}")

    # ---- run the systems (one process each)
    t = time.time()
    mf = quality.run_modfilter(args.cli, args.rules, posts)
    mf_secs = time.time() - t
    systems = ["modfilter"]
    peers = None
    if not args.no_peers:
        t = time.time()
        peers = quality.run_peers(posts)
        if peers is not None:
            systems = SYSTEMS
            print(f"scanned {len(posts)} posts: modfilter {mf_secs:.1f} s, npm peers {time.time() - t:.1f} s")
    if peers is None:
        print(f"scanned {len(posts)} posts: modfilter {mf_secs:.1f} s")

    def hit(system, pid):
        return flagged(system, pid, mf, peers)

    # ---- controls
    ctl = {s: sum(hit(s, f"ctl:{w}") for w in CONTROL_WORDS) for s in systems}

    # ---- evasion
    plain = {s: {w for w in base if hit(s, f"ev:{w}:plain")} for s in systems}
    common = set(base)
    for s in systems:
        common &= plain[s]
    res = {s: {} for s in systems}  # system -> transform -> [caught, total]
    res_common = {s: {} for s in systems}
    res_all = {s: {} for s in systems}
    res_kept = {s: {} for s in systems}  # every word but those the vocabulary leaves out on purpose
    left_out = load_left_out(data)
    span = {}  # transform -> [caught, exact, covers, signal]
    misses = {}  # transform -> [(word, spelled)]
    inexact = {}  # transform -> [(spelled, [hit spans as text])]
    for w, name, pid, spelled, (ws, we) in ev:
        if name == "plain":
            continue
        for s in systems:
            c = hit(s, pid)
            r = res_all[s].setdefault(name, [0, 0])  # every word of the lists, caught plainly or not
            r[0] += c
            r[1] += 1
            if w not in left_out:
                r = res_kept[s].setdefault(name, [0, 0])
                r[0] += c
                r[1] += 1
            if w not in plain[s]:
                continue
            r = res[s].setdefault(name, [0, 0])
            r[0] += c
            r[1] += 1
            if w in common:
                r = res_common[s].setdefault(name, [0, 0])
                r[0] += c
                r[1] += 1
            if s == "modfilter":
                sp = span.setdefault(name, [0, 0, 0, 0])
                if c:
                    hits = mf_abuse_hits(mf[pid])
                    sp[0] += 1
                    exact = any(h["start"] == ws and h["end"] == we for h in hits)
                    sp[1] += exact
                    if not exact:
                        raw = sentence(EVASION_TEMPLATES[base.index(w) % len(EVASION_TEMPLATES)], spelled)[0].encode()
                        inexact.setdefault(name, []).append(
                            (spelled, [raw[h["start"]:h["end"]].decode(errors="replace") for h in hits]))
                    sp[2] += any(h["start"] <= ws and h["end"] >= we for h in hits)
                    expected = transforms[name][1]
                    seen = set(mf[pid].get("evasion", []))
                    sp[3] += (expected <= seen) if expected else bool(seen)
                else:
                    misses.setdefault(name, []).append((w, spelled))
    plain_span = [0, 0, 0]
    for w in plain["modfilter"]:
        sent, ws, we = sentence(EVASION_TEMPLATES[base.index(w) % len(EVASION_TEMPLATES)], w)
        hits = mf_abuse_hits(mf[f"ev:{w}:plain"])
        plain_span[0] += 1
        plain_span[1] += any(h["start"] == ws and h["end"] == we for h in hits)
        plain_span[2] += any(h["start"] <= ws and h["end"] >= we for h in hits)

    def overall(table, names):
        c = sum(table.get(n, [0, 0])[0] for n in names)
        t = sum(table.get(n, [0, 0])[1] for n in names)
        return c, t

    single_names = [n for n in transforms if n in SINGLE]
    combined_names = [n for n in transforms if n in COMBINED]

    # ---- innocent text
    inn_fp = {s: [w for w, _ in innocent if hit(s, f"in:{w}")] for s in systems}
    prose_sets = sorted({p["set"] for p in prose})
    prose_fp = {s: {ps: [p for p in prose if p["set"] == ps and hit(s, p["id"])] for ps in prose_sets}
                for s in systems}
    prose_n = {ps: sum(1 for p in prose if p["set"] == ps) for ps in prose_sets}

    # ---- table
    short = {"modfilter": "modfilter", "obscenity": "obscenity", "@2toad/profanity": "2toad",
             "bad-words": "bad-words", "leo-profanity": "leo"}
    head = "| | " + " | ".join(short[s] for s in systems) + " |"
    rule = "|---|" + "---:|" * len(systems)
    print(f"\n## Evasion recall (%), on the words each system catches plainly\n")
    print(head)
    print(rule)
    print("| plain coverage (words caught / %d) | " % len(base) +
          " | ".join(f"{pct(len(plain[s]), len(base))} ({len(plain[s])})" for s in systems) + " |")
    print("| control sentences flagged (/%d) | " % len(CONTROL_WORDS) + " | ".join(str(ctl[s]) for s in systems) + " |")
    for n in single_names + combined_names:
        cells = []
        for s in systems:
            c, t_ = res[s].get(n, [0, 0])
            cells.append(pct(c, t_))
        tot = res["modfilter"].get(n, [0, 0])[1]
        print(f"| {n} (n={tot} for modfilter) | " + " | ".join(cells) + " |")
    for label, names in (("overall, single transforms", single_names), ("overall, combined", combined_names),
                         ("overall, all", single_names + combined_names)):
        cells = []
        for s in systems:
            c, t_ = overall(res[s], names)
            cells.append(f"**{pct(c, t_)}** ({c}/{t_})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    def overall_row(label, tables, cell):
        cells = [cell(*overall(tables[s], single_names + combined_names)) for s in systems]
        print(f"| {label} | " + " | ".join(cells) + " |")

    overall_row(f"overall, all, on the {len(common)} words every system covers", res_common,
                lambda c, t_: pct(c, t_))
    overall_row(f"overall, all, over every word of the lists ({len(base)}; one not caught plainly counts "
                "as missed unless its evasive spelling is caught)", res_all, lambda c, t_: f"**{pct(c, t_)}** ({c}/{t_})")
    kept = sum(1 for w in base if w not in left_out)
    overall_row(f"the same, without the {len(base) - kept} words the vocabulary leaves out on purpose ({kept}; "
                "`scripts/gen-abuse-vocab.py --report` lists them and why)", res_kept, lambda c, t_: f"{pct(c, t_)} ({c}/{t_})")

    print("\n## modfilter spans and evasion signal (% of caught sentences)\n")
    print("| transform | caught | span = exactly the word | span covers the word | verdict names the technique |")
    print("|---|---:|---:|---:|---:|")
    print(f"| plain | {plain_span[0]} | {pct(plain_span[1], plain_span[0])} | {pct(plain_span[2], plain_span[0])} | - |")
    tot = [0, 0, 0, 0]
    for n in single_names + combined_names:
        sp = span.get(n, [0, 0, 0, 0])
        tot = [a + b for a, b in zip(tot, sp)]
        print(f"| {n} | {sp[0]} | {pct(sp[1], sp[0])} | {pct(sp[2], sp[0])} | {pct(sp[3], sp[0])} |")
    print(f"| **all** | {tot[0]} | **{pct(tot[1], tot[0])}** | {pct(tot[2], tot[0])} | {pct(tot[3], tot[0])} |")

    print("\n## False positives on innocent text (% of posts flagged)\n")
    print(head)
    print(rule)
    print(f"| dictionary words and names with an abusive substring (n={len(innocent)}) | " +
          " | ".join(f"**{pct2(len(inn_fp[s]), len(innocent))}** ({len(inn_fp[s])})" for s in systems) + " |")
    for ps in prose_sets:
        print(f"| prose: {ps} (n={prose_n[ps]}) | " +
              " | ".join(f"{pct2(len(prose_fp[s][ps]), prose_n[ps])} ({len(prose_fp[s][ps])})" for s in systems) + " |")

    # ---- modfilter details
    print(f"\n## modfilter misses by transform (first {min(args.show, 8)} words each)\n")
    for n in single_names + combined_names:
        m = misses.get(n, [])
        if m:
            shown = ", ".join(f"{w} -> {sp!r}" for w, sp in m[:min(args.show, 8)])
            print(f"- {n}: {len(m)} missed: {shown}")
    if inexact:
        print("\nmodfilter hits whose span is not exactly the evasive word (transform: word -> hit spans):")
        for n in single_names + combined_names:
            if inexact.get(n):
                print(f"- {n}: {len(inexact[n])}: " + ", ".join(f"{sp!r} -> {hs!r}" for sp, hs in inexact[n][:4]))
    missed_words = {}
    for n, m in misses.items():
        for w, _ in m:
            missed_words[w] = missed_words.get(w, 0) + 1
    worst = sorted(missed_words.items(), key=lambda kv: (-kv[1], kv[0]))[:args.show]
    if worst:
        print("\nwords missed most often (transforms missed): " + ", ".join(f"{w} {k}" for w, k in worst))
    not_plain = [w for w in base if w not in plain["modfilter"]]
    print(f"\nwords modfilter does not catch plainly ({len(not_plain)}), first {args.show}: " +
          ", ".join(not_plain[:args.show]))
    if peers is not None:
        peer_only = [w for w in not_plain if any(w in plain[s] for s in PEERS)]
        print(f"\n...of which some peer catches plainly ({len(peer_only)}), first {args.show}: " +
              ", ".join(peer_only[:args.show]))

    print(f"\n## modfilter false positives on innocent words ({len(inn_fp['modfilter'])}, first {args.show})\n")
    innocent_subs = dict(innocent)
    for w in inn_fp["modfilter"][:args.show]:
        v = mf[f"in:{w}"]
        text = next(p["text"] for p in posts if p["id"] == f"in:{w}")
        hs = "; ".join(f"{h['rule']} [{h['start']},{h['end']}) {text.encode()[h['start']:h['end']].decode(errors='replace')!r}"
                       f"{' ' + ','.join(h.get('evasion', [])) if h.get('evasion') else ''}"
                       for h in mf_abuse_hits(v))
        print(f"- {w} (contains {', '.join(innocent_subs[w])}): {hs}")
    for ps in prose_sets:
        fps = prose_fp["modfilter"][ps]
        if fps:
            print(f"\nmodfilter hits on prose {ps} ({len(fps)}, first {args.show}):")
            for p in fps[:args.show]:
                raw = p["text"].encode()
                hs = "; ".join(f"{h['rule']} {raw[h['start']:h['end']].decode(errors='replace')!r}"
                               for h in mf_abuse_hits(mf[p["id"]]))
                print(f"  [{p['id']}] {hs}   | {p['text'][:120]!r}")
    if peers is not None:
        for s in PEERS:
            print(f"\n{s}: {len(inn_fp[s])} innocent words flagged, e.g. " + ", ".join(inn_fp[s][:15]))

    print(f"\ncommand: {command}   ({time.time() - t0:.0f} s)")

    if args.json:
        out = {
            "command": command,
            "systems": systems,
            "evasion": {
                "words": len(base), "sources": found, "common_words": len(common),
                "plain_coverage": {s: len(plain[s]) for s in systems},
                "plain_words": {s: sorted(plain[s]) for s in systems},
                "control_flagged": ctl,
                "recall": {s: {n: {"caught": v[0], "total": v[1]} for n, v in res[s].items()} for s in systems},
                "recall_every_word": {s: {n: {"caught": v[0], "total": v[1]} for n, v in res_all[s].items()}
                                      for s in systems},
                "overall": {s: {k: dict(zip(("caught", "total"), overall(res[s], names)))
                                for k, names in (("single", single_names), ("combined", combined_names),
                                                 ("all", single_names + combined_names))} for s in systems},
                "overall_common": {s: dict(zip(("caught", "total"), overall(res_common[s], single_names + combined_names)))
                                   for s in systems},
                "modfilter_span": {n: dict(zip(("caught", "exact", "covers", "signal"), v)) for n, v in span.items()},
                "modfilter_misses": {n: m for n, m in misses.items()},
                "modfilter_inexact_spans": {n: m for n, m in inexact.items()},
            },
            "innocent": {
                "words": len(innocent),
                "false_positives": {s: len(inn_fp[s]) for s in systems},
                "modfilter_false_positives": inn_fp["modfilter"],
                "prose": {ps: {"posts": prose_n[ps], "flagged": {s: len(prose_fp[s][ps]) for s in systems}}
                          for ps in prose_sets},
            },
        }
        Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
