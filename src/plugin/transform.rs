//! Transform plugins: the batch the publishing connection fills, the call,
//! and turning the plugin's verdicts back into messages to deliver.
//!
//! A connection appends each message on a transform's subjects to its
//! `TransformBatch` and calls the plugin once per read buffer (or when the
//! batch is full, or before anything that must stay in order after it).
//! The batch is one flat buffer plus spans, reused from call to call, so a
//! call costs one copy into the guest however many messages it carries.

use super::abi::{Range32, RawMessageRef};
use super::bindings::transform::Transform;
pub(super) use super::bindings::transform::exports::switchyard::plugin::transformer::Verdict;
use super::bindings::transform::exports::switchyard::plugin::transformer::{Action, Header};
use super::error::CallError;
use super::load::Batched;
use super::pool::PluginPool;
use super::registration::Registered;
use super::stats::PluginStats;
use super::validate::{Output, OutputError, validate_headers, validate_output};
use crate::config::tenant::FailurePolicy;
use std::ops::Range;
use wasmtime::component::{ComponentType, Lower};

/// At most this many messages per call.
pub const MAX_BATCH_MESSAGES: usize = 256;
/// A batch is sent once its buffer passes this size.
pub const MAX_BATCH_BYTES: usize = 1 << 20;
/// At most this many messages from one `split`.
pub const MAX_SPLIT: usize = 16;

pub struct TransformPlugin {
    pub name: String,
    pub registered: Registered,
    pub policy: FailurePolicy,
    pub pool: PluginPool<Batched<Transform>>,
}

/// Where a part of a pending message lives: in the buffer the guest sees,
/// or in the host-only buffer for parts the plugin did not ask for.
#[derive(Clone, Copy)]
enum Place {
    Shared(u32, u32),
    Hidden(u32, u32),
}

struct Pending {
    reply: Option<Range<u32>>,
    headers: Option<Place>,
    payload: Place,
}

/// The messages waiting for one transform plugin.
#[derive(Default)]
pub struct TransformBatch {
    /// Index of the plugin in the tenant's transforms.
    pub plugin: usize,
    data: Vec<u8>,
    refs: Vec<RawMessageRef>,
    hidden: Vec<u8>,
    pending: Vec<Pending>,
}

/// `transform-batch`'s argument, the `batch` record, with the messages
/// already in canonical-ABI form (`abi`).
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct BatchArg<'a> {
    data: &'a [u8],
    messages: &'a [RawMessageRef],
}

/// One message of a batch, borrowed from it: as published or as a
/// transform left it.
pub struct OutMessage<'a> {
    pub subject: &'a [u8],
    pub reply: Option<&'a [u8]>,
    pub headers: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

/// What became of one message of the batch.
pub enum Outcome<'a> {
    Deliver(OutMessage<'a>),
    /// Deliver these instead, in order.
    Replace(Vec<Produced>),
    Drop,
    /// Dropped; the publisher's reply subject (if any) gets this reason.
    Reject(String),
}

/// A message a plugin produced, owned.
pub struct Produced {
    pub subject: Vec<u8>,
    pub reply: Option<Vec<u8>>,
    pub headers: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

impl TransformBatch {
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.refs.len() >= MAX_BATCH_MESSAGES
            || self.data.len() + self.hidden.len() >= MAX_BATCH_BYTES
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.refs.clear();
        self.hidden.clear();
        self.pending.clear();
    }

    pub fn push(
        &mut self,
        registered: &Registered,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) {
        let subject = append(&mut self.data, subject);
        let reply = reply.map(|r| append(&mut self.data, r));
        let headers = headers.map(|h| {
            if registered.wants_headers {
                let (o, l) = append(&mut self.data, h);
                Place::Shared(o, l)
            } else {
                let (o, l) = append(&mut self.hidden, h);
                Place::Hidden(o, l)
            }
        });
        let payload = if registered.wants_payload {
            let (o, l) = append(&mut self.data, payload);
            Place::Shared(o, l)
        } else {
            let (o, l) = append(&mut self.hidden, payload);
            Place::Hidden(o, l)
        };
        let shared_span = |place: Place| match place {
            Place::Shared(offset, len) => (offset, len),
            Place::Hidden(..) => (0, 0),
        };
        self.refs.push(RawMessageRef::new(
            subject,
            reply,
            headers
                .filter(|p| matches!(p, Place::Shared(..)))
                .map(shared_span),
            shared_span(payload),
        ));
        self.pending.push(Pending {
            reply: reply.map(|(o, l)| o..o + l),
            headers,
            payload,
        });
    }

    fn bytes(&self, place: Place) -> &[u8] {
        match place {
            Place::Shared(o, l) => &self.data[o as usize..(o + l) as usize],
            Place::Hidden(o, l) => &self.hidden[o as usize..(o + l) as usize],
        }
    }

    /// Message `i` as published.
    pub fn original(&self, i: usize) -> OutMessage<'_> {
        let (offset, len) = self.refs[i].subject();
        let p = &self.pending[i];
        OutMessage {
            subject: self.bytes(Place::Shared(offset, len)),
            reply: p
                .reply
                .clone()
                .map(|range| &self.data[range.start as usize..range.end as usize]),
            headers: p.headers.map(|h| self.bytes(h)),
            payload: self.bytes(p.payload),
        }
    }
}

fn append(buf: &mut Vec<u8>, bytes: &[u8]) -> Range32 {
    let offset = buf.len() as u32;
    buf.extend_from_slice(bytes);
    (offset, bytes.len() as u32)
}

impl TransformPlugin {
    /// Calls the plugin on `batch` and returns the checked verdicts, sorted
    /// by index (only the messages that do not simply pass: usually none),
    /// or the failure that made the whole batch get the policy's outcome.
    pub fn run(&self, batch: &TransformBatch, max_payload: usize) -> Result<Actions, CallError> {
        let verdicts = self.pool.call(batch.len() as u64, |bindings, store| {
            let call = bindings.batch_fn();
            let arg = BatchArg {
                data: &batch.data,
                messages: &batch.refs,
            };
            call.call(store, (arg,)).map(|(verdicts,)| verdicts)
        })?;
        let mut actions: Actions = Vec::with_capacity(verdicts.len());
        for Verdict { index, action } in verdicts {
            if index as usize >= batch.len() {
                return Err(self.pool.bad_output("verdict index outside the batch"));
            }
            if let Err(why) = check_action(&action, max_payload) {
                return Err(self.pool.bad_output(&why.to_string()));
            }
            actions.push((index, action));
        }
        if !actions.is_sorted_by_key(|(i, _)| *i) {
            // Stable: of two verdicts for one message the last one wins,
            // as it always has.
            actions.sort_by_key(|(i, _)| *i);
        }
        actions.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        Ok(actions)
    }
}

/// A transform's verdicts, sorted by message index, one per index.
pub type Actions = Vec<(u32, Action)>;

impl TransformPlugin {
    /// Runs one message leaving its tenant through an export and returns
    /// what crosses, owned: nothing when it is dropped, rejected (there is
    /// no publisher to tell on this path) or failed closed.
    pub fn cross(&self, msg: OutMessage<'_>, max_payload: usize) -> Vec<Produced> {
        let mut batch = TransformBatch::default();
        batch.push(
            &self.registered,
            msg.subject,
            msg.reply,
            msg.headers,
            msg.payload,
        );
        let stats = &self.pool.stats;
        let action = match self.run(&batch, max_payload) {
            Ok(mut actions) => actions.pop().map(|(_, action)| action),
            Err(_) => {
                PluginStats::add(&stats.failed_messages, 1);
                return match self.policy {
                    FailurePolicy::FailOpen => vec![Produced::copy_of(&batch.original(0))],
                    FailurePolicy::FailClosed => Vec::new(),
                };
            }
        };
        match outcome(&batch, 0, action) {
            Outcome::Deliver(m) => vec![Produced::copy_of(&m)],
            Outcome::Replace(produced) => {
                PluginStats::add(&stats.modified, 1);
                produced
            }
            Outcome::Drop => {
                PluginStats::add(&stats.dropped, 1);
                Vec::new()
            }
            Outcome::Reject(_) => {
                PluginStats::add(&stats.rejected, 1);
                Vec::new()
            }
        }
    }
}

impl Produced {
    fn copy_of(m: &OutMessage<'_>) -> Produced {
        Produced {
            subject: m.subject.to_vec(),
            reply: m.reply.map(<[u8]>::to_vec),
            headers: m.headers.map(<[u8]>::to_vec),
            payload: m.payload.to_vec(),
        }
    }
}

/// Why a verdict was refused: it broke the interface's limits, or
/// carried something that is not data (`validate`).
#[derive(Debug, thiserror::Error)]
enum BadAction {
    #[error("{0}")]
    Limit(&'static str),
    #[error(transparent)]
    Output(#[from] OutputError),
}

fn headers_of(headers: &[Header]) -> impl Iterator<Item = (&str, &str)> {
    headers.iter().map(|h| (h.name.as_str(), h.value.as_str()))
}

/// Checks a verdict before anything of it is encoded: every subject, reply
/// and header it carries (`validate`), and the size limits.
fn check_action(action: &Action, max_payload: usize) -> Result<(), BadAction> {
    match action {
        Action::Modify(edit) => {
            if let Some(subject) = &edit.subject {
                validate_output(Output::Subject(subject.as_bytes()))?;
            }
            if let Some(headers) = &edit.headers {
                validate_headers(headers_of(headers))?;
            }
            if edit.payload.as_ref().is_some_and(|p| p.len() > max_payload) {
                return Err(BadAction::Limit("modified payload exceeds max_payload"));
            }
            Ok(())
        }
        Action::Split(messages) => {
            if messages.len() > MAX_SPLIT {
                return Err(BadAction::Limit("split into more than 16 messages"));
            }
            for m in messages {
                validate_output(Output::Subject(m.subject.as_bytes()))?;
                if let Some(reply) = &m.reply {
                    validate_output(Output::Reply(reply.as_bytes()))?;
                }
                validate_headers(headers_of(&m.headers))?;
                if m.payload.len() > max_payload {
                    return Err(BadAction::Limit(
                        "split message payload exceeds max_payload",
                    ));
                }
            }
            Ok(())
        }
        Action::Pass | Action::Drop | Action::Reject(_) => Ok(()),
    }
}

/// Resolves one message's action against its original.
pub fn outcome(batch: &TransformBatch, i: usize, action: Option<Action>) -> Outcome<'_> {
    let original = batch.original(i);
    match action {
        None | Some(Action::Pass) => Outcome::Deliver(original),
        Some(Action::Drop) => Outcome::Drop,
        Some(Action::Reject(reason)) => Outcome::Reject(reason),
        Some(Action::Modify(edit)) => Outcome::Replace(vec![Produced {
            subject: edit
                .subject
                .map_or_else(|| original.subject.to_vec(), String::into_bytes),
            reply: original.reply.map(<[u8]>::to_vec),
            headers: match edit.headers {
                Some(headers) => encode_headers(&headers),
                None => original.headers.map(<[u8]>::to_vec),
            },
            payload: edit.payload.unwrap_or_else(|| original.payload.to_vec()),
        }]),
        Some(Action::Split(messages)) => Outcome::Replace(
            messages
                .into_iter()
                .map(|m| Produced {
                    subject: m.subject.into_bytes(),
                    reply: m.reply.map(String::into_bytes),
                    headers: encode_headers(&m.headers),
                    payload: m.payload,
                })
                .collect(),
        ),
    }
}

/// A NATS header block from a plugin's header list; `None` when empty.
/// The list was validated (`check_action`) and is refused whole if a name
/// or value could break the framing; removing line breaks here as well
/// keeps this function safe on its own.
pub fn encode_headers(headers: &[Header]) -> Option<Vec<u8>> {
    if headers.is_empty() {
        return None;
    }
    let mut block = b"NATS/1.0\r\n".to_vec();
    for h in headers {
        block.extend(
            h.name
                .bytes()
                .filter(|b| !matches!(b, b'\r' | b'\n' | b':')),
        );
        block.extend_from_slice(b": ");
        block.extend(h.value.bytes().filter(|b| !matches!(b, b'\r' | b'\n')));
        block.extend_from_slice(b"\r\n");
    }
    block.extend_from_slice(b"\r\n");
    Some(block)
}
