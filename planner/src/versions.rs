//! Publishing a draft and rolling back: the store's atomic writes, which check the layer first.

use crate::{PlannerError, Result};
use store::{Store, StoreError, VersionInfo};

/// The current version; [`StoreError::NothingPublished`] when there is none.
pub async fn current(store: &Store) -> Result<VersionInfo> {
    Ok(store.current().await?.ok_or(StoreError::NothingPublished)?)
}

/// Publishes draft `draft` as the next version, once it validates clean (the same validation as
/// `validate` and `/v1/drafts/{id}/validate`). A draft with defects is refused
/// ([`PlannerError::NotClean`]) unless the planner gives `override_reason`: then it is published
/// and the defects and the reason are kept in the version's note, for everyone to see.
pub async fn publish(store: &Store, draft: i64, note: &str, override_reason: Option<&str>) -> Result<VersionInfo> {
    let validation = match crate::validate_draft(store, draft).await {
        Ok(v) => v,
        // A draft that is missing or does not read back: the store's own check refuses it, and
        // says precisely why (which grid, which problem).
        Err(PlannerError::Store(_) | PlannerError::LayerRejected(_)) => return Ok(store.publish(draft, note).await?),
        Err(e) => return Err(e),
    };
    if validation.clean {
        return Ok(store.publish(draft, note).await?);
    }
    let defects: Vec<String> = validation.report.defects.iter().map(|d| d.message.clone()).collect();
    let Some(reason) = override_reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return Err(PlannerError::NotClean { draft, defects });
    };
    let note = format!(
        "{note} [published with {} validation defect{} over the check, because: {reason}]",
        defects.len(),
        if defects.len() == 1 { "" } else { "s" }
    );
    Ok(store.publish(draft, &note).await?)
}

/// Serves version `to` again, published anew under the next number.
pub async fn rollback(store: &Store, to: i64, note: Option<&str>) -> Result<VersionInfo> {
    Ok(store.rollback(to, note).await?)
}
