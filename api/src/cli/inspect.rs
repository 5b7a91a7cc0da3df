//! `wangge inspect DATASET`: what is in a dataset, per community, and how many grids fit.

use super::BoundsArgs;
use super::format::{count, decimal, thousands};
use anyhow::Context;
use clap::Args;
use gis_core::bounds::GridCounts;
use gis_core::io::{InputProblem, load_dataset};
use gis_core::summary::{CommunitySummary, DatasetSummary, summarize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Dataset folder (boundary.geojson, buildings.geojson, ...)
    dataset: PathBuf,
    #[command(flatten)]
    bounds: BoundsArgs,
    /// Print JSON for machines instead of the summary for people
    #[arg(long)]
    json: bool,
}

/// Above this many communities the per-community details are left to --json.
const DETAILED_UP_TO: usize = 12;

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    super::pages_for(&args.dataset);
    let bounds = args.bounds.bounds()?;
    let loaded = load_dataset(&args.dataset).with_context(|| format!("cannot inspect {}", args.dataset.display()))?;
    let summary = summarize(&loaded.dataset, bounds);
    if args.json {
        let out = serde_json::json!({
            "dataset": args.dataset,
            "summary": summary,
            "import_warnings": loaded.report.warnings,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!(
            "{}",
            render(&args.dataset.display().to_string(), &summary, &loaded.report.warnings)
        );
    }
    super::leave(loaded);
    Ok(ExitCode::SUCCESS)
}

fn render(dataset: &str, s: &DatasetSummary, warnings: &[InputProblem]) -> String {
    let mut out = String::new();
    let n = s.communities.len();
    let roads = if s.roads_km > 0.0 {
        format!(", roads {} km", decimal(s.roads_km))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Dataset {dataset}: {} communit{}, {}, {} residents, {} households, {} km²{roads}",
        n,
        if n == 1 { "y" } else { "ies" },
        count(s.buildings as u64, "building"),
        thousands(s.residents),
        thousands(s.households),
        decimal(s.area_km2),
    );
    let _ = writeln!(out, "Basic grid size: {}\n", bounds(s));
    out.push_str(&table(s));
    if n <= DETAILED_UP_TO {
        for c in &s.communities {
            out.push('\n');
            out.push_str(&details(c, s));
        }
    }
    let notes = notes(s, warnings);
    if !notes.is_empty() {
        out.push_str("\nNotes\n");
        for note in notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    out
}

fn bounds(s: &DatasetSummary) -> String {
    format!(
        "{} {} per grid",
        range(s.bounds.min.into(), s.bounds.max.into()),
        s.bounds.basis.unit()
    )
}

fn range(low: u64, high: u64) -> String {
    if low == high {
        thousands(low)
    } else {
        format!("{}–{}", thousands(low), thousands(high))
    }
}

fn grids(counts: &GridCounts) -> String {
    match counts {
        GridCounts::Feasible { low, high } => range(*low, *high),
        GridCounts::Empty => "0".into(),
        GridCounts::BelowMin => "below min".into(),
        GridCounts::NoCountFits { .. } => "none fits".into(),
    }
}

/// One row per community; the (CJK) name goes last so columns stay aligned.
fn table(s: &DatasetSummary) -> String {
    let header = [
        "code",
        "buildings",
        "residents",
        "households",
        "km²",
        "per km²",
        "grids",
        "name",
    ];
    let rows: Vec<[String; 8]> = s
        .communities
        .iter()
        .map(|c| {
            [
                c.code.clone(),
                thousands(c.buildings as u64),
                thousands(c.residents),
                thousands(c.households),
                decimal(c.area_km2),
                thousands(c.residents_per_km2.round() as u64),
                grids(&c.grid_counts),
                c.name.clone(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..7)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: [&str; 8], out: &mut String| {
        let _ = write!(out, "{:<w$}", cells[0], w = widths[0]);
        for i in 1..7 {
            let pad = widths[i] - cells[i].chars().count();
            let _ = write!(out, "  {}{}", " ".repeat(pad), cells[i]);
        }
        let _ = writeln!(out, "  {}", cells[7]);
    };
    line(header, &mut out);
    for r in &rows {
        line(std::array::from_fn(|i| r[i].as_str()), &mut out);
    }
    out
}

fn kinds(counts: &BTreeMap<String, usize>) -> String {
    let total: usize = counts.values().sum();
    if total == 0 {
        return "none".into();
    }
    let list: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("{total} — {}", list.join(", "))
}

fn details(c: &CommunitySummary, s: &DatasetSummary) -> String {
    let unit = s.bounds.basis.unit();
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", c.name, c.code);
    let _ = writeln!(
        out,
        "  buildings    {} in {}",
        thousands(c.buildings as u64),
        count(c.compounds as u64, "compound")
    );
    let points = if c.residents_at_points > 0 {
        format!(", {} of them located by points", thousands(c.residents_at_points))
    } else {
        String::new()
    };
    let _ = writeln!(out, "  residents    {}{points}", thousands(c.residents));
    let _ = writeln!(out, "  households   {}", thousands(c.households));
    let _ = writeln!(
        out,
        "  area         {} km², {} residents per km²",
        decimal(c.area_km2),
        thousands(c.residents_per_km2.round() as u64)
    );
    let _ = writeln!(out, "  resources    {}", kinds(&c.resources));
    let _ = writeln!(out, "  exclusive    {}", kinds(&c.exclusive_units));
    if c.in_exclusive_units > 0 {
        let _ = writeln!(
            out,
            "               {} {unit} live in exclusive units and count toward no basic grid",
            thousands(c.in_exclusive_units)
        );
    }
    let size = thousands(c.basic_size);
    let (min, max) = (thousands(s.bounds.min.into()), thousands(s.bounds.max.into()));
    let verdict = match c.grid_counts {
        GridCounts::Feasible { low, high } => format!(
            "{} feasible: {size} {unit} → ceil({size} / {max}) = {low}, floor({size} / {min}) = {high}",
            range(low, high)
        ),
        GridCounts::Empty => "none needed: nobody lives here".into(),
        GridCounts::BelowMin => {
            format!("none within bounds: {size} {unit} is below the minimum {min}; one undersized grid")
        }
        GridCounts::NoCountFits { low, high } => format!(
            "none within bounds: {size} {unit} needs at least {low} grids of ≤ {max} but fills at most {high} of ≥ {min}"
        ),
    };
    let _ = writeln!(out, "  basic grids  {verdict}");
    out
}

/// Things a planner must act on or know: oversized buildings, infeasible communities, repairs.
fn notes(s: &DatasetSummary, warnings: &[InputProblem]) -> Vec<String> {
    let unit = s.bounds.basis.unit();
    let mut notes = Vec::new();
    for c in &s.communities {
        if matches!(c.grid_counts, GridCounts::BelowMin | GridCounts::NoCountFits { .. }) {
            notes.push(format!(
                "{} {}: no grid count keeps every basic grid within {}",
                c.code,
                c.name,
                bounds(s)
            ));
        }
        for b in &c.oversized_buildings {
            let fate = if b.units > 0 {
                format!("it will be split into its {} units", b.units)
            } else {
                "it declares no units, so it cannot fit any grid".into()
            };
            notes.push(format!(
                "{} {}: building {} holds {} {unit}, above the maximum {}; {fate}",
                c.code,
                c.name,
                b.id,
                thousands(b.size),
                thousands(s.bounds.max.into())
            ));
        }
    }
    if s.resources_outside > 0 {
        let n = count(s.resources_outside as u64, "resource");
        notes.push(format!(
            "{n} outside every community, kept for nearest-resource answers"
        ));
    }
    // Repairs are summarised by file and kind, with the first example: a whole file drawn
    // clockwise should read as one line, not thousands.
    let mut groups: BTreeMap<(&str, String), (usize, &InputProblem)> = BTreeMap::new();
    for w in warnings {
        let key = (w.file.as_str(), format!("{:?}", w.kind));
        groups.entry(key).or_insert((0, w)).0 += 1;
    }
    for ((_, _), (count, first)) in groups {
        let more = if count > 1 {
            format!(" ({count} like this)")
        } else {
            String::new()
        };
        notes.push(format!("import: {first}{more}"));
    }
    notes
}
