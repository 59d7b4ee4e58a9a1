#!/usr/bin/env python3
"""Replay evaluation of the state stage (spam.duplicate, spam.flood): a day of forum posts built from
the SMS Spam Collection, read at run time from ../shared/data (never copied into the repository).

The stream (seed 1 unless --seed):
  - every ham message is posted once, by one of 2,000 members, at a uniform time over 24 hours;
  - every spam message is posted k times (k uniform in 2..40) by 1 to 5 accounts within 2 hours, each
    copy changed the way spammers change copies: case, punctuation, evasion tricks (leet digits,
    zero-width characters, look-alike letters), one word replaced, a different URL query string,
    lines reordered.
The stream is scanned twice with `modfilter scan` on the default packs: with --state (a fresh file)
and without. Figures:
  - spam caught: of the spam copies after the second (the third copy of a message and later), the
    share with a spam.* category at FLAG or above (a rule category scoring at least its flag
    threshold, or a state category whose action is FLAG or above);
  - ham flagged because of state: ham posts with a state category at FLAG or above.
  - with --baseline CLI: the verdicts without --state must equal that CLI's (another build, e.g.
    before this feature) on the same stream.

  python3 bench/state_replay.py --cli build/bindings/cli/modfilter [--seed 1] [--baseline OTHER_CLI]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "sms-spam-collection", "SMSSpamCollection")
T0 = 1_767_225_600  # 2026-01-01 00:00 UTC
FLAG_THRESHOLD = 2.0  # patterns/policy.toml [policy] flag (spam.* has no override)

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
LOOKALIKE = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "x": "\u0445"}
FILLER = ["now", "today", "free", "here", "mate", "please", "quick", "new", "best", "big"]


def mutate(text, rng):
    """One spam copy: a random mix of the changes spammers make."""
    t = text
    if rng.random() < 0.5:  # one word replaced
        words = t.split(" ")
        if len(words) > 3:
            words[rng.randrange(len(words))] = rng.choice(FILLER)
            t = " ".join(words)
    if rng.random() < 0.5:  # case
        t = rng.choice([t.upper(), t.lower(), t.title()])
    if rng.random() < 0.4:  # punctuation
        t = t.replace(".", rng.choice(["!", "..", " .", ""])).replace(",", rng.choice([";", "", " ,"]))
        t = t + rng.choice(["!!!", "?", " :)", ""])
    if rng.random() < 0.4:  # evasion tricks in a few letters
        out = []
        for ch in t:
            r = rng.random()
            low = ch.lower()
            if r < 0.05 and low in LEET:
                out.append(LEET[low])
            elif r < 0.08 and low in LOOKALIKE:
                out.append(LOOKALIKE[low])
            elif r < 0.10 and ch.isalpha():
                out.append(ch + "\u200b")
            else:
                out.append(ch)
        t = "".join(out)
    if rng.random() < 0.5:  # a link with a fresh query string
        t = t + " http://offers.example/claim?ref=%d&u=%d" % (rng.randrange(10**6), rng.randrange(10**6))
    if rng.random() < 0.3:  # lines reordered
        parts = [p for p in t.replace("! ", "!\n").replace(". ", ".\n").split("\n") if p]
        rng.shuffle(parts)
        t = "\n".join(parts)
    return t


def build_stream(seed):
    rng = random.Random(seed)
    rows = []
    with open(DATA, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            rows.append((label, text))
    posts = []
    for label, text in rows:
        if label == "ham":
            posts.append({"kind": "ham", "text": text, "author": "m%d" % rng.randrange(2000),
                          "ts": T0 + rng.uniform(0, 86400), "msg": None, "copy": 0})
    spam_idx = 0
    for label, text in rows:
        if label != "spam":
            continue
        spam_idx += 1
        k = rng.randint(2, 40)
        accounts = ["s%d_%d" % (spam_idx, j) for j in range(rng.randint(1, 5))]
        start = T0 + rng.uniform(0, 86400 - 7200)
        times = sorted(start + rng.uniform(0, 7200) for _ in range(k))
        for c, ts in enumerate(times):
            t = text if c == 0 else mutate(text, rng)
            posts.append({"kind": "spam", "text": t, "author": rng.choice(accounts), "ts": ts,
                          "msg": spam_idx, "copy": c + 1})
    posts.sort(key=lambda p: p["ts"])
    for i, p in enumerate(posts):
        p["id"] = "p%d" % i
        p["channel"] = "forum-%d" % rng.randrange(50)
    return posts


def scan(cli, lines, extra):
    p = subprocess.run([cli, "scan"] + extra, input="".join(lines).encode(), stdout=subprocess.PIPE, check=True)
    return [json.loads(l) for l in p.stdout.decode().splitlines()]


def spam_caught(v):
    for cat, score in v.get("categories", {}).items():
        if cat.startswith("spam.") and cat not in v.get("state", {}) and score >= FLAG_THRESHOLD:
            return True
    return any(k.startswith("spam.") and e["action"] != "ALLOW" for k, e in v.get("state", {}).items() if k != "notes")


def state_flag(v):
    return [k for k, e in v.get("state", {}).items() if k != "notes" and e["action"] != "ALLOW"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(HERE, "..", "build", "bindings", "cli", "modfilter"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline", help="another modfilter CLI whose stateless verdicts must be the same")
    ap.add_argument("--show", type=int, default=5, help="how many flagged ham posts to print")
    a = ap.parse_args()
    if not os.path.exists(DATA):
        sys.exit("no data: %s" % DATA)
    posts = build_stream(a.seed)
    lines = [json.dumps({"id": p["id"], "text": p["text"], "author": {"id": p["author"], "role": "member"},
                         "channel": p["channel"], "ts": round(p["ts"], 3)}) + "\n" for p in posts]
    with tempfile.TemporaryDirectory() as tmp:
        with_state = scan(a.cli, lines, ["--state", os.path.join(tmp, "state.bin")])
    without = scan(a.cli, lines, [])
    assert len(with_state) == len(without) == len(posts)
    later = [(p, v) for p, v in zip(posts, with_state) if p["kind"] == "spam" and p["copy"] >= 3]
    caught = sum(spam_caught(v) for _, v in later)
    caught_rules = sum(spam_caught(v) for p, v in zip(posts, without) if p["kind"] == "spam" and p["copy"] >= 3)
    ham = [(p, v) for p, v in zip(posts, with_state) if p["kind"] == "ham"]
    ham_flagged = [(p, v) for p, v in ham if state_flag(v)]
    print("stream: %d posts (%d ham, %d spam copies of %d messages), seed %d" %
          (len(posts), len(ham), len(posts) - len(ham), len({p["msg"] for p in posts if p["msg"]}), a.seed))
    print("spam copies after the second caught: %d / %d = %.2f%% (rules alone, no state: %.2f%%)" %
          (caught, len(later), 100.0 * caught / len(later), 100.0 * caught_rules / len(later)))
    print("ham posts flagged because of state: %d / %d = %.3f%%" %
          (len(ham_flagged), len(ham), 100.0 * len(ham_flagged) / len(ham)))
    for p, v in ham_flagged[: a.show]:
        print("  ham flagged: %s %r" % (state_flag(v), p["text"][:80]))
    missed = [p for p, v in later if not spam_caught(v)]
    for p in missed[: a.show]:
        print("  spam missed (copy %d): %r" % (p["copy"], p["text"][:80]))
    if a.baseline:
        base = scan(a.baseline, lines, [])
        diff = sum(1 for x, y in zip(base, without) if x != y)
        print("verdicts without state vs %s: %d of %d differ" % (a.baseline, diff, len(base)))
        if diff:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
