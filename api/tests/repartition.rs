//! `wangge repartition`, `diff` and `move` run as a planner runs them, with every rejection.

use crate::common::{fixture, s, wangge};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A published kangle layer, and a copy of the dataset whose first grid grew past the maximum.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let published = dir.join("published.geojson");
    let out = wangge(&["partition", s(&fixture("kangle")), "--out", s(&published)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let data = dir.join("kangle");
    std::fs::create_dir(&data).unwrap();
    for f in std::fs::read_dir(fixture("kangle")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, data.join(f.file_name().unwrap())).unwrap();
    }
    let layer: Value = serde_json::from_str(&std::fs::read_to_string(&published).unwrap()).unwrap();
    let first: Vec<&str> = layer["features"][0]["properties"]["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let path = data.join("buildings.geojson");
    let mut buildings: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for f in buildings["features"].as_array_mut().unwrap() {
        let p = f["properties"].as_object_mut().unwrap();
        if first.contains(&p["id"].as_str().unwrap()) {
            let pop = p["population"].as_u64().unwrap();
            p.insert("population".into(), (pop * 115 / 100 + 1).into());
            p.remove("households");
            p.remove("units");
        }
    }
    std::fs::write(&path, buildings.to_string()).unwrap();
    (published, data)
}

#[test]
fn repartition_diff_and_move_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (published, data) = setup(dir.path());
    let new = dir.path().join("new.geojson");
    let report = dir.path().join("report.json");
    let staff = dir.path().join("staff.json");
    let out = wangge(&[
        "repartition",
        s(&data),
        "--from",
        s(&published),
        "--out",
        s(&new),
        "--report",
        s(&report),
        "--staff-out",
        s(&staff),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("above the maximum 2000"), "{text}");
    assert!(text.contains("Checked grids: one exact coverage"), "{text}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(r["residents"]["kept_share"].as_f64().unwrap() >= 0.8);
    assert!(r["kept"].as_array().unwrap().len() >= 4);
    let staff: Value = serde_json::from_str(&std::fs::read_to_string(&staff).unwrap()).unwrap();
    assert!(!staff.as_array().unwrap().is_empty());

    // Diff, for people and machines.
    let out = wangge(&["diff", s(&published), s(&new), "--dataset", s(&data)]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("residents moved grid"), "{text}");
    let out = wangge(&["diff", s(&published), s(&new), "--json"]);
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["weight"], "buildings");
    assert_eq!(
        d["changed"].as_array().unwrap().len(),
        r["changed"].as_array().unwrap().len()
    );

    // A move that splits the target off is refused (exit 1) and writes nothing; forced, it is made.
    let layer: Value = serde_json::from_str(&std::fs::read_to_string(&published).unwrap()).unwrap();
    let feats = layer["features"].as_array().unwrap();
    let last_basic = feats.iter().rfind(|f| f["properties"]["kind"] == "basic").unwrap();
    let first_building = feats[0]["properties"]["buildings"][0].as_str().unwrap();
    let to = last_basic["properties"]["code"].as_str().unwrap();
    let moved = dir.path().join("moved.geojson");
    let out = wangge(&[
        "move",
        s(&fixture("kangle")),
        s(&published),
        "--building",
        first_building,
        "--to",
        to,
        "--out",
        s(&moved),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!moved.exists());
    let out = wangge(&[
        "move",
        s(&fixture("kangle")),
        s(&published),
        "--building",
        first_building,
        "--to",
        to,
        "--out",
        s(&moved),
        "--force",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FORCED"));
}

#[test]
fn bad_layers_are_rejected_naming_file_feature_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (published, data) = setup(dir.path());
    let new = dir.path().join("new.geojson");
    let run = |layer: &Path| wangge(&["repartition", s(&data), "--from", s(layer), "--out", s(&new)]);
    let text: String = std::fs::read_to_string(&published).unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let mut v: Value = serde_json::from_str(&text).unwrap();

    let cases: Vec<(PathBuf, &str)> = vec![
        (write("broken.geojson", &text[..text.len() / 2]), "not valid JSON"),
        (
            write("point.geojson", r#"{"type":"Point","coordinates":[0,0]}"#),
            "FeatureCollection",
        ),
        (
            {
                v["features"][2]["properties"].as_object_mut().unwrap().remove("code");
                write("nocode.geojson", &v.to_string())
            },
            "features[2], properties.code: missing",
        ),
        (
            {
                let mut w: Value = serde_json::from_str(&text).unwrap();
                w["features"][1]["properties"]["kind"] = "special".into();
                write("kind.geojson", &w.to_string())
            },
            "properties.kind",
        ),
        (
            {
                let mut w: Value = serde_json::from_str(&text).unwrap();
                let c = w["features"][0]["properties"]["code"].clone();
                w["features"][1]["properties"]["code"] = c;
                write("dup.geojson", &w.to_string())
            },
            "used by more than one grid",
        ),
        (
            {
                let mut w: Value = serde_json::from_str(&text).unwrap();
                w["features"].as_array_mut().unwrap().remove(0);
                write("gap.geojson", &w.to_string())
            },
            "validate --fix",
        ),
        (
            {
                let mut w: Value = serde_json::from_str(&text).unwrap();
                w["features"][0]["properties"]["community_code"] = "999999999999".into();
                write("community.geojson", &w.to_string())
            },
            "999999999999",
        ),
        (dir.path().join("missing.geojson"), "No such file"),
    ];
    for (layer, expect) in cases {
        let out = run(&layer);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", layer.display());
        assert!(
            err.contains(expect),
            "{}: expected {expect:?} in {err}",
            layer.display()
        );
        assert!(!new.exists(), "nothing is written for {}", layer.display());
    }

    // Unknown building or grid in a move: bad input, named.
    let out = wangge(&[
        "move",
        s(&data),
        s(&published),
        "--building",
        "NOPE",
        "--to",
        "350206001017001",
        "--out",
        s(&new),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no building has id NOPE"));
    let out = wangge(&[
        "move",
        s(&data),
        s(&published),
        "--building",
        "KL-B0001",
        "--to",
        "350206001017555",
        "--out",
        s(&new),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no grid has code 350206001017555"));
    // A bad code scheme file.
    let scheme = write(
        "scheme.json",
        r#"{"name":"x","segments":["community"],"basic":{"first":1,"last":9},"exclusive":{"first":10,"last":19},"micro_digits":2}"#,
    );
    let out = wangge(&["partition", s(&data), "--out", s(&new), "--code-scheme", s(&scheme)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exactly one \"community\" segment"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_custom_code_scheme_numbers_the_grids() {
    let dir = tempfile::tempdir().unwrap();
    let scheme = dir.path().join("scheme.json");
    std::fs::write(
        &scheme,
        r#"{"name":"city","segments":[{"literal":"WG"},"community",{"sequence":4}],
        "basic":{"first":1,"last":8999},"exclusive":{"first":9001,"last":9999},"micro_digits":2}"#,
    )
    .unwrap();
    let out_path = dir.path().join("grids.geojson");
    let out = wangge(&[
        "partition",
        s(&fixture("kangle")),
        "--out",
        s(&out_path),
        "--code-scheme",
        s(&scheme),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let layer: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let mut codes: Vec<(String, String)> = layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                f["properties"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    codes.sort();
    assert_eq!(codes[0].0, "WG3502060010170001");
    assert!(
        codes
            .iter()
            .all(|(c, k)| c.len() == 18 && (k == "basic") == (c[14..].parse::<u32>().unwrap() < 9000))
    );
    assert_eq!(layer["wangge"]["code_scheme"]["name"], "city");
}
