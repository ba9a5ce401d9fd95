//! Everything that can stop a benchmark.

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("invalid arguments: {0}")]
    Args(String),
    #[error("invalid server URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot use credentials file {path}: {reason}")]
    Creds { path: String, reason: String },
    #[error("cannot use TLS CA file {path}: {reason}")]
    Tls { path: String, reason: String },
    #[error("cannot connect to {addr}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("server {addr} said -ERR '{message}'{hint}")]
    Server {
        addr: String,
        message: String,
        hint: &'static str,
    },
    #[error("protocol error from {addr}: {message}")]
    Protocol { addr: String, message: String },
    #[error("timed out after {secs} s {what}")]
    Timeout { what: String, secs: u64 },
    #[error("received {received} of {expected} messages, {missing} missing ({reason})")]
    Incomplete {
        received: u64,
        expected: u64,
        missing: u64,
        reason: String,
    },
    #[error("a benchmark task failed")]
    Task(#[from] tokio::task::JoinError),
}
