//! A nats-server configuration file, in Switchyard's terms: the parsed tree
//! (`config::natsconf`) mapped onto [`ServerConfig`] and tenants
//! ([`TenantFile`]s held in memory), so that the server starts from it
//! exactly as from its own TOML files. Not a second implementation: every
//! setting lands in the model the rest of the broker already reads, and
//! is validated by the same code.
//!
//! Owns the meaning of nats-server's keys and which of them Switchyard
//! lacks. Blocks for features Switchyard does not have (`jetstream`,
//! `gateway`, `websocket`, `mqtt`) are reported
//! once each and ignored; keys nats-server does not know are errors, as in
//! nats-server. Uses `config` and `config::natsconf` only.

mod accounts;
mod cluster;
mod leafnodes;
mod operator;
mod read;
mod server;

#[cfg(test)]
mod tests;

use super::ServerConfig;
use super::natsconf::{self, Map, NatsConfError};
use read::Issues;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NatsMapError {
    #[error(transparent)]
    Parse(#[from] NatsConfError),
    /// Every problem found, one a line, each with `file:line:column`.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// What a nats-server configuration file means to Switchyard.
#[derive(Debug, Clone)]
pub struct NatsTranslation {
    /// The server settings, with the file's accounts as in-memory tenants
    /// (`ServerConfig::inline_tenants`).
    pub config: ServerConfig,
    /// Settings for the process rather than the broker (logging, pid and
    /// ports files), which the nats-server command line also sets.
    pub process: ProcessSettings,
    /// What the file asks for that Switchyard does not do, one a line.
    pub ignored: Vec<String>,
    /// How names changed on the way (`$SYS` is the tenant `SYS`), one a line.
    pub notes: Vec<String>,
}

/// nats-server's process-level settings, for the compatible command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessSettings {
    pub pid_file: Option<PathBuf>,
    pub ports_file_dir: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    pub debug: bool,
    pub trace: bool,
}

/// Reads, parses and translates the nats-server configuration at `path`.
pub fn load(path: &Path) -> Result<NatsTranslation, NatsMapError> {
    let map = natsconf::parse_file(path)?;
    translate(&map, path)
}

/// Translates a parsed file; `path` names it in errors.
pub fn translate(map: &Map, path: &Path) -> Result<NatsTranslation, NatsMapError> {
    let mut issues = Issues::default();
    let mut out = NatsTranslation {
        config: ServerConfig::default(),
        process: ProcessSettings::default(),
        ignored: Vec::new(),
        notes: Vec::new(),
    };
    let mut auth = accounts::AuthSettings::default();
    for entry in map.effective() {
        let key = entry.key.to_ascii_lowercase();
        if server::apply(&key, entry, &mut out, &mut issues) {
            continue;
        }
        if auth.take(&key, entry, &mut issues) {
            continue;
        }
        if key == "cluster" {
            cluster::apply(&entry.value, &entry.key, &mut out, &mut issues);
            continue;
        }
        if key == "leafnodes" || key == "leaf" {
            leafnodes::apply(&entry.value, &entry.key, &mut out, &mut issues);
            continue;
        }
        if let Some(why) = unsupported_block(&key) {
            issues.ignore(&entry.key_pos, &entry.key, why);
            continue;
        }
        issues.unknown(entry, &entry.key);
    }
    auth.apply(&mut out, &mut issues);
    if issues.errors.is_empty()
        && let Err(errs) = out.config.validate()
    {
        let shown = path.display();
        issues
            .errors
            .extend(errs.into_iter().map(|e| format!("{shown}: {e}")));
    }
    if !issues.errors.is_empty() {
        return Err(NatsMapError::Invalid(issues.errors));
    }
    out.ignored = issues.ignored;
    out.notes = issues.notes;
    Ok(out)
}

/// Blocks and keys of nats-server features Switchyard does not have, with
/// the reason given when a file uses them.
fn unsupported_block(key: &str) -> Option<&'static str> {
    Some(match key {
        "jetstream" | "store_dir" => "JetStream is not supported",
        "gateway" => "gateways (superclusters) are not supported",
        "websocket" | "ws" => "WebSocket clients are not supported",
        "mqtt" => "MQTT clients are not supported",
        "https" | "https_port" => "HTTPS monitoring is not supported (use http)",
        "prof_port" => "the Go profiler has no counterpart",
        "server_tags" | "tags" => "server tags are not supported",
        "client_advertise" | "connect_error_reports" | "reconnect_error_reports" => "not supported",
        "disable_sublist_cache" | "no_sublist_cache" | "max_traced_msg_len" => {
            "no counterpart in Switchyard"
        }
        "syslog" | "remote_syslog" | "log_size_limit" | "log_max_num" | "logtime"
        | "logtime_utc" | "logfile_size_limit" | "trace_verbose" => {
            "log formatting is Switchyard's own"
        }
        "no_sys_acc" | "system" => "not supported",
        _ => return None,
    })
}
