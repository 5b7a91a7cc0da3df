//! The spatial core of wangge (网格): the domain model, strict dataset import, coordinate
//! systems and measures. It knows nothing of HTTP, SQL or how files travel.

pub mod model;

pub use model::*;
