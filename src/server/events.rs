//! System events: `$SYS.ACCOUNT.<tenant>.CONNECT` and `.DISCONNECT`,
//! published into the system account with nats-server's JSON field names so
//! existing NATS tooling can read them.

use serde::Serialize;

/// Event times in the one RFC 3339 form monitoring uses too.
pub use crate::monitor::time::rfc3339;

pub const CONNECT_TYPE: &str = "io.nats.server.advisory.v1.client_connect";
pub const DISCONNECT_TYPE: &str = "io.nats.server.advisory.v1.client_disconnect";

#[derive(Debug, Serialize)]
pub struct ServerRef {
    pub name: String,
    pub host: String,
    pub id: String,
    pub ver: String,
    pub seq: u64,
    pub time: String,
}

#[derive(Debug, Serialize)]
pub struct ClientRef {
    pub start: String,
    pub host: String,
    pub id: u64,
    pub acc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    pub server: String,
    pub kind: &'static str,
    pub client_type: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DataStats {
    pub msgs: u64,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct ClientEvent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub timestamp: String,
    pub server: ServerRef,
    pub client: ClientRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<DataStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<DataStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A unique event id: 22 base62 characters, like a NATS nuid.
pub fn event_id() -> String {
    const BASE62: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..22)
        .map(|_| BASE62[fastrand::usize(..BASE62.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_nuid_sized() {
        assert_eq!(event_id().len(), 22);
    }
}
