#!/usr/bin/env bash
# Point → grid lookups over HTTP against PostGIS, in one run, on a generated city (default
# 10,000,000 residents, seed 1; BENCH_PEOPLE=1000000 for a smaller one):
#
#   scripts/bench-http.sh
#
# 1. makes the city and its grids when missing (as scripts/bench-lookup.sh does);
# 2. starts `wangge serve` (release, embedded store in out/bench/http-cityN.db, loaded and
#    published on first use) serving the same grids — the partition is deterministic;
# 3. runs store/benches/postgis_lookup.rs with WANGGE_BENCH_HTTP set: in-process index, PostGIS
#    ST_Covers over 2 sqlx connections, pgbench over 2 clients, and wrk over loopback (2 threads,
#    32 connections) on the same 20,000 seeded points; prints lookups/s, p99 and the ratios.
# Needs wrk and pgbench (Debian: `apt-get install wrk postgresql-client`; pgbench also comes with
# postgresql-15) and PostGIS at DATABASE_URL or
# postgres://postgres@127.0.0.1:5432/test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh

PEOPLE=${BENCH_PEOPLE:-10000000}
OUT=out/bench
CITY=$OUT/city$PEOPLE
GRIDS=$OUT/city$PEOPLE-grids.geojson
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "bench-http: wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }

cargo build --release -p api -p fixtures >&2
BIN=${CARGO_TARGET_DIR:-target}/release
[ -d "$CITY" ] || $BIN/fixtures city --seed 1 --people "$PEOPLE" --out "$CITY" >&2
# With micro-grids, as `serve --data` publishes it: straightening keeps the micro-grids'
# junctions, so without them the grid outlines differ and so do answers near their edges.
GRIDS=$OUT/city$PEOPLE-grids-micro.geojson
[ -s "$GRIDS" ] || $BIN/wangge partition "$CITY" --out "$GRIDS" --micro --json > "$OUT/city$PEOPLE-report-micro.json"

LOG=$OUT/http-serve.log
wangge_serve "$LOG" 600 $BIN/wangge serve --data "$CITY" --store "$OUT/http-city$PEOPLE.db" --bind 127.0.0.1:0
trap 'kill $SERVER 2>/dev/null || true' EXIT
echo "== wangge serving at $ADDR (pid $SERVER)" >&2

WANGGE_BENCH_GRIDS=$PWD/$GRIDS WANGGE_BENCH_HTTP=$ADDR cargo bench -p store --bench postgis_lookup
