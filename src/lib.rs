//! Switchyard: a message broker that speaks the NATS client protocol.
//!
//! A message enters a connection (`server`), is parsed (`protocol`),
//! checked against its session's rules (`tenant`), passed through the
//! tenant's plugins and delivered (`route`): matched in its account's
//! subscription index (`subject`) and queued on the destinations' outbound
//! buffers (`client`), which their writer tasks drain in coalesced writes.
//! `auth` checks CONNECT credentials, `login` turns them into a session
//! bound to a tenant's account, `plugin` hosts the WebAssembly plugins,
//! `config` holds the server settings and tenant files, `monitor` the
//! HTTP monitoring endpoints and metrics (read through an `Observer` the
//! server implements), `cli` the command line, and `bench` the load
//! generator behind `switchyard bench`.
//!
//! The modules are layers that import one way, lowest first: `protocol`,
//! `subject`, `config`, `auth`, `plugin`, `client`, `tenant`, `login`,
//! `route`, `monitor`, `server`, `bench`, `cli`. Each may use only those
//! before it (`tests/integration/layers.rs`; `docs/architecture.md`).

// `deny`, not `forbid`: loading a precompiled plugin (`plugin::engine`) is
// the one place that needs `unsafe`, allowed there with its reasoning.
#![deny(unsafe_code)]

pub mod auth;
pub mod bench;
pub mod cli;
pub mod client;
pub mod config;
pub mod login;
pub mod monitor;
pub mod plugin;
pub mod protocol;
pub mod route;
pub mod server;
pub mod subject;
pub mod tenant;

pub use config::ServerConfig;
pub use server::Server;
