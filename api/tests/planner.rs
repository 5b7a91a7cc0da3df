//! The planners' workflow over HTTP on the embedded store: upload, partition, re-partition,
//! validate, move, publish, roll back, staff — with the token, and every planner endpoint
//! refused without it. Also `/openapi.json` against the routes, and `/healthz` against the store.

use api::serve::{AppState, Limits, router};
use api::snapshot::Snapshot;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tower::ServiceExt;

use crate::common;

use common::{TOKEN, call, fixture, service};

fn dataset_files(name: &str) -> BTreeMap<String, Value> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        files.insert(
            p.file_name().unwrap().to_string_lossy().into_owned(),
            serde_json::from_str::<Value>(&text).unwrap(),
        );
    }
    files
}

/// Kangle with 600 more residents in one building: its grid goes over the bounds.
fn kangle_grown() -> BTreeMap<String, Value> {
    let mut files = dataset_files("kangle");
    let b = files.get_mut("buildings.geojson").unwrap();
    let f = &mut b["features"][0]["properties"];
    f["population"] = json!(f["population"].as_i64().unwrap() + 600);
    f.as_object_mut().unwrap().remove("units");
    files
}

#[tokio::test]
async fn every_planner_endpoint_refuses_a_missing_or_wrong_token() {
    let (app, _, store, _dir) = service(Limits::default()).await;
    let (_, doc) = call(&app, Method::GET, "/openapi.json", None, None).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security").is_none() {
                continue;
            }
            let uri = path
                .replace("{id}", "1")
                .replace("{number}", "1")
                .replace("{code}", "350206001017001");
            let m: Method = method.to_uppercase().parse().unwrap();
            for token in [None, Some("wrong-token-wrong-token"), Some("")] {
                let (status, body) = call(&app, m.clone(), &uri, token, Some(json!({}))).await;
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {uri} with {token:?}: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} planner operations documented");
    // Nothing was stored by any of them.
    assert_eq!(store.datasets().await.unwrap().len(), 1);
    assert_eq!(store.versions().await.unwrap().len(), 1);

    // A service without a token refuses planners outright.
    let published = store.published(None).await.unwrap().unwrap();
    let app = router(AppState::with_store(
        Snapshot::published(&published),
        store.clone(),
        None,
        Limits::default(),
    ));
    let (status, _) = call(&app, Method::GET, "/v1/auth", Some(TOKEN), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, Method::GET, "/v1/versions", None, None).await;
    assert_eq!(status, StatusCode::OK, "reads stay public");
}

#[tokio::test]
async fn upload_repartition_validate_publish_and_roll_back() {
    let (app, state, store, _dir) = service(Limits::default()).await;
    let t = Some(TOKEN);
    let (status, _) = call(&app, Method::GET, "/v1/auth", t, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Upload the grown dataset.
    let (status, up) = call(
        &app,
        Method::POST,
        "/v1/datasets",
        t,
        Some(json!({"source": "survey 2026-11", "files": kangle_grown()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let id = up["dataset"]["id"].as_i64().unwrap();
    assert_eq!(up["dataset"]["buildings"], 188);

    // Re-partition from the current version: a draft, with codes kept where they can be.
    let (status, rp) = call(&app, Method::POST, &format!("/v1/datasets/{id}/repartition"), t, None).await;
    assert_eq!(status, StatusCode::CREATED, "{rp}");
    let draft = rp["draft"]["id"].as_i64().unwrap();
    assert_eq!(rp["draft"]["origin"], "repartition");
    let (_, drafts) = call(&app, Method::GET, "/v1/drafts", t, None).await;
    assert!(drafts["drafts"].as_array().unwrap().iter().any(|d| d["id"] == draft));
    let (status, info) = call(&app, Method::GET, &format!("/v1/drafts/{draft}"), t, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(info["report"].is_object(), "{info}");

    // Its grids, its diff from the current version, and a clean validation.
    let (status, grids) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/grids"), t, None).await;
    assert_eq!(status, StatusCode::OK);
    let features = grids["features"].as_array().unwrap();
    assert!(features.iter().filter(|f| f["properties"]["level"] == "grid").count() >= 5);
    let (status, diff) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/diff"), t, None).await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    assert!(
        !diff["changed"].as_array().unwrap().is_empty() || !diff["created"].as_array().unwrap().is_empty(),
        "{diff}"
    );
    let (status, v) = call(&app, Method::POST, &format!("/v1/drafts/{draft}/validate"), t, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["clean"], true, "{}", v["report"]);
    assert_eq!(v["defects"]["type"], "FeatureCollection");

    // The grown dataset gets a sixth grid, and nobody works there yet: publishing is refused,
    // naming it, until the planner acknowledges it.
    let (status, refused) = call(
        &app,
        Method::POST,
        &format!("/v1/drafts/{draft}/publish"),
        t,
        Some(json!({"note": "grown building"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["unstaffed"], json!(["350206001017006"]), "{refused}");
    assert_eq!(state.current().version, Some(1));

    // Publish: served at once.
    let (status, p) = call(
        &app,
        Method::POST,
        &format!("/v1/drafts/{draft}/publish"),
        t,
        Some(json!({"note": "grown building", "acknowledge_unstaffed": true})),
    )
    .await;
    // A sixth grid taken from its neighbours moves many residents: that needs confirming too.
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["code"], "large_moves_unconfirmed", "{p}");
    assert_eq!(state.current().version, Some(1));
    let (status, p) = call(
        &app,
        Method::POST,
        &format!("/v1/drafts/{draft}/publish"),
        t,
        Some(json!({"note": "grown building", "acknowledge_unstaffed": true, "confirm_large_moves": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let note = p["version"]["note"].as_str().unwrap();
    assert!(
        note.starts_with(
            "grown building [published with no grid worker yet in 350206001017006] [large moves confirmed: "
        ),
        "{note}"
    );
    assert_eq!(p["version"]["number"], 2);
    assert_eq!(state.current().version, Some(2));
    let (status, _) = call(&app, Method::POST, &format!("/v1/drafts/{draft}/publish"), t, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "a draft publishes once");

    // Versions, their grids and diffs are public.
    let (_, versions) = call(&app, Method::GET, "/v1/versions", None, None).await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
    let (status, g1) = call(&app, Method::GET, "/v1/versions/1/grids", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!g1["features"].as_array().unwrap().is_empty());
    let (status, d) = call(&app, Method::GET, "/v1/versions/1/diff/2", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["created"], diff["created"]);
    let (status, _) = call(&app, Method::GET, "/v1/versions/1/diff/99", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Roll back to 1: a new version 3 with version 1's grids.
    let (status, r) = call(&app, Method::POST, "/v1/versions/1/rollback", t, None).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["version"]["number"], 3);
    assert_eq!(r["version"]["rolled_back_from"], 1);
    assert_eq!(state.current().version, Some(3));
    let (_, g3) = call(&app, Method::GET, "/v1/versions/3/grids", None, None).await;
    assert_eq!(g3, g1);
    assert_eq!(store.versions().await.unwrap().len(), 3);
}

#[tokio::test]
async fn partition_move_and_staff() {
    let (app, state, _store, _dir) = service(Limits::default()).await;
    let t = Some(TOKEN);
    // A fresh partition of the stored dataset, with other bounds.
    let (status, p) = call(
        &app,
        Method::POST,
        "/v1/datasets/1/partition",
        t,
        Some(json!({"min": 1200, "max": 1600, "micro": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert!(p["draft"]["grids"].as_i64().unwrap() >= 6, "{p}");
    for (bad, why) in [
        (json!({"min": 2000, "max": 1500}), "min/max"),
        (json!({"by": "families"}), "by"),
        (json!({"mni": 1}), "unknown field"),
        (json!({"seed": "one"}), "seed"),
    ] {
        let (status, body) = call(&app, Method::POST, "/v1/datasets/1/partition", t, Some(bad)).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert!(body["detail"].as_str().unwrap().contains(why), "{body}");
    }
    let (status, _) = call(&app, Method::POST, "/v1/datasets/77/partition", t, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Move one building of the current version to a neighbouring grid: refused or made, never
    // silently; with force it is made into a new draft and the codes stay.
    let served = state.current();
    let first = served
        .grids
        .iter()
        .find(|g| g.level == gis_core::grid::GridLevel::Grid)
        .unwrap();
    let other = served
        .grids
        .iter()
        .filter(|g| g.level == gis_core::grid::GridLevel::Grid && g.code != first.code)
        .map(|g| g.code.clone())
        .collect::<Vec<_>>();
    let building = first.buildings.first().unwrap().clone();
    let mut made = None;
    for to in &other {
        let (status, m) = call(
            &app,
            Method::POST,
            "/v1/move",
            t,
            Some(json!({"buildings": [building], "to": to, "force": true})),
        )
        .await;
        if status == StatusCode::CREATED {
            made = Some(m);
            break;
        }
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{m}");
    }
    let m = made.expect("a forced move to some grid is made");
    assert_eq!(m["draft"]["origin"], "move");
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/move",
        t,
        Some(json!({"buildings": ["nope"], "to": other[0]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/move",
        t,
        Some(json!({"buildings": [], "to": other[0]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Staff: set, read back, and returned by lookups at once.
    let code = first.code.clone();
    let staff = json!([{"name": "王芳", "role": "网格长", "phone": "13800000000"}, {"name": "李强", "role": "网格员"}]);
    let (status, s) = call(&app, Method::PUT, &format!("/v1/grids/{code}/staff"), t, Some(staff)).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let (_, s) = call(&app, Method::GET, &format!("/v1/grids/{code}/staff"), None, None).await;
    assert_eq!(s["staff"].as_array().unwrap().len(), 2);
    assert_eq!(s["staff"][0]["name"], "王芳");
    let inside = geo::InteriorPoint::interior_point(&first.area).unwrap();
    let (status, l) = call(
        &app,
        Method::GET,
        &format!("/v1/lookup?lon={}&lat={}", inside.x(), inside.y()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(l["code"], code.as_str(), "{l}");
    assert!(l.to_string().contains("王芳"), "{l}");
    let (status, _) = call(&app, Method::PUT, "/v1/grids/999/staff", t, Some(json!([]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/v1/grids/{code}/staff"),
        t,
        Some(json!([{"name": " ", "role": "网格员"}])),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn rejected_uploads_store_nothing_and_say_why() {
    let limits = Limits {
        max_upload: 2 << 20,
        ..Limits::default()
    };
    let (app, _, store, _dir) = service(limits).await;
    let t = Some(TOKEN);

    let mut bad = dataset_files("kangle");
    bad.get_mut("buildings.geojson").unwrap()["features"][3]["properties"]["population"] = json!("many");
    let (status, body) = call(&app, Method::POST, "/v1/datasets", t, Some(json!({"files": bad}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let p = &body["problems"][0];
    assert_eq!(p["file"], "buildings.geojson", "{body}");
    assert_eq!(p["feature"]["index"], 3, "{body}");
    assert_eq!(p["field"], "properties.population", "{body}");
    // A code for clients to word it by, and no server path (the folder it was unpacked in).
    assert_eq!(body["code"], "dataset_rejected", "{body}");
    assert_eq!(p["kind"], "wrong_type", "{body}");
    assert!(
        !body["detail"].as_str().unwrap().contains('/'),
        "a server path in {body}"
    );

    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/datasets",
        t,
        Some(json!({"files": {"notes.txt": "x"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = call(&app, Method::POST, "/v1/datasets", t, Some(json!({"files": {}}))).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a dataset without its boundary: {body}"
    );
    let (status, _) = call(&app, Method::POST, "/v1/datasets", t, Some(json!([1, 2]))).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST);

    // Larger than the limit: 413, nothing read past it.
    let big = json!({"files": {"boundary.geojson": "x".repeat(3 << 20)}});
    let (status, body) = call(&app, Method::POST, "/v1/datasets", t, Some(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    // Not JSON, or not said to be JSON.
    let req = Request::post("/v1/datasets")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let req = Request::post("/v1/datasets")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"files\":"))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    assert_eq!(
        store.datasets().await.unwrap().len(),
        1,
        "no rejected upload was stored"
    );

    // An uploaded hand-drawn layer is validated, not stored: its defects come back.
    let layer: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("layers/kangle-hand-drawn.geojson")).unwrap()).unwrap();
    let limits_ok = Limits::default();
    let (app, _, _, _dir2) = service(limits_ok).await;
    let (status, v) = call(&app, Method::POST, "/v1/validate", t, Some(json!({"layer": layer}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["clean"], false);
    assert!(!v["defects"]["features"].as_array().unwrap().is_empty());
    let (status, v) = call(
        &app,
        Method::POST,
        "/v1/validate",
        t,
        Some(json!({"layer": {"type": "FeatureCollection", "features": [{"type": "Feature"}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["problems"].as_array().is_some_and(|p| !p.is_empty()), "{v}");
}

#[tokio::test]
async fn openapi_matches_the_routes_and_health_checks_the_store() {
    let (app, _, store, _dir) = service(Limits::default()).await;
    let (status, h) = call(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["store"]["backend"], "sqlite");
    assert_eq!(h["store"]["current_version"], 1);
    let (status, doc) = call(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    for must in [
        "/v1/lookup",
        "/v1/resources/nearest",
        "/tiles/{z}/{x}/{file}",
        "/v1/datasets",
        "/v1/drafts/{id}/publish",
        "/v1/versions/{number}/rollback",
        "/v1/grids/{code}/staff",
        "/healthz",
    ] {
        assert!(paths.contains_key(must), "{must} is not documented");
    }
    // Every documented path is routed: none falls through to the "no such resource" answer.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let uri = path
                .replace("{id}", "1")
                .replace("{number}", "1")
                .replace("{a}", "1")
                .replace("{b}", "1")
                .replace("{code}", "x")
                .replace("{z}", "0")
                .replace("{x}", "0")
                .replace("{file}", "0.mvt")
                .replace("{fontstack}", "x")
                .replace("{range}", "0-255.pbf");
            let (status, body) = call(&app, method.to_uppercase().parse().unwrap(), &uri, Some(TOKEN), None).await;
            let fell_through = status == StatusCode::NOT_FOUND
                && body["detail"].as_str().is_some_and(|d| d.contains("no such resource"));
            assert!(!fell_through, "{method} {path} is documented but not routed");
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }

    store.close().await;
    let (status, h) = call(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{h}");
}

/// The CI venv's Python with openapi-spec-validator, or `None` outside CI.
fn python() -> Option<std::path::PathBuf> {
    crate::common::python_with("openapi_spec_validator")
}

/// Both API definitions pass openapi-spec-validator (the OpenAPI Initiative's schemas for 3.0
/// and 3.1, and its semantic checks), and the 3.0 one describes the same operations.
#[tokio::test]
async fn the_api_definitions_are_valid_openapi_3_0_and_3_1() {
    let (app, _, _store, dir) = service(Limits::default()).await;
    let mut docs = Vec::new();
    for (uri, version) in [("/openapi.json", "3.1"), ("/openapi-3.0.json", "3.0")] {
        let res = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            format!("application/vnd.oai.openapi+json;version={version}")
        );
        let doc: Value =
            serde_json::from_slice(&axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap()).unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with(version),
            "{uri}: {}",
            doc["openapi"]
        );
        docs.push(doc);
    }
    let ops = |d: &Value| -> Vec<String> {
        d["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |m| format!("{m} {p}")))
            .collect()
    };
    assert_eq!(ops(&docs[0]), ops(&docs[1]));
    assert!(
        !docs[1].to_string().contains(r#""null""#),
        "a 3.1 null type is left in the 3.0 document"
    );

    let Some(python) = python() else { return };
    for (i, doc) in docs.iter().enumerate() {
        let path = dir.path().join(format!("openapi-{i}.json"));
        std::fs::write(&path, doc.to_string()).unwrap();
        let out = std::process::Command::new(&python)
            .args(["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} is not valid: {}",
            doc["openapi"],
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The validator does fail: a 3.1 construct in a 3.0 document is refused.
    let mut bad = docs[1].clone();
    bad["info"]["license"]["identifier"] = "MIT".into();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, bad.to_string()).unwrap();
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// A multipart form: `(part name, file name, bytes)` per part.
fn form(parts: &[(&str, Option<&str>, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "wangge-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(f) = file {
            body.extend_from_slice(format!("; filename=\"{f}\"\r\nContent-Type: application/geo+json").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(app: &axum::Router, parts: &[(&str, Option<&str>, Vec<u8>)]) -> (StatusCode, Value) {
    let (ct, body) = form(parts);
    let req = Request::post("/v1/datasets")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    if !status.is_success() {
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/problem+json");
    }
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `curl -F buildings.geojson=@…` and `curl -F files=@…/buildings.geojson` both upload; a broken
/// file, a stray part, a file given twice, non-UTF-8 text and an oversized form are refused,
/// each saying why, and none stores anything.
#[tokio::test]
async fn a_dataset_uploads_as_a_multipart_form() {
    let limits = Limits {
        max_upload: 2 << 20,
        ..Limits::default()
    };
    let (app, _, store, _dir) = service(limits).await;
    let kangle = fixture("kangle");
    let read = |f: &str| std::fs::read(kangle.join(f)).unwrap();
    let names = [
        "boundary.geojson",
        "buildings.geojson",
        "resources.geojson",
        "roads.geojson",
        "exclusive.geojson",
        "staff.json",
    ];

    // Parts named by the file.
    let mut parts: Vec<(&str, Option<&str>, Vec<u8>)> =
        names.iter().map(|n| (*n, Some("x.geojson"), read(n))).collect();
    parts.push(("source", None, "2026 年入户调查".as_bytes().to_vec()));
    let (status, v) = post_form(&app, &parts).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["dataset"]["buildings"], 188, "{v}");
    assert_eq!(v["dataset"]["source"], "2026 年入户调查");
    // Parts carrying the file's name (a path's last segment).
    let paths: Vec<String> = names.iter().map(|n| format!("C:\\survey\\{n}")).collect();
    let parts: Vec<(&str, Option<&str>, Vec<u8>)> = names
        .iter()
        .zip(&paths)
        .map(|(n, p)| ("files", Some(p.as_str()), read(n)))
        .collect();
    let (status, v) = post_form(&app, &parts).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["dataset"]["source"], "upload");
    let stored = store.datasets().await.unwrap().len();

    // A broken building: 422 naming file, feature and field.
    let mut buildings: Value = serde_json::from_slice(&read("buildings.geojson")).unwrap();
    buildings["features"][5]["properties"]["population"] = json!(-3);
    let (status, v) = post_form(
        &app,
        &[
            ("boundary.geojson", None, read("boundary.geojson")),
            ("buildings.geojson", None, buildings.to_string().into_bytes()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let p = &v["problems"][0];
    assert_eq!(
        (p["file"].as_str(), p["feature"]["index"].as_u64(), p["field"].as_str()),
        (Some("buildings.geojson"), Some(5), Some("properties.population")),
        "{v}"
    );

    // A part that is no dataset file; a file given twice; GBK bytes; an oversized form.
    let (status, v) = post_form(
        &app,
        &[
            ("boundary.geojson", None, read("boundary.geojson")),
            ("notes", Some("notes.txt"), b"x".to_vec()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("form part \"notes\" (file \"notes.txt\")"),
        "{v}"
    );
    let (status, v) = post_form(
        &app,
        &[
            ("boundary.geojson", None, read("boundary.geojson")),
            ("files", Some("boundary.geojson"), read("boundary.geojson")),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("given twice"), "{v}");
    assert_eq!(
        (&v["code"], &v["file"]),
        (&json!("file_given_twice"), &json!("boundary.geojson")),
        "{v}"
    );
    let gbk = [
        b"{\"type\":\"FeatureCollection\",\"features\":[],\"name\":\"".as_slice(),
        &[0xbf, 0xb5, 0xc0, 0xd6],
        b"\"}",
    ]
    .concat();
    let (status, v) = post_form(
        &app,
        &[
            ("boundary.geojson", None, read("boundary.geojson")),
            ("buildings.geojson", None, gbk),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("buildings.geojson: not UTF-8"),
        "{v}"
    );
    // What the web map words in Chinese: the code, the file and where the bad byte is.
    assert_eq!(v["code"], "not_utf8", "{v}");
    assert_eq!(v["file"], "buildings.geojson", "{v}");
    assert_eq!(v["byte"], 50, "{v}");
    let (status, v) = post_form(&app, &[("buildings.geojson", None, vec![b' '; 3 << 20])]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");

    assert_eq!(
        store.datasets().await.unwrap().len(),
        stored,
        "no rejected form was stored"
    );
}

#[tokio::test]
async fn repartition_honours_the_bounds_the_planner_gives() {
    let (app, _state, _store, _dir) = service(Limits::default()).await;
    let t = Some(TOKEN);
    // Kangle's grids hold 1,667–1,998 residents: under 1,000–1,400 every one must change.
    let (status, rp) = call(
        &app,
        Method::POST,
        "/v1/datasets/1/repartition",
        t,
        Some(json!({"min": 1000, "max": 1400})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rp}");
    assert_eq!(rp["report"]["bounds"]["min"], 1000, "{}", rp["report"]["bounds"]);
    assert_eq!(rp["report"]["bounds"]["max"], 1400);
    let draft = rp["draft"]["id"].as_i64().unwrap();
    let (_, grids) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/grids"), t, None).await;
    let sizes: Vec<u64> = grids["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == "grid" && f["properties"]["kind"] == "basic")
        .map(|f| f["properties"]["population"].as_u64().unwrap())
        .collect();
    assert!(sizes.len() >= 7, "{sizes:?}");
    assert!(
        sizes.iter().all(|&p| (1000..=1400).contains(&p)),
        "grids outside 1,000–1,400: {sizes:?}"
    );

    // Without bounds the version's own apply, as before; impossible bounds are refused.
    let (status, rp) = call(&app, Method::POST, "/v1/datasets/1/repartition", t, Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{rp}");
    assert_eq!(rp["report"]["bounds"]["min"], 1500);
    let (status, bad) = call(
        &app,
        Method::POST,
        "/v1/datasets/1/repartition",
        t,
        Some(json!({"min": 1400, "max": 1000})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert!(bad["detail"].as_str().unwrap().contains("min/max"), "{bad}");
}

#[tokio::test]
async fn a_draft_that_does_not_validate_is_published_only_with_a_reason_kept_in_the_note() {
    let (app, _state, _store, _dir) = service(Limits::default()).await;
    let t = Some(TOKEN);
    // A forced move: most of one grid's buildings into its neighbour, far over the maximum.
    let (_, grids) = call(&app, Method::GET, "/v1/versions/1/grids", None, None).await;
    let basic: Vec<&Value> = grids["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == "grid" && f["properties"]["kind"] == "basic")
        .collect();
    let all = basic[0]["properties"]["buildings"].as_array().unwrap();
    let moving: Vec<Value> = all[..all.len() - 3].to_vec();
    let to = basic[1]["properties"]["code"].clone();
    let (status, moved) = call(
        &app,
        Method::POST,
        "/v1/move",
        t,
        Some(json!({"buildings": moving, "to": to, "force": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");
    let draft = moved["draft"]["id"].as_i64().unwrap();
    let (_, v) = call(&app, Method::POST, &format!("/v1/drafts/{draft}/validate"), t, None).await;
    assert_eq!(v["clean"], false, "the forced move validates clean: {}", v["report"]);
    let defects = v["report"]["defects"].as_array().unwrap().len();

    // Refused without a reason, naming the defects; nothing published.
    let url = format!("/v1/drafts/{draft}/publish");
    let (status, refused) = call(&app, Method::POST, &url, t, Some(json!({"note": "forced"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["defects"].as_array().unwrap().len(), defects, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("does not validate clean"),
        "{refused}"
    );
    // The same defects in full, by kind, for a client to word them.
    assert_eq!(refused["code"], "draft_does_not_validate", "{refused}");
    let details = refused["defect_details"].as_array().unwrap();
    assert_eq!(details.len(), defects, "{refused}");
    assert!(
        details.iter().all(|d| d["kind"].is_string() && d["codes"].is_array()),
        "{refused}"
    );
    let (_, versions) = call(&app, Method::GET, "/v1/versions", None, None).await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1, "{versions}");
    let (status, _) = call(
        &app,
        Method::POST,
        &url,
        t,
        Some(json!({"note": "forced", "override_reason": "   "})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a blank reason is no reason");

    // With a reason: published, and the note says what was overridden and why.
    let (status, published) = call(
        &app,
        Method::POST,
        &url,
        t,
        Some(
            json!({"note": "forced", "override_reason": "street office decision 2026-12", "confirm_large_moves": true}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    let note = published["version"]["note"].as_str().unwrap();
    assert!(
        note.starts_with("forced [published with ") && note.contains("because: street office decision 2026-12"),
        "{note}"
    );
}

#[tokio::test]
async fn a_fresh_partition_over_a_version_keeps_codes_by_mutual_majority() {
    let (app, _state, _store, _dir) = service(Limits::default()).await;
    let t = Some(TOKEN);
    let (_, old) = call(&app, Method::GET, "/v1/versions/1/grids", None, None).await;
    // Smaller grids from scratch: most areas change, some old codes carry over.
    let (status, made) = call(
        &app,
        Method::POST,
        "/v1/datasets/1/partition",
        t,
        Some(json!({"min": 1000, "max": 1400})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let draft = made["draft"]["id"].as_i64().unwrap();
    let (_, new) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/grids"), t, None).await;
    let (_, items) = call(&app, Method::GET, "/collections/buildings/items?limit=1000", None, None).await;
    let people: std::collections::HashMap<String, u64> = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["properties"]["population"].as_u64().unwrap(),
            )
        })
        .collect();
    let grids = |fc: &Value| -> Vec<(String, Vec<String>)> {
        fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["properties"]["level"] == "grid")
            .map(|f| {
                let b = f["properties"]["buildings"].as_array().unwrap();
                let ids = b
                    .iter()
                    .map(|x| x.as_str().unwrap().split('#').next().unwrap().to_string());
                (f["properties"]["code"].as_str().unwrap().to_string(), ids.collect())
            })
            .collect()
    };
    let (old, new) = (grids(&old), grids(&new));
    let total = |ids: &[String]| ids.iter().map(|i| people.get(i).copied().unwrap_or(0)).sum::<u64>();
    let old_max = old
        .iter()
        .map(|(c, _)| c.clone())
        .filter(|c| !c.ends_with("901") && !c.ends_with("902"))
        .max();
    let (mut kept, mut fresh) = (0, 0);
    for (code, ids) in &new {
        match old.iter().find(|(c, _)| c == code) {
            Some((_, was)) => {
                // Mutual majority: at least half of the old grid's residents, and at least half of the new one's.
                let shared: Vec<String> = ids.iter().filter(|i| was.contains(i)).cloned().collect();
                let (s, o, n) = (total(&shared), total(was), total(ids));
                assert!(
                    2 * s >= o && 2 * s >= n,
                    "{code} kept with {s} of {o} old and {n} new residents"
                );
                kept += 1;
            }
            None => {
                assert!(
                    Some(code) > old_max.as_ref(),
                    "{code} is new but reads like an old code"
                );
                fresh += 1;
            }
        }
    }
    assert!(kept >= 1 && fresh >= 1, "kept {kept}, new {fresh}: {new:?}");
    // The school and the market keep their exclusive grids' codes.
    for code in ["350206001017901", "350206001017902"] {
        assert!(new.iter().any(|(c, _)| c == code), "{code} not kept: {new:?}");
    }
    // Renumbered, micro-grids included, the draft still validates clean (codes, parents, coverage).
    let (_, v) = call(&app, Method::POST, &format!("/v1/drafts/{draft}/validate"), t, None).await;
    assert_eq!(v["clean"], true, "{}", v["report"]["defects"]);
}
