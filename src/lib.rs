//! Switchyard: a message broker that speaks the NATS client protocol.
//!
//! A message enters a connection (`server`), is parsed (`protocol`), matched
//! in its account's subscription index (`subject`), and queued on the
//! destination connections' outbound buffers, which their writer tasks
//! drain in coalesced writes. `auth` maps CONNECT credentials to a tenant
//! and user, `tenant` compiles the account model (permissions, subject
//! mappings) that the message path consults, `config` holds the server
//! settings, `monitor` the HTTP monitoring endpoints and metrics, `cli` the command line, and `bench` the load generator behind
//! `switchyard bench`.

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
