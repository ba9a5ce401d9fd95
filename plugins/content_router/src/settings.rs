//! `content_router`'s configuration, read once per instance (`register`
//! may have run in another instance).

use std::sync::OnceLock;

use switchyard_plugin::config;

pub enum Source {
    Header(String),
    /// A dotted path, split.
    Field(Vec<String>),
}

pub struct Settings {
    pub subjects: Vec<String>,
    pub source: Source,
    pub target: String,
    pub default: Option<String>,
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
        let subjects = config::list("subjects").unwrap_or_default();
        if subjects.is_empty() {
            return Err("config `subjects` is required".to_string());
        }
        let source = match (config::get("header"), config::get("field")) {
            (Some(h), None) if !h.trim().is_empty() => Source::Header(h.trim().to_string()),
            (None, Some(f)) => {
                let path: Vec<String> = f.trim().split('.').map(str::to_string).collect();
                if path.iter().any(String::is_empty) {
                    return Err(format!("config `field`: bad path `{f}`"));
                }
                Source::Field(path)
            }
            _ => return Err("config: set exactly one of `header` and `field`".to_string()),
        };
        let target = config::get("target").ok_or("config `target` is required")?;
        if !target.contains("{value}") {
            return Err(format!("config `target`: `{target}` has no `{{value}}`"));
        }
        Ok(Settings {
            subjects,
            source,
            target,
            default: config::get("default"),
        })
    }
}
