//! The plugin's `config` table from the tenant file (or, for auth plugins,
//! the server file). Each call asks the host: read configuration once, in
//! `register` or on first use, not per message.

use crate::bindings::transform::switchyard::plugin::host;

/// One value, `None` when the key is absent.
pub fn get(key: &str) -> Option<String> {
    host::config_get(key)
}

/// Every key and value, sorted by key.
pub fn entries() -> Vec<(String, String)> {
    host::config_entries()
}

/// A value split on commas, items trimmed and empty items skipped.
pub fn list(key: &str) -> Option<Vec<String>> {
    get(key).map(|v| split_list(&v))
}

/// A value parsed as `T`; `Err` names the key and the bad value so a plugin
/// can refuse bad configuration with a useful message.
pub fn parse<T: std::str::FromStr>(key: &str) -> Result<Option<T>, String> {
    match get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("config `{key}`: cannot parse `{v}`")),
    }
}

/// The comma-separated list format used by every Switchyard plugin.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_list;

    #[test]
    fn lists_trim_and_skip_empty_items() {
        assert_eq!(split_list(" a.> , b ,,c"), ["a.>", "b", "c"]);
        assert!(split_list(" , ").is_empty());
    }
}
