//! Announcing a client connection on the system account:
//! `$SYS.ACCOUNT.<tenant>.CONNECT` when its CONNECT is accepted and
//! `.DISCONNECT` when it closes (the documents are in `events`).

use super::connection::Connection;
use super::events::{
    CONNECT_TYPE, ClientEvent, ClientRef, DISCONNECT_TYPE, DataStats, ServerRef, event_id, rfc3339,
};
use crate::client::CloseReason;
use crate::tenant::GLOBAL_ACCOUNT;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

impl Connection {
    /// Publishes `$SYS.ACCOUNT.<tenant>.CONNECT` (reason `None`) or `.DISCONNECT`.
    pub(super) fn emit_client_event(&self, reason: Option<CloseReason>) {
        let tenancy = self.server.tenancy();
        let system = &tenancy.system;
        if system.index.is_empty() {
            return;
        }
        let identity = self.session.identity.as_ref();
        let account = identity.map_or(GLOBAL_ACCOUNT, |i| &*i.tenant);
        let now = SystemTime::now();
        let info = &self.server.info;
        let (out_msgs, out_bytes) = self.handle.outbound.totals();
        let event = ClientEvent {
            kind: if reason.is_some() {
                DISCONNECT_TYPE
            } else {
                CONNECT_TYPE
            },
            id: event_id(),
            timestamp: rfc3339(now),
            server: ServerRef {
                name: info.server_name.clone(),
                host: info.host.clone(),
                id: info.server_id.clone(),
                ver: info.version.clone(),
                seq: self.server.next_event_seq(),
                time: rfc3339(now),
            },
            client: ClientRef {
                start: rfc3339(self.login.started),
                host: self.peer.ip().to_string(),
                id: self.handle.id,
                acc: account.to_string(),
                user: identity.map(|i| i.user.to_string()),
                name: self.opts.name.clone(),
                lang: self.opts.lang.clone(),
                ver: self.opts.version.clone(),
                server: info.server_name.clone(),
                kind: "Client",
                client_type: "nats",
            },
            sent: reason.map(|_| DataStats {
                msgs: out_msgs,
                bytes: out_bytes,
            }),
            received: reason.map(|_| DataStats {
                msgs: self.handle.counters.in_msgs.load(Ordering::Relaxed),
                bytes: self.handle.counters.in_bytes.load(Ordering::Relaxed),
            }),
            reason: reason.map(|r| r.event_text().to_string()),
        };
        let suffix = if reason.is_some() {
            "DISCONNECT"
        } else {
            "CONNECT"
        };
        let subject = format!("$SYS.ACCOUNT.{account}.{suffix}");
        match serde_json::to_vec(&event) {
            Ok(json) => self.server.publish(system, subject.as_bytes(), &json),
            Err(e) => tracing::warn!(error = %e, "cannot encode client event"),
        }
    }
}
