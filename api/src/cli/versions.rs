//! The store's commands: `wangge load`, `versions`, `publish`, `rollback`. Thin: each opens the
//! store (PostGIS with `--db` or `DATABASE_URL`, else the embedded file) and calls one planner
//! step (or reads the store's lists).

use super::format::thousands;
use super::{BoundsArgs, SchemeArgs};
use anyhow::Context;
use clap::Args;
use gis_core::partition::PartitionOptions;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use store::{Store, VersionInfo};

/// Where the store is.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// PostgreSQL/PostGIS URL [default: $DATABASE_URL; without either, the embedded file]
    #[arg(long, value_name = "URL", conflicts_with = "store")]
    db: Option<String>,
    /// The embedded store's file, used when no database URL is given
    #[arg(long, value_name = "FILE", default_value = "wangge.db")]
    store: PathBuf,
}

impl StoreArgs {
    pub(crate) fn url(&self) -> Option<String> {
        self.db
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok())
            .filter(|u| !u.trim().is_empty())
    }

    /// The embedded store's file (also where serve keeps its token file).
    pub(crate) fn store_path(&self) -> &std::path::Path {
        &self.store
    }

    /// The store, for a command that writes: a PostgreSQL hot standby is refused before any
    /// work, naming what it is and where writes go.
    pub(crate) async fn open_for_writes(&self, command: &str) -> anyhow::Result<Store> {
        let store = self.open().await?;
        if store.is_standby() {
            let at = self.url().unwrap_or_default();
            store.close().await;
            anyhow::bail!(
                "cannot {command}: {at} is a read-only PostgreSQL hot standby (pg_is_in_recovery() is true); run `wangge {command}` with --db pointing at its primary"
            );
        }
        Ok(store)
    }

    pub(crate) async fn open(&self) -> anyhow::Result<Store> {
        let url = self.url();
        Store::open(url.as_deref(), &self.store)
            .await
            .with_context(|| match &url {
                Some(u) => format!("cannot open the store at {u}"),
                None => format!("cannot open the store {}", self.store.display()),
            })
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Dataset folder
    dataset: PathBuf,
    #[command(flatten)]
    at: StoreArgs,
    /// The version's note when this load publishes (nothing published yet)
    #[arg(long, default_value = "initial partition")]
    note: String,
    #[command(flatten)]
    bounds: BoundsArgs,
    #[command(flatten)]
    scheme: SchemeArgs,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also draw micro-grids (50–200 households)
    #[arg(long)]
    micro: bool,
    /// Print what was done as JSON
    #[arg(long)]
    json: bool,
}

pub fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    super::pages_for(&args.dataset);
    let options = PartitionOptions {
        bounds: args.bounds.bounds()?,
        scheme: args.scheme.scheme()?,
        seed: args.seed,
        micro: args.micro.then(PartitionOptions::default_micro),
    };
    runtime()?.block_on(async {
        let store = args.at.open_for_writes("load").await?;
        let progress = super::progress::Progress::new();
        let loaded = planner::load_with_progress(&store, &args.dataset, options, &args.note, &|step| {
            progress.load_step(&args.dataset, step)
        })
        .await;
        progress.done();
        let out = loaded.with_context(|| format!("cannot load {}", args.dataset.display()))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(ExitCode::SUCCESS);
        }
        let mut text = format!("Stored {} as dataset {} in the {:?} store.\n", args.dataset.display(), out.dataset, store.backend());
        match &out.published {
            Some(v) => {
                let _ = writeln!(text, "Nothing was published: partitioned from scratch and published as version {} ({} grids).", v.number, v.grids);
            }
            None => {
                let r = &out.report;
                let list = |k: &str| r[k].as_array().map_or(0, Vec::len);
                let _ = writeln!(
                    text,
                    "Re-partitioned from the current version into draft {}: {} grids kept, {} changed, {} created, {} retired.",
                    out.draft,
                    list("kept"),
                    list("changed"),
                    list("created"),
                    list("retired")
                );
                if let Some(share) = r["residents"]["kept_share"].as_f64() {
                    let _ = writeln!(text, "{:.1}% of residents keep their grid and its code.", share * 100.0);
                }
                let _ = writeln!(text, "Check it, then publish it: wangge publish {} --note \"...\"", out.draft);
            }
        }
        print!("{text}");
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(Debug, Args)]
pub struct VersionsArgs {
    #[command(flatten)]
    at: StoreArgs,
    #[arg(long)]
    json: bool,
}

fn version_line(v: &VersionInfo) -> String {
    let back = v
        .rolled_back_from
        .map(|n| format!(" (rollback to {n})"))
        .unwrap_or_default();
    format!(
        "{} v{:<4} {}  {} grids  dataset {}  {}{back}",
        if v.current { "*" } else { " " },
        v.number,
        v.published_at,
        thousands(v.grids as u64),
        v.dataset,
        v.note
    )
}

pub fn versions(args: VersionsArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = args.at.open().await?;
        let versions = store.versions().await?;
        let drafts = store.drafts().await?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"versions": versions, "drafts": drafts}))?
            );
            return Ok(ExitCode::SUCCESS);
        }
        if versions.is_empty() {
            println!("Nothing published yet.");
        }
        for v in &versions {
            println!("{}", version_line(v));
        }
        for d in &drafts {
            let mark = match d.problems.as_deref() {
                Some([first, rest @ ..]) => {
                    let more = if rest.is_empty() {
                        String::new()
                    } else {
                        format!(" (and {} more)", rest.len())
                    };
                    format!("  NOT PUBLISHABLE: {first}{more}")
                }
                _ => String::new(),
            };
            println!(
                "  draft {}  {}  {} grids  dataset {}  ({}){mark}",
                d.id, d.created_at, d.grids, d.dataset, d.origin
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The draft to publish (see `wangge versions`)
    draft: i64,
    /// What this version is
    #[arg(long)]
    note: String,
    /// Publish a draft that does not validate clean, for this reason (kept in the version's note)
    #[arg(long, value_name = "REASON")]
    override_validation: Option<String>,
    /// Publish although some basic grids would have no grid worker yet (named in the note)
    #[arg(long)]
    acknowledge_unstaffed: bool,
    /// Publish although it moves many residents to another grid (≥ 10% of a community's, or
    /// > 30% of one grid's; what was confirmed goes into the note)
    #[arg(long)]
    confirm_large_moves: bool,
    #[command(flatten)]
    at: StoreArgs,
}

pub fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = args.at.open_for_writes("publish").await?;
        let accepted = planner::Accepted {
            override_reason: args.override_validation.as_deref(),
            unstaffed: args.acknowledge_unstaffed,
            large_moves: args.confirm_large_moves,
        };
        let published = planner::publish(&store, args.draft, &args.note, accepted).await;
        if let Err(planner::PlannerError::Unstaffed { draft, grids }) = &published {
            eprintln!(
                "error: draft {draft} was not published: {} grid{} would have no grid worker: {}",
                grids.len(),
                if grids.len() == 1 { "" } else { "s" },
                grids.join(", ")
            );
            eprintln!("Assign staff first (PUT /v1/grids/CODE/staff), or publish anyway: --acknowledge-unstaffed");
            return Ok(ExitCode::from(1));
        }
        if let Err(planner::PlannerError::LargeMoves { draft, moves }) = &published {
            eprintln!(
                "error: draft {draft} was not published: it moves {} residents to another grid",
                thousands(moves.moved_residents)
            );
            for c in &moves.communities {
                eprintln!(
                    "  community {}: {} of {} residents change grid ({:.1}%, the threshold is {:.0}%)",
                    c.community,
                    thousands(c.moved),
                    thousands(c.residents),
                    c.share * 100.0,
                    moves.community_share * 100.0
                );
            }
            for g in &moves.grids {
                eprintln!(
                    "  grid {}: {} of its {} residents go to other grids ({:.1}%, over {:.0}%)",
                    g.code,
                    thousands(g.residents_moved),
                    thousands(g.residents_before),
                    g.share * 100.0,
                    moves.grid_loss_share * 100.0
                );
            }
            eprintln!("  largest moves:");
            for m in &moves.largest {
                eprintln!(
                    "    {} → {}: {} residents, {} households, {} buildings",
                    m.from,
                    m.to,
                    thousands(m.residents),
                    thousands(m.households),
                    m.buildings
                );
            }
            eprintln!(
                "Check the moves (GET /v1/drafts/{draft}/diff), draft the residents' notices (wangge notices {draft}), then publish anyway: --confirm-large-moves"
            );
            return Ok(ExitCode::from(1));
        }
        if let Err(planner::PlannerError::NotClean { draft, defects, .. }) = &published {
            eprintln!(
                "error: draft {draft} does not validate clean, so it was not published: {} defect{}",
                defects.len(),
                if defects.len() == 1 { "" } else { "s" }
            );
            for d in defects {
                eprintln!("  - {d}");
            }
            eprintln!(
                "Fix it (wangge validate, or a new draft), or publish it anyway: --override-validation \"REASON\""
            );
            return Ok(super::exit_check_failed());
        }
        let v = published.with_context(|| format!("cannot publish draft {}", args.draft))?;
        println!("Published draft {} as version {}.", args.draft, v.number);
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The version to serve again (published anew under the next number)
    version: i64,
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    at: StoreArgs,
}

pub fn rollback(args: RollbackArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = args.at.open_for_writes("rollback").await?;
        let v = planner::rollback(&store, args.version, args.note.as_deref())
            .await
            .with_context(|| format!("cannot roll back to version {}", args.version))?;
        println!("Version {} now serves version {}'s grids.", v.number, args.version);
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum NoticeFormatArg {
    Txt,
    Json,
    Png,
    Pdf,
}

#[derive(Debug, Args)]
pub struct NoticesArgs {
    /// The draft whose changes the notices announce (see `wangge versions`)
    draft: i64,
    /// The day the change takes effect, YYYY-MM-DD [default: today, UTC]
    #[arg(long, value_name = "YYYY-MM-DD")]
    from: Option<String>,
    /// txt and json print to standard output without --out; png (one notice: with --building
    /// when several) and pdf (one A4 page per notice) need --out
    #[arg(long, value_enum, default_value = "txt")]
    format: NoticeFormatArg,
    /// Only this building's notice
    #[arg(long, value_name = "ID")]
    building: Option<String>,
    /// Where to write the notices
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    at: StoreArgs,
}

/// `wangge notices DRAFT`: the residents' notices of a draft (see `api::notices`).
pub fn notices(args: NoticesArgs) -> anyhow::Result<ExitCode> {
    use api::notices::NoticeFormat;
    let format = match args.format {
        NoticeFormatArg::Txt => NoticeFormat::Txt,
        NoticeFormatArg::Json => NoticeFormat::Json,
        NoticeFormatArg::Png => NoticeFormat::Png,
        NoticeFormatArg::Pdf => NoticeFormat::Pdf,
    };
    if args.out.is_none() && matches!(format, NoticeFormat::Png | NoticeFormat::Pdf) {
        anyhow::bail!(
            "--format {}: give --out FILE (an image or PDF is not printed to the terminal)",
            format.extension()
        );
    }
    let from = args.from.clone().unwrap_or_else(tiles::print::today);
    let effective = planner::EffectiveDate::parse(&from).context("--from")?;
    runtime()?.block_on(async {
        let store = args.at.open().await?;
        let notices = planner::draft_notices(&store, args.draft, effective, args.building.as_deref())
            .await
            .with_context(|| format!("cannot draft the notices of draft {}", args.draft))?;
        let bytes = api::notices::render(&notices, format).context("cannot write the notices")?;
        match &args.out {
            Some(path) => {
                super::write_atomically(path, &bytes)?;
                eprintln!(
                    "Wrote {} notice{} (effective {}) to {}.",
                    notices.notices.len(),
                    if notices.notices.len() == 1 { "" } else { "s" },
                    notices.effective,
                    path.display()
                );
            }
            None => {
                use std::io::Write as _;
                std::io::stdout().write_all(&bytes)?;
                if notices.notices.is_empty() {
                    eprintln!("No building changes grid in draft {}: no notice.", args.draft);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
