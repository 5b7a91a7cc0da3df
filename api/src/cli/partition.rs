//! `wangge partition DATASET --out grids.geojson`: grids inside the size bounds.

use super::format::{count, thousands};
use super::{BoundsArgs, write_atomically};
use anyhow::Context;
use clap::Args;
use gis_core::bounds::GridCounts;
use gis_core::io::grids::to_geojson;
use gis_core::io::load_dataset;
use gis_core::partition::{PartitionOptions, PartitionReport};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct PartitionArgs {
    /// Dataset folder
    dataset: PathBuf,
    /// Where to write the grids (GeoJSON FeatureCollection)
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    bounds: BoundsArgs,
    /// Seed for the search: the same input and seed give byte-identical output
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also split each grid into micro-grids (微网格) of 50–200 households
    #[arg(long)]
    micro: bool,
    /// Print the report as JSON instead of the summary for people
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    scheme: super::SchemeArgs,
}

pub fn run(args: PartitionArgs) -> anyhow::Result<ExitCode> {
    super::pages_for(&args.dataset);
    let bounds = args.bounds.bounds()?;
    let loaded = load_dataset(&args.dataset).with_context(|| format!("cannot partition {}", args.dataset.display()))?;
    let scheme = args.scheme.scheme()?;
    let options = PartitionOptions {
        bounds,
        scheme,
        seed: args.seed,
        micro: args.micro.then(PartitionOptions::default_micro),
    };
    let started = Instant::now();
    let n = loaded.dataset.communities.len();
    // A bar only where it helps: many communities, and a person watching.
    let bar = if n > 20 && !args.json {
        ProgressBar::new(n as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} communities  {elapsed} (eta {eta})",
    )?);
    let result = planner::partition_layer(&loaded.dataset, &options, &mut |done, _| bar.set_position(done as u64));
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let clean = result.report.is_clean();
    if clean {
        write_atomically(&args.out, to_geojson(&result.layer).as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result.report)?);
    } else {
        print!("{}", render(&args, &result.report, elapsed.as_secs_f64()));
    }
    super::leave((loaded, result));
    if !clean {
        eprintln!(
            "error: the partition failed its own check (above); {} was not written",
            args.out.display()
        );
        return Ok(super::exit_check_failed());
    }
    Ok(ExitCode::SUCCESS)
}

fn render(args: &PartitionArgs, r: &PartitionReport, seconds: f64) -> String {
    let mut out = String::new();
    let basic: usize = r.communities.iter().map(|c| c.basic_grids).sum();
    let exclusive: usize = r.communities.iter().map(|c| c.exclusive_grids).sum();
    let micro: usize = r.communities.iter().map(|c| c.micro_grids).sum();
    let micro = if micro > 0 {
        format!(", {}", count(micro as u64, "micro-grid"))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Partitioned {} ({}) into {}, {}{micro} of {}–{} {} in {:.2} s; {}\n",
        args.dataset.display(),
        match r.communities.len() {
            1 => "1 community".to_string(),
            n => format!("{} communities", thousands(n as u64)),
        },
        count(basic as u64, "basic grid"),
        count(exclusive as u64, "exclusive grid"),
        thousands(r.bounds.min.into()),
        thousands(r.bounds.max.into()),
        r.bounds.basis.unit(),
        seconds,
        if r.is_clean() {
            format!("wrote {}", args.out.display())
        } else {
            "nothing written (the check below failed)".to_string()
        },
    );
    let header = [
        "code",
        "size",
        "grids",
        "feasible",
        "min",
        "median",
        "max",
        "in bounds",
        "PP mean",
        "PP min",
        "on roads",
        "split",
        "name",
    ];
    let rows: Vec<Vec<String>> = r
        .communities
        .iter()
        .map(|c| {
            vec![
                c.code.clone(),
                thousands(c.basic_size),
                c.basic_grids.to_string(),
                match c.feasible {
                    GridCounts::Feasible { low, high } if low == high => low.to_string(),
                    GridCounts::Feasible { low, high } => format!("{low}–{high}"),
                    GridCounts::Empty => "0".into(),
                    _ => "none".into(),
                },
                thousands(c.sizes.min),
                thousands(c.sizes.median),
                thousands(c.sizes.max),
                format!("{}/{}", c.in_bounds, c.basic_grids),
                format!("{:.2}", c.compactness_mean),
                format!("{:.2}", c.compactness_min),
                format!("{:.0}%", c.road_or_compound_share * 100.0),
                c.split_compounds.to_string(),
                c.name.clone(),
            ]
        })
        .collect();
    let last = header.len() - 1;
    let widths: Vec<usize> = (0..last)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut line = |cells: Vec<&str>| {
        let _ = write!(out, "{:<w$}", cells[0], w = widths[0]);
        for i in 1..last {
            let _ = write!(out, "  {:>w$}", cells[i], w = widths[i]);
        }
        let _ = writeln!(out, "  {}", cells[last]);
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    let checked = |v: &gis_core::partition::Verification, what: &str| super::format::verification(v, what);
    let (removed, before, after) = r.communities.iter().fold((0, 0.0, 0.0), |(a, b, c), x| {
        (
            a + x.borders.corners_removed,
            b + x.borders.length_before_m,
            c + x.borders.length_after_m,
        )
    });
    if removed > 0 {
        let turns: Vec<String> = r
            .communities
            .iter()
            .map(|c| format!("{:.1}", c.borders.turns_per_100m))
            .collect();
        let _ = writeln!(
            out,
            "\nBorders straightened through open space: {} removed; border between grids {} m → {} m ({:.0}% shorter); turns over 20° per 100 m: {}",
            count(removed as u64, "corner"),
            thousands(before.round() as u64),
            thousands(after.round() as u64),
            if before > 0.0 {
                (1.0 - after / before) * 100.0
            } else {
                0.0
            },
            if turns.len() <= 3 {
                turns.join(", ")
            } else {
                format!("{} … (per community in --json)", turns[..3].join(", "))
            }
        );
    }
    let (snapped, inserted, kept) = r.communities.iter().fold((0, 0, 0), |(a, b, c), x| {
        (
            a + x.walls.snapped_corners,
            b + x.walls.inserted_corners,
            c + x.walls.left_as_drawn,
        )
    });
    if snapped + inserted + kept > 0 {
        let _ = writeln!(
            out,
            "\nShared walls reconciled: {} moved onto a neighbour's corner, {} inserted into a neighbour's wall (within 0.1 m){}",
            count(snapped as u64, "corner"),
            thousands(inserted as u64),
            if kept > 0 {
                format!(
                    "; {} left as drawn (reconciling would make them invalid)",
                    count(kept as u64, "footprint")
                )
            } else {
                String::new()
            }
        );
    }
    if let Some(a) = &r.access {
        out.push_str(&super::format::access(a));
    }
    out.push('\n');
    out.push_str(&checked(&r.verification, "grids"));
    if let Some(v) = &r.micro_verification {
        out.push_str(&checked(v, "micro-grids"));
    }
    let warnings: Vec<String> = r
        .communities
        .iter()
        .flat_map(|c| {
            c.warnings
                .iter()
                .map(move |w| format!("{} {}: {}", c.code, c.name, w.message))
        })
        .collect();
    if !warnings.is_empty() {
        out.push_str("\nWarnings\n");
        for w in warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}
