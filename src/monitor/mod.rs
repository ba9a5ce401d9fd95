//! Monitoring: the HTTP endpoints (`/varz`, `/connz`, `/subsz`,
//! `/accountz`, `/healthz`, `/metrics`) and the same data for system-account
//! clients over NATS (`$SYS.REQ.SERVER.PING.<KIND>`).
//!
//! This module only reads: every answer is built from the snapshots
//! `server::Observer` gathers on request, with nats-server's JSON field
//! names wherever the concept is the same, so existing NATS tooling reads
//! them. The counters themselves are kept by the server, per connection and
//! per read batch, never per message.

mod accountz;
mod connz;
mod healthz;
mod http;
mod metrics;
pub mod plugins;
mod query;
mod subsz;
mod sys;
mod time;
mod varz;
mod varz_compat;

pub use http::{MonitorListener, bind};
pub use plugins::{PluginMetrics, PluginReporter, PluginSummary};
pub use sys::answer_system_request;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum MonitorError {
    #[error("cannot listen for monitoring on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Why a monitoring request cannot be answered; becomes a 400 over HTTP and
/// an error envelope over NATS.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("invalid value `{value}` for `{key}`: {reason}")]
    BadValue {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error("unknown tenant `{0}`")]
    UnknownAccount(String),
    #[error("invalid request options: {0}")]
    BadOptions(String),
    #[error("malformed query string: {0}")]
    BadQuery(String),
}

/// A JSON document with nats-server's indentation.
fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_vec_pretty(value).unwrap_or_default()
}
