#!/usr/bin/env python3
"""Makes fixtures/layers/kangle-hand-drawn.geojson: Kangle's grids as a street office might have
drawn them by hand, derived from `wangge partition fixtures/kangle` by perturbing it.

    cargo run --release --bin wangge -- partition fixtures/kangle --out out/kangle-grids.geojson
    python3 scripts/make-hand-drawn.py out/kangle-grids.geojson fixtures/layers/kangle-hand-drawn.geojson

Injected (the expected findings are asserted in gis-core/tests/validate.rs):
  - 001: a vertex shared with 002 pulled 3 m into 001        -> a gap between 001 and 002
         and one vertex written twice                        -> repeated points
  - 003: a vertex shared with 004 pushed 4 m into 004        -> an overlap of 003 and 004
  - 005: a vertex shared with a neighbour moved 2 cm         -> a near-miss (its sliver < 1 m²)
  - 002 (or the first grid with a place for it): two corners swapped -> a bow-tie
  - 004: its ring left unclosed                              -> an unclosed ring
  - 902: dropped                                             -> a gap or hole where it was
  - 005: given 004's code                                    -> a duplicate code
  - no `wangge` metadata, no population/households/buildings (hand-drawn layers lack them)
Standard library only; deterministic.
"""
import json
import math
import sys

src, dst = sys.argv[1], sys.argv[2]
layer = json.load(open(src))
feats = {f["properties"]["code"][-3:]: f for f in layer["features"]}
ring = lambda seq: feats[seq]["geometry"]["coordinates"][0]
key = lambda p: (p[0], p[1])


def owners():
    out = {}
    for seq, f in feats.items():
        for p in f["geometry"]["coordinates"][0][:-1]:
            out.setdefault(key(p), set()).add(seq)
    return out


def centroid(seq):
    pts = ring(seq)[:-1]
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def metres(lat):
    return 111320.0 * math.cos(math.radians(lat)), 110574.0


def shared_vertex(a, b, skip=0):
    """A vertex of `a` used by `b` and no other grid, away from the ring's start."""
    own = owners()
    r = ring(a)
    found = [i for i in range(1, len(r) - 1) if own[key(r[i])] == {a, b}]
    return found[len(found) // 2 + skip]


def move(seq, i, towards, dist_m):
    """Moves vertex i of `seq` by dist_m towards (dist_m > 0) or away from a point."""
    r = ring(seq)
    x, y = r[i]
    kx, ky = metres(y)
    dx, dy = (towards[0] - x) * kx, (towards[1] - y) * ky
    n = math.hypot(dx, dy)
    r[i] = [x + dx / n * dist_m / kx, y + dy / n * dist_m / ky]
    if i == 0:
        r[-1] = r[0]


move("001", shared_vertex("001", "002"), centroid("001"), 3.0)
move("003", shared_vertex("003", "004"), centroid("003"), -4.0)
own = owners()
neighbour = next(s for s in ["004", "002", "003", "001"] if any(own[key(p)] == {"005", s} for p in ring("005")[1:-1]))
move("005", shared_vertex("005", neighbour), centroid("005"), 0.02)


def crosses(p, q, r_, s_):
    o = lambda a, b, c: (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return o(p, q, r_) * o(p, q, s_) < 0 and o(r_, s_, p) * o(r_, s_, q) < 0


def shoelace(pts, x):
    return sum((pts[k][0] - x[0]) * (pts[(k + 1) % len(pts)][1] - x[1]) - (pts[(k + 1) % len(pts)][0] - x[0]) * (pts[k][1] - x[1]) for k in range(len(pts)))


def bow_tie(r, i):
    """Whether swapping r[i] and r[i+1] makes a figure of eight: a→c crosses b→d and the small
    loop (x, c, b) turns the other way from the rest of the ring."""
    a, b, c, d = r[i - 1], r[i], r[i + 1], r[i + 2]
    # Real corners, not points along a straight line (swapping those makes a spike).
    for p, q, t in ((a, b, c), (b, c, d)):
        u, v = (q[0] - p[0], q[1] - p[1]), (t[0] - q[0], t[1] - q[1])
        if abs(u[0] * v[1] - u[1] * v[0]) < 0.3 * math.hypot(*u) * math.hypot(*v):
            return False
    if not crosses(a, c, b, d):
        return False
    den = (c[0] - a[0]) * (d[1] - b[1]) - (c[1] - a[1]) * (d[0] - b[0])
    u = ((b[0] - a[0]) * (d[1] - b[1]) - (b[1] - a[1]) * (d[0] - b[0])) / den
    x = [a[0] + u * (c[0] - a[0]), a[1] + u * (c[1] - a[1])]
    rest = [x] + r[i + 2:-1] + r[:i]
    return shoelace([x, c, b], x) * shoelace(rest, x) < 0


# Two corners clicked in the wrong order: swap vertices i and i+1 where that makes the ring a
# figure of eight, the first such place from a third of the way round.
# In the first grid that has such a place away from the market (902, dropped below), so the
# two defects stay apart.
own = owners()
for tie in ["002", "003", "001", "901"]:
    r = ring(tie)
    far = lambda i: all("902" not in own[key(r[k])] for k in range(i - 1, i + 3))
    i = next((i for i in list(range(len(r) // 3, len(r) - 3)) + list(range(1, len(r) // 3)) if far(i) and bow_tie(r, i)), None)
    if i is not None:
        r[i], r[i + 1] = r[i + 1], r[i]
        break
r = ring("001")
r.insert(5, list(r[5]))
ring("004").pop()
feats["005"]["properties"]["code"] = feats["004"]["properties"]["code"]
del feats["902"]

out = {"type": "FeatureCollection", "features": []}
for seq in sorted(feats):
    f = feats[seq]
    props = {k: v for k, v in f["properties"].items() if k not in ("population", "households", "buildings")}
    out["features"].append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
with open(dst, "w") as fh:
    fh.write('{"type":"FeatureCollection","features":[\n')
    fh.write(",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in out["features"]))
    fh.write("\n]}\n")
print(f"wrote {dst}: {len(out['features'])} grids; near-miss between 005 and {neighbour}; bow-tie in {tie}")
