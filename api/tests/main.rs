//! The `api` crate's integration tests, one binary (`cargo test -p api --test integration`):
//! each file below is a module, so the crate and its dependencies link once.

mod common;
// The mutation strategies and the time-boxed runner are gis-core's fuzz support, shared.
#[path = "../../gis-core/tests/fuzz_support/mod.rs"]
mod fuzz_support;

mod access;
mod connections;
mod corpus;
mod faults;
mod features;
mod fuzz_http;
mod golden;
mod hostile;
mod import;
mod inspect;
mod moves;
mod partition;
mod placards;
mod planner;
mod repartition;
mod replicas;
mod security;
mod serve;
mod serve_store;
mod store;
mod tile_archive;
mod validate;
mod versioned;
mod web;
