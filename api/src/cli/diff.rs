//! `wangge diff OLD NEW`: what changed between two versions of a grid layer.

use super::format::thousands;
use anyhow::Context;
use clap::Args;
use gis_core::diff::{GridChange, GridMoves, LayerDiff, MoveShare, diff};
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
    if !d.grids.is_empty() {
        let _ = writeln!(out, "\nResidents in and out per grid (most moved first)");
        for g in &d.grids {
            let _ = writeln!(out, "{}", grid_line(g));
        }
        if !d.micro_grids.is_empty() {
            let count = |c: GridChange| d.micro_grids.iter().filter(|g| g.change == c).count();
            let moved = d.micro_grids.iter().filter(|g| g.residents_moved() > 0).count();
            let _ = writeln!(
                out,
                "Micro-grids: {} created, {} retired, {} changed; {moved} with residents in or out (--json lists them).",
                count(GridChange::Created),
                count(GridChange::Retired),
                count(GridChange::Changed)
            );
        }
    }
    if let Some(large) = &d.large_moves {
        let _ = writeln!(
            out,
            "\nLarge moves (publishing needs --confirm-large-moves): {}",
            large.summary()
        );
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

/// "  350206001017002 changed: 1,667 → 1,989 residents; in 322 (322 from 350206001017001), out 0;
/// buildings +7 −0".
fn grid_line(g: &GridMoves) -> String {
    let shares = |list: &[MoveShare], way: &str, nowhere: &str| -> String {
        list.iter()
            .map(|s| match s.code.as_deref() {
                Some(code) => format!("{} {way} {code}", thousands(s.residents)),
                None => format!("{} {nowhere}", thousands(s.residents)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let change = match g.change {
        GridChange::Created => "created",
        GridChange::Retired => "retired",
        GridChange::Changed => "changed",
    };
    let mut line = format!(
        "  {} {change}: {} → {} residents; in {}",
        g.code,
        thousands(g.residents_before),
        thousands(g.residents_after),
        thousands(g.residents_in)
    );
    if !g.from.is_empty() {
        let _ = write!(line, " ({})", shares(&g.from, "from", "new to the dataset"));
    }
    let _ = write!(line, ", out {}", thousands(g.residents_out));
    if !g.to.is_empty() {
        let _ = write!(line, " ({})", shares(&g.to, "to", "no longer in the dataset"));
    }
    let _ = write!(line, "; buildings +{} −{}", g.buildings_in, g.buildings_out);
    line
}
