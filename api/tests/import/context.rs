//! Water and green for the map from real OpenStreetMap extracts, counted against GDAL's own
//! reading of the same tags (`scripts/tests/osm_context.py`, GDAL's OSM driver through pyogrio),
//! and cut to the communities and 300 m round them, with the main roads there.

use super::*;
use std::collections::BTreeSet;

/// GDAL's water and green ids for an extract, or None (loudly) without the tools outside CI.
fn gdal_reading(pbf: &Path) -> Option<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = python_with("pyogrio")?;
    let o = Command::new(&python)
        .arg(root.join("scripts/tests/osm_context.py"))
        .arg(pbf)
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .unwrap();
    assert!(o.status.success(), "osm_context.py: {}", text(&o));
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

fn ids(file: &Path) -> BTreeSet<String> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap_or_else(|_| r#"{"features": []}"#.into())).unwrap();
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn water_and_green_are_what_gdal_reads_from_the_extracts() {
    // (extract, water kept, green kept): every feature lies within 300 m of the drawn hull.
    // Helsinki's water counts its sea, drawn from the coastline (GDAL has no sea to compare).
    for (extract, water, green) in [("osm/Helsinki.osm.pbf", 14 + SEA, 167), ("osm/test.osm.pbf", 0, 14)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ds");
        let pbf = fixture(extract);
        let r = wangge(&[
            "import",
            s(&pbf),
            "--out",
            s(&out),
            "--community-code",
            "999999002001",
            "--json",
        ]);
        assert!(r.status.success(), "{}", text(&r));
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(
            (v["dataset"]["water"].as_u64(), v["dataset"]["green"].as_u64()),
            (Some(water), Some(green)),
            "{extract}"
        );
        let kept_water = ids(&out.join("water.geojson"));
        let kept_green = ids(&out.join("green.geojson"));
        assert_eq!(
            (kept_water.len(), kept_green.len()),
            (water as usize, green as usize),
            "{extract}"
        );
        // The report says how many were kept, by file.
        let assumed = v["assumed"].to_string();
        assert!(
            assumed.contains(&format!(
                "green.geojson: {green} of {green} features kept for the map within 300 m"
            )),
            "{assumed}"
        );
        let kept_water: BTreeSet<String> = kept_water
            .into_iter()
            .filter(|id| !id.starts_with("osm-sea-"))
            .collect();
        let Some(gdal) = gdal_reading(&pbf) else { return };
        // Cut at the extract's edge: dropped by the import, named; GDAL draws what nodes it has.
        let cut_off: BTreeSet<String> = v["dropped"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["reason"].as_str().unwrap().starts_with("water or green"))
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect();
        for (layer, kept) in [("water", &kept_water), ("green", &kept_green)] {
            let theirs: BTreeSet<String> = gdal[layer]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect();
            let ours_only: Vec<_> = kept.difference(&theirs).collect();
            assert!(
                ours_only.is_empty(),
                "{extract} {layer}: kept but not in GDAL's reading: {ours_only:?}"
            );
            let theirs_only: Vec<_> = theirs.difference(kept).filter(|id| !cut_off.contains(*id)).collect();
            assert!(
                theirs_only.is_empty(),
                "{extract} {layer}: GDAL reads, import neither kept nor named: {theirs_only:?}"
            );
            eprintln!(
                "{extract} {layer}: import keeps {}, GDAL reads {} ({} of them cut at the extract's edge)",
                kept.len(),
                theirs.len(),
                theirs.difference(kept).count()
            );
        }
    }
}

/// Water areas of kind `sea` Helsinki's import draws from the coastline at the extract's edge.
const SEA: u64 = 3;

#[test]
fn the_sea_is_drawn_from_the_coastline_on_its_side() {
    // Helsinki's centre: the extract cuts the coastline of the bay north-east of the centre at its east edge.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ds");
    let r = wangge(&[
        "import",
        s(&fixture("osm/Helsinki.osm.pbf")),
        "--out",
        s(&out),
        "--community-code",
        "999999002001",
        "--json",
    ]);
    assert!(r.status.success(), "{}", text(&r));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(
        v["assumed"].to_string().contains("the sea drawn as"),
        "{}",
        v["assumed"]
    );
    let d = gis_core::io::load_dataset(&out).unwrap().dataset;
    let sea: Vec<geo::MultiPolygon<f64>> = d
        .context
        .water
        .iter()
        .filter(|f| f.kind.as_deref() == Some("sea"))
        .filter_map(|f| match &f.shape {
            gis_core::model::ContextShape::Area(a) => Some(a.clone()),
            gis_core::model::ContextShape::Line(_) => None,
        })
        .collect();
    assert_eq!(sea.len() as u64, SEA);
    let wet = |lon: f64, lat: f64| {
        sea.iter()
            .any(|a| geo::Intersects::intersects(a, &geo::Point::new(lon, lat)))
    };
    // Water east of the pier at 24.952 and between the shores; the shore's buildings and the
    // station square stay dry.
    assert!(wet(24.9528, 60.1774));
    assert!(!wet(24.9528, 60.1760), "south of the shore");
    assert!(!wet(24.9410, 60.1710), "the railway station");
    // No building stands in the sea but what floats: M/S Maria (building=ship), the pub ship
    // Pikkudami (ship=yes) and the boat club Hakaniemen venekerho's clubhouse on its pontoon.
    let afloat: Vec<&str> = d
        .buildings
        .iter()
        .filter(|b| {
            let p = geo::InteriorPoint::interior_point(&b.footprint).unwrap();
            sea.iter().any(|a| geo::Intersects::intersects(a, &p))
        })
        .map(|b| b.id.as_str())
        .collect();
    assert_eq!(afloat, ["osm-w17028575", "osm-w24936253", "osm-w51327608"]);
}

#[test]
fn a_small_community_keeps_the_main_roads_water_and_green_within_300_m() {
    // A square of about 450 × 450 m in Helsinki's centre (round Kaisaniemi park).
    let dir = tempfile::tempdir().unwrap();
    let (w, s0, e, n) = (24.940, 60.170, 24.948, 60.174);
    let boundary = dir.path().join("boundary.geojson");
    std::fs::write(
        &boundary,
        serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature",
            "properties": {"code": "999999002001", "name": "Kaisaniemi"},
            "geometry": {"type": "Polygon", "coordinates": [[[w, s0], [e, s0], [e, n], [w, n], [w, s0]]]}}]})
        .to_string(),
    )
    .unwrap();
    let out = dir.path().join("ds");
    let r = wangge(&[
        "import",
        s(&fixture("osm/Helsinki.osm.pbf")),
        "--boundary",
        s(&boundary),
        "--out",
        s(&out),
        "--json",
    ]);
    assert!(r.status.success(), "{}", text(&r));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let assumed = v["assumed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let note = |prefix: &str| {
        assumed
            .iter()
            .find(|a| a.starts_with(prefix))
            .cloned()
            .unwrap_or_default()
    };
    // Some green was cut at the margin and some lay further out.
    let green = note("green.geojson:");
    assert!(
        green.contains("cut there") && !green.contains(" 0 cut there"),
        "{green}"
    );
    assert!(note("roads:").contains("main roads"), "{assumed:#?}");
    // Everything kept lies within 300 m (and a little for the 32-gon) of the square.
    let (mx, my) = (310.0 / (111_320.0 * 60.172f64.to_radians().cos()), 310.0 / 111_320.0);
    let d = gis_core::io::load_dataset(&out).unwrap().dataset;
    let within = |c: &geo::Coord<f64>| c.x >= w - mx && c.x <= e + mx && c.y >= s0 - my && c.y <= n + my;
    for f in d.context.water.iter().chain(&d.context.green) {
        let coords: Vec<geo::Coord<f64>> = match &f.shape {
            gis_core::model::ContextShape::Area(a) => geo::CoordsIter::coords_iter(a).collect(),
            gis_core::model::ContextShape::Line(l) => geo::CoordsIter::coords_iter(l).collect(),
        };
        assert!(coords.iter().all(within), "{} reaches past 300 m", f.id);
    }
    // Roads: those reaching into the square, and main roads round it, cut at 300 m.
    let square = geo::Rect::new(geo::coord! {x: w, y: s0}, geo::coord! {x: e, y: n}).to_polygon();
    let outside_main = d
        .roads
        .iter()
        .filter(|r| !geo::Intersects::intersects(&r.line, &square))
        .inspect(|r| {
            let main = ["motorway", "trunk", "primary", "secondary", "tertiary"];
            let class = r.class.as_deref().unwrap_or("").trim_end_matches("_link");
            assert!(main.contains(&class), "{} ({class}) outside the square", r.id);
            assert!(
                geo::CoordsIter::coords_iter(&r.line).all(|c| within(&c)),
                "{} reaches past 300 m",
                r.id
            );
        })
        .count();
    assert!(outside_main > 0, "no main road round the square");
}
