//! The `import` crate's integration tests, one binary (`cargo test -p import --test integration`):
//! each file below is a module, so the crate and its dependencies link once.

mod crs;
mod import;
