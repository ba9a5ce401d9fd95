//! Server-wide counters. Connections count locally and add their totals once
//! per read batch, so the hot path does no shared atomic per message.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    pub out_msgs: AtomicU64,
    pub out_bytes: AtomicU64,
    pub slow_consumers: AtomicU64,
    pub total_connections: AtomicU64,
}

/// A plain snapshot of `ServerStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    pub slow_consumers: u64,
    pub total_connections: u64,
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
        }
    }
}

/// Counts accumulated by one connection during one read batch.
#[derive(Debug, Default)]
pub struct LocalStats {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
}

impl LocalStats {
    pub fn publish(&mut self, to: &ServerStats) {
        if self.in_msgs == 0 && self.out_msgs == 0 {
            return;
        }
        to.in_msgs.fetch_add(self.in_msgs, Ordering::Relaxed);
        to.in_bytes.fetch_add(self.in_bytes, Ordering::Relaxed);
        to.out_msgs.fetch_add(self.out_msgs, Ordering::Relaxed);
        to.out_bytes.fetch_add(self.out_bytes, Ordering::Relaxed);
        *self = LocalStats::default();
    }
}
