//! The `[plugin_output]` section: what becomes of what plugins write to
//! their stdout and stderr (a Rust panic's message, a Python traceback,
//! `console.log`). Each line goes to the broker's log at `level`, tagged
//! with tenant, plugin and stream, at most `lines_per_sec` lines a second
//! (after a `burst`) per plugin and tenant.

use serde::Deserialize;

/// The log level guest output is written at; `off` drops it unread.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputLevel {
    Off,
    Error,
    #[default]
    Warn,
    Info,
    Debug,
    Trace,
}

/// Guest stdout and stderr, server-wide; read at start.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PluginOutputConfig {
    /// Level of the log lines (default `warn`: a guest prints when
    /// something is wrong, and the broker's default filter shows warnings).
    pub level: OutputLevel,
    /// Lines a second one plugin of one tenant may log, shared by its
    /// instances; the rest are counted and summarised.
    pub lines_per_sec: u32,
    /// Lines that may be logged at once before the rate applies.
    pub burst: u32,
}

/// Default `plugin_output.lines_per_sec`.
pub const DEFAULT_OUTPUT_LINES_PER_SEC: u32 = 20;
/// Default `plugin_output.burst`.
pub const DEFAULT_OUTPUT_BURST: u32 = 100;
/// Largest `lines_per_sec` and `burst`: far more than a log can carry.
const MAX_OUTPUT_RATE: u32 = 1_000_000;

impl Default for PluginOutputConfig {
    fn default() -> Self {
        PluginOutputConfig {
            level: OutputLevel::default(),
            lines_per_sec: DEFAULT_OUTPUT_LINES_PER_SEC,
            burst: DEFAULT_OUTPUT_BURST,
        }
    }
}

impl PluginOutputConfig {
    pub(super) fn validate(&self, errs: &mut Vec<String>) {
        for (key, value) in [
            ("plugin_output.lines_per_sec", self.lines_per_sec),
            ("plugin_output.burst", self.burst),
        ] {
            if value == 0 {
                errs.push(format!(
                    "{key}: must be greater than 0 (level = \"off\" silences plugins)"
                ));
            }
            if value > MAX_OUTPUT_RATE {
                errs.push(format!("{key}: must be at most {MAX_OUTPUT_RATE}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{ConfigError, ServerConfig};
    use std::path::Path;

    fn parse(text: &str) -> Result<ServerConfig, ConfigError> {
        ServerConfig::from_toml(text, Path::new("/etc/switchyard.toml"))
    }

    #[test]
    fn plugin_output_parses_with_defaults_and_refuses_bad_values() {
        let c = parse("").expect("defaults");
        assert_eq!(c.plugin_output.level, super::OutputLevel::Warn);
        assert_eq!(c.plugin_output.lines_per_sec, 20);
        assert_eq!(c.plugin_output.burst, 100);
        let c = parse("[plugin_output]\nlevel = \"off\"\nlines_per_sec = 5").expect("off");
        assert_eq!(c.plugin_output.level, super::OutputLevel::Off);
        assert_eq!(c.plugin_output.burst, 100);
        let Err(ConfigError::Parse { message, .. }) = parse("[plugin_output]\nlevel = \"loud\"")
        else {
            panic!("an unknown level is a parse error");
        };
        assert!(message.contains("loud"), "{message}");
        assert!(matches!(
            parse("[plugin_output]\nlevle = \"warn\""),
            Err(ConfigError::Parse { .. })
        ));
        let Err(ConfigError::Invalid(errs)) =
            parse("[plugin_output]\nlines_per_sec = 0\nburst = 2000000")
        else {
            panic!("zero and huge rates are refused");
        };
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("plugin_output.lines_per_sec"), "{errs:?}");
    }
}
