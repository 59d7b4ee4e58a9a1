"""modfilter worker end to end: a redis-server of the test's own, posts in, exactly one verdict per
input entry out, equal to what `modfilter scan` says about the same post."""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from redis_util import Server, free_port  # noqa: E402

CLI = os.environ.get("MODFILTER_CLI", "modfilter")
# Under the sanitizers everything runs several times slower: fewer posts, same checks.
SCALE = 0.25 if os.environ.get("MF_SANITIZE") == "1" else 1.0
WAIT = 120 if os.environ.get("MF_SANITIZE") == "1" else 45

PHRASES = [
    "Thanks for the quick reply, the update fixed my problem.",
    "you are a fucking idiot and everyone here knows it",
    "I will kill you if you post that again",
    "Buy cheap pills now!!! visit http://cheap-pills.example.com",
    "Has anyone tried the new firmware on the older model?",
    "Call me at 555-123-4567 or mail jane.doe@example.com",
    "We will refund you within five business days.",
    "f u c k off, nobody asked",
    "The meeting moved to Thursday, see the calendar.",
    "Ünïcödé test: naïve café, 日本語のテキスト, emoji 🙂",
]


def make_posts(n, seed=1):
    rnd = random.Random(seed)
    posts = []
    for i in range(n):
        text = " ".join(rnd.choice(PHRASES) for _ in range(rnd.randint(1, 3)))
        post = {"id": i, "text": text, "author": {"id": f"u{rnd.randint(1, 50)}",
                                                  "role": rnd.choice(["member", "member", "staff"])},
                "channel": f"c{i % 7}"}
        posts.append(json.dumps(post, ensure_ascii=rnd.random() < 0.5))
    return posts


def pause(proc):
    """SIGSTOP, and wait until the process is stopped (the signal is delivered asynchronously)."""
    proc.send_signal(signal.SIGSTOP)
    for _ in range(1000):
        with open(f"/proc/{proc.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                return
        time.sleep(0.001)
    raise AssertionError("the process did not stop")


def scan(posts, *extra):
    """modfilter scan's verdicts by post id."""
    p = subprocess.run([CLI, "scan", *extra], input="".join(x + "\n" for x in posts).encode(),
                       stdout=subprocess.PIPE, check=True)
    out = {}
    for line in p.stdout.decode().splitlines():
        v = json.loads(line)
        v.pop("line", None)
        out[v["id"]] = v
    return out


class WorkerTest(unittest.TestCase):
    def setUp(self):
        self.redis = Server().start()
        self.r = self.redis.client()
        self.workers = []
        self.tmp = tempfile.TemporaryDirectory()
        self.logs = []

    def tearDown(self):
        for w in self.workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        for log in self.logs:
            log.close()
        self.r.close()
        self.redis.__exit__()
        self.tmp.cleanup()

    def start_worker(self, *extra, env=None, name=None):
        log = open(os.path.join(self.tmp.name, f"worker{len(self.logs)}.log"), "w+")
        self.logs.append(log)
        args = [CLI, "worker", "--redis", self.redis.url(), "--stream", "in", "--group", "g",
                "--out-stream", "out", "--log-every", "1", *extra]
        if name:
            args += ["--consumer", name]
        w = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log,
                             env=dict(os.environ, **(env or {})))
        self.workers.append(w)
        return w

    def log_text(self, i):
        self.logs[i].flush()
        with open(self.logs[i].name) as f:
            return f.read()

    def feed(self, posts, field="post"):
        ids = self.r.pipeline([["XADD", "in", "*", field, p] for p in posts])
        return ids

    def wait_out(self, n, stream="out"):
        deadline = time.time() + WAIT
        while time.time() < deadline:
            try:
                if self.r.call("XLEN", stream) >= n:
                    return
            except (OSError, ConnectionError):
                pass
            for w in self.workers:
                if w.poll() not in (None, 0, -signal.SIGKILL):
                    self.fail(f"a worker exited with {w.returncode}")
            time.sleep(0.1)
        self.fail(f"{stream}: {self.r.call('XLEN', stream)} entries after {WAIT} s, expected {n}")

    def stop_all(self):
        for w in self.workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in self.workers:
            if w.returncode != -signal.SIGKILL:
                self.assertEqual(w.wait(30), 0)

    def verdicts(self, ids, stream="out"):
        """The output stream by input id; fails when an input id is missing or appears twice."""
        out = {}
        for _, f in self.r.xrange_all(stream):
            self.assertNotIn(f["in"], out, f"input {f['in']} judged twice")
            v = json.loads(f["verdict"])
            self.assertEqual(v.pop("stream_id"), f["in"])
            out[f["in"]] = v
        self.assertEqual(sorted(out), sorted(ids))
        return out

    def assert_same_as_scan(self, posts, ids, out, *extra):
        expected = scan(posts, *extra)
        dbs = set()
        for post, sid in zip(posts, ids):
            v = dict(out[sid])
            dbs.add(v.pop("db"))
            self.assertEqual(v, expected[json.loads(post)["id"]])
        return dbs

    def test_three_workers_each_post_once_same_verdicts_as_scan(self):
        posts = make_posts(int(8000 * SCALE))
        for _ in range(3):
            self.start_worker("--batch", "50")
        ids = self.feed(posts)
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        dbs = self.assert_same_as_scan(posts, ids, out)
        self.assertEqual(len(dbs), 1)
        self.assertRegex(dbs.pop(), "^[0-9a-f]{16}$")
        self.assertEqual(self.r.call("XPENDING", "in", "g")[0], 0)
        self.assertIn("posts/s", self.log_text(0))

    def test_scripts_flushed_mid_run_each_post_once(self):
        # The verdict script is sent ahead of its reply (docs/worker.md, "Overlapping the work with
        # Redis"): a NOSCRIPT there must lose nothing and write nothing twice. SCRIPT FLUSH while
        # the worker runs makes Redis forget the script between a batch and the next.
        posts = make_posts(int(6000 * SCALE), seed=11)
        self.start_worker("--batch", "20")
        ids = self.feed(posts)
        flushes = 0
        deadline = time.time() + WAIT
        while self.r.call("XLEN", "out") < len(posts) and time.time() < deadline:
            self.r.call("SCRIPT", "FLUSH")
            flushes += 1
            time.sleep(0.02)
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        self.assert_same_as_scan(posts, ids, out)
        self.assertEqual(self.r.call("XPENDING", "in", "g")[0], 0)
        if flushes >= 3:  # (the worker was still at work after a flush: a script sent ahead met it)
            self.assertIn("NOSCRIPT", self.log_text(0))

    def test_worker_killed_mid_batch_nothing_lost_or_duplicated(self):
        posts = make_posts(int(20000 * SCALE), seed=2)
        ids = self.feed(posts)
        victim = self.start_worker("--batch", "100", "--claim-after", "0.5", name="victim")
        # The victim works alone until it is killed: with another worker beside it, a loaded
        # machine (ctest -j2 under the sanitizers) let the stream run dry before the loop below
        # caught the victim holding a batch.
        deadline = time.time() + WAIT
        while self.r.call("XLEN", "out") < len(posts) // 5 and time.time() < deadline:
            time.sleep(0.01)
        # Stop it while it holds a batch it has read and not acknowledged, then kill it there.
        held = []
        for _ in range(2000):
            pause(victim)
            time.sleep(0.05)  # a command it sent just before (its acknowledging script) runs meanwhile
            held = self.r.call("XPENDING", "in", "g", "-", "+", 10, "victim")
            if held:
                break
            victim.send_signal(signal.SIGCONT)
            time.sleep(0.002)
        victim.kill()
        victim.wait()
        self.assertTrue(held, "killed mid-batch")
        # Another worker goes on with the stream (it claims late: the victim's batch is not its),
        # and the restarted one, a new consumer, claims the victim's batch.
        self.start_worker("--batch", "100", "--claim-after", "600")
        self.start_worker("--batch", "100", "--claim-after", "0.5")
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        self.assert_same_as_scan(posts, ids, out)
        self.assertEqual(self.r.call("XPENDING", "in", "g")[0], 0)  # the victim's batch was claimed

    def test_sigterm_finishes_the_batch_in_hand(self):
        posts = make_posts(int(4000 * SCALE), seed=7)
        self.feed(posts)
        self.r.call("XGROUP", "CREATE", "in", "g", "0")  # the worker finds it (BUSYGROUP is fine)
        w = self.start_worker("--batch", "200", name="graceful")
        for _ in range(2000):  # stopped while it holds a batch it has read and not acknowledged
            pause(w)
            held = self.r.call("XPENDING", "in", "g", "-", "+", 1000, "graceful")
            if held:
                break
            w.send_signal(signal.SIGCONT)
            time.sleep(0.002)
        self.assertTrue(held)
        w.send_signal(signal.SIGTERM)
        w.send_signal(signal.SIGCONT)
        self.assertEqual(w.wait(30), 0)
        self.assertEqual(self.r.call("XPENDING", "in", "g", "-", "+", 1000, "graceful"), [])
        consumers = [dict(zip(c[::2], c[1::2]))["name"] for c in self.r.call("XINFO", "CONSUMERS", "in", "g")]
        self.assertNotIn("graceful", consumers, "nothing pending: it left the group")
        written = {f["in"] for _, f in self.r.xrange_all("out")}
        self.assertTrue({h[0] for h in held} <= written, "the batch in hand was written")
        self.assertLess(len(written), len(posts), "it stopped after that batch")

    def consumers(self):
        return {dict(zip(c[::2], c[1::2]))["name"]: dict(zip(c[::2], c[1::2]))
                for c in self.r.call("XINFO", "CONSUMERS", "in", "g")}

    def test_dead_workers_consumers_are_forgotten_those_with_pending_entries_stay(self):
        posts = make_posts(40)
        ids = self.feed(posts)
        dead = self.start_worker("--batch", "10", name="dead")
        self.wait_out(len(posts))
        deadline = time.time() + WAIT  # (its last acknowledgement lands with its last verdict)
        while self.consumers()["dead"]["pending"] and time.time() < deadline:
            time.sleep(0.05)
        dead.kill()  # no chance to leave the group
        dead.wait()
        # a consumer that holds an entry it has not acknowledged, idle as long as the dead one
        new = self.feed(make_posts(1, seed=9))
        ids += new
        got = self.r.call("XREADGROUP", "GROUP", "g", "holder", "COUNT", "1", "STREAMS", "in", ">")
        if not got:
            # (the killed worker's blocked read was still registered in Redis, which had not yet seen
            # its socket close, and got the entry: taken over for the holder)
            got = self.r.call("XCLAIM", "in", "g", "holder", "0", new[0])
        self.assertTrue(got, f"the holder holds nothing; consumers {self.consumers()}")
        time.sleep(1.2)
        self.assertEqual(set(self.consumers()), {"dead", "holder"})
        self.assertEqual(self.consumers()["dead"]["pending"], 0)
        self.start_worker("--forget-consumers-after", "1", "--claim-after", "60", name="live")
        deadline = time.time() + WAIT
        while "dead" in self.consumers() and time.time() < deadline:
            time.sleep(0.05)
        names = self.consumers()
        self.assertNotIn("dead", names)
        self.assertIn("holder", names, "a consumer with entries pending stays, so that they are claimed")
        self.assertEqual(names["holder"]["pending"], 1)
        self.assertIn("live", names)
        self.assertIn("removed 1 consumers idle over 1 s with nothing pending from group g", self.log_text(1))
        self.assertRegex(self.log_text(1), r"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z modfilter worker: loading ")
        self.stop_all()

    def test_group_start_and_a_created_group_said_plainly(self):
        old = self.feed(make_posts(30, seed=4))
        w = self.start_worker("--group-start", "$")
        deadline = time.time() + WAIT
        while "created group" not in self.log_text(0) and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("created group g on in at $, with 30 entries in the stream", self.log_text(0))
        self.assertNotIn("each is judged", self.log_text(0))
        new = self.feed(make_posts(20, seed=5))
        self.wait_out(20)
        self.stop_all()
        judged = {f["in"] for _, f in self.r.xrange_all("out")}
        self.assertEqual(judged, set(new), "entries from before the group are not judged")
        self.assertFalse(judged & set(old))
        # the group lost (an XGROUP DESTROY): made again, from the start by default, and said so
        self.r.call("XGROUP", "DESTROY", "in", "g")
        self.start_worker()
        self.wait_out(20 + 50)
        self.stop_all()
        self.assertIn("created group g on in at 0, with 50 entries in the stream: each is judged", self.log_text(1))

    def test_a_group_start_redis_would_refuse_is_refused_at_once(self):
        for bad in ("nonsense", "12-", "-1", "$$"):
            p = subprocess.run([CLI, "worker", "--redis", self.redis.url(), "--group-start", bad],
                               capture_output=True, timeout=30)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertIn(b"must be 0, $ or a stream id", p.stderr, bad)

    def test_redis_restarted_workers_reconnect(self):
        posts = make_posts(int(12000 * SCALE), seed=3)
        for _ in range(2):
            self.start_worker("--batch", "100", "--claim-after", "1")
        half = len(posts) // 2
        ids = self.feed(posts[:half])
        while self.r.call("XLEN", "out") < half // 4:
            time.sleep(0.01)
        self.r.close()
        self.redis.stop()
        time.sleep(0.5)
        self.redis.start()
        self.r = self.redis.client()
        ids += self.feed(posts[half:])
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        self.assert_same_as_scan(posts, ids, out)
        self.assertIn("connected again", self.log_text(0) + self.log_text(1))

    def test_errors_at_once_and_failures_dead_lettered(self):
        posts = make_posts(int(2000 * SCALE), seed=4)
        bad = ["this is not json", json.dumps({"id": "big", "text": "x" * 5000}), "[1, 2]"]
        ids = self.feed(posts[:100])
        bad_ids = self.feed(bad)
        nofield = self.feed(['{"id": "nofield", "text": "hi"}'], field="body")
        ids += self.feed(posts[100:])
        fail_id = ids[150]
        self.start_worker("--batch", "20", "--claim-after", "0.2", "--max-deliveries", "3",
                          "--max-post-bytes", "4096", env={"MODFILTER_WORKER_FAIL_ENTRY": fail_id})
        self.wait_out(len(posts) - 1 + len(bad) + len(nofield))
        deadline = time.time() + WAIT
        while self.r.call("XLEN", "out:dead") < 1 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # nothing more may come
        self.stop_all()
        all_ids = [i for i in ids if i != fail_id] + bad_ids + nofield
        out = self.verdicts(all_ids)
        # Errors as scan gives them (scan's own limit is larger: the size error is checked apart).
        v = out[bad_ids[0]]
        self.assertTrue(v["error"].startswith("invalid JSON"), v)
        self.assertIn("larger than max_post_bytes", out[bad_ids[1]]["error"])
        self.assertEqual(out[bad_ids[1]]["id"], "big")
        self.assertIn("JSON object", out[bad_ids[2]]["error"])
        self.assertIn('no "post" field', out[nofield[0]]["error"])
        # Never retried: nothing pending, and only the injected failure was dead-lettered.
        self.assertEqual(self.r.call("XPENDING", "in", "g")[0], 0)
        dead = self.r.xrange_all("out:dead")
        self.assertEqual(len(dead), 1)
        self.assertEqual(dead[0][1]["in"], fail_id)
        self.assertEqual(dead[0][1]["deliveries"], "3")
        self.assertIn("injected failure", dead[0][1]["error"])
        self.assertEqual(json.loads(dead[0][1]["post"])["id"], 150)
        good = [p for p, i in zip(posts, ids) if i != fail_id]
        self.assert_same_as_scan(good, [i for i in ids if i != fail_id], out)

    def test_a_failed_output_write_loses_nothing_and_deleted_claims_get_a_verdict(self):
        # The output key of another type: every XADD fails. The entry was acknowledged before its
        # XADD, which Redis does not undo: it was lost with no verdict and nothing pending.
        posts = make_posts(3, seed=7)
        self.r.call("SET", "out", "not a stream")
        ids = self.feed(posts)
        self.start_worker("--batch", "10", "--claim-after", "0.2", "--max-deliveries", "1000")
        deadline = time.time() + WAIT
        while "WRONGTYPE" not in self.log_text(0) and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("WRONGTYPE", self.log_text(0))
        self.assertEqual(self.r.call("XPENDING", "in", "g")[0], 3)  # all three still pending
        self.r.call("DEL", "out")
        self.wait_out(3)
        self.stop_all()
        self.verdicts(ids)
        # Entries a dead consumer held, deleted from the stream meanwhile: XAUTOCLAIM takes them out
        # of the pending list and names them apart (Redis 7); each gets its error verdict.
        self.r.call("XGROUP", "CREATE", "in2", "g", "0", "MKSTREAM")
        kept = self.r.call("XADD", "in2", "*", "post", posts[0])
        gone = self.r.call("XADD", "in2", "*", "post", posts[1])
        self.r.call("XREADGROUP", "GROUP", "g", "dead", "COUNT", "2", "STREAMS", "in2", ">")
        self.r.call("XDEL", "in2", gone)
        time.sleep(0.3)
        args = [CLI, "worker", "--redis", self.redis.url(), "--stream", "in2", "--group", "g", "--out-stream", "out2",
                "--claim-after", "0.1", "--log-every", "1"]
        w2 = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers.append(w2)
        self.wait_out(2, stream="out2")
        w2.send_signal(signal.SIGTERM)
        self.assertEqual(w2.wait(30), 0)
        got = {f["in"]: json.loads(f["verdict"]) for _, f in self.r.xrange_all("out2")}
        self.assertEqual(sorted(got), sorted([kept, gone]))
        self.assertIn("deleted from the stream", got[gone]["error"])
        # The same stream in and out is refused at once.
        p = subprocess.run([CLI, "worker", "--redis", self.redis.url(), "--stream", "s", "--out-stream", "s"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--out-stream must differ", p.stderr)

    def test_a_post_whose_shared_state_redis_refuses_fails_alone(self):
        # One author's flood key of another type: the batch's flood script failed for ever, and the
        # other posts of the batch were never judged. Now the refused post is retried, then
        # dead-lettered; the others get their verdicts.
        authors = ["u1", "u2", "victim", "u3", "u4"]
        posts = [json.dumps({"id": "s-" + a, "text": "hello from " + a, "author": {"id": a}}) for a in authors]
        self.r.call("SET", "in:flood:victim", "not a sorted set")
        ids = self.feed(posts)
        self.start_worker("--shared-flood", "--batch", "10", "--max-deliveries", "2", "--claim-after", "0.3")
        self.wait_out(4)
        deadline = time.time() + WAIT
        while self.r.call("XLEN", "out:dead") < 1 and time.time() < deadline:
            time.sleep(0.05)
        self.stop_all()
        got = {f["in"] for _, f in self.r.xrange_all("out")}
        self.assertEqual(got, {i for a, i in zip(authors, ids) if a != "victim"})
        dead = self.r.xrange_all("out:dead")
        self.assertEqual([f["in"] for _, f in dead], [ids[2]])
        self.assertIn("WRONGTYPE", dead[0][1]["error"])
        self.assertEqual(self.r.call("XPENDING", "in", "g")[0], 0)

    def test_rules_reloaded_mid_run(self):
        rules = os.path.join(self.tmp.name, "pack.toml")
        pack_a = ('[[rule]]\nid = "zebra"\ncategory = "abuse.zoo"\nseverity = "medium"\nword = "zebra"\n'
                  'match = ["a zebra"]\nno_match = ["zebras"]\n')
        pack_b = pack_a + ('[[rule]]\nid = "giraffe"\ncategory = "abuse.zoo"\nseverity = "high"\n'
                           'word = "giraffe"\nmatch = ["a giraffe"]\nno_match = ["giraffes"]\n')
        with open(rules, "w") as f:
            f.write(pack_a)
        rnd = random.Random(5)
        posts = [json.dumps({"id": i, "text": rnd.choice(["a zebra here", "a giraffe there", "nothing"])})
                 for i in range(int(6000 * SCALE))]
        w = self.start_worker("--batch", "50", "--rules", rules)
        third = len(posts) // 3
        ids = self.feed(posts[:third])
        self.wait_out(third)
        # A pack with a mistake: refused, the old rules stay.
        with open(rules, "w") as f:
            f.write(pack_a + "[[rule]]\nid = \"broken\"\n")
        w.send_signal(signal.SIGHUP)
        deadline = time.time() + WAIT
        while "reload refused" not in self.log_text(0) and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("reload refused", self.log_text(0))
        ids += self.feed(posts[third:2 * third])
        self.wait_out(2 * third)
        # The good new pack, through the control key, while posts keep coming.
        with open(rules, "w") as f:
            f.write(pack_b)
        ids += self.feed(posts[2 * third:2 * third + 200])
        self.r.call("INCR", "in:reload")
        deadline = time.time() + WAIT
        while "reloaded" not in self.log_text(0) and time.time() < deadline:
            time.sleep(0.05)
        ids += self.feed(posts[2 * third + 200:])
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        # Each verdict is what scan says with the database it names.
        pack_a_file = os.path.join(self.tmp.name, "a.toml")
        with open(pack_a_file, "w") as f:
            f.write(pack_a)
        by_a, by_b = scan(posts, "--rules", pack_a_file), scan(posts, "--rules", rules)
        dbs = {}
        for post, sid in zip(posts, ids):
            v = dict(out[sid])
            db = v.pop("db")
            pid = json.loads(post)["id"]
            dbs.setdefault(db, []).append(pid)
            if by_a[pid] != by_b[pid]:
                self.assertIn(v, (by_a[pid], by_b[pid]))
        self.assertEqual(len(dbs), 2, "two database versions")
        first, second = sorted(dbs.values(), key=min)
        self.assertLess(max(first), min(second), "one swap, between batches, in order")
        for pid in second:
            self.assertEqual(out[ids[pid]] | {"db": 0}, by_b[pid] | {"db": 0})
        for pid in first:
            self.assertEqual(out[ids[pid]] | {"db": 0}, by_a[pid] | {"db": 0})

    def test_metrics_port_serves_the_counters(self):
        port = free_port()
        posts = make_posts(60, seed=9)
        self.start_worker("--batch", "10", "--metrics-port", str(port))
        ids = self.feed(posts)
        self.wait_out(len(posts))
        out = self.verdicts(ids)
        metrics, deadline = {}, time.time() + WAIT
        while time.time() < deadline:  # published by the worker's loop, at most every 100 ms
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    self.assertIn("text/plain", r.headers["Content-Type"])
                    text = r.read().decode()
            except OSError:
                time.sleep(0.1)
                continue
            metrics = {}
            for line in text.splitlines():
                if line and not line.startswith("#"):
                    name, value = line.rsplit(" ", 1)
                    metrics[name] = float(value)
            if metrics.get("modfilter_worker_posts_total") == len(posts):
                break
            time.sleep(0.1)
        self.assertEqual(metrics.get("modfilter_worker_posts_total"), len(posts))
        self.assertGreaterEqual(metrics["modfilter_worker_batches_total"], len(posts) / 10)
        self.assertEqual(metrics["modfilter_worker_dead_lettered_total"], 0)
        self.assertEqual(metrics['modfilter_worker_raised_total{category="spam.duplicate"}'], 0)
        db = next(iter(out.values()))["db"]
        self.assertEqual(metrics[f'modfilter_worker_database_info{{hash="{db}"}}'], 1)
        self.stop_all()  # the server thread stops with the worker

    def test_shared_duplicates_see_one_raid_across_workers(self):
        spam = ("Congratulations! You have been chosen for a free entry to win a cruise for two this "
                "weekend. Reply WIN to claim your prize before midnight, see http://x.example/win?id={} "
                "for the rules")
        variant = spam.replace("a cruise", "a holiday")  # one word changed: nearly the same text
        raid = [json.dumps({"id": f"r{i}", "text": spam.format(i), "author": {"id": f"a{i}"},
                            "channel": f"c{i % 4}"}) for i in range(8)]
        short = [json.dumps({"id": f"s{i}", "text": "thanks, same here!", "author": {"id": f"u{i}"}})
                 for i in range(int(40 * SCALE) + 5)]
        # Worker A sees the first part, worker B (a new process) the rest: B's copies go on from A's
        # only when the state is shared. r2 is sent again (not a new copy), r3 edited (matched, not
        # counted), and the variant is a copy of the same text, found by its lookup keys.
        first = short[:len(short) // 2] + raid[:4]
        edit = json.dumps({"id": "r3", "text": spam.format(3) + "!!", "author": {"id": "a3"}, "edit": True})
        rest = [raid[2], edit] + raid[4:] + short[len(short) // 2:] + [
            json.dumps({"id": "v1", "text": variant.format(99), "author": {"id": "b1"}})]
        posts = first + rest
        dup = ["--batch", "3", "--shared-duplicates", "--dup-window", "600", "--dup-flag", "3",
               "--dup-hold", "5", "--dup-reject", "0"]
        self.start_worker(*dup)
        ids = self.feed(first)
        self.wait_out(len(first))
        self.stop_all()
        self.start_worker(*dup)
        ids += self.feed(rest)
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        expected = scan(posts)
        seen = []
        for post, sid in zip(posts, ids):
            p = json.loads(post)
            v = out[sid]
            if p["id"].startswith("s"):  # short common posts are never duplicates
                v = dict(v)
                v.pop("db")
                self.assertEqual(v, expected[p["id"]])
                continue
            n = v["categories"].get("spam.duplicate", 0)
            seen.append((p["id"], n))
            if n:
                ev = v["state"]["spam.duplicate"]
                self.assertEqual(v["action"], "HOLD" if n >= 5 else "FLAG")
                self.assertEqual((ev["action"], ev["copies"], ev["window_s"], ev["shared"]),
                                 (v["action"], n, 600, True))
                self.assertIn("support", v["routes"])
                self.assertEqual(ev["match"], "near" if p["id"] == "v1" else "exact")
                if p["id"] == "v1":
                    self.assertLessEqual(ev["distance"], 10)
                self.assertNotIn(p["id"], ev["earlier"])
                self.assertLessEqual(len(ev["earlier"]), 8)
        # r0..r3 are copies 1..4 (under 3 nothing is raised); r2 sent again and the edit of r3 see
        # the 4 copies without adding one; r4..r7 are the 5th to the 8th; the variant the 9th.
        self.assertEqual(seen, [("r0", 0), ("r1", 0), ("r2", 3), ("r3", 4), ("r2", 4), ("r3", 4),
                                ("r4", 5), ("r5", 6), ("r6", 7), ("r7", 8), ("v1", 9)])
        ev = out[ids[posts.index(raid[7])]]["state"]["spam.duplicate"]
        self.assertEqual((ev["authors"], ev["channels"]), (8, 4))
        self.assertEqual(ev["earlier"], ["r6", "r5", "r4", "r3", "r2", "r1", "r0"])
        keys = self.r.call("KEYS", "in:dup:*")
        self.assertTrue(keys)
        for k in keys:
            self.assertGreater(self.r.call("PTTL", k), 0)

    def test_shared_duplicates_count_a_raid_of_changed_copies_as_the_local_state_does(self):
        # Each copy changes a different word of one text: copies differ from one another by two
        # words. The shared state joins the text with the most copies and moves its SimHash to the
        # copies' majority, as the local one does (docs/state.md), so that the raid is one text.
        words = ("Congratulations you have been selected to receive a free holiday for two call our office "
                 "before midnight to claim your voucher and prize code").split()
        posts = []
        for k in range(30):
            w = list(words)
            w[k % len(w)] = "offer"
            posts.append(json.dumps({"id": "c%d" % k, "text": " ".join(w), "author": {"id": "a%d" % k}, "ts": 1000 + k}))
        ids = self.feed(posts)
        self.start_worker("--shared-duplicates", "--batch", "1")
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        last = out[ids[-1]]
        self.assertGreaterEqual(last["state"]["spam.duplicate"]["copies"], 25, last)
        local = scan(posts, "--state", os.path.join(self.tmp.name, "local.state"))
        self.assertEqual(last["action"], local["c29"]["action"])

    def test_new_account_links_as_a_local_state_applies_them(self):
        links = ["see https://a.example/x", "https://a.example/x and www.b.example and https://c.example/y",
                 "nothing to click here"]
        posts = []
        for i, (age, text) in enumerate([(0, links[0]), (1, links[1]), (2, links[2]), (3, links[1]),
                                         (40, links[0]), (None, links[1]), (0.5, links[0])]):
            author = {"id": f"u{i}"}
            if age is not None:
                author["age_days"] = age
            posts.append(json.dumps({"id": f"p{i}", "text": f"post {i}: {text}", "author": author}))
        # no author id: per-author rules do not apply, young or not
        posts.append(json.dumps({"id": "p7", "text": links[1], "author": {"age_days": 0}}))
        self.start_worker("--new-account-links")
        ids = self.feed(posts)
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        with tempfile.TemporaryDirectory() as d:
            local = scan(posts, "--state", os.path.join(d, "state"))
        raised = []
        for post, sid in zip(posts, ids):
            v, pid = out[sid], json.loads(post)["id"]
            want = local[pid]
            cat = "spam.new-account-links"
            self.assertEqual(v["categories"].get(cat), want["categories"].get(cat), pid)
            self.assertEqual(v.get("state", {}).get(cat), want.get("state", {}).get(cat), pid)
            self.assertEqual(v["action"], want["action"], pid)
            if cat in v["categories"]:
                raised.append(pid)
        # one link from a day-old account is flagged, three are held; 3 days and more is not new
        self.assertEqual(raised, ["p0", "p1", "p6"])
        self.assertEqual(out[ids[1]]["state"]["spam.new-account-links"], {"action": "HOLD", "links": 3, "age_days": 1})
        self.assertIn("by new-account links", self.log_text(0))

    def test_shared_flood_counters_see_one_author_across_workers(self):
        rnd = random.Random(6)
        raid = [json.dumps({"id": f"r{i}", "text": "hello there, nice weather today",
                            "author": {"id": "raider"}}) for i in range(20)]
        others = [json.dumps({"id": f"o{i}", "text": rnd.choice(PHRASES), "author": {"id": f"u{i}"}})
                  for i in range(int(400 * SCALE))]
        # Worker A sees the first half of the raid, worker B (a new process) the rest: B's counts go
        # on from A's only when the counters are shared.
        first = others[:len(others) // 2] + raid[:10]
        rest = raid[10:] + others[len(others) // 2:] + [raid[5]]  # the forum sends post r5 again
        posts = first + rest
        flood = ["--batch", "4", "--shared-flood", "--flood-window", "600", "--flood-flag", "3",
                 "--flood-hold", "5", "--flood-reject", "0"]
        self.start_worker(*flood)
        ids = self.feed(first)
        self.wait_out(len(first))
        self.stop_all()
        self.start_worker(*flood)
        ids += self.feed(rest)
        self.wait_out(len(posts))
        self.stop_all()
        out = self.verdicts(ids)
        counts = []
        expected = scan(posts)
        for post, sid in zip(posts, ids):
            v, pid = out[sid], json.loads(post)["id"]
            if pid.startswith("r"):
                n = v["categories"].get("spam.flood", 0)
                counts.append(n)
                if n >= 5:
                    self.assertEqual(v["action"], "HOLD")
                elif n >= 3:
                    self.assertEqual(v["action"], "FLAG")
                if n:
                    self.assertEqual(v["state"]["spam.flood"], {"action": v["action"], "posts": n,
                                                                "window_s": 600, "shared": True})
                    self.assertIn("support", v["routes"])
            else:
                v = dict(v)
                v.pop("db")
                self.assertEqual(v, expected[pid])  # one post per author: nothing raised
        # One window for both workers: the raid posts were the 1st to the 20th (under 3 nothing is
        # raised, so 0), in order; the resent r5 counts the 20 posts in the window, not a 21st.
        self.assertEqual(counts, [0, 0] + list(range(3, 21)) + [20])
        keys = self.r.call("KEYS", "in:flood:*")
        self.assertEqual(len(keys), len(others) + 1)
        for k in keys:
            self.assertGreater(self.r.call("PTTL", k), 0)


if __name__ == "__main__":
    unittest.main()
