//! One run over every community of a dataset against the published layer: each community is
//! planned (in parallel, read-only), then applied in order, which issues codes and gathers what
//! the report says.

use super::places::{Places, neighbours};
use super::problem::{Candidate, Problem};
use super::{Affected, CommunityRepair, RepairError, Repartition, RepartitionReport, Residents, StaffChange};
use crate::bounds::{SizeBasis, SizeBounds};
use crate::codes::lineage::{Flows, LineageEntry, splits_and_merges};
use crate::codes::{CodeBook, CodeScheme};
use crate::grid::{Grid, GridKind, GridLevel};
use crate::io::grids::{GridLayer, LayerMeta};
use crate::model::Dataset;
use crate::partition::edit::Edit;
use crate::verify::verify;
use geo::{BoundingRect, Intersects, LineString, MultiPolygon};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};

/// State shared by the communities of one run.
pub(crate) struct Run<'d> {
    pub(crate) dataset: &'d Dataset,
    pub(crate) published: &'d GridLayer,
    pub(crate) bounds: SizeBounds,
    pub(crate) seed: u64,
    pub(crate) scheme: CodeScheme,
    pub(crate) book: CodeBook,
    pub(crate) roads: Vec<LineString<f64>>,
    pub(crate) grids: Vec<Grid>,
    pub(crate) flows_total: Residents,
    pub(crate) report_communities: Vec<CommunityRepair>,
    pub(crate) kept: Vec<String>,
    pub(crate) changed: Vec<String>,
    pub(crate) created: Vec<String>,
    pub(crate) retired: Vec<String>,
    pub(crate) lineage: Vec<LineageEntry>,
    pub(crate) successors: BTreeMap<String, Option<String>>,
    pub(crate) refused: Option<Vec<String>>,
    pub(crate) forced: Vec<String>,
    pub(crate) micro: Option<SizeBounds>,
    /// Residents of each building and unit part, for weighing micro-grid lineage.
    pub(crate) member_residents: FxHashMap<String, u64>,
}

impl<'d> Run<'d> {
    pub(crate) fn new(
        dataset: &'d Dataset,
        published: &'d GridLayer,
        bounds: SizeBounds,
        seed: u64,
    ) -> Result<Self, RepairError> {
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
                .then(crate::partition::PartitionOptions::default_micro),
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

    pub(crate) fn finish(mut self, forced: Vec<String>) -> Repartition {
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
            access: None,
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

    pub(crate) fn community(&mut self, ci: usize, edit: Option<&Edit>) {
        let planned = self.plan_community(ci, edit);
        self.apply(ci, planned);
    }

    /// The read-only part of a community's repair (the expensive part; communities are planned
    /// in parallel). `None` for a community the published layer does not have.
    pub(crate) fn plan_community(&self, ci: usize, edit: Option<&Edit>) -> Option<Planned<'d>> {
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
        let decision = match edit {
            Some(e) => self.plan_edit(ci, &old, &places, e),
            None => {
                let affected = places.affected(self.dataset, &old, &self.bounds);
                let solution = if affected.is_empty() {
                    None
                } else {
                    self.solve(ci, &old, &places, &affected)
                };
                Decision {
                    affected,
                    solution,
                    forced: Vec::new(),
                    refused: None,
                }
            }
        };
        Some(Planned {
            old,
            micro,
            places,
            decision,
        })
    }

    pub(crate) fn apply(&mut self, ci: usize, planned: Option<Planned<'d>>) {
        let Some(Planned {
            old,
            micro,
            places,
            decision:
                Decision {
                    affected,
                    solution,
                    forced,
                    refused,
                },
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
        let options = crate::partition::PartitionOptions {
            bounds: self.bounds,
            scheme: self.scheme.clone(),
            seed: self.seed,
            micro: self.micro,
        };
        let members = self.dataset.members_of(ci);
        let (grids, _) = crate::partition::partition_community(self.dataset, ci, &members, &nearby, &options);
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

    pub(crate) fn roads_near(&self, area: &MultiPolygon<f64>) -> Vec<LineString<f64>> {
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
}

/// A community's repair, planned and not yet applied.
pub(crate) struct Planned<'d> {
    old: Vec<&'d Grid>,
    micro: Vec<&'d Grid>,
    places: Places,
    decision: Decision,
}

/// What a community's plan decided: the grids to re-draw and why, the repair chosen, and for a
/// manual edit the violations it forces or the reasons it is refused.
pub(crate) struct Decision {
    pub affected: BTreeMap<usize, String>,
    pub solution: Option<(Problem, Candidate)>,
    pub forced: Vec<String>,
    pub refused: Option<Vec<String>>,
}
