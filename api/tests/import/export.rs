//! `wangge export` into other coordinate systems, read back by GDAL and pyproj.

use super::*;

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
