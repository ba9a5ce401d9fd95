//! Why monitoring cannot listen, or cannot answer a request.

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
