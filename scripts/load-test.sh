#!/usr/bin/env bash
# Load: wrk for 60 s at 64 connections on a mix of lookups, tiles and OGC items against a running
# release `wangge serve`, sampling its memory every 5 s. Prints wrk's summary (errors, non-2xx,
# latency percentiles) and the RSS series, for RELIABILITY.md.
#
#   scripts/load-test.sh [DATASET]     # default: the generated 1,000,000-resident city
#                                      # (BENCH_PEOPLE=10000000 for the 10M one)
# Every request is one that must succeed (points inside buildings, tiles around them, bboxes
# around them), so any non-2xx is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh
command -v wrk >/dev/null || { echo "load-test: wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
PEOPLE=${BENCH_PEOPLE:-1000000}
OUT=out/bench
mkdir -p "$OUT"
cargo build --release -p api -p fixtures >&2
DATA=${1:-$OUT/city$PEOPLE}
[ -d "$DATA" ] || ./target/release/fixtures city --seed 1 --people "$PEOPLE" --out "$DATA" >&2
STORE=$OUT/load-$(basename "$DATA").db
LOG=$OUT/load-serve.log
wangge_serve "$LOG" 900 ./target/release/wangge serve --data "$DATA" --store "$STORE" --bind 127.0.0.1:0
trap 'kill $SERVER 2>/dev/null || true' EXIT
echo "== serving $DATA at $ADDR (pid $SERVER)" >&2

# Requests from the served buildings themselves.
python3 - "$ADDR" "$OUT/load.lua" <<'PY'
import json, math, random, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(f"{base}/collections/buildings/items?limit=10000") as r:
    feats = json.load(r)["features"]
random.seed(7)
paths = []
for f in random.sample(feats, min(3000, len(feats))):
    ring = f["geometry"]["coordinates"][0]
    if f["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    x = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    y = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    paths.append(f"/v1/lookup?lon={x}&lat={y}")
    z = random.choice([14, 15, 16])
    n = 2 ** z
    tx = int((x + 180) / 360 * n)
    ty = int((1 - math.asinh(math.tan(math.radians(y))) / math.pi) / 2 * n)
    paths.append(f"/tiles/{z}/{tx}/{ty}.{random.choice(['mvt', 'png'])}")
    d = 0.004
    paths.append(f"/collections/grids/items?bbox={x-d},{y-d},{x+d},{y+d}&limit=100")
with open(out, "w") as f:
    f.write("local paths = {\n" + "".join(f'"{p}",\n' for p in paths) + "}\n")
    f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
print(f"{len(paths)} request paths", file=sys.stderr)
PY

rss() { awk '/VmRSS/ {printf "%d", $2/1024}' /proc/$SERVER/status; }
echo "RSS before: $(rss) MB"
( for i in $(seq 1 13); do echo "RSS at $(( (i-1)*5 )) s: $(rss) MB"; sleep 5; done ) &
SAMPLER=$!
wrk -t 2 -c 64 -d 60s --latency -s "$OUT/load.lua" "$ADDR"
wait $SAMPLER || true
echo "RSS after: $(rss) MB"
curl -s "$ADDR/metrics" | grep -E '^wangge_http_requests_total' | grep -v 'status="2' || echo "no non-2xx answers in /metrics"
