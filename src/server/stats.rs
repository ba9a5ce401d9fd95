//! Server-wide counters. Connections count locally and add their totals once
//! per read batch, so the hot path does no shared atomic per message.

use crate::login::AuthFailure;
pub use crate::monitor::StatsSnapshot;
use crate::route::BatchStats;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    pub out_msgs: AtomicU64,
    pub out_bytes: AtomicU64,
    pub slow_consumers: AtomicU64,
    /// Connections closed for not answering PINGs (`ping_max`).
    pub stale_connections: AtomicU64,
    /// Times a publisher paused for a destination's outbound buffer to
    /// drain (nats-server's `stalled_clients`).
    pub stalls: AtomicU64,
    pub total_connections: AtomicU64,
    /// Publishes answered from a connection's match cache.
    pub cache_hits: AtomicU64,
    /// Most deliveries one published message has made.
    pub max_fanout: AtomicU64,
    auth_failures: [AtomicU64; AuthFailure::ALL.len()],
}

impl ServerStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            in_msgs: get(&self.in_msgs),
            in_bytes: get(&self.in_bytes),
            out_msgs: get(&self.out_msgs),
            out_bytes: get(&self.out_bytes),
            slow_consumers: get(&self.slow_consumers),
            total_connections: get(&self.total_connections),
            cache_hits: get(&self.cache_hits),
            max_fanout: get(&self.max_fanout),
            stale_connections: get(&self.stale_connections),
            stalled_clients: get(&self.stalls),
        }
    }

    pub fn auth_failed(&self, why: AuthFailure) {
        self.auth_failures[why.slot()].fetch_add(1, Ordering::Relaxed);
    }

    /// Failed logins by reason, in `AuthFailure::ALL` order.
    pub fn auth_failures(&self) -> Vec<(AuthFailure, u64)> {
        AuthFailure::ALL
            .iter()
            .map(|&why| (why, self.auth_failures[why.slot()].load(Ordering::Relaxed)))
            .collect()
    }
}

impl ServerStats {
    /// Adds one publisher's batch counts, and resets them.
    pub fn absorb(&self, batch: &mut BatchStats) {
        if batch.is_empty() {
            return;
        }
        self.in_msgs.fetch_add(batch.in_msgs, Ordering::Relaxed);
        self.in_bytes.fetch_add(batch.in_bytes, Ordering::Relaxed);
        self.out_msgs.fetch_add(batch.out_msgs, Ordering::Relaxed);
        self.out_bytes.fetch_add(batch.out_bytes, Ordering::Relaxed);
        // A plain load first: the maximum rarely changes, and a load keeps
        // the cache line shared between publishers.
        if batch.max_fanout > self.max_fanout.load(Ordering::Relaxed) {
            self.max_fanout
                .fetch_max(batch.max_fanout, Ordering::Relaxed);
        }
        *batch = BatchStats::default();
    }
}
