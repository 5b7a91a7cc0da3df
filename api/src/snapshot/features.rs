//! What OGC API – Features needs over one [`Snapshot`]: the collections, each collection's items
//! in id order (so `offset` paging is stable), an R-tree of their envelopes (refined by the exact
//! geometry), their extents, and the few derived properties (a building's grid, a community's
//! counts) that would otherwise cost a scan per request. Built once per snapshot, in linear time.

use super::Snapshot;
use geo::{BoundingRect, Contains, Intersects, Rect};
use gis_core::geom::BboxIndex;
use gis_core::grid::{Grid, GridLevel};
use gis_core::lookup::LookupIndex;
use gis_core::model::Dataset;
use std::collections::HashMap;

/// One collection's items: `order[rank]` is the item's index in its source (`dataset.buildings`,
/// `grids`, ...), ranks ascend with the id.
struct Set {
    order: Vec<usize>,
    /// Envelope by rank; None for an item without geometry.
    boxes: Vec<Option<Rect<f64>>>,
    tree: BboxIndex,
    extent: Option<Rect<f64>>,
}

/// A community's counts, as its feature shows them.
#[derive(Debug, Clone, Default)]
pub struct CommunityStats {
    pub population: u64,
    pub households: u64,
    pub buildings: u64,
    pub grids: u64,
    pub micro_grids: u64,
}

/// The collections, in the order `/collections` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Communities = 0,
    Grids = 1,
    MicroGrids = 2,
    Buildings = 3,
    Resources = 4,
}

impl Collection {
    pub const ALL: [Collection; 5] = [
        Self::Communities,
        Self::Grids,
        Self::MicroGrids,
        Self::Buildings,
        Self::Resources,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::Communities => "communities",
            Self::Grids => "grids",
            Self::MicroGrids => "micro_grids",
            Self::Buildings => "buildings",
            Self::Resources => "resources",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Communities => "社区 Communities",
            Self::Grids => "网格 Grids",
            Self::MicroGrids => "微网格 Micro-grids",
            Self::Buildings => "楼栋 Buildings",
            Self::Resources => "服务资源 Resources",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Communities => {
                "Community (社区) and village (村) boundaries with residents, buildings and grid counts; id: the 12-digit statistical code."
            }
            Self::Grids => {
                "Basic (基础网格) and exclusive (专属网格) grids of the published version, with residents, households, building count and staff; id: the grid code."
            }
            Self::MicroGrids => {
                "Micro-grids (微网格): a few buildings inside a grid; id: the micro-grid code (its grid's code and two digits)."
            }
            Self::Buildings => {
                "Building footprints with residents, households, address, compound, floors and the grid holding each; id: the building id."
            }
            Self::Resources => {
                "Key resources (clinics, pharmacies, schools, markets, ...) as points, with the grid covering each; id: the resource id."
            }
        }
    }

    /// The property filters this collection's items accept besides the core parameters.
    pub fn filters(self) -> &'static [&'static str] {
        match self {
            Self::Communities => &[],
            Self::Grids | Self::MicroGrids | Self::Resources => &["community", "kind"],
            Self::Buildings => &["community"],
        }
    }
}

/// The id of the item at `ix` in its source: the code of communities and grids, else the id.
fn item_id(served: &Snapshot, c: Collection, ix: usize) -> &str {
    match c {
        Collection::Communities => served.dataset.communities[ix].code.as_str(),
        Collection::Grids | Collection::MicroGrids => &served.grids[ix].code,
        Collection::Buildings => &served.dataset.buildings[ix].id,
        Collection::Resources => &served.dataset.resources[ix].id,
    }
}

pub struct FeatureIndex {
    sets: Vec<Set>,
    /// By building index: the grid holding it (codes joined by "," for a building whose units
    /// lie in several grids).
    pub building_grid: Vec<Option<String>>,
    /// By resource index: the grid covering it.
    pub resource_grid: Vec<Option<String>>,
    /// By community index.
    pub community_stats: Vec<CommunityStats>,
    /// Community code → index.
    pub community_ix: HashMap<String, usize>,
}

fn union(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> Option<Rect<f64>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Rect::new(
            geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
            geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
        )),
        (a, b) => a.or(b),
    }
}

impl Set {
    fn new(mut items: Vec<(usize, &str, Option<Rect<f64>>)>) -> Self {
        items.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
        let boxes: Vec<Option<Rect<f64>>> = items.iter().map(|i| i.2).collect();
        let tree = BboxIndex::new(boxes.iter().enumerate().filter_map(|(rank, r)| r.map(|r| (rank, r))));
        let extent = boxes.iter().fold(None, |acc, r| union(acc, *r));
        Self {
            order: items.into_iter().map(|i| i.0).collect(),
            boxes,
            tree,
            extent,
        }
    }
}

fn grids_of(grids: &[Grid], level: GridLevel) -> Vec<(usize, &str, Option<Rect<f64>>)> {
    grids
        .iter()
        .enumerate()
        .filter(|(_, g)| g.level == level)
        .map(|(i, g)| (i, g.code.as_str(), g.area.bounding_rect()))
        .collect()
}

impl FeatureIndex {
    pub fn new(dataset: &Dataset, grids: &[Grid], lookup: &LookupIndex) -> Self {
        let communities = dataset
            .communities
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.code.as_str(), c.boundary.bounding_rect()))
            .collect();
        let buildings = dataset
            .buildings
            .iter()
            .enumerate()
            .map(|(i, b)| (i, b.id.as_str(), b.footprint.bounding_rect()))
            .collect();
        let resources = dataset
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.id.as_str(), Some(r.location.bounding_rect())))
            .collect();
        // In the order of Collection::ALL.
        let sets = vec![
            Set::new(communities),
            Set::new(grids_of(grids, GridLevel::Grid)),
            Set::new(grids_of(grids, GridLevel::Micro)),
            Set::new(buildings),
            Set::new(resources),
        ];

        let by_id: HashMap<&str, usize> = dataset
            .buildings
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.as_str(), i))
            .collect();
        let mut building_grid: Vec<Option<String>> = vec![None; dataset.buildings.len()];
        for g in grids.iter().filter(|g| g.level == GridLevel::Grid) {
            for part in &g.buildings {
                // Unit parts are `ID#UNIT`; a building's units may lie in several grids.
                let id = part.split_once('#').map_or(part.as_str(), |(id, _)| id);
                if let Some(&i) = by_id.get(id) {
                    match &mut building_grid[i] {
                        None => building_grid[i] = Some(g.code.clone()),
                        Some(codes) if !codes.split(',').any(|c| c == g.code) => {
                            codes.push(',');
                            codes.push_str(&g.code);
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        let resource_grid = dataset
            .resources
            .iter()
            .map(|r| lookup.grid_index().locate_code(r.location.0).map(str::to_string))
            .collect();

        let ix: HashMap<&str, usize> = dataset
            .communities
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.as_str(), i))
            .collect();
        let mut community_stats = vec![CommunityStats::default(); dataset.communities.len()];
        for b in &dataset.buildings {
            if let Some(s) = community_stats.get_mut(b.community) {
                s.population += u64::from(b.population);
                s.households += u64::from(b.households);
                s.buildings += 1;
            }
        }
        for p in &dataset.points {
            if let Some(s) = community_stats.get_mut(p.community) {
                s.population += u64::from(p.count);
                s.households += u64::from(p.households());
            }
        }
        for g in grids {
            if let Some(s) = ix
                .get(g.community_code.as_str())
                .and_then(|&i| community_stats.get_mut(i))
            {
                match g.level {
                    GridLevel::Grid => s.grids += 1,
                    GridLevel::Micro => s.micro_grids += 1,
                }
            }
        }
        let community_ix = ix.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Self {
            sets,
            building_grid,
            resource_grid,
            community_stats,
            community_ix,
        }
    }

    fn set(&self, c: Collection) -> &Set {
        &self.sets[c as usize]
    }

    pub fn len(&self, c: Collection) -> usize {
        self.set(c).order.len()
    }

    pub fn extent(&self, c: Collection) -> Option<Rect<f64>> {
        self.set(c).extent
    }

    /// The item's index in its source at a rank.
    pub fn item(&self, c: Collection, rank: usize) -> usize {
        self.set(c).order[rank]
    }

    /// The rank of the item with this id (code for communities and grids).
    pub fn find(&self, served: &Snapshot, c: Collection, id: &str) -> Option<usize> {
        let set = self.set(c);
        set.order
            .binary_search_by(|&ix| item_id(served, c, ix).cmp(id))
            .ok()
            .map(|rank| set.order[rank])
    }

    /// Ranks of the items passing `keep` whose geometry meets `bbox` (closed: touching counts),
    /// ascending. An item whose envelope lies inside the box needs no exact test.
    pub fn matching(
        &self,
        served: &Snapshot,
        c: Collection,
        bbox: Option<Rect<f64>>,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let set = self.set(c);
        match bbox {
            None => (0..set.order.len()).filter(|&rank| keep(set.order[rank])).collect(),
            Some(r) => set
                .tree
                .intersecting(r)
                .into_iter()
                .filter(|&rank| {
                    let ix = set.order[rank];
                    keep(ix) && (set.boxes[rank].is_some_and(|b| r.contains(&b)) || intersects(served, c, ix, &r))
                })
                .collect(),
        }
    }
}

/// The item's exact geometry meets the box.
fn intersects(served: &Snapshot, c: Collection, ix: usize, r: &Rect<f64>) -> bool {
    match c {
        Collection::Communities => served.dataset.communities[ix].boundary.intersects(r),
        Collection::Grids | Collection::MicroGrids => served.grids[ix].area.intersects(r),
        Collection::Buildings => served.dataset.buildings[ix].footprint.intersects(r),
        Collection::Resources => r.intersects(&served.dataset.resources[ix].location),
    }
}
