#!/usr/bin/env bash
# The deployment's numbers (BENCHMARKS.md, "Deployment beyond one machine"), on one machine, with
# the pieces of scripts/deploy/cluster.sh: a PostgreSQL primary and a hot standby, a release
# `wangge serve` on each, nginx caching in front of both.
#
#   scripts/deploy/bench.sh [DATASET]      # default fixtures/zhongjing (9 communities, ~120,000 residents)
#
# Prints, in one run:
#  1. publish → served: `wangge rollback` on the primary, then /healthz of the standby's service
#     polled every 10 ms until it serves the new number (and of the primary's, which hears
#     NOTIFY), 5 publishes;
#  2. requests/s of the standby's service alone: lookups (`GET /v1/lookup?lon=&lat=` at 2,000
#     building centroids) and tiles (`GET /v/{version}/tiles/z/x/y.mvt`, z14–16 around the same
#     buildings, rendered once before: the service's tile cache warm), wrk -t 2 -c 32 -d 10s;
#  3. the same tiles through nginx (cache warm: every answer a HIT).
# Needs wrk (Debian: wrk), nginx and PostgreSQL 15 + PostGIS.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/serve.sh
DATA=${1:-fixtures/zhongjing}
command -v wrk >/dev/null || { echo "bench: wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
# WANGGE=path/to/release/wangge skips the build (a binary built elsewhere from this commit).
if [ -z "${WANGGE:-}" ]; then
    cargo build --release -q -p api >&2
fi
BIN=${WANGGE:-${CARGO_TARGET_DIR:-target}/release/wangge}
D=$(mktemp -d); chmod 755 "$D"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    scripts/deploy/cluster.sh pg-stop "$D/standby" || true
    scripts/deploy/cluster.sh pg-stop "$D/primary" || true
    rm -rf "$D"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PP=$(port); SP=$(port); CP=$(port)

P=$(scripts/deploy/cluster.sh pg-primary "$D/primary" "$PP")
"$BIN" load "$DATA" --db "$P" --micro > /dev/null
S=$(scripts/deploy/cluster.sh pg-standby "$D/standby" "$SP" "$PP")
start() {  # start NAME DB → address in $ADDR
    wangge_serve "$D/$1.log" 60 "$BIN" serve --db "$2" --bind 127.0.0.1:0
    PIDS+=("$SERVER")
}
start primary "$P"; PRIMARY=$ADDR
start replica "$S"; REPLICA=$ADDR
echo "== primary's service $PRIMARY, the standby's (replica) $REPLICA; data $DATA"

echo "== 1. publish on the primary → served (ms)"
version() { curl -s "$1/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("version"))' 2>/dev/null || true; }
for i in 1 2 3 4 5; do
    "$BIN" rollback 1 --db "$P" --note "bench $i" > /dev/null
    t0=$(date +%s%N)
    want=$(( i + 1 ))
    seen_p=""; seen_r=""
    while [ -z "$seen_p" ] || [ -z "$seen_r" ]; do
        now=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ -z "$seen_p" ] && [ "$(version "$PRIMARY")" = "$want" ] && seen_p=$now
        [ -z "$seen_r" ] && [ "$(version "$REPLICA")" = "$want" ] && seen_r=$now
        [ "$now" -gt 10000 ] && { echo "   version $want not served within 10 s" >&2; exit 1; }
        sleep 0.01
    done
    echo "   publish $i (version $want): primary's service ${seen_p} ms, standby's ${seen_r} ms"
done
V=$(version "$REPLICA")

python3 - "$REPLICA" "$V" "$D" <<'PY'
import json, math, random, sys, urllib.request
base, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
with urllib.request.urlopen(f"{base}/collections/buildings/items?limit=10000") as r:
    feats = json.load(r)["features"]
random.seed(7)
lookups, tiles = [], set()
for f in random.sample(feats, min(2000, len(feats))):
    ring = f["geometry"]["coordinates"][0]
    if f["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    x = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    y = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    lookups.append(f"/v1/lookup?lon={x:.6f}&lat={y:.6f}")
    for z in (14, 15, 16):
        n = 2 ** z
        tiles.add(f"/v/{version}/tiles/{z}/{int((x + 180) / 360 * n)}/{int((1 - math.asinh(math.tan(math.radians(y))) / math.pi) / 2 * n)}.mvt")
tiles = sorted(tiles)
for name, paths in (("lookup", lookups), ("tiles", tiles)):
    with open(f"{out}/{name}.lua", "w") as f:
        f.write("local paths = {\n" + "".join(f'"{p}",\n' for p in paths) + "}\n")
        f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
with open(f"{out}/tiles.txt", "w") as f:
    f.write("\n".join(tiles) + "\n")
print(f"   {len(lookups)} lookup points, {len(tiles)} tiles (z14-16)")
PY
# Warm the replica's tile cache (and count what rendering them all took).
t0=$(date +%s%N)
while read -r t; do curl -s -o /dev/null "$REPLICA$t"; done < "$D/tiles.txt"
echo "   rendering every tile once, one at a time: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

summary() { grep -E "Requests/sec|Latency|Non-2xx|Socket errors" | sed 's/^/   /'; }
echo "== 2. the standby's service alone, wrk -t 2 -c 32 -d 10s"
echo "-- lookups"; wrk -t 2 -c 32 -d 10s -s "$D/lookup.lua" "$REPLICA" | summary
echo "-- tiles (its cache warm)"; wrk -t 2 -c 32 -d 10s -s "$D/tiles.lua" "$REPLICA" | summary

scripts/deploy/cluster.sh cache "$D/cache" "$CP" "${PRIMARY#http://}" "${REPLICA#http://}" > /dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$CP/healthz" && break; sleep 0.1; done
while read -r t; do curl -s -o /dev/null "http://127.0.0.1:$CP$t"; done < "$D/tiles.txt"
echo "== 3. the same tiles through nginx (every answer a cache HIT), wrk -t 2 -c 32 -d 10s"
wrk -t 2 -c 32 -d 10s -s "$D/tiles.lua" "http://127.0.0.1:$CP" | summary
