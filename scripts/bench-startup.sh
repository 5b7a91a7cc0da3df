#!/usr/bin/env bash
# Serving start-up, A/B: seconds from spawning `wangge serve --store STORE` to the first
# /healthz 200, for two builds, interleaved so the machine's noise falls on both alike; prints
# every run, then best and median per build and their ratio (after / before).
#
#   scripts/bench-startup.sh BEFORE AFTER STORE [RUNS]
#
# STORE is an embedded store holding a published version (e.g. `wangge load out/city --store
# out/bench/city.db`). Both builds read the same store file, one at a time.
set -euo pipefail
before=$1 after=$2 store=$3 runs=${4:-5}
port=$((20000 + RANDOM % 20000))
once() {
  local bin=$1 t0 t1 pid
  t0=$(date +%s.%N)
  env -u DATABASE_URL "$bin" serve --store "$store" --bind "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$pid" 2>/dev/null || { echo "serve exited before answering" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$t1 - $t0" | bc
}
b=() a=()
for _ in $(seq "$runs"); do
  b+=("$(once "$before")"); a+=("$(once "$after")")
  echo "before ${b[-1]} s   after ${a[-1]} s"
done
python3 - "${b[*]}" "${a[*]}" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]; a = [float(x) for x in sys.argv[2].split()]
print(f"best   before {min(b):.2f} s  after {min(a):.2f} s  after/before {min(a)/min(b):.2f}")
print(f"median before {statistics.median(b):.2f} s  after {statistics.median(a):.2f} s  after/before {statistics.median(a)/statistics.median(b):.2f}")
PY
