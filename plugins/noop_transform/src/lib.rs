//! Benchmark baseline for transforms: passes every message and returns no
//! verdicts, so a call costs only what the broker spends entering the plugin
//! and copying the batch.
//!
//! Config: `subjects` (comma-separated, default `>`); `headers` and
//! `payload` (`true` to have the broker copy them in, default `false`) to
//! measure what those copies cost.

use switchyard_plugin::{Action, Message, Registration, Transform, config};

struct NoopTransform;

impl Transform for NoopTransform {
    fn register() -> Registration {
        let mut r = Registration::subjects_from_config("subjects", &[">"]);
        r.wants_headers = config::get("headers").as_deref() == Some("true");
        r.wants_payload = config::get("payload").as_deref() == Some("true");
        r
    }

    fn transform(_msg: &Message<'_>) -> Action {
        Action::Pass
    }
}

switchyard_plugin::export_transform!(NoopTransform);
