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
    /// A step's blocking task failed (panicked): a bug, not the input.
    #[error("background task failed: {0}")]
    Task(String),
    /// A step's output could not be encoded: a bug, not the input.
    #[error("{0}")]
    Internal(String),
}

impl From<LayerError> for PlannerError {
    fn from(e: LayerError) -> Self {
        PlannerError::LayerRejected(Box::new(e))
    }
}

pub type Result<T, E = PlannerError> = std::result::Result<T, E>;
