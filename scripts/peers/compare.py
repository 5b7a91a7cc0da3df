#!/usr/bin/env python3
"""Compare wangge's grids with two peers on one dataset, community by community.

Peers, run the way shared/research/partitioning.md describes them:
  * PySAL spopt MaxPHeuristic: floor = 1,500 residents, attribute = building population;
  * METIS (pymetis): k = round(P / 1750) per community, vertex weights = building population,
    contiguity option on (METIS_OPTION_CONTIG, pymetis ``Options(contig=1)``).
Both work on the same adjacency: Queen contiguity (libpysal) of the Voronoi cells of the
building centroids, clipped to the community. Each peer grid is drawn the way peers draw it:
those Voronoi cells, dissolved per region.

Every method (wangge included, read from the grids GeoJSON it writes) is then measured the same
way, in a local UTM projection (chosen by geopandas' estimate_utm_crs from the dataset extent):
grid count, share of grids within [1500, 2000] residents, share of grids in one piece, buildings
cut, grids spanning two communities, Polsby-Popper mean/min, share of border length within 12 m
of a road centreline, plus gap/overlap area against the community boundary.

Usage: see scripts/peers/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import warnings
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pymetis
import shapely
from libpysal.cg import voronoi_frames
from libpysal.weights import Queen
from shapely.geometry import MultiPolygon, Polygon
from spopt.region import MaxPHeuristic

MIN_POP, MAX_POP = 1500, 2000
METIS_TARGET = 1750
ROAD_DISTANCE_M = 12.0
CUT_AREA_M2 = 0.01  # a building counts as cut when >= 2 grids each cover more than this of it
SPAN_AREA_M2 = 1.0  # a grid spans a community when it covers more than this of it
BOUNDARY_TOL_M = 0.5  # border within this of the community line is the community line


# --------------------------------------------------------------------------- loading


def read(path: Path) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    return gdf


def load(dataset: Path):
    boundary = read(dataset / "boundary.geojson")
    buildings = read(dataset / "buildings.geojson")
    roads = read(dataset / "roads.geojson") if (dataset / "roads.geojson").exists() else None
    points = read(dataset / "population.geojson") if (dataset / "population.geojson").exists() else None
    utm = boundary.estimate_utm_crs()
    boundary = boundary.to_crs(utm).sort_values("code").reset_index(drop=True)
    buildings = buildings.to_crs(utm)
    buildings["population"] = buildings["population"].fillna(0).astype(int)
    # A building belongs to the community containing its representative point.
    rep = gpd.GeoDataFrame(geometry=buildings.geometry.representative_point(), crs=utm)
    hits = gpd.sjoin(rep, boundary[["code", "geometry"]], predicate="intersects", how="left")
    hits = hits[~hits.index.duplicated(keep="first")]
    buildings["community"] = hits["code"].reindex(buildings.index).values
    buildings = buildings.sort_values(["community", "id"]).reset_index(drop=True)
    if roads is not None:
        roads = roads.to_crs(utm)
    if points is not None:
        points = points.to_crs(utm)
        points["count"] = points["count"].fillna(0).astype(int)
    # Units (单元) of a building, so wangge's unit parts ID#UNIT can be counted.
    units = {}
    if "units" in buildings.columns:
        for bid, u in zip(buildings["id"], buildings["units"]):
            if isinstance(u, str):
                u = json.loads(u)
            if isinstance(u, list):
                units[bid] = {x["name"]: int(x.get("population", 0)) for x in u}
    return boundary, buildings, roads, points, units, utm


# --------------------------------------------------------------------------- peers


def voronoi_cells(centroids: gpd.GeoSeries, clip) -> gpd.GeoSeries:
    """Voronoi cells of the centroids, clipped to the community (libpysal), in input order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cells = voronoi_frames(centroids, clip=clip, return_input=False, as_gdf=False)
    cells = gpd.GeoSeries(cells.values, crs=centroids.crs)
    if len(cells) != len(centroids):
        raise RuntimeError(f"voronoi_frames returned {len(cells)} cells for {len(centroids)} points")
    return cells


def queen(cells: gpd.GeoSeries):
    gdf = gpd.GeoDataFrame(geometry=cells.values, crs=cells.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)


def run_maxp(units: gpd.GeoDataFrame, w, seed: int, sa_iterations: int, construction_iterations: int):
    np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MaxPHeuristic(
            units,
            w,
            attrs_name=["population"],
            threshold_name="population",
            threshold=MIN_POP,
            top_n=2,
            max_iterations_construction=construction_iterations,
            max_iterations_sa=sa_iterations,
        )
        model.solve()
    if model.labels_ is None:
        raise RuntimeError("MaxPHeuristic returned no labels (no feasible initial solution)")
    return np.asarray(model.labels_)


def run_metis(w, population: np.ndarray, seed: int, contiguous: bool):
    n = len(population)
    k = max(1, round(int(population.sum()) / METIS_TARGET))
    if k == 1:
        return np.zeros(n, dtype=int), k
    adjacency = [sorted(w.neighbors[i]) for i in range(n)]
    opts = pymetis.Options(seed=seed, contig=1 if contiguous else 0)
    _, parts = pymetis.part_graph(k, adjacency=adjacency, vweights=[int(p) for p in population], options=opts)
    return np.asarray(parts), k


def dissolve(cells: gpd.GeoSeries, labels: np.ndarray):
    out = []
    for lab in sorted(set(int(x) for x in labels)):
        geoms = cells.values[labels == lab]
        try:
            g = shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:
            g = shapely.union_all(geoms)
        out.append((lab, g))
    return out


def run_peers(boundary, buildings, seed: int, sa_iterations: int, construction_iterations: int, methods):
    """Returns {method: DataFrame(community, grid, geometry, building_ids)} and timings/errors."""
    grids = {m: [] for m in methods}
    timing = {m: {"solve_s": 0.0, "total_s": 0.0, "per_community": {}} for m in methods}
    errors = {m: [] for m in methods}
    shared_s = 0.0  # Voronoi cells + weights, built once per community and used by both peers
    by_comm = dict(tuple(buildings.groupby("community", sort=True)))
    for ci, row in boundary.iterrows():
        code = row["code"]
        b = by_comm.get(code)
        if b is None or len(b) == 0:
            continue
        t0 = time.perf_counter()
        centroids = b.geometry.centroid.reset_index(drop=True)
        cells = voronoi_cells(centroids, row.geometry)
        w = queen(cells)
        prep_s = time.perf_counter() - t0
        shared_s += prep_s
        units = gpd.GeoDataFrame({"population": b["population"].values}, geometry=cells.values, crs=cells.crs)
        pop = b["population"].to_numpy()
        ids = b["id"].tolist()
        for m in methods:
            t1 = time.perf_counter()
            try:
                if m == "maxp":
                    labels = run_maxp(units, w, seed, sa_iterations, construction_iterations)
                elif m == "metis":
                    try:
                        labels, _ = run_metis(w, pop, seed, contiguous=True)
                    except Exception as e:  # record, then the same call without contiguity
                        errors[m].append(f"{code}: contig=1 failed: {type(e).__name__}: {e}; ran contig=0")
                        labels, _ = run_metis(w, pop, seed, contiguous=False)
                else:
                    raise ValueError(m)
            except Exception as e:
                errors[m].append(f"{code}: {type(e).__name__}: {e}")
                traceback.print_exc(file=sys.stderr)
                continue
            t2 = time.perf_counter()
            for lab, geom in dissolve(cells, labels):
                members = [ids[i] for i in np.flatnonzero(labels == lab)]
                grids[m].append({"community": code, "geometry": geom, "buildings": members})
            t3 = time.perf_counter()
            timing[m]["solve_s"] += t2 - t1
            timing[m]["total_s"] += (t2 - t1) + (t3 - t2) + prep_s
            timing[m]["per_community"][code] = (t2 - t1) + (t3 - t2) + prep_s
        took = ", ".join(f"{m} {timing[m]['per_community'].get(code, float('nan')):.1f} s" for m in methods)
        print(f"  {ci + 1}/{len(boundary)} {code}: {len(b)} buildings; {took}", file=sys.stderr)
    frames = {
        m: gpd.GeoDataFrame(pd.DataFrame(grids[m]), geometry="geometry", crs=boundary.crs) for m in methods
    }
    return frames, timing, errors, shared_s


# --------------------------------------------------------------------------- wangge


def run_wangge(binary: Path, dataset: Path, out: Path, runs: int, threads: int | None):
    env = dict(os.environ)
    if threads:
        env["RAYON_NUM_THREADS"] = str(threads)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(
            [str(binary), "partition", str(dataset), "--out", str(out)],
            capture_output=True, text=True, env=env,
        )
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"wangge partition failed ({p.returncode}): {p.stderr.strip()}")
        m = re.search(r" in ([0-9.]+) s", p.stdout)
        times.append((float(m.group(1)) if m else float("nan"), wall))
    return min(times), p.stdout


def load_wangge(path: Path, utm, units, buildings):
    g = read(path).to_crs(utm)
    rows = []
    pop_of = dict(zip(buildings["id"], buildings["population"]))
    for _, r in g.iterrows():
        ids = r["buildings"]
        if isinstance(ids, str):
            ids = json.loads(ids)
        ids = list(ids) if ids is not None else []
        rows.append({
            "community": r["community_code"],
            "geometry": r.geometry,
            "buildings": ids,
            "kind": r.get("kind", "basic"),
            "code": r.get("code"),
            "reported_population": int(r["population"]),
        })
    df = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=utm)
    return df


# --------------------------------------------------------------------------- metrics


def pp(geom) -> float:
    rings = []
    for poly in getattr(geom, "geoms", [geom]):
        rings.append(poly.exterior)
        rings.extend(poly.interiors)
    per = sum(r.length for r in rings)
    return 4 * math.pi * geom.area / per**2 if per > 0 else 0.0


def parts(geom) -> int:
    if geom is None or geom.is_empty:
        return 0
    if isinstance(geom, Polygon):
        return 1
    if isinstance(geom, MultiPolygon):
        return len(geom.geoms)
    return len([p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0])


def measure(name, grids, boundary, buildings, roads, points, units, runtime):
    """grids: GeoDataFrame(community, geometry, buildings[, kind])."""
    grids = grids.reset_index(drop=True)
    basic = grids["kind"].eq("basic") if "kind" in grids else pd.Series(True, index=grids.index)
    pop_of = dict(zip(buildings["id"], buildings["population"]))

    # Population: buildings (or unit parts) assigned to the grid + population points it covers.
    def bpop(bid: str) -> int:
        if "#" in bid and bid not in pop_of:
            base, unit = bid.split("#", 1)
            return int(units.get(base, {}).get(unit, 0))
        return int(pop_of.get(bid, 0))

    population = np.array([sum(bpop(b) for b in ids) for ids in grids["buildings"]], dtype=np.int64)
    if points is not None and len(points):
        hit = gpd.sjoin(points[["count", "geometry"]], grids[["geometry"]], predicate="intersects", how="inner")
        hit = hit[~hit.index.duplicated(keep="first")]  # a point on a shared edge: first grid
        add = hit.groupby("index_right")["count"].sum()
        population[add.index.to_numpy()] += add.to_numpy()
    in_bounds = (population >= MIN_POP) & (population <= MAX_POP)
    nparts = np.array([parts(g) for g in grids.geometry])
    comp = np.array([pp(g) for g in grids.geometry])

    # Buildings cut: the footprint's interior meets >= 2 grids by more than CUT_AREA_M2 each.
    bgeo = buildings[["id", "geometry"]]
    pairs = gpd.sjoin(bgeo, grids[["geometry"]], predicate="intersects", how="inner")
    inter = shapely.intersection(
        bgeo.geometry.values[pairs.index.to_numpy()],
        grids.geometry.values[pairs["index_right"].to_numpy()],
    )
    pairs = pairs.assign(area=shapely.area(inter))
    big = pairs[pairs["area"] > CUT_AREA_M2]
    ngrids = big.groupby(big.index).size()
    cut_idx = ngrids[ngrids >= 2].index
    cut_ids = set(buildings.loc[cut_idx, "id"])
    unit_split = set()
    for ids in grids["buildings"]:
        for b in ids:
            if "#" in b:
                unit_split.add(b.split("#", 1)[0])
    # a unit split is one whose parts wangge lists in more than one grid
    owners = defaultdict(set)
    for gi, ids in enumerate(grids["buildings"]):
        for b in ids:
            owners[b.split("#", 1)[0]].add(gi)
    unit_split = {b for b in unit_split if len(owners[b]) > 1}
    cut_by_units = cut_ids & unit_split

    # Spanning two communities.
    cpairs = gpd.sjoin(grids[["geometry"]], boundary[["code", "geometry"]], predicate="intersects", how="inner")
    carea = shapely.area(shapely.intersection(
        grids.geometry.values[cpairs.index.to_numpy()],
        boundary.geometry.values[cpairs["index_right"].to_numpy()],
    ))
    cpairs = cpairs.assign(area=carea)
    span = cpairs[cpairs["area"] > SPAN_AREA_M2].groupby(level=0).size()
    spanning = int((span >= 2).sum())

    # Borders between grids (community lines excluded), and how much lies near a road.
    road_buf = shapely.union_all(roads.geometry.buffer(ROAD_DISTANCE_M).values) if roads is not None else None
    border_len = near_len = 0.0
    gap_m2 = overlap_m2 = 0.0
    for _, crow in boundary.iterrows():
        sel = grids[grids["community"] == crow["code"]]
        if len(sel) == 0:
            gap_m2 += crow.geometry.area
            continue
        geoms = sel.geometry.values
        union = shapely.union_all(geoms)
        gap_m2 += crow.geometry.difference(union).area
        overlap_m2 += max(0.0, float(shapely.area(geoms).sum()) - union.area)
        lines = shapely.union_all(shapely.boundary(geoms))
        inner = lines.difference(crow.geometry.boundary.buffer(BOUNDARY_TOL_M))
        border_len += inner.length
        if road_buf is not None and not inner.is_empty:
            near_len += inner.intersection(road_buf).length

    # The grid's own population figure, where it gives one, against the recount.
    mismatch = None
    if "reported_population" in grids:
        rep = grids["reported_population"].to_numpy()
        mismatch = [
            {"grid": grids.loc[i, "code"], "reported": int(rep[i]), "recounted": int(population[i])}
            for i in np.flatnonzero(rep != population)
        ]

    b = basic.to_numpy()
    cut_by_grid = defaultdict(int)
    for bi, gi in zip(big.index, big["index_right"]):
        if buildings.loc[bi, "id"] in cut_ids - cut_by_units:
            cut_by_grid[int(gi)] += 1
    per_grid = [
        {
            "community": grids.loc[i, "community"],
            "code": grids.loc[i, "code"] if "code" in grids else None,
            "basic": bool(b[i]),
            "population": int(population[i]),
            "parts": int(nparts[i]),
            "pp": round(float(comp[i]), 4),
            "buildings_cut": cut_by_grid.get(i, 0),
            "spans": int(span.get(i, 0)),
        }
        for i in range(len(grids))
    ]
    return {
        "method": name,
        "runtime_s": runtime,
        "grids": int(b.sum()),
        "other_grids": int((~b).sum()),
        "in_bounds_share": float(in_bounds[b].mean()) if b.any() else float("nan"),
        "population_min": int(population[b].min()) if b.any() else 0,
        "population_max": int(population[b].max()) if b.any() else 0,
        "contiguous_share": float((nparts[b] == 1).mean()) if b.any() else float("nan"),
        "multipart_grids": int((nparts > 1).sum()),
        "buildings_cut": len(cut_ids - cut_by_units),
        "buildings_cut_by_unit_split": len(cut_by_units),
        "buildings_unit_split": len(unit_split),
        "spanning_two_communities": spanning,
        "pp_mean": float(comp[b].mean()) if b.any() else float("nan"),
        "pp_min": float(comp[b].min()) if b.any() else float("nan"),
        "border_m": border_len,
        "border_near_road_share": near_len / border_len if border_len > 0 else float("nan"),
        "gap_m2": gap_m2,
        "overlap_m2": overlap_m2,
        "population_mismatches": mismatch,
        "cut_building_ids": sorted(cut_ids - cut_by_units),
        "per_grid": per_grid,
        "cut_by_community": {
            str(k): int(v)
            for k, v in buildings[buildings["id"].isin(cut_ids - cut_by_units)].groupby("community").size().items()
        },
    }


# --------------------------------------------------------------------------- output


def table(results) -> str:
    rows = [
        ("runtime (s)", lambda r: r["runtime_label"]),
        ("grids (basic)", lambda r: str(r["grids"]) + (f" (+{r['other_grids']} exclusive)" if r["other_grids"] else "")),
        ("grids within 1,500–2,000", lambda r: f"{100 * r['in_bounds_share']:.1f}%"),
        ("grid population min–max", lambda r: f"{r['population_min']:,}–{r['population_max']:,}"),
        ("grids contiguous (one polygon)", lambda r: f"{100 * r['contiguous_share']:.1f}%"),
        ("buildings cut by grid edges", lambda r: str(r["buildings_cut"])
            + (f" (+{r['buildings_cut_by_unit_split']} split by 单元)" if r["buildings_cut_by_unit_split"] else "")),
        ("grids spanning two communities", lambda r: str(r["spanning_two_communities"])),
        ("Polsby-Popper mean / min", lambda r: f"{r['pp_mean']:.3f} / {r['pp_min']:.3f}"),
        ("grid border within 12 m of a road", lambda r: f"{100 * r['border_near_road_share']:.1f}%"),
        ("gap / overlap vs. community (m²)", lambda r: f"{r['gap_m2']:.1f} / {r['overlap_m2']:.1f}"),
    ]
    head = "| metric | " + " | ".join(r["label"] for r in results) + " |"
    sep = "| --- |" + " --- |" * len(results)
    lines = [head, sep]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(f(r) for r in results) + " |")
    return "\n".join(lines)


def per_community(results) -> str:
    """One row per community: grids, in bounds, pieces, cut buildings, PP min, per method."""
    codes = sorted({g["community"] for r in results for g in r["per_grid"]})
    head = "| community | " + " | ".join(
        f"{r['label']}: grids, in bounds, multipart, cut, PP min" for r in results) + " |"
    lines = [head, "| --- |" + " --- |" * len(results)]
    for code in codes:
        cells = []
        for r in results:
            gs = [g for g in r["per_grid"] if g["community"] == code]
            bs = [g for g in gs if g["basic"]]
            inb = sum(1 for g in bs if MIN_POP <= g["population"] <= MAX_POP)
            cells.append(
                f"{len(bs)}, {inb}, {sum(1 for g in gs if g['parts'] > 1)}, "
                f"{r['cut_by_community'].get(code, 0)}, "
                f"{min((g['pp'] for g in bs), default=float('nan')):.2f}"
            )
        lines.append(f"| {code} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--wangge", type=Path, default=Path("target/release/wangge"), help="wangge binary")
    ap.add_argument("--out", type=Path, default=Path("out/peers"), help="folder for grids and results")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--wangge-runs", type=int, default=5, help="best of N for wangge's printed time")
    ap.add_argument("--maxp-sa-iterations", type=int, default=10, help="spopt's default is 10")
    ap.add_argument("--maxp-construction-iterations", type=int, default=99, help="spopt's default is 99")
    ap.add_argument("--methods", default="maxp,metis")
    ap.add_argument("--reuse", action="append", default=[], metavar="METHOD:DIR",
                    help="measure the grids and time that an earlier run of METHOD wrote to DIR (same buildings) "
                         "instead of solving again; repeatable")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    methods = [m for m in args.methods.split(",") if m]

    boundary, buildings, roads, points, units, utm = load(args.dataset)
    print(f"{args.dataset}: {len(boundary)} communities, {len(buildings)} buildings, "
          f"{int(buildings['population'].sum()):,} residents in buildings, "
          f"{int(points['count'].sum()) if points is not None else 0:,} in points; metric CRS {utm.to_string()}",
          file=sys.stderr)
    unassigned = buildings["community"].isna().sum()
    if unassigned:
        print(f"warning: {unassigned} buildings lie in no community; peers skip them", file=sys.stderr)

    results = []
    # Run a copy, so that a rebuild meanwhile cannot swap the binary between runs.
    binary = args.out / "wangge"
    shutil.copy2(args.wangge, binary)
    wangge_sha = hashlib.sha256(binary.read_bytes()).hexdigest()
    wg_path = args.out / "wangge-grids.geojson"
    (best, wall), stdout = run_wangge(binary, args.dataset, wg_path, args.wangge_runs, None)
    (best1, _), _ = run_wangge(binary, args.dataset, args.out / "wangge-grids-1thread.geojson",
                               args.wangge_runs, 1)
    (args.out / "wangge-stdout.txt").write_text(stdout)
    wg = load_wangge(wg_path, utm, units, buildings)
    r = measure("wangge", wg, boundary, buildings, roads, points, units, best)
    r["label"] = "wangge"
    r["runtime_label"] = f"{best:.2f} (2 threads), {best1:.2f} (1 thread)"
    r["runtime_1thread_s"] = best1
    r["wall_incl_loading_s"] = wall
    results.append(r)

    inputs_sha = hashlib.sha256(b"".join(
        (args.dataset / f).read_bytes() for f in ("boundary.geojson", "buildings.geojson"))).hexdigest()
    reuse = dict(x.split(":", 1) for x in args.reuse)
    solve = [m for m in methods if m not in reuse]
    frames, timing, errors, shared_s = {}, {}, {}, 0.0
    if solve:
        frames, timing, errors, shared_s = run_peers(
            boundary, buildings, args.seed, args.maxp_sa_iterations, args.maxp_construction_iterations, solve)
    for m, d in reuse.items():
        # Measure a plan an earlier run wrote (for the same buildings), without solving again.
        d = Path(d)
        prev = json.loads((d / "results.json").read_text())
        if prev.get("inputs_sha256") != inputs_sha:
            sys.exit(f"--reuse {m}:{d}: that run read other buildings or boundaries; solve again")
        f = read(d / f"{m}-grids.geojson").to_crs(utm)
        f["buildings"] = f["buildings"].apply(lambda x: json.loads(x) if isinstance(x, str) else list(x))
        f["community"] = f["community"].astype(str)
        frames[m] = f[["community", "buildings", "geometry"]]
        r = next(r for r in prev["results"] if r["method"] == m)
        timing[m] = {"total_s": r["runtime_s"], "solve_s": r["solve_s"], "per_community": r.get("per_community_s", {})}
        errors[m] = r.get("errors", [])
    labels = {"maxp": "spopt MaxPHeuristic", "metis": "METIS (pymetis, contig)"}
    for m in methods:
        f = frames[m]
        out = f.copy()
        out["buildings"] = out["buildings"].apply(json.dumps)
        if len(out) and m not in reuse:
            out.to_crs(4326).to_file(args.out / f"{m}-grids.geojson", driver="GeoJSON")
        r = measure(m, f, boundary, buildings, roads, points, units, timing[m]["total_s"])
        r["label"] = labels[m]
        if m in reuse:
            r["reused_from"] = reuse[m]
        r["solve_s"] = timing[m]["solve_s"]
        r["per_community_s"] = timing[m]["per_community"]
        r["runtime_label"] = f"{timing[m]['total_s']:.2f} (solve {timing[m]['solve_s']:.2f})"
        r["errors"] = errors[m]
        results.append(r)

    summary = {
        "dataset": str(args.dataset),
        "communities": len(boundary),
        "buildings": len(buildings),
        "metric_crs": utm.to_string(),
        "seed": args.seed,
        "maxp_construction_iterations": args.maxp_construction_iterations,
        "maxp_sa_iterations": args.maxp_sa_iterations,
        "reused": reuse,
        "wangge_sha256": wangge_sha,
        "inputs_sha256": inputs_sha,
        "voronoi_and_weights_s": shared_s,
        "results": results,
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=float))
    (args.out / "per-community.md").write_text(per_community(results) + "\n")
    print(table(results))
    for r in results:
        for e in r.get("errors", []):
            print(f"{r['label']}: {e}")
        if r.get("population_mismatches"):
            print(f"{r['label']}: {len(r['population_mismatches'])} grids whose population property differs "
                  f"from the recount, e.g. {r['population_mismatches'][:3]}")


if __name__ == "__main__":
    main()
