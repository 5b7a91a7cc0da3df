//! What changed between two layers: a draft against the current version (what publishing it
//! would change), or one version against another. Residents are counted from the newer layer's
//! dataset.

use crate::{Result, blocking};
use gis_core::diff::{LayerDiff, diff};
use gis_core::io::grids::GridLayer;
use store::Store;

/// The diff from the current version (none: an empty layer) to draft `draft`.
pub async fn diff_draft(store: &Store, draft: i64) -> Result<LayerDiff> {
    let (layer, dataset_id) = store.layer(draft).await?;
    let old = match store.current().await? {
        Some(v) => store.version_layer(v.number).await?,
        None => GridLayer::default(),
    };
    let dataset = store.dataset(dataset_id).await?;
    blocking(move || diff(&old, &layer, Some(&dataset))).await
}

/// The diff from version `old` to version `new` (the codes issue's diff).
pub async fn diff_versions(store: &Store, old: i64, new: i64) -> Result<LayerDiff> {
    let (a, b) = (store.version(old).await?, store.version(new).await?);
    let (la, _) = store.layer(a.layer).await?;
    let (lb, _) = store.layer(b.layer).await?;
    let dataset = store.dataset(b.dataset).await?;
    blocking(move || diff(&la, &lb, Some(&dataset))).await
}
