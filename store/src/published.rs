//! Which published version to serve: the current one if it reads back and validates, else the
//! newest older one that does, with the ones passed over named (a store written by an older
//! build still serves). The store returns the version's data; the server indexes it.

use crate::check::LayerProblem;
use crate::error::DamagedVersion;
use crate::{Result, Store, StoreError, VersionInfo};
use gis_core::io::grids::GridLayer;
use gis_core::{Dataset, Staff};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

/// A published version as stored and checked: its layer, its dataset and every grid's staff.
#[derive(Debug, Clone)]
pub struct Published {
    pub version: VersionInfo,
    pub layer: Arc<GridLayer>,
    pub dataset: Arc<Dataset>,
    /// Every grid's staff, by grid code then as listed.
    pub staff: Arc<Vec<Staff>>,
    /// The staff revision `staff` was read at (see [`crate::Current`]).
    pub staff_revision: i64,
    /// The store's current version: `version` itself unless that one is damaged.
    pub current: i64,
    /// Versions newer than `version`, the current one first, passed over because they do not
    /// read back or validate (written by an older build, or damaged in the database).
    pub damaged: Vec<DamagedVersion>,
}

impl Store {
    /// The published version `number`, or the one to serve when `None`; `None` when nothing is
    /// published. Every layer is checked as a publish checks it. The one to serve is the current
    /// version if it reads back and validates, else the newest older one that does, with the
    /// versions passed over in [`Published::damaged`]. [`StoreError::NothingServable`] when no
    /// version does; [`StoreError::DamagedVersion`] when the version asked for does not.
    pub async fn published(&self, number: Option<i64>) -> Result<Option<Published>> {
        self.published_as(number, |p| async move { Ok(Ok(p)) }).await
    }

    /// As [`Store::published`], for a server that makes something of the version it serves (a
    /// lookup index): `make` is given each version that reads back and validates, newest first,
    /// and may refuse it with the problems it found; a refused version is passed over and named
    /// among the damaged ones exactly as one the store's own checks refuse.
    pub async fn published_as<T, F, Fut>(&self, number: Option<i64>, mut make: F) -> Result<Option<T>>
    where
        F: FnMut(Published) -> Fut,
        Fut: Future<Output = Result<Result<T, Vec<LayerProblem>>>>,
    {
        let current = self.current_number().await?;
        let Some(current_number) = current.version else {
            return match number {
                Some(n) => Err(StoreError::NoVersion(n)),
                None => Ok(None),
            };
        };
        let staff = Arc::new(self.staff(None).await?);
        let candidates = match number {
            Some(n) => vec![self.version(n).await?],
            None => {
                let mut all = self.versions().await?;
                all.retain(|v| v.number <= current_number);
                all.reverse();
                all
            }
        };
        let mut damaged: Vec<DamagedVersion> = Vec::new();
        // Rollbacks share their layer with the version they re-publish: check each layer once.
        let mut seen: BTreeMap<i64, Vec<LayerProblem>> = BTreeMap::new();
        for version in candidates {
            let problems = match seen.get(&version.layer) {
                Some(p) => p.clone(),
                None => {
                    let checked = self.load_checked(version.layer).await?;
                    match (checked.dataset, checked.problems.is_empty()) {
                        (Some(dataset), true) => {
                            let published = Published {
                                version: version.clone(),
                                layer: Arc::new(checked.layer),
                                dataset,
                                staff: staff.clone(),
                                staff_revision: current.staff_revision,
                                current: current_number,
                                damaged: damaged.clone(),
                            };
                            match make(published).await? {
                                Ok(made) => return Ok(Some(made)),
                                Err(problems) => problems,
                            }
                        }
                        _ => checked.problems,
                    }
                }
            };
            seen.insert(version.layer, problems.clone());
            damaged.push(DamagedVersion {
                number: version.number,
                problems,
            });
        }
        match number {
            Some(_) => Err(StoreError::DamagedVersion(damaged.remove(0))),
            None => Err(StoreError::NothingServable { damaged }),
        }
    }
}
