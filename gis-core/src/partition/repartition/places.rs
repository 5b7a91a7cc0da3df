//! Where each building, population point and exclusive unit of a community sits in the published
//! layer, which published grids must be re-drawn and why, and which grids are neighbours.

use crate::bounds::{SizeBasis, SizeBounds};
use crate::geom::{AreaIndex, BboxIndex, VertexKey};
use crate::grid::{Grid, GridKind};
use crate::model::Dataset;
use geo::{BoundingRect, Contains, Intersects, MultiPolygon};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};

/// Where each building and point of a community sits in the published layer.
pub(crate) struct Places {
    /// Dataset building index → published grid (index into the community's grids).
    pub(crate) building_home: FxHashMap<usize, Option<usize>>,
    /// Buildings the published layer does not list.
    pub(crate) building_new: FxHashSet<usize>,
    pub(crate) point_home: FxHashMap<usize, Option<usize>>,
    /// Exclusive unit index → the published exclusive grid holding its anchor.
    pub(crate) exclusive_home: FxHashMap<usize, Option<usize>>,
    /// Grids each building's footprint overlaps, for buildings not inside one grid.
    pub(crate) crossing: Vec<(usize, Vec<usize>)>,
    pub(crate) basis: SizeBasis,
}

impl Places {
    pub(crate) fn new(dataset: &Dataset, ci: usize, old: &[&Grid], basis: SizeBasis) -> Self {
        let index = AreaIndex::new(old.iter().map(|g| &g.area));
        let boxes = BboxIndex::new(
            old.iter()
                .enumerate()
                .filter_map(|(i, g)| g.area.bounding_rect().map(|r| (i, r))),
        );
        let mut listed: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, g) in old.iter().enumerate() {
            for m in &g.buildings {
                listed.entry(m.as_str()).or_insert(i);
                if let Some((base, _)) = m.split_once('#') {
                    listed.entry(base).or_insert(i);
                }
            }
        }
        let mut out = Self {
            building_home: FxHashMap::default(),
            building_new: FxHashSet::default(),
            point_home: FxHashMap::default(),
            exclusive_home: FxHashMap::default(),
            crossing: Vec::new(),
            basis,
        };
        let unit_split: FxHashSet<&str> = old
            .iter()
            .flat_map(|g| g.buildings.iter())
            .filter_map(|m| m.split_once('#').map(|(b, _)| b))
            .collect();
        for (bi, b) in dataset.buildings.iter().enumerate().filter(|(_, b)| b.community == ci) {
            let at = index.locate(b.anchor);
            let home = match listed.get(b.id.as_str()) {
                Some(&h) => Some(h),
                None => {
                    out.building_new.insert(bi);
                    at
                }
            };
            out.building_home.insert(bi, home);
            // A building split into units spans grids on purpose; any other must lie in one.
            let split_by_units = unit_split.contains(b.id.as_str());
            if !split_by_units && (home != at || out.building_new.contains(&bi)) {
                let inside = home.is_some_and(|h| old[h].area.contains(&b.footprint));
                if !inside {
                    let hits: Vec<usize> = b
                        .footprint
                        .bounding_rect()
                        .map(|r| boxes.intersecting(r))
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|&g| old[g].area.intersects(&b.footprint) && !touches_only(&old[g].area, &b.footprint))
                        .collect();
                    if hits.len() > 1 || (hits.len() == 1 && Some(hits[0]) != home) {
                        out.crossing.push((bi, hits));
                    }
                }
            }
        }
        for (pi, p) in dataset.points.iter().enumerate().filter(|(_, p)| p.community == ci) {
            out.point_home.insert(pi, index.locate(p.location));
        }
        for (u, unit) in dataset.exclusive.iter().enumerate().filter(|(_, u)| u.community == ci) {
            let home = index
                .locate(unit.anchor)
                .filter(|&g| old[g].kind == GridKind::Exclusive);
            out.exclusive_home.insert(u, home);
        }
        out
    }

    fn size(&self, population: u64, households: u64) -> u64 {
        match self.basis {
            SizeBasis::Residents => population,
            SizeBasis::Households => households,
        }
    }

    /// Members, population, households and new residents of published grid `g` under the
    /// current data.
    pub(crate) fn contents(&self, dataset: &Dataset, g: usize) -> (Vec<String>, u64, u64, u64) {
        let (mut members, mut population, mut households, mut new) = (Vec::new(), 0u64, 0u64, 0u64);
        for (&bi, &home) in &self.building_home {
            if home != Some(g) {
                continue;
            }
            let b = &dataset.buildings[bi];
            members.push(b.id.clone());
            population += u64::from(b.population);
            households += u64::from(b.households);
            if self.building_new.contains(&bi) {
                new += u64::from(b.population);
            }
        }
        for (&pi, &home) in &self.point_home {
            if home == Some(g) {
                let p = &dataset.points[pi];
                population += u64::from(p.count);
                households += u64::from(p.households());
            }
        }
        members.sort_unstable();
        (members, population, households, new)
    }

    /// Published grids that must be re-drawn, and why.
    pub(crate) fn affected(&self, dataset: &Dataset, old: &[&Grid], bounds: &SizeBounds) -> BTreeMap<usize, String> {
        let mut out: BTreeMap<usize, String> = BTreeMap::new();
        let mut size = vec![0u64; old.len()];
        for (&bi, &home) in &self.building_home {
            let b = &dataset.buildings[bi];
            if let (Some(h), None) = (home, b.exclusive_unit) {
                size[h] += self.size(u64::from(b.population), u64::from(b.households));
            }
        }
        for (&pi, &home) in &self.point_home {
            if let Some(h) = home {
                let p = &dataset.points[pi];
                size[h] += self.size(u64::from(p.count), u64::from(p.households()));
            }
        }
        for (g, grid) in old.iter().enumerate() {
            if grid.kind != GridKind::Basic {
                continue;
            }
            let unit = bounds.basis.unit();
            if size[g] > u64::from(bounds.max) {
                out.insert(g, format!("holds {} {unit}, above the maximum {}", size[g], bounds.max));
            } else if size[g] < u64::from(bounds.min) {
                out.insert(g, format!("holds {} {unit}, below the minimum {}", size[g], bounds.min));
            }
        }
        for (bi, grids) in &self.crossing {
            for &g in grids {
                out.entry(g)
                    .or_insert_with(|| format!("building {} crosses its border", dataset.buildings[*bi].id));
            }
        }
        let index = AreaIndex::new(old.iter().map(|g| &g.area));
        for (&u, &home) in &self.exclusive_home {
            if home.is_none()
                && let Some(g) = index.locate(dataset.exclusive[u].anchor)
            {
                out.entry(g)
                    .or_insert_with(|| format!("exclusive unit {} is new here", dataset.exclusive[u].id));
            }
        }
        for (g, grid) in old.iter().enumerate() {
            if grid.kind == GridKind::Exclusive && !self.exclusive_home.values().any(|&h| h == Some(g)) {
                out.entry(g).or_insert_with(|| "its exclusive unit is gone".into());
            }
        }
        out
    }
}

/// Whether two areas meet only along their borders.
fn touches_only(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    use geo::Relate;
    !a.relate(b).is_intersects() || a.relate(b).matches("F********").unwrap_or(false)
}

/// Published grids sharing at least one edge, by exact vertices.
pub(crate) fn neighbours(old: &[&Grid]) -> Vec<BTreeSet<usize>> {
    let mut by_edge: FxHashMap<(VertexKey, VertexKey), Vec<usize>> = FxHashMap::default();
    for (i, g) in old.iter().enumerate() {
        for p in &g.area.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    let (a, b) = (VertexKey::of(l.start), VertexKey::of(l.end));
                    by_edge.entry(if a < b { (a, b) } else { (b, a) }).or_default().push(i);
                }
            }
        }
    }
    let mut out = vec![BTreeSet::new(); old.len()];
    for users in by_edge.values() {
        for &a in users {
            for &b in users {
                if a != b {
                    out[a].insert(b);
                }
            }
        }
    }
    out
}
