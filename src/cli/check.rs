//! `switchyard check`: validate the server configuration and the tenant
//! files without starting a broker, printing every problem at once so an
//! operator (or a CI job) can fix them all in one pass.

use crate::config::tenant::TenantFile;
use crate::config::{ConfigError, ServerConfig, tenants};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Directory of tenant files: one `*.toml` file per tenant (a NATS
    /// account) with its users, permissions, limits, exports, imports and
    /// subject mappings. Other files in it are ignored.
    #[arg(long, value_name = "DIR", required_unless_present = "nats_config")]
    pub tenants: Option<PathBuf>,

    /// Server configuration file (TOML) to check as well, as `serve
    /// --config` would load it.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A nats-server configuration file (`.conf`) to check instead: prints
    /// what it means in Switchyard's terms (listeners, tenants, limits)
    /// and what of it Switchyard does not support, or every problem.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tenants", "config"])]
    pub nats_config: Option<PathBuf>,
}

/// Prints each problem on its own line to stderr and fails with their
/// count, or prints a one-line summary to stdout.
pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let tenants_dir = match (args.tenants, &args.nats_config) {
        (_, Some(file)) => return super::check_nats::run(file),
        (Some(dir), None) => dir,
        (None, None) => anyhow::bail!("--tenants DIR or --nats-config FILE is required"),
    };
    let mut problems: Vec<String> = Vec::new();
    let mut config = ServerConfig::default();
    let loaded = args.config.as_deref().map(ServerConfig::load);
    if let Some(Ok(c)) = &loaded {
        config = c.clone();
    }
    if let Some(Err(e)) = loaded {
        match e {
            ConfigError::Invalid(lines) => problems.extend(lines),
            ConfigError::Parse { path, message } => {
                problems.push(format!("{path}: {}", one_line(&message)));
            }
            other @ ConfigError::Read { .. } => problems.push(other.to_string()),
        }
    }
    let summary = match tenants::load_dir(&tenants_dir) {
        Ok(files) => {
            let map_certificates = config.tls.as_ref().is_some_and(|t| t.verify_and_map);
            let issues = tenants::validate_for(&files, map_certificates);
            problems.extend(issues.iter().map(ToString::to_string));
            Some(summarize(&files))
        }
        Err(issues) => {
            problems.extend(issues.iter().map(ToString::to_string));
            None
        }
    };
    // Everything file by file passed: now load the tenants exactly as
    // `serve` does (users, no_auth_user, system_account, imports, mappings),
    // so `check` accepts precisely what `serve` starts with.
    if problems.is_empty() {
        config.tenants = Some(tenants_dir.clone());
        if let Err(e) = crate::server::check_tenancy(&config) {
            problems.extend(
                e.to_string()
                    .lines()
                    .filter(|l| !l.ends_with(':'))
                    .map(str::to_string),
            );
        }
    }
    match summary {
        Some(summary) if problems.is_empty() => {
            println!("{summary}");
            Ok(())
        }
        _ => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            let n = problems.len();
            anyhow::bail!("{n} problem{} found", if n == 1 { "" } else { "s" })
        }
    }
}

fn summarize(files: &[(PathBuf, TenantFile)]) -> String {
    let count = |f: fn(&TenantFile) -> usize| files.iter().map(|(_, t)| f(t)).sum::<usize>();
    format!(
        "ok: {} tenants, {} users, {} exports, {} imports",
        files.len(),
        count(|t| t.users.len()),
        count(|t| t.exports.len()),
        count(|t| t.imports.len()),
    )
}

/// toml's parse errors span several lines (the source line with a caret
/// under it); a problem list wants one line each, so keep the position
/// and the message.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message.lines().map(str::trim).collect();
    match (lines.first(), lines.last()) {
        (Some(first), Some(last)) if lines.len() > 1 => {
            let position = first.strip_prefix("TOML parse error at ").unwrap_or(first);
            format!("{last} ({position})")
        }
        _ => lines.join(" "),
    }
}
