//! The `access` section of partition and re-partition reports: per grid and community, the
//! share of residents within the circle of each kind the settings place.

use super::config::LifeCircle;
use super::coverage::{AccessReport, AreaAccess};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct AccessSection {
    pub speed_m_per_min: f64,
    pub circles: Vec<LifeCircle>,
    /// Kind → the minutes of its circle.
    pub kinds: BTreeMap<String, u32>,
    /// Kinds without any place in the dataset (everyone is beyond their circle).
    pub kinds_without_places: Vec<String>,
    pub communities: Vec<GridCoverage>,
    pub grids: Vec<GridCoverage>,
}

/// One area's coverage: kind → share of residents within the kind's circle (None: nobody lives
/// there), and residents beyond it.
#[derive(Debug, Clone, Serialize)]
pub struct GridCoverage {
    pub code: String,
    pub residents: u64,
    pub covered: BTreeMap<String, Option<f64>>,
    pub residents_beyond: BTreeMap<String, u64>,
}

impl AccessReport {
    pub fn section(&self) -> AccessSection {
        let coverage = |a: &AreaAccess| GridCoverage {
            code: a.code.clone(),
            residents: a.residents,
            covered: a.kinds.iter().map(|k| (k.kind.clone(), k.covered_share)).collect(),
            residents_beyond: a.kinds.iter().map(|k| (k.kind.clone(), k.residents_beyond)).collect(),
        };
        AccessSection {
            speed_m_per_min: self.speed_m_per_min,
            circles: self.circles.clone(),
            kinds: self.kinds.iter().map(|k| (k.kind.clone(), k.circle.minutes)).collect(),
            kinds_without_places: self
                .kinds
                .iter()
                .filter(|k| k.places == 0)
                .map(|k| k.kind.clone())
                .collect(),
            communities: self.communities.iter().map(coverage).collect(),
            grids: self.grids.iter().map(coverage).collect(),
        }
    }
}
