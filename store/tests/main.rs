//! The `store` crate's integration tests, one binary (`cargo test -p store --test integration`):
//! each file below is a module, so the crate and its dependencies link once.

mod suite;
