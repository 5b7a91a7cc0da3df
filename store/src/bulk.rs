//! Bulk inserts, the one place the backends differ in more than SQL text: PostgreSQL takes a
//! whole chunk of rows as arrays (`UNNEST`, one round trip per chunk, so a city's 180,000
//! buildings load in seconds, not minutes); SQLite takes many rows per `INSERT … VALUES`.

use crate::Result;
use crate::rows::{GridRow, bbox};
use gis_core::Dataset;
use gis_core::io::grids::geometry;
use sqlx::query_builder::Separated;
use sqlx::{PgConnection, QueryBuilder, Sqlite, SqliteConnection};

/// Rows per PostgreSQL round trip.
const CHUNK: usize = 5_000;

pub(crate) trait Bulk {
    async fn communities(&mut self, dataset_id: i64, d: &Dataset) -> Result<()>;
    async fn buildings(&mut self, dataset_id: i64, d: &Dataset) -> Result<()>;
    async fn resources(&mut self, dataset_id: i64, d: &Dataset) -> Result<()>;
    async fn grids(&mut self, layer_id: i64, rows: &[GridRow]) -> Result<()>;
}

const PG_GEOM: &str = "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(t.g), 4326))";

impl Bulk for PgConnection {
    async fn communities(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        for chunk in d.communities.chunks(CHUNK) {
            sqlx::query(&format!(
                "INSERT INTO communities (dataset_id, code, name, geom) SELECT $1, t.code, t.name, {PG_GEOM} \
                 FROM UNNEST($2::text[], $3::text[], $4::text[]) AS t(code, name, g)"
            ))
            .bind(dataset_id)
            .bind(chunk.iter().map(|c| c.code.to_string()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
            .bind(
                chunk
                    .iter()
                    .map(|c| geometry(&c.boundary).to_string())
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }

    async fn buildings(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        for chunk in d.buildings.chunks(CHUNK) {
            sqlx::query(&format!(
                "INSERT INTO buildings (dataset_id, id, community_code, address, compound, population, households, geom) \
                 SELECT $1, t.id, t.cc, t.address, t.compound, t.population, t.households, {PG_GEOM} \
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[]) \
                 AS t(id, cc, address, compound, population, households, g)"
            ))
            .bind(dataset_id)
            .bind(chunk.iter().map(|b| b.id.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|b| d.communities[b.community].code.to_string()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|b| b.address.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|b| b.compound.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|b| i64::from(b.population)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|b| i64::from(b.households)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|b| geometry(&b.footprint).to_string()).collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }

    async fn resources(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        for chunk in d.resources.chunks(CHUNK) {
            sqlx::query(
                "INSERT INTO resources (dataset_id, id, kind, name, geom) \
                 SELECT $1, t.id, t.kind, t.name, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326) \
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[]) AS t(id, kind, name, x, y)",
            )
            .bind(dataset_id)
            .bind(chunk.iter().map(|r| r.id.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.kind.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.location.x()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.location.y()).collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }

    async fn grids(&mut self, layer_id: i64, rows: &[GridRow]) -> Result<()> {
        for (c, chunk) in rows.chunks(CHUNK).enumerate() {
            let first = (c * CHUNK) as i64;
            sqlx::query(&format!(
                "INSERT INTO grids (layer_id, position, code, community_code, kind, level, parent_code, population, households, feature, geom) \
                 SELECT $1, t.position, t.code, t.cc, t.kind, t.level, t.parent, t.population, t.households, t.feature, {PG_GEOM} \
                 FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::text[]) \
                 AS t(position, code, cc, kind, level, parent, population, households, feature, g)"
            ))
            .bind(layer_id)
            .bind((0..chunk.len() as i64).map(|i| first + i).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.code.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.community_code.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.kind.to_string()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.level.to_string()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.parent_code.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.population).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.households).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.feature.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.geometry.clone()).collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }
}

const SQLITE_BBOX: &str = "minx, miny, maxx, maxy";

/// Rows per SQLite statement: each statement is a round trip to sqlx's SQLite worker thread, so
/// a city's 180,000 buildings row by row spent most of `load`'s first seconds handing rows over
/// (at most 15 parameters a row, well under SQLite's 32,766 per statement).
const SQLITE_ROWS: usize = 500;

/// Inserts `items` into SQLite `SQLITE_ROWS` rows per statement: `head` is the statement up to
/// `VALUES`, `push` binds one item's row given its position in `items`.
async fn insert_in_chunks<'a, T>(
    conn: &mut SqliteConnection,
    head: &str,
    items: &'a [T],
    mut push: impl FnMut(&mut Separated<'_, 'a, Sqlite, &'static str>, usize, &'a T),
) -> Result<()> {
    for (c, chunk) in items.chunks(SQLITE_ROWS).enumerate() {
        let mut q = QueryBuilder::<Sqlite>::new(head);
        q.push_values(chunk.iter().enumerate(), |mut row, (i, item)| {
            push(&mut row, c * SQLITE_ROWS + i, item)
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Binds a box's four columns (`SQLITE_BBOX`).
fn push_bbox(row: &mut Separated<'_, '_, Sqlite, &'static str>, b: [f64; 4]) {
    for v in b {
        row.push_bind(v);
    }
}

impl Bulk for SqliteConnection {
    async fn communities(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        let head = format!("INSERT INTO communities (dataset_id, code, name, geom, {SQLITE_BBOX}) ");
        insert_in_chunks(self, &head, &d.communities, |row, _, c| {
            row.push_bind(dataset_id)
                .push_bind(c.code.as_str())
                .push_bind(c.name.as_str())
                .push_bind(geometry(&c.boundary).to_string());
            push_bbox(row, bbox(&c.boundary));
        })
        .await
    }

    async fn buildings(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        let head = format!(
            "INSERT INTO buildings (dataset_id, id, community_code, address, compound, population, households, geom, {SQLITE_BBOX}) "
        );
        insert_in_chunks(self, &head, &d.buildings, |row, _, bl| {
            row.push_bind(dataset_id)
                .push_bind(bl.id.as_str())
                .push_bind(d.communities[bl.community].code.as_str())
                .push_bind(bl.address.as_deref())
                .push_bind(bl.compound.as_deref())
                .push_bind(i64::from(bl.population))
                .push_bind(i64::from(bl.households))
                .push_bind(geometry(&bl.footprint).to_string());
            push_bbox(row, bbox(&bl.footprint));
        })
        .await
    }

    async fn resources(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        let head = "INSERT INTO resources (dataset_id, id, kind, name, x, y, geom) ";
        insert_in_chunks(self, head, &d.resources, |row, _, r| {
            let (x, y) = (r.location.x(), r.location.y());
            row.push_bind(dataset_id)
                .push_bind(r.id.as_str())
                .push_bind(r.kind.as_str())
                .push_bind(r.name.as_str())
                .push_bind(x)
                .push_bind(y)
                .push_bind(serde_json::json!({"type": "Point", "coordinates": [x, y]}).to_string());
        })
        .await
    }

    async fn grids(&mut self, layer_id: i64, rows: &[GridRow]) -> Result<()> {
        let head = format!(
            "INSERT INTO grids (layer_id, position, code, community_code, kind, level, parent_code, population, households, feature, geom, {SQLITE_BBOX}) "
        );
        insert_in_chunks(self, &head, rows, |row, position, r| {
            row.push_bind(layer_id)
                .push_bind(position as i64)
                .push_bind(r.code.as_str())
                .push_bind(r.community_code.as_str())
                .push_bind(r.kind)
                .push_bind(r.level)
                .push_bind(r.parent_code.as_deref())
                .push_bind(r.population)
                .push_bind(r.households)
                .push_bind(r.feature.as_str())
                .push_bind(r.geometry.as_str());
            push_bbox(row, r.bbox);
        })
        .await
    }
}
