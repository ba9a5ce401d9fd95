//! `switchyard serve`: load configuration, start the broker, stop it
//! gracefully on SIGINT or SIGTERM.

use crate::config::ServerConfig;
use crate::server::Server;
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Server configuration file (TOML). Flags given here override its values.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Interface to listen on for clients [default: 0.0.0.0, or the config file's `host`].
    #[arg(long, value_name = "HOST")]
    pub addr: Option<String>,

    /// Client port; 0 picks a free port and the log states which
    /// [default: 4222, or the config file's `port`].
    #[arg(long, short = 'p', value_name = "N")]
    pub port: Option<u16>,

    /// Worker threads for the async runtime [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::load(path)?,
        None => ServerConfig::default(),
    };
    if let Some(addr) = args.addr {
        config.host = addr;
    }
    if let Some(port) = args.port {
        config.port = port;
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(n) = args.threads {
        runtime.worker_threads(n.max(1));
    }
    let runtime = runtime.build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let server = Server::start(config).await?;
        wait_for_stop_signal().await?;
        tracing::info!("shutting down: flushing pending messages");
        server.shutdown().await;
        Ok(())
    })
}

async fn wait_for_stop_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}
