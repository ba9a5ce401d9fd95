//! {{name}}: a Switchyard transform plugin, from `switchyard plugin new`.
//!
//! Passes every message unchanged.
//!
//! Config (the tenant file's `config` table): `subjects`, comma-separated
//! subjects to register (default `{{name}}.>`).

use switchyard_plugin::{Action, Message, Registration, Transform};

struct {{type}};

impl Transform for {{type}} {
    fn register() -> Registration {
        // Add `.with_payload()` to see payloads, `.with_headers()` to see
        // headers: the broker copies in only what is asked for.
        Registration::subjects_from_config("subjects", &["{{name}}.>"])
    }

    fn transform(msg: &Message<'_>) -> Action {
        // Examples (payloads need `.with_payload()` above):
        //
        // Replace the payload:
        //     return Action::payload(msg.payload().to_ascii_uppercase());
        // Move it to another subject:
        //     return Action::subject(format!("{}.seen", msg.subject()));
        // Drop it silently:
        //     if msg.subject().ends_with(".noise") { return Action::Drop; }
        // Refuse it (a requester gets status 403 with the reason):
        //     if msg.payload().is_empty() { return Action::Reject("empty payload".into()); }
        let _ = msg;
        Action::Pass
    }
}

switchyard_plugin::export_transform!({{type}});
