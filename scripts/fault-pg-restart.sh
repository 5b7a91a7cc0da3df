#!/usr/bin/env bash
# Fault: PostgreSQL restarted under load. Outside CI (it restarts the machine's PostgreSQL, which
# CI shares). A release `wangge serve` on PostGIS takes lookups from wrk while PostgreSQL
# restarts; /healthz is polled every 0.5 s. Expected: lookups never fail (they are served from
# memory), /healthz turns 503 while the database is down and 200 again after, and a version
# published after the restart is served without restarting wangge (its LISTEN reconnects).
#
#   scripts/fault-pg-restart.sh        # DATABASE_URL's server, database wangge_pgfault
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh
BASE=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
URL="${BASE%/*}/wangge_pgfault"
OUT=out/bench
mkdir -p "$OUT"
cargo build --release -p api >&2
psql -w -X -q "$BASE" -c "DROP DATABASE IF EXISTS wangge_pgfault WITH (FORCE)" -c "CREATE DATABASE wangge_pgfault"
LOG=$OUT/pgfault-serve.log
wangge_serve "$LOG" 60 ./target/release/wangge serve --data fixtures/kangle --db "$URL" --bind 127.0.0.1:0
trap 'kill $SERVER 2>/dev/null || true' EXIT
echo "== serving at $ADDR on $URL"

( for _ in $(seq 1 60); do printf '%s %s\n' "$(date +%T.%N | cut -c1-10)" "$(curl -s -o /dev/null -w '%{http_code}' "$ADDR/healthz")"; sleep 0.5; done ) > "$OUT/pgfault-health.txt" &
POLL=$!
wrk -t 2 -c 16 -d 25s "$ADDR/v1/lookup?lon=118.1108&lat=24.5056" > "$OUT/pgfault-wrk.txt" &
WRK=$!
sleep 5
echo "== $(date +%T) restarting PostgreSQL"
pg_ctlcluster 15 main stop -m fast
sleep 5
pg_ctlcluster 15 main start
echo "== $(date +%T) PostgreSQL is back"
wait $WRK
cat "$OUT/pgfault-wrk.txt"

# A publish after the restart, through the CLI on the same database: served without a restart.
mkdir -p "$OUT/pgfault-grown" && cp fixtures/kangle/* "$OUT/pgfault-grown/"
python3 - "$OUT/pgfault-grown/buildings.geojson" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); p = d["features"][0]["properties"]; p["population"] += 600; p.pop("units", None)
json.dump(d, open(sys.argv[1], "w"), ensure_ascii=False)
PY
DRAFT=$(./target/release/wangge load "$OUT/pgfault-grown" --db "$URL" | sed -n 's/.*into draft \([0-9]*\).*/\1/p')
# The grown building opens a grid with no grid worker yet: acknowledged, as a planner would.
./target/release/wangge publish "$DRAFT" --note "after the restart" --acknowledge-unstaffed --db "$URL"
for i in $(seq 1 40); do
    V=$(curl -s "$ADDR/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("version"))' 2>/dev/null || true)
    [ "$V" = 2 ] && { echo "== version 2 served $((i * 250)) ms after the publish, no restart of wangge"; break; }
    sleep 0.25
done
[ "$V" = 2 ] || echo "== FAIL: version 2 not served (healthz says $V)"
wait $POLL || true
echo "== /healthz during the run (time status):"
uniq -c -f1 "$OUT/pgfault-health.txt" | sed 's/^/   /'
psql -w -X -q "$BASE" -c "DROP DATABASE IF EXISTS wangge_pgfault WITH (FORCE)"
