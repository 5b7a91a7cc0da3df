//! Grid layers out: GeoJSON, Shapefile (with a .prj and a UTF-8 .cpg), GeoPackage (one `grids`
//! feature table), and a CSV of building → grid for spreadsheets. Coordinates are WGS-84 unless
//! an [`ExportCrs`] says otherwise: GCJ-02 or BD-09 for Chinese web maps, CGCS2000 (EPSG:4490),
//! or any EPSG system proj4rs expresses (a bureau's Gauss-Krüger zone, EPSG:45xx).
//! Every format is written beside its target and renamed into place, so no reader sees half a file.

use crate::crs::{BD09_URI, GCJ02_URI, SourceCrs, epsg_wkt};
use crate::error::ImportError;
use geo::{BoundingRect, MapCoords, MultiPolygon};
use geozero::ToWkb;
use gis_core::crs::Crs;
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::io::grids::GridLayer;
use gis_core::model::Dataset;
use shapefile::dbase;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The .prj every GIS reads as WGS-84 longitude/latitude (Esri's WKT, as GDAL writes it).
pub const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

/// The coordinate system an export is written in: the system, and the EPSG code files record
/// (None for GCJ-02 and BD-09, which have none).
#[derive(Debug, Clone)]
pub struct ExportCrs {
    pub crs: SourceCrs,
    pub epsg: Option<u16>,
}

impl ExportCrs {
    pub fn wgs84() -> Self {
        Self {
            crs: SourceCrs::WGS84,
            epsg: Some(4326),
        }
    }

    /// `wgs84`, `cgcs2000`, `gcj02`, `bd09`, CRS84 or any EPSG code (`EPSG:4490`, `EPSG:4527`, ...).
    pub fn parse(s: &str) -> Result<Self, String> {
        let crs = SourceCrs::parse(s)?;
        let epsg = match &crs {
            SourceCrs::Geographic(Crs::Wgs84) => {
                let l = s.to_ascii_lowercase().replace(['-', '_'], "");
                Some(match crate::crs::epsg_code(s) {
                    Some(Ok(code)) => code,
                    _ if l.contains("cgcs2000") => 4490,
                    _ => 4326,
                })
            }
            SourceCrs::Geographic(_) => None,
            SourceCrs::Projected(p) => Some(
                p.epsg
                    .ok_or_else(|| format!("{} has no EPSG code to record in the files", p.name))?,
            ),
        };
        Ok(Self { crs, epsg })
    }

    pub fn is_wgs84(&self) -> bool {
        self.epsg == Some(4326)
    }

    /// What the report calls it: `EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger zone 39)`, `GCJ-02`.
    pub fn describe(&self) -> String {
        match (&self.crs, self.epsg) {
            (SourceCrs::Projected(p), Some(code)) => format!("EPSG:{code} ({})", p.name),
            (_, Some(4326)) => "WGS-84, EPSG:4326".into(),
            (_, Some(4490)) => "CGCS2000, EPSG:4490".into(),
            (c, Some(code)) => format!("EPSG:{code} ({})", c.label()),
            (c, None) => c.label(),
        }
    }

    /// The name a GeoJSON `crs` member gives it, as GDAL writes one (None for plain WGS-84,
    /// which RFC 7946 makes the default).
    fn geojson_name(&self) -> Option<String> {
        match (&self.crs, self.epsg) {
            (_, Some(4326)) => None,
            (_, Some(code)) => Some(format!("urn:ogc:def:crs:EPSG::{code}")),
            (SourceCrs::Geographic(Crs::Gcj02), None) => Some(GCJ02_URI.into()),
            (SourceCrs::Geographic(Crs::Bd09), None) => Some(BD09_URI.into()),
            _ => None,
        }
    }

    /// The layer with every grid's coordinates in this system (x = easting or longitude).
    pub fn project(&self, layer: &GridLayer) -> Result<GridLayer, ImportError> {
        if self.is_wgs84() || self.epsg == Some(4490) {
            return Ok(layer.clone());
        }
        let mut out = layer.clone();
        for g in &mut out.grids {
            g.area = g
                .area
                .try_map_coords(|c| self.crs.from_wgs84(c))
                .map_err(|e| ImportError::Setting(format!("grid {}: {e}", g.code)))?;
        }
        Ok(out)
    }
}

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
    move |source| ImportError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// A temporary folder beside `out`, for writing before the rename.
fn scratch(out: &Path) -> Result<(tempfile::TempDir, PathBuf), ImportError> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&parent).map_err(write_err(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".wangge-export-")
        .tempdir_in(&parent)
        .map_err(write_err(&parent))?;
    Ok((tmp, parent))
}

/// A GeoJSON FeatureCollection; outside WGS-84 with a `crs` member naming the system, as GDAL
/// writes one (RFC 7946 readers assume WGS-84, so the member is what tells them otherwise).
pub fn geojson(layer: &GridLayer, crs: &ExportCrs, out: &Path) -> Result<(), ImportError> {
    let (tmp, _) = scratch(out)?;
    let path = tmp.path().join("grids.geojson");
    let mut text = gis_core::io::grids::to_geojson(&crs.project(layer)?);
    if let Some(name) = crs.geojson_name() {
        let head = "{\"type\":\"FeatureCollection\",";
        debug_assert!(text.starts_with(head));
        text.insert_str(
            head.len(),
            &format!("\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"{name}\"}}}},"),
        );
    }
    std::fs::write(&path, text).map_err(write_err(&path))?;
    std::fs::rename(&path, out).map_err(write_err(out))
}

/// Shapefile fields, ≤ 10 characters (dBase). `buildings` holds the count; the ids are in the CSV.
/// GCJ-02 and BD-09 have no definition a .prj can hold, so they get none (the report says so).
pub fn shapefile(layer: &GridLayer, crs: &ExportCrs, out: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let layer = &crs.project(layer)?;
    let (tmp, _) = scratch(out)?;
    let stem = out
        .file_stem()
        .ok_or_else(|| ImportError::Setting(format!("{} is not a file name", out.display())))?
        .to_string_lossy()
        .to_string();
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
    let mut writer = shapefile::Writer::from_path(&shp, table).map_err(|e| ImportError::Write {
        path: shp.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
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
        record.insert(
            "population".into(),
            dbase::FieldValue::Numeric(Some(g.population as f64)),
        );
        record.insert(
            "households".into(),
            dbase::FieldValue::Numeric(Some(g.households as f64)),
        );
        record.insert(
            "buildings".into(),
            dbase::FieldValue::Numeric(Some(g.buildings.len() as f64)),
        );
        writer
            .write_shape_and_record(&polygon, &record)
            .map_err(|e| ImportError::Write {
                path: shp.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
    }
    // Dropping the writer finishes the .shp/.shx headers and flushes the .dbf.
    drop(writer);
    let prj = match crs.epsg {
        Some(4326) => Some(WGS84_PRJ),
        Some(code) => Some(
            epsg_wkt(code).ok_or_else(|| ImportError::Setting(format!("EPSG:{code} has no WKT in the EPSG table")))?,
        ),
        None => None,
    };
    if let Some(prj) = prj {
        std::fs::write(tmp.path().join(format!("{stem}.prj")), prj).map_err(write_err(out))?;
    }
    std::fs::write(tmp.path().join(format!("{stem}.cpg")), "UTF-8").map_err(write_err(out))?;
    // A .prj of an earlier export in another system must not outlive this one.
    if prj.is_none() && out.with_extension("prj").exists() {
        std::fs::remove_file(out.with_extension("prj")).map_err(write_err(out))?;
    }
    let mut written = Vec::new();
    for ext in ["shp", "shx", "dbf", "prj", "cpg"]
        .into_iter()
        .filter(|e| *e != "prj" || prj.is_some())
    {
        let to = out.with_extension(ext);
        std::fs::rename(tmp.path().join(format!("{stem}.{ext}")), &to).map_err(write_err(&to))?;
        written.push(to);
    }
    Ok(written)
}

/// A GeoPackage 1.3 with one feature table `grids` in `crs` (its srs recorded by EPSG code and
/// WKT; GCJ-02 and BD-09 as srs of organisation `wangge`, definition undefined), made with the
/// store's sqlx.
pub fn gpkg(layer: &GridLayer, crs: &ExportCrs, out: &Path) -> Result<(), ImportError> {
    let layer = &crs.project(layer)?;
    let (tmp, _) = scratch(out)?;
    let path = tmp.path().join("grids.gpkg");
    crate::gpkg::runtime(&path)?.block_on(write_gpkg(layer, crs, &path))?;
    std::fs::rename(&path, out).map_err(write_err(out))
}

/// The srs row of a GeoPackage: (srs_id, name, organization, code, definition, description).
fn gpkg_srs(crs: &ExportCrs) -> Result<(i64, String, &'static str, i64, String, String), ImportError> {
    Ok(match (&crs.crs, crs.epsg) {
        (_, Some(4326)) => (
            4326,
            "WGS 84 geodetic".into(),
            "EPSG",
            4326,
            GPKG_WGS84.into(),
            "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid".into(),
        ),
        (_, Some(code)) => {
            let wkt = epsg_wkt(code)
                .ok_or_else(|| ImportError::Setting(format!("EPSG:{code} has no WKT in the EPSG table")))?;
            (
                i64::from(code),
                wkt.split('"').nth(1).unwrap_or_default().to_string(),
                "EPSG",
                i64::from(code),
                wkt.to_string(),
                format!("EPSG:{code}"),
            )
        }
        (SourceCrs::Geographic(Crs::Bd09), None) => (
            990_003,
            "BD-09 (Baidu)".into(),
            "wangge",
            3,
            "undefined".into(),
            "BD-09 longitude/latitude: GCJ-02 with Baidu's further offset; no EPSG code".into(),
        ),
        _ => (
            990_002,
            "GCJ-02 (AMap, Tencent)".into(),
            "wangge",
            2,
            "undefined".into(),
            "GCJ-02 longitude/latitude: WGS-84 with the offset Chinese web maps apply; no EPSG code".into(),
        ),
    })
}

const GPKG_WGS84: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

async fn write_gpkg(layer: &GridLayer, crs: &ExportCrs, path: &Path) -> Result<(), ImportError> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    let bad = |e: sqlx::Error| ImportError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .map_err(bad)?;
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
    let (srs_id, srs_name, org, code, definition, description) = gpkg_srs(crs)?;
    sqlx::query("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)")
        .bind(srs_name)
        .bind(srs_id)
        .bind(org)
        .bind(code)
        .bind(definition)
        .bind(description)
        .execute(&mut *tx)
        .await
        .map_err(bad)?;
    let all = MultiPolygon(layer.grids.iter().flat_map(|g| g.area.0.iter().cloned()).collect());
    let extent = all.bounding_rect();
    sqlx::query("INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id) VALUES ('grids', 'features', 'grids', ?, ?, ?, ?, ?)")
        .bind(extent.map(|r| r.min().x))
        .bind(extent.map(|r| r.min().y))
        .bind(extent.map(|r| r.max().x))
        .bind(extent.map(|r| r.max().y))
        .bind(srs_id)
        .execute(&mut *tx)
        .await
        .map_err(bad)?;
    // After gpkg_contents: the geometry column refers to its row.
    sqlx::query("INSERT INTO gpkg_geometry_columns VALUES ('grids', 'geom', 'MULTIPOLYGON', ?, 0, 0)")
        .bind(srs_id)
        .execute(&mut *tx)
        .await
        .map_err(bad)?;
    for g in &layer.grids {
        let envelope = g
            .area
            .bounding_rect()
            .map(|r| vec![r.min().x, r.max().x, r.min().y, r.max().y])
            .unwrap_or_default();
        let blob = geo::Geometry::MultiPolygon(g.area.clone())
            .to_gpkg_wkb(geozero::CoordDimensions::xy(), Some(srs_id as i32), envelope)
            .map_err(|e| ImportError::Write {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            })?;
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
    let mut w = ::csv::Writer::from_path(&path).map_err(|e| ImportError::Write {
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let fail = |e: ::csv::Error| ImportError::Write {
        path: out.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    w.write_record([
        "building",
        "unit",
        "grid",
        "micro_grid",
        "community",
        "population",
        "households",
        "address",
    ])
    .map_err(fail)?;
    let mut table = BuildingTable::default();
    let mut known = std::collections::HashSet::new();
    for b in &dataset.buildings {
        let community = dataset.communities[b.community].code.to_string();
        // A building split into units appears in grids as its unit parts.
        let parts: Vec<(String, String, u32, u32)> = if b.units.is_empty() || grid_of.contains_key(b.id.as_str()) {
            vec![(b.id.clone(), String::new(), b.population, b.households)]
        } else {
            b.units
                .iter()
                .map(|u| {
                    (
                        format!("{}#{}", b.id, u.name),
                        u.name.clone(),
                        u.population,
                        u.households,
                    )
                })
                .collect()
        };
        for (key, unit, population, households) in parts {
            known.insert(key.clone());
            let grid = grid_of.get(key.as_str());
            if grid.is_none() {
                table.in_no_grid.push(key.clone());
            }
            let micro = micro_of.get(key.as_str()).map(|g| g.code.as_str()).unwrap_or("");
            w.write_record([
                b.id.as_str(),
                unit.as_str(),
                grid.map(|g| g.code.as_str()).unwrap_or(""),
                micro,
                community.as_str(),
                &population.to_string(),
                &households.to_string(),
                b.address.as_deref().unwrap_or(""),
            ])
            .map_err(fail)?;
            table.rows += 1;
        }
    }
    w.flush().map_err(write_err(out))?;
    drop(w);
    table.unknown = grid_of
        .keys()
        .filter(|k| !known.contains(**k))
        .map(|k| k.to_string())
        .collect();
    table.unknown.sort();
    std::fs::rename(&path, out).map_err(write_err(out))?;
    Ok(table)
}
