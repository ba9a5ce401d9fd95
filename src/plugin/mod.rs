//! The WebAssembly plugin host: wasmtime components implementing the
//! `switchyard:plugin` worlds in `wit/` (transform, routing, auth).
//!
//! The host knows nothing of sockets or connections: delivery's plugin
//! stage (`route`) and `login` hand it bytes and get decisions back.
//! Plugins run synchronously on the calling thread under a CPU-time budget
//! (enforced through epoch deadlines) and a memory cap, from a pool of warm
//! instances per (tenant, plugin); a failing call gets the plugin's failure
//! policy and never more than its budget of the broker's CPU time.
//!
//! May use: `subject`, `config`, `auth` (the TLS peer identity an auth
//! plugin is shown).

mod abi;
pub mod auth;
mod bindings;
pub mod budget;
pub mod check;
pub mod engine;
pub mod error;
mod guest_output;
mod host;
pub mod kv;
pub mod load;
pub mod pool;
pub mod registration;
pub mod routing;
pub mod stats;
mod stdio;
mod ticker;
pub mod transform;
pub mod trial;
pub mod validate;
mod wasi;

pub use auth::{AuthGrant, AuthPlugin, AuthRefusal, AuthRequest, AuthSource, PeerIdentity};
pub use engine::PluginRuntime;
pub use error::{CallError, LoadError};
pub use load::{ChainPlugin, TenantPlugins};
pub use routing::{PublisherInfo, Route, RouteBatch, RoutingPlugin};
pub use stats::PluginStats;
pub use transform::{TransformBatch, TransformPlugin};
