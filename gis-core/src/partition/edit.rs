//! A planner's manual edit: buildings moved to another grid of their community. It runs as a
//! re-partition whose region is the buildings' grids and the target, labelled as the planner says
//! instead of searched; grids keep their codes whatever moved.

use super::repartition::{Decision, EDIT, Places, Problem, RepairError, Repartition, Run};
use crate::bounds::SizeBounds;
use crate::grid::{Grid, GridLevel};
use crate::io::grids::GridLayer;
use crate::model::Dataset;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(transparent)]
    Layer(#[from] RepairError),
    #[error("no grid has code {0}")]
    UnknownGrid(String),
    #[error("{0} is a micro-grid; buildings move between grids")]
    MicroTarget(String),
    #[error("no building has id {0}")]
    UnknownBuilding(String),
    #[error("building {building} is in community {community}, grid {to} is not")]
    OtherCommunity {
        building: String,
        community: String,
        to: String,
    },
    #[error("building {building} is part of exclusive unit {unit}; it moves with its unit")]
    Exclusive { building: String, unit: String },
    #[error("the move is refused (pass --force to make it anyway):\n  - {}", .0.join("\n  - "))]
    Refused(Vec<String>),
}

/// A planner's edit: moves buildings to grid `to`. Refused with the reasons when a grid would be
/// in parts or outside the bounds, unless `force`, and then the reasons go into the report.
pub fn move_buildings(
    dataset: &Dataset,
    published: &GridLayer,
    buildings: &[String],
    to: &str,
    bounds: SizeBounds,
    force: bool,
) -> Result<Repartition, MoveError> {
    let target = published
        .grids
        .iter()
        .find(|g| g.code == to)
        .ok_or_else(|| MoveError::UnknownGrid(to.into()))?;
    if target.level == GridLevel::Micro {
        return Err(MoveError::MicroTarget(to.into()));
    }
    let ci = dataset
        .communities
        .iter()
        .position(|c| c.code.as_str() == target.community_code)
        .ok_or_else(|| RepairError::UnknownCommunity {
            code: to.into(),
            community: target.community_code.clone(),
        })?;
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for id in buildings {
        let b = dataset
            .buildings
            .iter()
            .find(|b| &b.id == id)
            .ok_or_else(|| MoveError::UnknownBuilding(id.clone()))?;
        if b.community != ci {
            return Err(MoveError::OtherCommunity {
                building: id.clone(),
                community: dataset.communities[b.community].code.to_string(),
                to: to.into(),
            });
        }
        if let Some(u) = b.exclusive_unit {
            return Err(MoveError::Exclusive {
                building: id.clone(),
                unit: dataset.exclusive[u].id.clone(),
            });
        }
        ids.insert(id.clone());
    }
    let mut run = Run::new(dataset, published, bounds, 1)?;
    let edit = Edit {
        buildings: ids,
        to: to.to_string(),
        force,
    };
    for c in 0..dataset.communities.len() {
        run.community(c, (c == ci).then_some(&edit));
    }
    if let Some(reasons) = run.refused.take() {
        return Err(MoveError::Refused(reasons));
    }
    let forced = std::mem::take(&mut run.forced);
    Ok(run.finish(forced))
}

/// The buildings to move and the grid they go to.
pub(crate) struct Edit {
    pub(crate) buildings: BTreeSet<String>,
    pub(crate) to: String,
    pub(crate) force: bool,
}

impl<'d> Run<'d> {
    /// A manual edit's plan for the community holding the target grid: the buildings' grids and
    /// the target are re-drawn with the buildings moved, and the violations found either refuse
    /// the edit or, forced, go into the report.
    pub(crate) fn plan_edit(&self, ci: usize, old: &[&'d Grid], places: &Places, e: &Edit) -> Decision {
        let mut affected = BTreeMap::new();
        for (bi, b) in self.dataset.buildings.iter().enumerate() {
            if e.buildings.contains(&b.id)
                && let Some(h) = places.building_home[&bi]
            {
                affected.insert(h, format!("building {} moves out", b.id));
            }
        }
        let t = old.iter().position(|g| g.code == e.to).expect("target in community");
        affected.insert(t, "receives buildings".into());
        let (mut forced, mut refused) = (Vec::new(), None);
        let region: BTreeSet<usize> = affected.keys().copied().collect();
        let problem = Problem::new(self, ci, old, places, &region);
        let solution = problem.and_then(|p| {
            let labels = p.edit_labels(e);
            let c = p.evaluate(labels, EDIT, &self.bounds);
            let mut reasons = c.violations.clone();
            if !c.connected {
                reasons.push("a grid would be in parts: the buildings do not touch their new grid".into());
            }
            if !reasons.is_empty() {
                if e.force {
                    forced = reasons;
                } else {
                    refused = Some(reasons);
                    return None;
                }
            }
            Some((p, c))
        });
        Decision {
            affected,
            solution,
            forced,
            refused,
        }
    }
}

impl Problem {
    /// Labels for a manual edit: the named buildings' atoms go to the target grid.
    fn edit_labels(&self, e: &Edit) -> Vec<usize> {
        let to = self
            .region_codes
            .iter()
            .position(|c| c == &e.to)
            .expect("the target grid is in the region");
        let mut labels = self.initial.clone();
        for (n, &a) in self.basic.iter().enumerate() {
            let moved = self.atoms()[a]
                .members
                .iter()
                .any(|m| e.buildings.contains(m.split_once('#').map_or(m.as_str(), |(b, _)| b)));
            if moved {
                labels[n] = to;
            }
        }
        labels
    }
}
