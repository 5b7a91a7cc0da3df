//! A planner's manual edit: buildings moved to another grid, into a new draft. Codes never
//! change in an edit.

use crate::{Result, blocking};
use gis_core::partition::RepartitionReport;
use store::Store;

/// Moves `buildings` to grid `to` in draft `draft` (default: the current version) and saves the
/// result as a new draft; returns its id and the report. Refused ([`gis_core::partition::MoveError`])
/// when a grid would be in parts or outside the bounds the layer was drawn with, unless `force`.
pub async fn move_buildings(
    store: &Store,
    draft: Option<i64>,
    buildings: Vec<String>,
    to: String,
    force: bool,
) -> Result<(i64, RepartitionReport)> {
    let (layer, dataset_id) = match draft {
        Some(d) => store.layer(d).await?,
        None => {
            let v = crate::current(store).await?;
            (store.version_layer(v.number).await?, v.dataset)
        }
    };
    let dataset = store.dataset(dataset_id).await?;
    let bounds = layer.meta.bounds.unwrap_or_default();
    let data = dataset.clone();
    let result =
        blocking(move || gis_core::partition::move_buildings(&data, &layer, &buildings, &to, bounds, force)).await??;
    let report = serde_json::to_value(&result.report).unwrap_or_default();
    let id = store
        .save_draft_of(
            dataset_id,
            dataset,
            &result.layer,
            "move",
            Some(&report.to_string()),
            &[],
        )
        .await?;
    Ok((id, result.report))
}
