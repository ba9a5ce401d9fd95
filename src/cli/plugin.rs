//! `switchyard plugin check FILE.wasm`: load a component the way the
//! broker would and report what it is, or why the broker would refuse it.

use crate::plugin::PluginRuntime;
use crate::plugin::check::check;
use crate::plugin::engine::default_cache_dir;
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
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The component (`.wasm`), as a tenant file's `path` would name it.
    pub file: PathBuf,
    /// A configuration entry for the plugin, as in a tenant file's
    /// `config` table (repeatable): `--config subjects=orders.>`.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
}

pub fn run(args: PluginArgs) -> anyhow::Result<()> {
    match args.command {
        PluginCommand::Check(args) => run_check(args),
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
    let report = check(&runtime, &args.file, config)?;
    println!("{}", args.file.display());
    print!("{report}");
    if !report.accepted() {
        bail!("{} would be rejected", args.file.display());
    }
    Ok(())
}
