//! `wangge tiles export`: the archives, read by readers wangge did not write (Protomaps'
//! `pmtiles` Python package, Python's sqlite3), hold exactly the vector tiles `serve` answers
//! with content for the same version, byte for byte once gunzipped; bad flags are refused by
//! name and leave nothing behind; `--since` renders fewer tiles and gives the same archive as a
//! whole export.

use crate::common::{s, service, text, wangge};
use api::serve::Limits;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// The Python with Protomaps' reader (`.ci/run` makes `out/ci-venv`), or `None` outside CI.
fn python() -> Option<PathBuf> {
    crate::common::python_with("pmtiles")
}

/// The archive as the independent reader sees it.
struct Read {
    header: Value,
    metadata: Value,
    /// "z/x/y" → the gunzipped tile.
    tiles: BTreeMap<String, Vec<u8>>,
    /// PMTiles directory entries: [tile id, run length, offset, length].
    entries: Vec<[u64; 4]>,
}

fn read(python: &Path, kind: &str, path: &Path) -> Read {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/tests/read_archive.py");
    let out = std::process::Command::new(python)
        .args([s(&script), kind, s(path)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{kind} reader: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unhex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    };
    Read {
        header: v["header"].clone(),
        metadata: v["metadata"].clone(),
        tiles: v["tiles"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, t)| (k.clone(), unhex(t.as_str().unwrap())))
            .collect(),
        entries: v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| std::array::from_fn(|i| e[i].as_u64().unwrap()))
            .collect(),
    }
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    (
        status,
        axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap().to_vec(),
    )
}

/// The tile x (or y) of a lon (or lat) at zoom z, by the slippy-map formula (not wangge's).
fn tile_x(lon: f64, z: u8) -> i64 {
    ((lon + 180.0) / 360.0 * (1u64 << z) as f64).floor() as i64
}

fn tile_y(lat: f64, z: u8) -> i64 {
    let r = lat.to_radians();
    ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * (1u64 << z) as f64).floor() as i64
}

/// Every tile `serve` answers with content at zooms 0–16 around the data's box (two tiles of
/// margin: the tile buffer reaches less than one): "z/x/y" → the tile.
async fn served(app: &axum::Router) -> BTreeMap<String, Vec<u8>> {
    let (status, tj) = get(app, "/tiles.json").await;
    assert_eq!(status, StatusCode::OK);
    let tj: Value = serde_json::from_slice(&tj).unwrap();
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let mut out = BTreeMap::new();
    for z in 0..=16u8 {
        let last = (1i64 << z) - 1;
        let (x0, x1) = ((tile_x(b[0], z) - 2).max(0), (tile_x(b[2], z) + 2).min(last));
        let (y0, y1) = ((tile_y(b[3], z) - 2).max(0), (tile_y(b[1], z) + 2).min(last));
        for x in x0..=x1 {
            for y in y0..=y1 {
                let (status, body) = get(app, &format!("/tiles/{z}/{x}/{y}.mvt")).await;
                assert_eq!(status, StatusCode::OK);
                if !body.is_empty() {
                    out.insert(format!("{z}/{x}/{y}"), body);
                }
            }
        }
    }
    out
}

fn export(db: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["tiles", "export", "--store", s(db)];
    all.extend_from_slice(args);
    wangge(&all)
}

fn same_tiles(name: &str, got: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>) {
    let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: tiles serve answers with content but the archive lacks: {missing:?}; in the archive but empty from serve: {extra:?}"
    );
    for (k, t) in want {
        assert!(got[k] == *t, "{name}: tile {k} differs from serve's");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_hold_exactly_the_tiles_serve_answers() {
    let (app, _, _store, dir) = service(Limits::default()).await;
    let db = dir.path().join("w.db");
    let pm = dir.path().join("kangle.pmtiles");
    let mb = dir.path().join("kangle.mbtiles");
    let o = export(&db, &["--format", "pmtiles", "--out", s(&pm)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Exported version 1"), "{}", text(&o));
    // The format from the file name.
    let o = export(&db, &["--out", s(&mb)]);
    assert!(o.status.success(), "{}", text(&o));
    let want = served(&app).await;
    assert!(want.len() > 30, "Kangle fills {} tiles", want.len());
    let Some(python) = python() else { return };

    let p = read(&python, "pmtiles", &pm);
    same_tiles("PMTiles", &p.tiles, &want);
    let h = &p.header;
    assert_eq!(h["tile_type"], "MVT", "{h}");
    assert_eq!(h["tile_compression"], "GZIP", "{h}");
    assert_eq!(h["internal_compression"], "GZIP", "{h}");
    assert_eq!(h["clustered"], true, "{h}");
    assert_eq!(
        (h["min_zoom"].as_u64(), h["max_zoom"].as_u64()),
        (Some(0), Some(16)),
        "{h}"
    );
    assert_eq!(h["addressed_tiles_count"].as_u64(), Some(want.len() as u64), "{h}");
    assert!(
        h["tile_contents_count"].as_u64() <= h["tile_entries_count"].as_u64(),
        "{h}"
    );
    // Clustered: entries in ascending tile id, tile data in the same order.
    assert!(
        p.entries.windows(2).all(|w| w[0][0] + w[0][1] <= w[1][0]),
        "directory not ascending"
    );
    let (_, tj) = get(&app, "/tiles.json").await;
    let tj: Value = serde_json::from_slice(&tj).unwrap();
    let layers = |v: &Value| -> Vec<String> {
        v["vector_layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        layers(&p.metadata),
        layers(&tj),
        "the archive's TileJSON names serve's layers"
    );
    assert_eq!(p.metadata["wangge"]["version"], 1);
    assert_eq!(p.metadata["bounds"], tj["bounds"]);

    let m = read(&python, "mbtiles", &mb);
    same_tiles("MBTiles", &m.tiles, &want);
    let md = &m.metadata;
    assert_eq!(md["format"], "pbf", "{md}");
    assert_eq!(
        (md["minzoom"].as_str(), md["maxzoom"].as_str()),
        (Some("0"), Some("16")),
        "{md}"
    );
    let json: Value = serde_json::from_str(md["json"].as_str().unwrap()).unwrap();
    assert_eq!(layers(&json), layers(&tj));
    assert_eq!(md["bounds"].as_str().unwrap().split(',').count(), 4, "{md}");

    // A zoom range: only those zooms.
    let part = dir.path().join("z14.pmtiles");
    let o = export(&db, &["--out", s(&part), "--minzoom", "14", "--maxzoom", "15"]);
    assert!(o.status.success(), "{}", text(&o));
    let p = read(&python, "pmtiles", &part);
    let want14: BTreeMap<String, Vec<u8>> = want
        .into_iter()
        .filter(|(k, _)| k.starts_with("14/") || k.starts_with("15/"))
        .collect();
    same_tiles("PMTiles z14–15", &p.tiles, &want14);
}

#[tokio::test]
async fn bad_exports_are_refused_by_name_and_leave_nothing() {
    let (_app, _, _store, dir) = service(Limits::default()).await;
    let db = dir.path().join("w.db");
    let out = dir.path().join("k.pmtiles");
    let refused = |args: &[&str], names: &[&str]| {
        let o = export(&db, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        for n in names {
            assert!(text(&o).contains(n), "{args:?} should name {n}: {}", text(&o));
        }
    };
    refused(
        &["--out", s(&out), "--minzoom", "12", "--maxzoom", "5"],
        &["--minzoom 12", "--maxzoom 5"],
    );
    refused(&["--out", s(&out), "--maxzoom", "23"], &["--maxzoom"]);
    refused(&["--out", s(&out), "--version", "99"], &["--version 99"]);
    refused(
        &["--out", "/no/such/folder/k.pmtiles"],
        &["--out", "/no/such/folder/k.pmtiles"],
    );
    refused(&["--out", s(&dir.path().join("k.tiles"))], &["--format"]);
    refused(&["--out", s(&out), "--since", "1"], &["--since 1", "does not exist"]);
    assert!(!out.exists());

    // A target that cannot be replaced (a folder): the rename fails after the tiles are
    // written, and the half-made file is gone.
    let folder = dir.path().join("taken.pmtiles");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("x"), "x").unwrap();
    refused(&["--out", s(&folder)], &["taken.pmtiles"]);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // --since names the version the archive holds when it is not the one given.
    let o = export(&db, &["--out", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    let before = std::fs::read(&out).unwrap();
    refused(&["--out", s(&out), "--since", "2"], &["--since 2", "holds version 1"]);
    refused(
        &["--out", s(&out), "--since", "1", "--maxzoom", "15"],
        &["--since 1", "zooms 0–16"],
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "a refused update leaves the archive as it was"
    );
}

/// Version 2 moves one building to a neighbouring grid: `--since 1` renders only the tiles
/// around the two grids, and the archive is the same as a whole export of version 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_renders_only_changed_tiles_and_matches_a_whole_export() {
    let (_app, _, store, dir) = service(Limits::default()).await;
    let db = dir.path().join("w.db");
    let pm = dir.path().join("k.pmtiles");
    let mb = dir.path().join("k.mbtiles");
    for f in [&pm, &mb] {
        let o = export(&db, &["--out", s(f)]);
        assert!(o.status.success(), "{}", text(&o));
    }

    // A building of one basic grid moved to a grid that touches it.
    let published = store.published(None).await.unwrap().unwrap();
    let grids: Vec<&gis_core::grid::Grid> = published
        .layer
        .grids
        .iter()
        .filter(|g| g.level == gis_core::grid::GridLevel::Grid && g.kind == gis_core::grid::GridKind::Basic)
        .collect();
    use geo::Intersects;
    let (from, to) = grids
        .iter()
        .flat_map(|a| grids.iter().map(move |b| (*a, *b)))
        .find(|(a, b)| a.code != b.code && a.area.intersects(&b.area))
        .expect("two neighbouring grids");
    let building = from.buildings[0].clone();
    let (draft, _) = planner::move_buildings(&store, None, vec![building], to.code.clone(), true)
        .await
        .unwrap();
    planner::publish(
        &store,
        draft,
        "a building moves",
        planner::Accepted {
            override_reason: Some("test"),
            unstaffed: true,
            large_moves: true,
        },
    )
    .await
    .unwrap();

    for (f, whole) in [
        (&pm, dir.path().join("whole.pmtiles")),
        (&mb, dir.path().join("whole.mbtiles")),
    ] {
        let o = export(&db, &["--out", s(f), "--since", "1"]);
        assert!(o.status.success(), "{}", text(&o));
        let said = text(&o);
        let counts: Vec<u64> = said
            .split("rendered ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .take(2)
            .collect();
        assert!(counts[0] > 0 && counts[0] * 2 < counts[1], "{said}");
        let o = export(&db, &["--out", s(&whole)]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("Exported version 2"), "{}", text(&o));
        if f.extension().unwrap() == "pmtiles" {
            assert!(
                std::fs::read(f).unwrap() == std::fs::read(&whole).unwrap(),
                "the updated PMTiles archive is not the whole export of version 2, byte for byte"
            );
        } else if let Some(python) = python() {
            let (a, b) = (read(&python, "mbtiles", f), read(&python, "mbtiles", &whole));
            same_tiles("MBTiles --since", &a.tiles, &b.tiles);
            assert_eq!(a.metadata, b.metadata);
        }
    }
}

/// A city's archive outgrows the 16 KiB root directory: its directory is split into leaves. Tens
/// of thousands of tiles of varied sizes at scattered ids, written as `tiles export` writes them,
/// are all found again by Protomaps' reader (following the leaves) and by wangge's own reader.
#[tokio::test]
async fn a_large_archive_splits_its_directory_into_leaves_every_reader_follows() {
    use api::archive::{Format, Meta, Source, pmtiles};
    use tiles::mercator::TileId;
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.pmtiles");
    let meta = Meta {
        tilejson: serde_json::json!({"tilejson": "3.0.0", "vector_layers": [],
            "wangge": {"version": 1, "minzoom": 14, "maxzoom": 16}}),
        version: 1,
        zooms: 14..=16,
        bounds: [118.0, 24.0, 118.5, 24.5],
        center: [118.25, 24.25],
    };
    // Every third tile of a 150 × 150 block at z16 and the block's parents at z14 and z15, 14,494
    // entries: sizes vary, so the directory's offsets and lengths do not compress to nothing
    // (8,400 such entries still fit the root, in 10.4 KB).
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut wanted: Vec<(TileId, Vec<u8>)> = Vec::new();
    for z in 14..=16u8 {
        let side = 150u32 >> (16 - z);
        let (x0, y0) = (54_200u32 >> (16 - z), 28_100u32 >> (16 - z));
        for x in x0..x0 + side {
            for y in y0..y0 + side {
                if z == 16 && (x + y) % 3 != 0 {
                    continue;
                }
                let len = 20 + (next() % 180) as usize;
                let body: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
                wanted.push((TileId { z, x, y }, body));
            }
        }
    }
    wanted.sort_by_key(|(t, _)| pmtiles::tile_id(*t));
    let mut writer = pmtiles::Writer::create(&path, &meta).unwrap();
    for (t, body) in &wanted {
        writer.add(*t, &api::archive::gzip(body)).unwrap();
    }
    writer.finish().unwrap();

    let got = read(&python, "pmtiles", &path);
    let leaves = got.header["leaf_directories"].as_u64().unwrap();
    assert!(
        leaves > 0,
        "{} tiles and no leaf directory: {}",
        wanted.len(),
        got.header
    );
    eprintln!("{} tiles, {leaves} leaf directories", wanted.len());
    assert_eq!(got.tiles.len(), wanted.len(), "Protomaps' reader finds every tile");
    for (t, body) in &wanted {
        assert_eq!(got.tiles.get(&format!("{}/{}/{}", t.z, t.x, t.y)), Some(body), "{t:?}");
    }
    assert!(got.entries.windows(2).all(|w| w[0][0] < w[1][0]), "tile ids ascend");
    let mut ours = Source::open(Format::Pmtiles, &path).await.unwrap();
    for (t, body) in wanted.iter().step_by(97) {
        let gz = ours.get(*t).await.unwrap().expect("wangge's reader finds the tile");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
        assert_eq!(&plain, body, "{t:?}");
    }
    assert_eq!(
        ours.get(TileId {
            z: 16,
            x: 54_201,
            y: 28_100
        })
        .await
        .unwrap(),
        None,
        "a tile not written"
    );
}
