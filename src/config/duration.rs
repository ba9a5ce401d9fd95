//! Durations written as `"250ms"`, `"2s"`, `"2m"`, `"1h"` (or a bare number of seconds).

use std::time::Duration;

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
    // `try_`: a number of seconds beyond `Duration::MAX` is a config
    // error, not a panic.
    Duration::try_from_secs_f64(secs).ok()
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
            Raw::Seconds(n) => Duration::try_from_secs_f64(n)
                .map_err(|_| serde::de::Error::custom(format!("invalid duration {n}"))),
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
