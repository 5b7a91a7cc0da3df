//! A planner's steps on a store, shared by the command line and the HTTP service: partition or
//! re-partition into a draft, and "load" (store a dataset, then draft its grids — published at
//! once when nothing is published yet).

use crate::{Result, StaffMove, Store, StoreError, VersionInfo};
use gis_core::Dataset;
use gis_core::io::grids::{GridLayer, LayerMeta};
use gis_core::partition::{
    PartitionOptions, PartitionReport, RepartitionOptions, RepartitionReport, partition, repartition,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// What [`load`] did.
#[derive(Debug, Clone, Serialize)]
pub struct LoadOutcome {
    pub dataset: i64,
    pub draft: i64,
    /// "partition" (nothing was published: drawn from scratch) or "repartition" (from the
    /// current version, keeping codes).
    pub origin: &'static str,
    /// Set when the draft was published at once (nothing was published before).
    pub published: Option<VersionInfo>,
    /// The planner's report, JSON.
    pub report: serde_json::Value,
}

/// Partitions a stored dataset from scratch into a draft.
pub async fn partition_draft(
    store: &Store,
    dataset_id: i64,
    dataset: Arc<Dataset>,
    options: PartitionOptions,
) -> Result<(i64, PartitionReport)> {
    let opts = options.clone();
    let data = dataset.clone();
    let result = tokio::task::spawn_blocking(move || partition(&data, &opts, &mut |_, _| {}))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
    let layer = GridLayer {
        grids: result.grids,
        meta: LayerMeta {
            code_scheme: options.scheme,
            bounds: Some(options.bounds),
            ..LayerMeta::default()
        },
    };
    let report = serde_json::to_string(&result.report).ok();
    let id = store
        .save_draft_of(dataset_id, dataset, &layer, "partition", report.as_deref(), &[])
        .await?;
    Ok((id, result.report))
}

/// Re-partitions a stored dataset starting from version `from`'s layer into a draft; publishing
/// it moves the staff of retired grids to their successors.
pub async fn repartition_draft(
    store: &Store,
    dataset_id: i64,
    dataset: Arc<Dataset>,
    from: i64,
    options: RepartitionOptions,
) -> Result<(i64, RepartitionReport)> {
    let published = store.version_layer(from).await?;
    let data = dataset.clone();
    let result = tokio::task::spawn_blocking(move || repartition(&data, &published, &options))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
    let moves: Vec<StaffMove> = result.report.staff.iter().map(StaffMove::from).collect();
    let report = serde_json::to_string(&result.report).ok();
    let id = store
        .save_draft_of(
            dataset_id,
            dataset,
            &result.layer,
            "repartition",
            report.as_deref(),
            &moves,
        )
        .await?;
    Ok((id, result.report))
}

/// Stores the dataset folder `dir`, then: with nothing published, partitions it and publishes
/// version 1 (`note`); otherwise re-partitions it from the current version into a draft for a
/// planner to check and publish.
pub async fn load(store: &Store, dir: &Path, options: PartitionOptions, note: &str) -> Result<LoadOutcome> {
    let (dataset_id, dataset) = store.load_dataset_dir(dir).await?;
    draft_loaded(store, dataset_id, dataset, options, note).await
}

/// As [`load`], for a dataset given as its files (file name → text), e.g. an upload.
pub async fn load_files(
    store: &Store,
    source: &str,
    files: BTreeMap<String, String>,
    options: PartitionOptions,
    note: &str,
) -> Result<LoadOutcome> {
    let (dataset_id, dataset) = store.load_dataset(source, files).await?;
    draft_loaded(store, dataset_id, dataset, options, note).await
}

async fn draft_loaded(
    store: &Store,
    dataset_id: i64,
    dataset: Dataset,
    options: PartitionOptions,
    note: &str,
) -> Result<LoadOutcome> {
    let dataset = Arc::new(dataset);
    match store.current().await? {
        None => {
            let (draft, report) = partition_draft(store, dataset_id, dataset, options).await?;
            let published = store.publish(draft, note).await?;
            Ok(LoadOutcome {
                dataset: dataset_id,
                draft,
                origin: "partition",
                published: Some(published),
                report: serde_json::to_value(&report).unwrap_or_default(),
            })
        }
        Some(current) => {
            let bounds = store
                .version_layer(current.number)
                .await?
                .meta
                .bounds
                .unwrap_or(options.bounds);
            let options = RepartitionOptions {
                bounds,
                seed: options.seed,
                micro: options.micro,
            };
            let (draft, report) = repartition_draft(store, dataset_id, dataset, current.number, options).await?;
            Ok(LoadOutcome {
                dataset: dataset_id,
                draft,
                origin: "repartition",
                published: None,
                report: serde_json::to_value(&report).unwrap_or_default(),
            })
        }
    }
}
