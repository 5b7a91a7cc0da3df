"""Counts an OpenStreetMap extract's water and green the way `wangge import` reads them, but with
GDAL's OSM driver (through pyogrio): an independent reading of the same tags.

usage: osm_context.py FILE.osm.pbf   (prints JSON: {"water": [ids], "green": [ids]}, ids as
`osm-w123` / `osm-r456`; water holds areas and lines)

GDAL builds a way's geometry from the nodes the extract holds, so ways cut at the extract's edge
appear here and not in the import (which drops them, naming each); the test allows exactly those.
"""
import json
import re
import sys
import warnings

import pyogrio

warnings.filterwarnings("ignore")

GREEN_LANDUSE = {"grass", "forest", "recreation_ground", "cemetery", "village_green", "meadow"}


def tags(row):
    other = row.get("other_tags")
    t = dict(re.findall(r'"([^"]+)"=>"([^"]*)"', other if isinstance(other, str) else ""))
    for k in ("natural", "landuse", "leisure", "waterway", "building"):
        v = row.get(k)
        if isinstance(v, str):
            t[k] = v
    return t


def layer_of(t):
    """water_line, water, green or None: the same order of tests as import/src/osm.rs."""
    w, n, landuse, leisure = t.get("waterway"), t.get("natural"), t.get("landuse"), t.get("leisure")
    if w in ("river", "canal", "stream"):
        return "water_line"
    if w == "riverbank" or n == "water" or landuse in ("reservoir", "basin"):
        return "water"
    if leisure in ("park", "garden", "playground") or landuse in GREEN_LANDUSE or n in ("wood", "scrub"):
        return "green"
    return None


out = {"water": [], "green": []}
path = sys.argv[1]
for layer in ("multipolygons", "lines"):
    df = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore")
    for _, row in df.iterrows():
        g = row.geometry
        if g is None or not hasattr(g, "is_empty") or g.is_empty:
            continue
        t = tags(row)
        kind = layer_of(t)
        if kind is None:
            continue
        if layer == "multipolygons":
            # Buildings' own multipolygons are buildings; a waterway line is never an area.
            if kind == "water_line" or "building" in t:
                continue
            rel = row.get("osm_id")
            fid = f"osm-r{rel}" if isinstance(rel, str) and rel else f"osm-w{row.get('osm_way_id')}"
            out["water" if kind == "water" else "green"].append(fid)
        elif kind == "water_line":
            out["water"].append(f"osm-w{row.get('osm_id')}")
print(json.dumps({k: sorted(v) for k, v in out.items()}))
