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
//! - [`Access::compute`] does all of it for one dataset and grid layer.

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
use crate::walk::WalkNetwork;

/// A region's walks to every kind its settings place, and their coverage per grid.
#[derive(Debug, Clone)]
pub struct Access {
    pub config: AccessConfig,
    pub walks: Walks,
    pub report: AccessReport,
}

impl Access {
    /// Walks from every home to each kind of `config` on `network`, and their coverage over the
    /// dataset's communities and the grids.
    pub fn compute(dataset: &Dataset, network: &WalkNetwork, grids: &[Grid], config: &AccessConfig) -> Self {
        let homes = Homes::snap(network, dataset);
        let kinds: Vec<String> = config.kinds.keys().cloned().collect();
        let walks = Walks::compute(network, dataset, &homes, &kinds);
        let not_joined = homes.buildings.iter().filter(|s| s.is_none()).count()
            + homes.points.iter().filter(|s| s.is_none()).count();
        let report = AccessReport::new(dataset, grids, config, &walks, network.stats(), not_joined);
        Self {
            config: config.clone(),
            walks,
            report,
        }
    }

    /// [`Access::compute`] on the dataset's own walking network (its roads and walking layer)
    /// and its own settings (`access.json`, else the defaults).
    pub fn of_dataset(dataset: &Dataset, grids: &[Grid]) -> Self {
        let network = WalkNetwork::build(&dataset.roads, &dataset.walk);
        Self::compute(dataset, &network, grids, &dataset.access)
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
