//! The walking layer (`walk.geojson`) and the walking network (`gis_core::walk`): read strictly,
//! built from roads and ways, barriers kept, distances checked against a plain all-pairs
//! computation on small networks.

use geo::{Coord, LineString, MultiLineString, Point};
use gis_core::io::{InputProblem, InputProblemKind, load_dataset, load_dataset_files, load_dataset_files_as_trees};
use gis_core::model::{Road, WalkBarrier, WalkLayer, WalkPassage, WalkWay};
use gis_core::walk::{Targets, WalkNetwork};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

fn kangle_with(walk: Value) -> BTreeMap<String, String> {
    let kangle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle");
    let mut files = BTreeMap::new();
    for f in ["boundary.geojson", "buildings.geojson", "roads.geojson"] {
        files.insert(f.to_string(), std::fs::read_to_string(kangle.join(f)).unwrap());
    }
    files.insert("walk.geojson".into(), walk.to_string());
    files
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

fn feature(props: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

fn line(coords: Value) -> Value {
    json!({"type": "LineString", "coordinates": coords})
}

fn point(x: f64, y: f64) -> Value {
    json!({"type": "Point", "coordinates": [x, y]})
}

fn rejected(walk: Value) -> Vec<InputProblem> {
    match load_dataset_files(Path::new("walked"), kangle_with(walk)) {
        Ok(_) => panic!("dataset was accepted"),
        Err(e) => e.problems,
    }
}

#[test]
fn ways_barriers_and_passages_are_read() {
    let walk = collection(vec![
        feature(
            json!({"id": "F1", "kind": "Footway"}),
            line(json!([[118.1140, 24.5050], [118.1150, 24.5050]])),
        ),
        feature(
            json!({"id": 2}),
            line(json!([[118.1140, 24.5050], [118.1140, 24.5060]])),
        ),
        feature(
            json!({"id": "W1", "barrier": "wall"}),
            line(json!([[118.1145, 24.5040], [118.1145, 24.5060]])),
        ),
        feature(json!({"id": "G1", "kind": "gate"}), point(118.1145, 24.5050)),
        feature(json!({"id": "E1", "kind": "Entrance"}), point(118.1142, 24.5052)),
    ]);
    let files = kangle_with(walk);
    let d = load_dataset_files(Path::new("walked"), files.clone()).unwrap().dataset;
    let w = &d.walk;
    assert_eq!(w.ways.len(), 2);
    assert_eq!(w.ways[0].kind.as_deref(), Some("footway"), "kinds read lower-case");
    assert_eq!(w.ways[1].id, "2");
    assert_eq!(w.ways[1].kind, None);
    assert_eq!((w.barriers.len(), w.barriers[0].kind.as_str()), (1, "wall"));
    let kinds: Vec<&str> = w.passages.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(kinds, ["gate", "entrance"]);
    let trees = load_dataset_files_as_trees(Path::new("walked"), files).unwrap().dataset;
    assert_eq!(
        (
            trees.walk.ways.len(),
            trees.walk.barriers.len(),
            trees.walk.passages.len()
        ),
        (2, 1, 2),
        "the whole-tree reader reads the same"
    );
}

#[test]
fn no_walk_file_is_an_empty_layer() {
    let d = load_dataset(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle"))
        .unwrap()
        .dataset;
    assert!(d.walk.is_empty());
}

#[test]
fn every_bad_walk_feature_is_named_by_file_feature_and_field() {
    let problems = rejected(collection(vec![
        feature(json!({"id": "P1"}), point(118.1, 24.5)),
        feature(json!({"id": "P2", "kind": "bench"}), point(118.1, 24.5)),
        feature(
            json!({"id": "P3", "kind": "gate", "barrier": "wall"}),
            point(118.1, 24.5),
        ),
        feature(
            json!({"id": "A1"}),
            json!({"type": "Polygon", "coordinates": [[[118.1, 24.5], [118.2, 24.5], [118.2, 24.6], [118.1, 24.5]]]}),
        ),
        feature(
            json!({"id": "L1", "kind": 3}),
            line(json!([[118.1, 24.5], [118.2, 24.5]])),
        ),
        feature(json!({"id": "L1"}), line(json!([[118.1, 24.5], [118.2, 24.5]]))),
        feature(json!({"id": "L3"}), line(json!([[24.5, 118.1], [24.5, 118.2]]))),
    ]));
    let got: Vec<(String, usize, Option<String>, InputProblemKind)> = problems
        .iter()
        .map(|p| {
            (
                p.file.clone(),
                p.feature.as_ref().unwrap().index,
                p.field.clone(),
                p.kind,
            )
        })
        .collect();
    let want = |i: usize, field: &str, kind| ("walk.geojson".to_string(), i, Some(field.to_string()), kind);
    for w in [
        want(0, "properties.kind", InputProblemKind::MissingField),
        want(1, "properties.kind", InputProblemKind::InvalidValue),
        want(2, "properties.barrier", InputProblemKind::InvalidValue),
        want(3, "geometry.type", InputProblemKind::WrongGeometryType),
        want(4, "properties.kind", InputProblemKind::WrongType),
        want(5, "properties.id", InputProblemKind::DuplicateId),
    ] {
        assert!(got.contains(&w), "missing {w:?} in {problems:#?}");
    }
    assert!(
        got.iter().any(|g| g.1 == 6 && g.0 == "walk.geojson"),
        "swapped coordinates named: {problems:#?}"
    );
    let message = problems
        .iter()
        .find(|p| p.feature.as_ref().unwrap().index == 1)
        .unwrap()
        .to_string();
    assert!(
        message.contains("walk.geojson") && message.contains("\"bench\""),
        "{message}"
    );
}

// --- The network ---

/// A road through the given lon/lat points.
fn road(id: &str, pts: &[(f64, f64)]) -> Road {
    Road {
        id: id.into(),
        name: None,
        class: None,
        line: MultiLineString(vec![LineString::from(pts.to_vec())]),
    }
}

/// Metres per 0.001° of latitude near 24.5°N (WGS-84 meridional arc).
const M_PER_MDEG: f64 = 110.72;

#[test]
fn a_square_of_roads_walks_round_and_snaps_count() {
    // A square 0.001° a side; walking from the middle of the south side to the middle of the
    // north side goes round by the east or west side.
    let (x0, y0, d) = (118.100, 24.500, 0.001);
    let roads = vec![road(
        "sq",
        &[(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d), (x0, y0)],
    )];
    let net = WalkNetwork::build(&roads, &WalkLayer::default());
    assert_eq!((net.node_count(), net.edge_count()), (4, 4));
    let south = net
        .snap(Coord {
            x: x0 + d / 2.0,
            y: y0 - 0.0001,
        })
        .unwrap();
    let north = net
        .snap(Coord {
            x: x0 + d / 2.0,
            y: y0 + d + 0.0001,
        })
        .unwrap();
    assert!((south.snap_m - 0.1 * M_PER_MDEG).abs() < 0.2, "{south:?}");
    let r = net.route(&south, &north).unwrap();
    let east_west = 101.3; // 0.001° of longitude at 24.5°N
    let want = 2.0 * 0.1 * M_PER_MDEG + east_west + M_PER_MDEG;
    assert!((r.metres - want).abs() < 0.5, "{} vs {want}", r.metres);
    // The line: the point, its foot on the road, round two corners, the foot, the point.
    assert_eq!(r.line.0.len(), 6, "{:?}", r.line);
    assert_eq!(r.line.0[0], south.from);
    assert_eq!(*r.line.0.last().unwrap(), north.from);
    // Two points on one edge walk straight along it.
    let a = net.snap(Coord { x: x0 + 0.0002, y: y0 }).unwrap();
    let b = net.snap(Coord { x: x0 + 0.0007, y: y0 }).unwrap();
    let r = net.route(&a, &b).unwrap();
    assert!((r.metres - 0.5 * east_west).abs() < 0.2, "{}", r.metres);
}

#[test]
fn a_wall_cuts_a_way_unless_a_gate_is_by_it() {
    // A street, and a footway crossing a compound wall to a building's door.
    let roads = vec![road(
        "street",
        &[(118.100, 24.500), (118.101, 24.500), (118.102, 24.500)],
    )];
    let path = WalkWay {
        id: "path".into(),
        kind: Some("footway".into()),
        line: MultiLineString(vec![LineString::from(vec![(118.101, 24.500), (118.101, 24.501)])]),
    };
    let wall = WalkBarrier {
        id: "wall".into(),
        kind: "wall".into(),
        line: MultiLineString(vec![LineString::from(vec![(118.0995, 24.5005), (118.1025, 24.5005)])]),
    };
    let inside = Coord { x: 118.101, y: 24.5009 };
    let walled = WalkLayer {
        ways: vec![path.clone()],
        barriers: vec![wall.clone()],
        passages: vec![],
    };
    let net = WalkNetwork::build(&roads, &walled);
    assert_eq!(net.stats().blocked_edges, 1);
    // The footway is cut off: only the street is left.
    assert_eq!((net.edge_count(), net.stats().components), (2, 1));
    let gated = WalkLayer {
        ways: vec![path],
        barriers: vec![wall],
        passages: vec![WalkPassage {
            id: "gate".into(),
            kind: "gate".into(),
            location: Point::new(118.10101, 24.5005),
        }],
    };
    let net = WalkNetwork::build(&roads, &gated);
    assert_eq!(
        (net.stats().blocked_edges, net.edge_count(), net.stats().components),
        (0, 3, 1)
    );
    let from = net.snap(inside).unwrap();
    assert!(from.snap_m < 0.01, "{from:?}");
    let to = net.snap(Coord { x: 118.1019, y: 24.5 }).unwrap();
    let r = net.route(&from, &to).unwrap();
    assert!(
        (r.metres - (0.9 * M_PER_MDEG + 0.9 * 101.3)).abs() < 0.5,
        "{}",
        r.metres
    );
}

#[test]
fn a_point_snaps_to_the_street_on_its_side_of_a_wall() {
    // Two parallel streets 0.001° apart with a wall between them, nearer the north street; a
    // point just south of the wall snaps to the south street though the north one is nearer.
    let roads = vec![
        road("south", &[(118.100, 24.500), (118.102, 24.500)]),
        road("north", &[(118.100, 24.501), (118.102, 24.501)]),
        road("link", &[(118.100, 24.500), (118.100, 24.501)]),
    ];
    let layer = WalkLayer {
        barriers: vec![WalkBarrier {
            id: "w".into(),
            kind: "fence".into(),
            line: MultiLineString(vec![LineString::from(vec![(118.1005, 24.5008), (118.1018, 24.5008)])]),
        }],
        ..WalkLayer::default()
    };
    let net = WalkNetwork::build(&roads, &layer);
    let s = net.snap(Coord { x: 118.101, y: 24.5007 }).unwrap();
    assert!((s.at.y - 24.500).abs() < 1e-12, "{s:?}");
    assert!((s.snap_m - 0.7 * M_PER_MDEG).abs() < 0.2);
}

/// A deterministic pseudo-random lattice of streets with some links missing and diagonals.
fn lattice(n: usize, seed: u64) -> Vec<Road> {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let at = |i: usize, j: usize| (118.1 + i as f64 * 0.0007, 24.5 + j as f64 * 0.0006);
    let mut roads = Vec::new();
    for i in 0..n {
        for j in 0..n {
            if i + 1 < n && next() > 0.2 {
                roads.push(road(&format!("h{i}-{j}"), &[at(i, j), at(i + 1, j)]));
            }
            if j + 1 < n && next() > 0.2 {
                roads.push(road(&format!("v{i}-{j}"), &[at(i, j), at(i, j + 1)]));
            }
            if i + 1 < n && j + 1 < n && next() > 0.8 {
                roads.push(road(&format!("d{i}-{j}"), &[at(i, j), at(i + 1, j + 1)]));
            }
        }
    }
    roads
}

/// Floyd–Warshall over the network's edge list, for checking.
fn all_pairs(net: &WalkNetwork) -> Vec<Vec<f64>> {
    let n = net.node_count();
    let mut d = vec![vec![f64::INFINITY; n]; n];
    for (i, row) in d.iter_mut().enumerate() {
        row[i] = 0.0;
    }
    for (a, b, m) in net.edges() {
        let (a, b) = (a as usize, b as usize);
        d[a][b] = d[a][b].min(m);
        d[b][a] = d[b][a].min(m);
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                let via = d[i][k] + d[k][j];
                if via < d[i][j] {
                    d[i][j] = via;
                }
            }
        }
    }
    d
}

/// Walk between two snaps from the all-pairs table.
fn by_table(net: &WalkNetwork, d: &[Vec<f64>], s: &gis_core::walk::Snap, t: &gis_core::walk::Snap) -> f64 {
    let ends = |x: &gis_core::walk::Snap| {
        let (a, b, len) = net.edge(x.edge);
        [
            (a as usize, x.snap_m + x.t * len),
            (b as usize, x.snap_m + (1.0 - x.t) * len),
        ]
    };
    let mut best = f64::INFINITY;
    for (a, ma) in ends(s) {
        for (b, mb) in ends(t) {
            best = best.min(ma + d[a][b] + mb);
        }
    }
    if s.edge == t.edge {
        best = best.min(s.snap_m + t.snap_m + (s.t - t.t).abs() * net.edge(s.edge).2);
    }
    best
}

#[test]
fn route_nearest_and_reach_agree_with_all_pairs() {
    let roads = lattice(9, 7);
    let net = WalkNetwork::build(&roads, &WalkLayer::default());
    let d = all_pairs(&net);
    let mut state = 99u64;
    let mut point = || {
        let mut r = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        Coord {
            x: 118.1 + r() * 0.0056,
            y: 24.5 + r() * 0.0048,
        }
    };
    let resources: Vec<Coord<f64>> = (0..12).map(|_| point()).collect();
    let targets = Targets::new(&net, resources.iter().copied());
    let homes: Vec<_> = (0..40).map(|_| net.snap(point()).unwrap()).collect();
    let sources: Vec<_> = (0..targets.len()).filter_map(|i| targets.snap(i).copied()).collect();
    let reach = net.reach(&sources);
    for home in &homes {
        let want: Vec<f64> = sources.iter().map(|s| by_table(&net, &d, home, s)).collect();
        // Single routes, both ways.
        for (s, w) in sources.iter().zip(&want) {
            let r = net.route(home, s).map_or(f64::INFINITY, |r| r.metres);
            assert!(
                (r - w).abs() < 1e-6 || (r.is_infinite() && w.is_infinite()),
                "{r} vs {w}"
            );
            let back = net.route(s, home).map_or(f64::INFINITY, |r| r.metres);
            assert!((back - r).abs() < 1e-6 || r.is_infinite());
        }
        // The nearest three, in order.
        let found = net.nearest(home, &targets, |_| true, 3, None);
        let mut sorted: Vec<(f64, usize)> = want.iter().copied().zip(0..).filter(|(m, _)| m.is_finite()).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(found.len(), sorted.len().min(3));
        for (f, (m, _)) in found.iter().zip(&sorted) {
            assert!((f.metres - m).abs() < 1e-6, "{f:?} vs {m}");
        }
        // Within a radius: exactly those within it.
        let radius = sorted.get(1).map_or(0.0, |s| s.0 + 1.0);
        let within = net.nearest(home, &targets, |_| true, 100, Some(radius));
        assert_eq!(within.len(), sorted.iter().filter(|s| s.0 <= radius).count());
        // Only the kinds accepted.
        let even = net.nearest(home, &targets, |i| i % 2 == 0, 1, None);
        if let Some(e) = even.first() {
            assert_eq!(e.target % 2, 0);
        }
        // Many sources at once: the nearest of all.
        let min = sorted.first().map_or(f64::INFINITY, |s| s.0);
        let r = net.reach(&sources).to(&net, home).map_or(f64::INFINITY, |r| r.metres);
        assert!((r - min).abs() < 1e-6, "{r} vs {min}");
        let got = reach.to(&net, home).unwrap();
        assert!((want[got.source] - got.metres).abs() < 1e-6);
        // Within a limit: nothing beyond it.
        let limited = net.reach_within(&sources, min - 1.0).to(&net, home);
        assert!(limited.is_none(), "{limited:?}");
    }
}

#[test]
fn a_building_walks_from_its_mapped_entrance() {
    // Streets west and east of a building nearer the east one; its door is on its west wall.
    let roads = vec![
        road("west", &[(118.1000, 24.5000), (118.1000, 24.5020)]),
        road("east", &[(118.1018, 24.5000), (118.1018, 24.5020)]),
        road("south", &[(118.1000, 24.5000), (118.1018, 24.5000)]),
    ];
    let footprint = geo::MultiPolygon(vec![geo::Polygon::new(
        LineString::from(vec![
            (118.1008, 24.5008),
            (118.1016, 24.5008),
            (118.1016, 24.5012),
            (118.1008, 24.5012),
            (118.1008, 24.5008),
        ]),
        vec![],
    )]);
    let anchor = Point::new(118.1012, 24.5010);
    let layer = WalkLayer {
        passages: vec![WalkPassage {
            id: "door".into(),
            kind: "entrance".into(),
            location: Point::new(118.1008, 24.5010),
        }],
        ..WalkLayer::default()
    };
    let net = WalkNetwork::build(&roads, &layer);
    let s = net.snap_building(&footprint, anchor).unwrap();
    assert_eq!(
        s.from,
        Coord {
            x: 118.1008,
            y: 24.5010
        }
    );
    assert!((s.at.x - 118.1000).abs() < 1e-12, "{s:?}");
    let plain = WalkNetwork::build(&roads, &WalkLayer::default());
    let s = plain.snap_building(&footprint, anchor).unwrap();
    assert_eq!(s.from, anchor.0);
    assert!((s.at.x - 118.1018).abs() < 1e-12, "{s:?}");
}

#[test]
fn kangle_roads_make_one_network_every_building_reaches() {
    let d = load_dataset(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle"))
        .unwrap()
        .dataset;
    let net = WalkNetwork::build(&d.roads, &d.walk);
    assert!(!net.is_empty());
    let sources: Vec<_> = d.resources.iter().filter_map(|r| net.snap(r.location.0)).collect();
    assert_eq!(sources.len(), d.resources.len());
    let reach = net.reach(&sources);
    for b in &d.buildings {
        let s = net.snap_building(&b.footprint, b.anchor).unwrap();
        let r = reach
            .to(&net, &s)
            .unwrap_or_else(|| panic!("{} reaches no resource", b.id));
        assert!(r.metres.is_finite() && r.metres >= s.snap_m);
    }
}
