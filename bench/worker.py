#!/usr/bin/env python3
"""modfilter worker throughput and latency through a local Redis (not a test: figures only).

    python3 bench/corpora.py --only prose          # once: build/bench-corpora/prose.jsonl
    python3 bench/worker.py [--posts 100000] [--batch 100] [--cli build/bindings/cli/modfilter]

Starts its own redis-server (Debian, no persistence) on a free port and measures:
  1. one worker, --batch N: posts/s over a stream loaded beforehand (timed by the output entries'
     ids, which Redis stamps in ms: from the first verdict to the last);
  2. two workers on the same stream: posts/s and the ratio to one (Redis, the workers and this
     script share the machine's cores);
  3. the cost of --shared-flood and of --shared-duplicates (one worker, the same posts given one of
     1,000 author ids; `--only shared` measures this alone);
  4. latency at half of (1)'s rate: a feeder paces XADDs, a reader process waits on the output
     stream (XREAD BLOCK) and notes when each verdict arrives; p50/p99/max of arrival - send. Also
     by Redis's clock: verdict entry id - post entry id (whole milliseconds, so +-1 ms), which
     leaves out the Python feeder and reader. Beside it, `modfilter scan`'s own time per post on
     the same corpus, so the latency Redis adds is the difference.
     Each of --rounds rounds measures a no-op consumer first (bench/noop_consumer.c: the same Redis
     calls, no scan) and then the worker: on a shared 2-core virtual machine the no-op consumer's
     own p99 moves between about 1 and 9 ms from minute to minute, so the worker's p99 is read
     beside the floor of the same round, and the figure is their difference.
Posts are the corpus's lines, repeated up to --posts.
"""
import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "cli"))
from redis_util import Server  # noqa: E402


def load_posts(path, n):
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    return [lines[i % len(lines)] for i in range(n)]


def worker(cli, server, batch, extra=()):
    return subprocess.Popen([cli, "worker", "--redis", server.url(), "--stream", "in", "--group", "g",
                             "--out-stream", "out", "--batch", str(batch), "--log-every", "0",
                             "--out-maxlen", "0", *extra], stderr=subprocess.DEVNULL)


def stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()


def ms_of(entry_id):
    return int(entry_id.split("-")[0])


def throughput(cli, posts, batch, n_workers, extra=()):
    with Server(durable=False) as server:
        r = server.client()
        r.call("XGROUP", "CREATE", "in", "g", "0", "MKSTREAM")
        r.pipeline([["XADD", "in", "*", "post", p] for p in posts])
        procs = [worker(cli, server, batch, extra) for _ in range(n_workers)]
        while r.call("XLEN", "out") < len(posts):
            time.sleep(0.05)
        stop(procs)
        first = r.call("XRANGE", "out", "-", "+", "COUNT", 1)[0][0]
        last = r.call("XREVRANGE", "out", "+", "-", "COUNT", 1)[0][0]
        secs = max(ms_of(last) - ms_of(first), 1) / 1000
        r.close()
        return len(posts) / secs


def reader(port, n, q):
    from redis_util import Client
    c = Client(port, timeout=120)
    seen, last = {}, "$"
    while len(seen) < n:
        reply = c.call("XREAD", "COUNT", 1000, "BLOCK", 0, "STREAMS", "out", last)
        now = time.time()
        for eid, fields in reply[0][1]:
            f = dict(zip(fields[::2], fields[1::2]))
            seen[f["in"]] = now
            last = eid
    q.put(seen)


@contextlib.contextmanager
def latency_setup(cli, batch, noop=None):
    """A Redis with an empty input stream and group, an output stream to wait on, and one worker
    with its engine loaded (or, with noop = [program, script], the no-op consumer of
    bench/noop_consumer.c): (server, client). The consumer stops and the client closes on leaving."""
    with Server(durable=False) as server:
        r = server.client()
        r.call("XGROUP", "CREATE", "in", "g", "$", "MKSTREAM")
        r.call("XADD", "out", "*", "in", "0-0")  # so that the reader's "$" has a stream
        procs = [subprocess.Popen([noop[0], "127.0.0.1", str(server.port), noop[1], str(batch)])] if noop \
            else [worker(cli, server, batch)]
        time.sleep(1.0)  # the engine loaded
        try:
            yield server, r
        finally:
            stop(procs)
            r.close()


def latency(cli, posts, batch, rate):
    with latency_setup(cli, batch) as (server, r):
        q = multiprocessing.Queue()
        rd = multiprocessing.Process(target=reader, args=(server.port, len(posts), q))
        rd.start()
        time.sleep(0.3)
        sent = {}
        chunk = max(1, int(rate / 1000))  # one small pipeline per millisecond
        t0 = time.time()
        for i in range(0, len(posts), chunk):
            wait = t0 + i / rate - time.time()
            if wait > 0:
                time.sleep(wait)
            part = posts[i:i + chunk]
            ids = r.pipeline([["XADD", "in", "*", "post", p] for p in part])
            now = time.time()
            for eid in ids:
                sent[eid] = now
        seen = q.get(timeout=120)
        achieved = len(posts) / (time.time() - t0)
        rd.join()
        # The same by Redis's own clock: the verdict entry's id (stamped when the script wrote it)
        # minus the post entry's id (stamped when it was added); both in whole ms.
        stamped = sorted(ms_of(eid) - ms_of(f["in"]) for eid, f in r.xrange_all("out") if f["in"] in sent)
        lat = sorted((seen[i] - sent[i]) * 1000 for i in sent)
        pct = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p))]  # noqa: E731
        return pct(lat, 0.5), pct(lat, 0.99), lat[-1], achieved, pct(stamped, 0.5), pct(stamped, 0.99)


def ack_write_script():
    """The worker's acknowledge-and-write Lua script, read from its source (one copy of it)."""
    with open(os.path.join(ROOT, "bindings", "cli", "worker.cpp"), encoding="utf-8") as f:
        src = f.read()
    start = src.index('kAckWriteScript = R"lua(') + len('kAckWriteScript = R"lua(')
    return src[start:src.index(')lua"', start)]


def latency_c(cli, posts, batch, rate, rounds=1):
    """latency() with the feeder and the reader in C (bench/latency_feed.c, built here with cc and
    hiredis): on 2 cores the Python feeder took most of a core, so at half of peak the queue grew
    behind it and it measured itself. Each round measures the no-op consumer (bench/noop_consumer.c,
    the floor: Redis, feeder, reader and the machine without a scan) and then the worker, turn by
    turn, as the machine's own jitter drifts by milliseconds from minute to minute. Returns one
    (worker, floor) pair of result tuples per round."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        exe, noop = os.path.join(tmp, "latency_feed"), os.path.join(tmp, "noop_consumer")
        for src, out in (("latency_feed.c", exe), ("noop_consumer.c", noop)):
            subprocess.run(["cc", "-O2", "-pthread", os.path.join(ROOT, "bench", src), "-lhiredis", "-o", out],
                           check=True)
        script = os.path.join(tmp, "ack_write.lua")
        with open(script, "w", encoding="utf-8") as f:
            f.write(ack_write_script())
        data = os.path.join(tmp, "posts.txt")
        with open(data, "w", encoding="utf-8") as f:
            f.writelines(p.replace("\n", " ") + "\n" for p in posts)

        def one(consumer):
            with latency_setup(cli, batch, consumer) as (server, _):
                out = subprocess.run([exe, "127.0.0.1", str(server.port), data, str(rate), str(len(posts))],
                                     capture_output=True, text=True, check=True).stdout.split()
            p50, p99, worst, achieved = (float(x) for x in out[:4])
            return p50, p99, worst, achieved, int(out[4]), int(out[5])

        results = []
        for _ in range(rounds):
            floor = one([noop, script])
            results.append((one(None), floor))
        return results


def report_latency(a, posts, rate, scan_us):
    """Measures and prints the latency part at `rate` posts/s offered (a: the command line)."""
    n = min(len(posts), int(rate * a.latency_seconds))
    if a.python_feeder:
        p50, p99, worst, achieved, s50, s99 = latency(a.cli, posts[:n], a.batch, rate)
        print(f"latency at {rate:,.0f} posts/s offered ({achieved:,.0f} achieved, {n} posts, one worker, Python feeder): "
              f"send -> verdict seen by a reader p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms; "
              f"by Redis's stamps (whole ms) p50 {s50} ms, p99 {s99} ms; scan alone {scan_us / 1000:.3f} ms per post")
        return
    rounds = latency_c(a.cli, posts[:n], a.batch, rate, a.rounds)
    print(f"latency at {rate:,.0f} posts/s offered ({n} posts a round, one consumer, C feeder), send -> verdict seen "
          f"by a reader; the floor is a no-op consumer (bench/noop_consumer.c) in the same round:")
    for i, (w, f) in enumerate(rounds, 1):
        print(f"  round {i}: worker p50 {w[0]:.2f} ms, p99 {w[1]:.2f} ms, max {w[2]:.2f} ms ({w[3]:,.0f} posts/s achieved); "
              f"floor p50 {f[0]:.2f} ms, p99 {f[1]:.2f} ms, max {f[2]:.2f} ms; "
              f"by Redis's stamps (whole ms) worker p99 {w[5]} ms, floor p99 {f[5]} ms")
    from statistics import median
    wp99, fp99 = median(w[1] for w, _ in rounds), median(f[1] for _, f in rounds)
    added = median(w[1] - f[1] for w, f in rounds)
    print(f"median of {len(rounds)} rounds: worker p99 {wp99:.2f} ms, floor p99 {fp99:.2f} ms, "
          f"added by judging (worker - floor, per round) {added:+.2f} ms; scan alone {scan_us / 1000:.3f} ms per post")


def scan_per_post_us(cli, posts):
    data = "".join(p + "\n" for p in posts).encode()
    t = time.perf_counter()
    subprocess.run([cli, "scan", "--threads", "1"], input=data, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) / len(posts) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "build", "bench-corpora", "prose.jsonl"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "bindings", "cli", "modfilter"))
    ap.add_argument("--posts", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--latency-seconds", type=float, default=10)
    ap.add_argument("--only", choices=["all", "shared", "latency"], default="all")
    ap.add_argument("--rate", type=float, default=0, help="--only latency: posts/s offered (default: half of one worker's peak)")
    ap.add_argument("--rounds", type=int, default=3, help="latency: rounds of (no-op consumer, worker), turn by turn")
    ap.add_argument("--python-feeder", action="store_true",
                    help="feed and read the latency part from Python (as before bench/latency_feed.c)")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    if not os.path.exists(a.corpus):
        sys.exit(f"{a.corpus} is missing: run python3 bench/corpora.py --only prose")
    posts = load_posts(a.corpus, a.posts)
    mb = sum(len(p.encode()) for p in posts) / 1e6
    print(f"corpus {os.path.relpath(a.corpus, ROOT)}: {len(posts)} posts, {mb:.1f} MB, --batch {a.batch}")
    if a.only == "latency":
        scan_us = scan_per_post_us(a.cli, posts)
        report_latency(a, posts, a.rate or throughput(a.cli, posts, a.batch, 1) / 2, scan_us)
        return
    if a.only == "all":
        scan_us = scan_per_post_us(a.cli, posts)
        print(f"modfilter scan (no Redis): {1e6 / scan_us:,.0f} posts/s ({scan_us:.1f} us per post)")
        one = throughput(a.cli, posts, a.batch, 1)
        print(f"one worker:  {one:,.0f} posts/s")
        two = throughput(a.cli, posts, a.batch, 2)
        print(f"two workers: {two:,.0f} posts/s ({two / one:.2f}x one)")
    authored = ['{"author": {"id": "u%d"}, ' % (i % 1000) + p[1:] for i, p in enumerate(posts)]
    plain = throughput(a.cli, authored, a.batch, 1)
    flood = throughput(a.cli, authored, a.batch, 1, ["--shared-flood"])
    dup = throughput(a.cli, authored, a.batch, 1, ["--shared-duplicates"])
    print(f"shared flood counters (1,000 authors): {plain:,.0f} -> {flood:,.0f} posts/s with --shared-flood, "
          f"{(1 / flood - 1 / plain) * 1e6:+.1f} us per post")
    print(f"shared duplicates: {plain:,.0f} -> {dup:,.0f} posts/s with --shared-duplicates, "
          f"{(1 / dup - 1 / plain) * 1e6:+.1f} us per post")
    if a.only != "all":
        return
    report_latency(a, posts, one / 2, scan_us)


if __name__ == "__main__":
    main()
