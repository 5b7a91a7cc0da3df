//! Files as GIS tools write them (geopandas, GDAL, QGIS): repairs, encodings, CSV headers,
//! curved geometry, estimated residents, grouped and dropped features.

use super::*;

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
