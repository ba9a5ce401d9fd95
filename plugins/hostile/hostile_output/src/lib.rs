//! Hostile test plugin: answers with more than the broker accepts.
//!
//! Config: `subjects` (comma-separated, default `>`); `mode`:
//! - `big-payload` (default): modifies each message's payload to
//!   `size_kib` KiB (default 9216, i.e. 9 MiB, past the 8 MiB payload cap).
//!   If the plugin's memory limit is smaller, building it traps instead;
//! - `many-split`: splits each message into `count` messages (default
//!   100,000; the contract allows 16);
//! - `bad-index`: returns a verdict for an index past the batch.

use std::sync::OnceLock;

use switchyard_plugin::__private::transform::Verdict;
use switchyard_plugin::{Action, Message, OutMessage, Registration, Transform, config};

enum Mode {
    BigPayload(usize),
    ManySplit(usize),
    BadIndex,
}

static MODE: OnceLock<Mode> = OnceLock::new();

fn mode() -> &'static Mode {
    MODE.get_or_init(|| match config::get("mode").as_deref() {
        Some("many-split") => {
            Mode::ManySplit(config::parse("count").ok().flatten().unwrap_or(100_000))
        }
        Some("bad-index") => Mode::BadIndex,
        _ => Mode::BigPayload(config::parse("size_kib").ok().flatten().unwrap_or(9216) * 1024),
    })
}

struct HostileOutput;

impl Transform for HostileOutput {
    fn register() -> Registration {
        Registration::subjects_from_config("subjects", &[">"])
    }

    fn transform(msg: &Message<'_>) -> Action {
        match *mode() {
            Mode::BigPayload(bytes) => Action::payload(vec![b'x'; bytes]),
            Mode::ManySplit(count) => Action::Split(
                (0..count)
                    .map(|_| OutMessage::new(msg.subject(), Vec::new()))
                    .collect(),
            ),
            // Handled below, outside the per-message walk.
            Mode::BadIndex => Action::Pass,
        }
    }
}

/// `bad-index` needs a verdict the SDK would never produce, so this plugin
/// exports the raw guest instead of using `export_transform!`.
struct RawHostileOutput;

impl switchyard_plugin::__private::transform::Guest for RawHostileOutput {
    fn register() -> switchyard_plugin::__private::transform::Registration {
        HostileOutput::register().into()
    }

    fn transform_batch(batch: switchyard_plugin::__private::transform::Batch) -> Vec<Verdict> {
        if let Mode::BadIndex = mode() {
            return vec![Verdict {
                index: batch.messages.len() as u32,
                action: Action::Drop.into(),
            }];
        }
        switchyard_plugin::transform::walk_batch(&batch, HostileOutput::transform)
    }
}

switchyard_plugin::bindings::transform::__export_transform_world!(
    RawHostileOutput with_types_in switchyard_plugin::bindings::transform
);
