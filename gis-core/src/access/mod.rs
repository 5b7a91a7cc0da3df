//! Life circles (生活圈) for planners (issue 22): per grid and per community, the share of
//! residents and households within a 5-, 10- and 15-minute walk of each service kind, and the
//! grids and buildings furthest from each — "where would a new clinic help most?".
//!
//! - [`AccessConfig`]: which kind belongs in which circle, each circle's walking distance, the
//!   speed minutes are shown at; the standards' defaults (GB 50180-2018, TD/T 1062-2021), or a
//!   dataset's `access.json` ([`AccessConfig::from_json`], every bad field named).
//! - [`Homes::snap`]: every building (from its entrance) and population point joined to the
//!   walking network once; [`Walks::compute`]: one multi-source Dijkstra per kind from all its
//!   places at once over the whole region ([`crate::walk::WalkNetwork::reach`]), each home's
//!   metres read off it.
//! - [`AccessReport`]: the counts per grid and community, per kind and circle, and the furthest
//!   buildings and grids; [`AccessSection`]: its short form for partition reports.
//! - [`HomeWalks`]: the walks alone, which need no grids (a partition computes them alongside);
//!   [`Access::compute`] does all of it for one dataset and grid layer.

mod config;
mod coverage;
mod section;
mod walks;

pub use config::{
    AccessConfig, AccessConfigError, ConfigProblem, DEFAULT_FURTHEST, DEFAULT_SPEED_M_PER_MIN, LifeCircle,
};
pub use coverage::{AccessReport, AreaAccess, FarBuilding, FarGrid, KindAccess, KindFurthest, KindPlaces, Within};
pub use section::{AccessSection, GridCoverage};
pub use walks::{Homes, KindWalks, NO_PLACE, Walks};

use crate::grid::Grid;
use crate::model::Dataset;
use crate::walk::{WalkNetwork, WalkStats};

/// A region's walks to every kind its settings place, and their coverage per grid.
#[derive(Debug, Clone)]
pub struct Access {
    pub config: AccessConfig,
    pub walks: Walks,
    pub report: AccessReport,
}

/// Every home's walks to each kind a region's settings place: all that coverage needs besides
/// the grids, so that it can be computed while the grids are drawn.
#[derive(Debug, Clone)]
pub struct HomeWalks {
    pub config: AccessConfig,
    pub walks: Walks,
    pub network: WalkStats,
    /// Homes (buildings and population points) that do not join the network.
    pub homes_not_joined: usize,
}

impl HomeWalks {
    /// Walks from every home to each kind of `config` on `network`.
    pub fn compute(dataset: &Dataset, network: &WalkNetwork, config: &AccessConfig) -> Self {
        let homes = Homes::snap(network, dataset);
        let kinds: Vec<String> = config.kinds.keys().cloned().collect();
        let walks = Walks::compute(network, dataset, &homes, &kinds);
        let homes_not_joined = homes.buildings.iter().filter(|s| s.is_none()).count()
            + homes.points.iter().filter(|s| s.is_none()).count();
        Self {
            config: config.clone(),
            walks,
            network: network.stats().clone(),
            homes_not_joined,
        }
    }

    /// [`HomeWalks::compute`] on the dataset's own walking network (its roads and walking layer)
    /// and its own settings (`access.json`, else the defaults).
    pub fn of_dataset(dataset: &Dataset) -> Self {
        let network = WalkNetwork::build(&dataset.roads, &dataset.walk);
        Self::compute(dataset, &network, &dataset.access)
    }

    /// The short form of [`HomeWalks::coverage`] for partition reports, which list no furthest
    /// buildings: none are gathered (a list per grid and kind is most of the coverage's time).
    pub fn section(mut self, dataset: &Dataset, grids: &[Grid]) -> AccessSection {
        self.config.furthest = 0;
        self.coverage(dataset, grids).report.section()
    }

    /// The walks' coverage over the dataset's communities and `grids`.
    pub fn coverage(self, dataset: &Dataset, grids: &[Grid]) -> Access {
        let report = AccessReport::new(
            dataset,
            grids,
            &self.config,
            &self.walks,
            &self.network,
            self.homes_not_joined,
        );
        Access {
            config: self.config,
            walks: self.walks,
            report,
        }
    }
}

impl Access {
    /// Walks from every home to each kind of `config` on `network`, and their coverage over the
    /// dataset's communities and the grids.
    pub fn compute(dataset: &Dataset, network: &WalkNetwork, grids: &[Grid], config: &AccessConfig) -> Self {
        HomeWalks::compute(dataset, network, config).coverage(dataset, grids)
    }

    /// [`Access::compute`] on the dataset's own walking network and settings.
    pub fn of_dataset(dataset: &Dataset, grids: &[Grid]) -> Self {
        HomeWalks::of_dataset(dataset).coverage(dataset, grids)
    }

    /// Each building's walk to the nearest place of `kind`: (building index, metres, the band:
    /// the index of the nearest circle it is within, None beyond them all or unreachable).
    pub fn building_walks(&self, kind: &str) -> Option<impl Iterator<Item = (usize, Option<f64>, Option<usize>)> + '_> {
        let walk = self.walks.kind(kind)?;
        Some(walk.buildings.iter().enumerate().map(|(b, &m)| {
            let m = m.is_finite().then_some(m);
            (b, m, m.and_then(|m| self.config.band(m)))
        }))
    }
}
