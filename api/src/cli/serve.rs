//! `wangge serve --data DATASET [--bind ADDR]`: serves the store's published version — the
//! embedded file by default, PostGIS with `--db` or `DATABASE_URL` — loading, partitioning and
//! publishing the dataset first when nothing is published yet. A version published later (by
//! `wangge publish`, or by another `serve` on the same store) is served within a second. On a
//! PostgreSQL hot standby it serves read-only, following the primary's publishes by polling.

use super::BoundsArgs;
use super::versions::StoreArgs;
use anyhow::Context;
use api::serve::{AppState, Limits, Token, router};
use api::snapshot::Snapshot;
use clap::Args;
use gis_core::partition::PartitionOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Dataset folder to load when the store has no published version yet
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    #[command(flatten)]
    at: StoreArgs,
    #[command(flatten)]
    bounds: BoundsArgs,
    /// File holding the planners' bearer token [default: $WANGGE_TOKEN; without either, a new
    /// random token is written to wangge.token beside the store and reused after]
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Largest upload a planner may send, in MB
    #[arg(long, default_value_t = 64, value_name = "MB")]
    max_upload_mb: usize,
    /// Longest a client may take to send a request's line and headers, in seconds; slower
    /// connections are closed (a slowloris client holds none for long)
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Longest a kept-alive connection may sit idle (no request in flight, no byte either way),
    /// in seconds
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    idle_timeout: u64,
    /// The URL residents reach this service at (https://wangge.example.cn), for the links and
    /// QR codes printed on building placards [default: the host each request came to]
    #[arg(long, value_name = "URL", value_parser = super::public_url)]
    public_url: Option<String>,
    /// On a read replica (--db a PostgreSQL hot standby): the primary's service, named in the
    /// 503 every planner write gets here (https://planning.example.cn)
    #[arg(long, value_name = "URL", value_parser = super::public_url)]
    primary_url: Option<String>,
}

/// The planners' token: `--token-file`, else `$WANGGE_TOKEN`, else the token file beside the
/// store, made (readable by this user only) the first time. Its value is never printed.
fn planner_token(args: &ServeArgs) -> anyhow::Result<(Token, String)> {
    if let Some(path) = &args.token_file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the token file {}", path.display()))?;
        let token = Token::new(&text).with_context(|| format!("the token file {}", path.display()))?;
        return Ok((token, format!("from {}", path.display())));
    }
    if let Ok(text) = std::env::var("WANGGE_TOKEN") {
        return Ok((Token::new(&text).context("WANGGE_TOKEN")?, "from WANGGE_TOKEN".into()));
    }
    let path = args.at.store_path().with_extension("token");
    if path.exists() {
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read the token file {}", path.display()))?;
        return Ok((
            Token::new(&text).with_context(|| format!("the token file {}", path.display()))?,
            format!("in {}", path.display()),
        ));
    }
    let token = Token::generate().context("cannot make a random planner token")?;
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot write the token file {}", path.display()))?;
        writeln!(f, "{}", token.expose())?;
    }
    Ok((token, format!("in {} (new)", path.display())))
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .try_init();
    let bounds = args.bounds.bounds()?;
    // Each connection holds a descriptor: the common soft limit of 1,024 would refuse clients
    // long before the machine is busy, so take what the hard limit allows.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(open_files = n, "descriptor limit"),
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
    let (token, token_from) = planner_token(&args)?;
    let limits = Limits {
        max_upload: args.max_upload_mb.max(1) << 20,
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        ..Limits::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let store = args.at.open().await?;
        // Why the first publish was refused, if it was: the service still starts, for planners.
        let mut refused: Option<String> = None;
        if store.is_standby() {
            tracing::info!("the store is a PostgreSQL hot standby: serving read-only, following the primary's publishes by polling");
            if store.current().await?.is_none() {
                anyhow::bail!("the store is a read-only hot standby and nothing is published on its primary yet: run `wangge load DATASET` (or serve --data) against the primary first");
            }
            if let Some(data) = &args.data {
                println!("the store is a read-only hot standby: serving its published version, not loading {}", data.display());
            }
        } else if store.current().await?.is_none() {
            let Some(data) = &args.data else {
                anyhow::bail!("the store has no published version: give --data DATASET to load one");
            };
            let options = PartitionOptions { bounds, micro: Some(PartitionOptions::default_micro()), ..PartitionOptions::default() };
            let progress = super::progress::Progress::new();
            let loaded = planner::load_with_progress(&store, data, options, "loaded by wangge serve", &|step| {
                progress.load_step(data, step)
            })
            .await;
            progress.done();
            match loaded {
                Ok(_) => {}
                Err(e @ planner::PlannerError::Store(store::StoreError::Unpublishable { .. })) => {
                    refused = Some(format!(
                        "nothing is published: the partition of {} was refused: {e}\nLookups, tiles and features answer 503; planners can re-partition and publish (see /openapi.json).",
                        data.display()
                    ));
                }
                Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot serve {}", data.display()))),
            }
        } else if let Some(data) = &args.data {
            println!("the store already has a published version; serving it, not {} (use wangge load to bring new data)", data.display());
        }
        // The newest version that reads back and validates; a damaged one (an older build's) is
        // passed over with a warning, and with none sound the service still starts, answering
        // 503 to readers, so that a planner can recover through it.
        let progress = super::progress::Progress::new();
        progress.reading_version();
        let loaded = Snapshot::load(&store).await;
        progress.done();
        let served = match (loaded.context("cannot read the published version")?, refused) {
            (Some(served), _) => served,
            (None, Some(why)) => Snapshot::unavailable(why, None, Vec::new()),
            (None, None) => anyhow::bail!("the store lost its published version"),
        };
        if let Some(w) = served.warning() {
            warn_loudly(&w);
        }
        let state = AppState::with_store(served, store.clone(), Some(token), limits);
        if let Some(url) = &args.public_url {
            state.set_public_url(url);
        }
        if let Some(url) = &args.primary_url {
            state.set_primary_url(url);
        }
        // The previous version stays served at its /v/ URLs for a while after a switch; then its
        // memory goes.
        let sweeper = {
            let state = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
                loop {
                    tick.tick().await;
                    state.forget_expired();
                }
            })
        };
        // Follow publishes (and rollbacks) made elsewhere: swap in a new snapshot (and tile cache).
        let mut changes = store.subscribe().await?;
        let follower = {
            let (state, store) = (state.clone(), store.clone());
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let current = *changes.borrow_and_update();
                    let served = state.current();
                    let staff_changed = Some(current.staff_revision) != served.staff_revision;
                    if current.version.is_some() && (current.version != served.current || staff_changed) {
                        match Snapshot::load(&store).await {
                            Ok(Some(s)) => {
                                match (s.version, s.warning()) {
                                    (_, Some(w)) => warn_loudly(&w),
                                    (Some(v), None) => tracing::info!(version = v, "serving a newly published version"),
                                    (None, None) => {}
                                }
                                state.replace(s);
                            }
                            Ok(None) => {}
                            Err(e) => tracing::warn!("cannot read the newly published version: {e}"),
                        }
                    }
                }
            })
        };
        let listener = tokio::net::TcpListener::bind(args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
        let addr = listener.local_addr()?;
        let served = state.current();
        // Tests and scripts read the first line for the port when binding to port 0. Whoever
        // reads it may close the pipe after it: a failed write here must not stop the service.
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "wangge serving version {} ({} grids and micro-grids) on http://{addr}", served.version.unwrap_or(0), served.grids.len());
            if served.unavailable.is_some() {
                let _ = writeln!(out, "  NOTHING TO SERVE: no published version reads back and validates (see the warning above); lookups and tiles answer 503");
            } else if !served.damaged.is_empty() {
                let _ = writeln!(out, "  DAMAGED: version {} (see the warning above)", served.damaged.iter().map(|d| d.number.to_string()).collect::<Vec<_>>().join(", "));
            }
            if store.is_standby() {
                let _ = writeln!(out, "  READ-ONLY REPLICA: the store is a PostgreSQL hot standby; planner writes answer 503{}", args.primary_url.as_ref().map(|u| format!(" naming the primary {u}")).unwrap_or_default());
            }
            let _ = writeln!(out, "  planner token {token_from}   API: http://{addr}/openapi.json");
            let _ = writeln!(out, "  map: http://{addr}/   style: http://{addr}/style.json   lookup: http://{addr}/v1/lookup?lon=&lat=");
            let _ = out.flush();
        }
        // After the address line, which scripts read first (the log goes to stdout too).
        if let (Some(version), Some(seconds)) = (served.version, served.load_seconds) {
            tracing::info!(version, seconds, index_seconds = served.index_seconds, "version read, checked and indexed");
        }
        // Ctrl-C by hand, SIGTERM from systemd or a container runtime: stop taking connections,
        // let open requests finish.
        let stop = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => {}
            }
            tracing::info!("stopping: no new connections; open requests may finish");
        };
        let result = api::serve::listen::serve(listener, router(Arc::clone(&state)), limits.header_timeout, limits.idle_timeout, stop)
        .await
        .context("the server stopped");
        follower.abort();
        sweeper.abort();
        store.close().await;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A warning a person must see: on stderr whatever the log filter, and in the log.
fn warn_loudly(text: &str) {
    eprintln!("warning: {text}");
    tracing::warn!("{text}");
}
