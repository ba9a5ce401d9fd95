//! Time formats nats-server's monitoring uses: RFC 3339 instants, its
//! compact uptime (`1d2h3m4s`), and Go's `Duration.String()` for round trips.

use std::time::{Duration, SystemTime};

pub use crate::server::rfc3339;

/// Whole seconds as `[Ny][Nd][Nh][Nm]Ns`, largest unit first.
pub fn uptime(d: Duration) -> String {
    let secs = d.as_secs();
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86_400);
    let years = days / 365;
    if years > 0 {
        format!(
            "{years}y{}d{}h{}m{}s",
            days % 365,
            hours % 24,
            mins % 60,
            secs % 60
        )
    } else if days > 0 {
        format!("{days}d{}h{}m{}s", hours % 24, mins % 60, secs % 60)
    } else if hours > 0 {
        format!("{hours}h{}m{}s", mins % 60, secs % 60)
    } else if mins > 0 {
        format!("{mins}m{}s", secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// `now - then`, zero when the clock went backwards.
pub fn since(now: SystemTime, then: SystemTime) -> Duration {
    now.duration_since(then).unwrap_or_default()
}

/// Go's `time.Duration.String()` for durations under a minute, which is
/// what round trips are: `0s`, `850ns`, `12.5µs`, `1.234567ms`, `2.5s`.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    let (value, unit, scale) = match nanos {
        0 => return "0s".to_string(),
        n if n < 1_000 => return format!("{n}ns"),
        n if n < 1_000_000 => (n, "µs", 1_000u128),
        n if n < 1_000_000_000 => (n, "ms", 1_000_000),
        n => (n, "s", 1_000_000_000),
    };
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return format!("{whole}{unit}");
    }
    let digits = scale.ilog10() as usize;
    let frac = format!("{frac:0digits$}");
    format!("{whole}.{}{unit}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_nats_server() {
        assert_eq!(uptime(Duration::from_secs(5)), "5s");
        assert_eq!(uptime(Duration::from_secs(65)), "1m5s");
        assert_eq!(uptime(Duration::from_secs(3 * 3600 + 7)), "3h0m7s");
        assert_eq!(uptime(Duration::from_secs(86_400 + 61)), "1d0h1m1s");
        assert_eq!(uptime(Duration::from_secs(400 * 86_400)), "1y35d0h0m0s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_nanos(850)), "850ns");
        assert_eq!(go_duration(Duration::from_nanos(12_500)), "12.5µs");
        assert_eq!(go_duration(Duration::from_nanos(1_234_567)), "1.234567ms");
        assert_eq!(go_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(go_duration(Duration::from_secs(3)), "3s");
    }
}
