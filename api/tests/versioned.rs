//! Version-addressed tiles (`/v/{version}/…`): immutable answers the style and TileJSON point at,
//! short-cached style and TileJSON with ETags, and a clear answer for each version not served.

use crate::common::{TOKEN, call, service};
use api::serve::{AppState, Limits, Token, router};
use api::snapshot::Snapshot;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

/// A GET with optional If-None-Match: status, headers and body.
async fn get(app: &axum::Router, uri: &str, etag: Option<&str>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri).header(header::HOST, "maps.example");
    if let Some(e) = etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    let res = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap().to_vec();
    (status, headers, body)
}

fn header_of(h: &axum::http::HeaderMap, name: header::HeaderName) -> &str {
    h.get(&name).map_or("", |v| v.to_str().unwrap())
}

/// The z15 tile over Kangle's middle.
const TILE: &str = "15/27135/14082";

#[tokio::test]
async fn the_style_and_tilejson_point_at_the_served_versions_immutable_urls() {
    let (app, _state, _store, _dir) = service(Limits::default()).await;
    let (status, h, body) = get(&app, "/style.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let style: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(style["sources"]["wangge"]["url"], "http://maps.example/v/1/tiles.json");
    assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-cache");
    let etag = header_of(&h, header::ETAG).to_string();
    assert!(etag.starts_with('"'), "style ETag {etag:?}");
    let (status, _, body) = get(&app, "/style.json", Some(&etag)).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));

    for uri in ["/tiles.json", "/v/1/tiles.json"] {
        let (status, h, body) = get(&app, uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let tj: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(tj["tiles"][0], "http://maps.example/v/1/tiles/{z}/{x}/{y}.mvt", "{uri}");
        let cache = if uri == "/tiles.json" {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        assert_eq!(header_of(&h, header::CACHE_CONTROL), cache, "{uri}");
        let etag = header_of(&h, header::ETAG).to_string();
        assert_eq!(get(&app, uri, Some(&etag)).await.0, StatusCode::NOT_MODIFIED, "{uri}");
    }

    // A versioned tile: the same bytes as the unversioned one, immutable, 304 on its ETag.
    for file in ["mvt", "png"] {
        let (status, h, versioned) = get(&app, &format!("/v/1/tiles/{TILE}.{file}"), None).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(
            header_of(&h, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        let etag = header_of(&h, header::ETAG).to_string();
        let (_, plain_h, plain) = get(&app, &format!("/tiles/{TILE}.{file}"), None).await;
        assert_eq!(versioned, plain, "{file}: the versioned tile is the served one");
        assert_eq!(header_of(&plain_h, header::CACHE_CONTROL), "public, max-age=60");
        let (status, _, body) = get(&app, &format!("/v/1/tiles/{TILE}.{file}"), Some(&etag)).await;
        assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0), "{file}");
    }
    let (status, _, _) = get(&app, &format!("/v/1/tiles/{TILE}@2x.png"), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_replica_gives_a_versions_tile_the_same_etag() {
    let (app, _state, store, _dir) = service(Limits::default()).await;
    // A second service on the same version (another replica): its own snapshot and tile cache.
    let published = store.published(None).await.unwrap().unwrap();
    let other = router(AppState::with_store(
        Snapshot::published(&published),
        store.clone(),
        Some(Token::new(TOKEN).unwrap()),
        Limits::default(),
    ));
    let uri = format!("/v/1/tiles/{TILE}.mvt");
    let (_, a, a_body) = get(&app, &uri, None).await;
    let (_, b, b_body) = get(&other, &uri, None).await;
    assert_eq!(a_body, b_body);
    assert_eq!(header_of(&a, header::ETAG), header_of(&b, header::ETAG));
    assert_eq!(
        get(&other, &uri, Some(header_of(&a, header::ETAG))).await.0,
        StatusCode::NOT_MODIFIED
    );
}

#[tokio::test]
async fn versions_not_served_answer_clearly_and_are_never_cached() {
    let (app, state, store, _dir) = service(Limits::default()).await;
    let (_, _, v1_tile) = get(&app, &format!("/v/1/tiles/{TILE}.mvt"), None).await;
    // Two publishes through this service (rollbacks: a new number each).
    for n in [2, 3] {
        let (status, body) = call(&app, Method::POST, "/v1/versions/1/rollback", Some(TOKEN), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(state.current().version, Some(n));
        let (_, _, style) = get(&app, "/style.json", None).await;
        let style: serde_json::Value = serde_json::from_slice(&style).unwrap();
        assert_eq!(
            style["sources"]["wangge"]["url"],
            format!("http://maps.example/v/{n}/tiles.json")
        );
    }
    // The version before the current one is still served, as it was (clients mid-switch).
    let (status, h, v2_tile) = get(&app, &format!("/v/2/tiles/{TILE}.mvt"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v2_tile, v1_tile, "a rollback of version 1 draws the same tile");
    assert!(header_of(&h, header::CACHE_CONTROL).contains("immutable"));

    let problem = |body: &[u8]| serde_json::from_slice::<serde_json::Value>(body).unwrap();
    // Older: gone, naming the current version and its TileJSON.
    let (status, h, body) = get(&app, &format!("/v/1/tiles/{TILE}.mvt"), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(header_of(&h, header::CONTENT_TYPE), "application/problem+json");
    assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-store");
    let p = problem(&body);
    assert_eq!(p["code"], "version_gone");
    assert_eq!(p["current_version"], 3);
    assert_eq!(p["tilejson"], "http://maps.example/v/3/tiles.json");
    assert_eq!(get(&app, "/v/1/tiles.json", None).await.0, StatusCode::GONE);

    // Never published: 404. Not a number: 400. Both no-store.
    for (uri, status, code) in [
        (
            format!("/v/9/tiles/{TILE}.mvt"),
            StatusCode::NOT_FOUND,
            "no_such_version",
        ),
        (
            format!("/v/0/tiles/{TILE}.mvt"),
            StatusCode::NOT_FOUND,
            "no_such_version",
        ),
        (
            format!("/v/latest/tiles/{TILE}.mvt"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/v/3/tiles/15/1/x.mvt".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let (got, h, body) = get(&app, &uri, None).await;
        assert_eq!(got, status, "{uri}");
        assert_eq!(problem(&body)["code"], code, "{uri}");
        if uri.starts_with("/v/3/") {
            continue; // a bad tile name of a served version: as /tiles/ answers it
        }
        assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-store", "{uri}");
    }

    // Published in the store but not yet loaded by this service (a replica a moment behind the
    // one that served the style): 503, retry in a second.
    planner::rollback(&store, 1, None).await.unwrap();
    let (status, h, body) = get(&app, &format!("/v/4/tiles/{TILE}.mvt"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem(&body)["code"], "version_not_loaded");
    assert_eq!(problem(&body)["current_version"], 3);
    assert_eq!(header_of(&h, header::RETRY_AFTER), "1");
    assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn healthz_says_the_services_role() {
    let (app, _state, _store, _dir) = service(Limits::default()).await;
    let (status, _, body) = get(&app, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["role"], "primary");
}
