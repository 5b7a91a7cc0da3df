//! "Load": store a dataset, then draft its grids — partitioned and published at once when
//! nothing is published yet, else re-partitioned from the current version into a draft for a
//! planner to check and publish.

use crate::Result;
use crate::draft::{draft_from, draw, save_drawn};
use gis_core::partition::{PartitionOptions, RepartitionOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use store::{Imported, Store, VersionInfo};

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

/// Stores the dataset folder `dir`, then: with nothing published, partitions it and publishes
/// version 1 (`note`); otherwise re-partitions it from the current version into a draft.
pub async fn load(store: &Store, dir: &Path, options: PartitionOptions, note: &str) -> Result<LoadOutcome> {
    load_with_progress(store, dir, options, note, &|_| {}).await
}

/// What [`load_with_progress`] is doing, for a person waiting on a big dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStep {
    /// Reading and checking the dataset's files (they are stored while the grids are drawn).
    StoringDataset,
    /// Partitioning from scratch: communities done out of all.
    Partitioning { done: usize, total: usize },
    /// Re-partitioning from the current version.
    Repartitioning,
    /// Storing the drawn grids as a draft (read back and checked).
    SavingDraft,
    /// Checking the draft and publishing it.
    Publishing,
}

/// As [`load`], telling `progress` each step as it starts (and each community partitioned).
pub async fn load_with_progress(
    store: &Store,
    dir: &Path,
    options: PartitionOptions,
    note: &str,
    progress: &(dyn Fn(LoadStep) + Send + Sync),
) -> Result<LoadOutcome> {
    progress(LoadStep::StoringDataset);
    let imported = store.import_dataset_dir(dir).await?;
    draft_imported(store, imported, options, note, progress).await
}

/// As [`load`], for a dataset given as its files (file name → text), e.g. an upload.
pub async fn load_files(
    store: &Store,
    source: &str,
    files: BTreeMap<String, String>,
    options: PartitionOptions,
    note: &str,
) -> Result<LoadOutcome> {
    let imported = store.import_dataset(source, files).await?;
    draft_imported(store, imported, options, note, &|_| {}).await
}

/// Stores `imported`, then drafts its grids.
async fn draft_imported(
    store: &Store,
    imported: Imported,
    options: PartitionOptions,
    note: &str,
    progress: &(dyn Fn(LoadStep) + Send + Sync),
) -> Result<LoadOutcome> {
    let dataset = imported.dataset().clone();
    match store.current().await? {
        None => {
            // Writing the dataset and partitioning it are independent (the partition needs the
            // dataset's id only to be saved): side by side, the store's writes fill the gaps
            // in the partition's use of the cores. Either failing fails the load, and a
            // partition that fails leaves the dataset stored, as before.
            let (dataset_id, drawn) = tokio::try_join!(
                async { Ok::<_, crate::PlannerError>(store.store_dataset(imported).await?) },
                draw(store, dataset.clone(), options, progress),
            )?;
            let (draft, report) = save_drawn(store, dataset_id, dataset, drawn, progress).await?;
            progress(LoadStep::Publishing);
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
            let published = store.version_layer(current.number).await?;
            let options = RepartitionOptions {
                bounds: published.meta.bounds.unwrap_or(options.bounds),
                seed: options.seed,
                micro: options.micro,
            };
            let dataset_id = store.store_dataset(imported).await?;
            progress(LoadStep::Repartitioning);
            let (draft, report) = draft_from(store, dataset_id, dataset, published, options).await?;
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
