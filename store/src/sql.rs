//! The store's operations. Each is written once and run on either pool: the `tx!` macro
//! expands the same body for PostgreSQL and SQLite (sqlx's types differ, the SQL mostly does
//! not; where it does, `pg` picks the text).

use crate::bulk::Bulk;
use crate::check::{self, LayerProblem, LayerProblemKind};
use crate::rows::{GridRow, assemble_layer, check_layer, files_from_text, files_text, meta_text};
use crate::time::{now_ms, rfc3339};
use crate::{DatasetInfo, DraftInfo, Imported, Pool, Result, StaffMove, Store, StoreError, VersionInfo, check_staff};
use geo::Coord;
use gis_core::Dataset;
use gis_core::Staff;
use gis_core::io::grids::GridLayer;
use gis_core::lookup::PreparedArea;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Runs `$body` in a transaction on whichever pool the store has; commits when the body
/// finishes, rolls back when it returns early with an error; on a hot standby, refuses. SQLite takes the write lock up
/// front (BEGIN IMMEDIATE) so two writers never deadlock upgrading a read lock.
macro_rules! tx {
    ($store:expr, |$tx:ident, $pg:ident| $body:block) => {{
        // A hot standby refuses every write anyway; saying so up front names why.
        if $store.standby {
            return Err(crate::StoreError::ReadOnlyReplica);
        }
        match &$store.pool {
            Pool::Pg(pool) => {
                #[allow(unused_variables)]
                let $pg = true;
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            Pool::Sqlite(pool) => {
                #[allow(unused_variables)]
                let $pg = false;
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    }};
}

/// As `tx!`, for reads: one snapshot (SQLite's deferred transaction; on PostgreSQL rows once
/// written are never changed, so READ COMMITTED reads one version consistently).
macro_rules! read {
    ($store:expr, |$tx:ident, $pg:ident| $body:block) => {
        match &$store.pool {
            Pool::Pg(pool) => {
                #[allow(unused_variables)]
                let $pg = true;
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.rollback().await?;
                out
            }
            Pool::Sqlite(pool) => {
                #[allow(unused_variables)]
                let $pg = false;
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.rollback().await?;
                out
            }
        }
    };
}

const VERSION_COLUMNS: &str = "v.number, v.published_at, v.note, v.layer_id, l.dataset_id, v.rolled_back_from, \
     (SELECT COUNT(*) FROM grids g WHERE g.layer_id = v.layer_id AND g.level = 'grid') AS grids, \
     COALESCE(c.number = v.number, FALSE) AS current \
     FROM versions v JOIN layers l ON l.id = v.layer_id CROSS JOIN current_version c";

fn version_info<R: Row>(row: &R) -> Result<VersionInfo>
where
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let ms: i64 = row.try_get("published_at")?;
    Ok(VersionInfo {
        number: row.try_get("number")?,
        published_at_ms: ms,
        published_at: rfc3339(ms),
        note: row.try_get("note")?,
        layer: row.try_get("layer_id")?,
        dataset: row.try_get("dataset_id")?,
        rolled_back_from: row.try_get("rolled_back_from")?,
        grids: row.try_get("grids")?,
        current: row.try_get("current")?,
    })
}

/// A stored layer as read back, with everything that keeps it from being made current.
pub(crate) struct Checked {
    pub layer: GridLayer,
    pub dataset: Option<Arc<Dataset>>,
    pub problems: Vec<LayerProblem>,
}

impl Store {
    // ---- datasets ------------------------------------------------------------------------

    /// Reads a dataset folder's files and loads them ([`Store::load_dataset`]).
    pub async fn load_dataset_dir(&self, dir: &Path) -> Result<(i64, Arc<Dataset>)> {
        let imported = self.import_dataset_dir(dir).await?;
        let dataset = imported.dataset.clone();
        Ok((self.store_dataset(imported).await?, dataset))
    }

    /// Reads and checks the dataset folder `dir` strictly, storing nothing yet (see
    /// [`Store::store_dataset`]).
    pub async fn import_dataset_dir(&self, dir: &Path) -> Result<Imported> {
        let mut files = BTreeMap::new();
        if !dir.is_dir() {
            // Let import say what is wrong, in its words.
            gis_core::io::load_dataset(dir)?;
        }
        for name in gis_core::io::DATASET_FILES {
            match std::fs::read_to_string(dir.join(name)) {
                Ok(text) => {
                    files.insert((*name).to_string(), text);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(StoreError::Io {
                        path: dir.join(name).display().to_string(),
                        source,
                    });
                }
            }
        }
        self.import_dataset(&dir.display().to_string(), files).await
    }

    /// Imports a dataset (file name → text) strictly and stores it; a rejected dataset stores
    /// nothing. A dataset with a `staff.json` replaces the stored staff list. Returns the new
    /// dataset's id and the dataset (kept parsed, as [`Store::dataset`] keeps it).
    pub async fn load_dataset(&self, source: &str, files: BTreeMap<String, String>) -> Result<(i64, Arc<Dataset>)> {
        let imported = self.import_dataset(source, files).await?;
        let dataset = imported.dataset.clone();
        Ok((self.store_dataset(imported).await?, dataset))
    }

    /// Reads and checks a dataset (file name → text) strictly, storing nothing yet: what is
    /// drawn from it can be drawn while [`Store::store_dataset`] writes it.
    pub async fn import_dataset(&self, source: &str, files: BTreeMap<String, String>) -> Result<Imported> {
        let name = source.to_string();
        let (text, dataset) = tokio::task::spawn_blocking(move || {
            let text = files_text(&files);
            (
                text,
                gis_core::io::load_dataset_files(Path::new(&name), files).map(|l| l.dataset),
            )
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Imported {
            source: source.to_string(),
            text,
            dataset: Arc::new(dataset?),
        })
    }

    /// Stores an imported dataset (its files and every community, building and resource as
    /// geometry) in one transaction; a dataset with a `staff.json` replaces the stored staff
    /// list. Returns the new dataset's id.
    pub async fn store_dataset(&self, imported: Imported) -> Result<i64> {
        let dataset = &*imported.dataset;
        let id = tx!(self, |tx, pg| {
            let id: i64 =
                sqlx::query_scalar("INSERT INTO datasets (created_at, source, files) VALUES ($1, $2, $3) RETURNING id")
                    .bind(now_ms())
                    .bind(&imported.source)
                    .bind(&imported.text)
                    .fetch_one(&mut *tx)
                    .await?;
            Bulk::communities(&mut *tx, id, dataset).await?;
            Bulk::buildings(&mut *tx, id, dataset).await?;
            Bulk::resources(&mut *tx, id, dataset).await?;
            fault_pause("load").await;
            if !dataset.staff.is_empty() {
                sqlx::query("DELETE FROM staff").execute(&mut *tx).await?;
                let mut next: BTreeMap<&str, i64> = BTreeMap::new();
                for s in &dataset.staff {
                    let p = next.entry(s.grid.as_str()).or_insert(0);
                    sqlx::query("INSERT INTO staff (grid, position, name, role, phone) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&s.grid)
                        .bind(*p)
                        .bind(&s.name)
                        .bind(&s.role)
                        .bind(&s.phone)
                        .execute(&mut *tx)
                        .await?;
                    *p += 1;
                }
                sqlx::query("UPDATE current_version SET staff_revision = staff_revision + 1 WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
                if pg {
                    sqlx::query("SELECT pg_notify($1, 'staff')")
                        .bind(self.channel())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            id
        });
        self.datasets.put(id, imported.dataset);
        Ok(id)
    }

    pub async fn datasets(&self) -> Result<Vec<DatasetInfo>> {
        Ok(read!(self, |tx, pg| {
            let rows = sqlx::query(
                "SELECT d.id, d.created_at, d.source, \
                 (SELECT COUNT(*) FROM communities c WHERE c.dataset_id = d.id) AS communities, \
                 (SELECT COUNT(*) FROM buildings b WHERE b.dataset_id = d.id) AS buildings, \
                 (SELECT COUNT(*) FROM resources r WHERE r.dataset_id = d.id) AS resources \
                 FROM datasets d ORDER BY d.id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(DatasetInfo {
                    id: r.try_get("id")?,
                    created_at: rfc3339(r.try_get("created_at")?),
                    source: r.try_get("source")?,
                    communities: r.try_get("communities")?,
                    buildings: r.try_get("buildings")?,
                    resources: r.try_get("resources")?,
                });
            }
            out
        }))
    }

    /// A stored dataset, imported from its files, or as it was imported before: the last few
    /// used are kept parsed.
    pub async fn dataset(&self, id: i64) -> Result<Arc<Dataset>> {
        if let Some(dataset) = self.datasets.get(id) {
            return Ok(dataset);
        }
        let text: Option<String> = read!(self, |tx, pg| {
            sqlx::query_scalar("SELECT files FROM datasets WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
        });
        let files = files_from_text(&text.ok_or(StoreError::NoDataset(id))?)?;
        let loaded = tokio::task::spawn_blocking(move || {
            gis_core::io::load_dataset_files(Path::new(&format!("stored dataset {id}")), files)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let dataset = Arc::new(loaded.dataset);
        self.datasets.put(id, dataset.clone());
        Ok(dataset)
    }

    // ---- layers and drafts ---------------------------------------------------------------

    /// Stores a layer drawn from dataset `dataset` as a draft; `report` is the planner's report
    /// (JSON) and `staff_moves` what publishing it does to the staff of retired grids. The
    /// dataset is read back from the store for the checks; [`Store::save_draft_of`] takes it
    /// from the caller instead.
    pub async fn save_draft(
        &self,
        dataset: i64,
        layer: &GridLayer,
        origin: &str,
        report: Option<&str>,
        staff_moves: &[StaffMove],
    ) -> Result<i64> {
        let data = self.dataset(dataset).await?;
        self.save_draft_of(dataset, data, layer, origin, report, staff_moves)
            .await
    }

    /// As [`Store::save_draft`], with the dataset `dataset_id` already in hand (`data` must be
    /// that dataset). A layer whose grids are not OGC-valid or whose text would not read back
    /// is refused ([`StoreError::Unpublishable`]) and nothing is stored; a layer that reads back
    /// but is not one exact coverage of the dataset (or cuts a building) is stored, marked with
    /// its problems ([`DraftInfo::problems`]) for a planner to look at, and can never be
    /// published.
    pub async fn save_draft_of(
        &self,
        dataset_id: i64,
        data: Arc<Dataset>,
        layer: &GridLayer,
        origin: &str,
        report: Option<&str>,
        staff_moves: &[StaffMove],
    ) -> Result<i64> {
        let dataset = dataset_id;
        let rows = check_layer(layer)?;
        let meta = meta_text(&layer.meta)?;
        let moves = serde_json::to_string(staff_moves).map_err(|e| StoreError::InvalidLayer(e.to_string()))?;
        let owned = layer.clone();
        let (rows, meta, checked) = tokio::task::spawn_blocking(move || {
            // Whether the layer fits the dataset is checked side by side with whether it reads
            // back (each leaves a core idle at times); it counts only if the layer reads back.
            let (unreadable, fit) = rayon::join(
                || {
                    let mut unreadable = check::invalid_geometry(&owned);
                    let named: std::collections::HashSet<String> =
                        unreadable.iter().filter_map(|p| p.grid.clone()).collect();
                    let (read, back) =
                        check::read_back(&meta, rows.iter().map(|r| (r.code.as_str(), r.feature.as_str())));
                    let written: std::collections::HashMap<&str, &gis_core::grid::Grid> =
                        owned.grids.iter().map(|g| (g.code.as_str(), g)).collect();
                    let changed = read.grids.iter().filter_map(|g| {
                        let what = check::differs(g, written.get(g.code.as_str())?)?;
                        Some(check::mismatch(&g.code, what, "grid as written"))
                    });
                    let back: Vec<LayerProblem> = back.into_iter().chain(changed).collect();
                    unreadable.extend(
                        back.into_iter()
                            .filter(|p| !p.grid.as_ref().is_some_and(|g| named.contains(g))),
                    );
                    unreadable
                },
                || check::fit(&data, &owned),
            );
            let checked = if unreadable.is_empty() {
                // With no problem, what a publish would check again unless it reads back exactly this.
                let problems = fit;
                let publishable = problems
                    .is_empty()
                    .then(|| check::digest(dataset, &meta, rows.iter().map(GridRow::columns)));
                Ok((problems, publishable))
            } else {
                Err(unreadable)
            };
            (rows, meta, checked)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        let (problems, publishable) = checked.map_err(|problems| StoreError::Unpublishable {
            subject: "the layer".into(),
            action: "stored",
            problems,
        })?;
        let problems = serde_json::to_string(&problems).map_err(|e| StoreError::InvalidLayer(e.to_string()))?;
        let id = tx!(self, |tx, pg| {
            let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM communities WHERE dataset_id = $1")
                .bind(dataset)
                .fetch_all(&mut *tx)
                .await?;
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM datasets WHERE id = $1")
                .bind(dataset)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                return Err(StoreError::NoDataset(dataset));
            }
            if let Some(r) = rows.iter().find(|r| !codes.contains(&r.community_code)) {
                return Err(StoreError::InvalidLayer(format!(
                    "grid {} names community {}, which dataset {dataset} does not hold",
                    r.code, r.community_code
                )));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO layers (dataset_id, created_at, origin, meta, report, staff_moves, problems) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(dataset)
            .bind(now_ms())
            .bind(origin)
            .bind(&meta)
            .bind(report)
            .bind(&moves)
            .bind(&problems)
            .fetch_one(&mut *tx)
            .await?;
            Bulk::grids(&mut *tx, id, &rows).await?;
            id
        });
        if let Some(digest) = publishable {
            self.publishable
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, digest);
        }
        Ok(id)
    }

    /// A stored layer's metadata (None: no such layer), dataset and grid rows, in order.
    async fn stored_rows(&self, layer: i64) -> Result<(Option<String>, i64, Vec<check::StoredRow>)> {
        Ok(read!(self, |tx, pg| {
            let row = sqlx::query("SELECT meta, dataset_id FROM layers WHERE id = $1")
                .bind(layer)
                .fetch_optional(&mut *tx)
                .await?;
            match row {
                None => (None, 0, Vec::new()),
                Some(row) => {
                    let grids = sqlx::query(
                        "SELECT code, community_code, kind, level, parent_code, population, households, feature FROM grids WHERE layer_id = $1 ORDER BY position",
                    )
                    .bind(layer)
                    .fetch_all(&mut *tx)
                    .await?;
                    let mut rows = Vec::with_capacity(grids.len());
                    for g in &grids {
                        rows.push(check::StoredRow {
                            code: g.try_get("code")?,
                            community_code: g.try_get("community_code")?,
                            kind: g.try_get("kind")?,
                            level: g.try_get("level")?,
                            parent_code: g.try_get("parent_code")?,
                            population: g.try_get("population")?,
                            households: g.try_get("households")?,
                            feature: g.try_get("feature")?,
                        });
                    }
                    (Some(row.try_get("meta")?), row.try_get("dataset_id")?, rows)
                }
            }
        }))
    }

    /// Reads a stored layer back grid by grid and checks it as a publish does (see `check`):
    /// every grid reads back to the same grid, every area is valid, each level is one exact
    /// coverage of the layer's dataset. `NoDraft` when there is no such layer.
    pub(crate) async fn load_checked(&self, layer: i64) -> Result<Checked> {
        let (meta, dataset_id, rows) = self.stored_rows(layer).await?;
        self.check_stored(layer, meta, dataset_id, rows).await
    }

    /// [`Store::load_checked`] of rows already read by [`Store::stored_rows`].
    async fn check_stored(
        &self,
        layer: i64,
        meta: Option<String>,
        dataset_id: i64,
        rows: Vec<check::StoredRow>,
    ) -> Result<Checked> {
        let meta = meta.ok_or(StoreError::NoDraft(layer))?;
        // The layer reads back (parsed, every polygon checked) on another thread while the
        // dataset is parsed here: the two are independent, and each takes seconds on a city.
        let read = tokio::task::spawn_blocking(move || {
            let (layer, back) = check::read_back(&meta, rows.iter().map(|r| (r.code.as_str(), r.feature.as_str())));
            (layer, back, rows)
        });
        let mut problems = Vec::new();
        let dataset = match self.dataset(dataset_id).await {
            Ok(d) => Some(d),
            Err(StoreError::Corrupt(e)) => {
                problems.push(LayerProblem::new(
                    None,
                    LayerProblemKind::Dataset,
                    format!("dataset {dataset_id} does not read back: {e}"),
                ));
                None
            }
            Err(e) => return Err(e),
        };
        let (layer, back, rows) = read.await.map_err(|e| StoreError::Task(e.to_string()))?;
        problems.extend(back);
        let data = dataset.clone();
        let (layer, problems) = tokio::task::spawn_blocking(move || {
            let by_code: std::collections::HashMap<&str, &check::StoredRow> =
                rows.iter().map(|r| (r.code.as_str(), r)).collect();
            problems.extend(layer.grids.iter().filter_map(|g| {
                let what = check::differs_from_row(g, by_code.get(g.code.as_str())?)?;
                Some(check::mismatch(&g.code, what, "row's own columns"))
            }));
            if rows.is_empty() {
                problems.push(LayerProblem::new(
                    None,
                    LayerProblemKind::ReadBack,
                    "the layer has no grids",
                ));
            }
            // Coverage of a layer that lost grids on reading would only repeat the loss.
            if let (true, Some(d)) = (problems.is_empty(), &data) {
                problems.extend(check::fit(d, &layer));
            }
            (layer, problems)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Checked {
            layer,
            dataset,
            problems,
        })
    }

    /// Why stored layer `layer` (a draft, or a version's layer) cannot be made current: empty
    /// when it can. The same check as [`Store::publish`] makes.
    pub async fn layer_problems(&self, layer: i64) -> Result<Vec<LayerProblem>> {
        // A layer this handle stored and found publishable is not checked again when every
        // column reads back byte for byte as it was checked: the check would see the same text
        // over the same (immutable) dataset. Anything else is checked in full.
        let (meta, dataset_id, rows) = self.stored_rows(layer).await?;
        let known = self
            .publishable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&layer)
            .copied();
        let (meta, rows) = match (known, meta) {
            (Some(known), Some(meta)) => {
                let (same, meta, rows) = tokio::task::spawn_blocking(move || {
                    let stored = check::digest(dataset_id, &meta, rows.iter().map(check::StoredRow::columns));
                    (stored == known, meta, rows)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
                if same {
                    return Ok(Vec::new());
                }
                (Some(meta), rows)
            }
            (_, meta) => (meta, rows),
        };
        Ok(self.check_stored(layer, meta, dataset_id, rows).await?.problems)
    }

    /// Layers no version points at, oldest first.
    pub async fn drafts(&self) -> Result<Vec<DraftInfo>> {
        Ok(read!(self, |tx, pg| {
            let rows = sqlx::query(
                "SELECT l.id, l.dataset_id, l.created_at, l.origin, l.problems, \
                 (SELECT COUNT(*) FROM grids g WHERE g.layer_id = l.id AND g.level = 'grid') AS grids \
                 FROM layers l WHERE NOT EXISTS (SELECT 1 FROM versions v WHERE v.layer_id = l.id) ORDER BY l.id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::new();
            for r in &rows {
                out.push(DraftInfo {
                    id: r.try_get("id")?,
                    dataset: r.try_get("dataset_id")?,
                    created_at: rfc3339(r.try_get("created_at")?),
                    origin: r.try_get("origin")?,
                    grids: r.try_get("grids")?,
                    problems: {
                        let text: Option<String> = r.try_get("problems")?;
                        // A mark that does not parse is no mark: publishing checks again anyway.
                        text.and_then(|t| serde_json::from_str(&t).ok())
                    },
                });
            }
            out
        }))
    }

    /// A stored layer (draft or published), exactly as saved, and the dataset it was drawn from.
    pub async fn layer(&self, layer: i64) -> Result<(GridLayer, i64)> {
        let (meta, dataset, features): (Option<String>, i64, Vec<String>) = read!(self, |tx, pg| {
            let row = sqlx::query("SELECT meta, dataset_id FROM layers WHERE id = $1")
                .bind(layer)
                .fetch_optional(&mut *tx)
                .await?;
            match row {
                None => (None, 0, Vec::new()),
                Some(row) => {
                    let features: Vec<String> =
                        sqlx::query_scalar("SELECT feature FROM grids WHERE layer_id = $1 ORDER BY position")
                            .bind(layer)
                            .fetch_all(&mut *tx)
                            .await?;
                    (Some(row.try_get("meta")?), row.try_get("dataset_id")?, features)
                }
            }
        });
        let meta = meta.ok_or(StoreError::NoDraft(layer))?;
        Ok((assemble_layer(&meta, &features)?, dataset))
    }

    /// The report saved with a layer, if any.
    pub async fn layer_report(&self, layer: i64) -> Result<Option<String>> {
        let r: Option<Option<String>> = read!(self, |tx, pg| {
            sqlx::query_scalar("SELECT report FROM layers WHERE id = $1")
                .bind(layer)
                .fetch_optional(&mut *tx)
                .await?
        });
        r.ok_or(StoreError::NoDraft(layer))
    }

    // ---- versions ------------------------------------------------------------------------

    /// Publishes draft `draft` as the next version, atomically: the version row, the current
    /// pointer and the staff moves in one transaction, and a notification on commit.
    pub async fn publish(&self, draft: i64, note: &str) -> Result<VersionInfo> {
        let number = self.publish_layer(draft, note, None).await?;
        self.version(number).await
    }

    /// Re-publishes version `to`'s layer as a new version (history stays append-only).
    pub async fn rollback(&self, to: i64, note: Option<&str>) -> Result<VersionInfo> {
        let layer: Option<i64> = read!(self, |tx, pg| {
            sqlx::query_scalar("SELECT layer_id FROM versions WHERE number = $1")
                .bind(to)
                .fetch_optional(&mut *tx)
                .await?
        });
        let layer = layer.ok_or(StoreError::NoVersion(to))?;
        let note = note.map_or_else(|| format!("rollback to version {to}"), str::to_string);
        let number = self.publish_layer(layer, &note, Some(to)).await?;
        self.version(number).await
    }

    async fn publish_layer(&self, layer: i64, note: &str, rolled_back_from: Option<i64>) -> Result<i64> {
        // Checked before the transaction that makes it current: a layer's rows are never
        // changed once written, so what is checked here is what the transaction publishes.
        let problems = self.layer_problems(layer).await?;
        if !problems.is_empty() {
            let (subject, action) = match rolled_back_from {
                Some(v) => (format!("version {v}"), "rolled back to"),
                None => (format!("draft {layer}"), "published"),
            };
            return Err(StoreError::Unpublishable {
                subject,
                action,
                problems,
            });
        }
        let fail = self.take_injected_failure();
        let channel = self.channel();
        let number = tx!(self, |tx, pg| {
            if pg {
                // Serialises publishers: the pointer row is the lock.
                sqlx::query("SELECT number FROM current_version WHERE id = 1 FOR UPDATE")
                    .execute(&mut *tx)
                    .await?;
            }
            let moves: Option<String> = sqlx::query_scalar("SELECT staff_moves FROM layers WHERE id = $1")
                .bind(layer)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(moves) = moves else {
                return Err(StoreError::NoDraft(layer));
            };
            if rolled_back_from.is_none() {
                let published: Option<i64> =
                    sqlx::query_scalar("SELECT number FROM versions WHERE layer_id = $1 ORDER BY number LIMIT 1")
                        .bind(layer)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(version) = published {
                    return Err(StoreError::AlreadyPublished { layer, version });
                }
            }
            let number: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM versions")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO versions (number, layer_id, published_at, note, rolled_back_from) VALUES ($1, $2, $3, $4, $5)")
                .bind(number)
                .bind(layer)
                .bind(now_ms())
                .bind(note)
                .bind(rolled_back_from)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE current_version SET number = $1 WHERE id = 1")
                .bind(number)
                .execute(&mut *tx)
                .await?;
            let moves: Vec<StaffMove> = if rolled_back_from.is_some() {
                Vec::new()
            } else {
                serde_json::from_str(&moves)
                    .map_err(|e| StoreError::Corrupt(format!("staff moves of layer {layer}: {e}")))?
            };
            let mut staff_changed = false;
            for m in &moves {
                let Some(to) = &m.to else { continue };
                let rows = sqlx::query("SELECT position, name, role, phone FROM staff WHERE grid = $1 AND name = $2 AND role = $3 ORDER BY position")
                    .bind(&m.from)
                    .bind(&m.name)
                    .bind(&m.role)
                    .fetch_all(&mut *tx)
                    .await?;
                for r in &rows {
                    let position: i64 = r.try_get("position")?;
                    let phone: Option<String> = r.try_get("phone")?;
                    let next: i64 =
                        sqlx::query_scalar("SELECT COALESCE(MAX(position), -1) + 1 FROM staff WHERE grid = $1")
                            .bind(to)
                            .fetch_one(&mut *tx)
                            .await?;
                    sqlx::query("DELETE FROM staff WHERE grid = $1 AND position = $2")
                        .bind(&m.from)
                        .bind(position)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO staff (grid, position, name, role, phone) VALUES ($1, $2, $3, $4, $5)")
                        .bind(to)
                        .bind(next)
                        .bind(&m.name)
                        .bind(&m.role)
                        .bind(phone)
                        .execute(&mut *tx)
                        .await?;
                    staff_changed = true;
                }
            }
            if staff_changed {
                sqlx::query("UPDATE current_version SET staff_revision = staff_revision + 1 WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
            }
            if fail {
                return Err(StoreError::Injected("publish"));
            }
            fault_pause("publish").await;
            if pg {
                // Delivered to listeners when (and only if) the transaction commits.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(&channel)
                    .bind(number.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            number
        });
        Ok(number)
    }

    /// Every version, oldest first.
    pub async fn versions(&self) -> Result<Vec<VersionInfo>> {
        Ok(read!(self, |tx, pg| {
            let rows = sqlx::query(&format!("SELECT {VERSION_COLUMNS} ORDER BY v.number"))
                .fetch_all(&mut *tx)
                .await?;
            rows.iter().map(version_info).collect::<Result<Vec<_>>>()?
        }))
    }

    pub async fn version(&self, number: i64) -> Result<VersionInfo> {
        let row = read!(self, |tx, pg| {
            let rows = sqlx::query(&format!("SELECT {VERSION_COLUMNS} WHERE v.number = $1"))
                .bind(number)
                .fetch_all(&mut *tx)
                .await?;
            rows.iter().map(version_info).next().transpose()?
        });
        row.ok_or(StoreError::NoVersion(number))
    }

    /// The version readers are served, if any.
    pub async fn current(&self) -> Result<Option<VersionInfo>> {
        let n = self.current_number().await?.version;
        match n {
            Some(n) => Ok(Some(self.version(n).await?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn current_number(&self) -> Result<crate::Current> {
        let (version, staff_revision): (Option<i64>, i64) = read!(self, |tx, pg| {
            let r = sqlx::query("SELECT number, staff_revision FROM current_version WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            (r.try_get("number")?, r.try_get("staff_revision")?)
        });
        Ok(crate::Current {
            version,
            staff_revision,
        })
    }

    /// A version's grid layer, exactly as it was saved.
    pub async fn version_layer(&self, number: i64) -> Result<GridLayer> {
        Ok(self.layer(self.version(number).await?.layer).await?.0)
    }

    // ---- staff ---------------------------------------------------------------------------

    /// Staff of one grid, or of every grid (by grid code, then as listed).
    /// What publishing draft `layer` does to the staff of its retired grids, as saved with it.
    pub async fn draft_staff_moves(&self, layer: i64) -> Result<Vec<StaffMove>> {
        let moves: Option<String> = read!(self, |tx, _pg| {
            sqlx::query_scalar("SELECT staff_moves FROM layers WHERE id = $1")
                .bind(layer)
                .fetch_optional(&mut *tx)
                .await?
        });
        let moves = moves.ok_or(StoreError::NoDraft(layer))?;
        serde_json::from_str(&moves).map_err(|e| StoreError::Corrupt(format!("staff moves of layer {layer}: {e}")))
    }

    pub async fn staff(&self, grid: Option<&str>) -> Result<Vec<Staff>> {
        Ok(read!(self, |tx, pg| {
            let rows = match grid {
                Some(g) => {
                    sqlx::query("SELECT grid, name, role, phone FROM staff WHERE grid = $1 ORDER BY position")
                        .bind(g)
                        .fetch_all(&mut *tx)
                        .await?
                }
                None => {
                    sqlx::query("SELECT grid, name, role, phone FROM staff ORDER BY grid, position")
                        .fetch_all(&mut *tx)
                        .await?
                }
            };
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(Staff {
                    grid: r.try_get("grid")?,
                    name: r.try_get("name")?,
                    role: r.try_get("role")?,
                    phone: r.try_get("phone")?,
                });
            }
            out
        }))
    }

    /// Replaces the staff of grid `grid`, which must be in the current version; each entry's
    /// `grid` field is ignored. An empty list removes everyone.
    pub async fn set_staff(&self, grid: &str, staff: &[Staff]) -> Result<()> {
        check_staff(staff)?;
        let channel = self.channel();
        tx!(self, |tx, pg| {
            let current: Option<i64> = sqlx::query_scalar("SELECT number FROM current_version WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let Some(current) = current else {
                return Err(StoreError::NothingPublished);
            };
            let found: Option<String> = sqlx::query_scalar(
                "SELECT g.code FROM grids g JOIN versions v ON v.layer_id = g.layer_id WHERE v.number = $1 AND g.code = $2",
            )
            .bind(current)
            .bind(grid)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(StoreError::UnknownGrid(grid.into()));
            }
            sqlx::query("DELETE FROM staff WHERE grid = $1")
                .bind(grid)
                .execute(&mut *tx)
                .await?;
            for (i, s) in staff.iter().enumerate() {
                sqlx::query("INSERT INTO staff (grid, position, name, role, phone) VALUES ($1, $2, $3, $4, $5)")
                    .bind(grid)
                    .bind(i as i64)
                    .bind(s.name.trim())
                    .bind(s.role.trim())
                    .bind(s.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE current_version SET staff_revision = staff_revision + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            if pg {
                sqlx::query("SELECT pg_notify($1, 'staff')")
                    .bind(&channel)
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    // ---- spatial queries in the database -------------------------------------------------

    /// The grid covering a WGS-84 point in version `number`, decided by the database: PostGIS
    /// `ST_Covers` over the GiST index, lowest code first (the edge rule); on SQLite the
    /// bounding-box index, then the exact test in Rust. For comparison with the in-memory
    /// index, and for callers without one.
    pub async fn locate_in_db(&self, number: i64, point: Coord<f64>) -> Result<Option<String>> {
        Ok(read!(self, |tx, pg| {
            if pg {
                sqlx::query_scalar(
                    "SELECT g.code FROM grids g JOIN versions v ON v.layer_id = g.layer_id \
                     WHERE v.number = $1 AND g.level = 'grid' AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint($2, $3), 4326)) \
                     ORDER BY g.code COLLATE \"C\" LIMIT 1",
                )
                .bind(number)
                .bind(point.x)
                .bind(point.y)
                .fetch_optional(&mut *tx)
                .await?
            } else {
                let rows = sqlx::query(
                    "SELECT g.code, g.geom FROM grids g JOIN versions v ON v.layer_id = g.layer_id \
                     WHERE v.number = $1 AND g.level = 'grid' AND g.minx <= $2 AND g.maxx >= $2 AND g.miny <= $3 AND g.maxy >= $3 \
                     ORDER BY g.code",
                )
                .bind(number)
                .bind(point.x)
                .bind(point.y)
                .fetch_all(&mut *tx)
                .await?;
                let mut hit = None;
                for r in &rows {
                    let geom: String = r.try_get("geom")?;
                    let area = parse_area(&geom)?;
                    if PreparedArea::new(&area).is_some_and(|a| a.position(point).covered()) {
                        hit = Some(r.try_get("code")?);
                        break;
                    }
                }
                hit
            }
        }))
    }

    /// The notification channel of this store's schema.
    pub(crate) fn channel(&self) -> String {
        format!("wangge_{}", self.schema)
    }
}

/// A stored GeoJSON Polygon / MultiPolygon as a MultiPolygon.
fn parse_area(text: &str) -> Result<geo::MultiPolygon<f64>> {
    let feature = format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{{\"type\":\"Feature\",\"properties\":{{\"code\":\"x\",\"community_code\":\"x\"}},\"geometry\":{text}}}]}}"
    );
    let v: serde_json::Value = serde_json::from_str(&feature).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (layer, _) = gis_core::io::grids::parse_layer(&v, "stored geometry");
    layer
        .grids
        .into_iter()
        .next()
        .map(|g| g.area)
        .ok_or_else(|| StoreError::Corrupt("a stored geometry does not read back".into()))
}

/// For fault tests (RELIABILITY.md): with `WANGGE_FAULT_PAUSE=STEP:MILLIS` the write `STEP`
/// (`publish`, `load`) waits that long with everything written but not committed, so a test can
/// kill the process at exactly that moment. Unset, it costs one environment lookup per write.
async fn fault_pause(step: &str) {
    let Ok(spec) = std::env::var("WANGGE_FAULT_PAUSE") else {
        return;
    };
    if let Some((s, ms)) = spec.split_once(':')
        && s == step
        && let Ok(ms) = ms.parse::<u64>()
    {
        eprintln!("fault pause: {step} written, not committed; waiting {ms} ms");
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
