//! Time formats nats-server's monitoring uses: RFC 3339 instants, its
//! compact uptime (`1d2h3m4s`), and Go's `Duration.String()` for round trips.

use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use jiff::fmt::friendly::{Designator, FractionalUnit, Spacing, SpanPrinter};

/// An instant as RFC 3339 in UTC with all nine fractional digits
/// (`2023-11-14T22:13:20.000000005Z`), the form monitoring and system
/// events have always used. A clock before 1970 or past jiff's range (year
/// 9999) prints as the epoch rather than failing: these are the server's
/// own clock readings, and an odd time is better than no report.
pub fn rfc3339(t: SystemTime) -> String {
    let ts = Timestamp::try_from(t)
        .ok()
        .filter(|ts| *ts >= Timestamp::UNIX_EPOCH)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    format!("{ts:.9}")
}

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

/// Go's `time.Duration.String()`, which is how nats-server prints round
/// trips: `0s`, `850ns`, `12.5µs`, `1.234567ms`, `2.5s`, `1m2.5s`. Go
/// picks the unit by size and prints it with a trimmed fraction; jiff's
/// compact printer does the printing once told that unit.
pub fn go_duration(d: Duration) -> String {
    let fraction = match d.as_nanos() {
        0..1_000 => None,
        1_000..1_000_000 => Some(FractionalUnit::Microsecond),
        1_000_000..1_000_000_000 => Some(FractionalUnit::Millisecond),
        _ => Some(FractionalUnit::Second),
    };
    SpanPrinter::new()
        .designator(Designator::Compact)
        .spacing(Spacing::None)
        .fractional(fraction)
        .unsigned_duration_to_string(&d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn formats_rfc3339() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.000000005Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
    }

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
        assert_eq!(go_duration(Duration::from_millis(62_500)), "1m2.5s");
        assert_eq!(go_duration(Duration::from_secs(3_723)), "1h2m3s");
    }
}
