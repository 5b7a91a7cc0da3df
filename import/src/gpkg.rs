//! GeoPackage: every feature table (or the one named with `FILE.gpkg#TABLE`), read through the
//! same sqlx SQLite the store uses; geometry blobs decoded by geozero. Curved geometry (arcs,
//! which QGIS and ArcGIS can write) is refused with the `ogr2ogr` line that straightens it.

use crate::crs::SourceCrs;
use crate::error::{ImportError, ProblemKind, SourceProblem};
use crate::source::{Declared, Layer, SourceFeature, Value};
use geozero::ToGeo;
use gis_core::io::shell_word;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Column, ConnectOptions, Connection, Row, TypeInfo, ValueRef};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn runtime(path: &Path) -> Result<tokio::runtime::Runtime, ImportError> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| ImportError::unreadable(path, format!("cannot start the SQLite runtime: {e}")))
}

/// Reads the feature tables of a GeoPackage: all of them, or `only`.
pub fn read(path: &Path, only: Option<&str>) -> Result<Vec<Layer>, ImportError> {
    if !path.exists() {
        return Err(ImportError::MissingFile {
            path: path.to_path_buf(),
        });
    }
    runtime(path)?.block_on(read_async(path, only))
}

async fn read_async(path: &Path, only: Option<&str>) -> Result<Vec<Layer>, ImportError> {
    let bad = |e: sqlx::Error| ImportError::unreadable(path, e);
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(bad)?;
    let tables: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name WHERE c.data_type = 'features' ORDER BY c.table_name",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| ImportError::unreadable(path, format!("not a GeoPackage (no gpkg_contents / gpkg_geometry_columns): {e}")))?;
    if let Some(name) = only
        && !tables.iter().any(|(t, _, _)| t == name)
    {
        return Err(ImportError::Unusable {
            file: path.to_path_buf(),
            message: format!(
                "no feature table {name:?}; its feature tables are {}",
                tables.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let mut layers = Vec::new();
    for (table, geom_column, srs_id) in tables.into_iter().filter(|(t, _, _)| only.is_none_or(|o| o == t)) {
        let name = PathBuf::from(format!("{}#{table}", path.display()));
        let srs: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        )
        .bind(srs_id)
        .fetch_optional(&mut conn)
        .await
        .map_err(bad)?;
        let declared_crs = match srs {
            // 0 and -1 are the spec's "undefined geographic / Cartesian": nothing declared.
            _ if srs_id <= 0 => None,
            None => None,
            Some((org, code, definition)) => {
                let by = format!("{} (gpkg_spatial_ref_sys {org}:{code})", name.display());
                let by_code = if org.eq_ignore_ascii_case("epsg") {
                    u16::try_from(code).ok().map(SourceCrs::from_epsg)
                } else if org == "wangge" {
                    // What `wangge export --crs gcj02|bd09` writes: systems without an EPSG code.
                    match code {
                        2 => Some(Ok(SourceCrs::Geographic(gis_core::crs::Crs::Gcj02))),
                        3 => Some(Ok(SourceCrs::Geographic(gis_core::crs::Crs::Bd09))),
                        _ => None,
                    }
                } else {
                    None
                };
                Some(match by_code {
                    Some(Ok(crs)) => Declared::Known { crs, by },
                    // A code the table lacks, or another organisation: its WKT decides.
                    _ => match SourceCrs::from_prj(&definition) {
                        Ok(crs) => Declared::Known { crs, by },
                        Err(reason) => match by_code {
                            Some(Err(by_code)) => Declared::Unusable {
                                by,
                                given: format!("{org}:{code}"),
                                reason: by_code,
                                empty: false,
                            },
                            _ => Declared::Unusable {
                                by,
                                given: format!("{org}:{code}"),
                                reason,
                                empty: false,
                            },
                        },
                    },
                })
            }
        };
        let quoted = table.replace('"', "\"\"");
        let rows: Vec<SqliteRow> = sqlx::query(&format!("SELECT * FROM \"{quoted}\""))
            .fetch_all(&mut conn)
            .await
            .map_err(bad)?;
        // The table's own column list: every column, even of a table with no rows.
        let declared: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT name FROM pragma_table_info('{}') ORDER BY cid",
            table.replace('\'', "''")
        ))
        .fetch_all(&mut conn)
        .await
        .map_err(bad)?;
        let columns: Vec<String> = match rows.first() {
            Some(r) => r.columns().iter().map(|c| c.name().to_string()).collect(),
            None => declared.into_iter().map(|(c,)| c).collect(),
        };
        let fields: Vec<String> = columns.iter().filter(|c| **c != geom_column).cloned().collect();
        let mut curved: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut problems = Vec::new();
        let mut features = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            let mut attrs = BTreeMap::new();
            let mut geometry = None;
            for (i, column) in columns.iter().enumerate() {
                let raw = row.try_get_raw(i).map_err(bad)?;
                if column == &geom_column {
                    if raw.is_null() {
                        continue;
                    }
                    let blob: Vec<u8> = row.try_get(i).map_err(bad)?;
                    if let Some(kind) = curve_type(&blob) {
                        *curved.entry(kind).or_default() += 1;
                        continue;
                    }
                    match geozero::wkb::GpkgWkb(blob).to_geo() {
                        Ok(g) => geometry = Some(g),
                        Err(e) => problems.push(SourceProblem::at(
                            &name,
                            index,
                            Some(&geom_column),
                            ProblemKind::UnreadableGeometry,
                            format!("cannot be read: {e}"),
                        )),
                    }
                    continue;
                }
                let value = if raw.is_null() {
                    Value::Null
                } else {
                    match raw.type_info().name() {
                        "INTEGER" | "BOOLEAN" => Value::Integer(row.try_get(i).map_err(bad)?),
                        "REAL" => Value::Real(row.try_get(i).map_err(bad)?),
                        "TEXT" | "DATE" | "DATETIME" => Value::Text(row.try_get(i).map_err(bad)?),
                        // NUMERIC, DECIMAL, …: whatever SQLite stored.
                        _ => row
                            .try_get::<i64, _>(i)
                            .map(Value::Integer)
                            .or_else(|_| row.try_get::<f64, _>(i).map(Value::Real))
                            .or_else(|_| row.try_get::<String, _>(i).map(Value::Text))
                            .unwrap_or(Value::Null),
                    }
                };
                attrs.insert(column.clone(), value);
            }
            features.push(SourceFeature { index, geometry, attrs });
        }
        if !curved.is_empty() {
            let n: usize = curved.values().sum();
            let kinds: Vec<String> = curved.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let linear = path.with_file_name(format!(
                "{}-linear.gpkg",
                path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default()
            ));
            return Err(ImportError::Unusable {
                file: name,
                message: format!(
                    "{n} feature{} hold{} curved geometry ({}), which import does not read; convert the arcs to straight segments with `ogr2ogr -nlt CONVERT_TO_LINEAR {} {}` and import that file",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "s" } else { "" },
                    kinds.join(", "),
                    shell_word(&linear.display().to_string()),
                    shell_word(&path.display().to_string()),
                ),
            });
        }
        if !problems.is_empty() {
            return Err(ImportError::Invalid { problems });
        }
        layers.push(Layer {
            name,
            fields,
            features,
            declared_crs,
            encoding: None,
            notes: Vec::new(),
        });
    }
    conn.close().await.map_err(bad)?;
    Ok(layers)
}

/// The curve type of a GeoPackage geometry blob (its WKB type code, ISO or extended), if curved.
fn curve_type(blob: &[u8]) -> Option<&'static str> {
    // GeoPackage header: "GP", version, flags (bit 0: little-endian; bits 1-3: envelope), srs_id.
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return None;
    }
    let envelope = match (blob[3] >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return None,
    };
    let wkb = blob.get(8 + envelope..)?;
    let raw: [u8; 4] = wkb.get(1..5)?.try_into().ok()?;
    let code = if wkb[0] == 1 {
        u32::from_le_bytes(raw)
    } else {
        u32::from_be_bytes(raw)
    };
    Some(match (code & 0x0FFF_FFFF) % 1000 {
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        _ => return None,
    })
}
