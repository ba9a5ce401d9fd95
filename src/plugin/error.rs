//! Why a plugin could not be loaded, and why a call failed.

use std::path::PathBuf;
use thiserror::Error;

/// Problems found when loading a plugin: the broker refuses the
/// configuration (at start, or keeps the old one on reload).
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid WebAssembly component: {reason}")]
    Compile { path: PathBuf, reason: String },
    #[error(
        "{path}: this component targets switchyard:plugin@{found}, but this broker hosts switchyard:plugin@{hosted}; rebuild it for @{hosted}: a Rust plugin against plugins/sdk of this release (scripts/build-plugins.sh -p NAME), a Python, JavaScript or C plugin by rerunning scripts/build-plugins-<lang>.sh"
    )]
    OtherWitVersion {
        path: PathBuf,
        found: String,
        hosted: &'static str,
    },
    #[error("{path}: does not implement the `{world}` world of switchyard:plugin@0.2.0: {reason}")]
    WrongWorld {
        path: PathBuf,
        world: &'static str,
        reason: String,
    },
    #[error("{path}: instantiation failed: {reason}")]
    Instantiate { path: PathBuf, reason: String },
    #[error("{path}: `register` failed: {reason}")]
    Register { path: PathBuf, reason: String },
    #[error("{path}: registered subject `{subject}` is not a valid subject")]
    BadSubject { path: PathBuf, subject: String },
    #[error(
        "{path}: subject `{subject}` from the tenant file is not inside what the plugin registered ({registered})"
    )]
    SubjectNotRegistered {
        path: PathBuf,
        subject: String,
        registered: String,
    },
    #[error("{path}: registered no subjects")]
    NoSubjects { path: PathBuf },
}

/// A call that did not produce a usable answer. Each discards the instance
/// that made it.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum CallError {
    #[error("the call ran past its deadline")]
    Timeout,
    #[error("the instance exceeded its memory limit")]
    MemoryExhausted,
    #[error("the instance trapped")]
    Trap,
    #[error("the plugin returned an invalid result")]
    BadOutput,
    #[error("the plugin is disabled after repeated failures")]
    Disabled,
    #[error("the plugin is backing off after a failure")]
    BackingOff,
}
