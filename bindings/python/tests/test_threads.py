"""Threads: one engine shared by a pool, one scanner per thread, and the GIL released while scanning."""

import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from _support import engine, modfilter


class ThreadsTest(unittest.TestCase):
    def test_pool_shares_one_engine(self):
        texts = ["%s post %d %s" % ("ü" * (i % 5), i, ["idiot", "fine", "moron"][i % 3]) for i in range(3000)]
        with engine() as e:
            expected = [e.scan(t) for t in texts]
            with ThreadPoolExecutor(max_workers=4) as pool:
                got = list(pool.map(e.scan, texts, chunksize=16))
            self.assertEqual(got, expected)
            # scan_many from several threads at once
            with ThreadPoolExecutor(max_workers=3) as pool:
                futures = [pool.submit(lambda: list(e.scan_many(texts, batch_size=50))) for _ in range(3)]
                for f in futures:
                    self.assertEqual(f.result(), expected)

    def test_each_thread_gets_its_own_scanner(self):
        with engine() as e:
            scanners = set()
            lock = threading.Lock()
            barrier = threading.Barrier(3)

            def work():
                e.scan("idiot")
                with lock:
                    scanners.add(e._state().scanner)
                barrier.wait()  # keep all three threads alive at once

            threads = [threading.Thread(target=work) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(len(scanners), 3)

    def test_gil_is_released_during_a_scan(self):
        # ~4 MB of accented text: normalization makes this scan take tens of milliseconds
        big = "un café déjà servi où tu veux, " * 120000
        with engine() as e:
            t0 = time.perf_counter()
            e.scan(big)
            alone = time.perf_counter() - t0
            if alone < 0.02:
                self.skipTest("a scan of %d bytes took only %.1f ms: too short to tell" % (len(big), alone * 1e3))

            def longest_stall():
                """Runs a scan in another thread; returns the longest time this thread could not run."""
                done = threading.Event()
                ticks = []

                def scan():
                    e.scan(big)
                    done.set()

                th = threading.Thread(target=scan)
                ticks.append(time.perf_counter())
                th.start()
                while not done.is_set():
                    ticks.append(time.perf_counter())
                ticks.append(time.perf_counter())  # a stall that lasted until the end counts too
                th.join()
                self.assertGreater(len(ticks), 100)
                return max(b - a for a, b in zip(ticks, ticks[1:]))

            # With the GIL held for the whole C call, this thread would stall for about `alone`
            # every time. Up to 3 tries, so that a busy machine (ctest -j) preempting this thread
            # once does not fail the test.
            stalls = []
            for _ in range(3):
                stalls.append(longest_stall())
                if stalls[-1] < alone / 2:
                    return
            self.fail("main thread blocked while scanning: stalls %s ms for a %.0f ms scan"
                      % ([round(x * 1e3) for x in stalls], alone * 1e3))

    def test_closed_engine_in_other_threads(self):
        e = engine()
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(e.scan, ["idiot"] * 10))
            e.close()
            with self.assertRaises(ValueError):
                pool.submit(e.scan, "idiot").result()


if __name__ == "__main__":
    unittest.main()
