//! The `planner` crate's integration tests, one binary (`cargo test -p planner --test integration`):
//! each file below is a module, so the crate and its dependencies link once.

mod steps;
