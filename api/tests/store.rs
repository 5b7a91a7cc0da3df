//! `wangge load / versions / publish / rollback` run as a planner runs them, on the embedded
//! store (the PostGIS backend is covered by the store crate's suite).

use crate::common::{fixture, text, wangge};

#[test]
fn load_publish_list_and_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let db = db.to_str().unwrap();
    let kangle = fixture("kangle");
    let kangle = kangle.to_str().unwrap();

    let out = wangge(&["load", kangle, "--store", db]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("published as version 1"), "{}", text(&out));

    let out = wangge(&["load", kangle, "--store", db]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("into draft 2") && t.contains("wangge publish 2"), "{t}");

    let out = wangge(&["publish", "2", "--note", "same data again", "--store", db]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("as version 2"));

    let out = wangge(&["rollback", "1", "--store", db]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Version 3 now serves version 1"));

    let out = wangge(&["versions", "--store", db]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("  v1 ") && t.contains("  v2 ") && t.contains("* v3 ") && t.contains("(rollback to 1)"),
        "{t}"
    );

    let out = wangge(&["versions", "--store", db, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["versions"].as_array().unwrap().len(), 3);
    assert_eq!(v["versions"][2]["current"], true);
    assert_eq!(v["drafts"].as_array().unwrap().len(), 0);
}

#[test]
fn rejections_exit_2_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let db = db.to_str().unwrap();
    let out = wangge(&["publish", "7", "--note", "x", "--store", db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no draft 7"), "{}", text(&out));
    let out = wangge(&["rollback", "3", "--store", db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no version 3"), "{}", text(&out));
    let out = wangge(&["load", "/nonexistent/dataset", "--store", db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
    let out = wangge(&["load", fixture("kangle").to_str().unwrap(), "--db", "not-a-url"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("cannot open the store"), "{}", text(&out));
    let out = wangge(&["versions", "--store", db]);
    assert!(text(&out).contains("Nothing published yet."), "{}", text(&out));
}

/// A draft with validation defects (most of a grid moved into its neighbour, forced) is not
/// published (exit 3, each defect listed) until the planner gives a reason, kept in the note.
#[test]
fn publish_refuses_a_draft_that_does_not_validate_unless_given_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let (db, grids, moved) = (path("w.db"), path("grids.geojson"), path("moved.geojson"));
    let kangle = fixture("kangle");
    let kangle = kangle.to_str().unwrap();
    assert!(wangge(&["load", kangle, "--store", &db]).status.success());
    assert!(wangge(&["partition", kangle, "--out", &grids]).status.success());
    let layer: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&grids).unwrap()).unwrap();
    let basic: Vec<&serde_json::Value> = layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["kind"] == "basic")
        .collect();
    let all: Vec<&str> = basic[0]["properties"]["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    let to = basic[1]["properties"]["code"].as_str().unwrap();
    let moving = all[..all.len() - 3].join(",");
    let out = wangge(&[
        "move",
        kangle,
        &grids,
        "--building",
        &moving,
        "--to",
        to,
        "--out",
        &moved,
        "--force",
    ]);
    assert!(out.status.success(), "{}", text(&out));

    // The forced layer as a draft of the stored dataset.
    let draft = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = store::Store::open_sqlite(std::path::Path::new(&db)).await.unwrap();
        let layer = gis_core::io::grids::read_layer(std::path::Path::new(&moved)).unwrap();
        let id = store.save_draft(1, &layer, "move", None, &[]).await.unwrap();
        store.close().await;
        id
    });
    let draft = draft.to_string();

    let out = wangge(&["publish", &draft, "--note", "forced", "--store", &db]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("does not validate clean") && t.contains("--override-validation"),
        "{t}"
    );
    assert!(t.contains("  - "), "each defect is listed: {t}");
    let versions = text(&wangge(&["versions", "--store", &db]));
    assert!(!versions.contains("v2"), "nothing was published: {versions}");

    let out = wangge(&[
        "publish",
        &draft,
        "--note",
        "forced",
        "--override-validation",
        "street office decision",
        "--confirm-large-moves",
        "--store",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let versions = text(&wangge(&["versions", "--store", &db]));
    assert!(
        versions.contains("forced [published with") && versions.contains("because: street office decision"),
        "{versions}"
    );
}

/// A re-partition that opens a grid nobody works in yet is not published (exit 1, the grid
/// named) until the planner acknowledges it; the note keeps it.
#[test]
fn publish_names_grids_left_without_staff_and_waits_for_an_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db").to_str().unwrap().to_string();
    let grown = dir.path().join("kangle-grown");
    std::fs::create_dir(&grown).unwrap();
    for f in std::fs::read_dir(fixture("kangle")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, grown.join(f.file_name().unwrap())).unwrap();
    }
    // One building gains 600 residents: its grid overflows and a sixth grid opens.
    let path = grown.join("buildings.geojson");
    let mut b: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let p = &mut b["features"][0]["properties"];
    p["population"] = serde_json::json!(p["population"].as_i64().unwrap() + 600);
    p.as_object_mut().unwrap().remove("units");
    std::fs::write(&path, b.to_string()).unwrap();

    let kangle = fixture("kangle");
    assert!(
        wangge(&["load", kangle.to_str().unwrap(), "--store", &db])
            .status
            .success()
    );
    let out = wangge(&["load", grown.to_str().unwrap(), "--store", &db]);
    assert!(out.status.success(), "{}", text(&out));
    let out = wangge(&["publish", "2", "--note", "grown", "--store", &db]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("350206001017006") && t.contains("--acknowledge-unstaffed"),
        "{t}"
    );
    assert!(!text(&wangge(&["versions", "--store", &db])).contains("v2"));

    let out = wangge(&[
        "publish",
        "2",
        "--note",
        "grown",
        "--acknowledge-unstaffed",
        "--store",
        &db,
    ]);
    // It also moves 19% of Kangle's residents: refused until confirmed, naming the flag.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--confirm-large-moves"), "{}", text(&out));
    let out = wangge(&[
        "publish",
        "2",
        "--note",
        "grown",
        "--acknowledge-unstaffed",
        "--confirm-large-moves",
        "--store",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let versions = text(&wangge(&["versions", "--store", &db]));
    assert!(
        versions.contains("grown [published with no grid worker yet in 350206001017006]"),
        "{versions}"
    );
}
