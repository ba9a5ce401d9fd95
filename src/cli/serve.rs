//! `switchyard serve`: load configuration, start the broker, stop it
//! gracefully on SIGINT or SIGTERM, or in lame-duck mode on SIGUSR2.

use crate::config::{ServerConfig, TlsConfig};
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

    /// Directory of tenant files (`*.toml`), one tenant each [default: the
    /// config file's `tenants`]. SIGHUP reloads them.
    #[arg(long, value_name = "DIR")]
    pub tenants: Option<PathBuf>,

    /// Operator directory (from `switchyard auth init`): trust its operator,
    /// serve its accounts, accept user JWTs (`.creds`) [default: the config
    /// file's `operator_dir`]. SIGHUP re-reads it.
    #[arg(long, value_name = "DIR")]
    pub operator_dir: Option<PathBuf>,

    /// Serve the HTTP monitoring endpoints (/varz, /connz, /subsz,
    /// /accountz, /healthz, /metrics) on this port; 8222 is the usual
    /// choice, 0 picks a free one [default: off, or the config file's
    /// `http_port`]. They listen on the client interface unless the config
    /// file sets `http_host`.
    #[arg(long, value_name = "N")]
    pub http_port: Option<u16>,
    /// Server certificate chain (PEM): turns TLS on and requires it of every
    /// client [default: the config file's `tls.cert_file`]. Needs --tls-key.
    /// SIGHUP re-reads it.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key (PEM) of --tls-cert [default: the config file's `tls.key_file`].
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// CA certificates (PEM) that client certificates must chain to; with
    /// it, clients must present a certificate (`tls.verify`).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_ca: Option<PathBuf>,

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
    if let Some(dir) = args.tenants {
        config.tenants = Some(dir);
    }
    if let Some(dir) = args.operator_dir {
        config.operator_dir = Some(dir);
    }
    if let Some(port) = args.http_port {
        config.http_port = Some(port);
    }
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        let tls = config
            .tls
            .get_or_insert_with(|| TlsConfig::new(cert.clone(), key.clone()));
        tls.cert_file = cert;
        tls.key_file = key;
    }
    if let (Some(ca), Some(tls)) = (args.tls_ca, config.tls.as_mut()) {
        tls.ca_file = Some(ca);
        tls.verify = true;
    }
    config
        .validate()
        .map_err(|errs| anyhow::anyhow!("invalid configuration:\n{}", errs.join("\n")))?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(n) = args.threads {
        runtime.worker_threads(n.max(1));
    }
    let runtime = runtime.build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        tracing::info!(
            switchyard = env!("CARGO_PKG_VERSION"),
            nats_server_version = crate::protocol::NATS_SERVER_VERSION,
            "starting switchyard (INFO reports the nats-server release it matches)"
        );
        let server = Server::start(config).await?;
        run_until_stopped(&server, None).await?;
        tracing::info!("shutting down: flushing pending messages");
        server.shutdown().await;
        Ok(())
    })
}

/// Serves until SIGINT or SIGTERM, or until lame-duck mode (SIGUSR2) has
/// closed every client; SIGHUP reloads the tenants and the TLS
/// certificates (a reload that fails validation is logged and changes
/// nothing), and for a server started from a nats-server file
/// (`nats_file`) first reads that file again for its accounts and users.
/// Signals keep working during lame-duck mode: SIGTERM then cuts it short.
pub(super) async fn run_until_stopped(
    server: &Server,
    nats_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut hup = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    let mut usr2 = signal(SignalKind::user_defined2()).context("cannot listen for SIGUSR2")?;
    let mut lame_duck = None;
    loop {
        tokio::select! {
            r = tokio::signal::ctrl_c() => return r.context("cannot listen for SIGINT"),
            _ = term.recv() => return Ok(()),
            _ = hup.recv() => match reload(server, nats_file).await {
                Ok(()) => tracing::info!("Reloaded server configuration"),
                Err(e) => tracing::error!(error = %e, "reload failed; keeping the previous tenants and certificates"),
            },
            _ = usr2.recv(), if lame_duck.is_none() => lame_duck = Some(Box::pin(server.lame_duck())),
            _ = async {
                if let Some(ldm) = lame_duck.as_mut() {
                    ldm.await;
                }
            }, if lame_duck.is_some() => return Ok(()),
        }
    }
}

/// One SIGHUP's reload: of the nats-server file's accounts when the server
/// started from one, else of the tenants as configured.
async fn reload(server: &Server, nats_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    match nats_file {
        Some(path) => {
            let file = crate::config::natsmap::load(path)?;
            Ok(server.reload_accounts_from(file.config).await?)
        }
        None => Ok(server.reload().await?),
    }
}
