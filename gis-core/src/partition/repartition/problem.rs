//! A region of published grids, tessellated on its own, and the ways to re-draw it: each
//! candidate labelling is scored by the bounds, connectivity and the residents whose grid code
//! would change.

use super::places::Places;
use super::rebalance::rebalance;
use super::redraw::sub_dataset;
use super::run::Run;
use crate::bounds::SizeBounds;
use crate::codes::lineage::Flows;
use crate::geom::{AreaIndex, exact_union};
use crate::grid::{Grid, GridKind};
use crate::model::Dataset;
use crate::partition::search::Graph;
use crate::partition::{Atom, Prepared, graph, plan, prepare};
use geo::{MultiPolygon, Point};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};

/// The strategy name of a manual edit.
pub(crate) const EDIT: &str = "edit";

/// A region of published grids, tessellated on its own, with every atom's published grid.
pub(crate) struct Problem {
    pub(crate) region: BTreeSet<usize>,
    /// The region's grids in order; labels index this list.
    pub(crate) region_list: Vec<usize>,
    pub(crate) outline: MultiPolygon<f64>,
    pub(crate) sub: Dataset,
    pub(crate) prepared: Prepared,
    /// Per atom: its published grid (a label), and whether the published layer lacked it.
    pub(crate) atom_old: Vec<Option<usize>>,
    pub(crate) atom_new: Vec<bool>,
    /// Basic atoms (graph node n = atom basic[n]) and their graph.
    pub(crate) basic: Vec<usize>,
    pub(crate) graph: Graph,
    /// Label of each basic node in the published layer.
    pub(crate) initial: Vec<usize>,
    pub(crate) old_kinds: Vec<GridKind>,
    pub(crate) region_codes: Vec<String>,
}

/// One way to re-draw a region: a label per basic node.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) labels: Vec<usize>,
    pub(crate) groups: usize,
    pub(crate) strategy: &'static str,
    /// Grids (groups) outside the bounds, and by how much in all.
    pub(crate) out_of_bounds: usize,
    pub(crate) excess: u64,
    pub(crate) connected: bool,
    /// Residents known before whose grid code would change.
    pub(crate) moved: u64,
    pub(crate) violations: Vec<String>,
}

impl Candidate {
    pub(crate) fn fits(&self) -> bool {
        self.out_of_bounds == 0 && self.connected
    }

    /// Lower is better: disconnected last, then fewest grids out of bounds, least excess, fewest
    /// residents moved.
    pub(crate) fn rank(&self) -> (usize, u64, u64) {
        (
            usize::from(!self.connected) * 1000 + self.out_of_bounds,
            self.excess,
            self.moved,
        )
    }
}

impl Problem {
    pub(crate) fn new(run: &Run, ci: usize, old: &[&Grid], places: &Places, region: &BTreeSet<usize>) -> Option<Self> {
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
        let prepared = prepare(&sub, 0, &sub.members_of(0), &roads, &run.bounds, f64::INFINITY).ok()?;
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

    pub(crate) fn atoms(&self) -> &[Atom] {
        &self.prepared.atoms
    }

    /// Scores a labelling: bounds, connectivity, residents moved under the code rule.
    pub(crate) fn evaluate(&self, labels: Vec<usize>, strategy: &'static str, bounds: &SizeBounds) -> Candidate {
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

    pub(crate) fn best_candidate(&self, bounds: &SizeBounds, seed: u64) -> Candidate {
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
    pub(crate) fn changed_labels(&self, c: &Candidate) -> BTreeSet<usize> {
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
}
