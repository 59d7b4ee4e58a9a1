#!/usr/bin/env python3
"""Compares the verdicts of two modfilter CLIs on every real corpus: a speed change must not change
what the filter decides.

    python3 bench/verdict_diff.py --before OLD/bindings/cli/modfilter --before-lib OLD/capi \\
                                  --after build/bindings/cli/modfilter [--allow-diff]

Each corpus NAME.txt (built by bench/corpora.py; default directory $MF_BENCH_CORPORA, else
build/bench-corpora) is scanned by both CLIs, once with member authors and once with staff authors
(`scan --format text --role ROLE`, one post a line: the role applies to all). Two verdicts
differ when their action, their categories (with scores) or their hits (rule and byte span)
differ. Per corpus and role, the number of differing posts is printed, with the first few
differences (post id, start of the text, both verdicts' action and hits).

--before-lib / --after-lib put a directory first in LD_LIBRARY_PATH for that CLI: the CLI finds
libmodfilter.so through its RUNPATH, which LD_LIBRARY_PATH overrides, so a CLI built elsewhere can
be pointed at its own library. Exit status: 0 when nothing differs (or with --allow-diff), 1 when
some verdict differs, 2 on a usage error or when a CLI fails.
"""
import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPORA = ["prose", "tweets", "comments", "sms", "replies", "mixed", "technical"]


def start(cli, lib, role, path):
    env = dict(os.environ)
    if lib:
        env["LD_LIBRARY_PATH"] = os.path.abspath(lib) + (":" + env["LD_LIBRARY_PATH"]
                                                         if env.get("LD_LIBRARY_PATH") else "")
    return subprocess.Popen([cli, "scan", "--format", "text", "--role", role, path], stdout=subprocess.PIPE, env=env,
                            text=True, encoding="utf-8", errors="replace", bufsize=1 << 20)


def key(v):
    """What must not change: action, categories, hits (rule and span)."""
    hits = sorted((h.get("rule"), h.get("start"), h.get("end")) for h in v.get("hits", []))
    return v.get("action"), tuple(sorted(v.get("categories", {}).items())), tuple(hits), v.get("error")


def brief(v):
    if "error" in v:
        return f"error: {v['error']}"
    hits = ", ".join(f"{h['rule']}@{h['start']}-{h['end']}" for h in v.get("hits", []))
    return f"{v.get('action')} [{hits}]"


def compare(name, path, role, args):
    before = start(args.before, args.before_lib, role, path)
    after = start(args.after, args.after_lib, role, path)
    posts = differ = 0
    shown = []
    with open(path, encoding="utf-8") as src:
        for line in src:
            if not line.strip():
                continue
            b, a = before.stdout.readline(), after.stdout.readline()
            if not b or not a:
                break
            posts += 1
            vb, va = json.loads(b), json.loads(a)
            if key(vb) != key(va):
                differ += 1
                if len(shown) < args.show:
                    text = line.rstrip("\n")  # a post a line: --format text
                    shown.append(f"    line {posts}: {text[:100]!r}{'...' if len(text) > 100 else ''}\n"
                                 f"      before: {brief(vb)}\n      after:  {brief(va)}")
    rest_b, rest_a = before.stdout.read(), after.stdout.read()
    rc_b, rc_a = before.wait(), after.wait()
    if rc_b or rc_a or rest_b.strip() or rest_a.strip():
        print(f"{name}/{role}: a CLI failed (exit {rc_b} before, {rc_a} after) or answered a different "
              f"number of lines", file=sys.stderr)
        sys.exit(2)
    print(f"{name:<9} {role:<7} {posts:>8} posts  {differ:>6} differ")
    for s in shown:
        print(s)
    return posts, differ


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="CLI giving the reference verdicts")
    ap.add_argument("--after", required=True, help="CLI under test")
    ap.add_argument("--before-lib", help="directory with the libmodfilter.so for --before")
    ap.add_argument("--after-lib", help="directory with the libmodfilter.so for --after")
    ap.add_argument("--corpora", default=os.environ.get("MF_BENCH_CORPORA")
                    or os.path.join(REPO, "build", "bench-corpora"), help="corpora directory")
    ap.add_argument("--corpus", default=",".join(CORPORA), help="comma-separated corpora (default: all)")
    ap.add_argument("--roles", default="member,staff", help="author roles (default: member,staff)")
    ap.add_argument("--show", type=int, default=5, help="differences shown per corpus and role")
    ap.add_argument("--allow-diff", action="store_true", help="report differences, exit 0 anyway")
    args = ap.parse_args()
    for cli in (args.before, args.after):
        if not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
            ap.error(f"not an executable: {cli}")
    total_posts = total_differ = 0
    found = 0
    for name in args.corpus.split(","):
        path = os.path.join(args.corpora, name + ".txt")
        if not os.path.exists(path):
            print(f"{name}: {path} missing, skipped (python3 bench/corpora.py builds it)", file=sys.stderr)
            continue
        found += 1
        for role in args.roles.split(","):
            p, d = compare(name, path, role, args)
            total_posts += p
            total_differ += d
    if not found:
        print("no corpus found: run python3 bench/corpora.py first", file=sys.stderr)
        return 2
    print(f"total: {total_posts} verdicts compared, {total_differ} differ")
    return 1 if total_differ and not args.allow_diff else 0


if __name__ == "__main__":
    sys.exit(main())
