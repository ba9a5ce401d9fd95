//! Reroutes messages by a value they carry: a header, or a field of a JSON
//! payload, put into a subject template. `orders.new` with `X-Region: eu`
//! and `target = "orders.{value}.new"` goes to `orders.eu.new`.
//!
//! Config:
//! - `subjects` (required): comma-separated subjects to route;
//! - `header` or `field` (exactly one): the header name (matched ignoring
//!   ASCII case) or the JSON field's dotted path (`meta.region`);
//! - `target` (required): the subject template, with `{value}`;
//! - `default` (optional): the subject for messages without the value; when
//!   absent they are delivered unchanged.
//!
//! A value that is not a single subject token (empty, or containing `.`,
//! `*`, `>` or whitespace) is denied, so a publisher cannot steer a message
//! outside the template.

mod settings;
mod value;

use switchyard_plugin::{Decision, Registration, Route, RouteRequest, log};

use crate::settings::{Settings, Source};

struct ContentRouter;

impl Route for ContentRouter {
    fn register() -> Registration {
        let s = match Settings::load() {
            Ok(s) => s,
            Err(e) => {
                log::error(&e);
                panic!("content_router: {e}");
            }
        };
        let r = Registration::subjects(s.subjects);
        match s.source {
            Source::Header(_) => r.with_headers(),
            Source::Field(_) => r.with_payload(),
        }
    }

    fn route(req: &RouteRequest<'_>) -> Decision {
        let s = match Settings::get() {
            Ok(s) => s,
            Err(e) => return Decision::Deny(format!("content_router: {e}")),
        };
        let found = match &s.source {
            Source::Header(name) => req.headers().get_ignore_case(name).map(str::to_string),
            // The payload is fetched only here, and only when there is one.
            Source::Field(path) if req.payload_size() > 0 => value::json_field(req.payload(), path),
            Source::Field(_) => None,
        };
        match found {
            Some(v) if value::is_token(&v) => Decision::Reroute(s.target.replace("{value}", &v)),
            Some(v) => Decision::Deny(format!("content_router: `{v}` is not a subject token")),
            None => match &s.default {
                Some(subject) => Decision::Reroute(subject.clone()),
                None => Decision::Allow,
            },
        }
    }
}

switchyard_plugin::export_routing!(ContentRouter);
