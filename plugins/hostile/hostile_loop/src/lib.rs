//! Hostile test plugin: `transform-batch` never returns. The broker's epoch
//! deadline must trap it and discard the instance.
//!
//! Config: `subjects` (comma-separated, default `>`).

use switchyard_plugin::{Action, Message, Registration, Transform};

struct HostileLoop;

impl Transform for HostileLoop {
    fn register() -> Registration {
        Registration::subjects_from_config("subjects", &[">"])
    }

    fn transform(_msg: &Message<'_>) -> Action {
        // `black_box` keeps the optimiser from proving anything about the
        // loop: it must really spin.
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

switchyard_plugin::export_transform!(HostileLoop);
