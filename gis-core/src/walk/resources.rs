//! A dataset's resources on its walking network, snapped once: what a "nearest clinic by walk"
//! question is answered from (one per served version).

use super::{Found, Snap, Targets, WalkNetwork, WalkRoute};
use crate::model::Dataset;
use geo::Coord;

/// The walking network of a dataset and its resources snapped to it, in the dataset's order.
#[derive(Debug, Clone)]
pub struct ResourceWalks {
    network: WalkNetwork,
    targets: Targets,
    kinds: Vec<String>,
}

impl ResourceWalks {
    /// None when the dataset has nothing to walk on (no roads, no walking layer).
    pub fn new(dataset: &Dataset) -> Option<Self> {
        let network = WalkNetwork::build(&dataset.roads, &dataset.walk);
        if network.is_empty() {
            return None;
        }
        let targets = Targets::new(&network, dataset.resources.iter().map(|r| r.location.0));
        Some(Self {
            network,
            targets,
            kinds: dataset.resources.iter().map(|r| r.kind.clone()).collect(),
        })
    }

    pub fn network(&self) -> &WalkNetwork {
        &self.network
    }

    /// Resource `i`'s snap, if it snapped.
    pub fn snap_of(&self, resource: usize) -> Option<&Snap> {
        self.targets.snap(resource)
    }

    /// The resources nearest to `at` (WGS-84) by walk: the point's snap, and the resources
    /// (indexes into the dataset's resources) nearest first, only `kinds` (lower case; empty
    /// takes every kind), at most `limit`, only within `radius_m` walking metres.
    pub fn nearest(
        &self,
        at: Coord<f64>,
        kinds: &[String],
        limit: usize,
        radius_m: Option<f64>,
    ) -> Option<(Snap, Vec<Found>)> {
        let from = self.network.snap(at)?;
        let found = self.network.nearest(
            &from,
            &self.targets,
            |i| kinds.is_empty() || kinds.iter().any(|k| *k == self.kinds[i]),
            limit,
            radius_m,
        );
        Some((from, found))
    }

    /// The walk from a snapped point to resource `i`, with its line.
    pub fn route(&self, from: &Snap, resource: usize) -> Option<WalkRoute> {
        self.network.route(from, self.targets.snap(resource)?)
    }
}
