//! Partitioning and re-partitioning a stored dataset into a draft, and the partition's layer as
//! the command line writes it.

use crate::{Result, blocking};
use gis_core::Dataset;
use gis_core::access::{AccessSection, HomeWalks};
use gis_core::bounds::SizeBounds;
use gis_core::io::grids::{GridLayer, LayerMeta};
use gis_core::partition::{
    PartitionOptions, PartitionReport, RepartitionOptions, RepartitionReport, partition, repartition,
};
use std::sync::Arc;
use store::{StaffMove, Store};

/// A partition's grids as a layer that records the code scheme and bounds they were drawn with,
/// and its report.
#[derive(Debug, Clone)]
pub struct Partitioned {
    pub layer: GridLayer,
    pub report: PartitionReport,
}

/// Partitions every community of `dataset`; `progress` is told how many communities are done.
pub fn partition_layer(
    dataset: &Dataset,
    options: &PartitionOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Partitioned {
    // The walks need no grids: they are computed on another thread while the grids are drawn,
    // filling the cores the partition's last communities leave idle.
    let (mut result, walks) = std::thread::scope(|scope| {
        let walks = scope.spawn(|| HomeWalks::of_dataset(dataset));
        let result = partition(dataset, options, progress);
        (result, walks.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    result.report.access = Some(walks.section(dataset, &result.grids));
    Partitioned {
        layer: GridLayer {
            grids: result.grids,
            meta: LayerMeta {
                code_scheme: options.scheme.clone(),
                bounds: Some(options.bounds),
                ..LayerMeta::default()
            },
        },
        report: result.report,
    }
}

/// The life-circle coverage of `grids` for a report: walks on the dataset's network to the kinds
/// its settings (`access.json`, else the standards' defaults) place.
pub fn access_section(dataset: &Dataset, grids: &[gis_core::grid::Grid]) -> AccessSection {
    HomeWalks::of_dataset(dataset).section(dataset, grids)
}

/// Partitions stored dataset `dataset_id` from scratch into a draft.
pub async fn partition_draft(
    store: &Store,
    dataset_id: i64,
    options: PartitionOptions,
) -> Result<(i64, PartitionReport)> {
    let dataset = store.dataset(dataset_id).await?;
    partition_into_draft(store, dataset_id, dataset, options, &|_| {}).await
}

/// Partitions `dataset` (stored as `dataset_id`) and saves the draft.
pub(crate) async fn partition_into_draft(
    store: &Store,
    dataset_id: i64,
    dataset: Arc<Dataset>,
    options: PartitionOptions,
    progress: &(dyn Fn(crate::LoadStep) + Send + Sync),
) -> Result<(i64, PartitionReport)> {
    let drawn = draw(store, dataset.clone(), options, progress).await?;
    save_drawn(store, dataset_id, dataset, drawn, progress).await
}

/// Partitions `dataset` from scratch, on a blocking thread, telling `progress` the communities
/// done. Drawn over a published version, the grids take its codes by the stability rule, so that
/// a code keeps meaning the same residents (and its workers stay with them).
pub(crate) async fn draw(
    store: &Store,
    dataset: Arc<Dataset>,
    options: PartitionOptions,
    progress: &(dyn Fn(crate::LoadStep) + Send + Sync),
) -> Result<Partitioned> {
    // A current version that does not read back (damaged) has no codes to give.
    let current = match store.current().await? {
        Some(v) => store.version_layer(v.number).await.ok(),
        None => None,
    };
    // Communities done, counted on the partition's thread and reported from here.
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let total = dataset.communities.len();
    progress(crate::LoadStep::Partitioning { done: 0, total });
    let counter = done.clone();
    let mut drawing = std::pin::pin!(blocking(move || {
        let mut drawn = partition_layer(&dataset, &options, &mut |n, _| {
            counter.store(n, std::sync::atomic::Ordering::Relaxed)
        });
        if let Some(old) = &current {
            gis_core::codes::carry::carry_over(&dataset, old, &mut drawn.layer);
        }
        drawn
    }));
    let mut shown = 0;
    let drawn = loop {
        tokio::select! {
            drawn = &mut drawing => break drawn?,
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                let now = done.load(std::sync::atomic::Ordering::Relaxed);
                if now != shown {
                    shown = now;
                    progress(crate::LoadStep::Partitioning { done: now, total });
                }
            }
        }
    };
    progress(crate::LoadStep::Partitioning { done: total, total });
    Ok(drawn)
}

/// Saves what [`draw`] drew from `dataset` (stored as `dataset_id`) as a draft.
pub(crate) async fn save_drawn(
    store: &Store,
    dataset_id: i64,
    dataset: Arc<Dataset>,
    drawn: Partitioned,
    progress: &(dyn Fn(crate::LoadStep) + Send + Sync),
) -> Result<(i64, PartitionReport)> {
    progress(crate::LoadStep::SavingDraft);
    let report = serde_json::to_string(&drawn.report).ok();
    let id = store
        .save_draft_of(dataset_id, dataset, &drawn.layer, "partition", report.as_deref(), &[])
        .await?;
    Ok((id, drawn.report))
}

/// Re-partitions stored dataset `dataset_id` starting from version `from`'s layer into a draft;
/// publishing it moves the staff of retired grids to their successors.
pub async fn repartition_draft(
    store: &Store,
    dataset_id: i64,
    from: i64,
    options: RepartitionOptions,
) -> Result<(i64, RepartitionReport)> {
    let published = store.version_layer(from).await?;
    let dataset = store.dataset(dataset_id).await?;
    draft_from(store, dataset_id, dataset, published, options).await
}

/// As [`repartition_draft`], from version `from` (default: the current one) within the bounds
/// that version was drawn with; `micro` re-draws micro-grids of that size in changed grids
/// (default: as the version has them).
pub async fn repartition_from(
    store: &Store,
    dataset_id: i64,
    from: Option<i64>,
    bounds: Option<SizeBounds>,
    seed: u64,
    micro: Option<SizeBounds>,
) -> Result<(i64, RepartitionReport)> {
    let from = match from {
        Some(n) => n,
        None => crate::current(store).await?.number,
    };
    let published = store.version_layer(from).await?;
    let dataset = store.dataset(dataset_id).await?;
    let options = RepartitionOptions {
        // The planner's bounds when given, else the ones the version was drawn with.
        bounds: bounds.unwrap_or(published.meta.bounds.unwrap_or_default()),
        seed,
        micro,
    };
    draft_from(store, dataset_id, dataset, published, options).await
}

/// Re-partitions `dataset` (stored as `dataset_id`) from `published` and saves the draft.
pub(crate) async fn draft_from(
    store: &Store,
    dataset_id: i64,
    dataset: Arc<Dataset>,
    published: GridLayer,
    options: RepartitionOptions,
) -> Result<(i64, RepartitionReport)> {
    let data = dataset.clone();
    let result = blocking(move || {
        repartition(&data, &published, &options).map(|mut r| {
            r.report.access = Some(access_section(&data, &r.layer.grids));
            r
        })
    })
    .await??;
    let moves: Vec<StaffMove> = result
        .report
        .staff
        .iter()
        .map(|c| StaffMove {
            name: c.name.clone(),
            role: c.role.clone(),
            from: c.from.clone(),
            to: c.to.clone(),
        })
        .collect();
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
