//! What monitoring shows of plugins: `/accountz?acc=NAME` lists a
//! tenant's plugins and `/metrics` exports their counters and call
//! latency (through `Observer::tenant_plugins` and `plugin_metrics`).

use serde::Serialize;
use std::time::Duration;

/// One plugin as `/accountz` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginSummary {
    pub name: String,
    /// The hook it implements: `auth`, `transform` or `routing`.
    pub kind: String,
    /// Subjects it applies to; empty for auth plugins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// What happens when it fails: `reject`, `pass`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<String>,
    /// Its 1-based position in the tenant's publish chain: every matching
    /// transform runs in this order, then every matching routing policy.
    /// Absent for export transforms, which run on what crosses an export,
    /// after the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<u32>,
    pub calls: u64,
    pub errors: u64,
    /// Lines the plugin wrote to stdout and stderr, and those of them the
    /// `plugin_output` rate limit kept out of the log.
    pub output_lines: u64,
    pub output_suppressed: u64,
}

/// Lifetime counters of one plugin in one tenant, for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct PluginMetrics {
    pub tenant: String,
    pub plugin: String,
    pub calls: u64,
    /// Errors the guest reported (data, not faults).
    pub errors: u64,
    /// Guest traps; each discards the instance.
    pub traps: u64,
    /// Calls stopped at their deadline.
    pub timeouts: u64,
    /// Lines written to stdout and stderr.
    pub output_lines: u64,
    /// Of those, lines the rate limit kept out of the log.
    pub output_suppressed: u64,
    pub latency: LatencyHistogram,
}

/// A cumulative histogram of call durations: `counts[i]` is the number of
/// calls that took at most `LATENCY_BUCKETS[i]`; `count` and `sum` cover
/// all calls (so `count` also holds those above the last bucket).
#[derive(Debug, Clone, Default)]
pub struct LatencyHistogram {
    pub counts: [u64; LATENCY_BUCKETS.len()],
    pub count: u64,
    pub sum: Duration,
}

/// Upper bounds of the latency buckets: plugin calls are expected to take
/// microseconds, and the deadline cuts them off at milliseconds.
pub const LATENCY_BUCKETS: [Duration; 10] = [
    Duration::from_micros(5),
    Duration::from_micros(10),
    Duration::from_micros(25),
    Duration::from_micros(50),
    Duration::from_micros(100),
    Duration::from_micros(250),
    Duration::from_micros(500),
    Duration::from_millis(1),
    Duration::from_millis(5),
    Duration::from_millis(25),
];

impl LatencyHistogram {
    /// Records one call (for hosts that keep the histogram here).
    pub fn observe(&mut self, took: Duration) {
        for (bound, count) in LATENCY_BUCKETS.iter().zip(self.counts.iter_mut()) {
            if took <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += took;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let mut h = LatencyHistogram::default();
        h.observe(Duration::from_micros(7));
        h.observe(Duration::from_secs(1));
        assert_eq!(h.counts[0], 0);
        assert_eq!(h.counts[1], 1);
        assert_eq!(h.counts[LATENCY_BUCKETS.len() - 1], 1);
        assert_eq!(h.count, 2);
    }
}
