#!/usr/bin/env python3
"""GEOS's coverage validator (shapely >= 2.1) on a grid layer, compared with `wangge validate`.

    python3 scripts/peers/validate_shapely.py GRIDS.geojson WANGGE_REPORT.json [--gap-width 1] [--runs 3]

Grid-level features only (micro-grids are validated against their parents). Lon/lat is
projected to the layer's UTM zone (WGS-84, pyproj) so that the gap width is in metres;
projection is a pure function of each position, so vertices shared bit for bit stay shared.
Times `shapely.coverage_is_valid(geoms, gap_width)` and `shapely.coverage_invalid_edges(geoms,
gap_width)` (best of --runs, GEOS single-threaded), then compares which grids have invalid edges
with the `invalid_edges` of wangge's --json report (same gap width). Prints a JSON summary.
"""
import argparse
import json
import math
import time

import numpy as np
import pyproj
import shapely

ap = argparse.ArgumentParser()
ap.add_argument("grids")
ap.add_argument("wangge_report")
ap.add_argument("--gap-width", type=float, default=1.0)
ap.add_argument("--runs", type=int, default=3)
a = ap.parse_args()

t0 = time.perf_counter()
layer = json.load(open(a.grids))
feats = [f for f in layer["features"] if f["properties"].get("level", "grid") == "grid"]
codes = [f["properties"]["code"] for f in feats]
geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in feats])
lon = float(np.mean([g.centroid.x for g in geoms[: min(len(geoms), 500)]]))
lat = float(np.mean([g.centroid.y for g in geoms[: min(len(geoms), 500)]]))
zone = int(math.floor((lon + 180) / 6)) + 1
epsg = (32600 if lat >= 0 else 32700) + zone
tr = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
geoms = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
load_s = time.perf_counter() - t0


def best(f):
    times, out = [], None
    for _ in range(a.runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


valid_s, valid = best(lambda: shapely.coverage_is_valid(geoms, gap_width=a.gap_width))
edges_s, edges = best(lambda: shapely.coverage_invalid_edges(geoms, gap_width=a.gap_width))
geos = {}
for code, e in zip(codes, edges):
    if e is not None and not e.is_empty:
        geos[code] = geos.get(code, 0.0) + e.length

report = json.load(open(a.wangge_report))
wangge = {}
for e in report["invalid_edges"]:
    if e["level"] == "grid":
        wangge[e["code"]] = wangge.get(e["code"], 0.0) + e["length_m"]
both = sorted(set(geos) & set(wangge))
only_geos = sorted(set(geos) - set(wangge))
only_wangge = sorted(set(wangge) - set(geos))
lengths = [(geos[c], wangge[c]) for c in both]
print(json.dumps({
    "grids": len(feats),
    "segments": int(sum(shapely.get_num_coordinates(geoms)) - sum(shapely.get_num_geometries(geoms))),
    "crs": f"EPSG:{epsg}",
    "gap_width_m": a.gap_width,
    "shapely": shapely.__version__,
    "geos": shapely.geos_version_string,
    "load_and_project_s": round(load_s, 3),
    "coverage_is_valid_s": round(valid_s, 3),
    "coverage_is_valid": bool(valid),
    "coverage_invalid_edges_s": round(edges_s, 3),
    "grids_flagged": {"geos": len(geos), "wangge": len(wangge), "both": len(both), "only_geos": only_geos[:20], "only_wangge": only_wangge[:20]},
    "invalid_length_m": {"geos": round(sum(geos.values()), 2), "wangge": round(sum(wangge.values()), 2)},
    "length_agreement_within_1pct": sum(1 for g, w in lengths if abs(g - w) <= 0.01 * max(g, w)),
}, indent=2))
