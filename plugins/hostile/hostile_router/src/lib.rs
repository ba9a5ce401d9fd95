//! Hostile test plugin: a routing policy whose verdicts break the
//! contract of `route-batch`.
//!
//! Config: `subjects` (comma-separated, default `>`); `mode`:
//! - `bad-index` (default): a verdict for an index past the batch;
//! - `duplicate-index`: two verdicts for the first message.

use switchyard_plugin::__private::routing::{Batch, Guest, Registration, RouteVerdict};
use switchyard_plugin::{Decision, config};

struct HostileRouter;

impl Guest for HostileRouter {
    fn register() -> Registration {
        switchyard_plugin::Registration::subjects_from_config("subjects", &[">"]).into()
    }

    fn route_batch(batch: Batch) -> Vec<RouteVerdict> {
        let deny = |index| RouteVerdict {
            index,
            decision: Decision::Deny("hostile".into()).into(),
        };
        match config::get("mode").as_deref() {
            Some("duplicate-index") => vec![deny(0), deny(0)],
            _ => vec![deny(batch.messages.len() as u32)],
        }
    }
}

switchyard_plugin::bindings::routing::__export_routing_world!(
    HostileRouter with_types_in switchyard_plugin::bindings::routing
);
