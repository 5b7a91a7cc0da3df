# Sourced by the bench and load scripts: start a `wangge serve` and wait until it serves.
#
#   wangge_serve LOG SECONDS COMMAND...   # e.g. wangge_serve "$LOG" 300 "$BIN" serve --store "$DB" --bind 127.0.0.1:0
#
# Runs COMMAND in the background with its output in LOG and waits up to SECONDS for "serving
# version"; sets SERVER (its pid) and ADDR (its http://host:port). If it exits or is not serving
# in time, prints LOG and exits 1. The caller kills SERVER when done (e.g. trap ... EXIT).
wangge_serve() {
    local log=$1 seconds=$2
    shift 2
    "$@" > "$log" 2>&1 &
    SERVER=$!
    local waited=0
    until grep -q "serving version" "$log"; do
        if ! kill -0 "$SERVER" 2>/dev/null || [ "$waited" -ge $((seconds * 5)) ]; then
            echo "wangge_serve: not serving (${seconds} s at most): $*" >&2
            cat "$log" >&2
            kill "$SERVER" 2>/dev/null || true
            exit 1
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    ADDR=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
}
