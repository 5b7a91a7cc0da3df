//! MBTiles 1.3: an SQLite file with a `metadata` table (name, format `pbf`, bounds, center,
//! zooms, and `json` holding the TileJSON's `vector_layers`) and a `tiles` table of
//! gzip-compressed vector tiles, rows counted from the south (TMS: row = 2^z − 1 − y). Through
//! the same sqlx SQLite the embedded store uses.

use super::{ArchiveError, Meta};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection};
use std::path::{Path, PathBuf};
use tiles::mercator::TileId;

/// The TMS row of a tile (MBTiles counts rows from the south).
pub fn tms_row(t: TileId) -> u32 {
    (1u32 << t.z) - 1 - t.y
}

pub struct Writer {
    conn: SqliteConnection,
    path: PathBuf,
}

fn err(path: &Path) -> impl Fn(sqlx::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

impl Writer {
    pub async fn create(path: &Path, _meta: &Meta) -> Result<Self, ArchiveError> {
        // One file, no journal beside it: the file is renamed into place only once it is whole.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Off)
            .synchronous(SqliteSynchronous::Off);
        let mut conn = SqliteConnection::connect_with(&options).await.map_err(err(path))?;
        for sql in [
            "CREATE TABLE metadata (name TEXT NOT NULL, value TEXT)",
            "CREATE UNIQUE INDEX name ON metadata (name)",
            "CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL)",
            "BEGIN",
        ] {
            sqlx::query(sql).execute(&mut conn).await.map_err(err(path))?;
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub async fn add(&mut self, t: TileId, gz: &[u8]) -> Result<(), ArchiveError> {
        sqlx::query("INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)")
            .bind(i64::from(t.z))
            .bind(i64::from(t.x))
            .bind(i64::from(tms_row(t)))
            .bind(gz)
            .execute(&mut self.conn)
            .await
            .map_err(err(&self.path))?;
        Ok(())
    }

    pub async fn finish(mut self, meta: &Meta) -> Result<(), ArchiveError> {
        let tj = &meta.tilejson;
        let text = |k: &str| tj.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let [w, s, e, n] = meta.bounds;
        // The `json` row: vector_layers as the spec asks, and the rest of the TileJSON (the
        // resource kinds, context layers and the version it holds) for the static web map.
        let mut json = tj.clone();
        if let Some(o) = json.as_object_mut() {
            for k in [
                "name",
                "description",
                "version",
                "bounds",
                "center",
                "minzoom",
                "maxzoom",
                "attribution",
            ] {
                o.remove(k);
            }
        }
        let rows = [
            ("name", text("name")),
            ("format", "pbf".to_string()),
            ("type", "overlay".to_string()),
            ("version", meta.version.to_string()),
            ("description", text("description")),
            ("attribution", text("attribution")),
            ("bounds", format!("{w},{s},{e},{n}")),
            (
                "center",
                format!(
                    "{},{},{}",
                    meta.center[0],
                    meta.center[1],
                    14.clamp(*meta.zooms.start(), *meta.zooms.end())
                ),
            ),
            ("minzoom", meta.zooms.start().to_string()),
            ("maxzoom", meta.zooms.end().to_string()),
            ("json", json.to_string()),
        ];
        for (k, v) in rows {
            sqlx::query("INSERT INTO metadata (name, value) VALUES (?, ?)")
                .bind(k)
                .bind(v)
                .execute(&mut self.conn)
                .await
                .map_err(err(&self.path))?;
        }
        for sql in [
            "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)",
            "COMMIT",
        ] {
            sqlx::query(sql)
                .execute(&mut self.conn)
                .await
                .map_err(err(&self.path))?;
        }
        self.conn.close().await.map_err(err(&self.path))
    }
}

/// An MBTiles archive read back (for `--since`).
pub struct Reader {
    conn: SqliteConnection,
    path: PathBuf,
}

impl Reader {
    pub async fn open(path: &Path) -> Result<Self, ArchiveError> {
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let conn = SqliteConnection::connect_with(&options).await.map_err(err(path))?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The TileJSON: the `json` row, which holds the `wangge` member.
    pub async fn tilejson(&mut self) -> Result<Value, ArchiveError> {
        let row = sqlx::query("SELECT value FROM metadata WHERE name = 'json'")
            .fetch_optional(&mut self.conn)
            .await
            .map_err(err(&self.path))?;
        let text: String = match row {
            Some(r) => r.try_get(0).map_err(err(&self.path))?,
            None => {
                return Err(ArchiveError::Foreign {
                    path: self.path.clone(),
                    reason: "its metadata has no json row".into(),
                });
            }
        };
        serde_json::from_str(&text).map_err(|e| ArchiveError::Foreign {
            path: self.path.clone(),
            reason: format!("its json metadata is not JSON: {e}"),
        })
    }

    pub async fn get(&mut self, t: TileId) -> Result<Option<Vec<u8>>, ArchiveError> {
        let row = sqlx::query("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?")
            .bind(i64::from(t.z))
            .bind(i64::from(t.x))
            .bind(i64::from(tms_row(t)))
            .fetch_optional(&mut self.conn)
            .await
            .map_err(err(&self.path))?;
        row.map(|r| r.try_get::<Vec<u8>, _>(0))
            .transpose()
            .map_err(err(&self.path))
    }
}
