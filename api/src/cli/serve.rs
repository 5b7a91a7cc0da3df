//! `wangge serve --data DATASET [--bind ADDR]`: serves the store's published version — the
//! embedded file by default, PostGIS with `--db` or `DATABASE_URL` — loading, partitioning and
//! publishing the dataset first when nothing is published yet. A version published later (by
//! `wangge publish`, or by another `serve` on the same store) is served within a second.

use super::BoundsArgs;
use super::versions::StoreArgs;
use anyhow::Context;
use api::serve::{AppState, Served, router};
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
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .try_init();
    let bounds = args.bounds.bounds()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let store = args.at.open().await?;
        if store.current().await?.is_none() {
            let Some(data) = &args.data else {
                anyhow::bail!("the store has no published version: give --data DATASET to load one");
            };
            let options = PartitionOptions { bounds, micro: Some(PartitionOptions::default_micro()), ..PartitionOptions::default() };
            store::workflow::load(&store, data, options, "loaded by wangge serve")
                .await
                .with_context(|| format!("cannot serve {}", data.display()))?;
        } else if let Some(data) = &args.data {
            println!("the store already has a published version; serving it, not {} (use wangge load to bring new data)", data.display());
        }
        let published = store.published(None).await?.context("the store lost its published version")?;
        let state = AppState::new(Served::published(&published));
        // Follow publishes (and rollbacks) made elsewhere: swap the data, drop the tile cache.
        let mut changes = store.subscribe().await?;
        let follower = {
            let (state, store) = (state.clone(), store.clone());
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let current = *changes.borrow_and_update();
                    if current.version.is_some() && current.version != state.current().version {
                        match store.published(None).await {
                            Ok(Some(p)) => {
                                tracing::info!(version = p.version.number, "serving a newly published version");
                                state.replace(Served::published(&p));
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
        // Tests and scripts read this line for the port when binding to port 0. Written without
        // println!, which panics (killing the server) when the reader has already closed the pipe.
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "wangge serving version {} ({} grids and micro-grids) on http://{addr}",
            served.version.unwrap_or(0),
            served.grids.len()
        );
        let _ = writeln!(out, "  map style: http://{addr}/style.json   tiles: http://{addr}/tiles.json   lookup: http://{addr}/v1/lookup?lon=&lat=");
        let _ = out.flush();
        drop(out);
        let result = axum::serve(listener, router(Arc::clone(&state)))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server stopped");
        follower.abort();
        store.close().await;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}
