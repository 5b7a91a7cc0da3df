//! Re-partitioning a published layer on `kangle`: only what must change does, codes stay stable,
//! retired codes never come back, staff follow their grid's code; and a planner's manual edits.

use crate::common;

use common::*;
use geo::{BoundingRect, Contains, Coord, Intersects, MultiPolygon, Point, Rect};
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::io::grids::{GridLayer, LayerMeta};
use gis_core::partition::{MoveError, PartitionOptions, RepartitionOptions, move_buildings, partition, repartition};
use gis_core::{Building, Dataset};
use std::collections::{BTreeMap, BTreeSet};

fn published(d: &Dataset) -> GridLayer {
    let p = partition(d, &PartitionOptions::default(), &mut |_, _| {});
    GridLayer {
        grids: p.grids,
        meta: LayerMeta {
            bounds: Some(Default::default()),
            ..LayerMeta::default()
        },
    }
}

fn by_code(layer: &GridLayer) -> BTreeMap<String, &Grid> {
    layer.grids.iter().map(|g| (g.code.clone(), g)).collect()
}

/// Codes of grids sharing an edge with `code` in `layer`.
fn neighbours_of(layer: &GridLayer, code: &str) -> BTreeSet<String> {
    let edges = |g: &Grid| -> BTreeSet<((u64, u64), (u64, u64))> {
        let k = |c: Coord<f64>| (c.x.to_bits(), c.y.to_bits());
        g.area
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.lines())
            .map(|l| {
                if k(l.start) < k(l.end) {
                    (k(l.start), k(l.end))
                } else {
                    (k(l.end), k(l.start))
                }
            })
            .collect()
    };
    let me = edges(layer.grids.iter().find(|g| g.code == code).unwrap());
    layer
        .grids
        .iter()
        .filter(|g| g.code != code && !edges(g).is_disjoint(&me))
        .map(|g| g.code.clone())
        .collect()
}

/// Room for a compound inside `grid`: `n` footprints of about 24 m × 14 m, 4 m clear of every
/// building, exclusive unit and the grid's border.
fn free_spots(d: &Dataset, grid: &Grid, n: usize) -> Vec<Rect<f64>> {
    let r = grid.area.bounding_rect().unwrap();
    let (w, h) = (0.00026, 0.00013); // ~24 m × 14 m at 26°N
    let pad = 0.00004;
    let mut taken: Vec<Rect<f64>> = Vec::new();
    let mut out = Vec::new();
    let step = 0.00005;
    let mut y = r.min().y;
    while y + h < r.max().y {
        let mut x = r.min().x;
        while x + w < r.max().x {
            let spot = Rect::new(Coord { x, y }, Coord { x: x + w, y: y + h });
            let clear = Rect::new(
                Coord { x: x - pad, y: y - pad },
                Coord {
                    x: x + w + pad,
                    y: y + h + pad,
                },
            );
            let ok = grid.area.contains(&clear.to_polygon())
                && !d.buildings.iter().any(|b| b.footprint.intersects(&clear.to_polygon()))
                && !d.exclusive.iter().any(|u| u.area.intersects(&clear.to_polygon()))
                && !taken.iter().any(|t| t.intersects(&clear));
            if ok {
                taken.push(clear);
                out.push(spot);
            }
            x += step;
        }
        y += step;
    }
    // A compound is built in one place: the spot with most free spots around it, and its nearest.
    let centre = |r: &Rect<f64>| r.center();
    let d2 = |a: Coord<f64>, b: Coord<f64>| (a.x - b.x).powi(2) + (a.y - b.y).powi(2);
    let Some(seed) = out
        .iter()
        .max_by_key(|s| {
            out.iter()
                .filter(|t| d2(centre(s), centre(t)) < 0.0006f64.powi(2))
                .count()
        })
        .copied()
    else {
        return Vec::new();
    };
    out.sort_by(|a, b| d2(centre(a), centre(&seed)).total_cmp(&d2(centre(b), centre(&seed))));
    out.truncate(n);
    out
}

fn add_building(d: &mut Dataset, id: &str, spot: Rect<f64>, population: u32, compound: &str) {
    let footprint = MultiPolygon(vec![spot.to_polygon()]);
    let c = spot.center();
    d.buildings.push(Building {
        id: id.into(),
        footprint,
        population,
        households: (population as f64 / 2.5).round() as u32,
        households_estimated: true,
        address: None,
        compound: Some(compound.into()),
        floors: Some(6.0),
        units: Vec::new(),
        anchor: Point(c),
        community: 0,
        exclusive_unit: None,
    });
}

/// Adds a compound of 600 residents in the basic grid with the most open space; returns its code.
fn add_compound(d: &mut Dataset, layer: &GridLayer, tag: &str) -> String {
    let (grid, spots) = layer
        .grids
        .iter()
        .filter(|g| g.kind == GridKind::Basic && g.level == GridLevel::Grid)
        .map(|g| (g, free_spots(d, g, 6)))
        .max_by_key(|(g, s)| (s.len(), std::cmp::Reverse(g.code.clone())))
        .unwrap();
    assert_eq!(spots.len(), 6, "no room for a compound in kangle");
    for (i, s) in spots.into_iter().enumerate() {
        add_building(d, &format!("NEW-{tag}-{i}"), s, 100, &format!("新小区{tag}"));
    }
    grid.code.clone()
}

fn size(g: &Grid) -> u64 {
    g.population
}

fn assert_sound(d: &Dataset, layer: &GridLayer) {
    let grids: Vec<&Grid> = layer.grids.iter().filter(|g| g.level == GridLevel::Grid).collect();
    assert_exact_coverage(d, &grids);
    assert_no_building_cut(d, &grids);
    for g in &grids {
        assert_eq!(g.area.0.len(), 1, "{} is in parts", g.code);
        if g.kind == GridKind::Basic {
            assert!((1500..=2000).contains(&size(g)), "{} holds {}", g.code, size(g));
        }
    }
    // Counts match the dataset.
    let total: u64 = grids.iter().map(|g| g.population).sum();
    let people: u64 = d.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>()
        + d.points.iter().map(|p| u64::from(p.count)).sum::<u64>();
    assert_eq!(total, people);
    let codes: BTreeSet<&str> = layer.grids.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes.len(), layer.grids.len(), "duplicate codes");
}

#[test]
fn unchanged_data_keeps_every_grid_to_the_bit() {
    let d = load("kangle");
    let layer = published(&d);
    let r = repartition(&d, &layer, &RepartitionOptions::default()).unwrap();
    assert_eq!(r.report.kept.len(), layer.grids.len());
    assert!(r.report.changed.is_empty() && r.report.created.is_empty() && r.report.retired.is_empty());
    assert_eq!(
        gis_core::io::grids::to_geojson(&r.layer),
        gis_core::io::grids::to_geojson(&layer)
    );
}

#[test]
fn a_new_compound_changes_only_grids_next_to_it() {
    let mut d = load("kangle");
    let layer = published(&d);
    let host = add_compound(&mut d, &layer, "A");
    let r = repartition(&d, &layer, &RepartitionOptions::default()).unwrap();
    assert_sound(&d, &r.layer);
    assert!(r.report.verification.is_clean(), "{:?}", r.report.verification);
    let near: BTreeSet<String> = neighbours_of(&layer, &host).into_iter().chain([host.clone()]).collect();
    for code in r.report.changed.iter().chain(&r.report.retired) {
        assert!(
            near.contains(code),
            "{code} changed but is not next to {host} ({near:?}): {:#?}",
            r.report.communities
        );
    }
    // Untouched grids: same code, geometry identical to the bit.
    let before = by_code(&layer);
    for code in &r.report.kept {
        let now = r.layer.grids.iter().find(|g| &g.code == code).unwrap();
        assert_eq!(now.area, before[code].area, "{code}");
    }
    assert!(
        r.report.residents.kept_share >= 0.8,
        "only {:.1}% kept: {:#?}",
        100.0 * r.report.residents.kept_share,
        r.report
    );
    assert_eq!(r.report.residents.new, 600);
    // Lineage accounts for every resident of every changed or created grid.
    for e in &r.report.lineage {
        let from: u64 = e.from.iter().map(|s| s.residents).sum();
        assert_eq!(from + e.new_residents, e.residents, "{}", e.code);
    }
    println!(
        "kept share {:.4} moved {} strategy {:?}",
        r.report.residents.kept_share, r.report.residents.moved, r.report.communities[0].strategy
    );
}

#[test]
fn a_grid_over_the_maximum_changes_alone_or_with_its_neighbours() {
    let mut d = load("kangle");
    let layer = published(&d);
    // The biggest basic grid gains 15% in its own buildings.
    let big = layer
        .grids
        .iter()
        .filter(|g| g.kind == GridKind::Basic)
        .max_by_key(|g| g.population)
        .unwrap();
    let ids: BTreeSet<&str> = big.buildings.iter().map(String::as_str).collect();
    let mut added = 0;
    for b in d.buildings.iter_mut().filter(|b| ids.contains(b.id.as_str())) {
        let more = b.population * 15 / 100 + 1;
        b.population += more;
        added += more;
    }
    assert!(big.population + u64::from(added) > 2000);
    let r = repartition(&d, &layer, &RepartitionOptions::default()).unwrap();
    assert_sound(&d, &r.layer);
    let near: BTreeSet<String> = neighbours_of(&layer, &big.code)
        .into_iter()
        .chain([big.code.clone()])
        .collect();
    for code in r.report.changed.iter().chain(&r.report.retired) {
        assert!(
            near.contains(code),
            "{code} changed but is not {} or its neighbour",
            big.code
        );
    }
    assert!(!r.report.communities[0].affected.is_empty());
    assert_eq!(r.report.communities[0].affected[0].code, big.code);
    let before = by_code(&layer);
    for code in &r.report.kept {
        assert_eq!(
            r.layer.grids.iter().find(|g| &g.code == code).unwrap().area,
            before[code].area
        );
    }
}

#[test]
fn three_repartitions_never_issue_a_retired_code_and_staff_follow() {
    let mut d = load("kangle");
    let mut layer = published(&d);
    let mut retired: BTreeSet<String> = BTreeSet::new();
    let mut ever: BTreeSet<String> = layer.grids.iter().map(|g| g.code.clone()).collect();
    for round in 0..3 {
        match round {
            1 => {
                // People leave the smallest grid: it falls below the minimum.
                let small = layer
                    .grids
                    .iter()
                    .filter(|g| g.kind == GridKind::Basic)
                    .min_by_key(|g| g.population)
                    .unwrap();
                let ids: BTreeSet<String> = small.buildings.iter().cloned().collect();
                for b in d.buildings.iter_mut().filter(|b| ids.contains(&b.id)) {
                    b.population = b.population * 6 / 10;
                    b.households = b.households * 6 / 10;
                }
            }
            _ => {
                add_compound(&mut d, &layer, &format!("R{round}"));
            }
        }
        let r = repartition(&d, &layer, &RepartitionOptions::default()).unwrap();
        assert_sound(&d, &r.layer);
        for g in &r.layer.grids {
            assert!(
                !retired.contains(&g.code),
                "round {round}: retired code {} issued again",
                g.code
            );
        }
        for code in &r.report.created {
            assert!(!ever.contains(code), "round {round}: {code} was issued before");
        }
        retired.extend(r.report.retired.iter().cloned());
        ever.extend(r.layer.grids.iter().map(|g| g.code.clone()));
        // The book remembers every retired code.
        let book: BTreeSet<String> = r.layer.meta.code_book.retired.values().flatten().cloned().collect();
        assert_eq!(book, retired);
        // Staff are on current codes; those of retired grids went to the successor.
        let codes: BTreeSet<&str> = r.layer.grids.iter().map(|g| g.code.as_str()).collect();
        for s in &r.staff {
            assert!(
                codes.contains(s.grid.as_str()),
                "staff {} on missing grid {}",
                s.name,
                s.grid
            );
        }
        for change in &r.report.staff {
            assert!(r.report.retired.contains(&change.from));
        }
        d.staff = r.staff.clone();
        layer = r.layer;
    }
}

#[test]
fn a_manual_move_is_checked_and_forced_moves_are_reported() {
    let d = load("kangle");
    let layer = published(&d);
    let basic: Vec<&Grid> = layer.grids.iter().filter(|g| g.kind == GridKind::Basic).collect();
    let (a, b) = (
        basic[0],
        basic[1..]
            .iter()
            .find(|g| neighbours_of(&layer, &basic[0].code).contains(&g.code))
            .unwrap(),
    );
    // A building of `a` touching nothing of `b`: moving it would put part of `b` apart.
    let far = a
        .buildings
        .iter()
        .map(|id| d.buildings.iter().find(|x| &x.id == id).unwrap())
        .max_by(|x, y| {
            let c = |q: &Building| {
                geo::Centroid::centroid(&b.area).map_or(0.0, |p| (p.x() - q.anchor.x()).hypot(p.y() - q.anchor.y()))
            };
            c(x).total_cmp(&c(y))
        })
        .unwrap();
    let err = move_buildings(
        &d,
        &layer,
        std::slice::from_ref(&far.id),
        &b.code,
        Default::default(),
        false,
    )
    .unwrap_err();
    assert!(matches!(err, MoveError::Refused(_)), "{err}");
    assert!(err.to_string().contains("in parts"), "{err}");
    let forced = move_buildings(
        &d,
        &layer,
        std::slice::from_ref(&far.id),
        &b.code,
        Default::default(),
        true,
    )
    .unwrap();
    assert!(!forced.report.forced.is_empty());
    let moved_to = forced
        .layer
        .grids
        .iter()
        .find(|g| g.buildings.contains(&far.id))
        .unwrap();
    assert_eq!(moved_to.code, b.code);

    // Unknown ids and codes are named.
    assert!(matches!(
        move_buildings(&d, &layer, &["nope".into()], &b.code, Default::default(), false),
        Err(MoveError::UnknownBuilding(_))
    ));
    assert!(matches!(
        move_buildings(
            &d,
            &layer,
            std::slice::from_ref(&far.id),
            "350206001017777",
            Default::default(),
            false
        ),
        Err(MoveError::UnknownGrid(_))
    ));
}

#[test]
fn a_layer_with_gaps_is_refused() {
    let d = load("kangle");
    let mut layer = published(&d);
    layer.grids.remove(0);
    let err = repartition(&d, &layer, &RepartitionOptions::default()).unwrap_err();
    assert!(err.to_string().contains("validate --fix"), "{err}");
}

#[test]
fn micro_grids_are_redrawn_only_in_changed_grids() {
    let mut d = load("kangle");
    let options = PartitionOptions {
        micro: Some(PartitionOptions::default_micro()),
        ..PartitionOptions::default()
    };
    let p = partition(&d, &options, &mut |_, _| {});
    let layer = GridLayer {
        grids: p.grids,
        meta: LayerMeta {
            bounds: Some(Default::default()),
            ..LayerMeta::default()
        },
    };
    add_compound(&mut d, &layer, "M");
    let r = repartition(&d, &layer, &RepartitionOptions::default()).unwrap();
    assert_sound(&d, &r.layer);
    let micro = gis_core::partition::verify(&d, &r.layer.grids, GridLevel::Micro);
    assert!(micro.is_clean(), "{micro:?}");
    let micro_grids: Vec<&Grid> = r.layer.grids.iter().filter(|g| g.level == GridLevel::Micro).collect();
    // Every grid has micro-grids under its own code; kept grids kept theirs exactly.
    for g in r
        .layer
        .grids
        .iter()
        .filter(|g| g.level == GridLevel::Grid && g.kind == GridKind::Basic)
    {
        let mine: Vec<&&Grid> = micro_grids
            .iter()
            .filter(|m| m.parent_code.as_deref() == Some(&g.code))
            .collect();
        assert!(!mine.is_empty(), "{} has no micro-grids", g.code);
        assert!(mine.iter().all(|m| m.code.starts_with(&g.code) && m.code.len() == 17));
        if r.report.kept.contains(&g.code) {
            let before: Vec<&Grid> = layer
                .grids
                .iter()
                .filter(|m| m.parent_code.as_deref() == Some(&g.code))
                .collect();
            assert_eq!(before.len(), mine.len());
            for (a, b) in before.iter().zip(&mine) {
                assert_eq!((&a.code, &a.area), (&b.code, &b.area));
            }
        }
    }
    for code in r.report.retired.iter() {
        assert!(!r.layer.grids.iter().any(|g| &g.code == code));
    }
}

#[test]
fn diff_agrees_with_the_repartition_report() {
    let mut d = load("kangle");
    let layer = published(&d);
    add_compound(&mut d, &layer, "D");
    let r = repartition(&d, &layer, &RepartitionOptions::default()).unwrap();
    let diff = gis_core::diff::diff(&layer, &r.layer, Some(&d));
    assert_eq!(diff.created, r.report.created);
    assert_eq!(diff.retired, r.report.retired);
    let changed: Vec<String> = diff.changed.iter().map(|c| c.code.clone()).collect();
    assert_eq!(changed, r.report.changed);
    let points: u64 = d.points.iter().map(|p| u64::from(p.count)).sum();
    if points == 0 {
        assert_eq!(diff.moved_residents, Some(r.report.residents.moved));
    }
    // The six new buildings appear as moves from nowhere.
    assert_eq!(diff.moved_buildings.iter().filter(|m| m.from.is_none()).count(), 6);
    // Nothing changed: an empty diff.
    assert!(gis_core::diff::diff(&layer, &layer, None).is_empty());
}

#[test]
fn a_layer_reads_back_to_the_same_bytes() {
    let d = load("zhongjing");
    let layer = published(&d);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grids.geojson");
    let text = gis_core::io::grids::to_geojson(&layer);
    std::fs::write(&path, &text).unwrap();
    let back = gis_core::io::grids::read_layer(&path).unwrap();
    assert_eq!(gis_core::io::grids::to_geojson(&back), text);
    // And a re-partition of unchanged data read from disk changes nothing.
    let r = repartition(&d, &back, &RepartitionOptions::default()).unwrap();
    assert_eq!(gis_core::io::grids::to_geojson(&r.layer), text);
}

#[test]
fn a_border_building_moves_to_its_neighbour() {
    let d = load("kangle");
    let layer = published(&d);
    // Try buildings of each grid nearest a neighbour until the rules allow one move.
    for a in layer.grids.iter().filter(|g| g.kind == GridKind::Basic) {
        for to in neighbours_of(&layer, &a.code) {
            let b = layer.grids.iter().find(|g| g.code == to).unwrap();
            if b.kind != GridKind::Basic {
                continue;
            }
            let target = geo::Centroid::centroid(&b.area).unwrap();
            let mut ids: Vec<&String> = a.buildings.iter().filter(|id| !id.contains('#')).collect();
            let dist = |id: &&String| {
                let x = d.buildings.iter().find(|x| &&x.id == id).unwrap();
                (x.anchor.x() - target.x()).hypot(x.anchor.y() - target.y())
            };
            ids.sort_by(|x, y| dist(x).total_cmp(&dist(y)));
            for id in ids.into_iter().take(3) {
                if let Ok(r) = move_buildings(&d, &layer, std::slice::from_ref(id), &to, Default::default(), false) {
                    assert!(r.report.forced.is_empty());
                    assert_sound(&d, &r.layer);
                    let now = r.layer.grids.iter().find(|g| g.buildings.contains(id)).unwrap();
                    assert_eq!(now.code, to);
                    // Only the two grids involved changed; codes are never changed by an edit.
                    assert_eq!(r.report.changed.len(), 2, "{:?}", r.report.changed);
                    assert!(r.report.created.is_empty() && r.report.retired.is_empty());
                    return;
                }
            }
        }
    }
    panic!("no building could move to a neighbouring grid within the rules");
}

#[test]
fn fresh_codes_follow_the_scheme_in_reading_order() {
    for name in ["kangle", "zhongjing"] {
        let d = load(name);
        let options = PartitionOptions {
            micro: Some(PartitionOptions::default_micro()),
            ..PartitionOptions::default()
        };
        let p = partition(&d, &options, &mut |_, _| {});
        let check = gis_core::codes::check_codes(&gis_core::codes::CodeScheme::db11(), &p.grids);
        assert!(check.defects.is_empty(), "{name}: {:?}", check.defects);
        assert!(check.notes.is_empty(), "{name}: {:?}", check.notes);
        // Exclusive grids are told apart by their sequence.
        for g in &p.grids {
            let seq: u32 = g.code[12..15].parse().unwrap();
            assert_eq!(g.kind == GridKind::Exclusive, seq >= 901, "{}", g.code);
        }
    }
}
