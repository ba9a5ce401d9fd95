//! `redact_json`'s configuration, read once per instance.

use std::sync::OnceLock;

use switchyard_plugin::config;

use crate::redact::Path;

pub enum NonJson {
    Pass,
    Drop,
    Reject,
}

pub struct RedactConfig {
    pub fields: Vec<Path>,
    pub non_json: NonJson,
    pub replacement: String,
}

static CONFIG: OnceLock<Result<RedactConfig, String>> = OnceLock::new();

impl RedactConfig {
    /// The configuration, loaded on first use in this instance (`register`
    /// may have run in another instance).
    pub fn get() -> Result<&'static RedactConfig, &'static str> {
        CONFIG
            .get_or_init(Self::load)
            .as_ref()
            .map_err(String::as_str)
    }

    pub fn load() -> Result<RedactConfig, String> {
        let fields = config::list("fields").unwrap_or_else(|| vec!["password".to_string()]);
        let fields = fields
            .iter()
            .map(|f| Path::parse(f).ok_or_else(|| format!("config `fields`: bad path `{f}`")))
            .collect::<Result<Vec<_>, _>>()?;
        let non_json = match config::get("non_json").as_deref() {
            None | Some("pass") => NonJson::Pass,
            Some("drop") => NonJson::Drop,
            Some("reject") => NonJson::Reject,
            Some(other) => {
                return Err(format!(
                    "config `non_json`: `{other}` is not one of pass, drop, reject"
                ));
            }
        };
        let replacement = config::get("replacement").unwrap_or_else(|| "[REDACTED]".to_string());
        Ok(RedactConfig {
            fields,
            non_json,
            replacement,
        })
    }
}
