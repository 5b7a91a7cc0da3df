//! Bulk inserts, the one place the backends differ in more than SQL text: PostgreSQL takes a
//! whole chunk of rows as arrays (`UNNEST`, one round trip per chunk, so a city's 180,000
//! buildings load in seconds, not minutes); SQLite takes many rows per `INSERT … VALUES`.

use crate::Result;
use crate::rows::{GridRow, bbox};
use gis_core::Dataset;
use gis_core::io::grids::geometry;
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

impl Bulk for SqliteConnection {
    async fn communities(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        for chunk in d.communities.chunks(SQLITE_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new(format!(
                "INSERT INTO communities (dataset_id, code, name, geom, {SQLITE_BBOX}) "
            ));
            q.push_values(chunk, |mut row, c| {
                let b = bbox(&c.boundary);
                row.push_bind(dataset_id)
                    .push_bind(c.code.as_str())
                    .push_bind(c.name.as_str())
                    .push_bind(geometry(&c.boundary).to_string());
                for v in b {
                    row.push_bind(v);
                }
            });
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }

    async fn buildings(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        for chunk in d.buildings.chunks(SQLITE_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new(format!(
                "INSERT INTO buildings (dataset_id, id, community_code, address, compound, population, households, geom, {SQLITE_BBOX}) "
            ));
            q.push_values(chunk, |mut row, bl| {
                let b = bbox(&bl.footprint);
                row.push_bind(dataset_id)
                    .push_bind(bl.id.as_str())
                    .push_bind(d.communities[bl.community].code.as_str())
                    .push_bind(bl.address.as_deref())
                    .push_bind(bl.compound.as_deref())
                    .push_bind(i64::from(bl.population))
                    .push_bind(i64::from(bl.households))
                    .push_bind(geometry(&bl.footprint).to_string());
                for v in b {
                    row.push_bind(v);
                }
            });
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }

    async fn resources(&mut self, dataset_id: i64, d: &Dataset) -> Result<()> {
        for chunk in d.resources.chunks(SQLITE_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO resources (dataset_id, id, kind, name, x, y, geom) ");
            q.push_values(chunk, |mut row, r| {
                let (x, y) = (r.location.x(), r.location.y());
                row.push_bind(dataset_id)
                    .push_bind(r.id.as_str())
                    .push_bind(r.kind.as_str())
                    .push_bind(r.name.as_str())
                    .push_bind(x)
                    .push_bind(y)
                    .push_bind(serde_json::json!({"type": "Point", "coordinates": [x, y]}).to_string());
            });
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }

    async fn grids(&mut self, layer_id: i64, rows: &[GridRow]) -> Result<()> {
        for (c, chunk) in rows.chunks(SQLITE_ROWS).enumerate() {
            let first = (c * SQLITE_ROWS) as i64;
            let mut q = QueryBuilder::<Sqlite>::new(format!(
                "INSERT INTO grids (layer_id, position, code, community_code, kind, level, parent_code, population, households, feature, geom, {SQLITE_BBOX}) "
            ));
            q.push_values(chunk.iter().enumerate(), |mut row, (i, r)| {
                row.push_bind(layer_id)
                    .push_bind(first + i as i64)
                    .push_bind(r.code.as_str())
                    .push_bind(r.community_code.as_str())
                    .push_bind(r.kind)
                    .push_bind(r.level)
                    .push_bind(r.parent_code.as_deref())
                    .push_bind(r.population)
                    .push_bind(r.households)
                    .push_bind(r.feature.as_str())
                    .push_bind(r.geometry.as_str());
                for v in r.bbox {
                    row.push_bind(v);
                }
            });
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}
