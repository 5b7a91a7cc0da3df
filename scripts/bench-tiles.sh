#!/usr/bin/env bash
# Tile speed on the generated 10M-resident city, cache off, against PostGIS on the same tiles.
#
#   scripts/bench-tiles.sh [PER_ZOOM]
#
# 1. Generates the city and partitions it (out/city10m, out/city10m-grids.geojson) if missing.
# 2. wangge: bench_tiles prints p50/p99 per tile (one thread) and tiles/s over 2 cores per zoom
#    12–16 for MVT (all layers; grids alone) and PNG, and writes the tiles it used.
# 3. PostGIS (if reachable at $DATABASE_URL or postgres://postgres@127.0.0.1:5432/test): the
#    grids in EPSG:3857 with a GiST index; pgbench, 2 clients on 2 threads, each transaction one
#    tile of the same list: ST_AsMVT(ST_AsMVTGeom(geom, ST_TileEnvelope(z,x,y), 4096, 64, true)),
#    the way Martin and pg_tileserv serve tiles. Compared with wangge's grids-only MVT.
set -euo pipefail
cd "$(dirname "$0")/.."
PER_ZOOM="${1:-300}"
DB="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
mkdir -p out
if [ ! -f out/city10m/boundary.geojson ]; then
  cargo run --release -q -p fixtures -- city --seed 1 --people 10000000 --out out/city10m
fi
cargo build --release -q -p api -p tiles --example bench_tiles
if [ ! -f out/city10m-grids.geojson ]; then
  target/release/wangge partition out/city10m --out out/city10m-grids.geojson > /dev/null
fi
target/release/examples/bench_tiles out/city10m out/city10m-grids.geojson --per-zoom "$PER_ZOOM" --tiles-csv out/bench-tiles.csv | tee out/bench-tiles-wangge.txt

if ! psql "$DB" -qtAc "CREATE EXTENSION IF NOT EXISTS postgis" > /dev/null 2>&1; then
  echo "PostGIS not reachable at $DB: skipping the comparison" >&2
  exit 0
fi
# The grids as SQL, once.
if [ ! -f out/city10m-grids.sql ] || [ out/city10m-grids.geojson -nt out/city10m-grids.sql ]; then
  python3 - <<'PY'
import json
layer = json.load(open("out/city10m-grids.geojson"))
with open("out/city10m-grids.sql", "w") as out:
    out.write("DROP TABLE IF EXISTS bench_grids;\n")
    out.write("CREATE TABLE bench_grids (code text, kind text, population int, households int, geom geometry(MultiPolygon, 3857));\n")
    out.write("COPY bench_grids (code, kind, population, households, geom) FROM stdin;\n")
    for f in layer["features"]:
        p = f["properties"]
        if p.get("level", "grid") != "grid":
            continue
        g = json.dumps(f["geometry"], separators=(",", ":"))
        out.write(f"{p['code']}\t{p['kind']}\t{p['population']}\t{p['households']}\tSRID=4326;GEOJSON{g}\n")
    out.write("\\.\n")
PY
  # COPY cannot parse GeoJSON: load it as text, then convert.
  sed -i 's/geometry(MultiPolygon, 3857));/geometry(MultiPolygon, 3857), gj text);/; s/COPY bench_grids (code, kind, population, households, geom)/COPY bench_grids (code, kind, population, households, gj)/; s/\tSRID=4326;GEOJSON/\t/' out/city10m-grids.sql
  cat >> out/city10m-grids.sql <<'SQL'
UPDATE bench_grids SET geom = ST_Multi(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(gj), 4326), 3857));
ALTER TABLE bench_grids DROP COLUMN gj;
CREATE INDEX bench_grids_geom ON bench_grids USING gist (geom);
ANALYZE bench_grids;
SQL
fi
psql "$DB" -q -v ON_ERROR_STOP=1 -f out/city10m-grids.sql
psql "$DB" -q -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS bench_tiles; CREATE TABLE bench_tiles (id serial primary key, z int, x int, y int);" \
  -c "\\copy bench_tiles (z, x, y) FROM 'out/bench-tiles.csv' WITH (FORMAT csv, HEADER true)"
echo
echo "| zoom | tiles | PostGIS tiles/s (2 clients) | wangge grids-only MVT tiles/s (2 cores) | ratio |"
echo "| --- | --- | --- | --- | --- |"
for z in 12 13 14 15 16; do
  read -r lo hi n < <(psql "$DB" -tAF' ' -c "SELECT min(id), max(id), count(*) FROM bench_tiles WHERE z = $z")
  cat > out/bench-tiles-$z.sql <<SQL
\set i random($lo, $hi)
SELECT length(ST_AsMVT(q, 'grids', 4096, 'geom')) FROM (
  SELECT g.code, g.kind, g.population, g.households,
         ST_AsMVTGeom(g.geom, ST_TileEnvelope(t.z, t.x, t.y), 4096, 64, true) AS geom
  FROM bench_tiles t JOIN bench_grids g ON g.geom && ST_TileEnvelope(t.z, t.x, t.y)
  WHERE t.id = :i) q;
SQL
  tps=$(pgbench "$DB" -n -c 2 -j 2 -T 10 -f out/bench-tiles-$z.sql 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  ours=$(awk -F'|' -v z="$z" '$2+0 == z && $4 ~ /grids only/ {gsub(/ /, "", $7); print $7}' out/bench-tiles-wangge.txt)
  ratio=$(python3 -c "print(f'{float($ours) / float($tps):.1f}×')")
  echo "| $z | $n | ${tps%.*} | $ours | $ratio |"
done
