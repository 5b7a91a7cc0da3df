//! Who moves where when a layer replaces another: per grid (and, apart, per micro-grid) the
//! residents, households and buildings that come in and leave, and from or to which grid; every
//! old → new flow; per community the share of residents who change grid; and whether the change
//! is large enough that a planner must confirm it before it is published.
//!
//! People are counted from the dataset: a building (or unit part `ID#UNIT`) is where the layers'
//! building lists put it; a population point (an urban village's residents, located by point)
//! is where the grid covering its location is, by the lookup's edge rule.

use super::member_residents;
use crate::codes::lineage::share;
use crate::grid::{Grid, GridLevel};
use crate::io::grids::GridLayer;
use crate::lookup::GridIndex;
use crate::model::Dataset;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A community changes "a lot" when at least this share of its residents change grid.
pub const COMMUNITY_SHARE: f64 = 0.10;
/// A grid changes "a lot" when more than this share of its residents move to other grids.
pub const GRID_LOSS_SHARE: f64 = 0.30;
/// How many of the largest moves a large change lists.
pub const LARGEST: usize = 10;

/// One building (or unit part) or population point, and its grid and micro-grid in the old and
/// the new layer (`None`: not in that layer).
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub point: bool,
    pub residents: u64,
    pub households: u64,
    pub grid: (Option<String>, Option<String>),
    pub micro: (Option<String>, Option<String>),
}

#[derive(Debug, Clone, Default)]
pub(super) struct People {
    pub items: Vec<Item>,
}

/// Households of each layer member, from the dataset (a unit part: its unit's households).
fn member_households(dataset: &Dataset) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for b in &dataset.buildings {
        out.insert(b.id.clone(), u64::from(b.households));
        for u in &b.units {
            out.insert(format!("{}#{}", b.id, u.name), u64::from(u.households));
        }
    }
    out
}

fn homes(layer: &GridLayer, level: GridLevel) -> BTreeMap<&str, &str> {
    let mut out = BTreeMap::new();
    for g in layer.grids.iter().filter(|g| g.level == level) {
        for m in &g.buildings {
            out.insert(m.as_str(), g.code.as_str());
        }
    }
    out
}

/// Everyone the dataset knows, placed in both layers.
pub(super) fn people(dataset: &Dataset, old: &GridLayer, new: &GridLayer) -> People {
    let residents = member_residents(dataset);
    let households = member_households(dataset);
    let (old_grid, new_grid) = (homes(old, GridLevel::Grid), homes(new, GridLevel::Grid));
    let (old_micro, new_micro) = (homes(old, GridLevel::Micro), homes(new, GridLevel::Micro));
    let members: BTreeSet<&str> = old_grid.keys().chain(new_grid.keys()).copied().collect();
    let own = |m: Option<&&str>| m.map(|c| c.to_string());
    let mut items: Vec<Item> = members
        .into_iter()
        .map(|m| Item {
            point: false,
            residents: residents.get(m).copied().unwrap_or(0),
            households: households.get(m).copied().unwrap_or(0),
            grid: (own(old_grid.get(m)), own(new_grid.get(m))),
            micro: (own(old_micro.get(m)), own(new_micro.get(m))),
        })
        .collect();
    if !dataset.points.is_empty() {
        // A layer that cannot be indexed (duplicate codes) places no point: its people are then
        // simply not counted as moving, which the layer's own validation reports.
        let index = |l: &GridLayer| GridIndex::new(l.grids.clone()).ok();
        let (oi, ni) = (index(old), index(new));
        let place = |i: &Option<GridIndex>, p: geo::Coord<f64>| -> (Option<String>, Option<String>) {
            match i.as_ref().and_then(|i| i.locate(p)) {
                Some(l) => (Some(l.grid.code.clone()), l.micro.map(|m| m.code.clone())),
                None => (None, None),
            }
        };
        for p in &dataset.points {
            let (og, om) = place(&oi, p.location.0);
            let (ng, nm) = place(&ni, p.location.0);
            items.push(Item {
                point: true,
                residents: u64::from(p.count),
                households: u64::from(p.households()),
                grid: (og, ng),
                micro: (om, nm),
            });
        }
    }
    People { items }
}

/// Residents, households and buildings going from or to one grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MoveShare {
    /// The other grid's code; `None`: people new to the dataset (coming in) or no longer in it
    /// (leaving).
    pub code: Option<String>,
    pub residents: u64,
    pub households: u64,
    /// Buildings (or unit parts) among them; population points are not buildings.
    pub buildings: usize,
}

/// Whether a code is new, gone or in both layers with other contents or outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GridChange {
    Created,
    Retired,
    Changed,
}

/// One grid (or micro-grid) of either layer that changed: who came in, who left, from / to where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridMoves {
    pub code: String,
    pub level: GridLevel,
    pub community: String,
    /// A micro-grid's grid (in the layer it is in; the new one when in both).
    pub parent: Option<String>,
    pub change: GridChange,
    pub geometry_changed: bool,
    /// Residents and households in it, counted from the dataset, before and after.
    pub residents_before: u64,
    pub residents_after: u64,
    pub households_before: u64,
    pub households_after: u64,
    pub residents_in: u64,
    pub households_in: u64,
    pub buildings_in: usize,
    pub residents_out: u64,
    pub households_out: u64,
    pub buildings_out: usize,
    /// Where those who came in were, most residents first.
    pub from: Vec<MoveShare>,
    /// Where those who left went, most residents first.
    pub to: Vec<MoveShare>,
}

impl GridMoves {
    /// Residents in plus residents out: how much this grid's people changed.
    pub fn residents_moved(&self) -> u64 {
        self.residents_in + self.residents_out
    }
}

#[derive(Default)]
struct Tally {
    residents: u64,
    households: u64,
    buildings: usize,
}

impl Tally {
    fn add(&mut self, item: &Item) {
        self.residents += item.residents;
        self.households += item.households;
        self.buildings += usize::from(!item.point);
    }
}

#[derive(Default)]
struct Acc {
    before: Tally,
    after: Tally,
    from: BTreeMap<Option<String>, Tally>,
    to: BTreeMap<Option<String>, Tally>,
}

fn shares(by: BTreeMap<Option<String>, Tally>) -> Vec<MoveShare> {
    let mut out: Vec<MoveShare> = by
        .into_iter()
        .map(|(code, t)| MoveShare {
            code,
            residents: t.residents,
            households: t.households,
            buildings: t.buildings,
        })
        .collect();
    out.sort_by(|a, b| {
        b.residents
            .cmp(&a.residents)
            .then(b.buildings.cmp(&a.buildings))
            .then(a.code.cmp(&b.code))
    });
    out
}

/// Every grid of `level` created, retired or changed between the layers, most residents moved
/// first (then by code).
pub(super) fn grid_moves<'a>(
    people: &People,
    old: &'a GridLayer,
    new: &'a GridLayer,
    level: GridLevel,
) -> Vec<GridMoves> {
    let at = |item: &Item| match level {
        GridLevel::Grid => (item.grid.0.clone(), item.grid.1.clone()),
        GridLevel::Micro => (item.micro.0.clone(), item.micro.1.clone()),
    };
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for item in &people.items {
        let (from, to) = at(item);
        if let Some(f) = &from {
            acc.entry(f.clone()).or_default().before.add(item);
        }
        if let Some(t) = &to {
            acc.entry(t.clone()).or_default().after.add(item);
        }
        if from != to {
            if let Some(f) = &from {
                acc.entry(f.clone())
                    .or_default()
                    .to
                    .entry(to.clone())
                    .or_default()
                    .add(item);
            }
            if let Some(t) = &to {
                acc.entry(t.clone())
                    .or_default()
                    .from
                    .entry(from.clone())
                    .or_default()
                    .add(item);
            }
        }
    }
    let by_code = |l: &'a GridLayer| -> BTreeMap<&'a str, &'a Grid> {
        l.grids
            .iter()
            .filter(|g| g.level == level)
            .map(|g| (g.code.as_str(), g))
            .collect()
    };
    let (olds, news) = (by_code(old), by_code(new));
    let codes: BTreeSet<&str> = olds.keys().chain(news.keys()).copied().collect();
    let mut out = Vec::new();
    for code in codes {
        let (o, n) = (olds.get(code).copied(), news.get(code).copied());
        let a = acc.remove(code).unwrap_or_default();
        let (change, geometry_changed) = match (o, n) {
            (None, Some(_)) => (GridChange::Created, true),
            (Some(_), None) => (GridChange::Retired, true),
            (Some(o), Some(n)) => {
                let geometry = o.area != n.area;
                if !geometry && o.buildings == n.buildings && a.from.is_empty() && a.to.is_empty() {
                    continue;
                }
                (GridChange::Changed, geometry)
            }
            (None, None) => continue,
        };
        let Some(grid) = n.or(o) else { continue };
        let sum = |m: &BTreeMap<Option<String>, Tally>| {
            m.values().fold(Tally::default(), |mut t, x| {
                t.residents += x.residents;
                t.households += x.households;
                t.buildings += x.buildings;
                t
            })
        };
        let (ins, outs) = (sum(&a.from), sum(&a.to));
        out.push(GridMoves {
            code: code.to_string(),
            level,
            community: grid.community_code.clone(),
            parent: grid.parent_code.clone(),
            change,
            geometry_changed,
            residents_before: a.before.residents,
            residents_after: a.after.residents,
            households_before: a.before.households,
            households_after: a.after.households,
            residents_in: ins.residents,
            households_in: ins.households,
            buildings_in: ins.buildings,
            residents_out: outs.residents,
            households_out: outs.households,
            buildings_out: outs.buildings,
            from: shares(a.from),
            to: shares(a.to),
        });
    }
    out.sort_by(|a, b| b.residents_moved().cmp(&a.residents_moved()).then(a.code.cmp(&b.code)));
    out
}

/// One community's residents (as its old grids hold them) and how many change grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunityMoves {
    pub community: String,
    pub residents: u64,
    /// Residents whose grid code changes (people leaving the dataset or new to it are not moves).
    pub moved: u64,
    /// `moved / residents`, rounded to 4 decimals.
    pub share: f64,
}

pub(super) fn communities(people: &People, old: &GridLayer) -> Vec<CommunityMoves> {
    let community: BTreeMap<&str, &str> = old
        .grids
        .iter()
        .filter(|g| g.level == GridLevel::Grid)
        .map(|g| (g.code.as_str(), g.community_code.as_str()))
        .collect();
    let mut by: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for item in &people.items {
        let Some(from) = item.grid.0.as_deref() else { continue };
        let Some(c) = community.get(from) else { continue };
        let e = by.entry(c).or_default();
        e.0 += item.residents;
        if item.grid.1.as_deref().is_some_and(|to| to != from) {
            e.1 += item.residents;
        }
    }
    by.into_iter()
        .map(|(c, (residents, moved))| CommunityMoves {
            community: c.to_string(),
            residents,
            moved,
            share: share(moved, residents),
        })
        .collect()
}

/// Residents, households and buildings going from one old grid to another new one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub residents: u64,
    pub households: u64,
    pub buildings: usize,
}

pub(super) fn flows(people: &People) -> Vec<Move> {
    let mut by: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
    for item in &people.items {
        if let (Some(f), Some(t)) = (item.grid.0.as_deref(), item.grid.1.as_deref())
            && f != t
        {
            by.entry((f, t)).or_default().add(item);
        }
    }
    let mut out: Vec<Move> = by
        .into_iter()
        .map(|((f, t), x)| Move {
            from: f.to_string(),
            to: t.to_string(),
            residents: x.residents,
            households: x.households,
            buildings: x.buildings,
        })
        .collect();
    out.sort_by(|a, b| {
        b.residents
            .cmp(&a.residents)
            .then(b.buildings.cmp(&a.buildings))
            .then(a.from.cmp(&b.from))
            .then(a.to.cmp(&b.to))
    });
    out
}

/// An old grid that loses more than [`GRID_LOSS_SHARE`] of its residents to other grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridLoss {
    pub code: String,
    pub residents_before: u64,
    /// Residents moving to other grids (not counting people no longer in the dataset).
    pub residents_moved: u64,
    pub share: f64,
}

/// A change large enough that publishing it needs the planner's explicit confirmation: some
/// community sees at least [`COMMUNITY_SHARE`] (10%) of its residents change grid, or some grid
/// loses more than [`GRID_LOSS_SHARE`] (30%) of its residents to other grids. Those residents
/// need telling (see the residents' notices), and the grids' workers take over people they do
/// not know.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LargeMoves {
    /// Residents who change grid, in all.
    pub moved_residents: u64,
    /// Communities at or over the share.
    pub communities: Vec<CommunityMoves>,
    /// Grids over the loss share, largest share first.
    pub grids: Vec<GridLoss>,
    /// The largest moves (up to [`LARGEST`]), most residents first.
    pub largest: Vec<Move>,
    pub community_share: f64,
    pub grid_loss_share: f64,
}

impl LargeMoves {
    /// Whether the change passes either threshold, and then what to confirm.
    pub(super) fn assess(communities: &[CommunityMoves], grids: &[GridMoves], moves: &[Move]) -> Option<Self> {
        let over: Vec<CommunityMoves> = communities
            .iter()
            .filter(|c| c.moved > 0 && c.moved as f64 >= COMMUNITY_SHARE * c.residents as f64)
            .cloned()
            .collect();
        let mut losses: Vec<GridLoss> = grids
            .iter()
            .filter(|g| g.residents_before > 0)
            .filter_map(|g| {
                let moved: u64 = g.to.iter().filter(|s| s.code.is_some()).map(|s| s.residents).sum();
                (moved as f64 > GRID_LOSS_SHARE * g.residents_before as f64).then(|| GridLoss {
                    code: g.code.clone(),
                    residents_before: g.residents_before,
                    residents_moved: moved,
                    share: share(moved, g.residents_before),
                })
            })
            .collect();
        if over.is_empty() && losses.is_empty() {
            return None;
        }
        losses.sort_by(|a, b| b.share.total_cmp(&a.share).then(a.code.cmp(&b.code)));
        Some(LargeMoves {
            moved_residents: moves.iter().map(|m| m.residents).sum(),
            communities: over,
            grids: losses,
            largest: moves.iter().take(LARGEST).cloned().collect(),
            community_share: COMMUNITY_SHARE,
            grid_loss_share: GRID_LOSS_SHARE,
        })
    }

    /// One line for a version's note: what was confirmed.
    pub fn summary(&self) -> String {
        let communities: Vec<String> = self
            .communities
            .iter()
            .map(|c| format!("{} {:.1}%", c.community, c.share * 100.0))
            .collect();
        let grids: Vec<String> = self
            .grids
            .iter()
            .map(|g| format!("{} −{:.0}%", g.code, g.share * 100.0))
            .collect();
        let mut parts = vec![format!("{} residents change grid", self.moved_residents)];
        if !communities.is_empty() {
            parts.push(format!("communities {}", communities.join(", ")));
        }
        if !grids.is_empty() {
            parts.push(format!("grids losing most {}", grids.join(", ")));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn community(residents: u64, moved: u64) -> CommunityMoves {
        CommunityMoves {
            community: "350206001017".into(),
            residents,
            moved,
            share: share(moved, residents),
        }
    }

    fn grid(before: u64, moved: u64) -> GridMoves {
        GridMoves {
            code: "350206001017001".into(),
            level: GridLevel::Grid,
            community: "350206001017".into(),
            parent: None,
            change: GridChange::Changed,
            geometry_changed: true,
            residents_before: before,
            residents_after: before - moved,
            households_before: 0,
            households_after: 0,
            residents_in: 0,
            households_in: 0,
            buildings_in: 0,
            residents_out: moved,
            households_out: 0,
            buildings_out: 1,
            from: vec![],
            to: vec![MoveShare {
                code: Some("350206001017002".into()),
                residents: moved,
                households: 0,
                buildings: 1,
            }],
        }
    }

    #[test]
    fn the_thresholds_are_ten_percent_of_a_community_and_over_thirty_of_a_grid() {
        // 10% of a community is large; just under is not.
        assert!(LargeMoves::assess(&[community(10_000, 1_000)], &[], &[]).is_some());
        assert!(LargeMoves::assess(&[community(10_000, 999)], &[], &[]).is_none());
        // Exactly 30% of a grid is not large; more is.
        assert!(LargeMoves::assess(&[community(100_000, 600)], &[grid(2_000, 600)], &[]).is_none());
        let large = LargeMoves::assess(&[community(100_000, 601)], &[grid(2_000, 601)], &[]).unwrap();
        assert!(large.communities.is_empty());
        assert_eq!(large.grids[0].residents_moved, 601);
        assert!(large.summary().contains("350206001017001 −30%"), "{}", large.summary());
        // Nobody moving is never large, however small the community.
        assert!(LargeMoves::assess(&[community(0, 0)], &[], &[]).is_none());
    }
}
