//! Property tests: hostile communities (concave shapes, a lake, a river splitting the community,
//! an island, a giant tower with units, one without, empty compounds, too few residents) must
//! either meet every partition rule or report why not, and never cut a building or leave a gap;
//! and `validate` finds nothing in the layer partition writes that partition did not report.
//!
//! CI runs 48 random communities; `PROPTEST_CASES=N` runs more (see RELIABILITY.md).

use crate::common;

use common::*;
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon, coord};
use gis_core::grid::{GridKind, GridLevel};
use gis_core::io::grids::{GridLayer, LayerMeta, parse_drawn_layer, to_geojson};
use gis_core::partition::{PartitionOptions, WarningKind, partition};
use gis_core::validate::{DefectKind, ValidateOptions, validate};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
#[allow(clippy::enum_variant_names)] // L- and U-shaped communities are named by their shape
enum Shape {
    Rect,
    LShape,
    UShape,
    Lake,
    River,
    Island,
}

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    shape: Shape,
    residents: u32,
    giant_with_units: bool,
    giant_without_units: bool,
    empty_compound: bool,
    points: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        prop_oneof![
            Just(Shape::Rect),
            Just(Shape::LShape),
            Just(Shape::UShape),
            Just(Shape::Lake),
            Just(Shape::River),
            Just(Shape::Island)
        ],
        prop_oneof![600u32..1400, 1400u32..12_000],
        any::<bool>(),
        prop::bool::weighted(0.2),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(seed, shape, residents, giant_with_units, giant_without_units, empty_compound, points)| Case {
                seed,
                shape,
                residents,
                giant_with_units,
                giant_without_units,
                empty_compound,
                points,
            },
        )
}

/// Metres → lon/lat near Xiamen.
fn ll(x: f64, y: f64) -> Coord<f64> {
    coord! { x: 118.10 + x / 101_320.0, y: 24.50 + y / 110_720.0 }
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> LineString<f64> {
    LineString(vec![ll(x0, y0), ll(x1, y0), ll(x1, y1), ll(x0, y1), ll(x0, y0)])
}

fn ring_json(r: &LineString<f64>) -> Value {
    Value::Array(r.0.iter().map(|c| json!([c.x, c.y])).collect())
}

fn poly_json(p: &Polygon<f64>) -> Value {
    Value::Array(
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(ring_json)
            .collect(),
    )
}

fn feature(props: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

/// The community in metres-made lon/lat, and the areas buildings must stay out of.
fn community(shape: Shape) -> MultiPolygon<f64> {
    let (w, h) = (800.0, 600.0);
    match shape {
        Shape::Rect => MultiPolygon(vec![Polygon::new(rect(0.0, 0.0, w, h), vec![])]),
        Shape::LShape => MultiPolygon(vec![Polygon::new(
            LineString(vec![
                ll(0.0, 0.0),
                ll(w, 0.0),
                ll(w, 250.0),
                ll(330.0, 250.0),
                ll(330.0, h),
                ll(0.0, h),
                ll(0.0, 0.0),
            ]),
            vec![],
        )]),
        Shape::UShape => MultiPolygon(vec![Polygon::new(
            LineString(vec![
                ll(0.0, 0.0),
                ll(w, 0.0),
                ll(w, h),
                ll(560.0, h),
                ll(560.0, 220.0),
                ll(240.0, 220.0),
                ll(240.0, h),
                ll(0.0, h),
                ll(0.0, 0.0),
            ]),
            vec![],
        )]),
        Shape::Lake => {
            let mut lake = LineString(vec![
                ll(300.0, 220.0),
                ll(300.0, 380.0),
                ll(520.0, 380.0),
                ll(520.0, 220.0),
                ll(300.0, 220.0),
            ]);
            lake.0.dedup();
            MultiPolygon(vec![Polygon::new(rect(0.0, 0.0, w, h), vec![lake])])
        }
        // A 40 m river runs north–south: the community is in two parts.
        Shape::River => MultiPolygon(vec![
            Polygon::new(rect(0.0, 0.0, 380.0, h), vec![]),
            Polygon::new(rect(420.0, 0.0, w, h), vec![]),
        ]),
        Shape::Island => MultiPolygon(vec![
            Polygon::new(rect(0.0, 0.0, w, h), vec![]),
            Polygon::new(rect(860.0, 200.0, 980.0, 300.0), vec![]),
        ]),
    }
}

/// A dataset folder for the case; returns it with the number of residents written.
fn write_case(c: &Case) -> tempfile::TempDir {
    let mut rng = ChaCha8Rng::seed_from_u64(c.seed);
    let area = community(c.shape);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: Value| std::fs::write(dir.path().join(name), v.to_string()).unwrap();
    write(
        "boundary.geojson",
        collection(vec![feature(
            json!({"code": "350206001099", "name": "试验社区"}),
            if area.0.len() == 1 {
                json!({"type": "Polygon", "coordinates": poly_json(&area.0[0])})
            } else {
                json!({"type": "MultiPolygon", "coordinates": area.0.iter().map(poly_json).collect::<Vec<_>>()})
            },
        )]),
    );

    // Slots on a jittered lattice of 40 × 30 m cells, buildings 24 × 12 m; a compound is a block
    // of 4 × 3 cells; roads run in the gaps every 4th column and 3rd row.
    let inside = |x0: f64, y0: f64, x1: f64, y1: f64| {
        [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            .iter()
            .all(|&(x, y)| area.contains(&Point(ll(x, y))))
    };
    let mut slots: Vec<(f64, f64, String)> = Vec::new();
    for j in 0..24 {
        for i in 0..26 {
            let (x, y) = (
                8.0 + i as f64 * 40.0 + rng.random_range(-2.0..2.0),
                8.0 + j as f64 * 30.0 + rng.random_range(-2.0..2.0),
            );
            if inside(x - 3.0, y - 3.0, x + 27.0, y + 15.0) {
                slots.push((x, y, format!("小区{}-{}", i / 4, j / 3)));
            }
        }
    }
    let mut buildings = Vec::new();
    let mut populations: Vec<u32> = vec![0; slots.len()];
    let empty = if c.empty_compound {
        slots.first().map(|s| s.2.clone())
    } else {
        None
    };
    let takers: Vec<usize> = (0..slots.len())
        .filter(|&i| Some(&slots[i].2) != empty.as_ref())
        .collect();
    let mut giant = None;
    if c.giant_with_units || c.giant_without_units {
        giant = takers.get(takers.len() / 2).copied();
    }
    let ordinary: Vec<usize> = takers.iter().copied().filter(|&i| Some(i) != giant).collect();
    if !ordinary.is_empty() {
        for _ in 0..c.residents {
            populations[ordinary[rng.random_range(0..ordinary.len())]] += 1;
        }
    }
    for (i, (x, y, compound)) in slots.iter().enumerate() {
        let id = format!("B{i:04}");
        let mut props = json!({"id": id, "population": populations[i], "compound": compound});
        let (mut w, mut h) = (24.0, 12.0);
        if Some(i) == giant {
            (w, h) = (30.0, 16.0);
            if c.giant_with_units {
                props["population"] = json!(2600);
                props["units"] = json!([
                    {"name": "1单元", "population": 1000, "households": 400},
                    {"name": "2单元", "population": 900, "households": 360},
                    {"name": "3单元", "population": 700, "households": 280}
                ]);
                props["households"] = json!(1040);
            } else {
                props["population"] = json!(2300);
            }
        }
        let footprint = Polygon::new(rect(*x, *y, x + w, y + h), vec![]);
        buildings.push(feature(
            props,
            json!({"type": "Polygon", "coordinates": poly_json(&footprint)}),
        ));
    }
    write("buildings.geojson", collection(buildings));

    let mut roads = Vec::new();
    for i in (4..26).step_by(4) {
        let x = 8.0 + i as f64 * 40.0 - 8.0;
        roads.push(feature(
            json!({"id": format!("R{i}")}),
            json!({"type": "LineString", "coordinates": ring_json(&LineString(vec![ll(x, -20.0), ll(x, 620.0)]))}),
        ));
    }
    write("roads.geojson", collection(roads));

    if c.points {
        // Scattered households in the gaps between buildings of the first row.
        let pts: Vec<Value> = (0..40)
            .map(|k| {
                let (x, y) = (34.0 + (k % 20) as f64 * 40.0, 23.0 + (k / 20) as f64 * 30.0);
                (x, y, 1 + (k % 5) as u32)
            })
            .filter(|&(x, y, _)| area.contains(&Point(ll(x, y))))
            .map(|(x, y, n)| {
                feature(
                    json!({"count": n}),
                    json!({"type": "Point", "coordinates": [ll(x, y).x, ll(x, y).y]}),
                )
            })
            .collect();
        write("population.geojson", collection(pts));
    }
    dir
}

fn check(c: &Case) {
    let dir = write_case(c);
    let d = gis_core::io::load_dataset(dir.path())
        .expect("the hostile dataset is well-formed")
        .dataset;
    let options = PartitionOptions::default();
    let p = partition(&d, &options, &mut |_, _| {});
    let grids = level(&p.grids, GridLevel::Grid);
    assert_exact_coverage(&d, &grids);
    assert_no_building_cut(&d, &grids);
    assert!(p.report.verification.is_clean(), "{:?}", p.report.verification);

    let report = &p.report.communities[0];
    let warned = |k: WarningKind| report.warnings.iter().any(|w| w.kind == k);
    let residents: u64 = d.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>()
        + d.points.iter().map(|p| u64::from(p.count)).sum::<u64>();
    assert_eq!(grids.iter().map(|g| g.population).sum::<u64>(), residents);

    for g in basic(&p.grids) {
        if g.area.0.len() > 1 {
            assert!(
                warned(WarningKind::CutOff) || warned(WarningKind::EmptyPart),
                "{} in parts without a word: {report:?}",
                g.code
            );
        }
        let in_bounds = (1500..=2000).contains(&g.population);
        if !in_bounds {
            let explained = warned(WarningKind::OutOfBounds)
                || warned(WarningKind::OversizedBuilding)
                || warned(WarningKind::CutOff)
                || !matches!(report.feasible, gis_core::bounds::GridCounts::Feasible { .. });
            assert!(
                explained,
                "{} holds {} with no reason given: {report:?}",
                g.code, g.population
            );
        }
    }
    // validate(partition(x)): the layer as written, read back as drawn and validated with the
    // partition's bounds, shows only what the partition owned up to.
    let layer = GridLayer {
        grids: p.grids.clone(),
        meta: LayerMeta {
            bounds: Some(options.bounds),
            ..LayerMeta::default()
        },
    };
    let drawn = parse_drawn_layer(to_geojson(&layer), std::path::Path::new("hostile.geojson"))
        .expect("partition's layer reads back");
    let v = validate(
        &d,
        &drawn,
        &ValidateOptions {
            bounds: options.bounds,
            ..ValidateOptions::default()
        },
    )
    .expect("default options");
    let infeasible = !matches!(report.feasible, gis_core::bounds::GridCounts::Feasible { .. })
        || warned(WarningKind::OutOfBounds)
        || warned(WarningKind::OversizedBuilding);
    for defect in &v.defects {
        let reported = match defect.kind {
            DefectKind::GridTooSmall | DefectKind::GridTooLarge => infeasible || warned(WarningKind::CutOff),
            DefectKind::Multipart => warned(WarningKind::CutOff) || warned(WarningKind::EmptyPart),
            _ => false,
        };
        assert!(
            reported,
            "validate finds what partition did not report: {defect:?}\n{report:?}"
        );
    }
    assert_eq!(v.grids, grids.len());

    if c.giant_with_units {
        let parts: Vec<&str> = grids
            .iter()
            .flat_map(|g| g.buildings.iter())
            .filter(|b| b.contains('#'))
            .map(String::as_str)
            .collect();
        assert_eq!(
            parts.len(),
            3,
            "the giant tower is split into its three units: {parts:?}"
        );
    }
    if c.giant_without_units && !c.giant_with_units {
        assert!(warned(WarningKind::OversizedBuilding), "{report:?}");
    }
    // Deterministic.
    let again = partition(&d, &options, &mut |_, _| {});
    assert_eq!(
        to_geojson(&GridLayer {
            grids: p.grids.clone(),
            ..Default::default()
        }),
        to_geojson(&GridLayer {
            grids: again.grids.clone(),
            ..Default::default()
        })
    );
    assert!(p.grids.iter().all(|g| g.kind == GridKind::Basic));
}

proptest! {
    // A long run outside CI: PROPTEST_CASES=2000 (the fixed count would override the variable).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_communities_are_partitioned_or_explained(c in case()) {
        check(&c);
    }
}

#[test]
fn each_shape_once() {
    for (i, shape) in [
        Shape::Rect,
        Shape::LShape,
        Shape::UShape,
        Shape::Lake,
        Shape::River,
        Shape::Island,
    ]
    .into_iter()
    .enumerate()
    {
        eprintln!("shape {shape:?}");
        check(&Case {
            seed: i as u64,
            shape,
            residents: 9000,
            giant_with_units: i % 2 == 0,
            giant_without_units: false,
            empty_compound: true,
            points: true,
        });
    }
}

#[test]
fn a_community_below_the_minimum_is_one_grid_and_says_so() {
    let c = Case {
        seed: 9,
        shape: Shape::Rect,
        residents: 800,
        giant_with_units: false,
        giant_without_units: false,
        empty_compound: false,
        points: false,
    };
    let dir = write_case(&c);
    let d = gis_core::io::load_dataset(dir.path()).unwrap().dataset;
    let p = partition(&d, &PartitionOptions::default(), &mut |_, _| {});
    assert_eq!(basic(&p.grids).len(), 1);
    assert_eq!(p.report.communities[0].feasible, gis_core::bounds::GridCounts::BelowMin);
}

/// Regression (found after 3,685 cases of a 6,000-case run): grid 005 of this L-shaped
/// community with a giant tower holds a hole touching its outline at one point, which assembly
/// walked as one self-touching ring; it is now a shell and a hole.
#[test]
fn a_hole_touching_the_outline_is_a_hole_not_a_self_touching_ring() {
    check(&Case {
        seed: 4842264161507066917,
        shape: Shape::LShape,
        residents: 8647,
        giant_with_units: false,
        giant_without_units: true,
        empty_compound: false,
        points: false,
    });
}

/// Regression (found by the 3,000-case run): the cut-off part joined to grid 002 leaves grid
/// 001 a spike 0.7 m wide along the community line. Every edge matches; validate called the
/// spike's edge on the community line a 14.6 m near-miss of 002's edge beside it. An edge on
/// the community line is matched by the line, so it is no near-miss.
#[test]
fn a_spike_along_the_community_line_is_no_near_miss() {
    for points in [false, true] {
        check(&Case {
            seed: 7210674152430898980,
            shape: Shape::Island,
            residents: 1193,
            giant_with_units: false,
            giant_without_units: true,
            empty_compound: false,
            points,
        });
    }
}
