//! Dataset import: a small valid dataset, then one test per way a dataset can be wrong. Each
//! rejection must name the file, the feature (index and id) and the field.

use gis_core::io::{ImportError, InputProblem, InputProblemKind, Loaded, load_dataset};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A rectangle ring, counter-clockwise, in degrees.
fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])
}

fn polygon(coords: Value) -> Value {
    json!({"type": "Polygon", "coordinates": coords})
}

fn feature(props: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

fn building(id: &str, population: Value, x: f64, y: f64) -> Value {
    feature(
        json!({"id": id, "population": population, "compound": "金湖花园", "address": format!("金湖花园{id}号楼")}),
        polygon(rect(x, y, x + 0.0004, y + 0.0001)),
    )
}

/// One community near Xiamen with three buildings, a point, a resource, a road, a school.
fn valid() -> BTreeMap<&'static str, Value> {
    let mut files = BTreeMap::new();
    files.insert(
        "boundary.geojson",
        collection(vec![feature(
            json!({"code": "350206001017", "name": "康乐社区"}),
            polygon(rect(118.100, 24.500, 118.110, 24.508)),
        )]),
    );
    let mut tower = building("B3", json!(120), 118.105, 24.505);
    tower["properties"]["units"] = json!([
        {"name": "1单元", "population": 70, "households": 28},
        {"name": "2单元", "population": 50, "households": 20}
    ]);
    files.insert(
        "buildings.geojson",
        collection(vec![
            building("B1", json!(80), 118.101, 24.501),
            building("B2", json!(60), 118.102, 24.501),
            tower,
            building("S1", json!(0), 118.1081, 24.5061),
        ]),
    );
    files.insert(
        "population.geojson",
        collection(vec![feature(
            json!({"count": 5}),
            json!({"type": "Point", "coordinates": [118.109, 24.502]}),
        )]),
    );
    files.insert(
        "resources.geojson",
        collection(vec![feature(
            json!({"id": "R1", "kind": "Clinic", "name": "康乐社区卫生服务站", "phone": "0592-5550101"}),
            json!({"type": "Point", "coordinates": [118.104, 24.503]}),
        )]),
    );
    files.insert(
        "roads.geojson",
        collection(vec![feature(
            json!({"id": "RD1", "name": "康乐路", "class": "secondary"}),
            json!({"type": "LineString", "coordinates": [[118.100, 24.504], [118.110, 24.504]]}),
        )]),
    );
    files.insert(
        "exclusive.geojson",
        collection(vec![feature(
            json!({"id": "X1", "name": "康乐小学", "kind": "school"}),
            polygon(rect(118.108, 24.506, 118.1095, 24.5075)),
        )]),
    );
    files.insert(
        "staff.json",
        json!([{"grid": "350206001017001", "name": "林美华", "role": "网格长", "phone": "13799990001"}]),
    );
    files
}

fn write(files: &BTreeMap<&str, Value>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, v) in files {
        std::fs::write(dir.path().join(name), serde_json::to_string_pretty(v).unwrap()).unwrap();
    }
    dir
}

fn load(files: &BTreeMap<&str, Value>) -> Result<Loaded, ImportError> {
    load_dataset(write(files).path())
}

fn rejected(files: &BTreeMap<&str, Value>) -> Vec<InputProblem> {
    match load(files) {
        Ok(_) => panic!("dataset was accepted"),
        Err(e) => e.problems,
    }
}

/// The one problem of the given kind; asserts it is the only one.
fn only(problems: Vec<InputProblem>, kind: InputProblemKind) -> InputProblem {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].kind, kind, "{problems:#?}");
    problems.into_iter().next().unwrap()
}

fn with_text(name: &'static str, text: &str) -> tempfile::TempDir {
    let dir = write(&valid());
    std::fs::write(dir.path().join(name), text).unwrap();
    dir
}

#[test]
fn a_valid_dataset_loads_and_links() {
    let Loaded { dataset: d, report } = load(&valid()).unwrap();
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    assert_eq!(d.communities.len(), 1);
    assert_eq!(d.communities[0].code.as_str(), "350206001017");
    assert_eq!(d.buildings.len(), 4);
    assert!(d.buildings.iter().all(|b| b.community == 0));
    // Households: estimated as round(population / 2.5) unless declared or given by units.
    assert_eq!(d.buildings[0].households, 32);
    assert!(d.buildings[0].households_estimated);
    assert_eq!(d.buildings[2].households, 48);
    assert_eq!(d.buildings[2].units.len(), 2);
    // The school's building stands in the exclusive unit; the others do not.
    assert_eq!(d.buildings[3].exclusive_unit, Some(0));
    assert_eq!(d.buildings[0].exclusive_unit, None);
    assert_eq!(d.points[0].count, 5);
    assert_eq!(d.resources[0].kind, "clinic");
    assert_eq!(d.resources[0].community, Some(0));
    assert_eq!(d.roads.len(), 1);
    assert_eq!(d.exclusive[0].kind, "school");
    assert_eq!(d.staff[0].role, "网格长");
}

#[test]
fn optional_files_may_be_absent() {
    let mut files = valid();
    for f in [
        "population.geojson",
        "resources.geojson",
        "roads.geojson",
        "exclusive.geojson",
        "staff.json",
    ] {
        files.remove(f);
    }
    let d = load(&files).unwrap().dataset;
    assert_eq!(d.buildings.len(), 4);
    assert!(d.resources.is_empty() && d.exclusive.is_empty());
}

#[test]
fn a_missing_required_file_is_named() {
    let mut files = valid();
    files.remove("buildings.geojson");
    let p = only(rejected(&files), InputProblemKind::MissingFile);
    assert_eq!(p.file, "buildings.geojson");
}

#[test]
fn invalid_json_names_file_line_and_column() {
    let dir = with_text(
        "buildings.geojson",
        "{\"type\": \"FeatureCollection\",\n \"features\": [\n {\"type\": \"Feature\",, }]}",
    );
    let e = load_dataset(dir.path()).unwrap_err();
    let p = only(e.problems, InputProblemKind::InvalidJson);
    assert_eq!(p.file, "buildings.geojson");
    assert!(p.message.contains("line 3"), "{}", p.message);
}

#[test]
fn not_a_feature_collection() {
    let mut files = valid();
    files.insert("boundary.geojson", polygon(rect(118.1, 24.5, 118.11, 24.508)));
    let p = rejected(&files)
        .into_iter()
        .find(|p| p.file == "boundary.geojson")
        .unwrap();
    assert_eq!(p.kind, InputProblemKind::NotFeatureCollection);
    assert!(p.message.contains("found a GeoJSON Polygon"), "{}", p.message);
}

#[test]
fn a_feature_that_is_not_a_feature() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][1] = polygon(rect(118.1, 24.5, 118.101, 24.501));
    let p = only(rejected(&files), InputProblemKind::NotFeature);
    assert_eq!(p.feature.unwrap().index, 1);
}

#[test]
fn wrong_geometry_type() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][1]["geometry"] =
        json!({"type": "Point", "coordinates": [118.102, 24.501]});
    let p = only(rejected(&files), InputProblemKind::WrongGeometryType);
    assert_eq!(p.file, "buildings.geojson");
    assert_eq!(p.feature.as_ref().unwrap().index, 1);
    assert_eq!(p.feature.as_ref().unwrap().id.as_deref(), Some("B2"));
    assert_eq!(p.field.as_deref(), Some("geometry.type"));
    assert!(
        p.message
            .contains("expected a Polygon or MultiPolygon, found \"Point\""),
        "{}",
        p.message
    );
}

#[test]
fn longitude_out_of_range() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["geometry"]["coordinates"][0][2] =
        json!([218.1014, 24.5011]);
    let p = only(rejected(&files), InputProblemKind::CoordinateOutOfRange);
    assert_eq!(p.field.as_deref(), Some("geometry.coordinates[0][2]"));
    assert!(
        p.message.contains("longitude 218.1014 is outside [-180, 180]"),
        "{}",
        p.message
    );
}

#[test]
fn swapped_latitude_and_longitude_are_called_out() {
    let mut files = valid();
    files.get_mut("resources.geojson").unwrap()["features"][0]["geometry"]["coordinates"] = json!([24.503, 118.104]);
    let p = only(rejected(&files), InputProblemKind::SwappedCoordinates);
    assert_eq!(p.file, "resources.geojson");
    assert_eq!(p.feature.unwrap().id.as_deref(), Some("R1"));
    assert!(p.message.contains("swapped"), "{}", p.message);
    assert!(p.message.contains("[longitude, latitude]"), "{}", p.message);
}

#[test]
fn nan_and_infinity_name_the_feature_and_coordinate() {
    let mut text = serde_json::to_string(&valid()["buildings.geojson"]).unwrap();
    text = text.replacen("[118.1014,24.5011]", "[118.1014,NaN]", 1);
    text = text.replacen("[118.102,24.501]", "[Infinity,24.501]", 1);
    assert!(text.contains("NaN") && text.contains("Infinity"));
    let problems = load_dataset(with_text("buildings.geojson", &text).path())
        .unwrap_err()
        .problems;
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems.iter().all(|p| p.kind == InputProblemKind::NonFiniteCoordinate));
    assert_eq!(problems[0].feature.as_ref().unwrap().id.as_deref(), Some("B1"));
    assert_eq!(problems[0].field.as_deref(), Some("geometry.coordinates[0][2][1]"));
    assert!(problems[0].message.contains("NaN"));
    assert_eq!(problems[1].feature.as_ref().unwrap().id.as_deref(), Some("B2"));
    assert!(problems[1].message.contains("Infinity"));
}

#[test]
fn unclosed_ring() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["geometry"]["coordinates"] = json!([[
        [118.101, 24.501],
        [118.1014, 24.501],
        [118.1014, 24.5011],
        [118.101, 24.5011]
    ]]);
    let p = only(rejected(&files), InputProblemKind::UnclosedRing);
    assert_eq!(p.field.as_deref(), Some("geometry.coordinates[0]"));
    assert!(p.message.contains("not closed"), "{}", p.message);
}

#[test]
fn self_intersecting_ring_is_rejected_not_guessed() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["geometry"]["coordinates"] = json!([[
        [118.101, 24.501],
        [118.1014, 24.5011],
        [118.1014, 24.501],
        [118.101, 24.5011],
        [118.101, 24.501]
    ]]);
    let p = only(rejected(&files), InputProblemKind::SelfIntersection);
    assert_eq!(p.feature.unwrap().id.as_deref(), Some("B1"));
    assert!(p.message.contains("[118.1012000, 24.5010500]"), "{}", p.message);
    // The strict reader does not repair, but says which command does.
    assert!(
        p.message.contains("`wangge import ") && p.message.contains("-fixed` repairs this"),
        "{}",
        p.message
    );
}

#[test]
fn what_import_would_repair_says_the_command() {
    // A courtyard drawn as one ring that touches itself, a ring with no area, an overlap.
    let mut files = valid();
    let b = files.get_mut("buildings.geojson").unwrap();
    b["features"][0]["geometry"]["coordinates"] = json!([[
        [118.101, 24.501],
        [118.1014, 24.501],
        [118.1014, 24.5011],
        [118.101, 24.5011],
        [118.101, 24.501],
        [118.1011, 24.50103],
        [118.1011, 24.50107],
        [118.1012, 24.50107],
        [118.1012, 24.50103],
        [118.101, 24.501]
    ]]);
    b["features"][1]["geometry"]["coordinates"] = json!([[
        [118.102, 24.501],
        [118.1024, 24.501],
        [118.1028, 24.501],
        [118.102, 24.501]
    ]]);
    b["features"]
        .as_array_mut()
        .unwrap()
        .push(building("B9", json!(10), 118.1052, 24.50505));
    let dir = write(&files);
    let problems = load_dataset(dir.path()).unwrap_err().problems;
    let kinds: Vec<InputProblemKind> = problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            InputProblemKind::SelfIntersection,
            InputProblemKind::ZeroArea,
            InputProblemKind::OverlappingBuildings
        ],
        "{problems:#?}"
    );
    let command = format!(
        "`wangge import {} --out {}-fixed` repairs this",
        dir.path().display(),
        dir.path().display()
    );
    for p in &problems {
        assert!(p.message.contains(&command), "{}", p.message);
    }
    // What import cannot repair gets no such line.
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["population"] = json!(-3);
    assert!(
        !only(rejected(&files), InputProblemKind::NegativeValue)
            .message
            .contains("wangge import")
    );
}

#[test]
fn what_gdal_and_geopandas_write_is_read() {
    let mut files = valid();
    let b = files.get_mut("buildings.geojson").unwrap();
    // Numeric ids (GDAL writes integer fields as numbers), the Feature's own id member
    // (geopandas' to_json), null for an empty optional field, half storeys.
    b["features"][0]["properties"]["id"] = json!(101);
    b["features"][1]["properties"].as_object_mut().unwrap().remove("id");
    b["features"][1]["id"] = json!("7");
    b["features"][0]["properties"]["floors"] = json!(3.5);
    b["features"][1]["properties"]["floors"] = json!(6);
    b["features"][0]["properties"]["households"] = Value::Null;
    b["features"][0]["properties"]["address"] = Value::Null;
    b["features"][1]["properties"]["compound"] = Value::Null;
    files.get_mut("resources.geojson").unwrap()["features"][0]["properties"]["id"] = json!(5.0);
    files.get_mut("resources.geojson").unwrap()["features"][0]["properties"]["phone"] = Value::Null;
    let d = load(&files).unwrap().dataset;
    assert_eq!(d.buildings[0].id, "101");
    assert_eq!(d.buildings[0].floors, Some(3.5));
    assert_eq!(d.buildings[0].address, None);
    assert_eq!(d.buildings[0].households, 32, "estimated from population when null");
    assert_eq!(d.buildings[1].id, "7");
    assert_eq!(d.buildings[1].floors, Some(6.0));
    assert_eq!(d.buildings[1].compound, None);
    assert_eq!(d.resources[0].id, "5");
    assert_eq!(d.resources[0].phone, None);
    // A property id wins over the member; a duplicate made of a number and a string is caught.
    let b = files.get_mut("buildings.geojson").unwrap();
    b["features"][2]["id"] = json!("member");
    b["features"][2]["properties"]["id"] = json!(7);
    let p = only(rejected(&files), InputProblemKind::DuplicateId);
    assert!(
        p.message.contains("\"7\" is already used by features[1]"),
        "{}",
        p.message
    );
    // Floors below 1, or as text, are still refused.
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["floors"] = json!(0.5);
    assert_eq!(
        only(rejected(&files), InputProblemKind::InvalidValue).field.as_deref(),
        Some("properties.floors")
    );
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["floors"] = json!("3");
    only(rejected(&files), InputProblemKind::WrongType);
    // No id anywhere names both places it may be.
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"] = json!({"population": 3});
    let p = only(rejected(&files), InputProblemKind::MissingField);
    assert!(p.message.contains("Feature's own id"), "{}", p.message);
}

#[test]
fn a_byte_order_mark_is_no_error() {
    let files = valid();
    let dir = write(&files);
    let text = std::fs::read_to_string(dir.path().join("buildings.geojson")).unwrap();
    std::fs::write(dir.path().join("buildings.geojson"), format!("\u{feff}{text}")).unwrap();
    assert_eq!(load_dataset(dir.path()).unwrap().dataset.buildings.len(), 4);
}

#[test]
fn clockwise_rings_are_repaired_and_reported() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["geometry"]["coordinates"] = json!([[
        [118.101, 24.501],
        [118.101, 24.5011],
        [118.1014, 24.5011],
        [118.1014, 24.501],
        [118.101, 24.501]
    ]]);
    let Loaded { dataset, report } = load(&files).unwrap();
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].kind, InputProblemKind::RingReoriented);
    assert_eq!(report.warnings[0].feature.as_ref().unwrap().id.as_deref(), Some("B1"));
    use geo::Winding;
    assert!(dataset.buildings[0].footprint.0[0].exterior().is_ccw());
}

#[test]
fn duplicate_ids_name_the_first_use() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][1]["properties"]["id"] = json!("B1");
    let p = only(rejected(&files), InputProblemKind::DuplicateId);
    assert_eq!(p.feature.as_ref().unwrap().index, 1);
    assert!(p.message.contains("features[0]"), "{}", p.message);
}

#[test]
fn negative_population() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["population"] = json!(-3);
    let p = only(rejected(&files), InputProblemKind::NegativeValue);
    assert_eq!(p.field.as_deref(), Some("properties.population"));
    assert!(p.message.contains("found -3"), "{}", p.message);
}

#[test]
fn non_integer_population() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["population"] = json!(12.5);
    let p = only(rejected(&files), InputProblemKind::NotInteger);
    assert!(p.message.contains("whole number"), "{}", p.message);
    // A number in quotes is a type error that says how to fix it.
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["population"] = json!("12");
    let p = only(rejected(&files), InputProblemKind::WrongType);
    assert!(p.message.contains("without quotes"), "{}", p.message);
    // 12.0 is a whole number.
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["population"] = json!(12.0);
    assert_eq!(load(&files).unwrap().dataset.buildings[0].population, 12);
}

#[test]
fn population_point_count_must_be_positive() {
    let mut files = valid();
    files.get_mut("population.geojson").unwrap()["features"][0]["properties"]["count"] = json!(0);
    let p = only(rejected(&files), InputProblemKind::InvalidValue);
    assert_eq!(p.file, "population.geojson");
    assert_eq!(p.field.as_deref(), Some("properties.count"));
}

#[test]
fn buildings_outside_every_community_are_all_listed() {
    let mut files = valid();
    let features = files.get_mut("buildings.geojson").unwrap()["features"]
        .as_array_mut()
        .unwrap();
    features.push(building("FAR1", json!(30), 118.2, 24.6));
    features.push(building("FAR2", json!(30), 118.3, 24.7));
    let problems = rejected(&files);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems.iter().all(|p| p.kind == InputProblemKind::OutsideCommunities));
    let ids: Vec<_> = problems
        .iter()
        .map(|p| p.feature.as_ref().unwrap().id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["FAR1", "FAR2"]);
    assert!(
        problems[0].message.contains("lies in no community"),
        "{}",
        problems[0].message
    );
}

#[test]
fn duplicate_community_codes() {
    let mut files = valid();
    let boundary = files.get_mut("boundary.geojson").unwrap();
    let mut second = boundary["features"][0].clone();
    second["geometry"] = polygon(rect(118.110, 24.500, 118.120, 24.508));
    second["properties"]["name"] = json!("康乐二社区");
    boundary["features"].as_array_mut().unwrap().push(second);
    let p = only(rejected(&files), InputProblemKind::DuplicateCode);
    assert_eq!(p.feature.unwrap().index, 1);
}

#[test]
fn community_codes_must_be_twelve_digit_strings() {
    let mut files = valid();
    files.get_mut("boundary.geojson").unwrap()["features"][0]["properties"]["code"] = json!("35020600106");
    let p = only(rejected(&files), InputProblemKind::MalformedCode);
    assert!(
        p.message.contains("12 digits") && p.message.contains("11 characters"),
        "{}",
        p.message
    );
    files.get_mut("boundary.geojson").unwrap()["features"][0]["properties"]["code"] = json!("35020600100A");
    only(rejected(&files), InputProblemKind::MalformedCode);
    files.get_mut("boundary.geojson").unwrap()["features"][0]["properties"]["code"] = json!(350206001017u64);
    let p = only(rejected(&files), InputProblemKind::WrongType);
    assert!(p.message.contains("leading zeros"), "{}", p.message);
}

#[test]
fn overlapping_communities() {
    let mut files = valid();
    let boundary = files.get_mut("boundary.geojson").unwrap();
    let mut second = boundary["features"][0].clone();
    second["geometry"] = polygon(rect(118.109, 24.500, 118.120, 24.508));
    second["properties"]["code"] = json!("350206001007");
    boundary["features"].as_array_mut().unwrap().push(second);
    let p = only(rejected(&files), InputProblemKind::OverlappingCommunities);
    assert!(p.message.contains("350206001017"), "{}", p.message);
}

#[test]
fn overlapping_buildings() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"]
        .as_array_mut()
        .unwrap()
        .push(building("B9", json!(10), 118.1012, 24.50105));
    let p = only(rejected(&files), InputProblemKind::OverlappingBuildings);
    assert_eq!(p.feature.unwrap().id.as_deref(), Some("B9"));
    assert!(p.message.contains("\"B1\""), "{}", p.message);
}

#[test]
fn units_must_add_up() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][2]["properties"]["units"][1]["population"] = json!(49);
    let p = only(rejected(&files), InputProblemKind::UnitsMismatch);
    assert!(p.message.contains("119") && p.message.contains("120"), "{}", p.message);
    files.get_mut("buildings.geojson").unwrap()["features"][2]["properties"]["units"][1]["population"] = json!(-1);
    let p = only(rejected(&files), InputProblemKind::NegativeValue);
    assert_eq!(p.field.as_deref(), Some("properties.units[1].population"));
}

#[test]
fn an_empty_dataset() {
    let mut files = valid();
    files.insert("boundary.geojson", collection(vec![]));
    let p = rejected(&files).into_iter().next().unwrap();
    assert_eq!((p.file.as_str(), p.kind), ("boundary.geojson", InputProblemKind::Empty));

    let mut files = valid();
    files.insert("buildings.geojson", collection(vec![]));
    files.remove("population.geojson");
    let p = only(rejected(&files), InputProblemKind::Empty);
    assert!(p.message.contains("no buildings"), "{}", p.message);
}

#[test]
fn staff_must_name_a_grid_of_this_dataset() {
    let mut files = valid();
    files.get_mut("staff.json").unwrap()[0]["grid"] = json!("110101001001001");
    let p = only(rejected(&files), InputProblemKind::InvalidValue);
    assert_eq!((p.file.as_str(), p.field.as_deref()), ("staff.json", Some("grid")));
}

#[test]
fn every_problem_is_reported_at_once_and_reads_well() {
    let mut files = valid();
    files.get_mut("buildings.geojson").unwrap()["features"][0]["properties"]["population"] = json!(-3);
    files.get_mut("resources.geojson").unwrap()["features"][0]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let e = load(&files).unwrap_err();
    assert_eq!(e.problems.len(), 2);
    let text = e.to_string();
    assert!(text.contains("2 problems"), "{text}");
    assert!(
        text.contains(
            "buildings.geojson: features[0] (id \"B1\"), properties.population: expected a whole number ≥ 0, found -3"
        ),
        "{text}"
    );
    assert!(
        text.contains("resources.geojson: features[0] (id \"R1\"), properties.name: missing"),
        "{text}"
    );
}

#[test]
fn a_dataset_held_in_memory_imports_like_its_folder() {
    use gis_core::io::load_dataset_files;
    use std::path::Path;
    let files = valid();
    let from_folder = load(&files).expect("valid");
    let texts: BTreeMap<String, String> = files.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let from_memory = load_dataset_files(Path::new("upload"), texts.clone()).expect("valid");
    assert_eq!(
        format!("{:?}", from_memory.dataset),
        format!("{:?}", from_folder.dataset)
    );
    // A required file missing from memory is the same problem as one missing from a folder.
    let mut missing = texts;
    missing.remove("boundary.geojson");
    let err = load_dataset_files(Path::new("upload"), missing).unwrap_err();
    assert!(
        err.problems
            .iter()
            .any(|p| p.kind == InputProblemKind::MissingFile && p.file == "boundary.geojson"),
        "{err}"
    );
}

#[test]
fn a_community_thousands_of_km_wide_is_a_typo_and_names_the_stray_vertex() {
    let mut files = valid();
    // One longitude typed as the latitude: a valid polygon with a 9,500 km spike.
    files.insert(
        "boundary.geojson",
        collection(vec![feature(
            json!({"code": "350206001017", "name": "康乐社区"}),
            polygon(json!([[
                [118.100, 24.500],
                [118.110, 24.500],
                [118.110, 24.508],
                [24.504, 24.508],
                [118.100, 24.500]
            ]])),
        )]),
    );
    let p = only(rejected(&files), InputProblemKind::ImplausibleExtent);
    assert_eq!(
        (p.file.as_str(), p.feature.as_ref().map(|f| f.index), p.field.as_deref()),
        ("boundary.geojson", Some(0), Some("geometry"))
    );
    assert!(
        p.message.contains("[24.504, 24.508]") && p.message.contains("mistyped"),
        "{}",
        p.message
    );
    assert!(p.message.contains("at most 200 km"), "{}", p.message);
}

#[test]
fn a_building_kilometres_wide_is_a_typo() {
    let mut files = valid();
    let mut b = building("B9", json!(10), 118.103, 24.503);
    b["geometry"]["coordinates"][0][2] = json!([118.1034, 24.6031]);
    files.get_mut("buildings.geojson").unwrap()["features"]
        .as_array_mut()
        .unwrap()
        .push(b);
    let p = only(rejected(&files), InputProblemKind::ImplausibleExtent);
    assert_eq!(
        (
            p.file.as_str(),
            p.feature.as_ref().and_then(|f| f.id.as_deref()),
            p.field.as_deref()
        ),
        ("buildings.geojson", Some("B9"), Some("geometry"))
    );
    assert!(p.message.contains("[118.1034, 24.6031]"), "{}", p.message);
}

#[test]
fn a_large_rural_village_is_accepted() {
    // 60 km across: a pastoral village (嘎查) is that large, and nothing is wrong with it.
    let mut files = valid();
    files.insert(
        "boundary.geojson",
        collection(vec![feature(
            json!({"code": "350206001017", "name": "康乐社区"}),
            polygon(rect(118.100, 24.500, 118.5, 24.8)),
        )]),
    );
    load(&files).expect("a 60 km village loads");
}

/// The streaming reader and the whole-tree reader (`load_dataset_files_as_trees`) say the same
/// of the same files: problems, report and dataset, coordinate for coordinate.
fn same_by_both_readers(texts: BTreeMap<String, String>) {
    use gis_core::io::{load_dataset_files, load_dataset_files_as_trees};
    use std::path::Path;
    let said = |r: Result<Loaded, ImportError>| match r {
        Ok(l) => format!("{:?}\n{:?}", l.report, l.dataset),
        Err(e) => format!("{:?}", e.problems),
    };
    let streamed = said(load_dataset_files(Path::new("d"), texts.clone()));
    let trees = said(load_dataset_files_as_trees(Path::new("d"), texts));
    assert_eq!(streamed, trees);
}

#[test]
fn the_streaming_reader_reads_every_fixture_as_the_tree_reader_does() {
    for name in ["kangle", "zhongjing", "urban-village"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(name);
        let texts = std::fs::read_dir(&dir)
            .expect("fixture")
            .map(|e| {
                let e = e.expect("entry");
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(e.path()).expect("text"))
            })
            .collect();
        same_by_both_readers(texts);
    }
}

/// The text with its first feature given a member of `depth` nested empty arrays.
fn nested(text: &str, depth: usize) -> String {
    let deep = format!(
        "\"type\":\"Feature\",\"deep\":{}{}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    text.replacen("\"type\":\"Feature\"", &deep, 1)
}

#[test]
fn the_streaming_reader_declines_what_only_the_tree_reader_words() {
    // Each edit is of the kind the streaming reader leaves to the tree reader (or reads itself
    // and must word alike): the result is the same either way.
    let base = valid();
    let text = |v: &Value| v.to_string();
    let b = base["buildings.geojson"].clone();
    let edits: Vec<(&str, String)> = vec![
        ("buildings.geojson", format!("\u{feff}{}", text(&b))),
        ("buildings.geojson", text(&b).replacen("[[[", "[[[NaN, 1], [", 1)),
        ("buildings.geojson", text(&b).replacen("[[[", "[[[-Infinity, 1], [", 1)),
        ("buildings.geojson", text(&b).replacen("[[[", "[[[1e400, 1], [", 1)),
        (
            "buildings.geojson",
            text(&b).replacen("\"Polygon\"", "\"MultiPolygon\"", 1),
        ),
        ("buildings.geojson", text(&b).replacen("\"Polygon\"", "\"Point\"", 1)),
        ("buildings.geojson", text(&b).replacen("\"Polygon\"", "7", 1)),
        (
            "buildings.geojson",
            text(&b).replacen("\"coordinates\"", "\"coords\"", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"coordinates\":[", "\"coordinates\":[[],", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"coordinates\":[[", "\"coordinates\":[[[0, 0, 0, 0]],[", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"coordinates\":[[", "\"coordinates\":[[], [", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"coordinates\":[[", "\"coordinates\":[[[1, \"x\"]], [", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"coordinates\":[[", "\"coordinates\":[[[1, 2, 3]], [", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"coordinates\":[[", "\"coordinates\":[[[200, 45]], [", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"geometry\":{", "\"geometry\":null, \"g\":{", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"geometry\":{", "\"geometry\":[], \"g\":{", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"geometry\":{", "\"geometry\":{\"type\":\"Point\"}, \"geometry\":{", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"type\":\"Feature\"", "\"type\":\"Feature\", \"type\":\"Nope\"", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"type\":\"FeatureCollection\"", "\"type\":\"Collection\"", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"features\":[", "\"features\":[3, ", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"features\":[", "\"features\":{}, \"features\":[", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"features\":[", "\"bbox\":[1e999], \"features\":[", 1),
        ),
        // What only a real parse reads right: an escaped key, brackets and quotes inside
        // strings, a trailing comma, other members around `features`, nesting at and past the
        // parser's limit.
        (
            "buildings.geojson",
            text(&b).replacen("\"features\":", "\"feat\\u0075res\":", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen(
                "\"features\":[",
                "\"name\":\"features\", \"crs\":{\"features\":[1]}, \"features\" :\n [",
                1,
            ),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"type\":\"Feature\"", "\"type\":\"Feature\",\"note\":\"]\\\"[,{\"", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen(
                "}],\"type\":\"FeatureCollection\"",
                "},],\"type\":\"FeatureCollection\"",
                1,
            ),
        ),
        (
            "buildings.geojson",
            text(&b).replacen(
                "\"type\":\"FeatureCollection\"",
                "\"type\":\"FeatureCollection\",\"x\":1e999",
                1,
            ),
        ),
        ("buildings.geojson", nested(&text(&b), 126)),
        ("buildings.geojson", nested(&text(&b), 70)),
        ("buildings.geojson", text(&b)[..text(&b).len() / 2].to_string()),
        ("buildings.geojson", "[]".to_string()),
        // Properties and a building's units, which the streaming reader holds as lists of
        // members rather than `Value` maps: repeated keys (the last counts), odd values, items
        // that are not objects, an escaped key, units nested in a unit.
        (
            "buildings.geojson",
            text(&b).replacen("\"units\":[", "\"units\":\"x\",\"units\":[", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"units\":[", "\"units\":[{\"name\":\"a\"}],\"units\":7,\"more\":[", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"units\":[", "\"units\":null,\"more\":[", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"units\":[", "\"units\":{\"name\":\"a\"},\"more\":[", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"units\":[", "\"units\":[3, [], ", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen(
                "\"units\":[",
                "\"units\":[{\"name\":\"x\",\"population\":0,\"units\":[{\"a\":1}],\"n\\u0061me\":\"y\"}, ",
                1,
            ),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"properties\":{", "\"properties\":[1,{\"a\":2}], \"properties\":{", 1),
        ),
        (
            "buildings.geojson",
            text(&b).replacen(
                "\"properties\":{",
                "\"properties\":{\"id\":\"q\"}, \"properties\":\"s\", \"x\":{",
                1,
            ),
        ),
        (
            "buildings.geojson",
            text(&b).replacen(
                "\"properties\":{",
                "\"properties\":{\"units\":[{\"name\":1}],\"p\\u006fpulation\":\"9\",",
                1,
            ),
        ),
        (
            "buildings.geojson",
            text(&b).replacen("\"properties\":{", "\"properties\":null, \"properties\":{", 1),
        ),
        (
            "roads.geojson",
            text(&base["roads.geojson"]).replacen("\"LineString\"", "\"MultiLineString\"", 1),
        ),
        (
            "resources.geojson",
            text(&base["resources.geojson"]).replacen("\"Point\"", "\"LineString\"", 1),
        ),
    ];
    for (file, edited) in edits {
        assert_ne!(edited, text(&base[file]), "the edit applies");
        let mut texts: BTreeMap<String, String> = base.iter().map(|(k, v)| (k.to_string(), text(v))).collect();
        texts.insert(file.to_string(), edited);
        same_by_both_readers(texts);
    }
}

#[test]
fn a_file_read_in_chunks_says_what_the_tree_reader_says() {
    // 10,000 buildings: the streaming reader hands them on 4,096 at a time. Problems in several
    // chunks — an id repeated from an earlier chunk, a bad count, a feature that is not one —
    // come in the same order from both readers; and a file declined near its end (after chunks
    // were checked) is read as a tree with nothing of the streamed part left over.
    let base = valid();
    let community = base["boundary.geojson"].clone();
    let many: Vec<Value> = (0..10_000)
        .map(|i| {
            let (x, y) = (
                118.1001 + (i % 100) as f64 * 0.00009,
                24.5001 + (i / 100) as f64 * 0.00007,
            );
            let mut b = building(&format!("B{i}"), json!(12), x, y);
            b["geometry"] = polygon(rect(x, y, x + 0.00005, y + 0.00004));
            b
        })
        .collect();
    let texts = |buildings: &[Value]| -> BTreeMap<String, String> {
        let mut t: BTreeMap<String, String> = BTreeMap::new();
        t.insert("boundary.geojson".into(), community.to_string());
        t.insert("buildings.geojson".into(), collection(buildings.to_vec()).to_string());
        t
    };
    same_by_both_readers(texts(&many));
    let mut bad = many.clone();
    bad[5_000]["properties"]["id"] = json!("B17");
    bad[9_000]["properties"]["population"] = json!(-3);
    bad[4_500] = json!({"type": "Nope"});
    bad[200]["properties"]["households"] = json!("many");
    same_by_both_readers(texts(&bad));
    let mut late = texts(&bad);
    let text = late.remove("buildings.geojson").unwrap();
    let at = text.rfind("[[[").unwrap();
    late.insert(
        "buildings.geojson".into(),
        format!("{}[[[NaN, 1], [{}", &text[..at], &text[at + 3..]),
    );
    same_by_both_readers(late);
}

/// Each building's anchor is geo's interior point of its footprint, bit for bit: the reader
/// finds it without geo's `relate` (gis-core/src/geom/anchor.rs), so check it on real shapes —
/// generated blocks, the urban village's touching rows, and a real OSM city centre if imported.
#[test]
fn anchors_are_geos_interior_points() {
    use geo::InteriorPoint;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for dir in ["fixtures/kangle", "fixtures/zhongjing", "fixtures/urban-village"] {
        let loaded = load_dataset(&root.join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
        for b in &loaded.dataset.buildings {
            assert_eq!(Some(b.anchor), b.footprint.interior_point(), "{dir}: building {}", b.id);
            checked += 1;
        }
    }
    assert!(checked > 3000, "only {checked} buildings checked");
}
