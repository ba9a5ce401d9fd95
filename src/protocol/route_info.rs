//! The JSON of a cluster route's handshake, with nats-server's field
//! names: the INFO both sides send (the accepting side first, the dialling
//! side after its CONNECT, and either again later to gossip a new peer or
//! announce lame duck mode), and the dialler's CONNECT.
//!
//! Switchyard announces neither `route_pool_size` nor `compression`, so a
//! nats-server peer runs one uncompressed route carrying every account,
//! and never `lnoc`, so it sends leaf-origin interest as plain `RS+`.

use serde::{Deserialize, Serialize};

/// A route INFO. Every field is optional on the way in: servers differ in
/// what they send.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RouteInfo {
    pub server_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    pub proto: i32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    pub port: u16,
    pub headers: bool,
    #[serde(skip_serializing_if = "is_zero")]
    pub max_payload: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// The sender's client URLs (`host:port`), for clients' failover.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    /// The URL to dial the server this INFO describes
    /// (`nats-route://host:port/`); set when it is gossiped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The sender is in lame duck mode.
    #[serde(skip_serializing_if = "is_false")]
    pub ldm: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    /// nats-server's gossip mode of a forwarded INFO (1: do not forward
    /// it further).
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub gossip_mode: u8,
    /// A nats-server peer pools routes by account; present only so a
    /// pinned connection can be recognised.
    #[serde(skip_serializing)]
    pub route_account: Option<String>,
    /// Switchyard's own release, when the peer is a Switchyard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switchyard_version: Option<String>,
}

/// A route CONNECT (the dialling side's first line). `name` is the
/// dialler's server id. A CONNECT with `lang` is a client on the wrong
/// port.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RouteConnect {
    pub echo: bool,
    pub verbose: bool,
    pub pedantic: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    pub tls_required: bool,
    pub headers: bool,
    pub name: String,
    pub cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_zero_u8(n: &u8) -> bool {
    *n == 0
}
