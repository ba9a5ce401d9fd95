//! Rates and latency percentiles.

use std::time::{Duration, Instant};

/// Messages one connection moved between two instants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub msgs: u64,
    pub start: Instant,
    pub end: Instant,
}

/// Messages per second, zero when no time elapsed (a single message has no rate).
pub(crate) fn rate(msgs: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { msgs as f64 / secs } else { 0.0 }
}

/// Aggregate over connections: all messages over the time from the earliest
/// start to the latest end, as `nats bench` does.
pub(crate) fn aggregate(spans: &[Span]) -> (u64, Duration) {
    let msgs = spans.iter().map(|s| s.msgs).sum();
    let start = spans.iter().map(|s| s.start).min();
    let end = spans.iter().map(|s| s.end).max();
    let elapsed = match (start, end) {
        (Some(s), Some(e)) => e.saturating_duration_since(s),
        _ => Duration::ZERO,
    };
    (msgs, elapsed)
}

/// Round-trip latency distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub count: usize,
    pub min: Duration,
    pub mean: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

impl Latency {
    /// From samples in nanoseconds; sorts them in place. Sorting a plain
    /// `Vec<u32>` is exact and cheap for the sample counts used here, which
    /// spares a histogram dependency.
    pub(crate) fn from_nanos(samples: &mut [u32]) -> Option<Latency> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        // Nearest rank in integer basis points, so that 99.9% of 1000 samples
        // is exactly rank 999 rather than a float that rounds up to 1000.
        let at = |basis_points: usize| {
            let rank = (basis_points * samples.len()).div_ceil(10_000);
            nanos(samples[rank.clamp(1, samples.len()) - 1])
        };
        let sum: u64 = samples.iter().map(|&s| u64::from(s)).sum();
        Some(Latency {
            count: samples.len(),
            min: nanos(samples[0]),
            mean: Duration::from_nanos(sum / samples.len() as u64),
            p50: at(5_000),
            p90: at(9_000),
            p99: at(9_900),
            p999: at(9_990),
            max: nanos(samples[samples.len() - 1]),
        })
    }
}

fn nanos(n: u32) -> Duration {
    Duration::from_nanos(u64::from(n))
}

/// Saturates at about 4.3 s, far beyond any round trip worth reporting exactly.
pub(crate) fn to_nanos(d: Duration) -> u32 {
    u32::try_from(d.as_nanos()).unwrap_or(u32::MAX)
}

/// `1234567.8` as `1,234,568`.
pub(crate) fn grouped(v: f64) -> String {
    let n = v.round().max(0.0) as u64;
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n).as_bytes();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, &d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(char::from(d));
    }
    out
}

/// A duration with a unit that keeps three or four significant digits.
pub(crate) fn human(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() -> Result<(), String> {
        let mut samples: Vec<u32> = (1..=1000).rev().collect();
        let l = Latency::from_nanos(&mut samples).ok_or("no samples")?;
        assert_eq!(l.p50, Duration::from_nanos(500));
        assert_eq!(l.p90, Duration::from_nanos(900));
        assert_eq!(l.p99, Duration::from_nanos(990));
        assert_eq!(l.p999, Duration::from_nanos(999));
        assert_eq!(
            (l.min, l.max),
            (Duration::from_nanos(1), Duration::from_nanos(1000))
        );
        let l = Latency::from_nanos(&mut [7]).ok_or("no samples")?;
        assert_eq!(
            (l.p50, l.p999),
            (Duration::from_nanos(7), Duration::from_nanos(7))
        );
        assert!(Latency::from_nanos(&mut []).is_none());
        Ok(())
    }

    #[test]
    fn formatting() {
        assert_eq!(grouped(1_234_567.4), "1,234,567");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(human(Duration::from_nanos(35_200)), "35.2 µs");
    }
}
