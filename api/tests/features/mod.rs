//! OGC API – Features: every endpoint and every refusal in process, paging that walks each
//! collection exactly once, bbox answers checked against geo's own `Intersects`, and GDAL's OAPIF
//! driver (`ogr2ogr`) reading the real `wangge serve` over HTTP.

mod gdal;
mod part2;

use crate::common::fixture;
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
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower::ServiceExt;

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
