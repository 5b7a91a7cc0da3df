//! The spatial core of wangge (网格): the domain model, strict dataset import, coordinate
//! systems, measures and spatial indexes. It knows nothing of HTTP, SQL or how files travel.

pub mod access;
pub mod bounds;
pub mod codes;
pub mod crs;
pub mod cut;
pub mod diff;
pub mod geom;
pub mod grid;
pub mod io;
pub mod lookup;
pub mod measure;
pub mod model;
pub mod partition;
pub mod summary;
pub mod validate;
pub mod verify;
pub mod walk;

pub use model::*;
