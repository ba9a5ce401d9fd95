//! Durations written as `"250ms"`, `"2s"`, `"2m"`, `"1h"` (or a bare number of seconds).
//!
//! Every duration is at most [`MAX_DURATION`]: larger ones do not fit a
//! `Duration` (`"1e30s"`) or overflow `Instant::now() + d` wherever a
//! timer is armed with them, which would panic at run time instead of
//! failing the configuration.

use std::time::Duration;

/// The longest duration any setting accepts: one year, far beyond any
/// sensible timeout or interval and far from overflowing a clock.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses a duration such as `"500ms"` or `"2m"`; `None` for anything
/// malformed, negative or over [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    from_secs(secs)
}

/// `secs` as a duration, if it is a number from 0 to [`MAX_DURATION`].
fn from_secs(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| *d <= MAX_DURATION)
}

pub mod serde_str {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Seconds(f64),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Text(s) => crate::config::duration::parse_duration(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid duration `{s}` (use e.g. \"500ms\", \"2s\", \"2m\"; at most 365 days)"
                ))
            }),
            Raw::Seconds(n) => crate::config::duration::from_secs(n).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid duration {n} (seconds from 0 to 365 days)"
                ))
            }),
        }
    }
}

pub mod serde_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "crate::config::duration::serde_str")] Duration);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("2 weeks"), None);
    }

    #[test]
    fn out_of_range_is_refused_not_a_panic() {
        assert_eq!(parse_duration("8760h"), Some(MAX_DURATION));
        assert_eq!(parse_duration("8761h"), None);
        // Past what a Duration holds (from_secs_f64 would panic).
        assert_eq!(parse_duration("99999999999999999999999"), None);
        assert_eq!(parse_duration("1e400"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(from_secs(f64::NAN), None);
        assert_eq!(from_secs(f64::INFINITY), None);
        assert_eq!(from_secs(1e30), None);
    }

    /// Found by the `server_config` fuzz target: more seconds than a
    /// `Duration` holds panicked in `Duration::from_secs_f64`; a duration
    /// that fits a `Duration` but not the clock (a tenant's
    /// `response_threshold` of 1e19 seconds) panicked at `Instant::now() + d`.
    #[test]
    fn out_of_range_in_a_file_is_an_error_not_a_panic() {
        #[derive(serde::Deserialize)]
        struct Config {
            #[serde(with = "serde_str")]
            d: Duration,
        }
        let parse = |text| toml::from_str::<Config>(text).map(|c| c.d);
        assert_eq!(parse("d = 2.5").ok(), Some(Duration::from_millis(2500)));
        for text in [
            "d = 1e20",
            "d = 1e19",
            "d = \"99999999999999999999m\"",
            "d = nan",
            "d = -1.0",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }
}
