//! The most recently closed client connections, for `/connz?state=closed`.
//! nats-server keeps the last 10,000 (`max_closed_clients`); so do we.
//!
//! A record holds plain values and the connection's `ClientMeta` (shared,
//! not copied), so closing a connection costs one short lock and no
//! allocation once the ring is full.

use crate::client::ClientHandle;
use crate::client::ClientMeta;
use crate::client::CloseReason;
use crate::tenant::Traffic;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How many closed connections are remembered, as nats-server's default.
pub const MAX_CLOSED: usize = 10_000;

/// One closed connection, as it was when it closed.
#[derive(Debug, Clone)]
pub struct ClosedClient {
    pub cid: u64,
    pub peer: SocketAddr,
    pub start: SystemTime,
    pub stop: SystemTime,
    pub last_activity: SystemTime,
    pub rtt: Option<Duration>,
    pub traffic: Traffic,
    pub subscriptions: usize,
    pub meta: Arc<ClientMeta>,
    pub reason: CloseReason,
}

impl ClosedClient {
    /// What `client` looks like now, closing for `reason` with
    /// `subscriptions` subscriptions.
    pub fn of(client: &ClientHandle, subscriptions: usize, reason: CloseReason) -> ClosedClient {
        ClosedClient {
            cid: client.id,
            peer: client.peer,
            start: client.started,
            stop: SystemTime::now(),
            last_activity: client.counters.last_activity(),
            rtt: client.counters.rtt(),
            traffic: Traffic::of(client),
            subscriptions,
            meta: client.meta(),
            reason,
        }
    }
}

/// A ring of the last [`MAX_CLOSED`] closed connections, oldest first.
#[derive(Default)]
pub struct ClosedClients {
    ring: Mutex<VecDeque<ClosedClient>>,
}

impl ClosedClients {
    pub fn push(&self, closed: ClosedClient) {
        let mut ring = self.ring.lock();
        if ring.len() >= MAX_CLOSED {
            ring.pop_front();
        }
        ring.push_back(closed);
    }

    pub fn all(&self) -> Vec<ClosedClient> {
        self.ring.lock().iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientHandle;

    #[test]
    fn keeps_only_the_most_recent() {
        let closed = ClosedClients::default();
        let peer: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        for cid in 1..=(MAX_CLOSED as u64 + 5) {
            let handle = ClientHandle::new(cid, 1 << 16, peer, Arc::from("$G"));
            closed.push(ClosedClient::of(&handle, 0, CloseReason::ClientClosed));
        }
        let all = closed.all();
        assert_eq!(all.len(), MAX_CLOSED);
        assert_eq!(all.first().map(|c| c.cid), Some(6));
        assert_eq!(all.last().map(|c| c.cid), Some(MAX_CLOSED as u64 + 5));
    }
}
