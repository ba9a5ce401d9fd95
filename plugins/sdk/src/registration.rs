//! What a message plugin asks of the broker when it is loaded.

use crate::bindings::{routing, transform};
use crate::config;

/// The subjects a transform or routing plugin wants to see, and which parts
/// of a message it needs. The broker matches subjects natively and copies
/// headers and payload into the plugin only when asked, so asking for less
/// makes every call cheaper.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registration {
    /// NATS subjects with `*` and `>` wildcards, in the tenant's namespace.
    pub subjects: Vec<String>,
    pub wants_headers: bool,
    pub wants_payload: bool,
}

impl Registration {
    /// Registers for `subjects`, without headers or payload.
    pub fn subjects<I, S>(subjects: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Registration {
            subjects: subjects.into_iter().map(Into::into).collect(),
            wants_headers: false,
            wants_payload: false,
        }
    }

    /// Registers for the comma-separated subjects of config `key`, or
    /// `default` when the key is absent or empty: the usual way to let an
    /// operator choose the subjects in the tenant file.
    pub fn subjects_from_config(key: &str, default: &[&str]) -> Self {
        match config::list(key) {
            Some(list) if !list.is_empty() => Self::subjects(list),
            _ => Self::subjects(default.iter().copied()),
        }
    }

    /// Asks for each message's header block.
    pub fn with_headers(mut self) -> Self {
        self.wants_headers = true;
        self
    }

    /// Asks for payloads (transform: copied into every call; routing:
    /// fetchable with `RouteRequest::payload`).
    pub fn with_payload(mut self) -> Self {
        self.wants_payload = true;
        self
    }
}

impl From<Registration> for transform::switchyard::plugin::types::Registration {
    fn from(r: Registration) -> Self {
        Self {
            subjects: r.subjects,
            wants_headers: r.wants_headers,
            wants_payload: r.wants_payload,
        }
    }
}

impl From<Registration> for routing::switchyard::plugin::types::Registration {
    fn from(r: Registration) -> Self {
        Self {
            subjects: r.subjects,
            wants_headers: r.wants_headers,
            wants_payload: r.wants_payload,
        }
    }
}
