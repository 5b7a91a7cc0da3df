//! The `tiles` crate's integration tests, one binary (`cargo test -p tiles --test integration`):
//! each file below is a module, so the crate and its dependencies link once.

mod common;

mod colouring;
mod context;
mod labels;
mod mvt;
mod mvt_fixtures;
mod print;
mod raster;
