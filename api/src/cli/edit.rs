//! `wangge move DATASET GRIDS --building ID[,ID…] --to CODE --out NEW`: a planner's manual edit.

use super::{BoundsArgs, write_atomically};
use anyhow::Context;
use clap::Args;
use gis_core::io::grids::{read_layer, to_geojson};
use gis_core::io::load_dataset;
use gis_core::partition::{MoveError, move_buildings};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// Dataset folder
    dataset: PathBuf,
    /// The grid layer to edit
    grids: PathBuf,
    /// Building ids to move, comma-separated
    #[arg(long, value_delimiter = ',', required = true)]
    building: Vec<String>,
    /// Code of the grid they move to
    #[arg(long)]
    to: String,
    /// Where to write the edited layer
    #[arg(long)]
    out: PathBuf,
    /// Make the move even if it breaks contiguity or the bounds; the report says so
    #[arg(long)]
    force: bool,
    /// Also write the report as JSON here
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    #[command(flatten)]
    bounds: BoundsArgs,
}

/// Exit status for an edit the rules refuse.
const REFUSED: u8 = 1;

pub fn run(args: MoveArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_dataset(&args.dataset).with_context(|| format!("cannot edit with {}", args.dataset.display()))?;
    let layer = read_layer(&args.grids).context("cannot edit this layer")?;
    let bounds = args.bounds.bounds_or(layer.meta.bounds)?;
    let result = match move_buildings(&loaded.dataset, &layer, &args.building, &args.to, bounds, args.force) {
        Ok(r) => r,
        Err(e @ MoveError::Refused(_)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(REFUSED));
        }
        Err(e) => return Err(e).context("cannot make this move"),
    };
    if !result.report.is_clean() {
        print!("{}", super::format::verification(&result.report.verification, "grids"));
        if let Some(v) = &result.report.micro_verification {
            print!("{}", super::format::verification(v, "micro-grids"));
        }
        eprintln!("error: the edited layer failed its own check (above); nothing was written");
        return Ok(super::exit_check_failed());
    }
    write_atomically(&args.out, to_geojson(&result.layer).as_bytes())?;
    if let Some(path) = &args.report {
        write_atomically(path, serde_json::to_string_pretty(&result.report)?.as_bytes())?;
    }
    println!(
        "Moved {} to {}; wrote {}.",
        args.building.join(", "),
        args.to,
        args.out.display()
    );
    if !result.report.changed.is_empty() {
        println!("Changed grids: {}", result.report.changed.join(", "));
    }
    for f in &result.report.forced {
        println!("FORCED: {f}");
    }
    Ok(ExitCode::SUCCESS)
}
