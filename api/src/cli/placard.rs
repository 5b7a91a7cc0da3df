//! `wangge placard [DATASET] (--building ID | --grid CODE) --out FILE --public-url URL`: the
//! building notice board (楼栋公示牌) of one building, or of every building of a grid as one PDF.
//! From the store's published version (its number and date printed on it) unless a dataset
//! folder is given (then with `--grids`, or partitioned now, and its staff.json).

use super::versions::StoreArgs;
use super::{BoundsArgs, write_atomically};
use anyhow::Context;
use api::placards::{Source, buildings_of_grid, placards};
use clap::Args;
use gis_core::grid::Grid;
use gis_core::io::grids::read_layer;
use gis_core::io::load_dataset;
use gis_core::lookup::LookupIndex;
use gis_core::partition::{PartitionOptions, partition};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PlacardArgs {
    /// Dataset folder to draw from instead of the store's published version
    dataset: Option<PathBuf>,
    /// With a dataset: the grid layer (default: partition the dataset now)
    #[arg(long, requires = "dataset")]
    grids: Option<PathBuf>,
    /// The building whose placard to draw
    #[arg(long, value_name = "ID", required_unless_present = "grid", conflicts_with = "grid")]
    building: Option<String>,
    /// Every building of this grid, one page each (PDF only)
    #[arg(long, value_name = "CODE")]
    grid: Option<String>,
    /// Where to write it: .pdf for a PDF (one A4 page a building), anything else a PNG (one building)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The URL residents reach the web map at; the QR code holds {URL}/b/{building id}
    #[arg(long, value_name = "URL", value_parser = super::public_url)]
    public_url: String,
    #[command(flatten)]
    at: StoreArgs,
    #[command(flatten)]
    bounds: BoundsArgs,
}

/// What the placards are drawn from: a lookup index over the grids, the grids, the version.
struct Drawn {
    lookup: LookupIndex,
    dataset: std::sync::Arc<gis_core::model::Dataset>,
    walks: Option<gis_core::walk::ResourceWalks>,
    grids: Vec<Grid>,
    version: Option<i64>,
    date: String,
}

fn from_dataset(args: &PlacardArgs, path: &std::path::Path) -> anyhow::Result<Drawn> {
    let dataset = load_dataset(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .dataset;
    let grids = match &args.grids {
        Some(g) => read_layer(g).context("cannot read this layer")?.grids,
        None => {
            let options = PartitionOptions {
                bounds: args.bounds.bounds()?,
                micro: Some(PartitionOptions::default_micro()),
                ..PartitionOptions::default()
            };
            partition(&dataset, &options, &mut |_, _| {}).grids
        }
    };
    let lookup = LookupIndex::new(&dataset, grids.clone(), &dataset.staff).context("cannot index the grids")?;
    let walks = gis_core::walk::ResourceWalks::new(&dataset);
    Ok(Drawn {
        lookup,
        dataset: std::sync::Arc::new(dataset),
        walks,
        grids,
        version: None,
        date: tiles::print::today(),
    })
}

fn from_store(args: &PlacardArgs) -> anyhow::Result<Drawn> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = args.at.open().await?;
        let p = store
            .published(None)
            .await
            .context("cannot read the published version")?
            .context("the store has no published version: publish one, or give a DATASET folder")?;
        let lookup = LookupIndex::new(&p.dataset, p.layer.grids.clone(), &p.staff)
            .context("cannot index the published grids")?;
        Ok(Drawn {
            lookup,
            walks: gis_core::walk::ResourceWalks::new(&p.dataset),
            dataset: p.dataset.clone(),
            grids: p.layer.grids.clone(),
            version: Some(p.version.number),
            date: api::placards::day_of(&p.version.published_at),
        })
    })
}

pub fn run(args: PlacardArgs) -> anyhow::Result<ExitCode> {
    let pdf = args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    if args.grid.is_some() && !pdf {
        anyhow::bail!(
            "--grid draws every building of the grid, one page each: give --out FILE.pdf (a PNG holds one building; use --building)"
        );
    }
    let drawn = match &args.dataset {
        Some(path) => from_dataset(&args, path)?,
        None => from_store(&args)?,
    };
    let ids = match (&args.building, &args.grid) {
        (Some(b), _) => vec![b.clone()],
        (None, Some(code)) => {
            let ids =
                buildings_of_grid(&drawn.grids, code).with_context(|| format!("no grid has the code {code:?}"))?;
            anyhow::ensure!(!ids.is_empty(), "grid {code} holds no building");
            ids
        }
        (None, None) => unreachable!("clap requires --building or --grid"),
    };
    let src = Source {
        lookup: &drawn.lookup,
        dataset: &drawn.dataset,
        walks: drawn.walks.as_ref(),
        version: drawn.version,
        date: drawn.date.clone(),
        public_url: &args.public_url,
    };
    let made = placards(&src, &ids).context("cannot draw the placards")?;
    let bytes = if pdf {
        tiles::placard::render_pdf(&made)
    } else {
        tiles::placard::render_png(&made[0])
    }
    .context("cannot draw the placards")?;
    write_atomically(&args.out, &bytes)?;
    println!(
        "Drew {} placard{} ({}){}; wrote {}",
        made.len(),
        if made.len() == 1 { "" } else { "s" },
        made.first().map(|p| p.link.as_str()).unwrap_or(""),
        match drawn.version {
            Some(v) => format!(" from version {v} of {}", drawn.date),
            None => " from the dataset (unpublished)".into(),
        },
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
