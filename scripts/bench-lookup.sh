#!/usr/bin/env bash
# Point → grid lookup benchmark on a generated city (default 10,000,000 residents, seed 1):
#
#   scripts/bench-lookup.sh                      # BENCH_PEOPLE=1000000 for a smaller city
#
# (benches run in their crate's folder, so the grids path is made absolute)
# 1. makes the city (out/bench/cityN) and its grids (out/bench/cityN-grids.geojson) when missing,
#    with the release `fixtures` and `wangge` binaries;
# 2. runs the criterion bench `gis-core/benches/lookup.rs` on those grids: the prepared index
#    against the naive baseline (R-tree of boxes + geo `Intersects`), one core, same process;
# 3. runs `store/benches/postgis_lookup.rs`: the same points through PostGIS `ST_Covers` with a
#    GiST index, one point per query over 2 connections (skipped when PostGIS is unreachable;
#    DATABASE_URL or postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE=${BENCH_PEOPLE:-10000000}
OUT=out/bench
CITY=$OUT/city$PEOPLE
GRIDS=$OUT/city$PEOPLE-grids.geojson
mkdir -p "$OUT"

if [ ! -s "$GRIDS" ]; then
    echo "== building release binaries" >&2
    cargo build --release -p api -p fixtures >&2
    BIN=${CARGO_TARGET_DIR:-target}/release
    [ -d "$CITY" ] || $BIN/fixtures city --seed 1 --people "$PEOPLE" --out "$CITY" >&2
    $BIN/wangge partition "$CITY" --out "$GRIDS" --json > "$OUT/city$PEOPLE-report.json"
fi

echo "== in-process: GridIndex vs baseline (criterion)" >&2
WANGGE_BENCH_GRIDS=$PWD/$GRIDS cargo bench -p gis-core --bench lookup 2>&1 | grep -Ev '^(Gnuplot|Benchmarking|Warning|Found|  [0-9]+ \()'

echo "== PostGIS ST_Covers" >&2
WANGGE_BENCH_GRIDS=$PWD/$GRIDS cargo bench -p store --bench postgis_lookup
