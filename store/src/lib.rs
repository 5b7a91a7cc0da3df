//! wangge's storage: one region (a street or a city) with its datasets, draft grid layers,
//! published versions and staff, in **PostGIS** (when a database URL is given) or in an
//! **embedded SQLite file** (the default, so `wangge serve` runs on a fresh machine). Both
//! backends are one [`Store`] with the same behaviour and pass one test suite.
//!
//! - A dataset is stored as its files' text (the source of truth, imported strictly on read, the
//!   last few parsed kept by id: a stored dataset never changes) plus communities, buildings and resources as geometry rows (SRID 4326, GiST on PostGIS,
//!   bounding-box columns on SQLite) for SQL-side queries.
//! - A **layer** is a set of grids drawn from one dataset; it is a **draft** until published.
//!   Each grid row keeps its exact GeoJSON (so a layer reads back to the bit) and its geometry.
//! - **Publishing** inserts a version (number, time, note) and moves the one-row
//!   `current_version` pointer in a single transaction: a reader sees the old version or the new
//!   one, never a mix. **Rollback** re-publishes an earlier version's layer under a new number
//!   (history is append-only, so a rollback is itself listed and can be undone).
//! - **Nothing damaged is made current**: a layer is checked (it reads back grid by grid, every
//!   area is OGC-valid, each level is one exact coverage of its dataset) before a publish or
//!   rollback commits, and when it is saved as a draft (see `check`). [`Store::published`]
//!   checks too, and returns the newest version that passes, naming the damaged ones, so a store
//!   written by an older build still serves.
//! - The store keeps and returns data; it never partitions, diffs or indexes for lookups (the
//!   `planner` crate and the server do).
//! - **Staff** are kept per grid code, across versions; publishing a re-partition moves the
//!   staff of retired grids to the grid that took most of their residents.
//! - Every write is one transaction; a failed write stores nothing.
//! - [`Store::subscribe`] tells of new current versions: LISTEN/NOTIFY on PostGIS, polling the
//!   pointer row on SQLite (so two processes on one file also see each other's publishes).

mod bulk;
mod cache;
mod check;
mod error;
mod notify;
mod published;
mod rows;
mod sql;
mod time;

pub use check::{LayerProblem, LayerProblemKind};
pub use error::{DamagedVersion, Result, StoreError};
pub use notify::Current;
pub use published::Published;
pub use time::rfc3339;

use gis_core::Staff;
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which database a store is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Postgis,
    Sqlite,
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Pg(PgPool),
    Sqlite(SqlitePool),
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub number: i64,
    /// Unix milliseconds.
    pub published_at_ms: i64,
    /// RFC 3339, UTC.
    pub published_at: String,
    pub note: String,
    pub layer: i64,
    pub dataset: i64,
    /// For a rollback: the version it re-published.
    pub rolled_back_from: Option<i64>,
    /// Grids (level `grid`) in the version.
    pub grids: i64,
    pub current: bool,
}

/// A dataset read and checked ([`Store::import_dataset`]) but not stored yet.
#[derive(Debug)]
pub struct Imported {
    pub(crate) source: String,
    /// The files as stored (a JSON object, file name → text).
    pub(crate) text: String,
    pub(crate) dataset: Arc<gis_core::Dataset>,
}

impl Imported {
    pub fn dataset(&self) -> &Arc<gis_core::Dataset> {
        &self.dataset
    }
}

/// A stored dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatasetInfo {
    pub id: i64,
    pub created_at: String,
    pub source: String,
    pub communities: i64,
    pub buildings: i64,
    pub resources: i64,
}

/// A stored layer that no version points at yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftInfo {
    pub id: i64,
    pub dataset: i64,
    pub created_at: String,
    pub origin: String,
    pub grids: i64,
    /// Why it cannot be published (a level is not one exact coverage, a building is cut…), as
    /// found when it was saved: empty when it passed; `None` when saved by a build that did not
    /// check. Publishing checks again either way.
    pub problems: Option<Vec<LayerProblem>>,
}

/// A staff change a re-partition proposes: someone on a retired grid goes to its successor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMove {
    pub name: String,
    pub role: String,
    pub from: String,
    pub to: Option<String>,
}

/// A handle on the store; cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// The PostgreSQL schema the tables live in (`public` unless opened in another).
    pub(crate) schema: String,
    pub(crate) fail_next_publish: Arc<AtomicBool>,
    pub(crate) watcher: Arc<Mutex<Option<tokio::sync::watch::Sender<Current>>>>,
    /// Datasets parsed by this handle and its clones, by id.
    pub(crate) datasets: Arc<cache::DatasetCache>,
    /// Layers this handle stored and found publishable, by the digest of every column a publish
    /// reads back (see `check::digest`).
    pub(crate) publishable: Arc<Mutex<std::collections::HashMap<i64, check::Digest>>>,
    /// A PostgreSQL hot standby (`pg_is_in_recovery()` when opened): reads only, and publishes
    /// are followed by polling, since a standby delivers no notifications.
    pub(crate) standby: bool,
}

/// Embedded migrations (sqlx's `migrate!` needs its proc-macros, which would build the database
/// drivers a second time; the files are the same ones under `store/migrations/`).
fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    use std::borrow::Cow;
    let files: &[(i64, &str, &str)] = match backend {
        Backend::Postgis => &[
            (1, "versions", include_str!("../migrations/postgres/0001_versions.sql")),
            (
                2,
                "layer problems",
                include_str!("../migrations/postgres/0002_layer_problems.sql"),
            ),
        ],
        Backend::Sqlite => &[
            (1, "versions", include_str!("../migrations/sqlite/0001_versions.sql")),
            (
                2,
                "layer problems",
                include_str!("../migrations/sqlite/0002_layer_problems.sql"),
            ),
        ],
    };
    let migrations: Vec<Migration> = files
        .iter()
        .map(|(v, d, sql)| Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, Cow::Borrowed(*sql), false))
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

fn valid_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Store {
    /// PostGIS at `database_url` when one is given (as from `DATABASE_URL`), else the embedded
    /// SQLite file at `embedded_path` (created if missing).
    pub async fn open(database_url: Option<&str>, embedded_path: &Path) -> Result<Store> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("sqlite:") => {
                Self::open_sqlite(Path::new(
                    url.trim_start_matches("sqlite://").trim_start_matches("sqlite:"),
                ))
                .await
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::open_postgis(url, None).await
            }
            Some(url) => Err(StoreError::BadUrl {
                url: url.into(),
                reason: "expected postgres://… (or sqlite:FILE)".into(),
            }),
            None => Self::open_sqlite(embedded_path).await,
        }
    }

    /// The embedded store: one SQLite file, WAL so readers never wait for a publish.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        migrator(Backend::Sqlite).run(&pool).await?;
        Ok(Self::new(Pool::Sqlite(pool), "main".into(), false))
    }

    /// PostGIS at `url`; tables in `schema` (created if missing) or in `public`. The postgis
    /// extension is created if the role may; without it the store refuses to open.
    pub async fn open_postgis(url: &str, schema: Option<&str>) -> Result<Store> {
        let schema = schema.unwrap_or("public");
        if !valid_schema(schema) {
            return Err(StoreError::BadUrl {
                url: url.into(),
                reason: format!("schema {schema:?}: use lower-case letters, digits and _"),
            });
        }
        let base = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
            url: url.into(),
            reason: e.to_string(),
        })?;
        // One short-lived connection to make sure of the extension and the schema (or, on a hot
        // standby, which cannot create them, that the primary made them).
        let standby = {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect_with(&base).await?;
            let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(&mut conn)
                .await?;
            if standby {
                let ready = standby_ready(&mut conn, schema, migrator(Backend::Postgis).migrations.len()).await;
                conn.close().await?;
                ready?;
                true
            } else {
                let has: Option<String> =
                    sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
                        .fetch_optional(&mut conn)
                        .await?;
                if has.is_none() {
                    // Two stores opening at once may both try; the loser sees it made by the other.
                    if let Err(e) = sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public")
                        .execute(&mut conn)
                        .await
                    {
                        let now: Option<String> =
                            sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
                                .fetch_optional(&mut conn)
                                .await?;
                        if now.is_none() {
                            return Err(StoreError::NoPostgis(e.to_string()));
                        }
                    }
                }
                if schema != "public" {
                    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                        .execute(&mut conn)
                        .await?;
                }
                conn.close().await?;
                false
            }
        };
        let options = base.options([("search_path", format!("\"{schema}\",public"))]);
        // One connection is held by a subscriber's LISTEN; the rest serve reads and writes.
        let pool = PgPoolOptions::new()
            .max_connections(6)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        if !standby {
            migrator(Backend::Postgis).run(&pool).await?;
        }
        Ok(Self::new(Pool::Pg(pool), schema.into(), standby))
    }

    fn new(pool: Pool, schema: String, standby: bool) -> Self {
        Self {
            pool,
            schema,
            standby,
            fail_next_publish: Arc::new(AtomicBool::new(false)),
            watcher: Arc::new(Mutex::new(None)),
            datasets: Arc::new(cache::DatasetCache::new(cache::KEPT)),
            publishable: Arc::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Pg(_) => Backend::Postgis,
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Whether this is a read-only PostgreSQL hot standby (as found when opened): every write
    /// answers [`StoreError::ReadOnlyReplica`]. A standby promoted later is still taken for one
    /// until the store is opened again.
    pub fn is_standby(&self) -> bool {
        self.standby
    }

    /// The PostgreSQL schema (or `main` for SQLite).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The PostgreSQL pool, for callers that query PostGIS directly (benchmarks).
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Pg(p) => Some(p),
            Pool::Sqlite(_) => None,
        }
    }

    /// Makes the next publish fail after it has written everything but before it commits: for
    /// tests of atomicity.
    #[doc(hidden)]
    pub fn fail_next_publish(&self) {
        self.fail_next_publish.store(true, Ordering::SeqCst);
    }

    pub(crate) fn take_injected_failure(&self) -> bool {
        self.fail_next_publish.swap(false, Ordering::SeqCst)
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Pg(p) => p.close().await,
            Pool::Sqlite(p) => p.close().await,
        }
    }
}

/// On a hot standby: the primary made PostGIS, the schema and every migration this build knows.
async fn standby_ready(conn: &mut sqlx::PgConnection, schema: &str, migrations: usize) -> Result<()> {
    let postgis: Option<String> = sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        .fetch_optional(&mut *conn)
        .await?;
    if postgis.is_none() {
        return Err(StoreError::StandbyNotReady(
            "its primary has no postgis extension".into(),
        ));
    }
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(format!("\"{schema}\"._sqlx_migrations"))
        .fetch_one(&mut *conn)
        .await?;
    if table.is_none() {
        return Err(StoreError::StandbyNotReady(format!(
            "schema {schema:?} holds no wangge store yet"
        )));
    }
    let applied: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM \"{schema}\"._sqlx_migrations WHERE success"
    ))
    .fetch_one(&mut *conn)
    .await?;
    if (applied as usize) < migrations {
        return Err(StoreError::StandbyNotReady(format!(
            "its store has {applied} of this build's {migrations} migrations"
        )));
    }
    Ok(())
}

/// Checks a staff list for one grid: names and roles present.
pub(crate) fn check_staff(staff: &[Staff]) -> Result<()> {
    for (index, s) in staff.iter().enumerate() {
        if s.name.trim().is_empty() {
            return Err(StoreError::InvalidStaff {
                index,
                reason: "name is empty".into(),
            });
        }
        if s.role.trim().is_empty() {
            return Err(StoreError::InvalidStaff {
                index,
                reason: "role is empty".into(),
            });
        }
    }
    Ok(())
}
