#!/usr/bin/env bash
# Validate benchmark: `wangge validate` on the partition of a generated 10,000,000-resident city
# (~7,900 grids, ~1 million segments), clean and with injected defects, against GEOS's coverage
# validator (shapely.coverage_is_valid / coverage_invalid_edges) on the same layers.
#
#   scripts/bench-validate.sh            # BENCH_PEOPLE=10000000 BENCH_GAP_WIDTH=1 BENCH_RUNS=3
#
# Steps (outputs in out/, kept and reused when present):
#   1. out/city10m: `fixtures city --seed 1 --people 10000000`;
#   2. out/city10m-grids.geojson: `wangge partition out/city10m`;
#   3. out/city10m-injected.geojson: scripts/inject-defects.py (one defect every 40 grids:
#      overlaps, slivers narrower than the gap width, gaps wider than it, unshared vertices);
#   4. per layer: `/usr/bin/time -v wangge validate DATASET LAYER --json` (wall time and peak RSS
#      of the whole command, loading included; the report's `timings` split the validation);
#   5. per layer: scripts/peers/validate_shapely.py in out/peers-venv (shapely, pyproj, numpy as
#      pinned in scripts/peers/requirements.txt), same gap width, best of BENCH_RUNS.
# Needs: cargo, python3 (3.11) with venv, GNU time at /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE=${BENCH_PEOPLE:-10000000}
GAP=${BENCH_GAP_WIDTH:-1}
RUNS=${BENCH_RUNS:-3}
CITY=out/city$((PEOPLE / 1000000))m
[[ $PEOPLE -lt 1000000 ]] && CITY=out/city$PEOPLE
GRIDS=$CITY-grids.geojson
INJECTED=$CITY-injected.geojson
mkdir -p out/bench

echo "== cargo build --release -p api -p fixtures" >&2
cargo build --release -p api -p fixtures >&2
mkdir -p out/bench/bin
cp target/release/wangge target/release/fixtures out/bench/bin/
WANGGE=out/bench/bin/wangge
echo "== commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!scripts' ':!BENCHMARKS.md' || echo ' + uncommitted changes')" >&2

if [[ ! -f $CITY/boundary.geojson ]]; then
    echo "== generating $CITY" >&2
    out/bench/bin/fixtures city --seed 1 --people "$PEOPLE" --out "$CITY" >&2
fi
if [[ ! -f $GRIDS ]]; then
    echo "== wangge partition $CITY" >&2
    "$WANGGE" partition "$CITY" --out "$GRIDS" >&2
fi
python3 scripts/inject-defects.py "$GRIDS" "$INJECTED" >&2

if [[ ! -x out/peers-venv/bin/python ]]; then
    python3 -m venv out/peers-venv
fi
pins=$(grep -E '^(shapely|pyproj|numpy)==' scripts/peers/requirements.txt | tr '\n' ' ')
out/peers-venv/bin/pip install -q $pins >&2

for layer in "$GRIDS" "$INJECTED"; do
    name=$(basename "$layer" .geojson)
    echo "== wangge validate $CITY $layer --gap-width $GAP" >&2
    for ((i = 0; i < RUNS; i++)); do
        /usr/bin/time -v -o "out/bench/$name.validate.time.$i" \
            "$WANGGE" validate "$CITY" "$layer" --gap-width "$GAP" --json > "out/bench/$name.validate.$i.json" || true
    done
    echo "== shapely coverage validator on $layer" >&2
    out/peers-venv/bin/python scripts/peers/validate_shapely.py "$layer" "out/bench/$name.validate.0.json" \
        --gap-width "$GAP" --runs "$RUNS" > "out/bench/$name.shapely.json"
done

echo "== wangge validate $CITY $INJECTED --fix, then the repaired layer" >&2
/usr/bin/time -v -o out/bench/fix.time "$WANGGE" validate "$CITY" "$INJECTED" --gap-width "$GAP" --fix out/bench/fixed.geojson --json > out/bench/fix.json || true
"$WANGGE" validate "$CITY" out/bench/fixed.geojson --gap-width "$GAP" --json > out/bench/fixed.validate.json || true

python3 - "$RUNS" "$(basename "$GRIDS" .geojson)" "$(basename "$INJECTED" .geojson)" <<'PY' | tee out/bench/validate.md
import json, re, sys
from collections import Counter
from pathlib import Path

runs = int(sys.argv[1])
out = Path("out/bench")
print("| layer | wangge: whole command (best of %d) | peak RSS | validation alone | segments + invalid edges | GEOS coverage_is_valid | GEOS coverage_invalid_edges | grids flagged: wangge / GEOS / both | defects found by wangge |" % runs)
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for name in sys.argv[2:]:
    walls, rss, alone, edges = [], [], [], []
    for i in range(runs):
        t = (out / f"{name}.validate.time.{i}").read_text()
        m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
        walls.append(int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3)))
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)))
        r = json.loads((out / f"{name}.validate.{i}.json").read_text())
        tm = r["timings"]
        alone.append(sum(tm.values()))
        edges.append(tm["segments_s"] + tm["invalid_edges_s"])
    s = json.loads((out / f"{name}.shapely.json").read_text())
    g = s["grids_flagged"]
    kinds = Counter(d["kind"] for d in r["defects"])
    found = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"
    print(f"| {name} ({s['grids']:,} grids, {s['segments']:,} segments) | {min(walls):.2f} s | {max(rss) / 1024:.0f} MB | {min(alone):.2f} s | {min(edges):.2f} s | {s['coverage_is_valid_s']:.2f} s ({'valid' if s['coverage_is_valid'] else 'invalid'}) | {s['coverage_invalid_edges_s']:.2f} s | {g['wangge']} / {g['geos']} / {g['both']} | {found} |")
t = (out / "fix.time").read_text()
m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
fix = json.loads((out / "fix.json").read_text())["repair"]
after = json.loads((out / "fixed.validate.json").read_text())
left = Counter(d["kind"] for d in after["defects"])
print()
print(f"--fix on {sys.argv[-1]}: {wall:.2f} s whole command, {len(fix['changes'])} changes; the repaired layer re-validated: "
      + (", ".join(f"{k} {n}" for k, n in sorted(left.items())) or "no defects")
      + f"; {after['exact_communities']} of {after['communities']} communities covered exactly.")
PY
