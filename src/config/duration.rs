//! Durations written as `"250ms"`, `"2s"`, `"2m"`, `"1h"` (or a bare number of seconds).

use std::time::Duration;

/// The longest duration a configuration may give: Go's `time.Duration`
/// maximum (`i64::MAX` nanoseconds, about 292 years), as nats-server's
/// configuration has. A longer one would overflow the clock when a timer is
/// set (`Instant::now() + d` panics), and is a typo anyway.
pub const MAX_DURATION: Duration = Duration::from_nanos(i64::MAX as u64);

/// Parses a duration such as `"500ms"` or `"2m"`.
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
    seconds(secs)
}

/// `secs` as a duration, if it is one a configuration may give (see
/// [`MAX_DURATION`]); `None` for negative, NaN or too long, never a panic.
fn seconds(secs: f64) -> Option<Duration> {
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
            Raw::Text(s) => super::parse_duration(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid duration `{s}` (use e.g. \"500ms\", \"2s\", \"2m\")"
                ))
            }),
            Raw::Seconds(n) => super::seconds(n)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid duration {n}"))),
        }
    }
}

pub mod serde_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::serde_str")] Duration);
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

    /// Found while fixing the one below: a duration that fits a `Duration`
    /// but not the clock (a tenant's `response_threshold` or
    /// `allow_responses.ttl` of 1e19 seconds) panicked at
    /// `Instant::now() + d` on the message path.
    #[test]
    fn longer_than_go_durations_is_an_error() {
        assert!(parse_duration("2562047h").is_some());
        assert_eq!(parse_duration("2562048h"), None);
        assert_eq!(parse_duration("9999999999999999999"), None);
        let longest = parse_duration("9223372036").unwrap();
        assert!(std::time::Instant::now().checked_add(longest).is_some());
    }

    /// Found by the `server_config` fuzz target: more seconds than a
    /// `Duration` holds panicked in `Duration::from_secs_f64`.
    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        assert_eq!(parse_duration("99999999999999999999"), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
        #[derive(serde::Deserialize)]
        struct Config {
            #[serde(with = "serde_str")]
            d: Duration,
        }
        let parse = |text| toml::from_str::<Config>(text).map(|c| c.d);
        assert_eq!(parse("d = 2.5").ok(), Some(Duration::from_millis(2500)));
        for text in [
            "d = 1e20",
            "d = \"99999999999999999999m\"",
            "d = nan",
            "d = -1.0",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }
}
