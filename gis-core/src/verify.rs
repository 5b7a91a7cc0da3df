//! The self-check every layer passes before anyone relies on it (partition, re-partition and
//! move check their output with it; the store checks what it publishes): the grids of each level form
//! one exact coverage (every inner edge shared with identical vertices by exactly two grids,
//! every other edge on the community line), every grid's area is OGC-valid, and no grid edge
//! crosses a building.

use crate::geom::{BboxIndex, VertexKey, midpoint};
use crate::grid::{Grid, GridLevel};
use crate::model::Dataset;
use geo::{BoundingRect, Distance, Euclidean, Point, Rect};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// Building ids lying in a second grid by more than the cut tolerance (`crate::cut`).
    pub buildings_cut: Vec<String>,
    /// The same buildings with the grids and the area outside the main one.
    pub cuts: Vec<crate::cut::CutBuilding>,
    /// Buildings reaching into a second grid by no more than the tolerance (float noise along a
    /// shared wall, a survey overlap): counted, not failed.
    pub sliver_cuts: usize,
    /// Edges used twice the same way, or by one grid on both sides.
    pub bad_shared_edges: usize,
    /// Edges used once that do not lie on the community line: a gap, or a neighbour with
    /// different vertices on a shared edge.
    pub unmatched_edges: usize,
    /// Grids of the level whose area is not an OGC-valid MultiPolygon (a ring touching or
    /// crossing itself, a bow tie, parts overlapping): such a grid does not read back as GeoJSON.
    pub invalid_grids: Vec<InvalidGrid>,
}

/// A grid whose area is not OGC-valid, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidGrid {
    pub code: String,
    /// e.g. "ring self-intersection at (118.1148000, 24.5060000)".
    pub reason: String,
}

impl Verification {
    pub fn is_clean(&self) -> bool {
        self.buildings_cut.is_empty()
            && self.bad_shared_edges == 0
            && self.unmatched_edges == 0
            && self.invalid_grids.is_empty()
    }
}

/// Why an area is not OGC-valid (geo's `Validation`; the first error found, located where it
/// helps), or `None` when it is valid.
pub fn invalid_reason(area: &geo::MultiPolygon<f64>) -> Option<String> {
    use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole, Validation};
    if crate::geom::surely_valid_multi(area) {
        return None;
    }
    let err = area.validation_errors().into_iter().next()?;
    let ring_of = |p: usize, role: &RingRole| {
        let poly = &area.0[p];
        match role {
            RingRole::Exterior => Some(poly.exterior()),
            RingRole::Interior(i) => poly.interiors().get(*i),
        }
    };
    let part = |p: usize| {
        if area.0.len() > 1 {
            format!("part {p}: ")
        } else {
            String::new()
        }
    };
    Some(match err {
        InvalidMultiPolygon::InvalidPolygon(ix, InvalidPolygon::SelfIntersection(role)) => {
            let at = ring_of(ix.0, &role)
                .and_then(crate::io::geometry::crossing)
                .map(|c| format!(" at ({:.7}, {:.7})", c.x, c.y))
                .unwrap_or_default();
            let which = match role {
                RingRole::Exterior => "ring".to_string(),
                RingRole::Interior(i) => format!("hole {i}"),
            };
            format!("{}{which} self-intersection{at}", part(ix.0))
        }
        InvalidMultiPolygon::InvalidPolygon(ix, inner) => format!("{}{inner}", part(ix.0)),
        other => other.to_string(),
    })
}

/// Checks the grids of one level (grids, or micro-grids with the exclusive grids).
pub fn verify(dataset: &Dataset, grids: &[Grid], level: GridLevel) -> Verification {
    let layer: Vec<&Grid> = grids
        .iter()
        .filter(|g| g.level == level || (level == GridLevel::Micro && g.kind == crate::grid::GridKind::Exclusive))
        .collect();
    let mut uses: FxHashMap<(VertexKey, VertexKey), Vec<(usize, bool)>> = FxHashMap::default();
    for (gi, g) in layer.iter().enumerate() {
        for p in &g.area.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    let (a, b) = (VertexKey::of(l.start), VertexKey::of(l.end));
                    let (k, forward) = if a < b { ((a, b), true) } else { ((b, a), false) };
                    uses.entry(k).or_default().push((gi, forward));
                }
            }
        }
    }
    let mut out = Verification::default();
    let mut invalid: Vec<InvalidGrid> = layer
        .par_iter()
        .filter_map(|g| {
            invalid_reason(&g.area).map(|reason| InvalidGrid {
                code: g.code.clone(),
                reason,
            })
        })
        .collect();
    invalid.sort_by(|a, b| a.code.cmp(&b.code));
    out.invalid_grids = invalid;
    let code_ix: FxHashMap<&str, usize> = dataset
        .communities
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.as_str(), i))
        .collect();
    let community_boxes = BboxIndex::new(
        dataset
            .communities
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.boundary.bounding_rect().map(|r| (i, r))),
    );
    let on_line = |ci: usize, p: Point<f64>| {
        dataset.communities[ci]
            .boundary
            .0
            .iter()
            .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
            .any(|ring| Euclidean.distance(&p, ring) < 1e-9)
    };
    let once: Vec<((VertexKey, VertexKey), usize)> = uses
        .iter()
        .filter_map(|(k, u)| match u.as_slice() {
            [(g, _)] => Some((*k, *g)),
            [(g1, f1), (g2, f2)] => {
                if f1 == f2 || g1 == g2 {
                    out.bad_shared_edges += 1;
                }
                None
            }
            _ => {
                out.bad_shared_edges += 1;
                None
            }
        })
        .collect();
    out.unmatched_edges = once
        .par_iter()
        .filter(|((a, b), g)| {
            let mid = Point(midpoint(a.coord(), b.coord()));
            let Some(&own) = code_ix.get(layer[*g].community_code.as_str()) else {
                return true;
            };
            if !on_line(own, mid) {
                return true;
            }
            // On another community's line too: that neighbour should have used this very edge.
            let probe = Rect::new(mid.0, mid.0);
            community_boxes
                .intersecting(probe)
                .into_iter()
                .any(|c| c != own && on_line(c, mid))
        })
        .count();

    // Crossing a grid edge is the cheap test; the area in a second grid is the verdict.
    let areas: Vec<&geo::MultiPolygon<f64>> = layer.iter().map(|g| &g.area).collect();
    let grid_boxes = BboxIndex::new(
        areas
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.bounding_rect().map(|r| (i, r))),
    );
    // A building deliberately split into its units is not "cut".
    let split_by_units: rustc_hash::FxHashSet<&str> = layer
        .iter()
        .flat_map(|g| g.buildings.iter())
        .filter_map(|m| m.split_once('#').map(|(id, _)| id))
        .collect();
    let spreads: Vec<(usize, crate::cut::Spread)> = dataset
        .buildings
        .par_iter()
        .enumerate()
        .filter(|(_, b)| !split_by_units.contains(b.id.as_str()))
        .filter_map(|(bi, b)| {
            let r = b.footprint.bounding_rect()?;
            let candidates = grid_boxes.intersecting(r);
            let crossed = candidates
                .iter()
                .any(|&g| crate::geom::crossed_by_edges_of(&b.footprint, r, areas[g]));
            if !crossed {
                return None;
            }
            Some((
                bi,
                crate::cut::spread(&b.footprint, &areas, &candidates, crate::cut::CUT_TOLERANCE_M2),
            ))
        })
        .collect();
    for (bi, spread) in spreads {
        match spread {
            crate::cut::Spread::Whole => {}
            crate::cut::Spread::Sliver { .. } => out.sliver_cuts += 1,
            crate::cut::Spread::Cut {
                parts,
                outside_m2,
                share,
            } => out.cuts.push(crate::cut::CutBuilding {
                building: dataset.buildings[bi].id.clone(),
                grids: parts.iter().map(|&(g, _)| layer[g].code.clone()).collect(),
                outside_m2,
                share,
            }),
        }
    }
    out.cuts.sort_by(|a, b| a.building.cmp(&b.building));
    out.buildings_cut = out.cuts.iter().map(|c| c.building.clone()).collect();
    out
}
