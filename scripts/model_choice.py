#!/usr/bin/python3
"""How the abuse model's C and threshold were chosen (docs/model.md): for each C, the abuse model is
trained on every training line (as scripts/train_model.py trains it), and for each threshold the
script prints, for rules + model ("any abuse hit"):

  - F1 on the half of OLID the choice is made on (tweets whose text has an even MD5), and on the
    half that is only reported (odd MD5): OLID is never trained on;
  - how many of 3,000 posts cut from the domain prose (../shared/domain, as member) the model flags:
    the light touch.

    /usr/bin/python3 scripts/model_choice.py [--build build] [--C 1,2,4,8,16] [--t 0.35,0.4,0.45,0.5]

The rules' part comes from one scan of the default packs without the abuse model (the CLI, with
--rules); the model's part is computed here from the scanner's own words (mf_features), as
core/model.cpp scores (distinct n-grams, sqrt normalization, at least 3 distinct words). The
quoted-word check of the scanner is not applied, so a figure may differ from the CLI's by a post or
two. Needs Debian's python3-sklearn; reads $MF_SHARED (default <repo>/../shared) at run time.
"""
import argparse
import csv
import hashlib
import importlib.util
import math
import os
import random
import shutil
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("MF_SHARED", os.path.join(ROOT, "..", "shared"))

spec = importlib.util.spec_from_file_location("train_model", os.path.join(ROOT, "scripts", "train_model.py"))
tm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tm)


def prose_posts(n=3000):
    d = os.path.join(SHARED, "domain")
    text = " ".join(" ".join(open(os.path.join(d, f), encoding="utf-8").read().split())
                    for f in sorted(os.listdir(d)) if f.endswith(".txt"))
    rnd = random.Random(1)
    out = []
    for _ in range(n):
        k = rnd.randint(100, 2000)
        s = rnd.randint(0, len(text) - k)
        out.append(text[s:s + k])
    return out


def rules_only(cli, texts):
    """Whether each text has an abuse hit from the default packs without the abuse model."""
    with tempfile.TemporaryDirectory() as tmp:
        packs = os.path.join(tmp, "patterns")
        shutil.copytree(os.path.join(ROOT, "patterns"), packs)
        os.remove(os.path.join(packs, "abuse", "model.toml"))
        return [bool(tm.hits(v, "abuse")) for v in tm.scan(cli, packs, texts)]


def probabilities(bias, weights, docs):
    out = []
    for ws in docs:
        if len(set(ws)) < 3:
            out.append(0.0)
            continue
        gs = set(tm.ngrams(ws))
        z = bias + sum(weights.get(g, 0.0) for g in gs) / math.sqrt(len(gs))
        out.append(1.0 / (1.0 + math.exp(-z)))
    return out


def prf_of_half(gold, pred, half, which):
    ids = [i for i, h in enumerate(half) if h == which]
    return tm.prf([gold[i] for i in ids], [pred[i] for i in ids])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--C", default="1,2,4,8,16")
    ap.add_argument("--t", default="0.35,0.4,0.45,0.5")
    ap.add_argument("--prune", type=float, default=0.3)
    a = ap.parse_args()
    cli = os.path.join(a.build, "bindings", "cli", "modfilter")
    with open(os.path.join(SHARED, "data", "olid-train", "olid-training-v1.0.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    olid = [r["tweet"] for r in rows]
    gold = [r["subtask_a"] == "OFF" for r in rows]
    half = [int(hashlib.md5(t.encode("utf-8")).hexdigest(), 16) % 2 for t in olid]
    prose = prose_posts()
    rules_olid, rules_prose = rules_only(cli, olid), rules_only(cli, prose)
    w_olid, w_prose = tm.words(a.build, olid), tm.words(a.build, prose)

    posts = tm.load_sets()
    docs = tm.words(a.build, [p["text"] for p in posts])
    y = [p["toxic"] for p in posts]
    exclude = tm.toxic_exclusion()  # (as train_model.py trains the shipped model)

    print("C      threshold  OLID choosing half (P R F1)   OLID reported half F1   prose flagged by the model (of 3,000)")
    for C in (float(x) for x in a.C.split(",")):
        bias, w = tm.train(docs, y, 2, C, exclude)
        weights = {g: x for g, x in w if abs(x) >= a.prune}
        p_olid, p_prose = probabilities(bias, weights, w_olid), probabilities(bias, weights, w_prose)
        for t in (float(x) for x in a.t.split(",")):
            pred = [r or p >= t for r, p in zip(rules_olid, p_olid)]
            P, R, F = prf_of_half(gold, pred, half, 0)
            F2 = prf_of_half(gold, pred, half, 1)[2]
            flagged = sum(p >= t for p in p_prose)
            print(f"{C:<6g} {t:<10g} {P:.3f} {R:.3f} {F:.3f}            {F2:.3f}                   {flagged}")


if __name__ == "__main__":
    main()
