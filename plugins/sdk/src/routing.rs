//! The routing world: decide where each message goes inside the tenant.
//!
//! The broker calls `route-batch` with up to 256 messages' metadata laid
//! out as byte ranges of one buffer; this module hands the plugin's
//! [`Route::route`] one [`RouteRequest`] at a time and returns verdicts
//! only for messages that are not simply allowed. Payloads stay in the
//! broker until the plugin asks for one with [`RouteRequest::payload`],
//! which fetches that message's payload only, once per call.

use std::cell::OnceCell;

use crate::bindings::routing::exports::switchyard::plugin::router as wit;
use crate::bindings::routing::switchyard::plugin::message_payload;
use crate::headers::Headers;
use crate::registration::Registration;

pub use wit::Publisher;

/// A routing policy. Implement it on a unit struct and export it with
/// [`export_routing!`](crate::export_routing).
pub trait Route {
    /// Called once when the plugin is loaded, before any message.
    fn register() -> Registration;

    /// Decides where one message goes.
    fn route(req: &RouteRequest<'_>) -> Decision;
}

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Deliver it on its own subject.
    Allow,
    /// Discard it; a publisher that asked for a reply gets status 403 with
    /// this reason.
    Deny(String),
    /// Deliver it on this literal subject instead.
    Reroute(String),
    /// Deliver it on its own subject and on each of these (at most 16).
    FanOut(Vec<String>),
}

/// One message's metadata, borrowed from the batch, with lazy access to
/// its payload.
#[derive(Debug)]
pub struct RouteRequest<'a> {
    index: u32,
    data: &'a [u8],
    refs: &'a wit::RouteRef,
    publisher: &'a Publisher,
    payload: OnceCell<Vec<u8>>,
}

impl<'a> RouteRequest<'a> {
    /// Message `index` of `batch`. Public for the export macro and tests.
    #[doc(hidden)]
    pub fn new(batch: &'a wit::Batch, index: u32) -> Option<Self> {
        Some(RouteRequest {
            index,
            data: &batch.data,
            refs: batch.messages.get(index as usize)?,
            publisher: &batch.publisher,
            payload: OnceCell::new(),
        })
    }

    /// Like `new`, with the payload already known, so tests on the build
    /// machine never call the host.
    #[doc(hidden)]
    pub fn with_payload(batch: &'a wit::Batch, index: u32, payload: Vec<u8>) -> Option<Self> {
        let req = RouteRequest::new(batch, index)?;
        let _ = req.payload.set(payload);
        Some(req)
    }

    pub fn subject(&self) -> &'a str {
        text(self.data, self.refs.subject)
    }

    pub fn reply(&self) -> Option<&'a str> {
        self.refs.reply.map(|s| text(self.data, s))
    }

    /// The headers; empty unless registered `with_headers()` and present.
    pub fn headers(&self) -> Headers<'a> {
        Headers::new(self.refs.headers.map_or(&[][..], |s| bytes(self.data, s)))
    }

    /// The payload's size in bytes, known without fetching it.
    pub fn payload_size(&self) -> u32 {
        self.refs.payload_size
    }

    /// The payload, fetched from the broker on first use (one copy of this
    /// message's payload only) and cached for the rest of this call. Empty
    /// unless registered `with_payload()`.
    pub fn payload(&self) -> &[u8] {
        self.payload
            .get_or_init(|| message_payload::payload(self.index))
    }

    /// Who published the message.
    pub fn publisher(&self) -> &'a Publisher {
        self.publisher
    }

    /// The message's position in the current batch (for logging).
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// The bytes of a span; a span outside the buffer reads as empty.
fn bytes(data: &[u8], span: wit::Span) -> &[u8] {
    let start = span.offset as usize;
    data.get(start..start.saturating_add(span.len as usize))
        .unwrap_or_default()
}

fn text(data: &[u8], span: wit::Span) -> &str {
    std::str::from_utf8(bytes(data, span)).unwrap_or_default()
}

/// Runs `decide` on every message of a batch and collects the verdicts of
/// those that are not allowed as they are. Public for the export macro and
/// for tests.
#[doc(hidden)]
pub fn walk_batch(
    batch: &wit::Batch,
    mut decide: impl FnMut(&RouteRequest<'_>) -> Decision,
) -> Vec<wit::RouteVerdict> {
    let mut verdicts = Vec::new();
    for index in 0..batch.messages.len() as u32 {
        let Some(req) = RouteRequest::new(batch, index) else {
            break;
        };
        let decision = decide(&req);
        if decision != Decision::Allow {
            verdicts.push(wit::RouteVerdict {
                index,
                decision: decision.into(),
            });
        }
    }
    verdicts
}

impl From<Decision> for wit::Decision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Allow => wit::Decision::Allow,
            Decision::Deny(reason) => wit::Decision::Deny(reason),
            Decision::Reroute(subject) => wit::Decision::Reroute(subject),
            Decision::FanOut(subjects) => wit::Decision::FanOut(subjects),
        }
    }
}

/// Exports a [`Route`] implementation as the plugin's `router`.
///
/// ```text
/// struct AllowAll;
/// impl switchyard_plugin::Route for AllowAll { /* ... */ }
/// switchyard_plugin::export_routing!(AllowAll);
/// ```
#[macro_export]
macro_rules! export_routing {
    ($plugin:ty) => {
        const _: () = {
            struct __SwitchyardRouting;

            impl $crate::__private::routing::Guest for __SwitchyardRouting {
                fn register() -> $crate::__private::routing::Registration {
                    <$plugin as $crate::Route>::register().into()
                }

                fn route_batch(
                    batch: $crate::__private::routing::Batch,
                ) -> ::std::vec::Vec<$crate::__private::routing::RouteVerdict> {
                    $crate::routing::walk_batch(&batch, <$plugin as $crate::Route>::route)
                }
            }

            $crate::bindings::routing::__export_routing_world!(
                __SwitchyardRouting with_types_in $crate::bindings::routing
            );
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> wit::Batch {
        let data = b"orders.newNATS/1.0\r\nX-Region: eu\r\n\r\norders.old_INBOX.1".to_vec();
        let span = |offset, len| wit::Span { offset, len };
        wit::Batch {
            publisher: Publisher {
                user: "svc".into(),
                client_id: 7,
                client_name: None,
            },
            data,
            messages: vec![
                wit::RouteRef {
                    subject: span(0, 10),
                    reply: None,
                    headers: Some(span(10, 26)),
                    payload_size: 2,
                },
                wit::RouteRef {
                    subject: span(36, 10),
                    reply: Some(span(46, 8)),
                    headers: None,
                    payload_size: 0,
                },
            ],
        }
    }

    #[test]
    fn accessors_and_cached_payload() {
        let b = batch();
        let req = RouteRequest::with_payload(&b, 0, b"{}".to_vec()).unwrap();
        assert_eq!(req.subject(), "orders.new");
        assert_eq!(req.headers().get("X-Region"), Some("eu"));
        assert_eq!(req.payload(), b"{}");
        assert_eq!(req.publisher().client_id, 7);
        let second = RouteRequest::new(&b, 1).unwrap();
        assert_eq!(second.subject(), "orders.old");
        assert_eq!(second.reply(), Some("_INBOX.1"));
        assert!(RouteRequest::new(&b, 2).is_none());
    }

    #[test]
    fn only_decisions_other_than_allow_become_verdicts() {
        let b = batch();
        let verdicts = walk_batch(&b, |req| match req.subject() {
            "orders.old" => Decision::Reroute("orders.archive".into()),
            _ => Decision::Allow,
        });
        assert_eq!(verdicts.len(), 1);
        assert_eq!(verdicts[0].index, 1);
        assert!(
            matches!(&verdicts[0].decision, wit::Decision::Reroute(s) if s == "orders.archive")
        );
        assert!(walk_batch(&b, |_| Decision::Allow).is_empty());
    }
}
