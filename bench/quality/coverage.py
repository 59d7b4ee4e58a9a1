#!/usr/bin/env python3
"""Vocabulary coverage of the abuse packs, and their dictionary false-hit rate.

    python3 bench/quality/coverage.py --cli build/bindings/cli/modfilter [--rules DIR] [--show N]

Each term is posted alone (as a member) through the CLI, in JSON lines; a term is covered when the
verdict has any hit whose category starts with "abuse". Standard library only. Reports:

  - plain coverage of each source list the packs were built from (scripts/gen-abuse-vocab.py):
    rustrict profanity.csv (every term), cuss rated 1 or 2; the terms left out on purpose (listed in
    the generator, with the reason) are counted apart, and cuss rating-0 words must stay clean;
  - plain coverage of ldnoobw `en`, which the packs were NOT built from (the held-out check);
  - the dictionary false-hit rate: every word of wamerican-huge and wbritish-huge
    (`apt-get install -y wamerican-huge wbritish-huge`), posted alone. A hit on a word that is itself
    in the vocabulary (the word, or the word less a possessive 's, is an entry of a pack's word list
    or of a source list, and not left out as clean) is deliberate and reported apart; so is a hit on
    a word-family form of a vocabulary term of 3+ letters (the term plus an inflection or a common
    derivation: "arseholes", "bitchiness", "bullshitter"; FAMILY_ENDINGS), counted on its own line;
    every other hit is a false hit (the Scunthorpe problem). Bar: false hits <= 0.1% of all dictionary
    words.

The source lists are read where they are (default ../shared/data); nothing is copied.
"""
import argparse
import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DICTS = ["/usr/share/dict/american-english-huge", "/usr/share/dict/british-english-huge"]


def scan(cli, rules, texts, batch=1_000_000):
    """texts -> list of (caught, [hits]) with the abuse hits of each."""
    out = []
    cmd = [cli, "scan"] + (["--rules", rules] if rules else [])
    for i in range(0, len(texts), batch):
        chunk = texts[i:i + batch]
        data = "".join(json.dumps({"id": j, "text": t, "author": {"role": "member"}}, ensure_ascii=False) + "\n"
                       for j, t in enumerate(chunk)).encode()
        p = subprocess.run(cmd, input=data, capture_output=True)
        lines = [json.loads(l) for l in p.stdout.decode("utf-8", "replace").splitlines() if l.strip()]
        if len(lines) != len(chunk):
            sys.exit(f"coverage: {len(lines)} verdicts for {len(chunk)} posts (rc {p.returncode}): {p.stderr.decode()[:300]}")
        for v in lines:
            hits = [h for h in v.get("hits", []) if str(h.get("category", "")).startswith("abuse")]
            out.append((bool(hits), hits))
    return out


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_abuse_vocab", REPO / "scripts" / "gen-abuse-vocab.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pack_entries(rules_dir):
    """Every entry of every word list under rules_dir/abuse/words (lowercased; a root's '*' marks, as in
    "*fuck*" or "shit*", taken off)."""
    out = set()
    for p in Path(rules_dir, "abuse", "words").glob("*.txt"):
        for line in p.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip().lower().strip("*")
            if line:
                out.add(line)
    return out


# Endings that make a word-family form of a word: inflections (arseholes, bitched, bitching) and the
# common derivations (bitchiness, bullshitter, sluttish). A dictionary word that is a vocabulary term plus
# one of them (the root's last consonant doubled, or a final -y read as -i, as English spells it) means
# what the term means: a hit on it is counted as deliberate, apart from the term itself and from false hits.
FAMILY_ENDINGS = ["s", "es", "ed", "er", "ers", "ing", "ings", "y", "ie", "ies", "iest", "ier", "ily", "iness",
                  "ness", "nesses", "ish", "ishly", "ishness", "ly", "ery", "eries", "hood", "less", "fest"]


def family_root(word, vocab):
    """The vocabulary term of which `word` is a word-family form (see FAMILY_ENDINGS), or None. Only
    single-word terms of 3 letters or more count as roots."""
    for e in FAMILY_ENDINGS:
        if not word.endswith(e) or len(word) - len(e) < 3:
            continue
        stem = word[:-len(e)]
        cands = [stem] + ([stem + "e"] if e[0] in "aeiouy" else [])  # whored -> whore; not bully -> bule
        if len(stem) >= 4 and stem[-1] == stem[-2]:
            cands.append(stem[:-1])        # bullshitter, sluttish
        if stem.endswith("i"):
            cands.append(stem[:-1] + "y")  # bitchiness -> bitchy
        for c in cands:
            if len(c) >= 3 and " " not in c and c in vocab:
                return c
    return None


def pct(a, b):
    return f"{100.0 * a / b:.1f}%" if b else "n/a"


def report(name, terms, res, left_out, show):
    n = len(terms)
    hit = [t for t, (c, _) in zip(terms, res) if c]
    missed = [t for t, (c, _) in zip(terms, res) if not c]
    lo = [t for t in missed if t in left_out]
    other = [t for t in missed if t not in left_out]
    print(f"{name:34s} n={n:5d}  covered {len(hit):5d} = {pct(len(hit), n):>6s}   "
          f"missed: {len(lo)} left out on purpose, {len(other)} other"
          + (f"   (covered when the left-out are not counted: {pct(len(hit), n - len(lo))})" if lo else ""))
    if show and other:
        print("    missed, not left out: " + ", ".join(other[:show]) + (" ..." if len(other) > show else ""))
    return {"n": n, "covered": len(hit), "left_out_missed": len(lo), "other_missed": other}


def main():
    ap = argparse.ArgumentParser(description="Vocabulary coverage and dictionary false hits of the abuse packs")
    ap.add_argument("--cli", default="build/bindings/cli/modfilter")
    ap.add_argument("--rules", help="rules directory (default: the packs compiled into the CLI)")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--show", type=int, default=40, help="list up to N missed terms and false hits")
    ap.add_argument("--no-dictionary", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args()
    data = Path(a.data)
    gen = load_generator()
    left_out = gen.every_left_out(data)
    results = {}
    rules_dir = a.rules or str(REPO / "patterns")

    # --- source lists
    entries = pack_entries(rules_dir)
    vocabulary = set()
    if (data / "rustrict-maps" / "profanity.csv").exists():
        rs = sorted({w for w, _ in gen.load_rustrict(data)})
        vocabulary.update(rs)
        results["rustrict"] = report("rustrict profanity.csv (all)", rs, scan(a.cli, a.rules, rs), left_out, a.show)
    else:
        print("coverage: no rustrict-maps/profanity.csv, skipped")
    cuss = gen.load_cuss(data) if (data / "npm-wordlists" / "cuss@2.2.0" / "index.js").exists() else {}
    if cuss:
        rated = sorted(w for w, v in cuss.items() if v > 0)
        vocabulary.update(rated)
        results["cuss"] = report("cuss rated 1-2", rated, scan(a.cli, a.rules, rated), left_out, a.show)
        r2 = sorted(w for w, v in cuss.items() if v == 2)
        results["cuss2"] = report("cuss rated 2", r2, scan(a.cli, a.rules, r2), left_out, a.show)
        clean = sorted(w for w, v in cuss.items() if v == 0)
        res = scan(a.cli, a.rules, clean)
        bad = [w for w, (c, _) in zip(clean, res) if c]
        print(f"{'cuss rated 0 (must stay clean)':34s} n={len(clean):5d}  with an abuse hit: {len(bad)}"
              + (": " + ", ".join(bad) if bad else ""))
        results["cuss0_hit"] = bad
    else:
        print("coverage: no npm-wordlists/cuss@2.2.0, skipped")
    # --- held out
    f = data / "ldnoobw" / "en"
    if f.exists():
        en = sorted({l.strip().lower() for l in f.read_text(encoding="utf-8").splitlines() if l.strip()})
        results["ldnoobw_en"] = report("ldnoobw en (held out)", en, scan(a.cli, a.rules, en), {}, a.show)
    else:
        print("coverage: no ldnoobw/en, skipped")

    # --- dictionary
    if not a.no_dictionary:
        paths = [p for p in DICTS if os.path.exists(p)]
        if not paths:
            print("coverage: no wamerican-huge/wbritish-huge; apt-get install -y wamerican-huge wbritish-huge")
        else:
            words = set()
            for p in paths:
                with open(p, encoding="utf-8", errors="replace") as fh:
                    words.update(l.strip() for l in fh if l.strip())
            words = sorted(words)
            res = scan(a.cli, a.rules, words)
            vocab = {w for w in vocabulary if w not in left_out} | entries
            deliberate, family, false = [], [], []
            for w, (c, hits) in zip(words, res):
                if not c:
                    continue
                lw = w.lower()
                base = re.sub(r"['’]s$", "", lw)
                if lw in vocab or base in vocab:
                    deliberate.append((w, hits))
                elif family_root(base, vocab):
                    family.append((w, hits))
                else:
                    false.append((w, hits))
            n = len(words)
            print(f"{'dictionary words (' + str(len(paths)) + ' lists)':34s} n={n}  any abuse hit: "
                  f"{len(deliberate) + len(family) + len(false)} = {pct(len(deliberate) + len(family) + len(false), n)}; "
                  f"the word is itself a vocabulary term: {len(deliberate)}; a word-family form of one: {len(family)}; "
                  f"false hits: {len(false)} = {100.0 * len(false) / n:.3f}% (bar <= 0.1%)")
            if a.show:
                def fmt(w, hits):
                    return w + " (" + ",".join(sorted({h["rule"] for h in hits})) + ")"
                print("    false hits: " + "; ".join(fmt(w, h) for w, h in false[:a.show * 3]))
                print("    deliberate: " + ", ".join(w for w, _ in deliberate[:a.show * 3]))
                print("    word-family forms: " + ", ".join(w + " (" + str(family_root(re.sub(r"['’]s$", "", w.lower()), vocab)) + ")"
                                                      for w, _ in family[:a.show * 3]))
            results["dictionary"] = {"n": n, "deliberate": len(deliberate), "family": len(family), "false": len(false),
                                     "false_words": [w for w, _ in false]}
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
