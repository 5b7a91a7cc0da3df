//! OGC API – Features: every endpoint and every refusal in process, paging that walks each
//! collection exactly once, bbox answers checked against geo's own `Intersects`, and GDAL's OAPIF
//! driver (`ogr2ogr`) reading the real `wangge serve` over HTTP.

use api::serve::{AppState, router};
use api::snapshot::Snapshot;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use geo::{Coord, Intersects, LineString, MultiPolygon, Polygon, Rect};
use gis_core::bounds::SizeBounds;
use gis_core::grid::GridLevel;
use gis_core::partition::{PartitionOptions, partition};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower::ServiceExt;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

/// Kangle, partitioned with micro-grids once for every test here.
fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let d = gis_core::io::load_dataset(&fixture("kangle")).unwrap().dataset;
            let bounds = SizeBounds::default();
            let options = PartitionOptions {
                bounds,
                micro: Some(PartitionOptions::default_micro()),
                ..PartitionOptions::default()
            };
            let p = partition(&d, &options, &mut |_, _| {});
            AppState::new(Snapshot::new(d, p.grids, bounds))
        })
        .clone()
}

async fn get(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let app = router(state());
    let req = Request::get(uri)
        .header(header::HOST, "maps.example:8080")
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(res.into_body(), 256 << 20).await.unwrap().to_vec();
    (status, kind, body)
}

async fn get_json(uri: &str, want: &str) -> Value {
    let (s, kind, body) = get(uri).await;
    assert_eq!(s, StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&body));
    assert_eq!(kind, want, "{uri}");
    serde_json::from_slice(&body).unwrap()
}

/// The link of relation `rel`, made relative to the test host.
fn link(v: &Value, rel: &str) -> Option<String> {
    v["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == rel)
        .map(|l| l["href"].as_str().unwrap().replace("http://maps.example:8080", ""))
}

async fn refused(uri: &str, status: StatusCode, says: &str) {
    let (s, kind, body) = get(uri).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(s, status, "{uri}: {text}");
    assert_eq!(kind, "application/problem+json", "{uri}");
    let p: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["status"], status.as_u16());
    assert!(
        p["detail"].as_str().unwrap().contains(says),
        "{uri}: {text} lacks {says:?}"
    );
}

fn codes(fc: &Value, key: &str) -> Vec<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"][key].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn landing_conformance_and_collections() {
    for uri in ["/", "/?f=json"] {
        let v = get_json(uri, "application/json").await;
        assert!(v["title"].is_string() && v["description"].is_string());
        let descs: Vec<(&str, &str)> = v["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["rel"] == "service-desc")
            .map(|l| {
                (
                    l["href"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches("http://maps.example:8080"),
                    l["type"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            descs,
            [
                ("/openapi-3.0.json", "application/vnd.oai.openapi+json;version=3.0"),
                ("/openapi.json", "application/vnd.oai.openapi+json;version=3.1")
            ]
        );
        assert_eq!(link(&v, "conformance").unwrap(), "/conformance");
        assert_eq!(link(&v, "data").unwrap(), "/collections");
        assert!(link(&v, "self").is_some());
    }
    let v = get_json("/conformance", "application/json").await;
    let classes: Vec<&str> = v["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in ["core", "geojson", "oas30"] {
        assert!(
            classes.contains(&format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}").as_str()),
            "{c}"
        );
    }

    let v = get_json("/collections", "application/json").await;
    let ids: Vec<&str> = v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["communities", "grids", "micro_grids", "buildings", "resources"]);
    for id in ids {
        let c = get_json(&format!("/collections/{id}"), "application/json").await;
        assert_eq!(c["id"], id);
        assert_eq!(c["itemType"], "feature");
        assert_eq!(c["crs"][0], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        let b: Vec<f64> = c["extent"]["spatial"]["bbox"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        // Kangle is in Xiamen: longitude about 118.1, latitude about 24.5.
        assert!(
            b[0] > 118.0 && b[2] < 118.2 && b[1] > 24.4 && b[3] < 24.6 && b[0] < b[2] && b[1] < b[3],
            "{id}: {b:?}"
        );
        assert_eq!(link(&c, "items").unwrap(), format!("/collections/{id}/items"));
        let items = c["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "items")
            .unwrap();
        assert_eq!(items["type"], "application/geo+json");
    }

    // Every endpoint is in the API definition, under the features tag.
    let api = get_json("/openapi.json", "application/vnd.oai.openapi+json;version=3.1").await;
    for p in [
        "/",
        "/conformance",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
    ] {
        assert_eq!(api["paths"][p]["get"]["tags"][0], "features", "{p}");
    }
    let params: Vec<&str> = api["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["bbox", "bbox-crs", "limit", "offset"] {
        assert!(params.contains(&p), "{p} in {params:?}");
    }
}

#[tokio::test]
async fn paging_walks_every_item_exactly_once() {
    let s = state().current();
    for (collection, key, expected) in [
        (
            "grids",
            "code",
            s.grids
                .iter()
                .filter(|g| g.level == GridLevel::Grid)
                .map(|g| g.code.clone())
                .collect::<Vec<_>>(),
        ),
        (
            "micro_grids",
            "code",
            s.grids
                .iter()
                .filter(|g| g.level == GridLevel::Micro)
                .map(|g| g.code.clone())
                .collect(),
        ),
        (
            "buildings",
            "id",
            s.dataset.buildings.iter().map(|b| b.id.clone()).collect(),
        ),
        (
            "resources",
            "id",
            s.dataset.resources.iter().map(|r| r.id.clone()).collect(),
        ),
        (
            "communities",
            "code",
            s.dataset.communities.iter().map(|c| c.code.to_string()).collect(),
        ),
    ] {
        let mut expected = expected;
        expected.sort();
        for limit in [3, 10] {
            let mut seen = Vec::new();
            let mut next = Some(format!("/collections/{collection}/items?limit={limit}"));
            let mut pages = 0;
            let mut previous_self: Option<String> = None;
            while let Some(uri) = next {
                let fc = get_json(&uri, "application/geo+json").await;
                assert_eq!(fc["type"], "FeatureCollection");
                assert_eq!(fc["numberMatched"], expected.len(), "{uri}");
                let page = codes(&fc, key);
                assert_eq!(fc["numberReturned"], page.len(), "{uri}");
                assert!(page.len() <= limit);
                assert!(fc["timeStamp"].as_str().unwrap().ends_with('Z'));
                // The feature id is the code or id, and prev leads back to the page before.
                for f in fc["features"].as_array().unwrap() {
                    assert_eq!(f["id"], f["properties"][key]);
                }
                if let Some(p) = &previous_self {
                    let back = link(&fc, "prev").expect("a prev link after the first page");
                    let a = get_json(&back, "application/geo+json").await;
                    let b = get_json(p, "application/geo+json").await;
                    assert_eq!(codes(&a, key), codes(&b, key));
                } else {
                    assert!(link(&fc, "prev").is_none());
                }
                previous_self = link(&fc, "self");
                seen.extend(page);
                next = link(&fc, "next");
                pages += 1;
                assert!(pages <= expected.len() + 1, "paging does not end");
            }
            assert_eq!(
                seen, expected,
                "{collection} at limit {limit}: each item once, in id order"
            );
            assert_eq!(
                pages,
                expected.len().div_ceil(limit).max(1),
                "{collection} at limit {limit}"
            );
        }
    }
}

fn rect_polygon(b: [f64; 4]) -> Polygon<f64> {
    Rect::new(Coord { x: b[0], y: b[1] }, Coord { x: b[2], y: b[3] }).to_polygon()
}

/// Boxes to test: small ones around building corners, one across the middle, one around all.
fn boxes(served: &Snapshot) -> Vec<[f64; 4]> {
    let mut out = Vec::new();
    for b in served.dataset.buildings.iter().step_by(23) {
        let c = b.footprint.0[0].exterior().0[0];
        out.push([c.x - 0.0004, c.y - 0.0003, c.x + 0.0002, c.y + 0.0005]);
    }
    let all = served.features.extent(api::serve::features::Collection::Grids).unwrap();
    let (x, y) = (all.center().x, all.center().y);
    out.push([x - 0.001, y - 0.0005, x + 0.0005, y + 0.002]);
    out.push([
        all.min().x - 1.0,
        all.min().y - 1.0,
        all.max().x + 1.0,
        all.max().y + 1.0,
    ]);
    // Outside everything.
    out.push([
        all.max().x + 0.1,
        all.max().y + 0.1,
        all.max().x + 0.2,
        all.max().y + 0.2,
    ]);
    out
}

#[tokio::test]
async fn bbox_answers_equal_geo_intersects() {
    let s = state().current();
    for b in boxes(&s) {
        let poly = rect_polygon(b);
        let bbox = format!("{},{},{},{}", b[0], b[1], b[2], b[3]);
        for (collection, level) in [("grids", GridLevel::Grid), ("micro_grids", GridLevel::Micro)] {
            let want: Vec<String> = {
                let mut v: Vec<String> = s
                    .grids
                    .iter()
                    .filter(|g| g.level == level && g.area.intersects(&poly))
                    .map(|g| g.code.clone())
                    .collect();
                v.sort();
                v
            };
            let fc = get_json(
                &format!("/collections/{collection}/items?bbox={bbox}&limit=10000"),
                "application/geo+json",
            )
            .await;
            assert_eq!(codes(&fc, "code"), want, "{collection} bbox={bbox}");
            assert_eq!(fc["numberMatched"], want.len());
        }
        let mut want: Vec<String> = s
            .dataset
            .buildings
            .iter()
            .filter(|x| x.footprint.intersects(&poly))
            .map(|x| x.id.clone())
            .collect();
        want.sort();
        let fc = get_json(
            &format!("/collections/buildings/items?bbox={bbox}&limit=10000"),
            "application/geo+json",
        )
        .await;
        assert_eq!(codes(&fc, "id"), want, "buildings bbox={bbox}");
        let mut want: Vec<String> = s
            .dataset
            .resources
            .iter()
            .filter(|x| x.location.intersects(&poly))
            .map(|x| x.id.clone())
            .collect();
        want.sort();
        let fc = get_json(
            &format!("/collections/resources/items?bbox={bbox}&limit=10000"),
            "application/geo+json",
        )
        .await;
        assert_eq!(codes(&fc, "id"), want, "resources bbox={bbox}");
        // Six numbers: the heights are ignored.
        let fc6 = get_json(
            &format!(
                "/collections/resources/items?bbox={},{},-5,{},{},30&limit=10000",
                b[0], b[1], b[2], b[3]
            ),
            "application/geo+json",
        )
        .await;
        assert_eq!(codes(&fc6, "id"), want);
    }
    // A box meeting a grid's envelope but not the grid: some small box near a corner must exist
    // where envelopes and exact answers differ, or the test proves less than it claims.
    let differs = boxes(&s).iter().any(|b| {
        let poly = rect_polygon(*b);
        s.grids.iter().any(|g| {
            use geo::BoundingRect;
            g.area.bounding_rect().unwrap().to_polygon().intersects(&poly) && !g.area.intersects(&poly)
        })
    });
    assert!(differs, "no test box separates envelopes from geometry");
    // The bbox keeps going through the pages.
    let b = boxes(&s).into_iter().rev().nth(1).unwrap();
    let fc = get_json(
        &format!(
            "/collections/buildings/items?bbox={},{},{},{}&limit=2",
            b[0], b[1], b[2], b[3]
        ),
        "application/geo+json",
    )
    .await;
    if fc["numberMatched"].as_u64().unwrap() > 2 {
        assert!(link(&fc, "next").unwrap().contains("bbox="));
    }
}

#[tokio::test]
async fn items_by_id_and_property_filters() {
    let s = state().current();
    let g = s
        .grids
        .iter()
        .find(|g| g.level == GridLevel::Grid && !s.lookup.staff_of(&g.code).is_empty())
        .expect("a grid with staff");
    let f = get_json(&format!("/collections/grids/items/{}", g.code), "application/geo+json").await;
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["id"], g.code.as_str());
    let p = &f["properties"];
    assert_eq!(p["code"], g.code.as_str());
    assert_eq!(p["kind"], "basic");
    assert_eq!(p["level"], "grid");
    assert!(p["parent_code"].is_null());
    assert_eq!(p["community_code"], "350206001017");
    assert_eq!(p["population"], g.population);
    assert_eq!(p["households"], g.households);
    assert_eq!(p["building_count"], g.buildings.len());
    assert!(p["staff"].as_array().unwrap().iter().any(|x| x["role"] == "网格长"));
    assert!(f["geometry"]["type"] == "Polygon" || f["geometry"]["type"] == "MultiPolygon");
    assert_eq!(
        link(&f, "self").unwrap(),
        format!("/collections/grids/items/{}", g.code)
    );
    assert_eq!(link(&f, "collection").unwrap(), "/collections/grids");

    let m = s.grids.iter().find(|g| g.level == GridLevel::Micro).unwrap();
    let f = get_json(
        &format!("/collections/micro_grids/items/{}", m.code),
        "application/geo+json",
    )
    .await;
    assert_eq!(f["properties"]["parent_code"], m.parent_code.clone().unwrap());

    let b = &s.dataset.buildings[0];
    let f = get_json(
        &format!("/collections/buildings/items/{}", b.id),
        "application/geo+json",
    )
    .await;
    assert_eq!(f["properties"]["population"], b.population);
    assert_eq!(f["properties"]["address"], b.address.clone().unwrap());
    let holder = s
        .grids
        .iter()
        .find(|g| {
            g.level == GridLevel::Grid
                && g.buildings
                    .iter()
                    .any(|x| x == &b.id || x.starts_with(&format!("{}#", b.id)))
        })
        .unwrap();
    assert!(f["properties"]["grid_code"].as_str().unwrap().contains(&holder.code));

    let r = &s.dataset.resources[0];
    let f = get_json(
        &format!("/collections/resources/items/{}", r.id),
        "application/geo+json",
    )
    .await;
    assert_eq!(f["geometry"]["type"], "Point");
    assert_eq!(f["geometry"]["coordinates"][0], r.location.x());
    assert_eq!(f["properties"]["kind"], r.kind.as_str());
    assert!(
        f["properties"]["grid_code"]
            .as_str()
            .unwrap()
            .starts_with("350206001017")
    );

    let f = get_json("/collections/communities/items/350206001017", "application/geo+json").await;
    assert_eq!(f["properties"]["population"], 9241);
    assert_eq!(f["properties"]["buildings"], 188);
    assert_eq!(
        f["properties"]["grids"],
        s.grids.iter().filter(|g| g.level == GridLevel::Grid).count()
    );

    // Filters.
    let fc = get_json("/collections/grids/items?kind=exclusive", "application/geo+json").await;
    assert_eq!(
        fc["numberMatched"],
        s.grids
            .iter()
            .filter(|g| g.level == GridLevel::Grid && g.kind == gis_core::grid::GridKind::Exclusive)
            .count()
    );
    assert!(link(&fc, "self").unwrap().contains("kind=exclusive"));
    let fc = get_json(
        "/collections/buildings/items?community=350206001017&limit=1",
        "application/geo+json",
    )
    .await;
    assert_eq!(fc["numberMatched"], 188);
    assert!(link(&fc, "next").unwrap().contains("community=350206001017"));
    let fc = get_json(
        "/collections/buildings/items?community=110000000000",
        "application/geo+json",
    )
    .await;
    assert_eq!(fc["numberMatched"], 0);
    assert!(link(&fc, "next").is_none());
    let kind = &r.kind;
    let fc = get_json(
        &format!("/collections/resources/items?kind={kind}"),
        "application/geo+json",
    )
    .await;
    assert_eq!(
        fc["numberMatched"],
        s.dataset.resources.iter().filter(|x| &x.kind == kind).count()
    );

    // One page of everything; past the end is an empty page, not an error.
    let fc = get_json("/collections/buildings/items?limit=10000", "application/geo+json").await;
    assert_eq!(fc["numberReturned"], 188);
    let fc = get_json("/collections/buildings/items?offset=500", "application/geo+json").await;
    assert_eq!(fc["numberReturned"], 0);
    assert_eq!(fc["numberMatched"], 188);
    // Above the maximum is served as the maximum (the standard: not an error).
    let fc = get_json("/collections/grids/items?limit=10001", "application/geo+json").await;
    assert!(link(&fc, "self").unwrap().contains("limit=10000"));
    let fc = get_json(
        "/collections/grids/items?limit=99999999999999999999999",
        "application/geo+json",
    )
    .await;
    assert!(link(&fc, "self").unwrap().contains("limit=10000"));
    // From past the end, prev leads to the last page.
    let fc = get_json(
        "/collections/buildings/items?offset=500&limit=10",
        "application/geo+json",
    )
    .await;
    assert!(
        link(&fc, "prev").unwrap().ends_with("offset=178"),
        "{:?}",
        link(&fc, "prev")
    );
    get_json("/collections/grids/items?f=geojson", "application/geo+json").await;
}

#[tokio::test]
async fn bad_requests_are_problems() {
    use StatusCode as S;
    for (uri, says) in [
        ("/collections/grids/items?bbox=1,2,3", "4 or 6"),
        ("/collections/grids/items?bbox=1,2,3,4,5", "4 or 6"),
        ("/collections/grids/items?bbox=a,b,c,d", "numbers"),
        ("/collections/grids/items?bbox=", "numbers"),
        ("/collections/grids/items?bbox=118,NaN,119,25", "finite"),
        ("/collections/grids/items?bbox=118,inf,119,25", "finite"),
        ("/collections/grids/items?bbox=118,25,119,24", "southern"),
        ("/collections/grids/items?bbox=118,24,119,95", "latitudes"),
        ("/collections/grids/items?bbox=-190,24,119,25", "longitudes"),
        ("/collections/grids/items?bbox=179,24,-179,25", "antimeridian"),
        (
            "/collections/grids/items?bbox=118,24,119,25&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
            "latitudes",
        ),
        (
            "/collections/grids/items?bbox=118,24,119,25&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2000",
            "bbox-crs",
        ),
        (
            "/collections/grids/items?bbox=1,2,3e9,4&bbox-crs=EPSG:3857",
            "Web Mercator",
        ),
        (
            "/collections/grids/items?crs=EPSG:32650",
            "crs=\"EPSG:32650\" is not offered",
        ),
        ("/collections/grids/items?crs=", "is not offered"),
        (
            "/collections/grids/items/350206001017001?crs=urn:ogc:def:crs:EPSG::9999",
            "is not offered",
        ),
        ("/collections/grids/items?crs=EPSG:3857&crs=EPSG:4326", "more than once"),
        ("/collections/grids/items?limit=0", "minimum"),
        ("/collections/grids/items?limit=-3", "minimum"),
        ("/collections/grids/items?limit=abc", "whole number"),
        ("/collections/grids/items?limit=1.5", "whole number"),
        ("/collections/grids/items?offset=-1", "minimum"),
        ("/collections/grids/items?foo=1", "unknown query parameter \"foo\""),
        ("/collections/grids/items?limit=1&limit=2", "more than once"),
        (
            "/collections/communities/items?kind=basic",
            "unknown query parameter \"kind\"",
        ),
        ("/collections/grids/items?f=xml", "not offered"),
        (
            "/collections/grids/items/350206001017001?bbox=1,2,3,4",
            "unknown query parameter",
        ),
        ("/collections?limit=3", "unknown query parameter"),
        ("/conformance?x=1", "unknown query parameter"),
        ("/?f=xml", "not offered"),
    ] {
        refused(uri, S::BAD_REQUEST, says).await;
    }
    refused("/collections/streets", S::NOT_FOUND, "no collection").await;
    refused("/collections/streets/items", S::NOT_FOUND, "no collection").await;
    refused("/collections/streets/items/1", S::NOT_FOUND, "no collection").await;
    refused("/collections/grids/items/999999999999999", S::NOT_FOUND, "no item").await;
    refused("/collections/buildings/items/KL-B9999", S::NOT_FOUND, "no item").await;
    refused(
        "/collections/communities/items/350206001017001",
        S::NOT_FOUND,
        "no item",
    )
    .await;
}

async fn get_with_crs(uri: &str) -> (Value, String) {
    let app = router(state());
    let req = Request::get(uri)
        .header(header::HOST, "maps.example:8080")
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    let crs = res
        .headers()
        .get("content-crs")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(res.into_body(), 256 << 20).await.unwrap();
    (serde_json::from_slice(&body).unwrap(), crs)
}

/// Every position of a GeoJSON geometry, in order.
fn positions(g: &Value) -> Vec<[f64; 2]> {
    fn walk(v: &Value, out: &mut Vec<[f64; 2]>) {
        let a = v.as_array().unwrap();
        if let (Some(x), Some(y)) = (a.first().and_then(Value::as_f64), a.get(1).and_then(Value::as_f64)) {
            out.push([x, y]);
        } else {
            a.iter().for_each(|x| walk(x, out));
        }
    }
    let mut out = Vec::new();
    walk(&g["coordinates"], &mut out);
    out
}

const EPSG: &str = "http://www.opengis.net/def/crs/EPSG/0/";

#[tokio::test]
async fn part_2_serves_items_in_the_system_asked_for() {
    let v = get_json("/conformance", "application/json").await;
    assert!(
        v["conformsTo"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs")
    );
    let c = get_json("/collections/grids", "application/json").await;
    assert_eq!(c["storageCrs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    let listed: Vec<&str> = c["crs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for want in [
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        &format!("{EPSG}4326"),
        &format!("{EPSG}4490"),
        &format!("{EPSG}3857"),
        "urn:x-wangge:def:crs:GCJ-02",
        "urn:x-wangge:def:crs:BD-09",
    ] {
        assert!(listed.contains(&want), "{want} in {listed:?}");
    }

    let (base, header) = get_with_crs("/collections/buildings/items?limit=20").await;
    assert_eq!(header, "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>");
    let web = import::crs::Projected::from_epsg(3857).unwrap();
    for (asked, named) in [
        (format!("{EPSG}3857"), format!("{EPSG}3857")),
        ("EPSG:3857".to_string(), format!("{EPSG}3857")),
        (format!("{EPSG}4326"), format!("{EPSG}4326")),
        ("urn:ogc:def:crs:EPSG::4490".to_string(), format!("{EPSG}4490")),
        ("gcj02".to_string(), "urn:x-wangge:def:crs:GCJ-02".to_string()),
        (
            "urn:x-wangge:def:crs:BD-09".to_string(),
            "urn:x-wangge:def:crs:BD-09".to_string(),
        ),
    ] {
        let (fc, header) = get_with_crs(&format!("/collections/buildings/items?limit=20&crs={asked}")).await;
        assert_eq!(header, format!("<{named}>"), "{asked}");
        // The next page keeps the system.
        assert!(link(&fc, "next").unwrap().contains("crs="), "{asked}");
        for (a, b) in base["features"]
            .as_array()
            .unwrap()
            .iter()
            .zip(fc["features"].as_array().unwrap())
        {
            assert_eq!(a["id"], b["id"]);
            for (p, q) in positions(&a["geometry"]).into_iter().zip(positions(&b["geometry"])) {
                let want = match named.rsplit(['/', ':']).next().unwrap() {
                    "3857" => {
                        let w = web.forward(Coord { x: p[0], y: p[1] }).unwrap();
                        [w.x, w.y]
                    }
                    // EPSG's axis order for geographic systems: latitude first.
                    "4326" | "4490" => [p[1], p[0]],
                    "GCJ-02" => {
                        let g = gis_core::crs::wgs84_to_gcj02(Coord { x: p[0], y: p[1] });
                        [g.x, g.y]
                    }
                    _ => {
                        let g = gis_core::crs::Crs::Bd09.from_wgs84(Coord { x: p[0], y: p[1] });
                        [g.x, g.y]
                    }
                };
                assert!(
                    (q[0] - want[0]).abs() < 1e-6 && (q[1] - want[1]).abs() < 1e-6,
                    "{asked}: {q:?} vs {want:?}"
                );
            }
        }
    }

    // One item too, with its header.
    let s = state().current();
    let g = s.grids.iter().find(|g| g.level == GridLevel::Grid).unwrap();
    let (f, header) = get_with_crs(&format!("/collections/grids/items/{}?crs={EPSG}3857", g.code)).await;
    assert_eq!(header, format!("<{EPSG}3857>"));
    assert!(positions(&f["geometry"])[0][0] > 13_000_000.0, "{}", f["geometry"]);
    assert!(
        link(&f, "self")
            .unwrap()
            .ends_with("?crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F3857"),
        "{:?}",
        link(&f, "self")
    );

    // A bbox in another system selects what the same box in CRS84 selects.
    let all = s.features.extent(api::serve::features::Collection::Buildings).unwrap();
    let (x0, y0, x1, y1) = (
        all.min().x + 0.0004,
        all.min().y + 0.0003,
        all.center().x,
        all.center().y,
    );
    let ids = |fc: &Value| codes(fc, "id");
    let want = ids(&get_json(
        &format!("/collections/buildings/items?limit=10000&bbox={x0},{y0},{x1},{y1}"),
        "application/geo+json",
    )
    .await);
    assert!(!want.is_empty() && want.len() < 188, "{}", want.len());
    let (a, b) = (
        web.forward(Coord { x: x0, y: y0 }).unwrap(),
        web.forward(Coord { x: x1, y: y1 }).unwrap(),
    );
    let got = ids(&get_json(
        &format!(
            "/collections/buildings/items?limit=10000&bbox={},{},{},{}&bbox-crs={EPSG}3857",
            a.x, a.y, b.x, b.y
        ),
        "application/geo+json",
    )
    .await);
    assert_eq!(got, want);
    let got = ids(&get_json(
        &format!("/collections/buildings/items?limit=10000&bbox={y0},{x0},{y1},{x1}&bbox-crs={EPSG}4490"),
        "application/geo+json",
    )
    .await);
    assert_eq!(got, want);
    let (a, b) = (
        gis_core::crs::wgs84_to_gcj02(Coord { x: x0, y: y0 }),
        gis_core::crs::wgs84_to_gcj02(Coord { x: x1, y: y1 }),
    );
    let got = ids(&get_json(
        &format!(
            "/collections/buildings/items?limit=10000&bbox={},{},{},{}&bbox-crs=gcj02",
            a.x, a.y, b.x, b.y
        ),
        "application/geo+json",
    )
    .await);
    let (w, g): (BTreeSet<_>, BTreeSet<_>) = (want.iter().collect(), got.iter().collect());
    // The GCJ-02 box is the WGS-84 box shifted, give or take centimetres at its corners.
    assert!(w.symmetric_difference(&g).count() <= 1, "{want:?} vs {got:?}");
}

// ---- GDAL's OAPIF driver against the real server ------------------------------------------

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn http_json(addr: &str, path: &str) -> Value {
    let (status, body) = http_get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Successful item-page requests the server has answered so far, from `/metrics`.
fn item_requests(addr: &str) -> u64 {
    let (_, text) = http_get(addr, "/metrics");
    text.lines()
        .find(|l| {
            l.starts_with("wangge_http_requests_total{route=\"/collections/{collectionId}/items\",status=\"200\"}")
        })
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

fn polygons(geometry: &Value) -> MultiPolygon<f64> {
    let ring = |r: &Value| {
        LineString::from(
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                .collect::<Vec<_>>(),
        )
    };
    let poly = |p: &Value| {
        let rings = p.as_array().unwrap();
        Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    match geometry["type"].as_str().unwrap() {
        "Polygon" => MultiPolygon(vec![poly(&geometry["coordinates"])]),
        "MultiPolygon" => MultiPolygon(geometry["coordinates"].as_array().unwrap().iter().map(poly).collect()),
        t => panic!("not polygonal: {t}"),
    }
}

fn ogr2ogr(addr: &str, out: &Path, layer: &str, extra: &[String]) -> Vec<String> {
    let _ = std::fs::remove_file(out);
    let mut cmd = Command::new("ogr2ogr");
    cmd.args(["-f", "GeoJSON"])
        .arg(out)
        .arg(format!("OAPIF:http://{addr}"))
        .arg(layer)
        .args(["-oo", "PAGE_SIZE=10"])
        .args(extra);
    // Talk to the server directly, whatever proxy the machine is set up with.
    cmd.env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY");
    let run = cmd.output().expect("ogr2ogr runs");
    assert!(
        run.status.success(),
        "ogr2ogr {layer} {extra:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    let key = if layer.ends_with("grids") { "code" } else { "id" };
    let mut ids: Vec<String> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"][key].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn gdal_reads_the_service_page_by_page_and_by_bbox() {
    if Command::new("ogr2ogr").arg("--version").output().is_err() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("ogr2ogr (Debian gdal-bin) is not installed; CI needs it for the OGC API – Features test");
        }
        eprintln!(
            "\n!!! SKIPPED gdal_reads_the_service_page_by_page_and_by_bbox: ogr2ogr not found (apt-get install gdal-bin) !!!\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "serve",
            "--data",
            fixture("kangle").to_str().unwrap(),
            "--store",
            dir.path().join("w.db").to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut first = String::new();
    let mut lines = BufReader::new(stdout);
    lines.read_line(&mut first).unwrap();
    // Keep reading: a closed pipe would make the server's next println! panic and kill it.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let addr = first
        .split("http://")
        .nth(1)
        .expect("the address line")
        .trim()
        .to_string();
    let out = dir.path().join("out.json");

    // Every item at a page size of 10, and at least one request per page.
    for layer in ["grids", "micro_grids", "buildings"] {
        let matched = http_json(&addr, &format!("/collections/{layer}/items?limit=1"))["numberMatched"]
            .as_u64()
            .unwrap();
        assert!(matched > 0);
        let before = item_requests(&addr);
        let ids = ogr2ogr(&addr, &out, layer, &[]);
        let requests = item_requests(&addr) - before;
        assert_eq!(
            ids.len() as u64,
            matched,
            "{layer}: GDAL read {} of {matched}",
            ids.len()
        );
        assert_eq!(
            ids.iter().collect::<BTreeSet<_>>().len(),
            ids.len(),
            "{layer}: an item read twice"
        );
        assert!(
            requests >= matched.div_ceil(10),
            "{layer}: {requests} item requests for {matched} items at 10 a page"
        );
    }

    // A spatial filter: exactly the grids whose polygons meet the box, by geo's own test.
    let all = http_json(&addr, "/collections/grids/items?limit=10000");
    let grids: Vec<(String, MultiPolygon<f64>)> = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                polygons(&f["geometry"]),
            )
        })
        .collect();
    let ext = http_json(&addr, "/collections/grids")["extent"]["spatial"]["bbox"][0].clone();
    let e: Vec<f64> = ext.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let (w, h) = (e[2] - e[0], e[3] - e[1]);
    let mut differing = 0;
    for (fx0, fy0, fx1, fy1) in [
        (0.1, 0.1, 0.3, 0.25),
        (0.45, 0.4, 0.55, 0.6),
        (0.7, 0.05, 0.95, 0.2),
        (0.0, 0.8, 0.15, 1.0),
    ] {
        let bbox = [e[0] + w * fx0, e[1] + h * fy0, e[0] + w * fx1, e[1] + h * fy1];
        let poly = rect_polygon(bbox);
        let mut want: Vec<String> = grids
            .iter()
            .filter(|(_, a)| a.intersects(&poly))
            .map(|(c, _)| c.clone())
            .collect();
        want.sort();
        differing += grids
            .iter()
            .filter(|(_, a)| {
                use geo::BoundingRect;
                a.bounding_rect().unwrap().to_polygon().intersects(&poly) && !a.intersects(&poly)
            })
            .count();
        let spat: Vec<String> = bbox.iter().map(|v| format!("{v}")).collect();
        let got = ogr2ogr(&addr, &out, "grids", &[vec!["-spat".to_string()], spat].concat());
        assert_eq!(got, want, "grids meeting {bbox:?}");
        let served = http_json(
            &addr,
            &format!(
                "/collections/grids/items?bbox={},{},{},{}",
                bbox[0], bbox[1], bbox[2], bbox[3]
            ),
        );
        assert_eq!(served["numberMatched"], want.len());
    }
    eprintln!("bbox checks where a grid's envelope meets the box but the grid does not: {differing}");

    // Part 2: a newer GDAL (pyogrio's; Debian's 3.6 has no CRS option) asks for EPSG:3857 and
    // EPSG:4490, and pyproj says where every vertex should be.
    let Some(python) = python() else { return };
    let script = r#"
import json, sys, urllib.request
import pyogrio
from pyproj import Transformer
url, layer, crs, out = sys.argv[1:5]
meta, fids, geoms, fields = pyogrio.raw.read("OAPIF:" + url, layer=layer, CRS=crs, PAGE_SIZE="10")
pyogrio.raw.write(out, geoms, fields, meta["fields"], crs=meta["crs"], geometry_type=meta["geometry_type"], driver="GeoJSON")
src = json.load(urllib.request.urlopen(url + "/collections/" + layer + "/items?limit=10000"))
t = Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
def walk(c):
    return [walk(x) for x in c] if isinstance(c[0], list) else list(t.transform(c[0], c[1]))
print(json.dumps({"crs": meta["crs"], "pyproj": {f["id"]: walk(f["geometry"]["coordinates"]) for f in src["features"]}}))
"#;
    for (layer, crs, tolerance) in [
        ("grids", "EPSG:3857", 1e-3),
        ("buildings", "EPSG:3857", 1e-3),
        ("grids", "EPSG:4490", 1e-9),
    ] {
        let _ = std::fs::remove_file(&out);
        let run = Command::new(&python)
            .arg("-c")
            .arg(script)
            .args([&format!("http://{addr}"), layer, crs, out.to_str().unwrap()])
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "pyogrio {layer} {crs}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let said: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(said["crs"], crs);
        let gdal: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let features = gdal["features"].as_array().unwrap();
        assert_eq!(
            features.len(),
            said["pyproj"].as_object().unwrap().len(),
            "{layer} {crs}"
        );
        let key = if layer == "grids" { "code" } else { "id" };
        let mut worst: f64 = 0.0;
        for f in features {
            let id = f["properties"][key].as_str().unwrap();
            let want = positions(&serde_json::json!({"coordinates": said["pyproj"][id]}));
            let got = positions(&f["geometry"]);
            assert_eq!(got.len(), want.len(), "{id}");
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((g[0] - w[0]).abs()).max((g[1] - w[1]).abs());
            }
        }
        // GDAL hands EPSG:4490 out longitude first (its GIS order), so this also checks that the
        // service sent latitude first, as EPSG orders it.
        assert!(
            worst < tolerance,
            "{layer} in {crs}: GDAL's reading is {worst} off pyproj's"
        );
        eprintln!("{layer} in {crs}: GDAL's reading within {worst:e} of pyproj's");
    }
}

/// The Python with the test tools (`.ci/run` makes `out/ci-venv`), or `None` outside CI.
fn python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = std::env::var_os("WANGGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("out/ci-venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", "import pyogrio, pyproj"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(p);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "CI=true but {} lacks pyogrio and pyproj: .ci/run installs scripts/tests/requirements.txt",
        p.display()
    );
    eprintln!(
        "\n!!! SKIPPED the Part 2 check: no pyogrio/pyproj at {} (run .ci/run once) !!!\n",
        p.display()
    );
    None
}
