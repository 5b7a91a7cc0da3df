//! The tile service in process: TileJSON, style and everything it refers to, tiles with caching
//! and compression, and every bad request answered with a problem body.

use api::serve::{AppState, router};
use api::snapshot::Snapshot;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gis_core::bounds::SizeBounds;
use gis_core::partition::{PartitionOptions, partition};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

fn served(name: &str, bounds: SizeBounds) -> Snapshot {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name);
    let d = gis_core::io::load_dataset(&dir).unwrap().dataset;
    let options = PartitionOptions {
        bounds,
        micro: Some(PartitionOptions::default_micro()),
        ..PartitionOptions::default()
    };
    let p = partition(&d, &options, &mut |_, _| {});
    Snapshot::new(d, p.grids, bounds)
}

async fn get(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri).header(header::HOST, "maps.example:8080");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap().to_vec();
    (status, headers, body)
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

#[tokio::test]
async fn tilejson_style_glyphs_and_sprites_fit_together() {
    let state = AppState::new(served("kangle", SizeBounds::default()));
    let app = router(state);
    let (s, _, body) = get(&app, "/healthz", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&body)["status"], "ok");

    let (s, _, body) = get(&app, "/tiles.json", &[]).await;
    assert_eq!(s, StatusCode::OK);
    let tj = json(&body);
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["tiles"][0], "http://maps.example:8080/tiles/{z}/{x}/{y}.mvt");
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    for l in [
        "communities",
        "grids",
        "micro_grids",
        "buildings",
        "resources",
        "roads",
        "density",
        "grid_labels",
        "community_labels",
        "compound_labels",
        "building_labels",
        "road_names",
    ] {
        assert!(layers.contains(&l), "{l}");
    }
    let zooms = |id: &str| {
        let l = tj["vector_layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .unwrap();
        (l["minzoom"].as_u64().unwrap(), l["maxzoom"].as_u64().unwrap())
    };
    assert_eq!(zooms("compound_labels"), (15, 16));
    assert_eq!(zooms("building_labels"), (16, 16));
    assert_eq!(zooms("road_names"), (14, 16));
    assert!(
        tj["vector_layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == "grid_labels")
            .unwrap()["fields"]["community"]
            == "String"
    );

    let (s, _, body) = get(&app, "/style.json", &[]).await;
    assert_eq!(s, StatusCode::OK);
    let style = json(&body);
    assert_eq!(style["version"], 8);
    assert_eq!(style["sources"]["wangge"]["url"], "http://maps.example:8080/tiles.json");
    // Every label layer reads a layer the tiles carry, from a zoom they carry it at (or past the
    // deepest, over-zoomed): road names along the roads from z14, compound names from z15,
    // building numbers from z17.
    let style_layer = |id: &str| {
        style["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .unwrap()
            .clone()
    };
    for (id, source, from) in [
        ("road-label", "road_names", 14),
        ("compound-label", "compound_labels", 15),
        ("building-label", "building_labels", 17),
        ("grid-label", "grid_labels", 13),
    ] {
        let l = style_layer(id);
        assert_eq!(
            (l["type"].as_str(), l["source-layer"].as_str()),
            (Some("symbol"), Some(source)),
            "{id}"
        );
        assert_eq!(l["minzoom"], from, "{id}");
        let (min, max) = zooms(source);
        assert!(
            from >= min && (from <= max || max == tj["maxzoom"].as_u64().unwrap()),
            "{id} from z{from}: {source} is in z{min}–{max}"
        );
    }
    assert_eq!(style_layer("road-label")["layout"]["symbol-placement"], "line");
    // Symbols placed from the top of the style down: grid labels, icons, compounds, roads, numbers,
    // and last the urban village's resident counts beside their dots.
    let order: Vec<&str> = style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["type"] == "symbol")
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "population-count",
            "building-label",
            "road-label",
            "compound-label",
            "resources",
            "grid-label",
            "community-label"
        ]
    );
    // Every font the style names is served, and the sprite holds every resource kind.
    let mut fonts = std::collections::BTreeSet::new();
    for l in style["layers"].as_array().unwrap() {
        if let Some(f) = l["layout"]["text-font"].as_array() {
            fonts.extend(f.iter().map(|x| x.as_str().unwrap().to_string()));
        }
    }
    assert!(!fonts.is_empty());
    for f in &fonts {
        let (s, h, body) = get(&app, &format!("/fonts/{}/0-255.pbf", f.replace(' ', "%20")), &[]).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(h[header::CONTENT_TYPE], "application/x-protobuf");
        assert!(body.len() > 1000);
    }
    for ratio in ["", "@2x"] {
        let (s, _, body) = get(&app, &format!("/sprites/sprite{ratio}.json"), &[]).await;
        assert_eq!(s, StatusCode::OK);
        let index = json(&body);
        for kind in gis_core::Resource::KNOWN_KINDS.iter().chain(&["dot"]) {
            assert!(index.get(kind).is_some(), "sprite lacks {kind}");
        }
        let (s, h, _) = get(&app, &format!("/sprites/sprite{ratio}.png"), &[]).await;
        assert_eq!(
            (s, h[header::CONTENT_TYPE].to_str().unwrap()),
            (StatusCode::OK, "image/png")
        );
    }
}

#[tokio::test]
async fn tiles_are_cached_with_etags_compressed_and_dropped_when_data_changes() {
    let state = AppState::new(served("kangle", SizeBounds::default()));
    let app = router(state.clone());
    let tj = {
        let (_, _, body) = get(&app, "/tiles.json", &[]).await;
        json(&body)
    };
    let (lon, lat) = (tj["center"][0].as_f64().unwrap(), tj["center"][1].as_f64().unwrap());
    let t = tiles::mercator::TileId::containing(15, tiles::mercator::world(geo::Coord { x: lon, y: lat }));
    let uri = format!("/tiles/{}/{}/{}.mvt", t.z, t.x, t.y);
    let (s, h, plain) = get(&app, &uri, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "application/vnd.mapbox-vector-tile");
    assert!(h[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    let (s, h, gz) = get(&app, &uri, &[("accept-encoding", "gzip")]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    assert!(gz.len() < plain.len());
    let (s, _, body) = get(&app, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    // PNG at 1x and 2x.
    for (suffix, px) in [(".png", 256u32), ("@2x.png", 512)] {
        let (s, h, body) = get(&app, &format!("/tiles/{}/{}/{}{suffix}", t.z, t.x, t.y), &[]).await;
        assert_eq!(
            (s, h[header::CONTENT_TYPE].to_str().unwrap()),
            (StatusCode::OK, "image/png")
        );
        let width = u32::from_be_bytes(body[16..20].try_into().unwrap());
        assert_eq!(width, px);
    }

    // New data (other bounds: the grids change) drops every cached tile at once.
    state.replace(served(
        "kangle",
        SizeBounds::new(1000, 1400, gis_core::bounds::SizeBasis::Residents).unwrap(),
    ));
    let (s, h, after) = get(&app, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(s, StatusCode::OK, "a stale ETag still matched after the data changed");
    assert_ne!(h[header::ETAG].to_str().unwrap(), etag);
    assert_ne!(after, plain);
}

#[tokio::test]
async fn bad_requests_get_problem_bodies() {
    let app = router(AppState::new(served("kangle", SizeBounds::default())));
    for (uri, status, says) in [
        ("/tiles/23/0/0.mvt", StatusCode::BAD_REQUEST, "zoom 23"),
        ("/tiles/2/4/0.mvt", StatusCode::BAD_REQUEST, "does not exist at zoom 2"),
        ("/tiles/2/0/9.png", StatusCode::BAD_REQUEST, "does not exist"),
        ("/tiles/z/0/0.mvt", StatusCode::BAD_REQUEST, "not a whole number"),
        ("/tiles/2/0/0.jpg", StatusCode::BAD_REQUEST, "not a tile name"),
        ("/tiles/2/0/-1.mvt", StatusCode::BAD_REQUEST, "not a tile name"),
        ("/fonts/Comic%20Sans/0-255.pbf", StatusCode::NOT_FOUND, "Comic Sans"),
        (
            "/fonts/DejaVu%20Sans%20Book/0-300.pbf",
            StatusCode::BAD_REQUEST,
            "0-300",
        ),
        ("/sprites/other.png", StatusCode::NOT_FOUND, "sprite"),
        ("/nothing/here", StatusCode::NOT_FOUND, "no such resource"),
    ] {
        let (s, h, body) = get(&app, uri, &[]).await;
        assert_eq!(s, status, "{uri}: {}", String::from_utf8_lossy(&body));
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json", "{uri}");
        let p = json(&body);
        assert_eq!(p["status"], status.as_u16());
        assert!(p["detail"].as_str().unwrap().contains(says), "{uri}: {}", p["detail"]);
    }
    let _ = Arc::new(());
}

#[tokio::test]
async fn lookups_answer_points_addresses_batches_and_nearest_resources() {
    let served = served("kangle", SizeBounds::default());
    let building = served
        .dataset
        .buildings
        .iter()
        .find(|b| b.address.is_some() && b.exclusive_unit.is_none())
        .unwrap()
        .clone();
    let expected = served
        .grids
        .iter()
        .find(|g| g.level == gis_core::grid::GridLevel::Grid && g.buildings.contains(&building.id))
        .unwrap()
        .code
        .clone();
    let app = router(AppState::new(served));
    let (lon, lat) = (building.anchor.x(), building.anchor.y());

    let (s, _, body) = get(&app, &format!("/v1/lookup?lon={lon}&lat={lat}"), &[]).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let answer = json(&body);
    assert_eq!(answer["code"], expected);
    assert!(answer["micro"]["code"].as_str().unwrap().starts_with(&expected));

    // The same point as an AMap (GCJ-02) user sends it.
    let g = gis_core::crs::wgs84_to_gcj02(geo::Coord { x: lon, y: lat });
    let (s, _, body) = get(&app, &format!("/v1/lookup?lon={}&lat={}&crs=gcj02", g.x, g.y), &[]).await;
    assert_eq!(
        (s, json(&body)["code"].clone()),
        (StatusCode::OK, Value::from(expected.clone()))
    );

    let address = building.address.clone().unwrap();
    let enc: String = address.bytes().map(|b| format!("%{b:02X}")).collect();
    let (s, _, body) = get(&app, &format!("/v1/lookup?address={enc}"), &[]).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let a = json(&body);
    assert_eq!(a["candidates"][0]["grid"]["code"], expected, "{a}");

    let (s, _, body) = get(
        &app,
        &format!("/v1/resources/nearest?lon={lon}&lat={lat}&kind=clinic,pharmacy&limit=3"),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let found = json(&body)["resources"].as_array().unwrap().clone();
    assert!(!found.is_empty() && found.len() <= 3);
    let d: Vec<f64> = found.iter().map(|r| r["distance_m"].as_f64().unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
    assert!(found.iter().all(|r| r["kind"] == "clinic" || r["kind"] == "pharmacy"));

    // A batch by POST: a point, an address, and a bad point answered on its own.
    let req = Request::post("/v1/lookup")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"items": [{"lon": lon, "lat": lat}, {"address": address}, {"lon": 500.0, "lat": 0.0}]})
                .to_string(),
        ))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let b = json(&axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap());
    assert_eq!(b["answers"][0]["grid"]["code"], expected);
    assert!(b["answers"][2]["error"].is_string());

    for (uri, status) in [
        ("/v1/lookup?lon=0&lat=0", StatusCode::NOT_FOUND),
        ("/v1/lookup?lon=200&lat=0", StatusCode::BAD_REQUEST),
        ("/v1/lookup?lon=abc&lat=0", StatusCode::BAD_REQUEST),
        ("/v1/lookup", StatusCode::BAD_REQUEST),
        (
            &format!("/v1/lookup?lon={lon}&lat={lat}&crs=utm"),
            StatusCode::BAD_REQUEST,
        ),
        ("/v1/resources/nearest?lon=118&lat=24&limit=0", StatusCode::BAD_REQUEST),
        (
            "/v1/resources/nearest?lon=118&lat=24&radius=-5",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, h, _) = get(&app, uri, &[]).await;
        assert_eq!(s, status, "{uri}");
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json", "{uri}");
    }
    let req = Request::post("/v1/lookup")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn nearest_resources_walk_the_roads_and_say_when_they_cannot() {
    let kangle = served("kangle", SizeBounds::default());
    let at = kangle.dataset.buildings[0].anchor;
    let app = router(AppState::new(kangle));
    let base = format!(
        "/v1/resources/nearest?lon={}&lat={}&kind=clinic,pharmacy",
        at.x(),
        at.y()
    );
    // Kangle has roads: by walk by default, with the straight line beside it.
    let (s, _, body) = get(&app, &format!("{base}&limit=3&route=true"), &[]).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let a = json(&body);
    assert_eq!(
        (a["by"].as_str(), a["speed_m_per_min"].as_f64()),
        (Some("walk"), Some(80.0))
    );
    let found = a["resources"].as_array().unwrap();
    assert_eq!(found.len(), 3);
    let walk: Vec<f64> = found.iter().map(|r| r["walk_m"].as_f64().unwrap()).collect();
    assert!(walk.windows(2).all(|w| w[0] <= w[1]), "nearest by walk first: {walk:?}");
    for r in found {
        let (w, st) = (r["walk_m"].as_f64().unwrap(), r["straight_m"].as_f64().unwrap());
        assert!(w + 0.01 >= st, "a walk is never shorter than the straight line: {r}");
        assert_eq!(r["distance_m"], r["walk_m"]);
        assert!((r["walk_min"].as_f64().unwrap() - w / 80.0).abs() <= 0.05);
        let line = r["route"]["coordinates"].as_array().unwrap();
        assert_eq!(r["route"]["type"], "LineString");
        assert_eq!(
            line[0],
            serde_json::json!([at.x(), at.y()]),
            "the route starts at the point"
        );
        assert_eq!(line.last().unwrap(), &r["location"], "and ends at the resource");
    }
    // A stated speed.
    let (_, _, body) = get(&app, &format!("{base}&limit=1&speed=40"), &[]).await;
    let r = &json(&body)["resources"][0];
    assert!((r["walk_min"].as_f64().unwrap() - r["walk_m"].as_f64().unwrap() / 40.0).abs() <= 0.05);
    // Straight when asked: great-circle metres, and said so.
    let (_, _, body) = get(&app, &format!("{base}&limit=3&by=straight"), &[]).await;
    let a = json(&body);
    assert_eq!(a["by"], "straight");
    assert!(a["note"].as_str().unwrap().contains("straight-line"));
    assert!(
        a["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["walk_m"].is_null() && r["straight_m"] == r["distance_m"])
    );
    // Bad `by` and `speed`: problem bodies with their codes.
    for (q, code) in [
        ("&by=car", "invalid_by"),
        ("&speed=0", "invalid_speed"),
        ("&speed=500", "invalid_speed"),
    ] {
        let (s, h, body) = get(&app, &format!("{base}{q}"), &[]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json", "{q}");
        assert_eq!(json(&body)["code"], code, "{q}");
    }
    // A network in two pieces: the places in the other piece are still answered, by straight
    // line, marked unreachable on foot, after those walked to; the answer says so.
    let kangle = served("kangle", SizeBounds::default());
    let mut split = (*kangle.dataset).clone();
    let road = |id: &str, x: f64| gis_core::model::Road {
        id: id.into(),
        name: None,
        class: None,
        line: geo::MultiLineString(vec![geo::LineString::from(vec![(x, 24.5000), (x, 24.5105)])]),
    };
    split.roads = vec![road("west", 118.1110), road("east", 118.1190)];
    let all = split.resources.len();
    let split = Snapshot::new(split, kangle.grids.clone(), SizeBounds::default());
    let app_split = router(AppState::new(split));
    let (s, _, body) = get(
        &app_split,
        &format!("/v1/resources/nearest?lon=118.1111&lat=24.505&limit={all}"),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let a = json(&body);
    let found = a["resources"].as_array().unwrap();
    assert_eq!(found.len(), all, "every place is answered: {a}");
    let walked = found.iter().take_while(|r| r["walk_m"].is_number()).count();
    assert!(walked > 0 && walked < all, "{walked} of {all} walked to");
    for r in &found[walked..] {
        assert_eq!(r["reachable_on_foot"], false, "{r}");
        assert!(r["walk_m"].is_null() && r["straight_m"] == r["distance_m"], "{r}");
    }
    assert!(a["note"].as_str().unwrap().contains("cannot be reached"), "{a}");
    // Within a radius, a walk's radius: nothing unreachable is added.
    let (_, _, body) = get(
        &app_split,
        &format!("/v1/resources/nearest?lon=118.1111&lat=24.505&limit={all}&radius=5000"),
        &[],
    )
    .await;
    let a = json(&body);
    assert!(
        a["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["walk_m"].is_number()),
        "{a}"
    );
    // A dataset with no roads: straight lines, and the answer says why.
    let kangle = served("kangle", SizeBounds::default());
    let mut bare = (*kangle.dataset).clone();
    bare.roads.clear();
    let bare = Snapshot::new(bare, kangle.grids.clone(), SizeBounds::default());
    assert!(bare.walk.is_none());
    let (s, _, body) = get(&router(AppState::new(bare)), &format!("{base}&limit=2"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    let a = json(&body);
    assert_eq!(a["by"], "straight");
    assert!(a["note"].as_str().unwrap().contains("no roads"), "{a}");
}

#[tokio::test]
async fn metrics_count_requests_and_tiles() {
    let app = router(AppState::new(served("kangle", SizeBounds::default())));
    for _ in 0..2 {
        let (s, _, _) = get(&app, "/tiles/15/27135/14082.mvt", &[]).await;
        assert_eq!(s, StatusCode::OK);
    }
    let _ = get(&app, "/tiles/99/0/0.mvt", &[]).await;
    let (s, h, body) = get(&app, "/metrics", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("wangge_http_requests_total{route=\"/tiles/{z}/{x}/{file}\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("wangge_http_requests_total{route=\"/tiles/{z}/{x}/{file}\",status=\"400\"} 1"),
        "{text}"
    );
    assert!(text.contains("wangge_tile_renders_total 1"), "{text}");
    assert!(text.contains("wangge_tile_cache_hits_total 1"), "{text}");
    let index: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("wangge_snapshot_index_seconds "))
        .expect("the snapshot's index time")
        .parse()
        .unwrap();
    assert!(index > 0.0, "{text}");
    // Not from a store: no load time to report.
    assert!(!text.contains("wangge_snapshot_load_seconds"), "{text}");
}

/// `GET /v1/suggest` as the web map's search box calls it: good and bad parameters, the limit's
/// bounds, and what choosing a suggestion opens (`/v1/lookup?building=` and `?grid=`).
#[tokio::test]
async fn suggestions_as_people_type_and_what_choosing_one_opens() {
    let app = router(AppState::new(served("kangle", SizeBounds::default())));
    let q = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let (s, _, body) = get(&app, &format!("/v1/suggest?q={}", q("康乐")), &[]).await;
    assert_eq!(s, StatusCode::OK);
    let list = json(&body)["suggestions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 8, "default limit");
    assert_eq!(list[0]["kind"], "community");
    assert_eq!(list[0]["match"], "exact");
    assert_eq!(list[0]["label"], "康乐社区");
    assert_eq!(list[0]["community_code"], "350206001017");

    // A building address: its id opens its grid card, the same grid as the address lookup.
    let (_, _, body) = get(&app, &format!("/v1/suggest?q={}&limit=3", q("嘉禾公寓3")), &[]).await;
    let first = json(&body)["suggestions"][0].clone();
    assert_eq!(first["kind"], "address");
    assert_eq!(first["label"], "嘉禾公寓3号楼");
    let (s, _, body) = get(
        &app,
        &format!("/v1/lookup?building={}", first["building"].as_str().unwrap()),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let chosen = json(&body);
    assert_eq!(chosen["ambiguous"], false);
    assert_eq!(chosen["candidates"][0]["level"], "building");
    assert_eq!(chosen["candidates"][0]["grid"]["code"], first["grid"]);
    let (_, _, body) = get(&app, &format!("/v1/lookup?address={}", q("嘉禾公寓3号楼")), &[]).await;
    assert_eq!(json(&body)["candidates"][0]["grid"]["code"], first["grid"]);
    let (s, _, body) = get(&app, "/v1/lookup?building=no-such-building", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["code"], "no_such_building");

    // A grid code: the grid with its staff.
    let code = first["grid"].as_str().unwrap().to_string();
    let (_, _, body) = get(&app, &format!("/v1/suggest?q={code}"), &[]).await;
    let g = json(&body)["suggestions"][0].clone();
    assert_eq!(
        (g["kind"].as_str(), g["grid"].as_str()),
        (Some("grid"), Some(code.as_str()))
    );
    let (s, _, body) = get(&app, &format!("/v1/lookup?grid={code}"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    let grid = json(&body);
    assert_eq!(grid["code"], code.as_str());
    assert!(grid["micro"].is_null());
    assert!(
        !grid["staff"].as_array().unwrap().is_empty(),
        "kangle's grids have workers"
    );
    let (s, _, body) = get(&app, "/v1/lookup?grid=350206001017999", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["code"], "no_such_grid");

    // Pinyin initials, and a query matching nothing: an empty list, not an error.
    let (_, _, body) = get(&app, "/v1/suggest?q=klzs", &[]).await;
    let r = json(&body)["suggestions"][0].clone();
    assert_eq!(
        (r["kind"].as_str(), r["label"].as_str(), r["match"].as_str()),
        (Some("resource"), Some("康乐诊所"), Some("initials"))
    );
    assert_eq!(r["resource_kind"], "clinic");
    let (s, _, body) = get(&app, &format!("/v1/suggest?q={}", q("北京市朝阳区")), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&body)["suggestions"], serde_json::json!([]));

    // The limit's bounds.
    for (limit, n) in [("1", 1), ("20", 20), (" 5", 5)] {
        let (s, _, body) = get(&app, &format!("/v1/suggest?q={}&limit={}", q("康乐"), q(limit)), &[]).await;
        assert_eq!(s, StatusCode::OK, "limit {limit}");
        assert_eq!(json(&body)["suggestions"].as_array().unwrap().len(), n, "limit {limit}");
    }
    for (uri, code) in [
        ("/v1/suggest".to_string(), "missing_query"),
        ("/v1/suggest?q=".to_string(), "empty_query"),
        (format!("/v1/suggest?q={}", q("  ")), "empty_query"),
        (format!("/v1/suggest?q={}", "a".repeat(101)), "query_too_long"),
        ("/v1/suggest?q=a&limit=0".to_string(), "invalid_limit"),
        ("/v1/suggest?q=a&limit=21".to_string(), "invalid_limit"),
        ("/v1/suggest?q=a&limit=-1".to_string(), "invalid_limit"),
        ("/v1/suggest?q=a&limit=many".to_string(), "invalid_limit"),
    ] {
        let (s, headers, body) = get(&app, &uri, &[]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json", "{uri}");
        let p = json(&body);
        assert_eq!(p["code"], code, "{uri}: {p}");
        assert!(!p["detail"].as_str().unwrap().is_empty());
    }
    // 100 characters are accepted.
    let (s, _, _) = get(&app, &format!("/v1/suggest?q={}", "a".repeat(100)), &[]).await;
    assert_eq!(s, StatusCode::OK);

    // The placeholder's example is an address of the served data, and it suggests its building.
    let (_, _, body) = get(&app, "/tiles.json", &[]).await;
    let example = json(&body)["search_example"].as_str().unwrap().to_string();
    let (_, _, body) = get(&app, &format!("/v1/suggest?q={}&limit=1", q(&example)), &[]).await;
    let s = json(&body)["suggestions"][0].clone();
    assert_eq!(
        (s["kind"].as_str(), s["match"].as_str()),
        (Some("address"), Some("exact"))
    );
    assert!(s["address"].as_str().unwrap().ends_with(&example));

    // The route is documented.
    let (_, _, body) = get(&app, "/openapi.json", &[]).await;
    let doc = json(&body);
    let params: Vec<&str> = doc["paths"]["/v1/suggest"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["q", "limit"]);
    assert!(doc["paths"]["/v1/suggest"]["get"]["responses"]["400"].is_object());
}

/// The point lookup answered outside the middleware stack (`lon` and `lat` only) gives the same
/// status, headers, body and metrics as the full stack (`crs=wgs84` added sends it there): on
/// every vertex of every grid and micro-grid, points near them, and points outside every grid.
#[tokio::test]
async fn the_short_path_for_point_lookups_answers_as_the_full_stack() {
    let snapshot = served("kangle", SizeBounds::default());
    let mut points: Vec<(f64, f64)> = vec![(0.0, 0.0), (118.0, 24.0), (-0.0, 1e-300)];
    for g in &snapshot.grids {
        for p in &g.area.0 {
            for c in p.exterior().0.iter().step_by(3) {
                points.push((c.x, c.y));
                points.push((c.x + 3e-6, c.y - 2e-6));
                points.push((c.x - 1e-5, c.y + 1e-5));
            }
        }
    }
    let app = router(AppState::new(snapshot));
    let (mut found, mut outside, mut inside) = (0, 0, None);
    for (lon, lat) in &points {
        let short = get(&app, &format!("/v1/lookup?lon={lon}&lat={lat}"), &[]).await;
        let full = get(&app, &format!("/v1/lookup?lon={lon}&lat={lat}&crs=wgs84"), &[]).await;
        assert_eq!(short.0, full.0, "({lon}, {lat})");
        assert_eq!(short.1, full.1, "({lon}, {lat})");
        assert_eq!(short.2, full.2, "({lon}, {lat})");
        match short.0 {
            StatusCode::OK => {
                found += 1;
                inside = Some((*lon, *lat));
            }
            StatusCode::NOT_FOUND => outside += 1,
            s => panic!("{s} for ({lon}, {lat})"),
        }
    }
    assert!(found > 100 && outside > 10, "{found} found, {outside} outside");
    // With an Origin, and asking for gzip (the full stack compresses): the same as the stack.
    let (lon, lat) = inside.expect("a point in a grid");
    let short = get(
        &app,
        &format!("/v1/lookup?lon={lon}&lat={lat}"),
        &[("origin", "http://x.example")],
    )
    .await;
    let full = get(
        &app,
        &format!("/v1/lookup?lat={lat}&lon={lon}&crs=wgs84"),
        &[("origin", "http://x.example")],
    )
    .await;
    assert_eq!((short.0, short.1, short.2), (full.0, full.1, full.2));
    let (_, h, _) = get(
        &app,
        &format!("/v1/lookup?lon={lon}&lat={lat}"),
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    // Bad points, repeated or percent-encoded parameters: the stack's answers.
    for (uri, status) in [
        ("/v1/lookup?lon=200&lat=0", StatusCode::BAD_REQUEST),
        ("/v1/lookup?lon=NaN&lat=0", StatusCode::BAD_REQUEST),
        ("/v1/lookup?lon=1&lon=2&lat=0", StatusCode::BAD_REQUEST),
        ("/v1/lookup?lon=%31%31%38&lat=24", StatusCode::NOT_FOUND),
        ("/v1/lookup?lon=&lat=0", StatusCode::BAD_REQUEST),
    ] {
        let (s, h, _) = get(&app, uri, &[]).await;
        assert_eq!(s, status, "{uri}");
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json", "{uri}");
    }
    // Every request counted under its route, whichever path answered it.
    let (_, _, body) = get(&app, "/metrics", &[]).await;
    let text = String::from_utf8(body).unwrap();
    let count = |status: &str| -> usize {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "wangge_http_requests_total{{route=\"/v1/lookup\",status=\"{status}\"}} "
                ))
            })
            .map_or(0, |n| n.parse().unwrap())
    };
    assert_eq!(count("200"), 2 * found + 3, "{text}");
    assert_eq!(count("404"), 2 * outside + 1, "{text}");
    assert_eq!(count("400"), 4, "{text}");
}
