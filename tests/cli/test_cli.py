"""End-to-end tests of the modfilter CLI: one JSON line out per line in, in order, nothing lost."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

CLI = os.environ.get("MODFILTER_CLI", "modfilter")
SRC = os.environ.get("MODFILTER_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))

PACK = """
[category."promise"]
route = "legal"
hold = 1

[[rule]]
id = "obscene.f"
category = "abuse.obscene"
severity = "medium"
word = "fuck"
boundary = "prefix"
match = ["fuck off"]
no_match = ["firetruck"]

[[rule]]
id = "threat.kill"
category = "abuse.threat"
severity = "critical"
phrase = "i will kill you"
match = ["I will kill you"]
no_match = ["I will bill you"]

[[rule]]
id = "promise.refund"
category = "promise.refund"
severity = "high"
applies_to = "staff"
regex = "(we|i)('ll| will) refund"
match = ["we will refund you"]
no_match = ["we cannot refund you"]
"""


def run(args, data, check=True):
    p = subprocess.run([CLI] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pack = os.path.join(cls.tmp.name, "pack.toml")
        with open(cls.pack, "w") as f:
            f.write(PACK)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def scan(self, lines, *extra):
        data = b"".join(l + b"\n" for l in lines)
        out = run(["scan", "--rules", self.pack, *extra], data).stdout.decode()
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(rows), len(lines), out)
        return rows

    def test_one_line_out_per_line_in_in_order(self):
        lines = [
            b'{"id": "a", "text": "hello"}',
            b'not json at all',
            b'{"id": "c", "text": "I will kill you"}',
            b'',
            b'{"id": "e"}',
            b'[1, 2]',
            b'{"id": {"nested": true}, "text": "fuck"}',
        ]
        rows = self.scan(lines)
        self.assertEqual(rows[0]["id"], "a")
        self.assertEqual(rows[0]["action"], "ALLOW")
        self.assertEqual(rows[1]["line"], 2)
        self.assertIn("invalid JSON", rows[1]["error"])
        self.assertEqual(rows[2]["action"], "REJECT")
        self.assertEqual(rows[2]["hits"][0]["rule"], "threat.kill")
        self.assertEqual((rows[2]["hits"][0]["start"], rows[2]["hits"][0]["end"]), (0, 15))
        self.assertEqual(rows[3]["line"], 4)
        self.assertEqual(rows[4], {"line": 5, "id": "e", "error": 'missing "text"'})
        self.assertIn("JSON object", rows[5]["error"])
        self.assertEqual(rows[6]["id"], {"nested": True})
        self.assertEqual(rows[6]["categories"], {"abuse.obscene": 2})

    def test_numbers_no_double_holds_are_an_error_line(self):
        rows = self.scan([b'{"id": 7e7777777, "text": "hi"}', b'{"id": 2, "text": "hi"}'])
        self.assertEqual(rows[0]["line"], 1)
        self.assertIn("number overflow", rows[0]["error"])
        self.assertEqual(rows[1]["action"], "ALLOW")

    def test_author_role_decides_promises(self):
        text = b'"text": "Sorry! We will refund everyone by Friday."'
        rows = self.scan([b'{"id": 1, ' + text + b', "author": {"role": "staff"}}',
                          b'{"id": 2, ' + text + b', "author": {"role": "member"}}',
                          b'{"id": 3, ' + text + b', "author": {"role": "wizard"}}'])
        self.assertEqual(rows[0]["action"], "HOLD")
        self.assertEqual(rows[0]["routes"], ["legal"])
        self.assertEqual(rows[1]["action"], "ALLOW")
        self.assertEqual(rows[1]["hits"], [])
        self.assertIn("unknown author role", rows[2]["error"])

    def test_role_option_is_the_default_for_json_posts(self):
        text = b'"text": "Sorry! We will refund everyone by Friday."'
        rows = self.scan([b'{"id": 1, ' + text + b'}', b'{"id": 2, ' + text + b', "author": {"role": "member"}}'],
                         "--role", "staff")
        self.assertEqual(rows[0]["action"], "HOLD")  # no role in the post: --role staff
        self.assertEqual(rows[1]["action"], "ALLOW")  # the post's own role wins
        self.assertEqual(self.scan([b'{"id": 1, ' + text + b'}'])[0]["action"], "ALLOW")  # default member

    def test_invalid_utf8_is_scanned_with_exact_offsets(self):
        rows = self.scan([b'{"id": 1, "text": "\xff\xfe fuck"}'])
        self.assertEqual(rows[0]["invalid_utf8"], 2)
        self.assertEqual(rows[0]["action"], "FLAG")
        self.assertEqual((rows[0]["hits"][0]["start"], rows[0]["hits"][0]["end"]), (3, 7))

    def test_offsets_are_utf8_bytes(self):
        rows = self.scan(['{"id": 1, "text": "héé fuck"}'.encode()])
        self.assertEqual(rows[0]["hits"][0]["start"], 6)
        rows = self.scan([b'{"id": 1, "text": "\\u00e9 fuck"}'])  # JSON escapes count as decoded bytes
        self.assertEqual(rows[0]["hits"][0]["start"], 3)

    def test_censor_and_text_format(self):
        rows = self.scan([b'{"id": 1, "text": "fucking hell"}'], "--censor")
        self.assertEqual(rows[0]["censored"], "******* hell")
        out = run(["scan", "--rules", self.pack, "--format", "text", "--role", "staff"],
                  b"we will refund you\nhello\n").stdout.decode().splitlines()
        self.assertEqual([json.loads(l)["action"] for l in out], ["HOLD", "ALLOW"])
        self.assertEqual(json.loads(out[1])["id"], 2)

    def test_lone_surrogate_escape_is_scanned_as_one_invalid_byte(self):
        # JSON.stringify writes a lone surrogate for a broken emoji: the post is scanned, the escape
        # counts as one invalid UTF-8 sequence and stands for one byte of the text (offsets).
        rows = self.scan([b'{"id": 1, "text": "\\ud83d fuck"}',
                          b'{"id": 2, "text": "\\udc00\\ud800\\ud800 fuck"}',
                          b'{"id": "\\udfff", "text": "I will kill you"}'])
        self.assertEqual(rows[0]["invalid_utf8"], 1)
        self.assertEqual(rows[0]["action"], "FLAG")
        self.assertEqual((rows[0]["hits"][0]["start"], rows[0]["hits"][0]["end"]), (2, 6))
        self.assertEqual(rows[1]["invalid_utf8"], 3)
        self.assertEqual(rows[1]["hits"][0]["start"], 4)
        self.assertEqual(rows[2]["id"], "\ufffd")
        self.assertEqual(rows[2]["action"], "REJECT")

    def test_surrogate_pair_escape_is_the_character(self):
        rows = self.scan([b'{"id": 1, "text": "\\ud83d\\ude00 fuck"}', '{"id": 2, "text": "😀 fuck"}'.encode()])
        for r in rows:
            self.assertEqual(r["invalid_utf8"], 0)
            self.assertEqual((r["hits"][0]["start"], r["hits"][0]["end"]), (5, 9))

    def test_crlf_lines(self):
        data = b'{"id": 1, "text": "fuck"}\r\n{"id": 2, "text": "hello"}\r\nnot json\r\n{"id": 4, "text": "x"}'
        out = run(["scan", "--rules", self.pack], data).stdout.decode().splitlines()
        rows = [json.loads(l) for l in out]
        self.assertEqual([r.get("id") for r in rows], [1, 2, None, 4])
        self.assertEqual(rows[0]["hits"][0]["end"], 4)
        self.assertEqual(rows[2]["line"], 3)
        out = run(["scan", "--rules", self.pack, "--format", "text"], b"fuck\r\nhello\r\n").stdout.decode()
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([(r["id"], r["action"]) for r in rows], [(1, "FLAG"), (2, "ALLOW")])
        self.assertEqual(rows[0]["hits"][0]["end"], 4)

    def test_byte_order_mark_at_the_start(self):
        # A BOM starts the stream only: the first post is scanned without it (offsets as if it were
        # not there), and a BOM at the start of a later line is text (an invisible character).
        bom = b"\xef\xbb\xbf"
        rows = [json.loads(l) for l in run(["scan", "--rules", self.pack],
                                           bom + b'{"id": 1, "text": "fuck"}\n{"id": 2, "text": "x"}\n').stdout.decode().splitlines()]
        self.assertEqual([(r.get("id"), r.get("action")) for r in rows], [(1, "FLAG"), (2, "ALLOW")])
        self.assertEqual((rows[0]["hits"][0]["start"], rows[0]["hits"][0]["end"]), (0, 4))
        out = run(["scan", "--rules", self.pack, "--format", "text"], bom + b"fuck\n" + bom + b"fuck\n").stdout.decode()
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([r["action"] for r in rows], ["FLAG", "FLAG"])
        self.assertEqual(rows[0]["hits"][0]["start"], 0)
        self.assertEqual(rows[0]["evasion"], [])
        self.assertEqual(rows[1]["hits"][0]["start"], 3)
        # no newline at all: the one line is the first and the last
        rows = [json.loads(l) for l in run(["scan", "--rules", self.pack], bom + b'{"id": 7, "text": "hi"}').stdout.decode().splitlines()]
        self.assertEqual([(r.get("id"), r.get("action")) for r in rows], [(7, "ALLOW")])

    def test_lines_longer_than_the_read_buffer(self):
        big = b"x " * (1536 * 1024) + b"I will kill you"  # 3 MiB: crosses several 1 MiB reads
        rows = self.scan([b'{"id": 1, "text": "hello"}', b'{"id": 2, "text": "' + big + b'"}',
                          b'{"id": 3, "text": "fuck"}'])
        self.assertEqual(rows[1]["action"], "REJECT")
        self.assertEqual(rows[1]["hits"][0]["start"], len(big) - 15)
        self.assertEqual([r["id"] for r in rows], [1, 2, 3])
        self.assertEqual(rows[2]["action"], "FLAG")
        out = run(["scan", "--rules", self.pack, "--format", "text"], b"hi\n" + big + b"\nfuck\n").stdout
        rows = [json.loads(l) for l in out.decode().splitlines()]
        self.assertEqual([(r["id"], r["action"]) for r in rows], [(1, "ALLOW"), (2, "REJECT"), (3, "FLAG")])

    def test_posts_over_the_limits_are_error_lines(self):
        # Over the engine's 16 MiB post limit: the engine's error, in the middle of a batch.
        over_post = b"a" * (16 * 1024 * 1024 + 1)
        # Over the reader's 64 MiB line limit: read through without being kept.
        over_line = b"b" * (64 * 1024 * 1024 + 1)
        data = b"hello\n" + over_post + b"\nfuck\n" + over_line + b"\nI will kill you"
        out = run(["scan", "--rules", self.pack, "--format", "text"], data).stdout.decode().splitlines()
        rows = [json.loads(l) for l in out]
        self.assertEqual(len(rows), 5)
        self.assertEqual(rows[0]["action"], "ALLOW")
        self.assertEqual(rows[1]["line"], 2)
        self.assertEqual(rows[1]["id"], 2)
        self.assertIn("max_post_bytes", rows[1]["error"])
        self.assertEqual(rows[2]["action"], "FLAG")
        self.assertEqual(rows[3]["line"], 4)
        self.assertIn(str(len(over_line)), rows[3]["error"])
        self.assertEqual(rows[4]["action"], "REJECT")
        rows = self.scan([b'{"id": "big", "text": "' + over_post + b'"}', b'{"id": 2, "text": "hi"}'])
        self.assertEqual((rows[0]["line"], rows[0]["id"]), (1, "big"))
        self.assertIn("max_post_bytes", rows[0]["error"])
        self.assertEqual(rows[1]["action"], "ALLOW")

    def test_many_posts_across_batches_keep_order(self):
        lines, bad = [], {17, 63, 64, 65, 500, 999}
        for i in range(1, 1001):
            if i in bad:
                lines.append(b'{"id": %d, "text": 5}' % i if i % 2 else b"{broken %d" % i)
            else:
                lines.append(b'{"id": %d, "text": "%s", "channel": "c%d"}' % (i, b"fuck" if i % 7 == 0 else b"hi", i))
        rows = self.scan(lines)
        for i, r in enumerate(rows, 1):
            if i in bad:
                self.assertEqual(r["line"], i)
                self.assertIn("error", r)
                if i % 2:
                    self.assertEqual(r["id"], i)
            else:
                self.assertEqual((r["id"], r["channel"]), (i, "c%d" % i))
                self.assertEqual(r["action"], "FLAG" if i % 7 == 0 else "ALLOW")

    def test_threads_give_the_same_lines_in_the_same_order(self):
        # Batches shared among threads (--threads), with error lines and a post over the engine's
        # limit among them: the same output, byte for byte, as one thread.
        lines = []
        for i in range(1, 700):
            if i % 97 == 0:
                lines.append(b"{broken %d" % i)
            elif i == 300:
                lines.append(b'{"id": 300, "text": "' + b"a" * (16 * 1024 * 1024 + 1) + b'"}')
            else:
                text = [b"hi there", b"fuck off", b"we will refund you", b"I will kill you"][i % 4]
                role = b"staff" if i % 3 == 0 else b"member"
                lines.append(b'{"id": %d, "text": "%s", "author": {"role": "%s"}}' % (i, text, role))
        data = b"".join(l + b"\n" for l in lines)
        one = run(["scan", "--rules", self.pack, "--threads", "1"], data).stdout
        for n in ("2", "3", "0"):
            self.assertEqual(run(["scan", "--rules", self.pack, "--threads", n], data).stdout, one, n)
        rows = [json.loads(l) for l in one.decode().splitlines()]
        self.assertEqual(len(rows), len(lines))
        self.assertIn("max_post_bytes", rows[299]["error"])
        self.assertEqual(rows[5]["hits"][0]["rule"], "promise.refund")  # line 6: staff, a promise
        self.assertEqual(rows[1]["hits"], [])                                 # line 2: a member's promise

    def test_sighup_with_threads_swaps_every_scanner(self):
        import signal
        import time
        pack = os.path.join(self.tmp.name, "reload-threads.toml")
        zebra = ('[[rule]]\nid = "zebra"\ncategory = "abuse.zoo"\nseverity = "medium"\nword = "zebra"\n')
        with open(pack, "w") as f:
            f.write(zebra)
        p = subprocess.Popen([CLI, "scan", "--rules", pack, "--threads", "3"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def ask(i):  # 40 posts at once: batches that the three threads share
            p.stdin.write(b"".join(json.dumps({"id": i * 100 + k, "text": "a zebra and a giraffe"}).encode() + b"\n"
                                   for k in range(40)))
            p.stdin.flush()
            got = set()
            for k in range(40):
                v = json.loads(p.stdout.readline())
                self.assertEqual(v["id"], i * 100 + k)
                got.add(tuple(sorted(h["rule"] for h in v["hits"])))
            return got

        self.assertEqual(ask(0), {("zebra",)})
        with open(pack, "w") as f:
            f.write(zebra.replace("zebra", "giraffe"))
        p.send_signal(signal.SIGHUP)
        seen, i = [], 1
        while i < 100 and seen[-1:] != [{("giraffe",)}]:
            seen.append(ask(i))
            i += 1
            time.sleep(0.02)
        self.assertEqual(seen[-1], {("giraffe",)})
        self.assertEqual(ask(i), {("giraffe",)})  # and it stays so: every thread scans with the new rules
        p.stdin.close()
        self.assertEqual(p.wait(10), 0)
        self.assertIn("reloaded the rules", p.stderr.read().decode())

    def test_id_and_channel_are_copied_as_written(self):
        out = run(["scan", "--rules", self.pack],
                  b'{"id": 1e2, "channel": {"a": [1, "\\u00e9"]}, "text": "hi"}\n').stdout
        self.assertTrue(out.startswith(b'{"id":1e2,"channel":{"a": [1, "\\u00e9"]},"action":'), out)
        self.assertEqual(json.loads(out)["channel"], {"a": [1, "\u00e9"]})

    def test_check_rules_reports_file_line(self):
        bad = os.path.join(self.tmp.name, "bad")
        os.makedirs(bad, exist_ok=True)
        with open(os.path.join(bad, "x.toml"), "w") as f:
            f.write('[[rule]]\nid = "x"\ncategory = "abuse.x"\nseverity = "medium"\nword = "darn"\n'
                    'match = ["darnit"]\n')
        p = run(["check-rules", bad], b"", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(os.path.join(bad, "x.toml") + ':6: rule \'x\': example "darnit" should match but does not',
                      p.stdout.decode())
        p = run(["check-rules", self.pack], b"", check=False)
        self.assertEqual(p.returncode, 0, p.stdout)
        # each empty entry of a list on one line says which it is; an empty regex is told at its line
        with open(os.path.join(bad, "x.toml"), "w") as f:
            f.write('[[rule]]\nid = "x"\ncategory = "abuse.x"\nseverity = "medium"\nwords = ["", " ", "ok"]\n\n'
                    '[[rule]]\nid = "y"\ncategory = "abuse.x"\nseverity = "medium"\n\nregex = ""\n')
        out = run(["check-rules", bad], b"", check=False).stdout.decode()
        self.assertIn(":5: rule 'x': entry 1 is an empty word or phrase", out)
        self.assertIn(":5: rule 'x': entry 2 is an empty word or phrase", out)
        self.assertIn(":12: rule 'y': regex is empty", out)
        # an empty list matches nothing, ever: a mistake, not a rule
        with open(os.path.join(bad, "x.toml"), "w") as f:
            f.write('[[rule]]\nid = "x"\ncategory = "abuse.x"\nseverity = "medium"\nwords = []\n\n'
                    '[[rule]]\nid = "y"\ncategory = "abuse.x"\nseverity = "medium"\nphrases = [\n]\n')
        p = run(["check-rules", bad], b"", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(":5: rule 'x': words is empty: the rule could never match", p.stdout.decode())
        self.assertIn(":11: rule 'y': phrases is empty: the rule could never match", p.stdout.decode())
        # packs with no rule at all load (every post allowed), and check-rules says so
        with open(os.path.join(bad, "x.toml"), "w") as f:
            f.write('[pack]\nname = "nothing yet"\n')
        p = run(["check-rules", bad], b"", check=False)
        self.assertEqual(p.returncode, 0)
        self.assertIn("warning: the packs hold no rule", p.stdout.decode())

    def test_bad_rules_fail_with_message(self):
        p = run(["scan", "--rules", "/nonexistent"], b"", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("/nonexistent", p.stderr.decode())
        # a file that is no .toml pack is refused, not read as no rules (every post allowed)
        notes = os.path.join(self.tmp.name, "rules.txt")
        with open(notes, "w") as f:
            f.write('[[rule]]\nid = "x"\ncategory = "abuse.x"\nseverity = "high"\nword = "darn"\n')
        p = run(["scan", "--rules", notes], b'{"text": "darn"}\n', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, b"")
        self.assertIn(notes + ": not a rule pack", p.stderr.decode())
        p = run(["check-rules", notes], b"", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(notes + ": not a rule pack", p.stdout.decode())

    def test_usage_and_help(self):
        self.assertEqual(run(["--help"], b"", check=False).returncode, 0)
        self.assertIn(b"scan", run(["--help"], b"").stdout)
        self.assertEqual(run(["scan", "--format", "xml"], b"", check=False).returncode, 2)
        self.assertEqual(run([], b"", check=False).returncode, 2)

    def test_compiled_database_round_trip(self):
        db = os.path.join(self.tmp.name, "rules.mfdb")
        run(["compile", "--rules", self.pack, "-o", db], b"")
        out = run(["scan", "--db", db], b'{"id": 1, "text": "I will kill you"}\n').stdout
        self.assertEqual(json.loads(out)["action"], "REJECT")
        with open(db, "r+b") as f:
            f.seek(-5, 2)
            f.write(b"XXXXX")
        p = run(["scan", "--db", db], b"", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("corrupt", p.stderr.decode())

    ZEBRA = '[[rule]]\nid = "zebra"\ncategory = "abuse.zoo"\nseverity = "medium"\nword = "zebra"\n'

    def reloading_scan(self, name):
        """A `scan --rules PACK` process on a pack of one word rule ("zebra"), and ask(i): post i,
        "a zebra and a giraffe", is answered with the sorted rules of its hits."""
        pack = os.path.join(self.tmp.name, name)
        with open(pack, "w") as f:
            f.write(self.ZEBRA)
        p = subprocess.Popen([CLI, "scan", "--rules", pack], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)

        def ask(i):
            p.stdin.write(json.dumps({"id": i, "text": "a zebra and a giraffe"}).encode() + b"\n")
            p.stdin.flush()
            v = json.loads(p.stdout.readline())
            self.assertEqual(v["id"], i)
            return sorted(h["rule"] for h in v["hits"])
        return pack, p, ask

    def test_sighup_reloads_the_rules_between_batches(self):
        import signal
        import time
        pack, p, ask = self.reloading_scan("reload.toml")
        zebra = self.ZEBRA

        self.assertEqual(ask(0), ["zebra"])
        with open(pack, "w") as f:  # a mistake: refused, the old rules stay
            f.write(zebra + '[[rule]]\nid = "broken"\n')
        p.send_signal(signal.SIGHUP)
        for i in range(1, 4):
            self.assertEqual(ask(i), ["zebra"])
            time.sleep(0.1)
        with open(pack, "w") as f:
            f.write(zebra.replace("zebra", "giraffe"))
        p.send_signal(signal.SIGHUP)
        seen, i = [], 4
        while i < 200 and seen[-1:] != [["giraffe"]]:
            seen.append(ask(i))
            i += 1
            time.sleep(0.02)
        self.assertEqual(seen[-1], ["giraffe"])  # every line answered, old rules then new ones
        self.assertTrue(all(x in (["zebra"], ["giraffe"]) for x in seen))
        p.stdin.close()
        self.assertEqual(p.wait(10), 0)
        err = p.stderr.read().decode()
        self.assertIn("reload refused, the old rules stay", err)
        self.assertIn("reloaded the rules", err)

    def test_content_after_the_object_is_named(self):
        # simdjson reads "{...} trailing" as an object cut short; the error line says what it is when
        # the object alone parses, and keeps the object's own error when it does not
        p = run(["scan"], b'{"id": 1, "text": "a"} trailing\n{"id": "}{", "text": "a\\"}"} x\n'
                          b'{"text": 1e999} x\n{"text": tru} x\n{"text": "ok"}\n')
        rows = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertEqual([r.get("error") for r in rows[:2]], ["invalid JSON: content after the object"] * 2)
        self.assertIn("1e999", rows[2]["error"])
        self.assertNotIn("content after", rows[3]["error"])
        self.assertEqual(rows[4]["action"], "ALLOW")

    def test_several_inputs_are_one_stream(self):
        # Line numbers go on from one file to the next (so an error line names one line of the
        # whole input), and a missing file stops the run before any verdict is written.
        a, b = os.path.join(self.tmp.name, "a.jsonl"), os.path.join(self.tmp.name, "b.jsonl")
        with open(a, "w") as f:
            f.write('{"text": "hello"}\nnot json\n{"text": "no newline at the end"}')
        with open(b, "w") as f:
            f.write('not json either\n{"text": "bye"}\n')
        p = subprocess.run([CLI, "scan", a, b], capture_output=True)
        rows = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertEqual(p.returncode, 0)
        self.assertEqual(len(rows), 5)
        self.assertEqual([r.get("line") for r in rows], [None, 2, None, 4, None])
        p = subprocess.run([CLI, "scan", "--format", "text", a, b], capture_output=True)
        self.assertEqual([json.loads(l)["id"] for l in p.stdout.decode().splitlines()], [1, 2, 3, 4, 5])
        p = subprocess.run([CLI, "scan", a, os.path.join(self.tmp.name, "missing.jsonl"), b], capture_output=True)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, b"")
        self.assertIn(b"cannot open", p.stderr)

    def test_sighup_on_quiet_input_applies_to_the_next_post(self):
        # The rules load when the signal comes, not when the next post does: on a quiet stream the
        # first post after a reload is judged by the new rules, and a refused pack is reported
        # without waiting for a post.
        import select
        import signal
        pack, p, ask = self.reloading_scan("quiet.toml")
        zebra = self.ZEBRA

        def stderr_line():
            ready, _, _ = select.select([p.stderr], [], [], 30)
            self.assertTrue(ready, "nothing on stderr within 30 s")
            return p.stderr.readline().decode()

        self.assertEqual(ask(0), ["zebra"])
        with open(pack, "w") as f:
            f.write(zebra + '[[rule]]\nid = "broken"\n')
        p.send_signal(signal.SIGHUP)
        self.assertIn("reload refused, the old rules stay", stderr_line())
        with open(pack, "w") as f:
            f.write(zebra.replace("zebra", "giraffe"))
        p.send_signal(signal.SIGHUP)
        self.assertIn("new rules loaded", stderr_line())
        self.assertEqual(ask(1), ["giraffe"])
        p.stdin.close()
        self.assertEqual(p.wait(10), 0)
        self.assertIn("reloaded the rules", p.stderr.read().decode())

    def test_example_file_with_default_packs(self):
        with open(os.path.join(SRC, "examples", "posts.jsonl"), "rb") as f:
            lines = f.read().splitlines()
        out = run(["scan"], b"\n".join(lines) + b"\n").stdout.decode().splitlines()
        self.assertEqual(len(out), len(lines))
        rows = {r.get("id", r.get("line")): r for r in map(json.loads, out)}
        self.assertEqual(rows[1]["action"], "ALLOW")           # clean
        self.assertIn(rows[2]["action"], ("HOLD", "REJECT"))   # insult + threat
        self.assertNotEqual(rows[3]["action"], "ALLOW")        # spam
        self.assertEqual(rows[4]["action"], "HOLD")            # staff promises a refund by Friday
        self.assertEqual(rows[5]["action"], "ALLOW")           # a customer writing the same
        self.assertIn("invalid JSON", rows[6]["error"])
        self.assertEqual(rows[7]["invalid_utf8"], 2)  # a Latin-1 "é" and a stray 0xFF
        self.assertIn("error", rows[8])
        self.assertEqual(rows[9]["action"], "ALLOW")           # hedged staff language


class CliStateTest(unittest.TestCase):
    """scan --state: who, where and when in the JSON lines; state kept across runs."""

    TEXT = "Cheap watches and designer bags at half price this week, visit our shop today"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state.bin")
        self.pack = os.path.join(self.tmp.name, "pack.toml")
        with open(self.pack, "w") as f:
            f.write(PACK + '\n[category."spam"]\nroute = "support"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def post(self, i, text=None, **extra):
        d = {"id": "p%d" % i, "text": text or self.TEXT, "author": {"id": "u%d" % i, "role": "member", "age_days": 30},
             "channel": "c%d" % (i % 2), "ts": 1000 + i}
        d.update(extra)
        return json.dumps(d).encode()

    def scan(self, lines, *extra, check=True):
        p = run(["scan", "--rules", self.pack, *extra], b"".join(l + b"\n" for l in lines), check=check)
        return p, [json.loads(l) for l in p.stdout.decode().splitlines()]

    def test_state_is_kept_across_runs(self):
        _, rows = self.scan([self.post(1), self.post(2)], "--state", self.state)
        self.assertEqual([r["action"] for r in rows], ["ALLOW", "ALLOW"])
        self.assertTrue(os.path.exists(self.state))
        _, rows = self.scan([self.post(3)], "--state", self.state)  # a restart does not forget
        self.assertEqual(rows[0]["action"], "FLAG")
        dup = rows[0]["state"]["spam.duplicate"]
        self.assertEqual((dup["copies"], dup["authors"], dup["channels"], dup["since"]), (3, 3, 2, 1001))
        self.assertEqual(dup["earlier"], ["p2", "p1"])
        self.assertEqual(rows[0]["categories"]["spam.duplicate"], 3)
        self.assertEqual(rows[0]["routes"], ["support"])

    def test_sigterm_and_sigint_answer_what_was_read_and_save_the_state(self):
        # A pipeline under systemd or docker is stopped with SIGTERM, on a quiet input: the posts read
        # whole are answered, the state is saved, exit 0; a post read only in part is not answered.
        import select
        import signal
        for sig in (signal.SIGTERM, signal.SIGINT):
            if os.path.exists(self.state):
                os.remove(self.state)
            # (SIGINT as a terminal sends it: a runner that started these tests in the background
            # left it ignored, and the scan keeps an ignored SIGINT ignored)
            p = subprocess.Popen([CLI, "scan", "--rules", self.pack, "--state", self.state], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            p.stdin.write(self.post(1) + b"\n" + self.post(2) + b"\n" + self.post(3)[:20])
            p.stdin.flush()
            first = b""
            while first.count(b"\n") < 2:  # (the two whole lines answered: the input is now quiet)
                ready, _, _ = select.select([p.stdout], [], [], 30)
                self.assertTrue(ready, "no verdict within 30 s")
                chunk = os.read(p.stdout.fileno(), 65536)
                self.assertTrue(chunk, "the scan ended before the signal")
                first += chunk
            p.send_signal(sig)
            # (the input stays open until the scan says it stopped: closing it first would be its end,
            # where the partial line is answered as the last one)
            ready, _, _ = select.select([p.stderr], [], [], 30)
            self.assertTrue(ready, "nothing on stderr within 30 s of the signal")
            said = p.stderr.readline()
            self.assertIn(b"stopped by a signal", said)
            out, err = p.communicate(timeout=30)
            rows = [json.loads(l) for l in (first + out).decode().splitlines()]
            self.assertEqual([r["id"] for r in rows], ["p1", "p2"], sig)
            self.assertEqual(p.returncode, 0, err)
            self.assertTrue(os.path.exists(self.state), sig)
            _, again = self.scan([self.post(3)], "--state", self.state)  # the saved state remembers both
            self.assertEqual(again[0]["state"]["spam.duplicate"]["copies"], 3)

    def test_state_is_saved_every_n_seconds_while_the_input_is_quiet(self):
        # A forum at night sends nothing for hours: the state is saved on the clock, not only when a
        # line comes in (it was written only at exit, so a crash in a quiet hour lost it all).
        import time
        if os.path.exists(self.state):
            os.remove(self.state)
        p = subprocess.Popen([CLI, "scan", "--rules", self.pack, "--state", self.state, "--state-save-every", "0.2"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            p.stdin.write(self.post(1) + b"\n")
            p.stdin.flush()
            deadline = time.time() + 20
            while not os.path.exists(self.state) and time.time() < deadline:
                time.sleep(0.05)
            self.assertTrue(os.path.exists(self.state), "no state file while the input stays open")
        finally:
            p.communicate(timeout=30)  # (closes the input: its end)
        self.assertEqual(p.returncode, 0)

    def test_without_state_nothing_changes(self):
        _, with_fields = self.scan([self.post(i) for i in range(5)])
        _, plain = self.scan([json.dumps({"id": "p%d" % i, "text": self.TEXT, "channel": "c%d" % (i % 2)}).encode()
                              for i in range(5)])
        self.assertEqual(with_fields, plain)
        self.assertNotIn("state", plain[4])

    def test_edits_and_young_accounts(self):
        _, rows = self.scan([self.post(1), self.post(1, edit=True), self.post(1, edit=True),
                             self.post(9, "see http://x.example/a", author={"id": "new", "age_days": 0}),
                             self.post(10, "see http://x.example/a", author={"role": "member"})], "--state", self.state)
        self.assertEqual([r["action"] for r in rows], ["ALLOW", "ALLOW", "ALLOW", "FLAG", "ALLOW"])
        self.assertIn("an edit: not counted as a new post", rows[1]["state"]["notes"])
        self.assertEqual(rows[3]["state"]["spam.new-account-links"]["age_days"], 0)
        self.assertIn("no author id", rows[4]["state"]["notes"][0])

    def test_a_field_named_twice_is_an_error_line(self):
        # (the last one winning would let "text" say one thing to a validator that reads the first
        # and another to the filter)
        _, rows = self.scan([b'{"id": "a", "text": "hello", "text": "you idiot"}',
                             b'{"id": "b", "text": "hi", "author": {"role": "member", "role": "staff"}}',
                             b'{"id": "c", "text": "hi", "extra": 1, "extra": 2}'])
        self.assertEqual(rows[0]["error"], 'the key "text" appears twice')
        self.assertIn('"author"', rows[1]["error"])
        self.assertEqual(rows[2]["action"], "ALLOW")  # (a key the scan does not read may repeat)
        self.assertEqual([r["id"] for r in rows], ["a", "b", "c"])

    def test_wrong_types_are_error_lines_naming_the_field(self):
        posts = [self.post(1, author={"id": "u1", "role": "admin-ish"}),
                 self.post(2, author={"id": "u2", "age_days": "young"}),
                 self.post(3, author=["u3"]),
                 self.post(4, ts="yesterday"),
                 self.post(5, edit="yes"),
                 self.post(6, ts=-5),
                 self.post(7),
                 self.post(8, ts=1767225600123)]  # (milliseconds, as Date.now() gives them)
        # "ts", "edit" and "author.age_days" are read only with a state: without one, a value the
        # state could not read does not cost the post its verdict (a forum exporting ISO dates)
        _, plain = self.scan(posts)
        self.assertEqual([("error" in r) for r in plain], [True, False, True, False, False, False, False, False])
        self.assertEqual([r.get("id") for r in plain], ["p%d" % i for i in range(1, 9)])
        _, rows = self.scan(posts, "--state", self.state)
        self.assertIn('"author.role": unknown author role "admin-ish"', rows[0]["error"])
        self.assertIn('"author.age_days"', rows[1]["error"])
        self.assertIn('"author" must be an object', rows[2]["error"])
        self.assertIn('"ts"', rows[3]["error"])
        self.assertIn('"edit"', rows[4]["error"])
        self.assertIn('"ts"', rows[5]["error"])
        self.assertEqual(rows[6]["action"], "ALLOW")
        self.assertIn("not milliseconds", rows[7]["error"])
        # a platform's role is its plugin's to map; a role where the author object belongs is no
        # role; "Staff" is staff, as the bindings read it
        _, roles = self.scan([self.post(1, "we will refund you", author={"role": "admin"}),
                             self.post(2, "we will refund you", author="staff"),
                             self.post(3, "we will refund you", author={"role": "Staff"})])
        self.assertIn('"author.role": unknown author role "admin"', roles[0]["error"])
        self.assertIn('"author" must be an object', roles[1]["error"])
        self.assertIn("promise.refund", roles[2]["categories"])

    def test_state_policy_mistakes_name_file_and_line(self):
        bad = os.path.join(self.tmp.name, "policy.toml")
        with open(bad, "w") as f:
            f.write('[state]\nflood_flg = 3\nduplicate_hold = 2\nduplicate_reject = 1\n'
                    '[state.channel."x"]\nflood_reject = 99\n')
        p = run(["check-rules", bad], b"", check=False)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 1)
        self.assertIn(bad + ":2: unknown key 'flood_flg' in [state] (did you mean 'flood_flag'?)", out)
        self.assertIn("flood_reject must be a number from 0 to 32", out)
        self.assertIn(bad + ":1: [state]: thresholds must satisfy flag <= hold <= reject", out)
        # a channel's thresholds out of order: told at the channel's key, not at [state]
        with open(bad, "w") as f:
            f.write('[state]\nflood_flag = 6\n[state.channel."off-topic"]\nflood_hold = 3\n')
        out = run(["check-rules", bad], b"", check=False).stdout.decode()
        self.assertIn(bad + ':4: [state.channel."off-topic"]: thresholds must satisfy', out)

    def test_corrupt_state_file_is_refused_unless_reset_is_asked(self):
        with open(self.state, "wb") as f:
            f.write(b"MFSTATE\0" + b"\0" * 10)
        p, rows = self.scan([self.post(1)], "--state", self.state, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"truncated", p.stderr)
        self.assertEqual(rows, [])
        p, rows = self.scan([self.post(1)], "--state", self.state, "--state-reset-on-error")
        self.assertEqual(rows[0]["action"], "ALLOW")
        self.assertIn(b"empty state", p.stderr)
        # the refused file is kept, as it was, beside the new one
        kept = [n for n in os.listdir(os.path.dirname(self.state))
                if n.startswith(os.path.basename(self.state) + ".refused.")]
        self.assertEqual(len(kept), 1, os.listdir(os.path.dirname(self.state)))
        with open(os.path.join(os.path.dirname(self.state), kept[0]), "rb") as f:
            self.assertEqual(f.read(), b"MFSTATE\0" + b"\0" * 10)
        _, rows = self.scan([self.post(2)], "--state", self.state)  # the new file is good
        self.assertEqual(rows[0]["action"], "ALLOW")

    def test_state_in_a_place_that_cannot_be_written_is_refused_before_scanning(self):
        where = os.path.join(os.path.dirname(self.state), "no-such-dir", "state.bin")
        p, rows = self.scan([self.post(1)], "--state", where, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(rows, [])
        self.assertIn(b"cannot save state", p.stderr)
        self.assertIn(b"no-such-dir", p.stderr)
        self.assertFalse(os.path.exists(os.path.dirname(where)))


if __name__ == "__main__":
    unittest.main()
