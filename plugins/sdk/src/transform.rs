//! The transform world, one message at a time.
//!
//! The broker calls `transform-batch` with up to 256 messages laid out as
//! byte ranges of one buffer: one copy into the plugin per batch instead of
//! several per message. This module walks that batch, hands the plugin's
//! [`Transform::transform`] one [`Message`] at a time, and returns verdicts
//! only for messages that do not simply pass, so a plugin that passes
//! everything answers with an empty list, the cheapest reply.

use crate::bindings::transform::exports::switchyard::plugin::transformer as wit;
use crate::bindings::transform::switchyard::plugin::types as wit_types;
use crate::headers::{Header, Headers};
use crate::registration::Registration;

/// A message transform. Implement it on a unit struct and export it with
/// [`export_transform!`](crate::export_transform).
pub trait Transform {
    /// Called once when the plugin is loaded, before any message.
    fn register() -> Registration;

    /// Decides the fate of one message. Return [`Action::Pass`] for
    /// messages you leave alone: it costs nothing on the way back.
    fn transform(msg: &Message<'_>) -> Action;
}

/// One published message, borrowed from the batch buffer.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    index: u32,
    data: &'a [u8],
    refs: &'a wit::MessageRef,
}

impl<'a> Message<'a> {
    /// The message's subject.
    pub fn subject(&self) -> &'a str {
        text(self.data, self.refs.subject)
    }

    /// The reply subject, if the publisher set one.
    pub fn reply(&self) -> Option<&'a str> {
        self.refs.reply.map(|s| text(self.data, s))
    }

    /// The headers; empty unless registered `with_headers()` and present.
    pub fn headers(&self) -> Headers<'a> {
        Headers::new(self.refs.headers.map_or(&[][..], |s| bytes(self.data, s)))
    }

    /// The payload; empty unless registered `with_payload()`.
    pub fn payload(&self) -> &'a [u8] {
        bytes(self.data, self.refs.payload)
    }

    /// The message's position in the current batch (for logging).
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// What happens to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Deliver it unchanged.
    Pass,
    /// Discard it silently (counted as dropped).
    Drop,
    /// Discard it; a publisher that asked for a reply gets status 403 with
    /// this description.
    Reject(String),
    /// Deliver it with these parts replaced; `None` keeps a part as is.
    /// `headers: Some(vec![])` removes every header.
    Modify {
        subject: Option<String>,
        headers: Option<Vec<Header>>,
        payload: Option<Vec<u8>>,
    },
    /// Deliver these messages instead, in order (at most 16).
    Split(Vec<OutMessage>),
}

impl Action {
    /// Replaces only the payload.
    pub fn payload(payload: Vec<u8>) -> Self {
        Action::Modify {
            subject: None,
            headers: None,
            payload: Some(payload),
        }
    }

    /// Replaces only the subject.
    pub fn subject(subject: impl Into<String>) -> Self {
        Action::Modify {
            subject: Some(subject.into()),
            headers: None,
            payload: None,
        }
    }
}

/// A message the plugin produces in a [`Action::Split`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutMessage {
    /// A literal subject (no wildcards) in the tenant's namespace.
    pub subject: String,
    pub reply: Option<String>,
    pub headers: Vec<Header>,
    pub payload: Vec<u8>,
}

impl OutMessage {
    pub fn new(subject: impl Into<String>, payload: impl Into<Vec<u8>>) -> Self {
        OutMessage {
            subject: subject.into(),
            payload: payload.into(),
            ..Default::default()
        }
    }
}

/// Runs `decide` on every message of a batch and collects the verdicts of
/// those that do not pass. Public for the export macro and for tests.
#[doc(hidden)]
pub fn walk_batch(
    batch: &wit::Batch,
    mut decide: impl FnMut(&Message<'_>) -> Action,
) -> Vec<wit::Verdict> {
    let mut verdicts = Vec::new();
    for (i, refs) in batch.messages.iter().enumerate() {
        let index = i as u32;
        let msg = Message {
            index,
            data: &batch.data,
            refs,
        };
        let action = decide(&msg);
        if !matches!(action, Action::Pass) {
            verdicts.push(wit::Verdict {
                index,
                action: action.into(),
            });
        }
    }
    verdicts
}

/// The bytes of a span. A span outside the buffer would be a broker bug;
/// it reads as empty rather than trapping the plugin.
fn bytes(data: &[u8], span: wit::Span) -> &[u8] {
    let start = span.offset as usize;
    data.get(start..start.saturating_add(span.len as usize))
        .unwrap_or_default()
}

/// A span as text; subjects are ASCII on the wire, anything else reads as
/// empty (see `bytes`).
fn text(data: &[u8], span: wit::Span) -> &str {
    std::str::from_utf8(bytes(data, span)).unwrap_or_default()
}

fn wit_headers(headers: Vec<Header>) -> Vec<wit_types::Header> {
    headers
        .into_iter()
        .map(|h| wit_types::Header {
            name: h.name,
            value: h.value,
        })
        .collect()
}

impl From<Action> for wit::Action {
    fn from(action: Action) -> Self {
        match action {
            Action::Pass => wit::Action::Pass,
            Action::Drop => wit::Action::Drop,
            Action::Reject(reason) => wit::Action::Reject(reason),
            Action::Modify {
                subject,
                headers,
                payload,
            } => wit::Action::Modify(wit::Edit {
                subject,
                headers: headers.map(wit_headers),
                payload,
            }),
            Action::Split(messages) => wit::Action::Split(
                messages
                    .into_iter()
                    .map(|m| wit::Message {
                        subject: m.subject,
                        reply: m.reply,
                        headers: wit_headers(m.headers),
                        payload: m.payload,
                    })
                    .collect(),
            ),
        }
    }
}

/// Exports a [`Transform`] implementation as the plugin's `transformer`.
///
/// ```text
/// struct Upper;
/// impl switchyard_plugin::Transform for Upper { /* ... */ }
/// switchyard_plugin::export_transform!(Upper);
/// ```
#[macro_export]
macro_rules! export_transform {
    ($plugin:ty) => {
        const _: () = {
            struct __SwitchyardTransform;

            impl $crate::__private::transform::Guest for __SwitchyardTransform {
                fn register() -> $crate::__private::transform::Registration {
                    <$plugin as $crate::Transform>::register().into()
                }

                fn transform_batch(
                    batch: $crate::__private::transform::Batch,
                ) -> ::std::vec::Vec<$crate::__private::transform::Verdict> {
                    $crate::transform::walk_batch(&batch, <$plugin as $crate::Transform>::transform)
                }
            }

            $crate::bindings::transform::__export_transform_world!(
                __SwitchyardTransform with_types_in $crate::bindings::transform
            );
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// subject, reply, header block, payload
    type Msg<'a> = (&'a str, Option<&'a str>, Option<&'a [u8]>, &'a [u8]);

    /// Lays messages out the way the broker does: one buffer, spans into it.
    fn batch(msgs: &[Msg<'_>]) -> wit::Batch {
        let mut data = Vec::new();
        let mut put = |bytes: &[u8]| {
            let span = wit::Span {
                offset: data.len() as u32,
                len: bytes.len() as u32,
            };
            data.extend_from_slice(bytes);
            span
        };
        let messages = msgs
            .iter()
            .map(|(subject, reply, headers, payload)| wit::MessageRef {
                subject: put(subject.as_bytes()),
                reply: reply.map(|r| put(r.as_bytes())),
                headers: headers.map(&mut put),
                payload: put(payload),
            })
            .collect();
        wit::Batch { data, messages }
    }

    #[test]
    fn walks_every_message_and_returns_only_non_pass_verdicts() {
        let b = batch(&[
            ("a.1", None, None, b"keep"),
            (
                "a.2",
                Some("_INBOX.x"),
                Some(b"NATS/1.0\r\nK: v\r\n\r\n"),
                b"drop",
            ),
            ("a.3", None, None, b"edit"),
        ]);
        let mut seen = Vec::new();
        let verdicts = walk_batch(&b, |m| {
            seen.push((
                m.index(),
                m.subject().to_string(),
                m.reply().map(str::to_string),
            ));
            match m.payload() {
                b"drop" => {
                    assert_eq!(m.headers().get("K"), Some("v"));
                    Action::Drop
                }
                b"edit" => Action::payload(b"EDIT".to_vec()),
                _ => Action::Pass,
            }
        });
        assert_eq!(
            seen[1],
            (1, "a.2".to_string(), Some("_INBOX.x".to_string()))
        );
        assert_eq!(verdicts.len(), 2);
        assert_eq!(verdicts[0].index, 1);
        assert!(matches!(verdicts[0].action, wit::Action::Drop));
        assert_eq!(verdicts[1].index, 2);
        match &verdicts[1].action {
            wit::Action::Modify(e) => assert_eq!(e.payload.as_deref(), Some(&b"EDIT"[..])),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn empty_batch_and_all_pass_give_no_verdicts() {
        assert!(walk_batch(&batch(&[]), |_| Action::Drop).is_empty());
        assert!(walk_batch(&batch(&[("x", None, None, b"")]), |_| Action::Pass).is_empty());
    }

    #[test]
    fn spans_outside_the_buffer_read_as_empty() {
        let mut b = batch(&[("ok", None, None, b"p")]);
        b.messages[0].payload = wit::Span {
            offset: u32::MAX,
            len: u32::MAX,
        };
        b.messages[0].subject = wit::Span { offset: 1, len: 9 };
        walk_batch(&b, |m| {
            assert_eq!(m.payload(), b"");
            assert_eq!(m.subject(), "");
            assert!(m.headers().is_empty());
            Action::Pass
        });
    }

    #[test]
    fn split_converts_headers() {
        let a: wit::Action = Action::Split(vec![OutMessage {
            headers: vec![Header::new("A", "1")],
            ..OutMessage::new("s.1", b"x".to_vec())
        }])
        .into();
        match a {
            wit::Action::Split(v) => {
                assert_eq!(v[0].subject, "s.1");
                assert_eq!(v[0].headers[0].name, "A");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
