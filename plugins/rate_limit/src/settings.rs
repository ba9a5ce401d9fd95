//! `rate_limit`'s configuration, read once per instance (`register` may
//! have run in another instance).

use std::sync::OnceLock;

use switchyard_plugin::config;

#[derive(Debug, PartialEq, Eq)]
pub enum KeyBy {
    Client,
    User,
}

#[derive(Debug)]
pub struct Settings {
    pub limit: i64,
    pub window_ms: u64,
    pub key_by: KeyBy,
    pub kv_prefix: String,
    pub deny_on_error: bool,
}

static SETTINGS: OnceLock<Result<Settings, String>> = OnceLock::new();

impl Settings {
    pub fn get() -> Result<&'static Settings, &'static str> {
        SETTINGS
            .get_or_init(Self::load)
            .as_ref()
            .map_err(String::as_str)
    }

    pub fn load() -> Result<Settings, String> {
        let limit: i64 = config::parse("limit")?.unwrap_or(100);
        let window_ms: u64 = config::parse("window_ms")?.unwrap_or(1000);
        if limit < 0 {
            return Err(format!("config `limit`: {limit} is negative"));
        }
        if window_ms == 0 {
            return Err("config `window_ms`: must be at least 1".to_string());
        }
        let key_by = match config::get("key_by").as_deref() {
            None | Some("client") => KeyBy::Client,
            Some("user") => KeyBy::User,
            Some(other) => {
                return Err(format!(
                    "config `key_by`: `{other}` is not one of client, user"
                ));
            }
        };
        let deny_on_error = match config::get("on_error").as_deref() {
            None | Some("allow") => false,
            Some("deny") => true,
            Some(other) => {
                return Err(format!(
                    "config `on_error`: `{other}` is not one of allow, deny"
                ));
            }
        };
        let kv_prefix = config::get("kv_prefix").unwrap_or_else(|| "rate_limit".to_string());
        Ok(Settings {
            limit,
            window_ms,
            key_by,
            kv_prefix,
            deny_on_error,
        })
    }
}
