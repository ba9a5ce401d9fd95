//! Reading typed settings out of parsed values, collecting every problem
//! with its `file:line:column` and key path instead of stopping at the
//! first.

use crate::config::natsconf::{Entry, Kind, Map, Pos, Value};
use crate::config::parse_duration;
use std::time::Duration;

/// Problems found while translating, and features reported as ignored.
#[derive(Debug, Default)]
pub(super) struct Issues {
    pub errors: Vec<String>,
    pub ignored: Vec<String>,
    pub notes: Vec<String>,
}

impl Issues {
    pub fn error(&mut self, pos: &Pos, path: &str, message: impl std::fmt::Display) {
        self.errors.push(format!("{pos}: {path}: {message}"));
    }

    pub fn ignore(&mut self, pos: &Pos, path: &str, why: impl std::fmt::Display) {
        self.ignored.push(format!("{pos}: {path}: {why}; ignored"));
    }

    /// Reports a key that neither nats-server nor Switchyard knows. Keys
    /// used only as `$VAR`s are allowed anywhere, as in nats-server.
    pub fn unknown(&mut self, entry: &Entry, path: &str) {
        if !entry.used_as_variable {
            self.error(&entry.key_pos, path, "unknown field");
        }
    }

    fn wrong_type(&mut self, value: &Value, path: &str, want: &str) {
        let found = value.kind.type_name();
        self.error(&value.pos, path, format!("expected {want}, found {found}"));
    }

    pub fn string(&mut self, value: &Value, path: &str) -> Option<String> {
        match &value.kind {
            Kind::String(s) => Some(s.clone()),
            // Bare `password: 1234` is a number to the lexer, a secret to us.
            Kind::Integer(n) => Some(n.to_string()),
            _ => {
                self.wrong_type(value, path, "a string");
                None
            }
        }
    }

    pub fn boolean(&mut self, value: &Value, path: &str) -> Option<bool> {
        match value.kind {
            Kind::Bool(b) => Some(b),
            _ => {
                self.wrong_type(value, path, "a boolean");
                None
            }
        }
    }

    pub fn integer(&mut self, value: &Value, path: &str) -> Option<i64> {
        match value.kind {
            Kind::Integer(n) => Some(n),
            _ => {
                self.wrong_type(value, path, "an integer");
                None
            }
        }
    }

    /// A count or size: a non-negative integer that fits `T`.
    pub fn count<T: TryFrom<i64>>(&mut self, value: &Value, path: &str) -> Option<T> {
        let n = self.integer(value, path)?;
        let fitted = (n >= 0).then(|| T::try_from(n).ok()).flatten();
        if fitted.is_none() {
            self.error(&value.pos, path, format!("{n} is out of range"));
        }
        fitted
    }

    /// A duration as nats-server reads one: a Go duration string
    /// (`"2s"`, `"1m30s"`, `"100ms"`) or a number of seconds.
    pub fn duration(&mut self, value: &Value, path: &str) -> Option<Duration> {
        let parsed = match &value.kind {
            Kind::String(s) => go_duration(s),
            Kind::Integer(n) => u64::try_from(*n)
                .ok()
                .and_then(|n| parse_duration(&n.to_string())),
            Kind::Float(f) => parse_duration(&f.to_string()),
            _ => {
                self.wrong_type(value, path, "a duration");
                return None;
            }
        };
        if parsed.is_none() {
            self.error(
                &value.pos,
                path,
                "invalid duration (use e.g. \"2s\", \"100ms\", \"1m30s\", or seconds; at most 365 days)",
            );
        }
        parsed
    }

    pub fn map<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map> {
        match &value.kind {
            Kind::Map(m) => Some(m),
            _ => {
                self.wrong_type(value, path, "a map");
                None
            }
        }
    }

    /// One string or an array of strings.
    pub fn strings(&mut self, value: &Value, path: &str) -> Vec<String> {
        match &value.kind {
            Kind::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| self.string(v, &format!("{path}[{i}]")))
                .collect(),
            _ => self.string(value, path).into_iter().collect(),
        }
    }

    /// One map or an array of maps, each with its key path.
    pub fn maps<'v>(&mut self, value: &'v Value, path: &str) -> Vec<(&'v Map, String)> {
        match &value.kind {
            Kind::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let p = format!("{path}[{i}]");
                    self.map(v, &p).map(|m| (m, p))
                })
                .collect(),
            _ => self
                .map(value, path)
                .map(|m| (m, path.to_string()))
                .into_iter()
                .collect(),
        }
    }
}

/// Go's `time.ParseDuration` for non-negative values: one or more
/// `<number><unit>` with units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`; capped
/// at a year like every Switchyard duration.
pub(super) fn go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    Duration::try_from_secs_f64(total)
        .ok()
        .filter(|d| *d <= crate::config::MAX_DURATION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(go_duration("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        for bad in ["", "s", "2", "2x", "-1s", "9999999h", "1e9s"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }
}
