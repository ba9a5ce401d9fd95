//! The command line: clap definitions here, one file per subcommand.
//!
//! May use: every layer (the top one); today `subject`, `config`, `auth`,
//! `plugin`, `server` and `bench`.

mod auth;
mod bench;
pub mod check;
mod check_nats;
pub mod compat;
mod plugin;
mod plugin_new;
mod serve;

use clap::{Parser, Subcommand};

/// Switchyard: a multi-tenant message broker that speaks the NATS client protocol.
///
/// Any NATS client connects unchanged. Start a broker with `switchyard serve`,
/// measure any NATS server with `switchyard bench`.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, propagate_version = true)]
pub struct Cli {
    /// Log level or filter (error, warn, info, debug, trace, or a tracing
    /// filter such as `switchyard=debug`).
    #[arg(long, global = true, default_value = "info", env = "SWITCHYARD_LOG")]
    pub log_level: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the broker.
    Serve(serve::ServeArgs),
    /// Check the tenant files (and optionally the server configuration)
    /// and report every problem, without starting the broker.
    Check(check::CheckArgs),
    /// Measure a NATS server (this one or nats-server) with raw-protocol
    /// publishers and subscribers: pub, sub, pubsub, queue or req.
    Bench(crate::bench::BenchArgs),
    /// Issue and inspect NATS JWT credentials (operator, accounts, users,
    /// .creds files) in an operator directory that Switchyard and
    /// nats-server both trust.
    #[command(after_help = auth::LAYOUT)]
    Auth(auth::AuthArgs),
    /// Inspect WebAssembly plugins (`plugin check FILE.wasm`) or start one
    /// (`plugin new --lang rust|python|js|c NAME`).
    Plugin(plugin::PluginArgs),
    /// Run with nats-server's command line (`-c FILE`, `-p -1`, `-DV`, ...),
    /// as when this binary is invoked as `nats-server`. `compat --help`
    /// lists the flags.
    #[command(disable_help_flag = true)]
    Compat {
        /// nats-server flags, in Go flag syntax.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
}

/// Runs the parsed command line; the binary maps the error to an exit code.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // The compatible command line sets up its own logging (-D, -V, -l).
    if let Command::Compat { args } = &cli.command {
        return compat::run("switchyard", args);
    }
    init_tracing(&cli.log_level);
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Check(args) => check::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Auth(args) => auth::run(args),
        Command::Plugin(args) => plugin::run(args),
        Command::Compat { .. } => unreachable!("handled above"),
    }
}

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
