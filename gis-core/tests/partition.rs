//! Partitioning the fixtures: every rule of the partition issue, checked on real-shaped data.

use crate::common;

use common::*;
use gis_core::bounds::{GridCounts, SizeBasis, SizeBounds};
use gis_core::grid::{GridKind, GridLevel};
use gis_core::io::grids::{GridLayer, to_geojson};
use gis_core::partition::{Partition, PartitionOptions, partition};

fn run(d: &gis_core::Dataset, options: &PartitionOptions) -> Partition {
    partition(d, options, &mut |_, _| {})
}

fn assert_rules(name: &str, options: &PartitionOptions) -> Partition {
    let d = load(name);
    let p = run(&d, options);
    let bounds = options.bounds;
    let grids = level(&p.grids, GridLevel::Grid);
    assert_exact_coverage(&d, &grids);
    assert_no_building_cut(&d, &grids);
    assert!(p.report.verification.is_clean(), "{:?}", p.report.verification);
    for c in &p.report.communities {
        assert!(c.warnings.is_empty(), "{}: {:?}", c.code, c.warnings);
        let GridCounts::Feasible { low, high } = c.feasible else {
            panic!("{} infeasible", c.code)
        };
        assert!(
            (low..=high).contains(&(c.basic_grids as u64)),
            "{}: {} grids, feasible {low}–{high}",
            c.code,
            c.basic_grids
        );
        assert_eq!(
            c.in_bounds, c.basic_grids,
            "{}: grids out of bounds: {:?}",
            c.code, c.sizes
        );
        assert_eq!(c.split_compounds, 0, "{}: compounds split", c.code);
        assert_eq!(c.multipart_grids, 0, "{}: grids in parts", c.code);
        assert!(
            c.compactness_mean >= 0.45,
            "{}: Polsby-Popper mean {:.3}",
            c.code,
            c.compactness_mean
        );
        assert!(
            c.compactness_min >= 0.2,
            "{}: Polsby-Popper min {:.3}",
            c.code,
            c.compactness_min
        );
    }

    for g in basic(&p.grids) {
        let size = match bounds.basis {
            SizeBasis::Residents => g.population,
            SizeBasis::Households => g.households,
        };
        assert!(
            (u64::from(bounds.min)..=u64::from(bounds.max)).contains(&size),
            "{} holds {size}",
            g.code
        );
        assert_eq!(parts(&g.area), 1, "{} is in parts", g.code);
    }
    // Every building in exactly one grid.
    let mut ids: Vec<&str> = grids
        .iter()
        .flat_map(|g| g.buildings.iter().map(String::as_str))
        .collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "a building is in two grids");
    assert_eq!(ids.len(), d.buildings.len());
    // Residents add up.
    let residents: u64 = d.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>()
        + d.points.iter().map(|p| u64::from(p.count)).sum::<u64>();
    assert_eq!(grids.iter().map(|g| g.population).sum::<u64>(), residents);
    p
}

#[test]
fn kangle_meets_every_rule() {
    let p = assert_rules("kangle", &PartitionOptions::default());
    let exclusive: Vec<_> = p.grids.iter().filter(|g| g.kind == GridKind::Exclusive).collect();
    assert_eq!(exclusive.len(), 2);
    assert!(exclusive.iter().all(|g| g.name.is_some()));
    assert!(
        p.report.communities[0].road_or_compound_share > 0.5,
        "{:?}",
        p.report.communities[0]
    );
}

#[test]
fn zhongjing_meets_every_rule() {
    assert_rules("zhongjing", &PartitionOptions::default());
}

#[test]
fn kangle_by_households() {
    let options = PartitionOptions {
        bounds: SizeBounds::for_basis(SizeBasis::Households),
        ..PartitionOptions::default()
    };
    let d = load("kangle");
    let p = run(&d, &options);
    let c = &p.report.communities[0];
    assert_eq!(c.in_bounds, c.basic_grids, "{c:?}");
    assert_exact_coverage(&d, &level(&p.grids, GridLevel::Grid));
}

#[test]
fn same_input_and_seed_give_identical_output() {
    let d = load("kangle");
    let a = to_geojson(&GridLayer {
        grids: run(&d, &PartitionOptions::default()).grids,
        ..Default::default()
    });
    let b = to_geojson(&GridLayer {
        grids: run(&d, &PartitionOptions::default()).grids,
        ..Default::default()
    });
    assert_eq!(a, b);
}

#[test]
fn micro_grids_tile_their_grids() {
    let d = load("kangle");
    let options = PartitionOptions {
        micro: Some(PartitionOptions::default_micro()),
        ..PartitionOptions::default()
    };
    let p = run(&d, &options);
    let micro = level(&p.grids, GridLevel::Micro);
    assert!(!micro.is_empty());
    assert_exact_coverage(
        &d,
        &micro
            .iter()
            .copied()
            .chain(p.grids.iter().filter(|g| g.kind == GridKind::Exclusive))
            .collect::<Vec<_>>(),
    );
    for g in basic(&p.grids) {
        let children: Vec<_> = micro
            .iter()
            .filter(|m| m.parent_code.as_deref() == Some(g.code.as_str()))
            .collect();
        assert!(!children.is_empty(), "{} has no micro-grids", g.code);
        assert_eq!(children.iter().map(|m| m.households).sum::<u64>(), g.households);
        for m in &children {
            assert!(m.code.starts_with(&g.code) && m.code.len() == g.code.len() + 2);
            assert_eq!(parts(&m.area), 1, "{} is in parts", m.code);
            let single_big = m.buildings.len() == 1 && m.households > 200;
            assert!(
                single_big || (50..=200).contains(&m.households),
                "{} holds {} households",
                m.code,
                m.households
            );
        }
    }
}

#[test]
fn the_self_check_catches_cuts_and_mismatched_edges() {
    use geo::{BooleanOps, BoundingRect, Centroid, MultiPolygon, Polygon, Rect, coord};
    use gis_core::partition::verify;
    let d = load("kangle");
    let p = run(&d, &PartitionOptions::default());
    assert!(p.report.verification.is_clean(), "{:?}", p.report.verification);

    // Nudge one vertex of one grid: its edges no longer match the neighbour's.
    let mut nudged = p.grids.clone();
    let ring = &mut nudged[0].area.0[0];
    ring.exterior_mut(|r| {
        let i = r.0.len() / 2;
        r.0[i].x += 1e-6;
    });
    let v = verify(&d, &nudged, GridLevel::Grid);
    assert!(v.unmatched_edges > 0, "{v:?}");

    // Two grids split by a meridian through a building: that building is cut.
    let b = &d.buildings[40];
    let x = b.footprint.centroid().unwrap().x();
    let community = &d.communities[0].boundary;
    let r = community.bounding_rect().unwrap();
    let west = MultiPolygon(vec![Polygon::from(Rect::new(r.min(), coord! { x: x, y: r.max().y }))]);
    let east = MultiPolygon(vec![Polygon::from(Rect::new(coord! { x: x, y: r.min().y }, r.max()))]);
    let mut halves = vec![p.grids[0].clone(), p.grids[1].clone()];
    halves[0].area = community.intersection(&west);
    halves[1].area = community.intersection(&east);
    halves.iter_mut().for_each(|g| g.kind = GridKind::Basic);
    let v = verify(&d, &halves, GridLevel::Grid);
    assert!(v.buildings_cut.contains(&b.id), "{:?}", v.buildings_cut);
}

#[test]
fn the_self_check_names_grids_that_are_not_ogc_valid() {
    use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon};
    use gis_core::partition::verify;
    let d = load("kangle");
    let p = run(
        &d,
        &PartitionOptions {
            micro: Some(PartitionOptions::default_micro()),
            ..PartitionOptions::default()
        },
    );
    let micro = verify(&d, &p.grids, GridLevel::Micro);
    assert!(micro.is_clean() && micro.invalid_grids.is_empty(), "{micro:?}");

    // Two micro-grids redrawn inside their own boxes: a bow tie, and a ring that touches itself
    // (a figure eight through one vertex), as a real import once produced.
    let mut grids = p.grids.clone();
    let ix: Vec<usize> = grids
        .iter()
        .enumerate()
        .filter(|(_, g)| g.level == GridLevel::Micro)
        .map(|(i, _)| i)
        .take(2)
        .collect();
    let at = |g: &gis_core::grid::Grid, fx: f64, fy: f64| {
        let r = g.area.bounding_rect().unwrap();
        Coord {
            x: r.min().x + fx * r.width(),
            y: r.min().y + fy * r.height(),
        }
    };
    let bow = &grids[ix[0]];
    let bow_tie = LineString(vec![
        at(bow, 0.0, 0.0),
        at(bow, 1.0, 1.0),
        at(bow, 1.0, 0.0),
        at(bow, 0.0, 1.0),
        at(bow, 0.0, 0.0),
    ]);
    let eight = &grids[ix[1]];
    let figure_eight = LineString(
        [
            (0.0, 0.0),
            (0.5, 0.5),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.5, 0.5),
            (0.0, 1.0),
            (0.0, 0.0),
        ]
        .iter()
        .map(|&(x, y)| at(eight, x, y))
        .collect(),
    );
    let (bow_code, eight_code) = (grids[ix[0]].code.clone(), grids[ix[1]].code.clone());
    grids[ix[0]].area = MultiPolygon(vec![Polygon::new(bow_tie, vec![])]);
    grids[ix[1]].area = MultiPolygon(vec![Polygon::new(figure_eight, vec![])]);
    let v = verify(&d, &grids, GridLevel::Micro);
    assert!(!v.is_clean());
    let named: Vec<&str> = v.invalid_grids.iter().map(|g| g.code.as_str()).collect();
    let mut want = vec![bow_code.as_str(), eight_code.as_str()];
    want.sort_unstable();
    assert_eq!(named, want, "{:?}", v.invalid_grids);
    for g in &v.invalid_grids {
        assert!(g.reason.contains("self-intersection at ("), "{g:?}");
    }
    // The grid level does not hold micro-grids: still clean there.
    assert!(verify(&d, &grids, GridLevel::Grid).invalid_grids.is_empty());
}
