//! `switchyard plugin check FILE.wasm`: load a component the way the
//! broker would and report what it is, or why the broker would refuse it
//! (and, with `--message` or `--token`, what it makes of one input).
//! `switchyard plugin new`: in `plugin_new`.

use super::plugin_new::{self, NewArgs};
use crate::config::ServerConfig;
use crate::config::tenant::PluginEntry;
use crate::plugin::PluginRuntime;
use crate::plugin::check::{check, kind_name};
use crate::plugin::engine::default_cache_dir;
use crate::plugin::trial::{TrialInput, header_block, trial};
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PluginCommand {
    /// Report which `switchyard:plugin` world a component implements
    /// (transform, routing or auth), the subjects it registers and whether
    /// it wants headers and payloads; or why the broker would reject it.
    /// Exits non-zero when rejected.
    Check(CheckArgs),
    /// Write a plugin project: source using the language's SDK, build.sh,
    /// README.md and test-message.sh (one message through `plugin check`).
    /// `switchyard plugin new --lang c --world routing my_router`.
    New(NewArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The component (`.wasm`), as a tenant file's `path` would name it.
    pub file: PathBuf,
    /// A configuration entry for the plugin, as in a tenant file's
    /// `config` table (repeatable): `--config subjects=orders.>`.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// Also run a transform or routing plugin on one message published on
    /// SUBJECT, and print its verdict. Exits non-zero if the call fails.
    #[arg(long, value_name = "SUBJECT")]
    pub message: Option<String>,
    /// The payload of `--message` (text).
    #[arg(long, value_name = "TEXT", default_value = "", requires = "message")]
    pub payload: String,
    /// A header of `--message` (repeatable): `--header 'Priority: high'`.
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "message")]
    pub headers: Vec<String>,
    /// Also run an auth plugin on one CONNECT presenting TOKEN, and print
    /// its verdict. Exits non-zero if the call fails.
    #[arg(long, value_name = "TOKEN", conflicts_with = "message")]
    pub token: Option<String>,
}

pub fn run(args: PluginArgs) -> anyhow::Result<()> {
    match args.command {
        PluginCommand::Check(args) => run_check(args),
        PluginCommand::New(args) => plugin_new::run(args),
    }
}

fn run_check(args: CheckArgs) -> anyhow::Result<()> {
    let mut config = BTreeMap::new();
    for entry in &args.config {
        let Some((key, value)) = entry.split_once('=') else {
            bail!("--config `{entry}`: expected KEY=VALUE");
        };
        config.insert(key.to_string(), value.to_string());
    }
    let runtime = PluginRuntime::new(default_cache_dir())
        .map_err(anyhow::Error::msg)
        .context("cannot start the WebAssembly runtime")?;
    let report = check(&runtime, &args.file, config.clone())?;
    println!("{}", args.file.display());
    print!("{report}");
    let Some(kind) = report.world else {
        bail!("{} would be rejected", args.file.display());
    };
    let input = match (args.message, args.token) {
        (Some(subject), _) => TrialInput::Message {
            subject,
            headers: headers(&args.headers)?,
            payload: args.payload.into_bytes(),
        },
        (None, Some(token)) => TrialInput::Login { token },
        (None, None) => return Ok(()),
    };
    let entry = PluginEntry {
        kind,
        path: args.file.clone(),
        config,
        ..PluginEntry::default()
    };
    let max_payload = ServerConfig::default().max_payload;
    let verdict = trial(&runtime, &entry, &input, max_payload)?;
    match &input {
        TrialInput::Message {
            subject, payload, ..
        } => {
            println!("message: {subject} ({} bytes)", payload.len())
        }
        TrialInput::Login { .. } => println!("login: token"),
    }
    println!("verdict: {verdict}");
    if !verdict.ran() {
        bail!("the {} plugin did not run", kind_name(kind));
    }
    Ok(())
}

/// `--header 'Name: value'` arguments as a NATS header block.
fn headers(args: &[String]) -> anyhow::Result<Option<Vec<u8>>> {
    let mut pairs = Vec::new();
    for arg in args {
        let Some((name, value)) = arg.split_once(':') else {
            bail!("--header `{arg}`: expected NAME: VALUE");
        };
        pairs.push((name.trim().to_string(), value.trim().to_string()));
    }
    header_block(&pairs).map_err(|e| anyhow::anyhow!("--header: {e}"))
}
