"""Scanning one post: actions, categories, hits, offsets, roles, censoring."""

import json
import os
import subprocess
import tempfile
import unittest

from _support import RULES, engine, modfilter
from modfilter import Action, Evasion, Role, Severity


def _as_the_cli_passes_it(text):
    """The UTF-8 the CLI gives the engine for json.dumps(text): a high-low surrogate pair is the
    character it encodes, any other surrogate the byte 0xFF."""
    out, i = [], 0
    while i < len(text):
        c = ord(text[i])
        if 0xD800 <= c <= 0xDBFF and i + 1 < len(text) and 0xDC00 <= ord(text[i + 1]) <= 0xDFFF:
            out.append(chr(0x10000 + ((c - 0xD800) << 10) + ord(text[i + 1]) - 0xDC00).encode())
            i += 2
            continue
        out.append(b"\xff" if 0xD800 <= c <= 0xDFFF else text[i].encode())
        i += 1
    return b"".join(out)


class ScanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = engine()

    @classmethod
    def tearDownClass(cls):
        cls.engine.close()

    def test_issue_example(self):
        v = self.engine.scan("You are an idiot", author_role="member")
        self.assertIs(v.action, Action.FLAG)
        self.assertEqual(v.categories, {"abuse.harassment": 2.0})
        self.assertEqual(
            [(h.rule, h.category, h.start, h.end, h.text) for h in v.hits],
            [("harass.idiot", "abuse.harassment", 11, 16, "idiot")],
        )
        self.assertIs(v.hits[0].severity, Severity.MEDIUM)
        self.assertEqual(v.hits[0].score, 2.0)
        self.assertIsNone(v.censored)
        self.assertTrue(v.flagged)

    def test_clean_post_is_allowed(self):
        v = self.engine.scan("Thanks, the update fixed my problem.")
        self.assertIs(v.action, Action.ALLOW)
        self.assertEqual(v.categories, {})
        self.assertEqual(v.hits, ())
        self.assertFalse(v.flagged)
        self.assertEqual(v.invalid_utf8, 0)
        self.assertFalse(v.hits_truncated)

    def test_empty_post(self):
        v = self.engine.scan("")
        self.assertIs(v.action, Action.ALLOW)
        self.assertEqual(v.hits, ())

    def test_scores_add_per_distinct_rule_and_reach_thresholds(self):
        # the same rule twice counts once
        v = self.engine.scan("idiot, idiot, idiot")
        self.assertEqual(v.categories, {"abuse.harassment": 2.0})
        self.assertEqual(len(v.hits), 3)
        self.assertIs(v.action, Action.FLAG)
        # medium (2) + high (4) in one category: 6 >= hold (4)
        v = self.engine.scan("idiot and moron")
        self.assertEqual(v.categories, {"abuse.harassment": 6.0})
        self.assertIs(v.action, Action.HOLD)
        # critical (8): reject
        v = self.engine.scan("I will kill you")
        self.assertIs(v.action, Action.REJECT)
        self.assertEqual(v.categories, {"abuse.threat": 8.0})
        # a low rule alone (1) stays below flag (2)
        v = self.engine.scan("cheap watches")
        self.assertIs(v.action, Action.ALLOW)
        self.assertEqual(v.categories, {"spam.commercial": 1.0})
        self.assertEqual([h.rule for h in v.hits], ["spam.cheap"])

    def test_actions_are_ordered_enums(self):
        self.assertLess(Action.ALLOW, Action.FLAG)
        self.assertLess(Action.HOLD, Action.REJECT)
        v = self.engine.scan("idiot and moron")
        self.assertGreaterEqual(v.action, Action.HOLD)
        self.assertEqual(v.action.name, "HOLD")
        self.assertEqual(str(v.action), "HOLD")
        self.assertEqual(f"{v.action} {Severity.LOW:>6}", "HOLD    LOW")
        self.assertEqual(int(v.action), 2)

    def test_category_details(self):
        v = self.engine.scan("idiot. I will kill you")
        details = {c.name: c for c in v.category_details}
        self.assertEqual(set(details), {"abuse.harassment", "abuse.threat"})
        self.assertEqual(details["abuse.threat"].score, 8.0)
        self.assertIs(details["abuse.threat"].action, Action.REJECT)
        self.assertIs(details["abuse.harassment"].action, Action.FLAG)
        self.assertIs(v.action, Action.REJECT)

    def test_hits_are_in_start_order(self):
        text = "moron, then idiot, then imbecile"
        v = self.engine.scan(text)
        self.assertEqual([h.text for h in v.hits], ["moron", "idiot", "imbecile"])
        self.assertEqual([h.start for h in v.hits], sorted(h.start for h in v.hits))

    def test_roles(self):
        text = "We will give you a full refund."
        self.assertEqual(self.engine.scan(text).hits, ())
        self.assertEqual(self.engine.scan(text, author_role="member").hits, ())
        for role in ("staff", "STAFF", Role.STAFF, 1):
            v = self.engine.scan(text, author_role=role)
            self.assertEqual([h.rule for h in v.hits], ["promise.refund"], role)
            self.assertIs(v.action, Action.HOLD)  # high: 4
        with self.assertRaises(ValueError):
            self.engine.scan(text, author_role="admin")

    def test_offsets_are_str_indices_on_non_ascii_text(self):
        # astral emoji (4 UTF-8 bytes, 1 str index), accents (2 bytes), Cyrillic (2 bytes), CJK (3 bytes)
        text = "😀😀 Café — 東京: tu es un crétin 👍🏽, ты дурак, idiot!"
        v = self.engine.scan(text)
        got = [(h.rule, h.start, h.end, h.text) for h in v.hits]
        expected = []
        for rule, word in (("fr.cretin", "crétin"), ("ru.durak", "дурак"), ("harass.idiot", "idiot")):
            i = text.index(word)
            expected.append((rule, i, i + len(word), word))
        self.assertEqual(got, expected)
        for h in v.hits:
            self.assertEqual(text[h.start : h.end], h.text)

    def test_offsets_after_many_astral_characters(self):
        text = "🎉" * 300 + " idiot " + "𝔘" * 50 + " moron"
        v = self.engine.scan(text)
        self.assertEqual([(h.start, h.end) for h in v.hits], [(301, 306), (358, 363)])

    def test_str_subclass(self):
        class Post(str):
            pass

        text = Post("😀 idiot")
        v = self.engine.scan(text, censor=True)
        self.assertEqual([(h.start, h.end) for h in v.hits], [(2, 7)])
        self.assertEqual(v.censored, "😀 *****")

    def test_bytes_post_gives_byte_offsets(self):
        data = "Café idiot".encode()
        v = self.engine.scan(data)
        self.assertEqual([(h.start, h.end, h.text) for h in v.hits], [(6, 11, b"idiot")])
        self.assertEqual(v.text, data)

    def test_invalid_utf8_is_tolerated_and_counted(self):
        data = b"\xff\xfe idiot"
        v = self.engine.scan(data)
        self.assertGreaterEqual(v.invalid_utf8, 1)
        self.assertEqual([(h.start, h.end) for h in v.hits], [(3, 8)])
        self.assertEqual(data[3:8], b"idiot")

    def test_lone_surrogate_in_str(self):
        text = "\ud800 idiot"  # not encodable as strict UTF-8: sent as invalid bytes
        v = self.engine.scan(text)
        self.assertGreaterEqual(v.invalid_utf8, 1)
        self.assertEqual([(h.start, h.end, h.text) for h in v.hits], [(2, 7, "idiot")])

    def test_surrogates_in_str_count_as_the_cli_reads_the_same_escapes(self):
        # The CLI reads a lone surrogate escape as one invalid byte (one U+FFFD, counted once) and a
        # high-low pair as the character it encodes; a str holding the same code points agrees.
        cases = [
            ("\ud800", 1, []),
            ("x\ud800\udfff", 0, []),  # a pair: U+103FF
            ("\ud83d\ude00 idiot", 0, ["idiot"]),  # a pair: the emoji
            ("\udfff\ud800 you idiot", 2, ["idiot"]),  # low then high: two lone ones
            ("\ud800 you idiot", 1, ["idiot"]),
            ("é\ud800 😀 \ud83d\ude00 crétin \udc00 дурак \ud83d moron", 3, ["crétin", "дурак", "moron"]),
        ]
        for text, invalid, words in cases:
            v = self.engine.scan(text, censor=True)
            self.assertEqual(v.invalid_utf8, invalid, ascii(text))
            self.assertEqual([h.text for h in v.hits], words, ascii(text))
            for h in v.hits:
                self.assertEqual(text[h.start : h.end], h.text)
            censored = text
            for w in words:
                censored = censored.replace(w, "*" * len(w))
            self.assertEqual(v.censored, censored, ascii(text))  # the surrogates kept, as passed
            self.assertEqual(v, list(self.engine.scan_many([text], censor=True))[0])

    @unittest.skipUnless(os.environ.get("MODFILTER_CLI"), "MODFILTER_CLI not set")
    def test_surrogates_agree_with_the_cli(self):
        texts = ["\ud800", "x\ud800\udfff", "\ud800 you idiot", "\udfff\ud800 you idiot",
                 "é\ud800 😀 \ud83d\ude00 crétin \udc00 дурак \ud83d moron"]
        with tempfile.TemporaryDirectory() as tmp:
            rules = os.path.join(tmp, "rules.toml")
            with open(rules, "w", encoding="utf-8") as f:
                f.write(RULES)
            r = subprocess.run([os.environ["MODFILTER_CLI"], "scan", "--rules", rules],
                               input="".join(json.dumps({"text": t}) + "\n" for t in texts),
                               capture_output=True, text=True, check=True)
        for text, line in zip(texts, r.stdout.splitlines()):
            cli = json.loads(line)
            v = self.engine.scan(text)
            self.assertEqual(v.invalid_utf8, cli["invalid_utf8"], ascii(text))
            # The CLI's offsets are into the text as it passes it on: a lone surrogate is one byte.
            passed = _as_the_cli_passes_it(text)
            self.assertEqual([(h.rule, h.text) for h in v.hits],
                             [(h["rule"], passed[h["start"] : h["end"]].decode()) for h in cli["hits"]], ascii(text))

    def test_evasion_is_reported_with_str_offsets(self):
        cases = [
            ("you ｉｄｉｏｔ", "ｉｄｉｏｔ", Evasion.COMPAT),  # fullwidth letters
            ("you i\u200bdiot", "i\u200bdiot", Evasion.INVISIBLE),  # zero-width space inside
            ("you i\u0301diot", "i\u0301diot", Evasion.COMBINING),  # combining acute accent
            ("😀 you іdiot", "іdiot", Evasion.CONFUSABLE),  # Cyrillic і
        ]
        for text, span, flag in cases:
            v = self.engine.scan(text, censor=True)
            self.assertEqual([h.text for h in v.hits], [span], text)
            h = v.hits[0]
            self.assertEqual(text[h.start : h.end], span)
            self.assertIn(flag, h.evasion, text)
            self.assertIn(flag, v.evasion, text)
            self.assertEqual(v.censored, text.replace(span, "*" * len(span)))
        self.assertIn("mixed_script", self.engine.scan("you іdiot").to_dict()["evasion"])

    def test_quoted_hits_are_marked_and_count_for_part_of_their_score(self):
        v = self.engine.scan("> You are an idiot\nplease keep it civil", author_role="member")
        self.assertIs(v.action, Action.ALLOW)  # medium (2) quoted: half, under FLAG
        self.assertEqual(v.categories, {"abuse.harassment": 1.0})
        self.assertEqual([(h.text, h.quoted) for h in v.hits], [("idiot", True)])
        self.assertIs(v.to_dict()["hits"][0]["quoted"], True)
        v = self.engine.scan("You are an idiot", author_role="member")
        self.assertEqual([h.quoted for h in v.hits], [False])
        self.assertNotIn("quoted", v.to_dict()["hits"][0])

    def test_censor(self):
        v = self.engine.scan("You are an idiot", censor=True)
        self.assertEqual(v.censored, "You are an *****")
        # one star per code point, not per byte
        v = self.engine.scan("😀 quel crétin !", censor=True)
        self.assertEqual(v.censored, "😀 quel ****** !")
        v = self.engine.scan("nothing to hide", censor=True)
        self.assertEqual(v.censored, "nothing to hide")
        v = self.engine.scan(b"idiot", censor=True)
        self.assertEqual(v.censored, b"*****")

    def test_to_dict_is_json_ready(self):
        import json

        v = self.engine.scan("😀 idiot", censor=True)
        d = json.loads(json.dumps(v.to_dict()))
        self.assertEqual(d["action"], "FLAG")
        self.assertEqual(d["categories"], {"abuse.harassment": 2.0})
        self.assertEqual(d["hits"][0]["start"], 2)
        self.assertEqual(d["hits"][0]["severity"], "medium")
        self.assertEqual(d["censored"], "😀 *****")

    def test_verdicts_pickle(self):
        import pickle

        for text in ("😀 idiot and moron", "fine"):
            v = self.engine.scan(text, censor=True)
            w = pickle.loads(pickle.dumps(v))
            self.assertEqual(w, v)
            self.assertEqual(w.hits, v.hits)
            self.assertIs(w.action, v.action)

    def test_verdict_is_independent_of_later_scans(self):
        first = self.engine.scan("idiot")
        self.engine.scan("I will kill you, moron")
        self.assertIs(first.action, Action.FLAG)
        self.assertEqual([h.rule for h in first.hits], ["harass.idiot"])

    def test_type_errors(self):
        with self.assertRaises(TypeError):
            self.engine.scan(42)  # type: ignore[arg-type]

    def test_repr(self):
        self.assertIn("FLAG", repr(self.engine.scan("idiot")))
        self.assertIn("rules", repr(self.engine))


class OptionsTest(unittest.TestCase):
    def test_thresholds_override_policy(self):
        with engine(flag_threshold=1.0) as e:
            self.assertIs(e.scan("cheap").action, Action.FLAG)
        with engine(hold_threshold=2.0, reject_threshold=2.0) as e:
            self.assertIs(e.scan("idiot").action, Action.REJECT)
        # out of order, alone or against the pack's own values (hold 4): refused, as in policy.toml
        with self.assertRaises(ValueError) as cm:
            engine(flag_threshold=5, hold_threshold=1, reject_threshold=0.5)
        self.assertIn("flag <= hold <= reject", str(cm.exception))
        with self.assertRaises(ValueError):
            engine(reject_threshold=2.0)

    def test_max_hits_truncates_but_still_scores(self):
        with engine(max_hits=2) as e:
            v = e.scan("idiot idiot idiot moron moron")
            self.assertEqual(len(v.hits), 2)
            self.assertTrue(v.hits_truncated)
            self.assertEqual(v.categories, {"abuse.harassment": 6.0})

    def test_max_post_bytes(self):
        with engine(max_post_bytes=10) as e:
            self.assertIs(e.scan("idiot").action, Action.FLAG)
            with self.assertRaises(modfilter.PostTooLargeError) as cm:
                e.scan("idiot, you idiot")
            self.assertEqual(cm.exception.status, -8)
            self.assertIsInstance(cm.exception, ValueError)
            # 4 characters but 16 bytes: the limit is in UTF-8 bytes
            with self.assertRaises(modfilter.PostTooLargeError):
                e.scan("😀😀😀😀")

    def test_bad_option_values(self):
        with self.assertRaises(ValueError):
            engine(max_hits=0)
        with self.assertRaises(ValueError):
            engine(flag_threshold=-1)


class EngineTest(unittest.TestCase):
    def test_rules_introspection(self):
        with engine() as e:
            self.assertEqual(e.rule_count, RULES.count("[[rule]]"))
            rules = {r.id: r for r in e.rules}
            self.assertEqual(rules["threat.kill"].category, "abuse.threat")
            self.assertIs(rules["threat.kill"].severity, Severity.CRITICAL)
            self.assertEqual(rules["threat.kill"].score, 8.0)

    def test_close(self):
        e = engine()
        e.scan("idiot")
        self.assertFalse(e.closed)
        e.close()
        self.assertTrue(e.closed)
        with self.assertRaises(ValueError):
            e.scan("idiot")
        e.close()  # twice is fine

    def test_default_packs(self):
        with modfilter.Engine() as e:
            self.assertGreater(e.rule_count, 0)
            self.assertIs(e.scan("Thanks for the quick answer!").action, Action.ALLOW)

    def test_library_version(self):
        self.assertRegex(modfilter.library_version(), r"^\d+\.\d+\.\d+$")
        self.assertTrue(modfilter.library_path())


if __name__ == "__main__":
    unittest.main()
