//! What the service serves at one moment, made in one place: a published version's dataset and
//! grids with the lookup index, the map data the tiles are cut from, the OGC API – Features index
//! and an empty tile cache, built together once per version in one blocking task. Handlers only
//! read a snapshot; a new version is a new snapshot (its own tile cache included).

pub mod features;
pub mod tile_cache;

use axum::body::Bytes;
use features::FeatureIndex;
use gis_core::access::Access;
use gis_core::bounds::SizeBounds;
use gis_core::grid::Grid;
use gis_core::lookup::{LookupError, LookupIndex};
use gis_core::model::{Dataset, Staff};
use std::sync::{Arc, OnceLock};
use tile_cache::TileCache;
use tiles::data::MapData;

/// A dataset, its grids, the map cut from them and the indexes over them; `version` is the
/// store's published version, if it came from one.
pub struct Snapshot {
    pub dataset: Arc<Dataset>,
    pub grids: Vec<Grid>,
    pub map: MapData,
    pub lookup: Arc<LookupIndex>,
    pub version: Option<i64>,
    /// The store's staff revision the lookup index's staff were read at.
    pub staff_revision: Option<i64>,
    /// OGC API – Features: items in id order, an R-tree of their envelopes, derived properties.
    pub features: Arc<FeatureIndex>,
    /// The walking network and the resources snapped to it, for nearest-by-walk answers; None
    /// when the dataset has no roads and no walking layer.
    pub walk: Option<Arc<gis_core::walk::ResourceWalks>>,
    /// The store's current version when this was read (the served one unless that is damaged).
    pub current: Option<i64>,
    /// Published versions passed over because they do not read back or validate.
    pub damaged: Vec<store::DamagedVersion>,
    /// Why there is nothing to serve (no published version reads back and validates): lookups,
    /// tiles and features answer 503 with it; planner routes still work.
    pub unavailable: Option<String>,
    /// Tiles rendered from this snapshot.
    pub tiles: TileCache,
    /// The JSON body of each point lookup answer, made once.
    pub point_bodies: PointBodies,
    /// Seconds spent building the indexes (lookup, map data, features).
    pub index_seconds: f64,
    /// Seconds from asking the store for the version to a snapshot ready to serve (reading,
    /// checking and indexing), when it came from a store.
    pub load_seconds: Option<f64>,
    /// Life-circle coverage, computed at the first request that needs it ([`Snapshot::access`]).
    access: OnceLock<Arc<Access>>,
}

impl Snapshot {
    /// A version published in the store, indexed: the lookup index (failing when its grids do
    /// not index), the map data, the feature index and an empty tile cache. CPU work: run it off
    /// the async threads, as [`Snapshot::load`] does.
    pub fn build(p: &store::Published) -> Result<Self, LookupError> {
        let indexed = Self::index(
            p.dataset.clone(),
            p.layer.grids.clone(),
            &p.staff,
            p.layer.meta.bounds.unwrap_or_default(),
        )?;
        Ok(Self {
            version: Some(p.version.number),
            tiles: TileCache::for_version(tile_cache::CAPACITY, p.version.number),
            staff_revision: Some(p.staff_revision),
            current: Some(p.current),
            damaged: p.damaged.clone(),
            ..indexed
        })
    }

    /// A dataset and grids not from a store (the dataset's own staff).
    pub fn new(dataset: Dataset, grids: Vec<Grid>, bounds: SizeBounds) -> Self {
        let dataset = Arc::new(dataset);
        Self::index(dataset.clone(), grids, &dataset.staff, bounds).expect("a partition's grids index")
    }

    /// As [`Snapshot::build`], for a version known to index (one [`Snapshot::load`] served).
    pub fn published(p: &store::Published) -> Self {
        Self::build(p).expect("a published version's grids index")
    }

    /// Nothing to serve: every published version is damaged (`damaged`), or the first publish
    /// was refused. `why` says so to every lookup, tile and feature request.
    pub fn unavailable(why: String, current: Option<i64>, damaged: Vec<store::DamagedVersion>) -> Self {
        let empty = Self::index(Arc::new(Dataset::default()), Vec::new(), &[], SizeBounds::default())
            .expect("an empty layer indexes");
        Self {
            current,
            damaged,
            unavailable: Some(why),
            ..empty
        }
    }

    fn index(
        dataset: Arc<Dataset>,
        grids: Vec<Grid>,
        staff: &[Staff],
        bounds: SizeBounds,
    ) -> Result<Self, LookupError> {
        let started = std::time::Instant::now();
        // The map data and the lookup index are independent: built side by side.
        let (lookup, map, walk) = std::thread::scope(|s| {
            let map = s.spawn(|| MapData::new(&dataset, &grids, bounds));
            let walk = s.spawn(|| gis_core::walk::ResourceWalks::new(&dataset));
            let lookup = LookupIndex::new(&dataset, grids.clone(), staff);
            (
                lookup,
                map.join().expect("building the map data panicked"),
                walk.join().expect("building the walking network panicked"),
            )
        });
        let lookup = lookup?;
        let features = FeatureIndex::new(&dataset, &grids, &lookup);
        let point_bodies = PointBodies::new(lookup.grid_index().grids().len());
        let index_seconds = started.elapsed().as_secs_f64();
        Ok(Self {
            dataset,
            grids,
            map,
            lookup: Arc::new(lookup),
            version: None,
            staff_revision: None,
            features: Arc::new(features),
            walk: walk.map(Arc::new),
            current: None,
            damaged: Vec::new(),
            unavailable: None,
            tiles: TileCache::new(tile_cache::CAPACITY),
            point_bodies,
            index_seconds,
            load_seconds: None,
            access: OnceLock::new(),
        })
    }

    /// What the store has to serve now: the newest version that reads back, validates and
    /// indexes (a version whose grids do not index is passed over as a damaged one), or an
    /// unavailable snapshot saying why none does; `None` when nothing is published at all.
    pub async fn load(store: &store::Store) -> Result<Option<Self>, store::StoreError> {
        let started = std::time::Instant::now();
        let loaded = Self::load_from(store).await?;
        Ok(loaded.map(|s| Self {
            load_seconds: Some(started.elapsed().as_secs_f64()),
            ..s
        }))
    }

    async fn load_from(store: &store::Store) -> Result<Option<Self>, store::StoreError> {
        let build = |p: store::Published| async move {
            let built = tokio::task::spawn_blocking(move || Self::build(&p))
                .await
                .map_err(|e| store::StoreError::Task(e.to_string()))?;
            Ok(built.map_err(|e| {
                vec![store::LayerProblem {
                    grid: None,
                    kind: store::LayerProblemKind::Index,
                    reason: format!("the layer cannot be indexed for lookups: {e}"),
                }]
            }))
        };
        match store.published_as(None, build).await {
            Ok(found) => Ok(found),
            Err(store::StoreError::NothingServable { damaged }) => {
                let current = damaged.first().map(|d| d.number);
                let why = damage_warning(&damaged, None);
                Ok(Some(Self::unavailable(why, current, damaged)))
            }
            Err(e) => Err(e),
        }
    }

    /// The life circles of this version: every home's walk to each kind its settings place, and
    /// the coverage per grid and community. Computed once, by the first caller (seconds on a
    /// city: call it off the async threads); later callers wait for it or share it.
    pub fn access(&self) -> Arc<Access> {
        self.access
            .get_or_init(|| {
                let started = std::time::Instant::now();
                // The network the nearest-by-walk answers use, built once with the snapshot.
                let none = gis_core::walk::WalkNetwork::build(&[], &Default::default());
                let network = self.walk.as_ref().map_or(&none, |w| w.network());
                let access = Access::compute(&self.dataset, network, &self.grids, &self.dataset.access);
                tracing::info!(
                    "life circles of {} buildings to {} kinds computed in {:.2} s",
                    self.dataset.buildings.len(),
                    access.walks.kinds.len(),
                    started.elapsed().as_secs_f64()
                );
                Arc::new(access)
            })
            .clone()
    }

    /// What a person should know about damaged versions, and how to recover; `None` when all is well.
    pub fn warning(&self) -> Option<String> {
        if let Some(why) = &self.unavailable {
            return Some(why.clone());
        }
        if self.damaged.is_empty() {
            return None;
        }
        Some(damage_warning(&self.damaged, self.version))
    }
}

/// The body of every point lookup answer, serialised the first time it is asked for and then
/// written as bytes: a point's answer is one of a few thousand (grid, micro-grid) pairs, and
/// building and serialising it was a fifth of a lookup request's time.
pub struct PointBodies {
    /// By the index of the micro-grid, or of the grid when there is none (a micro-grid has one
    /// parent, so the index alone says the pair).
    slots: Vec<OnceLock<Bytes>>,
}

impl PointBodies {
    fn new(grids: usize) -> Self {
        Self {
            slots: (0..grids).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The body of the answer for grid `g` and micro-grid `m` (indexes from
    /// [`LookupIndex::locate_ids`]): exactly what serialising [`LookupIndex::answer_of`] gives.
    pub fn get(&self, lookup: &LookupIndex, g: u32, m: Option<u32>) -> Bytes {
        self.slots[m.unwrap_or(g) as usize]
            .get_or_init(|| Bytes::from(serde_json::to_vec(&lookup.answer_of(g, m)).expect("answers serialise")))
            .clone()
    }
}

/// Which versions are damaged, what is served instead, and how to recover.
pub fn damage_warning(damaged: &[store::DamagedVersion], served: Option<i64>) -> String {
    let mut out = String::new();
    for d in damaged {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    match served {
        Some(v) => out.push_str(&format!(
            "Serving version {v}, the newest one that reads back and validates. To recover, make it current again with `wangge rollback {v}` \
             (or POST /v1/versions/{v}/rollback), or re-partition the dataset and publish the draft."
        )),
        None => out.push_str(
            "No published version can be served: lookups, tiles and features answer 503 until one is. To recover, re-partition the dataset \
             and publish the draft (`wangge load DATASET`, or POST /v1/datasets/{id}/partition then POST /v1/drafts/{id}/publish).",
        ),
    }
    out
}
