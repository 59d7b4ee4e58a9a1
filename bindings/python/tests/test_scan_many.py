"""Scanning many posts: input shapes, ordering, batches, errors mid-stream."""

import unittest

from _support import engine, modfilter
from modfilter import Action


def posts(n):
    """Post i: dirty when i % 3 == 0, with non-ASCII padding of varying length."""
    out = []
    for i in range(n):
        pad = "é😀" * (i % 7)
        text = "%s post %d %s" % (pad, i, "idiot" if i % 3 == 0 else "fine")
        out.append(text)
    return out


class ScanManyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = engine()

    @classmethod
    def tearDownClass(cls):
        cls.engine.close()

    def test_order_across_batches_matches_single_scans(self):
        items = posts(301)
        for batch_size in (1, 7, 64, 1000):
            got = list(self.engine.scan_many(items, batch_size=batch_size))
            self.assertEqual(len(got), len(items))
            for i, (text, v) in enumerate(zip(items, got)):
                self.assertEqual(v.text, text)
                self.assertIs(v.action, Action.FLAG if i % 3 == 0 else Action.ALLOW, (batch_size, i))
                self.assertEqual(v, self.engine.scan(text))
                for h in v.hits:
                    self.assertEqual(text[h.start : h.end], "idiot")

    def test_accepts_a_generator_lazily(self):
        consumed = []

        def gen():
            for i, t in enumerate(posts(50)):
                consumed.append(i)
                yield t

        it = self.engine.scan_many(gen(), batch_size=10)
        first = next(it)
        self.assertIs(first.action, Action.FLAG)
        self.assertEqual(len(consumed), 10)  # only the first batch was read
        rest = list(it)
        self.assertEqual(len(rest), 49)
        self.assertEqual(len(consumed), 50)

    def test_empty_input(self):
        self.assertEqual(list(self.engine.scan_many([])), [])

    def test_dict_posts_like_the_cli(self):
        items = [
            {"id": "a", "text": "We promise a full refund", "author": {"role": "staff"}},
            {"id": "b", "text": "We promise a full refund", "author": {"role": "member"}},
            {"id": 3, "text": "We promise a full refund"},
            {"id": "d", "text": "full refund", "author_role": "staff"},
            "you idiot",
            b"bytes idiot",
        ]
        got = list(self.engine.scan_many(items))
        self.assertEqual([v.id for v in got], ["a", "b", 3, "d", None, None])
        self.assertEqual([[h.rule for h in v.hits] for v in got[:4]], [["promise.refund"], [], [], ["promise.refund"]])
        self.assertEqual(got[5].hits[0].text, b"idiot")

    def test_default_role_applies_to_str_and_role_less_dicts(self):
        items = ["full refund", {"text": "full refund"}, {"text": "full refund", "author": {"role": "member"}}]
        got = list(self.engine.scan_many(items, author_role="staff"))
        self.assertEqual([len(v.hits) for v in got], [1, 1, 0])

    def test_censor(self):
        got = list(self.engine.scan_many(["😀 idiot", "ok"], censor=True))
        self.assertEqual([v.censored for v in got], ["😀 *****", "ok"])

    def test_bad_items(self):
        with self.assertRaises(ValueError):
            list(self.engine.scan_many([{"id": 1}]))
        with self.assertRaises(TypeError):
            list(self.engine.scan_many([1, 2]))
        with self.assertRaises(ValueError):
            list(self.engine.scan_many(["x"], author_role="nobody"))

    def test_roles_as_the_cli_reads_them(self):
        # "staff" and "member" in any case; a platform's own role, or a string where the author
        # object belongs, is refused (the CLI writes an error line for both), never a silent member
        got = list(self.engine.scan_many([{"text": "full refund", "author": {"role": "Staff"}}]))
        self.assertEqual(len(got[0].hits), 1)
        with self.assertRaisesRegex(ValueError, "author_role"):
            list(self.engine.scan_many([{"text": "full refund", "author": {"role": "admin"}}]))
        with self.assertRaisesRegex(ValueError, "'author' must be a dict"):
            list(self.engine.scan_many([{"text": "full refund", "author": "staff"}]))

    def test_too_large_post_mid_stream(self):
        with engine(max_post_bytes=64) as e:
            items = ["idiot %d" % i for i in range(20)]
            items[13] = "x" * 65
            it = e.scan_many(items, batch_size=5)
            got = []
            with self.assertRaises(modfilter.PostTooLargeError) as cm:
                for v in it:
                    got.append(v)
            self.assertEqual(len(got), 13)  # every post before the bad one
            self.assertEqual([v.text for v in got], items[:13])
            self.assertEqual(cm.exception.index, 13)
            self.assertIn("post 13", str(cm.exception))

    def test_on_error_yield_keeps_going(self):
        with engine(max_post_bytes=64) as e:
            items = [{"id": i, "text": "idiot %d" % i} for i in range(12)]
            items[3]["text"] = items[9]["text"] = "é" * 40  # 80 bytes
            got = list(e.scan_many(items, batch_size=5, on_error="yield"))
            self.assertEqual(len(got), 12)
            for i, g in enumerate(got):
                if i in (3, 9):
                    self.assertIsInstance(g, modfilter.PostTooLargeError)
                    self.assertEqual((g.index, g.id), (i, i))
                else:
                    self.assertIsInstance(g, modfilter.Verdict)
                    self.assertEqual(g.id, i)
                    self.assertIs(g.action, Action.FLAG)
            with self.assertRaises(ValueError):
                list(e.scan_many(items, on_error="ignore"))

    def test_on_error_yield_yields_posts_that_cannot_be_scanned(self):
        # the example: a dict with no "text" is that post's error, and the stream goes on
        got = list(self.engine.scan_many([{"id": 1, "text": "hi"}, {"id": 2}], on_error="yield"))
        self.assertIsInstance(got[0], modfilter.Verdict)
        self.assertIsInstance(got[1], modfilter.InvalidArgumentError)
        self.assertEqual((got[1].index, got[1].id), (1, 2))
        self.assertIn("post 1 (id 2)", str(got[1]))
        bad = {
            1: {"id": "b1"},  # no text
            2: {"id": "b2", "text": 5},  # text not str or bytes
            3: 42,  # not a post
            4: {"id": "b4", "text": "x", "author": {"role": "admin"}},  # a role the CLI refuses
            5: {"id": "b5", "text": "x", "author": "staff"},  # not an author object
            6: {"id": "b6", "text": "x", "ts": -1},
            9: None,
            10: {"text": None},  # first of a batch
            11: [],  # last of the input
        }
        items = [bad.get(i, {"id": i, "text": "idiot %d" % i}) for i in range(12)]
        for batch_size in (1, 3, 4, 100):
            got = list(self.engine.scan_many(items, batch_size=batch_size, on_error="yield"))
            self.assertEqual(len(got), len(items), batch_size)
            for i, g in enumerate(got):
                if i in bad:
                    self.assertIsInstance(g, modfilter.InvalidArgumentError, (batch_size, i))
                    self.assertEqual(g.index, i)
                    self.assertEqual(g.id, items[i].get("id") if isinstance(items[i], dict) else None)
                else:
                    self.assertIsInstance(g, modfilter.Verdict, (batch_size, i))
                    self.assertEqual((g.id, g.action), (i, Action.FLAG))

    def test_on_error_raise_for_posts_that_cannot_be_scanned(self):
        # the verdicts before the bad post come first, then its error, with its index
        items = ["idiot 0", {"id": "x", "text": "idiot 1"}, {"id": 7}, "idiot 3"]
        for batch_size in (1, 2, 100):
            got = []
            with self.assertRaises(ValueError) as cm:
                for v in self.engine.scan_many(items, batch_size=batch_size):
                    got.append(v)
            self.assertEqual([v.text for v in got], ["idiot 0", "idiot 1"])
            self.assertEqual((cm.exception.index, cm.exception.id), (2, 7))
            self.assertIn("post 2 (id 7)", str(cm.exception))
        with self.assertRaises(TypeError) as cm:
            list(self.engine.scan_many(["ok", 3.5]))
        self.assertEqual((cm.exception.index, cm.exception.id), (1, None))


if __name__ == "__main__":
    unittest.main()
