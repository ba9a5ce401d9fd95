//! Counters per loaded plugin, for logs, `/metrics` and tests. Updated once
//! per call (a transform call carries a whole batch), never per message on
//! paths the plugin is not registered for.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the call latency histogram buckets, in microseconds; a
/// last, unbounded bucket catches the rest.
pub const LATENCY_BUCKETS_US: [u64; 10] = [5, 10, 25, 50, 100, 250, 500, 1000, 5000, 25_000];

/// One counter per outcome a plugin call can have; each is a plain atomic.
#[derive(Default)]
pub struct PluginStats {
    pub calls: AtomicU64,
    /// Messages handed to the plugin.
    pub messages: AtomicU64,
    pub dropped: AtomicU64,
    pub rejected: AtomicU64,
    pub modified: AtomicU64,
    pub rerouted: AtomicU64,
    /// Calls whose result broke the interface's rules (bad subject,
    /// oversized payload, index out of range, too many messages).
    pub errors: AtomicU64,
    pub traps: AtomicU64,
    pub timeouts: AtomicU64,
    pub memory_exhausted: AtomicU64,
    /// Messages (or logins) that got the failure policy's outcome.
    pub failed_messages: AtomicU64,
    pub disabled: AtomicBool,
    /// Lines the guest wrote to stdout or stderr (none while
    /// `plugin_output.level` is `off`).
    pub output_lines: AtomicU64,
    /// Of those, lines the output rate limit kept out of the log.
    pub output_suppressed: AtomicU64,
    latency: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    latency_sum_ns: AtomicU64,
}

impl PluginStats {
    pub fn record_call(&self, messages: u64, took: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.messages.fetch_add(messages, Ordering::Relaxed);
        let bucket = LATENCY_BUCKETS_US
            .iter()
            .position(|&le| took <= Duration::from_micros(le))
            .unwrap_or(LATENCY_BUCKETS_US.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ns
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Cumulative counts per bucket (Prometheus `le` semantics), the last
    /// one being `+Inf`, and the sum of latencies in seconds.
    pub fn latency_histogram(&self) -> (Vec<u64>, f64) {
        let mut total = 0;
        let buckets = self
            .latency
            .iter()
            .map(|b| {
                total += b.load(Ordering::Relaxed);
                total
            })
            .collect();
        let sum = self.latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        (buckets, sum)
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
}
