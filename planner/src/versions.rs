//! Publishing a draft and rolling back: the store's atomic writes, which check the layer first.

use crate::{PlannerError, Result};
use gis_core::io::grids::GridLayer;
use store::{Store, StoreError, VersionInfo};

/// The current version; [`StoreError::NothingPublished`] when there is none.
pub async fn current(store: &Store) -> Result<VersionInfo> {
    Ok(store.current().await?.ok_or(StoreError::NothingPublished)?)
}

/// What a planner accepts when publishing: a reason to publish a draft that does not validate
/// clean, and that some grids will have no worker yet.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accepted<'a> {
    /// Why to publish a draft whose validation finds defects (kept in the note).
    pub override_reason: Option<&'a str>,
    /// Publish although some basic grids would have no staff (named in the note).
    pub unstaffed: bool,
    /// Publish although the draft moves many residents to another grid
    /// ([`gis_core::diff::LargeMoves`]; what was confirmed goes into the note).
    pub large_moves: bool,
}

/// Publishes draft `draft` as the next version, once it validates clean (the same validation as
/// `validate` and `/v1/drafts/{id}/validate`) and every basic grid has a worker after the draft's
/// staff moves. A draft with defects is refused ([`PlannerError::NotClean`]) unless `accepted`
/// gives a reason; one that leaves grids without staff ([`PlannerError::Unstaffed`]) unless the
/// planner acknowledges it; one that moves many residents to another grid
/// ([`PlannerError::LargeMoves`]: at least 10% of a community's residents, or more than 30% of
/// one grid's) unless the planner confirms it. Whatever was accepted is kept in the version's note.
pub async fn publish(store: &Store, draft: i64, note: &str, accepted: Accepted<'_>) -> Result<VersionInfo> {
    if store.versions().await?.iter().any(|v| v.layer == draft) {
        // Published already: the store refuses it again (409) before anything else is asked.
        return Ok(store.publish(draft, note).await?);
    }
    // A draft that is missing or does not read back: the store's own check refuses it, and says
    // precisely why (which grid, which problem).
    let Ok((layer, dataset_id)) = store.layer(draft).await else {
        return Ok(store.publish(draft, note).await?);
    };
    let validation = match crate::check::validate_stored(store, draft, &layer, dataset_id).await {
        Ok(v) => v,
        // Its dataset or its text does not read back: the same refusal, by the store's check.
        Err(PlannerError::Store(_) | PlannerError::LayerRejected(_)) => return Ok(store.publish(draft, note).await?),
        Err(e) => return Err(e),
    };
    let mut note = note.to_string();
    if !validation.clean {
        let defects: Vec<String> = validation.report.defects.iter().map(|d| d.message.clone()).collect();
        let Some(reason) = accepted.override_reason.map(str::trim).filter(|r| !r.is_empty()) else {
            return Err(PlannerError::NotClean {
                draft,
                defects,
                found: validation.report.defects.clone(),
            });
        };
        note.push_str(&format!(
            " [published with {} validation defect{} over the check, because: {reason}]",
            defects.len(),
            if defects.len() == 1 { "" } else { "s" }
        ));
    }
    let grids = unstaffed(store, draft, &layer).await?;
    if !grids.is_empty() {
        if !accepted.unstaffed {
            return Err(PlannerError::Unstaffed { draft, grids });
        }
        note.push_str(&format!(" [published with no grid worker yet in {}]", grids.join(", ")));
    }
    if let Some(large) = large_moves(store, layer, dataset_id).await? {
        if !accepted.large_moves {
            return Err(PlannerError::LargeMoves {
                draft,
                moves: Box::new(large),
            });
        }
        note.push_str(&format!(" [large moves confirmed: {}]", large.summary()));
    }
    Ok(store.publish(draft, &note).await?)
}

/// Whether publishing `layer` (of stored dataset `dataset_id`) over the current version moves
/// residents past the thresholds, and then what.
async fn large_moves(store: &Store, layer: GridLayer, dataset_id: i64) -> Result<Option<gis_core::diff::LargeMoves>> {
    let Some(current) = store.current().await? else {
        return Ok(None); // the first version moves nobody
    };
    // A current version that does not read back (damaged) is being replaced: nobody's grid can be
    // compared with it, and refusing would leave the service with nothing sound to serve.
    let Ok(old) = store.version_layer(current.number).await else {
        return Ok(None);
    };
    let dataset = store.dataset(dataset_id).await?;
    crate::blocking(move || gis_core::diff::diff(&old, &layer, Some(&dataset)).large_moves).await
}

/// The basic grids of draft `draft` (read as `layer`) that would have nobody after publishing
/// it: no staff stay on their code and no staff of a retired grid move to them.
async fn unstaffed(store: &Store, draft: i64, layer: &GridLayer) -> Result<Vec<String>> {
    let moves = store.draft_staff_moves(draft).await?;
    let staff = store.staff(None).await?;
    let leaving = |s: &gis_core::Staff| {
        moves
            .iter()
            .any(|m| m.to.is_some() && m.from == s.grid && m.name == s.name && m.role == s.role)
    };
    let mut out: Vec<String> = layer
        .grids
        .iter()
        .filter(|g| g.level == gis_core::grid::GridLevel::Grid && g.kind == gis_core::grid::GridKind::Basic)
        .filter(|g| {
            !staff.iter().any(|s| s.grid == g.code && !leaving(s))
                && !moves.iter().any(|m| m.to.as_deref() == Some(g.code.as_str()))
        })
        .map(|g| g.code.clone())
        .collect();
    out.sort();
    Ok(out)
}

/// Serves version `to` again, published anew under the next number.
pub async fn rollback(store: &Store, to: i64, note: Option<&str>) -> Result<VersionInfo> {
    Ok(store.rollback(to, note).await?)
}
