//! `wangge tiles export`: a published version's vector tiles as one PMTiles or MBTiles file for
//! a CDN or Martin (`api::archive`), updated in place with `--since N`, and with `--static DIR`
//! the web map beside it as a folder any static file server can serve.

use super::versions::StoreArgs;
use anyhow::{Context, bail};
use api::archive::{self, Format, Meta, Previous, Source};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tiles::data::MapData;

#[derive(Debug, Args)]
pub struct TilesArgs {
    #[command(subcommand)]
    command: TilesCommand,
}

#[derive(Debug, Subcommand)]
enum TilesCommand {
    /// Write every vector tile of a published version (as `serve` answers /tiles/{z}/{x}/{y}.mvt)
    /// to a PMTiles v3 or MBTiles 1.3 file; with --since, only the tiles that changed are
    /// rendered again; with --static, the web map beside it as a static folder.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Pmtiles,
    Mbtiles,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Archive format [default: from --out's extension, .pmtiles or .mbtiles]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// The archive to write (replaced whole when done; with --since, also the archive read)
    /// [default with --static: DIR/tiles.pmtiles]
    #[arg(long, value_name = "FILE", required_unless_present = "site")]
    out: Option<PathBuf>,
    /// Lowest zoom exported
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=22))]
    minzoom: u8,
    /// Highest zoom exported [default: the deepest zoom with its own data, 16; clients over-zoom]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=22))]
    maxzoom: Option<u8>,
    /// The published version to export [default: the one `serve` serves]
    #[arg(long, value_name = "N")]
    version: Option<i64>,
    /// Update --out, an archive of version N written by this command, rendering only the tiles
    /// that can differ between version N and the one exported and copying the rest
    #[arg(long, value_name = "N")]
    since: Option<i64>,
    /// Also write the web map into DIR (index, style, sprites, glyphs, the archive) for a static
    /// file server: MapLibre reads the PMTiles archive through its protocol
    #[arg(long = "static", value_name = "DIR", id = "site")]
    site: Option<PathBuf>,
    /// With --static: where the static web map asks lookups, search and nearest services
    /// (a running `wangge serve`); without it the map shows the grids only
    #[arg(long, value_name = "URL", requires = "site", value_parser = super::public_url)]
    api_url: Option<String>,
    #[command(flatten)]
    at: StoreArgs,
}

pub fn run(args: TilesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TilesCommand::Export(a) => export(a),
    }
}

fn format_of(args: &ExportArgs, out: &Path) -> anyhow::Result<Format> {
    match args.format {
        Some(FormatArg::Pmtiles) => Ok(Format::Pmtiles),
        Some(FormatArg::Mbtiles) => Ok(Format::Mbtiles),
        None => match out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("pmtiles") => Ok(Format::Pmtiles),
            Some("mbtiles") => Ok(Format::Mbtiles),
            _ => bail!(
                "--out {}: give --format pmtiles or mbtiles (or an .pmtiles or .mbtiles file name)",
                out.display()
            ),
        },
    }
}

/// A published version's map data, as `serve` builds it.
async fn map_of(store: &store::Store, version: Option<i64>, flag: &str) -> anyhow::Result<(i64, MapData)> {
    let published = store
        .published(version)
        .await
        .with_context(|| match version {
            Some(n) => format!("{flag} {n}: cannot read version {n} from the store"),
            None => "cannot read the published version from the store".to_string(),
        })?
        .context("the store has no published version: publish one first (wangge load DATASET)")?;
    let number = published.version.number;
    let map = tokio::task::spawn_blocking(move || {
        MapData::new(
            &published.dataset,
            &published.layer.grids,
            published.layer.meta.bounds.unwrap_or_default(),
        )
    })
    .await
    .context("building the map data failed")?;
    Ok((number, map))
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    if let Some(max) = args.maxzoom
        && args.minzoom > max
    {
        bail!("--minzoom {} is above --maxzoom {max}: nothing to export", args.minzoom);
    }
    let out = match (&args.out, &args.site) {
        (Some(o), _) => o.clone(),
        (None, Some(dir)) => dir.join(archive::site::ARCHIVE),
        (None, None) => unreachable!("clap requires --out or --static"),
    };
    let format = format_of(&args, &out)?;
    if args.site.is_some() && format != Format::Pmtiles {
        bail!("--static serves the map from a PMTiles archive: give --format pmtiles (or leave --format out)");
    }
    if let Some(dir) = &args.site {
        std::fs::create_dir_all(dir).with_context(|| format!("--static {}: cannot make the folder", dir.display()))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = args.at.open().await?;
        // With --since: the archive to update is checked first (cheap), then the two versions
        // are read side by side (reading one of a city takes seconds).
        let previous = match args.since {
            None => None,
            Some(n) => {
                if !out.exists() {
                    bail!(
                        "--since {n} updates {}, which does not exist: export version {n} to it first",
                        out.display()
                    );
                }
                let mut source = Source::open(format, &out)
                    .await
                    .with_context(|| format!("--since {n}: cannot read {}", out.display()))?;
                let tj = source.tilejson().await?;
                let Some((held, zooms)) = Meta::recorded(&tj) else {
                    bail!(
                        "--since {n}: {} was not written by wangge tiles export (its metadata names no version)",
                        out.display()
                    );
                };
                if held != n {
                    bail!("--since {n}: {} holds version {held}, not {n}", out.display());
                }
                Some((n, source, zooms))
            }
        };
        let ((version, map), old_map) = match &previous {
            None => (map_of(&store, args.version, "--version").await?, None),
            Some((n, _, _)) => {
                let (new, old) = tokio::join!(
                    map_of(&store, args.version, "--version"),
                    map_of(&store, Some(*n), "--since")
                );
                (new?, Some(old?.1))
            }
        };
        let maxzoom = args.maxzoom.unwrap_or_else(|| map.maxzoom());
        if args.minzoom > maxzoom {
            bail!(
                "--minzoom {} is above the deepest zoom {maxzoom}: give --maxzoom",
                args.minzoom
            );
        }
        let meta = Meta::new(&map, version, args.minzoom..=maxzoom);
        let old = match previous {
            None => None,
            Some((n, source, zooms)) => {
                if zooms != meta.zooms {
                    bail!(
                        "--since {n}: {} holds zooms {}–{}, not {}–{maxzoom}: export it whole",
                        out.display(),
                        zooms.start(),
                        zooms.end(),
                        args.minzoom
                    );
                }
                Some((source, old_map.expect("read beside the new version")))
            }
        };
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tiles  {per_sec}  {elapsed} (eta {eta})")
                .expect("a valid template"),
        );
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let started = std::time::Instant::now();
        let (source, old_map) = match old {
            Some((s, m)) => (Some(s), Some(m)),
            None => (None, None),
        };
        let previous = source
            .zip(old_map.as_ref())
            .map(|(archive, map)| Previous { map, archive });
        let summary = archive::export(&map, &meta, format, &out, previous, &progress)
            .await
            .with_context(|| format!("--out {}: the archive was not written", out.display()))?;
        bar.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "Exported version {version}, zooms {}–{maxzoom}, to {} ({}): {} tiles with data, {:.1} MB",
            args.minzoom,
            out.display(),
            format.name(),
            summary.written,
            summary.bytes as f64 / 1e6
        );
        println!(
            "rendered {} of {} tiles{} in {secs:.1} s ({:.0} tiles/s)",
            summary.rendered,
            summary.candidates,
            match args.since {
                Some(n) => format!(" (the others copied from version {n}'s archive)"),
                None => String::new(),
            },
            summary.rendered as f64 / secs.max(1e-9)
        );
        if let Some(dir) = &args.site {
            let written = archive::site::write(dir, &map, &meta, &out, args.api_url.as_deref())
                .with_context(|| format!("--static {}: cannot write the web map", dir.display()))?;
            println!(
                "Wrote the static web map to {} ({written} files); serve the folder with any static file server{}",
                dir.display(),
                match &args.api_url {
                    Some(u) => format!(", lookups from {u}"),
                    None => " (no --api-url: grids only, no lookups)".to_string(),
                }
            );
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
