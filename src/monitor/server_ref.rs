//! The `server` block that opens every answer over NATS (monitoring,
//! statsz, user info), as nats-server 2.15 sends it.

use super::observer::Observer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The `server` block of every answer, as nats-server 2.15 sends it.
#[derive(Debug, Serialize)]
pub(super) struct ServerRef {
    name: String,
    host: String,
    id: String,
    ver: String,
    /// nats-server's JetStream feature flags; none here.
    feature_flags: BTreeMap<String, bool>,
    jetstream: bool,
    /// nats-server's bit set of server capabilities; none here.
    flags: u64,
    seq: u64,
    time: String,
}

impl ServerRef {
    /// This server, with the next answer sequence number.
    pub(super) fn of(observer: &dyn Observer) -> ServerRef {
        let s = observer.summary();
        ServerRef {
            name: s.server_name,
            host: s.host,
            id: s.server_id,
            ver: s.version,
            feature_flags: BTreeMap::new(),
            jetstream: false,
            flags: 0,
            seq: observer.next_seq(),
            time: super::time::rfc3339(SystemTime::now()),
        }
    }
}
