//! A planner's steps on a store, in one place for the command line and the HTTP service: load a
//! dataset (and draft its grids, published at once when nothing is published yet), partition or
//! re-partition a stored dataset into a draft, move buildings, validate a draft or an uploaded
//! layer, diff a draft or two versions, draft the residents' notices of a draft, publish and roll back.
//!
//! Each step takes a [`store::Store`], runs the algorithms in blocking tasks (off the async
//! threads), and returns typed results or a [`PlannerError`]; the command line and the routes
//! only parse input, call a step and format what it returns. The store keeps the data; this
//! crate decides what to do with it.

mod check;
mod diff;
mod draft;
mod edit;
mod error;
mod load;
mod notices;
mod versions;

pub use check::{Validation, validate_draft, validate_options, validate_upload};
pub use diff::{diff_draft, diff_versions};
pub use draft::{Partitioned, access_section, partition_draft, partition_layer, repartition_draft, repartition_from};
pub use edit::move_buildings;
pub use error::{PlannerError, Result};
pub use load::{LoadOutcome, LoadStep, load, load_files, load_with_progress};
pub use notices::{EffectiveDate, Notice, NoticeStaff, Notices, draft_notices, notices};
pub use versions::{Accepted, current, publish, rollback};

/// Runs CPU work (an algorithm over a whole dataset) on the blocking pool.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PlannerError::Task(e.to_string()))
}
