//! {{name}}: a Switchyard routing policy, from `switchyard plugin new`.
//!
//! Delivers every message on its own subject.
//!
//! Config (the tenant file's `config` table): `subjects`, comma-separated
//! subjects to register (default `{{name}}.>`).

use switchyard_plugin::{Decision, Registration, Route, RouteRequest};

struct {{type}};

impl Route for {{type}} {
    fn register() -> Registration {
        // Add `.with_headers()` to see headers, `.with_payload()` to be
        // allowed to fetch payloads with `req.payload()`.
        Registration::subjects_from_config("subjects", &["{{name}}.>"])
    }

    fn route(req: &RouteRequest) -> Decision {
        // Examples:
        //
        // Send it elsewhere inside the tenant (headers need `.with_headers()`):
        //     if req.headers().get("Priority") == Some("high") {
        //         return Decision::Reroute("{{name}}.priority".to_string());
        //     }
        // Deliver it and a copy:
        //     return Decision::FanOut(vec!["audit.{{name}}".to_string()]);
        // Refuse it (a requester gets status 403 with the reason):
        //     if req.payload_size() > 64 * 1024 { return Decision::Deny("too big".into()); }
        let _ = req;
        Decision::Allow
    }
}

switchyard_plugin::export_routing!({{type}});
