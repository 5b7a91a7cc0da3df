//! Nearest resources (clinics, pharmacies, ...) by great-circle distance.
//!
//! Points are kept as unit vectors on the sphere: the straight-line (chord) distance between
//! two of them grows with the great-circle distance, so the R-tree's nearest-neighbour order in
//! 3-D is exactly the great-circle order, with no lon/lat distortion and no cut at the
//! antimeridian. Distances are haversine on the mean Earth radius (GRS80, 6,371,008.8 m), as
//! geo's `Haversine`; within a city that is within 0.5% of the ellipsoidal distance.

use crate::model::Resource;
use geo::Coord;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use std::collections::HashMap;

pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

type Entry = GeomWithData<[f64; 3], u32>;

fn unit_vector(c: Coord<f64>) -> [f64; 3] {
    let (lon, lat) = (c.x.to_radians(), c.y.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Great-circle distance in metres for a chord of the unit sphere.
fn chord_to_m(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord / 2.0).min(1.0).asin()
}

fn m_to_chord(m: f64) -> f64 {
    let half_angle = (m / (2.0 * EARTH_RADIUS_M)).min(std::f64::consts::FRAC_PI_2);
    2.0 * half_angle.sin()
}

/// Great-circle (haversine) distance in metres between two WGS-84 points.
pub fn great_circle_m(a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (u, v) = (unit_vector(a), unit_vector(b));
    let d2: f64 = (0..3).map(|i| (u[i] - v[i]).powi(2)).sum();
    chord_to_m(d2.sqrt())
}

#[derive(Debug, Clone, PartialEq)]
pub struct NearestQuery {
    /// Resource kinds to keep (lower case); empty keeps every kind.
    pub kinds: Vec<String>,
    pub limit: usize,
    /// Only resources within this many metres.
    pub radius_m: Option<f64>,
}

/// A resource and how far it is.
#[derive(Debug, Clone, Copy)]
pub struct Nearby<'a> {
    pub resource: &'a Resource,
    pub distance_m: f64,
}

/// The dataset's resources, by kind, for nearest-neighbour questions.
#[derive(Debug, Clone, Default)]
pub struct ResourceIndex {
    resources: Vec<Resource>,
    all: RTree<Entry>,
    by_kind: HashMap<String, RTree<Entry>>,
}

impl ResourceIndex {
    pub fn new(resources: Vec<Resource>) -> Self {
        let entries: Vec<Entry> = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.location.x().is_finite() && r.location.y().is_finite())
            .map(|(i, r)| GeomWithData::new(unit_vector(r.location.0), i as u32))
            .collect();
        let mut kinds: HashMap<String, Vec<Entry>> = HashMap::new();
        for e in &entries {
            kinds
                .entry(resources[e.data as usize].kind.clone())
                .or_default()
                .push(*e);
        }
        let by_kind = kinds.into_iter().map(|(k, v)| (k, RTree::bulk_load(v))).collect();
        Self {
            resources,
            all: RTree::bulk_load(entries),
            by_kind,
        }
    }

    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Kinds present, sorted.
    pub fn kinds(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.by_kind.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    /// Resources nearest to `at` (WGS-84), nearest first (ties by id), at most `limit`, only
    /// the given kinds, only within the radius. A kind nobody has gives nothing.
    pub fn nearest(&self, at: Coord<f64>, query: &NearestQuery) -> Vec<Nearby<'_>> {
        if query.limit == 0 || !at.x.is_finite() || !at.y.is_finite() {
            return Vec::new();
        }
        let q = unit_vector(at);
        let max_chord2 = query.radius_m.map(|r| m_to_chord(r.max(0.0)).powi(2));
        let trees: Vec<&RTree<Entry>> = if query.kinds.is_empty() {
            vec![&self.all]
        } else {
            let mut kinds: Vec<&String> = query.kinds.iter().collect();
            kinds.sort_unstable();
            kinds.dedup();
            kinds.iter().filter_map(|k| self.by_kind.get(k.as_str())).collect()
        };
        let mut found: Vec<(f64, u32)> = Vec::new();
        for tree in trees {
            let mut last = f64::NEG_INFINITY;
            for (taken, (e, d2)) in tree.nearest_neighbor_iter_with_distance_2(&q).enumerate() {
                if max_chord2.is_some_and(|m| d2 > m) {
                    break;
                }
                // Past `limit`, keep going only through ties, so the id order settles them.
                if taken >= query.limit && d2 > last {
                    break;
                }
                found.push((d2, e.data));
                last = d2;
            }
        }
        found.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then_with(|| self.resources[a.1 as usize].id.cmp(&self.resources[b.1 as usize].id))
        });
        found.truncate(query.limit);
        found
            .into_iter()
            .map(|(d2, i)| Nearby {
                resource: &self.resources[i as usize],
                distance_m: chord_to_m(d2.sqrt()),
            })
            .collect()
    }
}
