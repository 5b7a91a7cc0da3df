//! Re-partitioning a published layer with the fewest changes.
//!
//! Planners live with a published partition for years. When the data changes, only what must
//! change does:
//! 1. Each building and population point is placed in the published grid that holds it (by the
//!    layer's building lists first, by location for new buildings and points).
//! 2. A grid is *affected* when it is outside the size bounds, a building crosses its border, or
//!    an exclusive unit appeared in it or left it. Grids gaining new buildings but still inside
//!    the bounds keep their geometry; only their lists and counts change.
//! 3. The affected grids and their basic neighbours form a region, re-drawn from a tessellation of
//!    the region alone (see [`redraw`]). Several repairs are tried — moving the fewest
//!    residents across borders toward grids with room, new arrivals as a grid of their own, a
//!    fresh plan of the region — and the one keeping most residents in a grid with an unchanged
//!    code wins. If no repair fits the bounds, the region grows by a ring of neighbours.
//! 4. Grids the chosen repair leaves alone are taken out of the region and it is re-drawn again,
//!    so every grid not changed keeps its geometry to the bit.
//! 5. Codes follow [`crate::codes::lineage`]: a grid keeping most of an old grid's residents
//!    (and made mostly of them) keeps its code; others get new codes; retired codes go into the
//!    code book and are never issued again.
//!
//! The parts: [`places`] (where everything sits in the published layer), [`problem`] (a region and
//! the candidate repairs scored on it), [`rebalance`] (moving the fewest residents), [`run`] (one
//! run over every community) and [`realise`] (the chosen repair as grids, codes and lineage).

mod places;
mod problem;
mod realise;
mod rebalance;
mod redraw;
mod run;

pub(crate) use places::Places;
pub(crate) use problem::{EDIT, Problem};
pub(crate) use run::{Decision, Run};

use crate::bounds::SizeBounds;
use crate::codes::lineage::LineageEntry;
use crate::io::grids::GridLayer;
use crate::model::{Dataset, Staff};
use run::Planned;
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct RepartitionOptions {
    pub bounds: SizeBounds,
    pub seed: u64,
    /// Micro-grid bounds: re-drawn grids get new micro-grids. `None` keeps to what the published
    /// layer has: micro-grids of the default size if it has any.
    pub micro: Option<SizeBounds>,
}

impl Default for RepartitionOptions {
    fn default() -> Self {
        Self {
            bounds: SizeBounds::default(),
            seed: 1,
            micro: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("code {0} is used by more than one grid in the published layer")]
    DuplicateCode(String),
    #[error("grid {code} names community {community}, which the dataset does not hold")]
    UnknownCommunity { code: String, community: String },
    #[error(
        "the published layer is not one exact coverage ({bad} edges used twice, {unmatched} edges matched by no neighbour); repair it with `wangge validate --fix` first"
    )]
    NotACoverage { bad: usize, unmatched: usize },
}

/// A re-partition's result: the new layer (its code book updated), what changed, and the staff
/// list with each person on their grid's current code.
#[derive(Debug, Clone)]
pub struct Repartition {
    pub layer: GridLayer,
    pub report: RepartitionReport,
    pub staff: Vec<Staff>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepartitionReport {
    pub bounds: SizeBounds,
    /// Same code, same buildings, same geometry to the bit (counts may differ).
    pub kept: Vec<String>,
    /// Same code, but buildings or geometry changed.
    pub changed: Vec<String>,
    /// Old grids whose residents went to two or more grids (≥ 10% each).
    pub split: Vec<String>,
    /// New grids made from two or more old grids (≥ 10% each).
    pub merged: Vec<String>,
    pub created: Vec<String>,
    pub retired: Vec<String>,
    pub residents: Residents,
    pub communities: Vec<CommunityRepair>,
    /// Where the residents of every changed or created grid came from.
    pub lineage: Vec<LineageEntry>,
    pub staff: Vec<StaffChange>,
    /// Basic grids still outside the bounds, with their size.
    pub out_of_bounds: Vec<(String, u64)>,
    /// Violations a forced manual edit wrote into the layer.
    pub forced: Vec<String>,
    pub verification: super::Verification,
    /// The micro-grids (with the exclusive grids) checked the same way, when the layer has them.
    pub micro_verification: Option<super::Verification>,
    /// Life-circle coverage per grid (added by the planner's steps, which know the walking network).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::access::AccessSection>,
}

impl RepartitionReport {
    /// Whether the output passed its own check at every level.
    pub fn is_clean(&self) -> bool {
        self.verification.is_clean()
            && self
                .micro_verification
                .as_ref()
                .is_none_or(super::Verification::is_clean)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Residents {
    pub total: u64,
    /// Residents of buildings the published layer did not know.
    pub new: u64,
    /// Residents known before whose grid code changed.
    pub moved: u64,
    /// Share of residents known before who keep both their grid and its code.
    pub kept_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommunityRepair {
    pub code: String,
    pub affected: Vec<Affected>,
    /// Old grids re-drawn.
    pub region: Vec<String>,
    /// The repair chosen: "rebalance", "new grid for new buildings", "re-plan", or "edit".
    pub strategy: Option<String>,
    pub moved_residents: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Affected {
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffChange {
    pub name: String,
    pub role: String,
    pub from: String,
    /// The grid that took most of the retired grid's residents; `None` when nobody went on.
    pub to: Option<String>,
}

/// Re-partitions `dataset` starting from the `published` layer.
///
/// # Examples
///
/// The biggest grid's residents double: it is re-drawn (with neighbours if need be), and every
/// grid left alone keeps its code and its geometry to the bit.
///
/// ```
/// use gis_core::grid::GridKind;
/// use gis_core::io::grids::{GridLayer, LayerMeta};
/// use gis_core::io::load_dataset;
/// use gis_core::partition::{PartitionOptions, RepartitionOptions, partition, repartition};
/// use std::path::Path;
///
/// let mut dataset = load_dataset(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle"))?.dataset;
/// let grids = partition(&dataset, &PartitionOptions::default(), &mut |_, _| {}).grids;
/// let published = GridLayer { grids, meta: LayerMeta::default() };
///
/// let big = published.grids.iter().filter(|g| g.kind == GridKind::Basic).max_by_key(|g| g.population).unwrap();
/// for b in dataset.buildings.iter_mut().filter(|b| big.buildings.contains(&b.id)) {
///     b.population *= 2;
/// }
/// let next = repartition(&dataset, &published, &RepartitionOptions::default())?;
///
/// assert!(next.report.communities[0].affected.iter().any(|a| a.code == big.code));
/// for code in &next.report.kept {
///     let before = published.grids.iter().find(|g| &g.code == code).unwrap();
///     let after = next.layer.grids.iter().find(|g| &g.code == code).unwrap();
///     assert_eq!(after.area, before.area);
/// }
/// assert!(next.report.is_clean());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn repartition(
    dataset: &Dataset,
    published: &GridLayer,
    options: &RepartitionOptions,
) -> Result<Repartition, RepairError> {
    let mut run = Run::new(dataset, published, options.bounds, options.seed)?;
    run.micro = options.micro.or(run.micro);
    use rayon::prelude::*;
    let planned: Vec<Option<Planned>> = (0..dataset.communities.len())
        .into_par_iter()
        .map(|ci| run.plan_community(ci, None))
        .collect();
    for (ci, p) in planned.into_iter().enumerate() {
        run.apply(ci, p);
    }
    Ok(run.finish(Vec::new()))
}
