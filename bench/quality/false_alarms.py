#!/usr/bin/env python3
"""False alarms on clean real text: scans a corpus that should raise nothing (default: the technical
corpus of bench/corpora.py, developers' writing from /usr/share/doc) and reports what the filter
flags there, by action and by rule, with the words it hit and one context each.

    python3 bench/quality/false_alarms.py [--cli build/bindings/cli/modfilter] [--rules DIR]
        [--corpus build/bench-corpora/technical.jsonl] [--role member] [--category abuse] [--top 12]

The corpus is unlabelled: nearly all of it is clean, so every hit is a candidate false alarm to read,
not a counted error (a changelog may quote a real insult). Build the corpus first:
python3 bench/corpora.py --only technical.
"""
import argparse
import collections
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default="build/bindings/cli/modfilter")
    ap.add_argument("--rules", default=None, help="rule packs (default: the CLI's built-in packs)")
    ap.add_argument("--corpus", default=os.path.join(os.environ.get("MF_BENCH_CORPORA", "build/bench-corpora"),
                                                     "technical.jsonl"))
    ap.add_argument("--role", default="member", choices=["member", "staff"])
    ap.add_argument("--category", default="abuse", help="category prefix to report (default: abuse)")
    ap.add_argument("--top", type=int, default=12, help="words listed per rule")
    a = ap.parse_args()
    if not os.path.exists(a.corpus):
        sys.exit(f"false_alarms: no corpus at {a.corpus} (python3 bench/corpora.py --only technical)")
    posts = [json.loads(l) for l in open(a.corpus, encoding="utf-8") if l.strip()]
    inp = "".join(json.dumps({"id": i, "text": p["text"], "author": {"role": a.role}}, ensure_ascii=False) + "\n"
                  for i, p in enumerate(posts)).encode()
    cmd = [a.cli, "scan"] + (["--rules", a.rules] if a.rules else [])
    out = subprocess.run(cmd, input=inp, capture_output=True, check=False).stdout.decode("utf-8", "replace")
    verdicts = [json.loads(l) for l in out.splitlines() if l.strip()]
    if len(verdicts) != len(posts):
        sys.exit(f"false_alarms: {len(verdicts)} verdicts for {len(posts)} posts")
    actions = collections.Counter()
    hit = acted = held = 0
    words = collections.defaultdict(collections.Counter)
    context = {}
    for p, v in zip(posts, verdicts):
        mine = [h for h in v.get("hits", []) if h["category"].startswith(a.category)]
        if not mine:
            continue
        hit += 1
        actions[v["action"]] += 1
        acted += v["action"] != "ALLOW"
        held += v["action"] in ("HOLD", "REJECT")
        raw = p["text"].encode("utf-8")
        for h in mine:
            w = raw[h["start"]:h["end"]].decode("utf-8", "replace")
            words[h["rule"]][w] += 1
            context.setdefault((h["rule"], w), raw[max(0, h["start"] - 40):h["end"] + 40].decode("utf-8", "replace"))
    n = len(posts)
    print(f"{a.corpus}: {n} posts as {a.role}; {a.category}.* hits in {hit} ({100 * hit / n:.2f}%), "
          f"at FLAG or above {acted} ({100 * acted / n:.2f}%), held or rejected {held} ({100 * held / n:.3f}%)")
    print("actions of the posts with a hit:", dict(actions))
    for rule, c in sorted(words.items(), key=lambda x: -sum(x[1].values())):
        print(f"\n{rule}: {sum(c.values())} hits")
        for w, k in c.most_common(a.top):
            print(f"  {k:5d} {w!r:24} | {context[(rule, w)]!r}")


if __name__ == "__main__":
    main()
