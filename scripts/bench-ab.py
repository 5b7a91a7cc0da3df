#!/usr/bin/env python3
"""A/B timing of two `wangge` builds on the same commands, interleaved in one run so that the
machine's noise falls on both alike. Prints best-of-N wall seconds per build and the ratio
after / before, and checks that both builds wrote byte-identical outputs.

    scripts/bench-ab.py BEFORE AFTER [--runs N] -- DATASET [DATASET ...]

Each DATASET is partitioned (and partitioned with --micro) by both builds.
"""
import argparse, filecmp, os, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("before")
ap.add_argument("after")
ap.add_argument("--runs", type=int, default=7)
ap.add_argument("datasets", nargs="+")
a = ap.parse_args()

out = tempfile.mkdtemp(prefix="bench-ab-")
print(f"| dataset | command | before s | after s | after / before | same output |")
print(f"| --- | --- | ---: | ---: | ---: | --- |")
for data in a.datasets:
    for extra in ([], ["--micro"]):
        best = {}
        files = {}
        for i in range(a.runs):
            for name, exe in (("before", a.before), ("after", a.after)):
                f = os.path.join(out, f"{name}.geojson")
                t0 = time.perf_counter()
                r = subprocess.run([exe, "partition", data, "--out", f, *extra], capture_output=True)
                t = time.perf_counter() - t0
                if r.returncode != 0:
                    sys.exit(f"{exe} partition {data} {extra} exited {r.returncode}: {r.stderr.decode()}")
                best[name] = min(best.get(name, t), t)
                files[name] = f
        same = filecmp.cmp(files["before"], files["after"], shallow=False)
        cmd = "partition " + " ".join(extra)
        print(f"| {os.path.basename(data.rstrip('/'))} | {cmd.strip()} | {best['before']:.3f} | {best['after']:.3f} | {best['after'] / best['before']:.2f} | {'yes' if same else 'NO'} |")
