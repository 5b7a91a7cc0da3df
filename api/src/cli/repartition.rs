//! `wangge repartition DATASET --from published.geojson --out new.geojson`: change only what must
//! change, keep codes.

use super::format::{count, thousands};
use super::{BoundsArgs, write_atomically};
use anyhow::Context;
use clap::Args;
use gis_core::io::grids::{read_layer, to_geojson};
use gis_core::io::load_dataset;
use gis_core::partition::{PartitionOptions, RepartitionOptions, RepartitionReport, repartition};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct RepartitionArgs {
    /// Dataset folder (the current data)
    dataset: PathBuf,
    /// The published grid layer to start from
    #[arg(long)]
    from: PathBuf,
    /// Where to write the new layer
    #[arg(long)]
    out: PathBuf,
    /// Also write the report as JSON here
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write staff.json with everyone on their grid's current code here
    #[arg(long, value_name = "FILE")]
    staff_out: Option<PathBuf>,
    #[command(flatten)]
    bounds: BoundsArgs,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Re-draw micro-grids (50–200 households) in changed grids even if the layer has none
    #[arg(long)]
    micro: bool,
    /// Print the report as JSON instead of the summary for people
    #[arg(long)]
    json: bool,
}

pub fn run(args: RepartitionArgs) -> anyhow::Result<ExitCode> {
    super::pages_for(&args.dataset);
    let loaded =
        load_dataset(&args.dataset).with_context(|| format!("cannot re-partition {}", args.dataset.display()))?;
    let published = read_layer(&args.from).context("cannot re-partition from this layer")?;
    let bounds = args.bounds.bounds_or(published.meta.bounds)?;
    let options = RepartitionOptions {
        bounds,
        seed: args.seed,
        micro: args.micro.then(PartitionOptions::default_micro),
    };
    let started = Instant::now();
    let mut result = repartition(&loaded.dataset, &published, &options)
        .with_context(|| format!("cannot re-partition from {}", args.from.display()))?;
    result.report.access = Some(planner::access_section(&loaded.dataset, &result.layer.grids));
    let seconds = started.elapsed().as_secs_f64();
    let clean = result.report.is_clean();
    if !clean {
        if args.json {
            println!("{}", serde_json::to_string_pretty(&result.report)?);
        } else {
            print!("{}", render(&args, &result.report, seconds));
        }
        eprintln!("error: the re-partition failed its own check (above); nothing was written");
        return Ok(super::exit_check_failed());
    }
    write_atomically(&args.out, to_geojson(&result.layer).as_bytes())?;
    if let Some(path) = &args.report {
        write_atomically(path, serde_json::to_string_pretty(&result.report)?.as_bytes())?;
    }
    if let Some(path) = &args.staff_out {
        let staff: Vec<serde_json::Value> = result
            .staff
            .iter()
            .map(|s| serde_json::json!({"grid": s.grid, "name": s.name, "role": s.role, "phone": s.phone}))
            .collect();
        write_atomically(path, serde_json::to_string_pretty(&staff)?.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result.report)?);
    } else {
        print!("{}", render(&args, &result.report, seconds));
    }
    Ok(ExitCode::SUCCESS)
}

fn short(list: &[String]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

pub(super) fn render(args: &RepartitionArgs, r: &RepartitionReport, seconds: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Re-partitioned {} from {} in {:.2} s; wrote {}\n",
        args.dataset.display(),
        args.from.display(),
        seconds,
        args.out.display()
    );
    for c in &r.communities {
        if c.affected.is_empty() && c.strategy.is_none() {
            continue;
        }
        let _ = writeln!(
            out,
            "Community {}: {} affected",
            c.code,
            count(c.affected.len() as u64, "grid")
        );
        for a in &c.affected {
            let _ = writeln!(out, "  {}  {}", a.code, a.reason);
        }
        if let Some(s) = &c.strategy {
            let region = if c.region.is_empty() {
                String::new()
            } else {
                format!("; re-drew {}", c.region.join(", "))
            };
            let _ = writeln!(out, "  repair: {s}{region}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Grids: {} kept, {} changed, {} created, {} retired",
        r.kept.len(),
        r.changed.len(),
        r.created.len(),
        r.retired.len()
    );
    let _ = writeln!(out, "  changed: {}", short(&r.changed));
    let _ = writeln!(out, "  created: {}", short(&r.created));
    let _ = writeln!(out, "  retired: {}", short(&r.retired));
    if !r.split.is_empty() || !r.merged.is_empty() {
        let _ = writeln!(out, "  split: {}; merged into: {}", short(&r.split), short(&r.merged));
    }
    let known = r.residents.total - r.residents.new;
    let _ = writeln!(
        out,
        "Residents: {} ({} new); {} of {} known before are in a grid with another code: {:.1}% keep their grid and its code.",
        thousands(r.residents.total),
        thousands(r.residents.new),
        thousands(r.residents.moved),
        thousands(known),
        r.residents.kept_share * 100.0
    );
    if !r.lineage.is_empty() {
        out.push_str("\nLineage (where each changed or new grid's residents came from)\n");
        for e in &r.lineage {
            let mut parts: Vec<String> = e
                .from
                .iter()
                .map(|s| {
                    format!(
                        "{} from {} ({:.0}% of it)",
                        thousands(s.residents),
                        s.code,
                        s.share_of_old * 100.0
                    )
                })
                .collect();
            if e.new_residents > 0 {
                parts.push(format!("{} new", thousands(e.new_residents)));
            }
            let _ = writeln!(
                out,
                "  {}  {} residents: {}",
                e.code,
                thousands(e.residents),
                parts.join(", ")
            );
        }
    }
    if !r.staff.is_empty() {
        out.push_str("\nStaff of retired grids (check these)\n");
        for s in &r.staff {
            let to = s.to.as_deref().unwrap_or("nobody: the grid's residents all left");
            let _ = writeln!(out, "  {} ({}): {} → {}", s.name, s.role, s.from, to);
        }
    }
    if !r.out_of_bounds.is_empty() {
        out.push_str("\nStill outside the bounds\n");
        for (code, size) in &r.out_of_bounds {
            let _ = writeln!(out, "  {code}: {}", thousands(*size));
        }
    }
    if !r.forced.is_empty() {
        out.push_str("\nForced past the rules\n");
        for f in &r.forced {
            let _ = writeln!(out, "  {f}");
        }
    }
    if let Some(a) = &r.access {
        out.push_str(&super::format::access(a));
    }
    out.push('\n');
    out.push_str(&super::format::verification(&r.verification, "grids"));
    if let Some(v) = &r.micro_verification {
        out.push_str(&super::format::verification(v, "micro-grids"));
    }
    out
}
