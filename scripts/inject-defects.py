#!/usr/bin/env python3
"""Injects coverage defects into a grid layer, deterministically, for the validate benchmark.

    python3 scripts/inject-defects.py IN.geojson OUT.geojson [--every 40] [--seed 1]

Every N-th grid (in layer order) gets one defect, cycling through four kinds. Each moves or adds
one vertex of that grid's outer ring only, at a vertex it shares with exactly one other grid
(so the neighbour keeps the original):
  overlap  - the shared vertex pushed 2 m into the neighbour          (GEOS flags it: crossing/interior)
  sliver   - the shared vertex pulled 0.3 m back (a gap narrower than a 1 m gap width: flagged)
  gap      - the shared vertex pulled 3 m back (wider than the gap width: GEOS does not flag it)
  tjunct   - an extra vertex in the middle of a shared segment (unshared vertex: flagged)
Writes OUT and prints one line per injection (code, kind) to OUT.injected.tsv. Standard library
only.
"""
import argparse
import json
import math
import random

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("dst")
ap.add_argument("--every", type=int, default=40)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rng = random.Random(a.seed)
layer = json.load(open(a.src))
feats = [f for f in layer["features"] if f["properties"].get("level", "grid") == "grid"]
key = lambda p: (p[0], p[1])
owners = {}
for i, f in enumerate(feats):
    for poly in ([f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"]):
        for p in poly[0][:-1]:
            owners.setdefault(key(p), set()).add(i)


def outer(f):
    g = f["geometry"]
    return g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0]


kinds = ["overlap", "sliver", "gap", "tjunct"]
log = []
for n, i in enumerate(range(0, len(feats), a.every)):
    kind = kinds[n % len(kinds)]
    r = outer(feats[i])
    m = len(r) - 1
    # Vertices shared with exactly one other grid, whose ring neighbours are shared with it too.
    cands = [k for k in range(1, m) if len(owners[key(r[k])]) == 2 and owners[key(r[k - 1])] >= owners[key(r[k])] and owners[key(r[k + 1])] >= owners[key(r[k])]]
    if not cands:
        continue
    k = rng.choice(cands)
    other = next(iter(owners[key(r[k])] - {i}))
    cx = sum(p[0] for p in r[:-1]) / m
    cy = sum(p[1] for p in r[:-1]) / m
    x, y = r[k]
    kx, ky = 111320.0 * math.cos(math.radians(y)), 110574.0
    dx, dy = (cx - x) * kx, (cy - y) * ky
    d = math.hypot(dx, dy)
    if kind == "tjunct":
        r.insert(k + 1, [(x + r[k + 1][0]) / 2, (y + r[k + 1][1]) / 2])
    else:
        metres = {"overlap": -2.0, "sliver": 0.3, "gap": 3.0}[kind]
        r[k] = [x + dx / d * metres / kx, y + dy / d * metres / ky]
    log.append((feats[i]["properties"]["code"], feats[other]["properties"]["code"], kind))

json.dump(layer, open(a.dst, "w"), separators=(",", ":"))
with open(a.dst + ".injected.tsv", "w") as fh:
    fh.write("code\tneighbour\tkind\n")
    for row in log:
        fh.write("\t".join(row) + "\n")
print(f"{a.dst}: {len(log)} defects injected into {len(feats)} grids ({', '.join(f'{k} {sum(1 for r in log if r[2] == k)}' for k in kinds)})")
