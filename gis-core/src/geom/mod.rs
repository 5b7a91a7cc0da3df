//! Plane geometry shared by partition, validate, dataset reading and import: exact vertex keys,
//! the local metric frame, bounding-box and area indexes, exact unions of edge-sharing areas, and
//! the geometry of building footprints (crossing tests, unit parts). Only the indexes are public.

mod anchor;
mod footprint;
mod frame;
mod index;
mod union;
mod valid;

pub(crate) use anchor::interior_point;
pub(crate) use footprint::{crossed_by_edges_of, unit_parts};
pub(crate) use frame::{LocalFrame, approx_distance_m, metres_per_degree};
pub use index::{AreaIndex, BboxIndex};
pub(crate) use union::{exact_union, midpoint, ring_area};
pub use valid::{surely_valid, surely_valid_multi};

use geo::Coord;

/// A vertex by the exact bits of its coordinates, for matching shared vertices and edges without
/// a float compare; −0.0 and 0.0 are the same point (adding 0.0 turns −0.0 into 0.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct VertexKey(u64, u64);

impl VertexKey {
    pub fn of(c: Coord<f64>) -> Self {
        Self((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
    }

    /// The vertex the key was made from (with −0.0 as 0.0).
    pub fn coord(self) -> Coord<f64> {
        Coord {
            x: f64::from_bits(self.0),
            y: f64::from_bits(self.1),
        }
    }
}
