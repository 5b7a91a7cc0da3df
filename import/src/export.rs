//! Grid layers out: GeoJSON, Shapefile (with a WGS-84 .prj and a UTF-8 .cpg), GeoPackage (one
//! `grids` feature table, EPSG:4326), and a CSV of building → grid for spreadsheets.
//! Every format is written beside its target and renamed into place, so no reader sees half a file.

use crate::error::ImportError;
use geo::{BoundingRect, MultiPolygon};
use geozero::ToWkb;
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::io::grids::GridLayer;
use gis_core::model::Dataset;
use shapefile::dbase;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The .prj every GIS reads as WGS-84 longitude/latitude (Esri's WKT, as GDAL writes it).
pub const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

fn kind(g: &Grid) -> &'static str {
    match g.kind {
        GridKind::Basic => "basic",
        GridKind::Exclusive => "exclusive",
    }
}

fn level(g: &Grid) -> &'static str {
    match g.level {
        GridLevel::Grid => "grid",
        GridLevel::Micro => "micro",
    }
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Write { path: path.to_path_buf(), source }
}

/// A temporary folder beside `out`, for writing before the rename.
fn scratch(out: &Path) -> Result<(tempfile::TempDir, PathBuf), ImportError> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(write_err(&parent))?;
    let tmp = tempfile::Builder::new().prefix(".wangge-export-").tempdir_in(&parent).map_err(write_err(&parent))?;
    Ok((tmp, parent))
}

pub fn geojson(layer: &GridLayer, out: &Path) -> Result<(), ImportError> {
    let (tmp, _) = scratch(out)?;
    let path = tmp.path().join("grids.geojson");
    std::fs::write(&path, gis_core::io::grids::to_geojson(layer)).map_err(write_err(&path))?;
    std::fs::rename(&path, out).map_err(write_err(out))
}

/// Shapefile fields, ≤ 10 characters (dBase). `buildings` holds the count; the ids are in the CSV.
pub fn shapefile(layer: &GridLayer, out: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let (tmp, _) = scratch(out)?;
    let stem = out.file_stem().ok_or_else(|| ImportError::Setting(format!("{} is not a file name", out.display())))?.to_string_lossy().to_string();
    let shp = tmp.path().join(format!("{stem}.shp"));
    let name = |s: &str| dbase::FieldName::try_from(s).expect("field names are short ASCII");
    // Widths are in bytes; UTF-8 Chinese takes three per character, so names get 254.
    let table = dbase::TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(encoding_rs::UTF_8))
        .add_character_field(name("code"), 32)
        .add_character_field(name("community"), 12)
        .add_character_field(name("kind"), 9)
        .add_character_field(name("level"), 5)
        .add_character_field(name("parent"), 32)
        .add_character_field(name("name"), 254)
        .add_numeric_field(name("population"), 10, 0)
        .add_numeric_field(name("households"), 10, 0)
        .add_numeric_field(name("buildings"), 10, 0);
    let mut writer = shapefile::Writer::from_path(&shp, table).map_err(|e| ImportError::Write { path: shp.clone(), source: std::io::Error::other(e.to_string()) })?;
    for g in &layer.grids {
        let polygon = shapefile::Polygon::from(g.area.clone());
        let mut record = dbase::Record::default();
        let text = |s: &str| dbase::FieldValue::Character(Some(s.to_string()));
        record.insert("code".into(), text(&g.code));
        record.insert("community".into(), text(&g.community_code));
        record.insert("kind".into(), text(kind(g)));
        record.insert("level".into(), text(level(g)));
        record.insert("parent".into(), dbase::FieldValue::Character(g.parent_code.clone()));
        record.insert("name".into(), dbase::FieldValue::Character(g.name.clone()));
        record.insert("population".into(), dbase::FieldValue::Numeric(Some(g.population as f64)));
        record.insert("households".into(), dbase::FieldValue::Numeric(Some(g.households as f64)));
        record.insert("buildings".into(), dbase::FieldValue::Numeric(Some(g.buildings.len() as f64)));
        writer.write_shape_and_record(&polygon, &record).map_err(|e| ImportError::Write { path: shp.clone(), source: std::io::Error::other(e.to_string()) })?;
    }
    // Dropping the writer finishes the .shp/.shx headers and flushes the .dbf.
    drop(writer);
    std::fs::write(tmp.path().join(format!("{stem}.prj")), WGS84_PRJ).map_err(write_err(out))?;
    std::fs::write(tmp.path().join(format!("{stem}.cpg")), "UTF-8").map_err(write_err(out))?;
    let mut written = Vec::new();
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        let to = out.with_extension(ext);
        std::fs::rename(tmp.path().join(format!("{stem}.{ext}")), &to).map_err(write_err(&to))?;
        written.push(to);
    }
    Ok(written)
}

/// A GeoPackage 1.3 with one feature table `grids` (EPSG:4326), made with the store's sqlx.
pub fn gpkg(layer: &GridLayer, out: &Path) -> Result<(), ImportError> {
    let (tmp, _) = scratch(out)?;
    let path = tmp.path().join("grids.gpkg");
    crate::gpkg::runtime(&path)?.block_on(write_gpkg(layer, &path))?;
    std::fs::rename(&path, out).map_err(write_err(out))
}

async fn write_gpkg(layer: &GridLayer, path: &Path) -> Result<(), ImportError> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    let bad = |e: sqlx::Error| ImportError::Write { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) };
    let mut conn = SqliteConnectOptions::new().filename(path).create_if_missing(true).connect().await.map_err(bad)?;
    let mut tx = conn.begin().await.map_err(bad)?;
    // The GeoPackage header (application_id 'GPKG', version 1.3.0) and its required tables.
    for sql in [
        "PRAGMA application_id = 1196444487",
        "PRAGMA user_version = 10300",
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)",
        "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'), ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system')",
        "CREATE TABLE grids (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON, code TEXT NOT NULL UNIQUE, community_code TEXT NOT NULL, kind TEXT NOT NULL, level TEXT NOT NULL, parent_code TEXT, name TEXT, population INTEGER NOT NULL, households INTEGER NOT NULL, buildings TEXT NOT NULL)",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.map_err(bad)?;
    }
    sqlx::query("INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')")
        .bind(r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#)
        .execute(&mut *tx)
        .await
        .map_err(bad)?;
    let all = MultiPolygon(layer.grids.iter().flat_map(|g| g.area.0.iter().cloned()).collect());
    let extent = all.bounding_rect();
    sqlx::query("INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id) VALUES ('grids', 'features', 'grids', ?, ?, ?, ?, 4326)")
        .bind(extent.map(|r| r.min().x))
        .bind(extent.map(|r| r.min().y))
        .bind(extent.map(|r| r.max().x))
        .bind(extent.map(|r| r.max().y))
        .execute(&mut *tx)
        .await
        .map_err(bad)?;
    // After gpkg_contents: the geometry column refers to its row.
    sqlx::query("INSERT INTO gpkg_geometry_columns VALUES ('grids', 'geom', 'MULTIPOLYGON', 4326, 0, 0)").execute(&mut *tx).await.map_err(bad)?;
    for g in &layer.grids {
        let envelope = g.area.bounding_rect().map(|r| vec![r.min().x, r.max().x, r.min().y, r.max().y]).unwrap_or_default();
        let blob = geo::Geometry::MultiPolygon(g.area.clone())
            .to_gpkg_wkb(geozero::CoordDimensions::xy(), Some(4326), envelope)
            .map_err(|e| ImportError::Write { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) })?;
        sqlx::query("INSERT INTO grids (geom, code, community_code, kind, level, parent_code, name, population, households, buildings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(blob)
            .bind(&g.code)
            .bind(&g.community_code)
            .bind(kind(g))
            .bind(level(g))
            .bind(&g.parent_code)
            .bind(&g.name)
            .bind(g.population as i64)
            .bind(g.households as i64)
            .bind(serde_json::to_string(&g.buildings).expect("strings serialise"))
            .execute(&mut *tx)
            .await
            .map_err(bad)?;
    }
    tx.commit().await.map_err(bad)?;
    conn.close().await.map_err(bad)?;
    Ok(())
}

/// What the building table found, for the report.
#[derive(Debug, Default, PartialEq)]
pub struct BuildingTable {
    pub rows: usize,
    /// Buildings of the dataset that no grid lists.
    pub in_no_grid: Vec<String>,
    /// Ids the layer lists that the dataset does not have.
    pub unknown: Vec<String>,
}

/// One row per building (or unit part `ID#UNIT`): building, unit, grid, micro-grid, community,
/// residents, households, address. Residents come from the dataset, not the layer.
pub fn building_csv(layer: &GridLayer, dataset: &Dataset, out: &Path) -> Result<BuildingTable, ImportError> {
    let mut grid_of: HashMap<&str, &Grid> = HashMap::new();
    let mut micro_of: HashMap<&str, &Grid> = HashMap::new();
    for g in &layer.grids {
        for b in &g.buildings {
            match g.level {
                GridLevel::Grid => grid_of.insert(b.as_str(), g),
                GridLevel::Micro => micro_of.insert(b.as_str(), g),
            };
        }
    }
    let (tmp, _) = scratch(out)?;
    let path = tmp.path().join("buildings.csv");
    let mut w = ::csv::Writer::from_path(&path).map_err(|e| ImportError::Write { path: path.clone(), source: std::io::Error::other(e.to_string()) })?;
    let fail = |e: ::csv::Error| ImportError::Write { path: out.to_path_buf(), source: std::io::Error::other(e.to_string()) };
    w.write_record(["building", "unit", "grid", "micro_grid", "community", "population", "households", "address"]).map_err(fail)?;
    let mut table = BuildingTable::default();
    let mut known = std::collections::HashSet::new();
    for b in &dataset.buildings {
        let community = dataset.communities[b.community].code.to_string();
        // A building split into units appears in grids as its unit parts.
        let parts: Vec<(String, String, u32, u32)> = if b.units.is_empty() || grid_of.contains_key(b.id.as_str()) {
            vec![(b.id.clone(), String::new(), b.population, b.households)]
        } else {
            b.units.iter().map(|u| (format!("{}#{}", b.id, u.name), u.name.clone(), u.population, u.households)).collect()
        };
        for (key, unit, population, households) in parts {
            known.insert(key.clone());
            let grid = grid_of.get(key.as_str());
            if grid.is_none() {
                table.in_no_grid.push(key.clone());
            }
            let micro = micro_of.get(key.as_str()).map(|g| g.code.as_str()).unwrap_or("");
            w.write_record([
                b.id.as_str(), unit.as_str(), grid.map(|g| g.code.as_str()).unwrap_or(""), micro, community.as_str(),
                &population.to_string(), &households.to_string(), b.address.as_deref().unwrap_or(""),
            ])
            .map_err(fail)?;
            table.rows += 1;
        }
    }
    w.flush().map_err(write_err(out))?;
    drop(w);
    table.unknown = grid_of.keys().filter(|k| !known.contains(**k)).map(|k| k.to_string()).collect();
    table.unknown.sort();
    std::fs::rename(&path, out).map_err(write_err(out))?;
    Ok(table)
}
