//! `wangge validate` run as a user runs it: the real binary on the committed fixtures.

use crate::common::{fixture, s, wangge};
use serde_json::Value;
use std::path::Path;

#[test]
fn wangge_partition_output_validates_clean() {
    let dir = tempfile::tempdir().unwrap();
    let grids = dir.path().join("grids.geojson");
    let kangle = fixture("kangle");
    assert!(wangge(&["partition", s(&kangle), "--out", s(&grids)]).status.success());
    let out = wangge(&["validate", s(&kangle), s(&grids)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Clean: no gaps, overlaps or near-misses"), "{text}");
    assert!(text.contains("1 covered exactly"), "{text}");
}

#[test]
fn hand_drawn_layer_report_json_geojson_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let kangle = fixture("kangle");
    let drawn = fixture("layers").join("kangle-hand-drawn.geojson");
    let out = wangge(&["validate", s(&kangle), s(&drawn)]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for phrase in [
        "11 defects found",
        "gaps",
        "overlaps",
        "near-misses",
        "bow-ties",
        "unclosed rings",
        "duplicate codes",
        "slivers below tolerance",
    ] {
        assert!(text.contains(phrase), "missing {phrase:?} in\n{text}");
    }
    // Worst first: the market's 21,558 m² gap is the first gap listed.
    let gaps = text.split("Gaps (worst first)").nth(1).unwrap();
    assert!(gaps.lines().nth(1).unwrap().contains("gap of 21558 m²"), "{gaps}");

    let defects = dir.path().join("defects.geojson");
    let fixed = dir.path().join("fixed.geojson");
    let out = wangge(&[
        "validate",
        s(&kangle),
        s(&drawn),
        "--json",
        "--geojson",
        s(&defects),
        "--fix",
        s(&fixed),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["defects"].as_array().unwrap().len(), 11);
    assert_eq!(report["defects"][0]["kind"], "gap");
    assert!(report["defects"][0]["area_m2"].as_f64().unwrap() > 20_000.0);
    let changes = report["repair"]["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["kind"] == "gap_filled"));
    assert!(changes.iter().any(|c| c["kind"] == "overlap_resolved"));
    assert_eq!(
        report["repair"]["after"]["defects"],
        serde_json::json!({"duplicate_code": 1})
    );

    let features: Value = serde_json::from_str(&std::fs::read_to_string(&defects).unwrap()).unwrap();
    let features = features["features"].as_array().unwrap();
    assert_eq!(features.len(), 11);
    assert!(features.iter().all(|f| f["properties"]["kind"].is_string()
        && f["properties"]["codes"].is_array()
        && f["geometry"]["type"].is_string()));
    let near = features
        .iter()
        .find(|f| f["properties"]["kind"] == "near_miss")
        .unwrap();
    assert_eq!(near["geometry"]["type"], "MultiLineString");
    assert!(near["properties"]["length_m"].as_f64().unwrap() > 1.0);

    // The repaired layer: same codes, and no gap, overlap or near-miss left.
    let again = wangge(&["validate", s(&kangle), s(&fixed), "--json"]);
    let r: Value = serde_json::from_slice(&again.stdout).unwrap();
    let kinds: Vec<&str> = r["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["duplicate_code"], "{}", String::from_utf8_lossy(&again.stdout));
    let codes = |p: &Path| -> Vec<String> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes(&fixed), codes(&drawn));
    // Written atomically: nothing partial left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// Each unreadable input: exit 2, a message naming the file, the feature and the field, and no
/// file written.
#[test]
fn unreadable_input_exits_2_naming_file_feature_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let kangle = fixture("kangle");
    let defects = dir.path().join("defects.geojson");
    let fixed = dir.path().join("fixed.geojson");
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "not-json.geojson",
            "{\"type\": \"FeatureCollection\", \"features\": [",
            &["not-json.geojson", "is not valid JSON"],
        ),
        (
            "not-fc.geojson",
            "{\"type\": \"Feature\"}",
            &["not-fc.geojson", "expected a GeoJSON FeatureCollection"],
        ),
        (
            "no-code.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"community_code":"350206001017"},"geometry":{"type":"Polygon","coordinates":[[[118.11,24.5],[118.12,24.5],[118.12,24.51],[118.11,24.5]]]}}]}"#,
            &["no-code.geojson: features[0]", "properties.code", "missing"],
        ),
        (
            "point.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"350206001017001","community_code":"350206001017"},"geometry":{"type":"Point","coordinates":[118.11,24.5]}}]}"#,
            &[
                "point.geojson: features[0] (id \"350206001017001\")",
                "geometry.type",
                "Polygon or MultiPolygon",
            ],
        ),
        (
            "swapped.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"350206001017001","community_code":"350206001017"},"geometry":{"type":"Polygon","coordinates":[[[24.5,118.11],[24.5,118.12],[24.51,118.12],[24.5,118.11]]]}}]}"#,
            &["features[0]", "geometry.coordinates[0][0]", "swapped"],
        ),
        (
            "bad-kind.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"350206001017001","community_code":"350206001017","kind":"special"},"geometry":{"type":"Polygon","coordinates":[[[118.11,24.5],[118.12,24.5],[118.12,24.51],[118.11,24.5]]]}}]}"#,
            &["features[0]", "properties.kind", "\"basic\" or \"exclusive\""],
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = wangge(&[
            "validate",
            s(&kangle),
            s(&path),
            "--geojson",
            s(&defects),
            "--fix",
            s(&fixed),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        for e in expected {
            assert!(err.contains(e), "{name}: expected {e:?} in\n{err}");
        }
        assert!(
            !defects.exists() && !fixed.exists(),
            "{name}: nothing is written on bad input"
        );
    }
    // A missing grid file, a missing dataset, a nonsensical setting.
    let drawn = fixture("layers").join("kangle-hand-drawn.geojson");
    let out = wangge(&["validate", s(&kangle), "/nonexistent/grids.geojson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("grids.geojson: cannot be read"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = wangge(&["validate", "/nonexistent/dataset", s(&drawn)]);
    assert_eq!(out.status.code(), Some(2));
    let out = wangge(&["validate", s(&kangle), s(&drawn), "--tolerance=-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tolerance"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = wangge(&["validate", s(&kangle), s(&drawn), "--min", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bounds_come_from_the_command_line_else_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let grids = dir.path().join("grids.geojson");
    let kangle = fixture("kangle");
    assert!(
        wangge(&[
            "partition",
            s(&kangle),
            "--out",
            s(&grids),
            "--min",
            "1000",
            "--max",
            "2500"
        ])
        .status
        .success()
    );
    // The layer says it was drawn for 1,000–2,500: validated against that, clean.
    let out = wangge(&["validate", s(&kangle), s(&grids), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["bounds"]["min"], 1000);
    // Stricter bounds on the command line win.
    let out = wangge(&[
        "validate",
        s(&kangle),
        s(&grids),
        "--json",
        "--min",
        "1900",
        "--max",
        "2000",
    ]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["bounds"]["min"], 1900);
    assert!(
        r["defects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["kind"] == "grid_too_small" || d["kind"] == "grid_too_large")
    );
}
