//! Hostile test plugin: traps (a Rust panic, which is a wasm trap with
//! `panic = "abort"`).
//!
//! Config: `subjects` (comma-separated, default `>`); `mode`:
//! - `on-payload` (default): traps only on a message whose payload is
//!   exactly `trap`, passes the rest, so tests can check that the broker
//!   recovers and keeps serving other messages;
//! - `always`: traps on every call.

use std::sync::OnceLock;

use switchyard_plugin::{Action, Message, Registration, Transform, config};

static ALWAYS: OnceLock<bool> = OnceLock::new();

struct HostileTrap;

impl Transform for HostileTrap {
    fn register() -> Registration {
        Registration::subjects_from_config("subjects", &[">"]).with_payload()
    }

    fn transform(msg: &Message<'_>) -> Action {
        let always = *ALWAYS.get_or_init(|| config::get("mode").as_deref() == Some("always"));
        if always || msg.payload() == b"trap" {
            panic!("hostile_trap: trapping on purpose");
        }
        Action::Pass
    }
}

switchyard_plugin::export_transform!(HostileTrap);
