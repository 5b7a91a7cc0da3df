//! The optional context layers, `water.geojson` and `green.geojson`: read when present, absent is
//! fine, and every way they can be wrong named by file, feature and field.

use gis_core::io::{InputProblem, InputProblemKind, load_dataset, load_dataset_files, load_dataset_files_as_trees};
use gis_core::model::ContextShape;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// Kangle's boundary and buildings, and the context files given.
fn dataset(context: &[(&str, Value)]) -> BTreeMap<String, String> {
    let kangle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle");
    let mut files = BTreeMap::new();
    for f in ["boundary.geojson", "buildings.geojson"] {
        files.insert(f.to_string(), std::fs::read_to_string(kangle.join(f)).unwrap());
    }
    for (name, v) in context {
        files.insert(name.to_string(), v.to_string());
    }
    files
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

fn feature(props: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

/// A square ring round (x, y), `d` degrees a side, counter-clockwise.
fn square(x: f64, y: f64, d: f64) -> Value {
    json!([[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]])
}

fn pond() -> Value {
    feature(
        json!({"id": "W1", "kind": "Lake", "name": "筼筜湖"}),
        json!({"type": "Polygon", "coordinates": [square(118.108, 24.500, 0.004), [[118.109, 24.501], [118.109, 24.502], [118.110, 24.502], [118.110, 24.501], [118.109, 24.501]]]}),
    )
}

fn river() -> Value {
    // Beyond the community on purpose: context is not checked against the boundary.
    feature(
        json!({"id": 7, "kind": "river"}),
        json!({"type": "LineString", "coordinates": [[118.09, 24.49], [118.13, 24.52]]}),
    )
}

fn park() -> Value {
    feature(
        json!({"id": "G1", "kind": "park", "name": "白鹭洲公园"}),
        json!({"type": "MultiPolygon", "coordinates": [[square(118.111, 24.503, 0.001)], [square(118.115, 24.503, 0.001)]]}),
    )
}

fn rejected(context: &[(&str, Value)]) -> Vec<InputProblem> {
    match load_dataset_files(Path::new("ctx"), dataset(context)) {
        Ok(_) => panic!("dataset was accepted"),
        Err(e) => e.problems,
    }
}

#[test]
fn water_areas_and_lines_and_green_areas_are_read() {
    let files = dataset(&[
        ("water.geojson", collection(vec![pond(), river()])),
        ("green.geojson", collection(vec![park()])),
    ]);
    let loaded = load_dataset_files(Path::new("ctx"), files.clone()).unwrap();
    let c = &loaded.dataset.context;
    assert_eq!(c.water.len(), 2);
    assert_eq!(c.water[0].id, "W1");
    assert_eq!(c.water[0].kind.as_deref(), Some("lake"), "kinds are read lower-case");
    assert_eq!(c.water[0].name.as_deref(), Some("筼筜湖"));
    assert!(matches!(&c.water[0].shape, ContextShape::Area(a) if a.0[0].interiors().len() == 1));
    assert_eq!(c.water[1].id, "7");
    assert!(matches!(&c.water[1].shape, ContextShape::Line(l) if l.0.len() == 1));
    assert_eq!(c.green.len(), 1);
    assert!(matches!(&c.green[0].shape, ContextShape::Area(a) if a.0.len() == 2));
    assert!(loaded.report.files.iter().any(|(f, n)| f == "water.geojson" && *n == 2));
    // The reference (whole-tree) reader reads them the same.
    let trees = load_dataset_files_as_trees(Path::new("ctx"), files)
        .unwrap()
        .dataset
        .context;
    assert_eq!((trees.water.len(), trees.green.len()), (2, 1));
    assert_eq!(trees.water[1].id, "7");
}

#[test]
fn no_context_files_is_no_context() {
    let d = load_dataset(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle"))
        .unwrap()
        .dataset;
    assert!(d.context.water.is_empty() && d.context.green.is_empty());
}

#[test]
fn a_point_in_water_is_named_with_what_water_takes() {
    let point = feature(
        json!({"id": "W9"}),
        json!({"type": "Point", "coordinates": [118.1, 24.5]}),
    );
    let problems = rejected(&[("water.geojson", collection(vec![pond(), point]))]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(
        (p.file.as_str(), p.kind),
        ("water.geojson", InputProblemKind::WrongGeometryType)
    );
    assert_eq!(
        p.feature.as_ref().map(|f| (f.index, f.id.clone())),
        Some((1, Some("W9".into())))
    );
    assert_eq!(p.field.as_deref(), Some("geometry.type"));
    assert!(
        p.to_string()
            .contains("expected a Polygon, MultiPolygon, LineString or MultiLineString, found \"Point\""),
        "{p}"
    );
}

#[test]
fn green_takes_areas_only() {
    let problems = rejected(&[("green.geojson", collection(vec![river()]))]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].file, "green.geojson");
    assert_eq!(problems[0].kind, InputProblemKind::WrongGeometryType);
    assert!(
        problems[0].message.contains("found \"LineString\""),
        "{}",
        problems[0].message
    );
}

#[test]
fn bad_rings_ids_and_positions_are_named() {
    let bow_tie = feature(
        json!({"id": "G2", "kind": "grass"}),
        json!({"type": "Polygon", "coordinates": [[[118.101, 24.501], [118.102, 24.502], [118.102, 24.501], [118.101, 24.502], [118.101, 24.501]]]}),
    );
    let twice = park();
    let no_id = feature(
        json!({"kind": "wood"}),
        json!({"type": "Polygon", "coordinates": [square(118.103, 24.503, 0.001)]}),
    );
    let unclosed = feature(
        json!({"id": "G4"}),
        json!({"type": "Polygon", "coordinates": [[[118.104, 24.504], [118.105, 24.504], [118.105, 24.505], [118.104, 24.505]]]}),
    );
    let far = feature(
        json!({"id": "W5", "kind": "stream"}),
        json!({"type": "LineString", "coordinates": [[118.1, 24.5], [218.1, 24.5]]}),
    );
    let mut problems = rejected(&[
        (
            "green.geojson",
            collection(vec![park(), bow_tie, twice, no_id, unclosed]),
        ),
        ("water.geojson", collection(vec![far])),
    ]);
    problems.sort_by_key(|p| (p.file.clone(), p.feature.as_ref().map(|f| f.index)));
    let said: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let at = |file: &str, index: usize| -> &InputProblem {
        problems
            .iter()
            .find(|p| p.file == file && p.feature.as_ref().is_some_and(|f| f.index == index))
            .unwrap_or_else(|| panic!("nothing about {file} features[{index}] in {said:#?}"))
    };
    let bow = at("green.geojson", 1);
    assert_eq!(bow.kind, InputProblemKind::SelfIntersection, "{said:#?}");
    assert!(
        bow.field.as_deref().unwrap().starts_with("geometry.coordinates"),
        "{said:#?}"
    );
    // The overlay import cuts context with mends a ring that crosses itself: the message says so.
    assert!(bow.message.contains("wangge import"), "{}", bow.message);
    assert!(
        at("green.geojson", 2).message.contains("G1"),
        "a repeated id names the first: {said:#?}"
    );
    assert_eq!(
        at("green.geojson", 3).field.as_deref(),
        Some("properties.id"),
        "{said:#?}"
    );
    assert!(
        at("green.geojson", 4)
            .field
            .as_deref()
            .unwrap()
            .starts_with("geometry.coordinates"),
        "{said:#?}"
    );
    let far = at("water.geojson", 0);
    assert!(
        far.field.as_deref().unwrap().starts_with("geometry.coordinates"),
        "{said:#?}"
    );
    assert!(far.message.contains("218.1"), "{said:#?}");
}
