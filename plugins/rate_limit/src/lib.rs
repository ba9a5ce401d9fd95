//! Limits each publisher to `limit` messages per fixed window of
//! `window_ms`, counted in the tenant's key-value store so that every
//! instance of the plugin shares one count. Messages past the limit are
//! denied with "rate limit exceeded".
//!
//! Config (all optional):
//! - `limit`: messages per window, default 100;
//! - `window_ms`: the window, default 1000;
//! - `key_by`: `client` (default: each connection) or `user` (all
//!   connections of a user together; anonymous clients fall back to their
//!   connection);
//! - `subjects`: comma-separated subjects to register, default `>`;
//! - `kv_prefix`: prefix of the counters' keys, default `rate_limit`, to
//!   run two limits side by side;
//! - `on_error`: `allow` (default) or `deny` when the store refuses a
//!   counter (e.g. the tenant's 10,000 keys are in use).

mod settings;

use switchyard_plugin::{Decision, Registration, Route, RouteRequest, kv, log};

use crate::settings::{KeyBy, Settings};

/// The store refuses keys longer than this.
const MAX_KEY: usize = 256;

struct RateLimit;

impl Route for RateLimit {
    fn register() -> Registration {
        if let Err(e) = Settings::load() {
            log::error(&e);
            panic!("rate_limit: {e}");
        }
        Registration::subjects_from_config("subjects", &[">"])
    }

    fn route(req: &RouteRequest<'_>) -> Decision {
        let s = match Settings::get() {
            Ok(s) => s,
            Err(e) => return Decision::Deny(format!("rate_limit: {e}")),
        };
        match kv::increment(&counter_key(s, req), 1, Some(s.window_ms)) {
            Ok(n) if n > s.limit => Decision::Deny("rate limit exceeded".to_string()),
            Ok(_) => Decision::Allow,
            Err(e) => {
                log::warn(&format!("rate_limit: counter refused: {e}"));
                if s.deny_on_error {
                    Decision::Deny("rate limit unavailable".to_string())
                } else {
                    Decision::Allow
                }
            }
        }
    }
}

/// `<prefix>.u.<user>` or `<prefix>.c.<client id>`; a user name too long
/// for the store is counted per connection instead.
fn counter_key(s: &Settings, req: &RouteRequest<'_>) -> String {
    let p = req.publisher();
    if s.key_by == KeyBy::User && !p.user.is_empty() {
        let key = format!("{}.u.{}", s.kv_prefix, p.user);
        if key.len() <= MAX_KEY {
            return key;
        }
    }
    format!("{}.c.{}", s.kv_prefix, p.client_id)
}

switchyard_plugin::export_routing!(RateLimit);
