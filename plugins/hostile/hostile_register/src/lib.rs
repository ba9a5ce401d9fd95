//! Hostile test plugin: fails at load time, so the broker must refuse it
//! before any message.
//!
//! Config: `mode`:
//! - `trap` (default): `register` traps;
//! - `invalid-subject`: registers `orders.>.new` (`>` not last);
//! - `empty-subject`: registers the empty subject.
//!
//! `transform-batch` passes everything, should it ever be called.

use switchyard_plugin::{Action, Message, Registration, Transform, config};

struct HostileRegister;

impl Transform for HostileRegister {
    fn register() -> Registration {
        match config::get("mode").as_deref() {
            Some("invalid-subject") => Registration::subjects(["orders.>.new"]),
            Some("empty-subject") => Registration::subjects([""]),
            _ => panic!("hostile_register: trapping in register on purpose"),
        }
    }

    fn transform(_msg: &Message<'_>) -> Action {
        Action::Pass
    }
}

switchyard_plugin::export_transform!(HostileRegister);
