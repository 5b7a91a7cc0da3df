//! `wangge map DATASET --community CODE --out map.png|map.pdf`: the printable grid map (网格图),
//! its table listing every grid with the workers of `staff.json`.

use super::{BoundsArgs, write_atomically};
use anyhow::Context;
use clap::Args;
use gis_core::io::grids::read_layer;
use gis_core::io::load_dataset;
use gis_core::partition::{PartitionOptions, partition};
use std::path::PathBuf;
use std::process::ExitCode;
use tiles::data::MapData;
use tiles::print::{PrintOptions, print, today};

#[derive(Debug, Args)]
pub struct MapArgs {
    /// Dataset folder (its staff.json gives the workers listed in the table)
    dataset: PathBuf,
    /// The community's 12-digit code
    #[arg(long)]
    community: String,
    /// Where to write the map: a .pdf is one A3 page per page, anything else a PNG (the pages
    /// one under the other when the table continues)
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
    let opts = PrintOptions::a3(today()).with_staff(dataset.staff.clone());
    let pdf = args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    let printed = print(&map, &args.community, &opts).context("cannot draw the map")?;
    write_atomically(&args.out, &if pdf { printed.pdf() } else { printed.png() })?;
    let pages = printed.pages.len();
    let unstaffed = printed.table.iter().filter(|e| e.workers == 0).count();
    println!(
        "Drew community {} on A3 landscape at 150 dpi (2480×1754 px): {} grids in the table{}{}; wrote {}",
        args.community,
        printed.table.len(),
        if unstaffed > 0 {
            format!(", {unstaffed} without a worker in staff.json")
        } else {
            String::new()
        },
        if pages > 1 {
            format!(", over {pages} pages")
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
