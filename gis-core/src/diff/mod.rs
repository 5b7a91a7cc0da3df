//! What changed between two versions of a grid layer: grids created, retired and changed,
//! buildings that moved, and where each new or changed grid's people came from. The CLI's
//! `wangge diff` and the service's version diff both use [`diff`].
//!
//! A layer lists buildings, not people, so residents are counted from the dataset when one is
//! given; without it, lineage is weighed in buildings and the resident counts are left out.
//!
//! With a dataset the diff also says, per grid and per micro-grid, who came in and who left and
//! from or to which grid ([`GridMoves`]), every old → new flow ([`Move`]), and whether the change
//! is large enough that publishing it needs the planner's confirmation ([`LargeMoves`]).

use crate::codes::lineage::{Flows, LineageEntry, splits_and_merges};
use crate::grid::{Grid, GridLevel};
use crate::io::grids::GridLayer;
use crate::model::Dataset;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize)]
pub struct LayerDiff {
    /// Codes only in the new layer.
    pub created: Vec<String>,
    /// Codes only in the old layer.
    pub retired: Vec<String>,
    /// Codes in both whose buildings or geometry differ.
    pub changed: Vec<Changed>,
    /// Codes in both with the same buildings and geometry.
    pub unchanged: usize,
    pub split: Vec<String>,
    pub merged: Vec<String>,
    /// Buildings (or unit parts) whose grid changed; `from`/`to` is `None` for a building only
    /// in the new/old layer.
    pub moved_buildings: Vec<BuildingMove>,
    /// Residents whose grid code changed (in buildings and population points), when a dataset
    /// was given.
    pub moved_residents: Option<u64>,
    /// What lineage is weighed in: "residents" (with a dataset) or "buildings".
    pub weight: &'static str,
    /// Where each created or changed grid's residents (or buildings) came from.
    pub lineage: Vec<LineageEntry>,
    /// With a dataset: every grid (level `grid`) created, retired or changed, with residents,
    /// households and buildings in and out and where from / to; most residents moved first.
    pub grids: Vec<GridMoves>,
    /// The same for micro-grids, apart: a building moving between two micro-grids of one grid
    /// shows here and not in `grids`.
    pub micro_grids: Vec<GridMoves>,
    /// With a dataset: residents of each community (by its old grids) and how many change grid.
    pub communities: Vec<CommunityMoves>,
    /// With a dataset: every flow of residents from an old grid to a different new grid, most
    /// residents first (people new to the dataset are not moves).
    pub moves: Vec<Move>,
    /// With a dataset, when the change passes a threshold (see [`LargeMoves`]): what a planner
    /// confirms before publishing it.
    pub large_moves: Option<LargeMoves>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    pub code: String,
    pub buildings_gained: usize,
    pub buildings_lost: usize,
    pub geometry_changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildingMove {
    pub building: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl LayerDiff {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.retired.is_empty() && self.changed.is_empty()
    }
}

/// Residents of a layer member (a building id or `ID#UNIT`), from the dataset.
pub(crate) fn member_residents(dataset: &Dataset) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for b in &dataset.buildings {
        out.insert(b.id.clone(), u64::from(b.population));
        for u in &b.units {
            out.insert(format!("{}#{}", b.id, u.name), u64::from(u.population));
        }
    }
    out
}

pub fn diff(old: &GridLayer, new: &GridLayer, dataset: Option<&Dataset>) -> LayerDiff {
    let old_by: BTreeMap<&str, &Grid> = old.grids.iter().map(|g| (g.code.as_str(), g)).collect();
    let new_by: BTreeMap<&str, &Grid> = new.grids.iter().map(|g| (g.code.as_str(), g)).collect();
    let created: Vec<String> = new_by
        .keys()
        .filter(|c| !old_by.contains_key(*c))
        .map(|c| c.to_string())
        .collect();
    let retired: Vec<String> = old_by
        .keys()
        .filter(|c| !new_by.contains_key(*c))
        .map(|c| c.to_string())
        .collect();
    let mut changed = Vec::new();
    let mut unchanged = 0;
    for (code, o) in &old_by {
        let Some(n) = new_by.get(code) else { continue };
        let (ob, nb): (BTreeSet<&String>, BTreeSet<&String>) =
            (o.buildings.iter().collect(), n.buildings.iter().collect());
        let geometry_changed = o.area != n.area;
        if ob == nb && !geometry_changed {
            unchanged += 1;
        } else {
            changed.push(Changed {
                code: code.to_string(),
                buildings_gained: nb.difference(&ob).count(),
                buildings_lost: ob.difference(&nb).count(),
                geometry_changed,
            });
        }
    }

    // Buildings at the grid level (micro-grids subdivide grids; a move is between grids).
    let home = |layer: &GridLayer| -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for g in layer.grids.iter().filter(|g| g.level == GridLevel::Grid) {
            for m in &g.buildings {
                out.insert(m.clone(), g.code.clone());
            }
        }
        out
    };
    let (old_home, new_home) = (home(old), home(new));
    let members: BTreeSet<&String> = old_home.keys().chain(new_home.keys()).collect();
    let people = dataset.map(|d| moves::people(d, old, new));
    let residents = dataset.map(member_residents);
    let weigh = |m: &str| residents.as_ref().map_or(1, |r| r.get(m).copied().unwrap_or(0));
    let mut moved_buildings = Vec::new();
    let mut moved_residents = 0;
    let touched: BTreeSet<&str> = created
        .iter()
        .map(String::as_str)
        .chain(changed.iter().map(|c| c.code.as_str()))
        .collect();
    let new_codes: Vec<String> = touched.iter().map(|c| c.to_string()).collect();
    let group: BTreeMap<&str, usize> = touched.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut flows = Flows::default();
    for m in members {
        let (from, to) = (old_home.get(m), new_home.get(m));
        if from != to {
            moved_buildings.push(BuildingMove {
                building: m.clone(),
                from: from.cloned(),
                to: to.cloned(),
            });
            if from.is_some() && to.is_some() {
                moved_residents += weigh(m);
            }
        }
        if let Some(&g) = to.and_then(|t| group.get(t.as_str())) {
            flows.add(from.map(String::as_str), g, weigh(m));
        }
    }
    // Population points (an urban village's people, located by point) follow their location.
    if let Some(p) = &people {
        for item in p.items.iter().filter(|i| i.point) {
            let (from, to) = (&item.grid.0, &item.grid.1);
            if from.is_some() && to.is_some() && from != to {
                moved_residents += item.residents;
            }
            if let Some(&g) = to.as_deref().and_then(|t| group.get(t)) {
                flows.add(from.as_deref(), g, item.residents);
            }
        }
    }
    let lineage = flows.lineage(&new_codes);
    let (split, merged) = splits_and_merges(&lineage);
    let (grids, micro_grids, communities, moves, large_moves) = match &people {
        Some(p) => {
            let grids = moves::grid_moves(p, old, new, GridLevel::Grid);
            let micro = moves::grid_moves(p, old, new, GridLevel::Micro);
            let communities = moves::communities(p, old);
            let flows = moves::flows(p);
            let large = LargeMoves::assess(&communities, &grids, &flows);
            (grids, micro, communities, flows, large)
        }
        None => Default::default(),
    };
    LayerDiff {
        created,
        retired,
        changed,
        unchanged,
        split,
        merged,
        moved_buildings,
        moved_residents: dataset.map(|_| moved_residents),
        weight: if dataset.is_some() { "residents" } else { "buildings" },
        lineage,
        grids,
        micro_grids,
        communities,
        moves,
        large_moves,
    }
}

mod moves;
pub use moves::{
    COMMUNITY_SHARE, CommunityMoves, GRID_LOSS_SHARE, GridChange, GridLoss, GridMoves, LARGEST, LargeMoves, Move,
    MoveShare,
};
