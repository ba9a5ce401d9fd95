//! The routing world: decide where each message goes inside the tenant.
//!
//! A routing call carries metadata only; the payload stays in the broker
//! until the plugin asks for it with [`RouteRequest::payload`], which
//! fetches it once and keeps it for the rest of the call.

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
    fn route(req: &RouteRequest) -> Decision;
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

/// A message's metadata, with lazy access to its payload.
#[derive(Debug)]
pub struct RouteRequest {
    inner: wit::RouteRequest,
    payload: OnceCell<Vec<u8>>,
}

impl RouteRequest {
    /// Wraps the broker's request. Public for the export macro and tests.
    #[doc(hidden)]
    pub fn new(inner: wit::RouteRequest) -> Self {
        RouteRequest {
            inner,
            payload: OnceCell::new(),
        }
    }

    /// Like `new`, with the payload already known, so tests on the build
    /// machine never call the host.
    #[doc(hidden)]
    pub fn with_payload(inner: wit::RouteRequest, payload: Vec<u8>) -> Self {
        RouteRequest {
            inner,
            payload: OnceCell::from(payload),
        }
    }

    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    pub fn reply(&self) -> Option<&str> {
        self.inner.reply.as_deref()
    }

    /// The headers; empty unless registered `with_headers()` and present.
    pub fn headers(&self) -> Headers<'_> {
        Headers::new(self.inner.headers.as_deref().unwrap_or_default())
    }

    /// The payload's size in bytes, known without fetching it.
    pub fn payload_size(&self) -> u32 {
        self.inner.payload_size
    }

    /// The payload, fetched from the broker on first use (one copy) and
    /// cached for the rest of this call. Empty unless registered
    /// `with_payload()`.
    pub fn payload(&self) -> &[u8] {
        self.payload.get_or_init(message_payload::payload)
    }

    /// Who published the message.
    pub fn publisher(&self) -> &Publisher {
        &self.inner.publisher
    }
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

                fn route(
                    request: $crate::__private::routing::RouteRequest,
                ) -> $crate::__private::routing::Decision {
                    let request = $crate::RouteRequest::new(request);
                    <$plugin as $crate::Route>::route(&request).into()
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

    #[test]
    fn accessors_and_cached_payload() {
        let req = RouteRequest::with_payload(
            wit::RouteRequest {
                subject: "orders.new".into(),
                reply: None,
                headers: Some(b"NATS/1.0\r\nX-Region: eu\r\n\r\n".to_vec()),
                payload_size: 2,
                publisher: Publisher {
                    user: "svc".into(),
                    client_id: 7,
                    client_name: None,
                },
            },
            b"{}".to_vec(),
        );
        assert_eq!(req.subject(), "orders.new");
        assert_eq!(req.headers().get("X-Region"), Some("eu"));
        assert_eq!(req.payload(), b"{}");
        assert_eq!(req.publisher().client_id, 7);
    }
}
