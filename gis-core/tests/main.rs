//! The `gis-core` crate's integration tests, one binary (`cargo test -p gis-core --test integration`):
//! each file below is a module, so the crate and its dependencies link once.

mod common;
mod fuzz_support;

mod access;
mod context;
mod fuzz;
mod hostile;
mod import;
mod lookup;
mod partition;
mod repartition;
mod suggest;
mod validate;
mod walk;
