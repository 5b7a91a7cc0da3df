//! `wangge import SOURCE… --out DATASET`: a dataset folder from what planners have —
//! OpenStreetMap extracts, Shapefiles, GeoPackages, CSV/TSV of points, GeoJSON.

use super::format::{count, thousands};
use anyhow::Context;
use clap::Args;
use import::{FieldMap, ImportOptions, OsmDefaults, SourceCrs, SourceSpec};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Sources: FILE.osm.pbf, FILE.shp, FILE.gpkg[#TABLE], FILE.csv, FILE.tsv, FILE.geojson; prefix
    /// ROLE= (boundary, buildings, population, resources, roads, exclusive) to say what a file is;
    /// suffix @CRS (e.g. hh.csv@gcj02, jz.shp@EPSG:4527) for its own coordinate system
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
    /// Field mapping TARGET=FIELD or ROLE.TARGET=FIELD, e.g. population=RKS address=DZ
    #[arg(long = "field", value_name = "TARGET=FIELD")]
    fields: Vec<String>,
    /// Attribute encoding of shapefiles without a .cpg, and of CSV files (e.g. gbk)
    #[arg(long)]
    encoding: Option<String>,
    /// The 12-digit code of the community when the boundary has none (or is drawn)
    #[arg(long)]
    community_code: Option<String>,
    /// The community's name when the boundary has none (or is drawn)
    #[arg(long)]
    community_name: Option<String>,
    /// OpenStreetMap: residents per m² of floor for a building type, e.g. apartments=0.03 (repeatable)
    #[arg(long = "osm-density", value_name = "TYPE=PER_M2")]
    osm_density: Vec<String>,
    /// OpenStreetMap: levels for a building type without building:levels, e.g. apartments=9 (repeatable)
    #[arg(long = "osm-levels", value_name = "TYPE=N")]
    osm_levels: Vec<String>,
    /// Metres between the outermost building and a drawn boundary
    #[arg(long, default_value_t = 30.0, value_name = "METRES")]
    hull_margin: f64,
    /// Replace the folder at --out if it exists
    #[arg(long)]
    force: bool,
}

fn pairs<T: std::str::FromStr>(items: &[String], flag: &str) -> anyhow::Result<Vec<(String, T)>> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item.split_once('=').with_context(|| format!("{flag} {item:?}: expected TYPE=VALUE"))?;
            let v = v.parse::<T>().map_err(|_| anyhow::anyhow!("{flag} {item:?}: {v:?} is not a number"))?;
            let k = if k == "other" || k == "*" { "*".to_string() } else { k.to_string() };
            Ok((k, v))
        })
        .collect()
}

pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let sources = args.sources.iter().map(|s| s.parse::<SourceSpec>().map_err(anyhow::Error::msg)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut opts = ImportOptions::new(sources, args.out.clone());
    opts.boundary = args.boundary.as_deref().map(|b| b.parse::<SourceSpec>().map_err(anyhow::Error::msg)).transpose()?;
    opts.crs = args.crs.as_deref().map(|c| SourceCrs::parse(c).map_err(|reason| import::ImportError::UnknownCrs { path: None, given: c.to_string(), reason })).transpose()?;
    opts.fields = FieldMap::parse(&args.fields)?;
    opts.encoding = match &args.encoding {
        None => None,
        Some(e) => Some(import::shp::encoding_by_name(e).with_context(|| format!("--encoding {e:?}: unknown; try utf-8 or gbk"))?),
    };
    opts.community_code = args.community_code.clone();
    opts.community_name = args.community_name.clone();
    opts.hull_margin_m = args.hull_margin;
    opts.force = args.force;
    let mut osm = OsmDefaults::standard();
    for (k, v) in pairs::<f64>(&args.osm_density, "--osm-density")? {
        anyhow::ensure!(v >= 0.0 && v.is_finite(), "--osm-density {k}={v}: expected residents per m² ≥ 0");
        if k == "*" { osm.other_density = v } else { osm.density.insert(k, v); }
    }
    for (k, v) in pairs::<u32>(&args.osm_levels, "--osm-levels")? {
        anyhow::ensure!(v >= 1, "--osm-levels {k}={v}: expected at least 1 level");
        if k == "*" { osm.other_levels = v } else { osm.levels.insert(k, v); }
    }
    opts.osm = osm;

    let imported = import::import(&opts).with_context(|| format!("cannot import into {}", args.out.display()))?;
    let d = &imported.loaded.dataset;
    println!("Assumed:");
    for a in &imported.notes.assumed {
        println!("  - {a}");
    }
    if imported.notes.dropped.is_empty() {
        println!("Dropped: nothing");
    } else {
        println!("Dropped {}:", count(imported.notes.dropped_total() as u64, "feature"));
        for ((source, reason), n) in &imported.notes.dropped {
            println!("  - {n} × {reason} ({source})");
        }
    }
    for w in &imported.loaded.report.warnings {
        println!("  note: {w}");
    }
    let residents: u64 = d.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>() + d.points.iter().map(|p| u64::from(p.count)).sum::<u64>();
    let households: u64 = d.buildings.iter().map(|b| u64::from(b.households)).sum::<u64>() + d.points.iter().map(|p| u64::from(p.households())).sum::<u64>();
    println!(
        "Wrote {}: {}, {}, {} residents, {} households, {}, {}, {}, {}; read back and validated",
        args.out.display(),
        count(d.communities.len() as u64, "community"),
        count(d.buildings.len() as u64, "building"),
        thousands(residents),
        thousands(households),
        count(d.points.len() as u64, "population point"),
        count(d.resources.len() as u64, "resource"),
        count(d.roads.len() as u64, "road"),
        count(d.exclusive.len() as u64, "exclusive unit"),
    );
    for c in &d.communities {
        println!("  community {} {}", c.code, c.name);
    }
    Ok(ExitCode::SUCCESS)
}
