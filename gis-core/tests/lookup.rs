//! Lookups on partitioned fixtures: point → grid against a brute-force exact classification,
//! the edge rule, coordinate systems, addresses in many spellings, nearest resources against
//! brute force, and every rejection.

use crate::common;

use common::*;
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Coord, MultiPolygon, Polygon, Rect, polygon};
use gis_core::crs::Crs;
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::lookup::*;
use gis_core::partition::{PartitionOptions, partition};
use gis_core::{Dataset, Staff};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::LazyLock;

fn grids_of(d: &Dataset, micro: bool) -> Vec<Grid> {
    let options = PartitionOptions {
        micro: micro.then(PartitionOptions::default_micro),
        ..PartitionOptions::default()
    };
    partition(d, &options, &mut |_, _| {}).grids
}

static KANGLE: LazyLock<(Dataset, Vec<Grid>)> = LazyLock::new(|| {
    let d = load("kangle");
    let g = grids_of(&d, true);
    (d, g)
});

static ZHONGJING: LazyLock<(Dataset, Vec<Grid>)> = LazyLock::new(|| {
    let d = load("zhongjing");
    let g = grids_of(&d, false);
    (d, g)
});

/// Closed-area membership by geo's exact predicate, part by part (geo's MultiPolygon answer
/// counts boundaries mod 2, which is not the question here).
fn covers(area: &MultiPolygon<f64>, c: Coord<f64>) -> bool {
    area.0
        .iter()
        .any(|p: &Polygon<f64>| p.coordinate_position(&c) != CoordPos::Outside)
}

/// The edge rule by brute force: every grid of the level in code order, bounding box first
/// (exact: outside the box is outside), then geo's predicate.
fn brute(grids: &[(Rect<f64>, &Grid)], c: Coord<f64>, parent: Option<&str>) -> Option<String> {
    grids
        .iter()
        .filter(|(_, g)| parent.is_none_or(|p| g.parent_code.as_deref() == Some(p)))
        .find(|(r, g)| {
            r.min().x <= c.x && c.x <= r.max().x && r.min().y <= c.y && c.y <= r.max().y && covers(&g.area, c)
        })
        .map(|(_, g)| g.code.clone())
}

fn sorted_level(grids: &[Grid], level: GridLevel) -> Vec<(Rect<f64>, &Grid)> {
    let mut v: Vec<(Rect<f64>, &Grid)> = grids
        .iter()
        .filter(|g| g.level == level)
        .map(|g| (g.area.bounding_rect().unwrap(), g))
        .collect();
    v.sort_by(|a, b| a.1.code.as_bytes().cmp(b.1.code.as_bytes()));
    v
}

/// Points stressing the edge rule: uniform, within 0.5 m of an edge, interpolated on an edge,
/// exactly on vertices, and within a nanodegree of vertices.
fn points(grids: &[Grid], n: usize, seed: u64) -> Vec<Coord<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let all = grids.iter().filter_map(|g| g.area.bounding_rect()).reduce(|a, b| {
        Rect::new(
            Coord {
                x: a.min().x.min(b.min().x),
                y: a.min().y.min(b.min().y),
            },
            Coord {
                x: a.max().x.max(b.max().x),
                y: a.max().y.max(b.max().y),
            },
        )
    });
    let all = all.unwrap();
    let pad = Coord {
        x: all.width() * 0.02,
        y: all.height() * 0.02,
    };
    let edges: Vec<[Coord<f64>; 2]> = grids
        .iter()
        .flat_map(|g| g.area.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
        .map(|l| [l.start, l.end])
        .collect();
    let m_per_deg_y = 111_320.0;
    let m_per_deg_x = 111_320.0 * all.center().y.to_radians().cos();
    (0..n)
        .map(|i| match i % 10 {
            0..=2 => Coord {
                x: rng.random_range(all.min().x - pad.x..all.max().x + pad.x),
                y: rng.random_range(all.min().y - pad.y..all.max().y + pad.y),
            },
            3..=5 => {
                let [a, b] = edges[rng.random_range(0..edges.len())];
                let t: f64 = rng.random();
                let (ang, r): (f64, f64) = (rng.random_range(0.0..std::f64::consts::TAU), rng.random_range(0.0..0.5));
                Coord {
                    x: a.x + (b.x - a.x) * t + r * ang.cos() / m_per_deg_x,
                    y: a.y + (b.y - a.y) * t + r * ang.sin() / m_per_deg_y,
                }
            }
            6 | 7 => {
                let [a, b] = edges[rng.random_range(0..edges.len())];
                let t: f64 = rng.random();
                Coord {
                    x: a.x + (b.x - a.x) * t,
                    y: a.y + (b.y - a.y) * t,
                }
            }
            8 => edges[rng.random_range(0..edges.len())][0],
            _ => {
                let a = edges[rng.random_range(0..edges.len())][0];
                let k = |rng: &mut ChaCha8Rng| f64::from(rng.random_range(-1i32..=1)) * 1e-9;
                Coord {
                    x: a.x + k(&mut rng),
                    y: a.y + k(&mut rng),
                }
            }
        })
        .collect()
}

fn check_million(grids: &[Grid], n: usize, seed: u64) -> (usize, usize, usize) {
    let index = GridIndex::new(grids.to_vec()).unwrap();
    let top = sorted_level(grids, GridLevel::Grid);
    let micro = sorted_level(grids, GridLevel::Micro);
    let (mut mismatches, mut found, mut boundary) = (0, 0, 0);
    let pts = points(grids, n, seed);
    // Many points at once (prefetched in groups) give each point's own answer.
    let mut batch = Vec::new();
    index.locate_grids(&pts, &mut batch);
    assert_eq!(batch.len(), pts.len());
    for (c, b) in pts.iter().zip(&batch) {
        assert_eq!(*b, index.locate_ids(*c).map(|(g, _)| g), "batch answer at {c:?}");
    }
    for c in pts {
        let fast = index.locate(c);
        let want = brute(&top, c, None);
        let want_micro = want.as_deref().and_then(|g| brute(&micro, c, Some(g)));
        let got = fast.map(|l| l.grid.code.clone());
        let got_micro = fast.and_then(|l| l.micro).map(|m| m.code.clone());
        if got != want || got_micro != want_micro {
            if mismatches < 5 {
                eprintln!(
                    "mismatch at ({:.12}, {:.12}): fast {got:?}/{got_micro:?}, exact {want:?}/{want_micro:?}",
                    c.x, c.y
                );
            }
            mismatches += 1;
        }
        found += usize::from(want.is_some());
        boundary += usize::from(top.iter().filter(|(_, g)| covers(&g.area, c)).count() > 1);
    }
    (mismatches, found, boundary)
}

#[test]
fn a_million_points_match_exact_point_in_polygon() {
    // Kangle with micro-grids (both levels) and Zhongjing's nine communities (community lines).
    let (_, kangle) = &*KANGLE;
    let (_, zhongjing) = &*ZHONGJING;
    assert!(kangle.iter().any(|g| g.level == GridLevel::Micro));
    let (m1, f1, b1) = check_million(kangle, 400_000, 7);
    let (m2, f2, b2) = check_million(zhongjing, 600_000, 8);
    eprintln!(
        "kangle: {f1} of 400,000 in a grid, {b1} on a shared edge; zhongjing: {f2} of 600,000, {b2} on a shared edge"
    );
    assert_eq!(m1 + m2, 0, "{m1} + {m2} mismatches");
    // The sample really tests the rule: many points lie on edges shared by two or more grids.
    assert!(b1 > 10_000 && b2 > 30_000, "{b1} / {b2} shared-edge points");
    assert!(f1 > 200_000 && f2 > 300_000);
}

/// A grid of `level` with area `parts` (each an exterior and its holes, as (x, y) lists).
fn synthetic(code: &str, level: GridLevel, parent: Option<&str>, parts: Vec<Polygon<f64>>) -> Grid {
    Grid {
        code: code.into(),
        community_code: "350206001017".into(),
        kind: GridKind::Basic,
        level,
        parent_code: parent.map(Into::into),
        name: None,
        area: MultiPolygon(parts),
        population: 0,
        households: 0,
        buildings: vec![],
    }
}

/// A ring around (`cx`, `cy`) of `n` vertices at radii in [r/2, r], in degrees: jagged like a
/// grid drawn along buildings and roads.
fn star(rng: &mut ChaCha8Rng, cx: f64, cy: f64, r: f64, n: usize) -> geo::LineString<f64> {
    (0..=n)
        .map(|i| {
            let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
            let rr = if i == n { 0.0 } else { rng.random_range(0.5..1.0) * r };
            (a, rr)
        })
        .scan(None, |first: &mut Option<(f64, f64)>, (a, rr)| {
            let p = if rr == 0.0 {
                first.expect("closing vertex")
            } else {
                (cx + rr * a.cos(), cy + rr * a.sin())
            };
            first.get_or_insert(p);
            Some(p)
        })
        .collect()
}

fn rect_ring(x0: f64, y0: f64, x1: f64, y1: f64) -> geo::LineString<f64> {
    vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)].into()
}

/// Layers no partition makes but the index must answer exactly all the same: holes with grids
/// inside them, multipolygons, grids overlapping others (so cells covered whole by one grid are
/// also met by another's edges), a grid covering all, grids smaller than a cell, jagged rings of
/// hundreds of vertices, and micro-grids whose parent is another grid than the one under them.
fn odd_layers(seed: u64) -> Vec<Grid> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (x, y, u) = (118.1, 24.5, 0.001);
    let mut grids = vec![
        synthetic(
            "005",
            GridLevel::Grid,
            None,
            vec![Polygon::new(
                rect_ring(x, y, x + 10.0 * u, y + 10.0 * u),
                vec![rect_ring(x + 3.0 * u, y + 3.0 * u, x + 6.0 * u, y + 6.0 * u)],
            )],
        ),
        // Fills 005's hole exactly.
        synthetic(
            "002",
            GridLevel::Grid,
            None,
            vec![Polygon::new(
                rect_ring(x + 3.0 * u, y + 3.0 * u, x + 6.0 * u, y + 6.0 * u),
                vec![],
            )],
        ),
        // Two parts: one far away, one overlapping 005 and 002.
        synthetic(
            "003",
            GridLevel::Grid,
            None,
            vec![
                Polygon::new(star(&mut rng, x + 14.0 * u, y + 2.0 * u, 1.5 * u, 40), vec![]),
                Polygon::new(star(&mut rng, x + 5.0 * u, y + 5.0 * u, 3.0 * u, 300), vec![]),
            ],
        ),
        // Covers everything, with a jagged hole; last in code order.
        synthetic(
            "900",
            GridLevel::Grid,
            None,
            vec![Polygon::new(
                rect_ring(x - 2.0 * u, y - 2.0 * u, x + 17.0 * u, y + 13.0 * u),
                vec![star(&mut rng, x + 12.0 * u, y + 8.0 * u, 2.0 * u, 200)],
            )],
        ),
        // Smaller than a cell, inside 005.
        synthetic(
            "001",
            GridLevel::Grid,
            None,
            vec![Polygon::new(
                rect_ring(x + 1.0 * u, y + 1.0 * u, x + 1.00001 * u, y + 1.00001 * u),
                vec![],
            )],
        ),
        // Micro-grids: 002 in two halves; one of 003 over 002's whole square.
        synthetic(
            "002001",
            GridLevel::Micro,
            Some("002"),
            vec![Polygon::new(
                rect_ring(x + 3.0 * u, y + 3.0 * u, x + 4.5 * u, y + 6.0 * u),
                vec![],
            )],
        ),
        synthetic(
            "002002",
            GridLevel::Micro,
            Some("002"),
            vec![Polygon::new(
                rect_ring(x + 4.5 * u, y + 3.0 * u, x + 6.0 * u, y + 6.0 * u),
                vec![],
            )],
        ),
        synthetic(
            "000001",
            GridLevel::Micro,
            Some("003"),
            vec![Polygon::new(
                rect_ring(x + 2.0 * u, y + 2.0 * u, x + 7.0 * u, y + 7.0 * u),
                vec![],
            )],
        ),
    ];
    // Jagged grids scattered over the rest, overlapping one another; codes in no spatial order.
    for i in 0..30 {
        let (cx, cy) = (rng.random_range(x..x + 16.0 * u), rng.random_range(y..y + 12.0 * u));
        let r = rng.random_range(0.3..2.0) * u;
        let n = rng.random_range(3..200);
        grids.push(synthetic(
            &format!("{}", 100 + (i * 37) % 89),
            GridLevel::Grid,
            None,
            vec![Polygon::new(star(&mut rng, cx, cy, r, n), vec![])],
        ));
    }
    grids
}

#[test]
fn holes_multipolygons_and_overlaps_match_exact_point_in_polygon() {
    for seed in [1, 2, 3] {
        let grids = odd_layers(seed);
        let (mismatches, found, boundary) = check_million(&grids, 200_000, seed);
        eprintln!("odd layer {seed}: {found} of 200,000 in a grid, {boundary} on an edge of two or more");
        assert_eq!(mismatches, 0, "seed {seed}");
        assert!(found > 100_000 && boundary > 10_000, "{found} / {boundary}");
    }
    // Hand-picked points: the hole's edge belongs to both 005 and 002 (002 is lower); inside the
    // hole only 002 and 003's overlap; outside everything but 900.
    let grids = odd_layers(1);
    let ix = GridIndex::new(grids).unwrap();
    let code = |x: f64, y: f64| ix.locate(Coord { x, y }).map(|l| l.grid.code.clone());
    let u = 0.001;
    assert_eq!(code(118.1 + 3.0 * u, 24.5 + 4.0 * u).as_deref(), Some("002"));
    assert_eq!(code(118.1 + 1.000005 * u, 24.5 + 1.000005 * u).as_deref(), Some("001"));
    assert_eq!(code(118.1 - 1.0 * u, 24.5 - 1.0 * u).as_deref(), Some("900"));
    assert_eq!(code(118.1 - 3.0 * u, 24.5).as_deref(), None);
}

fn square(code: &str, x0: f64, y0: f64) -> Grid {
    let p = polygon![(x: x0, y: y0), (x: x0 + 1.0, y: y0), (x: x0 + 1.0, y: y0 + 1.0), (x: x0, y: y0 + 1.0)];
    Grid {
        code: code.into(),
        community_code: "350206001017".into(),
        kind: GridKind::Basic,
        level: GridLevel::Grid,
        parent_code: None,
        name: None,
        area: MultiPolygon(vec![p]),
        population: 0,
        households: 0,
        buildings: vec![],
    }
}

#[test]
fn the_edge_rule_gives_the_lowest_code() {
    // Four unit squares meeting at (1, 1); codes deliberately not in position order.
    let grids = vec![
        square("004", 0.0, 0.0),
        square("002", 1.0, 0.0),
        square("003", 0.0, 1.0),
        square("001", 1.0, 1.0),
    ];
    let ix = GridIndex::new(grids).unwrap();
    let code = |x: f64, y: f64| ix.locate(Coord { x, y }).map(|l| l.grid.code.clone());
    assert_eq!(code(1.0, 1.0).as_deref(), Some("001"), "the vertex shared by four");
    assert_eq!(code(1.0, 0.5).as_deref(), Some("002"), "edge of 004 and 002");
    assert_eq!(code(0.5, 1.0).as_deref(), Some("003"), "edge of 004 and 003");
    assert_eq!(code(0.5, 0.5).as_deref(), Some("004"));
    assert_eq!(
        code(0.0, 0.0).as_deref(),
        Some("004"),
        "an outer corner is the grid's own"
    );
    assert_eq!(code(2.0, 2.0).as_deref(), Some("001"));
    assert_eq!(code(2.0 + 1e-12, 2.0), None, "just outside");
    assert_eq!(code(-0.5, 0.5), None);
    assert_eq!(code(f64::NAN, 0.5), None);
    // Byte order, not numeric: "10" sorts before "9".
    let ix = GridIndex::new(vec![square("9", 0.0, 0.0), square("10", 1.0, 0.0)]).unwrap();
    assert_eq!(ix.locate(Coord { x: 1.0, y: 0.5 }).unwrap().grid.code, "10");
}

#[test]
fn duplicate_codes_are_refused() {
    let err = GridIndex::new(vec![square("001", 0.0, 0.0), square("001", 1.0, 0.0)]).unwrap_err();
    assert_eq!(err, IndexError::DuplicateCode("001".into()));
}

#[test]
fn points_in_gcj02_and_bd09_find_the_same_grid() {
    let (d, grids) = &*KANGLE;
    let region = LookupIndex::new(d, grids.clone(), &d.staff).unwrap();
    for b in d.buildings.iter().step_by(9) {
        let wgs = b.anchor.0;
        let want = region
            .locate(wgs, Crs::Wgs84)
            .unwrap()
            .expect("a building is in a grid");
        for crs in [Crs::Gcj02, Crs::Bd09] {
            let shifted = crs.from_wgs84(wgs);
            assert!(
                gis_core::lookup::great_circle_m(shifted, wgs) > 100.0,
                "the offset is real"
            );
            assert_eq!(region.locate(shifted, crs).unwrap().unwrap().code, want.code);
        }
    }
}

#[test]
fn a_lookup_returns_the_grid_its_community_micro_grid_and_staff() {
    let (d, grids) = &*KANGLE;
    let region = LookupIndex::new(d, grids.clone(), &d.staff).unwrap();
    let b = &d.buildings[0];
    let g = region.locate(b.anchor.0, Crs::Wgs84).unwrap().unwrap();
    assert_eq!(g.community_code, "350206001017");
    assert_eq!(g.community_name.as_deref(), Some("康乐社区"));
    let layer_grid = grids.iter().find(|x| x.code == g.code).unwrap();
    assert_eq!(g.population, layer_grid.population);
    assert!(
        layer_grid
            .buildings
            .iter()
            .any(|m| m == &b.id || m.starts_with(&format!("{}#", b.id)))
    );
    let micro = g.micro.as_ref().expect("kangle was partitioned with micro-grids");
    assert!(micro.code.starts_with(&g.code));
    let staff: Vec<&Staff> = d.staff.iter().filter(|s| s.grid == g.code).collect();
    assert_eq!(g.staff.len(), staff.len());
    assert!(!g.staff.is_empty(), "kangle's staff.json names every grid 001-005");
    // Outside every grid.
    assert_eq!(region.locate(Coord { x: 118.0, y: 24.0 }, Crs::Wgs84).unwrap(), None);
}

#[test]
fn rejections() {
    let (d, grids) = &*KANGLE;
    let region = LookupIndex::new(d, grids.clone(), &[]).unwrap();
    let p = d.buildings[0].anchor.0;
    assert!(matches!(
        region.locate(Coord { x: 200.0, y: 24.5 }, Crs::Wgs84),
        Err(LookupError::InvalidPoint { .. })
    ));
    assert!(matches!(
        region.locate(Coord { x: 118.1, y: f64::NAN }, Crs::Wgs84),
        Err(LookupError::InvalidPoint { .. })
    ));
    assert!(matches!(
        region.locate(Coord { x: 118.1, y: -91.0 }, Crs::Wgs84),
        Err(LookupError::InvalidPoint { .. })
    ));
    assert_eq!(region.geocode("   ", 5), Err(LookupError::EmptyAddress));
    assert_eq!(
        region.geocode(&"楼".repeat(501), 5),
        Err(LookupError::AddressTooLong { max: 500 })
    );
    assert_eq!(
        region.geocode("嘉禾公寓1号楼", 0),
        Err(LookupError::InvalidLimit { max: MAX_LIMIT, got: 0 })
    );
    let q = |limit, radius_m| NearestQuery {
        kinds: vec![],
        limit,
        radius_m,
    };
    assert_eq!(
        region.nearest(p, Crs::Wgs84, &q(0, None)),
        Err(LookupError::InvalidLimit { max: MAX_LIMIT, got: 0 })
    );
    assert_eq!(
        region.nearest(p, Crs::Wgs84, &q(5_000, None)),
        Err(LookupError::InvalidLimit {
            max: MAX_LIMIT,
            got: 5_000
        })
    );
    assert_eq!(
        region.nearest(p, Crs::Wgs84, &q(5, Some(-1.0))),
        Err(LookupError::InvalidRadius(-1.0))
    );
    assert!(matches!(
        region.nearest(p, Crs::Wgs84, &q(5, Some(f64::NAN))),
        Err(LookupError::InvalidRadius(_))
    ));
    assert!(matches!(
        region.nearest(Coord { x: 181.0, y: 0.0 }, Crs::Wgs84, &q(5, None)),
        Err(LookupError::InvalidPoint { .. })
    ));
    let many = vec![BatchItem::Point { lon: p.x, lat: p.y }; MAX_BATCH + 1];
    assert_eq!(
        region.batch(&many, Crs::Wgs84, 3),
        Err(LookupError::TooMany {
            max: MAX_BATCH,
            got: MAX_BATCH + 1
        })
    );
    // A bad item in a batch is answered with its error; the others are answered.
    let items = vec![
        BatchItem::Point { lon: p.x, lat: p.y },
        BatchItem::Point { lon: 500.0, lat: 0.0 },
        BatchItem::Address { address: String::new() },
        BatchItem::Address {
            address: "嘉禾公寓1号楼".into(),
        },
    ];
    let answers = region.batch(&items, Crs::Wgs84, 3).unwrap();
    assert!(answers[0].grid.is_some() && answers[0].error.is_none());
    assert!(answers[1].error.as_deref().unwrap().contains("longitude"));
    assert!(answers[2].error.as_deref().unwrap().contains("empty"));
    assert!(answers[3].address.as_ref().unwrap().candidates[0].grid.is_some());
}

#[test]
fn a_batch_of_ten_thousand_points_and_addresses() {
    let (d, grids) = &*ZHONGJING;
    let region = LookupIndex::new(d, grids.clone(), &d.staff).unwrap();
    let items: Vec<BatchItem> = d
        .buildings
        .iter()
        .cycle()
        .take(MAX_BATCH)
        .enumerate()
        .map(|(i, b)| match (i % 2, &b.address) {
            (0, Some(a)) => BatchItem::Address { address: a.clone() },
            // A bad point now and then: its own error, and the points after it keep their answers.
            _ if i % 997 == 1 => BatchItem::Point {
                lon: 200.0,
                lat: b.anchor.y(),
            },
            _ => BatchItem::Point {
                lon: b.anchor.x(),
                lat: b.anchor.y(),
            },
        })
        .collect();
    let answers = region.batch(&items, Crs::Wgs84, 1).unwrap();
    assert_eq!(answers.len(), MAX_BATCH);
    for (item, a) in items.iter().zip(&answers) {
        match item {
            BatchItem::Point { lon, .. } if *lon > 180.0 => {
                assert!(a.grid.is_none() && a.error.is_some(), "{item:?}")
            }
            BatchItem::Point { lon, lat } => {
                // The batch answers each point as a lookup of it alone does.
                let alone = region.locate(Coord { x: *lon, y: *lat }, Crs::Wgs84).unwrap();
                assert!(a.grid.is_some(), "{item:?}");
                assert_eq!(a.grid, alone, "{item:?}");
            }
            BatchItem::Address { .. } => {
                let c = &a.address.as_ref().unwrap().candidates[0];
                assert_eq!(c.candidate.level, MatchLevel::Building, "{item:?}");
                assert!(c.grid.is_some());
            }
        }
    }
    // Items arrive as JSON from the service.
    let parsed: Vec<BatchItem> =
        serde_json::from_str(r#"[{"lon": 112.5, "lat": 33.0}, {"address": "车站路社区"}]"#).unwrap();
    assert_eq!(
        parsed[1],
        BatchItem::Address {
            address: "车站路社区".into()
        }
    );
}

// ---- addresses ------------------------------------------------------------------------------

fn building<'a>(d: &'a Dataset, address: &str) -> &'a gis_core::Building {
    d.buildings
        .iter()
        .find(|b| b.address.as_deref() == Some(address))
        .unwrap_or_else(|| panic!("no building at {address}"))
}

#[test]
fn addresses_in_many_spellings_find_the_building() {
    let (d, grids) = &*KANGLE;
    let region = LookupIndex::new(d, grids.clone(), &d.staff).unwrap();
    let b3 = building(d, "湖里区康乐社区嘉禾公寓3号楼");
    let b12 = building(d, "湖里区康乐社区金湖家园12号楼");
    let cases: &[(&str, &gis_core::Building)] = &[
        ("湖里区康乐社区嘉禾公寓3号楼", b3),
        ("嘉禾公寓3号楼", b3),
        ("嘉禾公寓三号楼", b3),
        ("嘉禾公寓3栋", b3),
        ("嘉禾公寓3幢", b3),
        ("嘉禾公寓3座", b3),
        ("嘉禾公寓３号楼", b3),
        ("嘉禾公寓 3 号楼", b3),
        ("嘉禾公寓第三栋", b3),
        ("嘉禾公寓3#楼", b3),
        ("嘉禾公寓3号", b3),
        ("嘉禾公寓小区3号楼", b3),
        ("嘉禾公寓3号楼2单元301室", b3),
        ("嘉禾公寓3-2-301", b3),
        ("嘉禾公寓三栋二单元三〇一", b3),
        ("厦门市湖里区湖里街道康乐社区嘉禾公寓3号楼", b3),
        ("福建省厦门市湖里区康乐社区嘉禾公寓3号楼1单元101", b3),
        ("厦门市 湖里区 嘉禾公寓 3 栋", b3),
        ("康乐社区嘉禾公寓3号楼", b3),
        ("金湖家园十二号楼", b12),
        ("金湖家园12幢", b12),
        ("湖里区金湖家园１２栋３单元５０２室", b12),
    ];
    for (q, want) in cases {
        let a = region.geocode(q, 5).unwrap();
        let best = a.candidates.first().unwrap_or_else(|| panic!("nothing for {q}"));
        assert_eq!(
            best.candidate.building.as_deref(),
            Some(want.id.as_str()),
            "{q}: {:?}",
            a.candidates
        );
        assert!(!a.ambiguous, "{q}: {:?}", a.candidates);
        assert!(best.grid.is_some());
        let holder = grids
            .iter()
            .find(|g| {
                g.level == GridLevel::Grid
                    && g.buildings
                        .iter()
                        .any(|m| m == &want.id || m.starts_with(&format!("{}#", want.id)))
            })
            .unwrap();
        if !holder.buildings.iter().any(|m| m.starts_with(&format!("{}#", want.id))) {
            assert_eq!(best.grid.as_ref().unwrap().code, holder.code, "{q}");
        }
    }
    // A fuller prefix scores higher than none, never lower.
    let full = region.geocode("湖里区康乐社区嘉禾公寓3号楼", 1).unwrap().candidates[0]
        .candidate
        .score;
    let bare = region.geocode("嘉禾公寓3号楼", 1).unwrap().candidates[0]
        .candidate
        .score;
    assert!(full > bare && full <= 1.0, "{full} vs {bare}");
}

#[test]
fn a_named_unit_picks_the_unit_part() {
    let (d, grids) = &*KANGLE;
    let region = LookupIndex::new(d, grids.clone(), &[]).unwrap();
    let b = d
        .buildings
        .iter()
        .find(|b| b.units.len() >= 2 && b.address.is_some())
        .unwrap();
    let q = format!("{}{}", b.address.as_ref().unwrap(), b.units[1].name);
    let best = &region.geocode(&q, 3).unwrap().candidates[0];
    assert_eq!(best.candidate.building.as_deref(), Some(b.id.as_str()));
    assert_eq!(
        best.candidate.unit.as_deref(),
        Some(format!("{}#{}", b.id, b.units[1].name).as_str())
    );
}

#[test]
fn vague_or_unknown_addresses_give_ranked_candidates() {
    let (d, grids) = &*KANGLE;
    let region = LookupIndex::new(d, grids.clone(), &[]).unwrap();
    // A compound without a building: the compound, flagged ambiguous.
    let a = region.geocode("嘉禾公寓", 5).unwrap();
    assert!(a.ambiguous);
    assert_eq!(a.candidates[0].candidate.level, MatchLevel::Compound);
    assert_eq!(a.candidates[0].candidate.compound.as_deref(), Some("嘉禾公寓"));
    // A building number the compound does not have: the compound, at a lower score.
    let a = region.geocode("嘉禾公寓99号楼", 5).unwrap();
    assert_eq!(a.candidates[0].candidate.level, MatchLevel::Compound);
    assert!(a.candidates[0].candidate.score < 0.5);
    // The community alone.
    let a = region.geocode("康乐社区", 5).unwrap();
    assert_eq!(a.candidates[0].candidate.level, MatchLevel::Community);
    assert!(a.ambiguous);
    // Nothing known.
    let a = region.geocode("北京市朝阳区某某小区1号楼", 5).unwrap();
    assert!(a.candidates.is_empty() && !a.ambiguous);
}

#[test]
fn a_compound_name_in_two_communities_is_settled_by_the_prefix() {
    // Zhongjing: nine communities with generated compound names; find a compound name used in
    // two communities, or make one by renaming.
    let (d0, _) = &*ZHONGJING;
    let mut d = d0.clone();
    let (i, j) = {
        let a = d
            .buildings
            .iter()
            .position(|b| b.community == 0 && b.compound.is_some())
            .unwrap();
        let b = d
            .buildings
            .iter()
            .position(|b| b.community == 1 && b.compound.is_some())
            .unwrap();
        (a, b)
    };
    let name_a = d.buildings[i].compound.clone().unwrap();
    let name_b = d.buildings[j].compound.clone().unwrap();
    let number = |addr: &str| addr.rsplit_once(name_a.as_str()).map(|(_, r)| r.to_string());
    let tail = number(d.buildings[i].address.as_deref().unwrap()).unwrap();
    // Every building of compound B becomes compound A (same name, other community).
    for b in d
        .buildings
        .iter_mut()
        .filter(|b| b.compound.as_deref() == Some(name_b.as_str()))
    {
        b.compound = Some(name_a.clone());
        b.address = b.address.as_ref().map(|a| a.replace(name_b.as_str(), name_a.as_str()));
    }
    let g = Geocoder::new(&d);
    let c0 = &d.communities[0];
    let c1 = &d.communities[1];
    let both = g.geocode(&format!("{name_a}{tail}"), 10);
    let communities: std::collections::BTreeSet<&str> = both.iter().map(|c| c.community_code.as_str()).collect();
    if communities.len() == 2 {
        assert_eq!(
            both[0].score, both[1].score,
            "without a prefix the two are tied: {both:?}"
        );
    }
    let first = g.geocode(&format!("{}{name_a}{tail}", c0.name), 10);
    assert_eq!(first[0].community_code, c0.code.as_str());
    assert!(first.len() < 2 || first[0].score > first[1].score);
    let second = g.geocode(&format!("{}{name_a}{tail}", c1.name), 10);
    if communities.len() == 2 {
        assert_eq!(second[0].community_code, c1.code.as_str());
        assert!(second[0].score > second[1].score);
    }
}

#[test]
fn every_dataset_address_finds_its_building() {
    for (d, _) in [&*KANGLE, &*ZHONGJING] {
        let g = Geocoder::new(d);
        let mut misses = 0;
        for b in d.buildings.iter().filter(|b| b.address.is_some()) {
            let found = g.geocode(b.address.as_deref().unwrap(), 3);
            if found.first().and_then(|c| c.building.as_deref()) != Some(b.id.as_str()) {
                misses += 1;
                eprintln!("{} {:?} → {:?}", b.id, b.address, found.first());
            }
        }
        assert_eq!(misses, 0);
    }
}

// ---- nearest resources ----------------------------------------------------------------------

#[test]
fn nearest_resources_match_brute_force() {
    let (d, _) = &*ZHONGJING;
    let ix = ResourceIndex::new(d.resources.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let bbox = d
        .communities
        .iter()
        .filter_map(|c| c.boundary.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        })
        .unwrap();
    let kinds = ix.kinds().into_iter().map(String::from).collect::<Vec<_>>();
    assert!(kinds.len() >= 3);
    for i in 0..500 {
        let at = Coord {
            x: rng.random_range(bbox.min().x..bbox.max().x),
            y: rng.random_range(bbox.min().y..bbox.max().y),
        };
        let query = NearestQuery {
            kinds: match i % 3 {
                0 => vec![],
                1 => vec![kinds[i % kinds.len()].clone()],
                _ => vec![
                    kinds[i % kinds.len()].clone(),
                    kinds[(i + 1) % kinds.len()].clone(),
                    "no-such-kind".into(),
                ],
            },
            limit: 1 + i % 12,
            radius_m: (i % 4 == 0).then_some(300.0 + (i % 7) as f64 * 100.0),
        };
        let got = ix.nearest(at, &query);
        let mut want: Vec<(f64, &str)> = d
            .resources
            .iter()
            .filter(|r| query.kinds.is_empty() || query.kinds.contains(&r.kind))
            .map(|r| {
                use geo::Distance;
                (geo::Haversine.distance(geo::Point(at), r.location), r.id.as_str())
            })
            .filter(|(m, _)| query.radius_m.is_none_or(|r| *m <= r))
            .collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        want.truncate(query.limit);
        assert_eq!(got.len(), want.len(), "{query:?}");
        for (g, (m, id)) in got.iter().zip(&want) {
            assert!(
                (g.distance_m - m).abs() < 1e-6 * m.max(1.0),
                "{} m vs {m} m",
                g.distance_m
            );
            if g.resource.id != *id {
                // Only a tie (to within float noise) may reorder.
                let theirs = want.iter().find(|w| w.1 == g.resource.id).map(|w| w.0);
                assert!(
                    theirs.is_some_and(|t| (t - m).abs() < 1e-6),
                    "{query:?}: {} vs {id}",
                    g.resource.id
                );
            }
        }
        assert!(got.windows(2).all(|w| w[0].distance_m <= w[1].distance_m), "ordered");
    }
}

#[test]
fn great_circle_distances_are_haversine() {
    use geo::Distance;
    let a = Coord { x: 118.11, y: 24.50 };
    let b = Coord { x: 118.12, y: 24.51 };
    let m = great_circle_m(a, b);
    assert!((m - geo::Haversine.distance(geo::Point(a), geo::Point(b))).abs() < 1e-6);
    assert!((m - 1_503.4).abs() < 1.0, "{m}");
    assert_eq!(great_circle_m(a, a), 0.0);
}
