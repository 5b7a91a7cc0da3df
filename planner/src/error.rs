//! The planner's one error type. Each variant wraps what the step ran into, unchanged
//! (`transparent`), so a message reads as it did from the store or the algorithm.

use gis_core::io::grids::LayerError;
use gis_core::partition::{MoveError, RepairError};
use gis_core::validate::ValidateError;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlannerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The layer a re-partition starts from cannot be repaired from (not one exact coverage…).
    #[error(transparent)]
    Repartition(#[from] RepairError),
    /// A move the rules refuse, or that names an unknown grid or building.
    #[error(transparent)]
    Move(#[from] MoveError),
    /// An uploaded layer that cannot be read; `problems` lists why.
    #[error(transparent)]
    LayerRejected(Box<LayerError>),
    /// Validation options out of range.
    #[error(transparent)]
    Validate(#[from] ValidateError),
    /// A draft whose validation finds defects, published without a reason to override it.
    #[error(
        "draft {draft} does not validate clean ({}): check it with its validation, fix it, or publish it anyway with a reason",
        summary(.defects)
    )]
    NotClean {
        draft: i64,
        /// Each defect's message, worst first as the validation lists them.
        defects: Vec<String>,
        /// The same defects in full (kind, grids, item, size), for a client to word them.
        found: Vec<gis_core::validate::Defect>,
    },
    /// A draft that would leave grids without any worker, published without acknowledging it.
    #[error(
        "draft {draft} leaves {} grid{} without a grid worker ({}): assign staff first, or acknowledge it to publish anyway",
        grids.len(),
        if grids.len() == 1 { "" } else { "s" },
        grids.join(", ")
    )]
    Unstaffed { draft: i64, grids: Vec<String> },
    /// A draft that moves many residents to other grids, published without confirming it.
    #[error(
        "draft {draft} moves many residents to other grids ({}): check the diff, then confirm the large moves to publish it",
        moves.summary()
    )]
    LargeMoves {
        draft: i64,
        moves: Box<gis_core::diff::LargeMoves>,
    },
    /// An effective date that is not a calendar day written `YYYY-MM-DD`.
    #[error("date {0:?}: expected a calendar day as YYYY-MM-DD, e.g. 2026-12-15")]
    BadDate(String),
    /// Notices asked for one building whose grid the draft does not change.
    #[error("building {building} does not change grid in draft {draft}, so it has no notice")]
    NoNotice { draft: i64, building: String },
    /// A step's blocking task failed (panicked): a bug, not the input.
    #[error("background task failed: {0}")]
    Task(String),
    /// A step's output could not be encoded: a bug, not the input.
    #[error("{0}")]
    Internal(String),
}

/// "3 defects, e.g. building KL-B0012 is cut …".
fn summary(defects: &[String]) -> String {
    match defects {
        [] => "no defects".into(),
        [one] => format!("1 defect: {one}"),
        [first, ..] => format!("{} defects, the first: {first}", defects.len()),
    }
}

impl From<LayerError> for PlannerError {
    fn from(e: LayerError) -> Self {
        PlannerError::LayerRejected(Box::new(e))
    }
}

pub type Result<T, E = PlannerError> = std::result::Result<T, E>;
