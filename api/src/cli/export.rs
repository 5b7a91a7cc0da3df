//! `wangge export GRIDS --format geojson|shapefile|gpkg|csv --out PATH [--dataset DIR] [--crs CRS]`.

use anyhow::Context;
use clap::{Args, ValueEnum};
use gis_core::io::grids::read_layer;
use gis_core::io::load_dataset;
use import::export::ExportCrs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Geojson,
    Shapefile,
    Gpkg,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Grid layer (GeoJSON, from `wangge partition` or `repartition`)
    grids: PathBuf,
    #[arg(long, value_enum)]
    format: Format,
    /// Where to write (for a shapefile: NAME.shp, with .shx, .dbf, .prj and .cpg beside it)
    #[arg(long)]
    out: PathBuf,
    /// The dataset the grids cover (needed for --format csv: building → grid)
    #[arg(long, value_name = "DIR")]
    dataset: Option<PathBuf>,
    /// Coordinate system to write: wgs84 (default), gcj02 (AMap, Tencent), bd09 (Baidu),
    /// EPSG:4490 (CGCS2000), or any EPSG code, e.g. EPSG:4527 (a CGCS2000 Gauss-Krüger zone)
    #[arg(long)]
    crs: Option<String>,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let layer = read_layer(&args.grids).with_context(|| format!("cannot export {}", args.grids.display()))?;
    let n = layer.grids.len();
    let crs = match &args.crs {
        None => ExportCrs::wgs84(),
        Some(c) => ExportCrs::parse(c).map_err(|reason| import::ImportError::UnknownCrs {
            path: None,
            given: c.clone(),
            reason,
        })?,
    };
    let system = crs.describe();
    match args.format {
        Format::Geojson => {
            import::export::geojson(&layer, &crs, &args.out)?;
            let member = if crs.is_wgs84() {
                String::new()
            } else {
                ", named in its crs member".to_string()
            };
            println!(
                "Wrote {n} grids as GeoJSON to {} ({system}{member})",
                args.out.display()
            );
        }
        Format::Shapefile => {
            anyhow::ensure!(
                args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp")),
                "--out {}: a shapefile is named NAME.shp",
                args.out.display()
            );
            let files = import::export::shapefile(&layer, &crs, &args.out)?;
            println!(
                "Wrote {n} grids as a shapefile ({system}, UTF-8): {}",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if crs.epsg.is_none() {
                println!(
                    "  {system} has no EPSG code, so no .prj was written: GIS tools will ask what the coordinates are; they are {system} longitude/latitude"
                );
            }
        }
        Format::Gpkg => {
            import::export::gpkg(&layer, &crs, &args.out)?;
            println!(
                "Wrote {n} grids to the GeoPackage {} (table grids, {system})",
                args.out.display()
            );
        }
        Format::Csv => {
            anyhow::ensure!(
                args.crs.is_none(),
                "--crs: the building table has no coordinates; give --crs with geojson, shapefile or gpkg"
            );
            let dir = args
                .dataset
                .as_ref()
                .context("--format csv lists buildings by grid and needs --dataset DIR")?;
            let dataset = load_dataset(dir)
                .with_context(|| format!("cannot export against {}", dir.display()))?
                .dataset;
            let table = import::export::building_csv(&layer, &dataset, &args.out)?;
            println!(
                "Wrote {} rows (building or unit → grid) to {}",
                table.rows,
                args.out.display()
            );
            if !table.in_no_grid.is_empty() {
                println!(
                    "  {} in no grid (their grid column is empty): {}",
                    table.in_no_grid.len(),
                    table.in_no_grid.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                );
            }
            if !table.unknown.is_empty() {
                println!(
                    "  {} ids in the layer are not buildings of the dataset: {}",
                    table.unknown.len(),
                    table.unknown.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
