//! `wangge import SOURCE… --out DATASET`: a dataset folder from what planners have —
//! OpenStreetMap extracts, Shapefiles, GeoPackages, CSV/TSV of points, GeoJSON, a dataset
//! folder to repair. The report lists what was assumed, repaired and dropped, grouped, with the
//! first ids of each group; `--json` gives every one.

use super::format::{count, thousands};
use anyhow::Context;
use clap::Args;
use import::{Densities, FieldMap, ImportOptions, SourceCrs, SourceSpec};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Sources: FILE.osm.pbf, FILE.shp, FILE.gpkg[#TABLE], FILE.csv, FILE.tsv, FILE.geojson, or a
    /// dataset folder; prefix ROLE= (boundary, buildings, population, resources, roads,
    /// exclusive) to say what a file is; suffix @CRS (e.g. hh.csv@gcj02, jz.shp@EPSG:4527) for its
    /// own coordinate system
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<String>,
    /// The dataset folder to write (must not exist, unless --force)
    #[arg(long)]
    out: PathBuf,
    /// Community boundary polygons (any source format); default: the hull of the buildings
    #[arg(long, value_name = "FILE")]
    boundary: Option<String>,
    /// Coordinate system of sources that declare none (or an empty or unreadable .prj): wgs84,
    /// cgcs2000, gcj02, bd09, CRS84, or any EPSG code (EPSG:4527, EPSG:3857, EPSG:32650, ...);
    /// one that disagrees with a readable .prj is an error (use FILE@CRS to override one file)
    #[arg(long)]
    crs: Option<String>,
    /// Field mapping TARGET=FIELD or ROLE.TARGET=FIELD, e.g. population=RKS address=DZ;
    /// TARGET= (empty) skips an optional property, e.g. floors=
    #[arg(long = "field", value_name = "TARGET=FIELD")]
    fields: Vec<String>,
    /// Attribute encoding of shapefiles (over their .cpg) and CSV files, e.g. gbk; without it
    /// UTF-8 or GBK is detected and the report says which
    #[arg(long)]
    encoding: Option<String>,
    /// The kind of every resource whose source has no kind field, e.g. clinic
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// The 12-digit code of the community when the boundary has none (or is drawn)
    #[arg(long)]
    community_code: Option<String>,
    /// The community's name when the boundary has none (or is drawn)
    #[arg(long)]
    community_name: Option<String>,
    /// Estimating residents where no field gives them: residents per m² of floor for a building
    /// use, e.g. apartments=0.03 or other=0 (repeatable)
    #[arg(long = "density", visible_alias = "osm-density", value_name = "USE=PER_M2")]
    density: Vec<String>,
    /// Estimating residents: floors for a building use when a building gives none, e.g.
    /// apartments=9 (repeatable)
    #[arg(long = "levels", visible_alias = "osm-levels", value_name = "USE=N")]
    levels: Vec<String>,
    /// Estimating residents: a JSON file {"density": {USE: PER_M2}, "levels": {USE: N}} over the
    /// defaults (--density and --levels apply after it)
    #[arg(long, value_name = "FILE")]
    densities: Option<PathBuf>,
    /// Metres between the outermost building and a drawn boundary
    #[arg(long, default_value_t = 30.0, value_name = "METRES")]
    hull_margin: f64,
    /// Replace the folder at --out if it exists
    #[arg(long)]
    force: bool,
    /// Print the whole report as JSON: every repair, every dropped feature by id, or every
    /// problem when the import is refused (exit status 2)
    #[arg(long)]
    json: bool,
}

fn pairs(items: &[String], flag: &str) -> anyhow::Result<Vec<(String, f64)>> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .with_context(|| format!("{flag} {item:?}: expected USE=NUMBER"))?;
            let v = v
                .trim()
                .parse::<f64>()
                .map_err(|_| anyhow::anyhow!("{flag} {item:?}: {v:?} is not a number"))?;
            Ok((k.trim().to_string(), v))
        })
        .collect()
}

fn options(args: &ImportArgs) -> anyhow::Result<ImportOptions> {
    let sources = args
        .sources
        .iter()
        .map(|s| s.parse::<SourceSpec>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut opts = ImportOptions::new(sources, args.out.clone());
    opts.boundary = args
        .boundary
        .as_deref()
        .map(|b| b.parse::<SourceSpec>().map_err(anyhow::Error::msg))
        .transpose()?;
    opts.crs = args
        .crs
        .as_deref()
        .map(|c| {
            SourceCrs::parse(c).map_err(|reason| import::ImportError::UnknownCrs {
                path: None,
                given: c.to_string(),
                reason,
            })
        })
        .transpose()?;
    opts.fields = FieldMap::parse(&args.fields)?;
    opts.encoding = match &args.encoding {
        None => None,
        Some(e) => Some(
            import::encoding::encoding_by_name(e)
                .with_context(|| format!("--encoding {e:?}: unknown; try utf-8, gbk or big5"))?,
        ),
    };
    opts.community_code = args.community_code.clone();
    opts.community_name = args.community_name.clone();
    opts.kind = args
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    opts.hull_margin_m = args.hull_margin;
    opts.force = args.force;
    let mut densities = Densities::standard();
    if let Some(path) = &args.densities {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("--densities {}: cannot read", path.display()))?;
        densities
            .merge_json(&text)
            .map_err(|e| anyhow::anyhow!("--densities {}: {e}", path.display()))?;
    }
    for (k, v) in pairs(&args.density, "--density")? {
        densities.set_density(&k, v)?;
    }
    for (k, v) in pairs(&args.levels, "--levels")? {
        densities.set_levels(&k, v)?;
    }
    opts.densities = densities;
    Ok(opts)
}

/// Ids as a short list: the first few, then how many more.
fn ids(list: &[&str]) -> String {
    const SHOWN: usize = 3;
    let mut s = list.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
    if list.len() > SHOWN {
        s.push_str(&format!(", … {} more", list.len() - SHOWN));
    }
    s
}

pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let opts = options(&args)?;
    let imported = match import::import(&opts) {
        Ok(i) => i,
        Err(e) if args.json => {
            let v = json!({"ok": false, "error": format!("cannot import into {}: {e}", args.out.display()), "problems": e.problems_json()});
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(super::exit_bad_input());
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot import into {}", args.out.display()))),
    };
    let d = &imported.loaded.dataset;
    let residents: u64 = d.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>()
        + d.points.iter().map(|p| u64::from(p.count)).sum::<u64>();
    let households: u64 = d.buildings.iter().map(|b| u64::from(b.households)).sum::<u64>()
        + d.points.iter().map(|p| u64::from(p.households())).sum::<u64>();
    let notes = &imported.notes;
    if args.json {
        let v = json!({
            "ok": true,
            "out": args.out.display().to_string(),
            "assumed": notes.assumed,
            "repaired": notes.repaired,
            "dropped": notes.dropped,
            "warnings": imported.loaded.report.warnings,
            "dataset": {
                "communities": d.communities.iter().map(|c| json!({"code": c.code.as_str(), "name": c.name})).collect::<Vec<_>>(),
                "buildings": d.buildings.len(), "residents": residents, "households": households,
                "population_points": d.points.len(), "resources": d.resources.len(), "roads": d.roads.len(), "exclusive_units": d.exclusive.len(),
                "water": d.context.water.len(), "green": d.context.green.len(),
            },
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Assumed:");
    for a in &notes.assumed {
        println!("  - {a}");
    }
    if notes.repaired.is_empty() {
        println!("Repaired: nothing");
    } else {
        let features: std::collections::BTreeSet<(&str, &str)> = notes
            .repaired
            .iter()
            .map(|r| (r.source.as_str(), r.id.as_str()))
            .collect();
        println!(
            "Repaired {} (each repair with --json):",
            count(features.len() as u64, "feature")
        );
        for ((source, what), list) in notes.repaired_by_kind() {
            println!("  - {} × {what} ({source}): {}", list.len(), ids(&list));
        }
    }
    if notes.dropped.is_empty() {
        println!("Dropped: nothing");
    } else {
        println!(
            "Dropped {} (each by id with --json):",
            count(notes.dropped_total() as u64, "feature")
        );
        for ((source, reason), (list, lost)) in notes.dropped_by_reason() {
            let lost = if lost > 0 {
                format!(", {} residents the source gave them", thousands(lost))
            } else {
                String::new()
            };
            println!("  - {} × {reason} ({source}{lost}): {}", list.len(), ids(&list));
        }
    }
    for w in &imported.loaded.report.warnings {
        println!("  note: {w}");
    }
    println!(
        "Wrote {}: {}, {}, {} residents, {} households, {}, {}, {}, {}, {} and {} for the map; read back and validated",
        args.out.display(),
        if d.communities.len() == 1 {
            "1 community".to_string()
        } else {
            format!("{} communities", thousands(d.communities.len() as u64))
        },
        count(d.buildings.len() as u64, "building"),
        thousands(residents),
        thousands(households),
        count(d.points.len() as u64, "population point"),
        count(d.resources.len() as u64, "resource"),
        count(d.roads.len() as u64, "road"),
        count(d.exclusive.len() as u64, "exclusive unit"),
        count(d.context.water.len() as u64, "water feature"),
        count(d.context.green.len() as u64, "green area"),
    );
    for c in &d.communities {
        println!("  community {} {}", c.code, c.name);
    }
    Ok(ExitCode::SUCCESS)
}
