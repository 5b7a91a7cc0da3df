//! Checks every partition must pass, shared by the partition tests.

#![allow(dead_code)]

use geo::{BooleanOps, BoundingRect, Distance, Intersects, MultiPolygon, Validation};
use gis_core::Dataset;
use gis_core::geom::BboxIndex;
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::measure::area_m2;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

pub fn load(name: &str) -> Dataset {
    gis_core::io::load_dataset(&fixture(name))
        .expect("fixture loads")
        .dataset
}

type Key = (u64, u64);

fn key(c: geo::Coord<f64>) -> Key {
    ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
}

/// The grids of one level form one exact coverage: every segment is used at most twice, and
/// when twice then in opposite directions (identical vertices on both sides, across community
/// lines too); no ring is invalid; the grids' area equals the communities' area.
pub fn assert_exact_coverage(d: &Dataset, grids: &[&Grid]) {
    let mut segments: HashMap<(Key, Key), Vec<(usize, bool)>> = HashMap::new();
    for (gi, g) in grids.iter().enumerate() {
        assert!(
            g.area.is_valid(),
            "grid {} is invalid: {:?}",
            g.code,
            g.area.validation_errors()
        );
        for p in &g.area.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    let (a, b) = (key(l.start), key(l.end));
                    assert_ne!(a, b, "zero-length segment in {}", g.code);
                    let (k, forward) = if a < b { ((a, b), true) } else { ((b, a), false) };
                    segments.entry(k).or_default().push((gi, forward));
                }
            }
        }
    }
    for (k, uses) in &segments {
        assert!(uses.len() <= 2, "segment {k:?} used {} times", uses.len());
        if uses.len() == 2 {
            assert_ne!(
                uses[0].1, uses[1].1,
                "segment used twice in the same direction by {} and {}",
                grids[uses[0].0].code, grids[uses[1].0].code
            );
            assert_ne!(uses[0].0, uses[1].0, "grid {} borders itself", grids[uses[0].0].code);
        }
    }
    // A segment used once must lie on its community's line, and on no other community's line:
    // else a neighbour has other vertices on that line (a T-junction) or there is a gap.
    let by_code: HashMap<&str, &gis_core::Community> = d.communities.iter().map(|c| (c.code.as_str(), c)).collect();
    let near_line = |c: &gis_core::Community, p: geo::Point<f64>| {
        c.boundary
            .0
            .iter()
            .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
            .any(|ring| geo::Euclidean.distance(&p, ring) < 1e-9)
    };
    for ((a, b), uses) in &segments {
        if uses.len() != 1 {
            continue;
        }
        let g = grids[uses[0].0];
        let (pa, pb) = (f64::from_bits(a.0), f64::from_bits(a.1));
        let (qa, qb) = (f64::from_bits(b.0), f64::from_bits(b.1));
        let mid = geo::Point::new((pa + qa) / 2.0, (pb + qb) / 2.0);
        let own = by_code[g.community_code.as_str()];
        assert!(
            near_line(own, mid),
            "grid {} has a border inside its community at {mid:?} that no neighbour shares",
            g.code
        );
        for c in &d.communities {
            if c.code != own.code && near_line(c, mid) {
                panic!(
                    "grid {} meets community {} at {mid:?} without identical vertices",
                    g.code, c.code
                );
            }
        }
    }
    let community_area: f64 = d.communities.iter().map(|c| area_m2(&c.boundary)).sum();
    let grid_area: f64 = grids.iter().map(|g| area_m2(&g.area)).sum();
    let per_community = 1.0 * d.communities.len() as f64;
    assert!(
        (community_area - grid_area).abs() < per_community,
        "grids cover {grid_area:.2} m² of {community_area:.2} m²"
    );
    // Each community's own grids cover exactly it.
    for c in &d.communities {
        let mine: Vec<&&Grid> = grids.iter().filter(|g| g.community_code == c.code.as_str()).collect();
        let a: f64 = mine.iter().map(|g| area_m2(&g.area)).sum();
        assert!(
            (a - area_m2(&c.boundary)).abs() < 1.0,
            "{}: grids {a:.2} m² vs community {:.2} m²",
            c.code,
            area_m2(&c.boundary)
        );
    }
}

/// No building is cut: each footprint overlaps exactly one grid, the one that lists it.
pub fn assert_no_building_cut(d: &Dataset, grids: &[&Grid]) {
    let index = BboxIndex::new(
        grids
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.area.bounding_rect().map(|r| (i, r))),
    );
    let mut listed: HashMap<&str, &str> = HashMap::new();
    for g in grids {
        for b in &g.buildings {
            let id = b.split('#').next().unwrap();
            listed.insert(id, g.code.as_str());
        }
    }
    let mut cut = Vec::new();
    for b in &d.buildings {
        if b.units.len() > 1
            && grids
                .iter()
                .any(|g| g.buildings.iter().any(|m| m.starts_with(&format!("{}#", b.id))))
        {
            continue; // split into unit parts on purpose
        }
        let rect = b.footprint.bounding_rect().unwrap();
        let holders: Vec<&str> = index
            .intersecting(rect)
            .into_iter()
            .filter(|&i| grids[i].area.intersects(&b.footprint))
            .filter(|&i| area_m2(&grids[i].area.intersection(&b.footprint)) > 0.01)
            .map(|i| grids[i].code.as_str())
            .collect();
        if holders.len() != 1 || listed.get(b.id.as_str()) != Some(&holders[0]) {
            cut.push(format!(
                "{} in {:?} (listed in {:?})",
                b.id,
                holders,
                listed.get(b.id.as_str())
            ));
        }
    }
    assert!(
        cut.is_empty(),
        "{} buildings cut or misplaced: {:?}",
        cut.len(),
        &cut[..cut.len().min(10)]
    );
}

pub fn basic(grids: &[Grid]) -> Vec<&Grid> {
    grids
        .iter()
        .filter(|g| g.kind == GridKind::Basic && g.level == GridLevel::Grid)
        .collect()
}

pub fn level(grids: &[Grid], level: GridLevel) -> Vec<&Grid> {
    grids.iter().filter(|g| g.level == level).collect()
}

pub fn parts(area: &MultiPolygon<f64>) -> usize {
    area.0.len()
}
