//! `wangge map DATASET --community CODE --out map.png`: the printable grid map (网格图).

use super::{BoundsArgs, write_atomically};
use anyhow::Context;
use clap::Args;
use gis_core::io::grids::read_layer;
use gis_core::io::load_dataset;
use gis_core::partition::{PartitionOptions, partition};
use std::path::PathBuf;
use std::process::ExitCode;
use tiles::data::MapData;
use tiles::print::{PrintOptions, render_png, today};

#[derive(Debug, Args)]
pub struct MapArgs {
    /// Dataset folder
    dataset: PathBuf,
    /// The community's 12-digit code
    #[arg(long)]
    community: String,
    /// Where to write the PNG
    #[arg(long)]
    out: PathBuf,
    /// A grid layer to draw (default: partition the dataset now)
    #[arg(long)]
    grids: Option<PathBuf>,
    #[command(flatten)]
    bounds: BoundsArgs,
}

pub fn run(args: MapArgs) -> anyhow::Result<ExitCode> {
    let dataset = load_dataset(&args.dataset)
        .with_context(|| format!("cannot map {}", args.dataset.display()))?
        .dataset;
    let (grids, bounds) = match &args.grids {
        Some(path) => {
            let layer = read_layer(path).context("cannot map this layer")?;
            let bounds = args.bounds.bounds_or(layer.meta.bounds)?;
            (layer.grids, bounds)
        }
        None => {
            let bounds = args.bounds.bounds()?;
            let options = PartitionOptions {
                bounds,
                micro: Some(PartitionOptions::default_micro()),
                ..PartitionOptions::default()
            };
            (partition(&dataset, &options, &mut |_, _| {}).grids, bounds)
        }
    };
    let map = MapData::new(&dataset, &grids, bounds);
    let png = render_png(&map, &args.community, &PrintOptions::a3(today())).context("cannot draw the map")?;
    write_atomically(&args.out, &png)?;
    println!(
        "Drew community {} on A3 landscape at 150 dpi (2480×1754 px); wrote {}",
        args.community,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
