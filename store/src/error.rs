//! The store's one error type.

use crate::check::{LayerProblem, summary};
use gis_core::io::ImportError;

/// A published version that does not read back or validate (written by an older build, or
/// damaged in the database), and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DamagedVersion {
    pub number: i64,
    pub problems: Vec<LayerProblem>,
}

impl std::fmt::Display for DamagedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "version {} is damaged: {}", self.number, summary(&self.problems))
    }
}

fn damaged_list(damaged: &[DamagedVersion]) -> String {
    damaged.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(sqlx::Error),
    /// The database could not write: a full disk, a quota or a file size limit. The write's
    /// transaction is rolled back, so nothing of it is stored.
    #[error(
        "the store cannot write to disk (full disk, quota or file size limit?); nothing of this write was stored: {0}"
    )]
    DiskFull(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "PostGIS is not available in this database ({0}); install it (Debian: postgresql-15-postgis-3) or run without DATABASE_URL to use the embedded store"
    )]
    NoPostgis(String),
    #[error("invalid database URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The dataset failed import: nothing was stored.
    #[error(transparent)]
    Rejected(#[from] Box<ImportError>),
    #[error("no dataset {0}")]
    NoDataset(i64),
    #[error("no draft {0}")]
    NoDraft(i64),
    #[error("layer {layer} is already published as version {version}; roll back to that version instead")]
    AlreadyPublished { layer: i64, version: i64 },
    #[error("no version {0}")]
    NoVersion(i64),
    #[error("nothing is published yet")]
    NothingPublished,
    #[error("no grid {0} in the published version")]
    UnknownGrid(String),
    #[error("invalid staff entry {index}: {reason}")]
    InvalidStaff { index: usize, reason: String },
    #[error("the layer is not fit to store: {0}")]
    InvalidLayer(String),
    /// The layer fails the checks a layer must pass to be made current (see `check`): nothing
    /// was published (and, when it does not even read back, nothing was stored).
    #[error("{subject} cannot be {action}: {}", summary(.problems))]
    Unpublishable {
        subject: String,
        action: &'static str,
        problems: Vec<LayerProblem>,
    },
    /// An explicitly asked-for version does not read back or validate.
    #[error("{0}")]
    DamagedVersion(DamagedVersion),
    /// Versions are published, but none reads back and validates.
    #[error("no published version can be served:\n{}\nRe-partition the dataset and publish the draft (wangge load, or the planner routes), or roll back to a version published before these", damaged_list(.damaged))]
    NothingServable { damaged: Vec<DamagedVersion> },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// A failure injected by a test (see [`crate::Store::fail_next_publish`]).
    #[error("injected failure before {0} committed")]
    Injected(&'static str),
    #[error("background task failed: {0}")]
    Task(String),
    /// A write on a PostgreSQL hot standby (`pg_is_in_recovery()`): it is read-only; writes go to
    /// the primary it replicates.
    #[error(
        "the database is a read-only hot standby (pg_is_in_recovery() is true): nothing was written; write (load, publish, roll back, plan) on the primary it replicates"
    )]
    ReadOnlyReplica,
    /// A hot standby whose primary has not been set up for wangge (no tables, an older schema, or
    /// no PostGIS): a standby cannot create them itself.
    #[error(
        "the database is a read-only hot standby and {0}; run `wangge load` or `wangge serve` against the primary first, then start this one again"
    )]
    StandbyNotReady(String),
}

impl From<ImportError> for StoreError {
    fn from(e: ImportError) -> Self {
        StoreError::Rejected(Box::new(e))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // SQLite: 13 SQLITE_FULL, 778 SQLITE_IOERR_WRITE; PostgreSQL: class 53 (disk full, out of memory…).
        let code = match &e {
            sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
            _ => None,
        };
        // PostgreSQL 25006 read_only_sql_transaction: a write that reached a hot standby.
        if code.as_deref() == Some("25006") {
            return StoreError::ReadOnlyReplica;
        }
        let full = code.is_some_and(|c| c == "13" || c == "778" || c == "53100");
        if full {
            StoreError::DiskFull(e)
        } else {
            StoreError::Db(e)
        }
    }
}
