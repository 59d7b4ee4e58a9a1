#!/usr/bin/env python3
"""Start-up cost of the default engine, two builds side by side in one run: the time from starting
the CLI to its first verdict (`echo '{"text":"hi"}' | modfilter scan`, wall time of the whole
process), and in C the time from main() to the first verdict of mf_engine_create with the built-in
packs (bench/load_engine.c). The two builds take turns, run after run, so that the machine's drift
hits both alike; medians and the 10th/90th percentiles are printed.

    python3 bench/load_time.py --after build                                # this build alone
    python3 bench/load_time.py --before /tmp/old/build --after build [--runs 20]
    python3 bench/load_time.py --before-cli /tmp/base/modfilter --before-lib /tmp/base --after build

A build is a build directory (its bindings/cli/modfilter and capi/libmodfilter.so), or a CLI and the
directory of its library given apart (--before-cli / --before-lib, for a saved copy). The CLI finds
libmodfilter.so through its RUNPATH, which LD_LIBRARY_PATH overrides, so each side runs its own.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env_for(lib):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.path.abspath(lib) + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def time_cli(cli, lib):
    t = time.perf_counter()
    p = subprocess.run([cli, "scan"], input=b'{"text":"hi"}\n', stdout=subprocess.PIPE, env=env_for(lib), check=True)
    dt = time.perf_counter() - t
    if b'"action"' not in p.stdout:
        sys.exit(f"load_time: {cli} printed no verdict: {p.stdout[:200]!r}")
    return dt * 1e3


def time_c(binary, lib):
    t = time.perf_counter()
    p = subprocess.run([binary], stdout=subprocess.PIPE, env=env_for(lib), check=True, text=True)
    dt = time.perf_counter() - t
    f = p.stdout.split()
    return dt * 1e3, float(f[f.index("total") + 1]), float(f[f.index("engine") + 1])


def summary(xs):
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
    return f"median {statistics.median(xs):6.1f} ms  (p10 {q(0.1):6.1f}, p90 {q(0.9):6.1f}, n={len(xs)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", help="build directory of the first build")
    ap.add_argument("--before-cli", help="its CLI, when not in a build directory")
    ap.add_argument("--before-lib", help="the directory of its libmodfilter.so")
    ap.add_argument("--after", required=True, help="build directory of the second build")
    ap.add_argument("--runs", type=int, default=20, help="runs of each build and each measure (default 20)")
    args = ap.parse_args()

    sides = []
    if args.before or args.before_cli:
        cli = args.before_cli or os.path.join(args.before, "bindings/cli/modfilter")
        lib = args.before_lib or os.path.join(args.before, "capi")
        sides.append(("before", cli, lib))
    sides.append(("after", os.path.join(args.after, "bindings/cli/modfilter"), os.path.join(args.after, "capi")))
    for name, cli, lib in sides:
        if not os.path.exists(cli) or not os.path.isdir(lib):
            sys.exit(f"load_time: {name}: {cli} or {lib} missing")

    tmp = tempfile.mkdtemp()
    cbin = os.path.join(tmp, "load_engine")
    subprocess.run(["cc", "-O2", "-std=c11", "-I" + os.path.join(REPO, "capi/include"),
                    os.path.join(REPO, "bench/load_engine.c"), "-L" + sides[-1][2], "-lmodfilter", "-o", cbin], check=True)
    res = {name: {"cli": [], "c_process": [], "c_main": [], "c_engine": []} for name, _, _ in sides}
    for name, cli, lib in sides:  # warm the page cache once
        time_cli(cli, lib)
        time_c(cbin, lib)
    for _ in range(args.runs):
        for name, cli, lib in sides:
            res[name]["cli"].append(time_cli(cli, lib))
        for name, cli, lib in sides:
            proc, total, engine = time_c(cbin, lib)
            res[name]["c_process"].append(proc)
            res[name]["c_main"].append(total)
            res[name]["c_engine"].append(engine)
    os.remove(cbin)
    os.rmdir(tmp)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    labels = {"cli": "CLI start to first verdict", "c_process": "C: process start to exit",
              "c_main": "C: main() to first verdict", "c_engine": "C: mf_engine_create"}
    for key, label in labels.items():
        for name, _, _ in sides:
            print(f"{label:28} {name:6} {summary(res[name][key])}")
    if len(sides) == 2:
        b, a = statistics.median(res["before"]["cli"]), statistics.median(res["after"]["cli"])
        print(f"CLI start to first verdict: after / before = {a / b:.2f}")


if __name__ == "__main__":
    main()
