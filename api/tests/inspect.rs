//! `wangge inspect` run as a user runs it: the real binary on the committed fixtures.

use crate::common::{fixture, wangge};
use serde_json::Value;
use std::process::Output;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn kangle_has_9241_residents_and_five_or_six_grids() {
    let out = wangge(&["inspect", fixture("kangle").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(
        text.contains("188 buildings, 9,241 residents, 3,752 households"),
        "{text}"
    );
    assert!(text.contains("康乐社区 350206001017"), "{text}");
    assert!(text.contains("5–6 feasible"), "{text}");
    assert!(text.contains("clinic 2"), "{text}");
    assert!(text.contains("school 1"), "{text}");
}

#[test]
fn kangle_as_json() {
    let out = wangge(&["inspect", fixture("kangle").to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["summary"]["communities"][0];
    assert_eq!(c["residents"], 9241);
    assert_eq!(c["households"], 3752);
    assert_eq!(c["buildings"], 188);
    assert_eq!(c["grid_counts"]["status"], "feasible");
    assert_eq!(c["grid_counts"]["low"], 5);
    assert_eq!(c["grid_counts"]["high"], 6);
    assert!(c["area_km2"].as_f64().unwrap() > 0.1);
}

#[test]
fn sizing_by_households() {
    let out = wangge(&[
        "inspect",
        fixture("kangle").to_str().unwrap(),
        "--by",
        "households",
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["summary"]["communities"][0];
    // 3,752 households in grids of 200–300: ceil(3752/300) = 13, floor(3752/200) = 18.
    assert_eq!(c["basic_size"], 3752);
    assert_eq!(
        (c["grid_counts"]["low"].as_u64(), c["grid_counts"]["high"].as_u64()),
        (Some(13), Some(18))
    );
}

#[test]
fn zhongjing_lists_nine_communities() {
    let out = wangge(&["inspect", fixture("zhongjing").to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["communities"].as_array().unwrap().len(), 9);
    let residents = v["summary"]["residents"].as_u64().unwrap();
    assert!((100_000..=150_000).contains(&residents), "{residents}");
}

#[test]
fn a_broken_dataset_exits_2_naming_file_feature_and_field() {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixture("kangle")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    let path = dir.path().join("buildings.geojson");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["features"][7]["properties"]["population"] = Value::from(-5);
    let id = v["features"][7]["properties"]["id"].as_str().unwrap().to_string();
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();

    let out = wangge(&["inspect", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "buildings.geojson: features[7] (id \"{id}\"), properties.population"
        )),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_bounds_are_refused() {
    let out = wangge(&["inspect", fixture("kangle").to_str().unwrap(), "--min", "2500"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("above the maximum"));
}

#[test]
fn a_missing_folder_is_named() {
    let out = wangge(&["inspect", "/nonexistent/dataset"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/dataset: does not exist"), "{err}");
}
