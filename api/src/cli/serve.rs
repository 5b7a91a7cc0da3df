//! `wangge serve --data DATASET [--bind ADDR]`: partitions the dataset in memory and serves it.

use super::BoundsArgs;
use anyhow::Context;
use api::serve::{AppState, Served, router};
use clap::Args;
use gis_core::io::load_dataset;
use gis_core::partition::{PartitionOptions, partition};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Dataset folder to serve
    #[arg(long)]
    data: PathBuf,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    #[command(flatten)]
    bounds: BoundsArgs,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
    ).try_init();
    let bounds = args.bounds.bounds()?;
    let loaded = load_dataset(&args.data).with_context(|| format!("cannot serve {}", args.data.display()))?;
    let options = PartitionOptions { bounds, micro: Some(PartitionOptions::default_micro()), ..PartitionOptions::default() };
    let p = partition(&loaded.dataset, &options, &mut |_, _| {});
    let n = p.grids.len();
    let state = AppState::new(Served::new(loaded.dataset, p.grids, bounds));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
        let addr = listener.local_addr()?;
        // Tests and scripts read this line for the port when binding to port 0.
        println!("wangge serving {} ({n} grids and micro-grids) on http://{addr}", args.data.display());
        println!("  map style: http://{addr}/style.json   tiles: http://{addr}/tiles.json");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server stopped")
    })?;
    Ok(ExitCode::SUCCESS)
}
