"""Decodes MVT files with mapbox-vector-tile (an independent decoder) and prints, per file and
layer, what the Rust tests check: version, extent, and per feature its id, properties, geometry
type and the signed area (y down) of every ring of every polygon.

usage: decode_mvt.py FILE.mvt...   (prints one JSON object keyed by file name)
"""
import json
import sys

import mapbox_vector_tile


def ring_area(ring):
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        s += x1 * y2 - x2 * y1
    return s / 2.0


def polygons(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return geom["coordinates"]
    return []


out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    summary = {}
    for name, layer in layers.items():
        feats = []
        for feat in layer["features"]:
            g = feat["geometry"]
            feats.append({
                "id": feat.get("id"),
                "properties": feat["properties"],
                "type": g["type"],
                "rings": [[ring_area(r) for r in poly] for poly in polygons(g)],
                "points": len(g["coordinates"]) if g["type"] in ("LineString", "MultiPoint") else None,
            })
        summary[name] = {"version": layer.get("version"), "extent": layer["extent"], "features": feats}
    out[path.rsplit("/", 1)[-1]] = summary
json.dump(out, sys.stdout)
