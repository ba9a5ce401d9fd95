//! Redacts configured fields of JSON payloads, replacing their values with
//! `"[REDACTED]"` (or the configured replacement).
//!
//! Config (all optional):
//! - `fields`: comma-separated dotted paths, default `password`. A path
//!   walks objects by key; an array on the way applies the rest of the path
//!   to each element (`items.card.number` covers every item).
//! - `subjects`: comma-separated subjects to register, default `>`.
//! - `non_json`: what to do with a payload that is not JSON: `pass`
//!   (default), `drop` or `reject`.
//! - `replacement`: the string written in place of a value.
//!
//! Messages with nothing to redact pass unchanged (no re-encoding). With
//! `non_json = "pass"` a payload in which no configured field name occurs is
//! not even parsed.

mod config;
mod redact;

use switchyard_plugin::{Action, Message, Registration, Transform};

use crate::config::{NonJson, RedactConfig};

struct RedactJson;

impl Transform for RedactJson {
    fn register() -> Registration {
        // Refuse to load with bad configuration rather than redact the
        // wrong fields.
        if let Err(e) = RedactConfig::load() {
            switchyard_plugin::log::error(&e);
            panic!("redact_json: {e}");
        }
        Registration::subjects_from_config("subjects", &[">"]).with_payload()
    }

    fn transform(msg: &Message<'_>) -> Action {
        let cfg = match RedactConfig::get() {
            Ok(cfg) => cfg,
            Err(e) => return Action::Reject(format!("redact_json: {e}")),
        };
        let payload = msg.payload();
        let result = if redact::may_contain(payload, &cfg.fields) {
            redact::redact(payload, &cfg.fields, &cfg.replacement)
        } else if let NonJson::Pass = cfg.non_json {
            // Nothing to redact and no need to know whether it is JSON.
            return Action::Pass;
        } else {
            redact::validate(payload).map(|()| None)
        };
        match result {
            Ok(Some(out)) => Action::payload(out),
            Ok(None) => Action::Pass,
            Err(_) => non_json(&cfg.non_json),
        }
    }
}

fn non_json(policy: &NonJson) -> Action {
    match policy {
        NonJson::Pass => Action::Pass,
        NonJson::Drop => Action::Drop,
        NonJson::Reject => Action::Reject("payload is not JSON".to_string()),
    }
}

switchyard_plugin::export_transform!(RedactJson);
