#!/usr/bin/env bash
# Nearest resource over HTTP (issue 22: "a single nearest-by-walk request ≤ 5 ms p99"), by walk
# against the straight line in the same run, on one dataset (default: the generated 10M city).
#
#   scripts/bench-nearest.sh [DATASET] [POINTS] [STORE]
#       defaults: out/city, 3000, out/bench-nearest/store.db (loaded from DATASET when missing)
#   BENCH_KIND=hospital asks for other kinds (default clinic,hospital).
#
# Starts a release `wangge serve` of the store, then one client (Python, one kept-alive
# connection, one request at a time) asks
#   /v1/resources/nearest?lon=&lat=&kind=clinic,hospital&limit=1&by=walk
# the same with by=straight, and by=walk&route=true (the walk's line too, as the web card asks)
# at POINTS building centroids (every n-th building of DATASET/buildings.geojson, the outer
# ring's area centroid), the three in turn at each point (the order rotating), after 300 warm-up
# requests. Latency is the client's: request sent to body read, so
# it includes loopback HTTP, JSON and the client; the straight-line requests measure that
# floor. Prints p50, p90, p99, max of each, the ratios, and the slowest walk points.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh
DATA="${1:-out/city}"
POINTS="${2:-3000}"
DB="${3:-out/bench-nearest/store.db}"
BIN="${WANGGE:-target/release/wangge}"
[ -x "$BIN" ] || cargo build --release -q -p api --bin wangge
export -n DATABASE_URL || true
unset DATABASE_URL
WORK=$(dirname "$DB")
mkdir -p "$WORK"
[ -s "$DB" ] || "$BIN" load "$DATA" --store "$DB" --note "version 1" > "$WORK/load.txt"

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD)"
wangge_serve "$WORK/serve.log" 300 "$BIN" serve --store "$DB" --bind 127.0.0.1:0
trap 'kill $SERVER 2>/dev/null || true' EXIT
echo "== wangge serving $DB at $ADDR (pid $SERVER)"
[ -n "${BENCH_NEAREST_HOLD:-}" ] && echo "$SERVER" > "$BENCH_NEAREST_HOLD"

python3 - "$ADDR" "$DATA/buildings.geojson" "$POINTS" "${BENCH_KIND:-clinic,hospital}" <<'PY'
import http.client, json, sys, time, urllib.parse

addr, buildings, n, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
feats = json.load(open(buildings, encoding="utf-8"))["features"]

def centroid(ring):
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    return (cx / (3 * a), cy / (3 * a)) if a else tuple(ring[0])

def outer(g):
    return g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0]

step = max(1, len(feats) // n)
points = [centroid(outer(f["geometry"])) for f in feats[::step][:n]]
del feats
host = urllib.parse.urlsplit(addr)
conn = http.client.HTTPConnection(host.hostname, host.port)

def ask(lon, lat, by):
    q = f"/v1/resources/nearest?lon={lon:.7f}&lat={lat:.7f}&kind={kind}&limit=1&by="
    q += "walk&route=true" if by == "walk+route" else by
    t = time.perf_counter()
    conn.request("GET", q)
    r = conn.getresponse()
    body = r.read()
    dt = (time.perf_counter() - t) * 1e3
    return dt, r.status, body

KINDS = ("straight", "walk", "walk+route")
for i in range(300):
    lon, lat = points[i % len(points)]
    ask(lon, lat, KINDS[i % 3])
times = {k: [] for k in KINDS}
status = {k: {} for k in KINDS}
slow = []
walk_m = []
for i, (lon, lat) in enumerate(points):
    for by in KINDS[i % 3:] + KINDS[:i % 3]:
        dt, st, body = ask(lon, lat, by)
        times[by].append(dt)
        status[by][st] = status[by].get(st, 0) + 1
        if by == "walk":
            slow.append((dt, lon, lat))
            if st == 200:
                res = json.loads(body)["resources"]
                if res:
                    walk_m.append(res[0]["walk_m"])

def pct(s, p):
    return s[round((len(s) - 1) * p)]

print(f"kind={kind}, limit=1, {len(points)} points")
summary = {}
for by in KINDS:
    s = sorted(times[by])
    summary[by] = s
    print(f"{by:>10}: {len(s)} requests, statuses {status[by]}; p50 {pct(s, .5):.3f} ms, "
          f"p90 {pct(s, .9):.3f} ms, p99 {pct(s, .99):.3f} ms, max {s[-1]:.3f} ms")
s = summary["straight"]
for k in ("walk", "walk+route"):
    w = summary[k]
    print(f"{k} / straight: p50 {pct(w, .5) / pct(s, .5):.2f}x, p99 {pct(w, .99) / pct(s, .99):.2f}x; "
          f"{k} p99 minus straight p99 {pct(w, .99) - pct(s, .99):.3f} ms")
if walk_m:
    walk_m.sort()
    print(f"walks found: {len(walk_m)}, walk_m p50 {pct(walk_m, .5):.0f} m, p99 {pct(walk_m, .99):.0f} m, max {walk_m[-1]:.0f} m")
slow.sort(reverse=True)
print("slowest walk points (ms lon lat):", "; ".join(f"{d:.2f} {x:.6f} {y:.6f}" for d, x, y in slow[:5]))
PY
