//! What the grids hold, counted from the dataset (never from the layer's own numbers): each
//! building by its anchor, each population point and resource by its location. A point on an
//! edge shared by two grids goes to the one listed first in the layer (the rule of
//! `geom::AreaIndex`).

use crate::bounds::{SizeBasis, SizeBounds};
use crate::geom::BboxIndex;
use crate::model::Dataset;
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Contains, Coord, InteriorPoint, MultiPolygon};
use rayon::prelude::*;

#[derive(Debug, Clone, Default)]
pub(crate) struct Held {
    pub population: u64,
    pub households: u64,
    pub buildings: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Finding {
    /// Building index; its anchor is in no grid.
    BuildingInNoGrid(usize),
    /// Building index and the grids whose interiors hold its anchor.
    BuildingInTwoGrids(usize, Vec<usize>),
    /// Building index, the grids its footprint lies in (most first), the area outside the first
    /// (m²) and its share of the footprint.
    BuildingCut(usize, Vec<usize>, f64, f64),
    PointInNoGrid(usize),
    ResourceInNoGrid(usize),
}

pub(crate) struct Contents {
    pub held: Vec<Held>,
    pub findings: Vec<Finding>,
    /// Buildings reaching into a second grid by no more than the tolerance (`crate::cut`).
    pub building_slivers: usize,
}

/// Counts and checks the contents of `cells` (grid-level grids, as indices into `areas`).
pub(crate) fn check(
    dataset: &Dataset,
    areas: &[&MultiPolygon<f64>],
    bounds: &SizeBounds,
    tolerance_m2: f64,
) -> Contents {
    let boxes = BboxIndex::new(
        areas
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.bounding_rect().map(|r| (i, r))),
    );
    // The grids whose closed area holds `c`, each with whether its interior does: one walk
    // of each candidate's rings (`intersects` then `contains` would measure its box and walk
    // them twice).
    let placed_in = |c: Coord<f64>| -> Vec<(usize, bool)> {
        boxes
            .at_point(c)
            .into_iter()
            .filter_map(|i| {
                let mut on_edge = false;
                for p in areas[i] {
                    match p.coordinate_position(&c) {
                        CoordPos::Inside => return Some((i, true)),
                        CoordPos::OnBoundary => on_edge = true,
                        CoordPos::Outside => {}
                    }
                }
                on_edge.then_some((i, false))
            })
            .collect()
    };
    let holders = |c: Coord<f64>| -> Vec<usize> { placed_in(c).into_iter().map(|(i, _)| i).collect() };
    let mut held = vec![Held::default(); areas.len()];
    let mut findings = Vec::new();

    struct Placed {
        /// (grid, residents, households, member id)
        shares: Vec<(usize, u64, u64, String)>,
        finding: Vec<Finding>,
        sliver: bool,
    }
    let placed: Vec<Placed> = dataset
        .buildings
        .par_iter()
        .enumerate()
        .map(|(bi, b)| {
            let mut finding = Vec::new();
            let mut sliver = false;
            let placed = placed_in(b.anchor.0);
            let at: Vec<usize> = placed.iter().map(|&(g, _)| g).collect();
            let interior: Vec<usize> = placed.iter().filter(|&&(_, inside)| inside).map(|&(g, _)| g).collect();
            if at.is_empty() {
                finding.push(Finding::BuildingInNoGrid(bi));
            } else if interior.len() >= 2 {
                finding.push(Finding::BuildingInTwoGrids(bi, interior));
            }
            let cut = b.footprint.bounding_rect().is_some_and(|r| {
                boxes
                    .intersecting(r)
                    .into_iter()
                    .any(|g| crate::geom::crossed_by_edges_of(&b.footprint, r, areas[g]))
            });
            let size = match bounds.basis {
                SizeBasis::Residents => u64::from(b.population),
                SizeBasis::Households => u64::from(b.households),
            };
            let may_split = b.units.len() >= 2 && size > u64::from(bounds.max);
            let mut shares = Vec::new();
            if cut {
                // The grids the footprint lies in, by area; a sliver leaves it whole.
                let r = b.footprint.bounding_rect().expect("a cut footprint has a box");
                let (parts, outside_m2, share) =
                    match crate::cut::spread(&b.footprint, areas, &boxes.intersecting(r), tolerance_m2) {
                        crate::cut::Spread::Cut {
                            parts,
                            outside_m2,
                            share,
                        } => (parts, outside_m2, share),
                        crate::cut::Spread::Sliver { .. } => {
                            sliver = true;
                            (Vec::new(), 0.0, 0.0)
                        }
                        crate::cut::Spread::Whole => (Vec::new(), 0.0, 0.0),
                    };
                // Split by its units as a partition does: the same slices of the footprint
                // (any frame will do, the map being affine), each unit to the grid holding its
                // slice's interior point.
                let slices = || -> Option<Vec<usize>> {
                    let slices = crate::geom::unit_parts(b, &crate::geom::LocalFrame::new(b.anchor.0))?;
                    slices
                        .iter()
                        .map(|s| {
                            let p = s.interior_point()?;
                            parts.iter().map(|x| x.0).find(|&g| areas[g].contains(&p))
                        })
                        .collect()
                };
                let sliced = if may_split && parts.len() >= 2 { slices() } else { None };
                if let Some(gs) = sliced {
                    for (unit, g) in b.units.iter().zip(gs) {
                        shares.push((
                            g,
                            u64::from(unit.population),
                            u64::from(unit.households),
                            format!("{}#{}", b.id, unit.name),
                        ));
                    }
                } else if may_split && parts.len() >= 2 {
                    // Slices that cannot be made or placed: units go to grids by share of the
                    // footprint (in unit order), an approximation of the unit slices.
                    let total: f64 = parts.iter().map(|p| p.1).sum();
                    let n = b.units.len();
                    let mut quota: Vec<(usize, usize)> = Vec::new();
                    let mut given = 0;
                    for (k, (g, a)) in parts.iter().enumerate() {
                        let q = if k + 1 == parts.len() {
                            n - given
                        } else {
                            ((a / total) * n as f64).round() as usize
                        };
                        let q = q.min(n - given);
                        given += q;
                        quota.push((*g, q));
                    }
                    let mut u = 0;
                    for (g, q) in quota {
                        for unit in &b.units[u..u + q] {
                            shares.push((
                                g,
                                u64::from(unit.population),
                                u64::from(unit.households),
                                format!("{}#{}", b.id, unit.name),
                            ));
                        }
                        u += q;
                    }
                } else if parts.len() >= 2 {
                    finding.push(Finding::BuildingCut(
                        bi,
                        parts.iter().map(|p| p.0).collect(),
                        outside_m2,
                        share,
                    ));
                }
            }
            if shares.is_empty()
                && let Some(&g) = at.first()
            {
                shares.push((g, u64::from(b.population), u64::from(b.households), b.id.clone()));
            }
            Placed {
                shares,
                finding,
                sliver,
            }
        })
        .collect();
    let mut building_slivers = 0;
    for p in placed {
        building_slivers += usize::from(p.sliver);
        for (g, pop, hh, id) in p.shares {
            held[g].population += pop;
            held[g].households += hh;
            held[g].buildings.push(id);
        }
        findings.extend(p.finding);
    }
    for (pi, p) in dataset.points.iter().enumerate() {
        match holders(p.location.0).first() {
            Some(&g) => {
                held[g].population += u64::from(p.count);
                held[g].households += u64::from(crate::model::estimated_households(p.count).max(1));
            }
            None => findings.push(Finding::PointInNoGrid(pi)),
        }
    }
    for (ri, r) in dataset.resources.iter().enumerate() {
        if r.community.is_some() && holders(r.location.0).is_empty() {
            findings.push(Finding::ResourceInNoGrid(ri));
        }
    }
    for h in &mut held {
        h.buildings.sort_unstable();
    }
    Contents {
        held,
        findings,
        building_slivers,
    }
}
