"""Reads a tile archive written by `wangge tiles export` with readers wangge did not write, for
api/tests/tile_archive.rs: PMTiles through the `pmtiles` package (Protomaps' Python reader),
MBTiles through Python's sqlite3. Prints JSON on standard output:

  {"header": {...}, "metadata": {...}, "tiles": {"z/x/y": "<the gunzipped tile in hex>"},
   "entries": [[tile_id, run_length], ...] (PMTiles: every directory entry, leaves followed)}

Usage: read_archive.py pmtiles|mbtiles FILE
"""

import gzip
import json
import sqlite3
import sys


def pmtiles(path):
    from pmtiles.reader import MmapSource, Reader, all_tiles
    from pmtiles.tile import Compression, TileType, deserialize_directory

    with open(path, "rb") as f:
        get_bytes = MmapSource(f)
        reader = Reader(get_bytes)
        header = reader.header()
        metadata = reader.metadata()
        tiles = {}
        # The reader's own lookup by z/x/y finds the same bytes as the traversal: every tile of
        # a small archive, about 1,000 spread over a large one (each lookup re-reads directories).
        every = max(1, header["addressed_tiles_count"] // 1000)
        for i, ((z, x, y), data) in enumerate(all_tiles(get_bytes)):
            assert header["tile_compression"] == Compression.GZIP
            tiles[f"{z}/{x}/{y}"] = gzip.decompress(data).hex()
            if i % every == 0:
                assert reader.get(z, x, y) == data, (z, x, y)

        # Every directory entry, leaves followed: the test checks ids ascend and runs are used.
        entries = []
        leaves = 0

        def walk(offset, length):
            nonlocal leaves
            # The package's directory reader gunzips (the spec's internal compression).
            assert header["internal_compression"] == Compression.GZIP
            for e in deserialize_directory(get_bytes(offset, length)):
                if e.run_length == 0:
                    leaves += 1
                    walk(header["leaf_directory_offset"] + e.offset, e.length)
                else:
                    entries.append([e.tile_id, e.run_length, e.offset, e.length])

        walk(header["root_offset"], header["root_length"])
        h = {k: (v.name if isinstance(v, (Compression, TileType)) else v) for k, v in header.items()}
        h["leaf_directories"] = leaves
        return {"header": h, "metadata": metadata, "tiles": tiles, "entries": entries}


def mbtiles(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    metadata = dict(db.execute("SELECT name, value FROM metadata"))
    tiles = {}
    for z, col, row, data in db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
        y = (1 << z) - 1 - row  # TMS rows count from the south
        tiles[f"{z}/{col}/{y}"] = gzip.decompress(data).hex()
    return {"header": {}, "metadata": metadata, "tiles": tiles, "entries": []}


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    print(json.dumps(pmtiles(path) if kind == "pmtiles" else mbtiles(path)))
