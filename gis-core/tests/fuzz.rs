//! Fuzz targets for the two strict imports: dataset files (`load_dataset_files`, and
//! `load_dataset` when a file is not UTF-8) and grid layers (`parse_drawn_layer`, then
//! `validate` when accepted). Inputs are the committed fixtures mutated structurally (values,
//! types, keys, transplanted pieces, raw NaN / huge numbers / lone surrogates / deep nesting)
//! and textually (truncation, stray bytes); proptest shrinks a failure to its fewest edits.
//!
//! Every input must end in `Ok` or a typed error with at least one problem — never a panic,
//! never a hang. An accepted small dataset is also partitioned, and its grids verified.
//!
//! - `corpus_*` replay the committed corpus (`fuzz/corpus/{dataset,layer}`) in CI.
//! - `fuzz_*` are the long runs (`#[ignore]`); see RELIABILITY.md for the command.
//!   `FUZZ_SECONDS` sets the duration; `FUZZ_SAVE=1` adds inputs that reach a problem (file,
//!   kind, field) or defect kind not seen before to the corpus.

use crate::fuzz_support;

use fuzz_support::*;
use gis_core::io::grids::{
    GridLayer, LayerMeta, parse_drawn_layer, parse_drawn_layer_as_tree, parse_layer, read_drawn_layer, to_geojson,
};
use gis_core::io::{ImportError, InputProblem, Loaded, load_dataset, load_dataset_files, load_dataset_files_as_trees};
use gis_core::partition::{PartitionOptions, WarningKind, partition};
use gis_core::validate::{ValidateOptions, defects_geojson, validate};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const FILES: [&str; 7] = [
    "boundary.geojson",
    "buildings.geojson",
    "exclusive.geojson",
    "resources.geojson",
    "roads.geojson",
    "staff.json",
    "population.geojson",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus(target: &str) -> PathBuf {
    root().join("fuzz/corpus").join(target)
}

/// Kangle's files as committed.
fn kangle() -> &'static BTreeMap<String, Vec<u8>> {
    static K: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    K.get_or_init(|| {
        FILES[..6]
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    std::fs::read(root().join("fixtures/kangle").join(f)).expect("fixture"),
                )
            })
            .collect()
    })
}

fn kangle_json() -> &'static BTreeMap<String, Value> {
    static K: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    K.get_or_init(|| {
        kangle()
            .iter()
            .map(|(f, b)| (f.clone(), serde_json::from_slice(b).expect("fixture is JSON")))
            .collect()
    })
}

/// Small problems: the problem's file, kind and field (indices blanked) — what says which
/// check was reached.
fn sites(problems: &[InputProblem]) -> BTreeSet<String> {
    problems
        .iter()
        .map(|p| {
            let field: String = p
                .field
                .as_deref()
                .unwrap_or("")
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            format!("{}|{:?}|{}", p.file, p.kind, field)
        })
        .collect()
}

fn hash(bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("{:016x}", h.finish())
}

// ---------------------------------------------------------------------------------------------
// Dataset import

#[derive(Debug, Clone)]
struct DatasetCase {
    /// Buildings and resources kept (the first n): small datasets get partitioned.
    buildings: usize,
    resources: usize,
    /// Optional files left out (bits: exclusive, resources, roads, staff).
    drop: u8,
    /// Add a population.geojson of a few points.
    points: bool,
    edits: Vec<(usize, Edit)>,
    text: Vec<(usize, TextEdit)>,
}

fn dataset_case() -> impl Strategy<Value = DatasetCase> {
    (
        prop_oneof![3 => 1usize..12, 1 => 12usize..200],
        0usize..8,
        prop_oneof![3 => Just(0u8), 1 => any::<u8>()],
        any::<bool>(),
        prop::collection::vec((0usize..7, edit()), 0..6),
        prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec((0usize..7, text_edit()), 1..3)],
    )
        .prop_map(|(buildings, resources, drop, points, edits, text)| DatasetCase {
            buildings,
            resources,
            drop,
            points,
            edits,
            text,
        })
}

/// The files the case feeds to import; unedited files are the fixture's own bytes.
fn dataset_files(c: &DatasetCase) -> BTreeMap<String, Vec<u8>> {
    let base = kangle_json();
    let mut docs: BTreeMap<String, (Value, bool)> = BTreeMap::new();
    for (i, f) in FILES[..6].iter().enumerate() {
        if (2..6).contains(&i) && c.drop & (1 << (i - 2)) != 0 {
            continue;
        }
        let mut v = base[*f].clone();
        let mut changed = false;
        let keep = match *f {
            "buildings.geojson" => Some(c.buildings),
            "resources.geojson" => Some(c.resources),
            _ => None,
        };
        if let (Some(n), Some(features)) = (keep, v.get_mut("features").and_then(Value::as_array_mut)) {
            changed |= features.len() > n;
            features.truncate(n);
        }
        docs.insert(f.to_string(), (v, changed));
    }
    if c.points {
        // A few households beside the first buildings kept.
        let pts: Vec<Value> = base["buildings.geojson"]["features"]
            .as_array()
            .expect("features")
            .iter()
            .take(c.buildings.min(4))
            .enumerate()
            .map(|(i, b)| {
                let p = &b["geometry"]["coordinates"][0][0];
                let (x, y) = (p[0].as_f64().unwrap_or(118.11) - 0.00005, p[1].as_f64().unwrap_or(24.505) - 0.00005);
                json!({"type": "Feature", "properties": {"count": 3 + i}, "geometry": {"type": "Point", "coordinates": [x, y]}})
            })
            .collect();
        docs.insert(
            FILES[6].into(),
            (json!({"type": "FeatureCollection", "features": pts}), true),
        );
    }
    let mut out = BTreeMap::new();
    for (f, (v, changed)) in docs {
        let i = FILES.iter().position(|x| *x == f).expect("known file");
        let edits: Vec<Edit> = c
            .edits
            .iter()
            .filter(|(k, _)| *k == i)
            .map(|(_, e)| e.clone())
            .collect();
        let text: Vec<TextEdit> = c.text.iter().filter(|(k, _)| *k == i).map(|(_, e)| e.clone()).collect();
        let bytes = if changed || !edits.is_empty() || !text.is_empty() {
            mutate(&v, &edits, &text)
        } else {
            kangle()[&f].clone()
        };
        out.insert(f, bytes);
    }
    out
}

/// The dataset check: `Ok` or a typed error with problems; an accepted small dataset
/// partitions without panic into verified grids. Returns the sites reached.
fn check_dataset(files: &BTreeMap<String, Vec<u8>>) -> BTreeSet<String> {
    let texts: Option<BTreeMap<String, String>> = files
        .iter()
        .map(|(f, b)| Some((f.clone(), String::from_utf8(b.clone()).ok()?)))
        .collect();
    let loaded = match texts {
        Some(texts) => {
            let streamed = load_dataset_files(Path::new("fuzz"), texts.clone());
            // The streaming reader and the whole-tree reader agree on every input.
            let trees = load_dataset_files_as_trees(Path::new("fuzz"), texts);
            assert_eq!(
                outcome(&streamed),
                outcome(&trees),
                "the streaming and tree readers differ"
            );
            streamed
        }
        None => {
            // Not UTF-8: only a folder can hold it.
            let dir = tempfile::tempdir().expect("tempdir");
            for (f, b) in files {
                std::fs::write(dir.path().join(f), b).expect("write");
            }
            load_dataset(dir.path())
        }
    };
    match loaded {
        Err(e) => {
            assert!(!e.problems.is_empty(), "rejected without a reason");
            assert!(e.to_string().contains("rejected"));
            sites(&e.problems)
        }
        Ok(loaded) => {
            let d = loaded.dataset;
            let mut out = BTreeSet::from(["accepted".to_string()]);
            if d.buildings.len() <= 40 && d.communities.len() <= 2 {
                let options = PartitionOptions {
                    micro: Some(PartitionOptions::default_micro()),
                    ..PartitionOptions::default()
                };
                let p = partition(&d, &options, &mut |_, _| {});
                // A cut building or gap is only excusable when partition said why.
                let excused = p.report.communities.iter().flat_map(|c| &c.warnings).any(|w| {
                    matches!(
                        w.kind,
                        WarningKind::CrossesCommunityLine
                            | WarningKind::OverlappingOutlines
                            | WarningKind::Untriangulated
                    )
                });
                assert!(
                    excused || p.report.verification.is_clean(),
                    "accepted dataset partitioned with defects: {:?}",
                    p.report.verification
                );
                out.insert("partitioned".into());
                for w in p.report.communities.iter().flat_map(|c| &c.warnings) {
                    out.insert(format!("warning|{:?}", w.kind));
                }
            }
            out
        }
    }
}

/// Everything a load says, written out: problems, report and the dataset (`{:?}` prints every
/// coordinate exactly).
fn outcome(loaded: &Result<Loaded, ImportError>) -> String {
    match loaded {
        Ok(l) => format!("{:?}\n{:?}", l.report, l.dataset),
        Err(e) => format!("{:?}", e.problems),
    }
}

/// The files of a corpus entry: Kangle's, less those named in `absent`, with the entry's own.
fn dataset_entry(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = kangle().clone();
    for entry in std::fs::read_dir(dir).expect("corpus entry") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path()).expect("read");
        if name == "absent" {
            for f in String::from_utf8_lossy(&bytes).lines() {
                files.remove(f.trim());
            }
        } else {
            files.insert(name, bytes);
        }
    }
    files
}

fn save_dataset(files: &BTreeMap<String, Vec<u8>>) {
    let mut own: BTreeMap<&str, &[u8]> = BTreeMap::new();
    let mut absent = String::new();
    for f in &FILES[..6] {
        match files.get(*f) {
            None => absent.push_str(&format!("{f}\n")),
            Some(b) if *b != kangle()[*f] => {
                own.insert(f, b);
            }
            Some(_) => {}
        }
    }
    if let Some(b) = files.get(FILES[6]) {
        own.insert(FILES[6], b);
    }
    let size: usize = own.values().map(|b| b.len()).sum();
    if size > 24_000 || dir_size(&corpus("dataset")) + size > 700_000 {
        return;
    }
    let mut all = absent.clone().into_bytes();
    for (f, b) in &own {
        all.extend_from_slice(f.as_bytes());
        all.extend_from_slice(b);
    }
    let dir = corpus("dataset").join(hash(&all));
    std::fs::create_dir_all(&dir).expect("mkdir");
    if !absent.is_empty() {
        std::fs::write(dir.join("absent"), absent).expect("write");
    }
    for (f, b) in own {
        std::fs::write(dir.join(f), b).expect("write");
    }
}

fn dir_size(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| {
            if e.path().is_dir() {
                dir_size(&e.path())
            } else {
                e.metadata().map_or(0, |m| m.len() as usize)
            }
        })
        .sum()
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Sites reached so far in this process, for deciding what is worth keeping.
fn seen() -> &'static Mutex<HashSet<String>> {
    static S: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    S.get_or_init(Default::default)
}

fn novel(sites: &BTreeSet<String>) -> bool {
    let mut seen = seen().lock().unwrap();
    let mut new = false;
    for s in sites {
        new |= seen.insert(s.clone());
    }
    new
}

fn saving() -> bool {
    std::env::var("FUZZ_SAVE").is_ok_and(|v| v == "1")
}

#[test]
fn corpus_dataset_replays() {
    let entries = sorted_entries(&corpus("dataset"));
    assert!(
        entries.len() >= 20,
        "the dataset corpus is committed ({} entries)",
        entries.len()
    );
    let mut reached = BTreeSet::new();
    for e in entries {
        let files = dataset_entry(&e);
        match bounded(
            files,
            Duration::from_secs(120),
            |_| e.display().to_string(),
            check_dataset,
        ) {
            Ok(s) => reached.extend(s),
            Err(panic) => panic!("{}: {panic}", e.display()),
        }
    }
    // The corpus reaches both ends: accepted-and-partitioned and many kinds of rejection.
    assert!(reached.contains("partitioned"), "{reached:?}");
    assert!(reached.len() >= 20, "{reached:?}");
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=600 cargo test --release -p gis-core --test integration -- --ignored fuzz::fuzz_dataset_import"]
fn fuzz_dataset_import() {
    for e in sorted_entries(&corpus("dataset")) {
        novel(&check_dataset(&dataset_entry(&e)));
    }
    let cases = run_for(dataset_case, |c| {
        let files = dataset_files(&c);
        let reached = bounded(
            files.clone(),
            Duration::from_secs(30),
            |c| format!("{c:?}"),
            check_dataset,
        )
        .map_err(TestCaseError::fail)?;
        if saving() && novel(&reached) {
            save_dataset(&files);
        }
        Ok(())
    });
    eprintln!(
        "fuzz_dataset_import: {cases} cases, {} sites reached",
        seen().lock().unwrap().len()
    );
}

// ---------------------------------------------------------------------------------------------
// Grid-layer import and validate

fn kangle_dataset() -> &'static gis_core::Dataset {
    static D: OnceLock<gis_core::Dataset> = OnceLock::new();
    D.get_or_init(|| {
        load_dataset(&root().join("fixtures/kangle"))
            .expect("fixture loads")
            .dataset
    })
}

/// Kangle partitioned (with micro-grids) as `partition` writes it, and the hand-drawn layer.
fn base_layers() -> &'static [Value; 2] {
    static L: OnceLock<[Value; 2]> = OnceLock::new();
    L.get_or_init(|| {
        let options = PartitionOptions {
            micro: Some(PartitionOptions::default_micro()),
            ..PartitionOptions::default()
        };
        let p = partition(kangle_dataset(), &options, &mut |_, _| {});
        let layer = GridLayer {
            grids: p.grids,
            meta: LayerMeta {
                bounds: Some(options.bounds),
                ..LayerMeta::default()
            },
        };
        let drawn = std::fs::read_to_string(root().join("fixtures/layers/kangle-hand-drawn.geojson")).expect("fixture");
        [
            serde_json::from_str(&to_geojson(&layer)).expect("to_geojson writes JSON"),
            serde_json::from_str(&drawn).expect("fixture is JSON"),
        ]
    })
}

#[derive(Debug, Clone)]
struct LayerCase {
    hand_drawn: bool,
    /// Features kept (the first n), so that inputs stay small enough to keep.
    keep: Option<usize>,
    edits: Vec<Edit>,
    text: Vec<TextEdit>,
}

fn layer_case() -> impl Strategy<Value = LayerCase> {
    (
        any::<bool>(),
        prop_oneof![3 => (1usize..6).prop_map(Some), 1 => Just(None)],
        prop::collection::vec(edit(), 0..6),
        prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec(text_edit(), 1..3)],
    )
        .prop_map(|(hand_drawn, keep, edits, text)| LayerCase {
            hand_drawn,
            keep,
            edits,
            text,
        })
}

fn layer_bytes(c: &LayerCase) -> Vec<u8> {
    let mut v = base_layers()[usize::from(c.hand_drawn)].clone();
    if let (Some(n), Some(f)) = (c.keep, v.get_mut("features").and_then(Value::as_array_mut)) {
        f.truncate(n);
    }
    mutate(&v, &c.edits, &c.text)
}

/// The layer check: read strictly (`parse_layer`) and as drawn (`parse_drawn_layer`); a layer
/// read as drawn validates against Kangle with its own bounds and scheme. Returns the sites.
fn check_layer(bytes: &Vec<u8>) -> BTreeSet<String> {
    let path = Path::new("fuzz.geojson");
    let drawn = match String::from_utf8(bytes.clone()) {
        Ok(text) => {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let _ = parse_layer(&v, "fuzz.geojson");
            }
            let streamed = parse_drawn_layer(text.clone(), path);
            // The streaming reader and the whole-tree reader agree on every input.
            let tree = parse_drawn_layer_as_tree(text, path);
            assert_eq!(
                format!("{streamed:?}"),
                format!("{tree:?}"),
                "the streaming and tree readers of a layer differ"
            );
            streamed
        }
        Err(_) => {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join("fuzz.geojson"), bytes).expect("write");
            read_drawn_layer(&dir.path().join("fuzz.geojson"))
        }
    };
    match drawn {
        Err(e) => {
            assert!(!e.problems.is_empty(), "rejected without a reason");
            assert!(e.to_string().contains("rejected"));
            sites(&e.problems)
        }
        Ok(layer) => {
            let options = ValidateOptions {
                bounds: layer.meta.bounds.unwrap_or_default(),
                scheme: layer.meta.code_scheme.clone(),
                ..ValidateOptions::default()
            };
            let report = validate(kangle_dataset(), &layer, &options).expect("valid options");
            serde_json::to_string(&report).expect("the report serialises");
            serde_json::from_str::<Value>(&defects_geojson(&report)).expect("defects are GeoJSON");
            let mut out: BTreeSet<String> = report.defects.iter().map(|d| format!("defect|{:?}", d.kind)).collect();
            out.insert("validated".into());
            out
        }
    }
}

#[test]
fn corpus_layer_replays() {
    let entries = sorted_entries(&corpus("layer"));
    assert!(
        entries.len() >= 20,
        "the layer corpus is committed ({} entries)",
        entries.len()
    );
    let mut reached = BTreeSet::new();
    for e in entries {
        let bytes = std::fs::read(&e).expect("read");
        match bounded(
            bytes,
            Duration::from_secs(120),
            |_| e.display().to_string(),
            check_layer,
        ) {
            Ok(s) => reached.extend(s),
            Err(panic) => panic!("{}: {panic}", e.display()),
        }
    }
    assert!(reached.contains("validated"), "{reached:?}");
    assert!(reached.len() >= 20, "{reached:?}");
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=600 cargo test --release -p gis-core --test integration -- --ignored fuzz::fuzz_grid_layer_import"]
fn fuzz_grid_layer_import() {
    for e in sorted_entries(&corpus("layer")) {
        novel(&check_layer(&std::fs::read(&e).expect("read")));
    }
    let cases = run_for(layer_case, |c| {
        let bytes = layer_bytes(&c);
        let reached = bounded(
            bytes.clone(),
            Duration::from_secs(30),
            |b| {
                format!(
                    "{} bytes: {}",
                    b.len(),
                    String::from_utf8_lossy(&b[..b.len().min(4000)])
                )
            },
            check_layer,
        )
        .map_err(TestCaseError::fail)?;
        if saving() && novel(&reached) && bytes.len() <= 24_000 && dir_size(&corpus("layer")) + bytes.len() <= 700_000 {
            std::fs::create_dir_all(corpus("layer")).expect("mkdir");
            std::fs::write(corpus("layer").join(format!("{}.geojson", hash(&bytes))), &bytes).expect("write");
        }
        Ok(())
    });
    eprintln!(
        "fuzz_grid_layer_import: {cases} cases, {} sites reached",
        seen().lock().unwrap().len()
    );
}

/// Found by `fuzz_dataset_import`: one boundary longitude mistyped (118.11… → 24.50…) makes a
/// 9,500 km spike; densified every 15 m it was 1.3 million points and the triangulation took
/// 76 s (release). The committed corpus entry is this input. Import now rejects it, naming the
/// stray vertex; partition, given such a community anyway (built in memory), still caps the
/// points it adds along one edge.
#[test]
fn a_mistyped_boundary_coordinate_is_rejected_and_partitions_in_seconds() {
    let files = dataset_entry(&corpus("dataset").join("regression-boundary-spike"));
    let boundary: Value = serde_json::from_slice(&files["boundary.geojson"]).unwrap();
    assert_eq!(
        boundary["features"][0]["geometry"]["coordinates"][0][1][0],
        json!(24.5026527)
    );
    let texts: BTreeMap<String, String> = files
        .iter()
        .map(|(f, b)| (f.clone(), String::from_utf8(b.clone()).unwrap()))
        .collect();
    let e = load_dataset_files(Path::new("fuzz"), texts).expect_err("a 9,500 km community is a typo");
    let p = e
        .problems
        .iter()
        .find(|p| p.kind == gis_core::io::InputProblemKind::ImplausibleExtent)
        .expect("named as such");
    assert_eq!(
        (p.file.as_str(), p.feature.as_ref().map(|f| f.index), p.field.as_deref()),
        ("boundary.geojson", Some(0), Some("geometry"))
    );
    assert!(
        p.message.contains("[24.5026527, 24.5026527]") || p.message.contains("[24.5026527,"),
        "{}",
        p.message
    );

    let mut d = kangle_dataset().clone();
    let mut ring = d.communities[0].boundary.0[0].exterior().clone();
    ring.0[1].x = 24.5026527;
    d.communities[0].boundary.0[0] = geo::Polygon::new(ring, vec![]);
    let t = std::time::Instant::now();
    let options = PartitionOptions {
        micro: Some(PartitionOptions::default_micro()),
        ..PartitionOptions::default()
    };
    let p = partition(&d, &options, &mut |_, _| {});
    assert!(!p.grids.is_empty());
    // Was minutes; now well under a second. The margin is for a loaded debug run.
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}
