"""Walking distances checked by an independent router (networkx's Dijkstra) on the same graph.

Reads JSON on standard input, as api/tests/import/walk.rs writes it:
  {"edges": [[a, b, metres], ...],
   "pairs": [{"from": SNAP, "to": SNAP, "metres": wangge's walk}, ...]}
where SNAP is {"a": node, "b": node, "len": edge metres, "t": 0..1 from a, "snap_m": metres}.
A snapped point is a virtual node joined to its edge's two nodes (the snap step plus the part of
the edge to each), and to a point snapped to the same edge straight along it. Prints a JSON
summary; exits 1 when any pair differs by more than the tolerance (metres, argv[1], default 1).
"""

import json
import sys

import networkx as nx


def main():
    tolerance = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    data = json.load(sys.stdin)
    g = nx.Graph()
    for a, b, m in data["edges"]:
        if g.has_edge(a, b):
            m = min(m, g[a][b]["weight"])
        g.add_edge(a, b, weight=m)

    def attach(name, s):
        g.add_edge(name, s["a"], weight=s["snap_m"] + s["t"] * s["len"])
        g.add_edge(name, s["b"], weight=s["snap_m"] + (1.0 - s["t"]) * s["len"])

    # Pairs from one building together: one search from the building to all its resources.
    by_source = {}
    for i, p in enumerate(data["pairs"]):
        key = json.dumps(p["from"], sort_keys=True)
        by_source.setdefault(key, []).append(i)
    worst, failures, compared, unreachable = 0.0, [], 0, 0
    for indexes in by_source.values():
        source = data["pairs"][indexes[0]]["from"]
        attach("source", source)
        for i in indexes:
            target = data["pairs"][i]["to"]
            attach(("target", i), target)
            if (target["a"], target["b"]) == (source["a"], source["b"]):
                along = source["snap_m"] + target["snap_m"] + abs(source["t"] - target["t"]) * source["len"]
                g.add_edge("source", ("target", i), weight=along)
        lengths = nx.single_source_dijkstra_path_length(g, "source", weight="weight")
        for i in indexes:
            want = lengths.get(("target", i))
            got = data["pairs"][i]["metres"]
            if want is None or got is None:
                if (want is None) != (got is None):
                    failures.append({"pair": i, "networkx": want, "wangge": got})
                unreachable += 1
                continue
            compared += 1
            diff = abs(want - got)
            worst = max(worst, diff)
            if diff > tolerance:
                failures.append({"pair": i, "networkx": want, "wangge": got})
            g.remove_node(("target", i))
        for i in indexes:
            if g.has_node(("target", i)):
                g.remove_node(("target", i))
        g.remove_node("source")
    print(json.dumps({"compared": compared, "unreachable": unreachable, "worst_m": worst,
                      "failures": failures[:20], "failed": len(failures)}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
