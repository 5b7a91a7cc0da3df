//! What a planner wants to know about a dataset before partitioning it: per community, who lives
//! there, what is there, how big it is, and how many grids the size bounds allow.

use crate::bounds::{GridCounts, SizeBasis, SizeBounds};
use crate::measure::{area_m2, length_m};
use crate::model::Dataset;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize)]
pub struct CommunitySummary {
    pub code: String,
    pub name: String,
    pub buildings: usize,
    pub compounds: usize,
    /// Residents in buildings plus residents located by points.
    pub residents: u64,
    pub residents_at_points: u64,
    pub households: u64,
    /// Residents (or households, by the bounds' basis) living in exclusive units: they belong to
    /// exclusive grids and do not count toward basic grids' bounds.
    pub in_exclusive_units: u64,
    /// What basic grids must share, in the bounds' basis.
    pub basic_size: u64,
    pub area_km2: f64,
    pub residents_per_km2: f64,
    pub resources: BTreeMap<String, usize>,
    pub exclusive_units: BTreeMap<String, usize>,
    pub grid_counts: GridCounts,
    /// Buildings bigger than a whole grid: with units they will be split by unit, without they
    /// cannot fit any grid.
    pub oversized_buildings: Vec<OversizedBuilding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OversizedBuilding {
    pub id: String,
    pub size: u64,
    pub units: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetSummary {
    pub bounds: SizeBounds,
    pub communities: Vec<CommunitySummary>,
    pub buildings: usize,
    pub residents: u64,
    pub households: u64,
    pub area_km2: f64,
    pub roads_km: f64,
    /// Resources outside every community: kept, since they can still be someone's nearest.
    pub resources_outside: usize,
}

pub fn summarize(dataset: &Dataset, bounds: SizeBounds) -> DatasetSummary {
    // Geodesic areas and lengths on every core (a city's are most of the summary's time); sums
    // stay in the dataset's order, so totals do not depend on the cores.
    let mut communities: Vec<CommunitySummary> = dataset
        .communities
        .par_iter()
        .map(|c| {
            let area_km2 = area_m2(&c.boundary) / 1e6;
            CommunitySummary {
                code: c.code.to_string(),
                name: c.name.clone(),
                buildings: 0,
                compounds: 0,
                residents: 0,
                residents_at_points: 0,
                households: 0,
                in_exclusive_units: 0,
                basic_size: 0,
                area_km2,
                residents_per_km2: 0.0,
                resources: BTreeMap::new(),
                exclusive_units: BTreeMap::new(),
                grid_counts: GridCounts::Empty,
                oversized_buildings: Vec::new(),
            }
        })
        .collect();
    let mut compounds: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); communities.len()];

    for b in &dataset.buildings {
        let s = &mut communities[b.community];
        s.buildings += 1;
        s.residents += u64::from(b.population);
        s.households += u64::from(b.households);
        let size = u64::from(match bounds.basis {
            SizeBasis::Residents => b.population,
            SizeBasis::Households => b.households,
        });
        if b.exclusive_unit.is_some() {
            s.in_exclusive_units += size;
        } else {
            s.basic_size += size;
        }
        if size > u64::from(bounds.max) {
            s.oversized_buildings.push(OversizedBuilding {
                id: b.id.clone(),
                size,
                units: b.units.len(),
            });
        }
        if let Some(c) = &b.compound {
            compounds[b.community].insert(c);
        }
    }
    for p in &dataset.points {
        let s = &mut communities[p.community];
        s.residents += u64::from(p.count);
        s.residents_at_points += u64::from(p.count);
        let households = crate::model::estimated_households(p.count).max(1);
        s.households += u64::from(households);
        s.basic_size += u64::from(match bounds.basis {
            SizeBasis::Residents => p.count,
            SizeBasis::Households => households,
        });
    }
    for r in &dataset.resources {
        if let Some(c) = r.community {
            *communities[c].resources.entry(r.kind.clone()).or_default() += 1;
        }
    }
    for u in &dataset.exclusive {
        *communities[u.community]
            .exclusive_units
            .entry(u.kind.clone())
            .or_default() += 1;
    }
    for (s, compounds) in communities.iter_mut().zip(compounds) {
        s.compounds = compounds.len();
        s.residents_per_km2 = if s.area_km2 > 0.0 {
            s.residents as f64 / s.area_km2
        } else {
            0.0
        };
        s.grid_counts = bounds.grid_counts(s.basic_size);
    }

    let road_lengths: Vec<f64> = dataset.roads.par_iter().map(|r| length_m(&r.line)).collect();
    DatasetSummary {
        bounds,
        buildings: dataset.buildings.len(),
        residents: communities.iter().map(|c| c.residents).sum(),
        households: communities.iter().map(|c| c.households).sum(),
        area_km2: communities.iter().map(|c| c.area_km2).sum(),
        roads_km: road_lengths.iter().sum::<f64>() / 1000.0,
        resources_outside: dataset.resources.iter().filter(|r| r.community.is_none()).count(),
        communities,
    }
}
