//! Life circles over HTTP (`/v1/access`, `/v1/access/buildings`) and in the partition report:
//! the answer per grid, community and kind, agreeing with the core's own computation; every bad
//! request a problem body; the CLI's report section, text and JSON.

use crate::common::*;
use api::serve::{AppState, router};
use api::snapshot::Snapshot;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gis_core::bounds::SizeBounds;
use gis_core::partition::{PartitionOptions, partition};
use serde_json::Value;
use tower::ServiceExt;

fn served(name: &str) -> Snapshot {
    let d = gis_core::io::load_dataset(&fixture(name)).unwrap().dataset;
    let p = partition(&d, &PartitionOptions::default(), &mut |_, _| {});
    Snapshot::new(d, p.grids, SizeBounds::default())
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, Value) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap();
    (status, kind, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn coverage_per_grid_community_and_kind() {
    let state = AppState::new(served("kangle"));
    let app = router(state.clone());
    let (s, _, all) = get(&app, "/v1/access").await;
    assert_eq!(s, StatusCode::OK, "{all}");
    let kinds: Vec<&str> = all["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"clinic") && kinds.contains(&"hospital"), "{kinds:?}");
    assert_eq!(all["communities"].as_array().unwrap().len(), 1);
    let grids = all["grids"].as_array().unwrap();
    assert!(grids.len() >= 5);
    assert!(
        all["furthest"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "clinic")
    );
    // One grid, two kinds: the same figures as in the whole answer.
    let code = grids[0]["code"].as_str().unwrap();
    let (s, _, one) = get(&app, &format!("/v1/access?grid={code}&kind=clinic,%20School")).await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert!(one["communities"].as_array().unwrap().is_empty() && one["furthest"].is_null());
    let g = &one["grids"][0];
    assert_eq!(g["code"], code);
    let got: Vec<&str> = g["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["clinic", "school"]);
    let whole = grids[0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "clinic")
        .unwrap();
    assert_eq!(&g["kinds"][0], whole);
    // The core's figures, straight.
    let core = state.current().access();
    let mine = core.report.grid(code).unwrap();
    let clinic = mine.kinds.iter().find(|k| k.kind == "clinic").unwrap();
    assert_eq!(g["kinds"][0]["residents_beyond"], clinic.residents_beyond);
    assert_eq!(g["residents"], mine.residents);
    let within: u64 = g["kinds"][0]["within"][0]["residents"].as_u64().unwrap();
    let share = g["kinds"][0]["within"][0]["residents_share"].as_f64().unwrap();
    assert!((share - within as f64 / mine.residents as f64).abs() < 1e-4);
    // A community with its grids.
    let c = all["communities"][0]["code"].as_str().unwrap();
    let (s, _, com) = get(&app, &format!("/v1/access?community={c}&kind=hospital")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(com["grids"].as_array().unwrap().len(), grids.len());
    assert_eq!(com["kinds"].as_array().unwrap().len(), 1);

    // Every building's walk, for the map.
    let (s, kind, fc) = get(&app, &format!("/v1/access/buildings?kind=clinic&community={c}")).await;
    assert_eq!((s, kind.as_str()), (StatusCode::OK, "application/geo+json"));
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 188);
    let walk = core.walks.kind("clinic").unwrap();
    for (f, m) in features.iter().zip(&walk.buildings) {
        let metres = f["properties"]["metres"].as_f64().unwrap();
        assert!((metres - m).abs() <= 0.05, "{f}");
        let band = f["properties"]["band"].as_u64();
        let want = core.config.band(*m).map(|i| u64::from(core.config.circles[i].minutes));
        assert_eq!(band, want, "{f}");
    }
    assert_eq!(fc["access"]["circle"]["minutes"], 5);
}

#[tokio::test]
async fn bad_access_requests_are_problems() {
    let app = router(AppState::new(served("kangle")));
    for (uri, status, code) in [
        ("/v1/access?grid=350206001017999", StatusCode::NOT_FOUND, "unknown_grid"),
        (
            "/v1/access?community=110101001001",
            StatusCode::NOT_FOUND,
            "unknown_community",
        ),
        ("/v1/access?kind=bogus", StatusCode::BAD_REQUEST, "unknown_kind"),
        (
            "/v1/access?kind=clinic,dentist",
            StatusCode::BAD_REQUEST,
            "unknown_kind",
        ),
        (
            "/v1/access?grid=350206001017001&community=350206001017",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("/v1/access/buildings", StatusCode::BAD_REQUEST, "missing_kind"),
        (
            "/v1/access/buildings?kind=bogus",
            StatusCode::BAD_REQUEST,
            "unknown_kind",
        ),
        (
            "/v1/access/buildings?kind=clinic&community=1",
            StatusCode::NOT_FOUND,
            "unknown_community",
        ),
    ] {
        let (s, kind, body) = get(&app, uri).await;
        assert_eq!(s, status, "{uri}: {body}");
        assert!(kind.starts_with("application/problem+json"), "{uri}: {kind}");
        assert_eq!(body["code"], code, "{uri}: {body}");
    }
}

#[test]
fn partition_reports_carry_life_circles() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("grids.geojson");
    let o = wangge(&["partition", s(&fixture("kangle")), "--out", s(&out), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let access = &report["access"];
    assert_eq!(access["kinds"]["clinic"], 5);
    let grids = access["grids"].as_array().unwrap();
    assert!(grids.len() >= 5);
    assert!(
        grids
            .iter()
            .all(|g| g["covered"]["clinic"].is_number() || g["residents"] == 0)
    );
    let o = wangge(&["partition", s(&fixture("kangle")), "--out", s(&out)]);
    let t = text(&o);
    assert!(
        t.contains("Life circles (walking at 80 m/min)") && t.contains("5 min ≤ 300 m: clinic"),
        "{t}"
    );
    // A bad access.json stops the command naming file and field.
    let bad = tmp.path().join("kangle");
    std::fs::create_dir(&bad).unwrap();
    for f in std::fs::read_dir(fixture("kangle")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, bad.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(bad.join("access.json"), r#"{"kinds": {"clinic": 7}}"#).unwrap();
    let o = wangge(&["partition", s(&bad), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("access.json, kinds.clinic: expected the minutes of one of the circles (5, 10, 15), found 7"),
        "{}",
        text(&o)
    );
}
