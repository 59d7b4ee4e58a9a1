"""examples/filter_jsonl.py end to end, on a small inline rule pack."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from _support import RULES, SRC

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(SRC))), "examples", "filter_jsonl.py")


@unittest.skipUnless(os.path.exists(EXAMPLE), "not in a checkout")
class FilterJsonlTest(unittest.TestCase):
    def test_publishes_flags_and_holds(self):
        posts = [
            {"id": 1, "text": "Thanks, that fixed it"},
            {"id": 2, "text": "😀 you idiot"},
            "not json",
            {"id": 3, "text": "I will kill you"},
            {"id": 4, "text": "We offer a full refund", "author": {"role": "staff"}},
            {"id": 5},
            {"id": 6, "text": "idiot and moron"},
        ]
        with tempfile.TemporaryDirectory() as tmp:
            rules = os.path.join(tmp, "rules.toml")
            with open(rules, "w", encoding="utf-8") as f:
                f.write(RULES)
            inp = os.path.join(tmp, "in.jsonl")
            with open(inp, "w", encoding="utf-8") as f:
                for p in posts:
                    f.write((p if isinstance(p, str) else json.dumps(p, ensure_ascii=False)) + "\n")
            held = os.path.join(tmp, "held.jsonl")
            env = dict(os.environ, PYTHONPATH=SRC)
            r = subprocess.run(
                [sys.executable, EXAMPLE, inp, "--rules", rules, "--held", held, "--censor"],
                capture_output=True, text=True, env=env, check=True,
            )
            published = [json.loads(line) for line in r.stdout.splitlines()]
            with open(held, encoding="utf-8") as f:
                held_posts = [json.loads(line) for line in f]
        self.assertEqual([p["id"] for p in published], [1, 2])
        self.assertEqual(published[1]["text"], "😀 you *****")
        self.assertEqual(published[1]["moderation"]["action"], "FLAG")
        self.assertEqual([(p["id"], p["moderation"]["action"]) for p in held_posts],
                         [(3, "REJECT"), (4, "HOLD"), (6, "HOLD")])
        hit = held_posts[0]["moderation"]["hits"][0]
        self.assertEqual((hit["rule"], hit["start"], hit["end"]), ("threat.kill", 0, 15))
        self.assertIn("line 3:", r.stderr)
        self.assertIn("line 6:", r.stderr)
        self.assertIn("5 posts", r.stderr)

    def test_a_line_that_is_not_utf8_is_reported_and_the_others_go_on(self):
        # (before, the file was read as text: the first such byte raised UnicodeDecodeError, and
        # every post of the run was lost, those before it too)
        lines = [json.dumps({"id": 1, "text": "Thanks"}).encode(), b'{"id": 2, "text": "caf\xe9 idiot"}',
                 json.dumps({"id": 3, "text": "I will kill you"}).encode(), b"", json.dumps({"id": 4, "text": "ok"}).encode()]
        with tempfile.TemporaryDirectory() as tmp:
            rules = os.path.join(tmp, "rules.toml")
            with open(rules, "w", encoding="utf-8") as f:
                f.write(RULES)
            held = os.path.join(tmp, "held.jsonl")
            r = subprocess.run(
                [sys.executable, EXAMPLE, "--rules", rules, "--held", held],
                input=b"\n".join(lines) + b"\n", capture_output=True, env=dict(os.environ, PYTHONPATH=SRC),
            )
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(held, encoding="utf-8") as f:
                held_ids = [json.loads(line)["id"] for line in f]
        self.assertEqual([json.loads(line)["id"] for line in r.stdout.decode().splitlines()], [1, 4])
        self.assertEqual(held_ids, [3])
        self.assertIn("line 2: not valid UTF-8 (byte 0xe9 at column 23)", r.stderr.decode())
        self.assertIn("3 posts", r.stderr.decode())

    def test_bad_rules_exit_1_with_file_and_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            rules = os.path.join(tmp, "bad.toml")
            with open(rules, "w", encoding="utf-8") as f:
                f.write('[[rule]]\nid = "x.y"\ncategory = "abuse.x"\nseverity = "huge"\nword = "y"\n')
            r = subprocess.run(
                [sys.executable, EXAMPLE, "--rules", rules],
                input="", capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=SRC),
            )
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"bad\.toml:4\b")


if __name__ == "__main__":
    unittest.main()
