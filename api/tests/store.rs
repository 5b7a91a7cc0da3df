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
