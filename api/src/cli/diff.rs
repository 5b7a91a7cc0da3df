//! `wangge diff OLD NEW`: what changed between two versions of a grid layer.

use super::format::thousands;
use anyhow::Context;
use clap::Args;
use gis_core::diff::{LayerDiff, diff};
use gis_core::io::grids::read_layer;
use gis_core::io::load_dataset;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older layer
    old: PathBuf,
    /// The newer layer
    new: PathBuf,
    /// Dataset folder, to count residents (a layer lists buildings, not people)
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Print the diff as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let old = read_layer(&args.old).context("cannot diff")?;
    let new = read_layer(&args.new).context("cannot diff")?;
    let dataset = match &args.dataset {
        Some(dir) => Some(
            load_dataset(dir)
                .with_context(|| format!("cannot count residents with {}", dir.display()))?
                .dataset,
        ),
        None => None,
    };
    let d = diff(&old, &new, dataset.as_ref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", render(&args, &d));
    }
    Ok(ExitCode::SUCCESS)
}

fn render(args: &DiffArgs, d: &LayerDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} → {}", args.old.display(), args.new.display());
    if d.is_empty() {
        let _ = writeln!(
            out,
            "No change: {} grids, same codes, buildings and geometry.",
            d.unchanged
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{} unchanged, {} changed, {} created, {} retired",
        d.unchanged,
        d.changed.len(),
        d.created.len(),
        d.retired.len()
    );
    for c in &d.changed {
        let geometry = if c.geometry_changed { ", new outline" } else { "" };
        let _ = writeln!(
            out,
            "  changed {}: +{} −{} buildings{geometry}",
            c.code, c.buildings_gained, c.buildings_lost
        );
    }
    for c in &d.created {
        let _ = writeln!(out, "  created {c}");
    }
    for c in &d.retired {
        let _ = writeln!(out, "  retired {c}");
    }
    let moves = d
        .moved_buildings
        .iter()
        .filter(|m| m.from.is_some() && m.to.is_some())
        .count();
    let _ = write!(
        out,
        "Buildings: {moves} moved grid, {} new, {} gone",
        d.moved_buildings.iter().filter(|m| m.from.is_none()).count(),
        d.moved_buildings.iter().filter(|m| m.to.is_none()).count()
    );
    match d.moved_residents {
        Some(r) => {
            let _ = writeln!(out, "; {} residents moved grid.", thousands(r));
        }
        None => {
            let _ = writeln!(out, " (pass --dataset to count residents).");
        }
    }
    if !d.lineage.is_empty() {
        let _ = writeln!(out, "\nLineage (in {})", d.weight);
        for e in &d.lineage {
            let mut parts: Vec<String> = e
                .from
                .iter()
                .map(|s| format!("{} from {}", thousands(s.residents), s.code))
                .collect();
            if e.new_residents > 0 {
                parts.push(format!("{} new", thousands(e.new_residents)));
            }
            let _ = writeln!(out, "  {}: {}", e.code, parts.join(", "));
        }
    }
    out
}
