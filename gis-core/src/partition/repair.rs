//! Re-partitioning a published layer with the fewest changes, and a planner's manual edits.
//!
//! Planners live with a published partition for years. When the data changes, only what must
//! change does:
//! 1. Each building and population point is placed in the published grid that holds it (by the
//!    layer's building lists first, by location for new buildings and points).
//! 2. A grid is *affected* when it is outside the size bounds, a building crosses its border, or
//!    an exclusive unit appeared in it or left it. Grids gaining new buildings but still inside
//!    the bounds keep their geometry; only their lists and counts change.
//! 3. The affected grids and their basic neighbours form a region, re-drawn from a tessellation of
//!    the region alone (see [`super::region`]). Several repairs are tried — moving the fewest
//!    residents across borders toward grids with room, new arrivals as a grid of their own, a
//!    fresh plan of the region — and the one keeping most residents in a grid with an unchanged
//!    code wins. If no repair fits the bounds, the region grows by a ring of neighbours.
//! 4. Grids the chosen repair leaves alone are taken out of the region and it is re-drawn again,
//!    so every grid not changed keeps its geometry to the bit.
//! 5. Codes follow [`crate::codes::lineage`]: a grid keeping most of an old grid's residents
//!    (and made mostly of them) keeps its code; others get new codes; retired codes go into the
//!    code book and are never issued again.

use super::region::{snap_to_outline, sub_dataset};
use super::search::Graph;
use super::{Atom, Prepared, graph, plan, prepare, verify};
use crate::bounds::{SizeBasis, SizeBounds};
use crate::codes::lineage::{Flows, LineageEntry, splits_and_merges};
use crate::codes::{CodeBook, CodeScheme, reading_order};
use crate::geom::{AreaIndex, BboxIndex, VertexKey, exact_union};
use crate::grid::{Grid, GridKind, GridLevel};
use crate::io::grids::{GridLayer, LayerMeta};
use crate::model::{Dataset, Staff};
use geo::{BoundingRect, Contains, Intersects, LineString, MultiPolygon, Point};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

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

struct Edit {
    buildings: BTreeSet<String>,
    to: String,
    force: bool,
}

/// State shared by the communities of one run.
struct Run<'d> {
    dataset: &'d Dataset,
    published: &'d GridLayer,
    bounds: SizeBounds,
    seed: u64,
    scheme: CodeScheme,
    book: CodeBook,
    roads: Vec<LineString<f64>>,
    grids: Vec<Grid>,
    flows_total: Residents,
    report_communities: Vec<CommunityRepair>,
    kept: Vec<String>,
    changed: Vec<String>,
    created: Vec<String>,
    retired: Vec<String>,
    lineage: Vec<LineageEntry>,
    successors: BTreeMap<String, Option<String>>,
    refused: Option<Vec<String>>,
    forced: Vec<String>,
    micro: Option<SizeBounds>,
    /// Residents of each building and unit part, for weighing micro-grid lineage.
    member_residents: FxHashMap<String, u64>,
}

impl<'d> Run<'d> {
    fn new(dataset: &'d Dataset, published: &'d GridLayer, bounds: SizeBounds, seed: u64) -> Result<Self, RepairError> {
        let mut seen = FxHashSet::default();
        for g in &published.grids {
            if !seen.insert(g.code.as_str()) {
                return Err(RepairError::DuplicateCode(g.code.clone()));
            }
            if !dataset.communities.iter().any(|c| c.code.as_str() == g.community_code) {
                return Err(RepairError::UnknownCommunity {
                    code: g.code.clone(),
                    community: g.community_code.clone(),
                });
            }
        }
        let v = verify(dataset, &published.grids, GridLevel::Grid);
        if v.bad_shared_edges > 0 || v.unmatched_edges > 0 {
            return Err(RepairError::NotACoverage {
                bad: v.bad_shared_edges,
                unmatched: v.unmatched_edges,
            });
        }
        Ok(Self {
            dataset,
            published,
            bounds,
            seed,
            scheme: published.meta.code_scheme.clone(),
            book: published.meta.code_book.clone(),
            roads: dataset.roads.iter().flat_map(|r| r.line.0.iter().cloned()).collect(),
            grids: Vec::new(),
            flows_total: Residents::default(),
            report_communities: Vec::new(),
            kept: Vec::new(),
            changed: Vec::new(),
            created: Vec::new(),
            retired: Vec::new(),
            lineage: Vec::new(),
            successors: BTreeMap::new(),
            refused: None,
            forced: Vec::new(),
            micro: published
                .grids
                .iter()
                .any(|g| g.level == GridLevel::Micro)
                .then(super::PartitionOptions::default_micro),
            member_residents: dataset
                .buildings
                .iter()
                .flat_map(|b| {
                    std::iter::once((b.id.clone(), u64::from(b.population))).chain(
                        b.units
                            .iter()
                            .map(move |u| (format!("{}#{}", b.id, u.name), u64::from(u.population))),
                    )
                })
                .collect(),
        })
    }

    fn finish(mut self, forced: Vec<String>) -> Repartition {
        let verification = verify(self.dataset, &self.grids, GridLevel::Grid);
        let micro_verification = self
            .grids
            .iter()
            .any(|g| g.level == GridLevel::Micro)
            .then(|| verify(self.dataset, &self.grids, GridLevel::Micro));
        let (split, merged) = splits_and_merges(&self.lineage);
        let persisting = self.flows_total.total - self.flows_total.new;
        self.flows_total.kept_share = if persisting == 0 {
            1.0
        } else {
            ((1.0 - self.flows_total.moved as f64 / persisting as f64) * 10_000.0).round() / 10_000.0
        };
        let size = |g: &Grid| match self.bounds.basis {
            SizeBasis::Residents => g.population,
            SizeBasis::Households => g.households,
        };
        let out_of_bounds = self
            .grids
            .iter()
            .filter(|g| g.kind == GridKind::Basic && g.level == GridLevel::Grid && !self.bounds.contains(size(g)))
            .map(|g| (g.code.clone(), size(g)))
            .collect();
        let mut staff_changes = Vec::new();
        let staff = self
            .dataset
            .staff
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if let Some(to) = self.successors.get(&s.grid) {
                    staff_changes.push(StaffChange {
                        name: s.name.clone(),
                        role: s.role.clone(),
                        from: s.grid.clone(),
                        to: to.clone(),
                    });
                    if let Some(to) = to {
                        s.grid = to.clone();
                    }
                }
                s
            })
            .collect();
        for list in [&mut self.kept, &mut self.changed, &mut self.created, &mut self.retired] {
            list.sort();
        }
        self.lineage.sort_by(|a, b| a.code.cmp(&b.code));
        let meta = LayerMeta {
            code_scheme: self.scheme,
            bounds: Some(self.bounds),
            code_book: self.book,
        };
        let report = RepartitionReport {
            bounds: self.bounds,
            kept: self.kept,
            changed: self.changed,
            split,
            merged,
            created: self.created,
            retired: self.retired,
            residents: self.flows_total,
            communities: self.report_communities,
            lineage: self.lineage,
            staff: staff_changes,
            out_of_bounds,
            forced,
            verification,
            micro_verification,
        };
        Repartition {
            layer: GridLayer {
                grids: self.grids,
                meta,
            },
            report,
            staff,
        }
    }

    fn community(&mut self, ci: usize, edit: Option<&Edit>) {
        let planned = self.plan_community(ci, edit);
        self.apply(ci, planned);
    }

    /// The read-only part of a community's repair (the expensive part; communities are planned
    /// in parallel). `None` for a community the published layer does not have.
    fn plan_community(&self, ci: usize, edit: Option<&Edit>) -> Option<Planned<'d>> {
        let code = self.dataset.communities[ci].code.as_str();
        let published: &'d GridLayer = self.published;
        let old: Vec<&'d Grid> = {
            let mut v: Vec<&Grid> = published
                .grids
                .iter()
                .filter(|g| g.community_code == code && g.level == GridLevel::Grid)
                .collect();
            v.sort_by(|a, b| a.code.cmp(&b.code));
            v
        };
        let micro: Vec<&'d Grid> = published
            .grids
            .iter()
            .filter(|g| g.community_code == code && g.level == GridLevel::Micro)
            .collect();
        if old.is_empty() {
            return None;
        }
        let places = Places::new(self.dataset, ci, &old, self.bounds.basis);
        let mut affected = places.affected(self.dataset, &old, &self.bounds);
        if let Some(e) = edit {
            affected.clear();
            for (bi, b) in self.dataset.buildings.iter().enumerate() {
                if e.buildings.contains(&b.id) {
                    if let Some(h) = places.building_home[&bi] {
                        affected.insert(h, format!("building {} moves out", b.id));
                    }
                }
            }
            let t = old.iter().position(|g| g.code == e.to).expect("target in community");
            affected.insert(t, "receives buildings".into());
        }
        let (mut forced, mut refused) = (Vec::new(), None);
        let solution = if affected.is_empty() {
            None
        } else if let Some(e) = edit {
            let region: BTreeSet<usize> = affected.keys().copied().collect();
            let problem = Problem::new(self, ci, &old, &places, &region);
            problem.and_then(|p| {
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
            })
        } else {
            self.solve(ci, &old, &places, &affected)
        };
        Some(Planned {
            old,
            micro,
            places,
            affected,
            solution,
            forced,
            refused,
        })
    }

    fn apply(&mut self, ci: usize, planned: Option<Planned<'d>>) {
        let Some(Planned {
            old,
            micro,
            places,
            affected,
            solution,
            forced,
            refused,
        }) = planned
        else {
            self.new_community(ci);
            return;
        };
        self.forced.extend(forced);
        if refused.is_some() {
            self.refused = refused;
            return;
        }
        let code = self.dataset.communities[ci].code.as_str();
        let mut report = CommunityRepair {
            code: code.to_string(),
            affected: affected
                .iter()
                .map(|(&g, r)| Affected {
                    code: old[g].code.clone(),
                    reason: r.clone(),
                })
                .collect(),
            region: Vec::new(),
            strategy: None,
            moved_residents: 0,
        };

        // Everything outside the region keeps its geometry and code; counts are recounted.
        let region: BTreeSet<usize> = solution.as_ref().map(|(p, _)| p.region.clone()).unwrap_or_default();
        let mut flows = Flows::default();
        let mut in_use: BTreeSet<String> = BTreeSet::new();
        let mut community_grids: Vec<Grid> = Vec::new();
        for (i, g) in old.iter().enumerate() {
            if region.contains(&i) {
                continue;
            }
            let mut grid = (*g).clone();
            let (members, population, households, new) = places.contents(self.dataset, i);
            let changed = members != g.buildings;
            grid.buildings = members;
            grid.population = population;
            grid.households = households;
            flows.add(Some(&g.code), usize::MAX, population - new);
            self.flows_total.total += population;
            self.flows_total.new += new;
            in_use.insert(g.code.clone());
            if changed {
                self.changed.push(g.code.clone())
            } else {
                self.kept.push(g.code.clone())
            }
            community_grids.push(grid);
            // Micro-grids of an untouched grid stay as they were.
            community_grids.extend(
                micro
                    .iter()
                    .filter(|m| m.parent_code.as_deref() == Some(&g.code))
                    .map(|m| (*m).clone()),
            );
        }
        let _ = flows;

        if let Some((problem, candidate)) = solution {
            report.region = problem.region.iter().map(|&i| old[i].code.clone()).collect();
            report.strategy = Some(candidate.strategy.to_string());
            report.moved_residents = candidate.moved;
            let new_grids = self.realise(&problem, &candidate, &old, &mut in_use);
            community_grids.extend(new_grids);
        }
        community_grids.sort_by(|a, b| a.code.cmp(&b.code));
        self.grids.extend(community_grids);
        self.report_communities.push(report);
    }

    /// A community the published layer does not have: partitioned afresh, all codes new.
    fn new_community(&mut self, ci: usize) {
        let community = &self.dataset.communities[ci];
        let nearby: Vec<LineString<f64>> = self.roads_near(&community.boundary);
        let options = super::PartitionOptions {
            bounds: self.bounds,
            scheme: self.scheme.clone(),
            seed: self.seed,
            micro: self.micro,
        };
        let (grids, _) = super::partition_community(self.dataset, ci, community, &nearby, &options);
        for g in &grids {
            self.created.push(g.code.clone());
            self.flows_total.total += g.population;
            self.flows_total.new += g.population;
        }
        self.report_communities.push(CommunityRepair {
            code: community.code.to_string(),
            affected: Vec::new(),
            region: Vec::new(),
            strategy: Some("new community: partitioned afresh".into()),
            moved_residents: 0,
        });
        self.grids.extend(grids);
    }

    fn roads_near(&self, area: &MultiPolygon<f64>) -> Vec<LineString<f64>> {
        let Some(r) = area.bounding_rect() else {
            return Vec::new();
        };
        self.roads
            .iter()
            .filter(|l| l.bounding_rect().is_some_and(|b| b.intersects(&r)))
            .cloned()
            .collect()
    }

    /// Finds the repair keeping most residents in place, growing the region until one fits the
    /// bounds, then shrinks the region to the grids that actually change.
    fn solve(
        &self,
        ci: usize,
        old: &[&Grid],
        places: &Places,
        affected: &BTreeMap<usize, String>,
    ) -> Option<(Problem, Candidate)> {
        let neighbours = neighbours(old);
        let basic_ring = |set: &BTreeSet<usize>| -> BTreeSet<usize> {
            let mut out = set.clone();
            for &i in set {
                out.extend(
                    neighbours[i]
                        .iter()
                        .copied()
                        .filter(|&j| old[j].kind == GridKind::Basic),
                );
            }
            out
        };
        let core: BTreeSet<usize> = affected.keys().copied().collect();
        let mut region = basic_ring(&core);
        let mut best: Option<(Problem, Candidate)> = None;
        for _ in 0..4 {
            if let Some(p) = Problem::new(self, ci, old, places, &region) {
                let c = p.best_candidate(&self.bounds, self.seed);
                let better = best.as_ref().is_none_or(|(_, b)| c.rank() < b.rank());
                let fits = c.fits();
                if better {
                    best = Some((p, c));
                }
                if fits {
                    break;
                }
            }
            let grown = basic_ring(&region);
            if grown == region {
                break;
            }
            region = grown;
        }
        let (mut problem, mut candidate) = best?;
        // Shrink to the grids the repair changes, so the others keep their geometry.
        for _ in 0..3 {
            let changed = problem.changed_labels(&candidate);
            if changed.len() == problem.region.len() || changed.is_empty() {
                break;
            }
            let Some(p) = Problem::new(self, ci, old, places, &changed) else {
                break;
            };
            let c = p.best_candidate(&self.bounds, self.seed);
            if c.rank().0 > candidate.rank().0 {
                break; // the smaller region cannot fit what the larger one did
            }
            problem = p;
            candidate = c;
        }
        Some((problem, candidate))
    }

    /// The region's grids from the chosen candidate: geometry, codes, lineage.
    fn realise(&mut self, p: &Problem, c: &Candidate, old: &[&Grid], in_use: &mut BTreeSet<String>) -> Vec<Grid> {
        let atoms = &p.prepared.atoms;
        let n_basic = c.groups;
        let exclusive: Vec<usize> = (0..atoms.len()).filter(|&a| atoms[a].exclusive.is_some()).collect();
        let groups = n_basic + exclusive.len();
        let mut group_of: Vec<Option<usize>> = vec![None; atoms.len()];
        for (n, &a) in p.basic.iter().enumerate() {
            group_of[a] = Some(c.labels[n]);
        }
        for (k, &a) in exclusive.iter().enumerate() {
            group_of[a] = Some(n_basic + k);
        }
        let mut areas = p.prepared.tess.assemble(&group_of, groups);
        snap_to_outline(&p.outline, &mut areas);

        let mut grids: Vec<Grid> = Vec::with_capacity(groups);
        let community = &p.sub.communities[0];
        for g in 0..groups {
            let members: Vec<usize> = (0..atoms.len()).filter(|&a| group_of[a] == Some(g)).collect();
            let (kind, name) = if g < n_basic {
                (GridKind::Basic, None)
            } else {
                let unit = &p.sub.exclusive[atoms[exclusive[g - n_basic]].exclusive.expect("exclusive atom")];
                (GridKind::Exclusive, Some(unit.name.clone()))
            };
            grids.push(super::make_grid(
                community,
                kind,
                name,
                areas[g].clone(),
                &members,
                atoms,
            ));
        }

        // Codes: basic groups by the stable rule; exclusive groups by the old exclusive grid
        // holding their unit.
        let mut flows = Flows::default();
        for (a, atom) in atoms.iter().enumerate() {
            let Some(g) = group_of[a] else { continue };
            let from = if p.atom_new[a] {
                None
            } else {
                p.atom_old[a].map(|l| old[p.region_list[l]].code.as_str())
            };
            flows.add(from, g, atom.population);
        }
        let is_basic_code = |code: &str| old.iter().any(|g| g.code == code && g.kind == GridKind::Basic);
        let mut codes = if c.strategy == EDIT {
            // An edit never renames: each grid keeps its code, whatever moved.
            (0..groups)
                .map(|g| (g < n_basic).then(|| p.region_codes[g].clone()))
                .collect()
        } else {
            flows.stable_codes(groups, &|code, g| g < n_basic && is_basic_code(code))
        };
        for (k, &a) in exclusive.iter().enumerate() {
            let unit = &p.sub.exclusive[atoms[a].exclusive.expect("exclusive atom")];
            codes[n_basic + k] = p
                .region_list
                .iter()
                .map(|&i| old[i])
                .find(|g| g.kind == GridKind::Exclusive && g.area.contains(&unit.anchor))
                .map(|g| g.code.clone());
        }
        for code in codes.iter().flatten() {
            in_use.insert(code.clone());
        }
        // A grid every atom left (a forced edit can empty one) is not a grid any more.
        let empty: Vec<bool> = grids.iter().map(|g| g.area.0.is_empty()).collect();
        for g in 0..groups {
            if empty[g] {
                codes[g] = Some(String::new());
            }
        }
        // New codes in reading order, after every kept one is known.
        let unnamed: Vec<usize> = (0..groups).filter(|&g| codes[g].is_none()).collect();
        let refs: Vec<&Grid> = unnamed.iter().map(|&g| &grids[g]).collect();
        for k in reading_order(&refs) {
            let g = unnamed[k];
            let kind = grids[g].kind;
            let code = self
                .book
                .issue(&self.scheme, &community.code.to_string(), kind, in_use)
                .unwrap_or_else(|| format!("{}-overflow-{g}", community.code));
            in_use.insert(code.clone());
            codes[g] = Some(code);
        }
        let codes: Vec<String> = codes.into_iter().map(|c| c.expect("every group named")).collect();
        let keep: Vec<bool> = empty.iter().map(|e| !e).collect();
        for (g, grid) in grids.iter_mut().enumerate() {
            grid.code = codes[g].clone();
        }

        // What the report says of each.
        let mut lineage = flows.lineage(&codes);
        lineage.retain(|e| !e.code.is_empty());
        for &i in &p.region_list {
            let code = &old[i].code;
            if !codes.contains(code) {
                self.retired.push(code.clone());
                self.book.retire(&community.code.to_string(), code);
                let successor = lineage
                    .iter()
                    .filter_map(|e| {
                        e.from
                            .iter()
                            .find(|s| &s.code == code)
                            .map(|s| (s.residents, e.code.clone()))
                    })
                    .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                    .map(|(_, c)| c);
                self.successors.insert(code.clone(), successor);
            }
        }
        for (g, grid) in grids.iter().enumerate().filter(|&(g, _)| keep[g]) {
            let was = p.region_list.iter().map(|&i| old[i]).find(|o| o.code == grid.code);
            match was {
                Some(o) if o.buildings == grid.buildings && o.area == grid.area => self.kept.push(grid.code.clone()),
                Some(_) => self.changed.push(grid.code.clone()),
                None => self.created.push(grid.code.clone()),
            }
            let _ = g;
        }
        for e in &lineage {
            self.flows_total.total += e.residents;
            self.flows_total.new += e.new_residents;
            self.flows_total.moved += e
                .from
                .iter()
                .filter(|s| s.code != e.code)
                .map(|s| s.residents)
                .sum::<u64>();
        }
        self.lineage.extend(lineage);
        if let Some(micro) = self.micro {
            let micro_grids = self.realise_micro(p, &grids, &group_of, n_basic, micro, in_use);
            grids.extend(micro_grids);
        }
        let mut at = 0;
        grids.retain(|_| {
            at += 1;
            keep.get(at - 1).copied().unwrap_or(true)
        });
        grids
    }

    /// New micro-grids for the re-drawn grids; a micro-grid keeps an old code under its grid by
    /// the same rule as grids do.
    fn realise_micro(
        &mut self,
        p: &Problem,
        grids: &[Grid],
        group_of: &[Option<usize>],
        n_basic: usize,
        micro: SizeBounds,
        in_use: &mut BTreeSet<String>,
    ) -> Vec<Grid> {
        let atoms = &p.prepared.atoms;
        let parts: Vec<Vec<usize>> = (0..n_basic)
            .map(|g| (0..atoms.len()).filter(|&a| group_of[a] == Some(g)).collect())
            .collect();
        let order: Vec<(usize, usize)> = (0..n_basic).map(|g| (g, g)).collect();
        let mut scratch = p.prepared.report.clone();
        let mut out = super::micro_grids(
            grids,
            &parts,
            &order,
            atoms,
            &p.prepared.tess,
            &micro,
            &self.scheme,
            self.seed,
            &mut scratch,
        );
        let mut areas: Vec<MultiPolygon<f64>> = out
            .iter_mut()
            .map(|m| std::mem::replace(&mut m.area, MultiPolygon(Vec::new())))
            .collect();
        snap_to_outline(&p.outline, &mut areas);
        for (m, a) in out.iter_mut().zip(areas) {
            m.area = a;
        }
        let community = p.sub.communities[0].code.to_string();
        for parent in grids.iter().take(n_basic) {
            let olds: Vec<&Grid> = self
                .published
                .grids
                .iter()
                .filter(|g| g.level == GridLevel::Micro && g.parent_code.as_deref() == Some(parent.code.as_str()))
                .collect();
            let mine: Vec<usize> = (0..out.len())
                .filter(|&i| out[i].parent_code.as_deref() == Some(parent.code.as_str()))
                .collect();
            let mut flows = Flows::default();
            for (k, &i) in mine.iter().enumerate() {
                for m in &out[i].buildings {
                    let from = olds.iter().find(|o| o.buildings.contains(m)).map(|o| o.code.as_str());
                    flows.add(from, k, self.member_residents.get(m).copied().unwrap_or(0));
                }
            }
            let mut codes = flows.stable_codes(mine.len(), &|_, _| true);
            for c in codes.iter().flatten() {
                in_use.insert(c.clone());
            }
            for (k, &i) in mine.iter().enumerate() {
                let code = match codes[k].take() {
                    Some(c) => c,
                    None => {
                        let c = self
                            .book
                            .issue_micro(&self.scheme, &community, &parent.code, in_use)
                            .unwrap_or_else(|| format!("{}-overflow-{k}", parent.code));
                        in_use.insert(c.clone());
                        self.created.push(c.clone());
                        c
                    }
                };
                out[i].code = code;
            }
            for o in &olds {
                if !mine.iter().any(|&i| out[i].code == o.code) {
                    self.retired.push(o.code.clone());
                    self.book.retire(&community, &o.code);
                }
            }
        }
        // Micro-grids of grids the region retired go too.
        for code in p.region_codes.iter().filter(|c| !grids.iter().any(|g| &&g.code == c)) {
            for m in self
                .published
                .grids
                .iter()
                .filter(|g| g.parent_code.as_deref() == Some(code.as_str()))
            {
                self.retired.push(m.code.clone());
                self.book.retire(&community, &m.code);
            }
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }
}

/// A community's repair, planned and not yet applied.
struct Planned<'d> {
    old: Vec<&'d Grid>,
    micro: Vec<&'d Grid>,
    places: Places,
    affected: BTreeMap<usize, String>,
    solution: Option<(Problem, Candidate)>,
    forced: Vec<String>,
    refused: Option<Vec<String>>,
}

/// Where each building and point of a community sits in the published layer.
struct Places {
    /// Dataset building index → published grid (index into the community's grids).
    building_home: FxHashMap<usize, Option<usize>>,
    /// Buildings the published layer does not list.
    building_new: FxHashSet<usize>,
    point_home: FxHashMap<usize, Option<usize>>,
    /// Exclusive unit index → the published exclusive grid holding its anchor.
    exclusive_home: FxHashMap<usize, Option<usize>>,
    /// Grids each building's footprint overlaps, for buildings not inside one grid.
    crossing: Vec<(usize, Vec<usize>)>,
    basis: SizeBasis,
}

impl Places {
    fn new(dataset: &Dataset, ci: usize, old: &[&Grid], basis: SizeBasis) -> Self {
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
    fn contents(&self, dataset: &Dataset, g: usize) -> (Vec<String>, u64, u64, u64) {
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
    fn affected(&self, dataset: &Dataset, old: &[&Grid], bounds: &SizeBounds) -> BTreeMap<usize, String> {
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
            if home.is_none() {
                if let Some(g) = index.locate(dataset.exclusive[u].anchor) {
                    out.entry(g)
                        .or_insert_with(|| format!("exclusive unit {} is new here", dataset.exclusive[u].id));
                }
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
fn neighbours(old: &[&Grid]) -> Vec<BTreeSet<usize>> {
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

/// The strategy name of a manual edit.
const EDIT: &str = "edit";

/// A region of published grids, tessellated on its own, with every atom's published grid.
struct Problem {
    region: BTreeSet<usize>,
    /// The region's grids in order; labels index this list.
    region_list: Vec<usize>,
    outline: MultiPolygon<f64>,
    sub: Dataset,
    prepared: Prepared,
    /// Per atom: its published grid (a label), and whether the published layer lacked it.
    atom_old: Vec<Option<usize>>,
    atom_new: Vec<bool>,
    /// Basic atoms (graph node n = atom basic[n]) and their graph.
    basic: Vec<usize>,
    graph: Graph,
    /// Label of each basic node in the published layer.
    initial: Vec<usize>,
    old_kinds: Vec<GridKind>,
    region_codes: Vec<String>,
}

/// One way to re-draw a region: a label per basic node.
#[derive(Debug, Clone)]
struct Candidate {
    labels: Vec<usize>,
    groups: usize,
    strategy: &'static str,
    /// Grids (groups) outside the bounds, and by how much in all.
    out_of_bounds: usize,
    excess: u64,
    connected: bool,
    /// Residents known before whose grid code would change.
    moved: u64,
    violations: Vec<String>,
}

impl Candidate {
    fn fits(&self) -> bool {
        self.out_of_bounds == 0 && self.connected
    }

    /// Lower is better: disconnected last, then fewest grids out of bounds, least excess, fewest
    /// residents moved.
    fn rank(&self) -> (usize, u64, u64) {
        (
            usize::from(!self.connected) * 1000 + self.out_of_bounds,
            self.excess,
            self.moved,
        )
    }
}

impl Problem {
    fn new(run: &Run, ci: usize, old: &[&Grid], places: &Places, region: &BTreeSet<usize>) -> Option<Self> {
        let region_list: Vec<usize> = region.iter().copied().collect();
        let label_of: FxHashMap<usize, usize> = region_list.iter().enumerate().map(|(l, &g)| (g, l)).collect();
        let areas: Vec<&MultiPolygon<f64>> = region_list.iter().map(|&g| &old[g].area).collect();
        let outline = exact_union(&areas);
        let in_region = |home: Option<usize>| home.is_some_and(|h| region.contains(&h));
        let index = AreaIndex::new(old.iter().map(|g| &g.area));
        let sub = sub_dataset(
            run.dataset,
            ci,
            outline.clone(),
            &|bi| in_region(places.building_home.get(&bi).copied().flatten()),
            &|pi| in_region(places.point_home.get(&pi).copied().flatten()),
            &|u| in_region(index.locate(run.dataset.exclusive[u].anchor)),
        );
        let roads = run.roads_near(&outline);
        let prepared = prepare(&sub, 0, &sub.communities[0], &roads, &run.bounds, f64::INFINITY).ok()?;
        let atoms = &prepared.atoms;
        // Each atom's published grid: by its buildings, else by where its cell lies.
        let dataset_ix: FxHashMap<&str, usize> = run
            .dataset
            .buildings
            .iter()
            .enumerate()
            .filter(|(_, b)| b.community == ci)
            .map(|(i, b)| (b.id.as_str(), i))
            .collect();
        let region_index = AreaIndex::new(region_list.iter().map(|&g| &old[g].area));
        let mut atom_old = Vec::with_capacity(atoms.len());
        let mut atom_new = Vec::with_capacity(atoms.len());
        for (a, atom) in atoms.iter().enumerate() {
            let building = atom
                .members
                .first()
                .map(|m| m.split_once('#').map_or(m.as_str(), |(b, _)| b));
            let found = building.and_then(|id| dataset_ix.get(id)).copied();
            let label = match found {
                Some(bi) => places
                    .building_home
                    .get(&bi)
                    .copied()
                    .flatten()
                    .and_then(|h| label_of.get(&h).copied()),
                None => None,
            }
            .or_else(|| {
                let c = prepared.frame.to_lonlat(prepared.tess.atoms[a].centroid);
                region_index.locate(Point(c))
            })
            .or(Some(0));
            atom_old.push(label);
            atom_new.push(found.is_some_and(|bi| places.building_new.contains(&bi)));
        }
        let basic: Vec<usize> = (0..atoms.len()).filter(|&a| atoms[a].exclusive.is_none()).collect();
        let graph = graph(&prepared.tess, atoms, &basic, run.bounds.basis);
        let initial: Vec<usize> = basic.iter().map(|&a| atom_old[a].unwrap_or(0)).collect();
        let old_kinds = region_list.iter().map(|&g| old[g].kind).collect();
        let region_codes = region_list.iter().map(|&g| old[g].code.clone()).collect();
        Some(Self {
            region: region.clone(),
            region_list,
            outline,
            sub,
            prepared,
            atom_old,
            atom_new,
            basic,
            graph,
            initial,
            old_kinds,
            region_codes,
        })
    }

    fn atoms(&self) -> &[Atom] {
        &self.prepared.atoms
    }

    /// Scores a labelling: bounds, connectivity, residents moved under the code rule.
    fn evaluate(&self, labels: Vec<usize>, strategy: &'static str, bounds: &SizeBounds) -> Candidate {
        let groups = labels.iter().copied().max().map_or(0, |m| m + 1);
        let mut size = vec![0u64; groups];
        let mut biggest_atom = vec![0u64; groups];
        for (n, &l) in labels.iter().enumerate() {
            size[l] += self.graph.nodes[n].size;
            biggest_atom[l] = biggest_atom[l].max(self.graph.nodes[n].size);
        }
        let (min, max) = (u64::from(bounds.min), u64::from(bounds.max));
        let mut out_of_bounds = 0;
        let mut excess = 0;
        let mut violations = Vec::new();
        for l in 0..groups {
            // A grid that is one building too big for any grid is as good as it gets.
            let unavoidable = size[l] > max && biggest_atom[l] > max && size[l] == biggest_atom[l];
            if (size[l] > max || size[l] < min) && !unavoidable {
                out_of_bounds += 1;
                excess += size[l].saturating_sub(max) + min.saturating_sub(size[l]);
                violations.push(format!(
                    "a grid would hold {} {}, outside {}–{}",
                    size[l],
                    bounds.basis.unit(),
                    min,
                    max
                ));
            }
        }
        let connected = (0..groups).all(|l| {
            let members: Vec<usize> = (0..labels.len()).filter(|&n| labels[n] == l).collect();
            members.is_empty() || self.graph.components(&members).len() == 1
        });
        // Residents moved: flows from published labels to groups, named by the code rule.
        let mut flows = Flows::default();
        for (n, &a) in self.basic.iter().enumerate() {
            let from = if self.atom_new[a] {
                None
            } else {
                Some(self.initial[n].to_string())
            };
            flows.add(from.as_deref(), labels[n], self.atoms()[a].population);
        }
        let kinds = &self.old_kinds;
        let codes = flows.stable_codes(groups, &|code, _| {
            code.parse::<usize>().is_ok_and(|l| kinds[l] == GridKind::Basic)
        });
        let mut moved = 0;
        for (n, &a) in self.basic.iter().enumerate() {
            if !self.atom_new[a] && codes[labels[n]].as_deref() != Some(self.initial[n].to_string().as_str()) {
                moved += self.atoms()[a].population;
            }
        }
        Candidate {
            labels,
            groups,
            strategy,
            out_of_bounds,
            excess,
            connected,
            moved,
            violations,
        }
    }

    fn best_candidate(&self, bounds: &SizeBounds, seed: u64) -> Candidate {
        let mut candidates = Vec::new();
        // Labels compacted to 0..k so empty published grids (every resident moved away) vanish.
        let compact = |labels: Vec<usize>| -> Vec<usize> {
            let mut map: BTreeMap<usize, usize> = BTreeMap::new();
            for &l in &labels {
                let next = map.len();
                map.entry(l).or_insert(next);
            }
            labels.into_iter().map(|l| map[&l]).collect()
        };
        let mut relabel = self.initial.clone();
        let ok = rebalance(
            &self.graph,
            &mut relabel,
            self.region_list.len(),
            bounds,
            &self.compounds(),
        );
        if ok {
            candidates.push(self.evaluate(compact(relabel), "rebalance", bounds));
        }
        // New buildings as a grid of their own, filled from their neighbours.
        let fresh: Vec<usize> = (0..self.basic.len())
            .filter(|&n| self.atom_new[self.basic[n]])
            .collect();
        if !fresh.is_empty() {
            let mut labels = self.initial.clone();
            let mut k = self.region_list.len();
            for comp in self.graph.components(&fresh) {
                for n in comp {
                    labels[n] = k;
                }
                k += 1;
            }
            if rebalance(&self.graph, &mut labels, k, bounds, &self.compounds()) {
                candidates.push(self.evaluate(compact(labels), "new grid for new buildings", bounds));
            }
        }
        for s in 0..3u64 {
            let mut scratch = self.prepared.report.clone();
            let parts = plan(
                self.atoms(),
                &self.basic,
                &self.prepared.tess,
                bounds,
                seed.wrapping_add(s.wrapping_mul(0x9e37_79b9)),
                &mut scratch,
            );
            let mut labels = vec![0; self.basic.len()];
            let node_of: FxHashMap<usize, usize> = self.basic.iter().enumerate().map(|(n, &a)| (a, n)).collect();
            for (g, part) in parts.iter().enumerate() {
                for a in part {
                    labels[node_of[a]] = g;
                }
            }
            candidates.push(self.evaluate(compact(labels), "re-plan", bounds));
        }
        // As published, for comparison (and as the last resort).
        candidates.push(self.evaluate(compact(self.initial.clone()), "as published", bounds));
        candidates
            .into_iter()
            .min_by_key(Candidate::rank)
            .expect("at least one candidate")
    }

    fn compounds(&self) -> Vec<Option<String>> {
        self.basic.iter().map(|&a| self.atoms()[a].compound.clone()).collect()
    }

    /// Published grids (as region indexes into `old`) whose members the candidate changes.
    fn changed_labels(&self, c: &Candidate) -> BTreeSet<usize> {
        // A group is unchanged when it is exactly one published grid's nodes.
        let mut nodes_of_label: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        let mut nodes_of_group: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for n in 0..self.basic.len() {
            nodes_of_label.entry(self.initial[n]).or_default().insert(n);
            nodes_of_group.entry(c.labels[n]).or_default().insert(n);
        }
        let unchanged: BTreeSet<usize> = nodes_of_label
            .iter()
            .filter(|(_, nodes)| nodes_of_group.values().any(|g| g == *nodes))
            .map(|(&l, _)| l)
            .collect();
        let exclusive_labels: BTreeSet<usize> = (0..self.region_list.len())
            .filter(|&l| self.old_kinds[l] == GridKind::Exclusive)
            .collect();
        (0..self.region_list.len())
            .filter(|l| !unchanged.contains(l) || exclusive_labels.contains(l))
            .map(|l| self.region_list[l])
            .collect()
    }

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

/// Moves as few residents as it can across grid borders until every grid of the region is within
/// the bounds: an oversized grid hands border atoms to the neighbour on the shortest way to a grid
/// with room; an undersized one takes them from the neighbour on the way to a grid with some to
/// spare. A grid never hands back to the grid it took from, no atom moves more than twice, and no
/// move splits a grid in two. Returns whether every grid ends within the bounds.
fn rebalance(g: &Graph, labels: &mut [usize], nl: usize, bounds: &SizeBounds, compounds: &[Option<String>]) -> bool {
    let (min, max) = (u64::from(bounds.min), u64::from(bounds.max));
    let n = g.nodes.len();
    let mut size = vec![0u64; nl];
    for v in 0..n {
        size[labels[v]] += g.nodes[v].size;
    }
    let violation = |s: u64| s.saturating_sub(max) + min.saturating_sub(s);
    // No moving fits more residents into the region than its grids can hold.
    let total: u64 = size.iter().sum();
    let used = (0..nl).filter(|&l| size[l] > 0).count() as u64;
    if total > used * max || total < used * min {
        return false;
    }
    let mut moves = vec![0u8; n];
    let mut banned: FxHashSet<(usize, usize)> = FxHashSet::default();
    for _ in 0..(4 * n + 16) {
        let Some(worst) = (0..nl)
            .filter(|&l| violation(size[l]) > 0 && (0..n).any(|v| labels[v] == l))
            .max_by_key(|&l| (violation(size[l]), std::cmp::Reverse(l)))
        else {
            return true;
        };
        let over = size[worst] > max;
        // Label adjacency, as flows may go: (from, to) pairs not banned.
        let mut adj: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nl];
        for e in &g.edges {
            let (a, b) = (labels[e.a], labels[e.b]);
            if a != b {
                adj[a].insert(b);
                adj[b].insert(a);
            }
        }
        // Breadth-first from the worst grid to the nearest that can absorb (over) or give (under).
        let mut prev = vec![usize::MAX; nl];
        prev[worst] = worst;
        let mut queue = std::collections::VecDeque::from([worst]);
        let mut found = None;
        while let Some(l) = queue.pop_front() {
            if l != worst && (if over { size[l] < max } else { size[l] > min }) {
                found = Some(l);
                break;
            }
            for &m in &adj[l] {
                let (from, to) = if over { (l, m) } else { (m, l) };
                if prev[m] == usize::MAX && !banned.contains(&(from, to)) {
                    prev[m] = l;
                    queue.push_back(m);
                }
            }
        }
        let Some(found) = found else { return false };
        let mut end = found;
        while prev[end] != worst {
            end = prev[end];
        }
        // A direct neighbour with room takes (or gives) only what it can without going out of
        // bounds itself; a grid on the way passes the whole amount on.
        let (from, to, need) = match (over, end == found) {
            (true, true) => (worst, end, (size[worst] - max).min(max - size[end])),
            (true, false) => (worst, end, size[worst] - max),
            (false, true) => (end, worst, (min - size[worst]).min(size[end] - min)),
            (false, false) => (end, worst, min - size[worst]),
        };
        let moved = shift(g, labels, &mut size, from, to, need, compounds, &mut moves);
        if moved == 0 {
            return false;
        }
        banned.insert((to, from));
    }
    (0..nl).all(|l| violation(size[l]) == 0)
}

/// Moves border atoms of `from` into `to` until `need` is moved: atoms that fit the need first,
/// those sharing most border with `to` (and its compounds) first among them. Returns the size
/// moved.
#[allow(clippy::too_many_arguments)]
fn shift(
    g: &Graph,
    labels: &mut [usize],
    size: &mut [u64],
    from: usize,
    to: usize,
    need: u64,
    compounds: &[Option<String>],
    moves: &mut [u8],
) -> u64 {
    let mut moved = 0;
    while moved < need {
        let members: Vec<usize> = (0..labels.len()).filter(|&v| labels[v] == from).collect();
        if members.len() <= 1 {
            break;
        }
        let mut best: Option<(bool, f64, u64, usize)> = None;
        for &v in &members {
            if moves[v] >= 2 {
                continue;
            }
            let (mut to_border, mut from_border, mut same_compound) = (0.0, 0.0, false);
            for &(u, e) in g.neighbours(v) {
                if labels[u] == to {
                    to_border += g.edges[e].length_m;
                    same_compound |= compounds[u].is_some() && compounds[u] == compounds[v];
                } else if labels[u] == from {
                    from_border += g.edges[e].length_m;
                }
            }
            if to_border == 0.0 {
                continue;
            }
            let rest: Vec<usize> = members.iter().copied().filter(|&m| m != v).collect();
            if g.components(&rest).len() != 1 {
                continue;
            }
            let fits = g.nodes[v].size <= need - moved;
            let score = to_border - from_border + if same_compound { 50.0 } else { 0.0 };
            let key = (fits, score, g.nodes[v].size, v);
            let better = match best {
                None => true,
                Some((bf, bs, bsize, _)) => {
                    if fits != bf {
                        fits
                    } else if fits {
                        score > bs
                    } else {
                        g.nodes[v].size < bsize
                    }
                }
            };
            if better {
                best = Some(key);
            }
        }
        let Some((_, _, s, v)) = best else { break };
        labels[v] = to;
        moves[v] += 1;
        size[from] -= s;
        size[to] += s;
        moved += s;
    }
    moved
}
