"""State (duplicates, floods, young accounts' links) through the Python binding."""

import os
import tempfile
import threading
import unittest

from _support import modfilter

PROMO = "Cheap watches and designer bags at half price this week, visit our shop today"


class StateTest(unittest.TestCase):
    def setUp(self):
        self.engine = modfilter.Engine.from_text('[[rule]]\nid = "x.f"\ncategory = "abuse.obscene"\nseverity = "medium"\nword = "fuck"\n')
        self.state = modfilter.State()
        self.engine.state = self.state

    def tearDown(self):
        self.engine.state = None
        self.engine.close()
        self.state.close()

    def test_third_copy_is_flagged_with_evidence(self):
        vs = [self.engine.scan(PROMO, id="p%d" % i, author="u%d" % i, channel="c", ts=1000 + i) for i in range(3)]
        self.assertEqual([v.action for v in vs], [modfilter.Action.ALLOW] * 2 + [modfilter.Action.FLAG])
        self.assertEqual(vs[2].categories, {"spam.duplicate": 3.0})
        dup = vs[2].state["spam.duplicate"]
        self.assertEqual((dup["copies"], dup["authors"], dup["earlier"]), (3, 3, ["p1", "p0"]))
        self.assertEqual(vs[2].id, "p2")
        self.assertEqual(vs[2].to_dict()["state"]["spam.duplicate"]["copies"], 3)

    def test_scan_many_dicts_carry_who_where_when(self):
        posts = [{"id": i, "text": "post %d" % i, "author": {"id": "fast", "role": "member"}, "ts": 50 + i}
                 for i in range(6)]
        posts.append({"id": 99, "text": "see http://x.example", "author": {"id": "new", "age_days": 0}, "channel": 7})
        posts.append({"id": 100, "text": "an edit", "author": {"id": "fast"}, "ts": 56, "edit": True})
        vs = list(self.engine.scan_many(posts))
        self.assertEqual(vs[4].action, modfilter.Action.ALLOW)
        self.assertEqual(vs[5].action, modfilter.Action.FLAG)
        self.assertIn("spam.flood", vs[5].categories)
        self.assertEqual(vs[6].categories, {"spam.new-account-links": 1.0})
        self.assertEqual(vs[7].action, modfilter.Action.ALLOW)  # editing is not flooding
        self.assertIn("an edit: not counted as a new post", vs[7].state["notes"])

    def test_no_state_no_change(self):
        self.engine.state = None
        v = self.engine.scan(PROMO, id="p1", author="u1", ts=5)
        self.assertIsNone(v.state)
        self.assertNotIn("state", v.to_dict())

    def test_bad_fields_raise(self):
        with self.assertRaises(modfilter.InvalidArgumentError):
            self.engine.scan("hi", author="u", ts=-1)
        with self.assertRaisesRegex(modfilter.InvalidArgumentError, "milliseconds"):
            self.engine.scan("hi", author="u", ts=1767225600123)  # (time.time() * 1000)
        with self.assertRaises(modfilter.InvalidArgumentError):
            self.engine.scan("hi", author="u", age_days=-3)
        with self.assertRaises(TypeError):
            self.engine.scan("hi", author=["u"])
        with self.assertRaises(modfilter.InvalidArgumentError):
            list(self.engine.scan_many([{"text": "hi", "edit": "yes"}]))

    def test_save_load_and_refusals(self):
        for i in range(2):
            self.engine.scan(PROMO, id="p%d" % i, author="u%d" % i, ts=100 + i)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "state.bin")
            self.state.save(path)
            other = modfilter.State.load(path)
            self.engine.state = other
            self.assertEqual(self.engine.scan(PROMO, id="p2", author="u2", ts=102).action, modfilter.Action.FLAG)
            with open(path, "rb") as f:
                data = f.read()
            with open(path, "wb") as f:
                f.write(data[:-9])
            with self.assertRaises(modfilter.StateCorruptError):
                other.load_into(path)
            with open(path, "wb") as f:
                f.write(data[:12] + b"\x07" + data[13:])
            with self.assertRaises(modfilter.StateVersionError):
                other.load_into(path)
            self.engine.state = self.state
            other.close()
        self.assertGreater(self.state.stats()["entries"], 0)
        self.assertEqual(self.state.stats()["memory_budget"], 64 << 20)

    def test_threads_share_one_state(self):
        def work(t):
            for i in range(100):
                self.engine.scan(PROMO, id="t%d-%d" % (t, i), author="a%d-%d" % (t, i), ts=10)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        v = self.engine.scan(PROMO, id="last", author="z", ts=10)
        self.assertEqual(v.state["spam.duplicate"]["copies"], 201)

    def test_state_replaced_while_another_thread_scans(self):
        # A periodic "engine.state = State.load(...)" while a worker thread scans: the replaced state
        # stays alive until that thread's scanner takes the new one (it was freed under the scan).
        stop = threading.Event()
        errors = []

        def work():
            i = 0
            try:
                while not stop.is_set():
                    self.engine.scan(PROMO * 20, id=i, author="a", channel="c", ts=10)
                    i += 1
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        th = threading.Thread(target=work)
        th.start()
        try:
            for _ in range(3000):
                self.engine.state = modfilter.State(memory_budget=1 << 20)
        finally:
            stop.set()
            th.join()
        self.assertEqual(errors, [])
        with self.assertRaises(ValueError):
            modfilter.State(memory_budget=10**20)

    def test_fingerprint(self):
        a = modfilter.fingerprint("Free entry to WIN a cruise!!! http://x.example/w?ref=1")
        b = modfilter.fingerprint("free entry to w1n a cruise http://x.example/w?ref=2")
        self.assertEqual(a[0], b[0])
        self.assertEqual(a[2], 6)  # free entry to win a cruise (the link is not a word)


if __name__ == "__main__":
    unittest.main()
