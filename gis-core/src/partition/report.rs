//! What a partition reports per community: sizes against the bounds, compactness, borders on
//! roads and compound lines, split compounds, and every compromise it made, in words.

use super::atoms::Atom;
use crate::bounds::{GridCounts, SizeBasis, SizeBounds};
use crate::grid::{Grid, GridKind};
use crate::measure::area_m2;
use crate::model::Community;
use geo::{Geodesic, Length, MultiPolygon};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PartitionReport {
    pub bounds: SizeBounds,
    pub communities: Vec<CommunityReport>,
    /// The output checked against the dataset: exact coverage, no building cut.
    pub verification: super::Verification,
    pub micro_verification: Option<super::Verification>,
    /// Life-circle coverage per grid (added by the planner's steps, which know the walking network).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::access::AccessSection>,
}

impl PartitionReport {
    /// Whether the output passed its own check at every level.
    pub fn is_clean(&self) -> bool {
        self.verification.is_clean()
            && self
                .micro_verification
                .as_ref()
                .is_none_or(super::Verification::is_clean)
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SizeStats {
    pub min: u64,
    pub median: u64,
    pub max: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommunityReport {
    pub code: String,
    pub name: String,
    pub residents: u64,
    /// What basic grids share, in the bounds' basis (exclusive units excluded).
    pub basic_size: u64,
    pub feasible: GridCounts,
    pub basic_grids: usize,
    pub exclusive_grids: usize,
    pub micro_grids: usize,
    pub sizes: SizeStats,
    /// Basic grids whose size lies within the bounds.
    pub in_bounds: usize,
    /// Polsby-Popper 4πA/P² of basic grids (1 for a disc), geodesic.
    pub compactness_mean: f64,
    pub compactness_min: f64,
    /// Share of the border between grids that runs along a road or a compound line.
    pub road_or_compound_share: f64,
    /// Compounds (小区) that fit in one grid yet were split: kept whole unless the bounds forbid.
    pub split_compounds: usize,
    /// Compounds bigger than one grid's maximum, split because they must be.
    pub split_compounds_too_big: usize,
    /// Grids in more than one part.
    pub multipart_grids: usize,
    pub h3_resolution: Option<u8>,
    /// Shared walls reconciled before tessellating (see `partition::walls`).
    pub walls: WallsReport,
    /// Borders between grids straightened through the open space (see `partition::simplify`).
    pub borders: super::BorderShape,
    /// Every compromise made, and why; empty when every rule holds.
    pub warnings: Vec<Warning>,
}

/// What reconciling footprints that share a wall changed: corners moved onto a neighbour's
/// corner and corners inserted into a neighbour's wall (each within 0.1 m), and footprints left as
/// drawn because the change would have made them invalid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WallsReport {
    pub snapped_corners: usize,
    pub inserted_corners: usize,
    pub left_as_drawn: usize,
}

/// What a partition could not do as the rules ask, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A building above the maximum with no units to split by: its grid is oversized.
    OversizedBuilding,
    /// A building crosses the community line, so the line cuts it.
    CrossesCommunityLine,
    /// Building outlines overlap slightly; not all walls could be kept.
    OverlappingOutlines,
    /// Residents cut off from the rest (by exclusive units or the community's shape).
    CutOff,
    /// Part of the community holds nobody and was joined to the nearest grid.
    EmptyPart,
    /// No plan keeps every grid within the bounds; the closest found is used.
    OutOfBounds,
    /// The community could not be triangulated; it is one grid.
    Untriangulated,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub message: String,
}

impl CommunityReport {
    pub(crate) fn new(c: &Community, h3_resolution: Option<u8>) -> Self {
        Self {
            code: c.code.to_string(),
            name: c.name.clone(),
            residents: 0,
            basic_size: 0,
            feasible: GridCounts::Empty,
            basic_grids: 0,
            exclusive_grids: 0,
            micro_grids: 0,
            sizes: SizeStats::default(),
            in_bounds: 0,
            compactness_mean: 0.0,
            compactness_min: 0.0,
            road_or_compound_share: 0.0,
            split_compounds: 0,
            split_compounds_too_big: 0,
            multipart_grids: 0,
            h3_resolution,
            walls: WallsReport::default(),
            borders: super::BorderShape::default(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn warn(&mut self, kind: WarningKind, message: String) {
        let w = Warning { kind, message };
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    pub(crate) fn finish(&mut self, grids: &[Grid], atoms: &[Atom], bounds: &SizeBounds, borders: Borders) {
        self.residents = atoms.iter().map(|a| a.population).sum();
        let basic: Vec<&Grid> = grids.iter().filter(|g| g.kind == GridKind::Basic).collect();
        self.basic_grids = basic.len();
        self.exclusive_grids = grids.len() - basic.len();
        self.road_or_compound_share = borders.guided_share;
        self.split_compounds = borders.split_compounds;
        self.split_compounds_too_big = borders.split_compounds_too_big;
        self.multipart_grids = grids.iter().filter(|g| g.area.0.len() > 1).count();
        let pp: Vec<f64> = basic.iter().map(|g| polsby_popper(&g.area)).collect();
        if !pp.is_empty() {
            self.compactness_mean = pp.iter().sum::<f64>() / pp.len() as f64;
            self.compactness_min = pp.iter().copied().fold(f64::INFINITY, f64::min);
        }
        let size = |g: &Grid| match bounds.basis {
            SizeBasis::Residents => g.population,
            SizeBasis::Households => g.households,
        };
        let mut sizes: Vec<u64> = grids.iter().filter(|g| g.kind == GridKind::Basic).map(size).collect();
        sizes.sort_unstable();
        self.basic_size = atoms
            .iter()
            .filter(|a| a.exclusive.is_none())
            .map(|a| a.size(bounds.basis))
            .sum();
        self.feasible = bounds.grid_counts(self.basic_size);
        self.in_bounds = sizes
            .iter()
            .filter(|&&s| s >= u64::from(bounds.min) && s <= u64::from(bounds.max))
            .count();
        if let (Some(&min), Some(&max)) = (sizes.first(), sizes.last()) {
            self.sizes = SizeStats {
                min,
                median: sizes[sizes.len() / 2],
                max,
            };
        }
    }
}

/// How the borders between a community's grids lie.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Borders {
    pub guided_share: f64,
    pub split_compounds: usize,
    pub split_compounds_too_big: usize,
}

/// 4πA/P², geodesic, over every ring of every part.
pub fn polsby_popper(area: &MultiPolygon<f64>) -> f64 {
    let a = area_m2(area);
    let p: f64 = area
        .0
        .iter()
        .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
        .map(|ring| Geodesic.length(ring))
        .sum();
    if p > 0.0 {
        4.0 * std::f64::consts::PI * a / (p * p)
    } else {
        0.0
    }
}
