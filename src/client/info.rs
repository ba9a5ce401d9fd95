//! What monitoring may read of a live connection: counters the connection
//! publishes once per read batch, and what it learned at CONNECT and login.
//! Nothing here is touched per message.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Counters a connection's own task updates after each read batch.
#[derive(Debug, Default)]
pub struct ClientCounters {
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    /// Unix time of the last read, in nanoseconds.
    last_activity: AtomicU64,
    /// Round trip of the last answered server PING, in nanoseconds; 0 while unknown.
    rtt: AtomicU64,
    /// Subjects in the connection's match cache.
    pub cache_entries: AtomicUsize,
    /// When monitoring sent a PING to measure the round trip (nats-server
    /// does the same when a connection's RTT is asked for and unknown).
    rtt_ping: parking_lot::Mutex<Option<Instant>>,
}

impl ClientCounters {
    pub fn touch(&self, now: SystemTime) {
        self.last_activity.store(unix_nanos(now), Ordering::Relaxed);
    }

    pub fn last_activity(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.last_activity.load(Ordering::Relaxed))
    }

    pub fn set_rtt(&self, rtt: Duration) {
        let nanos = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.rtt.store(nanos, Ordering::Relaxed);
    }

    /// Notes that a PING for measuring the round trip is being sent; false
    /// if one is already on its way.
    pub fn start_rtt_ping(&self) -> bool {
        let mut at = self.rtt_ping.lock();
        if at.is_some() {
            return false;
        }
        *at = Some(Instant::now());
        true
    }

    /// On a PONG: completes a measurement monitoring started, if any.
    pub fn finish_rtt_ping(&self) {
        if let Some(sent) = self.rtt_ping.lock().take() {
            self.set_rtt(sent.elapsed());
        }
    }

    pub fn rtt(&self) -> Option<Duration> {
        match self.rtt.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// What the client told us in CONNECT and who it logged in as. Replaced
/// whole when it changes (CONNECT, login), read by monitoring.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub name: Option<String>,
    pub lang: Option<String>,
    pub version: Option<String>,
    /// The tenant (account) the connection is bound to.
    pub account: Arc<str>,
    pub user: Option<String>,
}

impl ClientMeta {
    pub fn unbound(account: Arc<str>) -> ClientMeta {
        ClientMeta {
            name: None,
            lang: None,
            version: None,
            account,
            user: None,
        }
    }
}
