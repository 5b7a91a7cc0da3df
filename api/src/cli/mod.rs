//! Command-line parsing and dispatch; each command lives in its own module.

mod diff;
mod edit;
mod export;
mod format;
mod import;
mod inspect;
mod map;
mod partition;
mod placard;
mod progress;
mod repartition;
mod serve;
mod tile_archive;
mod validate;
mod versions;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gis_core::bounds::{SizeBasis, SizeBounds};
use std::path::Path;
use std::process::ExitCode;

/// Exit status for input wangge cannot use (a rejected dataset, bad arguments).
pub fn exit_bad_input() -> ExitCode {
    ExitCode::from(2)
}

/// Exit status when a command's own check of its output failed (a building cut, an invalid
/// polygon, a coverage that is not exact): nothing was written.
pub fn exit_check_failed() -> ExitCode {
    ExitCode::from(3)
}

/// wangge (网格): partition communities into grids, keep their codes stable, and serve them.
#[derive(Debug, Parser)]
#[command(name = "wangge", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summarise a dataset folder per community: people, buildings, resources, area and the
    /// feasible number of grids.
    Inspect(inspect::InspectArgs),
    /// Split every community into grids inside the size bounds and write them as GeoJSON.
    Partition(partition::PartitionArgs),
    /// Re-partition from a published layer, changing only what must change and keeping codes.
    Repartition(repartition::RepartitionArgs),
    /// What changed between two versions of a grid layer.
    Diff(diff::DiffArgs),
    /// Move buildings to another grid (a planner's manual edit), checked against the rules.
    Move(edit::MoveArgs),
    /// Draw the printable grid map (网格图) of one community as a PNG or PDF (A3 landscape, 150
    /// dpi), every grid listed with its workers and their phones.
    Map(map::MapArgs),
    /// Draw a building's notice board (楼栋公示牌): its grid, the workers' phones and a QR code
    /// of the link to its grid card; or every building of a grid as one PDF.
    Placard(placard::PlacardArgs),
    /// Serve the dataset's grids as map tiles, TileJSON and a MapLibre style over HTTP.
    Serve(serve::ServeArgs),
    /// Check a grid layer against its dataset: gaps, overlaps, near-misses, invalid geometry,
    /// buildings and people in no grid or two, sizes and codes; optionally write a repaired layer.
    Validate(validate::ValidateArgs),
    /// Store a dataset; partition and publish it if nothing is published, else re-partition it
    /// into a draft.
    Load(versions::LoadArgs),
    /// List published versions and drafts.
    Versions(versions::VersionsArgs),
    /// Publish a draft as the next version.
    Publish(versions::PublishArgs),
    /// Serve an earlier version again (published anew under the next number).
    Rollback(versions::RollbackArgs),
    /// Residents' notices of a draft: for every building whose grid changes, from when, which
    /// grid, and its workers' phones; as text, JSON, PNG or PDF.
    Notices(versions::NoticesArgs),
    /// Build a dataset folder from OpenStreetMap, Shapefile, GeoPackage, CSV/TSV or GeoJSON
    /// sources, converting coordinates to WGS-84; validated before it is kept.
    Import(import::ImportArgs),
    /// Write a grid layer as GeoJSON, Shapefile, GeoPackage, or a CSV of building → grid.
    Export(export::ExportArgs),
    /// Tile archives of a published version: `wangge tiles export` writes every vector tile to a
    /// PMTiles or MBTiles file (and the web map beside it as a static folder).
    Tiles(tile_archive::TilesArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if !matches!(cli.command, Command::Serve(_)) {
        keep_freed_memory();
    }
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Partition(args) => partition::run(args),
        Command::Repartition(args) => repartition::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Move(args) => edit::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Map(args) => map::run(args),
        Command::Placard(args) => placard::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Load(args) => versions::load(args),
        Command::Versions(args) => versions::versions(args),
        Command::Publish(args) => versions::publish(args),
        Command::Rollback(args) => versions::rollback(args),
        Command::Notices(args) => versions::notices(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Tiles(args) => tile_archive::run(args),
    }
}

/// A command that runs once keeps the memory it frees for its next allocations instead of
/// handing it back to the kernel a second later: on a large dataset the partition frees and
/// allocates hundreds of MB in turn, and each page handed back is faulted and zeroed again when
/// reused (a tenth of `partition`'s CPU time on the 10M city; BENCHMARKS.md, "Issue 19: eighth
/// session"). The server keeps mimalloc's default, returning what a start-up used. The
/// `MIMALLOC_PURGE_DELAY` variable still overrides this.
fn keep_freed_memory() {
    // mimalloc.h's `mi_option_purge_delay` (libmimalloc-sys names no constant for it): -1 never purges.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: only sets the option's value (unless the environment set it); mimalloc reads it
    // each time it decides whether to purge, and no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DELAY, -1) };
}

/// A command reading a large dataset asks the kernel for ordinary 4 KB pages rather than
/// transparent huge pages. Each huge page is zeroed whole (2 MB) on first touch, and on the VMs
/// measured memory fresh to the process was slow to zero right after another process had
/// exited: `validate` of the 10M city spent about 1 s of system time on it against 0.3 s with
/// small pages, `partition` and `load` 1.2–4 s against 0.4–2 s. A small dataset is the other way
/// round (fewer faults with huge pages: urban village `partition` 4–8% faster with them), hence
/// the threshold on the buildings file (BENCHMARKS.md, "Issue 19: twelfth session"). The
/// `MIMALLOC_ALLOW_THP` variable still decides when it is set.
pub(crate) fn pages_for(dataset: &Path) {
    const LARGE: u64 = 32 << 20;
    let large = std::fs::metadata(dataset.join("buildings.geojson")).is_ok_and(|m| m.len() >= LARGE);
    if !large || std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process's memory map, read by the
    // kernel at later page faults; no memory is touched. A failure (an old kernel) changes nothing.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Leaves a one-shot command's dataset and layers to the operating system at exit: freeing a
/// city's hundreds of MB allocation by allocation takes a tenth of a second, for nothing.
pub(crate) fn leave<T>(big: T) {
    std::mem::forget(big);
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Basis {
    Residents,
    Households,
}

/// Grid size bounds, shared by every command that sizes grids.
#[derive(Debug, Args)]
struct BoundsArgs {
    /// Smallest basic grid [default: 1500 residents, or 200 households with --by households]
    #[arg(long)]
    min: Option<u32>,
    /// Largest basic grid [default: 2000 residents, or 300 households with --by households]
    #[arg(long)]
    max: Option<u32>,
    /// What grids are sized by
    #[arg(long, value_enum, default_value = "residents")]
    by: Basis,
}

impl BoundsArgs {
    fn bounds(&self) -> anyhow::Result<SizeBounds> {
        let basis = match self.by {
            Basis::Residents => SizeBasis::Residents,
            Basis::Households => SizeBasis::Households,
        };
        let (min, max) = basis.default_bounds();
        Ok(SizeBounds::new(
            self.min.unwrap_or(min),
            self.max.unwrap_or(max),
            basis,
        )?)
    }

    /// The bounds given on the command line, else those a layer was made with.
    fn bounds_or(&self, layer: Option<SizeBounds>) -> anyhow::Result<SizeBounds> {
        match layer {
            Some(b)
                if self.min.is_none()
                    && self.max.is_none()
                    && matches!(
                        (self.by, b.basis),
                        (Basis::Residents, SizeBasis::Residents) | (Basis::Households, SizeBasis::Households)
                    ) =>
            {
                Ok(b)
            }
            _ => self.bounds(),
        }
    }
}

/// A `--public-url`: an absolute http(s) URL, without a query or fragment.
fn public_url(s: &str) -> Result<String, String> {
    let t = s.trim().trim_end_matches('/');
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?} is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "{s:?}: give the scheme and host (and a path prefix if any), no query or spaces"
        ));
    }
    Ok(t.to_string())
}

/// Writes beside the target and renames, so a reader never sees half a file.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(".{}.partial", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The code scheme, shared by every command that issues or checks codes.
#[derive(Debug, Args)]
struct SchemeArgs {
    /// Code scheme as JSON (see the README); default: DB11/T 2157-2023, 12-digit community code +
    /// 3-digit sequence, exclusive grids 901–999, micro-grids + 2 digits
    #[arg(long, value_name = "FILE")]
    code_scheme: Option<std::path::PathBuf>,
}

impl SchemeArgs {
    fn scheme(&self) -> anyhow::Result<gis_core::codes::CodeScheme> {
        use anyhow::Context;
        match &self.code_scheme {
            None => Ok(gis_core::codes::CodeScheme::db11()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the code scheme {}", path.display()))?;
                gis_core::codes::CodeScheme::from_json(&text).with_context(|| format!("code scheme {}", path.display()))
            }
        }
    }
}
