//! `wangge export GRIDS --format geojson|shapefile|gpkg|csv --out PATH [--dataset DIR]`.

use anyhow::Context;
use clap::{Args, ValueEnum};
use gis_core::io::grids::read_layer;
use gis_core::io::load_dataset;
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
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let layer = read_layer(&args.grids).with_context(|| format!("cannot export {}", args.grids.display()))?;
    let n = layer.grids.len();
    match args.format {
        Format::Geojson => {
            import::export::geojson(&layer, &args.out)?;
            println!("Wrote {n} grids as GeoJSON to {}", args.out.display());
        }
        Format::Shapefile => {
            anyhow::ensure!(args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp")), "--out {}: a shapefile is named NAME.shp", args.out.display());
            let files = import::export::shapefile(&layer, &args.out)?;
            println!("Wrote {n} grids as a shapefile (WGS-84, UTF-8): {}", files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "));
        }
        Format::Gpkg => {
            import::export::gpkg(&layer, &args.out)?;
            println!("Wrote {n} grids to the GeoPackage {} (table grids, EPSG:4326)", args.out.display());
        }
        Format::Csv => {
            let dir = args.dataset.as_ref().context("--format csv lists buildings by grid and needs --dataset DIR")?;
            let dataset = load_dataset(dir).with_context(|| format!("cannot export against {}", dir.display()))?.dataset;
            let table = import::export::building_csv(&layer, &dataset, &args.out)?;
            println!("Wrote {} rows (building or unit → grid) to {}", table.rows, args.out.display());
            if !table.in_no_grid.is_empty() {
                println!("  {} in no grid (their grid column is empty): {}", table.in_no_grid.len(), table.in_no_grid.iter().take(10).cloned().collect::<Vec<_>>().join(", "));
            }
            if !table.unknown.is_empty() {
                println!("  {} ids in the layer are not buildings of the dataset: {}", table.unknown.len(), table.unknown.iter().take(10).cloned().collect::<Vec<_>>().join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
