//! `wangge partition` run as a user runs it: the real binary on the committed fixtures.

use crate::common::{fixture, wangge};
use serde_json::Value;

#[test]
fn kangle_writes_grids_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("grids.geojson");
    let out = wangge(&[
        "partition",
        fixture("kangle").to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("into 5 basic grids, 2 exclusive grids"), "{text}");
    assert!(text.contains("Checked grids: one exact coverage"), "{text}");
    assert!(!text.contains("Warnings"), "{text}");
    let grids: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let features = grids["features"].as_array().unwrap();
    assert_eq!(features.len(), 7);
    let basic: Vec<&Value> = features.iter().filter(|f| f["properties"]["kind"] == "basic").collect();
    assert!(
        basic
            .iter()
            .all(|f| (1500..=2000).contains(&f["properties"]["population"].as_u64().unwrap()))
    );
    assert!(
        basic
            .iter()
            .all(|f| f["properties"]["code"].as_str().unwrap().starts_with("350206001017"))
    );
    assert_eq!(
        basic
            .iter()
            .map(|f| f["properties"]["population"].as_u64().unwrap())
            .sum::<u64>(),
        9241
    );
    // No partial file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn micro_grids_and_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("grids.geojson");
    let out = wangge(&[
        "partition",
        fixture("kangle").to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
        "--micro",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &report["communities"][0];
    assert_eq!(c["basic_grids"], 5);
    assert_eq!(c["split_compounds"], 0);
    assert!(c["micro_grids"].as_u64().unwrap() > 5);
    assert!(c["compactness_mean"].as_f64().unwrap() >= 0.45);
    assert_eq!(report["verification"]["buildings_cut"].as_array().unwrap().len(), 0);
    let grids: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let micro = grids["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == "micro")
        .count();
    assert_eq!(micro as u64, c["micro_grids"].as_u64().unwrap());
}

#[test]
fn same_seed_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.geojson"), dir.path().join("b.geojson"));
    for p in [&a, &b] {
        let out = wangge(&[
            "partition",
            fixture("kangle").to_str().unwrap(),
            "--out",
            p.to_str().unwrap(),
            "--seed",
            "7",
        ]);
        assert!(out.status.success());
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("grids.geojson");
    let out = wangge(&["partition", "/nonexistent/dataset", "--out", out_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    assert!(!out_path.exists());

    let out = wangge(&[
        "partition",
        fixture("kangle").to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
        "--min",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 1"));
    assert!(!out_path.exists());

    let out = wangge(&[
        "partition",
        fixture("kangle").to_str().unwrap(),
        "--out",
        "/nonexistent/dir/grids.geojson",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
}
