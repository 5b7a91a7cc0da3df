//! OGC API – Features Part 2: items in the coordinate system asked for.

use super::*;

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
pub(super) fn positions(g: &Value) -> Vec<[f64; 2]> {
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
