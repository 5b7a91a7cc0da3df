//! `wangge validate DATASET GRIDS`: what is wrong with a grid layer, wherever it was drawn.

use super::format::{count, decimal, thousands};
use super::{BoundsArgs, SchemeArgs, write_atomically};
use anyhow::Context;
use clap::Args;
use gis_core::io::grids::{DrawnLayer, read_drawn_layer, to_geojson};
use gis_core::io::load_dataset_with;
use gis_core::model::Community;
use gis_core::validate::{
    DefectKind, Repair, ValidateOptions, ValidationReport, check_coverage, defects_geojson, repair, validate,
};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Dataset folder the grids are drawn over
    dataset: PathBuf,
    /// Grid layer (GeoJSON FeatureCollection), from `wangge partition` or drawn by hand
    grids: PathBuf,
    /// Print the report as JSON instead of the summary for people
    #[arg(long)]
    json: bool,
    /// Also write every defect as a GeoJSON feature (kind, codes, area or length) to this file
    #[arg(long, value_name = "FILE")]
    geojson: Option<PathBuf>,
    /// Write a repaired layer here: gaps and overlaps to the neighbour with the longest shared
    /// edge (ties: fewer residents), near-misses snapped, codes unchanged
    #[arg(long, value_name = "FILE")]
    fix: Option<PathBuf>,
    /// Gaps and overlaps smaller than this many m² are slivers: counted, not defects
    #[arg(long, default_value_t = 1.0, value_name = "M2")]
    tolerance: f64,
    /// Unmatched edges of neighbouring grids closer than this many metres are near-misses
    #[arg(long, default_value_t = 1.0, value_name = "METRES")]
    gap_width: f64,
    #[command(flatten)]
    bounds: BoundsArgs,
    #[command(flatten)]
    scheme: SchemeArgs,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    super::pages_for(&args.dataset);
    let started = Instant::now();
    // Bounds and scheme: the command line, else what the layer says it was drawn for.
    let bounds =
        if args.bounds.min.is_some() || args.bounds.max.is_some() || matches!(args.bounds.by, super::Basis::Households)
        {
            Some(args.bounds.bounds()?)
        } else {
            None
        };
    let scheme = match args.scheme.code_scheme {
        Some(_) => Some(args.scheme.scheme()?),
        None => None,
    };
    let options_of = |layer: &DrawnLayer| ValidateOptions {
        tolerance_m2: args.tolerance,
        gap_width_m: args.gap_width,
        ..planner::validate_options(layer, bounds, scheme.clone())
    };
    // The dataset and the layer are independent files: read side by side. Coverage needs only
    // the communities, which come first: it is checked while the buildings are still read.
    let checks_coverage = args.fix.is_none();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<Community>>();
    let grids = args.grids.as_path();
    let (loaded, layer_side) = std::thread::scope(|s| {
        let layer_side = s.spawn(move || {
            let layer = read_drawn_layer(grids)?;
            let options = options_of(&layer);
            // No communities when the dataset could not be read: its error is the one told.
            let coverage = checks_coverage
                .then(|| rx.recv().ok())
                .flatten()
                .map(|communities| check_coverage(communities, &layer, &options));
            Ok::<_, gis_core::io::grids::LayerError>((layer, options, coverage))
        });
        let loaded = load_dataset_with(&args.dataset, &mut |c| {
            if checks_coverage {
                let _ = tx.send(c.to_vec());
            }
        });
        drop(tx);
        (
            loaded,
            layer_side.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    let loaded = loaded.with_context(|| format!("cannot validate against {}", args.dataset.display()))?;
    let (layer, options, coverage) = layer_side.with_context(|| format!("cannot validate {}", args.grids.display()))?;
    let read = started.elapsed().as_secs_f64();
    let started = Instant::now();
    // Coverage checked while reading counts as validation time too (the two overlap).
    let mut ahead = 0.0;
    let (report, fixed): (ValidationReport, Option<Repair>) = match (&args.fix, coverage) {
        (None, Some(coverage)) => {
            let report = coverage?.validate(&loaded.dataset);
            let t = &report.timings;
            ahead = t.clean_s + t.segments_s + t.invalid_edges_s + t.coverage_s;
            (report, None)
        }
        (None, None) => (validate(&loaded.dataset, &layer, &options)?, None),
        (Some(_), _) => {
            let r = repair(&loaded.dataset, &layer, &options)?;
            (r.before.clone(), Some(r))
        }
    };
    let seconds = started.elapsed().as_secs_f64() + ahead;
    if let Some(path) = &args.geojson {
        write_atomically(path, defects_geojson(&report).as_bytes())?;
    }
    if let (Some(path), Some(r)) = (&args.fix, &fixed) {
        write_atomically(path, to_geojson(&r.layer).as_bytes())?;
    }
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        if let (Some(path), Some(r)) = (&args.fix, &fixed) {
            v["repair"] = serde_json::json!({
                "out": path,
                "changes": r.changes,
                "after": {"defects": r.after.counts_by_kind().into_iter().map(|(k, n)| (k.name(), n)).collect::<std::collections::BTreeMap<_, _>>(), "slivers": r.after.slivers},
            });
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", render(&args, &report, fixed.as_ref(), read, seconds));
    }
    let clean = report.is_clean();
    super::leave((loaded, layer, report, fixed));
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Items listed per kind before "... and N more".
const SHOWN: usize = 10;

fn render(args: &ValidateArgs, r: &ValidationReport, fixed: Option<&Repair>, read: f64, seconds: f64) -> String {
    let mut out = String::new();
    let micro = if r.micro_grids > 0 {
        format!(" and {}", count(r.micro_grids as u64, "micro-grid"))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Validated {} ({}{micro}) against {} ({}, {} covered exactly) in {seconds:.2} s (reading took {read:.2} s); tolerance {} m², gap width {} m, basic grids {}\n",
        args.grids.display(),
        count(r.grids as u64, "grid"),
        args.dataset.display(),
        match r.communities {
            1 => "1 community".to_string(),
            n => format!("{} communities", thousands(n as u64)),
        },
        thousands(r.exact_communities as u64),
        r.tolerance_m2,
        r.gap_width_m,
        r.bounds,
    );
    if r.is_clean() {
        out.push_str("Clean: no gaps, overlaps or near-misses; every building, point and resource in exactly one grid; codes and sizes fit.\n");
    } else {
        let by_kind = r.counts_by_kind();
        let _ = writeln!(out, "{} found:", count(r.defects.len() as u64, "defect"));
        for (kind, n) in &by_kind {
            let worst = r.of_kind(*kind).next().map(|d| match (d.area_m2, d.length_m) {
                (Some(a), _) => format!("  (largest {} m²)", decimal(a)),
                (None, Some(l)) => format!("  (longest {} m)", decimal(l)),
                _ => String::new(),
            });
            let _ = writeln!(
                out,
                "  {:>6}  {}{}",
                thousands(*n as u64),
                kind.plural(),
                worst.unwrap_or_default()
            );
        }
        for (kind, n) in &by_kind {
            let _ = writeln!(out, "\n{} (worst first)", capitalise(kind.plural()));
            for d in r.of_kind(*kind).take(SHOWN) {
                let at = d.at.map(|[x, y]| format!("  at [{x:.6}, {y:.6}]")).unwrap_or_default();
                let _ = writeln!(out, "  - {}{at}", d.message);
            }
            if *n > SHOWN {
                let _ = writeln!(
                    out,
                    "  ... and {} more{}",
                    n - SHOWN,
                    if args.json || args.geojson.is_some() {
                        ""
                    } else {
                        " (all with --json or --geojson)"
                    }
                );
            }
        }
    }
    if !r.warnings.is_empty() {
        out.push_str("\nWarnings (not defects)\n");
        for w in &r.warnings {
            let _ = writeln!(out, "  - {}", w.message);
        }
    }
    if let Some(path) = &args.geojson {
        let _ = writeln!(out, "\nWrote {} defect features to {}", r.defects.len(), path.display());
    }
    if let (Some(path), Some(fix)) = (&args.fix, fixed) {
        let _ = writeln!(
            out,
            "\nRepaired layer written to {} ({}; codes unchanged):",
            path.display(),
            count(fix.changes.len() as u64, "change")
        );
        for c in &fix.changes {
            let code = if c.code.is_empty() {
                String::new()
            } else {
                format!("{}: ", c.code)
            };
            let _ = writeln!(out, "  - {code}{}", c.message);
        }
        let left = fix.after.counts_by_kind();
        let coverage_left: usize = [
            DefectKind::Gap,
            DefectKind::Hole,
            DefectKind::Overlap,
            DefectKind::NearMiss,
        ]
        .iter()
        .map(|k| left.get(k).copied().unwrap_or(0))
        .sum();
        let _ = writeln!(
            out,
            "Re-validated the repaired layer: {} gaps, overlaps or near-misses left; {} defects of other kinds.",
            coverage_left,
            fix.after.defects.len() - coverage_left
        );
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
