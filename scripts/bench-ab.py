#!/usr/bin/env python3
"""A/B timing of two `wangge` builds on the same commands, interleaved in one run so that the
machine's noise falls on both alike. Prints best-of-N wall seconds and the highest peak RSS per
build, the ratio after / before, and checks that both builds wrote byte-identical outputs.

    scripts/bench-ab.py BEFORE AFTER [--runs N] [--command C] DATASET [DATASET ...]

--command partition (the default): each DATASET is partitioned, and partitioned with --micro,
  by both builds; the grid layers are compared.
--command inspect: `wangge inspect DATASET` (reading and checking the dataset, then a summary);
  the printed summaries are compared.
--command validate: `wangge validate DATASET LAYER --json`, LAYER being BEFORE's partition of
  DATASET (made once, outside the timing); the reports are compared without their timings.
--command load: `wangge load DATASET --store NEW.db` into a new embedded store each time; the
  published grids (code and stored feature, in order) are compared.

Peak RSS is the child's maximum resident set size as the kernel counts it (`getrusage`, the
figure `/usr/bin/time -v` prints).
"""
import argparse, filecmp, hashlib, json, os, sqlite3, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("before")
ap.add_argument("after")
ap.add_argument("--runs", type=int, default=7)
ap.add_argument("--command", choices=["partition", "inspect", "validate", "load"], default="partition")
ap.add_argument("datasets", nargs="+")
a = ap.parse_args()

out = tempfile.mkdtemp(prefix="bench-ab-")


def run(argv, stdout_path):
    """Runs argv with stdout to a file; returns (wall seconds, peak RSS in MB)."""
    with open(stdout_path, "wb") as so:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=so, stderr=subprocess.PIPE)
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        t = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(argv)} exited {code}: {err.decode()}")
    return t, usage.ru_maxrss / 1024


def stored_grids(db, path):
    """The published grids of a store, code and feature in order, as one digest in `path`."""
    con = sqlite3.connect(db)
    h = hashlib.sha256()
    for code, feature in con.execute(
        "SELECT g.code, g.feature FROM grids g JOIN versions v ON v.layer_id = g.layer_id ORDER BY g.position"
    ):
        h.update(code.encode() + b"\0" + feature.encode() + b"\0")
    con.close()
    with open(path, "w") as f:
        f.write(h.hexdigest())


def without_timings(path):
    """A validate --json report with its timing fields blanked, for comparison."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("timings",) and not k.endswith("_s")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    with open(path) as f:
        return strip(json.load(f))


print("| dataset | command | before s | after s | after / before | before peak MB | after peak MB | same output |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
for data in a.datasets:
    if a.command == "partition":
        variants = [["--micro"] if m else [] for m in (False, True)]
    else:
        variants = [[]]
    layer = os.path.join(out, "layer.geojson")
    if a.command == "validate":
        subprocess.run([a.before, "partition", data, "--out", layer], check=True, capture_output=True)
    for extra in variants:
        best, peak, files = {}, {}, {}
        for i in range(a.runs):
            for name, exe in (("before", a.before), ("after", a.after)):
                f = os.path.join(out, f"{name}.out")
                if a.command == "partition":
                    argv = [exe, "partition", data, "--out", f, *extra]
                    t, rss = run(argv, os.devnull)
                elif a.command == "load":
                    db = os.path.join(out, f"{name}.db")
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(db + suffix):
                            os.remove(db + suffix)
                    t, rss = run([exe, "load", data, "--store", db], os.devnull)
                    stored_grids(db, f)
                elif a.command == "inspect":
                    t, rss = run([exe, "inspect", data], f)
                else:
                    t, rss = run([exe, "validate", data, layer, "--json"], f)
                best[name] = min(best.get(name, t), t)
                peak[name] = max(peak.get(name, 0), rss)
                files[name] = f
        if a.command == "validate":
            same = without_timings(files["before"]) == without_timings(files["after"])
        else:
            same = filecmp.cmp(files["before"], files["after"], shallow=False)
        cmd = " ".join([a.command, *extra])
        print(
            f"| {os.path.basename(data.rstrip('/'))} | {cmd} | {best['before']:.3f} | {best['after']:.3f}"
            f" | {best['after'] / best['before']:.2f} | {peak['before']:.0f} | {peak['after']:.0f}"
            f" | {'yes' if same else 'NO'} |",
            flush=True,
        )
