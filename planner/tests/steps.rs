//! The planner's steps on an embedded store, with their typed results and errors. The store's
//! own behaviour (both backends) is tested in the store crate; the routes and commands over
//! these steps in the api crate.

use gis_core::grid::{GridKind, GridLevel};
use gis_core::io::grids::to_geojson;
use gis_core::partition::{MoveError, PartitionOptions};
use planner::PlannerError;
use std::path::{Path, PathBuf};
use store::{Store, StoreError};

fn kangle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle")
}

async fn empty_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("w.db")).await.unwrap();
    (store, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_published_is_a_store_error() {
    let (store, _dir) = empty_store().await;
    assert!(matches!(
        planner::current(&store).await,
        Err(PlannerError::Store(StoreError::NothingPublished))
    ));
    assert!(matches!(
        planner::repartition_from(&store, 1, None, None, 1, None).await,
        Err(PlannerError::Store(StoreError::NothingPublished))
    ));
    assert!(matches!(
        planner::move_buildings(&store, None, vec!["B".into()], "x".into(), false).await,
        Err(PlannerError::Store(StoreError::NothingPublished))
    ));
    assert!(matches!(
        planner::partition_draft(&store, 7, PartitionOptions::default()).await,
        Err(PlannerError::Store(StoreError::NoDataset(7)))
    ));
    assert!(matches!(
        planner::diff_draft(&store, 3).await,
        Err(PlannerError::Store(StoreError::NoDraft(3)))
    ));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_edit_validate_diff_publish_and_roll_back() {
    let (store, _dir) = empty_store().await;
    let first = planner::load(&store, &kangle(), PartitionOptions::default(), "v1")
        .await
        .unwrap();
    assert_eq!(
        (first.origin, first.published.as_ref().map(|v| v.number)),
        ("partition", Some(1))
    );
    let layer = store.version_layer(1).await.unwrap();

    // A draft partitioned afresh with the same options is the published layer again.
    let (draft, report) = planner::partition_draft(&store, first.dataset, PartitionOptions::default())
        .await
        .unwrap();
    assert!(report.is_clean());
    assert_eq!(to_geojson(&store.layer(draft).await.unwrap().0), to_geojson(&layer));
    assert!(planner::diff_draft(&store, draft).await.unwrap().is_empty());
    let checked = planner::validate_draft(&store, draft).await.unwrap();
    assert!(checked.clean, "{:?}", checked.report.defects);

    // A move into a grid of another community, or of a building that is not there: typed.
    let grid = |i: usize| {
        layer
            .grids
            .iter()
            .filter(|g| g.level == GridLevel::Grid && g.kind == GridKind::Basic)
            .nth(i)
            .unwrap()
            .clone()
    };
    let (a, b) = (grid(0), grid(1));
    assert!(matches!(
        planner::move_buildings(&store, None, vec!["NOPE".into()], b.code.clone(), false).await,
        Err(PlannerError::Move(MoveError::UnknownBuilding(_)))
    ));
    assert!(matches!(
        planner::move_buildings(&store, Some(draft), vec![a.buildings[0].clone()], "999".into(), false).await,
        Err(PlannerError::Move(MoveError::UnknownGrid(_)))
    ));
    // Forced, the move is made into a new draft and reported.
    let (moved, report) = planner::move_buildings(&store, None, vec![a.buildings[0].clone()], b.code.clone(), true)
        .await
        .unwrap();
    assert!(report.changed.contains(&b.code), "{report:?}");
    let d = planner::diff_draft(&store, moved).await.unwrap();
    assert!(
        d.moved_buildings
            .iter()
            .any(|m| m.to.as_deref() == Some(b.code.as_str())),
        "{d:?}"
    );

    // An upload that is not a layer is rejected with its problems, and nothing is stored.
    let drafts = store.drafts().await.unwrap().len();
    match planner::validate_upload(
        &store,
        None,
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\"}]}".into(),
    )
    .await
    {
        Err(PlannerError::LayerRejected(e)) => assert!(!e.problems.is_empty()),
        other => panic!("{:?}", other.map(|v| v.clean)),
    }
    assert!(
        planner::validate_upload(&store, Some(first.dataset), to_geojson(&layer))
            .await
            .unwrap()
            .clean
    );
    assert_eq!(store.drafts().await.unwrap().len(), drafts);

    // Publish the edit, diff the versions, roll back.
    let v2 = planner::publish(
        &store,
        moved,
        "moved",
        planner::Accepted {
            unstaffed: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(v2.number, 2);
    let d = planner::diff_versions(&store, 1, 2).await.unwrap();
    assert!(d.changed.iter().any(|c| c.code == b.code), "{d:?}");
    assert!(planner::diff_versions(&store, 2, 2).await.unwrap().is_empty());
    let v3 = planner::rollback(&store, 1, None).await.unwrap();
    assert_eq!((v3.number, v3.rolled_back_from), (3, Some(1)));
    assert!(planner::diff_versions(&store, 1, 3).await.unwrap().is_empty());
    assert!(matches!(
        planner::diff_versions(&store, 1, 9).await,
        Err(PlannerError::Store(StoreError::NoVersion(9)))
    ));

    // Loading again re-partitions from the current version into a draft, unpublished.
    let again = planner::load(&store, &kangle(), PartitionOptions::default(), "ignored")
        .await
        .unwrap();
    assert_eq!((again.origin, again.published.is_none()), ("repartition", true));
    let (redrawn, _) = planner::repartition_from(&store, again.dataset, Some(1), None, 1, None)
        .await
        .unwrap();
    assert!(planner::diff_draft(&store, redrawn).await.unwrap().is_empty());
    store.close().await;
}

/// `load` tells a person waiting what it is doing, in order: storing, partitioning (ending with
/// every community done), saving, publishing; a second load re-partitions instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_reports_its_steps_in_order() {
    use planner::LoadStep;
    use std::sync::Mutex;
    let (store, _dir) = empty_store().await;
    let steps: Mutex<Vec<LoadStep>> = Mutex::new(Vec::new());
    let record = |s: LoadStep| steps.lock().unwrap().push(s);
    planner::load_with_progress(&store, &kangle(), PartitionOptions::default(), "first", &record)
        .await
        .unwrap();
    let seen = std::mem::take(&mut *steps.lock().unwrap());
    assert_eq!(seen.first(), Some(&LoadStep::StoringDataset), "{seen:?}");
    let last_partitioning = seen
        .iter()
        .rposition(|s| matches!(s, LoadStep::Partitioning { .. }))
        .expect("partitioning reported");
    assert!(
        matches!(seen[last_partitioning], LoadStep::Partitioning { done, total } if done == total && total == 1),
        "{seen:?}"
    );
    assert_eq!(
        &seen[last_partitioning + 1..],
        &[LoadStep::SavingDraft, LoadStep::Publishing],
        "{seen:?}"
    );

    planner::load_with_progress(&store, &kangle(), PartitionOptions::default(), "second", &record)
        .await
        .unwrap();
    let seen = steps.lock().unwrap().clone();
    assert_eq!(seen, [LoadStep::StoringDataset, LoadStep::Repartitioning], "{seen:?}");
}
