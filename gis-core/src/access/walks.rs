//! Every home's walk to the nearest place of each service kind: homes (buildings and population
//! points) joined to the network once, then one multi-source search per kind over the whole
//! region ([`WalkNetwork::reach`]), the kinds searched in parallel.

use crate::model::Dataset;
use crate::walk::{Snap, WalkNetwork};
use rayon::prelude::*;

/// No place of the kind is reachable.
pub const NO_PLACE: u32 = u32::MAX;

/// Where every home joins the walking network (None: it does not, the network being empty).
#[derive(Debug, Clone, Default)]
pub struct Homes {
    /// By building index (a building walks from its mapped entrance, else its anchor).
    pub buildings: Vec<Option<Snap>>,
    /// By population point index.
    pub points: Vec<Option<Snap>>,
}

impl Homes {
    pub fn snap(network: &WalkNetwork, dataset: &Dataset) -> Self {
        Self {
            buildings: dataset
                .buildings
                .par_iter()
                .map(|b| network.snap_building(&b.footprint, b.anchor))
                .collect(),
            points: dataset.points.par_iter().map(|p| network.snap(p.location.0)).collect(),
        }
    }
}

/// Every home's walk to the nearest place of one kind.
#[derive(Debug, Clone)]
pub struct KindWalks {
    pub kind: String,
    /// The kind's places: indexes into the dataset's resources.
    pub places: Vec<usize>,
    /// How many of them join the network.
    pub joined: usize,
    /// Metres from each building to its nearest place, snap steps included; infinite when none
    /// is reachable.
    pub buildings: Vec<f64>,
    /// The same for each population point.
    pub points: Vec<f64>,
    /// Each building's nearest place (a resource index), [`NO_PLACE`] when none is reachable.
    pub nearest: Vec<u32>,
}

/// Every home's walk to each kind.
#[derive(Debug, Clone, Default)]
pub struct Walks {
    pub kinds: Vec<KindWalks>,
}

impl Walks {
    /// One multi-source search per kind in `kinds` from all its places at once, every home read
    /// off it. A kind with no place leaves every home unreachable.
    pub fn compute(network: &WalkNetwork, dataset: &Dataset, homes: &Homes, kinds: &[String]) -> Self {
        let kinds = kinds
            .par_iter()
            .map(|kind| {
                let places: Vec<usize> = dataset
                    .resources
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| &r.kind == kind)
                    .map(|(i, _)| i)
                    .collect();
                let joined: Vec<(usize, Snap)> = places
                    .iter()
                    .filter_map(|&i| network.snap(dataset.resources[i].location.0).map(|s| (i, s)))
                    .collect();
                let sources: Vec<Snap> = joined.iter().map(|(_, s)| *s).collect();
                let reach = (!sources.is_empty()).then(|| network.reach(&sources));
                let walk = |s: &Option<Snap>| {
                    reach
                        .as_ref()
                        .zip(s.as_ref())
                        .and_then(|(r, s)| r.to(network, s))
                        .map_or((f64::INFINITY, NO_PLACE), |r| (r.metres, joined[r.source].0 as u32))
                };
                let (buildings, nearest): (Vec<f64>, Vec<u32>) = homes.buildings.iter().map(&walk).unzip();
                let points = homes.points.iter().map(|s| walk(s).0).collect();
                KindWalks {
                    kind: kind.clone(),
                    joined: joined.len(),
                    places,
                    buildings,
                    points,
                    nearest,
                }
            })
            .collect();
        Self { kinds }
    }

    pub fn kind(&self, kind: &str) -> Option<&KindWalks> {
        self.kinds.iter().find(|k| k.kind == kind)
    }
}
