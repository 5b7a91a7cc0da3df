//! One definition of a cut building, for every check that asks: partition's self-check,
//! `validate`, re-partition and the planner's move. A building is **cut** when more than a stated
//! area of its footprint lies in a second grid. Less than that is a **sliver**: float noise of a
//! border running along a wall, or a survey's overlap of neighbouring footprints by a few cm² that
//! a shared wall leaves on the other side. Slivers are counted apart, never called cuts.

use geo::bool_ops::BooleanOps;
use geo::{Intersects, MultiPolygon};
use serde::Serialize;

/// Footprint area (m²) a second grid may hold before the building counts as cut; the default of
/// `validate --tolerance`, so partition and validate agree.
pub const CUT_TOLERANCE_M2: f64 = 1.0;

/// A building whose footprint lies in more than one grid by more than the tolerance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CutBuilding {
    pub building: String,
    /// Codes of the grids holding part of it, the one holding most first.
    pub grids: Vec<String>,
    /// Footprint area outside the grid holding most of it (m²).
    pub outside_m2: f64,
    /// That area's share of the footprint (0–1).
    pub share: f64,
}

/// How a footprint lies across grids.
#[derive(Debug, Clone, PartialEq)]
pub enum Spread {
    /// In one grid (or none).
    Whole,
    /// In a second grid by at most the tolerance.
    Sliver { outside_m2: f64 },
    /// In a second grid by more than the tolerance: (grid, m²), largest first.
    Cut {
        parts: Vec<(usize, f64)>,
        outside_m2: f64,
        share: f64,
    },
}

/// Where `footprint` lies among the grids `candidates` (indexes into `areas`), measured on the
/// ellipsoid.
pub fn spread(
    footprint: &MultiPolygon<f64>,
    areas: &[&MultiPolygon<f64>],
    candidates: &[usize],
    tolerance_m2: f64,
) -> Spread {
    let mut parts: Vec<(usize, f64)> = candidates
        .iter()
        .copied()
        .filter(|&g| areas[g].intersects(footprint))
        .map(|g| {
            (
                g,
                crate::measure::overlay_area_m2(&crate::validate::orient_rfc(areas[g].intersection(footprint))),
            )
        })
        .filter(|&(_, a)| a > 0.0)
        .collect();
    if parts.len() < 2 {
        return Spread::Whole;
    }
    parts.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let outside_m2: f64 = parts[1..].iter().map(|p| p.1).sum();
    if parts[1].1 <= tolerance_m2 {
        return Spread::Sliver { outside_m2 };
    }
    let total = crate::measure::area_m2(footprint).max(outside_m2);
    let share = if total > 0.0 { outside_m2 / total } else { 0.0 };
    Spread::Cut {
        parts,
        outside_m2,
        share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(x0: f64, y0: f64, side_deg: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0), (x: x0 + side_deg, y: y0), (x: x0 + side_deg, y: y0 + side_deg), (x: x0, y: y0 + side_deg), (x: x0, y: y0)
        ]])
    }

    #[test]
    fn a_wall_shared_to_a_hair_is_a_sliver_and_a_border_through_the_middle_a_cut() {
        // A 10 m building (about 9e-5°) at 24.5°N, and two grids split at x = 118.
        let left = square(117.999, 24.5, 0.001);
        let right = square(118.0, 24.5, 0.001);
        let areas = [&left, &right];
        // Reaching 1 mm into the right grid: a sliver.
        let hair = square(118.0 - 0.00009, 24.5003, 0.00009 + 1e-8);
        assert!(
            matches!(spread(&hair, &areas, &[0, 1], CUT_TOLERANCE_M2), Spread::Sliver { outside_m2 } if outside_m2 > 0.0 && outside_m2 < 0.05)
        );
        // Straddling the border: a cut, with about half outside.
        let straddle = square(118.0 - 0.000045, 24.5003, 0.00009);
        match spread(&straddle, &areas, &[0, 1], CUT_TOLERANCE_M2) {
            Spread::Cut { parts, share, .. } => {
                assert_eq!(parts.len(), 2);
                assert!((share - 0.5).abs() < 0.01, "{share}");
            }
            other => panic!("{other:?}"),
        }
        // Wholly inside one grid.
        let inside = square(117.9995, 24.5003, 0.00009);
        assert_eq!(spread(&inside, &areas, &[0, 1], CUT_TOLERANCE_M2), Spread::Whole);
    }
}
