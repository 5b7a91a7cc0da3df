//! Coordinate systems in: files GDAL wrote in Web Mercator, UTM, CGCS2000 Gauss-Krüger and
//! Finland's TM35FIN (Shapefile .prj and GeoJSON `crs` member) land where PROJ put them; the
//! precedence of `FILE@CRS`, `--crs` and what a file declares; what metres read as degrees look like.

use geo::{Coord, CoordsIter, Distance, Geodesic, Point};
use gis_core::model::Dataset;
use import::{Declared, FieldMap, ImportError, ImportOptions, SourceCrs, SourceSpec, import};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(p)
}

fn spec(s: &str) -> SourceSpec {
    s.parse().unwrap()
}

fn options(sources: &[String], out: &Path) -> ImportOptions {
    let mut o = ImportOptions::new(sources.iter().map(|s| spec(s)).collect(), out.to_path_buf());
    o.community_code = Some("350206001017".into());
    o
}

fn reference(file: &str) -> Dataset {
    // The WGS-84 footprints GDAL projected from: Kangle's own, or the copy moved to Helsinki.
    if file.starts_with("helsinki") {
        let dir = tempfile::tempdir().unwrap();
        let imported = import(&options(
            &[fixture("import/crs/helsinki-4326.geojson").display().to_string()],
            &dir.path().join("ref"),
        ))
        .unwrap();
        imported.loaded.dataset
    } else {
        gis_core::io::load_dataset(&fixture("kangle")).unwrap().dataset
    }
}

/// The largest distance in metres from an imported vertex to the nearest vertex of the same
/// building in `original`.
fn worst_vertex_m(imported: &Dataset, original: &Dataset) -> f64 {
    let by_id: HashMap<&str, _> = original
        .buildings
        .iter()
        .map(|b| (b.id.as_str(), &b.footprint))
        .collect();
    let mut worst: f64 = 0.0;
    assert_eq!(imported.buildings.len(), original.buildings.len());
    for b in &imported.buildings {
        let orig = by_id[b.id.as_str()];
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

const PROJECTED: &[(&str, &str)] = &[
    ("kangle-3857.shp", "EPSG:3857"),
    ("kangle-3857.geojson", "EPSG:3857"),
    ("kangle-32650.shp", "EPSG:32650"),
    ("kangle-32650.geojson", "EPSG:32650"),
    ("kangle-4527.shp", "EPSG:4527"),
    ("kangle-4527.geojson", "EPSG:4527"),
    ("helsinki-3067.shp", "EPSG:3067"),
    ("helsinki-3067.geojson", "EPSG:3067"),
];

#[test]
fn gdal_projected_files_land_where_proj_put_them() {
    for (file, code) in PROJECTED {
        let dir = tempfile::tempdir().unwrap();
        let imported = import(&options(
            &[fixture(&format!("import/crs/{file}")).display().to_string()],
            &dir.path().join("ds"),
        ))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let err = worst_vertex_m(&imported.loaded.dataset, &reference(file));
        // GeoJSON coordinates were written to the millimetre; shapefiles in full.
        assert!(err < 0.01, "{file}: worst vertex {err} m from where PROJ put it");
        let said = imported
            .notes
            .assumed
            .iter()
            .find(|a| a.contains("coordinates in"))
            .unwrap();
        assert!(said.contains(code) && said.contains("declared by"), "{file}: {said}");
        if file.ends_with(".geojson") {
            assert!(said.contains("crs member (urn:ogc:def:crs:EPSG::"), "{file}: {said}");
        }
    }
}

#[test]
fn gdal_prj_files_are_known_by_their_epsg_code() {
    for (file, code) in PROJECTED.iter().filter(|(f, _)| f.ends_with(".shp")) {
        let wkt = std::fs::read_to_string(fixture(&format!("import/crs/{file}")).with_extension("prj")).unwrap();
        match SourceCrs::from_prj(&wkt).unwrap() {
            SourceCrs::Projected(p) => assert_eq!(format!("EPSG:{}", p.epsg.unwrap()), *code, "{file}: {}", p.name),
            other => panic!("{file}: {other:?}"),
        }
    }
}

/// The Python with pyproj (`.ci/run` makes `out/ci-venv`), or None outside CI.
fn python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = std::env::var_os("WANGGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("out/ci-venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", "import pyproj"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(p);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "CI=true but {} has no pyproj: .ci/run installs scripts/tests/requirements.txt",
        p.display()
    );
    eprintln!(
        "\n!!! SKIPPED: no pyproj at {} (run .ci/run once to make the venv) !!!\n",
        p.display()
    );
    None
}

/// Every vertex of each projected GeoJSON, converted by pyproj (PROJ) to WGS-84, against what
/// import made of it: within a centimetre (the requirement is a metre).
#[test]
fn projected_vertices_agree_with_pyproj() {
    let Some(python) = python() else { return };
    let script = r#"
import json, sys
from pyproj import Transformer
out = {}
for path in sys.argv[1:]:
    d = json.load(open(path, encoding="utf-8"))
    code = d["crs"]["properties"]["name"].rsplit(":", 1)[1]
    t = Transformer.from_crs(int(code), 4326, always_xy=True)
    rows = []
    for f in d["features"]:
        for ring in f["geometry"]["coordinates"]:
            for x, y in ring:
                rows.append([f["properties"]["id"], *t.transform(x, y)])
    out[path] = rows
print(json.dumps(out))
"#;
    let files: Vec<PathBuf> = PROJECTED
        .iter()
        .filter(|(f, _)| f.ends_with(".geojson"))
        .map(|(f, _)| fixture(&format!("import/crs/{f}")))
        .collect();
    let run = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let by_file: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    for file in &files {
        let dir = tempfile::tempdir().unwrap();
        let d = import(&options(&[file.display().to_string()], &dir.path().join("ds")))
            .unwrap()
            .loaded
            .dataset;
        let ours: HashMap<&str, Vec<Coord<f64>>> = d
            .buildings
            .iter()
            .map(|b| (b.id.as_str(), b.footprint.coords_iter().collect()))
            .collect();
        let mut worst: f64 = 0.0;
        let rows = by_file[file.display().to_string()].as_array().unwrap();
        assert!(rows.len() > 900, "{}", rows.len());
        for r in rows {
            let p = Point::new(r[1].as_f64().unwrap(), r[2].as_f64().unwrap());
            let nearest = ours[r[0].as_str().unwrap()]
                .iter()
                .map(|c| Geodesic.distance(p, Point(*c)))
                .fold(f64::INFINITY, f64::min);
            worst = worst.max(nearest);
        }
        assert!(worst < 0.01, "{}: worst vertex {worst} m from pyproj", file.display());
        eprintln!(
            "{}: worst vertex {worst:.6} m from pyproj",
            file.file_name().unwrap().to_string_lossy()
        );
    }
}

/// Copies a fixture's shapefile parts (and whatever else of its name) into `dir`.
fn copy(name: &str, dir: &Path) -> PathBuf {
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        std::fs::copy(
            fixture(&format!("import/crs/{name}.{ext}")),
            dir.join(format!("{name}.{ext}")),
        )
        .unwrap();
    }
    dir.join(format!("{name}.shp"))
}

#[test]
fn metres_without_a_prj_say_what_they_look_like() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("kangle-4527", dir.path());
    std::fs::remove_file(shp.with_extension("prj")).unwrap();
    let e = import(&options(&[shp.display().to_string()], &dir.path().join("ds"))).unwrap_err();
    let t = e.to_string();
    assert!(
        t.contains("3-degree Gauss-Kruger zone 39") && t.contains("add --crs EPSG:4527"),
        "{t}"
    );
    assert!(
        !t.contains("features"),
        "one message for the layer, not one per feature: {t}"
    );

    let shp = copy("kangle-3857", dir.path());
    std::fs::remove_file(shp.with_extension("prj")).unwrap();
    let t = import(&options(&[shp.display().to_string()], &dir.path().join("ds")))
        .unwrap_err()
        .to_string();
    assert!(t.contains("Web Mercator") && t.contains("add --crs EPSG:3857"), "{t}");

    // A GeoJSON in metres without a crs member: the same.
    let text = std::fs::read_to_string(fixture("import/crs/kangle-4527.geojson")).unwrap();
    let bare = dir.path().join("bare.geojson");
    std::fs::write(
        &bare,
        text.replace(
            r#""crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::4527" } },"#,
            "",
        ),
    )
    .unwrap();
    let t = import(&options(&[bare.display().to_string()], &dir.path().join("ds")))
        .unwrap_err()
        .to_string();
    assert!(t.contains("add --crs EPSG:4527"), "{t}");
    assert!(!dir.path().join("ds").exists());
}

#[test]
fn crs_precedence_explicit_declared_empty_and_conflicting() {
    let dir = tempfile::tempdir().unwrap();
    let k = reference("kangle");
    let shp = copy("kangle-4527", dir.path());

    // An empty .prj: --crs wins (it used to be the other way round), and says so.
    std::fs::write(shp.with_extension("prj"), "").unwrap();
    let mut o = options(&[shp.display().to_string()], &dir.path().join("a"));
    o.crs = Some(SourceCrs::parse("EPSG:4527").unwrap());
    let imported = import(&o).unwrap();
    assert!(worst_vertex_m(&imported.loaded.dataset, &k) < 0.01);
    assert!(
        imported
            .notes
            .assumed
            .iter()
            .any(|a| a.contains("(--crs) — OVERRIDES") && a.contains("empty")),
        "{:?}",
        imported.notes.assumed
    );
    // ... and without --crs, the empty .prj declares nothing: the metres are recognised.
    let e = import(&options(&[shp.display().to_string()], &dir.path().join("b"))).unwrap_err();
    assert!(e.to_string().contains("add --crs EPSG:4527"), "{e}");

    // An unreadable .prj: --crs wins; without it, the import stops naming the .prj and the way out.
    std::fs::write(shp.with_extension("prj"), "PROJCS[\"Custom\",GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,298.257223563]]],PROJECTION[\"Space_Oblique\"]]").unwrap();
    let e = import(&options(&[shp.display().to_string()], &dir.path().join("c"))).unwrap_err();
    assert!(
        matches!(&e, ImportError::UnknownCrs { reason, .. } if reason.contains("--crs EPSG:N")),
        "{e}"
    );
    assert!(e.to_string().contains("kangle-4527.prj"), "{e}");
    let mut o = options(&[shp.display().to_string()], &dir.path().join("c"));
    o.crs = Some(SourceCrs::parse("urn:ogc:def:crs:EPSG::4527").unwrap());
    assert!(worst_vertex_m(&import(&o).unwrap().loaded.dataset, &k) < 0.01);

    // A readable .prj that disagrees with --crs: an error naming both and the per-file override.
    std::fs::copy(fixture("import/crs/kangle-4527.prj"), shp.with_extension("prj")).unwrap();
    let mut o = options(&[shp.display().to_string()], &dir.path().join("d"));
    o.crs = Some(SourceCrs::parse("EPSG:4548").unwrap());
    let e = import(&o).unwrap_err();
    let t = e.to_string();
    assert!(
        matches!(e, ImportError::CrsConflict { .. })
            && t.contains("says EPSG:4527 but --crs says EPSG:4548")
            && t.contains("@EPSG:4548"),
        "{t}"
    );
    // One that agrees (the same system in other words) is fine.
    o.crs = Some(SourceCrs::parse("http://www.opengis.net/def/crs/EPSG/0/4527").unwrap());
    let imported = import(&o).unwrap();
    assert!(
        imported
            .notes
            .assumed
            .iter()
            .any(|a| a.contains("(--crs, as") && a.contains("kangle-4527.prj says")),
        "{:?}",
        imported.notes.assumed
    );
    assert!(!dir.path().join("d").join("..").join("e").exists());
}

#[test]
fn each_source_carries_its_own_crs_and_every_override_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let k = reference("kangle");
    // Household points copied from AMap (GCJ-02) beside a Gauss-Krüger survey: one import.
    let mut csv = String::from("lon,lat,count\n");
    let targets: Vec<Coord<f64>> = k.buildings.iter().take(3).map(|b| b.anchor.0).collect();
    for t in &targets {
        let g = gis_core::crs::wgs84_to_gcj02(*t);
        csv.push_str(&format!("{},{},5\n", g.x, g.y));
    }
    let hh = dir.path().join("hh.csv");
    std::fs::write(&hh, csv).unwrap();
    let sources = [
        fixture("import/crs/kangle-4527.shp").display().to_string(),
        format!("population={}@gcj02", hh.display()),
    ];
    let mut o = options(&sources, &dir.path().join("mixed"));
    o.boundary = Some(spec(fixture("kangle/boundary.geojson").to_str().unwrap()));
    let imported = import(&o).unwrap();
    let d = &imported.loaded.dataset;
    assert!(worst_vertex_m(d, &k) < 0.01);
    assert_eq!(d.points.len(), 3);
    for (p, t) in d.points.iter().zip(&targets) {
        assert!(
            Geodesic.distance(p.location, Point(*t)) < 0.01,
            "{:?} vs {t:?}",
            p.location
        );
    }
    let notes = &imported.notes.assumed;
    assert!(
        notes
            .iter()
            .any(|a| a.contains("hh.csv: coordinates in GCJ-02") && a.contains("hh.csv@gcj02")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|a| a.contains("kangle-4527.shp: coordinates in") && a.contains("EPSG:4527")),
        "{notes:?}"
    );

    // A shapefile whose .prj says WGS-84 but whose points came from AMap: FILE@gcj02 overrides
    // the .prj, and the report says so in capitals.
    let gbk = fixture("import/kangle-gbk/buildings.shp");
    let mut o = options(&[format!("{}@gcj02", gbk.display())], &dir.path().join("over"));
    o.fields = FieldMap::parse(&["buildings.id=BH".to_string(), "population=RKS".to_string()]).unwrap();
    let imported = import(&o).unwrap();
    assert!(
        imported
            .notes
            .assumed
            .iter()
            .any(|a| a.contains("@gcj02) — OVERRIDES") && a.contains("buildings.prj, which says WGS-84")),
        "{:?}",
        imported.notes.assumed
    );
    // Shifted by the GCJ-02 offset (hundreds of metres in Xiamen), as asked.
    let moved = imported
        .loaded
        .dataset
        .buildings
        .iter()
        .find(|b| b.id == "KL-B0001")
        .unwrap()
        .anchor;
    let orig = k.buildings.iter().find(|b| b.id == "KL-B0001").unwrap().anchor;
    assert!(Geodesic.distance(moved, orig) > 100.0);

    // A CRS after '@' that does not parse is named.
    let e = "buildings=x.shp@EPSG:zz".parse::<SourceSpec>().unwrap_err();
    assert!(e.contains("after '@'") && e.contains("EPSG:zz"), "{e}");
    // An OpenStreetMap extract is WGS-84 and takes no @.
    let e = import(&options(
        &[format!("{}@gcj02", fixture("osm/test.osm.pbf").display())],
        &dir.path().join("osm"),
    ))
    .unwrap_err();
    assert!(e.to_string().contains("always WGS-84"), "{e}");
}

#[test]
fn geojson_crs_members_in_the_forms_tools_write() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("import/crs/helsinki-3067.geojson")).unwrap();
    let member = r#""crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::3067" } }"#;
    assert!(text.contains(member));
    let h = reference("helsinki-4326");
    for (i, other) in [
        r#""crs": { "type": "name", "properties": { "name": "EPSG:3067" } }"#,
        r#""crs": {"type": "EPSG", "properties": {"code": 3067}}"#,
    ]
    .iter()
    .enumerate()
    {
        let f = dir.path().join(format!("h{i}.geojson"));
        std::fs::write(&f, text.replace(member, other)).unwrap();
        let imported = import(&options(&[f.display().to_string()], &dir.path().join(format!("h{i}")))).unwrap();
        assert!(worst_vertex_m(&imported.loaded.dataset, &h) < 0.01, "{other}");
    }
    // OGC CRS84 (what GDAL writes for WGS-84): longitude/latitude.
    let wgs = std::fs::read_to_string(fixture("import/crs/helsinki-4326.geojson")).unwrap();
    let f = dir.path().join("crs84.geojson");
    std::fs::write(
        &f,
        wgs.replacen(
            '{',
            r#"{"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "#,
            1,
        ),
    )
    .unwrap();
    let imported = import(&options(&[f.display().to_string()], &dir.path().join("crs84"))).unwrap();
    assert!(worst_vertex_m(&imported.loaded.dataset, &h) < 1e-6);
    assert!(
        imported
            .notes
            .assumed
            .iter()
            .any(|a| a.contains("crs member (urn:ogc:def:crs:OGC:1.3:CRS84)")),
        "{:?}",
        imported.notes.assumed
    );
    // A member naming something unknown stops the import, naming it.
    let f = dir.path().join("bad.geojson");
    std::fs::write(
        &f,
        text.replace(
            member,
            r#""crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::99999" } }"#,
        ),
    )
    .unwrap();
    let e = import(&options(&[f.display().to_string()], &dir.path().join("bad"))).unwrap_err();
    assert!(e.to_string().contains("urn:ogc:def:crs:EPSG::99999"), "{e}");
    // Declared is what the reader hands on.
    let layer = import::geojson::read(&fixture("import/crs/kangle-3857.geojson")).unwrap();
    assert!(
        matches!(layer.declared_crs, Some(Declared::Known { crs: SourceCrs::Projected(ref p), .. }) if p.epsg == Some(3857))
    );
}

#[test]
fn beijing_1954_and_xian_1980_stay_refused_with_the_reason() {
    for code in ["EPSG:2436", "EPSG:2383", "EPSG:4214"] {
        let e = SourceCrs::parse(code).unwrap_err();
        assert!(e.contains("not published as parameters"), "{code}: {e}");
    }
}

/// Albers and Lambert conformal conic from proj strings GDAL wrote as ESRI .prj files without a
/// code: read from the projection and its parameters.
#[test]
fn conic_prj_files_without_a_code_are_read_from_their_parameters() {
    let k = reference("kangle");
    for file in ["resources-albers.shp", "resources-lcc.shp"] {
        let dir = tempfile::tempdir().unwrap();
        let sources = [
            fixture("kangle/buildings.geojson").display().to_string(),
            fixture(&format!("import/crs/{file}")).display().to_string(),
        ];
        let imported = import(&options(&sources, &dir.path().join("ds"))).unwrap_or_else(|e| panic!("{file}: {e}"));
        let d = &imported.loaded.dataset;
        assert_eq!(d.resources.len(), k.resources.len());
        for r in &k.resources {
            let got = d.resources.iter().find(|x| x.id == r.id).unwrap();
            let err = Geodesic.distance(got.location, r.location);
            assert!(err < 0.01, "{file}: {} is {err} m off", r.id);
        }
        let prj = std::fs::read_to_string(fixture(&format!("import/crs/{file}")).with_extension("prj")).unwrap();
        match SourceCrs::from_prj(&prj).unwrap() {
            SourceCrs::Projected(p) => assert!(
                p.proj4.starts_with(if file.contains("albers") {
                    "+proj=aea"
                } else {
                    "+proj=lcc"
                }),
                "{}",
                p.proj4
            ),
            other => panic!("{other:?}"),
        }
    }
}
