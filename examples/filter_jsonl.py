#!/usr/bin/env python3
"""Filter a JSON-lines file of forum posts with modfilter, from Python.

Each input line is a post shaped like the CLI's input:
    {"id": 1, "text": "...", "author": {"role": "member"}}

Posts whose verdict is ALLOW or FLAG are published: written to standard output (or --out) as they
came in, with "moderation": {"action": ..., "categories": ...} added when flagged. Posts held for
review or rejected go to --held FILE with their whole verdict (hits with offsets into "text").
Lines that are not valid posts are reported on standard error with their line number and skipped.
A summary goes to standard error.

    python3 examples/filter_jsonl.py posts.jsonl --held held.jsonl > published.jsonl
    python3 examples/filter_jsonl.py --rules patterns/ --censor posts.jsonl --held held.jsonl

--censor publishes flagged posts with their hits starred out. The library is found as the README of
bindings/python says (MODFILTER_LIBRARY, an installed libmodfilter, or this checkout's build/).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from typing import IO, Any, Dict, Iterator, List, Tuple, Union

try:
    import modfilter
except ImportError:  # running from a checkout without installing the package
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python", "src"))
    import modfilter

BLOCK = 2000  # lines parsed and scanned at a time


def read_blocks(stream: IO[bytes]) -> Iterator[List[Tuple[int, Union[Dict[str, Any], str]]]]:
    """Yields blocks of (line number, post dict or error message). Lines are read as bytes and
    decoded one at a time, so that a line that is not UTF-8 is reported and skipped on its own
    instead of ending the run (and losing the block in hand)."""
    block: List[Tuple[int, Union[Dict[str, Any], str]]] = []
    for lineno, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            post = json.loads(line)
            if not isinstance(post, dict) or not isinstance(post.get("text"), str):
                raise ValueError('expected an object with a "text" string')
            block.append((lineno, post))
        except UnicodeDecodeError as exc:  # (a ValueError too: caught first)
            block.append((lineno, "not valid UTF-8 (byte 0x%02x at column %d)" % (raw[exc.start], exc.start + 1)))
        except ValueError as exc:
            block.append((lineno, str(exc)))
        if len(block) >= BLOCK:
            yield block
            block = []
    if block:
        yield block


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", nargs="?", default="-", help="JSON-lines file ('-' or nothing: standard input)")
    ap.add_argument("--out", default="-", help="where published posts go (default: standard output)")
    ap.add_argument("--held", help="where held and rejected posts go, with their verdicts (default: dropped)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--rules", help="rule-pack file or directory (default: the packs built into the library)")
    src.add_argument("--db", help="compiled database (Engine.save, modfilter compile)")
    ap.add_argument("--censor", action="store_true", help="star out the hits of flagged posts before publishing")
    args = ap.parse_args()

    try:
        if args.db:
            engine = modfilter.Engine.load(args.db)
        else:
            engine = modfilter.Engine(args.rules)
    except (modfilter.ModfilterError, OSError) as exc:
        print("filter_jsonl: %s" % exc, file=sys.stderr)  # e.g. "patterns/x.toml:12: unknown severity"
        return 1

    fin = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")
    fout = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    fheld = open(args.held, "w", encoding="utf-8") if args.held else None
    actions: collections.Counter = collections.Counter()
    categories: collections.Counter = collections.Counter()
    errors = 0
    with engine:
        for block in read_blocks(fin):
            posts = [p for _, p in block if isinstance(p, dict)]
            results = iter(engine.scan_many(posts, censor=args.censor, on_error="yield"))
            for lineno, item in block:
                if isinstance(item, str):
                    errors += 1
                    print("line %d: %s" % (lineno, item), file=sys.stderr)
                    continue
                verdict = next(results)
                if isinstance(verdict, modfilter.ModfilterError):
                    errors += 1
                    print("line %d: %s" % (lineno, verdict.message), file=sys.stderr)
                    continue
                actions[verdict.action.name] += 1
                categories.update(verdict.categories.keys())
                if verdict.action <= modfilter.Action.FLAG:
                    if verdict.action == modfilter.Action.FLAG:
                        item["moderation"] = {"action": "FLAG", "categories": verdict.categories}
                        if args.censor:
                            item["text"] = verdict.censored
                    fout.write(json.dumps(item, ensure_ascii=False) + "\n")
                elif fheld:
                    moderation = verdict.to_dict()
                    moderation.pop("id", None)  # already in the post
                    record = dict(item, moderation=moderation)
                    fheld.write(json.dumps(record, ensure_ascii=False) + "\n")
    if fheld:
        fheld.close()
    fout.flush()
    total = sum(actions.values())
    summary = ", ".join("%s %d" % (a.name, actions[a.name]) for a in modfilter.Action)
    print("filter_jsonl: %d posts: %s; %d bad lines" % (total, summary, errors), file=sys.stderr)
    if categories:
        top = ", ".join("%s %d" % kv for kv in categories.most_common(5))
        print("filter_jsonl: top categories: %s" % top, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
