//! Lookups on a published layer, in memory and without I/O: point → grid (and micro-grid),
//! address → building → grid, nearest resources, and suggestions as people type.
//!
//! # The edge rule
//!
//! A point on a boundary shared by several grids belongs to **the grid with the lowest code, in
//! byte order, among the grids whose closed area (interior plus boundary) contains it**. A point
//! in no grid's closed area belongs to none. Micro-grids follow the same rule among the
//! micro-grids of the point's grid. Lowest code was chosen because it needs nothing but the
//! layer (no geometry orientation, no tie on lengths), reads the same in SQL
//! (`WHERE ST_Covers(geom, p) ORDER BY code LIMIT 1`), and is stable while codes are.
//!
//! "Contains" is exact: the grid index ([`grid_index`], over classified cells) and
//! [`prepared::PreparedArea`] decide inside / boundary / outside with robust orientation
//! predicates, agreeing with geo's `coordinate_position` on every point (tested on a million,
//! many on or within half a metre of edges and vertices).
//!
//! Input in GCJ-02 or BD-09 is converted to WGS-84 by [`crate::crs`] first.

mod cells;
pub mod geocode;
pub mod grid_index;
pub mod index;
pub mod nearest;
pub mod normalize;
pub mod prepared;
pub mod suggest;

pub use geocode::{Candidate, Geocoder, MatchLevel};
pub use grid_index::{GridIndex, IndexError, Located};
pub use index::{
    AddressAnswer, AddressCandidate, BatchAnswer, BatchItem, GridAnswer, LookupError, LookupIndex, MAX_BATCH,
    MAX_LIMIT, MicroAnswer, NearbyResource,
};
pub use nearest::{Nearby, NearestQuery, ResourceIndex, great_circle_m};
pub use normalize::normalize;
pub use prepared::{Position, PreparedArea};
pub use suggest::{MAX_QUERY_CHARS, MAX_SUGGESTIONS, MatchClass, Suggester, Suggestion, SuggestionKind};
