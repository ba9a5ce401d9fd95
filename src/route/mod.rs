//! Delivery: what happens to a message once a connection has accepted it.
//! The plugin stage (`PluginStage`) passes it through the tenant's
//! transforms and routing policies; `deliver` matches it in the account's
//! index and queues it on every destination's outbound buffer, across
//! imports and back along service responses.
//!
//! Every kind of connection delivers through here with the same inputs
//! (an account, a message, its `DeliveryCtx`); nothing here knows a socket
//! or what kind of connection published.
//!
//! May use: `protocol`, `subject`, `client`, `tenant`, `plugin`, `config`.

mod deliver;
mod message;
mod peers;
mod plugin_stage;
mod stats;

pub use deliver::{DeliveryCtx, deliver, publish_internal};
pub use message::Message;
pub use plugin_stage::{PluginStage, Publisher, Sink};
pub use stats::BatchStats;
