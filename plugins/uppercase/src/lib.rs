//! Uppercases every payload (ASCII): the simplest transform that modifies
//! every message, for tests of the modify path and for benchmarks that
//! compare with a native uppercase.
//!
//! Config: `subjects` (comma-separated, default `>`). A payload with no
//! lowercase ASCII letter passes unchanged.

use switchyard_plugin::{Action, Message, Registration, Transform};

struct Uppercase;

impl Transform for Uppercase {
    fn register() -> Registration {
        Registration::subjects_from_config("subjects", &[">"]).with_payload()
    }

    fn transform(msg: &Message<'_>) -> Action {
        let payload = msg.payload();
        if !payload.iter().any(u8::is_ascii_lowercase) {
            return Action::Pass;
        }
        Action::payload(payload.to_ascii_uppercase())
    }
}

switchyard_plugin::export_transform!(Uppercase);
