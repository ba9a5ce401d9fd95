//! Benchmark baseline for routing: allows every message without looking at
//! it, so a call costs only what the broker spends entering the plugin and
//! lowering the request.
//!
//! Config: `subjects` (comma-separated, default `>`); `headers` (`true` to
//! have the broker pass the header block, default `false`).

use switchyard_plugin::{Decision, Registration, Route, RouteRequest, config};

struct NoopRouter;

impl Route for NoopRouter {
    fn register() -> Registration {
        let mut r = Registration::subjects_from_config("subjects", &[">"]);
        r.wants_headers = config::get("headers").as_deref() == Some("true");
        r
    }

    fn route(_req: &RouteRequest<'_>) -> Decision {
        Decision::Allow
    }
}

switchyard_plugin::export_routing!(NoopRouter);
