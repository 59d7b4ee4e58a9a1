"""Errors: exceptions carry the library's message; bad rule files name the file and line."""

import os
import re
import tempfile
import unittest

from _support import RULES, engine, modfilter

GOOD = """\
[[rule]]
id = "x.idiot"
category = "abuse.harassment"
severity = "medium"
word = "idiot"
"""

# line 5 has the mistake
BAD = """\
[[rule]]
id = "x.moron"
category = "abuse.harassment"
word = "moron"
severity = "extreme"
"""


class RulesErrorTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, rel, text):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_from_rules_directory(self):
        self.write("a/good.toml", GOOD)
        with modfilter.Engine.from_rules(self.dir) as e:
            self.assertEqual([r.id for r in e.rules], ["x.idiot"])
            self.assertIs(e.scan("idiot").action, modfilter.Action.FLAG)

    def test_bad_rule_file_names_file_and_line(self):
        self.write("a/good.toml", GOOD)
        self.write("b/bad.toml", BAD)
        with self.assertRaises(modfilter.RulesError) as cm:
            modfilter.Engine.from_rules(self.dir)
        err = cm.exception
        self.assertIsInstance(err, modfilter.ModfilterError)
        self.assertEqual(err.status, -3)
        self.assertRegex(str(err), re.escape(os.path.join("b", "bad.toml")) + r":5\b")
        self.assertIn("severity", str(err))

    def test_bad_rule_file_given_directly(self):
        path = self.write("bad.toml", BAD)
        with self.assertRaises(modfilter.RulesError) as cm:
            modfilter.Engine.from_rules(path)
        self.assertRegex(str(cm.exception), r"bad\.toml:5\b")

    def test_bad_rules_text_gives_the_line(self):
        with self.assertRaises(modfilter.RulesError) as cm:
            modfilter.Engine.from_text(GOOD + "\n" + BAD)
        self.assertRegex(str(cm.exception), r":11\b")

    def test_broken_toml(self):
        with self.assertRaises(modfilter.RulesError) as cm:
            modfilter.Engine.from_text('[[rule]]\nid = "a.b"\nword = "unterminated\n')
        self.assertRegex(str(cm.exception), r":3\b")

    def test_duplicate_rule_ids(self):
        self.write("one.toml", GOOD)
        self.write("two.toml", GOOD)
        with self.assertRaises(modfilter.RulesError) as cm:
            modfilter.Engine.from_rules(self.dir)
        self.assertIn("x.idiot", str(cm.exception))

    def test_missing_path(self):
        missing = os.path.join(self.dir, "nope")
        with self.assertRaises(modfilter.RulesIOError) as cm:
            modfilter.Engine.from_rules(missing)
        self.assertIsInstance(cm.exception, OSError)
        self.assertIn("nope", str(cm.exception))

    def test_a_state_file_that_cannot_be_read_is_an_io_error_not_a_rules_one(self):
        missing = os.path.join(self.dir, "nope.state")
        with self.assertRaises(modfilter.ModfilterIOError) as cm:
            modfilter.State.load(missing)
        self.assertIsInstance(cm.exception, OSError)
        self.assertEqual(type(cm.exception).__name__, "ModfilterIOError")
        self.assertIs(modfilter.RulesIOError, modfilter.ModfilterIOError)  # (the older name still catches it)

    def test_a_dict_post_whose_text_is_no_string_says_so(self):
        engine = modfilter.Engine()
        with self.assertRaises(TypeError) as cm:
            list(engine.scan_many([{"id": "b", "text": 5}]))
        self.assertIn("'text' must be a str or bytes, not int", str(cm.exception))
        (err,) = engine.scan_many([{"id": "b", "text": 5}], on_error="yield")
        self.assertIn("'text' must be a str or bytes, not int", str(err))
        engine.close()

    def test_check_rules(self):
        self.write("good.toml", GOOD)
        self.assertEqual(modfilter.check_rules(self.dir), [])
        self.write("ex.toml", '[[rule]]\nid = "x.fool"\ncategory = "abuse.harassment"\n'
                   'severity = "low"\nword = "fool"\nmatch = ["you fool", "you idiot"]\n')
        diags = modfilter.check_rules(self.dir)
        self.assertGreaterEqual(len(diags), 1)
        d = diags[0]
        self.assertTrue(d.file.endswith("ex.toml"), d)
        self.assertGreater(d.line, 0)
        self.assertIn("x.fool", d.message + d.file + str(d))
        self.assertRegex(str(d), r"ex\.toml:\d+: ")


class DatabaseTest(unittest.TestCase):
    def test_save_and_load(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "rules.mfdb")
            with engine() as e:
                e.save(path)
                before = e.scan("😀 idiot and moron")
            with modfilter.Engine.load(path) as loaded:
                self.assertEqual(loaded.rule_count, RULES.count("[[rule]]"))
                self.assertEqual(loaded.scan("😀 idiot and moron"), before)
            # options apply to a loaded engine
            with modfilter.Engine.load(path, hold_threshold=2.0, reject_threshold=2.0) as loaded:
                self.assertIs(loaded.scan("idiot").action, modfilter.Action.REJECT)

    def test_bytes_round_trip(self):
        with engine() as e:
            data = e.serialize()
        self.assertIsInstance(data, bytes)
        with modfilter.Engine.from_bytes(data) as e2:
            self.assertIs(e2.scan("idiot").action, modfilter.Action.FLAG)

    def test_garbage_database(self):
        with self.assertRaises(modfilter.BadDatabaseError) as cm:
            modfilter.Engine.from_bytes(b"this is not a database" * 10)
        self.assertEqual(cm.exception.status, -6)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "junk.mfdb")
            with open(path, "wb") as f:
                f.write(b"\0" * 100)
            with self.assertRaises(modfilter.BadDatabaseError) as cm:
                modfilter.Engine.load(path)
            self.assertIn("junk.mfdb", str(cm.exception))

    def test_truncated_database(self):
        with engine() as e:
            data = e.serialize()
        with self.assertRaises((modfilter.BadDatabaseError, modfilter.DatabaseMismatchError)):
            modfilter.Engine.from_bytes(data[: len(data) // 2])


if __name__ == "__main__":
    unittest.main()
